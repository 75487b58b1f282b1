//! Zip and tar.gz readers: any bytes give metadata of at most the limit, or a refusal.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use packyard_format_pypi::archive::{core_metadata, MAX_METADATA_SIZE};
use packyard_format_pypi::metadata::DistKind;

fuzz_target!(|data: &[u8]| {
    for kind in [DistKind::Wheel, DistKind::SdistTarGz, DistKind::SdistZip] {
        if let Ok(meta) = core_metadata(Cursor::new(data), kind) {
            assert!(meta.len() as u64 <= MAX_METADATA_SIZE);
        }
    }
});
