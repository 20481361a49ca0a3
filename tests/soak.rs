//! `sandbox soak` at CI size (500 runs; the 10,000-run version is the same command).

mod common;

#[test]
fn soak_500_runs_serial_and_with_8_workers_leaves_nothing_and_rss_is_flat() {
    for workers in ["1", "8"] {
        let r = common::cli(&["soak", "--runs", "500", "--workers", workers]);
        assert_eq!(
            r.code, 0,
            "soak with {workers} workers: {}\n{}",
            r.stdout, r.stderr
        );
        let rows: Vec<&str> = r.stdout.lines().skip(1).collect();
        assert_eq!(rows.len(), 3, "{}", r.stdout);
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // backend runs workers failed seconds leftover cgroups mounts fds tmp drift MiB
            assert_eq!(&cols[1..4], ["500", workers, "0"], "{row}");
            assert_eq!(&cols[5..10], ["0", "0", "0", "0", "0"], "{row}");
        }
    }
}
