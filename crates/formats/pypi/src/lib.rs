//! packyard-format-pypi: Python packages, as GitLab's PyPI registry serves them.
//!
//! Spec: <https://docs.gitlab.com/user/packages/pypi_repository/> for the paths and auth;
//! the upload API (<https://docs.pypi.org/api/upload/>) that twine, uv and poetry speak; the
//! simple repository API: PEP 503 (HTML), PEP 691 (JSON), PEP 700 (`versions`, `size`,
//! `upload-time`), PEP 592 (yank), PEP 658/714 (core metadata next to each wheel); names per
//! PEP 503/508, versions per PEP 440.
//!
//! - `POST /projects/:id/packages/pypi`: upload (multipart), metadata read from the file.
//! - `GET /projects/:id/packages/pypi/simple/` and `.../simple/:name/`; the same under
//!   `/groups/:id/-/packages/pypi/` over every readable project of the group tree.
//! - `GET /projects/:id/packages/pypi/files/:sha256/:file_name` (+ `.metadata`).
//! - `PUT|DELETE /projects/:id/packages/pypi/yank/:name/:version` (Packyard extension).

pub mod archive;
mod error;
mod handlers;
pub mod metadata;
mod routes;
pub mod views;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub use error::PypiError;

pub const FORMAT: FormatId = FormatId("pypi");

/// Default upload limit: 5 GiB, as for the other formats (`[pypi] max_file_size`).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PypiConfig {
    /// Distribution files larger than this are refused with 413.
    pub max_file_size: u64,
}

impl PypiConfig {
    /// `0` means the default.
    pub fn with_max_file_size(max_file_size: u64) -> Self {
        PypiConfig {
            max_file_size: if max_file_size == 0 {
                DEFAULT_MAX_FILE_SIZE
            } else {
                max_file_size
            },
        }
    }
}

impl Default for PypiConfig {
    fn default() -> Self {
        PypiConfig::with_max_file_size(0)
    }
}

pub struct Pypi {
    config: PypiConfig,
}

impl Pypi {
    pub fn new(config: PypiConfig) -> Self {
        Pypi { config }
    }
}

impl PackageFormat for Pypi {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "PyPI"
    }
    /// PEP 503 normalization of a PEP 508 name.
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        metadata::validate_name(name)
            .map(metadata::normalize_name)
            .map_err(|e| FormatError(e.0))
    }
    /// PEP 440 order.
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        metadata::compare_versions(a, b)
    }
    fn configure_project(&self, cfg: &mut web::ServiceConfig) {
        routes::configure_project(cfg, self.config.clone());
    }
    fn configure_group(&self, cfg: &mut web::ServiceConfig) {
        routes::configure_group(cfg);
    }
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let index = format!(
            "{}/api/v4/projects/{}/packages/pypi",
            ctx.external_url, ctx.project_id
        );
        vec![
            Snippet {
                title: "Install".into(),
                language: "shell",
                code: format!(
                    "pip install {}=={} --index-url https://__token__:<your_personal_token>@{}/simple",
                    ctx.package_name,
                    ctx.package_version,
                    index.trim_start_matches("http://").trim_start_matches("https://")
                ),
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: format!(
                    "TWINE_USERNAME=__token__ TWINE_PASSWORD=<your_personal_token> twine upload --repository-url {index} dist/*"
                ),
            },
        ]
    }
}
