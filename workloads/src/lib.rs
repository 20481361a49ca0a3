//! The guest programs (`workloads/guest`), built by this crate's build script for the host and
//! for WASI, and the one function that resolves a workload name to its artifact.

use std::path::PathBuf;

/// Which build of a workload: the same source compiled three ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// A statically linked host executable (runs in an empty root).
    Native,
    /// A WASI preview 1 core module (`wasm32-wasip1`).
    WasiP1,
    /// A WASI 0.2 component (`wasm32-wasip2`).
    WasiP2,
}

impl Flavor {
    pub const ALL: [Flavor; 3] = [Flavor::Native, Flavor::WasiP1, Flavor::WasiP2];

    pub fn name(self) -> &'static str {
        match self {
            Flavor::Native => "native",
            Flavor::WasiP1 => "wasip1",
            Flavor::WasiP2 => "wasip2",
        }
    }
}

/// A workload known to this crate: its name, what it does and its usual arguments.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// Arguments used by the side-by-side comparison and the benchmarks.
    pub default_args: &'static [&'static str],
}

/// Every guest program, in the order `sandbox workloads` lists them.
pub const ALL: &[WorkloadInfo] = &[
    WorkloadInfo {
        name: "noop",
        summary: "exits 0 at once",
        default_args: &[],
    },
    WorkloadInfo {
        name: "hello",
        summary: "echoes its args and stdin",
        default_args: &["world"],
    },
    WorkloadInfo {
        name: "compute",
        summary: "SHA-256 over N MiB of generated data",
        default_args: &["16"],
    },
    WorkloadInfo {
        name: "fileio",
        summary: "write+fsync+read+delete N files under DIR",
        default_args: &["/tmp", "64"],
    },
    WorkloadInfo {
        name: "alloc",
        summary: "allocate and touch N MiB in 1 MiB steps",
        default_args: &["32"],
    },
    WorkloadInfo {
        name: "spin",
        summary: "busy-loop forever",
        default_args: &[],
    },
    WorkloadInfo {
        name: "sleep",
        summary: "sleep N ms",
        default_args: &["10"],
    },
    WorkloadInfo {
        name: "cat",
        summary: "print files (exit 1 if one cannot be read)",
        default_args: &[],
    },
    WorkloadInfo {
        name: "ls",
        summary: "list a directory",
        default_args: &["/"],
    },
    WorkloadInfo {
        name: "write",
        summary: "create FILE with TEXT",
        default_args: &[],
    },
    WorkloadInfo {
        name: "exit",
        summary: "exit with status N",
        default_args: &["3"],
    },
    WorkloadInfo {
        name: "pure-compute",
        summary: "compute in a world with no WASI: stdin via read-input (component only)",
        default_args: &[],
    },
    WorkloadInfo {
        name: "connect",
        summary: "open a TCP connection to HOST:PORT",
        default_args: &["127.0.0.1:9"],
    },
    WorkloadInfo {
        name: "syscall",
        summary: "try privileged syscalls by name (native only)",
        default_args: &["getpid"],
    },
    WorkloadInfo {
        name: "fds",
        summary: "open FILE until refused, print the count",
        default_args: &["/dev/null"],
    },
    WorkloadInfo {
        name: "flood",
        summary: "write N MiB to stdout",
        default_args: &["64"],
    },
    WorkloadInfo {
        name: "daemonize",
        summary: "double-fork a daemon that writes FILE forever (native only)",
        default_args: &["/tmp/heartbeat"],
    },
    WorkloadInfo {
        name: "probe",
        summary: "one escape attempt of `sandbox probe` (ACTION ARGS...)",
        default_args: &["timer"],
    },
    WorkloadInfo {
        name: "forkbomb",
        summary: "fork until refused, print the count (native only)",
        default_args: &[],
    },
];

/// The workload built against our own `pure-compute` WIT world instead of WASI; it exists
/// only as a component.
pub const PURE_COMPUTE: &str = "pure-compute";

/// Whether `name` has a build of this flavor.
pub fn has_flavor(name: &str, flavor: Flavor) -> bool {
    name != PURE_COMPUTE || flavor == Flavor::WasiP2
}

/// Looks a workload up by name.
pub fn info(name: &str) -> Option<&'static WorkloadInfo> {
    ALL.iter().find(|w| w.name == name)
}

/// The directory holding the artifacts of one flavor.
pub fn artifact_dir(flavor: Flavor) -> PathBuf {
    PathBuf::from(match flavor {
        Flavor::Native => env!("WORKLOADS_HOST_DIR"),
        Flavor::WasiP1 => env!("WORKLOADS_WASIP1_DIR"),
        Flavor::WasiP2 => env!("WORKLOADS_WASIP2_DIR"),
    })
}

/// Resolves a workload name to its built artifact, or `None` for an unknown name.
pub fn artifact(name: &str, flavor: Flavor) -> Option<PathBuf> {
    let info = info(name)?;
    if info.name == PURE_COMPUTE {
        return (flavor == Flavor::WasiP2)
            .then(|| PathBuf::from(env!("WORKLOADS_PURE_DIR")).join("pure_compute.wasm"));
    }
    let file = match flavor {
        Flavor::Native => info.name.to_string(),
        Flavor::WasiP1 | Flavor::WasiP2 => format!("{}.wasm", info.name),
    };
    Some(artifact_dir(flavor).join(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_is_built_for_every_flavor() {
        for w in ALL {
            for flavor in Flavor::ALL.into_iter().filter(|f| has_flavor(w.name, *f)) {
                let path = artifact(w.name, flavor).unwrap();
                assert!(
                    path.is_file(),
                    "{} missing for {}: {}",
                    w.name,
                    flavor.name(),
                    path.display()
                );
            }
        }
        assert!(artifact("no-such-workload", Flavor::Native).is_none());
    }
}
