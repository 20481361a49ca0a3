//! `probe ACTION ARGS...`: one escape attempt of the isolation scorecard (`sandbox probe`).
//!
//! It prints what it saw, then a last line `result: ok <what>`, `result: failed <why>` or
//! `result: unrepresentable <why>`. That report is only a hint: the harness decides the
//! verdict from facts it checks on the host (the secret's contents in stdout, a listener's
//! accept count, the probe process's credentials seen from the host's /proc).
//!
//! Actions are harmless when they succeed: they read, create files in the harness's own
//! fixtures, connect to the harness's listeners, or hold a descriptor while the harness
//! looks. When `PROBE_MARKER` is set, the probe renames itself to it after the attempt and
//! lingers `PROBE_HOLD_MS` so the harness can find it in the host's /proc.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

enum Report {
    Done(String),
    Refused(String),
    /// Only WASI builds have attempts they cannot even express.
    #[cfg_attr(not(target_os = "wasi"), allow(dead_code))]
    Unrepresentable(&'static str),
}
use Report::*;

#[cfg_attr(not(target_os = "wasi"), allow(dead_code))]
const NO_PROCESSES: &str = "WASI has no processes, signals, users or capabilities to name";
#[cfg_attr(not(target_os = "wasi"), allow(dead_code))]
const NO_KERNEL: &str = "WASI has no import that reaches this kernel interface";
#[cfg_attr(not(all(target_os = "wasi", target_env = "p1")), allow(dead_code))]
const NO_SOCKETS: &str = "WASI preview 1 has no way to create a socket";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((action, rest)) = args.split_first() else {
        eprintln!("usage: probe ACTION ARGS...");
        std::process::exit(2);
    };
    let result = attempt(action, rest);
    let line = match &result {
        Done(what) => format!("result: ok {what}"),
        Refused(why) => format!("result: failed {why}"),
        Unrepresentable(why) => format!("result: unrepresentable {why}"),
    };
    guest::say(&line);
    sys::hold();
}

fn attempt(action: &str, args: &[String]) -> Report {
    match action {
        "read" => read_any(args),
        "create" => first_ok(args, |p| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(p)
                .and_then(|mut f| f.write_all(b"probe"))
        }),
        "overwrite" => {
            let (data, paths) = args.split_first().expect("overwrite DATA PATHS...");
            first_ok(paths, |p| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(p)
                    .and_then(|mut f| f.write_all(data.as_bytes()))
            })
        }
        "hardlink" => match std::fs::hard_link(&args[0], &args[1]) {
            Ok(()) => {
                read_any(&args[1..2]);
                Done(format!("linked {} to {}", args[1], args[0]))
            }
            Err(e) => Refused(format!("link {}: {e}", args[0])),
        },
        "list-procs" => list_procs(args),
        "fill" => fill(&args[0]),
        "fds" => {
            let mut held = Vec::new();
            let err = loop {
                match std::fs::File::open(&args[0]) {
                    Ok(f) if held.len() < 1_000_000 => held.push(f),
                    Ok(_) => break "a million files open".to_string(),
                    Err(e) => break e.to_string(),
                }
            };
            Refused(format!("opened {} then: {err}", held.len()))
        }
        "alloc" => {
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            for _ in 0..16_384 {
                blocks.push(vec![1u8; 1 << 20]);
            }
            Done(format!("allocated {} MiB", blocks.len()))
        }
        "spin" => {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        "flood" => {
            let mib: u64 = args[0].parse().unwrap_or(256);
            let chunk = vec![b'x'; 1 << 16];
            let mut out = std::io::stdout().lock();
            for _ in 0..mib * 16 {
                if let Err(e) = out.write_all(&chunk) {
                    return Refused(e.to_string());
                }
            }
            Done(format!("wrote {mib} MiB"))
        }
        "sleep" => {
            let ms: u64 = args[0].parse().unwrap_or(10_000);
            std::thread::sleep(Duration::from_millis(ms));
            Done(format!("slept {ms} ms"))
        }
        "env" => {
            for (k, v) in std::env::vars() {
                println!("env {k}={v}");
            }
            read_any(args);
            Done("listed the environment".into())
        }
        "timer" => {
            let mut best = u128::MAX;
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(50) {
                let a = Instant::now();
                let mut b = Instant::now();
                while b == a {
                    b = Instant::now();
                }
                best = best.min((b - a).as_nanos());
            }
            println!("timer resolution_ns={best}");
            Done(format!("{best} ns"))
        }
        "blockdev" => {
            let mut errors = Vec::new();
            for p in args {
                match std::fs::File::open(p) {
                    Ok(f) => {
                        let mut buf = Vec::new();
                        let _ = f.take(1 << 16).read_to_end(&mut buf);
                        println!("blockdev {p} fnv={:016x}", fnv(&buf));
                        return Done(format!("read {} bytes of {p}", buf.len()));
                    }
                    Err(e) => errors.push(format!("{p}: {e}")),
                }
            }
            Refused(errors.join("; "))
        }
        "segv" => {
            // An address no program may touch: SIGSEGV natively, a trap in wasm32.
            let address = usize::MAX - 15;
            // SAFETY: deliberately unsound; the sandbox must survive this guest's crash.
            let byte = unsafe { std::ptr::read_volatile(address as *const u8) };
            Done(format!("read {byte} at {address:#x}"))
        }
        "tcp" => net::tcp(&args[0]),
        "udp" => net::udp(&args[0], args[1].as_bytes()),
        "dns" => net::dns(&args[0], &args[1]),
        "listen" => net::listen(&args[0]),
        "tcp-wait" => net::tcp_wait(&args[0]),
        _ => sys::attempt(action, args),
    }
}

/// FNV-1a, also computed by the harness over the host's device.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Tries `op` on each path; the first success wins.
fn first_ok(paths: &[String], op: impl Fn(&str) -> std::io::Result<()>) -> Report {
    let mut errors = Vec::new();
    for p in paths {
        match op(p) {
            Ok(()) => return Done(p.clone()),
            Err(e) => errors.push(format!("{p}: {e}")),
        }
    }
    Refused(errors.join("; "))
}

/// Reads each path and prints what it could (up to 4 KiB per file, directories listed).
fn read_any(paths: &[String]) -> Report {
    let mut errors = Vec::new();
    let mut read = Vec::new();
    for p in paths {
        if let Ok(dir) = std::fs::read_dir(p) {
            let names: Vec<String> = dir
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            println!("dir {p}: {}", names.join(" "));
            read.push(p.clone());
            continue;
        }
        match std::fs::File::open(p) {
            Ok(f) => {
                let mut buf = Vec::new();
                let _ = f.take(4096).read_to_end(&mut buf);
                println!("file {p}: {}", String::from_utf8_lossy(&buf).trim_end());
                read.push(p.clone());
            }
            Err(e) => errors.push(format!("{p}: {e}")),
        }
    }
    if read.is_empty() {
        Refused(errors.join("; "))
    } else {
        Done(format!("read {}", read.join(" ")))
    }
}

/// Lists the processes visible under each /proc-like directory: `pid=N comm=C`.
fn list_procs(roots: &[String]) -> Report {
    let mut seen = 0;
    for root in roots {
        let Ok(dir) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in dir.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.parse::<u32>().is_err() {
                continue;
            }
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            println!("pid={name} comm={}", comm.trim());
            seen += 1;
        }
    }
    if seen == 0 {
        Refused("no process list readable".into())
    } else {
        Done(format!("saw {seen} processes"))
    }
}

/// Writes 1 MiB chunks into DIR until refused (at most 1 GiB, in case DIR is a host
/// directory), then removes the file.
fn fill(dir: &str) -> Report {
    let chunk = vec![0x5au8; 1 << 20];
    let path = format!("{dir}/probe-fill");
    let mut f = match std::fs::File::create(&path) {
        Ok(f) => f,
        Err(e) => return Refused(format!("{path}: {e}")),
    };
    let mut mib = 0u64;
    let mut refused = None;
    while mib < 1024 {
        if let Err(e) = f.write_all(&chunk) {
            refused = Some(e);
            break;
        }
        mib += 1;
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    match refused {
        Some(e) => Refused(format!("wrote {mib} MiB then: {e}")),
        None => Done(format!("wrote {mib} MiB")),
    }
}

#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
mod net {
    use super::*;
    use std::net::{TcpListener, TcpStream, UdpSocket};

    pub fn tcp(addr: &str) -> Report {
        match TcpStream::connect_timeout(&addr.parse().expect("ADDR"), Duration::from_secs(1)) {
            Ok(_) => Done(format!("connected to {addr}")),
            Err(e) => Refused(format!("{addr}: {e}")),
        }
    }

    pub fn udp(addr: &str, payload: &[u8]) -> Report {
        let bind = if addr.starts_with('[') {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        };
        match UdpSocket::bind(bind).and_then(|s| s.send_to(payload, addr)) {
            Ok(n) => Done(format!("sent {n} bytes to {addr}")),
            Err(e) => Refused(format!("{addr}: {e}")),
        }
    }

    /// Asks the resolver at `server` for `name` (type A) and prints the answer's address.
    pub fn dns(server: &str, name: &str) -> Report {
        let mut query = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            query.push(label.len() as u8);
            query.extend_from_slice(label.as_bytes());
        }
        query.extend_from_slice(&[0, 0, 1, 0, 1]);
        let socket = match UdpSocket::bind("0.0.0.0:0") {
            Ok(s) => s,
            Err(e) => return Refused(format!("socket: {e}")),
        };
        let _ = socket.set_read_timeout(Some(Duration::from_millis(500)));
        if let Err(e) = socket.send_to(&query, server) {
            return Refused(format!("{server}: {e}"));
        }
        let mut buf = [0u8; 512];
        match socket.recv(&mut buf) {
            Ok(n) if n >= 4 => {
                let ip = &buf[n - 4..n];
                println!("dns {name} = {}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
                Done(format!("resolved {name}"))
            }
            Ok(n) => Refused(format!("short answer of {n} bytes")),
            Err(e) => Refused(format!("no answer: {e}")),
        }
    }

    /// Connects to ADDR and waits, with no timeout of its own, for bytes that never come.
    pub fn tcp_wait(addr: &str) -> Report {
        use std::io::Read;
        let mut stream = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => return Refused(format!("{addr}: {e}")),
        };
        let mut buf = [0u8; 64];
        match stream.read(&mut buf) {
            Ok(n) => Done(format!("read {n} bytes from {addr}")),
            Err(e) => Refused(format!("read {addr}: {e}")),
        }
    }

    /// Listens on 0.0.0.0:PORT while the harness tries to connect from the host.
    pub fn listen(port: &str) -> Report {
        match TcpListener::bind(format!("0.0.0.0:{port}")) {
            Ok(l) => {
                let _ = l.set_nonblocking(true);
                let until = Instant::now() + Duration::from_millis(400);
                let mut accepted = 0;
                while Instant::now() < until {
                    if l.accept().is_ok() {
                        accepted += 1;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Done(format!("listened on port {port}, accepted {accepted}"))
            }
            Err(e) => Refused(format!("bind 0.0.0.0:{port}: {e}")),
        }
    }
}

#[cfg(all(target_os = "wasi", target_env = "p1"))]
mod net {
    use super::*;
    pub fn tcp(_: &str) -> Report {
        Unrepresentable(NO_SOCKETS)
    }
    pub fn udp(_: &str, _: &[u8]) -> Report {
        Unrepresentable(NO_SOCKETS)
    }
    pub fn dns(_: &str, _: &str) -> Report {
        Unrepresentable(NO_SOCKETS)
    }
    pub fn listen(_: &str) -> Report {
        Unrepresentable(NO_SOCKETS)
    }
    pub fn tcp_wait(_: &str) -> Report {
        Unrepresentable(NO_SOCKETS)
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::*;

    pub fn hold() {}

    pub fn attempt(action: &str, _args: &[String]) -> Report {
        match action {
            "ppid" | "kill" | "ptrace" | "exec" | "forkbomb" | "threads" | "daemon" | "setuid"
            | "caps" | "ids" | "hostname" => Unrepresentable(NO_PROCESSES),
            "unix" | "raw" | "packet" => Unrepresentable("WASI has no unix, raw or packet sockets"),
            "uname" | "cpu" | "ifaces" => {
                Unrepresentable("WASI has no import that describes the host")
            }
            _ => Unrepresentable(NO_KERNEL),
        }
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use super::*;
    use std::ffi::CString;

    unsafe extern "C" {
        fn syscall(number: i64, ...) -> i64;
        fn fork() -> i32;
        fn _exit(code: i32) -> !;
    }

    /// x86-64 syscall numbers (the guest is built for the host; see workloads/build.rs).
    mod nr {
        pub const IOCTL: i64 = 16;
        pub const SHMGET: i64 = 29;
        pub const SHMAT: i64 = 30;
        pub const SOCKET: i64 = 41;
        pub const CONNECT: i64 = 42;
        pub const EXECVE: i64 = 59;
        pub const KILL: i64 = 62;
        pub const UNAME: i64 = 63;
        pub const MSGGET: i64 = 68;
        pub const MSGRCV: i64 = 70;
        pub const PTRACE: i64 = 101;
        pub const GETUID: i64 = 102;
        pub const GETGID: i64 = 104;
        pub const GETPPID: i64 = 110;
        pub const SETRESUID: i64 = 117;
        pub const SETRESGID: i64 = 119;
        pub const CAPSET: i64 = 126;
        pub const PRCTL: i64 = 157;
        pub const MOUNT: i64 = 165;
        pub const INIT_MODULE: i64 = 175;
        pub const MQ_OPEN: i64 = 240;
        pub const MQ_TIMEDRECEIVE: i64 = 243;
        pub const KEXEC_LOAD: i64 = 246;
        pub const ADD_KEY: i64 = 248;
        pub const UNSHARE: i64 = 272;
        pub const PERF_EVENT_OPEN: i64 = 298;
        pub const SETNS: i64 = 308;
        pub const BPF: i64 = 321;
        pub const USERFAULTFD: i64 = 323;
        pub const IO_URING_SETUP: i64 = 425;
        pub const OPENAT2: i64 = 437;
    }

    fn errno() -> String {
        std::io::Error::last_os_error().to_string()
    }

    fn cstr(s: &str) -> CString {
        CString::new(s).expect("no NUL")
    }

    /// The outcome of one raw call: non-negative is success.
    fn call(what: &str, rc: i64) -> Report {
        if rc < 0 {
            Refused(format!("{what}: {}", errno()))
        } else {
            Done(format!("{what} returned {rc}"))
        }
    }

    pub fn hold() {
        let Ok(marker) = std::env::var("PROBE_MARKER") else {
            return;
        };
        let name = cstr(&marker);
        // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
        unsafe {
            syscall(nr::PRCTL, 15i64 /* PR_SET_NAME */, name.as_ptr())
        };
        let ms = std::env::var("PROBE_HOLD_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        std::thread::sleep(Duration::from_millis(ms));
    }

    pub fn attempt(action: &str, args: &[String]) -> Report {
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
        // SAFETY (for every `unsafe` call below): raw syscalls with valid NUL-terminated
        // strings, buffers that outlive the call, or plain integers; failures are reported.
        match action {
            "openat2" => {
                let dir = cstr(arg(0));
                let path = cstr(arg(1));
                let dirfd = unsafe {
                    syscall(2, dir.as_ptr(), 0o2_000_000i64 /* O_PATH */)
                };
                // struct open_how { flags, mode, resolve }: no RESOLVE_* restriction.
                let how: [u64; 3] = [0, 0, 0];
                let fd = unsafe { syscall(nr::OPENAT2, dirfd, path.as_ptr(), how.as_ptr(), 24i64) };
                if fd < 0 {
                    return Refused(format!("openat2 {}/{}: {}", arg(0), arg(1), errno()));
                }
                read_any(&[format!("/proc/self/fd/{fd}")])
            }
            "opath" => {
                let mut errors = Vec::new();
                for p in args {
                    let path = cstr(p);
                    let fd = unsafe { syscall(2, path.as_ptr(), 0o2_000_000i64) };
                    if fd < 0 {
                        errors.push(format!("O_PATH {p}: {}", errno()));
                        continue;
                    }
                    if let Done(what) = read_any(&[format!("/proc/self/fd/{fd}")]) {
                        return Done(what);
                    }
                    errors.push(format!("reopen {p} through /proc/self/fd/{fd} failed"));
                }
                Refused(errors.join("; "))
            }
            "ppid" => {
                let ppid = unsafe { syscall(nr::GETPPID) };
                println!("ppid={ppid}");
                Done(format!("parent pid {ppid}"))
            }
            "kill" => {
                let pid: i64 = arg(0).parse().unwrap_or(0);
                call("kill", unsafe { syscall(nr::KILL, pid, 15i64) })
            }
            "ptrace" => {
                let pid: i64 = arg(0).parse().unwrap_or(0);
                call("PTRACE_ATTACH", unsafe {
                    syscall(nr::PTRACE, 16i64, pid, 0i64, 0i64)
                })
            }
            "exec" => {
                // exec PATH... -- ARGS...: the first path that execs wins (and never returns).
                let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
                let rest: Vec<CString> = args[split..].iter().skip(1).map(|a| cstr(a)).collect();
                let mut errors = Vec::new();
                for p in &args[..split] {
                    let path = cstr(p);
                    let mut argv: Vec<*const i8> = vec![path.as_ptr()];
                    argv.extend(rest.iter().map(|a| a.as_ptr()));
                    argv.push(std::ptr::null());
                    let envp: [*const i8; 1] = [std::ptr::null()];
                    unsafe { syscall(nr::EXECVE, path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
                    errors.push(format!("execve {p}: {}", errno()));
                }
                Refused(errors.join("; "))
            }
            "forkbomb" => {
                let mut forked = 0u32;
                for _ in 0..100_000 {
                    // SAFETY: the child only sleeps and _exits.
                    match unsafe { fork() } {
                        0 => {
                            std::thread::sleep(Duration::from_secs(1));
                            unsafe { _exit(0) }
                        }
                        pid if pid > 0 => forked += 1,
                        _ => break,
                    }
                }
                Refused(format!("forked {forked}, then: {}", errno()))
            }
            "threads" => {
                let mut spawned = 0u32;
                let err = loop {
                    if spawned >= 100_000 {
                        break "100000 threads".to_string();
                    }
                    match std::thread::Builder::new()
                        .stack_size(64 << 10)
                        .spawn(|| std::thread::sleep(Duration::from_secs(2)))
                    {
                        Ok(_) => spawned += 1,
                        Err(e) => break e.to_string(),
                    }
                };
                Refused(format!("spawned {spawned} threads, then: {err}"))
            }
            "daemon" => {
                // SAFETY: the children only call async-signal-safe syscalls and sleep.
                match unsafe { fork() } {
                    0 => {
                        unsafe {
                            syscall(112 /* setsid */)
                        };
                        if unsafe { fork() } == 0 {
                            let name = cstr(arg(0));
                            unsafe { syscall(nr::PRCTL, 15i64, name.as_ptr()) };
                            std::thread::sleep(Duration::from_secs(10));
                        }
                        unsafe { _exit(0) }
                    }
                    pid if pid > 0 => Done("double-forked a daemon".into()),
                    _ => Refused(format!("fork: {}", errno())),
                }
            }
            "setuid" => {
                let g = unsafe { syscall(nr::SETRESGID, 0i64, 0i64, 0i64) };
                let u = unsafe { syscall(nr::SETRESUID, 0i64, 0i64, 0i64) };
                let (uid, gid) = unsafe { (syscall(nr::GETUID), syscall(nr::GETGID)) };
                println!("setresgid={g} setresuid={u} uid={uid} gid={gid}");
                if u < 0 {
                    Refused(format!("setresuid: {}", errno()))
                } else {
                    Done(format!("uid {uid} in the sandbox's own user namespace"))
                }
            }
            "caps" => {
                // _LINUX_CAPABILITY_VERSION_3 header, then two {effective, permitted, inheritable}.
                let header: [u32; 2] = [0x2008_0522, 0];
                let data: [u32; 6] = [u32::MAX; 6];
                let rc = unsafe { syscall(nr::CAPSET, header.as_ptr(), data.as_ptr()) };
                for cap in 0..41i64 {
                    // PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE
                    unsafe { syscall(nr::PRCTL, 47i64, 2i64, cap, 0i64, 0i64) };
                }
                let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                for line in status.lines().filter(|l| l.starts_with("Cap")) {
                    println!("{line}");
                }
                call("capset", rc)
            }
            "unix" => {
                let mut errors = Vec::new();
                for p in args {
                    // struct sockaddr_un: family, then the path ('@' = abstract, leading NUL).
                    let mut addr = [0u8; 110];
                    addr[0] = 1; // AF_UNIX
                    let bytes = p.as_bytes();
                    let len = bytes.len().min(107);
                    addr[2..2 + len].copy_from_slice(&bytes[..len]);
                    if bytes.first() == Some(&b'@') {
                        addr[2] = 0;
                    }
                    let fd = unsafe {
                        syscall(nr::SOCKET, 1i64, 1i64 /* SOCK_STREAM */, 0i64)
                    };
                    if fd < 0 {
                        errors.push(format!("socket: {}", errno()));
                        continue;
                    }
                    let rc = unsafe { syscall(nr::CONNECT, fd, addr.as_ptr(), 2 + len as i64) };
                    if rc == 0 {
                        return Done(format!("connected to {p}"));
                    }
                    errors.push(format!("{p}: {}", errno()));
                }
                Refused(errors.join("; "))
            }
            "raw" => call("socket(AF_INET, SOCK_RAW, ICMP)", unsafe {
                syscall(nr::SOCKET, 2i64, 3i64, 1i64)
            }),
            "packet" => call("socket(AF_PACKET, SOCK_RAW)", unsafe {
                syscall(
                    nr::SOCKET,
                    17i64,
                    3i64,
                    0x0300i64, /* htons(ETH_P_ALL) */
                )
            }),
            "shm" => {
                let key: i64 = arg(0).parse().unwrap_or(0);
                let id = unsafe { syscall(nr::SHMGET, key, 0i64, 0i64) };
                if id < 0 {
                    return Refused(format!("shmget: {}", errno()));
                }
                let at = unsafe {
                    syscall(nr::SHMAT, id, 0i64, 0o10000i64 /* SHM_RDONLY */)
                };
                if at < 0 {
                    return Refused(format!("shmat: {}", errno()));
                }
                // SAFETY: a read-only attachment of at least 64 bytes (the harness's segment).
                let bytes = unsafe { std::slice::from_raw_parts(at as *const u8, 64) };
                println!(
                    "shm {}",
                    String::from_utf8_lossy(bytes).trim_end_matches('\0')
                );
                Done("attached the segment".into())
            }
            "msg" => {
                let key: i64 = arg(0).parse().unwrap_or(0);
                let id = unsafe { syscall(nr::MSGGET, key, 0i64) };
                if id < 0 {
                    return Refused(format!("msgget: {}", errno()));
                }
                let mut buf = [0u8; 8 + 128];
                let n =
                    unsafe { syscall(nr::MSGRCV, id, buf.as_mut_ptr(), 128i64, 0i64, 0o4000i64) };
                if n < 0 {
                    return Refused(format!("msgrcv: {}", errno()));
                }
                println!("msg {}", String::from_utf8_lossy(&buf[8..8 + n as usize]));
                Done("received the message".into())
            }
            "mq" => {
                let name = cstr(arg(0).trim_start_matches('/'));
                let fd = unsafe {
                    syscall(nr::MQ_OPEN, name.as_ptr(), 0o4000i64 /* O_NONBLOCK */)
                };
                if fd < 0 {
                    return Refused(format!("mq_open: {}", errno()));
                }
                let mut buf = [0u8; 8192];
                let n = unsafe {
                    syscall(
                        nr::MQ_TIMEDRECEIVE,
                        fd,
                        buf.as_mut_ptr(),
                        8192i64,
                        0i64,
                        0i64,
                    )
                };
                if n < 0 {
                    return Refused(format!("mq_timedreceive: {}", errno()));
                }
                println!("mq {}", String::from_utf8_lossy(&buf[..n as usize]));
                Done("received the message".into())
            }
            "mount" => {
                let src = cstr(arg(0));
                let tmpfs = cstr("tmpfs");
                let mut errors = Vec::new();
                for target in &args[1..] {
                    let dst = cstr(target);
                    let rc = unsafe {
                        syscall(
                            nr::MOUNT,
                            src.as_ptr(),
                            dst.as_ptr(),
                            tmpfs.as_ptr(),
                            0i64,
                            0i64,
                        )
                    };
                    if rc == 0 {
                        return Done(format!("mounted a tmpfs on {target}"));
                    }
                    errors.push(format!("mount on {target}: {}", errno()));
                }
                Refused(errors.join("; "))
            }
            "unshare" => call("unshare(CLONE_NEWUSER|CLONE_NEWNS)", unsafe {
                syscall(nr::UNSHARE, 0x1000_0000i64 | 0x0002_0000i64)
            }),
            "setns" => {
                let mut errors = Vec::new();
                for p in args {
                    let path = cstr(p);
                    let fd = unsafe { syscall(2, path.as_ptr(), 0o2_000_000i64) };
                    if fd < 0 {
                        errors.push(format!("open {p}: {}", errno()));
                        continue;
                    }
                    if unsafe { syscall(nr::SETNS, fd, 0i64) } == 0 {
                        return Done(format!("entered {p}"));
                    }
                    errors.push(format!("setns {p}: {}", errno()));
                }
                Refused(errors.join("; "))
            }
            "bpf" => {
                // BPF_MAP_CREATE, an array of one 4-byte value.
                let mut attr = [0u32; 32];
                attr[0] = 2; // BPF_MAP_TYPE_ARRAY
                attr[1] = 4;
                attr[2] = 4;
                attr[3] = 1;
                call("bpf(BPF_MAP_CREATE)", unsafe {
                    syscall(nr::BPF, 0i64, attr.as_ptr(), 128i64)
                })
            }
            "keyctl" => {
                let kind = cstr("user");
                let desc = cstr(arg(0));
                let payload = b"probe";
                call("add_key", unsafe {
                    syscall(
                        nr::ADD_KEY,
                        kind.as_ptr(),
                        desc.as_ptr(),
                        payload.as_ptr(),
                        5i64,
                        -3i64, /* KEY_SPEC_SESSION_KEYRING */
                    )
                })
            }
            "perf" => {
                // struct perf_event_attr: type SOFTWARE, size 128, config CPU_CLOCK.
                let mut attr = [0u8; 128];
                attr[0] = 1;
                attr[4] = 128;
                call("perf_event_open", unsafe {
                    syscall(nr::PERF_EVENT_OPEN, attr.as_ptr(), 0i64, -1i64, -1i64, 0i64)
                })
            }
            "uffd" => call("userfaultfd(UFFD_USER_MODE_ONLY)", unsafe {
                syscall(nr::USERFAULTFD, 0o2_000_000i64 | 1i64)
            }),
            "iouring" => {
                let params = [0u8; 120];
                call("io_uring_setup", unsafe {
                    syscall(nr::IO_URING_SETUP, 4i64, params.as_ptr())
                })
            }
            "init_module" => {
                let image = [0u8; 64];
                let params = cstr("");
                call("init_module", unsafe {
                    syscall(nr::INIT_MODULE, image.as_ptr(), 64i64, params.as_ptr())
                })
            }
            "kexec" => call("kexec_load", unsafe {
                syscall(nr::KEXEC_LOAD, 0i64, 0i64, 0i64, 0i64)
            }),
            "tiocsti" => {
                let text = arg(0).as_bytes();
                let mut fds: Vec<(String, i64)> =
                    (0..3).map(|fd| (format!("fd {fd}"), fd)).collect();
                for p in &args[1..] {
                    let path = cstr(p);
                    let fd = unsafe {
                        syscall(
                            2,
                            path.as_ptr(),
                            2i64 /* O_RDWR */ | 0o400, /* O_NOCTTY */
                        )
                    };
                    fds.push((p.clone(), fd));
                }
                let mut errors = Vec::new();
                for (what, fd) in fds {
                    if fd < 0 {
                        errors.push(format!("{what}: open failed"));
                        continue;
                    }
                    let mut injected = 0;
                    for b in text {
                        if unsafe {
                            syscall(nr::IOCTL, fd, 0x5412i64 /* TIOCSTI */, b as *const u8)
                        } == 0
                        {
                            injected += 1;
                        }
                    }
                    if injected > 0 {
                        return Done(format!("injected {injected} bytes through {what}"));
                    }
                    errors.push(format!("{what}: {}", errno()));
                }
                Refused(errors.join("; "))
            }
            "ids" => {
                let (uid, gid) = unsafe { (syscall(nr::GETUID), syscall(nr::GETGID)) };
                println!("uid={uid} gid={gid}");
                for map in ["/proc/self/uid_map", "/proc/self/gid_map"] {
                    let text = std::fs::read_to_string(map).unwrap_or_default();
                    for line in text.lines() {
                        let f: Vec<&str> = line.split_whitespace().collect();
                        if f.len() == 3 {
                            println!("{map}: inside {} is host {}", f[0], f[1]);
                        }
                    }
                }
                Done(format!("uid {uid}, gid {gid}"))
            }
            "hostname" | "uname" => {
                let mut buf = [0u8; 390];
                unsafe { syscall(nr::UNAME, buf.as_mut_ptr()) };
                let field = |i: usize| {
                    let f = &buf[i * 65..(i + 1) * 65];
                    let end = f.iter().position(|&b| b == 0).unwrap_or(65);
                    String::from_utf8_lossy(&f[..end]).into_owned()
                };
                println!("uname nodename={} release={}", field(1), field(2));
                read_any(args);
                Done(format!("nodename {}, release {}", field(1), field(2)))
            }
            "cpu" => {
                #[cfg(target_arch = "x86_64")]
                {
                    let mut brand = Vec::new();
                    for leaf in 0x8000_0002u32..=0x8000_0004 {
                        // A safe intrinsic: cpuid exists on every x86-64 CPU.
                        let r = std::arch::x86_64::__cpuid(leaf);
                        for v in [r.eax, r.ebx, r.ecx, r.edx] {
                            brand.extend_from_slice(&v.to_le_bytes());
                        }
                    }
                    let brand = String::from_utf8_lossy(&brand)
                        .trim_matches(['\0', ' '])
                        .to_string();
                    println!("cpuid brand={brand}");
                }
                read_any(args);
                Done("asked cpuid".into())
            }
            "ifaces" => read_any(args),
            other => {
                eprintln!("probe: unknown action {other}");
                std::process::exit(2);
            }
        }
    }
}
