//! Landlock scoping (ABI 6, Linux 6.12): the workload may not connect to abstract unix
//! sockets created outside its Landlock domain, nor signal processes outside it.
//!
//! The namespaces already give both in the default configuration (a network namespace of
//! its own scopes abstract sockets; the pid namespace hides every outside process). Scoping
//! keeps them when a policy shares the host's network, and it is a second, independent
//! layer otherwise. No filesystem rules: the mount namespace decides what exists.

use std::os::raw::c_int;

const CREATE_RULESET_VERSION: u32 = 1;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;
/// The first ABI with scopes.
const SCOPES_ABI: i64 = 6;

/// `struct landlock_ruleset_attr` as of ABI 6.
#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

/// The kernel's Landlock ABI version, or the errno that says why there is none
/// (EOPNOTSUPP: built in but disabled at boot; ENOSYS: not built).
fn abi() -> Result<i64, i32> {
    // SAFETY: with a null attribute, size 0 and the VERSION flag the call only returns the
    // ABI number; it reads and writes no memory.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if v < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(v)
    }
}

/// Whether a run will be scoped, and what the enforcement report says about it.
pub(crate) fn plan(enabled: bool) -> (bool, String) {
    if !enabled {
        return (false, "not applied (disabled by the configuration)".into());
    }
    match abi() {
        Ok(v) if v >= SCOPES_ABI => (
            true,
            format!(
                "scoped: abstract unix sockets and signals stay inside the sandbox (ABI {v}); \
                 no filesystem rules"
            ),
        ),
        Ok(v) => (
            false,
            format!(
                "not applied: the kernel's Landlock ABI {v} has no scopes (needs 6, Linux 6.12)"
            ),
        ),
        Err(e) => (
            false,
            format!(
                "not applied: Landlock is unavailable ({})",
                std::io::Error::from_raw_os_error(e)
            ),
        ),
    }
}

/// Confines the calling process (and what it forks and execs) to its own scopes.
/// Returns 0, or -1 with errno set. Needs `no_new_privs` first.
///
/// Allocation-free: it runs in the forked workload before `execve`.
pub(crate) fn restrict_scopes() -> c_int {
    let attr = RulesetAttr {
        handled_access_fs: 0,
        handled_access_net: 0,
        scoped: SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL,
    };
    // SAFETY: `attr` is a valid ruleset attribute of the size given; the kernel only reads it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const RulesetAttr,
            std::mem::size_of::<RulesetAttr>(),
            0u32,
        )
    };
    if fd < 0 {
        return -1;
    }
    // SAFETY: `fd` is the ruleset just created; restrict_self only reads it, and we close it.
    unsafe {
        let rc = libc::syscall(libc::SYS_landlock_restrict_self, fd as c_int, 0u32);
        libc::close(fd as c_int);
        rc as c_int
    }
}
