//! packyard-format-cargo: a Packyard project as a Cargo alternative registry.
//!
//! Specs: the registry index over the sparse protocol
//! (<https://doc.rust-lang.org/cargo/reference/registry-index.html>, RFC 2789), and the
//! registry web API (<https://doc.rust-lang.org/cargo/reference/registry-web-api.html>).
//! The index root is `/api/v4/projects/:id/packages/cargo/` (GitLab's experimental path):
//! `config.json`, index files at `1/{n}`, `2/{n}`, `3/{c}/{n}`, `{ab}/{cd}/{name}`, and under
//! `api/v1/crates`: publish (`PUT new`), yank/unyank, owners, search and download.
//!
//! Each version is one package row whose metadata holds its index line; the index file of a
//! name is built from those rows and cached by the catalog's revision (ETag, 304).

mod error;
mod handlers;
pub mod metadata;
mod routes;
mod views;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub const FORMAT: FormatId = FormatId("cargo");

/// Default `.crate` size limit: 10 MiB, as crates.io.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct CargoConfig {
    /// `.crate` files larger than this are refused with 413 before they are stored.
    pub max_file_size: u64,
}

impl CargoConfig {
    /// `0` means the default.
    pub fn with_max_file_size(max_file_size: u64) -> Self {
        CargoConfig {
            max_file_size: if max_file_size == 0 {
                DEFAULT_MAX_FILE_SIZE
            } else {
                max_file_size
            },
        }
    }
}

impl Default for CargoConfig {
    fn default() -> Self {
        CargoConfig::with_max_file_size(0)
    }
}

pub struct Cargo {
    config: CargoConfig,
}

impl Cargo {
    pub fn new(config: CargoConfig) -> Self {
        Cargo { config }
    }
}

impl PackageFormat for Cargo {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "Cargo"
    }
    /// crates.io's rule: case-insensitive, `-` and `_` the same.
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        metadata::check_name_syntax(name).map_err(|e| FormatError(e.to_string()))?;
        Ok(metadata::normalize_name(name))
    }
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        metadata::compare_versions(a, b)
    }
    fn configure_project(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, self.config.clone());
    }
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let index = format!(
            "sparse+{}/api/v4/projects/{}/packages/cargo/",
            ctx.external_url, ctx.project_id
        );
        vec![
            Snippet {
                title: "Registry setup (.cargo/config.toml)".into(),
                language: "toml",
                code: format!(
                    "[registries.packyard]\nindex = \"{index}\"\n\n[registry]\nglobal-credential-providers = [\"cargo:token\"]"
                ),
            },
            Snippet {
                title: "Install (Cargo.toml)".into(),
                language: "toml",
                code: format!(
                    "[dependencies]\n{} = {{ version = \"{}\", registry = \"packyard\" }}",
                    ctx.package_name, ctx.package_version
                ),
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: "CARGO_REGISTRIES_PACKYARD_TOKEN=<your_access_token> cargo publish --registry packyard".into(),
            },
        ]
    }
}
