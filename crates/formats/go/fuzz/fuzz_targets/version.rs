//! Go versions: parsing never panics, an accepted version is canonical (it starts with
//! `v`, carries no build metadata but `+incompatible`), orders consistently with itself and
//! survives the case-encoding; a pseudo-version's time is well formed.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use packyard_format_go::metadata::{compare_versions, escape, unescape, GoVersion};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = s.split_once('\n').unwrap_or((s, "v1.0.0"));
    if let Ok(v) = GoVersion::parse(a) {
        assert!(a.starts_with('v'));
        assert_eq!(v.precedence(&v), Ordering::Equal);
        assert_eq!(unescape(&escape(a)).as_deref(), Some(a));
        if let Some(t) = v.pseudo_time() {
            assert_eq!(t.len(), 20);
        }
    }
    assert_eq!(compare_versions(a, b), compare_versions(b, a).reverse());
});
