//! `ls DIR`: prints the sorted entry names of DIR, one a line.
use guest::arg_string;

fn main() {
    let dir = arg_string(1, "ls DIR");
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                println!("{name}");
            }
        }
        Err(e) => {
            eprintln!("ls: {dir}: {e}");
            std::process::exit(1);
        }
    }
}
