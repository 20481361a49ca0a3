//! Faults: a daemon that double-forks still dies at the deadline; a supervisor killed with
//! SIGKILL takes its sandbox down within a second, and the next start sweeps its cgroup.

mod common;

use sandbox::{ExitReason, Policy, Sandbox, Workload};
use std::path::Path;
use std::time::{Duration, Instant};

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// True when the heartbeat file stops growing: sampled twice, 300 ms apart.
fn heartbeat_stopped(path: &Path) -> bool {
    let a = size(path);
    std::thread::sleep(Duration::from_millis(300));
    size(path) == a
}

#[test]
fn a_daemonized_grandchild_dies_at_the_deadline() {
    let dir = common::shared_dir();
    let policy = Policy::builder()
        .read_write(dir.path(), "/data")
        .timeout(Some(Duration::from_millis(500)))
        .args(["/data/heartbeat"])
        .build()
        .unwrap();
    let o = sandbox::NativeBackend::new()
        .prepare(&Workload::named("daemonize"), &policy)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(o.exit, ExitReason::Timeout);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "daemon started\n");
    let hb = dir.path().join("heartbeat");
    assert!(size(&hb) > 0, "the daemon never ran");
    assert!(heartbeat_stopped(&hb), "the daemon outlived its sandbox");
}

#[test]
fn a_sigkilled_supervisor_takes_its_sandbox_and_cgroups_down_within_a_second() {
    let dir = common::shared_dir();
    let hb = dir.path().join("heartbeat");
    let grant = format!("{}:/data", dir.path().display());
    let mut supervisor = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .args([
            "run",
            "--timeout",
            "60s",
            "--rw",
            &grant,
            "--workload",
            "daemonize",
            "--",
            "/data/heartbeat",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while size(&hb) < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = supervisor.id();
    supervisor.kill().unwrap(); // SIGKILL: no cleanup code of ours runs
    supervisor.wait().unwrap();
    let killed = Instant::now();
    // PR_SET_PDEATHSIG kills pid 1, and with it the whole pid namespace.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        heartbeat_stopped(&hb),
        "the sandbox outlived its supervisor"
    );
    assert!(killed.elapsed() < Duration::from_millis(1500));

    let stale = |pid: u32| {
        ["memory", "pids", "cpu", "freezer"]
            .iter()
            .map(|c| format!("/sys/fs/cgroup/{c}/sandbox"))
            .chain(["/sys/fs/cgroup/sandbox".to_string()])
            .flat_map(|root| std::fs::read_dir(root).into_iter().flatten().flatten())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("run-{pid}-"))
            })
            .count()
    };
    // Its cgroups are removed by its janitor within a second, with no further start.
    while stale(pid) > 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(1),
            "the dead supervisor's cgroups are still there after 1 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let next = sandbox::NativeBackend::new()
        .prepare(&Workload::named("noop"), &Policy::default())
        .unwrap();
    assert_eq!(
        next.run().unwrap().exit,
        ExitReason::Exited(0),
        "the next run does not work"
    );
}

#[test]
fn a_1_gib_stdout_flood_is_capped_counted_and_costs_the_host_no_memory() {
    let policy = Policy::builder()
        .stdout_cap(1 << 20)
        .args(["1024"])
        .build()
        .unwrap();
    for backend in [
        Box::new(sandbox::NativeBackend::new()) as Box<dyn Sandbox>,
        Box::new(sandbox::WasmBackend::new().unwrap()),
    ] {
        let prepared = backend.prepare(&Workload::named("flood"), &policy).unwrap();
        let rss_before = sandbox::soak::rss_bytes();
        let o = prepared.run().unwrap();
        let growth = sandbox::soak::rss_bytes().saturating_sub(rss_before);
        assert_eq!(o.exit, ExitReason::Exited(0), "{}", backend.name());
        assert_eq!(o.stdout.len(), 1 << 20, "{}", backend.name());
        assert_eq!(
            o.stdout_dropped,
            (1024 << 20) - (1 << 20),
            "{}",
            backend.name()
        );
        assert!(
            growth < 10 << 20,
            "{}: the host grew by {growth} bytes",
            backend.name()
        );
    }
}

#[test]
fn fd_exhaustion_is_contained_by_the_sandbox_not_paid_by_the_host() {
    let dir = common::shared_dir();
    common::write_file(dir.path(), "f", b"x");
    let policy = Policy::builder()
        .read_only(dir.path(), "/d")
        .args(["/d/f"])
        .build()
        .unwrap();
    // Native: RLIMIT_NOFILE (1024) refuses the guest's opens; it sees EMFILE and goes on.
    let o = sandbox::NativeBackend::new()
        .prepare(&Workload::named("fds"), &policy)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(o.exit, ExitReason::Exited(0));
    let line = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let opened: usize = line
        .strip_prefix("opened ")
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(opened <= 1024 && line.contains("os error 24"), "{line}");
    // Wasm: every guest handle would be a host descriptor of this process. The WASI handle
    // table's cap stops the guest long before the host's own limit.
    for backend in [
        sandbox::WasmBackend::new().unwrap(),
        sandbox::WasmBackend::components().unwrap(),
    ] {
        let o = backend
            .prepare(&Workload::named("fds"), &policy)
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(
            o.exit,
            ExitReason::Trap("WASI handle limit reached (max_handles)".into()),
            "{}",
            backend.name()
        );
    }
    // And this process can still open files.
    let held: Vec<_> = (0..64)
        .map(|_| std::fs::File::open(dir.path().join("f")).unwrap())
        .collect();
    assert_eq!(held.len(), 64);
}

#[test]
fn a_wasm_guest_asleep_in_a_host_call_still_stops_at_the_deadline() {
    // Epoch interruption cannot reach a guest blocked inside WASI; the clamped clock waits
    // must. The guest asks for 30 s under a 1 s limit, as a module and as a component, and
    // a short sleep inside the limit still completes normally.
    let long = Policy::builder()
        .args(["30000"])
        .timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let short = Policy::builder().args(["50"]).build().unwrap();
    for backend in [
        sandbox::WasmBackend::new().unwrap(),
        sandbox::WasmBackend::components().unwrap(),
    ] {
        let prepared = backend.prepare(&Workload::named("sleep"), &long).unwrap();
        let t = Instant::now();
        let o = prepared.run().unwrap();
        let took = t.elapsed();
        assert_eq!(o.exit, ExitReason::Timeout, "{}", backend.name());
        assert!(
            took < Duration::from_millis(1500),
            "{}: {took:?}",
            backend.name()
        );
        let o = backend
            .prepare(&Workload::named("sleep"), &short)
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(o.exit, ExitReason::Exited(0), "{}", backend.name());
        assert!(o.wall_micros >= 50_000, "{}", backend.name());
    }

    // A component under the loopback network connects to a host listener that never writes
    // and reads with no timeout of its own: the socket wait stops at the deadline too.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let silent = Policy::builder()
        .args(["tcp-wait", addr.as_str()])
        .network(sandbox::Network::Loopback)
        .timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let prepared = sandbox::WasmBackend::components()
        .unwrap()
        .prepare(&Workload::named("probe"), &silent)
        .unwrap();
    let t = Instant::now();
    let o = prepared.run().unwrap();
    let took = t.elapsed();
    assert_eq!(
        o.exit,
        ExitReason::Timeout,
        "{:?}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let (_peer, _) = listener.accept().expect("the guest never connected");
}

#[test]
fn stdin_the_guest_never_reads_or_reads_to_the_end_does_not_hang_the_host() {
    // 32 MiB of input, far more than a pipe holds: a guest that never reads it must still
    // stop at its deadline (the host does not block writing stdin), and one that reads it
    // all sees EOF and ends on its own.
    let input = vec![b'i'; 32 << 20];
    let ignoring = Policy::builder()
        .args(["30000"])
        .stdin(input.clone())
        .timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let reading = Policy::builder()
        .args(["/dev/stdin"])
        .stdin(input)
        .stdout_cap(1024)
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        let t = Instant::now();
        let o = backend
            .prepare(&Workload::named("sleep"), &ignoring)
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(o.exit, ExitReason::Timeout, "{}", backend.name());
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{}",
            backend.name()
        );
        if backend.name() == "native" {
            // `cat /dev/stdin` (the wasm builds have no /dev; their stdin is tested in
            // tests/foundation.rs through `hello`).
            let o = backend
                .prepare(&Workload::named("cat"), &reading)
                .unwrap()
                .run()
                .unwrap();
            assert_eq!(o.exit, ExitReason::Exited(0));
            assert_eq!(o.stdout.len() as u64 + o.stdout_dropped, 32 << 20);
        }
    }
}

#[test]
fn user_namespaces_disabled_is_refused_with_the_fix() {
    // user.max_user_namespaces=0 inside a throwaway user namespace (never on the host).
    let exe = env!("CARGO_BIN_EXE_sandbox");
    let out = std::process::Command::new("unshare")
        .args(["-Ur", "sh", "-c"])
        .arg(format!(
            "echo 0 > /proc/sys/user/max_user_namespaces && exec {exe} run --workload noop"
        ))
        .output()
        .expect("unshare");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("max_user_namespaces"), "{stderr}");
}

#[test]
fn the_embedding_process_survives_every_guest_fault() {
    // One process embeds every backend and lives through a segfault, an out-of-memory, a
    // trap and a seccomp kill, each reported as what it was; then runs normally again.
    let crash = Policy::builder().args(["segv"]).build().unwrap();
    let oom = Policy::builder()
        .args(["alloc"])
        .memory(Some(64 << 20))
        .build()
        .unwrap();
    let sigsys = Policy::builder()
        .args(["mount", "x", "/tmp"])
        .seccomp(sandbox::SeccompAction::Kill)
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        let run = |policy: &Policy| {
            backend
                .prepare(&Workload::named("probe"), policy)
                .unwrap()
                .run()
                .unwrap()
                .exit
        };
        let native = backend.name() == "native";
        let crashed = run(&crash);
        if native {
            assert_eq!(crashed, ExitReason::Signaled(libc::SIGSEGV));
            assert_eq!(run(&sigsys), ExitReason::SeccompViolation);
        } else {
            assert_eq!(crashed, ExitReason::Trap("memory out of bounds".into()));
        }
        assert_eq!(run(&oom), ExitReason::OutOfMemory, "{}", backend.name());
        let o = backend
            .prepare(&Workload::named("hello"), &Policy::default())
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(o.exit, ExitReason::Exited(0), "{}", backend.name());
    }
}
