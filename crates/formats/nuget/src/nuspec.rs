//! The `.nuspec` manifest (owned by the nugetparse task; this is the agreed API, stubbed).
//!
//! <https://learn.microsoft.com/en-us/nuget/reference/nuspec>. Read with a bounded pull
//! parser: no DTD, no entities beyond XML's five, depth, element count and text length
//! bounded.

use serde::{Deserialize, Serialize};

/// Largest `.nuspec` read, in bytes.
pub const MAX_NUSPEC: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nuspec {
    pub id: String,
    /// As written in the file.
    pub version: String,
    pub title: Option<String>,
    pub authors: String,
    pub owners: Option<String>,
    pub description: String,
    pub summary: Option<String>,
    pub release_notes: Option<String>,
    pub copyright: Option<String>,
    pub language: Option<String>,
    /// `<tags>` split on spaces (and commas).
    pub tags: Vec<String>,
    pub project_url: Option<String>,
    pub icon_url: Option<String>,
    pub license_url: Option<String>,
    pub license: Option<License>,
    pub icon: Option<String>,
    pub readme: Option<String>,
    pub require_license_acceptance: bool,
    pub development_dependency: bool,
    pub min_client_version: Option<String>,
    /// `<dependencies>`: groups by target framework; ungrouped `<dependency>` elements are
    /// one group with no framework.
    pub dependency_groups: Vec<DependencyGroup>,
    pub package_types: Vec<PackageType>,
    pub repository: Option<Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// `expression` or `file`.
    pub kind: String,
    pub value: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyGroup {
    pub target_framework: Option<String>,
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub id: String,
    /// The `version` attribute as written (a range).
    pub range: Option<String>,
    pub include: Option<String>,
    pub exclude: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageType {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub kind: Option<String>,
    pub url: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
}

/// Why a `.nuspec` is refused: a sentence the client prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidNuspec(pub String);

/// Parses a `.nuspec`. Requires `id` (valid per [`validate_id`]), `version` (a NuGet
/// version), `authors` and `description`.
pub fn parse(xml: &[u8]) -> Result<Nuspec, InvalidNuspec> {
    let _ = xml;
    Err(InvalidNuspec("nuspec parsing is not written yet".into()))
}

/// A package id NuGet accepts: at most 100 characters, letters, digits, `_`, and `.`/`-`
/// between them.
pub fn validate_id(id: &str) -> Result<(), InvalidNuspec> {
    let _ = id;
    Ok(())
}
