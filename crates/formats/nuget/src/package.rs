//! Reading a `.nupkg` (or `.snupkg`): a zip with one `.nuspec` at its root
//! (<https://learn.microsoft.com/en-us/nuget/reference/nuspec>, "the package's manifest").
//!
//! Bounded by `packyard_core::archive` (entries, decompressed bytes, member size); an entry
//! whose path climbs out of the package (`..`, absolute, a drive) refuses the package.
//!
//! Every central-directory record is looked at once, in constant memory: clients extract
//! packages (NuGet.Client un-escapes `%XX` in entry names before it writes files), so a
//! name that is unsafe as written or once un-escaped refuses the package whatever else it
//! holds. Only the manifest is decompressed.

use std::io::{Read, Seek};

use packyard_core::archive::{printable_path, ArchiveError, ArchiveLimits, Size, ZipReader};

use crate::nuspec::{self, Nuspec, MAX_NUSPEC};
use crate::version::{self, NugetVersion};

/// Most entries a package may hold.
pub const MAX_ENTRIES: usize = 100_000;
/// Most decompressed bytes read from one package.
pub const MAX_UNPACKED: u64 = 1024 * 1024 * 1024;

/// The bounds a package is read under (`packyard_core::archive`).
pub const LIMITS: ArchiveLimits = ArchiveLimits {
    max_entries: MAX_ENTRIES,
    max_unpacked: MAX_UNPACKED,
    ..ArchiveLimits::DEFAULT
};

/// What a package holds that the registry keeps.
#[derive(Debug, Clone)]
pub struct Nupkg {
    pub nuspec: Nuspec,
    /// The `.nuspec` as stored in the package (served as the flat container's `.nuspec`).
    pub nuspec_xml: String,
    pub version: NugetVersion,
}

/// Why a package is refused: a sentence the client prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPackage(pub String);

fn invalid(msg: impl Into<String>) -> InvalidPackage {
    InvalidPackage(msg.into())
}

/// What the pusher reads for a refusal of the archive itself.
fn archive_error(e: ArchiveError) -> InvalidPackage {
    match e {
        ArchiveError::Malformed(_) => invalid("the package is not a valid zip archive"),
        ArchiveError::TooManyEntries { limit } => {
            invalid(format!("the package has more than {limit} entries"))
        }
        ArchiveError::UnpackedTooLarge { limit } => {
            invalid(format!("the package unpacks to more than {}", Size(limit)))
        }
        other => invalid(format!("the package is refused: {other}")),
    }
}

/// A `.nuspec` at the root of the package (NuGet's `PackageHelper.IsManifest`: the
/// extension, in any case, of an entry without a folder).
fn is_root_nuspec(name: &[u8]) -> bool {
    !name.contains(&b'/')
        && !name.contains(&b'\\')
        && name.len() >= 7
        && name[name.len() - 7..].eq_ignore_ascii_case(b".nuspec")
}

/// `%XX` un-escaped, as NuGet.Client reads entry names; other bytes kept.
fn unescape(name: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        if name[i] == b'%' && i + 2 < name.len() {
            if let (Some(h), Some(l)) = (hex(name[i + 1]), hex(name[i + 2])) {
                // Two hex digits make one byte.
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(name[i]);
        i += 1;
    }
    out
}

/// Why an entry name is unsafe to extract, if it is.
fn unsafe_name(name: &[u8]) -> Option<&'static str> {
    if name.contains(&0) {
        return Some("a NUL byte");
    }
    if name.first().is_some_and(|&b| b == b'/' || b == b'\\') {
        return Some("an absolute path");
    }
    if name.len() >= 2 && name[0].is_ascii_alphabetic() && name[1] == b':' {
        return Some("a drive letter");
    }
    if name.split(|&b| b == b'/' || b == b'\\').any(|s| s == b"..") {
        return Some("a `..` segment");
    }
    None
}

/// The first unsafe name: `(name, why)`.
fn check_name(name: &[u8]) -> Option<(String, &'static str)> {
    let why = unsafe_name(name).or_else(|| {
        if name.contains(&b'%') {
            unsafe_name(&unescape(name))
        } else {
            None
        }
    })?;
    Some((printable_path(name), why))
}

/// Reads the package's `.nuspec` and checks every entry path.
pub fn read<R: Read + Seek>(reader: R) -> Result<Nupkg, InvalidPackage> {
    let mut zip = ZipReader::open(reader, &LIMITS).map_err(archive_error)?;
    let mut unsafe_entry: Option<(String, &'static str)> = None;
    let mut manifests = 0usize;
    // The predicate sees every name (only the first manifest is kept, so `find` never stops
    // early) and notes the first unsafe one and how many manifests there are.
    let found = zip
        .find(
            |name| {
                if unsafe_entry.is_none() {
                    unsafe_entry = check_name(name);
                }
                if is_root_nuspec(name) {
                    manifests += 1;
                    return manifests == 1;
                }
                false
            },
            usize::MAX,
        )
        .map_err(archive_error)?;
    if let Some((name, why)) = unsafe_entry {
        return Err(invalid(format!(
            "the package has an entry `{name}` whose path leaves the package ({why}); \
             entry paths must be relative and stay inside the package"
        )));
    }
    let member = match (found.first(), manifests) {
        (Some(m), 1) => m,
        (_, 0) | (None, _) => {
            return Err(invalid("the package has no .nuspec file at its root"));
        }
        _ => {
            return Err(invalid(format!(
                "the package has more than one .nuspec file at its root ({manifests}); a \
                 package has exactly one"
            )));
        }
    };
    let bytes = zip.read_all(member, MAX_NUSPEC).map_err(|e| match e {
        ArchiveError::MemberTooLarge { .. } | ArchiveError::SizeMismatch { .. } => invalid(
            format!("the package's .nuspec is larger than {}", Size(MAX_NUSPEC)),
        ),
        ArchiveError::Malformed(_) | ArchiveError::Unsupported(_) => invalid(
            "the package's .nuspec could not be decompressed (it is damaged, or its size \
                 or checksum disagrees with its contents)",
        ),
        other => archive_error(other),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        invalid(format!(
            "the package's .nuspec is not UTF-8 (invalid byte at offset {}); Packyard reads \
             manifests encoded as UTF-8, as `nuget pack` and `dotnet pack` write them",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let nuspec_xml = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    let nuspec = nuspec::parse(nuspec_xml.as_bytes()).map_err(|e| invalid(e.0))?;
    let version = version::parse(&nuspec.version).map_err(|e| invalid(e.0))?;
    Ok(Nupkg {
        nuspec,
        nuspec_xml,
        version,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    const MINIMAL: &str = include_str!("../tests/fixtures/minimal.nuspec");

    fn options() -> zip::write::SimpleFileOptions {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
    }

    /// A zip of `entries`, as `nuget pack` lays a package out when given these files.
    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            for (name, data) in entries {
                w.start_file(*name, options()).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    /// What `nuget pack` puts beside the manifest.
    fn package_with(nuspec: (&str, &[u8])) -> Vec<u8> {
        zip_with(&[
            ("_rels/.rels", b"<Relationships/>"),
            nuspec,
            ("lib/net45/Contoso.Minimal.dll", b"MZ\x90\x00"),
            (
                "package/services/metadata/core-properties/abc.psmdcp",
                b"<coreProperties/>",
            ),
            ("[Content_Types].xml", b"<Types/>"),
        ])
    }

    fn err(bytes: Vec<u8>) -> String {
        read(Cursor::new(bytes)).unwrap_err().0
    }

    #[test]
    fn a_good_package_gives_its_manifest_and_version() {
        let p = read(Cursor::new(package_with((
            "Contoso.Minimal.nuspec",
            MINIMAL.as_bytes(),
        ))))
        .unwrap();
        assert_eq!(p.nuspec.id, "Contoso.Minimal");
        assert_eq!(p.version.normalized(), "1.0.0");
        assert_eq!(p.nuspec_xml, MINIMAL);
    }

    #[test]
    fn the_manifest_name_is_matched_in_any_case_and_a_bom_is_dropped() {
        let mut with_bom = "\u{feff}".as_bytes().to_vec();
        with_bom.extend_from_slice(MINIMAL.as_bytes());
        let p = read(Cursor::new(package_with((
            "contoso.minimal.NUSPEC",
            &with_bom,
        ))))
        .unwrap();
        assert_eq!(p.nuspec_xml, MINIMAL);
        assert_eq!(p.nuspec.id, "Contoso.Minimal");
    }

    #[test]
    fn a_package_without_a_root_manifest_is_refused() {
        let e = err(zip_with(&[("lib/net45/a.dll", b"MZ")]));
        assert_eq!(e, "the package has no .nuspec file at its root");
        let e = err(zip_with(&[(
            "content/Contoso.Minimal.nuspec",
            MINIMAL.as_bytes(),
        )]));
        assert_eq!(e, "the package has no .nuspec file at its root");
        let e = err(zip_with(&[]));
        assert_eq!(e, "the package has no .nuspec file at its root");
    }

    #[test]
    fn a_package_with_two_manifests_is_refused() {
        let e = err(zip_with(&[
            ("a.nuspec", MINIMAL.as_bytes()),
            ("lib/x.dll", b"MZ"),
            ("b.nuspec", MINIMAL.as_bytes()),
        ]));
        assert!(
            e.contains("more than one .nuspec file at its root (2)"),
            "{e}"
        );
    }

    #[test]
    fn entries_that_leave_the_package_are_refused() {
        for (name, why) in [
            ("../evil.dll", "a `..` segment"),
            ("lib/../../evil.dll", "a `..` segment"),
            ("lib\\..\\evil.dll", "a `..` segment"),
            ("lib/%2E%2E/%2e%2e/evil.dll", "a `..` segment"),
            ("/etc/passwd", "an absolute path"),
            ("\\windows\\evil.dll", "an absolute path"),
            ("%2Fetc/passwd", "an absolute path"),
            ("C:/evil.dll", "a drive letter"),
            ("c:evil.dll", "a drive letter"),
            ("lib/a\0.dll", "a NUL byte"),
            ("lib/a%00.dll", "a NUL byte"),
        ] {
            // The unsafe entry comes after the manifest: every entry is looked at.
            let e = err(zip_with(&[
                ("Contoso.Minimal.nuspec", MINIMAL.as_bytes()),
                (name, b"x"),
            ]));
            assert!(e.contains(&format!("({why})")), "{name:?}: {e}");
            assert!(e.contains("whose path leaves the package"), "{name:?}: {e}");
        }
        // Dots that are not a whole segment are fine.
        let p = read(Cursor::new(zip_with(&[
            ("Contoso.Minimal.nuspec", MINIMAL.as_bytes()),
            ("lib/..a/b..", b"x"),
            ("lib/%41%zz%", b"x"),
        ])));
        assert!(p.is_ok());
    }

    #[test]
    fn bytes_that_are_not_a_zip_are_refused() {
        for bytes in [
            Vec::new(),
            b"not a zip at all".to_vec(),
            MINIMAL.as_bytes().to_vec(),
        ] {
            assert_eq!(err(bytes), "the package is not a valid zip archive");
        }
    }

    #[test]
    fn a_truncated_zip_is_refused() {
        let good = package_with(("Contoso.Minimal.nuspec", MINIMAL.as_bytes()));
        for cut in [good.len() - 1, good.len() - 30, good.len() / 2, 10] {
            let e = err(good[..cut].to_vec());
            assert_eq!(e, "the package is not a valid zip archive", "cut at {cut}");
        }
    }

    /// Writes `zeros` zero bytes in chunks (never held whole).
    fn write_zeros(w: &mut impl Write, mut zeros: u64) {
        let chunk = vec![0u8; 64 * 1024];
        while zeros > 0 {
            let n = zeros.min(chunk.len() as u64) as usize;
            w.write_all(&chunk[..n]).unwrap();
            zeros -= n as u64;
        }
    }

    /// A package whose manifest is `size` bytes of zeros after a manifest's opening.
    fn bomb(size: u64) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            w.start_file("bomb.nuspec", options().large_file(size > u32::MAX as u64))
                .unwrap();
            write_zeros(&mut w, size);
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    /// Rewrites the uncompressed size the local header and central directory declare for
    /// every entry.
    fn declare_size(mut zip: Vec<u8>, size: u32) -> Vec<u8> {
        let le = size.to_le_bytes();
        let mut i = 0;
        while i + 4 <= zip.len() {
            match &zip[i..i + 4] {
                [0x50, 0x4b, 0x03, 0x04] => zip[i + 22..i + 26].copy_from_slice(&le),
                [0x50, 0x4b, 0x01, 0x02] => zip[i + 24..i + 28].copy_from_slice(&le),
                _ => {}
            }
            i += 1;
        }
        zip
    }

    #[test]
    fn a_deflate_bomb_manifest_is_refused_unread() {
        let bytes = bomb(50 * 1024 * 1024);
        assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
        assert_eq!(err(bytes), "the package's .nuspec is larger than 1 MiB");
    }

    #[test]
    fn a_manifest_inflating_past_its_declared_size_is_refused() {
        // The reader stops at the declared size (plus one byte), so the bomb never inflates.
        let bytes = declare_size(bomb(50 * 1024 * 1024), 100);
        let e = err(bytes);
        assert!(
            e.starts_with("the package's .nuspec could not be decompressed"),
            "{e}"
        );
    }

    #[test]
    fn an_invalid_manifest_inside_is_refused_with_its_reason() {
        let e = err(package_with((
            "x.nuspec",
            b"<package><metadata><id>x</id></metadata></package>",
        )));
        assert!(e.contains("has no <version>"), "{e}");
        let e = err(package_with(("x.nuspec", b"<!DOCTYPE x><package/>")));
        assert!(e.contains("DTDs and entities are not accepted"), "{e}");
        let e = err(package_with(("x.nuspec", b"<package>\xff</package>")));
        assert!(e.contains("the package's .nuspec is not UTF-8"), "{e}");
    }

    #[test]
    fn a_symbol_package_reads_the_same() {
        let p = read(Cursor::new(zip_with(&[
            ("Contoso.Minimal.nuspec", MINIMAL.as_bytes()),
            ("lib/net45/Contoso.Minimal.pdb", b"BSJB"),
        ])))
        .unwrap();
        assert_eq!(p.nuspec.id, "Contoso.Minimal");
    }

    #[test]
    fn unescape_reads_percent_escapes_only_when_complete() {
        assert_eq!(unescape(b"a%20b"), b"a b");
        assert_eq!(unescape(b"%2e%2E"), b"..");
        assert_eq!(unescape(b"a%2"), b"a%2");
        assert_eq!(unescape(b"a%"), b"a%");
        assert_eq!(unescape(b"%zz%41"), b"%zzA");
    }
}
