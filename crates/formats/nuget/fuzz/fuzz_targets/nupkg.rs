//! The `.nupkg` reader: any bytes give a package or a refusal, never a panic; what it
//! accepts carries a manifest whose version is the one it parsed.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use packyard_format_nuget::{nuspec, package};

fuzz_target!(|data: &[u8]| {
    match package::read(Cursor::new(data)) {
        Ok(p) => {
            assert!(p.nuspec_xml.len() as u64 <= nuspec::MAX_NUSPEC);
            assert_eq!(
                nuspec::parse(p.nuspec_xml.as_bytes()).ok(),
                Some(p.nuspec.clone())
            );
            assert_eq!(
                p.version.full(),
                packyard_format_nuget::version::parse(&p.nuspec.version)
                    .map(|v| v.full())
                    .unwrap_or_default()
            );
        }
        Err(e) => assert!(e.0.len() < 1000, "{} bytes", e.0.len()),
    }
});
