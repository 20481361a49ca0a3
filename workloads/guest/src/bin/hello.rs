//! Echoes its arguments on one line, then copies stdin to stdout.
use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "hello {}", args.join(" "));
    let mut input = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut input);
    let _ = out.write_all(&input);
    let _ = out.flush();
}
