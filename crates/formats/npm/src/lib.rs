//! packyard-format-npm: the npm registry protocol as GitLab serves it, for npm, pnpm and yarn.
//!
//! Spec: npm's registry API (<https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md>,
//! <https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md>) at GitLab's
//! paths (<https://docs.gitlab.com/user/packages/npm_registry/>, <https://docs.gitlab.com/api/packages/npm/>):
//! `/api/v4/projects/:id/packages/npm/`, `/api/v4/groups/:id/-/packages/npm/` and
//! `/api/v4/packages/npm/` (scoped names whose scope is a top-level group).
//!
//! - `routes.rs`: the endpoint table (one tail route per level, parsed by [`routes::Endpoint`],
//!   because scoped names arrive both as `@scope/name` and `@scope%2fname`).
//! - `body.rs`: the streaming reader of the publish document (tarball decoded into the store).
//! - `metadata.rs`: names, versions, tags, and `package.json` inside the tarball.
//! - `views.rs`: full and abbreviated packuments.
//! - `handlers/`: publish, packument and tarball, dist-tags, deprecate and unpublish,
//!   whoami and search.

pub mod body;
mod error;
mod handlers;
pub mod metadata;
pub mod routes;
pub mod views;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub const FORMAT: FormatId = FormatId("npm");

/// Default tarball limit: 500 MiB, as GitLab's `npm_max_file_size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 524288000;

#[derive(Debug, Clone)]
pub struct NpmConfig {
    /// Largest tarball accepted (decoded bytes).
    pub max_file_size: u64,
}

impl NpmConfig {
    /// `0` means the default.
    pub fn with_max_file_size(max_file_size: u64) -> Self {
        NpmConfig {
            max_file_size: if max_file_size == 0 {
                DEFAULT_MAX_FILE_SIZE
            } else {
                max_file_size
            },
        }
    }
}

impl Default for NpmConfig {
    fn default() -> Self {
        NpmConfig::with_max_file_size(0)
    }
}

pub struct Npm {
    config: NpmConfig,
}

impl Npm {
    pub fn new(config: NpmConfig) -> Self {
        Npm { config }
    }
}

impl PackageFormat for Npm {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "npm"
    }
    /// npm compares names exactly; new names are lower-case by rule.
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        metadata::parse_name(name)
            .map(|n| n.full())
            .map_err(|e| FormatError(e.0))
    }
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        metadata::compare_versions(a, b)
    }
    fn configure_project(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, routes::Level::Project, self.config.clone());
    }
    fn configure_group(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, routes::Level::Group, self.config.clone());
    }
    fn configure_instance(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, routes::Level::Instance, self.config.clone());
    }
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let host = ctx
            .external_url
            .split_once("://")
            .map(|(_, h)| h)
            .unwrap_or(ctx.external_url);
        let registry = format!(
            "{}/api/v4/projects/{}/packages/npm/",
            ctx.external_url, ctx.project_id
        );
        let scope_line = match ctx.package_name.split_once('/') {
            Some((scope, _)) if scope.starts_with('@') => format!("{scope}:registry={registry}"),
            _ => format!("registry={registry}"),
        };
        vec![
            Snippet {
                title: "Registry setup (.npmrc)".into(),
                language: "ini",
                code: format!(
                    "{scope_line}\n//{host}/api/v4/projects/{}/packages/npm/:_authToken=<your_token>",
                    ctx.project_id
                ),
            },
            Snippet {
                title: "Install".into(),
                language: "shell",
                code: format!("npm install {}@{}", ctx.package_name, ctx.package_version),
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: "npm publish".into(),
            },
        ]
    }
}
