//! The probes: what each tries (a `probe` guest action and its arguments), what escaping
//! would mean, and how the host checks it. The guest's own report is only a hint.

use super::fixtures::{Fixtures, Observation, host_mounts_with, kill_survivors, read_file};
use super::{Group, Kind};
use crate::outcome::{ExitReason, Outcome};
use std::time::Duration;

/// What the host concluded about a probe's goal.
pub enum Goal {
    /// The goal was reached: an escape (or, for informational probes, exposed).
    Reached(String),
    /// Not reached.
    Safe,
    /// A resource probe ended by its limit, naming the layer, with the host unaffected.
    Contained(&'static str, String),
    /// The host could not tell (a fixture was missing, the process was never seen).
    Unknown(String),
}
use Goal::*;

/// What a check can look at.
pub struct Ctx<'a> {
    pub fx: &'a Fixtures,
    pub out: &'a Outcome,
    pub stdout: &'a str,
    pub obs: &'a Observation,
    pub native: bool,
    pub wall_limit: Duration,
    pub stdout_cap: usize,
    pub memory_limit: Option<u64>,
    pub rss_before: u64,
}

impl Ctx<'_> {
    fn printed(&self, needle: &str) -> Goal {
        if !needle.is_empty() && self.stdout.contains(needle) {
            Reached(format!("printed {needle}"))
        } else {
            Safe
        }
    }
    /// Whole-word match (for short host facts such as an interface name).
    fn printed_word(&self, word: &str) -> bool {
        !word.is_empty()
            && self
                .stdout
                .split(|c: char| c.is_whitespace() || c == '=' || c == ':' || c == ',')
                .any(|w| w == word)
    }
    /// For checks that need the observer: the probe process must have been seen.
    fn observed(&self, reached: impl FnOnce(&Observation) -> Option<String>) -> Goal {
        if !self.native {
            return Safe;
        }
        if !self.obs.found {
            if self.out.exit == ExitReason::SeccompViolation {
                return Safe;
            }
            return Unknown("the probe process was not seen in the host's /proc".into());
        }
        reached(self.obs).map_or(Safe, Reached)
    }
    /// The backend reported this limit as requested but not enforced.
    fn limit_missing(&self, name: &str) -> bool {
        self.out.enforcement["limits_missing"]
            .as_array()
            .is_some_and(|l| {
                l.iter()
                    .any(|x| x.as_str().is_some_and(|s| s.starts_with(name)))
            })
    }
    fn fd_named(&self, what: &str) -> Goal {
        self.observed(|o| {
            o.fd_targets
                .iter()
                .find(|t| t.contains(what))
                .map(|t| format!("the probe held {t}"))
        })
    }
}

pub struct ProbeDef {
    pub name: &'static str,
    pub group: Group,
    pub kind: Kind,
    /// What reaching the goal means, for the README and `--json`.
    pub goal: &'static str,
    pub action: &'static str,
    pub args: fn(&Fixtures) -> Vec<String>,
    /// Linger after the attempt so the observer can look at the process.
    pub hold: bool,
    /// The observer keeps trying to connect to this probe's port from the host.
    pub watch_port: bool,
    pub check: fn(&Ctx) -> Goal,
    /// The layer named when it is blocked: [native with seccomp, native without, wasm].
    pub layers: [&'static str; 3],
}

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}
fn host(p: &std::path::Path) -> String {
    format!("/host{}", p.display())
}

/// Protected mostly by the mount namespace (native) and by having no preopen (wasm).
const FS: [&str; 3] = ["mount", "mount", "wasi-no-preopen"];
const RO: [&str; 3] = ["mount", "mount", "wasi-read-only"];
const PID: [&str; 3] = ["namespace", "namespace", "wasi-no-import"];
const NET: [&str; 3] = ["namespace", "namespace", "wasi-no-grant"];
const SECCOMP: [&str; 3] = ["seccomp", "capability", "wasi-no-import"];
const SECCOMP_NS: [&str; 3] = ["seccomp", "namespace", "wasi-no-import"];
const USER_NS: [&str; 3] = ["namespace", "namespace", "wasi-no-import"];

pub fn all() -> Vec<ProbeDef> {
    use Group::*;
    use Kind::*;
    let p = |name,
             group,
             kind,
             goal,
             action,
             args: fn(&Fixtures) -> Vec<String>,
             check: fn(&Ctx) -> Goal,
             layers| ProbeDef {
        name,
        group,
        kind,
        goal,
        action,
        args,
        hold: false,
        watch_port: false,
        check,
        layers,
    };
    let held = |mut d: ProbeDef| {
        d.hold = true;
        d
    };
    vec![
        // ---- filesystem
        p(
            "fs.read-secret",
            Filesystem,
            Attack,
            "read a file planted outside every grant",
            "read",
            |f| vec![s(&f.secret), host(&f.secret)],
            |c| c.printed(&c.fx.secret_text),
            FS,
        ),
        p(
            "fs.dotdot",
            Filesystem,
            Attack,
            "leave a grant with ..",
            "read",
            |f| {
                vec![
                    "/data/../secret/secret.txt".into(),
                    format!("/data/../../../..{}", s(&f.secret)),
                ]
            },
            |c| c.printed(&c.fx.secret_text),
            FS,
        ),
        p(
            "fs.symlink-absolute",
            Filesystem,
            Attack,
            "follow a planted symlink to an absolute host path",
            "read",
            |_| vec!["/data/link-abs".into()],
            |c| c.printed(&c.fx.secret_text),
            FS,
        ),
        p(
            "fs.symlink-relative",
            Filesystem,
            Attack,
            "follow a planted symlink out of the grant",
            "read",
            |_| vec!["/data/link-rel".into()],
            |c| c.printed(&c.fx.secret_text),
            FS,
        ),
        p(
            "fs.hardlink",
            Filesystem,
            Attack,
            "hard-link the secret into the writable grant",
            "hardlink",
            |f| vec![s(&f.secret), "/work/hardlink".into()],
            |c| {
                use std::os::unix::fs::MetadataExt;
                let linked = std::fs::metadata(c.fx.work.join("hardlink")).ok();
                let secret = std::fs::metadata(&c.fx.secret).ok();
                match (linked, secret) {
                    (Some(a), Some(b)) if a.ino() == b.ino() => {
                        Reached("work/hardlink is the secret".into())
                    }
                    _ => c.printed(&c.fx.secret_text),
                }
            },
            FS,
        ),
        p(
            "fs.proc-self-root",
            Filesystem,
            Attack,
            "reach the host's root through /proc/self/root",
            "read",
            |f| vec![format!("/proc/self/root{}", s(&f.secret))],
            |c| c.printed(&c.fx.secret_text),
            FS,
        ),
        p(
            "fs.proc-1-root",
            Filesystem,
            Attack,
            "reach the host's root through /proc/1/root",
            "read",
            |f| {
                vec![
                    format!("/proc/1/root{}", s(&f.secret)),
                    format!("/host/proc/1/root{}", s(&f.secret)),
                ]
            },
            |c| c.printed(&c.fx.secret_text),
            ["namespace", "namespace", "wasi-no-preopen"],
        ),
        p(
            "fs.openat2",
            Filesystem,
            Attack,
            "resolve ../ from a grant with openat2 and no RESOLVE_ flags",
            "openat2",
            |_| vec!["/data".into(), "../secret/secret.txt".into()],
            |c| c.printed(&c.fx.secret_text),
            ["mount", "mount", "wasi-no-import"],
        ),
        p(
            "fs.o-path-reopen",
            Filesystem,
            Attack,
            "open the secret O_PATH and reopen it through /proc/self/fd",
            "opath",
            |f| vec![s(&f.secret), host(&f.secret)],
            |c| c.printed(&c.fx.secret_text),
            ["mount", "mount", "wasi-no-import"],
        ),
        p(
            "fs.create-in-read-only-grant",
            Filesystem,
            Attack,
            "create a file in the read-only grant",
            "create",
            |f| vec![format!("/data/probe-{}", f.token)],
            |c| {
                let f = c.fx.data.join(format!("probe-{}", c.fx.token));
                if f.exists() {
                    let _ = std::fs::remove_file(&f);
                    Reached(format!("created {}", f.display()))
                } else {
                    Safe
                }
            },
            RO,
        ),
        p(
            "fs.overwrite-read-only-file",
            Filesystem,
            Attack,
            "overwrite a file in the read-only grant",
            "overwrite",
            |_| vec!["overwritten".into(), "/data/readme.txt".into()],
            |c| {
                if read_file(&c.fx.data.join("readme.txt")) == c.fx.readme_text {
                    Safe
                } else {
                    Reached("data/readme.txt changed".into())
                }
            },
            RO,
        ),
        p(
            "fs.create-in-host-root",
            Filesystem,
            Attack,
            "create a file in the host's /",
            "create",
            |f| {
                vec![
                    format!("/probe-{}", f.token),
                    format!("/host/probe-{}", f.token),
                ]
            },
            |c| {
                let f = std::path::PathBuf::from(format!("/probe-{}", c.fx.token));
                if f.exists() {
                    let _ = std::fs::remove_file(&f);
                    Reached("created it in the host's /".into())
                } else {
                    Safe
                }
            },
            FS,
        ),
        p(
            "fs.block-device",
            Filesystem,
            Attack,
            "read the host's disk",
            "blockdev",
            |f| {
                f.host
                    .block_devices
                    .iter()
                    .flat_map(|(d, _)| [format!("/dev/{d}"), format!("/host/dev/{d}")])
                    .collect()
            },
            |c| {
                let known: Vec<u64> =
                    c.fx.host
                        .block_devices
                        .iter()
                        .filter_map(|(_, h)| *h)
                        .collect();
                if c.fx.host.block_devices.is_empty() {
                    return Unknown("the host lists no block device".into());
                }
                let hit = c
                    .stdout
                    .lines()
                    .filter_map(|l| l.split("fnv=").nth(1))
                    .filter_map(|h| u64::from_str_radix(h.trim(), 16).ok())
                    .any(|h| known.is_empty() || known.contains(&h));
                if hit {
                    Reached("read a host block device".into())
                } else {
                    Safe
                }
            },
            FS,
        ),
        p(
            "fs.write-proc-sys",
            Filesystem,
            Attack,
            "change a host kernel setting through /proc/sys (domainname)",
            "overwrite",
            |f| {
                vec![
                    format!("probe-{}", f.token),
                    "/proc/sys/kernel/domainname".into(),
                    "/host/proc/sys/kernel/domainname".into(),
                ]
            },
            |c| {
                let now =
                    std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap_or_default();
                if now.trim() == c.fx.host.domainname {
                    Safe
                } else {
                    // Put it back: the harness is root, the probe only proved it could.
                    let _ = std::fs::write("/proc/sys/kernel/domainname", &c.fx.host.domainname);
                    Reached(format!("host domainname was set to {}", now.trim()))
                }
            },
            ["namespace", "namespace", "wasi-no-preopen"],
        ),
        p(
            "fs.write-sys",
            Filesystem,
            Attack,
            "change a host cgroup's pids.max through /sys",
            "overwrite",
            |f| {
                f.cgroup_file.iter().flat_map(|p| [s(p), host(p)]).fold(
                    vec!["7".into()],
                    |mut v, x| {
                        v.push(x);
                        v
                    },
                )
            },
            |c| match &c.fx.cgroup_file {
                None => Unknown("no writable cgroup for the fixture (run as root)".into()),
                Some(f) if read_file(f).trim() == "max" => Safe,
                Some(f) => Reached(format!("{} is now {}", f.display(), read_file(f).trim())),
            },
            FS,
        ),
        // ---- processes
        p(
            "proc.list-host-processes",
            Processes,
            Attack,
            "see the harness among the processes",
            "list-procs",
            |_| vec!["/proc".into(), "/host/proc".into()],
            |c| {
                c.printed(&format!(
                    "pid={} comm={}",
                    c.fx.harness_pid, c.fx.harness_comm
                ))
            },
            ["namespace", "namespace", "wasi-no-preopen"],
        ),
        p(
            "proc.harness-pid",
            Processes,
            Attack,
            "learn the harness's pid as the parent",
            "ppid",
            |_| vec![],
            |c| c.printed(&format!("ppid={}\n", c.fx.harness_pid)),
            PID,
        ),
        p(
            "proc.signal-harness",
            Processes,
            Attack,
            "signal a host process (the decoy)",
            "kill",
            |f| vec![f.decoy_pid().to_string()],
            |c| c.fx.decoy_untouched().err().map_or(Safe, Reached),
            PID,
        ),
        p(
            "proc.ptrace-harness",
            Processes,
            Attack,
            "ptrace a host process (the decoy)",
            "ptrace",
            |f| vec![f.decoy_pid().to_string()],
            |c| c.fx.decoy_untouched().err().map_or(Safe, Reached),
            SECCOMP_NS,
        ),
        p(
            "proc.exec-host-binary",
            Processes,
            Attack,
            "execute a program that exists only on the host",
            "exec",
            |f| {
                vec![
                    s(&f.canary),
                    host(&f.canary),
                    "--".into(),
                    s(&f.exec_token_file),
                    host(&f.exec_token_file),
                ]
            },
            |c| c.printed(&c.fx.exec_text),
            ["mount", "mount", "wasi-no-import"],
        ),
        p(
            "proc.fork-bomb",
            Processes,
            Resource,
            "exhaust the host's processes",
            "forkbomb",
            |_| vec![],
            |c| {
                if !c.native {
                    Safe
                } else {
                    host_can_fork().map_or_else(Reached, |()| {
                        Contained("cgroup", "pids limit; the host still forks".into())
                    })
                }
            },
            ["cgroup", "cgroup", "wasi-no-import"],
        ),
        p(
            "proc.thread-bomb",
            Processes,
            Resource,
            "exhaust the host's threads",
            "threads",
            |_| vec![],
            |c| {
                if !c.native {
                    Safe
                } else {
                    host_can_fork().map_or_else(Reached, |()| {
                        Contained("cgroup", "pids limit; the host still spawns threads".into())
                    })
                }
            },
            ["cgroup", "cgroup", "wasi-no-import"],
        ),
        p(
            "proc.double-fork-escape",
            Processes,
            Attack,
            "leave a daemon running after the sandbox ends",
            "daemon",
            |f| vec![format!("pd{}", &f.token[..8])],
            |c| {
                std::thread::sleep(Duration::from_millis(50));
                let left = kill_survivors(&format!("pd{}", &c.fx.token[..8]));
                if left.is_empty() {
                    Safe
                } else {
                    Reached(format!("daemon pids {left:?} outlived the sandbox"))
                }
            },
            ["namespace", "namespace", "wasi-no-import"],
        ),
        held(p(
            "proc.setuid-host-root",
            Processes,
            Attack,
            "run as host uid 0",
            "setuid",
            |_| vec![],
            |c| {
                c.observed(|o| {
                    o.host_uids
                        .contains(&0)
                        .then(|| format!("host uids {:?}", o.host_uids))
                })
            },
            USER_NS,
        )),
        held(p(
            "proc.regain-capabilities",
            Processes,
            Attack,
            "get capabilities back after the sandbox dropped them",
            "caps",
            |_| vec![],
            |c| c.observed(|o| (o.cap_eff != 0).then(|| format!("CapEff {:016x}", o.cap_eff))),
            ["capability", "capability", "wasi-no-import"],
        )),
        // ---- network
        p(
            "net.tcp-host-loopback",
            Network,
            Attack,
            "connect to a listener on the host's 127.0.0.1",
            "tcp",
            |f| {
                vec![
                    f.tcp4
                        .local_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                ]
            },
            |c| accepted(Fixtures::accepted(&c.fx.tcp4)),
            NET,
        ),
        p(
            "net.tcp6-host-loopback",
            Network,
            Attack,
            "connect to a listener on the host's ::1",
            "tcp",
            |f| {
                vec![
                    f.tcp6
                        .as_ref()
                        .and_then(|l| l.local_addr().ok())
                        .map_or("[::1]:9".into(), |a| a.to_string()),
                ]
            },
            |c| {
                c.fx.tcp6
                    .as_ref()
                    .map_or(Safe, |l| accepted(Fixtures::accepted(l)))
            },
            NET,
        ),
        p(
            "net.tcp-host-address",
            Network,
            Attack,
            "connect to the host's own network address",
            "tcp",
            |f| {
                vec![match (f.host_ip, f.tcp_any.local_addr()) {
                    (Some(ip), Ok(a)) => std::net::SocketAddr::new(ip, a.port()).to_string(),
                    (_, a) => format!("127.0.0.1:{}", a.map(|a| a.port()).unwrap_or(9)),
                }]
            },
            |c| accepted(Fixtures::accepted(&c.fx.tcp_any)),
            NET,
        ),
        p(
            "net.udp-host-loopback",
            Network,
            Attack,
            "send a datagram to the host's 127.0.0.1",
            "udp",
            |f| {
                vec![
                    f.udp
                        .local_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    format!("probe-{}", f.token),
                ]
            },
            |c| match c.fx.udp_received() {
                0 => Safe,
                n => Reached(format!("the host received {n} datagram(s)")),
            },
            NET,
        ),
        p(
            "net.resolve-name",
            Network,
            Attack,
            "resolve a name through a resolver on the host",
            "dns",
            |f| vec![f.dns.addr.to_string(), format!("probe-{}.test", f.token)],
            |c| match c
                .fx
                .dns
                .queries
                .swap(0, std::sync::atomic::Ordering::Relaxed)
            {
                0 => Safe,
                n => Reached(format!("the host's resolver answered {n} query(ies)")),
            },
            NET,
        ),
        ProbeDef {
            watch_port: true,
            ..p(
                "net.listen-reachable",
                Network,
                Attack,
                "listen where the host can connect",
                "listen",
                |_| vec![free_port().to_string()],
                |c| {
                    if c.obs.host_connected {
                        Reached("the host connected to the probe's listener".into())
                    } else {
                        Safe
                    }
                },
                NET,
            )
        },
        p(
            "net.abstract-unix-socket",
            Network,
            Attack,
            "connect to the harness's abstract unix socket",
            "unix",
            |f| vec![format!("@{}", f.abstract_name)],
            |c| match Fixtures::unix_accepted(&c.fx.abstract_unix) {
                0 => Safe,
                n => Reached(format!("accepted {n}")),
            },
            PID,
        ),
        p(
            "net.unix-socket-file",
            Network,
            Attack,
            "connect to a unix socket file outside the grants",
            "unix",
            |f| vec![s(&f.unix_path), host(&f.unix_path)],
            |c| match Fixtures::unix_accepted(&c.fx.unix) {
                0 => Safe,
                n => Reached(format!("accepted {n}")),
            },
            ["mount", "mount", "wasi-no-import"],
        ),
        held(p(
            "net.raw-socket",
            Network,
            Attack,
            "open a raw IP socket",
            "raw",
            |_| vec![],
            |c| c.observed(|o| (o.raw_sockets > 0).then(|| "held a raw socket".into())),
            ["seccomp", "capability", "wasi-no-import"],
        )),
        held(p(
            "net.packet-socket",
            Network,
            Attack,
            "open a packet socket",
            "packet",
            |_| vec![],
            |c| c.observed(|o| (o.packet_sockets > 0).then(|| "held a packet socket".into())),
            ["seccomp", "capability", "wasi-no-import"],
        )),
        // ---- IPC and kernel surface
        p(
            "ipc.sysv-shm",
            IpcKernel,
            Attack,
            "attach the harness's System V shared memory",
            "shm",
            |f| vec![f.ipc.as_ref().map_or(0, |i| i.shm_key).to_string()],
            |c| match &c.fx.ipc {
                None => Unknown("no System V IPC on the host".into()),
                Some(i) => c.printed(&i.text),
            },
            USER_NS,
        ),
        p(
            "ipc.sysv-msg",
            IpcKernel,
            Attack,
            "take the harness's System V message",
            "msg",
            |f| vec![f.ipc.as_ref().map_or(0, |i| i.msg_key).to_string()],
            |c| match &c.fx.ipc {
                None => Unknown("no System V IPC on the host".into()),
                Some(i) if i.queued().0 == 1 => c.printed(&i.text),
                Some(_) => Reached("the host's queue lost its message".into()),
            },
            USER_NS,
        ),
        p(
            "ipc.posix-mqueue",
            IpcKernel,
            Attack,
            "take the harness's POSIX mqueue message",
            "mq",
            |f| vec![f.ipc.as_ref().map_or(String::new(), |i| i.mq_name.clone())],
            |c| match &c.fx.ipc {
                None => Unknown("no POSIX mqueue on the host".into()),
                Some(i) if i.queued().1 == 1 => c.printed(&i.text),
                Some(_) => Reached("the host's mqueue lost its message".into()),
            },
            SECCOMP_NS,
        ),
        p(
            "kern.mount",
            IpcKernel,
            Attack,
            "mount a filesystem the host can see",
            "mount",
            |f| {
                vec![
                    format!("probe-{}", f.token),
                    "/tmp".into(),
                    "/host/tmp".into(),
                ]
            },
            |c| match host_mounts_with(&format!("probe-{}", c.fx.token)) {
                0 => Safe,
                n => {
                    super::fixtures::unmount_with(&format!("probe-{}", c.fx.token));
                    Reached(format!("{n} host mount(s), now detached"))
                }
            },
            SECCOMP,
        ),
        held(p(
            "kern.unshare",
            IpcKernel,
            Attack,
            "create new namespaces (kernel attack surface)",
            "unshare",
            |_| vec![],
            |c| {
                c.observed(|o| {
                    o.ns_changed_from_parent
                        .then(|| "entered a new user/mount namespace".into())
                })
            },
            SECCOMP,
        )),
        held(p(
            "kern.setns-host",
            IpcKernel,
            Attack,
            "join the host's namespaces",
            "setns",
            |_| {
                vec![
                    "/proc/1/ns/mnt".into(),
                    "/host/proc/1/ns/mnt".into(),
                    "/host/proc/1/ns/user".into(),
                ]
            },
            |c| {
                c.observed(|o| {
                    o.ns_is_hosts
                        .then(|| "in the host's user or mount namespace".into())
                })
            },
            SECCOMP,
        )),
        held(p(
            "kern.bpf",
            IpcKernel,
            Attack,
            "create a BPF map",
            "bpf",
            |_| vec![],
            |c| c.fd_named("bpf"),
            SECCOMP,
        )),
        held(p(
            "kern.keyctl",
            IpcKernel,
            Attack,
            "add a key to the kernel keyring",
            "keyctl",
            |f| vec![format!("probe-{}", f.token)],
            |c| c.observed(|o| (o.new_keys > 0).then(|| format!("{} new key(s)", o.new_keys))),
            SECCOMP,
        )),
        held(p(
            "kern.perf-event-open",
            IpcKernel,
            Attack,
            "open a perf event",
            "perf",
            |_| vec![],
            |c| c.fd_named("perf_event"),
            SECCOMP,
        )),
        held(p(
            "kern.userfaultfd",
            IpcKernel,
            Attack,
            "open a userfaultfd",
            "uffd",
            |_| vec![],
            |c| c.fd_named("userfaultfd"),
            SECCOMP,
        )),
        held(p(
            "kern.io-uring",
            IpcKernel,
            Attack,
            "set up an io_uring",
            "iouring",
            |_| vec![],
            |c| c.fd_named("io_uring"),
            SECCOMP,
        )),
        p(
            "kern.init-module",
            IpcKernel,
            Attack,
            "load a kernel module",
            "init_module",
            |_| vec![],
            |c| {
                if read_file(std::path::Path::new("/proc/modules")) == c.fx.host.modules {
                    Safe
                } else {
                    Reached("/proc/modules changed".into())
                }
            },
            SECCOMP,
        ),
        p(
            "kern.kexec-load",
            IpcKernel,
            Attack,
            "load a kernel to boot",
            "kexec",
            |_| vec![],
            |c| {
                if super::fixtures::read_trim("/sys/kernel/kexec_loaded") == c.fx.host.kexec_loaded
                {
                    Safe
                } else {
                    Reached("kexec_loaded changed".into())
                }
            },
            SECCOMP,
        ),
        p(
            "kern.tiocsti",
            IpcKernel,
            Attack,
            "inject input into a host terminal (TIOCSTI)",
            "tiocsti",
            |f| {
                let mut v = vec![format!("probe-{}", f.token), "/dev/tty".into()];
                if let Some(p) = &f.pty {
                    v.push(p.slave_path.clone());
                    v.push(format!("/host{}", p.slave_path));
                }
                v
            },
            |c| match &c.fx.pty {
                None => Unknown("no pseudo-terminal on the host".into()),
                Some(p) => {
                    let typed = p.drain();
                    if typed.contains(&format!("probe-{}", c.fx.token)) {
                        Reached("the host terminal received input".into())
                    } else {
                        Safe
                    }
                }
            },
            ["mount", "mount", "wasi-no-import"],
        ),
        // ---- resources
        p(
            "res.memory-bomb",
            Resources,
            Resource,
            "allocate without bound",
            "alloc",
            |_| vec![],
            |c| match &c.out.exit {
                ExitReason::OutOfMemory => Contained(
                    if c.native { "cgroup" } else { "wasm-limit" },
                    "ended as out-of-memory".into(),
                ),
                ExitReason::Exited(0) => Reached("allocated 16 GiB".into()),
                other => match c.memory_limit {
                    Some(limit) if c.out.usage.peak_memory_bytes > limit => Reached(format!(
                        "ended as {other} after using {} MiB, over the {} MiB limit",
                        c.out.usage.peak_memory_bytes >> 20,
                        limit >> 20
                    )),
                    _ if c.limit_missing("memory") => Reached(format!(
                        "ended as {other}; the memory limit is not enforced here"
                    )),
                    _ => Unknown(format!("ended as {other}")),
                },
            },
            ["cgroup", "cgroup", "wasm-limit"],
        ),
        p(
            "res.cpu-spin",
            Resources,
            Resource,
            "spin past the wall-clock limit",
            "spin",
            |_| vec![],
            within_deadline,
            ["cgroup", "cgroup", "wasm-limit"],
        ),
        p(
            "res.sleep-past-deadline",
            Resources,
            Resource,
            "sleep past the wall-clock limit (inside a host call for wasm)",
            "sleep",
            |_| vec!["30000".into()],
            within_deadline,
            ["cgroup", "cgroup", "wasm-limit"],
        ),
        p(
            "res.disk-fill",
            Resources,
            Resource,
            "fill the writable scratch space",
            "fill",
            |_| vec!["/tmp".into()],
            |c| {
                if c.out.exit == ExitReason::OutOfMemory {
                    Contained(
                        "cgroup",
                        "tmpfs pages count against the memory limit, which ended it first".into(),
                    )
                } else if c.stdout.contains("No space left") || c.stdout.contains("File too large")
                {
                    Contained(
                        "mount",
                        "the 64 MiB /tmp tmpfs filled; the host's disks were not touched".into(),
                    )
                } else if c.stdout.contains("result: ok") {
                    Reached("wrote 1 GiB unchecked".into())
                } else {
                    Safe
                }
            },
            ["mount", "mount", "wasi-no-preopen"],
        ),
        p(
            "res.fd-exhaustion",
            Resources,
            Resource,
            "open descriptors without bound",
            "fds",
            |_| vec!["/data/readme.txt".into()],
            |c| {
                let host_ok = (0..64)
                    .map(|_| std::fs::File::open(&c.fx.secret))
                    .all(|f| f.is_ok());
                if !host_ok {
                    return Reached("the harness cannot open files".into());
                }
                match &c.out.exit {
                    ExitReason::Trap(t) if t.contains("handle limit") => {
                        Contained("wasm-limit", t.clone())
                    }
                    _ if c.stdout.contains("os error 24") => Contained(
                        "rlimit",
                        "RLIMIT_NOFILE; the harness still opens files".into(),
                    ),
                    other => Unknown(format!("ended as {other}")),
                }
            },
            ["rlimit", "rlimit", "wasm-limit"],
        ),
        p(
            "res.stdout-flood",
            Resources,
            Resource,
            "make the harness buffer 256 MiB of output",
            "flood",
            |_| vec!["256".into()],
            |c| {
                let grew = super::rss_bytes().saturating_sub(c.rss_before);
                if c.out.stdout.len() > c.stdout_cap {
                    Reached(format!("captured {} bytes", c.out.stdout.len()))
                } else if grew > 64 << 20 {
                    Reached(format!("the harness grew by {} MiB", grew >> 20))
                } else {
                    Contained(
                        "harness",
                        format!(
                            "captured {} KiB, dropped {} MiB",
                            c.out.stdout.len() >> 10,
                            c.out.stdout_dropped >> 20
                        ),
                    )
                }
            },
            ["harness", "harness", "harness"],
        ),
        // ---- information
        p(
            "info.hostname",
            Information,
            Attack,
            "learn the host's name",
            "hostname",
            |_| {
                vec![
                    "/etc/hostname".into(),
                    "/proc/sys/kernel/hostname".into(),
                    "/host/etc/hostname".into(),
                ]
            },
            |c| {
                if c.printed_word(&c.fx.host.hostname) {
                    Reached(format!("printed {}", c.fx.host.hostname))
                } else {
                    Safe
                }
            },
            ["namespace", "namespace", "wasi-no-import"],
        ),
        p(
            "info.host-ids",
            Information,
            Attack,
            "learn the harness's uid",
            "ids",
            |_| vec![],
            |c| c.printed(&format!("is host {}\n", c.fx.harness_uid)),
            USER_NS,
        ),
        p(
            "info.host-environment",
            Information,
            Attack,
            "read the harness's canary environment variable",
            "env",
            |f| {
                vec![
                    "/proc/self/environ".into(),
                    "/proc/1/environ".into(),
                    format!("/host/proc/{}/environ", f.harness_pid),
                ]
            },
            |c| {
                if c.fx.canary_env.is_empty() {
                    Unknown(format!(
                        "{} is not set in the harness",
                        super::fixtures::CANARY_VAR
                    ))
                } else {
                    c.printed(&c.fx.canary_env)
                }
            },
            ["namespace", "namespace", "wasi-no-grant"],
        ),
        p(
            "info.host-interfaces",
            Information,
            Attack,
            "list the host's network interfaces",
            "ifaces",
            |_| {
                vec![
                    "/sys/class/net".into(),
                    "/proc/net/dev".into(),
                    "/host/sys/class/net".into(),
                    "/host/proc/net/dev".into(),
                ]
            },
            |c| {
                c.fx.host
                    .interfaces
                    .iter()
                    .find(|i| c.printed_word(i))
                    .map_or(Safe, |i| Reached(format!("saw {i}")))
            },
            ["namespace", "namespace", "wasi-no-import"],
        ),
        p(
            "info.machine-id",
            Information,
            Attack,
            "read the host's machine id",
            "read",
            |_| vec!["/etc/machine-id".into(), "/host/etc/machine-id".into()],
            |c| {
                c.fx.host
                    .machine_id
                    .as_deref()
                    .map_or(Safe, |id| c.printed(id))
            },
            FS,
        ),
        p(
            "info.kernel-release",
            Information,
            Informational,
            "learn the kernel version",
            "uname",
            |_| vec!["/proc/sys/kernel/osrelease".into()],
            |c| c.printed(&c.fx.host.kernel_release),
            USER_NS,
        ),
        p(
            "info.cpu-model",
            Information,
            Informational,
            "learn the CPU model",
            "cpu",
            |_| vec!["/proc/cpuinfo".into()],
            |c| {
                c.fx.host.cpu_model.as_deref().map_or(Safe, |m| {
                    c.printed(m.split_whitespace().last().unwrap_or(m))
                })
            },
            USER_NS,
        ),
        p(
            "info.boot-id",
            Information,
            Informational,
            "read the host's boot id",
            "read",
            |_| vec!["/proc/sys/kernel/random/boot_id".into()],
            |c| c.printed(&c.fx.host.boot_id),
            FS,
        ),
        p(
            "info.timer-resolution",
            Information,
            Informational,
            "measure time finer than a microsecond",
            "timer",
            |_| vec![],
            |c| {
                c.stdout
                    .lines()
                    .find_map(|l| l.strip_prefix("timer resolution_ns="))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(Safe, |ns| {
                        if ns < 1000 {
                            Reached(format!("{ns} ns"))
                        } else {
                            Safe
                        }
                    })
            },
            USER_NS,
        ),
    ]
}

fn accepted(n: usize) -> Goal {
    if n == 0 {
        Safe
    } else {
        Reached(format!("the host's listener accepted {n} connection(s)"))
    }
}

fn within_deadline(c: &Ctx) -> Goal {
    let took = Duration::from_micros(c.out.wall_micros);
    match &c.out.exit {
        ExitReason::Timeout if took <= c.wall_limit + Duration::from_millis(500) => Contained(
            if c.native { "cgroup" } else { "wasm-limit" },
            format!("stopped after {} ms", took.as_millis()),
        ),
        ExitReason::Timeout => Reached(format!(
            "stopped only after {} ms (limit {} ms)",
            took.as_millis(),
            c.wall_limit.as_millis()
        )),
        other => Reached(format!("ended as {other} after {} ms", took.as_millis())),
    }
}

/// The harness can still start a process and a thread.
fn host_can_fork() -> std::result::Result<(), String> {
    std::process::Command::new("true")
        .status()
        .map_err(|e| format!("the harness cannot fork: {e}"))?;
    std::thread::spawn(|| ())
        .join()
        .map_err(|_| "the harness cannot start a thread".to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(40_999, |a| a.port())
}
