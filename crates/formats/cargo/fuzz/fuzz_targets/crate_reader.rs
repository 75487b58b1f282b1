//! The `.crate` reader (gzip + tar + Cargo.toml). Random bytes rarely make valid gzip, so
//! unless the first byte is 0 the rest is gzipped first: the fuzzer then explores the tar
//! entries, paths and manifests behind the decompressor, as well as the raw gzip layer.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use packyard_format_cargo::metadata;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode == 0 {
        let _ = metadata::read_crate(rest, "fixture-demo", "0.1.0", 1 << 22);
        return;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(rest).is_err() {
        return;
    }
    let Ok(packed) = gz.finish() else { return };
    let _ = metadata::read_crate(&packed[..], "fixture-demo", "0.1.0", 1 << 22);
});
