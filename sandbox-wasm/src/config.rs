//! The wasm backend's own configuration: capabilities granted and limits imposed.

use std::path::PathBuf;
use std::time::Duration;

/// A host directory granted to the guest as a WASI preopen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    /// The name the guest opens it by (an absolute path such as `/data`).
    pub guest: String,
    pub writable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WasmNetwork {
    /// No socket may be opened (WASI 0.2 sockets denied; preview 1 has none).
    #[default]
    None,
    /// TCP/UDP allowed only to 127.0.0.0/8 and ::1 (checked on every address).
    Loopback,
    /// TCP/UDP to any address: the embedding process's own network authority.
    Any,
}

/// Per-run capabilities and limits.
#[derive(Debug, Clone)]
pub struct WasmConfig {
    /// Arguments after argv[0] (argv[0] is the workload's name).
    pub args: Vec<String>,
    pub program_name: String,
    pub env: Vec<(String, String)>,
    /// Initial working directory (resolved against the preopens by wasi-libc).
    pub cwd: Option<String>,
    pub preopens: Vec<Preopen>,
    pub network: WasmNetwork,
    /// Largest linear memory (each), and total across the store.
    pub memory_bytes: Option<u64>,
    /// Wall-clock deadline, enforced by epoch interruption.
    pub wall_time: Option<Duration>,
    /// Deterministic CPU budget in fuel units (requires `EngineOptions::fuel`).
    pub fuel: Option<u64>,
    pub max_instances: usize,
    pub max_tables: usize,
    pub max_memories: usize,
    pub max_table_elements: usize,
    /// Most WASI handles (files, streams, sockets, pollables) a guest may hold at once. Each
    /// open file is a host descriptor of the embedding process: without this cap one guest
    /// can exhaust the host's descriptor limit.
    pub max_handles: usize,
    pub stdout_cap: usize,
    pub stderr_cap: usize,
}

impl Default for WasmConfig {
    fn default() -> Self {
        WasmConfig {
            args: Vec::new(),
            program_name: "main".into(),
            env: Vec::new(),
            cwd: None,
            preopens: Vec::new(),
            network: WasmNetwork::None,
            memory_bytes: None,
            wall_time: None,
            fuel: None,
            max_instances: 64,
            max_tables: 64,
            max_memories: 16,
            max_table_elements: 1 << 20,
            max_handles: 1024,
            stdout_cap: 1 << 20,
            stderr_cap: 1 << 20,
        }
    }
}

/// Engine-wide choices: one `WasmEngine` per configuration.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Use the pooling instance allocator with this many slots (None: on-demand).
    pub pooling_instances: Option<u32>,
    /// Largest linear memory a pooled slot holds (also the reservation per slot).
    pub pooling_memory_bytes: u64,
    /// Count fuel (deterministic CPU budgets; costs speed).
    pub fuel: bool,
    /// Where compiled artifacts are cached (None: no cache).
    pub cache_dir: Option<PathBuf>,
    /// Epoch tick: the resolution of wall-clock deadlines.
    pub epoch_tick: Duration,
    /// Allocate linear memories ourselves so that the resident size of every memory of an
    /// instance can be measured, the core memories inside components included (wasmtime
    /// does not hand those out). Costs copy-on-write initialisation (data segments are
    /// copied); ignored with pooling. Core modules are measured either way.
    pub measure_all_memories: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            pooling_instances: None,
            pooling_memory_bytes: 256 << 20,
            fuel: false,
            cache_dir: default_cache_dir(),
            epoch_tick: Duration::from_millis(5),
            measure_all_memories: false,
        }
    }
}

/// `$SANDBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/sandbox/wasm`, else `~/.cache/sandbox/wasm`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SANDBOX_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("sandbox").join("wasm"))
}
