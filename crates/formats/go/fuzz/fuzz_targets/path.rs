//! The proxy path decoder: never panics; a decoded module path passes CheckPath and
//! re-encodes to what was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_go::metadata::{check_file_path, check_path, escape, unescape_path};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = unescape_path(s) {
        assert!(check_path(&path).is_ok());
        assert_eq!(escape(&path), s);
    }
    let _ = check_file_path(s);
    let _ = packyard_format_go::parse_proxy_path(s);
});
