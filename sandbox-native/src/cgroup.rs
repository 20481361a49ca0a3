//! cgroup limits for one sandbox: v2 (unified) or v1 (one hierarchy per controller),
//! detected at run time. One `Cgroup` is created per run and removed after it.

use crate::error::{NativeError, Result};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ROOT: &str = "/sys/fs/cgroup";
/// Parent directory of every sandbox's cgroup, per hierarchy.
const PARENT: &str = "sandbox";
/// Rootless on v2: the leaf this process moves into, beside `PARENT` (see `make_room_below`).
const SUPERVISOR: &str = "supervisor";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupVersion {
    V1,
    V2,
}

/// What this host offers, found once per prepared sandbox.
#[derive(Debug, Clone)]
pub enum CgroupSupport {
    /// Unified hierarchy: `base` is a directory we may create children in, with the controllers
    /// we need enabled in its `cgroup.subtree_control`.
    V2 { base: PathBuf },
    /// Legacy hierarchies: one base directory per controller that is mounted and writable.
    V1 {
        memory: Option<PathBuf>,
        pids: Option<PathBuf>,
        cpu: Option<PathBuf>,
        /// For teardown: freeze, kill everything, thaw (v1 has no `cgroup.kill`).
        freezer: Option<PathBuf>,
    },
    /// No writable cgroup hierarchy (typical when rootless without delegation).
    Unavailable { why: String },
}

fn is_cgroup2(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: see above; statfs only writes into `st`.
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    rc == 0 && st.f_type == libc::CGROUP2_SUPER_MAGIC
}

/// Enables in `dir`'s `cgroup.subtree_control` those of memory, pids and cpu that `dir` has.
fn enable_controllers(dir: &Path) -> std::io::Result<()> {
    let available = fs::read_to_string(dir.join("cgroup.controllers"))?;
    let wanted: Vec<String> = ["memory", "pids", "cpu"]
        .into_iter()
        .filter(|c| available.split_whitespace().any(|a| a == *c))
        .map(|c| format!("+{c}"))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    fs::write(dir.join("cgroup.subtree_control"), wanted.join(" "))
}

/// Rootless, the delegated cgroup is the one this process is in. cgroup v2 enables no
/// controller for the children of a cgroup that holds processes ("no internal processes"),
/// so, as crun and systemd do, this process first moves into a leaf of its own
/// (`SUPERVISOR`); then the controllers can be enabled for our run cgroups beside it.
fn make_room_below(own: &Path) -> std::result::Result<(), String> {
    let busy = |e: &std::io::Error| e.raw_os_error() == Some(libc::EBUSY);
    match enable_controllers(own) {
        Err(e) if busy(&e) => {}
        _ => return Ok(()), // enabled, or not available at all: `controllers()` tells
    }
    let leaf = own.join(SUPERVISOR);
    if let Err(e) = fs::create_dir(&leaf)
        && e.kind() != ErrorKind::AlreadyExists
    {
        return Err(format!("cannot create {}: {e}", leaf.display()));
    }
    // "0" moves the writing process, all its threads included.
    fs::write(leaf.join("cgroup.procs"), "0")
        .map_err(|e| format!("cannot move this process into {}: {e}", leaf.display()))?;
    match enable_controllers(own) {
        Err(e) if busy(&e) => {
            // Undo the move: leave the cgroups as they were found.
            let _ = fs::write(own.join("cgroup.procs"), "0");
            let _ = fs::remove_dir(&leaf);
            Err(format!(
                "cgroup v2 directory {} holds other processes besides this one, so no controller \
                 can be enabled below it; start this program in a delegated cgroup of its own, \
                 e.g. under `systemd-run --user --scope -p Delegate=yes`",
                own.display()
            ))
        }
        _ => Ok(()),
    }
}

fn writable_dir(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path.
    path.is_dir() && unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0
}

impl CgroupSupport {
    /// Detects the cgroup layout of this host and where this process may create cgroups.
    pub fn detect() -> CgroupSupport {
        let root = Path::new(ROOT);
        if is_cgroup2(root) {
            return Self::detect_v2(root);
        }
        let v1 = |ctrl: &str| {
            let dir = root.join(ctrl);
            (dir.join("cgroup.procs").is_file() && writable_dir(&dir)).then_some(dir)
        };
        let (memory, pids, cpu, freezer) = (v1("memory"), v1("pids"), v1("cpu"), v1("freezer"));
        if memory.is_none() && pids.is_none() && cpu.is_none() {
            let why = if root.join("memory").is_dir() {
                "the cgroup v1 hierarchies are not writable by this user (v1 cannot be delegated safely)"
            } else {
                "no cgroup hierarchy with memory, pids or cpu controllers is mounted"
            };
            return CgroupSupport::Unavailable { why: why.into() };
        }
        CgroupSupport::V1 {
            memory,
            pids,
            cpu,
            freezer,
        }
    }

    fn detect_v2(root: &Path) -> CgroupSupport {
        // As root: a `sandbox` directory under the root. Rootless: a delegated subtree is the
        // cgroup we are in, when it is writable (systemd's user@.service delegation).
        let base = if writable_dir(root) {
            root.join(PARENT)
        } else {
            let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
            let rel = own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .unwrap_or("/")
                .trim();
            let mut dir = root.join(rel.trim_start_matches('/'));
            if dir.file_name() == Some(SUPERVISOR.as_ref()) {
                dir.pop(); // moved there by an earlier detection (`make_room_below`)
            }
            if !writable_dir(&dir) {
                return CgroupSupport::Unavailable {
                    why: format!(
                        "cgroup v2 directory {} is not writable (no delegation); start this \
                         program in a delegated cgroup, e.g. under `systemd-run --user --scope \
                         -p Delegate=yes`",
                        dir.display()
                    ),
                };
            }
            if let Err(why) = make_room_below(&dir) {
                return CgroupSupport::Unavailable { why };
            }
            dir.join(PARENT)
        };
        if let Err(e) = fs::create_dir(&base)
            && e.kind() != ErrorKind::AlreadyExists
        {
            return CgroupSupport::Unavailable {
                why: format!("cannot create {}: {e}", base.display()),
            };
        }
        // Controllers must be enabled in every ancestor's subtree_control to reach our leaves.
        // What is missing shows in `controllers()` and so in the enforcement report.
        let parent = base.parent().unwrap_or(root);
        for dir in [parent, base.as_path()] {
            let _ = enable_controllers(dir);
        }
        CgroupSupport::V2 { base }
    }

    /// The directories that hold this host's run cgroups (one per v1 controller, or one).
    pub fn run_parents(&self) -> Vec<PathBuf> {
        match self {
            CgroupSupport::V2 { base } => vec![base.clone()],
            CgroupSupport::V1 {
                memory,
                pids,
                cpu,
                freezer,
            } => [memory, pids, cpu, freezer]
                .into_iter()
                .flatten()
                .map(|d| d.join(PARENT))
                .collect(),
            CgroupSupport::Unavailable { .. } => Vec::new(),
        }
    }

    /// Removes run cgroups left by supervisors that died without cleaning up (SIGKILL): those
    /// named `run-<pid>-*` whose pid no longer exists. rmdir only removes empty cgroups, so a
    /// live sandbox is never touched. Returns how many were removed.
    pub fn sweep_stale(&self) -> usize {
        let mut removed = 0;
        for parent in self.run_parents() {
            for entry in fs::read_dir(&parent).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(pid) = name
                    .strip_prefix("run-")
                    .and_then(|r| r.split('-').next()?.parse::<libc::pid_t>().ok())
                else {
                    continue;
                };
                // SAFETY: signal 0 only checks whether the process exists.
                let dead = unsafe { libc::kill(pid, 0) } != 0
                    && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
                if dead && fs::remove_dir(entry.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }

    pub fn version(&self) -> Option<CgroupVersion> {
        match self {
            CgroupSupport::V2 { .. } => Some(CgroupVersion::V2),
            CgroupSupport::V1 { .. } => Some(CgroupVersion::V1),
            CgroupSupport::Unavailable { .. } => None,
        }
    }

    /// Which controllers can be used: (memory, pids, cpu).
    pub fn controllers(&self) -> (bool, bool, bool) {
        match self {
            CgroupSupport::V2 { base } => {
                let enabled =
                    fs::read_to_string(base.join("cgroup.subtree_control")).unwrap_or_default();
                let has = |c: &str| enabled.split_whitespace().any(|w| w == c);
                (has("memory"), has("pids"), has("cpu"))
            }
            CgroupSupport::V1 {
                memory, pids, cpu, ..
            } => (memory.is_some(), pids.is_some(), cpu.is_some()),
            CgroupSupport::Unavailable { .. } => (false, false, false),
        }
    }
}

/// Requested limits for one cgroup.
#[derive(Debug, Clone, Copy, Default)]
pub struct CgroupLimits {
    pub memory_bytes: Option<u64>,
    pub max_pids: Option<u64>,
    pub cpu_cores: Option<f64>,
}

/// Counters read after the run.
#[derive(Debug, Clone, Copy, Default)]
pub struct CgroupStats {
    pub oom_kills: u64,
    pub pids_max_hits: u64,
    pub peak_memory_bytes: Option<u64>,
}

/// The cgroup(s) of one run. Removed by `remove` (and, as a last resort, on drop).
#[derive(Debug)]
pub struct Cgroup {
    version: CgroupVersion,
    /// v2: one directory; v1: one per controller used, memory first when present.
    dirs: Vec<PathBuf>,
    memory_dir: Option<PathBuf>,
    pids_dir: Option<PathBuf>,
    freezer_dir: Option<PathBuf>,
    removed: bool,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    format!(
        "run-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    )
}

fn write(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|source| NativeError::Cgroup {
        path: path.to_path_buf(),
        source,
    })
}

fn read_key(path: &Path, key: &str) -> u64 {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

impl Cgroup {
    /// Creates the cgroup(s) and writes the limits. Nothing is left behind on error.
    pub fn create(support: &CgroupSupport, limits: &CgroupLimits) -> Result<Cgroup> {
        let name = unique_name();
        let mut cg = match support {
            CgroupSupport::V2 { base } => {
                let dir = base.join(&name);
                fs::create_dir(&dir).map_err(|source| NativeError::Cgroup {
                    path: dir.clone(),
                    source,
                })?;
                Cgroup {
                    version: CgroupVersion::V2,
                    dirs: vec![dir.clone()],
                    memory_dir: Some(dir.clone()),
                    pids_dir: Some(dir),
                    freezer_dir: None,
                    removed: false,
                }
            }
            CgroupSupport::V1 {
                memory,
                pids,
                cpu,
                freezer,
            } => {
                let mut cg = Cgroup {
                    version: CgroupVersion::V1,
                    dirs: Vec::new(),
                    memory_dir: None,
                    pids_dir: None,
                    freezer_dir: None,
                    removed: false,
                };
                let wanted = [
                    // Memory always: its counters give peak usage and OOM kills even without a limit.
                    (memory, true),
                    (pids, limits.max_pids.is_some()),
                    (cpu, limits.cpu_cores.is_some()),
                    (freezer, true),
                ];
                for (i, (base, want)) in wanted.into_iter().enumerate() {
                    let (Some(base), true) = (base, want) else {
                        continue;
                    };
                    let parent = base.join(PARENT);
                    if let Err(e) = fs::create_dir(&parent)
                        && e.kind() != ErrorKind::AlreadyExists
                    {
                        return Err(NativeError::Cgroup {
                            path: parent,
                            source: e,
                        });
                    }
                    let dir = parent.join(&name);
                    fs::create_dir(&dir).map_err(|source| NativeError::Cgroup {
                        path: dir.clone(),
                        source,
                    })?;
                    match i {
                        0 => cg.memory_dir = Some(dir.clone()),
                        1 => cg.pids_dir = Some(dir.clone()),
                        3 => cg.freezer_dir = Some(dir.clone()),
                        _ => {}
                    }
                    cg.dirs.push(dir);
                }
                cg
            }
            CgroupSupport::Unavailable { why } => {
                return Err(NativeError::LimitUnavailable {
                    limit: "cgroup limits",
                    why: why.clone(),
                });
            }
        };
        if let Err(e) = cg.apply(limits) {
            cg.remove();
            return Err(e);
        }
        Ok(cg)
    }

    fn apply(&self, limits: &CgroupLimits) -> Result<()> {
        match self.version {
            CgroupVersion::V2 => {
                let dir = &self.dirs[0];
                if let Some(bytes) = limits.memory_bytes {
                    write(&dir.join("memory.max"), &bytes.to_string())?;
                    // No swap: the memory limit is the whole budget. Absent without swap accounting.
                    let swap = dir.join("memory.swap.max");
                    if swap.exists() {
                        write(&swap, "0")?;
                    }
                }
                if let Some(n) = limits.max_pids {
                    write(&dir.join("pids.max"), &n.to_string())?;
                }
                if let Some(cores) = limits.cpu_cores {
                    let period = 100_000u64;
                    let quota = ((cores * period as f64) as u64).max(1000);
                    write(&dir.join("cpu.max"), &format!("{quota} {period}"))?;
                }
            }
            CgroupVersion::V1 => {
                if let (Some(dir), Some(bytes)) = (&self.memory_dir, limits.memory_bytes) {
                    write(&dir.join("memory.limit_in_bytes"), &bytes.to_string())?;
                    let memsw = dir.join("memory.memsw.limit_in_bytes");
                    if memsw.exists() {
                        write(&memsw, &bytes.to_string())?;
                    }
                    // The default is swappiness inherited from the parent; 0 keeps the sandbox in RAM.
                    let _ = fs::write(dir.join("memory.swappiness"), "0");
                }
                if let (Some(dir), Some(n)) = (&self.pids_dir, limits.max_pids) {
                    write(&dir.join("pids.max"), &n.to_string())?;
                }
                if let Some(cores) = limits.cpu_cores
                    && let Some(dir) = self
                        .dirs
                        .iter()
                        .find(|d| d.join("cpu.cfs_quota_us").exists())
                {
                    let period = 100_000u64;
                    write(&dir.join("cpu.cfs_period_us"), &period.to_string())?;
                    let quota = ((cores * period as f64) as u64).max(1000);
                    write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
                }
            }
        }
        Ok(())
    }

    /// The files a process writes "0" to in order to move *itself* into this cgroup (v1
    /// `tasks`), or `None` on v2. On v1, moving another process (`cgroup.procs`) takes the
    /// global threadgroup lock for writing and waits for an RCU grace period (about 10 ms
    /// unless attaches come back to back); a task moving itself skips that lock.
    pub fn self_attach_files(&self) -> Option<Vec<PathBuf>> {
        (self.version == CgroupVersion::V1)
            .then(|| self.dirs.iter().map(|d| d.join("tasks")).collect())
    }

    /// Moves `pid` into every hierarchy of this cgroup.
    pub fn attach(&self, pid: libc::pid_t) -> Result<()> {
        for dir in &self.dirs {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    pub fn stats(&self) -> CgroupStats {
        let mut stats = CgroupStats::default();
        if let Some(dir) = &self.memory_dir {
            match self.version {
                CgroupVersion::V2 => {
                    stats.oom_kills = read_key(&dir.join("memory.events"), "oom_kill ");
                    stats.peak_memory_bytes = read_u64(&dir.join("memory.peak"));
                }
                CgroupVersion::V1 => {
                    stats.oom_kills = read_key(&dir.join("memory.oom_control"), "oom_kill ");
                    stats.peak_memory_bytes = read_u64(&dir.join("memory.max_usage_in_bytes"));
                }
            }
        }
        if let Some(dir) = &self.pids_dir {
            stats.pids_max_hits = read_key(&dir.join("pids.events"), "max ");
        }
        stats
    }

    /// Kills every process still in the cgroup (`cgroup.kill` on v2; on v1 the pid namespace's
    /// death already took them, so this signals whatever `cgroup.procs` still lists).
    pub fn kill_all(&self) {
        if self.version == CgroupVersion::V2 {
            let _ = fs::write(self.dirs[0].join("cgroup.kill"), "1");
            return;
        }
        let Some(first) = self.freezer_dir.as_ref().or(self.dirs.first()) else {
            return;
        };
        if fs::read_to_string(first.join("cgroup.procs"))
            .unwrap_or_default()
            .trim()
            .is_empty()
        {
            return; // the usual case: everything died with the pid namespace
        }
        // v1: freeze first, so nothing can fork while we kill, then kill, then thaw so the
        // frozen tasks can act on SIGKILL.
        if let Some(freezer) = &self.freezer_dir {
            let state = freezer.join("freezer.state");
            if fs::write(&state, "FROZEN").is_ok() {
                let deadline = Instant::now() + Duration::from_millis(200);
                while fs::read_to_string(&state).is_ok_and(|s| s.trim() != "FROZEN")
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            Self::kill_dir(freezer);
            let _ = fs::write(&state, "THAWED");
        }
        for dir in &self.dirs {
            Self::kill_dir(dir);
        }
    }

    /// Removes the directories, waiting briefly for exiting tasks to leave (rmdir is EBUSY until
    /// then). Returns the directories that could not be removed.
    pub fn remove(&mut self) -> Vec<PathBuf> {
        self.removed = true;
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut left = Vec::new();
        for dir in self.dirs.drain(..) {
            loop {
                match fs::remove_dir(&dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::NotFound => break,
                    Err(_) if Instant::now() < deadline => {
                        Self::kill_dir(&dir);
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    Err(_) => {
                        left.push(dir);
                        break;
                    }
                }
            }
        }
        left
    }

    fn kill_dir(dir: &Path) {
        let _ = fs::write(dir.join("cgroup.kill"), "1");
        for pid in fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
        {
            if let Ok(pid) = pid.trim().parse::<libc::pid_t>() {
                // SAFETY: sending a signal has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if !self.removed {
            self.kill_all();
            self.remove();
        }
    }
}
