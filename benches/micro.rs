//! Micro costs behind the phases, each group named after the phase it measures:
//! `clone` (per namespace set), `raw_floor` (clone + execve + wait, against the library's
//! prepared native run), `pivot_root` (the root switch), `cgroup` (create + limits + remove,
//! attach by the supervisor vs by the child itself), `seccomp` (filter install, a syscall
//! with and without the filter), `instantiate` (on-demand vs pooled), `deserialize` (module
//! load from the cache) and `run` (compute under epoch vs fuel).
//!
//! Needs root (or unprivileged user namespaces) for the native groups.

use criterion::{Criterion, criterion_group, criterion_main};
use sandbox::{Policy, Sandbox, Workload};
use std::ffi::CString;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Fork-like clone with `flags`; the child runs `child` and then exits.
fn clone_and_wait(flags: libc::c_int, child: impl FnOnce()) {
    // SAFETY: fork semantics (NULL stack); the child only makes syscalls in `child`.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid == 0 {
        child();
        exit_now();
    }
    assert!(pid > 0, "clone failed: {}", std::io::Error::last_os_error());
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(pid as i32, std::ptr::null_mut(), 0) };
}

fn exit_now() -> ! {
    // SAFETY: ends the child at once.
    unsafe { libc::_exit(0) }
}

const NS5: libc::c_int = libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC;

fn clone_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("clone");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    for (name, flags) in [
        ("none", 0),
        ("user", libc::CLONE_NEWUSER),
        ("user+pid+mount+uts+ipc", NS5),
        ("user+pid+mount+uts+ipc+net", NS5 | libc::CLONE_NEWNET),
    ] {
        g.bench_function(name, |b| b.iter(|| clone_and_wait(flags, || ())));
    }
    g.finish();
}

fn raw_floor_group(c: &mut Criterion) {
    let noop = sandbox::workloads::artifact("noop", sandbox::workloads::Flavor::Native).unwrap();
    let path = CString::new(noop.to_str().unwrap()).unwrap();
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    let mut g = c.benchmark_group("raw_floor");
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    // The floor the native backend is measured against: the same namespaces, then exec and wait.
    g.bench_function("clone5+net+execve+wait", |b| {
        b.iter(|| {
            clone_and_wait(NS5 | libc::CLONE_NEWNET, || {
                // SAFETY: NULL-terminated arrays of live C strings.
                unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
            })
        })
    });
    let prepared = sandbox::NativeBackend::new()
        .prepare(&Workload::named("noop"), &Policy::default())
        .unwrap();
    g.bench_function("library_native_noop", |b| {
        b.iter(|| black_box(prepared.run().unwrap()))
    });
    g.finish();
}

/// Runs `body` in a fresh child (clone with `flags`) `iters` times; the child reports the
/// nanoseconds its timed part took through a pipe.
fn timed_in_child(iters: u64, flags: libc::c_int, body: impl Fn() -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut fds = [0; 2];
        // SAFETY: a valid out-array for pipe.
        unsafe { libc::pipe(fds.as_mut_ptr()) };
        clone_and_wait(flags, || {
            let nanos = body().as_nanos() as u64;
            // SAFETY: writing 8 bytes from a local.
            unsafe { libc::write(fds[1], (&nanos as *const u64).cast(), 8) };
        });
        let mut nanos = 0u64;
        // SAFETY: reading 8 bytes into a local, closing our pipe.
        unsafe {
            libc::read(fds[0], (&mut nanos as *mut u64).cast(), 8);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        total += Duration::from_nanos(nanos);
    }
    total
}

/// The sandbox's root switch, in a child with its own mount namespace: private propagation,
/// a staging tmpfs, pivot_root into it, detach the old root.
fn pivot_root_group(c: &mut Criterion) {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("pivot_root: skipped (needs root for mounts without a user namespace)");
        return;
    }
    let c_str = |s: &str| CString::new(s).unwrap();
    let (root, tmp, tmpfs, old, dot) = (
        c_str("/"),
        c_str("/tmp"),
        c_str("tmpfs"),
        c_str("/tmp/oldroot"),
        c_str("/oldroot"),
    );
    let mut g = c.benchmark_group("pivot_root");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    g.bench_function("private+tmpfs+pivot_root+detach", |b| {
        b.iter_custom(|iters| {
            timed_in_child(iters, libc::CLONE_NEWNS, || {
                let t = Instant::now();
                // SAFETY: mounts in this child's own, just-created mount namespace only.
                unsafe {
                    libc::mount(
                        std::ptr::null(),
                        root.as_ptr(),
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    );
                    libc::mount(
                        tmpfs.as_ptr(),
                        tmp.as_ptr(),
                        tmpfs.as_ptr(),
                        libc::MS_NOSUID | libc::MS_NODEV,
                        std::ptr::null(),
                    );
                    libc::mkdir(old.as_ptr(), 0o755);
                    libc::syscall(libc::SYS_pivot_root, tmp.as_ptr(), old.as_ptr());
                    libc::chdir(root.as_ptr());
                    libc::umount2(dot.as_ptr(), libc::MNT_DETACH);
                }
                t.elapsed()
            })
        })
    });
    g.finish();
}

fn cgroup_group(c: &mut Criterion) {
    let support = sandbox_native::CgroupSupport::detect();
    if support.version().is_none() {
        eprintln!("cgroup: skipped (no writable cgroup hierarchy)");
        return;
    }
    let limits = sandbox_native::CgroupLimits {
        memory_bytes: Some(64 << 20),
        max_pids: Some(32),
        cpu_cores: Some(1.0),
    };
    let mut g = c.benchmark_group("cgroup");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    g.bench_function("create+limits+remove", |b| {
        b.iter(|| {
            let mut cg = sandbox_native::Cgroup::create(&support, &limits).unwrap();
            assert!(cg.remove().is_empty());
        })
    });
    // Attaching: the supervisor moving a child (cgroup.procs) versus the child moving itself
    // (v1 tasks <- 0), which is what the sandbox does on v1.
    let cg = sandbox_native::Cgroup::create(&support, &limits).unwrap();
    if let Some(files) = cg.self_attach_files() {
        let paths: Vec<CString> = files
            .iter()
            .map(|f| CString::new(f.to_str().unwrap()).unwrap())
            .collect();
        g.bench_function("attach_self_v1_tasks", |b| {
            b.iter_custom(|iters| {
                timed_in_child(iters, 0, || {
                    let t = Instant::now();
                    for p in &paths {
                        // SAFETY: open/write/close on a live path and a local buffer.
                        unsafe {
                            let fd = libc::open(p.as_ptr(), libc::O_WRONLY);
                            libc::write(fd, b"0".as_ptr().cast(), 1);
                            libc::close(fd);
                        }
                    }
                    t.elapsed()
                })
            })
        });
    }
    g.bench_function("attach_by_supervisor_procs", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut child = std::process::Command::new("sleep")
                    .arg("5")
                    .spawn()
                    .unwrap();
                let t = Instant::now();
                cg.attach(child.id() as i32).unwrap();
                total += t.elapsed();
                child.kill().unwrap();
                child.wait().unwrap();
            }
            total
        })
    });
    g.finish();
    let mut cg = cg;
    cg.kill_all();
    cg.remove();
}

/// no_new_privs, then each program as a seccomp filter (only ever called in a child).
fn install_filter(programs: &[seccompiler::BpfProgram]) {
    // SAFETY: prctl/seccomp in a throwaway child, with live BPF programs.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        for p in programs {
            let prog = libc::sock_fprog {
                len: p.len() as u16,
                filter: p.as_ptr() as *mut libc::sock_filter,
            };
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const _,
            );
        }
    }
}

/// `iters` getpid calls in one child, optionally under the filter; returns their time.
fn getpid_loop(iters: u64, filter: Option<&[seccompiler::BpfProgram]>) -> Duration {
    timed_in_child(1, 0, || {
        if let Some(programs) = filter {
            install_filter(programs);
        }
        let t = Instant::now();
        for _ in 0..iters {
            // SAFETY: getpid has no preconditions.
            black_box(unsafe { libc::syscall(libc::SYS_getpid) });
        }
        t.elapsed()
    })
}

/// Installs `programs` in `iters` children (one each); returns the total install time.
fn install_in_child(iters: u64, programs: &[seccompiler::BpfProgram]) -> Duration {
    timed_in_child(iters, 0, || {
        let t = Instant::now();
        install_filter(programs);
        t.elapsed()
    })
}

fn seccomp_group(c: &mut Criterion) {
    let filter = sandbox_native::seccomp::compile(sandbox_native::SeccompMode::Errno, &[]).unwrap();
    let mut g = c.benchmark_group("seccomp");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    g.bench_function("compile_filter", |b| {
        b.iter(|| {
            black_box(
                sandbox_native::seccomp::compile(sandbox_native::SeccompMode::Errno, &[]).unwrap(),
            )
        })
    });
    g.bench_function("getpid_without_filter", |b| {
        b.iter_custom(|iters| getpid_loop(iters, None))
    });
    g.bench_function("getpid_under_filter", |b| {
        b.iter_custom(|iters| getpid_loop(iters, Some(&filter.programs)))
    });
    // What a sandbox start pays: our interval-tree filter vs seccompiler's linear chains.
    let reference =
        sandbox_native::seccomp::reference(sandbox_native::SeccompMode::Errno, &[]).unwrap();
    g.bench_function("install_interval_tree", |b| {
        b.iter_custom(|iters| install_in_child(iters, &filter.programs))
    });
    g.bench_function("install_seccompiler_linear", |b| {
        b.iter_custom(|iters| install_in_child(iters, &reference.programs))
    });
    g.finish();
}

fn wasm_groups(c: &mut Criterion) {
    use sandbox_wasm::{EngineOptions, WasmConfig, WasmEngine};
    let noop = std::fs::read(
        sandbox::workloads::artifact("noop", sandbox::workloads::Flavor::WasiP1).unwrap(),
    )
    .unwrap();
    let mut g = c.benchmark_group("instantiate");
    g.sample_size(50).measurement_time(Duration::from_secs(3));
    let on_demand = WasmEngine::new(EngineOptions {
        cache_dir: None,
        ..EngineOptions::default()
    })
    .unwrap();
    let pooled = WasmEngine::new(EngineOptions {
        cache_dir: None,
        pooling_instances: Some(16),
        pooling_memory_bytes: 64 << 20,
        ..EngineOptions::default()
    })
    .unwrap();
    let config = WasmConfig {
        memory_bytes: Some(64 << 20),
        ..WasmConfig::default()
    };
    let a = on_demand.prepare(&noop, config.clone()).unwrap();
    let p = pooled.prepare(&noop, config.clone()).unwrap();
    g.bench_function("on_demand_noop_run", |b| {
        b.iter(|| black_box(a.run(b"").unwrap()))
    });
    g.bench_function("pooled_noop_run", |b| {
        b.iter(|| black_box(p.run(b"").unwrap()))
    });
    g.finish();

    let cache = tempfile::tempdir().unwrap();
    let cached = WasmEngine::new(EngineOptions {
        cache_dir: Some(cache.path().into()),
        ..EngineOptions::default()
    })
    .unwrap();
    cached.prepare(&noop, config.clone()).unwrap();
    let mut g = c.benchmark_group("deserialize");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    g.bench_function("prepare_from_cache", |b| {
        b.iter(|| black_box(cached.prepare(&noop, config.clone()).unwrap()))
    });
    g.finish();

    let compute = std::fs::read(
        sandbox::workloads::artifact("compute", sandbox::workloads::Flavor::WasiP1).unwrap(),
    )
    .unwrap();
    let fuel_engine = WasmEngine::new(EngineOptions {
        cache_dir: None,
        fuel: true,
        ..EngineOptions::default()
    })
    .unwrap();
    let args = WasmConfig {
        args: vec!["1".into()],
        ..WasmConfig::default()
    };
    let epoch = on_demand.prepare(&compute, args.clone()).unwrap();
    let fuel = fuel_engine
        .prepare(
            &compute,
            WasmConfig {
                fuel: Some(u64::MAX / 2),
                ..args
            },
        )
        .unwrap();
    let mut g = c.benchmark_group("run");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("compute_1mib_epoch", |b| {
        b.iter(|| black_box(epoch.run(b"").unwrap()))
    });
    g.bench_function("compute_1mib_fuel", |b| {
        b.iter(|| black_box(fuel.run(b"").unwrap()))
    });
    g.finish();
}

criterion_group!(
    benches,
    clone_group,
    raw_floor_group,
    pivot_root_group,
    cgroup_group,
    seccomp_group,
    wasm_groups
);
criterion_main!(benches);
