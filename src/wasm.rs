//! The wasm backend: `Policy` → `sandbox_wasm::WasmConfig`.

use crate::backend::{Prepared, Sandbox, Workload};
use crate::error::{Error, Result};
use crate::outcome::{ExitReason, Outcome, Phase, Usage};
use crate::policy::{Network, Policy};
use sandbox_wasm::{
    EngineOptions, Preopen, WasmConfig, WasmEngine, WasmError, WasmExit, WasmNetwork, WasmPrepared,
};
use std::path::PathBuf;

/// wasmtime + WASI. Named workloads resolve to their preview 1 module, or to their WASI 0.2
/// component with `WasmBackend::components`.
pub struct WasmBackend {
    engine: WasmEngine,
    flavor: workloads::Flavor,
    name: &'static str,
}

impl WasmBackend {
    /// Core modules (WASI preview 1), default engine options (on-disk cache on).
    pub fn new() -> Result<WasmBackend> {
        WasmBackend::with_options(EngineOptions::default(), false)
    }

    /// Core modules on the pooling instance allocator: `instances` slots of `memory_bytes`
    /// each, reserved up front and reused run after run.
    pub fn pooled(instances: u32, memory_bytes: u64) -> Result<WasmBackend> {
        let options = EngineOptions {
            pooling_instances: Some(instances),
            pooling_memory_bytes: memory_bytes,
            ..EngineOptions::default()
        };
        let mut backend = WasmBackend::with_options(options, false)?;
        backend.name = "wasm-pooled";
        Ok(backend)
    }

    /// Instantiates `count` idle (never run) sandboxes of `workload` and holds them until the
    /// result is dropped: what an idle wasm sandbox costs.
    pub fn hold_idle(
        &self,
        workload: &Workload,
        policy: &Policy,
        count: usize,
    ) -> Result<sandbox_wasm::IdleInstances> {
        let wasm =
            std::fs::read(self.resolve(workload)?).map_err(|e| Error::bad_input(e.to_string()))?;
        let prepared = self
            .engine
            .prepare(&wasm, WasmBackend::config(workload, policy))
            .map_err(map_error)?;
        prepared.hold_idle(count).map_err(map_error)
    }

    /// Components (WASI 0.2) for named workloads.
    pub fn components() -> Result<WasmBackend> {
        let options = EngineOptions {
            // A component's core memories are only measurable when they are ours.
            measure_all_memories: true,
            ..EngineOptions::default()
        };
        WasmBackend::with_options(options, true)
    }

    pub fn with_options(options: EngineOptions, components: bool) -> Result<WasmBackend> {
        let engine = WasmEngine::new(options).map_err(|e| Error::setup(e.to_string()))?;
        let (flavor, name) = if components {
            (workloads::Flavor::WasiP2, "component")
        } else {
            (workloads::Flavor::WasiP1, "wasm")
        };
        Ok(WasmBackend {
            engine,
            flavor,
            name,
        })
    }

    /// The backend's own config for `policy`.
    pub fn config(workload: &Workload, policy: &Policy) -> WasmConfig {
        WasmConfig {
            args: policy.args.clone(),
            program_name: workload.display_name(),
            env: policy
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            cwd: policy.cwd.as_ref().map(|c| c.display().to_string()),
            preopens: policy
                .grants()
                .map(|(g, writable)| Preopen {
                    host: g.host.clone(),
                    guest: g.guest.display().to_string(),
                    writable,
                })
                .collect(),
            network: match policy.network {
                Network::None => WasmNetwork::None,
                Network::Loopback => WasmNetwork::Loopback,
                Network::Host => WasmNetwork::Any,
            },
            memory_bytes: policy.memory_bytes,
            // A wasm guest runs on one thread, so its CPU time never exceeds its wall time: a
            // CPU limit is enforced (conservatively) as the tighter wall-clock deadline.
            wall_time: match (policy.wall_time, policy.cpu_time) {
                (Some(w), Some(c)) => Some(w.min(c)),
                (w, c) => w.or(c),
            },
            stdout_cap: policy.stdout_cap,
            stderr_cap: policy.stderr_cap,
            ..WasmConfig::default()
        }
    }

    fn resolve(&self, workload: &Workload) -> Result<PathBuf> {
        match workload {
            Workload::Named(name) => crate::resolve_workload(name, self.flavor),
            Workload::Path(p) => Ok(p.clone()),
        }
    }
}

fn map_error(e: WasmError) -> Error {
    match e {
        WasmError::Engine(_) | WasmError::Runtime(_) => Error::setup(e.to_string()),
        other => Error::bad_input(other.to_string()),
    }
}

impl Sandbox for WasmBackend {
    fn name(&self) -> &str {
        self.name
    }

    fn prepare(&self, workload: &Workload, policy: &Policy) -> Result<Box<dyn Prepared>> {
        policy.validate()?;
        let options = self.engine.options();
        if let (Some(_), Some(memory)) = (options.pooling_instances, policy.memory_bytes)
            && memory > options.pooling_memory_bytes
        {
            return Err(Error::bad_input(format!(
                "memory limit {memory} exceeds the pool's slot size {}; lower the limit or size the pool for it",
                options.pooling_memory_bytes
            )));
        }
        let path = self.resolve(workload)?;
        let t = std::time::Instant::now();
        let wasm = std::fs::read(&path).map_err(|e| {
            Error::bad_input(format!(
                "program {}: {e}; give an existing .wasm file or a workload name",
                path.display()
            ))
        })?;
        let load = t.elapsed();
        let prepared = self
            .engine
            .prepare(&wasm, WasmBackend::config(workload, policy))
            .map_err(|e| match e {
                WasmError::NotWasm { .. } => Error::bad_input(format!(
                    "program {} is not a WebAssembly binary (bad magic); give a .wasm module or component",
                    path.display()
                )),
                e @ WasmError::CacheFile { .. } => {
                    Error::bad_input(format!("program {}: {e}", path.display()))
                }
                other => map_error(other),
            })?;
        let mut phases = vec![Phase::new("load", load)];
        phases.extend(
            prepared
                .prepare_phases()
                .iter()
                .map(|(n, d)| Phase::new(*n, *d)),
        );
        Ok(Box::new(WasmPreparedRun {
            inner: prepared,
            phases,
            stdin: policy.stdin.clone(),
            name: self.name,
        }))
    }
}

pub struct WasmPreparedRun {
    inner: WasmPrepared,
    phases: Vec<Phase>,
    stdin: Vec<u8>,
    name: &'static str,
}

impl Prepared for WasmPreparedRun {
    fn run(&self) -> Result<Outcome> {
        let o = self.inner.run(&self.stdin).map_err(map_error)?;
        let exit = match o.exit {
            WasmExit::Exited(c) => ExitReason::Exited(c),
            WasmExit::Trap(t) => ExitReason::Trap(t),
            WasmExit::Timeout => ExitReason::Timeout,
            WasmExit::OutOfFuel => ExitReason::OutOfFuel,
            WasmExit::OutOfMemory => ExitReason::OutOfMemory,
        };
        Ok(Outcome {
            backend: self.name.into(),
            exit,
            stdout: o.stdout,
            stderr: o.stderr,
            stdout_dropped: o.stdout_dropped,
            stderr_dropped: o.stderr_dropped,
            usage: Usage {
                user_micros: o.user_time.as_micros() as u64,
                sys_micros: o.sys_time.as_micros() as u64,
                peak_memory_bytes: o.peak_memory_bytes,
                host_memory_bytes: o.resident_memory_bytes,
            },
            phases: o.phases.iter().map(|(n, d)| Phase::new(*n, *d)).collect(),
            wall_micros: o.wall.as_micros() as u64,
            enforcement: self.enforcement(),
        })
    }

    fn prepare_phases(&self) -> Vec<Phase> {
        self.phases.clone()
    }

    fn enforcement(&self) -> serde_json::Value {
        serde_json::to_value(self.inner.enforcement()).unwrap_or_default()
    }
}
