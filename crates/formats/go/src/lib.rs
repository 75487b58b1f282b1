//! packyard-format-go: Go packages for Packyard.
//!
//! Overview:
//! - Spec: the GOPROXY protocol (`go help goproxy`, go.dev/ref/mod#goproxy-protocol), module
//!   zips (golang.org/x/mod/zip), go.sum hashes (golang.org/x/mod/sumdb/dirhash), GitLab's
//!   Go proxy for the paths and credentials (`GOPROXY=https://HOST/api/v4/projects/ID/packages/go`).
//! - Routes ([`routes`]): under `/api/v4/projects/{id}/packages/go/`: `$module/@v/list`,
//!   `@v/$version.info|.mod|.zip|.sum`, `$module/@latest` (GET, HEAD) and the upload
//!   `PUT $module/@v/$version.zip`.
//! - Module paths and versions ([`metadata`]): Go's checks, case-encoding and order.
//! - Module zips ([`modzip`]): checked and hashed on upload, made from a directory.
//! - Documents ([`views`]): snippets.
//! - Errors ([`error`]): plain text; 404 for every read the caller may not make.
//! - Configuration ([`factory`]): the `[go]` section of packyard.toml and its
//!   `PACKYARD_GO_<KEY>` environment names, documented in docs/configuration.md.
//!
//! The crate sees `packyard-core` only and reaches data through the `Registry`.

pub mod error;
mod handlers;
pub mod metadata;
pub mod modzip;
pub mod routes;
#[cfg(test)]
mod snapshots;
pub mod views;

pub use handlers::{parse as parse_proxy_path, Target, Want};

use std::cmp::Ordering;
use std::sync::Arc;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{
    ConfigKey, FormatError, FormatFactory, PackageFormat, Snippet, SnippetContext,
};

pub const FORMAT: FormatId = FormatId("go");

/// Default upload limit, in bytes.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 500 * 1024 * 1024;

/// The format's settings (`[go]`).
#[derive(Debug, Clone)]
pub struct GoConfig {
    /// Bodies larger than this are refused with 413.
    pub max_file_size: u64,
}

impl Default for GoConfig {
    fn default() -> Self {
        GoConfig {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

pub struct Go {
    config: GoConfig,
}

impl Go {
    pub fn new(config: GoConfig) -> Self {
        Go { config }
    }

    pub fn config(&self) -> &GoConfig {
        &self.config
    }
}

/// How the binary builds this format from its `[go]` section; registered in
/// bin/packyard/src/formats.rs.
pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![ConfigKey::uint(
            "max_file_size",
            DEFAULT_MAX_FILE_SIZE,
            "Largest Go module zip accepted, in bytes (500 MiB, Go's own limit for a module zip).",
        )],
        |s| {
            Arc::new(Go::new(GoConfig {
                max_file_size: s.uint("max_file_size"),
            }))
        },
    )
}

/// What [`module_zip`] wrote.
#[derive(Debug, Clone)]
pub struct MadeZip {
    pub checked: modzip::ModuleZip,
    pub omitted: Vec<modzip::Omitted>,
}

/// `packyard admin go-module-zip`: the module zip of `dir` for `module@version`, as the go
/// command makes it, written to `out` by `write` (the `(name in the zip, file)` pairs, in
/// order; the binary owns the zip writer, as a format crate reads zips through core only),
/// then checked as an upload is checked. A refused zip is removed.
pub fn module_zip(
    dir: &std::path::Path,
    module: &str,
    version: &str,
    out: &std::path::Path,
    write: impl FnOnce(&[(String, std::path::PathBuf)], &mut std::fs::File) -> std::io::Result<()>,
) -> Result<MadeZip, String> {
    use std::io::{Seek, SeekFrom};
    let version = metadata::GoVersion::parse(version)?;
    let chosen = modzip::module_files(dir, module, &version).map_err(|e| e.0)?;
    let shown = |e: std::io::Error| format!("{}: {e}", out.display());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(out)
        .map_err(shown)?;
    let written = write(&chosen.files, &mut file)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .map_err(shown)
        .and_then(|_| {
            modzip::check_zip(std::io::BufReader::new(&mut file), module, &version).map_err(|e| e.0)
        });
    match written {
        Ok(checked) => Ok(MadeZip {
            checked,
            omitted: chosen.omitted,
        }),
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(out);
            Err(e)
        }
    }
}

impl PackageFormat for Go {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "Go"
    }
    /// GitLab's Packages API names Go modules `golang`.
    fn gitlab_package_type(&self) -> &'static str {
        "golang"
    }
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        metadata::normalize_name(name)
    }
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        metadata::compare_versions(a, b)
    }
    fn configure_project(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, self.config.clone());
    }
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        views::snippets(ctx)
    }
}
