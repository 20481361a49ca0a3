//! Policy files: any bytes parse or are refused, never panic; what parses is valid.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sandbox::fuzzing::policy_text(data));
