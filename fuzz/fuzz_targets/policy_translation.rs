//! Policy → backend config: every grant and limit survives the translation.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sandbox::fuzzing::policy_translation(data));
