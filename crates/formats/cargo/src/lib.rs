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
mod factory;
mod handlers;
pub mod metadata;
mod routes;
#[cfg(test)]
mod snapshots;
mod views;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub use factory::factory;

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
    /// Cargo's alternative-registry forms
    /// (<https://doc.rust-lang.org/cargo/reference/registries.html>) with this instance's URL:
    /// the sparse index of the project, named after the project's path. Install and publish
    /// set the index, the token and the `cargo:token` provider (cargo 1.74+ refuses an
    /// authenticated registry without one) through cargo's `CARGO_*` variables, so each works
    /// as pasted in a Cargo project; the set-up keeps them for every later build.
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let index = format!(
            "sparse+{}/api/v4/projects/{}/packages/cargo/",
            ctx.external_url.trim_end_matches('/'),
            ctx.project_id
        );
        let name = registry_name(ctx.project_path);
        let var = name.to_ascii_uppercase();
        let env = format!(
            "CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS=\"cargo:token\" \\\n\
             CARGO_REGISTRIES_{var}_INDEX=\"{index}\" \\\n\
             CARGO_REGISTRIES_{var}_TOKEN=\"<your_access_token>\" \\\n"
        );
        vec![
            Snippet {
                title: "Registry setup".into(),
                language: "toml",
                code: format!(
                    "# .cargo/config.toml (in your project, or ~/.cargo/config.toml)\n\
                     [registries.{name}]\n\
                     index = \"{index}\"\n\
                     \n\
                     [registry]\n\
                     global-credential-providers = [\"cargo:token\"]\n\
                     \n\
                     # Then store a token once: cargo login --registry {name}"
                ),
            },
            Snippet {
                title: "Install".into(),
                language: "shell",
                code: format!(
                    "{env}cargo add --registry {name} {}@{}",
                    ctx.package_name, ctx.package_version
                ),
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: format!("{env}cargo publish --registry {name}"),
            },
        ]
    }
}

/// A Cargo registry name for a project (`acme/my-tools` → `acme_my_tools`): cargo accepts
/// ASCII letters, digits, `-` and `_`, starting with a letter. `_` only, because cargo
/// reads `CARGO_REGISTRIES_ACME_MY_TOOLS_*` back as `acme_my_tools`.
fn registry_name(project_path: &str) -> String {
    let mut name = String::with_capacity(project_path.len());
    for c in project_path.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_matches('_');
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.to_owned()
    } else {
        format!("packyard_{name}").trim_end_matches('_').to_owned()
    }
}

#[cfg(test)]
mod snippet_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn snippets(external_url: &str, project_path: &str) -> Vec<Snippet> {
        let files = vec!["my-crate-1.0.0.crate".to_owned()];
        Cargo::new(CargoConfig::default()).snippets(&SnippetContext {
            external_url,
            project_id: 7,
            project_path,
            package_name: "my-crate",
            package_version: "1.0.0",
            file_names: &files,
        })
    }

    fn code<'a>(all: &'a [Snippet], title: &str) -> &'a str {
        &all.iter().find(|s| s.title == title).unwrap().code
    }

    #[test]
    fn every_page_gets_setup_install_and_publish() {
        let titles: Vec<String> = snippets("https://p.example", "acme/tools")
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(titles, ["Registry setup", "Install", "Publish"]);
    }

    #[test]
    fn setup_is_a_sparse_registry_named_after_the_project_and_keeps_http() {
        assert_eq!(
            code(
                &snippets("http://127.0.0.1:8080", "acme/tools"),
                "Registry setup"
            ),
            "# .cargo/config.toml (in your project, or ~/.cargo/config.toml)\n\
             [registries.acme_tools]\n\
             index = \"sparse+http://127.0.0.1:8080/api/v4/projects/7/packages/cargo/\"\n\
             \n\
             [registry]\n\
             global-credential-providers = [\"cargo:token\"]\n\
             \n\
             # Then store a token once: cargo login --registry acme_tools"
        );
    }

    #[test]
    fn install_is_cargo_add_with_the_registry_in_cargos_variables() {
        assert_eq!(
            code(&snippets("https://p.example/", "Acme/Sub.Group/my_tools"), "Install"),
            "CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS=\"cargo:token\" \\\n\
             CARGO_REGISTRIES_ACME_SUB_GROUP_MY_TOOLS_INDEX=\"sparse+https://p.example/api/v4/projects/7/packages/cargo/\" \\\n\
             CARGO_REGISTRIES_ACME_SUB_GROUP_MY_TOOLS_TOKEN=\"<your_access_token>\" \\\n\
             cargo add --registry acme_sub_group_my_tools my-crate@1.0.0"
        );
    }

    #[test]
    fn publish_uses_the_same_registry() {
        let s = snippets("https://p.example", "acme/tools");
        assert!(code(&s, "Publish").ends_with("\ncargo publish --registry acme_tools"));
        assert!(code(&s, "Publish")
            .contains("CARGO_REGISTRIES_ACME_TOOLS_TOKEN=\"<your_access_token>\""));
    }

    #[test]
    fn registry_names_start_with_a_letter() {
        assert_eq!(registry_name("acme/my-tools"), "acme_my_tools");
        assert_eq!(registry_name("1st/x"), "packyard_1st_x");
        assert_eq!(registry_name("--"), "packyard");
    }
}
