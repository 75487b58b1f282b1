//! The Maven 2 repository layout: what a request path names.
//!
//! `<groupId with dots as slashes>/<artifactId>/<version>/<artifactId>-<version>[-<classifier>].<extension>`
//! (<https://maven.apache.org/repository/layout.html>), the artifact-level
//! `<groupId path>/<artifactId>/maven-metadata.xml`, the SNAPSHOT version-level
//! `<groupId path>/<artifactId>/<base>-SNAPSHOT/maven-metadata.xml`, and a checksum file
//! (`.md5`, `.sha1`, `.sha256`, `.sha512`) beside each of them. In a SNAPSHOT version the
//! files carry the build's timestamp and number in place of `SNAPSHOT`
//! (`lib-1.0-20261202.101500-3.jar`).
//!
//! Pure: no I/O, so the parser is fuzzed (`fuzz/fuzz_targets/layout.rs`).

use std::fmt;

/// Longest path accepted, in bytes.
pub const MAX_PATH: usize = 1024;
/// Longest path segment accepted, in bytes.
pub const MAX_SEGMENT: usize = 255;
/// Most path segments accepted.
pub const MAX_SEGMENTS: usize = 64;

/// The metadata file name.
pub const METADATA: &str = "maven-metadata.xml";

/// A checksum file's algorithm, from its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Checksum {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Checksum {
    pub const ALL: [Checksum; 4] = [
        Checksum::Md5,
        Checksum::Sha1,
        Checksum::Sha256,
        Checksum::Sha512,
    ];

    pub fn suffix(self) -> &'static str {
        match self {
            Checksum::Md5 => "md5",
            Checksum::Sha1 => "sha1",
            Checksum::Sha256 => "sha256",
            Checksum::Sha512 => "sha512",
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Checksum::Md5 => 32,
            Checksum::Sha1 => 40,
            Checksum::Sha256 => 64,
            Checksum::Sha512 => 128,
        }
    }

    fn of_suffix(s: &str) -> Option<Checksum> {
        Checksum::ALL.into_iter().find(|c| c.suffix() == s)
    }
}

/// `groupId` and `artifactId`, as the path spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The groupId's segments joined by `/` (`com/example`).
    pub group_path: String,
    pub artifact_id: String,
}

impl Artifact {
    /// The package name: GitLab's, the path of the artifact (`com/example/lib`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.group_path, self.artifact_id)
    }

    /// The name as packages are looked up: lower case, as GitLab compares names.
    pub fn normalized_name(&self) -> String {
        self.name().to_ascii_lowercase()
    }

    /// `com.example`.
    pub fn group_id(&self) -> String {
        self.group_path.replace('/', ".")
    }
}

/// The SNAPSHOT build a file belongs to (`20261202.101500-3`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Build {
    /// `yyyyMMdd.HHmmss`, UTC.
    pub timestamp: String,
    pub number: u32,
}

impl Build {
    /// `20261202.101500-3`.
    pub fn label(&self) -> String {
        format!("{}-{}", self.timestamp, self.number)
    }
}

/// A file of a version, as its name reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFile {
    /// The whole name (without a checksum suffix).
    pub name: String,
    /// `Some` for a timestamped SNAPSHOT file.
    pub build: Option<Build>,
    pub classifier: Option<String>,
    /// Everything after the first dot that follows version and classifier (`jar`,
    /// `tar.gz`, `jar.asc`).
    pub extension: String,
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `g/a/maven-metadata.xml` (also a groupId-level plugin document, which reads the same).
    ArtifactMetadata {
        artifact: Artifact,
        checksum: Option<Checksum>,
    },
    /// `g/a/1.0-SNAPSHOT/maven-metadata.xml`.
    VersionMetadata {
        artifact: Artifact,
        version: String,
        checksum: Option<Checksum>,
    },
    /// `g/a/v/a-v[-c].ext`.
    File {
        artifact: Artifact,
        version: String,
        file: VersionFile,
        checksum: Option<Checksum>,
    },
}

impl Target {
    pub fn artifact(&self) -> &Artifact {
        match self {
            Target::ArtifactMetadata { artifact, .. }
            | Target::VersionMetadata { artifact, .. }
            | Target::File { artifact, .. } => artifact,
        }
    }

    pub fn checksum(&self) -> Option<Checksum> {
        match self {
            Target::ArtifactMetadata { checksum, .. }
            | Target::VersionMetadata { checksum, .. }
            | Target::File { checksum, .. } => *checksum,
        }
    }
}

/// Why a path is not in the layout: the client sees this text (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError(pub String);

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(s: impl Into<String>) -> LayoutError {
    LayoutError(s.into())
}

/// Whether `v` is a SNAPSHOT version (`1.0-SNAPSHOT`, or plain `SNAPSHOT`).
pub fn is_snapshot(v: &str) -> bool {
    v == "SNAPSHOT" || v.ends_with("-SNAPSHOT")
}

/// One path segment: letters, digits and `._-+~`, not starting with a dot (so never `.`
/// or `..`), at most [`MAX_SEGMENT`] bytes.
fn check_segment(s: &str) -> Result<(), LayoutError> {
    if s.is_empty() {
        return Err(err("the path has an empty segment"));
    }
    if s.len() > MAX_SEGMENT {
        return Err(err(format!(
            "a path segment is longer than {MAX_SEGMENT} bytes"
        )));
    }
    if s.starts_with('.') {
        return Err(err("a path segment starts with a dot"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'~'))
    {
        return Err(err(
            "a path segment has a character other than letters, digits and . _ - + ~",
        ));
    }
    Ok(())
}

/// Reads a request path (what follows `.../packages/maven/`).
pub fn parse(path: &str) -> Result<Target, LayoutError> {
    if path.len() > MAX_PATH {
        return Err(err(format!("the path is longer than {MAX_PATH} bytes")));
    }
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() > MAX_SEGMENTS {
        return Err(err(format!(
            "the path has more than {MAX_SEGMENTS} segments"
        )));
    }
    for s in &segments {
        check_segment(s)?;
    }
    let Some((last, dirs)) = segments.split_last() else {
        return Err(err("the path is empty"));
    };
    let (base, checksum) = match last.rsplit_once('.') {
        Some((base, suffix)) => match Checksum::of_suffix(suffix) {
            Some(c) if !base.is_empty() => (base, Some(c)),
            _ => (*last, None),
        },
        None => (*last, None),
    };
    if base == METADATA {
        return match dirs {
            [group @ .., artifact, version] if !group.is_empty() && is_snapshot(version) => {
                Ok(Target::VersionMetadata {
                    artifact: Artifact {
                        group_path: group.join("/"),
                        artifact_id: (*artifact).to_owned(),
                    },
                    version: (*version).to_owned(),
                    checksum,
                })
            }
            [group @ .., artifact] if !group.is_empty() => Ok(Target::ArtifactMetadata {
                artifact: Artifact {
                    group_path: group.join("/"),
                    artifact_id: (*artifact).to_owned(),
                },
                checksum,
            }),
            _ => Err(err(
                "maven-metadata.xml belongs under <groupId>/<artifactId>/ (the groupId has at least one segment)",
            )),
        };
    }
    let [group @ .., artifact_id, version] = dirs else {
        return Err(err(
            "the path is not <groupId>/<artifactId>/<version>/<file>",
        ));
    };
    if group.is_empty() {
        return Err(err(
            "the path is not <groupId>/<artifactId>/<version>/<file>",
        ));
    }
    let file = version_file(artifact_id, version, base)?;
    Ok(Target::File {
        artifact: Artifact {
            group_path: group.join("/"),
            artifact_id: (*artifact_id).to_owned(),
        },
        version: (*version).to_owned(),
        file,
        checksum,
    })
}

/// Reads `a-v[-c].ext` in version `v` of artifact `a`.
pub fn version_file(
    artifact_id: &str,
    version: &str,
    name: &str,
) -> Result<VersionFile, LayoutError> {
    let mismatch = || {
        err(format!(
            "the file name does not match its path: expected {}-{}[-classifier].extension",
            artifact_id, version
        ))
    };
    let rest = name
        .strip_prefix(artifact_id)
        .and_then(|r| r.strip_prefix('-'))
        .ok_or_else(mismatch)?;
    let (build, rest) = match rest.strip_prefix(version) {
        Some(after) => (None, after),
        None if is_snapshot(version) => {
            // `1.0-SNAPSHOT` → `1.0-` then `yyyyMMdd.HHmmss-N`.
            let base = &version[..version.len() - "SNAPSHOT".len()];
            let after_base = rest.strip_prefix(base).ok_or_else(mismatch)?;
            let (build, after) = snapshot_build(after_base).ok_or_else(mismatch)?;
            (Some(build), after)
        }
        None => return Err(mismatch()),
    };
    let (classifier, extension) = if let Some(ext) = rest.strip_prefix('.') {
        (None, ext)
    } else if let Some(c) = rest.strip_prefix('-') {
        let (classifier, ext) = c.split_once('.').ok_or_else(mismatch)?;
        if classifier.is_empty() {
            return Err(mismatch());
        }
        (Some(classifier.to_owned()), ext)
    } else {
        return Err(mismatch());
    };
    if extension.is_empty() || extension.ends_with('.') {
        return Err(err("the file name has no extension"));
    }
    Ok(VersionFile {
        name: name.to_owned(),
        build,
        classifier,
        extension: extension.to_owned(),
    })
}

/// `20261202.101500-3` at the start of `s`, and what follows it.
fn snapshot_build(s: &str) -> Option<(Build, &str)> {
    let b = s.as_bytes();
    if b.len() < 17 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..8) && b[8] == b'.' && digits(9..15) && b[15] == b'-') {
        return None;
    }
    let tail = &s[16..];
    let end = tail
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(tail.len());
    if end == 0 || end > 9 {
        return None;
    }
    let number: u32 = tail[..end].parse().ok()?;
    Some((
        Build {
            timestamp: s[..15].to_owned(),
            number,
        },
        &tail[end..],
    ))
}

/// The name of the file of `build` in SNAPSHOT version `version`, with this classifier and
/// extension: what a non-unique `lib-1.0-SNAPSHOT.jar` request resolves to.
pub fn snapshot_file_name(
    artifact_id: &str,
    version: &str,
    build: &Build,
    classifier: Option<&str>,
    extension: &str,
) -> String {
    let base = &version[..version.len().saturating_sub("SNAPSHOT".len())];
    let classifier = classifier.map(|c| format!("-{c}")).unwrap_or_default();
    format!(
        "{artifact_id}-{base}{}{classifier}.{extension}",
        build.label()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn file(path: &str) -> (Artifact, String, VersionFile, Option<Checksum>) {
        match parse(path).unwrap() {
            Target::File {
                artifact,
                version,
                file,
                checksum,
            } => (artifact, version, file, checksum),
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn release_files_with_classifiers_extensions_and_checksums() {
        let (a, v, f, c) = file("com/example/lib/1.0/lib-1.0.jar");
        assert_eq!(a.name(), "com/example/lib");
        assert_eq!(a.group_id(), "com.example");
        assert_eq!(v, "1.0");
        assert_eq!(f.classifier, None);
        assert_eq!(f.extension, "jar");
        assert_eq!(c, None);

        let (_, _, f, c) = file("com/example/lib/1.0/lib-1.0-sources.jar.sha1");
        assert_eq!(f.name, "lib-1.0-sources.jar");
        assert_eq!(f.classifier.as_deref(), Some("sources"));
        assert_eq!(c, Some(Checksum::Sha1));

        let (_, _, f, _) = file("org/x/tool/2.1.0/tool-2.1.0-bin.tar.gz");
        assert_eq!(f.classifier.as_deref(), Some("bin"));
        assert_eq!(f.extension, "tar.gz");

        let (_, _, f, c) = file("org/x/tool/2.1.0/tool-2.1.0.pom.asc.md5");
        assert_eq!(f.extension, "pom.asc");
        assert_eq!(c, Some(Checksum::Md5));
    }

    #[test]
    fn snapshot_files_carry_their_build() {
        let (_, v, f, _) = file("com/example/lib/1.0-SNAPSHOT/lib-1.0-20261202.101500-3.jar");
        assert_eq!(v, "1.0-SNAPSHOT");
        assert_eq!(
            f.build,
            Some(Build {
                timestamp: "20261202.101500".into(),
                number: 3
            })
        );
        let (_, _, f, _) =
            file("com/example/lib/1.0-SNAPSHOT/lib-1.0-20261202.101500-12-tests.jar");
        assert_eq!(f.build.unwrap().number, 12);
        assert_eq!(f.classifier.as_deref(), Some("tests"));
        // Non-unique snapshot names are files too.
        let (_, _, f, _) = file("com/example/lib/1.0-SNAPSHOT/lib-1.0-SNAPSHOT.pom");
        assert_eq!(f.build, None);
        assert_eq!(
            snapshot_file_name(
                "lib",
                "1.0-SNAPSHOT",
                &Build {
                    timestamp: "20261202.101500".into(),
                    number: 3
                },
                Some("tests"),
                "jar"
            ),
            "lib-1.0-20261202.101500-3-tests.jar"
        );
    }

    #[test]
    fn metadata_at_artifact_and_snapshot_version_level() {
        assert_eq!(
            parse("com/example/lib/maven-metadata.xml").unwrap(),
            Target::ArtifactMetadata {
                artifact: Artifact {
                    group_path: "com/example".into(),
                    artifact_id: "lib".into()
                },
                checksum: None
            }
        );
        match parse("com/example/lib/1.0-SNAPSHOT/maven-metadata.xml.sha512").unwrap() {
            Target::VersionMetadata {
                artifact,
                version,
                checksum,
            } => {
                assert_eq!(artifact.name(), "com/example/lib");
                assert_eq!(version, "1.0-SNAPSHOT");
                assert_eq!(checksum, Some(Checksum::Sha512));
            }
            other => panic!("{other:?}"),
        }
        // A release directory has no version metadata in Maven 3: that path names the
        // artifact `com/example/lib/1.0`, as GitLab reads it.
        assert!(matches!(
            parse("com/example/lib/1.0/maven-metadata.xml").unwrap(),
            Target::ArtifactMetadata { .. }
        ));
        assert!(parse("lib/maven-metadata.xml").is_err());
    }

    #[test]
    fn bad_paths_are_refused() {
        for bad in [
            "",
            "com/example/lib/1.0/../lib-1.0.jar",
            "com/example/lib/1.0/./lib-1.0.jar",
            "com//lib/1.0/lib-1.0.jar",
            "com/example/lib/1.0/lib-1.0.jar/",
            "/com/example/lib/1.0/lib-1.0.jar",
            "com/example/lib/1.0/%2e%2e",
            "com/example/lib/1.0/lib 1.0.jar",
            "com/example/lib/1.0/other-1.0.jar",
            "com/example/lib/1.0/lib-1.1.jar",
            "com/example/lib/1.0/lib-1.0",
            "com/example/lib/1.0/lib-1.0.",
            "com/example/lib/1.0/lib-1.0-.jar",
            "com/example/lib/1.0/lib-1.0x.jar",
            "lib/1.0/lib-1.0.jar",
            "com/example/lib/1.0-SNAPSHOT/lib-1.0-2026.jar",
            "com/example/lib/1.0-SNAPSHOT/lib-1.0-20261202.101500-.jar",
            "com/é/lib/1.0/lib-1.0.jar",
            "com/example/lib/1.0/lib-1.0.jar\0",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("com/{}/lib/1.0/lib-1.0.jar", "x".repeat(300));
        assert!(parse(&long).is_err());
        let deep = format!("{}lib/1.0/lib-1.0.jar", "a/".repeat(70));
        assert!(parse(&deep).is_err());
    }
}
