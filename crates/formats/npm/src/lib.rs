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
mod factory;
mod handlers;
pub mod metadata;
pub mod routes;
#[cfg(test)]
mod snapshots;
pub mod views;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub use factory::factory;

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
    /// GitLab's documented forms (<https://docs.gitlab.com/user/packages/npm_registry/>) with
    /// this instance's URL: the project endpoint for the package's scope (or as the
    /// registry, for an unscoped name) and an `_authToken` for its path. Install and publish
    /// pass the same two settings as command-line config, so each works as pasted; the
    /// `.npmrc` of the set-up keeps them for every later command.
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let external = ctx.external_url.trim_end_matches('/');
        let registry = format!(
            "{external}/api/v4/projects/{}/packages/npm/",
            ctx.project_id
        );
        // npm keys credentials by the registry URL without its scheme ("nerf dart").
        let nerf = registry
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(registry.as_str());
        let registry_key = match ctx.package_name.split_once('/') {
            Some((scope, _)) if scope.starts_with('@') => format!("{scope}:registry"),
            _ => "registry".to_owned(),
        };
        let auth = format!("//{nerf}:_authToken=<your_access_token>");
        let flags = format!("--{registry_key}={registry} \"--{auth}\"");
        vec![
            Snippet {
                title: "Registry setup".into(),
                language: "ini",
                code: format!("# .npmrc (next to package.json)\n{registry_key}={registry}\n{auth}"),
            },
            Snippet {
                title: "Install".into(),
                language: "shell",
                code: format!(
                    "npm install {}@{} {flags}",
                    ctx.package_name, ctx.package_version
                ),
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: format!("npm publish {flags}"),
            },
        ]
    }
}

#[cfg(test)]
mod snippet_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn snippets(external_url: &str, name: &str) -> Vec<Snippet> {
        let files = vec!["pkg-1.0.0.tgz".to_owned()];
        Npm::new(NpmConfig::default()).snippets(&SnippetContext {
            external_url,
            project_id: 7,
            project_path: "acme/tools",
            package_name: name,
            package_version: "1.0.0",
            file_names: &files,
        })
    }

    fn code<'a>(all: &'a [Snippet], title: &str) -> &'a str {
        &all.iter().find(|s| s.title == title).unwrap().code
    }

    #[test]
    fn every_page_gets_setup_install_and_publish() {
        let titles: Vec<String> = snippets("https://p.example", "@acme/pkg")
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(titles, ["Registry setup", "Install", "Publish"]);
    }

    #[test]
    fn a_scoped_package_sets_up_its_scope_and_the_token_for_the_project_path() {
        let s = snippets("http://127.0.0.1:8080", "@acme/pkg");
        assert_eq!(
            code(&s, "Registry setup"),
            "# .npmrc (next to package.json)\n\
             @acme:registry=http://127.0.0.1:8080/api/v4/projects/7/packages/npm/\n\
             //127.0.0.1:8080/api/v4/projects/7/packages/npm/:_authToken=<your_access_token>"
        );
        assert_eq!(
            code(&s, "Install"),
            "npm install @acme/pkg@1.0.0 --@acme:registry=http://127.0.0.1:8080/api/v4/projects/7/packages/npm/ \
             \"--//127.0.0.1:8080/api/v4/projects/7/packages/npm/:_authToken=<your_access_token>\""
        );
        assert_eq!(
            code(&s, "Publish"),
            "npm publish --@acme:registry=http://127.0.0.1:8080/api/v4/projects/7/packages/npm/ \
             \"--//127.0.0.1:8080/api/v4/projects/7/packages/npm/:_authToken=<your_access_token>\""
        );
    }

    #[test]
    fn an_unscoped_package_uses_the_project_as_registry() {
        let s = snippets("https://p.example/sub/", "left-pad");
        assert_eq!(
            code(&s, "Install"),
            "npm install left-pad@1.0.0 --registry=https://p.example/sub/api/v4/projects/7/packages/npm/ \
             \"--//p.example/sub/api/v4/projects/7/packages/npm/:_authToken=<your_access_token>\""
        );
    }
}
