//! `sandbox soak`: many runs, sequential or concurrent, then a count of everything a run
//! could leave behind. The same counters back the leak tests.

use crate::backend::{Sandbox, Workload};
use crate::error::Result;
use crate::policy::Policy;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// What this process could leave behind, counted from the outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leftovers {
    /// Processes whose parent is this process.
    pub child_processes: usize,
    /// Native sandbox cgroup directories created by this process.
    pub cgroup_dirs: BTreeSet<String>,
    /// Lines of this process's mountinfo.
    pub mounts: usize,
    /// Open file descriptors of this process.
    pub open_fds: usize,
    /// Scratch directories of this process under the temp dir.
    pub temp_dirs: usize,
}

impl Leftovers {
    pub fn now() -> Leftovers {
        let me = std::process::id();
        let prefix = format!("run-{me}-");
        let mut cgroup_dirs = BTreeSet::new();
        for root in [
            "/sys/fs/cgroup/memory/sandbox",
            "/sys/fs/cgroup/pids/sandbox",
            "/sys/fs/cgroup/cpu/sandbox",
            "/sys/fs/cgroup/freezer/sandbox",
            "/sys/fs/cgroup/sandbox",
        ] {
            for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&prefix) {
                    cgroup_dirs.insert(format!("{root}/{name}"));
                }
            }
        }
        let me_s = me.to_string();
        let child_processes = std::fs::read_dir("/proc")
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
                    .filter(|s| {
                        s.rsplit(')')
                            .next()
                            .and_then(|r| r.split_whitespace().nth(1))
                            == Some(me_s.as_str())
                    })
                    .count()
            })
            .unwrap_or(0);
        let temp_dirs = std::fs::read_dir(std::env::temp_dir())
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        n.starts_with("sandbox-") && n.contains(&format!("-{me}-"))
                    })
                    .count()
            })
            .unwrap_or(0);
        Leftovers {
            child_processes,
            cgroup_dirs,
            mounts: std::fs::read_to_string("/proc/self/mountinfo")
                .map_or(0, |m| m.lines().count()),
            open_fds: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()),
            temp_dirs,
        }
    }
}

/// This process's resident set size in bytes.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub backend: String,
    pub runs: u64,
    pub workers: usize,
    pub failures: u64,
    pub seconds: f64,
    pub before: Leftovers,
    pub after: Leftovers,
    /// RSS once the first 100 runs (or all, if fewer) are done, and at the end.
    pub rss_settled_bytes: u64,
    pub rss_end_bytes: u64,
}

impl SoakReport {
    /// Everything returned to where it was, and RSS stayed within `rss_slack` of its settled value.
    pub fn clean(&self, rss_slack: u64) -> bool {
        self.after == self.before
            && self.failures == 0
            && self.rss_end_bytes <= self.rss_settled_bytes + rss_slack
    }
}

/// Runs `workload` `runs` times over `workers` threads under `backend`, checking each outcome
/// with `expect`, and counts leftovers before and after.
pub fn soak(
    backend: &dyn Sandbox,
    workload: &Workload,
    policy: &Policy,
    runs: u64,
    workers: usize,
    expect: &(dyn Fn(&crate::Outcome) -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SoakReport> {
    let prepared = backend.prepare(workload, policy)?;
    // One run first, so lazily created state (cgroup parents, caches) is not counted.
    prepared.run()?;
    let before = Leftovers::now();
    let started = std::time::Instant::now();
    let (done, failures) = (AtomicU64::new(0), AtomicU64::new(0));
    let settle_at = runs.min(100);
    let settled = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let n = done.fetch_add(1, Ordering::Relaxed);
                    if n >= runs {
                        break;
                    }
                    if !prepared.run().is_ok_and(|o| expect(&o)) {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    if n + 1 == settle_at {
                        settled.store(rss_bytes(), Ordering::Relaxed);
                    }
                    if (n + 1) % 100 == 0 {
                        progress(n + 1);
                    }
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    // Counted while `prepared` still lives, as `before` was.
    let after = Leftovers::now();
    Ok(SoakReport {
        backend: backend.name().to_string(),
        runs,
        workers: workers.max(1),
        failures: failures.load(Ordering::Relaxed),
        seconds,
        before,
        after,
        rss_settled_bytes: settled.load(Ordering::Relaxed).max(1),
        rss_end_bytes: rss_bytes(),
    })
}
