//! `forkbomb`: forks until the kernel refuses (children wait a second, then exit), and
//! prints how many forks succeeded. Native only.

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn fork() -> i32;
    fn _exit(code: i32) -> !;
}

fn main() {
    #[cfg(target_os = "linux")]
    {
        let mut forked = 0u32;
        for _ in 0..100_000 {
            // SAFETY: the child only sleeps and _exits (no locks, no allocation).
            match unsafe { fork() } {
                0 => {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    // SAFETY: ends the child without running the parent's destructors.
                    unsafe { _exit(0) }
                }
                pid if pid > 0 => forked += 1,
                _ => break,
            }
        }
        println!("forked {forked}");
    }
    #[cfg(not(target_os = "linux"))]
    {
        println!("unsupported: no processes on this target");
        std::process::exit(2);
    }
}
