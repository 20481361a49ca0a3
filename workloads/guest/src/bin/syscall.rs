//! `syscall NAME...`: attempts each named privileged syscall and prints `NAME ok` or
//! `NAME errno=N`. Native only (wasm has no way to even express these calls).

#[cfg(target_os = "linux")]
mod linux {
    unsafe extern "C" {
        fn syscall(number: i64, ...) -> i64;
    }

    fn errno() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    pub fn attempt(name: &str) -> Option<i64> {
        const CLONE_NEWUSER: i64 = 0x1000_0000;
        const CLONE_NEWNS: i64 = 0x0002_0000;
        const SIGCHLD: i64 = 17;
        let tmp = c"/tmp";
        let none = c"none";
        let tmpfs = c"tmpfs";
        // SAFETY: each call passes valid pointers or plain integers; failures are reported.
        let rc = unsafe {
            match name {
                "mount" => syscall(165, none.as_ptr(), tmp.as_ptr(), tmpfs.as_ptr(), 0i64, 0i64),
                "umount" => syscall(166, tmp.as_ptr(), 2i64),
                "unshare" => syscall(272, CLONE_NEWNS),
                "unshare_user" => syscall(272, CLONE_NEWUSER),
                "setns" => syscall(308, 0i64, 0i64),
                "ptrace" => syscall(101, 0i64 /* PTRACE_TRACEME */, 0i64, 0i64, 0i64),
                "bpf" => syscall(321, 0i64, 0i64, 0i64),
                "keyctl" => syscall(250, 0i64, 0i64, 0i64),
                "add_key" => syscall(248, 0i64, 0i64, 0i64, 0i64, 0i64),
                "perf_event_open" => syscall(298, 0i64, 0i64, -1i64, -1i64, 0i64),
                "userfaultfd" => syscall(323, 0i64),
                "io_uring_setup" => syscall(425, 1i64, 0i64),
                "init_module" => syscall(175, 0i64, 0i64, 0i64),
                "kexec_load" => syscall(246, 0i64, 0i64, 0i64, 0i64),
                "pivot_root" => syscall(155, tmp.as_ptr(), tmp.as_ptr()),
                "chroot" => syscall(161, tmp.as_ptr()),
                "sethostname" => syscall(170, tmp.as_ptr(), 3i64),
                "clone_newuser" => {
                    let rc = syscall(56, CLONE_NEWUSER | SIGCHLD, 0i64, 0i64, 0i64, 0i64);
                    if rc == 0 {
                        syscall(60, 0i64); // the child leaves at once
                    }
                    rc
                }
                "clone3" => syscall(435, 0i64, 0i64),
                "getpid" => syscall(39),
                _ => return None,
            }
        };
        Some(if rc < 0 { -(errno() as i64) } else { rc })
    }
}

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        eprintln!("usage: syscall NAME...");
        std::process::exit(2);
    }
    #[cfg(target_os = "linux")]
    for name in names {
        match linux::attempt(&name) {
            Some(rc) if rc < 0 => println!("{name} errno={}", -rc),
            Some(_) => println!("{name} ok"),
            None => {
                eprintln!("syscall: unknown name {name}");
                std::process::exit(2);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        println!("unsupported: no raw syscalls on this target");
        std::process::exit(2);
    }
}
