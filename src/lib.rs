//! `sandbox`: run the same workloads under two isolation models and measure both.
//!
//! - **native** (feature `native`): user/pid/mount/uts/ipc/net/cgroup namespaces, a minimal
//!   root via `pivot_root`, cgroup limits, a seccomp allow-list, no capabilities.
//! - **wasm** (feature `wasm`): wasmtime + WASI with only the granted preopens, and memory,
//!   epoch and table limits.
//!
//! ```no_run
//! use sandbox::{Policy, Sandbox, Workload};
//! # fn main() -> sandbox::Result<()> {
//! let policy = Policy::builder().args(["4"]).memory(Some(64 << 20)).build()?;
//! let backends: Vec<Box<dyn Sandbox>> = sandbox::all_backends()?;
//! for backend in &backends {
//!     let prepared = backend.prepare(&Workload::named("compute"), &policy)?; // once
//!     let outcome = prepared.run()?;                                           // many times
//!     println!("{}: {} {}", backend.name(), outcome.exit, String::from_utf8_lossy(&outcome.stdout));
//! }
//! # Ok(()) }
//! ```

mod backend;
#[cfg(all(feature = "native", feature = "wasm"))]
pub mod bench;
mod error;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "native")]
mod native;
mod outcome;
pub mod policy;
pub mod probe;
pub mod scratch;
pub mod soak;
#[cfg(feature = "wasm")]
mod wasm;

pub use backend::{Prepared, Sandbox, Workload};
pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "native")]
pub use native::NativeBackend;
pub use outcome::{ExitReason, Outcome, Phase, Usage};
pub use policy::{Grant, Network, Policy, PolicyBuilder, SeccompAction};
#[cfg(feature = "wasm")]
pub use wasm::WasmBackend;
pub use workloads;

/// Every compiled-in backend: native, wasm (modules), component (WASI 0.2).
pub fn all_backends() -> Result<Vec<Box<dyn Sandbox>>> {
    #[allow(unused_mut)]
    let mut v: Vec<Box<dyn Sandbox>> = Vec::new();
    #[cfg(feature = "native")]
    v.push(Box::new(NativeBackend::new()));
    #[cfg(feature = "wasm")]
    {
        v.push(Box::new(WasmBackend::new()?));
        v.push(Box::new(WasmBackend::components()?));
    }
    Ok(v)
}

/// Looks a backend up by name ("native", "wasm", "component").
pub fn backend(name: &str) -> Result<Box<dyn Sandbox>> {
    match name {
        #[cfg(feature = "native")]
        "native" => Ok(Box::new(NativeBackend::new())),
        #[cfg(feature = "wasm")]
        "wasm" => Ok(Box::new(WasmBackend::new()?)),
        #[cfg(feature = "wasm")]
        "component" => Ok(Box::new(WasmBackend::components()?)),
        other => Err(Error::bad_input(format!(
            "unknown backend {other:?}; use native, wasm or component (as compiled in)"
        ))),
    }
}

/// Resolves a named workload for one flavor, or says why it cannot.
pub(crate) fn resolve_workload(
    name: &str,
    flavor: workloads::Flavor,
) -> Result<std::path::PathBuf> {
    match workloads::artifact(name, flavor) {
        Some(path) => Ok(path),
        None if workloads::info(name).is_some() => Err(Error::bad_input(format!(
            "workload {name:?} has no {} build; it runs only with --backend component",
            flavor.name()
        ))),
        None => Err(unknown_workload(name)),
    }
}

pub(crate) fn unknown_workload(name: &str) -> Error {
    let known: Vec<&str> = workloads::ALL.iter().map(|w| w.name).collect();
    Error::bad_input(format!(
        "unknown workload {name:?}; known: {} (see `sandbox workloads`)",
        known.join(", ")
    ))
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
