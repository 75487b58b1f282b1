//! `package.json` out of a gzipped tarball (raw bytes, and the same bytes gzipped so the
//! fuzzer reaches the tar reader), plus the name, version and tail parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_npm::{metadata, routes};

fuzz_target!(|data: &[u8]| {
    let _ = metadata::read_package_json(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = metadata::parse_name(text);
        let _ = metadata::parse_version(text);
        let _ = metadata::validate_tag(text);
        let _ = routes::parse_tail(text);
        let _ = routes::split_path(text);
    }
});
