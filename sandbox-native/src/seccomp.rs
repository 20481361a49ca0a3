//! The seccomp allow-list, modelled on Docker's default profile (x86_64).
//!
//! Everything not listed is answered with the configured default action (EPERM or kill).
//! `clone` is allowed only without namespace flags; `clone3` gets ENOSYS, because its flags
//! live in a struct that seccomp cannot read, so libc falls back to the filterable `clone`;
//! `ioctl(TIOCSTI)`/`ioctl(TIOCLINUX)` (terminal input injection) are refused.

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
    SeccompCondition::new(arg, SeccompCmpArgLen::Qword, op, value)
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

/// Compiles the allow-list (plus `extra`) for the given mode.
pub fn compile(mode: SeccompMode, extra: &[String]) -> Result<CompiledFilter> {
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
