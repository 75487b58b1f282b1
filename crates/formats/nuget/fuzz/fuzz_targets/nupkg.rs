//! The `.nupkg` reader: any bytes give a package or a refusal, never a panic; what it
//! accepts carries a manifest whose version is the one it parsed.
//!
//! Inputs whose first byte is odd are taken as a whole archive; the others are split at the
//! first NUL into entry names and manifest bytes and written as a real zip, so entry-name
//! checks and the manifest inside are reached as often as the zip parser is.
#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use packyard_format_nuget::{nuspec, package, version};

fn wrap(data: &[u8]) -> Option<Vec<u8>> {
    let (names, manifest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"a.nuspec"[..], data),
    };
    let names = String::from_utf8_lossy(names);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for name in names.split('\n').take(8) {
        w.start_file(name, opts).ok()?;
        w.write_all(manifest).ok()?;
    }
    Some(w.finish().ok()?.into_inner())
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let bytes = if first & 1 == 1 {
        rest.to_vec()
    } else {
        match wrap(rest) {
            Some(b) => b,
            None => return,
        }
    };
    match package::read(Cursor::new(bytes)) {
        Ok(p) => {
            assert!(p.nuspec_xml.len() as u64 <= nuspec::MAX_NUSPEC);
            assert_eq!(
                nuspec::parse(p.nuspec_xml.as_bytes()).ok(),
                Some(p.nuspec.clone())
            );
            assert_eq!(
                Some(p.version.full()),
                version::parse(&p.nuspec.version).ok().map(|v| v.full())
            );
        }
        Err(e) => assert!(e.0.len() < 1000, "{} bytes", e.0.len()),
    }
});
