//! `sleep MS`: sleeps, then prints how long it asked for.
use guest::{arg_u64, say};

fn main() {
    let ms = arg_u64(1, "sleep MS");
    std::thread::sleep(std::time::Duration::from_millis(ms));
    say(&format!("slept {ms} ms"));
}
