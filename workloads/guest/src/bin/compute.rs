//! `compute N`: SHA-256 over N MiB of generated data, then prints the digest.
use guest::{Generator, Sha256, arg_u64, hex, say};

fn main() {
    let mib = arg_u64(1, "compute MIB");
    let mut generator = Generator::new(0x5eed);
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 64 * 1024];
    for _ in 0..mib * 16 {
        generator.fill(&mut chunk);
        hasher.update(&chunk);
    }
    say(&format!("compute {mib} MiB sha256 {}", hex(&hasher.finish())));
}
