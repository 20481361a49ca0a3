//! `run`: clone, map ids, attach the cgroup, release the child, supervise, reap, clean up.

use crate::NativeSandbox;
use crate::cgroup::{Cgroup, CgroupLimits, CgroupSupport, CgroupVersion};
use crate::child::{
    self, ChildFds, ExecArrays, KIND_ERROR, KIND_EXIT, KIND_MARK, Record, mark, now_nanos, stage,
};
use crate::error::{NativeError, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How a run ended, as far as the native backend can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum NativeExit {
    Exited(i32),
    Signaled(i32),
    Timeout,
    OutOfMemory,
    /// Killed by SIGSYS from the seccomp filter (kill-process mode).
    SeccompViolation,
}

/// Which protections were really in force.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NativeEnforcement {
    pub namespaces: Vec<&'static str>,
    pub rootless: bool,
    pub uid_map: String,
    pub cgroup: Option<CgroupVersion>,
    pub limits_enforced: Vec<String>,
    pub limits_missing: Vec<String>,
    pub seccomp: String,
    pub seccomp_rules: usize,
    pub capabilities: String,
    pub no_new_privs: bool,
    pub rlimits: Vec<String>,
    pub network: String,
    pub filesystem: String,
    pub landlock: String,
}

#[derive(Debug, Clone)]
pub struct NativeOutcome {
    pub exit: NativeExit,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes read past the capture caps and dropped.
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
    pub user_time: Duration,
    pub sys_time: Duration,
    /// High-water mark of the largest process's resident set.
    pub peak_rss_bytes: u64,
    /// The cgroup's peak memory use (all processes, page cache included), when measured.
    pub cgroup_peak_bytes: Option<u64>,
    /// The pids limit refused at least one fork.
    pub pids_limit_hit: bool,
    /// Named wall-time phases, in order.
    pub phases: Vec<(&'static str, Duration)>,
    pub wall: Duration,
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid 2-element out-array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(NativeError::sys("pipe2"));
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// When we are root, hands pipe inodes to the id the sandbox's root maps to (rootless, the
/// caller's own id already owns them).
fn give_to_guest(fds: &[&OwnedFd], host_id_when_root: u32) {
    // SAFETY: geteuid cannot fail; fchown on descriptors we own changes only their inodes.
    unsafe {
        if libc::geteuid() == 0 {
            for fd in fds {
                libc::fchown(fd.as_raw_fd(), host_id_when_root, host_id_when_root);
            }
        }
    }
}

fn set_nonblocking(fd: &OwnedFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

/// Bounded capture of one output stream.
struct Capture {
    fd: Option<OwnedFd>,
    data: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl Capture {
    fn new(fd: OwnedFd, cap: usize) -> Capture {
        Capture {
            fd: Some(fd),
            data: Vec::new(),
            cap,
            dropped: 0,
        }
    }

    /// Reads what is available; closes the stream at EOF.
    fn pump(&mut self, buf: &mut [u8]) {
        let Some(fd) = &self.fd else { return };
        // SAFETY: reading into a live buffer of the given length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            let n = n as usize;
            let keep = n.min(self.cap - self.data.len().min(self.cap));
            self.data.extend_from_slice(&buf[..keep]);
            self.dropped += (n - keep) as u64;
        } else if n == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EAGAIN) {
            self.fd = None;
        }
    }
}

fn write_id_maps(pid: libc::pid_t, host_id_when_root: u32) -> Result<()> {
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let (outer_uid, outer_gid) = if uid == 0 {
        (host_id_when_root, host_id_when_root)
    } else {
        (uid, gid)
    };
    let base = format!("/proc/{pid}");
    let io = |stage: &'static str| {
        move |source| NativeError::Setup {
            stage: stage.into(),
            source,
        }
    };
    // setgroups must be denied before an unprivileged gid_map write, and it also stops the
    // sandbox from dropping supplementary groups to get around "deny" permissions.
    std::fs::write(format!("{base}/setgroups"), "deny").map_err(io("writing setgroups"))?;
    std::fs::write(format!("{base}/uid_map"), format!("0 {outer_uid} 1\n"))
        .map_err(io("writing uid_map"))?;
    std::fs::write(format!("{base}/gid_map"), format!("0 {outer_gid} 1\n"))
        .map_err(io("writing gid_map"))?;
    Ok(())
}

/// Kills and reaps the child if the supervisor bails out early (errors, panics).
struct ChildGuard {
    pid: libc::pid_t,
    reaped: bool,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: signalling and reaping our own child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

impl NativeSandbox {
    /// Runs the program once with `stdin` as its input.
    pub fn run(&self, stdin: &[u8]) -> Result<NativeOutcome> {
        let started = Instant::now();
        let t_start = now_nanos();
        let limits = &self.config.limits;
        let cgroup = match &self.cgroups {
            CgroupSupport::Unavailable { .. } => None,
            support => Some(Cgroup::create(
                support,
                &CgroupLimits {
                    memory_bytes: limits.memory_bytes,
                    max_pids: limits.max_pids,
                    cpu_cores: limits.cpu_cores,
                },
            )?),
        };
        let t_limits = now_nanos();

        let (stdin_r, stdin_w) = pipe()?;
        let (stdout_r, stdout_w) = pipe()?;
        let (stderr_r, stderr_w) = pipe()?;
        // The guest's stdio pipes belong to the guest's host id, so that reopening them
        // (`/dev/stdin`, `/proc/self/fd/1`) works as it does outside a sandbox.
        give_to_guest(
            &[&stdin_r, &stdout_w, &stderr_w],
            self.config.host_id_when_root,
        );
        let (sync_r, sync_w) = pipe()?;
        let (report_r, report_w) = pipe()?;
        let (exec_r, exec_w) = pipe()?;
        // SAFETY: pidfd_open on our own pid; the result is owned below.
        let me = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) } as i32;
        if me < 0 {
            return Err(NativeError::sys("pidfd_open of the supervisor"));
        }
        // SAFETY: a freshly created descriptor that nobody else owns.
        let supervisor = unsafe { OwnedFd::from_raw_fd(me) };
        let fds = ChildFds {
            stdin: stdin_r.as_raw_fd(),
            stdout: stdout_w.as_raw_fd(),
            stderr: stderr_w.as_raw_fd(),
            sync: sync_r.as_raw_fd(),
            report: report_w.as_raw_fd(),
            exec: exec_w.as_raw_fd(),
            supervisor: supervisor.as_raw_fd(),
        };
        let mut arrays = ExecArrays::new(&self.plan);
        let self_attach = cgroup.as_ref().and_then(|cg| cg.self_attach_files());
        if let Some(files) = &self_attach {
            arrays.cgroup_tasks = files
                .iter()
                .map(|f| std::ffi::CString::new(f.as_os_str().as_encoded_bytes()))
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| NativeError::Config("a cgroup path contains a NUL byte".into()))?;
        }
        let mut flags = libc::CLONE_NEWUSER
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNS
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC;
        if self.config.new_net_namespace {
            flags |= libc::CLONE_NEWNET;
        }

        let t_clone = now_nanos();
        // SAFETY: the child runs only `pid1_main`, which makes syscalls on data built above and
        // never returns (it execs or _exits).
        let pid = unsafe { child::raw_clone(flags as libc::c_ulong) };
        if pid == 0 {
            // SAFETY: we are the freshly cloned child; see `pid1_main`'s contract.
            unsafe { child::pid1_main(&self.plan, &arrays, fds, true) }
        }
        if pid < 0 {
            let source = std::io::Error::last_os_error();
            return Err(match source.raw_os_error() {
                Some(libc::EPERM) | Some(libc::ENOSPC) | Some(libc::EUSERS) => {
                    NativeError::UserNamespacesUnavailable {
                        why: format!("clone: {source}"),
                    }
                }
                _ => NativeError::Setup {
                    stage: "clone".into(),
                    source,
                },
            });
        }
        let t_cloned = now_nanos();
        let mut guard = ChildGuard { pid, reaped: false };
        drop((stdin_r, stdout_w, stderr_w, sync_r, report_w, exec_w));

        write_id_maps(pid, self.config.host_id_when_root)?;
        let t_maps = now_nanos();
        if let (Some(cg), None) = (&cgroup, &self_attach) {
            cg.attach(pid)?;
        }
        // SAFETY: writing one byte from a local to a pipe we own.
        if unsafe { libc::write(sync_w.as_raw_fd(), [1u8].as_ptr().cast(), 1) } != 1 {
            return Err(NativeError::sys("releasing the child"));
        }
        drop(sync_w);
        let t_released = now_nanos();

        // SAFETY: pidfd_open on our own, not yet reaped, child.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if pidfd < 0 {
            return Err(NativeError::sys("pidfd_open"));
        }
        // SAFETY: freshly created descriptor, owned by nobody else.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };

        let mut stdout = Capture::new(stdout_r, self.config.stdout_cap);
        let mut stderr = Capture::new(stderr_r, self.config.stderr_cap);
        let mut report = Capture::new(report_r, usize::MAX);
        let mut exec = Capture::new(exec_r, usize::MAX);
        let mut input = (!stdin.is_empty()).then_some(stdin_w);
        if let Some(w) = &input {
            set_nonblocking(w);
        }
        let mut written = 0usize;
        let mut exec_eof_at = None;
        let mut exited = false;
        let mut exited_at = None;
        let mut timed_out = false;
        let deadline = limits.wall_time.map(|d| started + d);
        let mut buf = vec![0u8; 64 * 1024];

        loop {
            if exited
                && stdout.fd.is_none()
                && stderr.fd.is_none()
                && report.fd.is_none()
                && exec.fd.is_none()
            {
                break;
            }
            let mut pfds = Vec::with_capacity(6);
            let push =
                |fd: Option<&OwnedFd>, events: i16, tag: u8, pfds: &mut Vec<(libc::pollfd, u8)>| {
                    if let Some(fd) = fd {
                        pfds.push((
                            libc::pollfd {
                                fd: fd.as_raw_fd(),
                                events,
                                revents: 0,
                            },
                            tag,
                        ));
                    }
                };
            push(stdout.fd.as_ref(), libc::POLLIN, 0, &mut pfds);
            push(stderr.fd.as_ref(), libc::POLLIN, 1, &mut pfds);
            push(report.fd.as_ref(), libc::POLLIN, 2, &mut pfds);
            push(exec.fd.as_ref(), libc::POLLIN, 3, &mut pfds);
            push(input.as_ref(), libc::POLLOUT, 4, &mut pfds);
            push((!exited).then_some(&pidfd), libc::POLLIN, 5, &mut pfds);
            let now = Instant::now();
            let mut timeout_ms: i32 = -1;
            if let (Some(d), false) = (deadline, timed_out || exited) {
                if now >= d {
                    timed_out = true;
                    // SAFETY: signalling our child through its pidfd.
                    unsafe {
                        libc::syscall(
                            libc::SYS_pidfd_send_signal,
                            pidfd.as_raw_fd(),
                            libc::SIGKILL,
                            0usize,
                            0u32,
                        )
                    };
                    continue;
                }
                timeout_ms = (d - now).as_millis().clamp(1, i32::MAX as u128) as i32;
            }
            if let Some(at) = exited_at {
                // Everything in the sandbox died with pid 1; give the pipes a moment to close.
                let grace = Duration::from_secs(2).saturating_sub(now.duration_since(at));
                if grace.is_zero() {
                    break;
                }
                timeout_ms = grace.as_millis().max(1) as i32;
            }
            let mut raw: Vec<libc::pollfd> = pfds.iter().map(|(p, _)| *p).collect();
            // SAFETY: `raw` is a valid array of pollfd for its length.
            let n = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, timeout_ms) };
            if n < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(NativeError::sys("poll"));
            }
            for (p, (_, tag)) in raw.iter().zip(&pfds) {
                if p.revents == 0 {
                    continue;
                }
                match tag {
                    0 => stdout.pump(&mut buf),
                    1 => stderr.pump(&mut buf),
                    2 => report.pump(&mut buf),
                    3 => {
                        exec.pump(&mut buf);
                        if exec.fd.is_none() && exec_eof_at.is_none() {
                            exec_eof_at = Some(now_nanos());
                        }
                    }
                    4 => {
                        let w = input.as_ref().unwrap();
                        // SAFETY: writing from a live slice.
                        let n = unsafe {
                            libc::write(
                                w.as_raw_fd(),
                                stdin[written..].as_ptr().cast(),
                                stdin.len() - written,
                            )
                        };
                        if n > 0 {
                            written += n as usize;
                        }
                        if n < 0
                            && std::io::Error::last_os_error().raw_os_error() != Some(libc::EAGAIN)
                            || written == stdin.len()
                        {
                            input = None; // EOF for the guest (or it stopped reading).
                        }
                    }
                    _ => {
                        exited = true;
                        exited_at = Some(Instant::now());
                        input = None;
                    }
                }
            }
        }

        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: reaping our own child into valid out-parameters.
        unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        guard.reaped = true;
        let t_reaped = now_nanos();

        let stats = cgroup.as_ref().map(|c| c.stats()).unwrap_or_default();
        if let Some(mut cg) = cgroup {
            cg.kill_all();
            let left = cg.remove();
            if !left.is_empty() {
                return Err(NativeError::Cgroup {
                    path: left[0].clone(),
                    source: std::io::Error::other("cgroup still busy after the run"),
                });
            }
        }
        let t_cleaned = now_nanos();

        let records: Vec<Record> = Record::parse_all(&report.data)
            .into_iter()
            .chain(Record::parse_all(&exec.data))
            .collect();
        if let Some(err) = records.iter().find(|r| r.kind == KIND_ERROR) {
            return Err(self.setup_error(err));
        }
        let exit_record = records.iter().find(|r| r.kind == KIND_EXIT);
        let raw_status = exit_record.map(|r| r.value as i32).unwrap_or(status);
        let signal = libc::WIFSIGNALED(raw_status).then(|| libc::WTERMSIG(raw_status));
        let exit =
            if stats.oom_kills > 0 && (signal == Some(libc::SIGKILL) || exit_record.is_none()) {
                NativeExit::OutOfMemory
            } else if timed_out || self.cpu_limit_reached(signal, &usage) {
                NativeExit::Timeout
            } else if exit_record.is_none() && !timed_out {
                // pid 1 died without reporting: only an outside kill or an OOM does that.
                NativeExit::Signaled(if libc::WIFSIGNALED(status) {
                    libc::WTERMSIG(status)
                } else {
                    libc::SIGKILL
                })
            } else if signal == Some(libc::SIGSYS) {
                NativeExit::SeccompViolation
            } else if let Some(sig) = signal {
                NativeExit::Signaled(sig)
            } else {
                NativeExit::Exited(libc::WEXITSTATUS(raw_status))
            };

        let mark_at = |m: u32| {
            records
                .iter()
                .find(|r| r.kind == KIND_MARK && r.index == m)
                .map(|r| r.nanos)
        };
        let mut phases = Vec::new();
        let mut span = |name: &'static str, from: Option<u64>, to: Option<u64>| {
            if let (Some(a), Some(b)) = (from, to) {
                phases.push((name, Duration::from_nanos(b.saturating_sub(a))));
            }
        };
        span("limits", Some(t_start), Some(t_limits));
        span("clone", Some(t_clone), Some(t_cloned));
        span("id_maps", Some(t_cloned), Some(t_maps));
        // Parent-side attach (v2) or the child moving itself (v1), until it starts its setup.
        span(
            "cgroup_attach",
            Some(t_maps),
            mark_at(mark::STARTED).or(Some(t_released)),
        );
        span("mounts", mark_at(mark::STARTED), mark_at(mark::MOUNTED));
        span("pivot_root", mark_at(mark::MOUNTED), mark_at(mark::PIVOTED));
        span("uts_net", mark_at(mark::PIVOTED), mark_at(mark::UTS_NET));
        span(
            "caps_rlimits",
            mark_at(mark::UTS_NET),
            mark_at(mark::RLIMITS_CAPS),
        );
        span(
            "seccomp",
            mark_at(mark::RLIMITS_CAPS),
            mark_at(mark::SECCOMP),
        );
        span("exec", mark_at(mark::SECCOMP), exec_eof_at);
        span("run", exec_eof_at, exit_record.map(|r| r.nanos));
        span("reap", exit_record.map(|r| r.nanos), Some(t_reaped));
        span("cleanup", Some(t_reaped), Some(t_cleaned));

        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        Ok(NativeOutcome {
            exit,
            stdout: stdout.data,
            stderr: stderr.data,
            stdout_dropped: stdout.dropped,
            stderr_dropped: stderr.dropped,
            user_time: tv(usage.ru_utime),
            sys_time: tv(usage.ru_stime),
            peak_rss_bytes: usage.ru_maxrss as u64 * 1024,
            cgroup_peak_bytes: stats.peak_memory_bytes,
            pids_limit_hit: stats.pids_max_hits > 0,
            phases,
            wall: started.elapsed(),
        })
    }

    /// RLIMIT_CPU ends a process with SIGXCPU (soft) or SIGKILL (hard); when the CPU time used
    /// has reached the limit, that is the CPU-time limit doing its job, i.e. a timeout.
    fn cpu_limit_reached(&self, signal: Option<i32>, usage: &libc::rusage) -> bool {
        let Some(limit) = self.config.limits.cpu_time else {
            return false;
        };
        let secs = limit.as_secs() + u64::from(limit.subsec_nanos() > 0);
        let used = usage.ru_utime.tv_sec as u64 + usage.ru_stime.tv_sec as u64;
        matches!(signal, Some(libc::SIGXCPU) | Some(libc::SIGKILL)) && used + 1 >= secs
    }

    fn setup_error(&self, record: &Record) -> NativeError {
        let source = std::io::Error::from_raw_os_error(record.value as i32);
        let index = record.index;
        let stage = match index {
            stage::SYNC => "waiting for the supervisor (it went away)".to_string(),
            stage::UNSHARE_CGROUP => "unshare(CLONE_NEWCGROUP)".into(),
            stage::SETSID => "setsid".into(),
            stage::HOSTNAME => "sethostname".into(),
            stage::LOOPBACK => "bringing up lo".into(),
            stage::FORK => "forking the workload".into(),
            stage::STDIO => "setting up stdio".into(),
            stage::RLIMIT => "setrlimit".into(),
            stage::CAPS => "dropping capabilities".into(),
            stage::NO_NEW_PRIVS => "setting no_new_privs".into(),
            stage::LANDLOCK => "Landlock scoping".into(),
            stage::SECCOMP => "installing the seccomp filter".into(),
            stage::PDEATHSIG => "PR_SET_PDEATHSIG".into(),
            stage::SETID => "taking the namespace's uid/gid 0".into(),
            stage::CGROUP_SELF_ATTACH => {
                "joining the run's cgroup (writing to its v1 tasks files)".into()
            }
            stage::EXEC => {
                let hint = if source.raw_os_error() == Some(libc::ENOENT) {
                    " (a dynamically linked program needs its loader and libraries granted, e.g. --ro /lib --ro /lib64 --ro /usr; or build it statically)"
                } else {
                    ""
                };
                format!("execve of {}{hint}", self.config.program.display())
            }
            i if i >= stage::SOURCE_BASE => format!(
                "opening the grant {}",
                self.source_names
                    .get((i - stage::SOURCE_BASE) as usize)
                    .map_or("?", |s| s.as_str())
            ),
            i => self
                .step_names
                .get(i as usize)
                .cloned()
                .unwrap_or_else(|| format!("step {i}")),
        };
        NativeError::Setup { stage, source }
    }
}
