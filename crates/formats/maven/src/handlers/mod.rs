//! Request handlers: reads (`GET`/`HEAD` of files, checksums and metadata, at project,
//! group and instance level) and writes (`PUT` of files, checksums and metadata).

pub mod read;
pub mod write;

use packyard_core::documents::DerivedCache;

use crate::index::ArtifactIndex;
use crate::MavenConfig;

/// What the handlers share: the settings and the artifact index cache.
pub struct State {
    pub config: MavenConfig,
    pub indexes: DerivedCache<ArtifactIndex>,
}
