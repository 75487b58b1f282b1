//! Endpoint handlers: upload, simple pages, file downloads, yank.

pub mod files;
pub mod simple;
pub mod upload;
pub mod yank;

use packyard_core::model::{PackageFile, ProjectId};
use packyard_core::Registry;

/// Keys of the JSON stored with each file (`PackageFile.metadata`) and package.
pub mod keys {
    /// `bdist_wheel` or `sdist`.
    pub const FILETYPE: &str = "filetype";
    /// The wheel's python tag, `source` for an sdist.
    pub const PYTHON_VERSION: &str = "python_version";
    pub const REQUIRES_PYTHON: &str = "requires_python";
    /// The wheel's METADATA file, served at `<file URL>.metadata` (PEP 658).
    pub const CORE_METADATA: &str = "core_metadata";
    pub const CORE_METADATA_SHA256: &str = "core_metadata_sha256";
    /// On a package (the whole release) or a file (PEP 592).
    pub const YANKED: &str = "yanked";
    pub const YANKED_REASON: &str = "yanked_reason";
    pub const SUMMARY: &str = "summary";
}

/// The absolute download URL of a file: GitLab's
/// `/projects/:id/packages/pypi/files/:sha256/:file_name`.
pub fn file_url(registry: &Registry, project: ProjectId, file: &PackageFile) -> String {
    registry.url(&format!(
        "/api/v4/projects/{}/packages/pypi/files/{}/{}",
        project.0, file.sha256, file.file_name
    ))
}
