//! The streaming reader of `npm publish` documents: any bytes, never a panic, bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_npm::body;

fuzz_target!(|data: &[u8]| {
    let _ = body::parse_with_limit(data, &mut body::Discard, 64 * 1024);
});
