//! Any request path is read or refused by the layout parser, never a panic; what it accepts
//! is within its bounds and names a file consistent with the path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard_format_maven::layout::{self, Target, MAX_PATH};

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(target) = layout::parse(path) else {
        return;
    };
    assert!(path.len() <= MAX_PATH);
    assert!(!path.split('/').any(|s| s.is_empty() || s == "." || s == ".."));
    if let Target::File { artifact, version, file, .. } = &target {
        assert!(file.name.starts_with(&format!("{}-", artifact.artifact_id)));
        assert!(path.contains(&format!("/{version}/{}", file.name)));
        assert!(!file.extension.is_empty());
    }
});
