//! What the bounded archive readers allocate on compression bombs, measured as the growth of
//! the process's peak resident set (`VmHWM`, reset through `/proc/self/clear_refs`).
//!
//! The workspace forbids `unsafe_code`, and `forbid` cannot be lifted for one file, so a
//! counting `#[global_allocator]` (an `unsafe impl GlobalAlloc`) is not possible here; the
//! peak RSS of this test binary, which holds exactly one test, measures the same thing for
//! buffers that are written (a reader that buffers an entry writes every byte of it).
#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};

use packyard_core::archive::{walk_tar_gz, TarMember, Walk, ZipReader};
use packyard_core::{ArchiveError, ArchiveLimits};

const MIB: u64 = 1024 * 1024;

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak RSS growth, in bytes, while `f` runs.
fn peak_growth(f: impl FnOnce()) -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = status_kib("VmHWM:")?;
    f();
    let after = status_kib("VmHWM:")?;
    Some(after.saturating_sub(before) * 1024)
}

fn write_zeros(w: &mut impl Write, mut zeros: u64) {
    let chunk = vec![0u8; 64 * 1024];
    while zeros > 0 {
        let n = zeros.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n]).unwrap();
        zeros -= n as u64;
    }
}

/// A gzipped tar whose first entry is an extension header of `kind` declaring and holding
/// `size` zero bytes, then `pkg/package.json`.
fn ext_bomb(kind: tar::EntryType, size: u64) -> Vec<u8> {
    let header = |kind: tar::EntryType, name: &[u8], size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        h
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(header(kind, b"././@LongLink", size).as_bytes())
        .unwrap();
    write_zeros(&mut gz, size.div_ceil(512) * 512);
    gz.write_all(header(tar::EntryType::Regular, b"pkg/package.json", 2).as_bytes())
        .unwrap();
    let mut block = [0u8; 512];
    block[..2].copy_from_slice(b"{}");
    gz.write_all(&block).unwrap();
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}

fn zip_bomb(size: u64) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        w.start_file("demo-1.0.dist-info/METADATA", opts).unwrap();
        write_zeros(&mut w, size);
        w.finish().unwrap();
    }
    buf.into_inner()
}

fn walk(bytes: &[u8]) -> Result<(), ArchiveError> {
    walk_tar_gz(bytes, &ArchiveLimits::DEFAULT, |m: &mut TarMember<'_>| {
        if m.kind().is_file() {
            m.read_all(MIB)?;
        }
        Ok::<_, ArchiveError>(Walk::Continue)
    })
}

#[test]
fn compression_bombs_are_refused_in_a_few_mib() {
    // The probe itself: touching 64 MiB shows as 64 MiB.
    let Some(control) = peak_growth(|| {
        let v = vec![1u8; 64 * MIB as usize];
        assert_eq!(v[v.len() - 1], 1);
    }) else {
        eprintln!("no /proc/self/clear_refs or VmHWM here: nothing measured");
        return;
    };
    assert!(control >= 60 * MIB, "the probe saw only {control} bytes");

    const BOUND: u64 = 4 * MIB;
    for (name, kind) in [
        ("GNU long-name", tar::EntryType::GNULongName),
        ("GNU long-link", tar::EntryType::GNULongLink),
        ("PAX", tar::EntryType::XHeader),
        ("PAX global", tar::EntryType::XGlobalHeader),
    ] {
        let bomb = ext_bomb(kind, 300 * MIB);
        assert!(
            bomb.len() < 2 * MIB as usize,
            "{name}: {} bytes",
            bomb.len()
        );
        let mut result = None;
        let grew = peak_growth(|| result = Some(walk(&bomb))).unwrap();
        let err = result.unwrap().unwrap_err();
        assert!(
            matches!(err, ArchiveError::ExtensionTooLarge { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("300 MiB"), "{err}");
        eprintln!("{name} bomb: peak grew by {grew} bytes");
        assert!(
            grew < BOUND,
            "{name}: the reader's peak grew by {grew} bytes"
        );
    }

    let bomb = zip_bomb(300 * MIB);
    assert!(bomb.len() < 2 * MIB as usize);
    let mut result = None;
    let grew = peak_growth(|| {
        let run = || -> Result<Vec<u8>, ArchiveError> {
            let mut zip = ZipReader::open(Cursor::new(&bomb[..]), &ArchiveLimits::DEFAULT)?;
            let found = zip.find(|n| n.ends_with(b"/METADATA"), 2)?;
            zip.read_all(&found[0], MIB)
        };
        result = Some(run());
    })
    .unwrap();
    let err = result.unwrap().unwrap_err();
    assert!(matches!(err, ArchiveError::MemberTooLarge { .. }), "{err}");
    eprintln!("zip bomb: peak grew by {grew} bytes");
    assert!(grew < BOUND, "zip: the reader's peak grew by {grew} bytes");
}
