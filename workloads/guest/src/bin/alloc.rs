//! `alloc MIB`: allocates and touches MIB MiB in 1 MiB steps, printing progress every 16 MiB.
use guest::{arg_u64, say};

fn main() {
    let mib = arg_u64(1, "alloc MIB");
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for i in 1..=mib {
        let mut block = vec![0u8; 1 << 20];
        // Touch every page so the memory is really committed, not just reserved.
        for page in block.chunks_mut(4096) {
            page[0] = i as u8;
        }
        blocks.push(std::hint::black_box(block));
        if i % 16 == 0 || i == mib {
            say(&format!("alloc {i} MiB"));
        }
    }
    say(&format!("alloc done {} MiB", blocks.len()));
}
