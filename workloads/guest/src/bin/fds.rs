//! `fds FILE`: opens FILE again and again (keeping every handle) until refused, then prints
//! how many it got and why it stopped.
fn main() {
    let path = guest::arg_string(1, "fds FILE");
    let mut files = Vec::new();
    let why = loop {
        match std::fs::File::open(&path) {
            Ok(f) => files.push(f),
            Err(e) => break e.to_string(),
        }
        if files.len() >= 1_000_000 {
            break "one million".to_string();
        }
    };
    guest::say(&format!("opened {} ({why})", files.len()));
}
