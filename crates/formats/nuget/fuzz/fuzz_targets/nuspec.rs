//! The `.nuspec` reader: any bytes give a manifest or a refusal, never a panic; what it
//! accepts has the required fields, and what it says stays short.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_nuget::nuspec::{self, MAX_NUSPEC};
use packyard_format_nuget::version;

fuzz_target!(|data: &[u8]| {
    match nuspec::parse(data) {
        Ok(n) => {
            assert!(data.len() as u64 <= MAX_NUSPEC);
            assert!(nuspec::validate_id(&n.id).is_ok(), "{:?}", n.id);
            assert!(version::parse(&n.version).is_ok(), "{:?}", n.version);
            assert!(!n.authors.trim().is_empty());
            assert!(!n.description.trim().is_empty());
            assert!(n.tags.iter().all(|t| !t.is_empty()));
        }
        Err(e) => assert!(e.0.len() < 1000, "{} bytes", e.0.len()),
    }
});
