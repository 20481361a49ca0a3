//! Builds the guest programs in `guest/` for the host (statically linked, so they run in an
//! empty root), for `wasm32-wasip1` (core modules) and `wasm32-wasip2` (components), by a nested
//! cargo build into its own target dir, and tells the library where the artifacts are.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let guest = manifest_dir.join("guest");
    let guest_wit = manifest_dir.join("guest-wit");
    for path in [
        guest.join("src"),
        guest.join("Cargo.toml"),
        guest_wit.join("src"),
        guest_wit.join("Cargo.toml"),
        manifest_dir.join("wit"),
    ] {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let target_dir = outer_target_dir(&out_dir).join("guest");
    // Builds that never run a guest (the fuzz targets, on nightly with sanitizers) skip the
    // three nested guest builds; the artifact paths then name nothing.
    println!("cargo:rerun-if-env-changed=SANDBOX_SKIP_GUEST_BUILD");
    if std::env::var_os("SANDBOX_SKIP_GUEST_BUILD").is_some() {
        for key in [
            "WORKLOADS_HOST_DIR",
            "WORKLOADS_WASIP1_DIR",
            "WORKLOADS_WASIP2_DIR",
            "WORKLOADS_PURE_DIR",
        ] {
            println!(
                "cargo:rustc-env={key}={}",
                target_dir.join("skipped").display()
            );
        }
        return;
    }
    let host = std::env::var("TARGET").unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    for (key, crate_dir, triple, rustflags) in [
        (
            "WORKLOADS_HOST_DIR",
            &guest,
            host.as_str(),
            "-Ctarget-feature=+crt-static",
        ),
        ("WORKLOADS_WASIP1_DIR", &guest, "wasm32-wasip1", ""),
        ("WORKLOADS_WASIP2_DIR", &guest, "wasm32-wasip2", ""),
        // The `pure-compute` world's component: no WASI, two imports (see wit/).
        ("WORKLOADS_PURE_DIR", &guest_wit, "wasm32-wasip2", ""),
    ] {
        let mut cmd = Command::new(&cargo);
        cmd.arg("build")
            .arg("--release")
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(crate_dir.join("Cargo.toml"))
            .arg("--target")
            .arg(triple)
            .arg("--target-dir")
            .arg(&target_dir)
            // The outer build's flags and target settings are not the guest's.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("CARGO_PROFILE_RELEASE_DEBUG")
            .env("CARGO_ENCODED_RUSTFLAGS", rustflags);
        let status = cmd
            .status()
            .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
        if !status.success() {
            panic!(
                "building the guest workloads for {triple} failed ({status}); \
                 if the target is missing, run: rustup target add wasm32-wasip1 wasm32-wasip2"
            );
        }
        let dir = target_dir.join(triple).join("release");
        println!("cargo:rustc-env={key}={}", dir.display());
    }
}

/// The outer target dir (the one holding CACHEDIR.TAG), so every profile and every
/// `cargo check`/`clippy` shares one guest build instead of rebuilding per OUT_DIR.
fn outer_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.to_path_buf())
}
