//! The pom reader: any bytes give a pom or a refusal, never a panic; what it keeps and what
//! it says stay within the bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_maven::xml::{read_pom, MAX_TEXT};

fuzz_target!(|data: &[u8]| {
    match read_pom(data) {
        Ok(pom) => {
            for field in [
                &pom.group_id,
                &pom.artifact_id,
                &pom.version,
                &pom.name,
                &pom.description,
            ] {
                if let Some(v) = field {
                    assert!(v.len() <= MAX_TEXT);
                    assert!(!v.is_empty());
                }
            }
            // Only a document that really is XML is accepted.
            assert!(std::str::from_utf8(data).is_ok());
        }
        // printable() caps quoted input at 100 characters: the message stays short.
        Err(e) => assert!(e.0.len() < 1000, "{} bytes", e.0.len()),
    }
});
