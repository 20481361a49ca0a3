//! `fileio DIR N`: writes, fsyncs, reads back and deletes N files of 16 KiB under DIR,
//! then prints a checksum of everything read back.
use guest::{Generator, Sha256, arg_string, arg_u64, hex32, say};
use std::io::{Read, Write};

fn main() {
    let usage = "fileio DIR N";
    let dir = arg_string(1, usage);
    let count = arg_u64(2, usage);
    let mut generator = Generator::new(0xf11e);
    let mut hasher = Sha256::new();
    let mut data = vec![0u8; 16 * 1024];
    let mut back = Vec::with_capacity(data.len());
    for i in 0..count {
        let path = format!("{dir}/fileio-{i}.dat");
        generator.fill(&mut data);
        let mut run = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&path)?;
            file.write_all(&data)?;
            file.sync_all()?;
            drop(file);
            back.clear();
            std::fs::File::open(&path)?.read_to_end(&mut back)?;
            std::fs::remove_file(&path)
        };
        if let Err(e) = run() {
            eprintln!("fileio: {path}: {e}");
            std::process::exit(1);
        }
        hasher.update(&back);
    }
    let hex = hex32(&hasher.finish());
    say(&format!(
        "fileio {count} files sha256 {}",
        std::str::from_utf8(&hex).unwrap()
    ));
}
