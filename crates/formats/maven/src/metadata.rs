//! Package names as the Registry sees them: the artifact's path (`com/example/lib`),
//! compared case-insensitively as GitLab compares names.

use packyard_core::FormatError;

use crate::layout;

/// `com/example/lib` → `com/example/lib` lower-cased, when every segment is valid and
/// there are at least two (groupId and artifactId).
pub fn normalize_name(name: &str) -> Result<String, FormatError> {
    let segments: Vec<&str> = name.split('/').collect();
    let valid = segments.len() >= 2
        && name.len() <= layout::MAX_PATH
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.len() <= layout::MAX_SEGMENT
                && !s.starts_with('.')
                && s.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'~')
                })
        });
    if valid {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(FormatError(format!(
            "package name {:?} is invalid: a Maven package is named by its path, <groupId with / for .>/<artifactId>",
            packyard_core::error::printable(name)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_artifact_paths() {
        assert_eq!(
            normalize_name("com/Example/Lib").ok().as_deref(),
            Some("com/example/lib")
        );
        for bad in ["", "lib", "com//lib", "com/../lib", "com/a b", "/com/lib"] {
            assert!(normalize_name(bad).is_err(), "{bad:?}");
        }
    }
}
