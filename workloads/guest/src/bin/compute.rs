//! `compute N`: SHA-256 over N MiB of generated data, then prints the digest.
use guest::{arg_u64, compute_digest, hex32, say};

fn main() {
    let mib = arg_u64(1, "compute MIB");
    let hex = hex32(&compute_digest(mib));
    say(&format!(
        "compute {mib} MiB sha256 {}",
        std::str::from_utf8(&hex).unwrap()
    ));
}
