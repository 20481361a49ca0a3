//! The foundation's acceptance tests: same workloads, same results on every backend; the
//! native run is really in new namespaces; the wasm run sees only its grants; bad input is
//! refused with exit 125 and one line.

mod common;

use common::*;
use sandbox::{ExitReason, Outcome, Policy, Sandbox, Workload};
use std::path::Path;
use std::time::{Duration, Instant};

fn run(backend: &dyn Sandbox, name: &str, policy: &Policy) -> Outcome {
    let prepared = backend
        .prepare(&Workload::named(name), policy)
        .unwrap_or_else(|e| panic!("{} prepare {name}: {e}", backend.name()));
    prepared
        .run()
        .unwrap_or_else(|e| panic!("{} run {name}: {e}", backend.name()))
}

#[test]
fn every_workload_gives_the_same_exit_and_stdout_on_every_backend() {
    let backends = sandbox::all_backends().unwrap();
    assert_eq!(
        backends.iter().map(|b| b.name()).collect::<Vec<_>>(),
        ["native", "wasm", "component"]
    );
    let scratch = shared_dir();
    let cases: &[(&str, &[&str], &str)] = &[
        ("noop", &[], ""),
        ("hello", &["a", "b c"], "some input\n"),
        ("compute", &["2"], ""),
        ("fileio", &["/data", "8"], ""),
        ("alloc", &["20"], ""),
        ("sleep", &["5"], ""),
        ("exit", &["7"], ""),
        ("ls", &["/data"], ""),
    ];
    for (name, args, stdin) in cases {
        let policy = Policy::builder()
            .read_write(scratch.path(), "/data")
            .args(args.iter().copied())
            .stdin(stdin.as_bytes())
            .build()
            .unwrap();
        let outcomes: Vec<Outcome> = backends
            .iter()
            .map(|b| run(b.as_ref(), name, &policy))
            .collect();
        let native = &outcomes[0];
        if *name == "exit" {
            assert_eq!(native.exit, ExitReason::Exited(7));
        } else {
            assert_eq!(
                native.exit,
                ExitReason::Exited(0),
                "{name}: stderr {}",
                String::from_utf8_lossy(&native.stderr)
            );
        }
        for o in &outcomes[1..] {
            assert_eq!(
                o.exit,
                component_view(o, &native.exit),
                "{name} under {}",
                o.backend
            );
            assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&native.stdout),
                "{name}: {} and native printed different things",
                o.backend
            );
        }
    }
}

/// WASI 0.2's stable `wasi:cli/exit` carries only success or failure: a component's
/// non-zero exit code arrives as 1.
fn component_view(o: &Outcome, native: &ExitReason) -> ExitReason {
    match (o.backend.as_str(), native) {
        ("component", ExitReason::Exited(c)) if *c != 0 => ExitReason::Exited(1),
        _ => native.clone(),
    }
}

#[test]
fn hello_echoes_args_and_stdin() {
    let policy = Policy::builder()
        .args(["x", "y"])
        .stdin(&b"line\n"[..])
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        let o = run(backend.as_ref(), "hello", &policy);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "hello x y\nline\n",
            "{}",
            backend.name()
        );
    }
}

fn native_cat(path: &str, policy: Policy) -> Outcome {
    let policy = Policy {
        args: vec![path.into()],
        ..policy
    };
    run(&sandbox::NativeBackend::new(), "cat", &policy)
}

#[test]
fn native_run_is_in_new_namespaces() {
    // pid namespace: only the sandbox's own few processes are visible.
    let o = run(
        &sandbox::NativeBackend::new(),
        "ls",
        &Policy::builder().args(["/proc"]).build().unwrap(),
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let pids: Vec<u32> = stdout.lines().filter_map(|l| l.parse().ok()).collect();
    assert!(pids.contains(&1), "no pid 1 in {pids:?}");
    assert!(
        pids.iter().all(|&p| p < 10),
        "host processes visible: {pids:?}"
    );
    assert!(
        !pids.contains(&std::process::id()),
        "the test's own pid is visible"
    );

    // uts namespace: the policy's hostname, not the host's.
    let o = native_cat("/proc/sys/kernel/hostname", Policy::default());
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "sandbox");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_ne!(host.trim(), "sandbox");

    // net namespace: no interface but lo, and lo is down.
    let o = native_cat("/proc/net/dev", Policy::default());
    let dev = String::from_utf8_lossy(&o.stdout);
    let ifaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"], "{dev}");

    // no capabilities, no_new_privs, a seccomp filter.
    let o = native_cat("/proc/self/status", Policy::default());
    let status = String::from_utf8_lossy(&o.stdout);
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .map(|l| l[k.len()..].trim().to_string())
    };
    assert_eq!(field("CapEff:").as_deref(), Some("0000000000000000"));
    assert_eq!(field("CapBnd:").as_deref(), Some("0000000000000000"));
    assert_eq!(field("NoNewPrivs:").as_deref(), Some("1"));
    assert_eq!(field("Seccomp:").as_deref(), Some("2"));
}

#[test]
fn ungranted_host_files_are_unreachable() {
    let secret_dir = shared_dir();
    let secret = write_file(secret_dir.path(), "secret.txt", b"TOP-SECRET-CANARY");
    let granted = shared_dir();
    let policy = Policy::builder()
        .read_only(granted.path(), "/data")
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        for path in [
            secret.to_str().unwrap(),
            "/data/../secret.txt",
            "/etc/passwd",
        ] {
            let p = Policy {
                args: vec![path.into()],
                ..policy.clone()
            };
            let o = run(backend.as_ref(), "cat", &p);
            assert_eq!(
                o.exit,
                ExitReason::Exited(1),
                "{} read {path}",
                backend.name()
            );
            assert!(!String::from_utf8_lossy(&o.stdout).contains("CANARY"));
            assert!(
                o.stdout.is_empty(),
                "{} printed {:?} for {path}",
                backend.name(),
                o.stdout
            );
        }
    }
}

#[test]
fn preopen_escapes_fail_and_read_only_grants_refuse_writes() {
    let outside = shared_dir();
    write_file(outside.path(), "secret.txt", b"CANARY");
    let granted = shared_dir();
    write_file(granted.path(), "inside.txt", b"visible");
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        granted.path().join("link"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../../../../../../..", granted.path().join("up")).unwrap();
    let policy = Policy::builder()
        .read_only(granted.path(), "/data")
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        let cat = |path: &str| {
            run(
                backend.as_ref(),
                "cat",
                &Policy {
                    args: vec![path.into()],
                    ..policy.clone()
                },
            )
        };
        assert_eq!(
            String::from_utf8_lossy(&cat("/data/inside.txt").stdout),
            "visible",
            "{}",
            backend.name()
        );
        for escape in [
            "/data/link",
            "/data/../../etc/passwd",
            "/data/up/etc/passwd",
            outside.path().join("secret.txt").to_str().unwrap(),
        ] {
            let o = cat(escape);
            assert_ne!(
                o.exit,
                ExitReason::Exited(0),
                "{} escaped via {escape}",
                backend.name()
            );
            assert!(!String::from_utf8_lossy(&o.stdout).contains("CANARY"));
        }
        let o = run(
            backend.as_ref(),
            "write",
            &Policy {
                args: vec!["/data/new.txt".into(), "x".into()],
                ..policy.clone()
            },
        );
        assert_eq!(
            o.exit,
            ExitReason::Exited(1),
            "{} wrote into a read-only grant",
            backend.name()
        );
        assert!(!granted.path().join("new.txt").exists());
    }
    // The same grant read-write does accept the write (so the refusal above was the mode).
    let rw = Policy::builder()
        .read_write(granted.path(), "/data")
        .args(["/data/new.txt", "x"])
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        let o = run(backend.as_ref(), "write", &rw);
        assert_eq!(
            o.exit,
            ExitReason::Exited(0),
            "{}: {}",
            backend.name(),
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::remove_file(granted.path().join("new.txt")).unwrap();
    }
}

#[test]
fn memory_limit_ends_as_out_of_memory_on_both_backends() {
    let policy = Policy::builder()
        .memory(Some(64 << 20))
        .args(["512"])
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        let o = run(backend.as_ref(), "alloc", &policy);
        assert_eq!(
            o.exit,
            ExitReason::OutOfMemory,
            "{}: {}",
            backend.name(),
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(!String::from_utf8_lossy(&o.stdout).contains("alloc done"));
    }
}

#[test]
fn spin_under_a_one_second_timeout_ends_as_timeout_within_one_and_a_half() {
    let policy = Policy::builder()
        .timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    for backend in sandbox::all_backends().unwrap() {
        let prepared = backend.prepare(&Workload::named("spin"), &policy).unwrap();
        let t = Instant::now();
        let o = prepared.run().unwrap();
        let took = t.elapsed();
        assert_eq!(o.exit, ExitReason::Timeout, "{}", backend.name());
        assert!(
            took >= Duration::from_secs(1),
            "{} stopped early: {took:?}",
            backend.name()
        );
        assert!(
            took < Duration::from_millis(1500),
            "{} took {took:?}",
            backend.name()
        );
    }
}

#[test]
fn cli_runs_a_workload_and_reports_json() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("out.json");
    for backend in ["native", "wasm", "component"] {
        let r = cli(&[
            "run",
            "--backend",
            backend,
            "--report",
            report.to_str().unwrap(),
            "--workload",
            "exit",
            "--",
            "3",
        ]);
        let code = if backend == "component" { 1 } else { 3 };
        assert_eq!(r.code, code, "{backend}: {}", r.stderr);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(json["backend"], backend);
        assert_eq!(json["exit"]["kind"], "exited");
        assert_eq!(json["exit"]["code"], code);
        let phases = json["phases"].as_array().unwrap();
        assert!(phases.len() >= 4, "{backend}: {phases:?}");
        assert!(
            phases
                .iter()
                .all(|p| p["name"].is_string() && p["micros"].is_u64())
        );
        assert!(phases.iter().any(|p| p["name"] == "run"));
        for key in ["user_micros", "sys_micros", "peak_memory_bytes"] {
            assert!(json["usage"][key].is_u64(), "{backend}: usage.{key}");
        }
        assert!(json["stdout"].is_string() && json["stderr"].is_string());
    }
    let native_phases = cli(&[
        "run",
        "--report",
        report.to_str().unwrap(),
        "--workload",
        "noop",
    ]);
    assert_eq!(native_phases.code, 0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let names: Vec<&str> = json["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for phase in [
        "clone",
        "id_maps",
        "mounts",
        "pivot_root",
        "seccomp",
        "exec",
        "run",
        "reap",
        "cleanup",
    ] {
        assert!(
            names.contains(&phase),
            "native phases {names:?} lack {phase}"
        );
    }
}

#[test]
fn cli_exit_statuses_for_timeout_and_program_path() {
    let r = cli(&["run", "--timeout", "300ms", "--workload", "spin"]);
    assert_eq!(r.code, 124, "{}", r.stderr);
    let r = cli(&[
        "run",
        "--backend",
        "wasm",
        "--timeout",
        "300ms",
        "--workload",
        "spin",
    ]);
    assert_eq!(r.code, 124, "{}", r.stderr);
    let program =
        sandbox::workloads::artifact("hello", sandbox::workloads::Flavor::Native).unwrap();
    let r = cli(&["run", program.to_str().unwrap(), "--", "from", "path"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "hello from path\n"),
        "{}",
        r.stderr
    );
    let wasm = sandbox::workloads::artifact("hello", sandbox::workloads::Flavor::WasiP1).unwrap();
    let r = cli(&[
        "run",
        "--backend",
        "wasm",
        wasm.to_str().unwrap(),
        "--",
        "from",
        "path",
    ]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "hello from path\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_input_is_refused_with_exit_125_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let missing = d.join("no-such-program");
    let text = write_file(d, "notes.txt", b"just some text, not a program\n");
    std::fs::set_permissions(&text, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let wasm = std::fs::read(
        sandbox::workloads::artifact("noop", sandbox::workloads::Flavor::WasiP1).unwrap(),
    )
    .unwrap();
    let truncated = write_file(d, "truncated.wasm", &wasm[..wasm.len() / 3]);
    let not_wasm = write_file(d, "not.wasm", b"\x7fELF this is not wasm");
    let elf = std::fs::read(
        sandbox::workloads::artifact("noop", sandbox::workloads::Flavor::Native).unwrap(),
    )
    .unwrap();
    let mut arm = elf.clone();
    arm[18] = 183; // EM_AARCH64
    let arm = write_file(d, "arm-elf", &arm);
    std::fs::set_permissions(&arm, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // A truncated ELF keeps a valid header; the kernel would map it and the program would
    // die of SIGSEGV at its first touch of the missing pages.
    let cut = write_file(d, "cut-elf", &elf[..elf.len() / 2]);
    std::fs::set_permissions(&cut, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // A component whose world imports an interface nobody provides.
    let alien = r#"(component
        (import "example:alien/launcher@1.0.0" (instance $l (export "launch" (func))))
        (core module $m (func (export "run") (result i32) i32.const 0))
        (core instance $i (instantiate $m))
        (func $run (result (result)) (canon lift (core func $i "run")))
        (instance $cli (export "run" (func $run)))
        (export "wasi:cli/run@0.2.0" (instance $cli)))"#;
    let alien = write_file(d, "alien.wasm", &wat::parse_str(alien).unwrap());
    let empty = write_file(d, "empty", b"");
    std::fs::set_permissions(&empty, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["run".into(), s(&missing)], "does not exist"),
        (vec!["run".into(), s(&text)], "not an ELF"),
        (vec!["run".into(), s(&arm)], "another machine"),
        (vec!["run".into(), s(&empty)], "not an ELF"),
        (vec!["run".into(), s(&cut)], "truncated ELF"),
        (
            vec![
                "run".into(),
                "--backend".into(),
                "component".into(),
                s(&alien),
            ],
            "example:alien/launcher",
        ),
        (
            vec![
                "run".into(),
                "--backend".into(),
                "wasm".into(),
                s(&truncated),
            ],
            "invalid wasm",
        ),
        (
            vec![
                "run".into(),
                "--backend".into(),
                "wasm".into(),
                s(&not_wasm),
            ],
            "not a WebAssembly binary",
        ),
        (
            vec!["run".into(), "--backend".into(), "wasm".into(), s(&missing)],
            "no such file",
        ),
        (
            vec!["run".into(), "--workload".into(), "no-such-workload".into()],
            "unknown workload",
        ),
        (
            vec![
                "run".into(),
                "--ro".into(),
                "/no/such/dir:/x".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "no such directory",
        ),
        (
            vec![
                "run".into(),
                "--memory".into(),
                "lots".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "--memory",
        ),
        (
            vec![
                "run".into(),
                "--memory".into(),
                "12XB".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "unknown unit",
        ),
        (
            vec![
                "run".into(),
                "--timeout".into(),
                "soon".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "--timeout",
        ),
        (
            vec![
                "run".into(),
                "--timeout".into(),
                "0s".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "above zero",
        ),
        (
            vec![
                "run".into(),
                "--pids".into(),
                "-1".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "--pids",
        ),
        (
            vec![
                "run".into(),
                "--net".into(),
                "internet".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "--net",
        ),
        (
            vec![
                "run".into(),
                "--backend".into(),
                "vm".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "unknown backend",
        ),
        (
            vec![
                "run".into(),
                "--rw".into(),
                "/:/host".into(),
                "--workload".into(),
                "noop".into(),
            ],
            "read-write",
        ),
        (
            vec!["run".into(), "--no-such-flag".into()],
            "unexpected argument",
        ),
        (vec!["run".into()], "PROGRAM or --workload"),
        (vec!["frobnicate".into()], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = cli(&args);
        assert_refused(&r, needle);
    }
}

#[test]
fn wasm_compile_cache_hits_in_a_new_process_and_is_much_faster() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let phases = |run: &CliRun| -> Vec<(String, u64)> {
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        json["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["micros"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let args = [
        "run",
        "--backend",
        "wasm",
        "--report",
        report.to_str().unwrap(),
        "--workload",
        "compute",
        "--",
        "1",
    ];
    let first = phases(&cli_env(&args, &[("SANDBOX_CACHE_DIR", cache.path())]));
    let second = phases(&cli_env(&args, &[("SANDBOX_CACHE_DIR", cache.path())]));
    let get = |p: &[(String, u64)], n: &str| p.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
    let compile = get(&first, "compile").expect("first prepare compiles");
    assert!(get(&first, "deserialize").is_none());
    let load = get(&second, "deserialize").expect("second prepare is a cache hit");
    assert!(get(&second, "compile").is_none());
    assert!(
        compile >= 10 * load,
        "compile {compile}us vs cache load {load}us"
    );

    // A damaged cache file is detected, not trusted: the next prepare rebuilds it.
    let files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &bytes[..bytes.len() / 2]).unwrap();
    // Given where a program is expected, the truncated file is refused and named as such.
    let given = dir.path().join("given.cwasm");
    std::fs::copy(&files[0], &given).unwrap();
    assert_refused(
        &cli(&["run", "--backend", "wasm", given.to_str().unwrap()]),
        "compile-cache file (truncated",
    );
    let third = phases(&cli_env(&args, &[("SANDBOX_CACHE_DIR", cache.path())]));
    assert!(
        get(&third, "compile").is_some(),
        "a truncated cache file was used: {third:?}"
    );
    assert_eq!(
        std::fs::read(&files[0]).unwrap().len(),
        bytes.len(),
        "the entry was not rewritten whole"
    );
    let leftovers: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "half-written files left: {leftovers:?}"
    );
}

#[test]
fn wasm_with_an_import_we_do_not_provide_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wat = r#"(module (import "env" "launch_missiles" (func)) (func (export "_start") call 0))"#;
    let path = write_file(dir.path(), "imports.wasm", &wat::parse_str(wat).unwrap());
    let r = cli(&["run", "--backend", "wasm", path.to_str().unwrap()]);
    assert_refused(&r, "launch_missiles");
}
