//! What a run reports: how it ended, what it printed, what it cost, what was enforced.

use serde::Serialize;
use std::time::Duration;

/// How a run ended, as far as the backend can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    Exited(i32),
    Signaled(i32),
    Timeout,
    OutOfMemory,
    /// A wasm trap, named (unreachable, memory out of bounds, ...).
    Trap(String),
    /// Killed by the seccomp filter (native, kill mode).
    SeccompViolation,
    /// The deterministic CPU budget (wasm fuel) ran out.
    OutOfFuel,
}

impl ExitReason {
    /// The CLI exit status: the guest's code, 128+N for signal N, 124 on timeout, 137 on
    /// out-of-memory (as if SIGKILLed), 134 for a trap (as if aborted), 159 for seccomp (SIGSYS).
    pub fn exit_status(&self) -> i32 {
        match self {
            ExitReason::Exited(c) => *c,
            ExitReason::Signaled(s) => 128 + s,
            ExitReason::Timeout | ExitReason::OutOfFuel => 124,
            ExitReason::OutOfMemory => 137,
            ExitReason::Trap(_) => 134,
            ExitReason::SeccompViolation => 128 + 31,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ExitReason::Exited(_) => "exited",
            ExitReason::Signaled(_) => "signaled",
            ExitReason::Timeout => "timeout",
            ExitReason::OutOfMemory => "out_of_memory",
            ExitReason::Trap(_) => "trap",
            ExitReason::SeccompViolation => "seccomp_violation",
            ExitReason::OutOfFuel => "out_of_fuel",
        }
    }
}

impl std::fmt::Display for ExitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitReason::Exited(c) => write!(f, "exited {c}"),
            ExitReason::Signaled(s) => write!(f, "signal {s}"),
            ExitReason::Trap(t) => write!(f, "trap: {t}"),
            other => f.write_str(other.kind()),
        }
    }
}

impl Serialize for ExitReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("kind", self.kind())?;
        let code = match self {
            ExitReason::Exited(c) | ExitReason::Signaled(c) => Some(*c),
            _ => None,
        };
        m.serialize_entry("code", &code)?;
        if let ExitReason::Trap(t) = self {
            m.serialize_entry("trap", t)?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub name: String,
    pub micros: u64,
}

impl Phase {
    pub fn new(name: impl Into<String>, d: Duration) -> Phase {
        Phase {
            name: name.into(),
            micros: d.as_micros() as u64,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub user_micros: u64,
    pub sys_micros: u64,
    /// Native: the largest process's peak RSS. Wasm: the peak linear-memory size.
    pub peak_memory_bytes: u64,
    /// What the sandbox really cost the host. Native: the cgroup's peak (all processes, page
    /// cache included). Wasm: resident pages of the linear memories at the end (for
    /// components, of every core memory inside, through memories the backend allocates).
    pub host_memory_bytes: Option<u64>,
}

/// The result of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub backend: String,
    pub exit: ExitReason,
    #[serde(serialize_with = "lossy")]
    pub stdout: Vec<u8>,
    #[serde(serialize_with = "lossy")]
    pub stderr: Vec<u8>,
    /// Bytes past the capture caps, read and dropped.
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
    pub usage: Usage,
    /// Named wall-time phases in order (prepare phases first when the caller merged them).
    pub phases: Vec<Phase>,
    pub wall_micros: u64,
    /// Which protections and limits were really in force (backend-specific).
    pub enforcement: serde_json::Value,
}

fn lossy<S: serde::Serializer>(bytes: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

impl Outcome {
    pub fn phase(&self, name: &str) -> Option<Duration> {
        self.phases
            .iter()
            .find(|p| p.name == name)
            .map(|p| Duration::from_micros(p.micros))
    }
}
