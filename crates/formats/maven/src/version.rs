//! Maven's version order (`org.apache.maven.artifact.versioning.ComparableVersion`).
//! STUB: replaced by the full implementation.

use std::cmp::Ordering;

/// Compares two versions as Maven does.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
