//! Bounded readers for the archives clients upload: one tar walker (plain or gzipped) and one
//! zip reader, used by every format that looks inside a package (PyPI sdists and wheels, npm
//! tarballs, `.crate` files, and whatever formats come next).
//!
//! Nothing an archive declares is trusted with memory. The tar walker reads raw headers
//! (`tar::Entries::raw(true)`), so the `tar` crate never buffers a GNU long-name (`L`),
//! long-link (`K`) or PAX (`x`, `g`) extension entry by itself: the walker checks the declared
//! size against [`ArchiveLimits::max_extension_header`] first and applies long names and PAX
//! `path`/`linkpath` itself. Every decompressed byte is counted against
//! [`ArchiveLimits::max_unpacked`], the members (and PAX global headers) against
//! [`ArchiveLimits::max_entries`], and a member read into memory against the caller's bound and
//! [`ArchiveLimits::max_member`] before a byte of it is read. The zip reader walks the central
//! directory one record at a time (`zip::unstable::read::ZipIterable`), so the number of
//! entries is checked before any index of them is built, and a member's decompressed bytes are
//! capped by its declared size, the caller's bound and the archive's total.
//!
//! Formats map [`ArchiveError`] to a 400 in their client's shape; its text says what was
//! wrong ("the archive's GNU long-name extension header of 300 MiB exceeds the 64 KiB limit").

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read, Seek};

/// The bounds an archive is read under. The defaults suit package manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Largest GNU long-name / long-link or PAX extension header, in bytes.
    pub max_extension_header: u64,
    /// Most members (plus PAX global headers) one archive may hold.
    pub max_entries: usize,
    /// Most decompressed bytes read from the whole archive.
    pub max_unpacked: u64,
    /// Largest member read into memory, whatever a caller asks for.
    pub max_member: u64,
}

impl ArchiveLimits {
    /// 64 KiB extension headers, 100,000 entries, 1 GiB unpacked, 4 MiB members.
    pub const DEFAULT: ArchiveLimits = ArchiveLimits {
        max_extension_header: 64 * 1024,
        max_entries: 100_000,
        max_unpacked: 1024 * 1024 * 1024,
        max_member: 4 * 1024 * 1024,
    };
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits::DEFAULT
    }
}

/// Which extension header broke a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionKind {
    GnuLongName,
    GnuLongLink,
    Pax,
    PaxGlobal,
}

impl fmt::Display for ExtensionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExtensionKind::GnuLongName => "GNU long-name",
            ExtensionKind::GnuLongLink => "GNU long-link",
            ExtensionKind::Pax => "PAX",
            ExtensionKind::PaxGlobal => "PAX global",
        })
    }
}

/// Why an archive was refused. Every variant is the client's fault (a 4xx); the text is safe
/// to show (paths are made printable and shortened).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// Not an archive of the expected kind, or a damaged one (the reader's own words).
    #[error("{0}")]
    Malformed(String),
    #[error("the archive's {kind} extension header of {} exceeds the {} limit", Size(*.size), Size(*.limit))]
    ExtensionTooLarge {
        kind: ExtensionKind,
        size: u64,
        limit: u64,
    },
    #[error("the archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("the archive unpacks to more than {}", Size(*.limit))]
    UnpackedTooLarge { limit: u64 },
    #[error("`{path}` in the archive is {}, over the {} limit", Size(*.size), Size(*.limit))]
    MemberTooLarge { path: String, size: u64, limit: u64 },
    #[error(
        "`{path}` in the archive unpacks to more than the {declared} bytes its header declares"
    )]
    SizeMismatch { path: String, declared: u64 },
    /// A valid archive using something no package needs (sparse files, disagreeing sizes).
    #[error("{0}")]
    Unsupported(String),
}

/// A byte count for people: "300 MiB", "64 KiB", "1.5 GiB", "512 bytes".
#[derive(Debug, Clone, Copy)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
        if self.0 < 1024 {
            return write!(f, "{} bytes", self.0);
        }
        let mut unit = 0;
        let mut div = 1024u64;
        while unit + 1 < UNITS.len() && self.0 >= div * 1024 {
            div *= 1024;
            unit += 1;
        }
        if self.0.is_multiple_of(div) {
            write!(f, "{} {}", self.0 / div, UNITS[unit])
        } else {
            // One decimal, rounded down, so "just over the limit" never prints as the limit.
            let tenths = u128::from(self.0) * 10 / u128::from(div);
            write!(f, "{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
        }
    }
}

/// A path from an archive, fit to quote in an error: lossy UTF-8, no control characters, at
/// most 200 characters.
pub fn printable_path(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(200).is_some() {
        out.push('…');
    }
    out
}

// ------------------------------------------------------------------ counting

/// The error a [`Counted`] reader returns past its limit, recognised by [`from_io`].
#[derive(Debug)]
struct OverLimit;

impl fmt::Display for OverLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the archive unpacks to more than the limit")
    }
}

impl std::error::Error for OverLimit {}

/// Passes at most `left` bytes through, then fails if more would follow.
struct Counted<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // One more byte tells an archive of exactly the limit from a longer one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(OverLimit)),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn is_over_limit(e: &io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> =
        e.get_ref().map(|i| i as &(dyn std::error::Error + 'static));
    while let Some(err) = cur {
        if err.is::<OverLimit>() {
            return true;
        }
        cur = err.source();
    }
    false
}

fn from_io(e: io::Error, limits: &ArchiveLimits) -> ArchiveError {
    if is_over_limit(&e) {
        ArchiveError::UnpackedTooLarge {
            limit: limits.max_unpacked,
        }
    } else {
        ArchiveError::Malformed(e.to_string())
    }
}

// ------------------------------------------------------------------ tar

/// What a tar member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// Any other type flag (contiguous files, vendor extensions, ...).
    Other(u8),
}

impl EntryKind {
    fn of(t: tar::EntryType) -> EntryKind {
        match t {
            tar::EntryType::Regular => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => EntryKind::Symlink,
            tar::EntryType::Link => EntryKind::HardLink,
            tar::EntryType::Char => EntryKind::CharDevice,
            tar::EntryType::Block => EntryKind::BlockDevice,
            tar::EntryType::Fifo => EntryKind::Fifo,
            other => EntryKind::Other(other.as_byte()),
        }
    }

    pub fn is_file(self) -> bool {
        self == EntryKind::File
    }

    pub fn is_dir(self) -> bool {
        self == EntryKind::Dir
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryKind::File => f.write_str("file"),
            EntryKind::Dir => f.write_str("folder"),
            EntryKind::Symlink => f.write_str("symbolic link"),
            EntryKind::HardLink => f.write_str("hard link"),
            EntryKind::CharDevice => f.write_str("character device"),
            EntryKind::BlockDevice => f.write_str("block device"),
            EntryKind::Fifo => f.write_str("FIFO"),
            EntryKind::Other(b) if b.is_ascii_graphic() => {
                write!(f, "entry of type '{}'", *b as char)
            }
            EntryKind::Other(b) => write!(f, "entry of type {b}"),
        }
    }
}

/// Whether the walk goes on after a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    Continue,
    /// Stop here: the rest of the archive is not read.
    Stop,
}

/// One member of a tar archive, with GNU long names and PAX paths applied.
pub struct TarMember<'m> {
    reader: &'m mut dyn Read,
    kind: EntryKind,
    size: u64,
    path: Vec<u8>,
    link: Option<Vec<u8>>,
    limits: ArchiveLimits,
}

impl TarMember<'_> {
    /// The path as the archive spells it (no normalisation: callers check what they accept).
    pub fn path_bytes(&self) -> &[u8] {
        &self.path
    }

    /// The path as text, invalid UTF-8 replaced (ASCII `/` and `.` are kept exactly).
    pub fn path_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.path)
    }

    /// The target of a link, if the header has one.
    pub fn link_bytes(&self) -> Option<&[u8]> {
        self.link.as_deref()
    }

    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    /// The member's size as its header declares it (the reader never yields more).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads the whole member into memory. A member declared larger than `max` (or than
    /// [`ArchiveLimits::max_member`]) is refused before a byte of it is read.
    pub fn read_all(&mut self, max: u64) -> Result<Vec<u8>, ArchiveError> {
        let limit = max.min(self.limits.max_member);
        if self.size > limit {
            return Err(ArchiveError::MemberTooLarge {
                path: printable_path(&self.path),
                size: self.size,
                limit,
            });
        }
        let mut out = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0));
        (&mut self.reader)
            .take(self.size)
            .read_to_end(&mut out)
            .map_err(|e| from_io(e, &self.limits))?;
        if (out.len() as u64) < self.size {
            return Err(ArchiveError::Malformed(format!(
                "the archive ends inside `{}`",
                printable_path(&self.path)
            )));
        }
        Ok(out)
    }
}

/// Extension headers read so far, for the next member.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }
}

fn extension_kind(t: tar::EntryType) -> Option<ExtensionKind> {
    if t.is_gnu_longname() {
        Some(ExtensionKind::GnuLongName)
    } else if t.is_gnu_longlink() {
        Some(ExtensionKind::GnuLongLink)
    } else if t.is_pax_local_extensions() {
        Some(ExtensionKind::Pax)
    } else if t.is_pax_global_extensions() {
        Some(ExtensionKind::PaxGlobal)
    } else {
        None
    }
}

/// The first PAX record named `key`, as the `tar` crate reads them (malformed records are
/// skipped).
fn pax_value<'a>(pax: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    tar::PaxExtensions::new(pax)
        .filter_map(Result::ok)
        .find(|r| r.key_bytes() == key)
        .map(|r| r.value_bytes())
}

/// A GNU long name or link: the data, less the one trailing NUL GNU tar writes.
fn strip_nul(mut v: Vec<u8>) -> Vec<u8> {
    if v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// Walks a gzipped tar archive under `limits`, calling `visit` for each member (extension
/// headers are consumed, not visited). When the archive ends without `visit` stopping the
/// walk, the rest of the gzip stream is read too, so a damaged trailer (CRC) is refused.
pub fn walk_tar_gz<R, E, F>(reader: R, limits: &ArchiveLimits, visit: F) -> Result<(), E>
where
    R: Read,
    E: From<ArchiveError>,
    F: FnMut(&mut TarMember<'_>) -> Result<Walk, E>,
{
    walk_tar(flate2::read::GzDecoder::new(reader), limits, visit)
}

/// [`walk_tar_gz`] over an already decompressed (or plain) tar stream.
pub fn walk_tar<R, E, F>(reader: R, limits: &ArchiveLimits, mut visit: F) -> Result<(), E>
where
    R: Read,
    E: From<ArchiveError>,
    F: FnMut(&mut TarMember<'_>) -> Result<Walk, E>,
{
    let io = |e: io::Error| E::from(from_io(e, limits));
    let mut counted = Counted {
        inner: reader,
        left: limits.max_unpacked,
    };
    {
        let mut archive = tar::Archive::new(&mut counted);
        let entries = archive.entries().map_err(io)?.raw(true);
        let mut pending = Pending::default();
        let mut count = 0usize;
        for entry in entries {
            let mut entry = entry.map_err(io)?;
            let header_type = entry.header().entry_type();
            let ext = extension_kind(header_type);
            if ext != Some(ExtensionKind::GnuLongName)
                && ext != Some(ExtensionKind::GnuLongLink)
                && ext != Some(ExtensionKind::Pax)
            {
                count += 1;
                if count > limits.max_entries {
                    return Err(ArchiveError::TooManyEntries {
                        limit: limits.max_entries,
                    }
                    .into());
                }
            }
            if let Some(kind) = ext {
                let size = entry.size();
                if size > limits.max_extension_header {
                    return Err(ArchiveError::ExtensionTooLarge {
                        kind,
                        size,
                        limit: limits.max_extension_header,
                    }
                    .into());
                }
                let slot = match kind {
                    // Global records apply to the archive, not to a member: nothing a package
                    // reader needs. Their data is skipped (and counted) with the entry.
                    ExtensionKind::PaxGlobal => continue,
                    ExtensionKind::GnuLongName => &mut pending.long_name,
                    ExtensionKind::GnuLongLink => &mut pending.long_link,
                    ExtensionKind::Pax => &mut pending.pax,
                };
                if slot.is_some() {
                    return Err(ArchiveError::Malformed(format!(
                        "the archive has two {kind} extension headers for the same entry"
                    ))
                    .into());
                }
                let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                (&mut entry).take(size).read_to_end(&mut data).map_err(io)?;
                if (data.len() as u64) < size {
                    return Err(ArchiveError::Malformed(format!(
                        "the archive ends inside a {kind} extension header"
                    ))
                    .into());
                }
                *slot = Some(data);
                continue;
            }

            let pax = pending.pax.take();
            let path = match pending.long_name.take() {
                Some(long) => strip_nul(long),
                None => match pax.as_deref().and_then(|p| pax_value(p, b"path")) {
                    Some(p) => p.to_vec(),
                    None => entry.header().path_bytes().into_owned(),
                },
            };
            let link = match pending.long_link.take() {
                Some(long) => Some(strip_nul(long)),
                None => match pax.as_deref().and_then(|p| pax_value(p, b"linkpath")) {
                    Some(p) => Some(p.to_vec()),
                    None => entry.header().link_name_bytes().map(Cow::into_owned),
                },
            };
            let size = entry.size();
            if let Some(pax_size) = pax.as_deref().and_then(|p| pax_value(p, b"size")) {
                // Raw entries keep the header's size; a PAX size that says otherwise would make
                // this reader and an unpacking client see different archives.
                let agrees = std::str::from_utf8(pax_size)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    == Some(size);
                if !agrees {
                    return Err(ArchiveError::Unsupported(format!(
                        "the PAX size of `{}` disagrees with its header",
                        printable_path(&path)
                    ))
                    .into());
                }
            }
            if header_type.is_gnu_sparse() {
                return Err(ArchiveError::Unsupported(format!(
                    "`{}` is a GNU sparse file, which packages may not hold",
                    printable_path(&path)
                ))
                .into());
            }
            let mut member = TarMember {
                reader: &mut entry,
                kind: EntryKind::of(header_type),
                size,
                path,
                link,
                limits: *limits,
            };
            if visit(&mut member)? == Walk::Stop {
                return Ok(());
            }
        }
        if !pending.is_empty() {
            return Err(ArchiveError::Malformed(
                "the archive ends with an extension header that describes no entry".into(),
            )
            .into());
        }
    }
    // The rest of the stream (end-of-archive blocks, the gzip trailer), still counted.
    io::copy(&mut counted, &mut io::sink()).map_err(io)?;
    Ok(())
}

// ------------------------------------------------------------------ zip

use zip::read::OwnedZipFileEntry;
use zip::unstable::read::ZipIterable;

/// A zip archive read under [`ArchiveLimits`]: the central directory is walked one record at
/// a time, never indexed whole.
pub struct ZipReader<R> {
    archive: ZipIterable<R>,
    limits: ArchiveLimits,
    unpacked: u64,
}

/// A member found by [`ZipReader::find`].
pub struct ZipMember {
    entry: OwnedZipFileEntry,
}

impl ZipMember {
    pub fn name_bytes(&self) -> &[u8] {
        self.entry.name_raw()
    }

    /// The uncompressed size the central directory declares.
    pub fn size(&self) -> u64 {
        self.entry.size()
    }

    pub fn is_file(&self) -> bool {
        self.entry.is_file()
    }

    pub fn is_dir(&self) -> bool {
        self.entry.is_dir()
    }
}

fn zip_err(e: zip::result::ZipError) -> ArchiveError {
    ArchiveError::Malformed(e.to_string())
}

impl<R: Read + Seek> ZipReader<R> {
    /// Opens a zip archive: reads only its end records, and refuses one that declares more
    /// than [`ArchiveLimits::max_entries`] entries.
    pub fn open(reader: R, limits: &ArchiveLimits) -> Result<Self, ArchiveError> {
        let archive =
            ZipIterable::try_new(reader, zip::read::Config::default()).map_err(zip_err)?;
        if archive.len() > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        Ok(ZipReader {
            archive,
            limits: *limits,
            unpacked: 0,
        })
    }

    /// How many entries the central directory declares.
    pub fn len(&self) -> usize {
        self.archive.len()
    }

    pub fn is_empty(&self) -> bool {
        self.archive.is_empty()
    }

    /// The first `at_most` entries whose raw name satisfies `wanted`, in central-directory
    /// order, in one pass of constant memory.
    pub fn find(
        &mut self,
        mut wanted: impl FnMut(&[u8]) -> bool,
        at_most: usize,
    ) -> Result<Vec<ZipMember>, ArchiveError> {
        let mut found = Vec::new();
        if at_most == 0 {
            return Ok(found);
        }
        for (n, entry) in self.archive.files().map_err(zip_err)?.enumerate() {
            if n >= self.limits.max_entries {
                return Err(ArchiveError::TooManyEntries {
                    limit: self.limits.max_entries,
                });
            }
            let entry = entry.map_err(zip_err)?;
            if wanted(entry.name_raw()) {
                found.push(ZipMember {
                    entry: entry.into(),
                });
                if found.len() >= at_most {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Reads a member into memory. One declared larger than `max` (or than
    /// [`ArchiveLimits::max_member`]) is refused unread; one that decompresses to more than it
    /// declares is refused at the first byte over; every byte counts against
    /// [`ArchiveLimits::max_unpacked`] for the archive.
    pub fn read_all(&mut self, member: &ZipMember, max: u64) -> Result<Vec<u8>, ArchiveError> {
        let path = || printable_path(member.name_bytes());
        let limit = max.min(self.limits.max_member);
        let declared = member.size();
        if declared > limit {
            return Err(ArchiveError::MemberTooLarge {
                path: path(),
                size: declared,
                limit,
            });
        }
        let left = self.limits.max_unpacked.saturating_sub(self.unpacked);
        let reader = self.archive.files().map_err(zip_err)?.reader_mut();
        let file = member
            .entry
            .as_ref()
            .with_reader(reader, zip::ZipReadOptions::new())
            .map_err(zip_err)?;
        let mut out = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        let cap = declared.min(left);
        file.take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| from_io(e, &self.limits))?;
        self.unpacked += out.len() as u64;
        if out.len() as u64 > declared {
            return Err(ArchiveError::SizeMismatch {
                path: path(),
                declared,
            });
        }
        if self.unpacked > self.limits.max_unpacked {
            return Err(ArchiveError::UnpackedTooLarge {
                limit: self.limits.max_unpacked,
            });
        }
        Ok(out)
    }

    /// Streams a member into `out` instead of memory, for members too large to hold (NuGet's
    /// symbol files). The same bounds as [`ZipReader::read_all`] except
    /// [`ArchiveLimits::max_member`], which bounds memory: one declared larger than `max` is
    /// refused unread, one that decompresses to more than it declares is refused at the first
    /// byte over, every byte counts against [`ArchiveLimits::max_unpacked`]. An error of
    /// `out` is an [`io::Error`] (the caller's), not an [`ArchiveError`].
    pub fn copy_to(
        &mut self,
        member: &ZipMember,
        max: u64,
        out: &mut impl io::Write,
    ) -> Result<Result<u64, ArchiveError>, io::Error> {
        let path = || printable_path(member.name_bytes());
        let declared = member.size();
        if declared > max {
            return Ok(Err(ArchiveError::MemberTooLarge {
                path: path(),
                size: declared,
                limit: max,
            }));
        }
        let left = self.limits.max_unpacked.saturating_sub(self.unpacked);
        let reader = match self.archive.files() {
            Ok(files) => files.reader_mut(),
            Err(e) => return Ok(Err(zip_err(e))),
        };
        let mut file = match member
            .entry
            .as_ref()
            .with_reader(reader, zip::ZipReadOptions::new())
        {
            Ok(file) => file.take(declared.min(left) + 1),
            Err(e) => return Ok(Err(zip_err(e))),
        };
        let mut buf = vec![0u8; 64 * 1024];
        let mut copied = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Ok(Err(from_io(e, &self.limits))),
            };
            copied += n as u64;
            self.unpacked += n as u64;
            if copied > declared {
                return Ok(Err(ArchiveError::SizeMismatch {
                    path: path(),
                    declared,
                }));
            }
            if self.unpacked > self.limits.max_unpacked {
                return Ok(Err(ArchiveError::UnpackedTooLarge {
                    limit: self.limits.max_unpacked,
                }));
            }
            out.write_all(&buf[..n])?;
        }
        Ok(Ok(copied))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    const MIB: u64 = 1024 * 1024;

    /// A raw tar header of `kind` declaring `size` bytes, named `name`.
    fn header(kind: tar::EntryType, name: &[u8], size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        let field = &mut h.as_old_mut().name;
        field[..name.len()].copy_from_slice(name);
        h.set_cksum();
        h
    }

    /// Writes `zeros` zero bytes through the encoder in chunks (never held whole).
    fn write_zeros(w: &mut impl Write, mut zeros: u64) {
        let chunk = vec![0u8; 64 * 1024];
        while zeros > 0 {
            let n = zeros.min(chunk.len() as u64) as usize;
            w.write_all(&chunk[..n]).unwrap();
            zeros -= n as u64;
        }
    }

    /// A gzipped tar whose first entry is an extension header of `kind` declaring `size`
    /// bytes of zeros (padded to the block), then a small regular file.
    pub(crate) fn ext_bomb(kind: tar::EntryType, size: u64) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(header(kind, b"././@LongLink", size).as_bytes())
            .unwrap();
        write_zeros(&mut gz, size.div_ceil(512) * 512);
        let data = b"hello";
        gz.write_all(header(tar::EntryType::Regular, b"pkg/a", 5).as_bytes())
            .unwrap();
        let mut block = [0u8; 512];
        block[..data.len()].copy_from_slice(data);
        gz.write_all(&block).unwrap();
        gz.write_all(&[0u8; 1024]).unwrap();
        gz.finish().unwrap()
    }

    fn tar_gz(build: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>)) -> Vec<u8> {
        let mut raw = Vec::new();
        {
            let mut b = tar::Builder::new(&mut raw);
            build(&mut b);
            b.finish().unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        gz.finish().unwrap()
    }

    fn file(b: &mut tar::Builder<&mut Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, data).unwrap();
    }

    /// Every member as (path, kind, content) under `limits`.
    fn members(
        bytes: &[u8],
        limits: &ArchiveLimits,
    ) -> Result<Vec<(String, EntryKind, Vec<u8>)>, ArchiveError> {
        let mut out = Vec::new();
        walk_tar_gz(bytes, limits, |m: &mut TarMember<'_>| {
            let data = if m.kind().is_file() {
                m.read_all(u64::MAX)?
            } else {
                Vec::new()
            };
            out.push((m.path_lossy().into_owned(), m.kind(), data));
            Ok::<_, ArchiveError>(Walk::Continue)
        })?;
        Ok(out)
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(Size(512).to_string(), "512 bytes");
        assert_eq!(Size(64 * 1024).to_string(), "64 KiB");
        assert_eq!(Size(300 * MIB).to_string(), "300 MiB");
        assert_eq!(Size(3 * MIB / 2).to_string(), "1.5 MiB");
        assert_eq!(Size(1024 * MIB).to_string(), "1 GiB");
        assert_eq!(Size(64 * 1024 + 1).to_string(), "64.0 KiB");
    }

    #[test]
    fn a_gnu_long_name_header_of_300_mib_is_refused_before_it_is_read() {
        let bomb = ext_bomb(tar::EntryType::GNULongName, 300 * MIB);
        assert!(bomb.len() < 2 * MIB as usize, "{}", bomb.len());
        let err = members(&bomb, &ArchiveLimits::DEFAULT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the archive's GNU long-name extension header of 300 MiB exceeds the 64 KiB limit"
        );
        let err = members(
            &ext_bomb(tar::EntryType::GNULongLink, 300 * MIB),
            &ArchiveLimits::DEFAULT,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ArchiveError::ExtensionTooLarge {
                    kind: ExtensionKind::GnuLongLink,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn pax_headers_over_the_bound_are_refused() {
        let err = members(
            &ext_bomb(tar::EntryType::XHeader, 300 * MIB),
            &ArchiveLimits::DEFAULT,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the archive's PAX extension header of 300 MiB exceeds the 64 KiB limit"
        );
        let err = members(
            &ext_bomb(tar::EntryType::XGlobalHeader, MIB),
            &ArchiveLimits::DEFAULT,
        )
        .unwrap_err();
        assert!(err
            .to_string()
            .contains("PAX global extension header of 1 MiB"));
        // Just under the bound is fine (it is not a valid name, but it is read).
        let small = ext_bomb(tar::EntryType::XGlobalHeader, 1024);
        let got = members(&small, &ArchiveLimits::DEFAULT).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "pkg/a");
    }

    #[test]
    fn too_many_entries_are_refused() {
        let many = tar_gz(|b| {
            for i in 0..11 {
                file(b, &format!("pkg/f{i}"), b"x");
            }
        });
        let limits = ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::DEFAULT
        };
        let err = members(&many, &limits).unwrap_err();
        assert_eq!(err.to_string(), "the archive has more than 10 entries");
        let ten = ArchiveLimits {
            max_entries: 11,
            ..ArchiveLimits::DEFAULT
        };
        assert_eq!(members(&many, &ten).unwrap().len(), 11);
    }

    #[test]
    fn the_decompressed_total_is_capped() {
        let big = tar_gz(|b| {
            file(b, "pkg/a", &vec![0u8; 256 * 1024]);
            file(b, "pkg/b", b"after");
        });
        let limits = ArchiveLimits {
            max_unpacked: 128 * 1024,
            ..ArchiveLimits::DEFAULT
        };
        // Skipping the big member still decompresses (and counts) it.
        let err = walk_tar_gz(&big[..], &limits, |_m: &mut TarMember<'_>| {
            Ok::<_, ArchiveError>(Walk::Continue)
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "the archive unpacks to more than 128 KiB");
        // An archive of exactly the limit passes.
        let exact = {
            let mut raw = Vec::new();
            {
                let mut b = tar::Builder::new(&mut raw);
                file(&mut b, "pkg/a", b"x");
                b.finish().unwrap();
            }
            let limits = ArchiveLimits {
                max_unpacked: raw.len() as u64,
                ..ArchiveLimits::DEFAULT
            };
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&raw).unwrap();
            (gz.finish().unwrap(), limits)
        };
        assert_eq!(members(&exact.0, &exact.1).unwrap().len(), 1);
    }

    #[test]
    fn a_member_over_the_callers_bound_is_refused_unread() {
        let a = tar_gz(|b| file(b, "pkg/manifest", &vec![b'a'; 10_000]));
        let err = walk_tar_gz(&a[..], &ArchiveLimits::DEFAULT, |m: &mut TarMember<'_>| {
            m.read_all(4096)?;
            Ok::<_, ArchiveError>(Walk::Continue)
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`pkg/manifest` in the archive is 9.7 KiB, over the 4 KiB limit"
        );
    }

    #[test]
    fn long_names_and_pax_paths_still_work() {
        let long = format!("pkg/{}/file.txt", "d".repeat(150));
        let gnu = tar_gz(|b| {
            // The builder writes a GNU long-name entry for paths over 100 bytes.
            file(b, &long, b"long");
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "pkg/link", format!("pkg/{}", "t".repeat(120)))
                .unwrap();
        });
        let got = members(&gnu, &ArchiveLimits::DEFAULT).unwrap();
        assert_eq!(got[0], (long.clone(), EntryKind::File, b"long".to_vec()));
        assert_eq!(got[1].1, EntryKind::Symlink);
        assert_eq!(got.len(), 2);
        let mut link = None;
        walk_tar_gz(
            &gnu[..],
            &ArchiveLimits::DEFAULT,
            |m: &mut TarMember<'_>| {
                if m.kind() == EntryKind::Symlink {
                    link = m.link_bytes().map(<[u8]>::to_vec);
                }
                Ok::<_, ArchiveError>(Walk::Continue)
            },
        )
        .unwrap();
        assert_eq!(link.unwrap(), format!("pkg/{}", "t".repeat(120)).as_bytes());

        // PAX: a global header, then a local one carrying path (as Python's tarfile writes).
        let pax_path = format!("pkg/{}/PKG-INFO", "p".repeat(120));
        let pax = tar_gz(|b| {
            let record = b"22 comment=git archive\n";
            let h = header(tar::EntryType::XGlobalHeader, b"pax_global_header", 22);
            b.append(&h, &record[..]).unwrap();
            b.append_pax_extensions([("path", pax_path.as_bytes())])
                .unwrap();
            file(b, "short-name", b"pax");
        });
        let got = members(&pax, &ArchiveLimits::DEFAULT).unwrap();
        assert_eq!(
            got.len(),
            1,
            "the x header is applied, the local one consumed"
        );
        assert_eq!(got[0], (pax_path, EntryKind::File, b"pax".to_vec()));
    }

    #[test]
    fn a_pax_size_that_disagrees_with_the_header_is_refused() {
        let pax = tar_gz(|b| {
            let record = "12 size=999\n";
            assert_eq!(record.len(), 12);
            let h = header(
                tar::EntryType::XHeader,
                b"PaxHeaders/x",
                record.len() as u64,
            );
            b.append(&h, record.as_bytes()).unwrap();
            file(b, "pkg/a", b"abc");
        });
        let err = members(&pax, &ArchiveLimits::DEFAULT).unwrap_err();
        assert!(err.to_string().contains("disagrees"), "{err}");
    }

    #[test]
    fn broken_archives_are_malformed() {
        assert!(matches!(
            members(b"not gzip", &ArchiveLimits::DEFAULT),
            Err(ArchiveError::Malformed(_))
        ));
        // An extension header with nothing after it.
        let dangling = tar_gz(|b| {
            let h = header(tar::EntryType::GNULongName, b"././@LongLink", 4);
            b.append(&h, &b"abc\0"[..]).unwrap();
        });
        let err = members(&dangling, &ArchiveLimits::DEFAULT).unwrap_err();
        assert!(err.to_string().contains("describes no entry"), "{err}");
        // Two long names for one member.
        let twice = tar_gz(|b| {
            for _ in 0..2 {
                let h = header(tar::EntryType::GNULongName, b"././@LongLink", 4);
                b.append(&h, &b"abc\0"[..]).unwrap();
            }
            file(b, "pkg/a", b"x");
        });
        let err = members(&twice, &ArchiveLimits::DEFAULT).unwrap_err();
        assert!(err.to_string().contains("two GNU long-name"), "{err}");
        // A corrupt gzip trailer is noticed at the end of the walk.
        let mut good = tar_gz(|b| file(b, "pkg/a", b"x"));
        let n = good.len();
        good[n - 6] ^= 0xff;
        assert!(members(&good, &ArchiveLimits::DEFAULT).is_err());
    }

    #[test]
    fn stop_ends_the_walk_early() {
        let a = tar_gz(|b| {
            file(b, "pkg/a", b"1");
            file(b, "pkg/b", b"2");
        });
        let mut seen = Vec::new();
        walk_tar_gz(&a[..], &ArchiveLimits::DEFAULT, |m: &mut TarMember<'_>| {
            seen.push(m.path_lossy().into_owned());
            Ok::<_, ArchiveError>(Walk::Stop)
        })
        .unwrap();
        assert_eq!(seen, ["pkg/a"]);
    }

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

    #[test]
    fn zip_members_are_found_and_read_within_bounds() {
        let z = zip_with(&[
            ("a/METADATA", b"meta"),
            ("b/METADATA", b"other"),
            ("c", b""),
        ]);
        let mut r = ZipReader::open(Cursor::new(z), &ArchiveLimits::DEFAULT).unwrap();
        assert_eq!(r.len(), 3);
        let found = r.find(|n| n.ends_with(b"/METADATA"), 2).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].name_bytes(), b"b/METADATA");
        assert_eq!(r.read_all(&found[0], 1024).unwrap(), b"meta");
        assert_eq!(r.read_all(&found[1], 1024).unwrap(), b"other");
        let err = r.read_all(&found[1], 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`b/METADATA` in the archive is 5 bytes, over the 3 bytes limit"
        );
    }

    #[test]
    fn a_zip_member_is_copied_past_the_memory_bound_and_within_the_archive_bounds() {
        let big = vec![7u8; 5 * MIB as usize];
        let z = zip_with(&[("a.pdb", &big[..]), ("b.pdb", b"0123456789")]);
        let limits = ArchiveLimits {
            max_member: MIB,
            max_unpacked: 5 * MIB + 5,
            ..ArchiveLimits::DEFAULT
        };
        let mut r = ZipReader::open(Cursor::new(z), &limits).unwrap();
        let found = r.find(|_| true, 2).unwrap();
        // Over `max_member` (memory) but within the caller's bound: copied whole.
        let mut out = Vec::new();
        assert_eq!(
            r.copy_to(&found[0], 8 * MIB, &mut out).unwrap(),
            Ok(5 * MIB)
        );
        assert_eq!(out, big);
        // The caller's bound refuses a member unread.
        let err = r
            .copy_to(&found[1], 4, &mut Vec::new())
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`b.pdb` in the archive is 10 bytes, over the 4 bytes limit"
        );
        // The archive's total counts what was copied before.
        let err = r
            .copy_to(&found[1], MIB, &mut Vec::new())
            .unwrap()
            .unwrap_err();
        assert_eq!(err, ArchiveError::UnpackedTooLarge { limit: 5 * MIB + 5 });
    }

    #[test]
    fn a_zip_bomb_member_is_refused_by_its_declared_size() {
        // 300 MiB of zeros deflate to ~300 KiB; written in chunks.
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(true);
            w.start_file("demo-1.0.dist-info/METADATA", opts).unwrap();
            write_zeros(&mut w, 300 * MIB);
            w.finish().unwrap();
        }
        let z = buf.into_inner();
        assert!(z.len() < 2 * MIB as usize);
        let mut r = ZipReader::open(Cursor::new(z), &ArchiveLimits::DEFAULT).unwrap();
        let found = r.find(|_| true, 1).unwrap();
        let err = r.read_all(&found[0], MIB).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`demo-1.0.dist-info/METADATA` in the archive is 300 MiB, over the 1 MiB limit"
        );
    }

    #[test]
    fn a_zip_member_that_unpacks_past_its_declared_size_is_refused() {
        let mut z = zip_with(&[("m", &[b'x'; 100])]);
        // Patch the central directory's uncompressed size (offset 24 of the record) to 10.
        let cd = z.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
        z[cd + 24..cd + 28].copy_from_slice(&10u32.to_le_bytes());
        let mut r = ZipReader::open(Cursor::new(z), &ArchiveLimits::DEFAULT).unwrap();
        let found = r.find(|_| true, 1).unwrap();
        assert_eq!(found[0].size(), 10);
        let err = r.read_all(&found[0], MIB).unwrap_err();
        assert!(
            matches!(
                err,
                ArchiveError::SizeMismatch { .. } | ArchiveError::Malformed(_)
            ),
            "{err}"
        );
    }

    #[test]
    fn a_zip_declaring_too_many_entries_is_refused_when_opened() {
        let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let z = zip_with(&entries);
        let limits = ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::DEFAULT
        };
        let err = ZipReader::open(Cursor::new(z), &limits).err().unwrap();
        assert_eq!(err.to_string(), "the archive has more than 10 entries");
        assert!(matches!(
            ZipReader::open(Cursor::new(b"hello".to_vec()), &limits),
            Err(ArchiveError::Malformed(_))
        ));
    }
}
