//! Teardown kills everything in a sandbox's cgroup, even processes that are not in its pid
//! namespace (v2: cgroup.kill; v1: freeze, kill, thaw), and the directories go away.

use sandbox_native::{Cgroup, CgroupLimits, CgroupSupport};
use std::process::Command;
use std::time::Duration;

#[test]
fn kill_all_empties_the_cgroup_and_remove_leaves_nothing() {
    let support = CgroupSupport::detect();
    if support.version().is_none() {
        eprintln!("SKIPPED: no writable cgroup hierarchy here");
        return;
    }
    let limits = CgroupLimits {
        memory_bytes: Some(64 << 20),
        max_pids: Some(64),
        cpu_cores: None,
    };
    let mut cg = Cgroup::create(&support, &limits).unwrap();
    // A small process tree (a shell that keeps forking sleeps), moved into the cgroup.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("while :; do sleep 0.01 & sleep 0.02; done")
        .spawn()
        .unwrap();
    cg.attach(child.id() as i32).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    cg.kill_all();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the shell survived teardown");
    assert!(
        cg.remove().is_empty(),
        "cgroup directories could not be removed"
    );
}
