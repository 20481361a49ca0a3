//! Shared code for the guest programs. Everything here must behave identically on
//! the host and on wasm32 (32-bit `usize`!), so arithmetic that matters is done in u64.

use std::io::Write;

mod kernel;
pub use kernel::*;

/// Parse the one numeric argument of a workload or exit 2 with a usage line.
pub fn arg_u64(index: usize, usage: &str) -> u64 {
    match std::env::args().nth(index).map(|a| a.parse::<u64>()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: {usage}");
            std::process::exit(2)
        }
    }
}

pub fn arg_string(index: usize, usage: &str) -> String {
    std::env::args().nth(index).unwrap_or_else(|| {
        eprintln!("usage: {usage}");
        std::process::exit(2)
    })
}

/// Print a line and flush at once, so progress survives a kill by a limit.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
