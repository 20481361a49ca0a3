//! `flood MIB`: writes MIB MiB of 'x' to stdout in 64 KiB writes, then exits 0.
use std::io::Write;

fn main() {
    let mib = guest::arg_u64(1, "flood MIB");
    let chunk = vec![b'x'; 64 * 1024];
    let mut out = std::io::stdout().lock();
    for _ in 0..mib * 16 {
        if out.write_all(&chunk).is_err() {
            std::process::exit(1);
        }
    }
    let _ = out.flush();
}
