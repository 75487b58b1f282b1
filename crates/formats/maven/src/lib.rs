//! packyard-format-maven: the Maven 2 repository layout, as GitLab's Maven endpoints
//! serve it, for `mvn`, Gradle and Ivy.
//!
//! - Spec: <https://maven.apache.org/repository/layout.html>,
//!   <https://maven.apache.org/repositories/metadata.html>, and GitLab's
//!   <https://docs.gitlab.com/user/packages/maven_repository/>; how mvn 3.8 behaves on the
//!   wire is in `shared/CLIENTS.md`. User docs: docs/formats/maven.md.
//! - Routes ([`routes`]): project `PUT`/`GET`/`HEAD` `/api/v4/projects/:id/packages/maven/*path`,
//!   group `/api/v4/groups/:id/-/packages/maven/*path` and instance `/api/v4/packages/maven/*path`
//!   reads.
//! - Paths ([`layout`]): files, checksums, artifact and SNAPSHOT version metadata.
//! - Data: a package is one version of an artifact, named by its path
//!   (`com/example/lib`, compared case-insensitively) with its files; `maven-metadata.xml`
//!   and every checksum are derived ([`index`], [`views`]), never stored from the client.
//! - Versions ([`version`]): Maven's ComparableVersion order.
//! - Uploaded XML ([`xml`]): bounded readers of poms and metadata, no DTD.
//! - Duplicates: GitLab's `maven_duplicates_allowed` / `maven_duplicate_exception_regex`
//!   of the group; releases are immutable unless it allows them (default: not allowed);
//!   SNAPSHOT versions always take new builds.
//!
//! The crate sees `packyard-core` only and reaches data through the `Registry`.

pub mod error;
mod factory;
mod handlers;
pub mod index;
pub mod layout;
pub mod metadata;
pub mod routes;
#[cfg(test)]
mod snapshots;
pub mod version;
pub mod views;
pub mod xml;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::documents::DerivedCache;
use packyard_core::model::FormatId;
use packyard_core::{DuplicateRule, FormatError, PackageFormat, Snippet, SnippetContext};

pub use factory::factory;

pub const FORMAT: FormatId = FormatId("maven");

/// Default upload limit: 3 GiB, GitLab's `maven_max_file_size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 3 * 1024 * 1024 * 1024;

/// Default capacity of the artifact index cache, in bytes.
pub const DEFAULT_INDEX_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// The format's settings (`[maven]`).
#[derive(Debug, Clone)]
pub struct MavenConfig {
    /// Bodies larger than this are refused with 413.
    pub max_file_size: u64,
    /// Bytes of artifact indexes kept in memory.
    pub index_cache_bytes: u64,
}

impl Default for MavenConfig {
    fn default() -> Self {
        MavenConfig {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            index_cache_bytes: DEFAULT_INDEX_CACHE_BYTES,
        }
    }
}

pub struct Maven {
    state: web::Data<handlers::State>,
}

impl Maven {
    pub fn new(config: MavenConfig) -> Self {
        let indexes = DerivedCache::new(config.index_cache_bytes);
        Maven {
            state: web::Data::new(handlers::State { config, indexes }),
        }
    }

    pub fn config(&self) -> &MavenConfig {
        &self.state.config
    }
}

impl PackageFormat for Maven {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "Maven"
    }
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        metadata::normalize_name(name)
    }
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        version::compare(a, b)
    }
    fn configure_project(&self, cfg: &mut web::ServiceConfig) {
        routes::project(cfg, self.state.clone());
    }
    fn configure_group(&self, cfg: &mut web::ServiceConfig) {
        routes::group(cfg, self.state.clone());
    }
    fn configure_instance(&self, cfg: &mut web::ServiceConfig) {
        routes::instance(cfg, self.state.clone());
    }
    /// GitLab's `maven_duplicates_allowed` and `maven_duplicate_exception_regex`. Releases
    /// are immutable unless the group allows duplicates (GitLab's default allows them:
    /// docs/formats/maven.md says why ours does not); SNAPSHOT versions are never
    /// duplicates, as on GitLab.
    fn duplicate_rule(&self) -> Option<DuplicateRule> {
        Some(DuplicateRule::same_file_name(false).except_versions(layout::is_snapshot))
    }
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        views::snippets(ctx)
    }
}
