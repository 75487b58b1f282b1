//! Reading a `.nupkg` (or `.snupkg`): a zip with one `.nuspec` at its root (owned by the
//! nugetparse task; this is the agreed API, stubbed).
//!
//! Bounded by `packyard_core::archive` (entries, decompressed bytes, member size); an entry
//! whose path climbs out of the package (`..`, absolute, a drive) refuses the package.

use std::io::{Read, Seek};

use crate::nuspec::Nuspec;
use crate::version::NugetVersion;

/// What a package holds that the registry keeps.
#[derive(Debug, Clone)]
pub struct Nupkg {
    pub nuspec: Nuspec,
    /// The `.nuspec` as stored in the package (served as the flat container's `.nuspec`).
    pub nuspec_xml: String,
    pub version: NugetVersion,
}

/// Why a package is refused: a sentence the client prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPackage(pub String);

/// Reads the package's `.nuspec` and checks every entry path.
pub fn read<R: Read + Seek>(reader: R) -> Result<Nupkg, InvalidPackage> {
    let _ = reader;
    Err(InvalidPackage("package reading is not written yet".into()))
}
