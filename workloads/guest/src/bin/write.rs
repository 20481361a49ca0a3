//! `write FILE TEXT`: creates FILE with TEXT; on failure prints the error and exits 1.
use guest::arg_string;

fn main() {
    let usage = "write FILE TEXT";
    let path = arg_string(1, usage);
    let text = arg_string(2, usage);
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("write: {path}: {e}");
        std::process::exit(1);
    }
    println!("wrote {path}");
}
