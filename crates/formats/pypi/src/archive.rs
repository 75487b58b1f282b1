//! Reading the core metadata file out of a distribution, with every read bounded.
//!
//! A wheel is a zip whose `{name}-{version}.dist-info/METADATA` is the core metadata
//! (<https://packaging.python.org/en/latest/specifications/binary-distribution-format/>); an
//! sdist is a `.tar.gz` (or legacy `.zip`) whose `{name}-{version}/PKG-INFO` is
//! (<https://packaging.python.org/en/latest/specifications/source-distribution-format/>).
//! Sizes declared by an archive are not trusted: the decompressed bytes are counted, so a
//! compression bomb stops at the limit. The bounded readers (extension headers, entries,
//! decompressed bytes, member size) are `packyard_core::archive`'s, shared by every format.

use std::io::{Read, Seek};

use packyard_core::archive::{self, ArchiveError, ArchiveLimits, TarMember, Walk, ZipReader};

use crate::metadata::{DistKind, Invalid};

/// Largest core metadata file accepted (descriptions included).
pub const MAX_METADATA_SIZE: u64 = 1024 * 1024;
/// Most decompressed bytes scanned in an sdist to find `PKG-INFO`.
pub const MAX_SDIST_SCAN: u64 = 1024 * 1024 * 1024;
/// Most archive members looked at.
pub const MAX_ENTRIES: usize = 100_000;

/// The bounds a distribution is read under (`packyard_core::archive`).
pub const LIMITS: ArchiveLimits = ArchiveLimits {
    max_entries: MAX_ENTRIES,
    max_unpacked: MAX_SDIST_SCAN,
    ..ArchiveLimits::DEFAULT
};

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

/// The core metadata bytes of a distribution of `kind`.
pub fn core_metadata<R: Read + Seek>(reader: R, kind: DistKind) -> Result<Vec<u8>, Invalid> {
    match kind {
        DistKind::Wheel => from_zip(reader, is_wheel_metadata, ".dist-info/METADATA file"),
        DistKind::SdistZip => from_zip(reader, is_sdist_pkg_info, "top-level PKG-INFO file"),
        DistKind::SdistTarGz => from_tar_gz(reader),
    }
}

/// `{something}.dist-info/METADATA` at the top level of a wheel.
fn is_wheel_metadata(path: &[u8]) -> bool {
    match path.strip_suffix(b"/METADATA") {
        Some(dir) => dir.ends_with(b".dist-info") && !dir.contains(&b'/'),
        None => false,
    }
}

/// `{something}/PKG-INFO`, one level down, in an sdist.
fn is_sdist_pkg_info(path: &[u8]) -> bool {
    let path = path.strip_prefix(b"./").unwrap_or(path);
    match path.strip_suffix(b"/PKG-INFO") {
        Some(dir) => !dir.is_empty() && !dir.contains(&b'/'),
        None => false,
    }
}

/// What the uploader reads for a refusal of the bounded reader; `format` names the archive.
fn archive_error(e: ArchiveError, format: &str) -> Invalid {
    match e {
        ArchiveError::Malformed(_) => invalid(format!("the file is not a valid {format} archive")),
        ArchiveError::MemberTooLarge { .. } | ArchiveError::SizeMismatch { .. } => invalid(
            format!("the core metadata file is larger than {MAX_METADATA_SIZE} bytes"),
        ),
        other => invalid(other.to_string()),
    }
}

fn from_zip<R: Read + Seek>(
    reader: R,
    wanted: fn(&[u8]) -> bool,
    what: &str,
) -> Result<Vec<u8>, Invalid> {
    let mut zip = ZipReader::open(reader, &LIMITS).map_err(|e| archive_error(e, "zip"))?;
    let found = zip.find(wanted, 2).map_err(|e| archive_error(e, "zip"))?;
    let entry = match found.as_slice() {
        [one] => one,
        [] => return Err(invalid(format!("the archive has no {what}"))),
        _ => return Err(invalid(format!("the archive has more than one {what}"))),
    };
    zip.read_all(entry, MAX_METADATA_SIZE).map_err(|e| match e {
        ArchiveError::Malformed(_) => invalid("the core metadata file could not be decompressed"),
        other => archive_error(other, "zip"),
    })
}

fn from_tar_gz<R: Read>(reader: R) -> Result<Vec<u8>, Invalid> {
    let mut found = None;
    archive::walk_tar_gz(reader, &LIMITS, |entry: &mut TarMember<'_>| {
        if entry.kind().is_file() && is_sdist_pkg_info(entry.path_bytes()) {
            found = Some(entry.read_all(MAX_METADATA_SIZE)?);
            return Ok(Walk::Stop);
        }
        Ok(Walk::Continue)
    })
    .map_err(|e| match e {
        ArchiveError::TooManyEntries { limit } => invalid(format!(
            "the archive has more than {limit} entries before PKG-INFO"
        )),
        other => archive_error(other, ".tar.gz"),
    })?;
    found.ok_or_else(|| invalid("the archive has no top-level PKG-INFO file"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    pub(crate) fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in entries {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    fn tar_gz_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    const META: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";

    #[test]
    fn wheel_metadata_is_found() {
        let wheel = zip_with(&[
            ("demo/__init__.py", b""),
            ("demo-1.0.dist-info/METADATA", META),
            ("demo-1.0.dist-info/RECORD", b""),
        ]);
        let got = core_metadata(Cursor::new(wheel), DistKind::Wheel).unwrap();
        assert_eq!(got, META);
    }

    #[test]
    fn nested_or_missing_metadata_is_refused() {
        let wheel = zip_with(&[("x/demo-1.0.dist-info/METADATA", META)]);
        let err = core_metadata(Cursor::new(wheel), DistKind::Wheel).unwrap_err();
        assert!(err.0.contains("has no .dist-info/METADATA"), "{err}");
        let two = zip_with(&[
            ("a-1.0.dist-info/METADATA", META),
            ("b-1.0.dist-info/METADATA", META),
        ]);
        let err = core_metadata(Cursor::new(two), DistKind::Wheel).unwrap_err();
        assert!(err.0.contains("more than one"), "{err}");
    }

    #[test]
    fn not_a_zip_is_refused() {
        let err = core_metadata(Cursor::new(b"hello".to_vec()), DistKind::Wheel).unwrap_err();
        assert_eq!(err.0, "the file is not a valid zip archive");
        let err = core_metadata(Cursor::new(b"hello".to_vec()), DistKind::SdistTarGz).unwrap_err();
        assert!(err.0.contains("not a valid .tar.gz"), "{err}");
    }

    #[test]
    fn a_compression_bomb_stops_at_the_limit() {
        // 64 MiB of zeros deflate to ~64 KiB.
        let zeros = vec![0u8; 64 * 1024 * 1024];
        let wheel = zip_with(&[("demo-1.0.dist-info/METADATA", &zeros)]);
        assert!(wheel.len() < 1024 * 1024);
        let err = core_metadata(Cursor::new(wheel), DistKind::Wheel).unwrap_err();
        assert!(err.0.contains("larger than"), "{err}");
        let sdist = tar_gz_with(&[("demo-1.0/PKG-INFO", &zeros)]);
        let err = core_metadata(Cursor::new(sdist), DistKind::SdistTarGz).unwrap_err();
        assert!(err.0.contains("larger than"), "{err}");
    }

    #[test]
    fn sdist_pkg_info_is_found() {
        let sdist = tar_gz_with(&[
            ("demo-1.0/setup.py", b"print()"),
            ("demo-1.0/src/demo/PKG-INFO", b"nested, ignored"),
            ("demo-1.0/PKG-INFO", META),
        ]);
        let got = core_metadata(Cursor::new(sdist), DistKind::SdistTarGz).unwrap();
        assert_eq!(got, META);
        let zipped = zip_with(&[("demo-1.0/PKG-INFO", META)]);
        let got = core_metadata(Cursor::new(zipped), DistKind::SdistZip).unwrap();
        assert_eq!(got, META);
    }
}
