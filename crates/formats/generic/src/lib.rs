//! packyard-format-generic: GitLab's generic packages API.
//!
//! Spec: <https://docs.gitlab.com/user/packages/generic_packages/> and §4 of
//! `specs/gitlab-api.md`. `PUT|GET|HEAD /api/v4/projects/:id/packages/generic/:name/:version/:file_name`
//! with a raw streamed body; directory-structured file names; duplicates governed by the
//! group's `generic_duplicates_allowed` and `generic_duplicate_exception_regex`.

mod handlers;
pub mod metadata;
mod routes;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

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
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let base = format!(
            "{}/api/v4/projects/{}/packages/generic/{}/{}",
            ctx.external_url, ctx.project_id, ctx.package_name, ctx.package_version
        );
        let file = ctx
            .file_names
            .first()
            .map(String::as_str)
            .unwrap_or("file.tar.gz");
        vec![
            Snippet {
                title: "Download".into(),
                language: "shell",
                code: format!("curl --fail -H \"PRIVATE-TOKEN: <your_access_token>\" -o {file} \"{base}/{file}\""),
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: format!(
                    "curl --fail -H \"PRIVATE-TOKEN: <your_access_token>\" --upload-file ./{file} \"{base}/{file}\""
                ),
            },
        ]
    }
}
