//! Code that runs in the cloned child, between `clone` and `execve`.
//!
//! The host process may be multithreaded, so after `clone` another thread may have held the
//! allocator's or any other lock: nothing here allocates, locks, or panics on purpose. Every
//! string and pointer array is built by the parent before `clone`; the child only makes
//! syscalls, and reports progress and failures as fixed-size records on a pipe.

use libc::{c_char, c_int, c_ulong};
use seccompiler::BpfProgram;
use std::ffi::CString;
use std::sync::atomic::{AtomicI32, Ordering};

/// One filesystem operation of the root set-up, prepared by the parent.
#[derive(Debug)]
pub(crate) enum Step {
    Mkdir(CString),
    /// Create an empty file (the target of a file bind mount).
    Touch(CString),
    Mount {
        src: Option<CString>,
        dst: CString,
        fstype: Option<CString>,
        flags: c_ulong,
        data: Option<CString>,
    },
    Symlink {
        target: CString,
        link: CString,
    },
    PivotRoot {
        new_root: CString,
        put_old: CString,
    },
    /// Lazy unmount (`MNT_DETACH`).
    Detach(CString),
    Chdir(CString),
    /// Bind-mount the source opened into `slot` (see `ChildPlan::sources`) onto `dst`.
    BindSource {
        slot: usize,
        dst: CString,
        flags: c_ulong,
    },
    /// Set mount attributes on `dst` and every mount below it (`mount_setattr` with
    /// `AT_RECURSIVE`): a recursive bind's submounts do not inherit a remount's flags.
    SetAttrRecursive {
        dst: CString,
        attr_set: u64,
    },
    /// Record a phase boundary (a `mark` value).
    Mark(u32),
}

/// Most bind sources one sandbox may have (the program included).
pub(crate) const MAX_SOURCES: usize = 64;

/// Phase boundaries recorded by the child (values of `Record::index` for `KIND_MARK`).
pub(crate) mod mark {
    pub const STARTED: u32 = 0;
    pub const MOUNTED: u32 = 1;
    pub const PIVOTED: u32 = 2;
    pub const UTS_NET: u32 = 3;
    pub const FORKED: u32 = 4;
    pub const RLIMITS_CAPS: u32 = 5;
    pub const SECCOMP: u32 = 6;
}

/// Failure locations that are not plan steps (`Record::index` for `KIND_ERROR`).
pub(crate) mod stage {
    pub const SYNC: u32 = 10_000;
    pub const UNSHARE_CGROUP: u32 = 10_001;
    pub const SETSID: u32 = 10_002;
    pub const HOSTNAME: u32 = 10_003;
    pub const LOOPBACK: u32 = 10_004;
    pub const FORK: u32 = 10_005;
    pub const STDIO: u32 = 10_006;
    pub const RLIMIT: u32 = 10_007;
    pub const CAPS: u32 = 10_008;
    pub const NO_NEW_PRIVS: u32 = 10_009;
    pub const SECCOMP: u32 = 10_010;
    pub const EXEC: u32 = 10_011;
    pub const PDEATHSIG: u32 = 10_012;
    pub const SETID: u32 = 10_013;
    pub const CGROUP_SELF_ATTACH: u32 = 10_014;
    pub const LANDLOCK: u32 = 10_015;
    /// Opening bind source number N fails at SOURCE_BASE + N.
    pub const SOURCE_BASE: u32 = 20_000;
}

pub(crate) const KIND_MARK: u32 = 1;
pub(crate) const KIND_ERROR: u32 = 2;
pub(crate) const KIND_EXIT: u32 = 3;

/// A fixed-size message from the child; writes of it are atomic (< PIPE_BUF).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Record {
    pub kind: u32,
    pub index: u32,
    /// errno for errors, wait status for exits.
    pub value: i64,
    /// CLOCK_MONOTONIC in nanoseconds.
    pub nanos: u64,
}

pub(crate) const RECORD_SIZE: usize = std::mem::size_of::<Record>();

impl Record {
    pub fn parse_all(bytes: &[u8]) -> Vec<Record> {
        bytes
            .chunks_exact(RECORD_SIZE)
            .map(|c| Record {
                kind: u32::from_ne_bytes(c[0..4].try_into().unwrap()),
                index: u32::from_ne_bytes(c[4..8].try_into().unwrap()),
                value: i64::from_ne_bytes(c[8..16].try_into().unwrap()),
                nanos: u64::from_ne_bytes(c[16..24].try_into().unwrap()),
            })
            .collect()
    }
}

/// Everything the child needs, prepared once per `prepare`.
#[derive(Debug)]
pub(crate) struct ChildPlan {
    /// Host paths opened with O_PATH by the child *before* it takes the mapped id, so that
    /// host-side permissions are checked with the caller's credentials (the mapped id may not
    /// even be able to search the parents), and bound later through `/proc/self/fd`.
    pub sources: Vec<CString>,
    pub steps: Vec<Step>,
    pub hostname: CString,
    pub loopback: bool,
    pub program: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub rlimits: Vec<(c_int, u64)>,
    /// Apply Landlock scoping (decided at prepare: enabled and supported by the kernel).
    pub landlock: bool,
    pub seccomp: Vec<BpfProgram>,
}

/// Per-run file descriptors, as numbers in the child's (copied) descriptor table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildFds {
    pub stdin: c_int,
    pub stdout: c_int,
    pub stderr: c_int,
    /// The parent writes one byte here once the id maps and the cgroup are in place.
    pub sync: c_int,
    /// pid 1's records (marks, errors, the workload's exit status).
    pub report: c_int,
    /// The workload's records until `execve`; close-on-exec, so EOF means "exec happened".
    pub exec: c_int,
    /// A pidfd of the supervising process: readable once it has exited.
    pub supervisor: c_int,
}

/// Pointer arrays built by the parent for one run (execve needs NULL-terminated arrays).
pub(crate) struct ExecArrays {
    pub argv: Vec<*const c_char>,
    pub envp: Vec<*const c_char>,
    /// v1 `tasks` files pid 1 writes "0" to, moving itself into this run's cgroup.
    pub cgroup_tasks: Vec<CString>,
}

impl ExecArrays {
    pub fn new(plan: &ChildPlan) -> ExecArrays {
        let terminated = |v: &[CString]| {
            v.iter()
                .map(|s| s.as_ptr())
                .chain([std::ptr::null()])
                .collect()
        };
        ExecArrays {
            argv: terminated(&plan.argv),
            envp: terminated(&plan.envp),
            cgroup_tasks: Vec::new(),
        }
    }
}

pub(crate) fn now_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-parameter; CLOCK_MONOTONIC is always supported (vDSO, no lock).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn send(fd: c_int, kind: u32, index: u32, value: i64) {
    let rec = Record {
        kind,
        index,
        value,
        nanos: now_nanos(),
    };
    // SAFETY: `rec` is a plain repr(C) value that lives for the call; a short or failed write
    // only loses a report, which the parent treats as "no information".
    unsafe { libc::write(fd, (&rec as *const Record).cast(), RECORD_SIZE) };
}

fn fail(fd: c_int, index: u32) -> ! {
    send(fd, KIND_ERROR, index, errno() as i64);
    // SAFETY: _exit is async-signal-safe and ends this process without running destructors.
    unsafe { libc::_exit(1) }
}

fn check(rc: c_int, fd: c_int, index: u32) {
    if rc < 0 {
        fail(fd, index);
    }
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Runs one plan step.
///
/// # Safety
/// Only to be called in the freshly cloned child, where the mounts affect its own namespace.
unsafe fn run_step(step: &Step, report: c_int, sources: &[c_int; MAX_SOURCES]) -> c_int {
    // SAFETY: (whole function) every pointer comes from a CString owned by the plan, which the
    // parent keeps alive; the calls only read them.
    unsafe {
        match step {
            Step::Mkdir(path) => {
                let rc = libc::mkdir(path.as_ptr(), 0o755);
                if rc < 0 && errno() == libc::EEXIST {
                    0
                } else {
                    rc
                }
            }
            Step::Touch(path) => {
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                if fd >= 0 {
                    libc::close(fd);
                }
                fd.min(0)
            }
            Step::Mount {
                src,
                dst,
                fstype,
                flags,
                data,
            } => libc::mount(
                opt_ptr(src),
                dst.as_ptr(),
                opt_ptr(fstype),
                *flags,
                opt_ptr(data).cast(),
            ),
            Step::Symlink { target, link } => libc::symlink(target.as_ptr(), link.as_ptr()),
            Step::PivotRoot { new_root, put_old } => {
                libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) as c_int
            }
            Step::Detach(path) => libc::umount2(path.as_ptr(), libc::MNT_DETACH),
            Step::SetAttrRecursive { dst, attr_set } => {
                // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }
                let attr: [u64; 4] = [*attr_set, 0, 0, 0];
                libc::syscall(
                    libc::SYS_mount_setattr,
                    libc::AT_FDCWD,
                    dst.as_ptr(),
                    libc::AT_RECURSIVE as c_ulong,
                    attr.as_ptr(),
                    std::mem::size_of_val(&attr),
                ) as c_int
            }
            Step::Chdir(path) => libc::chdir(path.as_ptr()),
            Step::BindSource { slot, dst, flags } => {
                let mut path = [0u8; 64];
                fd_path(sources[*slot], &mut path);
                libc::mount(
                    path.as_ptr().cast(),
                    dst.as_ptr(),
                    std::ptr::null(),
                    *flags,
                    std::ptr::null(),
                )
            }
            Step::Mark(phase) => {
                send(report, KIND_MARK, *phase, 0);
                0
            }
        }
    }
}

/// Writes "/oldroot/proc/self/fd/<fd>\0" into `out` without allocating.
fn fd_path(fd: c_int, out: &mut [u8; 64]) {
    const PREFIX: &[u8] = b"/oldroot/proc/self/fd/";
    out[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [0u8; 12];
    let mut n = fd.max(0) as u32;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        out[PREFIX.len() + i] = digits[len - 1 - i];
    }
    out[PREFIX.len() + len] = 0;
}

/// Brings `lo` up in the (new, empty) network namespace.
fn loopback_up() -> c_int {
    // SAFETY: plain socket/ioctl calls on a zeroed ifreq whose name we set; no pointers escape.
    unsafe {
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if sock < 0 {
            return -1;
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        req.ifr_name[0] = b'l' as c_char;
        req.ifr_name[1] = b'o' as c_char;
        let mut rc = libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req);
        if rc == 0 {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            rc = libc::ioctl(sock, libc::SIOCSIFFLAGS, &req);
        }
        libc::close(sock);
        rc
    }
}

/// Closes every descriptor except those in `keep` (at most 8, any order).
fn close_except(keep: &[c_int]) {
    let mut sorted = [-1 as c_int; 8];
    let n = keep.len().min(8);
    sorted[..n].copy_from_slice(&keep[..n]);
    sorted[..n].sort_unstable();
    let mut next: u32 = 0;
    for &fd in &sorted[..n] {
        if fd >= next as c_int {
            if fd > next as c_int {
                // SAFETY: close_range only closes descriptors; none of them is used afterwards.
                unsafe { libc::syscall(libc::SYS_close_range, next, (fd - 1) as u32, 0u32) };
            }
            next = fd as u32 + 1;
        }
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, next, u32::MAX, 0u32) };
}

const SECBITS_LOCKED_NOROOT: c_ulong = 0x01 /* NOROOT */
    | 0x02 /* NOROOT_LOCKED */
    | 0x20 /* KEEP_CAPS_LOCKED */
    | 0x40 /* NO_CAP_AMBIENT_RAISE */
    | 0x80 /* NO_CAP_AMBIENT_RAISE_LOCKED */;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Clears all five capability sets and locks root out of regaining them on exec.
fn drop_capabilities() -> c_int {
    // SAFETY: prctl/capset with integer arguments and pointers to locals that outlive the calls.
    unsafe {
        // Securebits first: changing them needs CAP_SETPCAP, which we are about to drop. With
        // NOROOT locked, uid 0 in the sandbox gets no capabilities from `execve`.
        if libc::prctl(libc::PR_SET_SECUREBITS, SECBITS_LOCKED_NOROOT, 0, 0, 0) < 0 {
            return -1;
        }
        for cap in 0..64 {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno() != libc::EINVAL {
                return -1;
            }
        }
        if libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        ) < 0
        {
            return -1;
        }
        let header = CapHeader {
            version: 0x2008_0522,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        libc::syscall(libc::SYS_capset, &header, data.as_ptr()) as c_int
    }
}

fn install_seccomp(programs: &[BpfProgram]) -> c_int {
    for program in programs {
        let fprog = libc::sock_fprog {
            len: program.len() as u16,
            // seccompiler's sock_filter is repr(C) with the same layout as the kernel's.
            filter: program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: `fprog` points at a live, well-formed BPF program for the duration of the call.
        let rc = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &fprog as *const _,
            )
        };
        if rc < 0 {
            return rc;
        }
    }
    0
}

/// Raw fork-like `clone` with extra namespace flags: no glibc fork handlers run, and the child
/// continues on a copy of this stack.
///
/// # Safety
/// The child must only run async-signal-safe code until it execs or exits.
pub(crate) unsafe fn raw_clone(flags: c_ulong) -> libc::pid_t {
    // SAFETY: a NULL stack gives fork semantics; the caller upholds the child's restrictions.
    unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags | libc::SIGCHLD as c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        ) as libc::pid_t
    }
}

/// The workload's pid, for pid 1's signal forwarding.
static WORKLOAD_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: c_int) {
    let pid = WORKLOAD_PID.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// pid 1 of the sandbox: sets up the root, forks the workload, reaps everything, reports.
///
/// # Safety
/// Only in the child of `raw_clone`, with `plan`/`arrays` built before the clone.
pub(crate) unsafe fn pid1_main(
    plan: &ChildPlan,
    arrays: &ExecArrays,
    fds: ChildFds,
    unshare_cgroup: bool,
) -> ! {
    let report = fds.report;
    // SAFETY: (whole function) syscalls on descriptors and pointers prepared by the parent.
    unsafe {
        let mut byte = 0u8;
        if libc::read(fds.sync, (&mut byte as *mut u8).cast(), 1) != 1 {
            fail(report, stage::SYNC);
        }
        // Join this run's cgroup by moving ourselves (v1): cheaper than being moved.
        for path in &arrays.cgroup_tasks {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                fail(report, stage::CGROUP_SELF_ATTACH);
            }
            libc::close(fd);
        }
        send(report, KIND_MARK, mark::STARTED, 0);
        let mut sources = [-1 as c_int; MAX_SOURCES];
        for (slot, path) in plan.sources.iter().enumerate().take(MAX_SOURCES) {
            sources[slot] = libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
            if sources[slot] < 0 {
                fail(report, stage::SOURCE_BASE + slot as u32);
            }
        }
        // Take the namespace's root identity (the mapped id): until now we carry the host
        // credentials, which are unmapped here, and files we create would be refused (EOVERFLOW).
        // Raw syscalls: glibc's setresuid/setresgid broadcast the change to every thread it
        // knows of and wait for them, and after a raw clone those threads do not exist here.
        check(
            libc::syscall(libc::SYS_setresgid, 0, 0, 0) as c_int,
            report,
            stage::SETID,
        );
        check(
            libc::syscall(libc::SYS_setresuid, 0, 0, 0) as c_int,
            report,
            stage::SETID,
        );
        // Die with the supervisor. Only now: changing uid/gid clears the parent-death signal.
        // If the supervisor died before this point, its pidfd is already readable.
        check(
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0),
            report,
            stage::PDEATHSIG,
        );
        let mut parent = libc::pollfd {
            fd: fds.supervisor,
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&mut parent, 1, 0) != 0 {
            libc::_exit(1);
        }
        if unshare_cgroup {
            check(
                libc::unshare(libc::CLONE_NEWCGROUP),
                report,
                stage::UNSHARE_CGROUP,
            );
        }
        // A new session without a controlling terminal: TIOCSTI has nothing to inject into.
        check(libc::setsid(), report, stage::SETSID);
        for (i, step) in plan.steps.iter().enumerate() {
            check(run_step(step, report, &sources), report, i as u32);
        }
        check(
            libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len()),
            report,
            stage::HOSTNAME,
        );
        if plan.loopback {
            check(loopback_up(), report, stage::LOOPBACK);
        }
        send(report, KIND_MARK, mark::UTS_NET, 0);

        // Only the sandbox's stdio and the two report pipes survive into the workload.
        for (from, to) in [(fds.stdin, 0), (fds.stdout, 1), (fds.stderr, 2)] {
            check(libc::dup2(from, to), report, stage::STDIO);
        }
        close_except(&[0, 1, 2, report, fds.exec]);

        let pid = raw_clone(0);
        if pid < 0 {
            fail(report, stage::FORK);
        }
        if pid == 0 {
            workload_main(plan, arrays, fds.exec);
        }
        WORKLOAD_PID.store(pid, Ordering::Relaxed);
        send(report, KIND_MARK, mark::FORKED, 0);
        libc::close(fds.exec);
        for fd in 0..3 {
            libc::close(fd);
        }
        for sig in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
        ] {
            libc::signal(sig, forward_signal as *const () as libc::sighandler_t);
        }
        // Reap every child (orphans are re-parented to us) until the workload itself exits;
        // then leaving takes the rest of the pid namespace down with us.
        loop {
            let mut status: c_int = 0;
            let r = libc::waitpid(-1, &mut status, 0);
            if r == pid {
                send(report, KIND_EXIT, 0, status as i64);
                libc::_exit(0);
            }
            if r < 0 && errno() == libc::ECHILD {
                libc::_exit(0);
            }
        }
    }
}

/// The workload process: limits, capabilities, no_new_privs, seccomp (last), then execve.
unsafe fn workload_main(plan: &ChildPlan, arrays: &ExecArrays, exec_fd: c_int) -> ! {
    // SAFETY: (whole function) syscalls with pointers into the parent-built plan and arrays.
    unsafe {
        for sig in 1..32 {
            libc::signal(sig, libc::SIG_DFL);
        }
        for &(resource, value) in &plan.rlimits {
            let lim = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            check(libc::setrlimit(resource as _, &lim), exec_fd, stage::RLIMIT);
        }
        check(drop_capabilities(), exec_fd, stage::CAPS);
        send(exec_fd, KIND_MARK, mark::RLIMITS_CAPS, 0);
        check(
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
            exec_fd,
            stage::NO_NEW_PRIVS,
        );
        if plan.landlock {
            check(crate::landlock::restrict_scopes(), exec_fd, stage::LANDLOCK);
        }
        check(install_seccomp(&plan.seccomp), exec_fd, stage::SECCOMP);
        send(exec_fd, KIND_MARK, mark::SECCOMP, 0);
        libc::execve(
            plan.program.as_ptr(),
            arrays.argv.as_ptr(),
            arrays.envp.as_ptr(),
        );
        send(exec_fd, KIND_ERROR, stage::EXEC, errno() as i64);
        libc::_exit(127)
    }
}
