//! The module zip validator never panics and never accepts a zip with a file outside
//! `module@version/` or a go.mod naming another module.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use packyard_format_go::metadata::GoVersion;
use packyard_format_go::modzip::check_zip;

fuzz_target!(|data: &[u8]| {
    let Ok(version) = GoVersion::parse("v1.0.0") else {
        return;
    };
    if let Ok(m) = check_zip(Cursor::new(data), "example.test/m", &version) {
        assert!(m.h1.starts_with("h1:") && m.h1_mod.starts_with("h1:"));
        if !m.synthesized_go_mod {
            assert_eq!(
                packyard_format_go::metadata::go_mod_module(&m.go_mod).as_deref(),
                Some("example.test/m")
            );
        }
    }
});
