//! Leak checks, in a test binary of their own so that no other test's runs are in flight.

use sandbox::{ExitReason, Policy, Sandbox, Workload};
use std::collections::BTreeSet;

fn our_cgroups() -> BTreeSet<String> {
    let prefix = format!("run-{}-", std::process::id());
    let mut found = BTreeSet::new();
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
                found.insert(format!("{root}/{name}"));
            }
        }
    }
    found
}

/// Processes whose parent is this test process.
fn our_children() -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            stat.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                == Some(me.as_str())
        })
        .collect()
}

fn count(path: &str) -> usize {
    std::fs::read_dir(path).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_thousand_sequential_native_runs_leave_nothing_behind() {
    let mounts_before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let backend = sandbox::NativeBackend::new();
    let policy = Policy::builder()
        .memory(Some(64 << 20))
        .max_pids(Some(16))
        .build()
        .unwrap();
    let prepared = backend.prepare(&Workload::named("noop"), &policy).unwrap();
    prepared.run().unwrap();
    let fds_before = count("/proc/self/fd");
    for _ in 0..1000 {
        assert_eq!(prepared.run().unwrap().exit, ExitReason::Exited(0));
    }
    // A run that times out and one killed by the memory limit clean up as well.
    let spin = backend
        .prepare(
            &Workload::named("spin"),
            &Policy::builder()
                .timeout(Some(std::time::Duration::from_millis(200)))
                .build()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(spin.run().unwrap().exit, ExitReason::Timeout);
    let oom = backend
        .prepare(
            &Workload::named("alloc"),
            &Policy::builder()
                .memory(Some(32 << 20))
                .args(["256"])
                .build()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(oom.run().unwrap().exit, ExitReason::OutOfMemory);

    assert_eq!(
        our_cgroups(),
        BTreeSet::new(),
        "cgroup directories left behind"
    );
    assert_eq!(
        our_children(),
        Vec::<String>::new(),
        "processes left behind"
    );
    assert_eq!(
        std::fs::read_to_string("/proc/self/mountinfo").unwrap(),
        mounts_before,
        "mounts changed"
    );
    assert_eq!(
        count("/proc/self/fd"),
        fds_before,
        "file descriptors leaked"
    );
}
