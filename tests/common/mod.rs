//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A temp directory the native sandbox's mapped id (65534 when we are root) can use.
pub fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    dir
}

pub struct CliRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn cli(args: &[&str]) -> CliRun {
    cli_env(args, &[])
}

pub fn cli_env(args: &[&str], env: &[(&str, &Path)]) -> CliRun {
    cli_via(&[], args, env)
}

/// Runs the CLI through `wrapper` (e.g. setpriv to switch user), or directly when empty.
pub fn cli_via(wrapper: &[&str], args: &[&str], env: &[(&str, &Path)]) -> CliRun {
    let exe = env!("CARGO_BIN_EXE_sandbox");
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the sandbox binary");
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn write_file(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Asserts the CLI refused with exit 125 and a one-line error containing `needle`.
pub fn assert_refused(run: &CliRun, needle: &str) {
    assert_eq!(
        run.code, 125,
        "expected exit 125, got {}; stderr: {}",
        run.code, run.stderr
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected a one-line error, got: {:?}",
        run.stderr
    );
    assert!(
        lines[0].to_lowercase().contains(&needle.to_lowercase()),
        "error {:?} does not mention {needle:?}",
        lines[0]
    );
}

/// Makes sure Debian packages are installed: returns true when `present()` holds, installing
/// `packages` with apt-get first when it does not and we are root (as in CI). Returns false
/// when they are missing and cannot be installed here (not root).
pub fn ensure_packages(packages: &[&str], present: impl Fn() -> bool) -> bool {
    if present() {
        return true;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return false;
    }
    // One installer at a time: apt holds a lock, and tests run in parallel.
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = APT.lock().unwrap_or_else(|e| e.into_inner());
    if present() {
        return true;
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(apt(&["update", "-qq"]), "apt-get update failed");
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(packages);
    assert!(apt(&install), "apt-get install {packages:?} failed");
    present()
}
