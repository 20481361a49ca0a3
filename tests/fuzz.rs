//! Fuzzing in CI: the committed corpus through the fuzz targets' checks (stable, every run),
//! then a short `cargo fuzz` run of each target when a nightly toolchain is present.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

#[test]
fn the_committed_corpus_passes_every_property() {
    let mut inputs = 0;
    for target in ["policy_text", "policy_translation"] {
        for entry in std::fs::read_dir(fuzz_dir().join("corpus").join(target)).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            sandbox::fuzzing::policy_text(&data);
            sandbox::fuzzing::policy_translation(&data);
            inputs += 1;
        }
    }
    assert!(inputs > 100, "only {inputs} corpus inputs");
}

fn cargo_nightly(args: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly").args(args).current_dir(fuzz_dir());
    for var in [
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTUP_TOOLCHAIN",
    ] {
        c.env_remove(var);
    }
    c.env("SANDBOX_SKIP_GUEST_BUILD", "1");
    c
}

#[test]
fn a_short_fuzz_run_of_each_target_finds_nothing() {
    if !cargo_nightly(&["--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: no nightly toolchain (rustup toolchain install nightly)");
        return;
    }
    let has_fuzz = || {
        cargo_nightly(&["fuzz", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !has_fuzz() && root {
        let ok = cargo_nightly(&["install", "cargo-fuzz", "--locked"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cargo install cargo-fuzz failed");
    }
    if !has_fuzz() {
        eprintln!("skipped: cargo-fuzz is missing (cargo +nightly install cargo-fuzz --locked)");
        return;
    }
    for target in ["policy_text", "policy_translation"] {
        // New inputs go to a scratch dir; the committed corpus only seeds the run.
        let scratch = tempfile::tempdir().unwrap();
        let seeds = fuzz_dir().join("corpus").join(target);
        let out = cargo_nightly(&["fuzz", "run", target])
            .arg(scratch.path())
            .arg(&seeds)
            .args(["--", "-max_total_time=15", "-max_len=512"])
            .output()
            .expect("cargo fuzz");
        // libFuzzer reports every new input on stderr: keep the log for failures only.
        let log = String::from_utf8_lossy(&out.stderr);
        let mut tail: Vec<&str> = log.lines().rev().take(40).collect();
        tail.reverse();
        assert!(
            out.status.success(),
            "{target}: the fuzzer found a failure (see fuzz/artifacts):\n{}",
            tail.join("\n")
        );
        let done = log
            .lines()
            .rev()
            .find(|l| l.starts_with("Done "))
            .unwrap_or("");
        eprintln!("{target}: {done}");
    }
}
