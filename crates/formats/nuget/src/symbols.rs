//! Symbol packages (`.snupkg`) and the portable PDBs in them: what the symbol server needs
//! of each PDB, read once at push (pure: readers and writers in, no I/O of its own).
//!
//! - A `.snupkg` is a package like a `.nupkg` (a zip with one `.nuspec`, read by
//!   [`crate::package::read`]) that holds `.pdb` files
//!   (<https://learn.microsoft.com/en-us/nuget/create-packages/symbol-packages-snupkg>).
//!   At most [`MAX_PDBS`] of them, each at most [`MAX_PDB_SIZE`], copied out one after the
//!   other through core's bounded zip reader into the one writer the caller gives (a
//!   temporary file), never into memory.
//! - A portable PDB
//!   (<https://github.com/dotnet/runtime/blob/main/docs/design/specs/PortablePdb-Metadata.md>)
//!   is an ECMA-335 metadata root (`BSJB`, version string, stream headers) whose `#Pdb`
//!   stream starts with the 20-byte PDB id: a GUID and a 4-byte stamp.
//! - Its symbol server key (SSQP, `Portable-Pdb-Signature` in
//!   <https://github.com/dotnet/symstore/blob/main/docs/specs/SSQP_Key_Conventions.md>):
//!   `<file name>/<guid>FFFFFFFF/<file name>`, the GUID as 32 hex digits with its three
//!   integers big-endian ([`PdbId::signature`]).
//! - Its checksum (the PDB Checksum debug directory entry of
//!   <https://github.com/dotnet/runtime/blob/main/docs/design/specs/PE-COFF.md>): the
//!   SHA-256 of the file with the 20 bytes of the PDB id zeroed. Debuggers send it as
//!   `SymbolChecksum: SHA256:<hex>`; the symbol server answers only a matching request.
//!
//! Windows PDBs (`Microsoft C/C++ MSF 7.00`) have no such id or checksum and are refused:
//! only portable PDBs are served, as on nuget.org and GitLab.

use std::io::{self, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use packyard_core::archive::{printable_path, ArchiveLimits, ZipReader};

use crate::package::{self, Nupkg};

/// Most `.pdb` files one symbol package may hold.
pub const MAX_PDBS: usize = 1000;
/// Largest `.pdb` file accepted, in bytes (256 MiB).
pub const MAX_PDB_SIZE: u64 = 256 * 1024 * 1024;
/// Bytes of a PDB id: a GUID (16) and a stamp (4).
pub const PDB_ID_LEN: usize = 20;

/// The bounds a symbol package is read under: the `.pdb` files are copied out, not held,
/// so the total may pass core's default (what a 500 MiB upload of PDBs unpacks to).
const LIMITS: ArchiveLimits = ArchiveLimits {
    max_unpacked: 2 * 1024 * 1024 * 1024,
    max_entries: 100_000,
    ..ArchiveLimits::DEFAULT
};

/// Most streams a metadata root may declare (a portable PDB has six).
const MAX_STREAMS: usize = 64;
/// Longest version string of a metadata root, with its padding (the spec's 255 and a NUL).
const MAX_VERSION_LEN: usize = 256;
/// Longest stream name, with its NUL and padding (the spec's limit).
const MAX_STREAM_NAME: usize = 32;
/// Bytes of a metadata root within the bounds above, at most: the prefix of a PDB read
/// before its `#Pdb` stream is known.
const MAX_ROOT: usize = 16 + MAX_VERSION_LEN + 4 + MAX_STREAMS * (8 + MAX_STREAM_NAME);

const BSJB: &[u8; 4] = b"BSJB";
const MSF_MAGIC: &[u8] = b"Microsoft C/C++ MSF 7.00";

/// Why a symbol package or one of its PDBs is refused: a sentence the client prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSymbols(pub String);

/// Why [`read`] has no answer: the package's fault, or the caller's writer's.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Invalid(#[from] InvalidSymbols),
    #[error("writing a symbol file out: {0}")]
    Io(#[from] io::Error),
}

/// The 20-byte PDB id of a portable PDB: a GUID as stored (its three integers
/// little-endian) and a 4-byte stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdbId(pub [u8; PDB_ID_LEN]);

impl PdbId {
    /// The SSQP signature: the GUID as 32 lower-case hex digits (a 4-byte and two 2-byte
    /// integers printed big-endian, then 8 bytes in order) followed by `FFFFFFFF`, the age
    /// every portable PDB has: `497b72f6390a44fc878e5a2d63b6cc4bFFFFFFFF`.
    pub fn signature(&self) -> String {
        let b = &self.0;
        let data1 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let data2 = u16::from_le_bytes([b[4], b[5]]);
        let data3 = u16::from_le_bytes([b[6], b[7]]);
        format!(
            "{data1:08x}{data2:04x}{data3:04x}{}FFFFFFFF",
            hex::encode(&b[8..16])
        )
    }
}

/// What a portable PDB is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdbDigest {
    pub id: PdbId,
    /// SHA-256 of the file with the PDB id zeroed, 64 lower-case hex digits.
    pub checksum: String,
    pub size: u64,
}

/// Where the PDB id is (the start of the `#Pdb` stream) and where the last stream ends,
/// from the metadata root at the start of `head` (the first bytes of the file, at most
/// [`MAX_ROOT`]; all of them when the file is shorter).
fn pdb_stream(head: &[u8]) -> Result<(u64, u64), InvalidSymbols> {
    let bad = |why: &str| InvalidSymbols(format!("not a portable PDB: {why}"));
    let truncated = || bad("its metadata header is cut short");
    if head.starts_with(MSF_MAGIC) {
        return Err(InvalidSymbols(
            "a Windows PDB (Microsoft C/C++ MSF 7.00): only portable PDBs are served; build \
             with <DebugType>portable</DebugType>"
                .into(),
        ));
    }
    if head.len() < 4 {
        return Err(truncated());
    }
    if &head[..4] != BSJB {
        return Err(bad("it does not start with the metadata signature BSJB"));
    }
    let u16_at = |at: usize| {
        head.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(truncated)
    };
    let u32_at = |at: usize| {
        head.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(truncated)
    };
    let version_len = u32_at(12)? as usize;
    if version_len > MAX_VERSION_LEN {
        return Err(bad(&format!(
            "its version string is {version_len} bytes long, over {MAX_VERSION_LEN}"
        )));
    }
    let mut at = 16 + version_len;
    let streams = usize::from(u16_at(at + 2)?);
    if streams > MAX_STREAMS {
        return Err(bad(&format!(
            "it declares {streams} metadata streams, over {MAX_STREAMS}"
        )));
    }
    at += 4;
    let mut id_at = None;
    let mut end = 0u64;
    for _ in 0..streams {
        let offset = u64::from(u32_at(at)?);
        let size = u64::from(u32_at(at + 4)?);
        at += 8;
        let rest = head.get(at..).ok_or_else(truncated)?;
        let name_len = rest
            .iter()
            .take(MAX_STREAM_NAME)
            .position(|&b| b == 0)
            .ok_or_else(|| {
                if rest.len() < MAX_STREAM_NAME {
                    truncated()
                } else {
                    bad("a stream name is longer than 31 characters")
                }
            })?;
        if &rest[..name_len] == b"#Pdb" {
            if size < PDB_ID_LEN as u64 {
                return Err(bad(&format!(
                    "its #Pdb stream is {size} bytes, too short for the {PDB_ID_LEN}-byte PDB id"
                )));
            }
            id_at.get_or_insert(offset);
        }
        end = end.max(offset + size);
        // The name, its NUL, padded to 4 bytes.
        at += (name_len + 1).div_ceil(4) * 4;
    }
    match id_at {
        Some(id_at) => Ok((id_at, end)),
        None => Err(bad(
            "its metadata has no #Pdb stream (an assembly's metadata, not its symbols)",
        )),
    }
}

/// Reads a portable PDB as it streams by (in chunks of any size): finds its `#Pdb`
/// stream in the first bytes, takes the PDB id from it and hashes the file with the id
/// zeroed. Memory: the metadata root (under 3 KiB).
#[derive(Default)]
pub struct PdbScanner {
    head: Vec<u8>,
    /// Where the PDB id is and where the last stream ends, once known.
    stream: Option<(u64, u64)>,
    hasher: Sha256,
    /// Bytes hashed so far.
    hashed: u64,
    id: [u8; PDB_ID_LEN],
    /// The first refusal; nothing is hashed after it.
    failed: Option<InvalidSymbols>,
}

impl PdbScanner {
    pub fn new() -> Self {
        PdbScanner::default()
    }

    /// The refusal, as soon as the bytes seen show one.
    pub fn failure(&self) -> Option<&InvalidSymbols> {
        self.failed.as_ref()
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.stream.is_none() {
            let take = (MAX_ROOT - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.head.len() < MAX_ROOT {
                return;
            }
            if !self.locate() {
                return;
            }
        }
        self.hash(bytes);
    }

    /// Parses the metadata root held so far; hashes it. False when refused.
    fn locate(&mut self) -> bool {
        match pdb_stream(&self.head) {
            Ok(stream) => {
                self.stream = Some(stream);
                let head = std::mem::take(&mut self.head);
                self.hash(&head);
                true
            }
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }

    /// Hashes `bytes` (the next ones of the file) with the PDB id's bytes zeroed, keeping
    /// those bytes.
    fn hash(&mut self, bytes: &[u8]) {
        let Some((id_at, _)) = self.stream else {
            return;
        };
        let start = self.hashed;
        let end = start + bytes.len() as u64;
        let id_end = id_at + PDB_ID_LEN as u64;
        let from = start.max(id_at);
        let to = end.min(id_end);
        if from < to {
            // `from - start` and `to - start` are within `bytes`, `from - id_at` within the id.
            let (a, b) = ((from - start) as usize, (to - start) as usize);
            let i = (from - id_at) as usize;
            self.id[i..i + (b - a)].copy_from_slice(&bytes[a..b]);
            self.hasher.update(&bytes[..a]);
            self.hasher.update(&[0u8; PDB_ID_LEN][..b - a]);
            self.hasher.update(&bytes[b..]);
        } else {
            self.hasher.update(bytes);
        }
        self.hashed = end;
    }

    /// The PDB's id and checksum, once every byte was fed.
    pub fn finish(mut self) -> Result<PdbDigest, InvalidSymbols> {
        if self.stream.is_none() && self.failed.is_none() {
            self.locate();
        }
        if let Some(e) = self.failed {
            return Err(e);
        }
        let (_, end) = self.stream.unwrap_or_default();
        if end > self.hashed {
            return Err(InvalidSymbols(format!(
                "not a portable PDB: its metadata streams end at byte {end}, past the end of \
                 the {}-byte file",
                self.hashed
            )));
        }
        Ok(PdbDigest {
            id: PdbId(self.id),
            checksum: hex::encode(self.hasher.finalize()),
            size: self.hashed,
        })
    }
}

/// A writer that copies into `out` and scans what passes; it stops with an error as soon
/// as the scanner refuses the bytes.
struct Tee<'a, W> {
    out: &'a mut W,
    scanner: &'a mut PdbScanner,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.scanner.update(buf);
        if self.scanner.failure().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a portable PDB",
            ));
        }
        self.out.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The digest of a whole portable PDB held in memory (tests, tools).
pub fn digest(pdb: &[u8]) -> Result<PdbDigest, InvalidSymbols> {
    let mut scanner = PdbScanner::new();
    scanner.update(pdb);
    scanner.finish()
}

/// One PDB of a symbol package, checked and copied out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolFile {
    /// Its path in the package, with `/` between folders (`lib/net8.0/Foo.pdb`).
    pub path: String,
    /// Its file name (`Foo.pdb`): the first and last part of its SSQP key.
    pub file_name: String,
    /// [`PdbId::signature`].
    pub signature: String,
    /// SHA-256 of the file with the PDB id zeroed, lower-case hex.
    pub checksum: String,
    pub size: u64,
    /// Where its bytes start in the writer [`read`] copied them into.
    pub offset: u64,
}

/// A symbol package's manifest and PDBs.
#[derive(Debug)]
pub struct SymbolPackage {
    pub package: Nupkg,
    pub files: Vec<SymbolFile>,
}

/// Reads a `.snupkg`: its `.nuspec` and entry paths through [`package::read`], then every
/// `.pdb` in it through [`read_pdbs`].
pub fn read<R: Read + Seek, W: Write>(
    mut reader: R,
    out: &mut W,
) -> Result<SymbolPackage, ReadError> {
    let package = package::read(&mut reader).map_err(|e| InvalidSymbols(e.0))?;
    reader.seek(SeekFrom::Start(0))?;
    let files = read_pdbs(reader, out)?;
    Ok(SymbolPackage { package, files })
}

/// Every `.pdb` entry of the zip `reader` (at least one, at most [`MAX_PDBS`], none larger
/// than [`MAX_PDB_SIZE`], no two at one path), copied one after the other into `out` (at
/// [`SymbolFile::offset`] from where `out` was) while its id and checksum are computed. Any
/// PDB that is not a portable PDB refuses the package; what was written is then garbage.
pub fn read_pdbs<R: Read + Seek, W: Write>(
    reader: R,
    out: &mut W,
) -> Result<Vec<SymbolFile>, ReadError> {
    let invalid = |why: String| ReadError::Invalid(InvalidSymbols(why));
    let mut zip = ZipReader::open(reader, &LIMITS)
        .map_err(|e| invalid(format!("the symbol package is not a valid zip: {e}")))?;
    let members = zip
        .find(is_pdb, MAX_PDBS + 1)
        .map_err(|e| invalid(format!("the symbol package could not be read: {e}")))?;
    if members.len() > MAX_PDBS {
        return Err(invalid(format!(
            "the symbol package holds more than {MAX_PDBS} .pdb files"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    let mut files = Vec::new();
    let mut offset = 0u64;
    for member in members.iter().filter(|m| m.is_file()) {
        let shown = printable_path(member.name_bytes());
        let path = std::str::from_utf8(member.name_bytes())
            .map_err(|_| invalid(format!("the symbol file name `{shown}` is not UTF-8")))?
            .replace('\\', "/");
        let file_name = path.rsplit('/').next().unwrap_or_default().to_owned();
        if file_name.len() <= ".pdb".len() || file_name.chars().any(char::is_control) {
            return Err(invalid(format!(
                "`{shown}` is not a usable symbol file name"
            )));
        }
        if !seen.insert(path.to_lowercase()) {
            return Err(invalid(format!("the symbol package holds `{shown}` twice")));
        }
        let mut scanner = PdbScanner::new();
        let copied = zip.copy_to(
            member,
            MAX_PDB_SIZE,
            &mut Tee {
                out: &mut *out,
                scanner: &mut scanner,
            },
        );
        if let Some(e) = scanner.failure() {
            return Err(invalid(format!("`{shown}` is {e}")));
        }
        copied?.map_err(|e| invalid(format!("the symbol package could not be read: {e}")))?;
        let digest = scanner
            .finish()
            .map_err(|e| invalid(format!("`{shown}` is {e}")))?;
        files.push(SymbolFile {
            path,
            file_name,
            signature: digest.id.signature(),
            checksum: digest.checksum,
            size: digest.size,
            offset,
        });
        offset += digest.size;
    }
    if files.is_empty() {
        return Err(invalid("the symbol package holds no .pdb file".into()));
    }
    Ok(files)
}

fn is_pdb(name: &[u8]) -> bool {
    name.len() > 4 && name[name.len() - 4..].eq_ignore_ascii_case(b".pdb")
}

/// The SHA-256 checksums a `SymbolChecksum` header names: `SHA256:<64 hex>` values
/// separated by `;`, lower-cased; any other algorithm or shape is ignored.
pub fn requested_checksums(header: &str) -> Vec<String> {
    header
        .split(';')
        .filter_map(|v| {
            let v = v.trim();
            let (algorithm, hex) = v.split_once(':')?;
            let hex = hex.trim();
            (algorithm.trim().eq_ignore_ascii_case("SHA256")
                && hex.len() == 64
                && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| hex.to_ascii_lowercase())
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const GUID: [u8; 16] = [
        0xF6, 0x72, 0x7B, 0x49, 0x0A, 0x39, 0xFC, 0x44, 0x87, 0x8E, 0x5A, 0x2D, 0x63, 0xB6, 0xCC,
        0x4B,
    ];
    const STAMP: [u8; 4] = [1, 2, 3, 4];

    fn id() -> [u8; 20] {
        let mut id = [0u8; 20];
        id[..16].copy_from_slice(&GUID);
        id[16..].copy_from_slice(&STAMP);
        id
    }

    /// A portable PDB as the spec lays it out: the metadata root (`BSJB`, version
    /// "PDB v1.0", the stream headers), then the streams: `#Pdb` (the id, an entry point,
    /// the referenced tables), and a `#Strings` heap. `streams` names them in header order.
    fn pdb_with(streams: &[&str], padding: usize) -> Vec<u8> {
        let version = b"PDB v1.0\0\0\0\0";
        let mut header = Vec::new();
        header.extend_from_slice(BSJB);
        header.extend_from_slice(&1u16.to_le_bytes());
        header.extend_from_slice(&1u16.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&(version.len() as u32).to_le_bytes());
        header.extend_from_slice(version);
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(&(streams.len() as u16).to_le_bytes());
        let names: Vec<Vec<u8>> = streams
            .iter()
            .map(|s| {
                let mut n = s.as_bytes().to_vec();
                n.push(0);
                while !n.len().is_multiple_of(4) {
                    n.push(0);
                }
                n
            })
            .collect();
        let headers_len: usize = names.iter().map(|n| 8 + n.len()).sum();
        let mut offset = header.len() + headers_len + padding;
        let mut data = Vec::new();
        for (s, n) in streams.iter().zip(&names) {
            let body: Vec<u8> = if *s == "#Pdb" {
                let mut b = id().to_vec();
                b.extend_from_slice(&0u32.to_le_bytes()); // entry point
                b.extend_from_slice(&0u64.to_le_bytes()); // referenced tables
                b
            } else {
                b"\0Foo\0bar\0\0\0\0".to_vec()
            };
            header.extend_from_slice(&(offset as u32).to_le_bytes());
            header.extend_from_slice(&(body.len() as u32).to_le_bytes());
            header.extend_from_slice(n);
            offset += body.len();
            data.extend(body);
        }
        header.extend(std::iter::repeat_n(0xAB, padding));
        header.extend(data);
        header
    }

    fn pdb() -> Vec<u8> {
        pdb_with(&["#Pdb", "#Strings"], 0)
    }

    /// The checksum as the PE/COFF spec defines it, computed the obvious way.
    fn zeroed_checksum(pdb: &[u8]) -> String {
        let mut copy = pdb.to_vec();
        let at = copy.windows(20).position(|w| w == id()).unwrap();
        copy[at..at + 20].fill(0);
        hex::encode(Sha256::digest(&copy))
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
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

    fn pdbs_of(entries: &[(&str, &[u8])]) -> Result<(Vec<SymbolFile>, Vec<u8>), String> {
        let mut out = Vec::new();
        let files = read_pdbs(Cursor::new(zip_of(entries)), &mut out).map_err(|e| e.to_string())?;
        Ok((files, out))
    }

    fn bytes_of<'a>(f: &SymbolFile, out: &'a [u8]) -> &'a [u8] {
        &out[f.offset as usize..(f.offset + f.size) as usize]
    }

    #[test]
    fn the_signature_is_the_guid_in_ssqp_order_then_ffffffff() {
        // The example of SSQP_Key_Conventions.md: { 0x497B72F6, 0x390A, 0x44FC, { 0x87,
        // 0x8E, 0x5A, 0x2D, 0x63, 0xB6, 0xCC, 0x4B } }, stored little-endian in the id.
        assert_eq!(
            PdbId(id()).signature(),
            "497b72f6390a44fc878e5a2d63b6cc4bFFFFFFFF"
        );
    }

    #[test]
    fn a_portable_pdb_gives_its_id_and_the_checksum_with_the_id_zeroed() {
        let pdb = pdb();
        let d = digest(&pdb).unwrap();
        assert_eq!(d.id, PdbId(id()));
        assert_eq!(d.size, pdb.len() as u64);
        assert_eq!(d.checksum, zeroed_checksum(&pdb));
        assert_ne!(d.checksum, hex::encode(Sha256::digest(&pdb)));
    }

    #[test]
    fn the_pdb_stream_is_found_after_other_streams_and_past_the_first_bytes() {
        // #Pdb second, and its id 5000 bytes in: beyond the root prefix the scanner holds.
        let pdb = pdb_with(&["#Strings", "#Pdb"], 5000);
        let d = digest(&pdb).unwrap();
        assert_eq!(d.id, PdbId(id()));
        assert_eq!(d.checksum, zeroed_checksum(&pdb));
    }

    #[test]
    fn the_digest_does_not_depend_on_how_the_bytes_are_chunked() {
        let pdb = pdb_with(&["#Strings", "#Pdb"], 3000);
        let whole = digest(&pdb).unwrap();
        for chunk in [1, 3, 7, 19, 20, 21, 1000, 2900] {
            let mut s = PdbScanner::new();
            for c in pdb.chunks(chunk) {
                s.update(c);
            }
            assert_eq!(s.finish().unwrap(), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_windows_pdb_is_refused_as_not_portable() {
        let mut msf = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0".to_vec();
        msf.resize(4096, 0);
        let e = digest(&msf).unwrap_err();
        assert!(e.0.starts_with("a Windows PDB"), "{e}");
        assert!(e.0.contains("only portable PDBs are served"), "{e}");
    }

    #[test]
    fn a_file_without_the_metadata_signature_is_refused() {
        let e = digest(b"MZ\x90\0 this is an executable, not a pdb").unwrap_err();
        assert_eq!(
            e.0,
            "not a portable PDB: it does not start with the metadata signature BSJB"
        );
    }

    #[test]
    fn truncated_pdbs_are_refused_wherever_they_are_cut() {
        let pdb = pdb();
        for len in [0, 3, 10, 20, 30, 40, pdb.len() - 1] {
            let e = digest(&pdb[..len]).unwrap_err();
            assert!(
                e.0.contains("cut short") || e.0.contains("past the end"),
                "cut at {len}: {e}"
            );
        }
    }

    #[test]
    fn metadata_without_a_pdb_stream_is_refused() {
        let e = digest(&pdb_with(&["#~", "#Strings"], 0)).unwrap_err();
        assert_eq!(
            e.0,
            "not a portable PDB: its metadata has no #Pdb stream (an assembly's metadata, not its symbols)"
        );
    }

    #[test]
    fn oversized_metadata_headers_are_refused_by_their_declared_sizes() {
        let mut p = pdb();
        p[12..16].copy_from_slice(&4096u32.to_le_bytes());
        assert!(digest(&p)
            .unwrap_err()
            .0
            .contains("version string is 4096 bytes"));
        let mut p = pdb();
        // The stream count follows the flags after the 12-byte version string.
        p[30..32].copy_from_slice(&65535u16.to_le_bytes());
        assert!(digest(&p).unwrap_err().0.contains("65535 metadata streams"));
        let mut p = pdb();
        // The first stream's name, 40 bytes with no NUL.
        let mut long = p[..40].to_vec();
        long.extend(std::iter::repeat_n(b'x', 40));
        long.extend_from_slice(&p[40..]);
        p = long;
        let e = digest(&p).unwrap_err();
        assert!(e.0.contains("longer than 31 characters"), "{e}");
    }

    #[test]
    fn a_pdb_stream_too_short_for_the_id_is_refused() {
        let mut p = pdb();
        // The first stream header's size field (after its offset).
        p[36..40].copy_from_slice(&8u32.to_le_bytes());
        assert!(digest(&p)
            .unwrap_err()
            .0
            .contains("too short for the 20-byte PDB id"));
    }

    #[test]
    fn every_pdb_of_a_symbol_package_is_copied_out_with_its_key_and_checksum() {
        let a = pdb();
        let b = pdb_with(&["#Strings", "#Pdb"], 100);
        let (files, out) = pdbs_of(&[
            ("Demo.nuspec", b"<package/>"),
            ("lib/net8.0/Demo.pdb", &a),
            ("lib/netstandard2.0/Demo.pdb", &b),
            ("lib/net8.0/Demo.dll", b"MZ"),
        ])
        .unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "lib/net8.0/Demo.pdb");
        assert_eq!(files[0].file_name, "Demo.pdb");
        assert_eq!(
            files[0].signature,
            "497b72f6390a44fc878e5a2d63b6cc4bFFFFFFFF"
        );
        assert_eq!(files[0].checksum, zeroed_checksum(&a));
        assert_eq!(files[0].size, a.len() as u64);
        assert_eq!(files[0].offset, 0);
        assert_eq!(bytes_of(&files[0], &out), a);
        assert_eq!(files[1].path, "lib/netstandard2.0/Demo.pdb");
        assert_eq!(files[1].offset, a.len() as u64);
        assert_eq!(bytes_of(&files[1], &out), b);
        assert_eq!(out.len(), a.len() + b.len());
        assert_eq!(files[1].checksum, zeroed_checksum(&b));
    }

    #[test]
    fn a_symbol_package_with_a_windows_pdb_names_it_in_the_refusal() {
        let mut msf = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0".to_vec();
        msf.resize(8192, 0);
        let e =
            pdbs_of(&[("lib/net8.0/Good.pdb", &pdb()), ("lib/net48/Old.pdb", &msf)]).unwrap_err();
        assert!(e.starts_with("`lib/net48/Old.pdb` is a Windows PDB"), "{e}");
    }

    #[test]
    fn a_symbol_package_without_pdbs_or_not_a_zip_is_refused() {
        assert_eq!(
            pdbs_of(&[("Demo.nuspec", b"<package/>")]).unwrap_err(),
            "the symbol package holds no .pdb file"
        );
        let e = read_pdbs(Cursor::new(b"not a zip".to_vec()), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the symbol package is not a valid zip"),
            "{e}"
        );
    }

    #[test]
    fn too_many_pdbs_are_refused_before_any_is_read() {
        let names: Vec<String> = (0..=MAX_PDBS).map(|i| format!("lib/{i}.pdb")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let mut out = Vec::new();
        let e = read_pdbs(Cursor::new(zip_of(&entries)), &mut out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the symbol package holds more than 1000 .pdb files"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn the_same_pdb_path_twice_is_refused() {
        let p = pdb();
        let e = pdbs_of(&[("lib/A.pdb", &p), ("LIB/a.PDB", &p)]).unwrap_err();
        assert_eq!(e, "the symbol package holds `LIB/a.PDB` twice");
    }

    #[test]
    fn a_snupkg_gives_its_manifest_and_its_pdbs() {
        let nuspec = br#"<?xml version="1.0"?><package><metadata><id>Demo.Lib</id><version>1.2</version><authors>a</authors><description>d</description><packageTypes><packageType name="SymbolsPackage"/></packageTypes></metadata></package>"#;
        let p = pdb();
        let z = zip_of(&[("Demo.Lib.nuspec", nuspec), ("lib/net8.0/Demo.pdb", &p)]);
        let mut out = Vec::new();
        let got = read(Cursor::new(z), &mut out).unwrap();
        assert_eq!(got.package.nuspec.id, "Demo.Lib");
        assert_eq!(got.package.version.normalized(), "1.2.0");
        assert_eq!(got.files.len(), 1);
        assert_eq!(out, p);
        // The package reader's refusals are the symbol package's.
        let z = zip_of(&[("lib/net8.0/Demo.pdb", &p)]);
        let e = read(Cursor::new(z), &mut Vec::new()).unwrap_err();
        assert!(matches!(e, ReadError::Invalid(_)), "{e}");
        assert!(e.to_string().contains(".nuspec"), "{e}");
    }

    proptest::proptest! {
        /// Client bytes never panic the reader: any file, and a valid PDB with any one
        /// byte changed, is refused or read, the same way whatever the chunking.
        #[test]
        fn any_bytes_are_refused_or_read_alike_in_any_chunks(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
            chunk in 1usize..700,
        ) {
            let whole = digest(&bytes);
            let mut s = PdbScanner::new();
            for c in bytes.chunks(chunk) {
                s.update(c);
            }
            proptest::prop_assert_eq!(s.finish(), whole);
        }

        #[test]
        fn a_pdb_with_one_byte_changed_is_refused_or_read_alike_in_any_chunks(
            at in 0usize..120,
            value in proptest::prelude::any::<u8>(),
            chunk in 1usize..50,
        ) {
            let mut p = pdb_with(&["#Strings", "#Pdb"], 16);
            let at = at % p.len();
            p[at] = value;
            let whole = digest(&p);
            let mut s = PdbScanner::new();
            for c in p.chunks(chunk) {
                s.update(c);
            }
            proptest::prop_assert_eq!(s.finish(), whole.clone());
            if let Ok(d) = whole {
                proptest::prop_assert_eq!(d.size, p.len() as u64);
            }
        }
    }

    #[test]
    fn checksums_are_read_from_the_header_as_debuggers_send_them() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        assert_eq!(
            requested_checksums(&format!("SHA256:{a};sha256:{b}; MD5:{a} ;SHA256:abc")),
            vec![a.clone(), b.to_ascii_lowercase()]
        );
        assert!(requested_checksums("").is_empty());
        assert!(requested_checksums("test;hello").is_empty());
    }
}
