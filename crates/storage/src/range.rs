//! Shared checks of the stores: SHA-256 arguments and byte ranges
//! (RFC 9110 §14.1.2, `Range: bytes=...`).

use packyard_core::ports::{BlobError, ByteRange, RangeRequest};

/// `true` for 64 lowercase hex characters, the only shape a blob address may have. Checked
/// before a path or key is built from it, so no input can reach outside the blob tree.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `blobs/ab/cd/<sha256>`, relative to the store's root or key prefix.
pub(crate) fn blob_rel_path(sha256: &str) -> Result<String, BlobError> {
    if !is_sha256_hex(sha256) {
        return Err(BlobError::NotFound);
    }
    Ok(format!(
        "blobs/{}/{}/{}",
        &sha256[0..2],
        &sha256[2..4],
        sha256
    ))
}

/// The SHA-256 of a relative path `blobs/ab/cd/<sha256>`, if it is one.
pub(crate) fn sha256_from_rel_path(rel: &str) -> Option<&str> {
    let rest = rel.strip_prefix("blobs/")?;
    let mut parts = rest.split('/');
    let (a, b, sha) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_sha256_hex(sha) || a != &sha[0..2] || b != &sha[2..4] {
        return None;
    }
    Some(sha)
}

/// Resolves a requested range against the blob's size, as HTTP does: an end past the blob
/// is clamped; a start at or past the end, a reversed range, or an empty suffix cannot be
/// satisfied.
pub(crate) fn resolve(req: RangeRequest, size: u64) -> Result<ByteRange, BlobError> {
    let unsatisfiable = BlobError::RangeNotSatisfiable { size };
    match req {
        RangeRequest::FromTo { start, end } => {
            if start >= size {
                return Err(unsatisfiable);
            }
            let end = end.unwrap_or(size - 1).min(size - 1);
            if end < start {
                return Err(unsatisfiable);
            }
            Ok(ByteRange { start, end })
        }
        RangeRequest::Suffix(n) => {
            if n == 0 || size == 0 {
                return Err(unsatisfiable);
            }
            Ok(ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(req: RangeRequest, size: u64) -> (u64, u64) {
        match resolve(req, size) {
            Ok(r) => (r.start, r.end),
            Err(e) => panic!("{req:?} on {size}: {e}"),
        }
    }

    fn unsatisfiable(req: RangeRequest, size: u64) -> bool {
        matches!(resolve(req, size), Err(BlobError::RangeNotSatisfiable { size: s }) if s == size)
    }

    #[test]
    fn ranges_resolve_like_http() {
        let ft = |start, end| RangeRequest::FromTo { start, end };
        assert_eq!(ok(ft(0, Some(3)), 10), (0, 3));
        assert_eq!(ok(ft(2, None), 10), (2, 9));
        assert_eq!(ok(ft(5, Some(100)), 10), (5, 9));
        assert_eq!(ok(RangeRequest::Suffix(3), 10), (7, 9));
        assert_eq!(ok(RangeRequest::Suffix(30), 10), (0, 9));
        assert!(unsatisfiable(ft(10, None), 10));
        assert!(unsatisfiable(ft(4, Some(3)), 10));
        assert!(unsatisfiable(ft(0, None), 0));
        assert!(unsatisfiable(RangeRequest::Suffix(0), 10));
        assert!(unsatisfiable(RangeRequest::Suffix(5), 0));
    }

    #[test]
    fn only_lowercase_sha256_hex_makes_a_blob_path() {
        let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert_eq!(
            blob_rel_path(sha).ok().as_deref(),
            Some("blobs/2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        for bad in [
            "",
            "../../etc/passwd",
            &sha.to_uppercase(),
            &sha[1..],
            &format!("{}/", &sha[1..]),
            &format!("{sha}0"),
        ] {
            assert!(
                matches!(blob_rel_path(bad), Err(BlobError::NotFound)),
                "{bad}"
            );
        }
    }

    #[test]
    fn blob_paths_parse_back_to_their_sha256() {
        let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let rel = format!("blobs/2c/f2/{sha}");
        assert_eq!(sha256_from_rel_path(&rel), Some(sha));
        assert_eq!(sha256_from_rel_path(&format!("blobs/aa/f2/{sha}")), None);
        assert_eq!(sha256_from_rel_path(&format!("tmp/2c/f2/{sha}")), None);
        assert_eq!(sha256_from_rel_path("blobs/2c/f2/readme"), None);
    }
}
