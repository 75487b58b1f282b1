//! The `Registry` service: the one door to data for the API, the web UI and every format.
//!
//! It authenticates credentials, gathers the facts the policy needs, authorizes, publishes
//! files from byte streams (blob first, then the row, so a cut-off upload leaves nothing),
//! serves files as streams or presigned redirects, and runs the maintenance jobs (`gc`,
//! `fsck`). It works only through the `Catalog` and `BlobStore` ports.
//!
//! # The format door
//!
//! A format crate depends on `packyard-core` only and reaches data through these methods,
//! never through [`Registry::catalog`] or [`Registry::blobs`] (`tests/format_seam.rs` keeps
//! it so). Every write checks the policy and the package protection rules itself, whatever
//! the handler checked before.
//!
//! - Callers and projects: [`Registry::authenticate`] (or `http::PackageCaller`),
//!   [`Registry::authorize_project`], [`Registry::find_and_decide`], [`Registry::decide`],
//!   [`Registry::readable_projects_in_group`], [`Registry::project_maintainers`],
//!   [`Registry::package_settings`].
//! - Reads of packages and files by name across readable projects:
//!   [`Registry::packages`] ([`PackageReads`]), [`Registry::package_revisions`],
//!   [`Registry::documents`], [`Registry::download`].
//! - Publish: [`Registry::publish`] for a body stored as it comes, or [`Registry::stage`],
//!   then [`Staged::commit`](crate::staged::Staged::commit); dropping the
//!   [`Staged`](crate::staged::Staged) guard discards the upload. The staged bytes are read
//!   back with [`Staged::read`](crate::staged::Staged::read).
//! - Tags: [`Registry::set_package_tag`], [`Registry::delete_package_tag`].
//! - Status and metadata (yank, deprecate): [`Registry::update_package`],
//!   [`Registry::update_package_file_metadata`].
//! - Deletes: [`Registry::delete_package`], [`Registry::delete_package_file`].
//! - Several writes refused before the first: [`Registry::authorize_name_write`].
//!
//! Shared mechanics for handlers live beside it: `crate::body` (bounded request bodies, the
//! blocking-reader bridge), `crate::archive` (bounded archive readers), `crate::http`,
//! `crate::error` (`ApiError`'s fields, `printable`).

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

mod access;
mod admin;
mod auth;
mod duplicates;
mod publish;
mod reads;
mod writes;

use crate::stamped::StampedCache;
pub use reads::PackageReads;

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
    /// The formats compiled in ([`Registry::with_formats`]).
    formats: crate::formats::Formats,
    /// Staged uploads dropped uncommitted (`crate::staged`).
    discarded: std::sync::atomic::AtomicU64,
    /// When this process last recorded a download of each package: formats pass packages
    /// from their cached indexes, whose `last_downloaded_at` does not move, so the catalog
    /// write is skipped by this, not by the row.
    downloaded: quick_cache::sync::Cache<PackageId, Millis>,
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
    /// `(format, name)`: the projects holding a package of that name (instance reads).
    holders: StampedCache<(String, String), Vec<ProjectId>>,
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
            holders: StampedCache::new(N),
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
            formats: crate::formats::Formats::default(),
            discarded: Default::default(),
            downloaded: quick_cache::sync::Cache::new(16_384),
        }
    }

    /// Installs the formats compiled in: the packages API filter, protection rules, group
    /// settings and the publish path's duplicate rule read them from here.
    pub fn with_formats(mut self, formats: Vec<Arc<dyn crate::PackageFormat>>) -> Self {
        self.formats = crate::formats::Formats::new(formats);
        self
    }

    /// The installed formats.
    pub fn formats(&self) -> &crate::formats::Formats {
        &self.formats
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

    /// The projects holding a package `normalized_name` of `format` (any status), under the
    /// request's stamp: an instance-wide read that misses costs no query while nothing
    /// changed.
    pub(crate) async fn projects_with_package_at(
        &self,
        Stamp(stamp): Stamp,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<ProjectId>, ApiError> {
        Ok(self
            .reads
            .holders
            .get_or_load(
                stamp,
                (format.to_owned(), normalized_name.to_owned()),
                || self.catalog.projects_with_package(format, normalized_name),
            )
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
