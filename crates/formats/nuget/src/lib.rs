//! packyard-format-nuget: NuGet packages as GitLab's NuGet endpoints serve them, for
//! `dotnet`, `nuget` and Visual Studio (v3), and nuget.exe 2.x (v2).
//!
//! - Spec: <https://learn.microsoft.com/en-us/nuget/api/overview> (v3 server API),
//!   <https://learn.microsoft.com/en-us/nuget/reference/nuspec>, the v2 OData feed as
//!   nuget.org serves it, and GitLab's <https://docs.gitlab.com/api/packages/nuget/>; how
//!   nuget 2.8.7 behaves on the wire is in `shared/CLIENTS.md`. User docs:
//!   docs/formats/nuget.md.
//! - Routes ([`routes`]): project `/api/v4/projects/:id/packages/nuget/...` (v3, v2, push,
//!   symbols, delete) and group `/api/v4/groups/:id/-/packages/nuget/...` (v3 reads).
//! - Data: a package is one version of an id (compared case-insensitively: the catalog's
//!   normalized name is the lower-cased id) holding its `.nupkg` (and `.snupkg` with its
//!   symbol files); the manifest is read at push ([`package`], [`nuspec`]) and kept in the
//!   package's metadata; every document is derived ([`index`], [`views`], [`v2`]).
//! - Versions ([`version`]): NuGet's normalization and SemVer 2.0 order with 4-part legacy
//!   versions.
//! - Duplicates: GitLab's `nuget_duplicates_allowed` / `nuget_duplicate_exception_regex`
//!   of the group (default here: not allowed; docs/formats/nuget.md says why).
//!
//! The crate sees `packyard-core` only and reaches data through the `Registry`.

pub mod error;
mod factory;
mod handlers;
pub mod index;
pub mod nuspec;
pub mod package;
pub mod routes;
#[cfg(test)]
mod snapshots;
pub mod symbols;
pub mod v2;
pub mod version;
pub mod views;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::documents::DerivedCache;
use packyard_core::model::FormatId;
use packyard_core::{DuplicateRule, FormatError, PackageFormat, Snippet, SnippetContext};

pub use factory::factory;

pub const FORMAT: FormatId = FormatId("nuget");

/// Default upload limit: 500 MiB, GitLab's `nuget_max_file_size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 500 * 1024 * 1024;

/// Default capacity of the package index cache, in bytes.
pub const DEFAULT_INDEX_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Default number of versions per registration page (nuget.org's is 64).
pub const DEFAULT_PAGE_SIZE: u64 = 64;

/// The format's settings (`[nuget]`).
#[derive(Debug, Clone)]
pub struct NugetConfig {
    /// Bodies larger than this are refused with 413.
    pub max_file_size: u64,
    /// Bytes of package indexes kept in memory.
    pub index_cache_bytes: u64,
    /// Versions per registration page; more versions than this are paged.
    pub registration_page_size: u64,
}

impl Default for NugetConfig {
    fn default() -> Self {
        NugetConfig {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            index_cache_bytes: DEFAULT_INDEX_CACHE_BYTES,
            registration_page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

pub struct Nuget {
    state: web::Data<handlers::State>,
}

impl Nuget {
    pub fn new(config: NugetConfig) -> Self {
        let indexes = DerivedCache::new(config.index_cache_bytes);
        Nuget {
            state: web::Data::new(handlers::State {
                symbols: handlers::symbols::cache(config.index_cache_bytes / 4),
                config,
                indexes,
            }),
        }
    }

    pub fn config(&self) -> &NugetConfig {
        &self.state.config
    }
}

/// The id as NuGet compares ids (case-insensitively), if it is a valid id.
pub fn normalize_name(name: &str) -> Result<String, FormatError> {
    nuspec::validate_id(name).map_err(|e| FormatError(e.0))?;
    Ok(index::lower_id(name))
}

impl PackageFormat for Nuget {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "NuGet"
    }
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        normalize_name(name)
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
    /// GitLab's `nuget_duplicates_allowed` and `nuget_duplicate_exception_regex`: a version
    /// is pushed once unless the group allows duplicates (GitLab's default allows them;
    /// docs/formats/nuget.md says why ours does not).
    fn duplicate_rule(&self) -> Option<DuplicateRule> {
        Some(DuplicateRule::same_file_name(false))
    }
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        views::snippets(ctx)
    }
}
