//! Core metadata, file names and names: any input is parsed or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_pypi::metadata;

fuzz_target!(|data: &[u8]| {
    if let Ok(meta) = metadata::parse_core_metadata(data) {
        // What was accepted is valid by our own rules.
        assert!(metadata::validate_name(&meta.name).is_ok());
        assert!(metadata::parse_version(&meta.version_text).is_ok());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(f) = metadata::parse_file_name(s) {
            assert!(!s.contains('/') && !s.contains('\\'));
            let n = metadata::normalize_name(&f.name);
            assert_eq!(metadata::normalize_name(&n), n);
        }
    }
});
