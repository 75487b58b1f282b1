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
    /// Blocked users keep their memberships and projects, but none of their own
    /// credentials (password, web sessions, personal access and job tokens) works.
    pub state: UserState,
}

impl User {
    pub fn is_blocked(&self) -> bool {
        self.state == UserState::Blocked
    }
}

/// GitLab's user `state` (<https://docs.gitlab.com/api/users/#block-access-to-a-user>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    Active,
    Blocked,
}

impl UserState {
    pub const ALL: [UserState; 2] = [UserState::Active, UserState::Blocked];
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Blocked => "blocked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
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
    pub origin: JobTokenOrigin,
}

/// The credential a job token was minted with. A job token lives no longer than it: when
/// that personal access token is revoked (or rotated), expires or is deleted, its job tokens
/// are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobTokenOrigin {
    /// `POST /projects/:id/ci/job_token` with this personal access token. `None`: the row
    /// names no token (minted before origins were recorded, or the token row is gone), so
    /// the job token is refused.
    PersonalAccessToken(Option<TokenId>),
    /// A signed-in web session of its user, with no personal access token.
    Session,
}

impl JobTokenOrigin {
    /// The `job_tokens.origin` column.
    pub fn as_str(self) -> &'static str {
        match self {
            JobTokenOrigin::PersonalAccessToken(_) => "personal_access_token",
            JobTokenOrigin::Session => "session",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewJobToken {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub build: BuildInfo,
    pub expires_at: Millis,
    pub digest: String,
    pub origin: JobTokenOrigin,
}

/// A job token as authentication reads it, in one query: the row, its user, and the
/// personal access token that minted it as that token is now (`None` when it was minted
/// without one, or that token no longer exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTokenLogin {
    pub token: JobToken,
    pub user: User,
    pub minted_by: Option<PersonalAccessToken>,
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

// ---- management API (users, tokens, groups, projects, members): filters and changes

/// How a listing is paged: GitLab's offset pagination, or keyset pagination on `id`
/// (`pagination=keyset&order_by=id`), which needs no count and no offset scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    Offset(Page),
    /// Rows after `after_id` in the listing's id order (ascending or descending).
    Keyset {
        per_page: i64,
        after_id: Option<i64>,
    },
}

impl Paging {
    pub fn per_page(self) -> i64 {
        match self {
            Paging::Offset(p) => p.per_page,
            Paging::Keyset { per_page, .. } => per_page,
        }
    }
}

/// `order_by` of the user, group and project listings; each listing accepts a subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    #[default]
    Id,
    Name,
    Path,
    Username,
    CreatedAt,
}

/// Order and page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOptions {
    pub order: ListOrder,
    pub descending: bool,
    pub paging: Paging,
}

/// One page of a listing; `total` is `None` under keyset pagination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: Option<i64>,
}

/// Filters of `GET /users`.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Exact username, case-insensitive.
    pub username: Option<String>,
    /// Case-insensitive substring of the username or name (or email, when `search_email`).
    pub search: Option<String>,
    pub search_email: bool,
    /// `Some(true)`: only blocked users (`GET /users?blocked=true`); `Some(false)`: only
    /// active ones.
    pub blocked: Option<bool>,
}

/// A change to a user (`PUT /users/:id`); `None` leaves the field alone.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// A new username also renames the user's personal namespace (project full paths).
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub is_admin: Option<bool>,
    pub password_hash: Option<String>,
}

/// What a caller may see of groups and projects, gathered by the Registry and applied by
/// the catalog inside the listing query.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Admins see everything.
    pub everything: bool,
    /// Rows at or above this visibility are visible (`Public` for anonymous callers,
    /// `Internal` for signed-in ones); `None`: visibility grants nothing (membership lists).
    pub min_visibility: Option<Visibility>,
    /// Projects the caller is a direct member of.
    pub project_ids: Vec<ProjectId>,
    /// Groups the caller is a member of: these groups, every group below them (by
    /// `parent_id`, never by a path prefix) and every project in them.
    pub group_ids: Vec<GroupId>,
    /// The caller's personal namespace.
    pub owner: Option<UserId>,
}

/// Filters of `GET /groups`, `GET /groups/:id/subgroups` and `/descendant_groups`.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub reach: Reach,
    /// Case-insensitive substring of the name or path.
    pub search: Option<String>,
    pub top_level_only: bool,
    /// Direct children of this group.
    pub parent: Option<GroupId>,
    /// Strict descendants of this group (by `parent_id`).
    pub descendants_of: Option<GroupId>,
}

/// Filters of `GET /projects` and `GET /groups/:id/projects`.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub reach: Reach,
    /// Case-insensitive substring of the name or path.
    pub search: Option<String>,
    pub visibility: Option<Visibility>,
    /// Projects directly in this group.
    pub group: Option<GroupId>,
    /// With `group`: also the projects of every group below it (by `parent_id`).
    pub include_subgroups: bool,
}

/// A change to a group (`PUT /groups/:id`).
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    pub name: Option<String>,
    /// A new path renames the group's full path and those of everything under it.
    pub path: Option<String>,
    pub visibility: Option<Visibility>,
    pub description: Option<String>,
}

/// A change to a project (`PUT /projects/:id`).
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate {
    pub name: Option<String>,
    pub path: Option<String>,
    pub visibility: Option<Visibility>,
    pub description: Option<String>,
    pub registry_access: Option<RegistryAccess>,
}

/// Filters of `GET /personal_access_tokens` (spec §2.2).
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    pub user_id: Option<UserId>,
    pub revoked: Option<bool>,
    /// `Some(true)`: active (not revoked, not expired); `Some(false)`: inactive.
    pub active: Option<bool>,
    /// `YYYY-MM-DD` (UTC), for the `active` filter.
    pub today: String,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    pub created_after: Option<Millis>,
    pub created_before: Option<Millis>,
    pub last_used_after: Option<Millis>,
    pub last_used_before: Option<Millis>,
}

/// A member together with the user it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberWithUser {
    pub member: Member,
    pub user: User,
}

/// One of a user's unexpired memberships, with the group's full path for group ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub source: MemberSource,
    pub access_level: AccessLevel,
    /// The group's full path (`None` for project memberships), for display: decide who
    /// may do what by `source` and the tree's ids, never by a path prefix.
    pub group_path: Option<String>,
}

// ---- package administration (protection rules, cleanup policies, package settings)

/// `minimum_access_level_for_push` / `_for_delete` of a package protection rule
/// (<https://docs.gitlab.com/api/project_packages_protection_rules/>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtectionLevel {
    Maintainer,
    Owner,
    /// Instance administrators only.
    Admin,
}

impl ProtectionLevel {
    pub const ALL: [ProtectionLevel; 3] = [
        ProtectionLevel::Maintainer,
        ProtectionLevel::Owner,
        ProtectionLevel::Admin,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ProtectionLevel::Maintainer => "maintainer",
            ProtectionLevel::Owner => "owner",
            ProtectionLevel::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A package protection rule of one project: packages whose name matches
/// `package_name_pattern` (`*` = any run of characters, case-insensitive) and whose type is
/// `package_type` may be pushed or deleted only from the given levels up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectionRule {
    pub id: i64,
    pub project_id: ProjectId,
    pub package_name_pattern: String,
    pub package_type: String,
    pub minimum_access_level_for_push: Option<ProtectionLevel>,
    pub minimum_access_level_for_delete: Option<ProtectionLevel>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewProtectionRule {
    pub project_id: ProjectId,
    pub package_name_pattern: String,
    pub package_type: String,
    pub minimum_access_level_for_push: Option<ProtectionLevel>,
    pub minimum_access_level_for_delete: Option<ProtectionLevel>,
}

/// A project's package cleanup policy (GitLab's `Packages::Cleanup::Policy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupPolicy {
    pub project_id: ProjectId,
    /// How many files of one name a package keeps; `None` is GitLab's `all` (off).
    pub keep_n_duplicated_package_files: Option<i64>,
    /// When the scheduled job runs it next; `None` while the policy is off.
    pub next_run_at: Option<Millis>,
    pub updated_at: Millis,
}

impl CleanupPolicy {
    /// The values GitLab accepts for `keep_n_duplicated_package_files` besides `all`.
    pub const KEEP_VALUES: [i64; 6] = [1, 10, 20, 30, 40, 50];

    pub fn keep_as_str(&self) -> String {
        match self.keep_n_duplicated_package_files {
            None => "all".into(),
            Some(n) => n.to_string(),
        }
    }
}

/// The duplicate setting of one format in a group (`<format>_duplicates_allowed` and
/// `<format>_duplicate_exception_regex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateSetting {
    pub allowed: bool,
    /// Anchored regex tested against the package name or version; empty = none.
    pub exception_regex: String,
}

/// A group's duplicate settings, one per installed format that has GitLab's setting
/// (`PackageFormat::duplicate_rule`; `Registry::formats`), read from (and written back to)
/// the JSON document of the group's `package_settings`, a superset of [`PackageSettings`]
/// with the same field names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamespacePackageSettings {
    pub formats: std::collections::BTreeMap<String, DuplicateSetting>,
}

impl NamespacePackageSettings {
    /// Reads `<format>_duplicates_allowed` / `<format>_duplicate_exception_regex` of each of
    /// `formats` (`(id, allowed by default)`); what is missing or of the wrong type takes the
    /// default. Keys of other formats are not read.
    pub fn from_json(doc: &serde_json::Value, formats: &[(&str, bool)]) -> Self {
        let formats = formats
            .iter()
            .map(|(format, default_allowed)| {
                let allowed = doc
                    .get(format!("{format}_duplicates_allowed"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(*default_allowed);
                let exception_regex = doc
                    .get(format!("{format}_duplicate_exception_regex"))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                (
                    (*format).to_owned(),
                    DuplicateSetting {
                        allowed,
                        exception_regex,
                    },
                )
            })
            .collect();
        NamespacePackageSettings { formats }
    }

    /// The flat JSON document, every format present.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (format, s) in &self.formats {
            map.insert(
                format!("{format}_duplicates_allowed"),
                serde_json::Value::Bool(s.allowed),
            );
            map.insert(
                format!("{format}_duplicate_exception_regex"),
                serde_json::Value::String(s.exception_regex.clone()),
            );
        }
        serde_json::Value::Object(map)
    }

    /// The setting of `format`, or `allowed_by_default` with no exception when it has none.
    pub fn setting_or(&self, format: &str, allowed_by_default: bool) -> DuplicateSetting {
        self.formats
            .get(format)
            .cloned()
            .unwrap_or_else(|| DuplicateSetting {
                allowed: allowed_by_default,
                exception_regex: String::new(),
            })
    }
}

/// A signed-in browser session (web UI). The cookie carries a random secret; the catalog
/// keeps only its sha256 (`id_digest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub id_digest: String,
    pub user_id: UserId,
    /// The session's CSRF token, echoed by every form.
    pub csrf_token: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// Failed sign-ins of one username, for throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    pub failures: i64,
    pub first_failed_at: Millis,
    /// Sign-ins are refused until then.
    pub locked_until: Option<Millis>,
}

/// How many sign-in attempts one username gets ([`crate::ports::Catalog::reserve_login_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Attempts allowed within `window` ms of the first one.
    pub max_attempts: i64,
    pub window: Millis,
    /// How long, in ms, a username is refused once it went past `max_attempts`.
    pub lockout: Millis,
}

impl LoginFailures {
    /// Whether the attempt that returned this count may check its password.
    pub fn allows(&self, limits: LoginLimits) -> bool {
        self.failures <= limits.max_attempts
    }
}
