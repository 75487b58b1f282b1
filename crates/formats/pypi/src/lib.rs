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
mod factory;
mod handlers;
pub mod metadata;
mod routes;
#[cfg(test)]
mod snapshots;
pub mod views;

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub use error::PypiError;

pub use factory::factory;

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
    /// GitLab's documented forms (<https://docs.gitlab.com/user/packages/pypi_repository/>)
    /// with this instance's URL: pip with `__token__:<token>@` credentials in the index URL
    /// (any user name is accepted with a token), twine with `TWINE_*` variables.
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        let external = ctx.external_url.trim_end_matches('/');
        let upload = format!(
            "{external}/api/v4/projects/{}/packages/pypi",
            ctx.project_id
        );
        let (scheme, rest) = external.split_once("://").unwrap_or(("https", external));
        let simple = format!(
            "{scheme}://__token__:<your_access_token>@{rest}/api/v4/projects/{}/packages/pypi/simple",
            ctx.project_id
        );
        // pip ignores a plain-http index unless told to trust its host (localhost excepted).
        let host = rest.split('/').next().unwrap_or(rest);
        let insecure = scheme == "http";
        let trusted_flag = if insecure {
            format!(" --trusted-host {host}")
        } else {
            String::new()
        };
        let trusted_line = if insecure {
            format!("\ntrusted-host = {host}")
        } else {
            String::new()
        };
        vec![
            Snippet {
                title: "Registry setup".into(),
                language: "ini",
                code: format!(
                    "# pip.conf (~/.config/pip/pip.conf; `pip config list -v` shows where pip looks)\n\
                     [global]\n\
                     index-url = {simple}{trusted_line}"
                ),
            },
            Snippet {
                title: "Install".into(),
                language: "shell",
                code: format!(
                    "pip install --index-url \"{simple}\"{trusted_flag} {}=={}",
                    ctx.package_name, ctx.package_version
                ),
            },
            Snippet {
                title: "Publish".into(),
                language: "shell",
                code: format!(
                    "TWINE_USERNAME=__token__ TWINE_PASSWORD=\"<your_access_token>\" \\\n  \
                     python3 -m twine upload --repository-url {upload} dist/*"
                ),
            },
        ]
    }
}

#[cfg(test)]
mod snippet_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn snippets(external_url: &str) -> Vec<Snippet> {
        let files = vec!["my_pkg-1.0.0-py3-none-any.whl".to_owned()];
        Pypi::new(PypiConfig::default()).snippets(&SnippetContext {
            external_url,
            project_id: 7,
            project_path: "acme/tools",
            package_name: "my-pkg",
            package_version: "1.0.0",
            file_names: &files,
        })
    }

    fn code<'a>(all: &'a [Snippet], title: &str) -> &'a str {
        &all.iter().find(|s| s.title == title).unwrap().code
    }

    #[test]
    fn every_page_gets_setup_install_and_publish() {
        let titles: Vec<String> = snippets("https://p.example")
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(titles, ["Registry setup", "Install", "Publish"]);
    }

    #[test]
    fn install_is_pip_with_token_credentials_in_the_index_url() {
        assert_eq!(
            code(&snippets("https://p.example"), "Install"),
            "pip install --index-url \"https://__token__:<your_access_token>@p.example/api/v4/projects/7/packages/pypi/simple\" my-pkg==1.0.0"
        );
    }

    #[test]
    fn plain_http_is_kept_and_the_host_trusted() {
        let s = snippets("http://10.0.0.5:8080/");
        assert_eq!(
            code(&s, "Install"),
            "pip install --index-url \"http://__token__:<your_access_token>@10.0.0.5:8080/api/v4/projects/7/packages/pypi/simple\" --trusted-host 10.0.0.5:8080 my-pkg==1.0.0"
        );
        assert_eq!(
            code(&s, "Registry setup"),
            "# pip.conf (~/.config/pip/pip.conf; `pip config list -v` shows where pip looks)\n\
             [global]\n\
             index-url = http://__token__:<your_access_token>@10.0.0.5:8080/api/v4/projects/7/packages/pypi/simple\n\
             trusted-host = 10.0.0.5:8080"
        );
    }

    #[test]
    fn publish_is_twine_to_the_project_upload_url() {
        assert_eq!(
            code(&snippets("https://p.example/prefix"), "Publish"),
            "TWINE_USERNAME=__token__ TWINE_PASSWORD=\"<your_access_token>\" \\\n  \
             python3 -m twine upload --repository-url https://p.example/prefix/api/v4/projects/7/packages/pypi dist/*"
        );
    }
}
