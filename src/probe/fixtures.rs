//! What the harness sets up on the host before the probes run, and checks after: planted
//! files, listeners, a decoy process, IPC objects, a pseudo-terminal, a cgroup file, and an
//! observer that looks at a probe process from the host's /proc while it lingers.

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::io::Read;
use std::net::{IpAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything planted for one suite run; removed on drop.
pub struct Fixtures {
    pub dir: tempfile::TempDir,
    /// 12 hex digits, unique per suite run; names and contents derive from it.
    pub token: String,
    pub secret: PathBuf,
    pub secret_text: String,
    pub canary: PathBuf,
    pub exec_token_file: PathBuf,
    pub exec_text: String,
    /// Granted read-only at /data and read-write at /work.
    pub data: PathBuf,
    pub work: PathBuf,
    pub readme_text: String,
    pub tcp4: TcpListener,
    pub tcp6: Option<TcpListener>,
    pub tcp_any: TcpListener,
    pub host_ip: Option<IpAddr>,
    pub udp: UdpSocket,
    pub dns: DnsResponder,
    pub abstract_name: String,
    pub abstract_unix: UnixListener,
    pub unix_path: PathBuf,
    pub unix: UnixListener,
    pub decoy: Mutex<Child>,
    pub ipc: Option<HostIpc>,
    pub pty: Option<Pty>,
    pub cgroup_file: Option<PathBuf>,
    pub harness_pid: u32,
    pub harness_comm: String,
    pub harness_uid: u32,
    pub canary_env: String,
    pub host: HostFacts,
}

/// Facts about the host the information probes try to learn.
pub struct HostFacts {
    pub hostname: String,
    pub machine_id: Option<String>,
    pub interfaces: Vec<String>,
    pub kernel_release: String,
    pub cpu_model: Option<String>,
    pub boot_id: String,
    /// Block devices and the FNV-1a of their first 64 KiB (empty when unreadable here).
    pub block_devices: Vec<(String, Option<u64>)>,
    pub domainname: String,
    pub kexec_loaded: String,
    pub modules: String,
}

/// The environment variable whose value the `info.host-env` probe hunts for.
pub const CANARY_VAR: &str = "SANDBOX_PROBE_CANARY";

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_err()
    {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (t >> (i % 16 * 8)) as u8 ^ std::process::id() as u8);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn setup_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::setup(format!("probe fixtures: {what}: {e}"))
}

pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn read_trim(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_string()
}

impl HostFacts {
    fn gather() -> HostFacts {
        let interfaces = std::fs::read_dir("/sys/class/net")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "lo")
                    .collect()
            })
            .unwrap_or_default();
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string());
        let block_devices = std::fs::read_dir("/sys/block")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with("loop") && !n.starts_with("ram"))
                    .map(|n| {
                        let mut buf = Vec::new();
                        let hash = std::fs::File::open(format!("/dev/{n}"))
                            .and_then(|f| f.take(1 << 16).read_to_end(&mut buf))
                            .ok()
                            .map(|_| fnv(&buf));
                        (n, hash)
                    })
                    .collect()
            })
            .unwrap_or_default();
        HostFacts {
            hostname: read_trim("/proc/sys/kernel/hostname"),
            machine_id: ["/etc/machine-id", "/var/lib/dbus/machine-id"]
                .iter()
                .map(read_trim)
                .find(|s| !s.is_empty()),
            interfaces,
            kernel_release: read_trim("/proc/sys/kernel/osrelease"),
            cpu_model,
            boot_id: read_trim("/proc/sys/kernel/random/boot_id"),
            block_devices,
            domainname: read_trim("/proc/sys/kernel/domainname"),
            kexec_loaded: read_trim("/sys/kernel/kexec_loaded"),
            modules: std::fs::read_to_string("/proc/modules").unwrap_or_default(),
        }
    }
}

impl Fixtures {
    /// Plants everything. World-readable on purpose: only the sandbox may stand between a
    /// probe and a fixture, not file permissions.
    pub fn plant(canary_exec: &Path) -> Result<Fixtures> {
        let token = random_hex(6);
        let dir = tempfile::Builder::new()
            .prefix("sandbox-probe-")
            .tempdir()
            .map_err(|e| setup_err("temp dir", e))?;
        let mode =
            |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
        mode(dir.path(), 0o755).map_err(|e| setup_err("chmod", e))?;
        let secret_dir = dir.path().join("secret");
        let data = dir.path().join("data");
        let work = dir.path().join("work");
        for d in [&secret_dir, &data, &work] {
            std::fs::create_dir(d).map_err(|e| setup_err("mkdir", e))?;
        }
        mode(&secret_dir, 0o755).map_err(|e| setup_err("chmod", e))?;
        mode(&data, 0o755).map_err(|e| setup_err("chmod", e))?;
        mode(&work, 0o1777).map_err(|e| setup_err("chmod", e))?;
        let secret = secret_dir.join("secret.txt");
        let secret_text = format!("SECRET-{token}");
        let exec_token_file = secret_dir.join("exec-token.txt");
        let exec_text = format!("EXECUTED-{token}");
        let readme_text = format!("README-{token}");
        let canary = secret_dir.join("canary");
        let write =
            |p: &Path, text: &str| std::fs::write(p, text).map_err(|e| setup_err("write", e));
        write(&secret, &secret_text)?;
        write(&exec_token_file, &exec_text)?;
        write(&data.join("readme.txt"), &readme_text)?;
        std::fs::copy(canary_exec, &canary).map_err(|e| setup_err("copy canary", e))?;
        mode(&canary, 0o755).map_err(|e| setup_err("chmod", e))?;
        for f in [&secret, &exec_token_file, &data.join("readme.txt")] {
            mode(f, 0o644).map_err(|e| setup_err("chmod", e))?;
        }
        std::os::unix::fs::symlink(&secret, data.join("link-abs"))
            .and_then(|()| {
                std::os::unix::fs::symlink("../secret/secret.txt", data.join("link-rel"))
            })
            .map_err(|e| setup_err("symlink", e))?;

        let tcp4 = TcpListener::bind("127.0.0.1:0").map_err(|e| setup_err("listen", e))?;
        let tcp6 = TcpListener::bind("[::1]:0").ok();
        let tcp_any = TcpListener::bind("0.0.0.0:0").map_err(|e| setup_err("listen", e))?;
        for l in [Some(&tcp4), tcp6.as_ref(), Some(&tcp_any)]
            .into_iter()
            .flatten()
        {
            l.set_nonblocking(true)
                .map_err(|e| setup_err("listen", e))?;
        }
        // The address the host would use to reach the outside (no packet is sent).
        let host_ip = UdpSocket::bind("0.0.0.0:0")
            .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
            .and_then(|s| s.local_addr())
            .ok()
            .map(|a| a.ip())
            .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
        let udp = UdpSocket::bind("127.0.0.1:0").map_err(|e| setup_err("udp", e))?;
        udp.set_nonblocking(true).map_err(|e| setup_err("udp", e))?;
        let dns = DnsResponder::start()?;

        let abstract_name = format!("sandbox-probe-{token}");
        let abstract_unix = {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes())
                .map_err(|e| setup_err("abstract socket", e))?;
            UnixListener::bind_addr(&addr).map_err(|e| setup_err("abstract socket", e))?
        };
        let unix_path = secret_dir.join("sock");
        let unix = UnixListener::bind(&unix_path).map_err(|e| setup_err("unix socket", e))?;
        mode(&unix_path, 0o777).map_err(|e| setup_err("chmod", e))?;
        for l in [&abstract_unix, &unix] {
            l.set_nonblocking(true)
                .map_err(|e| setup_err("unix socket", e))?;
        }
        let decoy = Command::new("sleep")
            .arg("600")
            .spawn()
            .map_err(|e| setup_err("decoy process (sleep)", e))?;
        let key = i32::from_str_radix(&token[..7], 16).unwrap_or(0x5a5a5a) | 0x1000_0000;
        let ipc = HostIpc::create(key, &token);
        let pty = Pty::open();
        let cgroup_file = cgroup_fixture(&token);
        let harness_pid = std::process::id();
        Ok(Fixtures {
            harness_comm: read_trim(format!("/proc/{harness_pid}/comm")),
            harness_uid: std::fs::metadata("/proc/self").map_or(0, |m| {
                use std::os::unix::fs::MetadataExt;
                m.uid()
            }),
            canary_env: std::env::var(CANARY_VAR).unwrap_or_default(),
            host: HostFacts::gather(),
            dir,
            token,
            secret,
            secret_text,
            canary,
            exec_token_file,
            exec_text,
            data,
            work,
            readme_text,
            tcp4,
            tcp6,
            tcp_any,
            host_ip,
            udp,
            dns,
            abstract_name,
            abstract_unix,
            unix_path,
            unix,
            decoy: Mutex::new(decoy),
            ipc,
            pty,
            cgroup_file,
            harness_pid,
        })
    }

    pub fn decoy_pid(&self) -> u32 {
        self.decoy.lock().map(|c| c.id()).unwrap_or(0)
    }

    /// The decoy is still running and neither stopped nor traced.
    pub fn decoy_untouched(&self) -> std::result::Result<(), String> {
        let Ok(mut child) = self.decoy.lock() else {
            return Err("decoy lock poisoned".into());
        };
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the decoy ended: {status}"));
        }
        let status = read_trim(format!("/proc/{}/status", child.id()));
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .map(|l| l[name.len()..].trim().to_string())
                .unwrap_or_default()
        };
        if field("TracerPid:") != "0" {
            return Err(format!("the decoy is traced by {}", field("TracerPid:")));
        }
        let state = field("State:");
        if state.starts_with('T') || state.starts_with('t') {
            return Err(format!("the decoy was stopped ({state})"));
        }
        Ok(())
    }

    /// Connections accepted so far on a listener (drains its queue).
    pub fn accepted(listener: &TcpListener) -> usize {
        std::iter::from_fn(|| listener.accept().ok()).count()
    }

    pub fn unix_accepted(listener: &UnixListener) -> usize {
        std::iter::from_fn(|| listener.accept().ok()).count()
    }

    /// Datagrams received by the UDP fixture that carry the token.
    pub fn udp_received(&self) -> usize {
        let mut buf = [0u8; 512];
        let mut count = 0;
        while let Ok(n) = self.udp.recv(&mut buf) {
            if String::from_utf8_lossy(&buf[..n]).contains(&self.token) {
                count += 1;
            }
        }
        count
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        if let Ok(mut c) = self.decoy.lock() {
            // The decoy may have been stopped by a probe: continue it so the kill lands.
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(f) = &self.cgroup_file
            && let Some(dir) = f.parent()
        {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A planted cgroup (pids controller, v1 or v2) whose `pids.max` the `fs.write-sys` probe
/// tries to change; `None` without a writable cgroup hierarchy (rootless).
fn cgroup_fixture(token: &str) -> Option<PathBuf> {
    // v1 pids, the v2 root, and (rootless on v2 with delegation) our own v2 cgroup.
    let own_v2 = read_trim("/proc/self/cgroup")
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| format!("/sys/fs/cgroup{p}"));
    let roots = [
        "/sys/fs/cgroup/pids".to_string(),
        "/sys/fs/cgroup".to_string(),
    ];
    for root in roots.into_iter().chain(own_v2) {
        let dir = Path::new(&root).join(format!("sandbox-probe-{token}"));
        if std::fs::create_dir(&dir).is_ok() {
            let file = dir.join("pids.max");
            if file.exists() {
                return Some(file);
            }
            let _ = std::fs::remove_dir(&dir);
        }
    }
    None
}

/// SysV shared memory and message queue, and a POSIX message queue, each holding the token.
pub struct HostIpc {
    pub shm_key: i32,
    shm_id: i32,
    pub msg_key: i32,
    msg_id: i32,
    pub mq_name: String,
    pub text: String,
}

impl HostIpc {
    fn create(key: i32, token: &str) -> Option<HostIpc> {
        let text = format!("IPC-{token}");
        let mq_name = format!("/sandbox-probe-{token}");
        // SAFETY: plain System V / POSIX IPC calls on objects this function creates; the
        // attached segment is 4096 bytes and detached before returning.
        unsafe {
            let shm_id = libc::shmget(key, 4096, libc::IPC_CREAT | libc::IPC_EXCL | 0o666);
            if shm_id < 0 {
                return None;
            }
            let at = libc::shmat(shm_id, std::ptr::null(), 0);
            if at as isize == -1 {
                libc::shmctl(shm_id, libc::IPC_RMID, std::ptr::null_mut());
                return None;
            }
            std::ptr::copy_nonoverlapping(text.as_ptr(), at.cast::<u8>(), text.len());
            libc::shmdt(at);
            let msg_key = key + 1;
            let msg_id = libc::msgget(msg_key, libc::IPC_CREAT | libc::IPC_EXCL | 0o666);
            let mut msg = vec![0u8; 8 + text.len()];
            msg[0] = 1; // mtype
            msg[8..].copy_from_slice(text.as_bytes());
            if msg_id >= 0 {
                libc::msgsnd(msg_id, msg.as_ptr().cast(), text.len(), libc::IPC_NOWAIT);
            }
            let name = std::ffi::CString::new(mq_name.clone()).ok()?;
            let mq = libc::mq_open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
                0o666 as libc::mode_t,
                std::ptr::null_mut::<libc::mq_attr>(),
            );
            if mq >= 0 {
                libc::mq_send(mq, text.as_ptr().cast(), text.len(), 0);
                libc::mq_close(mq);
            }
            Some(HostIpc {
                shm_key: key,
                shm_id,
                msg_key,
                msg_id,
                mq_name,
                text,
            })
        }
    }

    /// Messages still queued: (SysV, POSIX).
    pub fn queued(&self) -> (i64, i64) {
        // SAFETY: IPC_STAT/mq_getattr fill structures we own.
        unsafe {
            let mut ds: libc::msqid_ds = std::mem::zeroed();
            let sysv = if libc::msgctl(self.msg_id, libc::IPC_STAT, &mut ds) == 0 {
                ds.msg_qnum as i64
            } else {
                -1
            };
            let name = std::ffi::CString::new(self.mq_name.clone()).unwrap_or_default();
            let mq = libc::mq_open(name.as_ptr(), libc::O_RDONLY);
            let posix = if mq >= 0 {
                let mut attr: libc::mq_attr = std::mem::zeroed();
                libc::mq_getattr(mq, &mut attr);
                libc::mq_close(mq);
                attr.mq_curmsgs
            } else {
                -1
            };
            (sysv, posix)
        }
    }
}

impl Drop for HostIpc {
    fn drop(&mut self) {
        // SAFETY: removes the objects `create` made.
        unsafe {
            libc::shmctl(self.shm_id, libc::IPC_RMID, std::ptr::null_mut());
            libc::msgctl(self.msg_id, libc::IPC_RMID, std::ptr::null_mut());
            if let Ok(name) = std::ffi::CString::new(self.mq_name.clone()) {
                libc::mq_unlink(name.as_ptr());
            }
        }
    }
}

/// A pseudo-terminal pair: probes try to inject input through its slave; the harness reads
/// the master afterwards.
pub struct Pty {
    master: std::fs::File,
    _slave: std::fs::File,
    pub slave_path: String,
}

impl Pty {
    fn open() -> Option<Pty> {
        use std::os::fd::FromRawFd;
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty fills two descriptors we then own; the name buffer is unused.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        if rc != 0 {
            return None;
        }
        // SAFETY: both descriptors were just returned by openpty and are owned by nobody else.
        let (master, slave) = unsafe {
            (
                std::fs::File::from_raw_fd(master),
                std::fs::File::from_raw_fd(slave),
            )
        };
        let slave_path = std::fs::read_link(format!("/proc/self/fd/{}", {
            use std::os::fd::AsRawFd;
            slave.as_raw_fd()
        }))
        .ok()?
        .display()
        .to_string();
        // SAFETY: sets O_NONBLOCK on a descriptor we own.
        unsafe {
            use std::os::fd::AsRawFd;
            let fl = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(master.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
        Some(Pty {
            master,
            _slave: slave,
            slave_path,
        })
    }

    /// Whatever arrived as terminal input (what TIOCSTI injects shows up as echo).
    pub fn drain(&self) -> String {
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = (&self.master).read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A tiny resolver on host loopback that answers every A query with 10.0.0.1 and counts.
pub struct DnsResponder {
    pub addr: std::net::SocketAddr,
    pub queries: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DnsResponder {
    fn start() -> Result<DnsResponder> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| setup_err("dns", e))?;
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(|e| setup_err("dns", e))?;
        let addr = socket.local_addr().map_err(|e| setup_err("dns", e))?;
        let queries = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (queries.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("probe-dns".into())
            .spawn(move || {
                let mut buf = [0u8; 512];
                while !s.load(Ordering::Relaxed) {
                    let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if n < 12 {
                        continue;
                    }
                    q.fetch_add(1, Ordering::Relaxed);
                    let mut reply = buf[..n].to_vec();
                    reply[2] = 0x81;
                    reply[3] = 0x80;
                    reply[7] = 1; // one answer
                    reply
                        .extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
                    let _ = socket.send_to(&reply, peer);
                }
            })
            .map_err(|e| setup_err("dns thread", e))?;
        Ok(DnsResponder {
            addr,
            queries,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for DnsResponder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the host saw of a lingering probe process (found by its name in the host's /proc).
#[derive(Debug, Default, Clone)]
pub struct Observation {
    pub found: bool,
    /// Real, effective, saved and filesystem uids as the host sees them.
    pub host_uids: Vec<u32>,
    pub cap_eff: u64,
    /// Targets of the process's descriptors (`anon_inode:[perf_event]`, `socket:[123]`...).
    pub fd_targets: Vec<String>,
    pub raw_sockets: usize,
    pub packet_sockets: usize,
    /// Its user or mount namespace differs from its parent's (it unshared).
    pub ns_changed_from_parent: bool,
    /// Its user or mount namespace is the host's (pid 1's).
    pub ns_is_hosts: bool,
    /// Keys in the kernel's key-user table beyond what was there before the run.
    pub new_keys: i64,
    /// The host could connect to the port being watched.
    pub host_connected: bool,
}

impl Observation {
    /// Folds in a later look: what was seen once stays seen (a process that is exiting
    /// shows less than it did a moment before).
    fn merge(&mut self, o: Observation) {
        self.found |= o.found;
        for u in o.host_uids {
            if !self.host_uids.contains(&u) {
                self.host_uids.push(u);
            }
        }
        self.cap_eff |= o.cap_eff;
        for t in o.fd_targets {
            if !self.fd_targets.contains(&t) {
                self.fd_targets.push(t);
            }
        }
        self.raw_sockets = self.raw_sockets.max(o.raw_sockets);
        self.packet_sockets = self.packet_sockets.max(o.packet_sockets);
        self.ns_changed_from_parent |= o.ns_changed_from_parent;
        self.ns_is_hosts |= o.ns_is_hosts;
        self.new_keys = self.new_keys.max(o.new_keys);
    }
}

/// Watches the host's /proc during one run.
pub struct Observer {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Observation>,
}

fn total_keys() -> i64 {
    // "  uid:  usage nkeys/nikeys qnkeys/maxkeys qnbytes/maxbytes"
    std::fs::read_to_string("/proc/key-users")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter_map(|f| f.split('/').next()?.parse::<i64>().ok())
        .sum()
}

fn ns(pid: &str, kind: &str) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()
}

fn socket_inodes(pid: &str, table: &str, inode_column: usize) -> BTreeSet<String> {
    std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(inode_column).map(str::to_string))
        .collect()
}

fn snapshot(pid: &str, keys_before: i64) -> Option<Observation> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
            .unwrap_or_default()
    };
    let ppid = field("PPid:");
    let fd_targets: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|t| t.display().to_string())
                .collect()
        })
        .unwrap_or_default();
    let sockets: BTreeSet<String> = fd_targets
        .iter()
        .filter_map(|t| t.strip_prefix("socket:[")?.strip_suffix(']'))
        .map(str::to_string)
        .collect();
    let mut raw = socket_inodes(pid, "raw", 9);
    raw.extend(socket_inodes(pid, "raw6", 9));
    let packet = socket_inodes(pid, "packet", 8);
    let kinds = ["user", "mnt"];
    Some(Observation {
        found: true,
        host_uids: field("Uid:")
            .split_whitespace()
            .filter_map(|u| u.parse().ok())
            .collect(),
        cap_eff: u64::from_str_radix(&field("CapEff:"), 16).unwrap_or(0),
        raw_sockets: sockets.intersection(&raw).count(),
        packet_sockets: sockets.intersection(&packet).count(),
        fd_targets,
        ns_changed_from_parent: kinds.iter().any(|k| {
            // Both must be readable: an exiting process or parent reads as None.
            matches!((ns(pid, k), ns(&ppid, k)), (Some(a), Some(b)) if a != b)
        }),
        ns_is_hosts: kinds
            .iter()
            .any(|k| ns(pid, k).is_some() && ns(pid, k) == ns("1", k)),
        new_keys: total_keys() - keys_before,
        host_connected: false,
    })
}

impl Observer {
    /// Starts watching for a process named `marker`, and (when `port` is set) keeps trying to
    /// connect to host 127.0.0.1:`port`.
    pub fn start(marker: String, port: Option<u16>) -> Observer {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let keys_before = total_keys();
        let thread = std::thread::spawn(move || {
            let mut seen = Observation::default();
            let mut connected = false;
            loop {
                let last = s.load(Ordering::Relaxed);
                if let Some(port) = port
                    && !connected
                {
                    connected = TcpStream::connect_timeout(
                        &([127, 0, 0, 1], port).into(),
                        Duration::from_millis(20),
                    )
                    .is_ok();
                }
                if let Ok(dir) = std::fs::read_dir("/proc") {
                    for entry in dir.filter_map(|e| e.ok()) {
                        let pid = entry.file_name().to_string_lossy().into_owned();
                        if !pid.starts_with(|c: char| c.is_ascii_digit()) {
                            continue;
                        }
                        if read_trim(entry.path().join("comm")) == marker
                            && let Some(o) = snapshot(&pid, keys_before)
                        {
                            seen.merge(o);
                        }
                    }
                }
                if last {
                    break;
                }
                std::thread::sleep(Duration::from_millis(3));
            }
            seen.host_connected = connected;
            seen
        });
        Observer { stop, thread }
    }

    pub fn finish(self) -> Observation {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Host processes named `marker` (a daemon that outlived its sandbox); they are killed.
pub fn kill_survivors(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.filter_map(|e| e.ok()) {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if read_trim(entry.path().join("comm")) == marker {
                // SAFETY: kill(2) on a pid we just found; at worst it is gone already.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                found.push(pid);
            }
        }
    }
    found
}

/// Lines of the host's mount table that mention `needle`.
pub fn host_mounts_with(needle: &str) -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// Detaches every host mount whose line in the mount table mentions `needle` (a probe's
/// mount that reached the host must not stay, e.g. over /tmp).
pub fn unmount_with(needle: &str) {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in table.lines().filter(|l| l.contains(needle)) {
        if let Some(target) = line.split_whitespace().nth(4)
            && let Ok(path) = std::ffi::CString::new(target)
        {
            // SAFETY: umount2 with a NUL-terminated path; MNT_DETACH only unmounts.
            unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

pub fn read_file(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
