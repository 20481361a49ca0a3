//! The `sandbox` command: run one program under a backend, list workloads, or compare the
//! backends side by side on the same workloads.

use clap::{Parser, Subcommand};
use sandbox::policy::{parse_duration, parse_size};
use sandbox::{Error, Network, Outcome, Policy, Workload};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit status when the sandbox itself could not be set up or the input was bad.
const SETUP_FAILED: u8 = 125;

#[derive(Parser)]
#[command(
    name = "sandbox",
    version,
    about = "Run the same workloads under native and wasm isolation and measure both"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one program (or a named workload) in a sandbox.
    Run(Box<RunArgs>),
    /// List the built-in workloads and their artifacts.
    Workloads,
    /// Run the workloads under every backend and print a side-by-side table.
    Compare(CompareArgs),
    /// Measure every configuration x workload against the bare process; table, JSON, HTML.
    Bench(BenchArgs),
    /// Run many sandboxes (serially or concurrently), then count what was left behind.
    Soak(SoakArgs),
    /// Run the escape-probe suite under each backend and print the isolation scorecard.
    Probe(ProbeArgs),
}

#[derive(Parser)]
struct ProbeArgs {
    /// native, wasm, component, or all.
    #[arg(long, default_value = "all")]
    backend: String,
    /// strict, default, permissive, or a TOML policy file.
    #[arg(long, default_value = "default")]
    policy: String,
    /// Write every result as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the scorecard as a Markdown table here.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

#[derive(Parser)]
struct SoakArgs {
    #[arg(long, default_value_t = 1000)]
    runs: u64,
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// native, wasm, component, or all.
    #[arg(long, default_value = "all")]
    backend: String,
    /// Write the reports as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Parser)]
struct BenchArgs {
    /// Fewer runs and smaller inputs (under 3 minutes on 2 cores).
    #[arg(long)]
    quick: bool,
    /// Comma-separated workloads (default: noop,hello,compute,fileio,alloc).
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Write every cell, the throughput and the targets as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report with SVG charts here.
    #[arg(long)]
    html: Option<PathBuf>,
}

#[derive(Parser)]
struct RunArgs {
    /// native, wasm (WASI preview 1 module) or component (WASI 0.2).
    #[arg(long, default_value = "native")]
    backend: String,
    /// A TOML policy file; the flags below override it.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Grant HOST read-only at GUEST (default: the same path).
    #[arg(long, value_name = "HOST[:GUEST]")]
    ro: Vec<String>,
    /// Grant HOST read-write at GUEST (default: the same path).
    #[arg(long, value_name = "HOST[:GUEST]")]
    rw: Vec<String>,
    /// Set a variable in the program's environment (repeatable); nothing else is passed.
    #[arg(long, value_name = "K=V")]
    env: Vec<String>,
    /// Working directory inside the sandbox.
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// Memory limit, e.g. 64MiB.
    #[arg(long, allow_hyphen_values = true)]
    memory: Option<String>,
    /// Wall-clock limit, e.g. 1s, 500ms.
    #[arg(long, allow_hyphen_values = true)]
    timeout: Option<String>,
    /// Most processes/threads (native).
    #[arg(long, allow_hyphen_values = true)]
    pids: Option<String>,
    /// CPU bandwidth in cores, e.g. 0.5 (native).
    #[arg(long, allow_hyphen_values = true)]
    cpus: Option<String>,
    /// Network: none (default), loopback only, or the host's (no network isolation).
    #[arg(long, value_name = "none|loopback|host")]
    net: Option<String>,
    /// Text given to the program on stdin.
    #[arg(long)]
    stdin: Option<String>,
    /// Write the outcome as JSON here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print a one-line summary (exit, wall time, phases) on stderr.
    #[arg(long, short)]
    verbose: bool,
    /// A built-in workload (see `sandbox workloads`) instead of PROGRAM.
    #[arg(long, conflicts_with = "program")]
    workload: Option<String>,
    /// The program: an ELF executable (native) or a .wasm file (wasm, component).
    program: Option<PathBuf>,
    /// Arguments for the program.
    #[arg(last = true)]
    args: Vec<String>,
}

#[derive(Parser)]
struct CompareArgs {
    /// Runs per cell (after one prepare).
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Comma-separated workloads.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "noop,hello,compute,fileio,alloc"
    )]
    workloads: Vec<String>,
    /// Also write every cell as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!(
                "sandbox: {} (see sandbox --help)",
                line.trim_start_matches("error: ")
            );
            return ExitCode::from(SETUP_FAILED);
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(*args),
        Command::Workloads => workloads_cmd(),
        Command::Compare(args) => compare(args),
        Command::Bench(args) => bench(args),
        Command::Soak(args) => soak(args),
        Command::Probe(args) => probe(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sandbox: {}", e.message);
            ExitCode::from(SETUP_FAILED)
        }
    }
}

fn probe(a: ProbeArgs) -> sandbox::Result<ExitCode> {
    use sandbox::probe;
    use std::io::IsTerminal;
    // The canary the `info.host-environment` probe hunts for, set before any thread exists.
    if std::env::var_os(probe::fixtures::CANARY_VAR).is_none() {
        let value = format!(
            "canary-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        );
        // SAFETY: no other thread runs yet (backends, and their epoch threads, come next).
        unsafe { std::env::set_var(probe::fixtures::CANARY_VAR, value) };
    }
    let backends = if a.backend == "all" {
        sandbox::all_backends()?
    } else {
        a.backend
            .split(',')
            .map(sandbox::backend)
            .collect::<sandbox::Result<Vec<_>>>()?
    };
    let policy = probe::SuitePolicy::parse(&a.policy);
    let total = probe::catalog().len() * backends.len();
    let mut done = 0;
    let tty = std::io::stderr().is_terminal();
    let results = probe::run_suite(&backends, &policy, |r| {
        done += 1;
        if tty {
            eprint!(
                "\r\x1b[K[{done}/{total}] {} {}: {}",
                r.backend,
                r.probe,
                r.verdict.label()
            );
        }
    })?;
    if tty {
        eprintln!();
    }
    print!(
        "{}",
        probe::table(&results, std::io::stdout().is_terminal())
    );
    if let Some(path) = &a.json {
        let text =
            serde_json::to_string_pretty(&results).map_err(|e| Error::setup(e.to_string()))?;
        std::fs::write(path, text)
            .map_err(|e| Error::setup(format!("writing {}: {e}", path.display())))?;
    }
    if let Some(path) = &a.markdown {
        std::fs::write(path, probe::markdown(&results))
            .map_err(|e| Error::setup(format!("writing {}: {e}", path.display())))?;
    }
    let escaped = probe::escapes(&results);
    let errors = results
        .iter()
        .filter(|r| r.verdict == probe::Verdict::Error)
        .count();
    println!(
        "policy {}: {} probes x {} backends, {escaped} escaped, {errors} errors",
        policy.name(),
        probe::catalog().len(),
        backends.len()
    );
    Ok(if (escaped > 0 && !policy.is_permissive()) || errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn grant(spec: &str) -> sandbox::Grant {
    let (host, guest) = match spec.split_once(':') {
        Some((h, g)) => (h, g),
        None => (spec, spec),
    };
    sandbox::Grant {
        host: PathBuf::from(host),
        guest: PathBuf::from(guest),
    }
}

fn build_policy(a: &RunArgs) -> sandbox::Result<Policy> {
    let mut p = match &a.policy {
        Some(file) => Policy::from_file(file)?,
        None => Policy::default(),
    };
    p.read_only.extend(a.ro.iter().map(|s| grant(s)));
    p.read_write.extend(a.rw.iter().map(|s| grant(s)));
    for kv in &a.env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Error::bad_input(format!("--env {kv:?}: expected KEY=VALUE")))?;
        p.env.insert(k.into(), v.into());
    }
    if let Some(cwd) = &a.cwd {
        p.cwd = Some(cwd.clone());
    }
    if let Some(m) = &a.memory {
        p.memory_bytes =
            Some(parse_size(m).map_err(|e| Error::bad_input(format!("--memory: {}", e.message)))?);
    }
    if let Some(t) = &a.timeout {
        p.wall_time = Some(
            parse_duration(t).map_err(|e| Error::bad_input(format!("--timeout: {}", e.message)))?,
        );
    }
    if let Some(n) = &a.pids {
        let n: u64 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            Error::bad_input(format!("--pids {n:?}: expected a whole number above 0"))
        })?;
        p.max_pids = Some(n);
    }
    if let Some(c) = &a.cpus {
        let c: f64 = c.parse().map_err(|_| {
            Error::bad_input(format!(
                "--cpus {c:?}: expected a number of cores, e.g. 0.5"
            ))
        })?;
        p.cpus = Some(c);
    }
    if let Some(net) = &a.net {
        p.network = match net.as_str() {
            "none" => Network::None,
            "loopback" => Network::Loopback,
            "host" => Network::Host,
            other => {
                return Err(Error::bad_input(format!(
                    "--net {other:?}: use none or loopback"
                )));
            }
        };
    }
    if let Some(s) = &a.stdin {
        p.stdin = s.clone().into_bytes();
    }
    if !a.args.is_empty() {
        p.args = a.args.clone();
    }
    p.validate()?;
    Ok(p)
}

fn run(a: RunArgs) -> sandbox::Result<ExitCode> {
    let policy = build_policy(&a)?;
    let workload = match (&a.workload, &a.program) {
        (Some(name), None) => Workload::named(name),
        (None, Some(path)) => Workload::path(path),
        _ => return Err(Error::bad_input("give a PROGRAM or --workload NAME")),
    };
    let backend = sandbox::backend(&a.backend)?;
    let prepared = backend.prepare(&workload, &policy)?;
    let outcome = prepared.run()?;
    let mut report = outcome.clone();
    report.phases = prepared
        .prepare_phases()
        .into_iter()
        .chain(outcome.phases.iter().cloned())
        .collect();
    let _ = std::io::stdout().write_all(&outcome.stdout);
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(&outcome.stderr);
    if a.verbose {
        let phases: Vec<String> = report
            .phases
            .iter()
            .map(|p| format!("{}={}us", p.name, p.micros))
            .collect();
        eprintln!(
            "sandbox: {} {} in {}us [{}]",
            backend.name(),
            outcome.exit,
            outcome.wall_micros,
            phases.join(" ")
        );
    }
    if let Some(path) = &a.report {
        let json = serde_json::to_string_pretty(&report).expect("outcome serializes");
        std::fs::write(path, json + "\n")
            .map_err(|e| Error::bad_input(format!("--report {}: {e}", path.display())))?;
    }
    Ok(ExitCode::from(
        outcome.exit.exit_status().clamp(0, 255) as u8
    ))
}

fn workloads_cmd() -> sandbox::Result<ExitCode> {
    println!(
        "{:<8} {:<44} artifacts (native, wasip1, wasip2)",
        "name", "what"
    );
    for w in sandbox::workloads::ALL {
        println!("{:<8} {:<44}", w.name, w.summary);
        for flavor in sandbox::workloads::Flavor::ALL {
            let Some(path) = sandbox::workloads::artifact(w.name, flavor) else {
                println!(
                    "         {:<7} (none: this workload exists only as a component)",
                    flavor.name()
                );
                continue;
            };
            let mark = if path.is_file() {
                ""
            } else {
                "  (missing: rebuild)"
            };
            println!("         {:<7} {}{mark}", flavor.name(), path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct Cell {
    workload: String,
    backend: String,
    exit: String,
    stdout_matches_native: bool,
    prepare_micros: u64,
    runs: usize,
    median_micros: u64,
    min_micros: u64,
    max_micros: u64,
    user_micros: u64,
    sys_micros: u64,
    peak_memory_bytes: u64,
    stdout: String,
}

fn median(sorted: &[u64]) -> u64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

fn compare(a: CompareArgs) -> sandbox::Result<ExitCode> {
    if a.runs == 0 {
        return Err(Error::bad_input("--runs must be at least 1"));
    }
    let scratch = sandbox::scratch::ScratchDir::new("compare")?;
    let backends = sandbox::all_backends()?;
    let mut cells = Vec::new();
    let mut mismatches = 0;
    let total = a.workloads.len() * backends.len();
    eprintln!(
        "comparing {} workloads x {} backends, {} runs each",
        a.workloads.len(),
        backends.len(),
        a.runs
    );
    for name in &a.workloads {
        let info = sandbox::workloads::info(name)
            .ok_or_else(|| Error::bad_input(format!("unknown workload {name:?}")))?;
        let mut builder = Policy::builder().read_write(scratch.path(), "/data");
        builder = match info.name {
            "fileio" => builder.args(["/data", "64"]),
            _ => builder.args(info.default_args.iter().copied()),
        };
        let policy = builder.build()?;
        let mut native_stdout: Option<Vec<u8>> = None;
        for backend in &backends {
            eprint!(
                "\r[{:>2}/{total}] {name} under {}...          ",
                cells.len() + 1,
                backend.name()
            );
            let t = Instant::now();
            let prepared = backend.prepare(&Workload::named(name), &policy)?;
            let prepare = t.elapsed();
            let mut walls = Vec::with_capacity(a.runs);
            let mut last: Option<Outcome> = None;
            for _ in 0..a.runs {
                let o = prepared.run()?;
                walls.push(o.wall_micros);
                last = Some(o);
            }
            let o = last.unwrap();
            walls.sort_unstable();
            let matches = match &native_stdout {
                None => {
                    native_stdout = Some(o.stdout.clone());
                    true
                }
                Some(n) => *n == o.stdout,
            };
            if !matches {
                mismatches += 1;
            }
            cells.push(Cell {
                workload: name.clone(),
                backend: backend.name().to_string(),
                exit: o.exit.to_string(),
                stdout_matches_native: matches,
                prepare_micros: prepare.as_micros() as u64,
                runs: a.runs,
                median_micros: median(&walls),
                min_micros: walls[0],
                max_micros: *walls.last().unwrap(),
                user_micros: o.usage.user_micros,
                sys_micros: o.usage.sys_micros,
                peak_memory_bytes: o.usage.peak_memory_bytes,
                stdout: String::from_utf8_lossy(&o.stdout).trim_end().to_string(),
            });
        }
    }
    eprintln!("\r{:60}", "");
    print_table(&cells);
    if let Some(path) = &a.json {
        let json = serde_json::to_string_pretty(&cells).expect("cells serialize");
        std::fs::write(path, json + "\n")
            .map_err(|e| Error::bad_input(format!("--json {}: {e}", path.display())))?;
    }
    if mismatches > 0 {
        eprintln!("sandbox: {mismatches} cell(s) printed something other than the native run");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn fmt_micros(us: u64) -> String {
    let d = Duration::from_micros(us);
    if us >= 1_000_000 {
        format!("{:.2} s", d.as_secs_f64())
    } else if us >= 1000 {
        format!("{:.2} ms", us as f64 / 1000.0)
    } else {
        format!("{us} us")
    }
}

fn print_table(cells: &[Cell]) {
    println!(
        "{:<8} {:<10} {:<9} {:>10} {:>11} {:>10} {:>9} {:>9} {:>9}  {:<5} stdout",
        "workload",
        "backend",
        "exit",
        "prepare",
        "median run",
        "x native",
        "user",
        "sys",
        "peak MiB",
        "same"
    );
    let mut native_median = 0;
    for c in cells {
        if c.backend == "native" {
            native_median = c.median_micros.max(1);
        }
        let stdout: String = c
            .stdout
            .lines()
            .last()
            .unwrap_or("")
            .chars()
            .take(48)
            .collect();
        println!(
            "{:<8} {:<10} {:<9} {:>10} {:>11} {:>9.2}x {:>9} {:>9} {:>9.1}  {:<5} {}",
            c.workload,
            c.backend,
            c.exit,
            fmt_micros(c.prepare_micros),
            fmt_micros(c.median_micros),
            c.median_micros as f64 / native_median as f64,
            fmt_micros(c.user_micros),
            fmt_micros(c.sys_micros),
            c.peak_memory_bytes as f64 / (1 << 20) as f64,
            if c.stdout_matches_native { "yes" } else { "NO" },
            stdout
        );
    }
}

fn bench(a: BenchArgs) -> sandbox::Result<ExitCode> {
    let workloads = if a.workloads.is_empty() {
        sandbox::bench::WORKLOADS
            .iter()
            .map(|w| w.to_string())
            .collect()
    } else {
        a.workloads.clone()
    };
    let options = sandbox::bench::BenchOptions {
        quick: a.quick,
        workloads,
    };
    let started = Instant::now();
    let report = sandbox::bench::run(&options, |done, total, what| {
        let width = 30;
        let filled = done * width / total.max(1);
        eprint!(
            "\r[{}{}] {done:>3}/{total} {:>5.0}s  {what:<48}",
            "#".repeat(filled),
            ".".repeat(width - filled),
            started.elapsed().as_secs_f64()
        );
    })?;
    eprintln!();
    print!("{}", sandbox::bench::render_table(&report));
    if let Some(path) = &a.json {
        let json = serde_json::to_string_pretty(&report).expect("report serializes");
        std::fs::write(path, json + "\n")
            .map_err(|e| Error::bad_input(format!("--json {}: {e}", path.display())))?;
    }
    if let Some(path) = &a.html {
        std::fs::write(path, sandbox::bench::render_html(&report))
            .map_err(|e| Error::bad_input(format!("--html {}: {e}", path.display())))?;
    }
    eprintln!("bench finished in {:.0} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn soak(a: SoakArgs) -> sandbox::Result<ExitCode> {
    if a.runs == 0 || a.workers == 0 {
        return Err(Error::bad_input("--runs and --workers must be at least 1"));
    }
    let backends = match a.backend.as_str() {
        "all" => sandbox::all_backends()?,
        name => vec![sandbox::backend(name)?],
    };
    let policy = Policy::builder().args(["soak"]).build()?;
    let expect =
        |o: &Outcome| o.exit == sandbox::ExitReason::Exited(0) && o.stdout == b"hello soak\n";
    let mut reports = Vec::new();
    let mut clean = true;
    println!(
        "{:<10} {:>7} {:>7} {:>8} {:>8} {:>9} {:>8} {:>7} {:>5} {:>5} {:>12}",
        "backend",
        "runs",
        "workers",
        "failed",
        "seconds",
        "leftover",
        "cgroups",
        "mounts",
        "fds",
        "tmp",
        "RSS drift"
    );
    for backend in &backends {
        let name = backend.name().to_string();
        let report = sandbox::soak::soak(
            backend.as_ref(),
            &Workload::named("hello"),
            &policy,
            a.runs,
            a.workers,
            &expect,
            &|n| {
                eprint!("\r{name}: {n}/{} runs   ", a.runs);
            },
        )?;
        eprint!("\r{:40}\r", "");
        let (b, e) = (&report.before, &report.after);
        let drift = report.rss_end_bytes as i64 - report.rss_settled_bytes as i64;
        println!(
            "{:<10} {:>7} {:>7} {:>8} {:>8.2} {:>9} {:>8} {:>7} {:>5} {:>5} {:>9.2} MiB",
            report.backend,
            report.runs,
            report.workers,
            report.failures,
            report.seconds,
            e.child_processes as i64 - b.child_processes as i64,
            e.cgroup_dirs.len() as i64 - b.cgroup_dirs.len() as i64,
            e.mounts as i64 - b.mounts as i64,
            e.open_fds as i64 - b.open_fds as i64,
            e.temp_dirs as i64 - b.temp_dirs as i64,
            drift as f64 / (1 << 20) as f64
        );
        clean &= report.clean(10 << 20);
        reports.push(report);
    }
    if let Some(path) = &a.json {
        let json = serde_json::to_string_pretty(&reports).expect("reports serialize");
        std::fs::write(path, json + "\n")
            .map_err(|e| Error::bad_input(format!("--json {}: {e}", path.display())))?;
    }
    if !clean {
        eprintln!("sandbox: soak found failures or leftovers (see the table)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
