//! Leak checks, in a test binary of their own so that no other test's runs are in flight.

use sandbox::soak::Leftovers;
use sandbox::{ExitReason, Policy, Sandbox, Workload};

#[test]
fn a_thousand_sequential_native_runs_leave_nothing_behind() {
    let backend = sandbox::NativeBackend::new();
    let policy = Policy::builder()
        .memory(Some(64 << 20))
        .max_pids(Some(16))
        .build()
        .unwrap();
    let prepared = backend.prepare(&Workload::named("noop"), &policy).unwrap();
    prepared.run().unwrap();
    let before = Leftovers::now();
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
        Leftovers::now(),
        before,
        "processes, cgroup directories, mounts, fds or temp dirs left behind"
    );
}
