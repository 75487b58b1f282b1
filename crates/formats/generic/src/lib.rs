//! packyard-format-generic: GitLab's generic packages API.
//!
//! Spec: <https://docs.gitlab.com/user/packages/generic_packages/> and §4 of
//! `specs/gitlab-api.md`. `PUT|GET|HEAD /api/v4/projects/:id/packages/generic/:name/:version/:file_name`
//! with a raw streamed body; directory-structured file names; duplicates governed by the
//! group's `generic_duplicates_allowed` and `generic_duplicate_exception_regex`.

mod factory;
mod handlers;
pub mod metadata;
mod routes;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub use factory::factory;

pub const FORMAT: FormatId = FormatId("generic");

/// Default upload limit: 5 GiB, as GitLab's `generic_packages_max_file_size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct GenericConfig {
    /// Bodies larger than this are refused with 413 before they are read.
    pub max_file_size: u64,
}

impl Default for GenericConfig {
    fn default() -> Self {
        GenericConfig {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

pub struct Generic {
    config: GenericConfig,
}

impl Generic {
    pub fn new(config: GenericConfig) -> Self {
        Generic { config }
    }
}

impl PackageFormat for Generic {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "Generic"
    }
    /// Generic names are compared exactly, as GitLab does.
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        metadata::validate_name(name).map(str::to_owned)
    }
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        metadata::compare_versions(a, b)
    }
    fn configure_project(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, self.config.clone());
    }
    /// GitLab's `generic_duplicates_allowed` (default: allowed) and
    /// `generic_duplicate_exception_regex`; a refused duplicate is a second file of the same
    /// name in one package version (the handler answers 400).
    fn duplicate_rule(&self) -> Option<packyard_core::DuplicateRule> {
        Some(packyard_core::DuplicateRule::same_file_name(true))
    }
    /// GitLab's documented curl forms
    /// (<https://docs.gitlab.com/user/packages/generic_packages/>) with this instance's URL.
    /// Every command is complete: paste it, put a token in place of `<your_access_token>`,
    /// run it.
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let base = format!(
            "{}/api/v4/projects/{}/packages/generic/{}/{}",
            ctx.external_url.trim_end_matches('/'),
            ctx.project_id,
            ctx.package_name,
            ctx.package_version
        );
        // A file uploaded twice under one name is one download.
        let mut names: Vec<&str> = Vec::new();
        for name in ctx.file_names {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        let setup = format!(
            "# Generic packages need no client set-up: curl (or any HTTP client) talks to\n\
             # the API. Each file of this package is at\n\
             #   {base}/FILE_NAME\n\
             # Authenticate with one header: PRIVATE-TOKEN (personal access token),\n\
             # DEPLOY-TOKEN (deploy token) or JOB-TOKEN (in CI/CD: $CI_JOB_TOKEN)."
        );
        let (install, publish) = if names.is_empty() {
            let none = "# This package has no files.".to_owned();
            (none.clone(), none)
        } else {
            // `--location`: a download may be a redirect to the blob store.
            let downloads: Vec<String> = names
                .iter()
                .map(|n| format!(" \\\n     --remote-name \"{base}/{n}\""))
                .collect();
            let uploads: Vec<String> = names
                .iter()
                .map(|n| {
                    format!(
                        " \\\n     --upload-file \"./{}\" \"{base}/{n}\"",
                        local_path(n)
                    )
                })
                .collect();
            (
                format!(
                    "curl --fail --location --header \"PRIVATE-TOKEN: <your_access_token>\"{}",
                    downloads.concat()
                ),
                format!(
                    "curl --fail --header \"PRIVATE-TOKEN: <your_access_token>\"{}",
                    uploads.concat()
                ),
            )
        };
        vec![
            Snippet {
                title: "Registry setup".into(),
                language: "shell",
                code: setup,
            },
            Snippet {
                title: "Install".into(),
                language: "shell",
                code: install,
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: publish,
            },
        ]
    }
}

/// Where a file to upload sits on disk: stored names keep directories as `%2F`.
fn local_path(stored: &str) -> String {
    percent_encoding::percent_decode_str(stored)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod snippet_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn snippets(external_url: &str, files: &[&str]) -> Vec<Snippet> {
        let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        Generic::new(GenericConfig::default()).snippets(&SnippetContext {
            external_url,
            project_id: 7,
            project_path: "acme/tools",
            package_name: "my_package",
            package_version: "1.2.3",
            file_names: &files,
        })
    }

    fn code<'a>(all: &'a [Snippet], title: &str) -> &'a str {
        &all.iter().find(|s| s.title == title).unwrap().code
    }

    #[test]
    fn every_page_gets_setup_install_and_publish() {
        let titles: Vec<String> = snippets("https://p.example", &["a.txt"])
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(titles, ["Registry setup", "Install", "Publish"]);
    }

    #[test]
    fn install_downloads_every_file_with_gitlabs_curl_form_and_keeps_http() {
        let s = snippets("http://127.0.0.1:8080", &["a.txt", "b.tar.gz", "a.txt"]);
        assert_eq!(
            code(&s, "Install"),
            "curl --fail --location --header \"PRIVATE-TOKEN: <your_access_token>\" \\\n     \
             --remote-name \"http://127.0.0.1:8080/api/v4/projects/7/packages/generic/my_package/1.2.3/a.txt\" \\\n     \
             --remote-name \"http://127.0.0.1:8080/api/v4/projects/7/packages/generic/my_package/1.2.3/b.tar.gz\""
        );
    }

    #[test]
    fn publish_uploads_from_the_decoded_local_path_to_the_stored_name() {
        let s = snippets("https://p.example/", &["dir%2Fsub%2Ff.txt"]);
        assert_eq!(
            code(&s, "Publish"),
            "curl --fail --header \"PRIVATE-TOKEN: <your_access_token>\" \\\n     \
             --upload-file \"./dir/sub/f.txt\" \"https://p.example/api/v4/projects/7/packages/generic/my_package/1.2.3/dir%2Fsub%2Ff.txt\""
        );
    }

    #[test]
    fn setup_names_the_endpoint_and_the_token_headers() {
        let s = snippets("https://p.example", &["a.txt"]);
        let setup = code(&s, "Registry setup");
        assert!(setup.contains(
            "https://p.example/api/v4/projects/7/packages/generic/my_package/1.2.3/FILE_NAME"
        ));
        assert!(setup.contains("PRIVATE-TOKEN") && setup.contains("JOB-TOKEN"));
        assert!(
            setup.lines().all(|l| l.starts_with('#')),
            "only comments: {setup}"
        );
    }

    #[test]
    fn a_package_without_files_says_so() {
        let s = snippets("https://p.example", &[]);
        assert_eq!(code(&s, "Install"), "# This package has no files.");
    }
}
