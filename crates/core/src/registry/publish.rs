//! Publishing: staging an upload's bytes, committing its row, discarding a refused one.

use super::*;

impl Registry {
    /// Streams `body` into the blob store, then commits the package file row.
    pub async fn publish(
        &self,
        principal: &Principal,
        project: &Project,
        req: PublishRequest,
        body: crate::ports::ByteStream,
    ) -> Result<(Package, PackageFile), ApiError> {
        let digests = self.stage(body, req.max_size).await?;
        self.commit(principal, project, req, digests).await
    }

    /// First half of a publish that must look at the bytes before it commits (PyPI reads
    /// the wheel's METADATA, npm and Cargo the manifest in the tarball): streams `body` into
    /// the blob store and returns its digests. Follow with [`Registry::commit`], or with
    /// [`Registry::discard`] when the file is refused.
    pub async fn stage(
        &self,
        body: crate::ports::ByteStream,
        max_size: Option<u64>,
    ) -> Result<BlobDigests, ApiError> {
        Ok(self.blobs.put(body, max_size).await?)
    }

    /// Reads a staged (or stored) blob, or a range of it, as a stream.
    pub async fn read_blob(
        &self,
        sha256: &str,
        range: Option<RangeRequest>,
    ) -> Result<BlobRead, ApiError> {
        Ok(self.blobs.get(sha256, range).await?)
    }

    /// Second half of a publish: commits the package file row for a staged blob. When the
    /// catalog refuses (duplicate), the upload is discarded ([`Registry::discard`]).
    pub async fn commit(
        &self,
        principal: &Principal,
        project: &Project,
        req: PublishRequest,
        digests: BlobDigests,
    ) -> Result<(Package, PackageFile), ApiError> {
        let sha256 = digests.sha256.clone();
        // Package protection rules apply to every format (crate::protection).
        if let Err(e) = self
            .enforce_protection(
                principal,
                project,
                req.format.0,
                &[req.name.as_str(), req.normalized_name.as_str()],
                Guarded::Push,
            )
            .await
        {
            self.discard(&sha256).await;
            return Err(e);
        }
        let duplicates = match self.duplicate_policy(project, &req).await {
            Ok(policy) => policy,
            Err(e) => {
                self.discard(&sha256).await;
                return Err(e);
            }
        };
        let publish = PublishFile {
            package: NewPackage {
                project_id: project.id,
                format: req.format.0.to_owned(),
                name: req.name,
                normalized_name: req.normalized_name,
                version: req.version,
                status: req.status,
                metadata: req.package_metadata,
            },
            status_override: req.status_override,
            file_name: req.file_name,
            digests,
            file_metadata: req.file_metadata,
            build: principal.build_info(),
            user_id: principal.user().map(|u| u.id),
            duplicates,
        };
        match self.catalog.publish_file(publish).await {
            Ok(done) => Ok(done),
            Err(e) => {
                self.discard(&sha256).await;
                Err(e.into())
            }
        }
    }

    /// A refused upload: nothing to undo in the blob store. Blobs are content-addressed and
    /// shared, so the bytes may be another publish's, staged and not yet committed (or
    /// committed meanwhile): removing them here would lose that file. The temporary object
    /// is already gone (`BlobStore::put` moved it or removed it); an unreferenced final blob
    /// is removed by `packyard gc` once it is older than the grace period, which staging
    /// refreshes (`BlobStore::put`).
    pub async fn discard(&self, sha256: &str) {
        tracing::debug!(sha256, "refused upload; its blob is left to gc");
    }
}
