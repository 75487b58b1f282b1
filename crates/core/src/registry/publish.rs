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
        let max_size = req.max_size;
        self.stage(body, max_size)
            .await?
            .commit(principal, project, req)
            .await
    }

    /// First half of a publish that must look at the bytes before it commits (PyPI reads
    /// the wheel's METADATA, npm and Cargo the manifest in the tarball): streams `body` into
    /// the blob store and returns the guard of the upload. Commit it with
    /// [`Staged::commit`](crate::staged::Staged::commit); dropping it discards the upload.
    pub async fn stage(
        &self,
        body: crate::ports::ByteStream,
        max_size: Option<u64>,
    ) -> Result<crate::staged::Staged<'_>, ApiError> {
        let digests = self.blobs.put(body, max_size).await?;
        Ok(crate::staged::Staged::new(self, digests))
    }

    /// How many staged uploads were discarded (dropped uncommitted) since start.
    pub fn discarded_uploads(&self) -> u64 {
        self.discarded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads a stored blob, or a range of it, as a stream, by its digest: not a format's
    /// door, which reads its staged bytes with [`Staged::read`](crate::staged::Staged::read)
    /// and serves files with [`Registry::download`].
    pub async fn read_blob(
        &self,
        sha256: &str,
        range: Option<RangeRequest>,
    ) -> Result<BlobRead, ApiError> {
        Ok(self.blobs.get(sha256, range).await?)
    }

    /// Second half of a publish, reached through [`Staged::commit`](crate::staged::Staged::commit)
    /// only: checks the publish right and the protection rules of the name, then commits the
    /// package file row for the staged blob. A refusal leaves the guard to discard it.
    pub(crate) async fn commit(
        &self,
        principal: &Principal,
        project: &Project,
        req: PublishRequest,
        digests: BlobDigests,
    ) -> Result<(Package, PackageFile), ApiError> {
        // The publish right and the package protection rules apply to every format
        // (crate::protection), whatever the handler checked before.
        self.authorize_name_write(
            principal,
            project,
            req.format.0,
            &[req.name.as_str(), req.normalized_name.as_str()],
            Guarded::Push,
        )
        .await?;
        // The duplicate rule is the format's, not the handler's (registry::duplicates).
        let duplicates = self.duplicate_policy(project, &req).await?;
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
        Ok(self.catalog.publish_file(publish).await?)
    }

    /// A refused upload (a [`Staged`](crate::staged::Staged) dropped uncommitted): nothing to
    /// undo in the blob store. Blobs are content-addressed and shared, so the bytes may be
    /// another publish's, staged and not yet committed (or committed meanwhile): removing
    /// them here would lose that file. The temporary object is already gone
    /// (`BlobStore::put` moved it or removed it); an unreferenced final blob is removed by
    /// `packyard gc` once it is older than the grace period, which staging refreshes
    /// (`BlobStore::put`).
    pub(crate) fn discard(&self, digests: &BlobDigests) {
        self.discarded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(sha256 = %digests.sha256, "refused upload; its blob is left to gc");
    }
}
