//! Leak checks in a test binary of their own, so no other test's runs are in flight.

use sandbox::{ExitReason, Policy, Sandbox, Workload};

#[test]
fn native_runs_leave_no_cgroup_directories_behind() {
    let backend = sandbox::NativeBackend::new();
    let prepared = backend
        .prepare(&Workload::named("noop"), &Policy::default())
        .unwrap();
    for _ in 0..20 {
        assert_eq!(prepared.run().unwrap().exit, ExitReason::Exited(0));
    }
    let prefix = format!("run-{}-", std::process::id());
    for root in [
        "/sys/fs/cgroup/memory/sandbox",
        "/sys/fs/cgroup/pids/sandbox",
        "/sys/fs/cgroup/sandbox",
    ] {
        if let Ok(entries) = std::fs::read_dir(root) {
            let ours: Vec<_> = entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .collect();
            assert!(ours.is_empty(), "leftover cgroups under {root}: {ours:?}");
        }
    }
}
