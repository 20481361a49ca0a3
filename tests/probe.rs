//! The isolation scorecard (issue "Isolation scorecard"): every probe under every backend
//! through the CLI, judged by host-side facts. Under the default policy nothing escapes; under
//! `permissive` the documented probes must escape, which shows that they are not no-ops.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;

/// The suites run one at a time: each plants host fixtures and counts host-wide facts
/// (kernel keys, processes by name) that a concurrent suite would disturb.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn suite(policy: &str) -> (i32, Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let run = common::cli(&[
        "probe",
        "--backend",
        "all",
        "--policy",
        policy,
        "--json",
        json.to_str().unwrap(),
    ]);
    let results: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    (run.code, results, run.stdout)
}

fn verdict<'a>(results: &'a [Value], probe: &str, backend: &str) -> &'a str {
    results
        .iter()
        .find(|r| r["probe"] == probe && r["backend"] == backend)
        .and_then(|r| r["verdict"].as_str())
        .unwrap_or_else(|| panic!("no result for {probe} under {backend}"))
}

/// No fixture outlives the suite: temp dirs, the planted cgroup, the decoy.
fn assert_no_fixtures_left() {
    let tmp: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sandbox-probe-"))
        .collect();
    assert!(tmp.is_empty(), "fixture dirs left: {tmp:?}");
    for root in ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"] {
        if let Ok(dir) = std::fs::read_dir(root) {
            let left: Vec<_> = dir
                .filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("sandbox-probe-")
                })
                .collect();
            assert!(left.is_empty(), "fixture cgroups left in {root}");
        }
    }
}

#[test]
fn under_the_default_policy_nothing_escapes_and_every_group_is_covered() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (code, results, stdout) = suite("default");
    let mut per_backend: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_group: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for r in &results {
        *per_backend
            .entry(r["backend"].as_str().unwrap().into())
            .or_default() += 1;
        per_group
            .entry(r["group"].as_str().unwrap().into())
            .or_default()
            .insert(r["probe"].as_str().unwrap().into());
        let v = r["verdict"].as_str().unwrap();
        assert_ne!(v, "error", "{r}");
        if r["scored"] == true {
            assert_ne!(v, "escaped", "{r}");
        }
        if v == "blocked" || v == "contained" {
            assert!(r["layer"].is_string(), "a block names its layer: {r}");
        }
    }
    assert_eq!(code, 0, "{stdout}");
    assert!(per_backend.len() >= 2);
    for (backend, n) in &per_backend {
        assert!(*n >= 50, "{backend}: {n} probes");
    }
    assert_eq!(per_group.len(), 6, "{:?}", per_group.keys());
    for (group, probes) in &per_group {
        assert!(probes.len() >= 4, "{group}: {probes:?}");
    }
    // The capability model's claim, scored: WASI cannot even express these.
    for probe in ["proc.ptrace-harness", "kern.bpf", "net.packet-socket"] {
        assert_eq!(verdict(&results, probe, "wasm"), "unrepresentable");
    }
    // And the native model's, by the layer the host saw stop it.
    assert_eq!(verdict(&results, "res.memory-bomb", "native"), "contained");
    assert_eq!(
        verdict(&results, "res.sleep-past-deadline", "component"),
        "contained"
    );
    assert_no_fixtures_left();
}

#[test]
fn under_the_permissive_policy_the_documented_probes_escape() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (code, results, stdout) = suite("permissive");
    // Host root read-only at /host, host network, no seccomp: the probes must notice.
    let documented = [
        ("fs.read-secret", "native"),
        ("fs.read-secret", "wasm"),
        ("fs.read-secret", "component"),
        ("proc.list-host-processes", "native"),
        ("proc.list-host-processes", "wasm"),
        ("proc.exec-host-binary", "native"),
        ("net.tcp-host-loopback", "native"),
        ("net.tcp-host-loopback", "component"),
        ("net.udp-host-loopback", "native"),
        ("net.listen-reachable", "component"),
        ("net.abstract-unix-socket", "native"),
        ("kern.unshare", "native"),
        ("kern.userfaultfd", "native"),
        ("info.hostname", "native"),
    ];
    for (probe, backend) in documented {
        assert_eq!(
            verdict(&results, probe, backend),
            "escaped",
            "{probe} under {backend}"
        );
    }
    // Even so, what the suite keeps private stays private (user, mount, pid, ipc namespaces).
    for probe in [
        "proc.setuid-host-root",
        "ipc.sysv-shm",
        "proc.signal-harness",
    ] {
        assert_eq!(verdict(&results, probe, "native"), "blocked", "{probe}");
    }
    assert!(results.iter().all(|r| r["verdict"] != "error"), "{stdout}");
    assert_eq!(code, 0, "escapes under permissive do not fail the command");
    assert_no_fixtures_left();
}
