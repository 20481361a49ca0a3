//! `cat FILE...`: prints files; on a failure prints `cat: FILE: error` to stderr and exits 1.
use std::io::Write;

fn main() {
    let mut status = 0;
    for path in std::env::args().skip(1) {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let _ = std::io::stdout().write_all(&bytes);
            }
            Err(e) => {
                eprintln!("cat: {path}: {e}");
                status = 1;
            }
        }
    }
    std::process::exit(status);
}
