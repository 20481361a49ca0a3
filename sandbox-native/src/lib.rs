//! `sandbox-native`: run one program in fresh user, pid, mount, uts, ipc, net and cgroup
//! namespaces, in a minimal root entered with `pivot_root`, under cgroup limits (v2 or v1),
//! rlimits, a seccomp allow-list, with every capability dropped and `no_new_privs` set.
//!
//! ```no_run
//! use sandbox_native::{NativeConfig, NativeSandbox};
//! let mut config = NativeConfig::new("/path/to/static-binary");
//! config.limits.memory_bytes = Some(64 << 20);
//! let sandbox = NativeSandbox::prepare(config)?; // validate + plan once
//! let outcome = sandbox.run(b"")?;               // clone + exec per run
//! println!("{:?} {}", outcome.exit, String::from_utf8_lossy(&outcome.stdout));
//! # Ok::<(), sandbox_native::NativeError>(())
//! ```

mod cgroup;
mod child;
mod config;
mod error;
mod janitor;
mod landlock;
mod plan;
mod run;
pub mod seccomp;

pub use cgroup::{Cgroup, CgroupLimits, CgroupStats, CgroupSupport, CgroupVersion};
pub use config::{Bind, Limits, NativeConfig, Network, SeccompMode};
pub use error::{NativeError, Result};
pub use run::{NativeEnforcement, NativeExit, NativeOutcome};

/// A validated, planned sandbox: `prepare` once, `run` many times (also from several threads).
#[derive(Debug)]
pub struct NativeSandbox {
    config: NativeConfig,
    plan: child::ChildPlan,
    /// What each plan step does, for error messages.
    step_names: Vec<String>,
    /// Host paths of the bind sources (program first), for error messages.
    source_names: Vec<String>,
    cgroups: CgroupSupport,
    enforcement: NativeEnforcement,
}

impl NativeSandbox {
    /// Validates the config and plans the run: fails fast with an error that says what to fix.
    pub fn prepare(config: NativeConfig) -> Result<NativeSandbox> {
        plan::prepare(config)
    }

    pub fn config(&self) -> &NativeConfig {
        &self.config
    }

    /// Which layers will be in force for every run.
    pub fn enforcement(&self) -> &NativeEnforcement {
        &self.enforcement
    }
}
