//! cgroup v2 limits, tested for real: this host is cgroup v1, so the test boots Debian's
//! kernel under qemu (TCG) with `cgroup_no_v1=all` and a busybox initramfs carrying the
//! `sandbox` binary (with its shared libraries) and the static workloads, runs the limit
//! checks there, and reads the results from the serial console.
//!
//! Needs `qemu-system-x86`, `linux-image-amd64`, `busybox-static` and `cpio`; as root the
//! test installs them with apt-get when they are missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "linux-image-amd64",
    "busybox-static",
    "cpio",
];

fn kernel() -> Option<PathBuf> {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    kernels.sort();
    kernels.pop()
}

fn have_tools() -> bool {
    Path::new("/usr/bin/qemu-system-x86_64").exists()
        && Path::new("/bin/busybox").exists()
        && Path::new("/usr/bin/cpio").exists()
        && kernel().is_some()
}

/// Copies `src` into `root` at the same absolute path.
fn copy_in(root: &Path, src: &Path) {
    let dst = root.join(src.strip_prefix("/").unwrap());
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::copy(src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
}

/// The shared libraries `ldd` lists for `exe` (including the dynamic loader).
fn shared_libraries(exe: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(exe).output().expect("ldd");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with('/'))
                .map(PathBuf::from)
        })
        .collect()
}

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
# pivot_root(2) refuses to leave the initramfs (rootfs): move into a tmpfs first, as a
# real host's root would be.
if [ ! -e /.switched ]; then
  mkdir -p /mnt && mount -t tmpfs -o size=512m root /mnt
  for d in /*; do case $d in /proc|/sys|/dev|/mnt) ;; *) cp -a $d /mnt/ ;; esac; done
  mkdir -p /mnt/proc /mnt/sys /mnt/dev /mnt/tmp && touch /mnt/.switched
  exec switch_root /mnt /init
fi
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# No tmpfs over /tmp: the root is a tmpfs already, and the binaries may live under /tmp
# (their paths are compiled in, and a checkout can be anywhere).
mount -t cgroup2 none /sys/fs/cgroup
echo "V2 controllers $(cat /sys/fs/cgroup/cgroup.controllers)"
S=__SANDBOX__
$S run --memory 64MiB --workload alloc -- 512 >/dev/null 2>&1
echo "V2 oom_exit $?"
$S run --pids 32 --report /tmp/pids.json --workload forkbomb >/tmp/pids.out 2>&1
echo "V2 pids_exit $? $(cat /tmp/pids.out)"
echo "V2 pids_report $(tr -d '\n' < /tmp/pids.json)"
$S run --cpus 0.2 --report /tmp/cpu.json --workload compute -- 2 >/dev/null 2>&1
echo "V2 cpu_exit $?"
echo "V2 cpu_report $(tr -d '\n' < /tmp/cpu.json)"
$S run --timeout 500ms --workload spin >/dev/null 2>&1
echo "V2 timeout_exit $?"
echo "V2 leftovers $(ls /sys/fs/cgroup/sandbox | grep -c run-)"
# Rootless with delegation, laid out as systemd does it: user@65534.service belongs to the
# user, with the controllers available, and the user's shell sits in a leaf (init.scope).
echo 'nobody:x:65534:65534:nobody:/tmp:/bin/sh' > /etc/passwd
echo 'nogroup:x:65534:' > /etc/group
chmod 1777 /tmp
echo 1 > /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null
U=/sys/fs/cgroup/user.slice/user@65534.service
mkdir -p $U/init.scope
echo "+memory +pids +cpu" > /sys/fs/cgroup/user.slice/cgroup.subtree_control
chown 65534:65534 $U $U/cgroup.procs $U/cgroup.subtree_control $U/cgroup.threads
chown -R 65534:65534 $U/init.scope
sh -c "echo \$\$ > $U/init.scope/cgroup.procs && exec su -s /bin/sh nobody -c /rootless"
echo "V2 done"
poweroff -f
"#;

/// Runs as uid 65534 in the VM, in the delegated `user@65534.service`.
const ROOTLESS: &str = r#"#!/bin/busybox sh
export PATH=/bin
S=__SANDBOX__
U=/sys/fs/cgroup/user.slice/user@65534.service
echo "+memory +pids +cpu" > $U/cgroup.subtree_control
# Started from the shell's own cgroup, which holds the shell: refused, with the way out.
$S run --memory 64MiB --workload alloc -- 1 >/tmp/shared.out 2>&1
echo "V2 rootless_shared_exit $? $(cat /tmp/shared.out)"
echo "V2 rootless_shared_left $(find $U/init.scope -mindepth 1 -type d | wc -l)"
# As `systemd-run --user --scope` starts it: a cgroup of its own.
scope() {
  mkdir -p $U/run-$1.scope
  sh -c "echo \$\$ > $U/run-$1.scope/cgroup.procs && shift && exec "\$@"" -- "$@"
}
scope oom $S run --memory 64MiB --workload alloc -- 512 >/dev/null 2>&1
echo "V2 rootless_oom_exit $?"
scope pids $S run --pids 32 --report /tmp/rpids.json --workload forkbomb >/tmp/rpids.out 2>&1
echo "V2 rootless_pids_exit $? $(cat /tmp/rpids.out)"
echo "V2 rootless_pids_report $(tr -d '
' < /tmp/rpids.json)"
echo "V2 rootless_leftovers $(ls $U/run-oom.scope/sandbox $U/run-pids.scope/sandbox | grep -c ^run-)"
"#;

#[test]
fn cgroup_v2_limits_in_a_vm() {
    if !common::ensure_packages(PACKAGES, have_tools) {
        eprintln!("SKIPPED: needs root (to install {PACKAGES:?}) or those packages installed");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    for dir in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let sandbox = PathBuf::from(env!("CARGO_BIN_EXE_sandbox"));
    copy_in(&root, &sandbox);
    for lib in shared_libraries(&sandbox) {
        copy_in(&root, &lib);
    }
    for name in ["alloc", "forkbomb", "compute", "spin"] {
        copy_in(
            &root,
            &sandbox::workloads::artifact(name, sandbox::workloads::Flavor::Native).unwrap(),
        );
    }
    let init = root.join("init");
    std::fs::write(
        &init,
        INIT.replace("__SANDBOX__", sandbox.to_str().unwrap()),
    )
    .unwrap();
    std::fs::set_permissions(&init, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let rootless = root.join("rootless");
    std::fs::write(
        &rootless,
        ROOTLESS.replace("__SANDBOX__", sandbox.to_str().unwrap()),
    )
    .unwrap();
    std::fs::set_permissions(
        &rootless,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    let initrd = work.path().join("initrd.cpio");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd {} && find . | cpio -o -H newc --quiet > {}",
            root.display(),
            initrd.display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "cpio failed");

    let mut qemu = Command::new("timeout");
    qemu.args([
        "600",
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-m",
        "1024",
        "-smp",
        "1",
    ])
    .args(["-nographic", "-no-reboot", "-kernel"])
    .arg(kernel().unwrap())
    .arg("-initrd")
    .arg(&initrd)
    .args([
        "-append",
        "console=ttyS0 quiet cgroup_no_v1=all panic=-1 rdinit=/init",
    ]);
    let t = std::time::Instant::now();
    let out = qemu.stdin(Stdio::null()).output().expect("qemu");
    let console = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    eprintln!("VM ran for {:?}", t.elapsed());
    let value = |key: &str| -> String {
        console
            .lines()
            .find_map(|l| l.split_once(&format!("V2 {key} ")).map(|(_, v)| v))
            .unwrap_or_else(|| panic!("no `{key}` line from the VM; console:\n{console}"))
            .trim()
            .to_string()
    };
    assert!(
        console.contains("V2 done"),
        "the VM did not finish; console:\n{console}"
    );
    let controllers = value("controllers");
    for c in ["cpu", "memory", "pids"] {
        assert!(
            controllers.split_whitespace().any(|w| w == c),
            "no {c} controller in the VM: {controllers}"
        );
    }
    assert_eq!(
        value("oom_exit"),
        "137",
        "alloc 512 under 64MiB did not end as out-of-memory"
    );
    let pids = value("pids_exit");
    let forked: u32 = pids
        .strip_prefix("0 forked ")
        .unwrap_or_else(|| panic!("{pids}"))
        .parse()
        .unwrap();
    assert!(forked < 32, "forked {forked} under pids 32");
    let report: serde_json::Value = serde_json::from_str(&value("pids_report")).unwrap();
    assert_eq!(report["enforcement"]["cgroup"], "v2");
    assert_eq!(report["enforcement"]["pids_limit_hit"], true);
    assert_eq!(value("cpu_exit"), "0");
    let cpu: serde_json::Value = serde_json::from_str(&value("cpu_report")).unwrap();
    let (user, wall) = (
        cpu["usage"]["user_micros"].as_u64().unwrap(),
        cpu["wall_micros"].as_u64().unwrap(),
    );
    // 0.2 cores: the run takes about 5x its CPU time in wall time; 2.5x leaves room for noise.
    assert!(
        wall as f64 >= 2.5 * user as f64,
        "cpu.max not in force: user {user}us, wall {wall}us"
    );
    assert_eq!(value("timeout_exit"), "124");
    assert_eq!(
        value("leftovers"),
        "0",
        "cgroup directories left behind in the VM"
    );

    // Rootless, delegated: the limits hold as they do for root.
    let shared = value("rootless_shared_exit");
    assert!(
        shared.starts_with("125 ") && shared.contains("systemd-run --user --scope"),
        "{shared}"
    );
    assert_eq!(
        value("rootless_shared_left"),
        "0",
        "the refused run left a cgroup in the shell's"
    );
    assert_eq!(value("rootless_oom_exit"), "137", "rootless out-of-memory");
    let pids = value("rootless_pids_exit");
    assert!(pids.starts_with("0 forked "), "{pids}");
    let report: serde_json::Value = serde_json::from_str(&value("rootless_pids_report")).unwrap();
    assert_eq!(report["enforcement"]["rootless"], true);
    assert_eq!(report["enforcement"]["pids_limit_hit"], true);
    assert_eq!(value("rootless_leftovers"), "0");
}
