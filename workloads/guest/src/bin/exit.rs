//! `exit N`: exits with status N.
fn main() {
    std::process::exit(guest::arg_u64(1, "exit N") as i32);
}
