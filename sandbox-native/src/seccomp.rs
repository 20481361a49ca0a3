//! The seccomp allow-list, modelled on Docker's default profile (x86_64).
//!
//! Everything not listed is answered with the configured default action (EPERM or kill).
//! `clone` is allowed only without namespace flags; `clone3` gets ENOSYS, because its flags
//! live in a struct that seccomp cannot read, so libc falls back to the filterable `clone`;
//! `ioctl(TIOCSTI)`/`ioctl(TIOCLINUX)` (terminal input injection) are refused. The kernel
//! truncates ioctl's command and personality's argument to 32 bits, so those are compared on
//! their low 32 bits: a command with high bits set must not slip past as "not TIOCSTI".
//!
//! `compile` emits the filter as a balanced binary search over syscall numbers. seccompiler
//! emits a linear chain (1,421 instructions for this list); the kernel emulates a new filter
//! once per syscall number to fill its action cache, so a linear chain costs ~0.6 ms per
//! sandbox start and the tree a few microseconds. `reference` builds the same policy with
//! seccompiler, and a test checks that both give the same verdict for every syscall number
//! and the interesting argument values.

use crate::config::SeccompMode;
use crate::error::{NativeError, Result};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

macro_rules! syscalls {
    ($($name:ident),* $(,)?) => { &[$((stringify!($name), libc::$name as i64)),*] };
}

/// Allowed unconditionally. Names are the libc `SYS_` constants.
pub const ALLOWED: &[(&str, i64)] = syscalls![
    SYS_accept,
    SYS_accept4,
    SYS_access,
    SYS_alarm,
    SYS_arch_prctl,
    SYS_bind,
    SYS_brk,
    SYS_capget,
    SYS_capset,
    SYS_chdir,
    SYS_chmod,
    SYS_chown,
    SYS_clock_getres,
    SYS_clock_gettime,
    SYS_clock_nanosleep,
    SYS_close,
    SYS_close_range,
    SYS_connect,
    SYS_copy_file_range,
    SYS_creat,
    SYS_dup,
    SYS_dup2,
    SYS_dup3,
    SYS_epoll_create,
    SYS_epoll_create1,
    SYS_epoll_ctl,
    SYS_epoll_pwait,
    SYS_epoll_pwait2,
    SYS_epoll_wait,
    SYS_eventfd,
    SYS_eventfd2,
    SYS_execve,
    SYS_execveat,
    SYS_exit,
    SYS_exit_group,
    SYS_faccessat,
    SYS_faccessat2,
    SYS_fadvise64,
    SYS_fallocate,
    SYS_fchdir,
    SYS_fchmod,
    SYS_fchmodat,
    SYS_fchmodat2,
    SYS_fchown,
    SYS_fchownat,
    SYS_fcntl,
    SYS_fdatasync,
    SYS_fgetxattr,
    SYS_flistxattr,
    SYS_flock,
    SYS_fork,
    SYS_fremovexattr,
    SYS_fsetxattr,
    SYS_fstat,
    SYS_fstatfs,
    SYS_fsync,
    SYS_ftruncate,
    SYS_futex,
    SYS_futex_waitv,
    SYS_futimesat,
    SYS_getcpu,
    SYS_getcwd,
    SYS_getdents,
    SYS_getdents64,
    SYS_getegid,
    SYS_geteuid,
    SYS_getgid,
    SYS_getgroups,
    SYS_getitimer,
    SYS_getpeername,
    SYS_getpgid,
    SYS_getpgrp,
    SYS_getpid,
    SYS_getppid,
    SYS_getpriority,
    SYS_getrandom,
    SYS_getresgid,
    SYS_getresuid,
    SYS_getrlimit,
    SYS_get_robust_list,
    SYS_getrusage,
    SYS_getsid,
    SYS_getsockname,
    SYS_getsockopt,
    SYS_get_thread_area,
    SYS_gettid,
    SYS_gettimeofday,
    SYS_getuid,
    SYS_getxattr,
    SYS_inotify_add_watch,
    SYS_inotify_init,
    SYS_inotify_init1,
    SYS_inotify_rm_watch,
    SYS_io_cancel,
    SYS_io_destroy,
    SYS_io_getevents,
    SYS_ioprio_get,
    SYS_ioprio_set,
    SYS_io_setup,
    SYS_io_submit,
    SYS_kill,
    SYS_lchown,
    SYS_lgetxattr,
    SYS_link,
    SYS_linkat,
    SYS_listen,
    SYS_listxattr,
    SYS_llistxattr,
    SYS_lremovexattr,
    SYS_lseek,
    SYS_lsetxattr,
    SYS_lstat,
    SYS_madvise,
    SYS_membarrier,
    SYS_memfd_create,
    SYS_mincore,
    SYS_mkdir,
    SYS_mkdirat,
    SYS_mlock,
    SYS_mlock2,
    SYS_mlockall,
    SYS_mmap,
    SYS_mprotect,
    SYS_mq_getsetattr,
    SYS_mq_notify,
    SYS_mq_open,
    SYS_mq_timedreceive,
    SYS_mq_timedsend,
    SYS_mq_unlink,
    SYS_mremap,
    SYS_msgctl,
    SYS_msgget,
    SYS_msgrcv,
    SYS_msgsnd,
    SYS_msync,
    SYS_munlock,
    SYS_munlockall,
    SYS_munmap,
    SYS_nanosleep,
    SYS_newfstatat,
    SYS_open,
    SYS_openat,
    SYS_openat2,
    SYS_pause,
    SYS_pidfd_open,
    SYS_pidfd_send_signal,
    SYS_pipe,
    SYS_pipe2,
    SYS_poll,
    SYS_ppoll,
    SYS_prctl,
    SYS_pread64,
    SYS_preadv,
    SYS_preadv2,
    SYS_prlimit64,
    SYS_pselect6,
    SYS_pwrite64,
    SYS_pwritev,
    SYS_pwritev2,
    SYS_read,
    SYS_readahead,
    SYS_readlink,
    SYS_readlinkat,
    SYS_readv,
    SYS_recvfrom,
    SYS_recvmmsg,
    SYS_recvmsg,
    SYS_remap_file_pages,
    SYS_removexattr,
    SYS_rename,
    SYS_renameat,
    SYS_renameat2,
    SYS_restart_syscall,
    SYS_rmdir,
    SYS_rseq,
    SYS_rt_sigaction,
    SYS_rt_sigpending,
    SYS_rt_sigprocmask,
    SYS_rt_sigqueueinfo,
    SYS_rt_sigreturn,
    SYS_rt_sigsuspend,
    SYS_rt_sigtimedwait,
    SYS_rt_tgsigqueueinfo,
    SYS_sched_getaffinity,
    SYS_sched_getattr,
    SYS_sched_getparam,
    SYS_sched_get_priority_max,
    SYS_sched_get_priority_min,
    SYS_sched_getscheduler,
    SYS_sched_rr_get_interval,
    SYS_sched_setaffinity,
    SYS_sched_setattr,
    SYS_sched_setparam,
    SYS_sched_setscheduler,
    SYS_sched_yield,
    SYS_select,
    SYS_semctl,
    SYS_semget,
    SYS_semop,
    SYS_semtimedop,
    SYS_sendfile,
    SYS_sendmmsg,
    SYS_sendmsg,
    SYS_sendto,
    SYS_setfsgid,
    SYS_setfsuid,
    SYS_setgid,
    SYS_setgroups,
    SYS_setitimer,
    SYS_setpgid,
    SYS_setpriority,
    SYS_setregid,
    SYS_setresgid,
    SYS_setresuid,
    SYS_setreuid,
    SYS_setrlimit,
    SYS_set_robust_list,
    SYS_setsid,
    SYS_setsockopt,
    SYS_set_thread_area,
    SYS_set_tid_address,
    SYS_setuid,
    SYS_setxattr,
    SYS_shmat,
    SYS_shmctl,
    SYS_shmdt,
    SYS_shmget,
    SYS_shutdown,
    SYS_sigaltstack,
    SYS_signalfd,
    SYS_signalfd4,
    SYS_socket,
    SYS_socketpair,
    SYS_splice,
    SYS_stat,
    SYS_statfs,
    SYS_statx,
    SYS_symlink,
    SYS_symlinkat,
    SYS_sync,
    SYS_sync_file_range,
    SYS_syncfs,
    SYS_sysinfo,
    SYS_tee,
    SYS_tgkill,
    SYS_time,
    SYS_timer_create,
    SYS_timer_delete,
    SYS_timer_getoverrun,
    SYS_timer_gettime,
    SYS_timer_settime,
    SYS_timerfd_create,
    SYS_timerfd_gettime,
    SYS_timerfd_settime,
    SYS_times,
    SYS_tkill,
    SYS_truncate,
    SYS_umask,
    SYS_uname,
    SYS_unlink,
    SYS_unlinkat,
    SYS_utime,
    SYS_utimensat,
    SYS_utimes,
    SYS_vfork,
    SYS_vmsplice,
    SYS_wait4,
    SYS_waitid,
    SYS_write,
    SYS_writev,
];

/// Known but left out of the allow-list on purpose (kernel attack surface or host state).
/// Listed so that a policy can name them in `extra_syscalls`, knowingly.
pub const DENIED: &[(&str, i64)] = syscalls![
    SYS_mount,
    SYS_umount2,
    SYS_pivot_root,
    SYS_chroot,
    SYS_ptrace,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
    SYS_bpf,
    SYS_keyctl,
    SYS_add_key,
    SYS_request_key,
    SYS_kexec_load,
    SYS_kexec_file_load,
    SYS_init_module,
    SYS_finit_module,
    SYS_delete_module,
    SYS_perf_event_open,
    SYS_userfaultfd,
    SYS_io_uring_setup,
    SYS_io_uring_enter,
    SYS_io_uring_register,
    SYS_unshare,
    SYS_setns,
    SYS_swapon,
    SYS_swapoff,
    SYS_reboot,
    SYS_acct,
    SYS_quotactl,
    SYS_kcmp,
    SYS_open_by_handle_at,
    SYS_name_to_handle_at,
    SYS_fsopen,
    SYS_fsmount,
    SYS_fsconfig,
    SYS_move_mount,
    SYS_open_tree,
    SYS_fspick,
    SYS_mount_setattr,
    SYS_settimeofday,
    SYS_clock_settime,
    SYS_clock_adjtime,
    SYS_adjtimex,
    SYS_syslog,
    SYS_sethostname,
    SYS_setdomainname,
    SYS_vhangup,
    SYS_iopl,
    SYS_ioperm,
    SYS_uselib,
    SYS_ustat,
    SYS_sysfs,
    SYS_fanotify_init,
    SYS_mknod,
    SYS_mknodat,
    SYS_lookup_dcookie,
    SYS_modify_ldt,
    SYS_mbind,
    SYS_set_mempolicy,
    SYS_migrate_pages,
    SYS_move_pages,
    SYS_get_mempolicy,
    SYS_pidfd_getfd,
    SYS_process_madvise,
    SYS_memfd_secret,
    SYS_landlock_create_ruleset,
    SYS_seccomp,
    SYS_clone3,
];

const NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

/// Personalities Docker allows: Linux, UNAME26 and PER_LINUX32 variants, and the query.
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// Looks a syscall up by name, with or without the `SYS_` prefix.
pub fn syscall_number(name: &str) -> Option<i64> {
    let bare = name.strip_prefix("SYS_").unwrap_or(name);
    ALLOWED
        .iter()
        .chain(DENIED)
        .find(|(n, _)| n.strip_prefix("SYS_") == Some(bare))
        .map(|&(_, nr)| nr)
}

fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition> {
    // Dword: the low 32 bits. The kernel truncates ioctl's command and personality's argument
    // to 32 bits, and clone's namespace flags all live there.
    SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value)
        .map_err(|e| NativeError::Seccomp(e.to_string()))
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule> {
    SeccompRule::new(conditions).map_err(|e| NativeError::Seccomp(e.to_string()))
}

/// The compiled filters, to be installed in order just before `execve`.
#[derive(Debug, Clone, Default)]
pub struct CompiledFilter {
    pub programs: Vec<BpfProgram>,
    /// Syscalls allowed (unconditionally or with argument checks).
    pub rule_count: usize,
}

/// The same policy compiled by seccompiler (linear chains; two filters). The reference that
/// `compile`'s output is checked against.
pub fn reference(mode: SeccompMode, extra: &[String]) -> Result<CompiledFilter> {
    let default_action = match mode {
        SeccompMode::Disabled => return Ok(CompiledFilter::default()),
        SeccompMode::Errno => SeccompAction::Errno(libc::EPERM as u32),
        SeccompMode::KillProcess => SeccompAction::KillProcess,
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for &(_, nr) in ALLOWED {
        rules.insert(nr, Vec::new());
    }
    for name in extra {
        let nr = syscall_number(name).ok_or_else(|| {
            NativeError::Config(format!("unknown syscall {name:?} in extra_syscalls; use a Linux x86_64 name such as \"mount\""))
        })?;
        rules.insert(nr, Vec::new());
    }
    if let std::collections::btree_map::Entry::Vacant(e) = rules.entry(libc::SYS_clone) {
        e.insert(vec![rule(vec![cond(
            0,
            SeccompCmpOp::MaskedEq(NAMESPACE_FLAGS),
            0,
        )?])?]);
    }
    if let std::collections::btree_map::Entry::Vacant(e) = rules.entry(libc::SYS_ioctl) {
        e.insert(vec![rule(
            vec![
                cond(1, SeccompCmpOp::Ne, libc::TIOCSTI),
                cond(1, SeccompCmpOp::Ne, libc::TIOCLINUX),
            ]
            .into_iter()
            .collect::<Result<_>>()?,
        )?]);
    }
    if let std::collections::btree_map::Entry::Vacant(e) = rules.entry(libc::SYS_personality) {
        let allowed = PERSONALITIES
            .iter()
            .map(|&p| rule(vec![cond(0, SeccompCmpOp::Eq, p)?]))
            .collect::<Result<Vec<_>>>()?;
        e.insert(allowed);
    }
    // clone3 passes the allow-list so that the second filter below answers it with ENOSYS;
    // left out here, the default action (possibly kill) would outrank that.
    rules.entry(libc::SYS_clone3).or_default();
    let rule_count = rules.len();
    let allow_list = SeccompFilter::new(
        rules,
        default_action,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| NativeError::Seccomp(e.to_string()))?;
    let mut programs: Vec<BpfProgram> = vec![
        allow_list
            .try_into()
            .map_err(|e: seccompiler::BackendError| NativeError::Seccomp(e.to_string()))?,
    ];
    // clone3 → ENOSYS, in a filter of its own because a filter has one match action. The kernel
    // runs every installed filter and ERRNO outranks ALLOW, so this wins over the allow-list.
    let extra_allows_clone3 = extra
        .iter()
        .any(|n| n.trim_start_matches("SYS_") == "clone3");
    if !extra_allows_clone3 {
        let mut clone3 = BTreeMap::new();
        clone3.insert(libc::SYS_clone3, Vec::new());
        let filter = SeccompFilter::new(
            clone3,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            TargetArch::x86_64,
        )
        .map_err(|e| NativeError::Seccomp(e.to_string()))?;
        programs.push(
            filter
                .try_into()
                .map_err(|e: seccompiler::BackendError| NativeError::Seccomp(e.to_string()))?,
        );
    }
    Ok(CompiledFilter {
        programs,
        rule_count,
    })
}

/// What the filter does for one syscall number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allow,
    /// clone: allowed unless a namespace flag is set.
    Clone,
    /// ioctl: allowed unless the command is TIOCSTI or TIOCLINUX.
    Ioctl,
    /// personality: allowed for the listed personalities only.
    Personality,
    /// clone3: ENOSYS, so that libc falls back to clone.
    Enosys,
}

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// Low 32 bits of argument `i` (little endian).
const fn off_arg(i: u32) -> u32 {
    16 + 8 * i
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const JA: u16 = 0x05; // BPF_JMP | BPF_JA

/// Code for one syscall number once the accumulator holds `nr == it`: always ends in a return,
/// and leaves the accumulator changed (callers do not rely on it afterwards).
fn leaf(verdict: Verdict, default: u32) -> Vec<sock_filter> {
    match verdict {
        Verdict::Allow => vec![stmt(RET_K, RET_ALLOW)],
        Verdict::Enosys => vec![stmt(RET_K, RET_ERRNO | libc::ENOSYS as u32)],
        Verdict::Clone => vec![
            stmt(LD_ABS, off_arg(0)),
            jump(JSET_K, NAMESPACE_FLAGS as u32, 1, 0),
            stmt(RET_K, RET_ALLOW),
            stmt(RET_K, default),
        ],
        Verdict::Ioctl => vec![
            stmt(LD_ABS, off_arg(1)),
            jump(JEQ_K, libc::TIOCSTI as u32, 2, 0),
            jump(JEQ_K, libc::TIOCLINUX as u32, 1, 0),
            stmt(RET_K, RET_ALLOW),
            stmt(RET_K, default),
        ],
        Verdict::Personality => {
            let n = PERSONALITIES.len();
            let mut v = vec![stmt(LD_ABS, off_arg(0))];
            for (i, p) in PERSONALITIES.iter().enumerate() {
                // Match: jump over the remaining checks and the default return to RET_ALLOW.
                v.push(jump(JEQ_K, *p as u32, (n - i) as u8, 0));
            }
            v.push(stmt(RET_K, default));
            v.push(stmt(RET_K, RET_ALLOW));
            v
        }
    }
}

/// A binary search over intervals that together cover every u32 syscall number, with the
/// number in the accumulator: reaching a leaf means the number lies in its interval, so a
/// leaf needs no comparison of its own.
fn tree(intervals: &[(u32, Option<Verdict>)], default: u32) -> Vec<sock_filter> {
    match intervals {
        [] => vec![stmt(RET_K, default)],
        [(_, verdict)] => verdict.map_or_else(|| vec![stmt(RET_K, default)], |v| leaf(v, default)),
        _ => {
            let mid = intervals.len() / 2;
            let (left, right) = (
                tree(&intervals[..mid], default),
                tree(&intervals[mid..], default),
            );
            // nr >= the right half's first number: jump over the left half. That jump may be
            // longer than a conditional jump's 8-bit offset, so it goes through a JA.
            let mut v = vec![
                jump(JGE_K, intervals[mid].0, 0, 1),
                stmt(JA, left.len() as u32),
            ];
            v.extend(left);
            v.extend(right);
            v
        }
    }
}

/// Splits 0..=u32::MAX into runs of numbers with the same verdict (`None`: the default).
/// Argument-checked syscalls always get an interval of their own.
fn intervals(rules: &BTreeMap<u32, Verdict>) -> Vec<(u32, Option<Verdict>)> {
    let mut out: Vec<(u32, Option<Verdict>)> = Vec::new();
    let mut next = 0u32;
    for (&nr, &verdict) in rules {
        if nr > next {
            out.push((next, None));
        }
        let mergeable = verdict == Verdict::Allow
            && out.last().is_some_and(|l| l.1 == Some(Verdict::Allow))
            && nr == next;
        if !mergeable {
            out.push((nr, Some(verdict)));
        }
        next = nr + 1;
    }
    out.push((next, None));
    // Adjacent default runs cannot occur (each gap is pushed once), so this is minimal.
    out
}

use seccompiler::sock_filter;

/// Compiles the allow-list (plus `extra`) for the given mode into one binary-search filter.
pub fn compile(mode: SeccompMode, extra: &[String]) -> Result<CompiledFilter> {
    let default = match mode {
        SeccompMode::Disabled => return Ok(CompiledFilter::default()),
        SeccompMode::Errno => RET_ERRNO | libc::EPERM as u32,
        SeccompMode::KillProcess => RET_KILL_PROCESS,
    };
    let mut rules: BTreeMap<u32, Verdict> = ALLOWED
        .iter()
        .map(|&(_, nr)| (nr as u32, Verdict::Allow))
        .collect();
    for name in extra {
        let nr = syscall_number(name).ok_or_else(|| {
            NativeError::Config(format!("unknown syscall {name:?} in extra_syscalls; use a Linux x86_64 name such as \"mount\""))
        })?;
        rules.insert(nr as u32, Verdict::Allow);
    }
    for (nr, verdict) in [
        (libc::SYS_clone, Verdict::Clone),
        (libc::SYS_ioctl, Verdict::Ioctl),
        (libc::SYS_personality, Verdict::Personality),
        (libc::SYS_clone3, Verdict::Enosys),
    ] {
        rules.entry(nr as u32).or_insert(verdict);
    }
    let rule_count = rules.len();
    let mut program = vec![
        stmt(LD_ABS, OFF_ARCH),
        jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(RET_K, RET_KILL_PROCESS),
        stmt(LD_ABS, OFF_NR),
    ];
    program.extend(tree(&intervals(&rules), default));
    if program.len() > u16::MAX as usize {
        return Err(NativeError::Seccomp("filter too long".into()));
    }
    Ok(CompiledFilter {
        programs: vec![program],
        rule_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic-BPF interpreter for the instructions seccompiler and `compile` emit.
    fn eval(program: &[sock_filter], data: &[u8; 64]) -> u32 {
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let ins = &program[pc];
            pc += 1;
            match ins.code {
                0x20 => {
                    acc = u32::from_le_bytes(
                        data[ins.k as usize..ins.k as usize + 4].try_into().unwrap(),
                    )
                }
                0x06 => return ins.k,
                0x05 => pc += ins.k as usize,
                0x54 => acc &= ins.k, // BPF_ALU | BPF_AND | BPF_K
                0x15 | 0x25 | 0x35 | 0x45 => {
                    let taken = match ins.code {
                        0x15 => acc == ins.k,
                        0x25 => acc > ins.k,
                        0x35 => acc >= ins.k,
                        _ => acc & ins.k != 0,
                    };
                    pc += if taken { ins.jt } else { ins.jf } as usize;
                }
                other => panic!("unexpected BPF opcode {other:#x}"),
            }
        }
    }

    /// The kernel's choice among stacked filters: the most restrictive action wins.
    fn stacked(programs: &[BpfProgram], data: &[u8; 64]) -> u32 {
        programs
            .iter()
            .map(|p| eval(p, data))
            .min_by_key(|r| (r & 0xffff_0000) as i32)
            .unwrap()
    }

    fn data(arch: u32, nr: u32, args: [u64; 6]) -> [u8; 64] {
        let mut d = [0u8; 64];
        d[0..4].copy_from_slice(&nr.to_le_bytes());
        d[4..8].copy_from_slice(&arch.to_le_bytes());
        for (i, a) in args.iter().enumerate() {
            d[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        d
    }

    #[test]
    fn the_binary_search_filter_matches_seccompiler_on_every_syscall() {
        let arg_values: &[u64] = &[
            0,
            1,
            libc::TIOCSTI,
            libc::TIOCLINUX,
            0x1_0000_0000 | libc::TIOCSTI,
            0x5401,
            0x8,
            0x20000,
            0x20008,
            0xffff_ffff,
            0x1_0000_0000,
            (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_THREAD) as u64,
            libc::CLONE_NEWUSER as u64,
            (libc::CLONE_NEWNET | libc::CLONE_VM) as u64,
            (1 << 40) | libc::CLONE_NEWNS as u64,
            1 << 40,
        ];
        for mode in [SeccompMode::Errno, SeccompMode::KillProcess] {
            for extra in [vec![], vec!["mount".to_string(), "clone3".to_string()]] {
                let ours = compile(mode, &extra).unwrap();
                let reference = reference(mode, &extra).unwrap();
                assert_eq!(ours.rule_count, reference.rule_count);
                let numbers =
                    (0..600u32).chain([0x4000_0000, 0x4000_0001, 0x4000_0000 + 56, u32::MAX]);
                let mut checked = 0;
                for nr in numbers {
                    for &a in arg_values {
                        for arch in [AUDIT_ARCH_X86_64, 0x4000_0003 /* i386 */] {
                            let d = data(arch, nr, [a, a, a, 0, 0, 0]);
                            assert_eq!(
                                eval(&ours.programs[0], &d),
                                stacked(&reference.programs, &d),
                                "mode {mode:?} extra {extra:?} arch {arch:#x} nr {nr} arg {a:#x}"
                            );
                            checked += 1;
                        }
                    }
                }
                assert!(checked > 19_000);
                // And the point of it: one short program instead of a 1,400-instruction chain.
                assert_eq!(ours.programs.len(), 1);
                assert!(
                    ours.programs[0].len() < 400,
                    "{} instructions",
                    ours.programs[0].len()
                );
            }
        }
    }

    #[test]
    fn high_bits_do_not_smuggle_tiocsti_past_the_filter() {
        let filter = compile(SeccompMode::Errno, &[]).unwrap();
        let eperm = RET_ERRNO | libc::EPERM as u32;
        for cmd in [
            libc::TIOCSTI,
            0xdead_0000_0000 | libc::TIOCSTI,
            libc::TIOCLINUX,
        ] {
            let d = data(
                AUDIT_ARCH_X86_64,
                libc::SYS_ioctl as u32,
                [0, cmd, 0, 0, 0, 0],
            );
            assert_eq!(eval(&filter.programs[0], &d), eperm, "ioctl {cmd:#x}");
        }
        let d = data(
            AUDIT_ARCH_X86_64,
            libc::SYS_ioctl as u32,
            [0, 0x5401, 0, 0, 0, 0],
        );
        assert_eq!(eval(&filter.programs[0], &d), RET_ALLOW);
    }
}
