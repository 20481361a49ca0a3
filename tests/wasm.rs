//! The wasm backend: exit reasons by kind, limits, pooling, fuel, network grants, enforcement.

mod common;

use sandbox::{ExitReason, Network, Policy, Sandbox, WasmBackend, Workload};
use sandbox_wasm::{EngineOptions, WasmConfig, WasmEngine, WasmExit};
use std::io::Read;
use std::time::Duration;

fn engine(options: EngineOptions) -> WasmEngine {
    WasmEngine::new(EngineOptions {
        cache_dir: None,
        ..options
    })
    .unwrap()
}

fn run_wat(wat: &str, config: WasmConfig) -> WasmExit {
    let wasm = wat::parse_str(wat).unwrap();
    let prepared = engine(EngineOptions::default())
        .prepare(&wasm, config)
        .unwrap();
    prepared.run(b"").unwrap().exit
}

#[test]
fn traps_are_named_by_kind() {
    let cases = [
        ("(func (export \"_start\") unreachable)", "unreachable"),
        (
            "(func (export \"_start\") (drop (i32.div_s (i32.const 1) (i32.const 0))))",
            "integer divide by zero",
        ),
        (
            "(memory 1) (func (export \"_start\") (drop (i32.load (i32.const 70000))))",
            "memory out of bounds",
        ),
        (
            "(func $f (export \"_start\") (call $f))",
            "call stack exhausted",
        ),
    ];
    for (body, kind) in cases {
        let exit = run_wat(&format!("(module {body})"), WasmConfig::default());
        assert_eq!(exit, WasmExit::Trap(kind.into()), "{body}");
    }
}

#[test]
fn memory_growth_past_the_limit_is_out_of_memory_not_a_guest_abort() {
    let wat = "(module (memory (export \"memory\") 1) (func (export \"_start\") (drop (memory.grow (i32.const 2000)))))";
    let config = WasmConfig {
        memory_bytes: Some(64 << 20),
        ..WasmConfig::default()
    };
    assert_eq!(run_wat(wat, config), WasmExit::OutOfMemory);
    // Under the limit the same growth is fine.
    let config = WasmConfig {
        memory_bytes: Some(256 << 20),
        ..WasmConfig::default()
    };
    assert_eq!(run_wat(wat, config), WasmExit::Exited(0));
}

#[test]
fn fuel_is_a_deterministic_cpu_budget() {
    let spin = std::fs::read(
        sandbox::workloads::artifact("spin", sandbox::workloads::Flavor::WasiP1).unwrap(),
    )
    .unwrap();
    let engine = engine(EngineOptions {
        fuel: true,
        ..EngineOptions::default()
    });
    let prepared = engine
        .prepare(
            &spin,
            WasmConfig {
                fuel: Some(5_000_000),
                ..WasmConfig::default()
            },
        )
        .unwrap();
    let outcome = prepared.run(b"").unwrap();
    assert_eq!(outcome.exit, WasmExit::OutOfFuel);
    assert!(
        prepared
            .enforcement()
            .limits
            .iter()
            .any(|l| l == "fuel=5000000")
    );
}

#[test]
fn pooled_instances_give_the_same_results() {
    let hello = std::fs::read(
        sandbox::workloads::artifact("hello", sandbox::workloads::Flavor::WasiP1).unwrap(),
    )
    .unwrap();
    let engine = engine(EngineOptions {
        pooling_instances: Some(8),
        pooling_memory_bytes: 64 << 20,
        ..EngineOptions::default()
    });
    let config = WasmConfig {
        args: vec!["pool".into()],
        program_name: "hello".into(),
        memory_bytes: Some(64 << 20),
        ..WasmConfig::default()
    };
    let prepared = engine.prepare(&hello, config).unwrap();
    assert!(prepared.enforcement().pooling);
    // More runs than slots: slots are reused after each run's teardown.
    for _ in 0..32 {
        let o = prepared.run(b"in\n").unwrap();
        assert_eq!(o.exit, WasmExit::Exited(0));
        assert_eq!(o.stdout, b"hello pool\nin\n");
    }
}

#[test]
fn stdout_flood_is_capped_and_counted() {
    let wasm = std::fs::read(
        sandbox::workloads::artifact("cat", sandbox::workloads::Flavor::WasiP1).unwrap(),
    )
    .unwrap();
    let dir = common::shared_dir();
    std::fs::write(dir.path().join("big"), vec![b'x'; 3 << 20]).unwrap();
    let config = WasmConfig {
        args: vec!["/d/big".into()],
        preopens: vec![sandbox_wasm::Preopen {
            host: dir.path().into(),
            guest: "/d".into(),
            writable: false,
        }],
        stdout_cap: 1 << 20,
        ..WasmConfig::default()
    };
    let o = engine(EngineOptions::default())
        .prepare(&wasm, config)
        .unwrap()
        .run(b"")
        .unwrap();
    assert_eq!(o.exit, WasmExit::Exited(0));
    assert_eq!(o.stdout.len(), 1 << 20);
    assert_eq!(o.stdout_dropped, 2 << 20);
}

#[test]
fn component_network_is_none_by_default_and_loopback_only_when_granted() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    let backend = WasmBackend::components().unwrap();
    let connect = |network: Network, target: &str| {
        let policy = Policy::builder()
            .network(network)
            .args([target])
            .build()
            .unwrap();
        backend
            .prepare(&Workload::named("connect"), &policy)
            .unwrap()
            .run()
            .unwrap()
    };
    let denied = connect(Network::None, &addr);
    assert_eq!(denied.exit, ExitReason::Exited(1));
    assert_eq!(
        String::from_utf8_lossy(&denied.stdout).trim(),
        "refused: permission denied"
    );
    assert!(
        listener.accept().is_err(),
        "a connection arrived with network none"
    );

    let allowed = connect(Network::Loopback, &addr);
    assert_eq!(String::from_utf8_lossy(&allowed.stdout).trim(), "connected");
    listener.set_nonblocking(false).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    let mut line = String::new();
    peer.read_to_string(&mut line).unwrap();
    assert_eq!(line, "hello from the sandbox\n");
}

#[test]
fn enforcement_report_names_grants_limits_and_cache_state() {
    let dir = common::shared_dir();
    let policy = Policy::builder()
        .read_only(dir.path(), "/in")
        .memory(Some(32 << 20))
        .timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let o = WasmBackend::new()
        .unwrap()
        .prepare(&Workload::named("noop"), &policy)
        .unwrap()
        .run()
        .unwrap();
    let e = &o.enforcement;
    assert_eq!(
        e["preopens"][0],
        format!("/in <- {} (ro)", dir.path().display())
    );
    assert_eq!(e["network"], "none (sockets denied)");
    let limits = e["limits"].to_string();
    assert!(
        limits.contains("memory=33554432") && limits.contains("wall_time=5000ms"),
        "{limits}"
    );
    assert!(["hit", "miss", "corrupt-rebuilt"].contains(&e["cache"].as_str().unwrap()));
    assert_eq!(e["pooling"], false);
}

fn prepare_file(path: &std::path::Path, config: WasmConfig) -> sandbox_wasm::WasmPrepared {
    engine(EngineOptions::default())
        .prepare(&std::fs::read(path).unwrap(), config)
        .unwrap()
}

#[test]
fn the_pure_compute_component_can_only_read_its_input_and_write_its_output() {
    use sandbox::workloads::{Flavor, artifact};
    let pure = prepare_file(
        &artifact("pure-compute", Flavor::WasiP2).unwrap(),
        WasmConfig::default(),
    );
    // Exactly two imports: there is no import through which to reach a file, a clock, a
    // socket, an environment variable or randomness, so no policy could leak them.
    assert_eq!(pure.imports(), ["read-input", "write-output"]);
    assert_eq!(pure.enforcement().imports, ["read-input", "write-output"]);
    // Built against WASI, programs import that surface as soon as they use it.
    for (workload, surface) in [
        ("compute", "wasi:cli/environment"),
        ("cat", "wasi:filesystem"),
        ("sleep", "wasi:clocks"),
        ("connect", "wasi:sockets"),
    ] {
        let wasi = prepare_file(
            &artifact(workload, Flavor::WasiP2).unwrap(),
            WasmConfig::default(),
        );
        let joined = wasi.imports().join(" ");
        assert!(
            joined.contains(surface),
            "the WASI {workload} does not import {surface}: {joined}"
        );
    }
    for name in pure.imports() {
        assert!(!name.starts_with("wasi:"), "{name}");
    }

    // It runs through the same trait, and prints what native `compute 2` prints. A granted
    // directory is simply unreachable: the world has no filesystem.
    let dir = common::shared_dir();
    let policy = Policy::builder()
        .read_write(dir.path(), "/data")
        .stdin(&b"2"[..])
        .build()
        .unwrap();
    let o = WasmBackend::components()
        .unwrap()
        .prepare(&Workload::named("pure-compute"), &policy)
        .unwrap()
        .run()
        .unwrap();
    let native = sandbox::NativeBackend::new()
        .prepare(
            &Workload::named("compute"),
            &Policy::builder().args(["2"]).build().unwrap(),
        )
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(o.exit, ExitReason::Exited(0));
    assert_eq!(o.stdout, native.stdout);
    assert_eq!(o.enforcement["preopens"], serde_json::json!([]));
}

#[test]
fn a_component_importing_anything_else_is_refused_at_prepare() {
    let wasm = wat::parse_str(r#"(component (import "launch-missiles" (func)))"#).unwrap();
    let err = match engine(EngineOptions::default()).prepare(&wasm, WasmConfig::default()) {
        Ok(_) => panic!("a component with an unknown import was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("launch-missiles"), "{err}");
}

#[test]
fn pooled_backend_through_the_trait_and_the_host_memory_an_instance_costs() {
    let backend = WasmBackend::pooled(4, 64 << 20).unwrap();
    assert_eq!(backend.name(), "wasm-pooled");
    let policy = Policy::builder()
        .memory(Some(64 << 20))
        .args(["20"])
        .build()
        .unwrap();
    let prepared = backend.prepare(&Workload::named("alloc"), &policy).unwrap();
    assert_eq!(prepared.enforcement()["pooling"], true);
    for _ in 0..8 {
        let o = prepared.run().unwrap();
        assert_eq!(o.exit, ExitReason::Exited(0));
        let host = o
            .usage
            .host_memory_bytes
            .expect("resident bytes of a core module");
        assert!(
            (20 << 20..=40 << 20).contains(&host),
            "20 MiB touched, {host} bytes resident"
        );
    }
    let noop = backend
        .prepare(&Workload::named("noop"), &Policy::default())
        .err()
        .expect("512 MiB > 64 MiB slots");
    assert!(noop.message.contains("slot size"), "{}", noop.message);
}

#[test]
fn a_component_reports_the_host_memory_its_core_memories_really_cost() {
    // wasmtime hands out no component's core memory; the component backend allocates linear
    // memories itself and asks the kernel which of their pages are resident.
    let backend = WasmBackend::components().unwrap();
    let touched = |mib: &str| {
        let policy = Policy::builder().args([mib]).build().unwrap();
        let o = backend
            .prepare(&Workload::named("alloc"), &policy)
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(o.exit, ExitReason::Exited(0));
        o.usage
            .host_memory_bytes
            .expect("a component's resident bytes")
    };
    let (small, large) = (touched("4"), touched("40"));
    assert!(
        (4 << 20..=24 << 20).contains(&small),
        "4 MiB touched: {small}"
    );
    assert!(
        (40 << 20..=60 << 20).contains(&large),
        "40 MiB touched: {large}"
    );
    // The pure world (no WASI) is measured the same way.
    let o = backend
        .prepare(
            &Workload::named("pure-compute"),
            &Policy::builder().stdin(&b"1"[..]).build().unwrap(),
        )
        .unwrap()
        .run()
        .unwrap();
    assert!(o.usage.host_memory_bytes.is_some_and(|b| b > 0));
}
