//! The bounded archive readers: any bytes, as a tar, a gzipped tar (the same bytes gzipped,
//! so the fuzzer reaches the tar layer) or a zip, are read within the limits or refused,
//! never a panic. Small limits make every bound reachable.
#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use packyard_core::archive::{walk_tar, walk_tar_gz, TarMember, Walk, ZipReader};
use packyard_core::{ArchiveError, ArchiveLimits};

const LIMITS: ArchiveLimits = ArchiveLimits {
    max_extension_header: 4096,
    max_entries: 64,
    max_unpacked: 1 << 20,
    max_member: 1 << 16,
};

fn visit(m: &mut TarMember<'_>) -> Result<Walk, ArchiveError> {
    if m.kind().is_file() && m.size() % 2 == 0 {
        let data = m.read_all(1 << 12)?;
        assert!(data.len() as u64 <= 1 << 12);
        assert_eq!(data.len() as u64, m.size());
    }
    assert!(m.path_bytes().len() as u64 <= LIMITS.max_extension_header.max(512));
    Ok(Walk::Continue)
}

fuzz_target!(|data: &[u8]| {
    let _ = walk_tar(data, &LIMITS, visit);
    let _ = walk_tar_gz(data, &LIMITS, visit);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(data).is_ok() {
        if let Ok(packed) = gz.finish() {
            let _ = walk_tar_gz(&packed[..], &LIMITS, visit);
        }
    }
    if let Ok(mut zip) = ZipReader::open(Cursor::new(data), &LIMITS) {
        if let Ok(found) = zip.find(|_| true, 4) {
            for m in &found {
                if let Ok(bytes) = zip.read_all(m, 1 << 12) {
                    assert!(bytes.len() as u64 <= m.size().min(1 << 12));
                }
            }
        }
    }
});
