//! The native backend: `Policy` → `sandbox_native::NativeConfig`.

use crate::backend::{Prepared, Sandbox, Workload};
use crate::error::{Error, Result};
use crate::outcome::{ExitReason, Outcome, Phase, Usage};
use crate::policy::{Network, Policy, SeccompAction};
use sandbox_native::{Bind, NativeConfig, NativeError, NativeExit, NativeSandbox, SeccompMode};
use std::path::PathBuf;

/// Namespaces + pivot_root + cgroups + seccomp + dropped capabilities.
#[derive(Debug, Default, Clone)]
pub struct NativeBackend;

impl NativeBackend {
    pub fn new() -> NativeBackend {
        NativeBackend
    }

    /// Prepares from the backend's own config (after adjusting what `config` produced).
    pub fn prepare_config(config: NativeConfig, stdin: Vec<u8>) -> Result<Box<dyn Prepared>> {
        let sandbox = NativeSandbox::prepare(config).map_err(map_error)?;
        Ok(Box::new(NativePrepared { sandbox, stdin }))
    }

    /// The backend's own config for `policy` (public so embedders can inspect or adjust it).
    pub fn config(workload: &Workload, policy: &Policy) -> Result<NativeConfig> {
        let program = resolve(workload)?;
        let mut c = NativeConfig::new(program);
        c.args = policy.args.clone();
        c.env = policy
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(cwd) = &policy.cwd {
            c.cwd = cwd.clone();
        }
        c.binds = policy
            .grants()
            .map(|(g, writable)| Bind {
                host: g.host.clone(),
                guest: g.guest.clone(),
                writable,
            })
            .collect();
        c.hostname = policy.hostname.clone();
        c.network = match policy.network {
            Network::None => sandbox_native::Network::None,
            Network::Loopback => sandbox_native::Network::Loopback,
            Network::Host => sandbox_native::Network::None,
        };
        c.new_net_namespace = policy.network != Network::Host;
        c.seccomp = match policy.seccomp {
            SeccompAction::Errno => SeccompMode::Errno,
            SeccompAction::Kill => SeccompMode::KillProcess,
            SeccompAction::Disabled => SeccompMode::Disabled,
        };
        c.limits.memory_bytes = policy.memory_bytes;
        c.limits.max_pids = policy.max_pids;
        c.limits.cpu_cores = policy.cpus;
        c.limits.wall_time = policy.wall_time;
        c.limits.cpu_time = policy.cpu_time;
        c.limits.max_open_files = Some(1024);
        c.require_limits = policy.require_limits;
        c.landlock_scope = policy.landlock;
        c.stdout_cap = policy.stdout_cap;
        c.stderr_cap = policy.stderr_cap;
        Ok(c)
    }
}

fn resolve(workload: &Workload) -> Result<PathBuf> {
    match workload {
        Workload::Named(name) => crate::resolve_workload(name, workloads::Flavor::Native),
        Workload::Path(p) => Ok(p.clone()),
    }
}

fn map_error(e: NativeError) -> Error {
    match e {
        NativeError::ProgramMissing { .. }
        | NativeError::ProgramInvalid { .. }
        | NativeError::BadBind { .. }
        | NativeError::Config(_) => Error::bad_input(e.to_string()),
        other => Error::setup(other.to_string()),
    }
}

impl Sandbox for NativeBackend {
    fn name(&self) -> &str {
        "native"
    }

    fn prepare(&self, workload: &Workload, policy: &Policy) -> Result<Box<dyn Prepared>> {
        policy.validate()?;
        let config = NativeBackend::config(workload, policy)?;
        let sandbox = NativeSandbox::prepare(config).map_err(map_error)?;
        Ok(Box::new(NativePrepared {
            sandbox,
            stdin: policy.stdin.clone(),
        }))
    }
}

pub struct NativePrepared {
    sandbox: NativeSandbox,
    stdin: Vec<u8>,
}

impl Prepared for NativePrepared {
    fn run(&self) -> Result<Outcome> {
        let o = self.sandbox.run(&self.stdin).map_err(map_error)?;
        let exit = match o.exit {
            NativeExit::Exited(c) => ExitReason::Exited(c),
            NativeExit::Signaled(s) => ExitReason::Signaled(s),
            NativeExit::Timeout => ExitReason::Timeout,
            NativeExit::OutOfMemory => ExitReason::OutOfMemory,
            NativeExit::SeccompViolation => ExitReason::SeccompViolation,
        };
        let mut enforcement = self.enforcement();
        enforcement["pids_limit_hit"] = o.pids_limit_hit.into();
        Ok(Outcome {
            backend: "native".into(),
            exit,
            stdout: o.stdout,
            stderr: o.stderr,
            stdout_dropped: o.stdout_dropped,
            stderr_dropped: o.stderr_dropped,
            usage: Usage {
                user_micros: o.user_time.as_micros() as u64,
                sys_micros: o.sys_time.as_micros() as u64,
                peak_memory_bytes: o.peak_rss_bytes,
                host_memory_bytes: o.cgroup_peak_bytes,
            },
            phases: o.phases.iter().map(|(n, d)| Phase::new(*n, *d)).collect(),
            wall_micros: o.wall.as_micros() as u64,
            enforcement,
        })
    }

    fn prepare_phases(&self) -> Vec<Phase> {
        Vec::new()
    }

    fn enforcement(&self) -> serde_json::Value {
        serde_json::to_value(self.sandbox.enforcement()).unwrap_or_default()
    }
}
