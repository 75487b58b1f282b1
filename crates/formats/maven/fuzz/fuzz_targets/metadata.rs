//! The maven-metadata.xml reader: any bytes give metadata or a refusal, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_maven::xml::{read_metadata, MAX_ELEMENTS, MAX_TEXT};

fuzz_target!(|data: &[u8]| {
    match read_metadata(data) {
        Ok(md) => {
            assert!(md.versions.len() <= MAX_ELEMENTS);
            assert!(md
                .versions
                .iter()
                .all(|v| !v.is_empty() && v.len() <= MAX_TEXT));
            if !md.plugins.is_empty() {
                assert!(md.has_plugins);
            }
        }
        Err(e) => assert!(e.0.len() < 1000, "{} bytes", e.0.len()),
    }
});
