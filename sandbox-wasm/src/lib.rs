//! `sandbox-wasm`: run WASI programs (preview 1 core modules and WASI 0.2 components) under
//! wasmtime with nothing granted but what the config says, under memory, table, instance,
//! wall-clock (epoch) and optional fuel limits, with a validated on-disk compile cache.
//!
//! ```no_run
//! use sandbox_wasm::{EngineOptions, WasmConfig, WasmEngine};
//! let engine = WasmEngine::new(EngineOptions::default())?;
//! let wasm = std::fs::read("hello.wasm").unwrap();
//! let prepared = engine.prepare(&wasm, WasmConfig::default())?; // compile or load, link
//! let outcome = prepared.run(b"")?;                              // instantiate + run
//! println!("{:?}", outcome.exit);
//! # Ok::<(), sandbox_wasm::WasmError>(())
//! ```

mod cache;
mod config;
mod deadline;
mod memory;
mod stdio;

pub use config::{EngineOptions, Preopen, WasmConfig, WasmNetwork, default_cache_dir};

use cache::{ArtifactCache, Lookup};
use deadline::{GuestClock, RunDeadline};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use stdio::CappedPipe;
use wasmtime::component::{Component, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig, ResourceLimiter,
    Store,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    #[error("{what} is not a WebAssembly binary (bad magic); give a .wasm module or component")]
    NotWasm { what: String },
    #[error(
        "this is a sandbox compile-cache file ({state}), not a WebAssembly binary; give the .wasm \
         it was compiled from (the cache is used automatically; damaged entries are rebuilt)"
    )]
    CacheFile { state: String },
    #[error("invalid wasm: {0}")]
    Invalid(String),
    #[error("cannot link: {0}; the program needs an import this sandbox does not provide")]
    Link(String),
    #[error("preopen {path}: {why}")]
    Preopen { path: String, why: String },
    #[error("engine: {0}")]
    Engine(String),
    #[error("runtime: {0}")]
    Runtime(String),
}

pub type Result<T> = std::result::Result<T, WasmError>;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum WasmExit {
    Exited(i32),
    /// A trap, named (unreachable, memory out of bounds, call stack exhausted, ...).
    Trap(String),
    Timeout,
    /// Fuel ran out (deterministic CPU budget).
    OutOfFuel,
    OutOfMemory,
}

/// What the instance was granted and limited by.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WasmEnforcement {
    pub kind: &'static str,
    /// "guest path <- host path (ro|rw)".
    pub preopens: Vec<String>,
    pub network: &'static str,
    pub limits: Vec<String>,
    pub pooling: bool,
    pub cache: &'static str,
    pub ambient: &'static str,
    /// Every import: the complete list of what the guest can call.
    pub imports: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct WasmOutcome {
    pub exit: WasmExit,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
    pub user_time: Duration,
    pub sys_time: Duration,
    /// Largest linear-memory size reached.
    pub peak_memory_bytes: u64,
    /// Host memory the linear memory really occupied at the end of the run: its resident
    /// pages (core modules; `None` for components, whose memories are not exported).
    pub resident_memory_bytes: Option<u64>,
    pub phases: Vec<(&'static str, Duration)>,
    pub wall: Duration,
}

/// One wasmtime engine plus its epoch ticker thread (stopped on drop).
pub struct WasmEngine {
    engine: Engine,
    options: EngineOptions,
    cache: Option<ArtifactCache>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for WasmEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl WasmEngine {
    pub fn new(options: EngineOptions) -> Result<WasmEngine> {
        let mut config = Config::new();
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        config.epoch_interruption(true);
        config.consume_fuel(options.fuel);
        config.wasm_component_model(true);
        let measure_all = options.measure_all_memories && options.pooling_instances.is_none();
        if measure_all {
            config.with_host_memory(Arc::new(memory::TrackedMemoryCreator));
            // Copy-on-write images need wasmtime's own mmap memories.
            config.memory_init_cow(false);
        }
        if let Some(slots) = options.pooling_instances {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_core_instances(slots)
                .total_component_instances(slots)
                .total_memories(slots)
                .total_tables(slots)
                .total_stacks(slots)
                .max_memory_size(options.pooling_memory_bytes as usize);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(|e| WasmError::Engine(e.to_string()))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            let tick = options.epoch_tick;
            std::thread::Builder::new()
                .name("sandbox-wasm-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| WasmError::Engine(format!("epoch thread: {e}")))?;
        }
        let cache = options.cache_dir.clone().map(ArtifactCache::new);
        Ok(WasmEngine {
            engine,
            options,
            cache,
            ticker_stop,
        })
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Compiles (or loads from the cache) and pre-links `wasm` for runs under `config`.
    pub fn prepare(&self, wasm: &[u8], config: WasmConfig) -> Result<WasmPrepared> {
        let t0 = Instant::now();
        if let Some(state) = cache::describe(wasm) {
            return Err(WasmError::CacheFile { state });
        }
        let is_component = match wasm.get(..8) {
            Some([0, b'a', b's', b'm', _, _, 0, 0]) => false,
            Some([0, b'a', b's', b'm', _, _, 1, 0]) => true,
            _ => {
                return Err(WasmError::NotWasm {
                    what: format!("input of {} bytes", wasm.len()),
                });
            }
        };
        for p in &config.preopens {
            if !p.host.is_dir() {
                return Err(WasmError::Preopen {
                    path: p.host.display().to_string(),
                    why: "not an existing directory".into(),
                });
            }
        }
        let kind = if is_component { "component" } else { "module" };
        let key = self
            .cache
            .as_ref()
            .map(|_| cache::key(wasm, kind, &self.engine));
        let mut phases = Vec::new();
        let mut cache_state = "off";
        let mut cached: Option<Vec<u8>> = None;
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            match cache.get(key) {
                Lookup::Hit(bytes) => {
                    cache_state = "hit";
                    cached = Some(bytes);
                }
                Lookup::Miss => cache_state = "miss",
                Lookup::Corrupt => cache_state = "corrupt-rebuilt",
            }
        }
        phases.push(("cache_lookup", t0.elapsed()));
        let t1 = Instant::now();
        let loaded = cached.as_deref().and_then(|bytes| {
            // SAFETY: the bytes come from our own cache file, whose length and SHA-256 were
            // checked against the header we wrote; the key includes the engine's compatibility
            // hash, and wasmtime re-checks its own version header.
            unsafe {
                if is_component {
                    Component::deserialize(&self.engine, bytes)
                        .ok()
                        .map(Artifact::Component)
                } else {
                    Module::deserialize(&self.engine, bytes)
                        .ok()
                        .map(Artifact::Module)
                }
            }
        });
        let artifact = match loaded {
            Some(artifact) => {
                phases.push(("deserialize", t1.elapsed()));
                artifact
            }
            None => {
                let compiled = if is_component {
                    Component::new(&self.engine, wasm).map(Artifact::Component)
                } else {
                    Module::new(&self.engine, wasm).map(Artifact::Module)
                };
                let artifact = compiled.map_err(|e| WasmError::Invalid(format!("{e:#}")))?;
                phases.push(("compile", t1.elapsed()));
                self.store_in_cache(key.as_deref(), || artifact.serialize());
                artifact
            }
        };
        if cache_state == "hit" && !phases.iter().any(|(n, _)| *n == "deserialize") {
            cache_state = "corrupt-rebuilt";
        }
        let imports: Vec<String> = match &artifact {
            Artifact::Module(m) => m
                .imports()
                .map(|i| format!("{}::{}", i.module(), i.name()))
                .collect(),
            Artifact::Component(c) => c
                .component_type()
                .imports(&self.engine)
                .map(|(n, _)| n.to_string())
                .collect(),
        };
        let t2 = Instant::now();
        let pre = match artifact {
            Artifact::Module(module) => {
                let mut linker = wasmtime::Linker::<P1State>::new(&self.engine);
                wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut P1State| &mut s.wasi)
                    .and_then(|()| deadline::replace_p1_poll(&mut linker))
                    .map_err(|e| WasmError::Engine(e.to_string()))?;
                let pre = linker
                    .instantiate_pre(&module)
                    .map_err(|e| WasmError::Link(format!("{e:#}")))?;
                Pre::Module(pre)
            }
            Artifact::Component(component) => {
                if is_pure_world(&imports, &component, &self.engine) {
                    let mut linker = wasmtime::component::Linker::<PureState>::new(&self.engine);
                    let mut root = linker.root();
                    root.func_wrap(
                        "read-input",
                        |store: wasmtime::StoreContextMut<'_, PureState>, (): ()| {
                            Ok((store.data().input.clone(),))
                        },
                    )
                    .map_err(|e| WasmError::Engine(e.to_string()))?;
                    root.func_wrap(
                        "write-output",
                        |store: wasmtime::StoreContextMut<'_, PureState>, (data,): (Vec<u8>,)| {
                            store.data().output.write_bytes(&data);
                            Ok(())
                        },
                    )
                    .map_err(|e| WasmError::Engine(e.to_string()))?;
                    let pre = linker
                        .instantiate_pre(&component)
                        .map_err(|e| WasmError::Link(format!("{e:#}")))?;
                    Pre::Pure(pre)
                } else {
                    if let Some(unknown) = imports.iter().find(|n| !n.starts_with("wasi:")) {
                        return Err(WasmError::Link(format!(
                            "the component imports `{unknown}`, which is neither WASI nor the pure-compute world (read-input, write-output)"
                        )));
                    }
                    let mut linker = wasmtime::component::Linker::<P2State>::new(&self.engine);
                    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
                        .and_then(|()| deadline::wrap_p2_clock(&mut linker))
                        .and_then(|()| deadline::wrap_p2_poll(&mut linker))
                        .map_err(|e| WasmError::Engine(e.to_string()))?;
                    let pre = linker
                        .instantiate_pre(&component)
                        .map_err(|e| WasmError::Link(format!("{e:#}")))?;
                    let pre =
                        wasmtime_wasi::p2::bindings::sync::CommandPre::new(pre).map_err(|e| {
                            WasmError::Link(format!("not a WASI command component: {e:#}"))
                        })?;
                    Pre::Component(pre)
                }
            }
        };
        phases.push(("link", t2.elapsed()));
        let pure = matches!(pre, Pre::Pure(_));
        let enforcement = if pure {
            WasmEnforcement {
                kind: "component of the pure-compute world (read-input, write-output; no WASI)",
                preopens: Vec::new(),
                network: "none (the world has no sockets)",
                limits: limit_list(&config, self.options.fuel),
                pooling: self.options.pooling_instances.is_some(),
                cache: cache_state,
                ambient: "none: no files, clocks, random, environment or sockets exist in this world",
                imports: imports.clone(),
            }
        } else {
            WasmEnforcement {
                kind: if is_component {
                    "component (WASI 0.2)"
                } else {
                    "core module (WASI preview 1)"
                },
                preopens: config
                    .preopens
                    .iter()
                    .map(|p| {
                        format!(
                            "{} <- {} ({})",
                            p.guest,
                            p.host.display(),
                            if p.writable { "rw" } else { "ro" }
                        )
                    })
                    .collect(),
                network: match config.network {
                    WasmNetwork::None => "none (sockets denied)",
                    WasmNetwork::Loopback => "loopback (TCP/UDP to 127.0.0.0/8 and ::1 only)",
                    WasmNetwork::Any => "any (TCP/UDP to every address: the host's authority)",
                },
                limits: limit_list(&config, self.options.fuel),
                pooling: self.options.pooling_instances.is_some(),
                cache: cache_state,
                ambient: "wall/monotonic clocks and random, as WASI gives every guest",
                imports: imports.clone(),
            }
        };
        Ok(WasmPrepared {
            engine: self.engine.clone(),
            pre,
            imports,
            config,
            prepare_phases: phases,
            enforcement,
            epoch_tick: self.options.epoch_tick,
            fuel: self.options.fuel,
            measure_all: self.options.measure_all_memories
                && self.options.pooling_instances.is_none(),
        })
    }

    fn store_in_cache(
        &self,
        key: Option<&str>,
        serialize: impl FnOnce() -> wasmtime::Result<Vec<u8>>,
    ) {
        if let (Some(cache), Some(key)) = (&self.cache, key)
            && let Ok(bytes) = serialize()
        {
            // A cache that cannot be written only costs speed; the run goes on.
            let _ = cache.put(key, &bytes);
        }
    }

    /// Path of the cache file for `wasm` (for tests and tools).
    pub fn cache_path(&self, wasm: &[u8]) -> Option<std::path::PathBuf> {
        let is_component = wasm.get(6) == Some(&1);
        let kind = if is_component { "component" } else { "module" };
        Some(
            self.cache
                .as_ref()?
                .path(&cache::key(wasm, kind, &self.engine)),
        )
    }
}

/// The `loopback` network: peers and listeners on 127.0.0.0/8 or ::1 only. A bind to the
/// unspecified address is allowed with port 0 alone, because wasmtime checks every `connect`
/// as an implicit ephemeral bind; a listener on it is refused by the `TcpListen` check.
fn loopback_only(addr: std::net::SocketAddr, use_: wasmtime_wasi::sockets::SocketAddrUse) -> bool {
    use wasmtime_wasi::sockets::SocketAddrUse::*;
    let ip = addr.ip();
    match use_ {
        TcpBind | UdpBind => ip.is_loopback() || (ip.is_unspecified() && addr.port() == 0),
        _ => ip.is_loopback(),
    }
}

fn limit_list(config: &WasmConfig, fuel: bool) -> Vec<String> {
    let mut limits = vec![
        format!("instances={}", config.max_instances),
        format!("tables={}", config.max_tables),
        format!("memories={}", config.max_memories),
        format!("table_elements={}", config.max_table_elements),
        format!("handles={} (WASI resource table)", config.max_handles),
    ];
    if let Some(m) = config.memory_bytes {
        limits.push(format!("memory={m} (ResourceLimiter)"));
    }
    if let Some(t) = config.wall_time {
        limits.push(format!("wall_time={}ms (epoch deadline)", t.as_millis()));
    }
    if let (Some(f), true) = (config.fuel, fuel) {
        limits.push(format!("fuel={f}"));
    }
    limits
}

enum Artifact {
    Module(Module),
    Component(Component),
}

impl Artifact {
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        match self {
            Artifact::Module(m) => m.serialize(),
            Artifact::Component(c) => c.serialize(),
        }
    }
}

/// The two imports of our own `pure-compute` WIT world (workloads/wit/pure-compute.wit).
pub const PURE_WORLD_IMPORTS: [&str; 2] = ["read-input", "write-output"];

/// A component of the pure-compute world: only (some of) its two imports, and a `run` export.
fn is_pure_world(imports: &[String], component: &Component, engine: &Engine) -> bool {
    imports
        .iter()
        .all(|i| PURE_WORLD_IMPORTS.contains(&i.as_str()))
        && component
            .component_type()
            .exports(engine)
            .any(|(name, _)| name == "run")
}

enum Pre {
    Module(wasmtime::InstancePre<P1State>),
    Pure(wasmtime::component::InstancePre<PureState>),
    Component(wasmtime_wasi::p2::bindings::sync::CommandPre<P2State>),
}

/// Memory/table limits that remember whether the memory limit was what stopped the guest.
struct Limiter {
    memory_bytes: Option<u64>,
    table_elements: usize,
    instances: usize,
    tables: usize,
    memories: usize,
    peak_memory: u64,
    hit_memory_limit: bool,
    /// The wall-clock deadline as host calls see it (see `deadline`).
    deadline: RunDeadline,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|m| desired > m) {
            return Ok(false);
        }
        if self
            .memory_bytes
            .is_some_and(|limit| desired as u64 > limit)
        {
            self.hit_memory_limit = true;
            // An error (not `false`) ends the run at once as a trap: guests often abort in odd
            // ways on a failed grow, and the outcome must say "out of memory", not "abort".
            return Err(wasmtime::Error::msg("memory limit reached"));
        }
        self.peak_memory = self.peak_memory.max(desired as u64);
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements && maximum.is_none_or(|m| desired <= m))
    }
    fn instances(&self) -> usize {
        self.instances
    }
    fn tables(&self) -> usize {
        self.tables
    }
    fn memories(&self) -> usize {
        self.memories
    }
}

struct P1State {
    wasi: WasiP1Ctx,
    limiter: Limiter,
}

impl deadline::P1Deadline for P1State {
    fn deadline(&mut self) -> &mut RunDeadline {
        &mut self.limiter.deadline
    }
}

impl deadline::P2Deadline for P2State {
    fn parts(&mut self) -> (&mut RunDeadline, &mut ResourceTable) {
        (&mut self.limiter.deadline, &mut self.table)
    }
}

struct PureState {
    input: Vec<u8>,
    output: CappedPipe,
    limiter: Limiter,
}

struct P2State {
    ctx: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
}

impl WasiView for P2State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// Instantiated, never-run stores held open by `WasmPrepared::hold_idle`.
pub struct IdleInstances {
    _held: Vec<Box<dyn std::any::Any + Send>>,
}

impl IdleInstances {
    pub fn len(&self) -> usize {
        self._held.len()
    }
    pub fn is_empty(&self) -> bool {
        self._held.is_empty()
    }
}

/// A compiled, linked program: `run` instantiates it in a fresh store each time.
pub struct WasmPrepared {
    engine: Engine,
    pre: Pre,
    imports: Vec<String>,
    config: WasmConfig,
    prepare_phases: Vec<(&'static str, Duration)>,
    enforcement: WasmEnforcement,
    epoch_tick: Duration,
    fuel: bool,
    /// Memories are ours (`memory`): measure them all, components included.
    measure_all: bool,
}

/// Bytes of `memory` that are resident in host RAM (one `mincore` call).
fn resident_bytes(memory: &[u8]) -> u64 {
    resident(memory.as_ptr() as usize, memory.len())
}

/// Resident bytes of the mapped range `[base, base + len)`.
pub(crate) fn resident(base: usize, len: usize) -> u64 {
    const PAGE: usize = 4096;
    if len == 0 {
        return 0;
    }
    let start = base & !(PAGE - 1);
    let len = base + len - start;
    let mut pages = vec![0u8; len.div_ceil(PAGE)];
    // SAFETY: the range covers a live, mapped linear memory (page-aligned down), and `pages`
    // has one byte per page of it, as mincore requires.
    let rc = unsafe { libc::mincore(start as *mut libc::c_void, len, pages.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    pages.iter().filter(|p| **p & 1 == 1).count() as u64 * PAGE as u64
}

fn thread_times() -> (Duration, Duration) {
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_THREAD with a valid out-parameter.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

impl WasmPrepared {
    /// Phases of `prepare` (cache lookup, compile or deserialize, link).
    pub fn prepare_phases(&self) -> &[(&'static str, Duration)] {
        &self.prepare_phases
    }

    pub fn enforcement(&self) -> &WasmEnforcement {
        &self.enforcement
    }

    /// Every import of the program: `module::name` for core modules, the import names for
    /// components. What is not here, the guest cannot call.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    fn wasi_builder(
        &self,
        stdin: &[u8],
        stdout: &CappedPipe,
        stderr: &CappedPipe,
        started: Instant,
    ) -> Result<WasiCtxBuilder> {
        let c = &self.config;
        let mut b = WasiCtxBuilder::new();
        // File I/O on this thread, not tokio's blocking pool: no thread hop per call, and the
        // run's CPU time (measured on this thread) includes it.
        b.allow_blocking_current_thread(true);
        b.monotonic_clock(GuestClock(started));
        b.arg(&c.program_name);
        b.args(&c.args);
        b.envs(&c.env);
        if let Some(cwd) = &c.cwd {
            b.initial_cwd(cwd);
        }
        b.stdin(MemoryInputPipe::new(bytes::Bytes::copy_from_slice(stdin)));
        b.stdout(stdout.clone());
        b.stderr(stderr.clone());
        for p in &c.preopens {
            let perms = if p.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            b.preopened_dir(&p.host, &p.guest, perms)
                .map_err(|e| WasmError::Preopen {
                    path: p.host.display().to_string(),
                    why: e.to_string(),
                })?;
        }
        b.allow_ip_name_lookup(false);
        match c.network {
            WasmNetwork::None => {
                b.allow_tcp(false).allow_udp(false);
            }
            WasmNetwork::Any => {
                b.allow_tcp(true).allow_udp(true);
                b.socket_addr_check(|_, _| Box::pin(async { true }));
            }
            WasmNetwork::Loopback => {
                b.allow_tcp(true).allow_udp(true);
                b.socket_addr_check(|addr, use_| {
                    Box::pin(async move { loopback_only(addr, use_) })
                });
            }
        }
        Ok(b)
    }

    /// A preview 1 context whose handle table is capped at `max_handles`.
    fn p1_ctx(&self, mut builder: WasiCtxBuilder) -> WasiP1Ctx {
        let mut wasi = builder.build_p1();
        wasi.ctx().table.set_max_capacity(self.config.max_handles);
        wasi
    }

    /// A resource table for WASI 0.2, capped at `max_handles`.
    fn p2_table(&self) -> ResourceTable {
        let mut table = ResourceTable::new();
        table.set_max_capacity(self.config.max_handles);
        table
    }

    fn limiter(&self, started: Instant) -> Limiter {
        let c = &self.config;
        Limiter {
            memory_bytes: c.memory_bytes,
            table_elements: c.max_table_elements,
            instances: c.max_instances,
            tables: c.max_tables,
            memories: c.max_memories,
            peak_memory: 0,
            hit_memory_limit: false,
            deadline: RunDeadline::new(started, c.wall_time),
        }
    }

    fn deadline_ticks(&self) -> u64 {
        match self.config.wall_time {
            Some(t) => (t.as_nanos() / self.epoch_tick.as_nanos().max(1)) as u64 + 1,
            None => u64::MAX / 2,
        }
    }

    /// Instantiates `count` stores of this program without running them and holds them until
    /// the returned value is dropped: what an idle sandbox costs (density measurements).
    pub fn hold_idle(&self, count: usize) -> Result<IdleInstances> {
        let mut held: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(count);
        for _ in 0..count {
            let stdout = CappedPipe::new(self.config.stdout_cap);
            let stderr = CappedPipe::new(self.config.stderr_cap);
            let err = |e: wasmtime::Error| WasmError::Runtime(format!("{e:#}"));
            let now = Instant::now();
            match &self.pre {
                Pre::Module(pre) => {
                    let wasi = self.p1_ctx(self.wasi_builder(b"", &stdout, &stderr, now)?);
                    let state = P1State {
                        wasi,
                        limiter: self.limiter(now),
                    };
                    let mut store = self.new_store(state, |s| &mut s.limiter)?;
                    let instance = pre.instantiate(&mut store).map_err(err)?;
                    held.push(Box::new((store, instance)));
                }
                Pre::Component(pre) => {
                    let ctx = self.wasi_builder(b"", &stdout, &stderr, now)?.build();
                    let state = P2State {
                        ctx,
                        table: self.p2_table(),
                        limiter: self.limiter(now),
                    };
                    let mut store = self.new_store(state, |s| &mut s.limiter)?;
                    let command = pre.instantiate(&mut store).map_err(err)?;
                    held.push(Box::new((store, command)));
                }
                Pre::Pure(pre) => {
                    let state = PureState {
                        input: Vec::new(),
                        output: stdout,
                        limiter: self.limiter(now),
                    };
                    let mut store = self.new_store(state, |s| &mut s.limiter)?;
                    let instance = pre.instantiate(&mut store).map_err(err)?;
                    held.push(Box::new((store, instance)));
                }
            }
        }
        Ok(IdleInstances { _held: held })
    }

    /// Instantiates and runs the program once with `stdin` as its input.
    pub fn run(&self, stdin: &[u8]) -> Result<WasmOutcome> {
        let started = Instant::now();
        let cpu0 = thread_times();
        let stdout = CappedPipe::new(self.config.stdout_cap);
        let stderr = CappedPipe::new(self.config.stderr_cap);
        let mut resident = None;
        let mut phases = Vec::with_capacity(5);
        let (result, limiter) = match &self.pre {
            Pre::Module(pre) => {
                let wasi = self.p1_ctx(self.wasi_builder(stdin, &stdout, &stderr, started)?);
                let store = self.new_store(
                    P1State {
                        wasi,
                        limiter: self.limiter(started),
                    },
                    |s| &mut s.limiter,
                )?;
                self.timed_run(
                    store,
                    |s| &mut s.limiter,
                    &mut phases,
                    started,
                    |store| pre.instantiate(store),
                    |i, store| {
                        let start = i.get_typed_func::<(), ()>(&mut *store, "_start")?;
                        let result = start.call(&mut *store, ());
                        resident = i
                            .get_memory(&mut *store, "memory")
                            .map(|m| resident_bytes(m.data(&*store)));
                        result.map(|()| 0)
                    },
                )
            }
            Pre::Pure(pre) => {
                let state = PureState {
                    input: stdin.to_vec(),
                    output: stdout.clone(),
                    limiter: self.limiter(started),
                };
                let store = self.new_store(state, |s| &mut s.limiter)?;
                self.timed_run(
                    store,
                    |s| &mut s.limiter,
                    &mut phases,
                    started,
                    |store| {
                        self.start_measuring();
                        pre.instantiate(store)
                    },
                    |i, store| {
                        let result = i
                            .get_typed_func::<(), ()>(&mut *store, "run")?
                            .call(&mut *store, ());
                        resident = self.measured();
                        result.map(|()| 0)
                    },
                )
            }
            Pre::Component(pre) => {
                let ctx = self.wasi_builder(stdin, &stdout, &stderr, started)?.build();
                let state = P2State {
                    ctx,
                    table: self.p2_table(),
                    limiter: self.limiter(started),
                };
                let store = self.new_store(state, |s| &mut s.limiter)?;
                self.timed_run(
                    store,
                    |s| &mut s.limiter,
                    &mut phases,
                    started,
                    |store| {
                        self.start_measuring();
                        pre.instantiate(store)
                    },
                    |c, store| {
                        let result = c.wasi_cli_run().call_run(&mut *store);
                        resident = self.measured();
                        result.map(|r| i32::from(r.is_err()))
                    },
                )
            }
        };
        let exit = if limiter.deadline.waited_into && limiter.deadline.passed() {
            // It waited in a host call into the deadline; whatever it did after is moot.
            WasmExit::Timeout
        } else {
            match result {
                Ok(code) => WasmExit::Exited(code),
                Err(e) => classify(&e, &limiter)?,
            }
        };
        let cpu1 = thread_times();
        let (stdout, stdout_dropped) = stdout.take();
        let (stderr, stderr_dropped) = stderr.take();
        Ok(WasmOutcome {
            exit,
            stdout,
            stderr,
            stdout_dropped,
            stderr_dropped,
            user_time: cpu1.0.saturating_sub(cpu0.0),
            sys_time: cpu1.1.saturating_sub(cpu0.1),
            peak_memory_bytes: limiter.peak_memory,
            resident_memory_bytes: resident,
            phases,
            wall: started.elapsed(),
        })
    }

    fn start_measuring(&self) {
        if self.measure_all {
            memory::track();
        }
    }

    /// Resident bytes of the memories created since `start_measuring` (store still alive).
    fn measured(&self) -> Option<u64> {
        if self.measure_all {
            memory::resident_bytes()
        } else {
            None
        }
    }

    /// A store for one run, with the limiter, the epoch deadline and fuel in place.
    fn new_store<T: 'static>(
        &self,
        state: T,
        limiter: fn(&mut T) -> &mut Limiter,
    ) -> Result<Store<T>> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(move |s| limiter(s) as &mut dyn ResourceLimiter);
        store.set_epoch_deadline(self.deadline_ticks());
        store.epoch_deadline_trap();
        if self.fuel {
            store
                .set_fuel(self.config.fuel.unwrap_or(u64::MAX))
                .map_err(|e| WasmError::Engine(e.to_string()))?;
        }
        Ok(store)
    }

    /// Instantiates and calls in `store`, timing the context, instantiate, run and teardown
    /// phases; returns the guest's result and the limiter's final state.
    fn timed_run<T: 'static, I>(
        &self,
        mut store: Store<T>,
        limiter: fn(&mut T) -> &mut Limiter,
        phases: &mut Vec<(&'static str, Duration)>,
        started: Instant,
        instantiate: impl FnOnce(&mut Store<T>) -> wasmtime::Result<I>,
        call: impl FnOnce(I, &mut Store<T>) -> wasmtime::Result<i32>,
    ) -> (wasmtime::Result<i32>, Limiter) {
        phases.push(("context", started.elapsed()));
        let t = Instant::now();
        let instance = instantiate(&mut store);
        phases.push(("instantiate", t.elapsed()));
        let t = Instant::now();
        let result = instance.and_then(|i| call(i, &mut store));
        phases.push(("run", t.elapsed()));
        let t = Instant::now();
        let final_limits = std::mem::replace(limiter(store.data_mut()), self.limiter(started));
        drop(store);
        phases.push(("teardown", t.elapsed()));
        (result, final_limits)
    }
}

/// Maps a run's error to an exit reason; errors that are not the guest's doing are returned.
fn classify(e: &wasmtime::Error, limiter: &Limiter) -> Result<WasmExit> {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Ok(WasmExit::Exited(exit.0));
    }
    if limiter.hit_memory_limit {
        return Ok(WasmExit::OutOfMemory);
    }
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return Ok(match trap {
            wasmtime::Trap::Interrupt => WasmExit::Timeout,
            wasmtime::Trap::OutOfFuel => WasmExit::OutOfFuel,
            other => WasmExit::Trap(trap_name(other)),
        });
    }
    if e.is::<wasmtime::UnknownImportError>() || format!("{e:#}").contains("unknown import") {
        return Err(WasmError::Link(format!("{e:#}")));
    }
    if e.chain()
        .any(|c| c.is::<wasmtime::component::ResourceTableError>())
    {
        return Ok(WasmExit::Trap(
            "WASI handle limit reached (max_handles)".into(),
        ));
    }
    // Host-side failures inside WASI calls surface as plain errors: the guest is stopped.
    let first = e.to_string();
    Ok(WasmExit::Trap(format!(
        "host error: {}",
        first.lines().next().unwrap_or("unknown")
    )))
}

fn trap_name(trap: &wasmtime::Trap) -> String {
    use wasmtime::Trap::*;
    match trap {
        UnreachableCodeReached => "unreachable".into(),
        MemoryOutOfBounds => "memory out of bounds".into(),
        StackOverflow => "call stack exhausted".into(),
        IntegerDivisionByZero => "integer divide by zero".into(),
        IntegerOverflow => "integer overflow".into(),
        BadConversionToInteger => "bad conversion to integer".into(),
        IndirectCallToNull => "indirect call to null".into(),
        BadSignature => "indirect call type mismatch".into(),
        TableOutOfBounds => "table out of bounds".into(),
        other => other.to_string(),
    }
}
