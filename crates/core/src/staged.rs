//! `Staged`: an upload's bytes in the blob store that are not yet a package file.
//!
//! [`Registry::stage`] streams a body into the blob store and returns a `Staged`. A format
//! then looks at the bytes ([`Staged::read`], [`crate::body::read_blocking`]) and either
//! commits the file with [`Staged::commit`], which consumes the guard, or returns early:
//! dropping the guard discards the upload. So an early `?` can neither leak an upload nor
//! commit one by mistake, and a format holds no digests it could commit without staging.
//!
//! Discarding never deletes a blob. Blobs are content-addressed and shared: the same bytes
//! may be another publish's, staged and not yet committed, or committed meanwhile, and
//! removing them would lose that file. The temporary object is already gone when staging
//! returns (`BlobStore::put` moves it into place or removes it); an unreferenced final blob
//! is removed by `packyard gc` once it is older than the grace period, which staging
//! refreshes.

use crate::error::ApiError;
use crate::model::{BlobDigests, Package, PackageFile, Project};
use crate::ports::RangeRequest;
use crate::registry::{Principal, PublishRequest, Registry};

/// An upload staged in the blob store, not yet committed. Commit it with
/// [`Staged::commit`]; dropping it discards it (see the module documentation).
///
/// ```compile_fail
/// # async fn twice(staged: packyard_core::staged::Staged<'_>, p: &packyard_core::Principal,
/// #     project: &packyard_core::model::Project, req: packyard_core::registry::PublishRequest) {
/// let _ = staged.commit(p, project, req.clone()).await;
/// let _ = staged.commit(p, project, req).await; // `commit` consumed it
/// # }
/// ```
#[must_use = "a Staged upload is discarded when dropped: commit it or let it go on purpose"]
pub struct Staged<'r> {
    registry: &'r Registry,
    digests: BlobDigests,
    /// Cleared by a successful commit; a guard dropped while set discards the upload.
    pending: bool,
}

impl<'r> Staged<'r> {
    pub(crate) fn new(registry: &'r Registry, digests: BlobDigests) -> Self {
        Staged {
            registry,
            digests,
            pending: true,
        }
    }

    /// The digests and size of the staged bytes.
    pub fn digests(&self) -> &BlobDigests {
        &self.digests
    }

    pub fn sha256(&self) -> &str {
        &self.digests().sha256
    }

    pub fn size(&self) -> u64 {
        self.digests().size
    }

    /// Reads the staged bytes (or a range of them) back as a stream, to check what they
    /// hold before committing.
    pub async fn read(
        &self,
        range: Option<RangeRequest>,
    ) -> Result<crate::ports::BlobRead, ApiError> {
        self.registry.read_blob(self.sha256(), range).await
    }

    /// Commits the package file row for these bytes through the Registry's checked commit
    /// (the publish right, the package protection rules, the duplicate policy, inside the
    /// catalog's transaction). Consumes the guard; when the commit is refused, the upload
    /// is discarded.
    pub async fn commit(
        mut self,
        principal: &Principal,
        project: &Project,
        req: PublishRequest,
    ) -> Result<(Package, PackageFile), ApiError> {
        let done = self
            .registry
            .commit(principal, project, req, self.digests.clone())
            .await?;
        // Committed: nothing to discard.
        self.pending = false;
        Ok(done)
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        if self.pending {
            self.registry.discard(&self.digests);
        }
    }
}

impl std::fmt::Debug for Staged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("digests", &self.digests)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}
