//! Errors of the native backend. Each says what failed and what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error("program {path} does not exist; give an existing executable or a workload name")]
    ProgramMissing { path: PathBuf },
    #[error("program {path} is not a runnable executable: {why}")]
    ProgramInvalid { path: PathBuf, why: String },
    #[error("grant {path} cannot be used: {why}")]
    BadBind { path: PathBuf, why: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(
        "user namespaces are not available ({why}); enable them (sysctl user.max_user_namespaces, \
         kernel.apparmor_restrict_unprivileged_userns=0) or run as root"
    )]
    UserNamespacesUnavailable { why: String },
    #[error(
        "cannot enforce {limit}: {why}; run as root, delegate a cgroup v2 subtree, or set require_limits = false"
    )]
    LimitUnavailable { limit: &'static str, why: String },
    #[error("cgroup {path}: {source}")]
    Cgroup {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("seccomp filter: {0}")]
    Seccomp(String),
    #[error("sandbox setup failed at {stage}: {source}")]
    Setup {
        stage: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{call}: {source}")]
    Sys {
        call: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl NativeError {
    pub(crate) fn sys(call: &'static str) -> Self {
        NativeError::Sys {
            call,
            source: std::io::Error::last_os_error(),
        }
    }
}

pub type Result<T> = std::result::Result<T, NativeError>;
