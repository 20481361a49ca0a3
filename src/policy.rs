//! `Policy`: one backend-neutral description of what a sandboxed program may see and use.
//! Built with `Policy::builder()` or loaded from TOML; `validate` rejects what cannot be
//! enforced identically on both backends, with a message that says what to fix.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// A host directory made visible to the guest at `guest`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub host: PathBuf,
    pub guest: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// No network at all (default).
    #[default]
    None,
    /// Loopback only: the guest can talk to itself (native) or to 127.0.0.0/8 and ::1 (wasm).
    Loopback,
    /// The host's own network: no network namespace (native), any address (wasm). Not
    /// isolation: it exists for deliberately permissive policies such as the probe suite's.
    Host,
}

/// What the native seccomp filter does with a syscall outside its allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeccompAction {
    #[default]
    Errno,
    Kill,
    /// No filter (only for measuring its cost or a deliberately permissive policy).
    Disabled,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Policy {
    pub read_only: Vec<Grant>,
    pub read_write: Vec<Grant>,
    pub env: BTreeMap<String, String>,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub network: Network,
    pub memory_bytes: Option<u64>,
    pub wall_time: Option<Duration>,
    pub cpu_time: Option<Duration>,
    pub max_pids: Option<u64>,
    /// CPU bandwidth in cores, e.g. 0.5 (native: cgroup cpu.max / cfs quota).
    pub cpus: Option<f64>,
    pub stdout_cap: usize,
    pub stderr_cap: usize,
    pub stdin: Vec<u8>,
    pub hostname: String,
    pub seccomp: SeccompAction,
    /// Fail when a requested limit cannot be enforced here (default), rather than run without it.
    pub require_limits: bool,
    /// Native: Landlock scoping (abstract unix sockets and signals stay inside the sandbox)
    /// where the kernel has it (Linux 6.12+). On by default.
    pub landlock: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            read_only: Vec::new(),
            read_write: Vec::new(),
            env: BTreeMap::new(),
            args: Vec::new(),
            cwd: None,
            network: Network::None,
            memory_bytes: Some(512 << 20),
            wall_time: Some(Duration::from_secs(60)),
            cpu_time: None,
            max_pids: Some(256),
            cpus: None,
            stdout_cap: 1 << 20,
            stderr_cap: 1 << 20,
            stdin: Vec::new(),
            hostname: "sandbox".into(),
            seccomp: SeccompAction::Errno,
            require_limits: true,
            landlock: true,
        }
    }
}

/// Builder for `Policy`, starting from the defaults.
#[derive(Debug, Clone, Default)]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    pub fn read_only(mut self, host: impl Into<PathBuf>, guest: impl Into<PathBuf>) -> Self {
        self.policy.read_only.push(Grant {
            host: host.into(),
            guest: guest.into(),
        });
        self
    }
    pub fn read_write(mut self, host: impl Into<PathBuf>, guest: impl Into<PathBuf>) -> Self {
        self.policy.read_write.push(Grant {
            host: host.into(),
            guest: guest.into(),
        });
        self
    }
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.policy.env.insert(key.into(), value.into());
        self
    }
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.policy.args = args.into_iter().map(Into::into).collect();
        self
    }
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.policy.cwd = Some(dir.into());
        self
    }
    pub fn network(mut self, network: Network) -> Self {
        self.policy.network = network;
        self
    }
    pub fn memory(mut self, bytes: Option<u64>) -> Self {
        self.policy.memory_bytes = bytes;
        self
    }
    pub fn timeout(mut self, wall: Option<Duration>) -> Self {
        self.policy.wall_time = wall;
        self
    }
    pub fn cpu_time(mut self, cpu: Option<Duration>) -> Self {
        self.policy.cpu_time = cpu;
        self
    }
    pub fn max_pids(mut self, pids: Option<u64>) -> Self {
        self.policy.max_pids = pids;
        self
    }
    pub fn cpus(mut self, cores: Option<f64>) -> Self {
        self.policy.cpus = cores;
        self
    }
    pub fn stdout_cap(mut self, bytes: usize) -> Self {
        self.policy.stdout_cap = bytes;
        self
    }
    pub fn stderr_cap(mut self, bytes: usize) -> Self {
        self.policy.stderr_cap = bytes;
        self
    }
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.policy.stdin = input.into();
        self
    }
    pub fn seccomp(mut self, action: SeccompAction) -> Self {
        self.policy.seccomp = action;
        self
    }
    pub fn require_limits(mut self, require: bool) -> Self {
        self.policy.require_limits = require;
        self
    }
    pub fn landlock(mut self, scope: bool) -> Self {
        self.policy.landlock = scope;
        self
    }
    /// Validates and returns the policy.
    pub fn build(self) -> Result<Policy> {
        self.policy.validate()?;
        Ok(self.policy)
    }
}

/// The TOML form: sizes and durations as strings ("64MiB", "1500ms"); every key optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    ro: Vec<Grant>,
    #[serde(default)]
    rw: Vec<Grant>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    args: Vec<String>,
    cwd: Option<PathBuf>,
    network: Option<Network>,
    memory: Option<String>,
    timeout: Option<String>,
    cpu_time: Option<String>,
    pids: Option<i64>,
    cpus: Option<f64>,
    stdout_cap: Option<String>,
    stderr_cap: Option<String>,
    stdin: Option<String>,
    hostname: Option<String>,
    seccomp: Option<SeccompAction>,
    require_limits: Option<bool>,
    landlock: Option<bool>,
}

impl Policy {
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// Parses a policy from TOML text (see the README for the keys).
    pub fn from_toml(text: &str) -> Result<Policy> {
        let file: PolicyFile = toml::from_str(text)
            .map_err(|e| Error::bad_input(format!("policy: {}", e.message().trim())))?;
        let d = Policy::default();
        let pids = match file.pids {
            Some(n) if n <= 0 => {
                return Err(Error::bad_input(format!(
                    "policy: pids must be at least 1, not {n}"
                )));
            }
            Some(n) => Some(n as u64),
            None => d.max_pids,
        };
        let policy = Policy {
            read_only: file.ro,
            read_write: file.rw,
            env: file.env,
            args: file.args,
            cwd: file.cwd,
            network: file.network.unwrap_or_default(),
            memory_bytes: file
                .memory
                .map(|s| parse_size(&s))
                .transpose()?
                .or(d.memory_bytes),
            wall_time: file
                .timeout
                .map(|s| parse_duration(&s))
                .transpose()?
                .or(d.wall_time),
            cpu_time: file.cpu_time.map(|s| parse_duration(&s)).transpose()?,
            max_pids: pids,
            cpus: file.cpus,
            stdout_cap: file
                .stdout_cap
                .map(|s| parse_size(&s))
                .transpose()?
                .map_or(d.stdout_cap, |n| n as usize),
            stderr_cap: file
                .stderr_cap
                .map(|s| parse_size(&s))
                .transpose()?
                .map_or(d.stderr_cap, |n| n as usize),
            stdin: file.stdin.map(String::into_bytes).unwrap_or_default(),
            hostname: file.hostname.unwrap_or(d.hostname),
            seccomp: file.seccomp.unwrap_or_default(),
            require_limits: file.require_limits.unwrap_or(true),
            landlock: file.landlock.unwrap_or(true),
        };
        policy.validate()?;
        Ok(policy)
    }

    pub fn from_file(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::bad_input(format!("policy file {}: {e}", path.display())))?;
        Policy::from_toml(&text)
            .map_err(|e| Error::bad_input(format!("{}: {}", path.display(), e.message)))
    }

    /// All grants with their mode, read-only first.
    pub fn grants(&self) -> impl Iterator<Item = (&Grant, bool)> {
        self.read_only
            .iter()
            .map(|g| (g, false))
            .chain(self.read_write.iter().map(|g| (g, true)))
    }

    /// Checks what both backends need: absolute existing host dirs, clean guest paths, no
    /// overlap, sane limits.
    pub fn validate(&self) -> Result<()> {
        let mut guests: Vec<&Path> = Vec::new();
        for (grant, writable) in self.grants() {
            let (host, guest) = (&grant.host, &grant.guest);
            if !host.is_absolute() {
                return Err(Error::bad_input(format!(
                    "grant {}: the host path must be absolute",
                    host.display()
                )));
            }
            if !host.is_dir() {
                return Err(Error::bad_input(format!(
                    "grant {}: no such directory on the host; create it or fix the path",
                    host.display()
                )));
            }
            if writable && host == Path::new("/") {
                return Err(Error::bad_input(
                    "grant /: the host root cannot be granted read-write; grant a subdirectory",
                ));
            }
            check_guest_path(guest)?;
            if let Some(other) = guests
                .iter()
                .find(|g| guest.starts_with(g) || g.starts_with(guest))
            {
                return Err(Error::bad_input(format!(
                    "grants {} and {} overlap; give each grant its own guest directory",
                    other.display(),
                    guest.display()
                )));
            }
            guests.push(guest);
        }
        if let Some(cwd) = &self.cwd
            && cwd != Path::new("/")
        {
            check_guest_path(cwd)?;
        }
        if let Some(m) = self.memory_bytes
            && m < (1 << 20)
        {
            return Err(Error::bad_input(format!(
                "memory limit {m} bytes is too small; give at least 1MiB"
            )));
        }
        for (name, d) in [("timeout", self.wall_time), ("cpu_time", self.cpu_time)] {
            if d.is_some_and(|d| d.is_zero()) {
                return Err(Error::bad_input(format!("{name} must be above zero")));
            }
        }
        if let Some(c) = self.cpus
            && !(c.is_finite() && (0.01..=1024.0).contains(&c))
        {
            return Err(Error::bad_input(format!(
                "cpus {c}: give a number of cores between 0.01 and 1024"
            )));
        }
        if self.max_pids == Some(0) {
            return Err(Error::bad_input("pids must be at least 1"));
        }
        for key in self.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return Err(Error::bad_input(format!(
                    "environment variable name {key:?} is invalid"
                )));
            }
        }
        if self.hostname.is_empty() || self.hostname.len() > 64 {
            return Err(Error::bad_input("hostname must be 1 to 64 bytes"));
        }
        Ok(())
    }
}

fn check_guest_path(guest: &Path) -> Result<()> {
    if !guest.is_absolute() {
        return Err(Error::bad_input(format!(
            "guest path {}: must be absolute (e.g. /data)",
            guest.display()
        )));
    }
    if guest
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(Error::bad_input(format!(
            "guest path {}: must not contain `..` or `.`",
            guest.display()
        )));
    }
    if guest == Path::new("/") {
        return Err(Error::bad_input(
            "guest path /: cannot grant over the sandbox's root; use a subdirectory",
        ));
    }
    Ok(())
}

/// Parses "64MiB", "1GiB", "512K", "1.5G" or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        Error::bad_input(format!(
            "size {text:?}: expected a number with an optional unit, e.g. 64MiB"
        ))
    })?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(Error::bad_input(format!(
                "size {text:?}: unknown unit {other:?}; use B, KiB, MiB, GiB"
            )));
        }
    };
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(Error::bad_input(format!("size {text:?} is out of range")));
    }
    Ok(bytes as u64)
}

/// Parses "1s", "1500ms", "2m", "250us", "1.5s" (a plain number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| Error::bad_input(format!("duration {text:?}: expected e.g. 1s, 500ms, 2m")))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(Error::bad_input(format!(
                "duration {text:?}: unknown unit {other:?}; use ms, s, m, h"
            )));
        }
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(Error::bad_input(format!(
            "duration {text:?} must be above zero"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("-5M").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn toml_round_trip_and_rejections() {
        let p = Policy::from_toml("memory = \"64MiB\"\ntimeout = \"2s\"\npids = 8\nnetwork = \"loopback\"\n[env]\nA = \"b\"\n").unwrap();
        assert_eq!(p.memory_bytes, Some(64 << 20));
        assert_eq!(p.max_pids, Some(8));
        assert_eq!(p.network, Network::Loopback);
        assert_eq!(p.env["A"], "b");
        for bad in [
            "colour = \"blue\"",
            "memory = 64",
            "pids = 0",
            "pids = -3",
            "timeout = \"0s\"",
            "network = \"internet\"",
            "[[ro]]\nhost = \"relative/dir\"\nguest = \"/x\"",
            "[[rw]]\nhost = \"/\"\nguest = \"/host\"",
            "[[ro]]\nhost = \"/tmp\"\nguest = \"/a/../etc\"",
            "[[ro]]\nhost = \"/tmp\"\nguest = \"/a\"\n[[ro]]\nhost = \"/usr\"\nguest = \"/a/b\"",
            "[[ro]]\nhost = \"/no/such/dir/here\"\nguest = \"/x\"",
        ] {
            let err = Policy::from_toml(bad).expect_err(bad);
            assert!(
                !err.message.contains('\n'),
                "multi-line error for {bad:?}: {}",
                err.message
            );
        }
    }
}
