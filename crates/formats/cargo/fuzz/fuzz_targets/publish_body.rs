//! The whole publish body: lengths, JSON metadata, the index line built from it, then the
//! `.crate` it frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_cargo::metadata;

fuzz_target!(|data: &[u8]| {
    if let Ok((meta, krate)) = metadata::split_publish_body(data, 1 << 20) {
        let entry = metadata::index_entry(&meta, "0");
        assert_eq!(entry.name, meta.name);
        let _ = metadata::read_crate(krate, &meta.name, &meta.vers, 1 << 22);
    }
});
