//! The registry's vocabulary: users, groups, projects, members, credentials, packages.
//!
//! Mirrors GitLab's Package Registry model (<https://docs.gitlab.com/user/packages/package_registry/>):
//! packages live in projects, projects in nested groups or a user's namespace.
//! Times are milliseconds since the Unix epoch (`Millis`), so both catalog backends store
//! them the same way and they sort as integers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
    )*};
}
id_type!(
    UserId,
    GroupId,
    ProjectId,
    PackageId,
    PackageFileId,
    TokenId
);

/// Project and group visibility, ordered from least to most visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Private,
    Internal,
    Public,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [
        Visibility::Private,
        Visibility::Internal,
        Visibility::Public,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "private" => Some(Visibility::Private),
            "internal" => Some(Visibility::Internal),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }
}

/// A member's role. The numbers are GitLab's and appear in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "i16", try_from = "i16")]
pub enum AccessLevel {
    Guest = 10,
    Reporter = 20,
    Developer = 30,
    Maintainer = 40,
    Owner = 50,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 5] = [
        AccessLevel::Guest,
        AccessLevel::Reporter,
        AccessLevel::Developer,
        AccessLevel::Maintainer,
        AccessLevel::Owner,
    ];
    pub fn from_i16(v: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|l| *l as i16 == v)
    }
}

impl From<AccessLevel> for i16 {
    fn from(l: AccessLevel) -> i16 {
        l as i16
    }
}

impl TryFrom<i16> for AccessLevel {
    type Error = String;
    fn try_from(v: i16) -> Result<Self, String> {
        Self::from_i16(v).ok_or_else(|| format!("{v} is not an access level (10, 20, 30, 40, 50)"))
    }
}

/// Per-project package registry access (`package_registry_access_level`).
/// `Public` is GitLab's "allow anyone to pull".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryAccess {
    Disabled,
    Private,
    Enabled,
    Public,
}

impl RegistryAccess {
    pub const ALL: [RegistryAccess; 4] = [
        RegistryAccess::Disabled,
        RegistryAccess::Private,
        RegistryAccess::Enabled,
        RegistryAccess::Public,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryAccess::Disabled => "disabled",
            RegistryAccess::Private => "private",
            RegistryAccess::Enabled => "enabled",
            RegistryAccess::Public => "public",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    /// argon2 PHC string; `None` for users who only use tokens.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub password_hash: Option<String>,
}

/// Per-group package settings (GitLab's `Namespace::PackageSetting`), stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackageSettings {
    pub generic_duplicates_allowed: bool,
    pub generic_duplicate_exception_regex: String,
}

impl Default for PackageSettings {
    fn default() -> Self {
        PackageSettings {
            generic_duplicates_allowed: true,
            generic_duplicate_exception_regex: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub parent_id: Option<GroupId>,
    pub visibility: Visibility,
    pub description: String,
    pub package_settings: PackageSettings,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub path: String,
    pub parent_id: Option<GroupId>,
    pub visibility: Visibility,
    pub description: String,
}

/// Where a project lives: a group or a user's personal namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    Group(GroupId),
    User(UserId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub path: String,
    /// `group/sub/project` or `username/project`.
    pub full_path: String,
    pub namespace: Namespace,
    pub visibility: Visibility,
    pub description: String,
    pub registry_access: RegistryAccess,
    pub creator_id: Option<UserId>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub name: String,
    pub path: String,
    pub namespace: Namespace,
    pub visibility: Visibility,
    pub description: String,
    pub registry_access: RegistryAccess,
    pub creator_id: Option<UserId>,
}

/// What a membership is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSource {
    Group(GroupId),
    Project(ProjectId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub source: MemberSource,
    pub user_id: UserId,
    pub access_level: AccessLevel,
    /// `YYYY-MM-DD`, inclusive.
    pub expires_at: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalAccessToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub scopes: Vec<String>,
    /// `YYYY-MM-DD`; the token is valid through that day (UTC).
    pub expires_at: Option<String>,
    pub revoked: bool,
    pub last_used_at: Option<Millis>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewPersonalAccessToken {
    pub user_id: UserId,
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
    /// Hex SHA-256 of the secret.
    pub digest: String,
}

/// The owner of a deploy token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployTokenOwner {
    Project(ProjectId),
    Group(GroupId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployToken {
    pub id: TokenId,
    pub owner: DeployTokenOwner,
    pub name: String,
    pub username: String,
    /// Echoed as given; only the package scopes grant anything.
    pub scopes: Vec<String>,
    pub expires_at: Option<Millis>,
    pub revoked: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewDeployToken {
    pub owner: DeployTokenOwner,
    pub name: String,
    /// `None`: the catalog assigns `gitlab+deploy-token-{id}`.
    pub username: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<Millis>,
    pub digest: String,
}

/// CI build information carried by a job token and recorded with each publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    pub pipeline_id: i64,
    pub job_id: i64,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobToken {
    pub id: TokenId,
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub build: BuildInfo,
    pub expires_at: Millis,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewJobToken {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub build: BuildInfo,
    pub expires_at: Millis,
    pub digest: String,
}

/// GitLab's package statuses (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageStatus {
    Default,
    Hidden,
    Processing,
    Error,
    PendingDestruction,
    Deprecated,
}

impl PackageStatus {
    pub const ALL: [PackageStatus; 6] = [
        PackageStatus::Default,
        PackageStatus::Hidden,
        PackageStatus::Processing,
        PackageStatus::Error,
        PackageStatus::PendingDestruction,
        PackageStatus::Deprecated,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PackageStatus::Default => "default",
            PackageStatus::Hidden => "hidden",
            PackageStatus::Processing => "processing",
            PackageStatus::Error => "error",
            PackageStatus::PendingDestruction => "pending_destruction",
            PackageStatus::Deprecated => "deprecated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
    /// Shown in a listing without a `status` filter.
    pub fn listed_by_default(self) -> bool {
        matches!(
            self,
            PackageStatus::Default | PackageStatus::Error | PackageStatus::Deprecated
        )
    }
    /// Files of a package in this status can be downloaded.
    pub fn downloadable(self) -> bool {
        matches!(
            self,
            PackageStatus::Default | PackageStatus::Hidden | PackageStatus::Deprecated
        )
    }
    /// A single GET answers for this status.
    pub fn detailed(self) -> bool {
        matches!(self, PackageStatus::Default | PackageStatus::Deprecated)
    }
}

/// A format's stable id (`generic`, `pypi`, `npm`, ...), used in URLs, config and the
/// `packages.format` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FormatId(pub &'static str);

impl fmt::Display for FormatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub id: PackageId,
    pub project_id: ProjectId,
    pub format: String,
    pub name: String,
    /// The name as the package manager compares it (`PackageFormat::normalize_name`).
    pub normalized_name: String,
    pub version: String,
    pub status: PackageStatus,
    /// Format-specific data.
    pub metadata: serde_json::Value,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_downloaded_at: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct NewPackage {
    pub project_id: ProjectId,
    pub format: String,
    pub name: String,
    pub normalized_name: String,
    pub version: String,
    pub status: PackageStatus,
    pub metadata: serde_json::Value,
}

/// Digests of a blob, computed while it streams in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlobDigests {
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    pub sha512: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    pub id: PackageFileId,
    pub package_id: PackageId,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    pub sha512: String,
    pub metadata: serde_json::Value,
    pub build: Option<BuildInfo>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewPackageFile {
    pub package_id: PackageId,
    pub file_name: String,
    pub digests: BlobDigests,
    pub metadata: serde_json::Value,
    pub build: Option<BuildInfo>,
}

/// The last publishes of a package (CI/CD activity), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageBuildInfo {
    pub id: i64,
    pub package_id: PackageId,
    pub user_id: Option<UserId>,
    pub build: BuildInfo,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageTag {
    pub id: i64,
    pub package_id: PackageId,
    pub name: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A change to a package row: its status and/or its format metadata (yank, deprecate).
#[derive(Debug, Clone, Default)]
pub struct PackageUpdate {
    pub status: Option<PackageStatus>,
    pub metadata: Option<serde_json::Value>,
}

/// One package name of a project, as listed on an index's root page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageName {
    pub project_id: ProjectId,
    /// The name as first published.
    pub name: String,
    pub normalized_name: String,
}

/// The change counter of one project's documents for a format: for one package name, or
/// (with an empty name) for the project's list of names. Every change to a package, its
/// files or its tags bumps both in the same transaction, so a document cached under the
/// revisions it was built from is never served stale, by any process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Revision {
    pub project_id: ProjectId,
    pub revision: i64,
    /// When the revision last changed.
    pub updated_at: Millis,
}

/// Instance settings (GitLab's application settings that matter here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceSettings {
    pub package_registry_allow_anyone_to_pull_option: bool,
}

impl Default for InstanceSettings {
    fn default() -> Self {
        InstanceSettings {
            package_registry_allow_anyone_to_pull_option: true,
        }
    }
}

/// `order_by` of the packages list (spec §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PackageOrder {
    #[default]
    CreatedAt,
    Name,
    Version,
    Type,
}

#[derive(Debug, Clone, Default)]
pub struct PackageFilter {
    pub format: Option<String>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Exact version.
    pub version: Option<String>,
    /// One status; `None` lists `default`, `error` and `deprecated`.
    pub status: Option<PackageStatus>,
    /// Exact normalized name, for format routes.
    pub normalized_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    pub fn offset(self) -> i64 {
        (self.page - 1) * self.per_page
    }
}
