//! Module zips: checked as golang.org/x/mod/zip's `CheckZip` checks them (plus no symbolic
//! links), hashed as golang.org/x/mod/sumdb/dirhash's `Hash1` hashes them (the `h1:` lines
//! of go.sum), and made from a directory as `CreateFromDir` makes them (for
//! `packyard admin go-module-zip`).
//!
//! Reading is bounded by [`LIMITS`] through core's `ZipReader`: entries, decompressed bytes
//! (Go's own 500 MiB for the whole module), and the one member read into memory (`go.mod`,
//! at most 16 MiB as in Go). Every other member is streamed into its hash.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use packyard_core::archive::{printable_path, ArchiveError, ArchiveLimits, ZipReader};
use sha2::{Digest, Sha256};

use crate::metadata::{self, GoVersion};

/// Go's limits (golang.org/x/mod/zip): the zip file and its contents.
pub const MAX_ZIP_FILE: u64 = 500 << 20;
/// `go.mod` and `LICENSE` at the module root.
pub const MAX_GO_MOD: u64 = 16 << 20;
pub const MAX_LICENSE: u64 = 16 << 20;

/// The bounds a module zip is read under.
pub const LIMITS: ArchiveLimits = ArchiveLimits {
    max_extension_header: 64 * 1024,
    max_entries: 100_000,
    max_unpacked: MAX_ZIP_FILE,
    max_member: MAX_GO_MOD,
};

/// Why a module zip was refused: the client's fault, text safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipProblem(pub String);

impl fmt::Display for ZipProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ArchiveError> for ZipProblem {
    fn from(e: ArchiveError) -> Self {
        ZipProblem(format!("invalid module zip: {e}"))
    }
}

/// What an accepted module zip gives the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleZip {
    /// The `.mod` to serve: the zip's `go.mod`, or `module <path>` as Go synthesizes it for
    /// a module without one.
    pub go_mod: String,
    pub synthesized_go_mod: bool,
    /// `h1:` hash of the zip's files (go.sum's `<module> <version> h1:...`).
    pub h1: String,
    /// `h1:` hash of the `.mod` (go.sum's `<module> <version>/go.mod h1:...`).
    pub h1_mod: String,
    pub files: usize,
}

/// `dirhash.Hash1` of `(name, sha256)` pairs: sha256 over sorted `"<hex>  <name>\n"` lines.
pub fn hash1(mut files: Vec<(String, [u8; 32])>) -> String {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (name, digest) in &files {
        h.update(format!("{}  {name}\n", hex::encode(digest)));
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

/// The `h1:` of a `.mod` (go.sum's `/go.mod` line).
pub fn hash_go_mod(go_mod: &[u8]) -> String {
    hash1(vec![("go.mod".to_owned(), Sha256::digest(go_mod).into())])
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Go's case-fold collision check (`collisionChecker`): a path and every parent directory,
/// folded; the same folded path twice with another spelling, as file and directory, or as
/// two files, is refused.
#[derive(Default)]
struct Collisions(HashMap<String, (String, bool)>);

impl Collisions {
    fn check(&mut self, p: &str, is_dir: bool) -> Result<(), String> {
        let mut p = p.to_owned();
        let mut is_dir = is_dir;
        loop {
            let folded = metadata::fold(&p);
            match self.0.get(&folded) {
                Some((other, other_dir)) => {
                    if *other != p {
                        return Err(format!(
                            "case-insensitive file name collision: {:?} and {:?}",
                            printable_path(other.as_bytes()),
                            printable_path(p.as_bytes())
                        ));
                    }
                    if *other_dir != is_dir {
                        return Err(format!(
                            "entry {:?} is both a file and a directory",
                            printable_path(p.as_bytes())
                        ));
                    }
                    if !is_dir {
                        return Err(format!(
                            "multiple entries for file {:?}",
                            printable_path(p.as_bytes())
                        ));
                    }
                    // A directory seen before: its parents were checked then.
                    return Ok(());
                }
                None => {
                    self.0.insert(folded, (p.clone(), is_dir));
                }
            }
            match p.rfind('/') {
                Some(i) => {
                    p.truncate(i);
                    is_dir = true;
                }
                None => return Ok(()),
            }
        }
    }
}

/// Checks the module zip of `module` at `version` (both already valid) and hashes it.
pub fn check_zip<R: Read + Seek>(
    reader: R,
    module: &str,
    version: &GoVersion,
) -> Result<ModuleZip, ZipProblem> {
    let mut zip = ZipReader::open(reader, &LIMITS)?;
    let members = zip.find(|_| true, LIMITS.max_entries)?;
    let prefix = format!("{module}@{}/", version.original);
    let bad = |name: &str, why: String| {
        Err(ZipProblem(format!(
            "invalid module zip: {}: {why}",
            printable_path(name.as_bytes())
        )))
    };
    let mut collisions = Collisions::default();
    let mut total: u64 = 0;
    let mut files = 0usize;
    // Per member: its full name, and whether its content is hashed (files) or not (the
    // root and directory entries, hashed as empty, as dirhash.HashZip does).
    let mut names = Vec::with_capacity(members.len());
    let mut is_content = vec![false; members.len()];
    for (i, m) in members.iter().enumerate() {
        let Ok(full) = std::str::from_utf8(m.name_bytes()) else {
            return bad(
                &printable_path(m.name_bytes()),
                "file name is not UTF-8".into(),
            );
        };
        let Some(name) = full.strip_prefix(&prefix) else {
            return bad(full, format!("path does not have prefix {prefix:?}"));
        };
        names.push(full.to_owned());
        if name.is_empty() {
            continue;
        }
        let (name, is_dir) = match name.strip_suffix('/') {
            Some(dir) => (dir, true),
            None => (name, false),
        };
        if is_dir != m.is_dir() {
            return bad(full, "not a regular file or directory".into());
        }
        if name.split('/').any(|e| e == "." || e.is_empty()) || name.starts_with('/') {
            return bad(full, "file path is not clean".into());
        }
        if let Err(why) = metadata::check_file_path(name) {
            return bad(full, why);
        }
        if let Err(why) = collisions.check(name, is_dir) {
            return bad(full, why);
        }
        if is_dir {
            continue;
        }
        if !m.is_file() {
            return bad(
                full,
                "symbolic links and other irregular files are not allowed in a module zip".into(),
            );
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.eq_ignore_ascii_case("go.mod") {
            if base != name {
                return bad(
                    full,
                    "go.mod file not in module root directory (a nested module belongs in its own zip)"
                        .into(),
                );
            }
            if name != "go.mod" {
                return bad(full, "go.mod files must have lowercase names".into());
            }
        }
        let size = m.size();
        total = total.saturating_add(size);
        if total > MAX_ZIP_FILE {
            return Err(ZipProblem(format!(
                "invalid module zip: total uncompressed size of module contents too large (max size is {MAX_ZIP_FILE} bytes)"
            )));
        }
        if name == "go.mod" && size > MAX_GO_MOD {
            return bad(
                full,
                format!("go.mod file too large (max size is {MAX_GO_MOD} bytes)"),
            );
        }
        if name == "LICENSE" && size > MAX_LICENSE {
            return bad(
                full,
                format!("LICENSE file too large (max size is {MAX_LICENSE} bytes)"),
            );
        }
        files += 1;
        is_content[i] = true;
    }
    if names.iter().any(|n| n.contains('\n')) {
        return Err(ZipProblem(
            "invalid module zip: file names with newlines cannot be hashed".into(),
        ));
    }
    // Hash every entry as dirhash.HashZip does (directory entries too, with no content).
    let mut digests = Vec::with_capacity(members.len());
    let mut go_mod = None;
    let root_go_mod = format!("{prefix}go.mod");
    for (i, m) in members.iter().enumerate() {
        let full = &names[i];
        let digest: [u8; 32] = match is_content[i] {
            true if *full == root_go_mod => {
                let bytes = zip.read_all(m, MAX_GO_MOD)?;
                let d = Sha256::digest(&bytes).into();
                go_mod = Some(bytes);
                d
            }
            true => {
                let mut w = HashWriter(Sha256::new());
                zip.copy_to(m, MAX_ZIP_FILE, &mut w)
                    .map_err(|e| ZipProblem(format!("invalid module zip: {e}")))??;
                w.0.finalize().into()
            }
            false => Sha256::digest(b"").into(),
        };
        digests.push((full.clone(), digest));
    }
    let (go_mod, synthesized) = match go_mod {
        Some(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| ZipProblem("invalid module zip: go.mod is not UTF-8 text".into()))?;
            match metadata::go_mod_module(&text) {
                Some(declared) if declared == module => {}
                Some(declared) => {
                    return Err(ZipProblem(format!(
                        "go.mod declares module {:?}, but the zip is uploaded as {module:?}: the module line must equal the path",
                        packyard_core::error::printable(&declared)
                    )))
                }
                None => {
                    return Err(ZipProblem(
                        "go.mod has no module directive".into(),
                    ))
                }
            }
            if version.incompatible {
                return Err(ZipProblem(format!(
                    "version {} is +incompatible, but the module has a go.mod: tag it under the major version suffix (/v{}) instead",
                    version.original,
                    version.major()
                )));
            }
            (text, false)
        }
        None => {
            if !metadata::split_path_version(module)
                .unwrap_or("")
                .is_empty()
            {
                return Err(ZipProblem(format!(
                    "the zip has no {prefix}go.mod: a module with a major version suffix needs one"
                )));
            }
            (format!("module {module}\n"), true)
        }
    };
    Ok(ModuleZip {
        h1: hash1(digests),
        h1_mod: hash_go_mod(go_mod.as_bytes()),
        go_mod,
        synthesized_go_mod: synthesized,
        files,
    })
}

/// `isVendoredPackage`, bug for bug (golang.org/issue/31562: the offset of a `/vendor/`
/// below the root is taken from the start): a file in a vendored package is left out.
fn is_vendored_package(name: &str) -> bool {
    let i = if name.starts_with("vendor/") {
        "vendor/".len()
    } else if name.contains("/vendor/") {
        "/vendor/".len()
    } else {
        return false;
    };
    name.get(i..).is_some_and(|rest| rest.contains('/'))
}

/// What [`create_from_dir`] left out, and why (shown to the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Omitted {
    pub path: String,
    pub why: &'static str,
}

/// The files of a module zip made from a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFiles {
    /// `(name in the zip, file on disk)`, by name: `<module>@<version>/<path>`.
    pub files: Vec<(String, PathBuf)>,
    pub omitted: Vec<Omitted>,
}

/// The files of the module zip of `dir` for `module@version`, as Go's `CreateFromDir`
/// chooses them: `.bzr`/`.git`/`.hg`/`.svn` directories, nested modules (directories holding
/// a `go.mod`), files in vendored packages, `.hg_archival.txt` and irregular files (symbolic
/// links) are left out; the rest is checked as [`check_zip`] checks an upload. The caller
/// writes the zip (a format crate reads zips through core only), then checks it with
/// [`check_zip`].
pub fn module_files(
    dir: &Path,
    module: &str,
    version: &GoVersion,
) -> Result<ModuleFiles, ZipProblem> {
    metadata::check_path(module).map_err(ZipProblem)?;
    metadata::check_path_major(module, version).map_err(ZipProblem)?;
    let io_err = |p: &Path, e: io::Error| ZipProblem(format!("{}: {e}", p.display()));
    let mut omitted = Vec::new();
    let mut files: Vec<(String, PathBuf, u64)> = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = stack.pop() {
        let mut entries = std::fs::read_dir(&path)
            .map_err(|e| io_err(&path, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io_err(&path, e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(ZipProblem(format!(
                    "{}: file name is not UTF-8",
                    entry.path().display()
                )));
            };
            let slash = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            let meta =
                std::fs::symlink_metadata(entry.path()).map_err(|e| io_err(&entry.path(), e))?;
            if is_vendored_package(&slash) {
                omitted.push(Omitted {
                    path: slash,
                    why: "file is in vendor directory",
                });
                continue;
            }
            if meta.is_dir() {
                if matches!(name, ".bzr" | ".git" | ".hg" | ".svn") {
                    omitted.push(Omitted {
                        path: slash,
                        why: "directory is a version control repository",
                    });
                    continue;
                }
                let nested = std::fs::symlink_metadata(entry.path().join("go.mod"))
                    .is_ok_and(|m| !m.is_dir());
                if nested {
                    omitted.push(Omitted {
                        path: slash,
                        why: "directory is in another module",
                    });
                    continue;
                }
                stack.push((entry.path(), slash));
                continue;
            }
            if !meta.is_file() {
                omitted.push(Omitted {
                    path: slash,
                    why: "not a regular file",
                });
                continue;
            }
            if slash == ".hg_archival.txt" {
                omitted.push(Omitted {
                    path: slash,
                    why: "file is inserted by 'hg archive' and is always omitted",
                });
                continue;
            }
            files.push((slash, entry.path(), meta.len()));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut collisions = Collisions::default();
    let mut total = 0u64;
    for (slash, _, size) in &files {
        metadata::check_file_path(slash).map_err(ZipProblem)?;
        if slash.eq_ignore_ascii_case("go.mod") && slash != "go.mod" {
            return Err(ZipProblem(format!(
                "{slash}: go.mod files must have lowercase names"
            )));
        }
        collisions.check(slash, false).map_err(ZipProblem)?;
        total = total.saturating_add(*size);
        if total > MAX_ZIP_FILE {
            return Err(ZipProblem(format!(
                "module source tree too large (max size is {MAX_ZIP_FILE} bytes)"
            )));
        }
        if (slash == "go.mod" && *size > MAX_GO_MOD) || (slash == "LICENSE" && *size > MAX_LICENSE)
        {
            return Err(ZipProblem(format!(
                "{slash} too large (max size is {MAX_GO_MOD} bytes)"
            )));
        }
    }
    if let Some((_, path, _)) = files.iter().find(|(s, _, _)| s == "go.mod") {
        let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
        match metadata::go_mod_module(&text) {
            Some(declared) if declared == module => {}
            other => {
                return Err(ZipProblem(format!(
                    "{}: declares module {:?}, not {module:?}",
                    path.display(),
                    other.unwrap_or_default()
                )))
            }
        }
    }
    let prefix = format!("{module}@{}/", version.original);
    Ok(ModuleFiles {
        files: files
            .into_iter()
            .map(|(slash, path, _)| (format!("{prefix}{slash}"), path))
            .collect(),
        omitted,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Cursor;

    fn v(s: &str) -> GoVersion {
        GoVersion::parse(s).unwrap()
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        for (name, body) in entries {
            if name.ends_with('/') {
                w.add_directory(*name, o).unwrap();
            } else {
                w.start_file(*name, o).unwrap();
                w.write_all(body).unwrap();
            }
        }
        w.finish().unwrap().into_inner()
    }

    fn check(entries: &[(&str, &[u8])], module: &str, version: &str) -> Result<ModuleZip, String> {
        check_zip(Cursor::new(zip_of(entries)), module, &v(version)).map_err(|e| e.0)
    }

    #[test]
    fn a_go_made_zip_is_accepted_and_hashed_as_go_hashes_it() {
        // The empty module's hash is golang.org/x/mod/zip's own test constant.
        assert_eq!(
            hash1(Vec::new()),
            "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        let m = check(
            &[
                ("example.com/m@v1.0.0/go.mod", b"module example.com/m\n"),
                ("example.com/m@v1.0.0/m.go", b"package m\n"),
            ],
            "example.com/m",
            "v1.0.0",
        )
        .unwrap();
        assert_eq!(m.go_mod, "module example.com/m\n");
        assert_eq!(m.files, 2);
        // Recomputed independently: sha256 of the sorted "<hex>  <name>\n" lines.
        let line =
            |name: &str, body: &[u8]| format!("{}  {name}\n", hex::encode(Sha256::digest(body)));
        let summary = line("example.com/m@v1.0.0/go.mod", b"module example.com/m\n")
            + &line("example.com/m@v1.0.0/m.go", b"package m\n");
        let want = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary))
        );
        assert_eq!(m.h1, want);
        assert_eq!(m.h1_mod, hash_go_mod(b"module example.com/m\n"));
    }

    #[test]
    fn bad_zips_are_refused_with_the_reason() {
        type Case<'a> = (Vec<(&'a str, &'a [u8])>, &'a str, &'a str, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![("other@v1.0.0/a.go", b"x")],
                "example.com/m",
                "v1.0.0",
                "prefix",
            ),
            (
                vec![("example.com/m@v1.0.0/../a.go", b"x")],
                "example.com/m",
                "v1.0.0",
                "double dot",
            ),
            (
                vec![("example.com/m@v1.0.0/go.mod", b"module example.com/other\n")],
                "example.com/m",
                "v1.0.0",
                "module line",
            ),
            (
                vec![
                    ("example.com/m@v1.0.0/a.go", b"x"),
                    ("example.com/m@v1.0.0/A.go", b"x"),
                ],
                "example.com/m",
                "v1.0.0",
                "collision",
            ),
            (
                vec![(
                    "example.com/m@v1.0.0/sub/go.mod",
                    b"module example.com/m/sub\n",
                )],
                "example.com/m",
                "v1.0.0",
                "nested",
            ),
            (
                vec![("example.com/m@v1.0.0/GO.MOD", b"module example.com/m\n")],
                "example.com/m",
                "v1.0.0",
                "lowercase",
            ),
            (
                vec![("example.com/m/v2@v2.0.0/a.go", b"x")],
                "example.com/m/v2",
                "v2.0.0",
                "needs one",
            ),
            (
                vec![(
                    "example.com/m@v2.0.0+incompatible/go.mod",
                    b"module example.com/m\n",
                )],
                "example.com/m",
                "v2.0.0+incompatible",
                "+incompatible",
            ),
            (
                vec![("example.com/m@v1.0.0/a*b.go", b"x")],
                "example.com/m",
                "v1.0.0",
                "invalid char",
            ),
        ];
        for (entries, module, version, why) in cases {
            match check(&entries, module, version) {
                Ok(_) => panic!("{entries:?} accepted"),
                Err(e) => assert!(e.contains(why), "{entries:?}: {e}"),
            }
        }
        assert!(check_zip(
            Cursor::new(b"not a zip".to_vec()),
            "example.com/m",
            &v("v1.0.0")
        )
        .is_err());
    }

    #[test]
    fn a_module_without_go_mod_gets_the_synthesized_one() {
        let m = check(
            &[("example.com/m@v2.0.0+incompatible/m.go", b"package m\n")],
            "example.com/m",
            "v2.0.0+incompatible",
        )
        .unwrap();
        assert!(m.synthesized_go_mod);
        assert_eq!(m.go_mod, "module example.com/m\n");
    }

    #[test]
    fn symlinks_are_refused() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        w.add_symlink("example.com/m@v1.0.0/link", "/etc/passwd", o)
            .unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let e = check_zip(Cursor::new(bytes), "example.com/m", &v("v1.0.0")).unwrap_err();
        assert!(e.0.contains("symbolic links"), "{e}");
    }

    #[test]
    fn directories_are_zipped_as_go_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("go.mod"), "module example.com/m\n").unwrap();
        std::fs::write(d.join("m.go"), "package m\n").unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::write(d.join(".git/HEAD"), "x").unwrap();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/go.mod"), "module example.com/m/sub\n").unwrap();
        std::fs::create_dir_all(d.join("vendor/x")).unwrap();
        std::fs::write(d.join("vendor/modules.txt"), "").unwrap();
        std::fs::write(d.join("vendor/x/x.go"), "").unwrap();
        std::fs::create_dir_all(d.join("pkg")).unwrap();
        std::fs::write(d.join("pkg/p.go"), "package pkg\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("m.go", d.join("link.go")).unwrap();
        let made = module_files(d, "example.com/m", &v("v1.0.0")).unwrap();
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, path) in &made.files {
            w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(&std::fs::read(path).unwrap()).unwrap();
        }
        let out = w.finish().unwrap();
        let paths: Vec<&str> = made.omitted.iter().map(|o| o.path.as_str()).collect();
        assert!(
            paths.contains(&".git") && paths.contains(&"sub") && paths.contains(&"vendor/x/x.go")
        );
        let m = check_zip(Cursor::new(out.into_inner()), "example.com/m", &v("v1.0.0")).unwrap();
        // go.mod, m.go, pkg/p.go, vendor/modules.txt.
        assert_eq!(m.files, 4);
    }
}
