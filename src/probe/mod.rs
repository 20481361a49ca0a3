//! The isolation scorecard: escape probes run through the `Sandbox` trait under every backend
//! with the same policy, each judged by a fact the host checks (`sandbox probe`).
//!
//! Verdicts: `blocked` (with the layer that stopped it), `contained` (a resource probe ended
//! by its limit, the host unaffected), `escaped` (the goal was reached), `unrepresentable`
//! (the model cannot even express the attempt: WASI has no import for it), `error`. The
//! informational probes (kernel version, CPU model, boot id, timer resolution) say `exposed`
//! or `hidden` and are scored apart: a shared kernel cannot hide them.

mod catalog;
pub mod fixtures;

use crate::backend::{Sandbox, Workload};
use crate::error::{Error, Result};
use crate::outcome::{ExitReason, Outcome};
use crate::policy::{Network, Policy, SeccompAction};
use catalog::{Ctx, Goal, ProbeDef};
use fixtures::{Fixtures, Observation, Observer};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    Filesystem,
    Processes,
    Network,
    IpcKernel,
    Resources,
    Information,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Filesystem,
        Group::Processes,
        Group::Network,
        Group::IpcKernel,
        Group::Resources,
        Group::Information,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Group::Filesystem => "filesystem",
            Group::Processes => "processes",
            Group::Network => "network",
            Group::IpcKernel => "ipc-kernel",
            Group::Resources => "resources",
            Group::Information => "information",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An escape attempt: blocked, escaped or unrepresentable.
    Attack,
    /// Exhausts a resource: contained or escaped.
    Resource,
    /// Learns a fact a shared kernel cannot hide: exposed or hidden, scored apart.
    Informational,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Blocked,
    Contained,
    Escaped,
    Unrepresentable,
    Error,
    Exposed,
    Hidden,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Blocked => "blocked",
            Verdict::Contained => "contained",
            Verdict::Escaped => "escaped",
            Verdict::Unrepresentable => "unrepresentable",
            Verdict::Error => "error",
            Verdict::Exposed => "exposed",
            Verdict::Hidden => "hidden",
        }
    }
    fn colour(self) -> &'static str {
        match self {
            Verdict::Blocked | Verdict::Contained | Verdict::Hidden => "\x1b[32m",
            Verdict::Unrepresentable => "\x1b[36m",
            Verdict::Escaped | Verdict::Error => "\x1b[1;31m",
            Verdict::Exposed => "\x1b[33m",
        }
    }
}

/// One probe under one backend.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub probe: String,
    pub group: Group,
    pub backend: String,
    pub verdict: Verdict,
    pub layer: Option<String>,
    pub detail: String,
    /// Informational probes are not counted as escapes.
    pub scored: bool,
}

/// The policies the suite knows by name (the harness adds its grants to each).
#[derive(Debug, Clone)]
pub enum SuitePolicy {
    /// Seccomp kills, 64 MiB, 32 tasks.
    Strict,
    /// `Policy::default()` limits, 256 MiB.
    Default,
    /// Host root read-only at /host, host network, no seccomp: the proof that probes can
    /// escape. User, mount, pid, uts and ipc namespaces stay private.
    Permissive,
    File(PathBuf),
}

impl SuitePolicy {
    pub fn parse(s: &str) -> SuitePolicy {
        match s {
            "strict" => SuitePolicy::Strict,
            "default" => SuitePolicy::Default,
            "permissive" => SuitePolicy::Permissive,
            path => SuitePolicy::File(path.into()),
        }
    }
    pub fn name(&self) -> String {
        match self {
            SuitePolicy::Strict => "strict".into(),
            SuitePolicy::Default => "default".into(),
            SuitePolicy::Permissive => "permissive".into(),
            SuitePolicy::File(p) => p.display().to_string(),
        }
    }
    pub fn is_permissive(&self) -> bool {
        matches!(self, SuitePolicy::Permissive)
    }

    /// The policy before the harness's grants; every probe runs with a 2 s wall limit.
    fn base(&self) -> Result<Policy> {
        let mut p = match self {
            SuitePolicy::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::bad_input(format!("policy {}: {e}", path.display())))?;
                Policy::from_toml(&text)?
            }
            _ => Policy::default(),
        };
        p.wall_time = Some(p.wall_time.map_or(PROBE_TIMEOUT, |t| t.min(PROBE_TIMEOUT)));
        match self {
            SuitePolicy::Strict => {
                p.seccomp = SeccompAction::Kill;
                p.memory_bytes = Some(64 << 20);
                p.max_pids = Some(32);
            }
            SuitePolicy::Default => p.memory_bytes = Some(256 << 20),
            SuitePolicy::Permissive => {
                p.memory_bytes = Some(256 << 20);
                p.seccomp = SeccompAction::Disabled;
                p.landlock = false;
                p.network = Network::Host;
                p.read_only.push(crate::policy::Grant {
                    host: "/".into(),
                    guest: "/host".into(),
                });
            }
            SuitePolicy::File(_) => {}
        }
        Ok(p)
    }
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const HOLD_MS: &str = "150";

/// The probes of the suite, in order: (name, group, scored, what escaping means).
pub fn catalog() -> Vec<(&'static str, Group, bool, &'static str)> {
    catalog::all()
        .iter()
        .map(|d| (d.name, d.group, d.kind != Kind::Informational, d.goal))
        .collect()
}

/// Runs every probe under every backend; `progress` sees each result as it comes.
pub fn run_suite(
    backends: &[Box<dyn Sandbox>],
    policy: &SuitePolicy,
    mut progress: impl FnMut(&ProbeResult),
) -> Result<Vec<ProbeResult>> {
    let canary = crate::resolve_workload("cat", workloads::Flavor::Native)?;
    let fx = Fixtures::plant(&canary)?;
    let mut base = policy.base()?;
    base.read_only.push(crate::policy::Grant {
        host: fx.data.clone(),
        guest: "/data".into(),
    });
    base.read_write.push(crate::policy::Grant {
        host: fx.work.clone(),
        guest: "/work".into(),
    });
    base.validate()?;
    // One clear refusal up front (e.g. limits that cannot be enforced rootless) rather than
    // the same error in every cell.
    for backend in backends {
        backend
            .prepare(&Workload::named("probe"), &base)
            .map_err(|e| {
                let mut e = e;
                e.message = format!(
                    "{}: {}{}",
                    backend.name(),
                    e.message,
                    if e.message.contains("cannot enforce") {
                        "; or probe with a policy file that sets require_limits = false"
                    } else {
                        ""
                    }
                );
                e
            })?;
    }
    let defs = catalog::all();
    let mut results = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        for backend in backends {
            let r = run_one(backend.as_ref(), def, i, &fx, &base);
            progress(&r);
            results.push(r);
        }
    }
    Ok(results)
}

fn run_one(
    backend: &dyn Sandbox,
    def: &ProbeDef,
    index: usize,
    fx: &Fixtures,
    base: &Policy,
) -> ProbeResult {
    let native = backend.name() == "native";
    let marker = format!("pb{}{index:02}", &fx.token[..8]);
    let mut policy = base.clone();
    let args = (def.args)(fx);
    policy.args = std::iter::once(def.action.to_string())
        .chain(args.iter().cloned())
        .collect();
    if def.hold {
        policy.env.insert("PROBE_MARKER".into(), marker.clone());
        policy.env.insert("PROBE_HOLD_MS".into(), HOLD_MS.into());
    }
    let mut result = ProbeResult {
        probe: def.name.into(),
        group: def.group,
        backend: backend.name().into(),
        verdict: Verdict::Error,
        layer: None,
        detail: String::new(),
        scored: def.kind != Kind::Informational,
    };
    let prepared = match backend.prepare(&Workload::named("probe"), &policy) {
        Ok(p) => p,
        Err(e) => {
            result.detail = format!("prepare: {e}");
            return result;
        }
    };
    let port = def
        .watch_port
        .then(|| args.first().and_then(|p| p.parse().ok()))
        .flatten();
    let rss_before = rss_bytes();
    let observer = (native || port.is_some()).then(|| Observer::start(marker.clone(), port));
    let outcome = prepared.run();
    let obs = observer.map(Observer::finish).unwrap_or_default();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            result.detail = format!("run: {e}");
            return result;
        }
    };
    judge(
        def,
        &mut result,
        fx,
        &outcome,
        &obs,
        native,
        &policy,
        rss_before,
    );
    result
}

#[allow(clippy::too_many_arguments)]
fn judge(
    def: &ProbeDef,
    r: &mut ProbeResult,
    fx: &Fixtures,
    out: &Outcome,
    obs: &Observation,
    native: bool,
    policy: &Policy,
    rss_before: u64,
) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let hint = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("result: "))
        .map(str::to_string);
    let ctx = Ctx {
        fx,
        out,
        stdout: &stdout,
        obs,
        native,
        wall_limit: policy.wall_time.unwrap_or(PROBE_TIMEOUT),
        stdout_cap: policy.stdout_cap,
        memory_limit: policy.memory_bytes,
        rss_before,
    };
    let goal = (def.check)(&ctx);
    let unrepresentable = hint
        .as_deref()
        .and_then(|h| h.strip_prefix("unrepresentable "));
    let layer = def.layers[match (native, policy.seccomp) {
        (true, SeccompAction::Disabled) => 1,
        (true, _) => 0,
        (false, _) => 2,
    }];
    let (verdict, layer, detail) = match goal {
        Goal::Reached(d) if def.kind == Kind::Informational => (Verdict::Exposed, None, d),
        Goal::Reached(d) => (Verdict::Escaped, None, d),
        Goal::Unknown(d) => (Verdict::Error, None, d),
        Goal::Contained(l, d) => (Verdict::Contained, Some(l), d),
        Goal::Safe => match (unrepresentable, &out.exit) {
            (Some(why), _) => (Verdict::Unrepresentable, Some("wasi-no-import"), why.into()),
            (None, ExitReason::SeccompViolation) => (
                Verdict::Blocked,
                Some("seccomp"),
                "killed by the seccomp filter".into(),
            ),
            _ if def.kind == Kind::Informational => {
                (Verdict::Hidden, Some(layer), hint.unwrap_or_default())
            }
            (None, _) => match hint {
                Some(h) => (Verdict::Blocked, Some(layer), h),
                None => (
                    Verdict::Error,
                    None,
                    format!(
                        "no report from the probe ({}): {}",
                        out.exit,
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                ),
            },
        },
    };
    r.verdict = verdict;
    r.layer = layer.map(str::to_string);
    r.detail = detail.chars().take(160).collect();
}

/// This process's resident set, in bytes.
pub(crate) fn rss_bytes() -> u64 {
    crate::soak::rss_bytes()
}

/// Counts per verdict, for one backend (and optionally one group).
pub fn count(results: &[ProbeResult], backend: &str, group: Option<Group>, v: Verdict) -> usize {
    results
        .iter()
        .filter(|r| r.backend == backend && group.is_none_or(|g| r.group == g) && r.verdict == v)
        .count()
}

/// Scored escapes (what decides the exit status).
pub fn escapes(results: &[ProbeResult]) -> usize {
    results
        .iter()
        .filter(|r| r.scored && r.verdict == Verdict::Escaped)
        .count()
}

fn backends_of(results: &[ProbeResult]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in results {
        if !names.contains(&r.backend) {
            names.push(r.backend.clone());
        }
    }
    names
}

fn cell(r: Option<&ProbeResult>) -> String {
    match r {
        None => "-".into(),
        Some(r) => match &r.layer {
            Some(l) => format!("{} ({l})", r.verdict.label()),
            None => r.verdict.label().into(),
        },
    }
}

/// The probe x backend table for a terminal (coloured when `colour`).
pub fn table(results: &[ProbeResult], colour: bool) -> String {
    let backends = backends_of(results);
    let mut probes: Vec<&str> = Vec::new();
    for r in results {
        if !probes.contains(&r.probe.as_str()) {
            probes.push(&r.probe);
        }
    }
    let width = probes.iter().map(|p| p.len()).max().unwrap_or(5).max(5);
    let col = 30;
    let mut s = format!("{:width$}", "probe");
    for b in &backends {
        s += &format!("  {b:col$}");
    }
    s += "\n";
    for p in &probes {
        s += &format!("{p:width$}");
        for b in &backends {
            let r = results.iter().find(|r| r.probe == *p && &r.backend == b);
            let text = cell(r);
            match r {
                Some(r) if colour => {
                    s += &format!("  {}{text:col$}\x1b[0m", r.verdict.colour());
                }
                _ => s += &format!("  {text:col$}"),
            }
        }
        s += "\n";
    }
    s += "\n";
    s += &totals(results);
    s
}

/// Totals per group and backend: blocked+contained / unrepresentable / escaped / error.
pub fn totals(results: &[ProbeResult]) -> String {
    let backends = backends_of(results);
    let mut s = format!("{:12}", "group");
    for b in &backends {
        s += &format!("  {b:>38}");
    }
    s += "\n";
    for g in Group::ALL {
        s += &format!("{:12}", g.label());
        for b in &backends {
            let c = |v| count(results, b, Some(g), v);
            let held = c(Verdict::Blocked) + c(Verdict::Contained);
            s += &format!(
                "  {:>38}",
                format!(
                    "{held} held, {} unrepr., {} escaped, {} error",
                    c(Verdict::Unrepresentable),
                    c(Verdict::Escaped),
                    c(Verdict::Error)
                )
            );
        }
        s += "\n";
    }
    s += &format!("{:12}", "exposed info");
    for b in &backends {
        s += &format!(
            "  {:>38}",
            format!(
                "{} exposed, {} hidden",
                count(results, b, None, Verdict::Exposed),
                count(results, b, None, Verdict::Hidden)
            )
        );
    }
    s + "\n"
}

/// The same as a Markdown table (for the README).
pub fn markdown(results: &[ProbeResult]) -> String {
    let backends = backends_of(results);
    let mut s = String::from("| group | probe |");
    for b in &backends {
        s += &format!(" {b} |");
    }
    s += "\n|---|---|";
    for _ in &backends {
        s += "---|";
    }
    s += "\n";
    let mut seen: Vec<&str> = Vec::new();
    for r in results {
        if seen.contains(&r.probe.as_str()) {
            continue;
        }
        seen.push(&r.probe);
        s += &format!("| {} | `{}` |", r.group.label(), r.probe);
        for b in &backends {
            let c = results
                .iter()
                .find(|x| x.probe == r.probe && &x.backend == b);
            s += &format!(" {} |", cell(c));
        }
        s += "\n";
    }
    s
}
