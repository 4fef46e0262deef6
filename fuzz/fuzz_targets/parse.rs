//! `taskman_markdown::parse` must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = taskman_markdown::parse(data);
});
