//! Request handlers, one module per group of endpoints.

pub mod delete;
pub mod flat;
pub mod push;
pub mod registration;
pub mod search;
pub mod service_index;
pub mod symbols;
pub mod v2;

use packyard_core::documents::DerivedCache;

use crate::index::PackageIndex;
use crate::NugetConfig;

/// What every handler shares: the settings and the package index cache.
pub struct State {
    pub config: NugetConfig,
    pub indexes: DerivedCache<PackageIndex>,
    /// Each project's symbol files, for the symbol server (`symbols`).
    pub symbols: DerivedCache<symbols::SymbolIndex>,
}
