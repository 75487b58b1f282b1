//! Pure validation of generic package coordinates (no I/O; fuzzable).
//!
//! GitLab's rules (`lib/gitlab/regex/packages.rb`, spec §4.3): names and file names match
//! `\A[A-Za-z0-9._+-]+\z` (newer docs also allow `~` and `@`, which we tolerate), versions
//! `\A(?!.*\.\.)[\w+.-]+\z`. File names may be directory-structured (`dir/sub/f.txt`, sent
//! with real slashes or `%2F`); they are stored as the URL-encoded join (`dir%2Fsub%2Ff.txt`).

use std::cmp::Ordering;

use packyard_core::FormatError;

const MAX_LEN: usize = 255;

fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LEN
        && s != "."
        && s != ".."
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-' | b'~' | b'@')
        })
}

pub fn validate_name(name: &str) -> Result<&str, FormatError> {
    if segment_ok(name) {
        Ok(name)
    } else {
        Err(FormatError("package_name is invalid".into()))
    }
}

pub fn validate_version(version: &str) -> Result<&str, FormatError> {
    let ok = !version.is_empty()
        && version.len() <= MAX_LEN
        && !version.contains("..")
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'.' | b'-'));
    if ok {
        Ok(version)
    } else {
        Err(FormatError("package_version is invalid".into()))
    }
}

/// Validates a file name as it arrives in the URL (already split off the path, possibly with
/// `/` or `%2F` between directories) and returns the stored form: segments joined by `%2F`.
pub fn stored_file_name(raw: &str) -> Result<String, FormatError> {
    let invalid = || FormatError("file_name is invalid".into());
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| invalid())?;
    if decoded.len() > 1024 {
        return Err(invalid());
    }
    let segments: Vec<&str> = decoded.split('/').collect();
    if segments.iter().any(|s| !segment_ok(s)) {
        return Err(invalid());
    }
    Ok(segments.join("%2F"))
}

/// Versions in semver order when both parse, otherwise segment-wise natural order.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn split(s: &str) -> Vec<Result<u64, &str>> {
        s.split(['.', '-', '+', '_'])
            .map(|p| p.parse::<u64>().map_err(|_| p))
            .collect()
    }
    let (a, b) = (a.trim_start_matches('v'), b.trim_start_matches('v'));
    let (x, y) = (split(a), split(b));
    for (p, q) in x.iter().zip(y.iter()) {
        let o = match (p, q) {
            (Ok(m), Ok(n)) => m.cmp(n),
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(m), Err(n)) => m.cmp(n),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_gitlab_rules() {
        for ok in ["hello-world", "a.b_c+d", "x~y@z", "A1"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "a\0b", "ä", &"x".repeat(256)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_refuse_double_dots_and_slashes() {
        assert!(validate_version("v1.0.0").is_ok());
        assert!(validate_version("1.0.0-rc_1+b2").is_ok());
        for bad in ["", "1..0", "1/0", "1 0", "..", "1.0\n"] {
            assert!(validate_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn directory_file_names_are_stored_url_encoded_either_way() {
        assert_eq!(
            stored_file_name("dir/sub/f.txt").unwrap(),
            "dir%2Fsub%2Ff.txt"
        );
        assert_eq!(
            stored_file_name("dir%2Fsub%2Ff.txt").unwrap(),
            "dir%2Fsub%2Ff.txt"
        );
        assert_eq!(stored_file_name("plain.tar.gz").unwrap(), "plain.tar.gz");
    }

    #[test]
    fn traversal_and_control_characters_in_file_names_are_refused() {
        for bad in [
            "../etc/passwd",
            "a/../b",
            "a/./b",
            "/a",
            "a/",
            "a//b",
            "a%00b",
            "a%0Ab",
            "%2e%2e",
            "a%2F..%2Fb",
            "%ff",
        ] {
            assert!(stored_file_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_order_numerically() {
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare_versions("v2", "1.0"), Ordering::Greater);
        assert_eq!(compare_versions("1.0", "1.0.1"), Ordering::Less);
        assert_eq!(compare_versions("1.0.0", "1.0.0"), Ordering::Equal);
    }

    proptest::proptest! {
        #[test]
        fn stored_file_names_never_escape_or_panic(s in "\\PC{0,64}") {
            if let Ok(stored) = stored_file_name(&s) {
                let decoded = percent_encoding::percent_decode_str(&stored).decode_utf8().unwrap().into_owned();
                proptest::prop_assert!(!decoded.split('/').any(|seg| seg == ".." || seg == "." || seg.is_empty()));
                proptest::prop_assert!(!decoded.chars().any(char::is_control));
            }
        }
    }
}
