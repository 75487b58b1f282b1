//! What Maven reads: the derived `maven-metadata.xml` documents, and the snippets of a
//! package's page.
//!
//! Artifact level (<https://maven.apache.org/repositories/metadata.html>): every listed
//! version in Maven's order, `latest` (the highest, SNAPSHOTs included) and `release` (the
//! highest without SNAPSHOT), `lastUpdated`. SNAPSHOT version level (model 1.1.0): the
//! newest build's `timestamp` and `buildNumber`, and one `snapshotVersion` per classifier
//! and extension with the newest build that has it.

use std::fmt::Write as _;

use packyard_core::{Snippet, SnippetContext};

/// One version line of the artifact-level document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactMetadata<'a> {
    pub group_id: &'a str,
    pub artifact_id: &'a str,
    /// In Maven's order, oldest first.
    pub versions: &'a [String],
    /// `yyyyMMddHHmmss`, UTC.
    pub last_updated: &'a str,
}

/// The newest file of each classifier and extension of a SNAPSHOT version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotVersion {
    pub classifier: Option<String>,
    pub extension: String,
    /// `1.0-20261202.101500-3`.
    pub value: String,
    /// `yyyyMMddHHmmss`.
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMetadata<'a> {
    pub group_id: &'a str,
    pub artifact_id: &'a str,
    pub version: &'a str,
    /// The newest build's `yyyyMMdd.HHmmss` and number.
    pub timestamp: &'a str,
    pub build_number: u32,
    pub last_updated: &'a str,
    pub snapshot_versions: &'a [SnapshotVersion],
}

/// Text for XML character data. Layout-checked values never need it; names from the
/// catalog are escaped all the same.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `g/a/maven-metadata.xml`.
pub fn artifact_metadata(m: &ArtifactMetadata<'_>) -> String {
    let mut x = String::with_capacity(256 + m.versions.len() * 32);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n");
    let _ = writeln!(x, "  <groupId>{}</groupId>", esc(m.group_id));
    let _ = writeln!(x, "  <artifactId>{}</artifactId>", esc(m.artifact_id));
    x.push_str("  <versioning>\n");
    if let Some(latest) = m.versions.last() {
        let _ = writeln!(x, "    <latest>{}</latest>", esc(latest));
    }
    if let Some(release) = m
        .versions
        .iter()
        .rev()
        .find(|v| !crate::layout::is_snapshot(v))
    {
        let _ = writeln!(x, "    <release>{}</release>", esc(release));
    }
    x.push_str("    <versions>\n");
    for v in m.versions {
        let _ = writeln!(x, "      <version>{}</version>", esc(v));
    }
    x.push_str("    </versions>\n");
    let _ = writeln!(x, "    <lastUpdated>{}</lastUpdated>", m.last_updated);
    x.push_str("  </versioning>\n</metadata>\n");
    x
}

/// `g/a/1.0-SNAPSHOT/maven-metadata.xml`.
pub fn version_metadata(m: &VersionMetadata<'_>) -> String {
    let mut x = String::with_capacity(512 + m.snapshot_versions.len() * 160);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata modelVersion=\"1.1.0\">\n");
    let _ = writeln!(x, "  <groupId>{}</groupId>", esc(m.group_id));
    let _ = writeln!(x, "  <artifactId>{}</artifactId>", esc(m.artifact_id));
    let _ = writeln!(x, "  <version>{}</version>", esc(m.version));
    x.push_str("  <versioning>\n    <snapshot>\n");
    let _ = writeln!(x, "      <timestamp>{}</timestamp>", esc(m.timestamp));
    let _ = writeln!(x, "      <buildNumber>{}</buildNumber>", m.build_number);
    x.push_str("    </snapshot>\n");
    let _ = writeln!(x, "    <lastUpdated>{}</lastUpdated>", m.last_updated);
    x.push_str("    <snapshotVersions>\n");
    for s in m.snapshot_versions {
        x.push_str("      <snapshotVersion>\n");
        if let Some(c) = &s.classifier {
            let _ = writeln!(x, "        <classifier>{}</classifier>", esc(c));
        }
        let _ = writeln!(x, "        <extension>{}</extension>", esc(&s.extension));
        let _ = writeln!(x, "        <value>{}</value>", esc(&s.value));
        let _ = writeln!(x, "        <updated>{}</updated>", s.updated);
        x.push_str("      </snapshotVersion>\n");
    }
    x.push_str("    </snapshotVersions>\n  </versioning>\n</metadata>\n");
    x
}

/// `yyyyMMddHHmmss` (UTC) of a catalog time.
pub fn maven_time(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|| "19700101000000".into())
}

/// The Maven snippets of a package's page: the repository of `settings.xml` and `pom.xml`
/// with this instance's URL, the dependency, and `mvn deploy`.
pub fn snippets(ctx: &SnippetContext<'_>) -> Vec<Snippet> {
    let base = ctx.external_url.trim_end_matches('/');
    let url = format!("{base}/api/v4/projects/{}/packages/maven", ctx.project_id);
    let (group_path, artifact_id) = ctx
        .package_name
        .rsplit_once('/')
        .unwrap_or(("", ctx.package_name));
    let group_id = group_path.replace('/', ".");
    vec![
        Snippet {
            title: "pom.xml dependency".into(),
            language: "xml",
            code: format!(
                "<dependency>\n  <groupId>{}</groupId>\n  <artifactId>{}</artifactId>\n  <version>{}</version>\n</dependency>",
                esc(&group_id),
                esc(artifact_id),
                esc(ctx.package_version)
            ),
        },
        Snippet {
            title: "pom.xml repository and distributionManagement".into(),
            language: "xml",
            code: format!(
                "<repositories>\n  <repository>\n    <id>packyard-maven</id>\n    <url>{url}</url>\n  </repository>\n</repositories>\n<distributionManagement>\n  <repository>\n    <id>packyard-maven</id>\n    <url>{url}</url>\n  </repository>\n  <snapshotRepository>\n    <id>packyard-maven</id>\n    <url>{url}</url>\n  </snapshotRepository>\n</distributionManagement>"
            ),
        },
        Snippet {
            title: "settings.xml (~/.m2/settings.xml)".into(),
            language: "xml",
            code: "<settings>\n  <servers>\n    <server>\n      <id>packyard-maven</id>\n      <configuration>\n        <httpHeaders>\n          <property>\n            <name>Private-Token</name>\n            <value>&lt;your_access_token&gt;</value>\n          </property>\n        </httpHeaders>\n      </configuration>\n    </server>\n  </servers>\n</settings>".into(),
        },
        Snippet {
            title: "Install and publish".into(),
            language: "shell",
            code: format!(
                "mvn dependency:get -Dartifact={}:{}:{} -DremoteRepositories=packyard-maven::default::{url}\nmvn deploy",
                group_id, artifact_id, ctx.package_version
            ),
        },
    ]
}
