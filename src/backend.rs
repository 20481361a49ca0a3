//! The one trait that fronts both isolation models.

use crate::error::Result;
use crate::outcome::{Outcome, Phase};
use crate::policy::Policy;
use std::path::PathBuf;

/// What to run: a workload by name (resolved per backend to its native or wasm build) or a
/// program file (an ELF for native, a .wasm for wasm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workload {
    Named(String),
    Path(PathBuf),
}

impl Workload {
    pub fn named(name: impl Into<String>) -> Workload {
        Workload::Named(name.into())
    }
    pub fn path(path: impl Into<PathBuf>) -> Workload {
        Workload::Path(path.into())
    }
    pub fn display_name(&self) -> String {
        match self {
            Workload::Named(n) => n.clone(),
            Workload::Path(p) => p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }
}

/// An isolation model. Object-safe: a harness holds `Vec<Box<dyn Sandbox>>`.
pub trait Sandbox: Send + Sync {
    /// Short name used in reports ("native", "wasm", "component").
    fn name(&self) -> &str;

    /// Validates, compiles/plans and caches once; the result runs many times.
    fn prepare(&self, workload: &Workload, policy: &Policy) -> Result<Box<dyn Prepared>>;
}

/// A workload prepared under a policy. Shareable across threads.
pub trait Prepared: Send + Sync {
    /// Runs once with the policy's stdin.
    fn run(&self) -> Result<Outcome>;

    /// The timed phases of `prepare` (e.g. cache lookup, compile or deserialize, link).
    fn prepare_phases(&self) -> Vec<Phase>;

    /// What is enforced, before any run.
    fn enforcement(&self) -> serde_json::Value;
}
