//! `prepare`: validate the config, resolve the sources, and build the child's step list.

use crate::NativeSandbox;
use crate::cgroup::CgroupSupport;
use crate::child::{ChildPlan, Step, mark};
use crate::config::{NativeConfig, Network, SeccompMode};
use crate::error::{NativeError, Result};
use crate::run::NativeEnforcement;
use crate::seccomp;
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Where the first tmpfs is mounted before the first pivot. Any existing directory works: the
/// host's view of it is back at `/oldroot/tmp` after that pivot, so sources under /tmp stay
/// reachable (bubblewrap's trick).
const BASE: &str = "/tmp";
/// Guest directory holding the program.
pub const PROGRAM_DIR: &str = "/.sandbox";
const RESERVED: &[&str] = &["/proc", "/dev", PROGRAM_DIR];
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

fn cstr(s: impl AsRef<[u8]>) -> Result<CString> {
    CString::new(s.as_ref().to_vec())
        .map_err(|_| NativeError::Config("a path or string contains a NUL byte".into()))
}

fn cpath(p: &Path) -> Result<CString> {
    cstr(p.as_os_str().as_encoded_bytes())
}

/// A guest path must be absolute, normal (no `..` or `.`), and not the root itself.
fn check_guest_path(path: &Path) -> Result<()> {
    if !path.is_absolute() {
        return Err(NativeError::BadBind {
            path: path.into(),
            why: "the guest path must be absolute (e.g. /data)".into(),
        });
    }
    if path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(NativeError::BadBind {
            path: path.into(),
            why: "the guest path must not contain `..` or `.`".into(),
        });
    }
    if path == Path::new("/") {
        return Err(NativeError::BadBind {
            path: path.into(),
            why: "cannot bind over the sandbox's root".into(),
        });
    }
    if RESERVED.iter().any(|r| path.starts_with(r)) {
        return Err(NativeError::BadBind {
            path: path.into(),
            why: format!(
                "{} is provided by the sandbox itself; pick another guest path",
                path.display()
            ),
        });
    }
    Ok(())
}

/// Mount flags that a bind inherits from its source and, inside a user namespace, may not drop
/// on remount (the kernel "locks" them): keep them, or the remount fails with EPERM.
fn locked_flags(path: &Path) -> Result<libc::c_ulong> {
    let c = cpath(path)?;
    // SAFETY: `st` is a valid out-parameter, `c` a NUL-terminated path.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: see above.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(NativeError::sys("statvfs"));
    }
    let mut flags = 0;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
        (libc::ST_RDONLY, libc::MS_RDONLY),
    ] {
        if st.f_flag & st_flag != 0 {
            flags |= ms_flag;
        }
    }
    if flags & (libc::MS_NOATIME | libc::MS_RELATIME) == 0 {
        flags |= libc::MS_STRICTATIME;
    }
    Ok(flags)
}

/// Checks that `path` is an ELF executable for this machine (or says what it is instead).
fn check_program(path: &Path) -> Result<()> {
    let meta =
        std::fs::metadata(path).map_err(|_| NativeError::ProgramMissing { path: path.into() })?;
    let invalid = |why: &str| NativeError::ProgramInvalid {
        path: path.into(),
        why: why.into(),
    };
    if !meta.is_file() {
        return Err(invalid("it is not a regular file"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(invalid("it has no execute permission (chmod +x it)"));
    }
    let mut file = File::open(path).map_err(|e| invalid(&e.to_string()))?;
    let mut header = [0u8; 64];
    let n = read_full(&mut file, &mut header).map_err(|e| invalid(&e.to_string()))?;
    if n >= 2 && &header[..2] == b"#!" {
        return Err(invalid(
            "it is a script; its interpreter is not in the sandbox (run a static binary)",
        ));
    }
    if n < 20 || &header[..4] != b"\x7fELF" {
        return Err(invalid(
            "it is not an ELF executable (empty, truncated or another format)",
        ));
    }
    let machine = u16::from_le_bytes([header[18], header[19]]);
    if header[4] != 2 || machine != 62 {
        return Err(invalid(&format!(
            "it is an ELF for another machine (e_machine {machine}); this host runs x86_64"
        )));
    }
    check_segments(&mut file, &header, meta.len()).map_err(|why| invalid(&why))
}

/// Reads until `buf` is full or the file ends; returns how many bytes were read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Checks that the program headers and every loadable segment lie inside the file. The
/// kernel maps a truncated executable without complaint and the program then dies of
/// SIGSEGV or SIGBUS at its first touch of the missing pages: say so before running it.
fn check_segments(file: &mut File, header: &[u8; 64], len: u64) -> std::result::Result<(), String> {
    use std::io::{Seek, SeekFrom};
    let truncated = |needed: u64| {
        format!(
            "it is a truncated ELF ({len} bytes, its headers describe {needed}); copy or build it again"
        )
    };
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as u64;
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    if len < 64 {
        return Err(truncated(64));
    }
    let (phoff, phentsize, phnum) = (u64_at(header, 32), u16_at(header, 54), u16_at(header, 56));
    if phentsize < 56 {
        return Err("its ELF header is malformed (program header size below 56)".into());
    }
    let table_end = phoff.saturating_add(phentsize * phnum);
    if table_end > len {
        return Err(truncated(table_end));
    }
    let mut table = vec![0u8; (phentsize * phnum) as usize];
    file.seek(SeekFrom::Start(phoff))
        .and_then(|_| file.read_exact(&mut table))
        .map_err(|e| e.to_string())?;
    let mut needed = 0u64;
    for entry in table.chunks_exact(phentsize as usize) {
        const PT_LOAD: u32 = 1;
        if u32::from_le_bytes(entry[..4].try_into().unwrap()) == PT_LOAD {
            needed = needed.max(u64_at(entry, 8).saturating_add(u64_at(entry, 32)));
        }
    }
    if needed > len {
        return Err(truncated(needed));
    }
    Ok(())
}

pub(crate) fn prepare(config: NativeConfig) -> Result<NativeSandbox> {
    check_program(&config.program)?;
    check_user_namespaces()?;
    let tmp_size = config.limits.tmp_size_bytes;
    if tmp_size == 0 {
        return Err(NativeError::Config("tmp_size_bytes must be above 0".into()));
    }
    check_guest_path(&config.cwd).or_else(|e| {
        if config.cwd == Path::new("/") {
            Ok(())
        } else {
            Err(e)
        }
    })?;

    if config.binds.len() >= crate::child::MAX_SOURCES {
        return Err(NativeError::Config(format!(
            "at most {} directory grants",
            crate::child::MAX_SOURCES - 1
        )));
    }
    let mut binds = config.binds.clone();
    for bind in &binds {
        check_guest_path(&bind.guest)?;
        if !bind.host.is_absolute() {
            return Err(NativeError::BadBind {
                path: bind.host.clone(),
                why: "the host path must be absolute".into(),
            });
        }
        let meta = std::fs::metadata(&bind.host).map_err(|e| NativeError::BadBind {
            path: bind.host.clone(),
            why: format!("{e}; grant an existing directory"),
        })?;
        if !meta.is_dir() {
            return Err(NativeError::BadBind {
                path: bind.host.clone(),
                why: "it is not a directory".into(),
            });
        }
    }
    // Parents first, so a nested grant is mounted on top of its parent grant.
    binds.sort_by(|a, b| {
        a.guest
            .components()
            .count()
            .cmp(&b.guest.components().count())
    });
    for (i, a) in binds.iter().enumerate() {
        for b in &binds[i + 1..] {
            if a.guest == b.guest {
                return Err(NativeError::BadBind {
                    path: b.guest.clone(),
                    why: "two grants use the same guest path".into(),
                });
            }
            if b.guest.starts_with(&a.guest) && !a.writable {
                return Err(NativeError::BadBind {
                    path: b.guest.clone(),
                    why: format!(
                        "it lies inside the read-only grant {}; grants may not overlap",
                        a.guest.display()
                    ),
                });
            }
        }
    }

    let mut steps: Vec<(Step, String)> = Vec::new();
    let mut push = |step: Step, what: String| steps.push((step, what));
    let base = PathBuf::from(BASE);
    push(
        Step::Mount {
            src: None,
            dst: cstr("/")?,
            fstype: None,
            flags: libc::MS_REC | libc::MS_PRIVATE,
            data: None,
        },
        "making mounts private".into(),
    );
    push(
        Step::Mount {
            src: Some(cstr("tmpfs")?),
            dst: cpath(&base)?,
            fstype: Some(cstr("tmpfs")?),
            flags: libc::MS_NOSUID | libc::MS_NODEV,
            data: Some(cstr("size=64k,mode=0755")?),
        },
        "mounting the staging tmpfs".into(),
    );
    push(
        Step::Mkdir(cpath(&base.join("newroot"))?),
        "mkdir newroot".into(),
    );
    push(
        Step::Mkdir(cpath(&base.join("oldroot"))?),
        "mkdir oldroot".into(),
    );
    push(
        Step::PivotRoot {
            new_root: cpath(&base)?,
            put_old: cpath(&base.join("oldroot"))?,
        },
        "pivot_root into the staging tmpfs".into(),
    );
    push(Step::Chdir(cstr("/")?), "chdir /".into());
    push(
        Step::Mount {
            src: Some(cstr("tmpfs")?),
            dst: cstr("/newroot")?,
            fstype: Some(cstr("tmpfs")?),
            flags: libc::MS_NOSUID | libc::MS_NODEV,
            data: Some(cstr("size=1m,mode=0755")?),
        },
        "mounting the root tmpfs".into(),
    );

    let mut sources: Vec<CString> = Vec::new();
    let mkdirs = |path: &Path, push: &mut dyn FnMut(Step, String)| -> Result<()> {
        let mut dir = PathBuf::from("/newroot");
        for c in path.components().skip(1) {
            dir.push(c);
            push(
                Step::Mkdir(cpath(&dir)?),
                format!("mkdir {}", dir.display()),
            );
        }
        Ok(())
    };

    // The program, read-only, at /.sandbox/<name>.
    let program_name = config
        .program
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "program".into());
    let program_guest = Path::new(PROGRAM_DIR).join(&program_name);
    mkdirs(Path::new(PROGRAM_DIR), &mut push)?;
    let program_target = Path::new("/newroot").join(program_guest.strip_prefix("/").unwrap());
    push(
        Step::Touch(cpath(&program_target)?),
        "creating the program's mount point".into(),
    );
    let ro_flags =
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    push(
        Step::BindSource {
            slot: sources.len(),
            dst: cpath(&program_target)?,
            flags: libc::MS_BIND,
        },
        format!("binding the program {}", config.program.display()),
    );
    push(
        Step::Mount {
            src: None,
            dst: cpath(&program_target)?,
            fstype: None,
            flags: ro_flags | locked_flags(&config.program)?,
            data: None,
        },
        "making the program read-only".into(),
    );
    sources.push(cpath(&config.program)?);

    for bind in &binds {
        mkdirs(&bind.guest, &mut push)?;
        let target = Path::new("/newroot").join(bind.guest.strip_prefix("/").unwrap());
        push(
            Step::BindSource {
                slot: sources.len(),
                dst: cpath(&target)?,
                flags: libc::MS_BIND | libc::MS_REC,
            },
            format!(
                "binding {} at {}",
                bind.host.display(),
                bind.guest.display()
            ),
        );
        let mut flags = libc::MS_BIND
            | libc::MS_REMOUNT
            | libc::MS_NOSUID
            | libc::MS_NODEV
            | locked_flags(&bind.host)?;
        if !bind.writable {
            flags |= libc::MS_RDONLY;
        }
        push(
            Step::Mount {
                src: None,
                dst: cpath(&target)?,
                fstype: None,
                flags,
                data: None,
            },
            format!(
                "remounting {} {}",
                bind.guest.display(),
                if bind.writable {
                    "nosuid,nodev"
                } else {
                    "read-only"
                }
            ),
        );
        // The same for every mount under the grant (granting / read-only must not leave the
        // host's /tmp or /dev/shm writable through it).
        const MOUNT_ATTR_RDONLY: u64 = 0x1;
        const MOUNT_ATTR_NOSUID: u64 = 0x2;
        const MOUNT_ATTR_NODEV: u64 = 0x4;
        let mut attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if !bind.writable {
            attr_set |= MOUNT_ATTR_RDONLY;
        }
        push(
            Step::SetAttrRecursive {
                dst: cpath(&target)?,
                attr_set,
            },
            format!(
                "applying {} to the mounts under {} (mount_setattr, Linux 5.12+)",
                if bind.writable {
                    "nosuid,nodev"
                } else {
                    "read-only,nosuid,nodev"
                },
                bind.guest.display()
            ),
        );
        sources.push(cpath(&bind.host)?);
    }

    // A fresh /proc for the new pid namespace.
    push(Step::Mkdir(cstr("/newroot/proc")?), "mkdir /proc".into());
    push(
        Step::Mount {
            src: Some(cstr("proc")?),
            dst: cstr("/newroot/proc")?,
            fstype: Some(cstr("proc")?),
            flags: libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            data: None,
        },
        "mounting /proc".into(),
    );
    // A minimal /dev: the five harmless devices bound from the host, no tty.
    push(Step::Mkdir(cstr("/newroot/dev")?), "mkdir /dev".into());
    push(
        Step::Mount {
            src: Some(cstr("tmpfs")?),
            dst: cstr("/newroot/dev")?,
            fstype: Some(cstr("tmpfs")?),
            flags: libc::MS_NOSUID | libc::MS_NOEXEC,
            data: Some(cstr("size=64k,mode=0755")?),
        },
        "mounting /dev".into(),
    );
    for dev in DEVICES {
        let target = format!("/newroot/dev/{dev}");
        push(Step::Touch(cstr(&target)?), format!("creating /dev/{dev}"));
        push(
            Step::Mount {
                src: Some(cstr(format!("/oldroot/dev/{dev}"))?),
                dst: cstr(&target)?,
                fstype: None,
                flags: libc::MS_BIND,
                data: None,
            },
            format!("binding /dev/{dev}"),
        );
    }
    for (target, link) in [
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ] {
        push(
            Step::Symlink {
                target: cstr(target)?,
                link: cstr(format!("/newroot/dev/{link}"))?,
            },
            format!("linking /dev/{link}"),
        );
    }
    // Size-limited, non-executable /tmp.
    push(Step::Mkdir(cstr("/newroot/tmp")?), "mkdir /tmp".into());
    push(
        Step::Mount {
            src: Some(cstr("tmpfs")?),
            dst: cstr("/newroot/tmp")?,
            fstype: Some(cstr("tmpfs")?),
            flags: libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            data: Some(cstr(format!("size={tmp_size},mode=1777"))?),
        },
        "mounting /tmp".into(),
    );
    push(Step::Mark(mark::MOUNTED), String::new());
    // Leave the host's root behind for good: detach it, then make /newroot the root.
    push(
        Step::Detach(cstr("/oldroot")?),
        "detaching the old root".into(),
    );
    push(Step::Chdir(cstr("/newroot")?), "chdir /newroot".into());
    push(
        Step::PivotRoot {
            new_root: cstr(".")?,
            put_old: cstr(".")?,
        },
        "pivot_root into the new root".into(),
    );
    push(
        Step::Detach(cstr(".")?),
        "detaching the staging root".into(),
    );
    push(Step::Chdir(cstr("/")?), "chdir /".into());
    push(
        Step::Mount {
            src: None,
            dst: cstr("/")?,
            fstype: None,
            flags: libc::MS_BIND
                | libc::MS_REMOUNT
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV,
            data: None,
        },
        "making the root read-only".into(),
    );
    push(
        Step::Chdir(cpath(&config.cwd)?),
        format!(
            "chdir {} (the working directory must exist in the sandbox)",
            config.cwd.display()
        ),
    );
    push(Step::Mark(mark::PIVOTED), String::new());

    let (steps, step_names): (Vec<Step>, Vec<String>) = steps.into_iter().unzip();

    let mut argv = vec![cstr(program_name.as_encoded_bytes())?];
    for a in &config.args {
        argv.push(cstr(a)?);
    }
    let envp = config
        .env
        .iter()
        .map(|(k, v)| {
            if k.is_empty() || k.contains('=') {
                Err(NativeError::Config(format!(
                    "invalid environment variable name {k:?}"
                )))
            } else {
                cstr(format!("{k}={v}"))
            }
        })
        .collect::<Result<Vec<_>>>()?;

    let limits = &config.limits;
    let mut rlimits = vec![(libc::RLIMIT_CORE as libc::c_int, 0u64)];
    let mut rlimit_names = vec!["CORE=0".to_string()];
    let mut add_rlimit = |res: u32, name: &str, v: Option<u64>| {
        if let Some(v) = v {
            rlimits.push((res as libc::c_int, v));
            rlimit_names.push(format!("{name}={v}"));
        }
    };
    add_rlimit(libc::RLIMIT_NOFILE, "NOFILE", limits.max_open_files);
    add_rlimit(libc::RLIMIT_FSIZE, "FSIZE", limits.max_file_size);
    add_rlimit(
        libc::RLIMIT_CPU,
        "CPU",
        limits
            .cpu_time
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0)),
    );

    let filter = seccomp::compile(config.seccomp, &config.extra_syscalls)?;
    let cgroups = CgroupSupport::detect();
    // A supervisor killed mid-run (SIGKILL) cannot remove its cgroups: its janitor does, and
    // failing that (the janitor was killed too), the next start.
    cgroups.sweep_stale();
    crate::janitor::ensure_started(&cgroups.run_parents());
    // The pids cgroup counts every task and records refusals; RLIMIT_NPROC (per uid, fork
    // time only) is the fallback where that controller cannot be used, e.g. rootless on v1.
    if !cgroups.controllers().1 {
        add_rlimit(libc::RLIMIT_NPROC, "NPROC", limits.max_pids);
    }
    let (landlock_applied, landlock) = crate::landlock::plan(config.landlock_scope);
    let enforcement = enforcement(&config, &cgroups, &filter, rlimit_names, landlock)?;

    let source_names: Vec<String> = std::iter::once(config.program.display().to_string())
        .chain(binds.iter().map(|b| b.host.display().to_string()))
        .collect();
    let plan = ChildPlan {
        sources,
        steps,
        hostname: cstr(&config.hostname)?,
        loopback: config.network == Network::Loopback && config.new_net_namespace,
        program: cpath(&program_guest)?,
        argv,
        envp,
        rlimits,
        landlock: landlock_applied,
        seccomp: filter.programs,
    };
    Ok(NativeSandbox {
        config,
        plan,
        step_names,
        source_names,
        cgroups,
        enforcement,
    })
}

fn enforcement(
    config: &NativeConfig,
    cgroups: &CgroupSupport,
    filter: &seccomp::CompiledFilter,
    rlimits: Vec<String>,
    landlock: String,
) -> Result<NativeEnforcement> {
    let limits = &config.limits;
    let (has_memory, has_pids, has_cpu) = cgroups.controllers();
    let version = cgroups.version();
    let via = |what: &str| match version {
        Some(v) => format!("{what} (cgroup {v:?})").to_lowercase(),
        None => what.to_string(),
    };
    let mut enforced = Vec::new();
    let mut missing = Vec::new();
    let why = match cgroups {
        CgroupSupport::Unavailable { why } => why.clone(),
        _ => "the controller is not available".into(),
    };
    for (name, wanted, available) in [
        (
            "memory",
            limits.memory_bytes.map(|b| format!("memory={b}")),
            has_memory,
        ),
        (
            "pids",
            limits.max_pids.map(|n| format!("pids={n}")),
            has_pids,
        ),
        (
            "cpu",
            limits.cpu_cores.map(|c| format!("cpu={c} cores")),
            has_cpu,
        ),
    ] {
        let Some(text) = wanted else { continue };
        if available {
            enforced.push(via(&text));
        } else if config.require_limits {
            return Err(NativeError::LimitUnavailable { limit: name, why });
        } else {
            missing.push(format!("{text}: {why}"));
        }
    }
    if let Some(t) = limits.wall_time {
        enforced.push(format!(
            "wall_time={}ms (supervisor kills the pid namespace)",
            t.as_millis()
        ));
    }
    // SAFETY: geteuid cannot fail.
    let rootless = unsafe { libc::geteuid() } != 0;
    Ok(NativeEnforcement {
        namespaces: if config.new_net_namespace {
            vec!["user", "pid", "mount", "uts", "ipc", "net", "cgroup"]
        } else {
            vec!["user", "pid", "mount", "uts", "ipc", "cgroup"]
        },
        rootless,
        uid_map: if rootless {
            "0 -> caller's uid (single id)".into()
        } else {
            format!("0 -> {}", config.host_id_when_root)
        },
        cgroup: version,
        limits_enforced: enforced,
        limits_missing: missing,
        seccomp: match config.seccomp {
            SeccompMode::Disabled => "disabled".into(),
            SeccompMode::Errno => "allow-list, others fail with EPERM; clone3 ENOSYS".into(),
            SeccompMode::KillProcess => "allow-list, others kill the process; clone3 ENOSYS".into(),
        },
        seccomp_rules: filter.rule_count,
        capabilities: "all five sets cleared; securebits NOROOT locked".into(),
        no_new_privs: true,
        rlimits,
        network: match config.network {
            Network::None => "none (empty net namespace, lo down)".into(),
            Network::Loopback => "loopback (own net namespace, lo up)".into(),
        },
        filesystem:
            "tmpfs root (read-only) via pivot_root; fresh /proc; minimal /dev; tmpfs /tmp (noexec)"
                .into(),
        landlock,
    })
}

fn check_user_namespaces() -> Result<()> {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Err(NativeError::UserNamespacesUnavailable {
            why: "user.max_user_namespaces is 0".into(),
        });
    }
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root
        && read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1")
    {
        return Err(NativeError::UserNamespacesUnavailable {
            why: "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)".into(),
        });
    }
    if !root && read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Err(NativeError::UserNamespacesUnavailable {
            why: "kernel.unprivileged_userns_clone is 0".into(),
        });
    }
    Ok(())
}
