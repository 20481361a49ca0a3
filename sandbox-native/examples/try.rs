//! `cargo run -p sandbox-native --example try -- PROGRAM [ARGS...]`: one run, printed.
fn main() {
    let mut args = std::env::args().skip(1);
    let program = args.next().expect("usage: try PROGRAM [ARGS...]");
    let mut config = sandbox_native::NativeConfig::new(program);
    config.args = args.collect();
    config.limits.memory_bytes = Some(64 << 20);
    config.limits.max_pids = Some(32);
    config.limits.wall_time = Some(std::time::Duration::from_secs(2));
    let sandbox = match sandbox_native::NativeSandbox::prepare(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(125);
        }
    };
    match sandbox.run(b"") {
        Ok(o) => {
            println!("exit: {:?}", o.exit);
            println!("stdout: {}", String::from_utf8_lossy(&o.stdout));
            println!("stderr: {}", String::from_utf8_lossy(&o.stderr));
            for (name, d) in &o.phases {
                println!("  {name:>14} {:>8} us", d.as_micros());
            }
            println!(
                "wall {:?} peak_rss {} cgroup_peak {:?}",
                o.wall, o.peak_rss_bytes, o.cgroup_peak_bytes
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(125);
        }
    }
}
