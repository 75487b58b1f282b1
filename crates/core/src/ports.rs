//! Ports: the traits through which the core reaches data.
//!
//! `Catalog` (metadata, implemented by `packyard-db` over SQLite or PostgreSQL) and
//! `BlobStore` (bytes, implemented by `packyard-storage` over a folder or S3). The core never
//! sees diesel or rust-s3; adapters never see HTTP.

use crate::model::*;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::time::Duration;

/// A stream of body bytes, as uploads arrive and downloads leave.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A uniqueness rule was broken (a taken path, an existing member, a duplicate file).
    /// The text is safe to show to clients.
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// The backend failed. Never shown to clients.
    #[error("catalog backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl CatalogError {
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        CatalogError::Backend(Box::new(e))
    }
}

/// How `Catalog::publish_file` treats what already exists, decided inside its transaction
/// so that two processes publishing the same thing at once get one winner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuplicatePolicy {
    /// Append the file even if one of the same name exists (generic default).
    Allow,
    /// Refuse with `Conflict(message)` when the package already has a file of this name.
    RejectSameFileName { message: String },
    /// Refuse with `Conflict(message)` when the package (name + version) already exists.
    RejectExistingVersion { message: String },
}

#[derive(Debug, Clone)]
pub struct PublishFile {
    pub package: NewPackage,
    /// Overwrites the status of an existing package when set (generic `status=`).
    pub status_override: Option<PackageStatus>,
    pub file_name: String,
    pub digests: BlobDigests,
    pub file_metadata: serde_json::Value,
    pub build: Option<BuildInfo>,
    /// The user behind the publish, for CI/CD activity.
    pub user_id: Option<UserId>,
    pub duplicates: DuplicatePolicy,
}

#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Readiness: the backend answers a trivial query.
    async fn ping(&self) -> Result<(), CatalogError>;

    /// The catalog's change stamp: a value that differs between two calls whenever anything
    /// was committed in between, by this process or any other. Values read after taking a
    /// stamp may be reused for as long as the stamp is unchanged (see `crate::stamped`).
    /// `None` when the backend cannot tell cheaply; callers then read every time. Called on
    /// every request from the async workers, so it must answer in microseconds.
    fn change_stamp(&self) -> Result<Option<u64>, CatalogError> {
        Ok(None)
    }

    // ---- users
    async fn create_user(&self, new: NewUser) -> Result<User, CatalogError>;
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, CatalogError>;
    async fn user_by_username(&self, username: &str) -> Result<Option<User>, CatalogError>;
    async fn count_users(&self) -> Result<i64, CatalogError>;

    // ---- personal access tokens (looked up by hex SHA-256 digest of the secret)
    async fn create_personal_access_token(
        &self,
        new: NewPersonalAccessToken,
    ) -> Result<PersonalAccessToken, CatalogError>;
    async fn personal_access_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<PersonalAccessToken>, CatalogError>;
    async fn touch_personal_access_token(
        &self,
        id: TokenId,
        at: Millis,
    ) -> Result<(), CatalogError>;
    async fn revoke_personal_access_token(&self, id: TokenId) -> Result<(), CatalogError>;

    // ---- deploy tokens
    async fn create_deploy_token(&self, new: NewDeployToken) -> Result<DeployToken, CatalogError>;
    async fn deploy_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<DeployToken>, CatalogError>;
    async fn revoke_deploy_token(&self, id: TokenId) -> Result<(), CatalogError>;

    // ---- CI job tokens
    async fn create_job_token(&self, new: NewJobToken) -> Result<JobToken, CatalogError>;
    /// The job token with this digest, its user and the token that minted it, in one query
    /// (a join): what authentication needs, at the cost of one lookup.
    async fn job_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<JobTokenLogin>, CatalogError>;
    /// Ends a job token (`DELETE /projects/:id/ci/job_token`); false when it was gone.
    async fn delete_job_token(&self, id: TokenId) -> Result<bool, CatalogError>;
    /// Lets job tokens of `source` act on `target`.
    async fn add_job_token_allowlist(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<(), CatalogError>;
    async fn job_token_allowed(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<bool, CatalogError>;

    // ---- groups and projects
    /// Computes `full_path` from the parent. `Conflict` when the path is taken.
    async fn create_group(&self, new: NewGroup) -> Result<Group, CatalogError>;
    async fn group_by_id(&self, id: GroupId) -> Result<Option<Group>, CatalogError>;
    async fn group_by_full_path(&self, full_path: &str) -> Result<Option<Group>, CatalogError>;
    /// The group and its ancestors, the group itself first, the top-level group last.
    async fn group_ancestors(&self, id: GroupId) -> Result<Vec<Group>, CatalogError>;
    async fn set_group_package_settings(
        &self,
        id: GroupId,
        settings: &PackageSettings,
    ) -> Result<(), CatalogError>;
    /// Computes `full_path` from the namespace. `Conflict` when the path is taken.
    async fn create_project(&self, new: NewProject) -> Result<Project, CatalogError>;
    async fn project_by_id(&self, id: ProjectId) -> Result<Option<Project>, CatalogError>;
    async fn project_by_full_path(&self, full_path: &str) -> Result<Option<Project>, CatalogError>;
    async fn set_project_registry_access(
        &self,
        id: ProjectId,
        access: RegistryAccess,
    ) -> Result<(), CatalogError>;

    // ---- members
    /// `Conflict("Member already exists")` when the user is already a direct member.
    async fn add_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<String>,
    ) -> Result<Member, CatalogError>;
    /// The highest unexpired level of `user` on the project, directly or through any ancestor
    /// group. `today` is `YYYY-MM-DD` (UTC) for the expiry comparison.
    async fn effective_access_level(
        &self,
        user: UserId,
        project: ProjectId,
        today: &str,
    ) -> Result<Option<AccessLevel>, CatalogError>;

    // ---- management (users, tokens, groups, projects, members)
    /// One page of users.
    async fn list_users(
        &self,
        filter: UserFilter,
        options: ListOptions,
    ) -> Result<Listing<User>, CatalogError>;
    /// The user with this email, compared case-insensitively.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, CatalogError>;
    /// Applies `update`; a new username moves the personal namespace's projects. `None` when
    /// the user does not exist; `Conflict` when the username is taken.
    async fn update_user(
        &self,
        id: UserId,
        update: UserUpdate,
    ) -> Result<Option<User>, CatalogError>;
    /// Deletes the user with its personal projects (and their packages), tokens and
    /// memberships. `false` when it was not there.
    async fn delete_user(&self, id: UserId) -> Result<bool, CatalogError>;
    /// Blocks or unblocks the user; blocking also ends all its web sessions, in the same
    /// transaction. `None` when the user does not exist.
    async fn set_user_state(
        &self,
        id: UserId,
        state: UserState,
    ) -> Result<Option<User>, CatalogError>;
    async fn list_personal_access_tokens(
        &self,
        filter: TokenFilter,
        page: Page,
    ) -> Result<Listing<PersonalAccessToken>, CatalogError>;
    async fn personal_access_token_by_id(
        &self,
        id: TokenId,
    ) -> Result<Option<PersonalAccessToken>, CatalogError>;
    /// In one transaction: revokes `old` (`Conflict` if it already was) and creates `new`.
    async fn rotate_personal_access_token(
        &self,
        old: TokenId,
        new: NewPersonalAccessToken,
    ) -> Result<PersonalAccessToken, CatalogError>;
    async fn list_groups(
        &self,
        filter: GroupFilter,
        options: ListOptions,
    ) -> Result<Listing<Group>, CatalogError>;
    /// Applies `update`; a new path renames everything under the group. `None` when missing.
    async fn update_group(
        &self,
        id: GroupId,
        update: GroupUpdate,
    ) -> Result<Option<Group>, CatalogError>;
    /// Deletes the group, its subgroups, their projects (with packages), members and deploy
    /// tokens. `false` when it was not there.
    async fn delete_group(&self, id: GroupId) -> Result<bool, CatalogError>;
    async fn list_projects(
        &self,
        filter: ProjectFilter,
        options: ListOptions,
    ) -> Result<Listing<Project>, CatalogError>;
    async fn update_project(
        &self,
        id: ProjectId,
        update: ProjectUpdate,
    ) -> Result<Option<Project>, CatalogError>;
    /// Deletes the project with its packages, files, tags, members and tokens (blobs are
    /// left to `gc`). `false` when it was not there.
    async fn delete_project(&self, id: ProjectId) -> Result<bool, CatalogError>;
    /// Direct members of one group or project, by user id.
    async fn list_members(
        &self,
        source: MemberSource,
        search: Option<String>,
        page: Page,
    ) -> Result<Listing<MemberWithUser>, CatalogError>;
    /// Unexpired members of any of `sources`, one per user with their highest level.
    async fn list_inherited_members(
        &self,
        sources: Vec<MemberSource>,
        today: &str,
        page: Page,
    ) -> Result<Listing<MemberWithUser>, CatalogError>;
    async fn member(
        &self,
        source: MemberSource,
        user: UserId,
    ) -> Result<Option<Member>, CatalogError>;
    /// Sets the level (and the expiry, when `Some`). `None` when not a direct member.
    async fn update_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<Option<String>>,
    ) -> Result<Option<Member>, CatalogError>;
    async fn remove_member(&self, source: MemberSource, user: UserId)
        -> Result<bool, CatalogError>;
    /// The user's unexpired direct memberships.
    async fn user_memberships(
        &self,
        user: UserId,
        today: &str,
    ) -> Result<Vec<Membership>, CatalogError>;
    /// Deploy tokens of one owner (`None`: all of them), by id.
    async fn list_deploy_tokens(
        &self,
        owner: Option<DeployTokenOwner>,
        active_only: bool,
        page: Page,
    ) -> Result<Listing<DeployToken>, CatalogError>;
    async fn deploy_token_by_id(&self, id: TokenId) -> Result<Option<DeployToken>, CatalogError>;
    async fn delete_deploy_token(&self, id: TokenId) -> Result<bool, CatalogError>;
    /// The projects whose job tokens may act on `target`.
    async fn list_job_token_allowlist(
        &self,
        target: ProjectId,
        page: Page,
    ) -> Result<Listing<Project>, CatalogError>;
    async fn remove_job_token_allowlist(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<bool, CatalogError>;

    // ---- packages
    /// In one transaction: find or create the package (unique per project, format,
    /// normalized name and version), apply `status_override`, enforce `duplicates`, append
    /// the file, and record the build info (only the last five are kept per package).
    async fn publish_file(
        &self,
        publish: PublishFile,
    ) -> Result<(Package, PackageFile), CatalogError>;
    /// One page of packages of these projects, and the total count.
    async fn list_packages(
        &self,
        projects: &[ProjectId],
        filter: &PackageFilter,
        order: PackageOrder,
        descending: bool,
        page: Page,
    ) -> Result<(Vec<Package>, i64), CatalogError>;
    async fn package_by_id(
        &self,
        project: ProjectId,
        id: PackageId,
    ) -> Result<Option<Package>, CatalogError>;
    /// Every version of one package name, oldest first.
    async fn packages_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError>;
    async fn package_files(
        &self,
        package: PackageId,
        page: Page,
    ) -> Result<(Vec<PackageFile>, i64), CatalogError>;
    async fn package_file(
        &self,
        package: PackageId,
        id: PackageFileId,
    ) -> Result<Option<PackageFile>, CatalogError>;
    /// The newest file called `file_name` of the package `(project, format, normalized_name,
    /// version)` whose status is one of `statuses`.
    async fn newest_package_file(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
        version: &str,
        file_name: &str,
        statuses: &[PackageStatus],
    ) -> Result<Option<(Package, PackageFile)>, CatalogError>;
    /// Deletes the package, its files, tags and build infos. `false` when it was not there.
    async fn delete_package(&self, id: PackageId) -> Result<bool, CatalogError>;
    async fn delete_package_file(
        &self,
        package: PackageId,
        id: PackageFileId,
    ) -> Result<bool, CatalogError>;
    async fn touch_package_downloaded(&self, id: PackageId, at: Millis)
        -> Result<(), CatalogError>;
    /// The last five publishes, newest first.
    async fn package_build_infos(
        &self,
        package: PackageId,
    ) -> Result<Vec<PackageBuildInfo>, CatalogError>;
    async fn package_tags(&self, package: PackageId) -> Result<Vec<PackageTag>, CatalogError>;

    // ---- for the formats: index documents, tags, yank/deprecate
    /// The projects of the group and of all its descendant groups, by id.
    async fn projects_in_group_tree(&self, group: GroupId) -> Result<Vec<Project>, CatalogError>;
    /// Sets the status and/or metadata of a package (bumping its revision). `None` when the
    /// package does not exist.
    async fn update_package(
        &self,
        id: PackageId,
        update: PackageUpdate,
    ) -> Result<Option<Package>, CatalogError>;
    /// Replaces one file's metadata (bumping the package's revision). `false` when missing.
    async fn update_package_file_metadata(
        &self,
        package: PackageId,
        id: PackageFileId,
        metadata: serde_json::Value,
    ) -> Result<bool, CatalogError>;
    /// Points `tag` at `package`, taking it from any other version of the same name.
    async fn set_package_tag(&self, package: PackageId, tag: &str) -> Result<(), CatalogError>;
    /// Removes `tag` from whichever version of the name has it. `false` when none had.
    async fn delete_package_tag(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
        tag: &str,
    ) -> Result<bool, CatalogError>;
    /// Every tag of every version of one name: `(tag, package id)`, by tag name.
    async fn package_tags_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<(String, PackageId)>, CatalogError>;
    /// The files of many packages in one query, by package id then file id.
    async fn package_files_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageFile>, CatalogError>;
    /// The projects holding a package of this name (any status), by id: where an
    /// instance-wide read (Maven's `/api/v4/packages/maven`) looks before it authorizes.
    async fn projects_with_package(
        &self,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<ProjectId>, CatalogError>;
    /// Every version of one name in any of these projects (group and instance endpoints),
    /// oldest first.
    async fn packages_by_name_in(
        &self,
        projects: &[ProjectId],
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError>;
    /// The distinct names of the format's packages in these projects whose status is
    /// `default` or `deprecated`, by normalized name then project.
    async fn package_names(
        &self,
        projects: &[ProjectId],
        format: &str,
    ) -> Result<Vec<PackageName>, CatalogError>;
    /// The revisions of one name (`Some`) or of the list of names (`None`) in these
    /// projects; projects where nothing changed yet are left out.
    async fn package_revisions(
        &self,
        projects: &[ProjectId],
        format: &str,
        normalized_name: Option<&str>,
    ) -> Result<Vec<Revision>, CatalogError>;

    // ---- package administration (protection rules, cleanup policies, group listings)
    /// The protection rules of a project (of one package type when given), by id.
    async fn protection_rules(
        &self,
        project: ProjectId,
        package_type: Option<&str>,
    ) -> Result<Vec<ProtectionRule>, CatalogError>;
    /// `Conflict` when the project has a rule with this pattern and type.
    async fn create_protection_rule(
        &self,
        new: NewProtectionRule,
    ) -> Result<ProtectionRule, CatalogError>;
    /// Writes every field of the rule `(rule.project_id, rule.id)`; `None` when it is gone.
    async fn update_protection_rule(
        &self,
        rule: &ProtectionRule,
    ) -> Result<Option<ProtectionRule>, CatalogError>;
    async fn delete_protection_rule(
        &self,
        project: ProjectId,
        id: i64,
    ) -> Result<bool, CatalogError>;
    async fn cleanup_policy(
        &self,
        project: ProjectId,
    ) -> Result<Option<CleanupPolicy>, CatalogError>;
    /// Creates or replaces the project's policy.
    async fn set_cleanup_policy(
        &self,
        project: ProjectId,
        keep_n_duplicated_package_files: Option<i64>,
        next_run_at: Option<Millis>,
    ) -> Result<CleanupPolicy, CatalogError>;
    /// Active policies whose next run is at or before `at`, soonest first, at most `limit`.
    async fn due_cleanup_policies(
        &self,
        at: Millis,
        limit: i64,
    ) -> Result<Vec<CleanupPolicy>, CatalogError>;
    /// Moves `next_run_at` from `expected` to `next`; `false` when another process did first.
    async fn claim_cleanup_policy(
        &self,
        project: ProjectId,
        expected: Millis,
        next: Millis,
    ) -> Result<bool, CatalogError>;
    /// Keeps the newest `keep` files of each file name in each package of the project and
    /// deletes the older ones; returns the deleted files.
    async fn delete_duplicated_package_files(
        &self,
        project: ProjectId,
        keep: i64,
    ) -> Result<Vec<PackageFile>, CatalogError>;
    /// The group's package settings document (JSON); `None` when the group is missing.
    async fn group_package_settings_document(
        &self,
        group: GroupId,
    ) -> Result<Option<serde_json::Value>, CatalogError>;
    async fn set_group_package_settings_document(
        &self,
        group: GroupId,
        doc: &serde_json::Value,
    ) -> Result<(), CatalogError>;
    /// The highest unexpired level of `user` on the group or any of its ancestors.
    async fn effective_group_access_level(
        &self,
        user: UserId,
        group: GroupId,
        today: &str,
    ) -> Result<Option<AccessLevel>, CatalogError>;
    /// The tags of many packages in one query, by package then name.
    async fn package_tags_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageTag>, CatalogError>;
    /// The kept build infos of many packages in one query, newest first per package.
    async fn package_build_infos_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageBuildInfo>, CatalogError>;
    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, CatalogError>;
    /// Like `list_packages`, ordered by project full path then id (group listings).
    async fn list_packages_by_project_path(
        &self,
        projects: &[ProjectId],
        filter: &PackageFilter,
        descending: bool,
        page: Page,
    ) -> Result<(Vec<Package>, i64), CatalogError>;
    /// The group and all its descendant groups (the group first). Empty when it is missing.
    async fn group_tree(&self, group: GroupId) -> Result<Vec<Group>, CatalogError>;
    /// The unexpired memberships of `user` on any of these groups and projects.
    async fn member_levels(
        &self,
        user: UserId,
        groups: &[GroupId],
        projects: &[ProjectId],
        today: &str,
    ) -> Result<Vec<(MemberSource, AccessLevel)>, CatalogError>;

    // ---- blob bookkeeping
    async fn is_blob_referenced(&self, sha256: &str) -> Result<bool, CatalogError>;
    /// Package files with `id > after`, in id order, at most `limit` (for `fsck`).
    async fn package_files_after(
        &self,
        after: PackageFileId,
        limit: i64,
    ) -> Result<Vec<PackageFile>, CatalogError>;

    // ---- instance settings
    async fn instance_settings(&self) -> Result<InstanceSettings, CatalogError>;
    async fn set_instance_settings(&self, settings: &InstanceSettings) -> Result<(), CatalogError>;

    // ---- web UI sessions and sign-in throttling
    /// A secret shared by every process (created at first use, kept in the settings table),
    /// e.g. the key that signs the web UI's cookies. `generate` makes a fresh value; when
    /// two processes race, both get the one stored first.
    async fn shared_secret(&self, name: &str, generate: String) -> Result<String, CatalogError>;
    async fn create_web_session(&self, session: &WebSession) -> Result<(), CatalogError>;
    /// The session with this digest, if it exists and has not expired at `now`.
    async fn web_session(
        &self,
        id_digest: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, CatalogError>;
    async fn delete_web_session(&self, id_digest: &str) -> Result<(), CatalogError>;
    /// Removes sessions that expired before `now`; returns how many.
    async fn delete_expired_web_sessions(&self, now: Millis) -> Result<u64, CatalogError>;
    async fn login_failures(&self, username: &str) -> Result<LoginFailures, CatalogError>;
    /// Counts one sign-in attempt of `username` (case-insensitive) at `now`, in one atomic
    /// statement, before its password is checked, and returns the count with it: the attempt
    /// may go on only when [`LoginFailures::allows`] it, so N concurrent attempts (threads
    /// or processes) never check more than `max_attempts` passwords. A count older than the
    /// window, or whose lockout is over, starts again; the first attempt past the limit
    /// locks the username for `lockout` ms. A successful sign-in clears the count
    /// ([`Catalog::clear_login_failures`]).
    async fn reserve_login_attempt(
        &self,
        username: &str,
        now: Millis,
        limits: LoginLimits,
    ) -> Result<LoginFailures, CatalogError>;
    /// Gives back a reserved attempt whose password was never checked.
    async fn release_login_attempt(&self, username: &str) -> Result<(), CatalogError>;
    async fn clear_login_failures(&self, username: &str) -> Result<(), CatalogError>;
    /// Ends every web session of `user`; returns how many. (Changing a password and
    /// deleting a user do this themselves, in their own transaction.)
    async fn delete_user_web_sessions(&self, user: UserId) -> Result<u64, CatalogError>;
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found")]
    NotFound,
    /// The upload went past its limit; nothing was kept.
    #[error("the upload is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The client's body failed or ended early; nothing was kept.
    #[error("the upload was cut off: {0}")]
    Interrupted(#[source] std::io::Error),
    /// The requested byte range lies outside the blob.
    #[error("range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("blob store error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl BlobError {
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        BlobError::Backend(Box::new(e))
    }
}

/// An inclusive byte range, as in `Range: bytes=start-end`, already resolved against the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// Inclusive.
    pub end: u64,
}

pub struct BlobRead {
    pub stream: ByteStream,
    /// Size of the whole blob.
    pub size: u64,
    /// The part being sent, when a range was asked for.
    pub range: Option<ByteRange>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub sha256: String,
    pub size: u64,
    /// Last write, for the gc grace period.
    pub modified: Millis,
}

/// Requested part of a blob, before it is resolved against the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `bytes=a-b` or `bytes=a-`.
    FromTo { start: u64, end: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `body` to a temporary object while computing sha256, sha1, md5 and sha512,
    /// then moves it to its content address (overwriting an identical blob refreshes its
    /// age, so gc cannot take it while a row is being committed). Past `limit` bytes, or if
    /// the body fails, the temporary object is removed and nothing is kept.
    async fn put(&self, body: ByteStream, limit: Option<u64>) -> Result<BlobDigests, BlobError>;
    /// Streams the blob, or the asked range of it, in constant memory.
    async fn get(&self, sha256: &str, range: Option<RangeRequest>) -> Result<BlobRead, BlobError>;
    /// Size of the blob, or `NotFound`.
    async fn size(&self, sha256: &str) -> Result<u64, BlobError>;
    /// A short-lived URL a client can download from directly, when the store supports it.
    async fn presigned_url(
        &self,
        sha256: &str,
        expires: Duration,
        content_disposition: &str,
    ) -> Result<Option<String>, BlobError>;
    async fn delete(&self, sha256: &str) -> Result<(), BlobError>;
    /// Every stored blob (for gc).
    async fn list(&self) -> Result<Vec<BlobInfo>, BlobError>;
    /// When the blob was last written, or `NotFound`. gc asks again right before it deletes,
    /// because its listing can be minutes old and a re-upload refreshes the age.
    async fn modified(&self, sha256: &str) -> Result<Millis, BlobError>;
    /// Readiness: the store can be reached and written.
    async fn check(&self) -> Result<(), BlobError>;
}
