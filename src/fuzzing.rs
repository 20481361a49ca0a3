//! The properties the fuzz targets check (`fuzz/`), here so that the corpus regression test
//! (`tests/fuzz_corpus.rs`, stable Rust) checks exactly the same on every CI run.

use crate::backend::Workload;
use crate::policy::Policy;

/// Any bytes: parsing never panics; what parses also validates, and every limit it carries
/// is positive (zero and negative limits are refused by the parser, never passed on).
pub fn policy_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::from_toml(text) else {
        return;
    };
    assert!(policy.validate().is_ok(), "parsed but invalid: {policy:?}");
    assert!(policy.memory_bytes != Some(0), "zero memory limit accepted");
    assert!(policy.max_pids != Some(0), "zero pids limit accepted");
    assert!(
        policy.wall_time.is_none_or(|t| !t.is_zero()),
        "zero timeout accepted"
    );
    assert!(
        policy.grants().all(|(g, _)| g.guest.is_absolute()),
        "relative guest path accepted"
    );
}

/// A parsed policy translates to each compiled-in backend's config without panicking, and
/// the translation keeps every grant with its writability and every limit.
pub fn policy_translation(data: &[u8]) {
    let Some(policy) = std::str::from_utf8(data)
        .ok()
        .and_then(|t| Policy::from_toml(t).ok())
    else {
        return;
    };
    let workload = Workload::path("/nonexistent/program");
    let grants: Vec<_> = policy
        .grants()
        .map(|(g, w)| (g.host.clone(), g.guest.clone(), w))
        .collect();
    #[cfg(feature = "native")]
    {
        let c = crate::NativeBackend::config(&workload, &policy).expect("native translation");
        let binds: Vec<_> = c
            .binds
            .iter()
            .map(|b| (b.host.clone(), b.guest.clone(), b.writable))
            .collect();
        assert_eq!(binds, grants, "native binds differ from the grants");
        assert_eq!(c.limits.memory_bytes, policy.memory_bytes);
        assert_eq!(c.limits.max_pids, policy.max_pids);
        assert_eq!(c.limits.wall_time, policy.wall_time);
        assert_eq!(c.new_net_namespace, policy.network != crate::Network::Host);
        assert_eq!(c.landlock_scope, policy.landlock, "landlock setting lost");
    }
    #[cfg(feature = "wasm")]
    {
        let c = crate::WasmBackend::config(&workload, &policy);
        let preopens: Vec<_> = c
            .preopens
            .iter()
            .map(|p| {
                (
                    p.host.clone(),
                    std::path::PathBuf::from(&p.guest),
                    p.writable,
                )
            })
            .collect();
        assert_eq!(preopens, grants, "wasm preopens differ from the grants");
        assert_eq!(c.memory_bytes, policy.memory_bytes);
        // A CPU-time limit becomes the (tighter) wall-clock deadline on one thread.
        let deadline = match (policy.wall_time, policy.cpu_time) {
            (Some(w), Some(c)) => Some(w.min(c)),
            (w, c) => w.or(c),
        };
        assert_eq!(c.wall_time, deadline);
    }
    let _ = (workload, grants);
}
