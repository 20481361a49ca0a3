//! `daemonize FILE`: double-forks a daemon (new session, parent gone) that appends a byte
//! to FILE every 10 ms forever, then keeps running itself. Native only. A sandbox must
//! still end everything at its deadline, or when its supervisor dies.

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn fork() -> i32;
    fn setsid() -> i32;
    fn _exit(code: i32) -> !;
}

fn main() {
    let path = guest::arg_string(1, "daemonize FILE");
    #[cfg(target_os = "linux")]
    {
        use std::io::Write;
        // SAFETY: the children only sleep, write to a file and exit.
        unsafe {
            if fork() == 0 {
                setsid();
                if fork() == 0 {
                    let mut file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .unwrap();
                    loop {
                        let _ = file.write_all(b".");
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                }
                _exit(0);
            }
        }
        guest::say("daemon started");
        loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        println!("unsupported: no processes on this target");
        std::process::exit(2);
    }
}
