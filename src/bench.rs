//! `sandbox bench`: the same workloads under every configuration, in one run, with the bare
//! process as the baseline. Every number in the report is measured here; nothing is assumed.

use crate::backend::{Prepared, Sandbox, Workload};
use crate::error::{Error, Result};
use crate::policy::{Network, Policy};
use crate::{NativeBackend, WasmBackend};
use sandbox_wasm::EngineOptions;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The configurations, in report order. `bare` is the baseline; `peer-*` are other tools
/// on the same machine (noop only, when installed).
pub const CONFIGURATIONS: &[&str] = &[
    "bare",
    "native",
    "native+net",
    "native-no-netns",
    "wasm-cold",
    "wasm-cached",
    "wasm-warm",
    "wasm-pooled",
    "component",
];
pub const WORKLOADS: &[&str] = &["noop", "hello", "compute", "fileio", "alloc"];

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub quick: bool,
    pub workloads: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub configuration: String,
    pub workload: String,
    pub runs: usize,
    pub median_micros: f64,
    pub p10_micros: f64,
    pub p90_micros: f64,
    pub p99_micros: f64,
    pub min_micros: f64,
    pub max_micros: f64,
    /// Median over the bare median of the same workload, in this run.
    pub ratio_to_bare: Option<f64>,
    pub user_micros: u64,
    pub sys_micros: u64,
    pub peak_memory_bytes: u64,
    /// "ok", or what went wrong (an unexpected exit or an error).
    pub status: String,
    /// Mean wall time of each named phase.
    pub phases: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub configuration: String,
    pub workers: usize,
    pub completed: u64,
    pub seconds: f64,
    pub per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Density {
    pub configuration: String,
    pub sandboxes: usize,
    pub total_bytes: u64,
    pub bytes_per_sandbox: u64,
    /// How the memory was measured.
    pub method: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub goal: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub quick: bool,
    pub cores: usize,
    pub kernel: String,
    pub cells: Vec<Cell>,
    pub throughput: Vec<Throughput>,
    pub density: Vec<Density>,
    pub targets: Vec<Target>,
    pub notes: Vec<String>,
}

/// One timed run.
struct Sample {
    wall: Duration,
    user: u64,
    sys: u64,
    peak: u64,
    ok: std::result::Result<(), String>,
    phases: Vec<(String, u64)>,
}

fn runs_for(workload: &str, quick: bool) -> usize {
    let base = match workload {
        "noop" | "hello" => 40,
        "compute" => 4,
        "fileio" => 6,
        _ => 12,
    };
    if quick { base } else { base * 5 }
}

/// Arguments, with `{data}` standing for the scratch directory as the program sees it.
fn args_for(workload: &str, quick: bool) -> Vec<String> {
    let v: &[&str] = match (workload, quick) {
        ("hello", _) => &["world"],
        ("compute", true) => &["4"],
        ("compute", false) => &["16"],
        ("fileio", true) => &["{data}", "16"],
        ("fileio", false) => &["{data}", "64"],
        ("alloc", _) => &["32"],
        _ => &[],
    };
    v.iter().map(|s| s.to_string()).collect()
}

fn with_data(args: &[String], data: &str) -> Vec<String> {
    args.iter().map(|a| a.replace("{data}", data)).collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn from_outcome(o: crate::Outcome, extra_phases: &[crate::Phase], wall: Duration) -> Sample {
    Sample {
        wall,
        user: o.usage.user_micros,
        sys: o.usage.sys_micros,
        peak: o.usage.peak_memory_bytes,
        ok: if o.exit == crate::ExitReason::Exited(0) {
            Ok(())
        } else {
            Err(o.exit.to_string())
        },
        phases: extra_phases
            .iter()
            .chain(&o.phases)
            .map(|p| (p.name.clone(), p.micros))
            .collect(),
    }
}

/// A plain fork/exec of the native artifact, reaped with wait4 for its rusage.
fn bare_run(program: &Path, args: &[String]) -> Sample {
    let t = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        return Sample {
            wall: t.elapsed(),
            user: 0,
            sys: 0,
            peak: 0,
            ok: Err("spawn failed".into()),
            phases: vec![],
        };
    };
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: reaping our own child (std's Child is then dropped without waiting again).
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = t.elapsed();
    let us = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    Sample {
        wall,
        user: us(usage.ru_utime),
        sys: us(usage.ru_stime),
        peak: usage.ru_maxrss as u64 * 1024,
        ok: if status == 0 {
            Ok(())
        } else {
            Err(format!("status {status}"))
        },
        phases: vec![],
    }
}

type Runner<'a> = Box<dyn FnMut() -> Sample + 'a>;

struct Ctx {
    quick: bool,
    scratch: PathBuf,
    cache: PathBuf,
}

impl Ctx {
    fn policy(&self, workload: &str, network: Network) -> Result<Policy> {
        Policy::builder()
            .read_write(&self.scratch, "/data")
            .args(with_data(&args_for(workload, self.quick), "/data"))
            .network(network)
            .build()
    }

    /// Builds the per-run closure for one configuration and workload (setup happens here, once).
    fn runner(&self, config: &str, workload: &str) -> Result<Runner<'_>> {
        let timed = |prepared: Box<dyn Prepared>| -> Runner<'_> {
            Box::new(move || {
                let t = Instant::now();
                match prepared.run() {
                    Ok(o) => from_outcome(o, &[], t.elapsed()),
                    Err(e) => Sample {
                        wall: t.elapsed(),
                        user: 0,
                        sys: 0,
                        peak: 0,
                        ok: Err(e.message),
                        phases: vec![],
                    },
                }
            })
        };
        let named = Workload::named(workload);
        Ok(match config {
            "bare" => {
                let program = crate::resolve_workload(workload, workloads::Flavor::Native)?;
                let args = with_data(
                    &args_for(workload, self.quick),
                    self.scratch.to_str().unwrap_or("/tmp"),
                );
                Box::new(move || bare_run(&program, &args))
            }
            "native" => {
                timed(NativeBackend::new().prepare(&named, &self.policy(workload, Network::None)?)?)
            }
            "native+net" => timed(
                NativeBackend::new().prepare(&named, &self.policy(workload, Network::Loopback)?)?,
            ),
            "native-no-netns" => {
                let mut config =
                    NativeBackend::config(&named, &self.policy(workload, Network::None)?)?;
                config.new_net_namespace = false;
                timed(NativeBackend::prepare_config(config, Vec::new())?)
            }
            "wasm-cold" | "wasm-cached" => {
                let policy = self.policy(workload, Network::None)?;
                let cache_dir = (config == "wasm-cached").then(|| self.cache.clone());
                let fresh = move || -> Result<(WasmBackend, Duration)> {
                    let t = Instant::now();
                    let options = EngineOptions {
                        cache_dir: cache_dir.clone(),
                        ..EngineOptions::default()
                    };
                    Ok((WasmBackend::with_options(options, false)?, t.elapsed()))
                };
                if config == "wasm-cached" {
                    // Fill the cache once; every measured run then loads from it.
                    fresh()?.0.prepare(&named, &policy)?;
                }
                Box::new(move || {
                    let t = Instant::now();
                    let result = fresh().and_then(|(backend, engine)| {
                        let prepared = backend.prepare(&named, &policy)?;
                        let mut phases = vec![crate::Phase::new("engine", engine)];
                        phases.extend(prepared.prepare_phases());
                        Ok((prepared.run()?, phases))
                    });
                    match result {
                        Ok((o, phases)) => from_outcome(o, &phases, t.elapsed()),
                        Err(e) => Sample {
                            wall: t.elapsed(),
                            user: 0,
                            sys: 0,
                            peak: 0,
                            ok: Err(e.message),
                            phases: vec![],
                        },
                    }
                })
            }
            "wasm-warm" => {
                timed(WasmBackend::new()?.prepare(&named, &self.policy(workload, Network::None)?)?)
            }
            "wasm-pooled" => {
                let policy = self.policy(workload, Network::None)?;
                let slot = policy.memory_bytes.unwrap_or(512 << 20);
                timed(WasmBackend::pooled(64, slot)?.prepare(&named, &policy)?)
            }
            "component" => timed(
                WasmBackend::components()?
                    .prepare(&named, &self.policy(workload, Network::None)?)?,
            ),
            other => return Err(Error::bad_input(format!("unknown configuration {other:?}"))),
        })
    }
}

/// Peers measured on the same machine for `noop`, when their tools are installed.
fn peers(noop: &Path) -> Vec<(String, Vec<String>)> {
    let noop = noop.display().to_string();
    let mut v = Vec::new();
    let installed = |tool: &str| {
        ["/usr/bin", "/bin", "/usr/local/bin"]
            .iter()
            .any(|d| Path::new(d).join(tool).exists())
    };
    if installed("unshare") {
        v.push((
            "peer-unshare".to_string(),
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--pid",
                "--mount",
                "--uts",
                "--ipc",
                "--fork",
                &noop,
            ]
            .map(String::from)
            .to_vec(),
        ));
    }
    if installed("bwrap") {
        v.push((
            "peer-bwrap".to_string(),
            [
                "bwrap",
                "--unshare-all",
                "--ro-bind",
                &noop,
                "/noop",
                "/noop",
            ]
            .map(String::from)
            .to_vec(),
        ));
    }
    v
}

/// The floor for a native sandbox start: clone with the same namespaces (user, pid, mount,
/// uts, ipc, net), execve the static noop, wait. Nothing else: no ids, mounts or limits.
fn raw_floor_run(program: &std::ffi::CStr) -> Sample {
    let argv = [program.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWNET
        | libc::SIGCHLD;
    let t = Instant::now();
    // SAFETY: fork-like clone (NULL stack); the child only calls execve and _exit.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid == 0 {
        // SAFETY: NULL-terminated arrays of live C strings; _exit if execve fails.
        unsafe {
            libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    let mut status = 0;
    if pid > 0 {
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid as i32, &mut status, 0) };
    }
    Sample {
        wall: t.elapsed(),
        user: 0,
        sys: 0,
        peak: 0,
        ok: if pid > 0 && status == 0 {
            Ok(())
        } else {
            Err(format!("clone {pid}, status {status}"))
        },
        phases: vec![],
    }
}

fn cell(config: &str, workload: &str, samples: &[Sample]) -> Cell {
    let mut walls: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64() * 1e6).collect();
    walls.sort_by(|a, b| a.total_cmp(b));
    let median_of = |mut v: Vec<u64>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let mut phase_sums: BTreeMap<String, (u64, usize, usize)> = BTreeMap::new();
    for s in samples {
        for (i, (name, micros)) in s.phases.iter().enumerate() {
            let e = phase_sums.entry(name.clone()).or_insert((0, 0, i));
            e.0 += micros;
            e.1 += 1;
        }
    }
    let mut phases: Vec<(usize, String, f64)> = phase_sums
        .into_iter()
        .map(|(n, (sum, count, order))| (order, n, sum as f64 / count as f64))
        .collect();
    phases.sort_by_key(|p| p.0);
    let status = samples
        .iter()
        .find_map(|s| s.ok.clone().err())
        .unwrap_or_else(|| "ok".into());
    Cell {
        configuration: config.into(),
        workload: workload.into(),
        runs: samples.len(),
        median_micros: percentile(&walls, 50.0),
        p10_micros: percentile(&walls, 10.0),
        p90_micros: percentile(&walls, 90.0),
        p99_micros: percentile(&walls, 99.0),
        min_micros: walls.first().copied().unwrap_or(0.0),
        max_micros: walls.last().copied().unwrap_or(0.0),
        ratio_to_bare: None,
        user_micros: median_of(samples.iter().map(|s| s.user).collect()),
        sys_micros: median_of(samples.iter().map(|s| s.sys).collect()),
        peak_memory_bytes: samples.iter().map(|s| s.peak).max().unwrap_or(0),
        status,
        phases: phases.into_iter().map(|(_, n, m)| (n, m)).collect(),
    }
}

/// Runs `prepared` from `workers` threads for `duration`; counts completed runs.
fn throughput(
    config: &str,
    prepared: &dyn Prepared,
    workers: usize,
    duration: Duration,
) -> Throughput {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if prepared
                        .run()
                        .is_ok_and(|o| o.exit == crate::ExitReason::Exited(0))
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
    });
    let seconds = t.elapsed().as_secs_f64();
    let completed = done.load(Ordering::Relaxed);
    Throughput {
        configuration: config.into(),
        workers,
        completed,
        seconds,
        per_second: completed as f64 / seconds,
    }
}

/// MemTotal - MemAvailable: memory in use on the whole host.
fn host_used_bytes() -> u64 {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(k))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("MemTotal:") - field("MemAvailable:")) * 1024
}

/// Memory per idle wasm sandbox: instantiated, never run, all held at once.
fn density_wasm(
    name: &str,
    backend: &WasmBackend,
    policy: &Policy,
    count: usize,
) -> Result<Density> {
    let before = crate::soak::rss_bytes();
    let idle = backend.hold_idle(&Workload::named("noop"), policy, count)?;
    let total = crate::soak::rss_bytes().saturating_sub(before);
    drop(idle);
    Ok(Density {
        configuration: name.into(),
        sandboxes: count,
        total_bytes: total,
        bytes_per_sandbox: total / count as u64,
        method: "resident set growth of this process while the instances are held".into(),
    })
}

/// Memory per idle native sandbox: `count` sandboxes sleeping at once.
fn density_native(policy: &Policy, count: usize) -> Result<Density> {
    let sleep_ms = 4000;
    let policy = Policy {
        args: vec![sleep_ms.to_string()],
        ..policy.clone()
    };
    let prepared = NativeBackend::new().prepare(&Workload::named("sleep"), &policy)?;
    let before = host_used_bytes();
    let mut during = 0;
    std::thread::scope(|s| {
        for _ in 0..count {
            s.spawn(|| prepared.run());
        }
        // Starting `count` sandboxes takes well under this on 2 cores; they sleep 4 s.
        std::thread::sleep(Duration::from_millis(2500));
        during = host_used_bytes();
    });
    let total = during.saturating_sub(before);
    Ok(Density {
        configuration: "native".into(),
        sandboxes: count,
        total_bytes: total,
        bytes_per_sandbox: total / count as u64,
        method: "host MemTotal-MemAvailable growth while all sleep (noisy: the whole machine)"
            .into(),
    })
}

/// Runs the whole matrix. `progress(done, total, what)` is called before each cell.
pub fn run(options: &BenchOptions, mut progress: impl FnMut(usize, usize, &str)) -> Result<Report> {
    for w in &options.workloads {
        if !WORKLOADS.contains(&w.as_str()) {
            return Err(Error::bad_input(format!(
                "bench workload {w:?}: choose from {}",
                WORKLOADS.join(", ")
            )));
        }
    }
    let scratch = crate::scratch::ScratchDir::new("bench")?;
    let cache = crate::scratch::ScratchDir::new("bench-cache")?;
    let ctx = Ctx {
        quick: options.quick,
        scratch: scratch.path().to_path_buf(),
        cache: cache.path().to_path_buf(),
    };
    let noop = crate::resolve_workload("noop", workloads::Flavor::Native)?;
    let peers = if options.workloads.iter().any(|w| w == "noop") {
        peers(&noop)
    } else {
        Vec::new()
    };
    let total = options.workloads.len() * CONFIGURATIONS.len() + peers.len() + 8;
    let mut step = 0;
    let mut cells = Vec::new();
    for workload in &options.workloads {
        for config in CONFIGURATIONS {
            progress(step, total, &format!("{workload} under {config}"));
            step += 1;
            let runs = if config.starts_with("wasm-c") {
                runs_for(workload, options.quick).min(if options.quick { 3 } else { 10 })
            } else {
                runs_for(workload, options.quick)
            };
            let samples: Vec<Sample> = match ctx.runner(config, workload) {
                Ok(mut runner) => {
                    runner(); // one unmeasured run: page cache, lazy allocations
                    (0..runs).map(|_| runner()).collect()
                }
                Err(e) => vec![Sample {
                    wall: Duration::ZERO,
                    user: 0,
                    sys: 0,
                    peak: 0,
                    ok: Err(e.message),
                    phases: vec![],
                }],
            };
            cells.push(cell(config, workload, &samples));
        }
    }
    if options.workloads.iter().any(|w| w == "noop") {
        progress(step, total, "noop under raw-floor");
        let program = std::ffi::CString::new(noop.as_os_str().as_encoded_bytes())
            .map_err(|e| Error::setup(e.to_string()))?;
        let runs = runs_for("noop", options.quick);
        let samples: Vec<Sample> = (0..=runs)
            .map(|_| raw_floor_run(&program))
            .skip(1)
            .collect();
        cells.push(cell("raw-floor", "noop", &samples));
    }
    for (name, argv) in &peers {
        progress(step, total, &format!("noop under {name}"));
        step += 1;
        let runs = runs_for("noop", options.quick);
        let program = PathBuf::from(&argv[0]);
        let args = argv[1..].to_vec();
        let samples: Vec<Sample> = (0..=runs)
            .map(|_| bare_run(&program, &args))
            .skip(1)
            .collect();
        cells.push(cell(name, "noop", &samples));
    }
    let bare: BTreeMap<String, f64> = cells
        .iter()
        .filter(|c| c.configuration == "bare")
        .map(|c| (c.workload.clone(), c.median_micros))
        .collect();
    for c in &mut cells {
        c.ratio_to_bare = bare
            .get(&c.workload)
            .filter(|b| **b > 0.0)
            .map(|b| c.median_micros / b);
    }

    let mut tput = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let duration = Duration::from_millis(if options.quick { 700 } else { 3000 });
    let policy = ctx.policy("noop", Network::None)?;
    for config in ["native", "wasm-warm", "wasm-pooled"] {
        let prepared = match config {
            "native" => NativeBackend::new().prepare(&Workload::named("noop"), &policy)?,
            "wasm-warm" => WasmBackend::new()?.prepare(&Workload::named("noop"), &policy)?,
            _ => WasmBackend::pooled(64, policy.memory_bytes.unwrap_or(512 << 20))?
                .prepare(&Workload::named("noop"), &policy)?,
        };
        for workers in [1, cores * 2] {
            progress(
                step,
                total,
                &format!("throughput of {config} with {workers} workers"),
            );
            step += 1;
            tput.push(throughput(config, prepared.as_ref(), workers, duration));
        }
    }
    progress(
        step,
        total,
        "density: 100 native and 1,000 wasm sandboxes held open",
    );
    let density = vec![
        density_native(&policy, 100)?,
        density_wasm("wasm-warm", &WasmBackend::new()?, &policy, 1000)?,
        density_wasm("component", &WasmBackend::components()?, &policy, 1000)?,
    ];
    progress(total, total, "done");

    let mut targets = targets(&cells);
    if let Some(d) = density.iter().find(|d| d.configuration == "wasm-warm") {
        targets.push(Target {
            name: "density: 1,000 idle wasm sandboxes".into(),
            goal: "< 256 MiB".into(),
            measured: format!(
                "{:.1} MiB ({} KiB each)",
                d.total_bytes as f64 / (1 << 20) as f64,
                d.bytes_per_sandbox / 1024
            ),
            met: d.total_bytes < 256 << 20,
        });
    }
    let mut notes = Vec::new();
    if !peers.iter().any(|(n, _)| n == "peer-bwrap") {
        notes.push("bubblewrap is not installed: the bwrap target is not measured (apt-get install bubblewrap)".into());
    }
    Ok(Report {
        quick: options.quick,
        cores,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
        cells,
        throughput: tput,
        density,
        targets,
        notes,
    })
}

fn targets(cells: &[Cell]) -> Vec<Target> {
    let median = |c: &str, w: &str| {
        cells
            .iter()
            .find(|x| x.configuration == c && x.workload == w && x.status == "ok")
            .map(|x| x.median_micros)
    };
    let mut v = Vec::new();
    let mut ratio = |name: &str, goal: &str, a: Option<f64>, b: Option<f64>, limit: f64| {
        let (measured, met) = match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => (
                format!("{:.2}x ({:.0} us vs {:.0} us)", a / b, a, b),
                a / b <= limit,
            ),
            _ => ("not measured".into(), false),
        };
        v.push(Target {
            name: name.into(),
            goal: goal.into(),
            measured,
            met,
        });
    };
    ratio(
        "native noop vs bwrap --unshare-all",
        "<= 1.0x",
        median("native", "noop"),
        median("peer-bwrap", "noop"),
        1.0,
    );
    ratio(
        "native noop vs unshare (same namespaces)",
        "<= 1.5x",
        median("native", "noop"),
        median("peer-unshare", "noop"),
        1.5,
    );
    ratio(
        "native noop vs the raw floor (clone, same namespaces, execve, wait)",
        "<= 1.5x",
        median("native", "noop"),
        median("raw-floor", "noop"),
        1.5,
    );
    ratio(
        "native compute vs bare",
        "<= 1.03x",
        median("native", "compute"),
        median("bare", "compute"),
        1.03,
    );
    ratio(
        "wasm compute vs bare (Cranelift speed, epoch checks, default bounds checks)",
        "<= 1.5x",
        median("wasm-warm", "compute"),
        median("bare", "compute"),
        1.5,
    );
    for c in ["wasm-warm", "wasm-pooled"] {
        let m = median(c, "noop");
        v.push(Target {
            name: format!("{c} noop per run"),
            goal: "<= 50 us".into(),
            measured: m.map_or("not measured".into(), |m| format!("{m:.0} us")),
            met: m.is_some_and(|m| m <= 50.0),
        });
    }
    v
}

fn fmt_ratio(x: f64) -> String {
    if x < 0.1 {
        format!("{x:.4}x")
    } else {
        format!("{x:.2}x")
    }
}

fn fmt_us(us: f64) -> String {
    if us >= 1e6 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.0} us")
    }
}

/// The terminal table.
pub fn render_table(r: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<9} {:<16} {:>5} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8}  status\n",
        "workload",
        "configuration",
        "runs",
        "median",
        "p10",
        "p90",
        "p99",
        "x bare",
        "user",
        "sys",
        "peak MiB"
    ));
    for c in &r.cells {
        out.push_str(&format!(
            "{:<9} {:<16} {:>5} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8.1}  {}\n",
            c.workload,
            c.configuration,
            c.runs,
            fmt_us(c.median_micros),
            fmt_us(c.p10_micros),
            fmt_us(c.p90_micros),
            fmt_us(c.p99_micros),
            c.ratio_to_bare.map_or("-".into(), fmt_ratio),
            fmt_us(c.user_micros as f64),
            fmt_us(c.sys_micros as f64),
            c.peak_memory_bytes as f64 / (1 << 20) as f64,
            c.status
        ));
    }
    out.push_str("\nphases of noop (mean):\n");
    for c in r
        .cells
        .iter()
        .filter(|c| c.workload == "noop" && !c.phases.is_empty())
    {
        let phases: Vec<String> = c
            .phases
            .iter()
            .map(|(n, m)| format!("{n} {}", fmt_us(*m)))
            .collect();
        out.push_str(&format!(
            "  {:<16} {}\n",
            c.configuration,
            phases.join(", ")
        ));
    }
    out.push_str("\nthroughput (noop, sandboxes started and finished per second):\n");
    for t in &r.throughput {
        out.push_str(&format!(
            "  {:<12} {:>2} workers {:>9.0}/s\n",
            t.configuration, t.workers, t.per_second
        ));
    }
    out.push_str("\ndensity (idle sandboxes held open at once):\n");
    for d in &r.density {
        out.push_str(&format!(
            "  {:<12} {:>5} sandboxes {:>9.1} MiB total {:>8} KiB each  ({})\n",
            d.configuration,
            d.sandboxes,
            d.total_bytes as f64 / (1 << 20) as f64,
            d.bytes_per_sandbox / 1024,
            d.method
        ));
    }
    out.push_str("\ntargets:\n");
    for t in &r.targets {
        out.push_str(&format!(
            "  [{}] {}: {} (goal {})\n",
            if t.met { "met" } else { "MISSED" },
            t.name,
            t.measured,
            t.goal
        ));
    }
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Horizontal bars, log scale, one chart per workload.
fn latency_chart(r: &Report, workload: &str) -> String {
    let cells: Vec<&Cell> = r
        .cells
        .iter()
        .filter(|c| c.workload == workload && c.median_micros > 0.0)
        .collect();
    let (w, row, left) = (760.0, 22.0, 170.0);
    let h = row * cells.len() as f64 + 30.0;
    let max = cells
        .iter()
        .map(|c| c.median_micros)
        .fold(10.0, f64::max)
        .log10()
        .ceil();
    let x = |us: f64| left + (us.max(1.0).log10() / max) * (w - left - 90.0);
    let mut svg = format!(
        r#"<svg class="chart latency" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="median latency of {workload}, log scale">"#
    );
    for decade in 0..=max as i32 {
        let xx = x(10f64.powi(decade));
        svg.push_str(&format!(r##"<line x1="{xx:.1}" y1="0" x2="{xx:.1}" y2="{}" stroke="#ddd"/><text x="{xx:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"##, h - 18.0, h - 5.0, fmt_us(10f64.powi(decade))));
    }
    for (i, c) in cells.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let color = if c.configuration.starts_with("native") {
            "#c0504d"
        } else if c.configuration == "bare" || c.configuration.starts_with("peer") {
            "#7f7f7f"
        } else {
            "#4f81bd"
        };
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text><rect class="bar" x="{left}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            left - 6.0, y + 13.0, esc(&c.configuration), x(c.median_micros) - left, row - 6.0, x(c.median_micros) + 4.0, y + 13.0, fmt_us(c.median_micros)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Stacked phase bars for noop, one bar per configuration.
fn phase_chart(r: &Report) -> String {
    let cells: Vec<&Cell> = r
        .cells
        .iter()
        .filter(|c| c.workload == "noop" && !c.phases.is_empty())
        .collect();
    let palette = [
        "#4f81bd", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646", "#2c4d75", "#772c2a",
        "#5f7530", "#4d3b62", "#276a7c", "#b65708", "#7f7f7f", "#bfbfbf",
    ];
    let (w, row, left) = (760.0, 26.0, 170.0);
    let h = row * cells.len() as f64 + 10.0;
    let mut svg = format!(
        r#"<svg class="chart phases" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="phase breakdown of noop">"#
    );
    for (i, c) in cells.iter().enumerate() {
        let total: f64 = c.phases.iter().map(|p| p.1).sum::<f64>().max(1.0);
        let y = i as f64 * row + 4.0;
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 14.0,
            esc(&c.configuration)
        ));
        let mut x = left;
        for (j, (name, micros)) in c.phases.iter().enumerate() {
            let width = micros / total * (w - left - 10.0);
            svg.push_str(&format!(
                r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                row - 8.0, palette[j % palette.len()], esc(name), fmt_us(*micros)
            ));
            if width > 40.0 {
                svg.push_str(&format!(
                    r##"<text x="{:.1}" y="{:.1}" font-size="9" fill="#fff">{}</text>"##,
                    x + 2.0,
                    y + 12.0,
                    esc(name)
                ));
            }
            x += width;
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Ratio of medians to bare, per configuration and workload (log scale around 1x).
fn ratio_chart(r: &Report) -> String {
    let cells: Vec<&Cell> = r
        .cells
        .iter()
        .filter(|c| c.ratio_to_bare.is_some() && c.configuration != "bare")
        .collect();
    let (w, row, left) = (760.0, 16.0, 230.0);
    let h = row * cells.len() as f64 + 24.0;
    let (lo, hi) = (-2.0f64, 2.0f64); // 0.01x .. 100x
    let x = |ratio: f64| {
        left + (ratio.max(1e-3).log10().clamp(lo, hi) - lo) / (hi - lo) * (w - left - 70.0)
    };
    let mut svg = format!(
        r#"<svg class="chart ratio" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="ratio to bare, log scale">"#
    );
    for (label, v) in [
        ("0.01x", 0.01),
        ("0.1x", 0.1),
        ("1x", 1.0),
        ("10x", 10.0),
        ("100x", 100.0),
    ] {
        let xx = x(v);
        svg.push_str(&format!(r##"<line x1="{xx:.1}" y1="0" x2="{xx:.1}" y2="{:.1}" stroke="{}"/><text x="{xx:.1}" y="{:.1}" font-size="10" text-anchor="middle">{label}</text>"##, h - 16.0, if v == 1.0 { "#333" } else { "#ddd" }, h - 4.0));
    }
    for (i, c) in cells.iter().enumerate() {
        let y = i as f64 * row + 2.0;
        let ratio = c.ratio_to_bare.unwrap_or(1.0);
        let (a, b) = if ratio >= 1.0 {
            (x(1.0), x(ratio))
        } else {
            (x(ratio), x(1.0))
        };
        let color = if ratio > 1.0 { "#c0504d" } else { "#9bbb59" };
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{} / {}</text><rect class="bar" x="{a:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="9">{}</text>"#,
            left - 4.0, y + 11.0, esc(&c.workload), esc(&c.configuration), (b - a).max(1.0), row - 4.0, b.max(a) + 3.0, y + 11.0, fmt_ratio(ratio)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars on a linear scale: (label, value, value text) per row.
fn bar_chart(class: &str, rows: &[(String, f64, String)], color: &str) -> String {
    let (w, row, left) = (760.0, 22.0, 220.0);
    let h = row * rows.len() as f64 + 10.0;
    let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
    let mut svg = format!(
        r#"<svg class="chart {class}" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{class}">"#
    );
    for (i, (label, value, text)) in rows.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let width = value / max * (w - left - 110.0);
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text><rect class="bar" x="{left}" y="{y:.1}" width="{width:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            left - 6.0, y + 13.0, esc(label), row - 6.0, left + width + 4.0, y + 13.0, esc(text)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn throughput_chart(r: &Report) -> String {
    let rows: Vec<_> = r
        .throughput
        .iter()
        .map(|t| {
            (
                format!("{} x{}", t.configuration, t.workers),
                t.per_second,
                format!("{:.0}/s", t.per_second),
            )
        })
        .collect();
    bar_chart("throughput", &rows, "#9bbb59")
}

fn density_chart(r: &Report) -> String {
    let rows: Vec<_> = r
        .density
        .iter()
        .map(|d| {
            (
                format!("{} x{}", d.configuration, d.sandboxes),
                d.bytes_per_sandbox as f64,
                format!("{} KiB each", d.bytes_per_sandbox / 1024),
            )
        })
        .collect();
    bar_chart("density", &rows, "#8064a2")
}

/// A self-contained HTML report (inline CSS and SVG; viewable offline).
pub fn render_html(r: &Report) -> String {
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>sandbox bench</h1><p>{} run on {} cores, kernel {}. Medians of repeated runs; ratios are against <code>bare</code> (plain fork/exec) in the same run.</p>",
        if r.quick { "Quick" } else { "Full" }, r.cores, esc(&r.kernel)
    ));
    body.push_str("<h2>Latency per configuration (log scale)</h2>");
    let mut workloads: Vec<&str> = Vec::new();
    for c in &r.cells {
        if !workloads.contains(&c.workload.as_str()) {
            workloads.push(&c.workload);
        }
    }
    for w in &workloads {
        body.push_str(&format!("<h3>{}</h3>{}", esc(w), latency_chart(r, w)));
    }
    body.push_str("<h2>Where the time goes (noop, mean per phase)</h2>");
    body.push_str(&phase_chart(r));
    body.push_str("<h2>Ratio to bare (log scale)</h2>");
    body.push_str(&ratio_chart(r));
    body.push_str("<table><tr><th>configuration</th>");
    for w in &workloads {
        body.push_str(&format!("<th>{}</th>", esc(w)));
    }
    body.push_str("</tr>");
    let mut configs: Vec<&str> = Vec::new();
    for c in &r.cells {
        if !configs.contains(&c.configuration.as_str()) {
            configs.push(&c.configuration);
        }
    }
    for conf in configs {
        body.push_str(&format!("<tr><td>{}</td>", esc(conf)));
        for w in &workloads {
            let v = r
                .cells
                .iter()
                .find(|c| c.configuration == conf && c.workload == *w)
                .and_then(|c| c.ratio_to_bare);
            body.push_str(&format!(
                "<td>{}</td>",
                v.map_or("-".into(), |v| format!("{v:.2}x"))
            ));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table><h2>Throughput (noop)</h2>");
    body.push_str(&throughput_chart(r));
    body.push_str("<h2>Density (memory per idle sandbox)</h2>");
    body.push_str(&density_chart(r));
    body.push_str("<h2>Targets</h2><ul>");
    for t in &r.targets {
        body.push_str(&format!(
            "<li class=\"{}\">{}: {} (goal {})</li>",
            if t.met { "met" } else { "missed" },
            esc(&t.name),
            esc(&t.measured),
            esc(&t.goal)
        ));
    }
    body.push_str("</ul>");
    for n in &r.notes {
        body.push_str(&format!("<p class=\"note\">{}</p>", esc(n)));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>sandbox bench</title><style>body{{font-family:sans-serif;max-width:820px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}.missed{{color:#c0504d}}.met{{color:#3a7d22}}</style></head><body>{body}</body></html>\n"
    )
}
