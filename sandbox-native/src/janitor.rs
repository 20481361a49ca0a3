//! The janitor: one small process per supervisor process that removes the supervisor's run
//! cgroups when the supervisor dies without doing it (SIGKILL), within a second.
//!
//! A SIGKILLed supervisor runs no code of ours. Its sandboxes die with it (parent-death
//! signal), but their cgroup directories would stay until the next start swept them. The
//! janitor is double-forked at the first `prepare`, in a session of its own (a terminal's
//! Ctrl-C does not reach it), and blocks reading a pipe whose only write end the supervisor
//! holds. When the supervisor is gone, the read returns 0 and the janitor removes every
//! `run-<supervisor pid>-*` directory under the cgroup parents it was given, retrying for up
//! to two seconds while the dying sandboxes leave them, then exits. A supervisor that exits
//! normally wakes it too; it then finds nothing to remove.
//!
//! Like the sandbox child, the forked code does not allocate or lock: the supervisor may be
//! multithreaded. Everything it needs is prepared before `fork`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Mutex;

/// Whether this process has started its janitor (whose pipe's write end it then holds).
static STARTED: Mutex<bool> = Mutex::new(false);

/// Starts the janitor once per process, for the cgroup parent directories `parents`.
pub(crate) fn ensure_started(parents: &[PathBuf]) {
    let Ok(mut started) = STARTED.lock() else {
        return;
    };
    if *started || parents.is_empty() {
        return;
    }
    let paths: Vec<CString> = parents
        .iter()
        .filter_map(|p| CString::new(p.as_os_str().as_bytes()).ok())
        .collect();
    // SAFETY: getpid cannot fail.
    let prefix = format!("run-{}-", unsafe { libc::getpid() });
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid out-array. O_CLOEXEC: programs we exec never hold the end.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let (read_end, write_end) = (fds[0], fds[1]);
    // SAFETY: see `spawn`.
    if unsafe { spawn(read_end, write_end, &paths, prefix.as_bytes()) } {
        *started = true;
    }
    // SAFETY: our copy of the read end is not needed; the write end is deliberately kept
    // open (and never closed) so that it closes exactly when this process ends.
    unsafe { libc::close(read_end) };
    if !*started {
        // SAFETY: no janitor holds the other end; close ours.
        unsafe { libc::close(write_end) };
    }
}

/// Double-forks the janitor; true when it started.
///
/// # Safety
/// The children only make raw system calls on memory prepared here (no allocation, no locks)
/// and end with `_exit`.
unsafe fn spawn(read_end: i32, write_end: i32, parents: &[CString], prefix: &[u8]) -> bool {
    // SAFETY: fork; the child below is async-signal-safe only.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return false;
    }
    if child == 0 {
        // SAFETY: raw calls in the forked child; it never returns.
        unsafe {
            libc::setsid();
            if libc::fork() == 0 {
                janitor(read_end, write_end, parents, prefix);
            }
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: reaps the intermediate child, which exits at once.
    unsafe { libc::waitpid(child, &mut status, 0) };
    true
}

/// The janitor's whole life.
///
/// # Safety
/// Called only in the forked grandchild.
unsafe fn janitor(read_end: i32, write_end: i32, parents: &[CString], prefix: &[u8]) -> ! {
    // SAFETY: raw system calls on descriptors and memory this process owns.
    unsafe {
        libc::close(write_end);
        // Hold nothing else of the supervisor's: another run's stdout pipe held open here
        // would never see EOF.
        if read_end > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (read_end - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (read_end + 1) as u32, u32::MAX, 0u32);
        let mut byte = 0u8;
        loop {
            let n = libc::read(read_end, (&mut byte as *mut u8).cast(), 1);
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break;
        }
        // The supervisor is gone: its sandboxes are dying (parent-death signal); remove
        // their cgroups as they empty.
        for _ in 0..100 {
            if sweep(parents, prefix) == 0 {
                break;
            }
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 20_000_000,
            };
            libc::nanosleep(&pause, std::ptr::null_mut());
        }
        libc::_exit(0)
    }
}

/// Removes the empty `prefix*` directories under each parent; returns how many remain.
///
/// # Safety
/// Raw system calls only; `parents` are NUL-terminated paths.
unsafe fn sweep(parents: &[CString], prefix: &[u8]) -> usize {
    let mut remaining = 0;
    let mut buf = [0u8; 4096];
    for parent in parents {
        // SAFETY: a NUL-terminated path; the descriptor is closed below.
        let dir = unsafe {
            libc::open(
                parent.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if dir < 0 {
            continue;
        }
        loop {
            // SAFETY: getdents64 fills at most `buf.len()` bytes of `buf`.
            let n =
                unsafe { libc::syscall(libc::SYS_getdents64, dir, buf.as_mut_ptr(), buf.len()) };
            if n <= 0 {
                break;
            }
            let mut at = 0usize;
            while at < n as usize {
                // struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name[].
                let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
                let name = &buf[at + 19..at + reclen];
                if name.starts_with(prefix) {
                    // SAFETY: `name` is NUL-terminated inside the record.
                    let rc =
                        unsafe { libc::unlinkat(dir, name.as_ptr().cast(), libc::AT_REMOVEDIR) };
                    // SAFETY: reads this thread's errno.
                    if rc != 0 && unsafe { *libc::__errno_location() } != libc::ENOENT {
                        remaining += 1;
                    }
                }
                at += reclen;
            }
        }
        // SAFETY: closes the descriptor opened above.
        unsafe { libc::close(dir) };
    }
    remaining
}
