//! The `Registry` service: the one door to data for the API, the web UI and every format.
//!
//! It authenticates credentials, gathers the facts the policy needs, authorizes, publishes
//! files from byte streams (blob first, then the row, so a cut-off upload leaves nothing),
//! serves files as streams or presigned redirects, and runs the maintenance jobs (`gc`,
//! `fsck`). It works only through the `Catalog` and `BlobStore` ports.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::credentials::{self, Credential, JOB_TOKEN_USER};
use crate::documents::DocumentCache;
use crate::error::{ApiError, RouteClass};
use crate::model::*;
use crate::passwords::PasswordHasher;
use crate::policy::{self, Action, Actor, Decision, ProjectAccessFacts, Refusal};
use crate::ports::{
    BlobRead, BlobStore, Catalog, CatalogError, DuplicatePolicy, PublishFile, RangeRequest,
};
pub use crate::protection::Guarded;
use crate::stamped::StampedCache;

#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Base of absolute URLs written into responses, without a trailing slash.
    pub external_url: String,
    /// Answer downloads with a redirect to a presigned blob-store URL when the store can.
    pub presigned_downloads: bool,
    pub presign_ttl: Duration,
    /// Lifetime of minted CI job tokens.
    pub job_token_ttl: Duration,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            external_url: "http://127.0.0.1:8080".into(),
            presigned_downloads: false,
            presign_ttl: Duration::from_secs(300),
            job_token_ttl: Duration::from_secs(3600),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    /// A user through a personal access token (`scopes: Some`) or a session (`None`).
    User {
        user: User,
        scopes: Option<Vec<String>>,
    },
    Deploy(DeployToken),
    Job {
        token: JobToken,
        user: User,
    },
}

impl Principal {
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Principal::Anonymous)
    }
    /// The person behind the request, if any.
    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::User { user, .. } | Principal::Job { user, .. } => Some(user),
            _ => None,
        }
    }
    pub fn build_info(&self) -> Option<BuildInfo> {
        match self {
            Principal::Job { token, .. } => Some(token.build.clone()),
            _ => None,
        }
    }
    /// Whether a PAT's scopes allow this (sessions and job tokens have every scope).
    pub fn has_any_scope(&self, wanted: &[&str]) -> bool {
        match self {
            Principal::User {
                scopes: Some(s), ..
            } => s.iter().any(|x| wanted.contains(&x.as_str())),
            Principal::User { scopes: None, .. } | Principal::Job { .. } => true,
            _ => false,
        }
    }
}

/// What a format asks to publish; the bytes come separately as a stream.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub format: FormatId,
    pub name: String,
    pub normalized_name: String,
    pub version: String,
    /// Status of a newly created package.
    pub status: PackageStatus,
    /// Overwrites the status of an existing package too.
    pub status_override: Option<PackageStatus>,
    pub package_metadata: serde_json::Value,
    pub file_name: String,
    pub file_metadata: serde_json::Value,
    pub duplicates: DuplicatePolicy,
    /// Refuse bodies larger than this.
    pub max_size: Option<u64>,
}

/// The catalog's change stamp as a request took it (`Registry::stamp`,
/// `Registry::request_stamp`): pass it to the `*_at` methods so that one request reads the
/// stamp once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(Option<u64>);

/// How a file leaves the server.
pub enum Download {
    Stream(BlobRead),
    /// A short-lived presigned URL of the blob store.
    Redirect(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    pub deleted: u64,
    pub kept: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FsckProblem {
    pub package_file_id: i64,
    pub package_id: i64,
    pub file_name: String,
    pub sha256: String,
    /// `missing` or `hash_mismatch`.
    pub problem: &'static str,
}

pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Scopes a personal access token may carry (spec §1.2). Others are refused at creation.
pub const PAT_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "sudo",
    "admin_mode",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "self_rotate",
    "read_service_ping",
];

/// Scopes a deploy token may carry; only the package scopes grant anything here.
pub const DEPLOY_TOKEN_SCOPES: &[&str] = &[
    "read_repository",
    "read_registry",
    "write_registry",
    "read_package_registry",
    "write_package_registry",
    "read_virtual_registry",
    "write_virtual_registry",
];

pub struct Registry {
    catalog: Arc<dyn Catalog>,
    blobs: Arc<dyn BlobStore>,
    config: RegistryConfig,
    documents: DocumentCache,
    reads: Reads,
    /// The one bound on argon2 work (sign-in, password changes, user creation).
    passwords: PasswordHasher,
}

/// The catalog reads every request makes (credentials, project, access facts, document
/// revisions), kept under the catalog's change stamp (`crate::stamped`): reused only while
/// nothing has been committed anywhere since they were read.
struct Reads {
    pats: StampedCache<String, Option<PersonalAccessToken>>,
    deploy_tokens: StampedCache<String, Option<DeployToken>>,
    job_tokens: StampedCache<String, Option<JobTokenLogin>>,
    users: StampedCache<UserId, Option<User>>,
    projects: StampedCache<IdOrPath, Option<Project>>,
    settings: StampedCache<(), InstanceSettings>,
    /// `(user, project, today)`: the day is part of the key, as memberships expire by day.
    levels: StampedCache<(UserId, ProjectId, String), Option<AccessLevel>>,
    ancestors: StampedCache<GroupId, Vec<GroupId>>,
    job_allowlist: StampedCache<(ProjectId, ProjectId), bool>,
    /// `(format, sorted projects, name)`.
    revisions: StampedCache<(String, Vec<ProjectId>, Option<String>), Vec<Revision>>,
}

impl Default for Reads {
    fn default() -> Self {
        const N: usize = 4096;
        Reads {
            pats: StampedCache::new(N),
            deploy_tokens: StampedCache::new(N),
            job_tokens: StampedCache::new(N),
            users: StampedCache::new(N),
            projects: StampedCache::new(N),
            settings: StampedCache::new(4),
            levels: StampedCache::new(N),
            ancestors: StampedCache::new(N),
            job_allowlist: StampedCache::new(N),
            revisions: StampedCache::new(N),
        }
    }
}

impl Registry {
    pub fn new(
        catalog: Arc<dyn Catalog>,
        blobs: Arc<dyn BlobStore>,
        config: RegistryConfig,
    ) -> Self {
        Registry {
            catalog,
            blobs,
            config,
            documents: DocumentCache::default(),
            reads: Reads::default(),
            passwords: PasswordHasher::default(),
        }
    }

    /// Replaces the password hasher (another bound on concurrent hashing, or a test's).
    pub fn with_password_hasher(mut self, passwords: PasswordHasher) -> Self {
        self.passwords = passwords;
        self
    }

    /// Hashes and verifies account passwords, at most a few at a time.
    pub fn passwords(&self) -> &PasswordHasher {
        &self.passwords
    }

    /// The catalog's change stamp now (`crate::stamped`): reads made with it reuse what was
    /// read under the same stamp. Take it after the request arrived, never before.
    pub fn stamp(&self) -> Stamp {
        match self.catalog.change_stamp() {
            Ok(stamp) => Stamp(stamp),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the catalog change stamp; reading rows instead");
                Stamp(None)
            }
        }
    }

    /// The stamp of this request: taken at its first use and kept in the request, so that a
    /// request reads the stamp once however many lookups it makes. Use it only for what a
    /// request reads before it writes anything: after its own commit, a request must take a
    /// fresh [`Registry::stamp`] to see that commit.
    pub fn request_stamp(&self, req: &HttpRequest) -> Stamp {
        if let Some(stamp) = req.extensions().get::<Stamp>() {
            return *stamp;
        }
        let stamp = self.stamp();
        req.extensions_mut().insert(stamp);
        stamp
    }

    /// The revisions of one name (`Some`) or of the list of names (`None`) of `format` in
    /// these projects, as `Catalog::package_revisions` reads them (kept under the change
    /// stamp). Key derived documents by them ([`DocumentCache::get_or_build`]).
    pub async fn package_revisions(
        &self,
        projects: &[ProjectId],
        format: &str,
        normalized_name: Option<&str>,
    ) -> Result<Vec<Revision>, ApiError> {
        self.package_revisions_at(self.stamp(), projects, format, normalized_name)
            .await
    }

    /// [`Registry::package_revisions`] under a stamp already taken for this request.
    pub async fn package_revisions_at(
        &self,
        Stamp(stamp): Stamp,
        projects: &[ProjectId],
        format: &str,
        normalized_name: Option<&str>,
    ) -> Result<Vec<Revision>, ApiError> {
        let mut sorted = projects.to_vec();
        sorted.sort_unstable();
        let key = (
            format.to_owned(),
            sorted,
            normalized_name.map(str::to_owned),
        );
        Ok(self
            .reads
            .revisions
            .get_or_load(stamp, key, || {
                self.catalog
                    .package_revisions(projects, format, normalized_name)
            })
            .await?)
    }
    /// The cache of derived documents (index pages, packuments, index files).
    pub fn documents(&self) -> &DocumentCache {
        &self.documents
    }
    pub fn catalog(&self) -> &dyn Catalog {
        self.catalog.as_ref()
    }
    pub fn blobs(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }
    /// `external_url` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.external_url.trim_end_matches('/'), path)
    }

    // ------------------------------------------------------------ authentication

    /// Checks a credential. Unknown, expired and revoked tokens are 401, even where anonymous
    /// access would be allowed (spec §1.3).
    pub async fn authenticate(
        &self,
        cred: Option<Credential>,
        class: RouteClass,
    ) -> Result<Principal, ApiError> {
        if cred.is_none() {
            return Ok(Principal::Anonymous);
        }
        self.authenticate_at(self.stamp(), cred, class).await
    }

    /// [`Registry::authenticate`] under a stamp already taken for this request.
    pub async fn authenticate_at(
        &self,
        Stamp(stamp): Stamp,
        cred: Option<Credential>,
        class: RouteClass,
    ) -> Result<Principal, ApiError> {
        let Some(cred) = cred else {
            return Ok(Principal::Anonymous);
        };
        let unknown = || match class {
            RouteClass::Package => ApiError::unauthorized_basic(),
            RouteClass::Rest => ApiError::unauthorized(),
        };
        let secret = cred.secret().to_owned();
        enum Kind {
            Pat,
            Deploy,
            Job,
        }
        let by_prefix = |s: &str| -> Vec<Kind> {
            if s.starts_with(credentials::PAT_PREFIX) {
                vec![Kind::Pat]
            } else if s.starts_with(credentials::DEPLOY_TOKEN_PREFIX) {
                vec![Kind::Deploy]
            } else if s.starts_with(credentials::JOB_TOKEN_PREFIX) {
                vec![Kind::Job]
            } else {
                vec![Kind::Pat, Kind::Deploy, Kind::Job]
            }
        };
        let kinds = match &cred {
            Credential::PrivateToken(_) => vec![Kind::Pat],
            Credential::JobToken(_) => vec![Kind::Job],
            Credential::DeployToken(_) => vec![Kind::Deploy],
            Credential::Bearer(s) => by_prefix(s),
            Credential::Basic { username, .. } if username == JOB_TOKEN_USER => vec![Kind::Job],
            Credential::Basic { password, .. } => by_prefix(password)
                .into_iter()
                .filter(|k| !matches!(k, Kind::Job))
                .collect(),
        };
        let digest = credentials::digest(&secret);
        let now = now_millis();
        let user_by_id = |id: UserId| {
            self.reads
                .users
                .get_or_load(stamp, id, move || self.catalog.user_by_id(id))
        };
        for kind in kinds {
            match kind {
                Kind::Pat => {
                    if let Some(t) = self
                        .reads
                        .pats
                        .get_or_load(stamp, digest.clone(), || {
                            self.catalog.personal_access_token_by_digest(&digest)
                        })
                        .await?
                    {
                        if t.revoked {
                            return Err(revoked(class));
                        }
                        if t.expires_at
                            .as_deref()
                            .is_some_and(|d| d < today().as_str())
                        {
                            return Err(expired(class));
                        }
                        let user = user_by_id(t.user_id).await?.ok_or_else(unknown)?;
                        if user.is_blocked() {
                            return Err(blocked());
                        }
                        if t.last_used_at.is_none_or(|at| now - at > 60_000) {
                            self.catalog.touch_personal_access_token(t.id, now).await?;
                        }
                        return Ok(Principal::User {
                            user,
                            scopes: Some(t.scopes),
                        });
                    }
                }
                Kind::Deploy => {
                    if let Some(t) = self
                        .reads
                        .deploy_tokens
                        .get_or_load(stamp, digest.clone(), || {
                            self.catalog.deploy_token_by_digest(&digest)
                        })
                        .await?
                    {
                        if t.revoked {
                            return Err(revoked(class));
                        }
                        if t.expires_at.is_some_and(|e| e < now) {
                            return Err(expired(class));
                        }
                        return Ok(Principal::Deploy(t));
                    }
                }
                Kind::Job => {
                    // One query gives the token, its user and the token that minted it;
                    // expiry depends on the clock, so it is checked here at every use.
                    if let Some(login) = self
                        .reads
                        .job_tokens
                        .get_or_load(stamp, digest.clone(), || {
                            self.catalog.job_token_by_digest(&digest)
                        })
                        .await?
                    {
                        let JobTokenLogin {
                            token,
                            user,
                            minted_by,
                        } = login;
                        if token.expires_at < now {
                            return Err(expired(class));
                        }
                        // Whoever minted it (a token or a session), a blocked user's CI
                        // job acts for nobody.
                        if user.is_blocked() {
                            return Err(blocked());
                        }
                        if let JobTokenOrigin::PersonalAccessToken(id) = token.origin {
                            // The job token lives no longer than the token that minted it.
                            match minted_by {
                                Some(pat) if Some(pat.id) == id => {
                                    if pat.revoked {
                                        return Err(revoked(class));
                                    }
                                    if pat
                                        .expires_at
                                        .as_deref()
                                        .is_some_and(|d| d < today().as_str())
                                    {
                                        return Err(expired(class));
                                    }
                                }
                                _ => return Err(revoked(class)),
                            }
                        }
                        return Ok(Principal::Job { token, user });
                    }
                }
            }
        }
        Err(unknown())
    }

    // ------------------------------------------------------------ authorization

    /// Finds a project by numeric id or (URL-encoded) full path.
    pub async fn find_project(&self, id: &str) -> Result<Option<Project>, ApiError> {
        self.find_project_at(self.stamp().0, id).await
    }

    async fn find_project_at(
        &self,
        stamp: Option<u64>,
        id: &str,
    ) -> Result<Option<Project>, ApiError> {
        let Some(key) = IdOrPath::parse(id) else {
            return Ok(None);
        };
        Ok(self
            .reads
            .projects
            .get_or_load(stamp, key.clone(), || async {
                match &key {
                    IdOrPath::Id(n) => self.catalog.project_by_id(ProjectId(*n)).await,
                    IdOrPath::Path(p) => self.catalog.project_by_full_path(p).await,
                }
            })
            .await?)
    }

    /// Finds a group by numeric id or (URL-encoded) full path.
    pub async fn find_group(&self, id: &str) -> Result<Option<Group>, ApiError> {
        Ok(match IdOrPath::parse(id) {
            Some(IdOrPath::Id(n)) => self.catalog.group_by_id(GroupId(n)).await?,
            Some(IdOrPath::Path(p)) => self.catalog.group_by_full_path(&p).await?,
            None => None,
        })
    }

    /// The policy's view of this principal on this project.
    pub async fn access_facts(
        &self,
        principal: &Principal,
        project: &Project,
    ) -> Result<(Actor, ProjectAccessFacts), ApiError> {
        self.access_facts_at(self.stamp().0, principal, project)
            .await
    }

    async fn access_facts_at(
        &self,
        stamp: Option<u64>,
        principal: &Principal,
        project: &Project,
    ) -> Result<(Actor, ProjectAccessFacts), ApiError> {
        // The instance option only matters to projects set to "allow anyone to pull" (see
        // `policy`); other projects skip the query.
        let allow_anyone_to_pull_option = project.registry_access == RegistryAccess::Public
            && self
                .reads
                .settings
                .get_or_load(stamp, (), || self.catalog.instance_settings())
                .await?
                .package_registry_allow_anyone_to_pull_option;
        // The owner of a personal namespace is Owner of its projects, as in GitLab.
        let level_of = |user: UserId| async move {
            if project.namespace == Namespace::User(user) {
                return Ok::<_, crate::ports::CatalogError>(Some(AccessLevel::Owner));
            }
            let today = today();
            self.reads
                .levels
                .get_or_load(stamp, (user, project.id, today.clone()), || {
                    self.catalog
                        .effective_access_level(user, project.id, &today)
                })
                .await
        };
        let (actor, member_level) = match principal {
            Principal::Anonymous => (Actor::Anonymous, None),
            Principal::User { user, scopes } => (
                Actor::User {
                    id: user.id,
                    is_admin: user.is_admin,
                    scopes: scopes.clone(),
                },
                level_of(user.id).await?,
            ),
            Principal::Deploy(t) => {
                let covers = match t.owner {
                    DeployTokenOwner::Project(p) => p == project.id,
                    DeployTokenOwner::Group(g) => match project.namespace {
                        Namespace::Group(pg) => self
                            .reads
                            .ancestors
                            .get_or_load(stamp, pg, || async {
                                Ok::<_, crate::ports::CatalogError>(
                                    self.catalog
                                        .group_ancestors(pg)
                                        .await?
                                        .iter()
                                        .map(|a| a.id)
                                        .collect(),
                                )
                            })
                            .await?
                            .contains(&g),
                        Namespace::User(_) => false,
                    },
                };
                let has = |s: &str| t.scopes.iter().any(|x| x == s);
                (
                    Actor::DeployToken {
                        read: has("read_package_registry"),
                        write: has("write_package_registry"),
                        covers_project: covers,
                    },
                    None,
                )
            }
            Principal::Job { token, user } => {
                let allowed = token.project_id == project.id
                    || self
                        .reads
                        .job_allowlist
                        .get_or_load(stamp, (project.id, token.project_id), || {
                            self.catalog.job_token_allowed(project.id, token.project_id)
                        })
                        .await?;
                (
                    Actor::JobToken {
                        user: user.id,
                        is_admin: user.is_admin,
                        allowed_on_project: allowed,
                    },
                    level_of(user.id).await?,
                )
            }
        };
        Ok((
            actor,
            ProjectAccessFacts {
                visibility: project.visibility,
                registry_access: project.registry_access,
                allow_anyone_to_pull_option,
                member_level,
            },
        ))
    }

    pub async fn decide(
        &self,
        principal: &Principal,
        project: &Project,
        action: Action,
    ) -> Result<Decision, ApiError> {
        self.decide_at(self.stamp().0, principal, project, action)
            .await
    }

    async fn decide_at(
        &self,
        stamp: Option<u64>,
        principal: &Principal,
        project: &Project,
        action: Action,
    ) -> Result<Decision, ApiError> {
        let (actor, facts) = self.access_facts_at(stamp, principal, project).await?;
        Ok(policy::decide(&actor, action, &facts))
    }

    /// Finds the project `id` and decides `action` on it, for callers that answer refusals
    /// in their own shape. `Deny(NotVisible)` when the project does not exist.
    pub async fn find_and_decide(
        &self,
        principal: &Principal,
        id: &str,
        action: Action,
    ) -> Result<(Option<Project>, Decision), ApiError> {
        self.find_and_decide_at(self.stamp(), principal, id, action)
            .await
    }

    /// [`Registry::find_and_decide`] under a stamp already taken for this request.
    pub async fn find_and_decide_at(
        &self,
        Stamp(stamp): Stamp,
        principal: &Principal,
        id: &str,
        action: Action,
    ) -> Result<(Option<Project>, Decision), ApiError> {
        let Some(project) = self.find_project_at(stamp, id).await? else {
            return Ok((None, Decision::Deny(Refusal::NotVisible)));
        };
        let decision = self.decide_at(stamp, principal, &project, action).await?;
        Ok((Some(project), decision))
    }

    /// Resolves `id` and checks `action`, answering refusals as `class` requires.
    pub async fn authorize_project(
        &self,
        principal: &Principal,
        id: &str,
        action: Action,
        class: RouteClass,
    ) -> Result<Project, ApiError> {
        self.authorize_project_at(self.stamp(), principal, id, action, class)
            .await
    }

    /// [`Registry::authorize_project`] under a stamp already taken for this request.
    pub async fn authorize_project_at(
        &self,
        stamp: Stamp,
        principal: &Principal,
        id: &str,
        action: Action,
        class: RouteClass,
    ) -> Result<Project, ApiError> {
        let Stamp(raw) = stamp;
        let refuse = |r| ApiError::from_refusal(r, class, principal.is_anonymous());
        let Some(project) = self.find_project_at(raw, id).await? else {
            return Err(refuse(Refusal::NotVisible));
        };
        match self
            .decide_for_route(raw, principal, &project, action, class)
            .await?
        {
            Decision::Allow => Ok(project),
            Decision::Deny(r) => Err(refuse(r)),
        }
    }

    /// `decide`, with the one rule that depends on the route: "allow anyone to pull" opens
    /// the package-manager routes only. On REST (and web) routes a package read also needs
    /// to see the project, as GitLab's packages API finds the project with `read_project`
    /// first; so package lists, build infos and project paths stay hidden from callers
    /// whose only access is pulling.
    async fn decide_for_route(
        &self,
        stamp: Option<u64>,
        principal: &Principal,
        project: &Project,
        action: Action,
        class: RouteClass,
    ) -> Result<Decision, ApiError> {
        if class == RouteClass::Rest && action == Action::ReadPackage {
            let seen = self
                .decide_at(stamp, principal, project, Action::ReadProject)
                .await?;
            if !seen.is_allowed() {
                return Ok(seen);
            }
        }
        self.decide_at(stamp, principal, project, action).await
    }

    /// Checks `action` on a project already loaded.
    pub async fn check(
        &self,
        principal: &Principal,
        project: &Project,
        action: Action,
        class: RouteClass,
    ) -> Result<(), ApiError> {
        match self
            .decide_for_route(self.stamp().0, principal, project, action, class)
            .await?
        {
            Decision::Allow => Ok(()),
            Decision::Deny(r) => Err(ApiError::from_refusal(r, class, principal.is_anonymous())),
        }
    }

    // ------------------------------------------------------------ packages

    /// The package settings that apply to a project: its nearest group's.
    pub async fn package_settings(&self, project: &Project) -> Result<PackageSettings, ApiError> {
        match project.namespace {
            Namespace::Group(g) => Ok(self
                .catalog
                .group_by_id(g)
                .await?
                .map(|g| g.package_settings)
                .unwrap_or_default()),
            Namespace::User(_) => Ok(PackageSettings::default()),
        }
    }

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
            duplicates: req.duplicates,
        };
        match self.catalog.publish_file(publish).await {
            Ok(done) => Ok(done),
            Err(e) => {
                self.discard(&sha256).await;
                Err(e.into())
            }
        }
    }

    /// Deletes a package after checking `Action::DeletePackage` and its protection rules
    /// (`403 Package protected.`). `NotFound` when it is gone.
    pub async fn delete_package(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
    ) -> Result<(), ApiError> {
        self.authorize_package_write(principal, project, package, Guarded::Delete)
            .await?;
        if self.catalog.delete_package(package.id).await? {
            Ok(())
        } else {
            Err(ApiError::not_found("Package"))
        }
    }

    /// Deletes one file of a package after checking `Action::DeletePackage` and the
    /// package's protection rules. `false` when the file is not there.
    pub async fn delete_package_file(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        file: PackageFileId,
    ) -> Result<bool, ApiError> {
        self.authorize_package_write(principal, project, package, Guarded::Delete)
            .await?;
        Ok(self.catalog.delete_package_file(package.id, file).await?)
    }

    // ------------------------------------------------------------ package writes
    //
    // Every change to an existing package goes through one of these methods, which check the
    // policy and the package protection rules themselves, so that no format can skip them:
    // tags, deprecations and metadata are guarded like a publish (`Guarded::Push`), yank and
    // un-yank like a delete (`Guarded::Delete`), since a yanked version vanishes for
    // resolvers. Formats read through [`Registry::packages`] and never see the `Catalog`.

    /// The policy decision (`PublishPackage` for a push, `DeletePackage` for a delete) and
    /// the protection rules of `package`'s name for one write.
    async fn authorize_package_write(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        guarded: Guarded,
    ) -> Result<(), ApiError> {
        if package.project_id != project.id {
            return Err(ApiError::not_found("Package"));
        }
        self.authorize_name_write(
            principal,
            project,
            &package.format,
            &[package.name.as_str(), package.normalized_name.as_str()],
            guarded,
        )
        .await
    }

    /// The checks of a write on the package name `names` (given and normalized) of
    /// `format`, without writing: for a handler that makes several writes and wants to be
    /// refused before the first rather than half-way. Every write method checks again.
    pub async fn authorize_name_write(
        &self,
        principal: &Principal,
        project: &Project,
        format: &str,
        names: &[&str],
        guarded: Guarded,
    ) -> Result<(), ApiError> {
        let action = match guarded {
            Guarded::Push => Action::PublishPackage,
            Guarded::Delete => Action::DeletePackage,
        };
        self.check(principal, project, action, RouteClass::Package)
            .await?;
        self.enforce_protection(principal, project, format, names, guarded)
            .await
    }

    /// Points `tag` at `package` (taking it from any other version of the name): a push.
    pub async fn set_package_tag(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        tag: &str,
    ) -> Result<(), ApiError> {
        self.authorize_package_write(principal, project, package, Guarded::Push)
            .await?;
        Ok(self.catalog.set_package_tag(package.id, tag).await?)
    }

    /// Removes `tag` from whichever version of the name has it: a push. `false` when none
    /// had it.
    pub async fn delete_package_tag(
        &self,
        principal: &Principal,
        project: &Project,
        format: FormatId,
        normalized_name: &str,
        tag: &str,
    ) -> Result<bool, ApiError> {
        self.authorize_name_write(
            principal,
            project,
            format.0,
            &[normalized_name],
            Guarded::Push,
        )
        .await?;
        Ok(self
            .catalog
            .delete_package_tag(project.id, format.0, normalized_name, tag)
            .await?)
    }

    /// Changes the status and/or metadata of `package`, guarded as `guarded` says
    /// (`Push` for deprecations and metadata, `Delete` for yank and un-yank). `NotFound`
    /// when the package is gone.
    pub async fn update_package(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        update: PackageUpdate,
        guarded: Guarded,
    ) -> Result<Package, ApiError> {
        self.authorize_package_write(principal, project, package, guarded)
            .await?;
        self.catalog
            .update_package(package.id, update)
            .await?
            .ok_or_else(|| ApiError::not_found("Package"))
    }

    /// Replaces one file's metadata, guarded as `guarded` says (see
    /// [`Registry::update_package`]). `false` when the file is gone.
    pub async fn update_package_file_metadata(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        file: PackageFileId,
        metadata: serde_json::Value,
        guarded: Guarded,
    ) -> Result<bool, ApiError> {
        self.authorize_package_write(principal, project, package, guarded)
            .await?;
        Ok(self
            .catalog
            .update_package_file_metadata(package.id, file, metadata)
            .await?)
    }

    /// The package reads formats use (no writes, no users, no settings).
    pub fn packages(&self) -> PackageReads<'_> {
        PackageReads {
            catalog: self.catalog.as_ref(),
        }
    }

    /// The users who hold Maintainer or Owner on `project` (directly or through its groups),
    /// and the owner of a personal namespace: what cargo calls a crate's owners. A member list
    /// is project information, so it needs `Action::ReadProject`, as GitLab shows members to
    /// whoever can see the project: "allow anyone to pull" grants package reads only.
    pub async fn project_maintainers(
        &self,
        principal: &Principal,
        project: &Project,
    ) -> Result<Vec<User>, ApiError> {
        self.check(principal, project, Action::ReadProject, RouteClass::Package)
            .await?;
        let mut users = Vec::new();
        if let Namespace::User(u) = project.namespace {
            if let Some(user) = self.catalog.user_by_id(u).await? {
                users.push(user);
            }
        }
        let sources = self
            .member_sources(MemberSource::Project(project.id))
            .await?;
        let today = today();
        for page in 1..=100 {
            let listing = self
                .catalog
                .list_inherited_members(
                    sources.clone(),
                    &today,
                    Page {
                        page,
                        per_page: 100,
                    },
                )
                .await?;
            let done = listing.items.len() < 100;
            for m in listing.items {
                if m.member.access_level >= AccessLevel::Maintainer
                    && !users.iter().any(|u| u.id == m.user.id)
                {
                    users.push(m.user);
                }
            }
            if done {
                break;
            }
        }
        Ok(users)
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

    /// The group `id` and the projects in it and its subgroups whose packages `principal`
    /// may read (group-level package endpoints). A group that is unknown, or that shows this
    /// caller nothing and is not visible to it, is refused as `class` requires (404, or 401
    /// for an anonymous caller on package routes, so clients send credentials).
    pub async fn readable_projects_in_group(
        &self,
        principal: &Principal,
        id: &str,
        class: RouteClass,
    ) -> Result<(Group, Vec<Project>), ApiError> {
        // The facts of every project are gathered in a fixed number of queries.
        let (group, access) = self.package_access_in_group(principal, id, class).await?;
        Ok((group, access.into_iter().map(|a| a.project).collect()))
    }

    /// Opens a file for download (a stream, or a presigned redirect when configured), and
    /// records the download.
    pub async fn download(
        &self,
        package: &Package,
        file: &PackageFile,
        range: Option<RangeRequest>,
    ) -> Result<Download, ApiError> {
        let now = now_millis();
        if package
            .last_downloaded_at
            .is_none_or(|at| now - at > 60_000)
        {
            self.catalog
                .touch_package_downloaded(package.id, now)
                .await?;
        }
        if self.config.presigned_downloads && range.is_none() {
            let disposition = content_disposition(
                &percent_encoding::percent_decode_str(&file.file_name).decode_utf8_lossy(),
            );
            if let Some(url) = self
                .blobs
                .presigned_url(&file.sha256, self.config.presign_ttl, &disposition)
                .await?
            {
                return Ok(Download::Redirect(url));
            }
        }
        Ok(Download::Stream(self.blobs.get(&file.sha256, range).await?))
    }

    /// Mints a CI job token for `principal` (a Developer+ user) on `project`. `minted_with`
    /// is the personal access token the request authenticated with (`None` for a web
    /// session): the job token is tied to it and ends when it is revoked or expires.
    pub async fn mint_job_token(
        &self,
        principal: &Principal,
        project: &Project,
        build: BuildInfo,
        minted_with: Option<&PersonalAccessToken>,
    ) -> Result<(String, JobToken), ApiError> {
        let Principal::User { user, scopes } = principal else {
            return Err(ApiError::forbidden());
        };
        if !scopes.as_ref().is_none_or(|s| s.iter().any(|x| x == "api")) {
            return Err(ApiError::insufficient_scope());
        }
        let origin = match (scopes, minted_with) {
            (None, None) => JobTokenOrigin::Session,
            (Some(_), Some(t)) if t.user_id == user.id && !t.revoked => {
                JobTokenOrigin::PersonalAccessToken(Some(t.id))
            }
            // A token principal must name its token, and a session has none.
            _ => return Err(ApiError::unauthorized()),
        };
        self.check(principal, project, Action::PublishPackage, RouteClass::Rest)
            .await?;
        let secret = credentials::new_secret(credentials::JOB_TOKEN_PREFIX);
        let ttl = i64::try_from(self.config.job_token_ttl.as_millis()).unwrap_or(i64::MAX);
        let token = self
            .catalog
            .create_job_token(NewJobToken {
                project_id: project.id,
                user_id: user.id,
                build,
                expires_at: now_millis().saturating_add(ttl),
                digest: credentials::digest(&secret),
                origin,
            })
            .await?;
        Ok((secret, token))
    }

    // ------------------------------------------------------------ administration

    pub async fn create_group(&self, new: NewGroup) -> Result<Group, ApiError> {
        validate_path_segment(&new.path)?;
        if let Some(parent) = new.parent_id {
            let parent = self
                .catalog
                .group_by_id(parent)
                .await?
                .ok_or_else(|| ApiError::not_found("Group"))?;
            if new.visibility > parent.visibility {
                return Err(ApiError::bad_request(format!(
                    "visibility {} is not allowed since the parent group has {} visibility",
                    new.visibility.as_str(),
                    parent.visibility.as_str()
                )));
            }
        }
        Ok(self.catalog.create_group(new).await?)
    }

    pub async fn create_project(&self, new: NewProject) -> Result<Project, ApiError> {
        validate_path_segment(&new.path)?;
        if let Namespace::Group(g) = new.namespace {
            let group = self
                .catalog
                .group_by_id(g)
                .await?
                .ok_or_else(|| ApiError::not_found("Group"))?;
            if new.visibility > group.visibility {
                return Err(ApiError::bad_request(format!(
                    "visibility {} is not allowed since the group has {} visibility",
                    new.visibility.as_str(),
                    group.visibility.as_str()
                )));
            }
        }
        Ok(self.catalog.create_project(new).await?)
    }

    /// Creates a personal access token; returns the secret (shown once) and the row.
    pub async fn create_personal_access_token(
        &self,
        user: UserId,
        name: &str,
        scopes: &[String],
        expires_at: Option<String>,
    ) -> Result<(String, PersonalAccessToken), ApiError> {
        if name.trim().is_empty() {
            return Err(ApiError::error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "name is missing",
            ));
        }
        if scopes.is_empty() || scopes.iter().any(|s| !PAT_SCOPES.contains(&s.as_str())) {
            return Err(ApiError::error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "scopes does not have a valid value",
            ));
        }
        if let Some(d) = &expires_at {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                ApiError::error(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "expires_at is invalid",
                )
            })?;
        }
        let secret = credentials::new_secret(credentials::PAT_PREFIX);
        let token = self
            .catalog
            .create_personal_access_token(NewPersonalAccessToken {
                user_id: user,
                name: name.to_owned(),
                scopes: scopes.to_vec(),
                expires_at,
                digest: credentials::digest(&secret),
            })
            .await?;
        Ok((secret, token))
    }

    pub async fn create_deploy_token(
        &self,
        owner: DeployTokenOwner,
        name: &str,
        username: Option<String>,
        scopes: &[String],
        expires_at: Option<Millis>,
    ) -> Result<(String, DeployToken), ApiError> {
        if scopes.is_empty()
            || scopes
                .iter()
                .any(|s| !DEPLOY_TOKEN_SCOPES.contains(&s.as_str()))
        {
            return Err(ApiError::error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "scopes does not have a valid value",
            ));
        }
        let secret = credentials::new_secret(credentials::DEPLOY_TOKEN_PREFIX);
        let token = self
            .catalog
            .create_deploy_token(NewDeployToken {
                owner,
                name: name.to_owned(),
                username,
                scopes: scopes.to_vec(),
                expires_at,
                digest: credentials::digest(&secret),
            })
            .await?;
        Ok((secret, token))
    }

    /// For automated installs: when the catalog has no users, creates the admin `root`
    /// holding `token` as a personal access token with scope `api`.
    pub async fn ensure_initial_root(&self, token: &str) -> Result<bool, ApiError> {
        if self.catalog.count_users().await? > 0 {
            return Ok(false);
        }
        let user = self
            .catalog
            .create_user(NewUser {
                username: "root".into(),
                name: "Administrator".into(),
                email: "root@localhost".into(),
                is_admin: true,
                password_hash: None,
            })
            .await?;
        self.catalog
            .create_personal_access_token(NewPersonalAccessToken {
                user_id: user.id,
                name: "initial root token".into(),
                scopes: vec!["api".into()],
                expires_at: None,
                digest: credentials::digest(token),
            })
            .await?;
        Ok(true)
    }

    // ------------------------------------------------------------ maintenance

    /// Deletes blobs that no row references and that are older than `grace`.
    pub async fn gc(&self, grace: Duration) -> Result<GcReport, ApiError> {
        let cutoff = now_millis() - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let mut report = GcReport::default();
        for blob in self.blobs.list().await? {
            if blob.modified > cutoff || self.catalog.is_blob_referenced(&blob.sha256).await? {
                report.kept += 1;
                continue;
            }
            // The listing can be minutes old. An upload of the same bytes since then has
            // re-written the blob (a fresh age) and may be about to commit its row: ask the
            // store again, then the catalog again, right before deleting.
            match self.blobs.modified(&blob.sha256).await {
                Ok(modified) if modified <= cutoff => {}
                Ok(_) => {
                    report.kept += 1;
                    continue;
                }
                Err(crate::ports::BlobError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            }
            if self.catalog.is_blob_referenced(&blob.sha256).await? {
                report.kept += 1;
                continue;
            }
            self.blobs.delete(&blob.sha256).await?;
            report.deleted += 1;
        }
        Ok(report)
    }

    /// Checks that every package file's blob exists and hashes to its sha256.
    pub async fn fsck(&self) -> Result<Vec<FsckProblem>, ApiError> {
        let mut problems = Vec::new();
        let mut verified: HashSet<String> = HashSet::new();
        let mut after = PackageFileId(0);
        loop {
            let files = self.catalog.package_files_after(after, 500).await?;
            let Some(last) = files.last() else { break };
            after = last.id;
            for f in files {
                if verified.contains(&f.sha256) {
                    continue;
                }
                let problem = match self.blobs.get(&f.sha256, None).await {
                    Err(crate::ports::BlobError::NotFound) => Some("missing"),
                    Err(e) => return Err(e.into()),
                    Ok(read) => {
                        let mut hasher = Sha256::new();
                        let mut stream = read.stream;
                        let mut failed = false;
                        while let Some(chunk) = stream.next().await {
                            match chunk {
                                Ok(c) => hasher.update(&c),
                                Err(_) => {
                                    failed = true;
                                    break;
                                }
                            }
                        }
                        (failed || hex::encode(hasher.finalize()) != f.sha256)
                            .then_some("hash_mismatch")
                    }
                };
                match problem {
                    Some(p) => problems.push(FsckProblem {
                        package_file_id: f.id.0,
                        package_id: f.package_id.0,
                        file_name: f.file_name,
                        sha256: f.sha256,
                        problem: p,
                    }),
                    None => {
                        verified.insert(f.sha256);
                    }
                }
            }
        }
        Ok(problems)
    }

    /// Readiness: both ports answer.
    pub async fn ready(&self) -> Result<(), ApiError> {
        self.catalog.ping().await?;
        self.blobs.check().await?;
        Ok(())
    }
}

/// The package reads a format needs, and nothing else: a format changes packages only
/// through the checked `Registry` methods (`commit`, `set_package_tag`, `update_package`,
/// `delete_package`, ...), so the policy and the protection rules cannot be skipped.
/// Callers have authorized the read (`Action::ReadPackage`) of every project they pass.
#[derive(Clone, Copy)]
pub struct PackageReads<'a> {
    catalog: &'a dyn Catalog,
}

impl PackageReads<'_> {
    /// Every version of one package name, oldest first.
    pub async fn packages_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError> {
        self.catalog
            .packages_by_name(project, format, normalized_name)
            .await
    }

    /// Every version of one name in any of these projects, oldest first.
    pub async fn packages_by_name_in(
        &self,
        projects: &[ProjectId],
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError> {
        self.catalog
            .packages_by_name_in(projects, format, normalized_name)
            .await
    }

    /// The files of many packages, by package id then file id.
    pub async fn package_files_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageFile>, CatalogError> {
        self.catalog.package_files_of(packages).await
    }

    /// Every tag of every version of one name: `(tag, package id)`, by tag name.
    pub async fn package_tags_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<(String, PackageId)>, CatalogError> {
        self.catalog
            .package_tags_by_name(project, format, normalized_name)
            .await
    }

    /// The distinct names of the format's visible packages in these projects.
    pub async fn package_names(
        &self,
        projects: &[ProjectId],
        format: &str,
    ) -> Result<Vec<PackageName>, CatalogError> {
        self.catalog.package_names(projects, format).await
    }

    /// The newest file called `file_name` of one version whose status is one of `statuses`.
    pub async fn newest_package_file(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
        version: &str,
        file_name: &str,
        statuses: &[PackageStatus],
    ) -> Result<Option<(Package, PackageFile)>, CatalogError> {
        self.catalog
            .newest_package_file(
                project,
                format,
                normalized_name,
                version,
                file_name,
                statuses,
            )
            .await
    }
}

/// A GitLab `:id`: a numeric id or a URL-encoded full path (spec §0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdOrPath {
    Id(i64),
    Path(String),
}

impl IdOrPath {
    /// `None` for what can name nothing (empty, absurdly long, a number out of range).
    fn parse(raw: &str) -> Option<Self> {
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        if decoded.is_empty() || decoded.len() > 1024 {
            return None;
        }
        if decoded.bytes().all(|b| b.is_ascii_digit()) {
            return decoded.parse().ok().map(IdOrPath::Id);
        }
        Some(IdOrPath::Path(decoded.trim_matches('/').to_owned()))
    }
}

fn expired(class: RouteClass) -> ApiError {
    token_error(
        class,
        "Token is expired. You can either do re-authorization or token refresh.",
    )
}

fn revoked(class: RouteClass) -> ApiError {
    token_error(
        class,
        "Token was revoked. You have to re-authorize from the user.",
    )
}

/// GitLab's answer to any credential of a blocked user, on every route: 403 rather than 401,
/// because the token is fine and retrying with it cannot help.
fn blocked() -> ApiError {
    ApiError::message(
        actix_web::http::StatusCode::FORBIDDEN,
        "403 Forbidden - Your account has been blocked.",
    )
}

fn token_error(class: RouteClass, description: &str) -> ApiError {
    let challenge = match class {
        RouteClass::Rest => format!(
            "Bearer realm=\"{}\", error=\"invalid_token\"",
            crate::error::PACKAGE_REALM
        ),
        RouteClass::Package => format!("Basic realm=\"{}\"", crate::error::PACKAGE_REALM),
    };
    ApiError::with_body(
        actix_web::http::StatusCode::UNAUTHORIZED,
        serde_json::json!({ "error": "invalid_token", "error_description": description }),
    )
    .www_authenticate(challenge)
}

/// `attachment; filename="..."` with the name made safe for a quoted string.
pub fn content_disposition(file_name: &str) -> String {
    let base = file_name.rsplit(['/']).next().unwrap_or(file_name);
    let safe: String = base
        .chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("attachment; filename=\"{safe}\"")
}

/// A group or project path segment: GitLab's rules, short form.
pub fn validate_path_segment(path: &str) -> Result<(), ApiError> {
    let ok = !path.is_empty()
        && path.len() <= 255
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !path.starts_with(['-', '.'])
        && !path.ends_with('.')
        && !path.ends_with(".git")
        && !path.contains("..");
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "path '{path}' is invalid: use letters, digits, '_', '-' and '.', not starting with '-' or '.'"
        )))
    }
}
