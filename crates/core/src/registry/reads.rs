//! Package reads for formats (`PackageReads`) and downloads.

use super::*;

impl Registry {
    /// The package reads formats use (no writes, no users, no settings).
    pub fn packages(&self) -> PackageReads<'_> {
        PackageReads {
            catalog: self.catalog.as_ref(),
        }
    }

    /// Opens a file for download (a stream, or a presigned redirect when configured), and
    /// records the download.
    pub async fn download(
        &self,
        package: &Package,
        file: &PackageFile,
        range: Option<RangeRequest>,
    ) -> Result<Download, ApiError> {
        // At most one catalog write per package and minute in each process, whatever copy
        // of the row the caller holds.
        let now = now_millis();
        let last = self
            .downloaded
            .get(&package.id)
            .into_iter()
            .chain(package.last_downloaded_at)
            .max();
        if last.is_none_or(|at| now - at > 60_000) {
            self.downloaded.insert(package.id, now);
            self.catalog
                .touch_package_downloaded(package.id, now)
                .await?;
        }
        if self.config.presigned_downloads && range.is_none() {
            let disposition = content_disposition(
                &percent_encoding::percent_decode_str(&file.file_name).decode_utf8_lossy(),
            );
            if let Some(url) = self
                .blobs
                .presigned_url(&file.sha256, self.config.presign_ttl, &disposition)
                .await?
            {
                return Ok(Download::Redirect(url));
            }
        }
        Ok(Download::Stream(self.blobs.get(&file.sha256, range).await?))
    }
}

/// The package reads a format needs, and nothing else: a format changes packages only
/// through the checked `Registry` methods (`commit`, `set_package_tag`, `update_package`,
/// `delete_package`, ...), so the policy and the protection rules cannot be skipped.
/// Callers have authorized the read (`Action::ReadPackage`) of every project they pass.
#[derive(Clone, Copy)]
pub struct PackageReads<'a> {
    catalog: &'a dyn Catalog,
}

impl PackageReads<'_> {
    /// Every version of one package name, oldest first.
    pub async fn packages_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError> {
        self.catalog
            .packages_by_name(project, format, normalized_name)
            .await
    }

    /// Every version of one name in any of these projects, oldest first.
    pub async fn packages_by_name_in(
        &self,
        projects: &[ProjectId],
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError> {
        self.catalog
            .packages_by_name_in(projects, format, normalized_name)
            .await
    }

    /// The files of many packages, by package id then file id.
    pub async fn package_files_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageFile>, CatalogError> {
        self.catalog.package_files_of(packages).await
    }

    /// Every tag of every version of one name: `(tag, package id)`, by tag name.
    pub async fn package_tags_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<(String, PackageId)>, CatalogError> {
        self.catalog
            .package_tags_by_name(project, format, normalized_name)
            .await
    }

    /// The distinct names of the format's visible packages in these projects.
    pub async fn package_names(
        &self,
        projects: &[ProjectId],
        format: &str,
    ) -> Result<Vec<PackageName>, CatalogError> {
        self.catalog.package_names(projects, format).await
    }

    /// The newest file called `file_name` of one version whose status is one of `statuses`.
    pub async fn newest_package_file(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
        version: &str,
        file_name: &str,
        statuses: &[PackageStatus],
    ) -> Result<Option<(Package, PackageFile)>, CatalogError> {
        self.catalog
            .newest_package_file(
                project,
                format,
                normalized_name,
                version,
                file_name,
                statuses,
            )
            .await
    }
}
