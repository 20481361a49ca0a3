//! The native backend's own configuration: what the sandboxed process sees and may use.

use std::path::PathBuf;
use std::time::Duration;

/// One host directory made visible inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub host: PathBuf,
    pub guest: PathBuf,
    pub writable: bool,
}

/// How the network namespace is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// An empty network namespace: not even `lo` is up.
    #[default]
    None,
    /// A network namespace of its own with `lo` up: the sandbox can talk to itself only.
    Loopback,
}

/// What the seccomp filter does with a syscall outside the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeccompMode {
    /// Fail the call with EPERM (the program sees an error and can go on).
    #[default]
    Errno,
    /// Kill the whole process with SIGSYS (reported as `SeccompViolation`).
    KillProcess,
    /// No filter at all (for measuring its cost, or a deliberately permissive policy).
    Disabled,
}

/// Resource limits. `None` means "not limited".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// Memory (and swap) for the whole sandbox, enforced by the memory cgroup.
    pub memory_bytes: Option<u64>,
    /// Tasks (processes + threads) in the sandbox, by the pids cgroup and RLIMIT_NPROC.
    pub max_pids: Option<u64>,
    /// CPU bandwidth in cores (1.0 = one full core), by cpu.max / cfs quota.
    pub cpu_cores: Option<f64>,
    /// Wall-clock time; the whole process tree is killed at the deadline.
    pub wall_time: Option<Duration>,
    /// CPU time (RLIMIT_CPU, whole seconds, rounded up).
    pub cpu_time: Option<Duration>,
    /// Open files (RLIMIT_NOFILE).
    pub max_open_files: Option<u64>,
    /// Largest file the sandbox may write (RLIMIT_FSIZE).
    pub max_file_size: Option<u64>,
    /// Size of the sandbox's private `/tmp` tmpfs.
    pub tmp_size_bytes: u64,
}

/// Everything the native backend needs to start one program.
#[derive(Debug, Clone)]
pub struct NativeConfig {
    /// Host path of the program; it is bound read-only at `/.sandbox/<file name>`.
    pub program: PathBuf,
    /// Arguments after argv[0].
    pub args: Vec<String>,
    /// The complete environment (nothing is inherited).
    pub env: Vec<(String, String)>,
    /// Working directory inside the sandbox.
    pub cwd: PathBuf,
    pub binds: Vec<Bind>,
    pub hostname: String,
    pub network: Network,
    pub seccomp: SeccompMode,
    /// Syscall names allowed on top of the default allow-list.
    pub extra_syscalls: Vec<String>,
    pub limits: Limits,
    /// When a requested limit cannot be enforced (no writable cgroup): error out (true) or run
    /// and list the limit as missing in the enforcement report (false).
    pub require_limits: bool,
    /// Bytes of stdout / stderr kept; the rest is read, counted and dropped.
    pub stdout_cap: usize,
    pub stderr_cap: usize,
    /// Create a network namespace (always, through `Policy`). Turning it off shares the host's
    /// network and exists only to measure what the namespace costs; never use it to isolate.
    pub new_net_namespace: bool,
    /// Landlock scoping (Linux 6.12+): the program may not connect to abstract unix sockets
    /// made outside the sandbox nor signal processes outside it. Where the kernel lacks it,
    /// the run goes on and the enforcement report says so.
    pub landlock_scope: bool,
    /// Host uid/gid that root in the sandbox maps to when we are root on the host
    /// (rootless runs always map to the caller's own ids).
    pub host_id_when_root: u32,
}

impl NativeConfig {
    /// A config with safe defaults: no network, errno seccomp, 64 MiB `/tmp`.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        NativeConfig {
            program: program.into(),
            args: Vec::new(),
            env: vec![("PATH".into(), "/.sandbox:/usr/bin:/bin".into())],
            cwd: PathBuf::from("/"),
            binds: Vec::new(),
            hostname: "sandbox".into(),
            network: Network::None,
            seccomp: SeccompMode::Errno,
            extra_syscalls: Vec::new(),
            limits: Limits {
                tmp_size_bytes: 64 << 20,
                ..Limits::default()
            },
            require_limits: true,
            stdout_cap: 1 << 20,
            stderr_cap: 1 << 20,
            host_id_when_root: 65534,
            new_net_namespace: true,
            landlock_scope: true,
        }
    }
}
