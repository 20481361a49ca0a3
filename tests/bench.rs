//! `sandbox bench` writes every cell, and its HTML report renders with its charts in a real
//! headless Chromium.

mod common;

use std::process::Command;

#[test]
fn bench_quick_writes_json_cells_and_an_html_report_that_renders() {
    // bubblewrap is the peer the native start-up target is measured against; chromium renders
    // the report. Both are installed here when missing and we are root (as in CI).
    let chromium = "/usr/bin/chromium";
    let have = || {
        std::path::Path::new(chromium).exists() && std::path::Path::new("/usr/bin/bwrap").exists()
    };
    let installed = common::ensure_packages(&["chromium", "bubblewrap"], have);
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (dir.path().join("bench.json"), dir.path().join("bench.html"));
    let r = common::cli(&[
        "bench",
        "--quick",
        "--workloads",
        "noop,compute",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("targets:"), "{}", r.stdout);

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let cells = report["cells"].as_array().unwrap();
    for workload in ["noop", "compute"] {
        for config in sandbox::bench::CONFIGURATIONS {
            let cell = cells
                .iter()
                .find(|c| c["workload"] == workload && c["configuration"] == *config)
                .unwrap_or_else(|| panic!("no cell for {workload} under {config}"));
            assert_eq!(cell["status"], "ok", "{workload} under {config}: {cell}");
            for key in [
                "runs",
                "median_micros",
                "p10_micros",
                "p90_micros",
                "p99_micros",
                "min_micros",
                "max_micros",
                "user_micros",
                "sys_micros",
                "peak_memory_bytes",
            ] {
                assert!(cell[key].is_number(), "{workload}/{config}: {key} missing");
            }
            assert!(cell["p10_micros"].as_f64() <= cell["median_micros"].as_f64());
            assert!(cell["median_micros"].as_f64() <= cell["p99_micros"].as_f64());
            assert!(
                cell["ratio_to_bare"].is_number(),
                "{workload}/{config}: no ratio"
            );
        }
    }
    let native_noop = cells
        .iter()
        .find(|c| c["workload"] == "noop" && c["configuration"] == "native")
        .unwrap();
    let phases: Vec<&str> = native_noop["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert!(
        phases.contains(&"clone") && phases.contains(&"seccomp") && phases.contains(&"exec"),
        "{phases:?}"
    );
    assert_eq!(report["throughput"].as_array().unwrap().len(), 6);
    assert_eq!(report["density"].as_array().unwrap().len(), 3);
    assert!(report["targets"].as_array().unwrap().len() >= 8);
    let raw_floor = cells
        .iter()
        .find(|c| c["configuration"] == "raw-floor")
        .expect("no raw floor cell");
    assert_eq!(raw_floor["status"], "ok", "{raw_floor}");

    let page = std::fs::read_to_string(&html).unwrap();
    for class in [
        "chart latency",
        "chart phases",
        "chart ratio",
        "chart throughput",
        "chart density",
    ] {
        assert!(page.contains(class), "the HTML lacks a {class} chart");
    }
    assert!(
        !page.contains("<script src") && !page.contains("<link "),
        "the report must be self-contained"
    );

    // Render it for real: Chromium's DOM after layout must hold the SVG charts with bars.
    if installed {
        let bwrap = cells
            .iter()
            .find(|c| c["configuration"] == "peer-bwrap")
            .expect("bubblewrap is installed but not measured");
        assert_eq!(bwrap["status"], "ok", "{bwrap}");
    }
    if !installed {
        eprintln!(
            "SKIPPED the rendering check: chromium is not installed and we are not root to install it"
        );
        return;
    }
    let profile = dir.path().join("profile");
    let run_chromium = |args: &[String]| {
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
            ])
            .args([
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .output()
            .expect("run chromium")
    };
    let url = format!("file://{}", html.display());
    let out = run_chromium(&["--dump-dom".into(), url.clone()]);
    let dom = String::from_utf8_lossy(&out.stdout);
    let charts = dom.matches("<svg").count();
    assert!(
        charts >= 6,
        "Chromium rendered {charts} charts; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.matches("class=\"bar\"").count() >= 20,
        "too few bars in the rendered charts"
    );
    let shot = dir.path().join("shot.png");
    let out = run_chromium(&[
        format!("--screenshot={}", shot.display()),
        "--window-size=900,2400".into(),
        url,
    ]);
    assert!(out.status.success());
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "the screenshot is (nearly) empty"
    );
}
