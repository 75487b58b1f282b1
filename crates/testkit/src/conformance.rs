//! The conformance kit: every format's routes checked the same way, in-process, on the real
//! app (a fresh SQLite catalog, a folder blob store, the formats mounted by
//! [`packyard_core::mount::mount`] exactly as `packyard serve` mounts them).
//!
//! A format's `tests/conformance.rs` implements [`Conformance`] (how to build the format,
//! its routes, how to publish one sample package, what its error body looks like), installs
//! the kit's [`CountingAlloc`] as the test binary's `#[global_allocator]`, and calls [`run`].
//! The kit creates its own users, group, projects and tokens through the `Registry`, then runs
//! every [`Check`] on every declared route. Each failure names the route, the check, the
//! status and the body; all failures of a run are reported together.
//!
//! The access rules checked are GitLab's
//! (<https://docs.gitlab.com/user/packages/package_registry/#package-registry-visibility-permissions>)
//! as `packyard_core::policy` encodes them today.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, Service, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{test, web, App};
use bytes::Bytes;

use packyard_core::model::*;
use packyard_core::{ApiError, PackageFormat, Registry, RegistryConfig};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

const MIB: usize = 1024 * 1024;
/// The upload limit of the app the size checks run against.
pub const SMALL_LIMIT: u64 = MIB as u64;
/// The upload limit of the app every other check runs against.
pub const LARGE_LIMIT: u64 = 512 * MIB as u64;
/// The body of the large publish whose memory is measured.
pub const LARGE_PUBLISH: usize = 64 * MIB;
/// How much the live heap may grow above its baseline during the large publish.
pub const MEMORY_BOUND: usize = 16 * MIB;
/// Chunks the kit streams request bodies in, as a network would deliver them.
const CHUNK: usize = 64 * 1024;

// ------------------------------------------------------------------ what a format declares

/// Where a route is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `/api/v4/projects/{id}/packages`
    Project,
    /// `/api/v4/groups/{id}/-/packages`
    Group,
    /// `/api/v4/packages`
    Instance,
}

/// What a route does, which decides what the kit expects of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A document about packages (index page, packument): read access, conditional GET.
    Document,
    /// A package file: read access, conditional GET.
    File,
    /// A read answered afresh for each request (search, owners, whoami): read access, no
    /// conditional GET.
    Query,
    /// The publish route; its request comes from [`Conformance::publish`].
    Publish,
    /// Another write (yank, tags, owners): publish access; its body is [`Route::body`].
    OtherWrite,
}

impl RouteKind {
    fn is_read(self) -> bool {
        matches!(
            self,
            RouteKind::Document | RouteKind::File | RouteKind::Query
        )
    }
    fn is_cacheable(self) -> bool {
        matches!(self, RouteKind::Document | RouteKind::File)
    }
}

/// One route of a format. `path` is the part under the scope's mount, with placeholders
/// `{name}`, `{version}` and whatever [`Conformance::vars`] adds, filled for the sample.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    pub scope: Scope,
    pub path: String,
    pub kind: RouteKind,
    /// Body and headers of an [`RouteKind::OtherWrite`] request.
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    /// The answer is project information (members, owners), which "allow anyone to pull"
    /// does not open: the policy grants it package reads only.
    pub project_info: bool,
}

impl Route {
    fn new(method: Method, scope: Scope, path: &str, kind: RouteKind) -> Self {
        Route {
            method,
            scope,
            path: path.to_owned(),
            kind,
            body: Vec::new(),
            headers: Vec::new(),
            project_info: false,
        }
    }
    /// Marks the route as serving project information ([`Route::project_info`]).
    pub fn project_info(mut self) -> Self {
        self.project_info = true;
        self
    }
    /// A GET (and HEAD) document route.
    pub fn document(scope: Scope, path: &str) -> Self {
        Self::new(Method::GET, scope, path, RouteKind::Document)
    }
    /// A GET query route ([`RouteKind::Query`]).
    pub fn query(scope: Scope, path: &str) -> Self {
        Self::new(Method::GET, scope, path, RouteKind::Query)
    }
    /// A GET (and HEAD) file download route.
    pub fn file(scope: Scope, path: &str) -> Self {
        Self::new(Method::GET, scope, path, RouteKind::File)
    }
    /// The publish route, under the project scope.
    pub fn publish(method: Method, path: &str) -> Self {
        Self::new(method, Scope::Project, path, RouteKind::Publish)
    }
    /// Another write.
    pub fn write(method: Method, scope: Scope, path: &str) -> Self {
        Self::new(method, scope, path, RouteKind::OtherWrite)
    }
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// What to publish: the format builds the request for it.
#[derive(Debug, Clone)]
pub struct PublishSpec {
    pub name: String,
    pub version: String,
    /// About this many extra bytes in the package file (0 for the small sample).
    pub padding: usize,
}

/// A request the format built: `path` is under the project scope.
#[derive(Debug, Clone)]
pub struct Upload {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A check the kit runs; [`KnownGap`]s name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    SamplePublishes,
    ReadBack,
    AnonymousGets401,
    NonMemberGets404,
    ReporterCannotWrite,
    ReadOnlyDeployTokenCannotWrite,
    DeployTokenReads,
    RegistryDisabledIs403,
    JobTokenOwnProject,
    JobTokenOtherProjectNeedsAllowlist,
    AllowAnyoneToPull,
    Head,
    ConditionalGet,
    OversizeIs413,
    OversizeUndeclaredIs413,
    CutOffBodyLeavesNothing,
    BadNameIs4xx,
    GarbageIsNever5xx,
    MemoryBounded,
}

/// A check a format fails today, on purpose and with a reason. The kit still runs it: a
/// failure matching a gap is listed, not fatal; a gap that no longer fails is a failure
/// (remove it).
#[derive(Debug, Clone)]
pub struct KnownGap {
    pub check: Check,
    /// Matches routes whose path template contains this (`None`: every route).
    pub route: Option<&'static str>,
    pub reason: &'static str,
}

/// What a format tells the kit.
pub trait Conformance {
    /// The format, with `max_upload` as its largest accepted package file.
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat>;
    /// Every route the format mounts.
    fn routes(&self) -> Vec<Route>;
    /// A valid package name for the sample.
    fn sample_name(&self) -> String;
    /// The request that publishes `spec` (headers and body; the kit adds credentials).
    fn publish(&self, spec: &PublishSpec) -> Upload;
    /// Placeholder values besides `{name}` and `{version}` for the sample published with
    /// `upload` (file names, digests, index prefixes).
    fn vars(&self, spec: &PublishSpec, upload: &Upload) -> Vec<(&'static str, String)>;
    /// Names the format must refuse (the kit adds a few that no format accepts).
    fn bad_names(&self) -> Vec<String>;
    /// `Ok` when a 4xx body has the format's error shape.
    fn check_error(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String>;
    /// How the format's client sends a token (default: `Authorization: Bearer`).
    fn credentials(&self, secret: &str) -> Vec<(String, String)> {
        vec![("Authorization".into(), format!("Bearer {secret}"))]
    }
    /// Padding of the large publish whose live heap is measured ([`LARGE_PUBLISH`]; keep it
    /// well above [`MEMORY_BOUND`], so that buffering the body cannot pass).
    fn large_publish(&self) -> usize {
        LARGE_PUBLISH
    }
    /// Checks this format fails today, each with its reason.
    fn known_gaps(&self) -> Vec<KnownGap> {
        Vec::new()
    }
}

// ------------------------------------------------------------------ the counting allocator

/// A global allocator that counts live heap bytes and their peak. A format's conformance
/// test installs it: `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc::new();`
pub struct CountingAlloc {
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl CountingAlloc {
    pub const fn new() -> Self {
        CountingAlloc {
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }
    /// Live heap bytes now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
    /// The highest live heap since the last [`CountingAlloc::reset_peak`].
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
    /// Starts a new peak at the current live heap.
    pub fn reset_peak(&self) {
        self.peak.store(self.live(), Ordering::Relaxed);
    }
    fn grew(&self, by: usize) {
        let now = self.live.fetch_add(by, Ordering::Relaxed) + by;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
    fn shrank(&self, by: usize) {
        self.live.fetch_sub(by, Ordering::Relaxed);
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// The only unsafe code of the workspace: a global allocator is an `unsafe` trait. Every
// method forwards to `System` with the caller's arguments, under the caller's contract, and
// only counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded under the caller's contract.
        unsafe { System.dealloc(ptr, layout) };
        self.shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                self.grew(new_size - layout.size());
            } else {
                self.shrank(layout.size() - new_size);
            }
        }
        p
    }
}

// ------------------------------------------------------------------ the world

struct Person {
    token: String,
}

struct World {
    dir: tempfile::TempDir,
    registry: web::Data<Registry>,
    maintainer: Person,
    developer: Person,
    reporter: Person,
    outsider: Person,
    deploy_read: String,
    job_own: String,
    job_other: String,
    group: Group,
    project: Project,
    other: Project,
}

async fn person(registry: &Registry, username: &str) -> Result<(User, Person), String> {
    let user = registry
        .catalog()
        .create_user(NewUser {
            username: username.into(),
            name: username.into(),
            email: format!("{username}@kit.test"),
            is_admin: false,
            password_hash: None,
        })
        .await
        .map_err(|e| format!("creating user {username}: {e}"))?;
    let (token, _) = registry
        .create_personal_access_token(user.id, "kit", &["api".to_owned()], None)
        .await
        .map_err(|e| format!("creating a token for {username}: {e}"))?;
    Ok((user, Person { token }))
}

async fn world() -> Result<World, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = DbCatalog::connect(&format!("sqlite://{}/db.sqlite3", dir.path().display()), 4)
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let blobs = FsBlobStore::new(dir.path().join("blobs")).map_err(|e| e.to_string())?;
    let registry = Registry::new(
        Arc::new(db),
        Arc::new(blobs),
        RegistryConfig {
            external_url: "https://kit.test".into(),
            ..RegistryConfig::default()
        },
    );
    let (m_user, maintainer) = person(&registry, "maria").await?;
    let (d_user, developer) = person(&registry, "dev").await?;
    let (r_user, reporter) = person(&registry, "rita").await?;
    let (_, outsider) = person(&registry, "olga").await?;
    let group = registry
        .create_group(NewGroup {
            name: "Kit".into(),
            path: "kit".into(),
            parent_id: None,
            visibility: Visibility::Private,
            description: String::new(),
        })
        .await
        .map_err(|e| e.to_string())?;
    let new_project = |path: &str| NewProject {
        name: path.into(),
        path: path.into(),
        namespace: Namespace::Group(group.id),
        visibility: Visibility::Private,
        description: String::new(),
        registry_access: RegistryAccess::Enabled,
        creator_id: Some(m_user.id),
    };
    let project = registry
        .create_project(new_project("app"))
        .await
        .map_err(|e| e.to_string())?;
    let other = registry
        .create_project(new_project("other"))
        .await
        .map_err(|e| e.to_string())?;
    for (p, user, level) in [
        (project.id, &m_user, AccessLevel::Maintainer),
        (project.id, &d_user, AccessLevel::Developer),
        (project.id, &r_user, AccessLevel::Reporter),
        (other.id, &d_user, AccessLevel::Developer),
    ] {
        registry
            .catalog()
            .add_member(MemberSource::Project(p), user.id, level, None)
            .await
            .map_err(|e| e.to_string())?;
    }
    let (deploy_read, _) = registry
        .create_deploy_token(
            DeployTokenOwner::Project(project.id),
            "kit-read",
            None,
            &["read_package_registry".to_owned()],
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    let pat = registry
        .catalog()
        .personal_access_token_by_digest(&packyard_core::credentials::digest(&developer.token))
        .await
        .map_err(|e| e.to_string())?;
    let principal = packyard_core::Principal::User {
        user: d_user.clone(),
        scopes: Some(vec!["api".to_owned()]),
    };
    let job = |p: Project| {
        let registry = &registry;
        let principal = &principal;
        let pat = pat.as_ref();
        async move {
            registry
                .mint_job_token(
                    principal,
                    &p,
                    BuildInfo {
                        pipeline_id: 1,
                        job_id: 1,
                        git_ref: "main".into(),
                        sha: "0".repeat(40),
                    },
                    pat,
                )
                .await
                .map(|(secret, _)| secret)
                .map_err(|e| format!("minting a job token: {e}"))
        }
    };
    let job_own = job(project.clone()).await?;
    let job_other = job(other.clone()).await?;
    Ok(World {
        dir,
        registry: web::Data::new(registry),
        maintainer,
        developer,
        reporter,
        outsider,
        deploy_read,
        job_own,
        job_other,
        group,
        project,
        other,
    })
}

// ------------------------------------------------------------------ requests

/// How a body is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Send {
    /// All of it, with `Content-Length`.
    Whole,
    /// All of it, without `Content-Length` (chunked).
    Undeclared,
    /// `Content-Length` of the whole, then half of it and a stream error (the client went
    /// away).
    CutOff,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        let n = self.body.len().min(300);
        String::from_utf8_lossy(&self.body[..n]).into_owned()
    }
}

struct Req {
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    body: Bytes,
    send: Send,
}

impl Req {
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    fn auth<C: Conformance + ?Sized>(mut self, format: &C, secret: Option<&str>) -> Self {
        if let Some(s) = secret {
            self.headers.extend(format.credentials(s));
        }
        self
    }
}

async fn call<S, B>(app: &S, req: Req) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut t = test::TestRequest::default()
        .method(req.method.clone())
        .uri(&req.uri);
    for (k, v) in &req.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            t = t.append_header((k, v));
        }
    }
    let len = req.body.len();
    if req.send != Send::Undeclared {
        t = t.insert_header((header::CONTENT_LENGTH, len.to_string()));
    }
    let mut request = t.to_request();
    let sent = if req.send == Send::CutOff {
        len / 2
    } else {
        len
    };
    let body = req.body.slice(..sent);
    let chunks: Vec<Result<Bytes, PayloadError>> = (0..sent)
        .step_by(CHUNK)
        .map(|at| Ok(body.slice(at..(at + CHUNK).min(sent))))
        .chain((req.send == Send::CutOff).then_some(Err(PayloadError::Incomplete(None))))
        .collect();
    let stream: actix_http::BoxedPayloadStream = Box::pin(futures_util::stream::iter(chunks));
    *request.payload() = Payload::from(stream);
    match app.call(request).await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = test::read_body(resp).await;
            Reply {
                status,
                headers,
                body,
            }
        }
        Err(e) => {
            let resp = e.error_response();
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = actix_web::body::to_bytes(resp.into_body())
                .await
                .unwrap_or_default();
            Reply {
                status,
                headers,
                body,
            }
        }
    }
}

// ------------------------------------------------------------------ the run

struct Report {
    gaps: Vec<KnownGap>,
    used: Vec<bool>,
    failures: Vec<String>,
    known: Vec<String>,
}

impl Report {
    fn fail(&mut self, check: Check, route: &str, what: &str, reply: Option<&Reply>) {
        let mut line = format!("[{route}] {check:?}: {what}");
        if let Some(r) = reply {
            let _ = write!(line, " (got {}: {:?})", r.status, r.text());
        }
        match self
            .gaps
            .iter()
            .position(|g| g.check == check && g.route.is_none_or(|p| route.contains(p)))
        {
            Some(i) => {
                self.used[i] = true;
                self.known
                    .push(format!("{line} -- known gap: {}", self.gaps[i].reason));
            }
            None => self.failures.push(line),
        }
    }
    fn expect(&mut self, check: Check, route: &str, ok: bool, what: &str, reply: &Reply) {
        if !ok {
            self.fail(check, route, what, Some(reply));
        }
    }
}

/// Percent-encodes a path segment (keeps `-`, `.`, `_`).
pub fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%2E", ".")
        .replace("%5F", "_")
}

fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Every file under the blob store's folder (objects and temporary files).
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p);
            }
        }
    }
    out
}

/// What is stored: every package row of the kit's project (any status), every package
/// file, and every file in the blob folder after a gc with no grace.
async fn stored(w: &World) -> (Vec<String>, BTreeSet<PathBuf>) {
    let _ = w.registry.gc(Duration::ZERO).await;
    let mut rows = Vec::new();
    for status in PackageStatus::ALL {
        let filter = PackageFilter {
            status: Some(status),
            ..PackageFilter::default()
        };
        if let Ok((pkgs, _)) = w
            .registry
            .catalog()
            .list_packages(
                &[w.project.id],
                &filter,
                PackageOrder::default(),
                false,
                Page {
                    page: 1,
                    per_page: 100,
                },
            )
            .await
        {
            rows.extend(
                pkgs.iter()
                    .map(|p| format!("{} {} {:?}", p.name, p.version, p.status)),
            );
        }
    }
    if let Ok(files) = w
        .registry
        .catalog()
        .package_files_after(PackageFileId(0), 1000)
        .await
    {
        rows.extend(
            files
                .iter()
                .map(|f| format!("file {} {}", f.file_name, f.sha256)),
        );
    }
    rows.sort();
    (rows, files_under(&w.dir.path().join("blobs")))
}

fn garbage() -> Vec<(&'static str, Vec<u8>)> {
    let mut random = vec![0u8; 4096];
    let mut x: u32 = 0x9e37_79b9;
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let depth = 100_000;
    let mut nested = "[".repeat(depth).into_bytes();
    nested.extend("]".repeat(depth).into_bytes());
    let mut nested_obj = "{\"a\":".repeat(depth).into_bytes();
    nested_obj.extend("}".repeat(depth).into_bytes());
    vec![
        ("random bytes", random),
        ("empty body", Vec::new()),
        ("deeply nested JSON array", nested),
        ("deeply nested JSON object", nested_obj),
    ]
}

/// Runs every check on every route of `format`; panics with the list of failures.
/// `alloc` is the test binary's `#[global_allocator]`.
pub async fn run<C: Conformance>(format: &C, alloc: &'static CountingAlloc) {
    let t0 = std::time::Instant::now();
    let w = match world().await {
        Ok(w) => w,
        Err(e) => panic!("the kit could not set up its registry: {e}"),
    };
    let large_fmt = vec![format.build(LARGE_LIMIT)];
    let small_fmt = vec![format.build(SMALL_LIMIT)];
    let app = |formats: Vec<Arc<dyn PackageFormat>>, registry: web::Data<Registry>| {
        App::new()
            .app_data(registry)
            .configure(move |cfg| {
                packyard_core::mount::mount(
                    cfg,
                    &formats,
                    packyard_core::mount::nothing,
                    packyard_core::mount::nothing,
                )
            })
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::error(
                    StatusCode::NOT_FOUND,
                    "404 Not Found",
                ))
            }))
    };
    let big = test::init_service(app(large_fmt, w.registry.clone())).await;
    let small = test::init_service(app(small_fmt, w.registry.clone())).await;
    let gaps = format.known_gaps();
    let mut r = Report {
        used: vec![false; gaps.len()],
        gaps,
        failures: Vec::new(),
        known: Vec::new(),
    };
    let pid = w.project.id.0;
    let prefix = |scope: Scope| match scope {
        Scope::Project => format!("/api/v4/projects/{pid}/packages"),
        Scope::Group => format!("/api/v4/groups/{}/-/packages", w.group.id.0),
        Scope::Instance => "/api/v4/packages".to_owned(),
    };
    let spec = |version: &str, padding: usize| PublishSpec {
        name: format.sample_name(),
        version: version.to_owned(),
        padding,
    };
    let upload_req = |u: &Upload, send: Send| Req {
        method: u.method.clone(),
        uri: format!("{}{}", prefix(Scope::Project), u.path),
        headers: u.headers.clone(),
        body: u.body.clone(),
        send,
    };

    // The sample, published by a Maintainer.
    let sample = spec("1.0.0", 0);
    let sample_upload = format.publish(&sample);
    let reply = call(
        &big,
        upload_req(&sample_upload, Send::Whole).auth(format, Some(&w.maintainer.token)),
    )
    .await;
    if !reply.status.is_success() {
        panic!(
            "[{}] {:?}: the sample must publish, got {}: {:?}",
            sample_upload.path,
            Check::SamplePublishes,
            reply.status,
            reply.text()
        );
    }
    let mut vars: Vec<(&str, String)> = vec![
        ("name", percent(&sample.name)),
        ("version", percent(&sample.version)),
    ];
    vars.extend(format.vars(&sample, &sample_upload));
    let routes = format.routes();
    let request_for = |route: &Route, version: &str| -> Req {
        match route.kind {
            RouteKind::Publish => upload_req(&format.publish(&spec(version, 0)), Send::Whole),
            _ => Req {
                method: route.method.clone(),
                uri: format!("{}{}", prefix(route.scope), fill(&route.path, &vars)),
                headers: route.headers.clone(),
                body: Bytes::from(route.body.clone()),
                send: Send::Whole,
            },
        }
    };

    // Read back, access rules, HEAD and conditional GET, route by route.
    for route in &routes {
        let id = format!("{} {:?} {}", route.method, route.scope, route.path);
        let check_shape = |r: &mut Report, check: Check, reply: &Reply| {
            if let Err(e) = format.check_error(reply.status, &reply.headers, &reply.body) {
                r.fail(
                    check,
                    &id,
                    &format!("error body not in the format's shape: {e}"),
                    Some(reply),
                );
            }
        };
        if route.kind.is_read() {
            let reply = call(
                &big,
                request_for(route, "").auth(format, Some(&w.maintainer.token)),
            )
            .await;
            r.expect(
                Check::ReadBack,
                &id,
                reply.status == StatusCode::OK,
                "a member reads the sample: 200",
                &reply,
            );
        }
        if route.kind.is_cacheable() {
            let reply = call(
                &big,
                request_for(route, "").auth(format, Some(&w.maintainer.token)),
            )
            .await;
            // HEAD and conditional GET.
            let head = call(
                &big,
                Req {
                    method: Method::HEAD,
                    ..request_for(route, "")
                }
                .auth(format, Some(&w.maintainer.token)),
            )
            .await;
            r.expect(
                Check::Head,
                &id,
                head.status == reply.status,
                "HEAD answers as GET does",
                &head,
            );
            match reply
                .headers
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok())
            {
                Some(etag) => {
                    if head.headers.get(header::ETAG).and_then(|v| v.to_str().ok()) != Some(etag) {
                        r.fail(Check::Head, &id, "HEAD carries GET's ETag", Some(&head));
                    }
                    let cond = call(
                        &big,
                        request_for(route, "")
                            .header("If-None-Match", etag)
                            .auth(format, Some(&w.maintainer.token)),
                    )
                    .await;
                    r.expect(
                        Check::ConditionalGet,
                        &id,
                        cond.status == StatusCode::NOT_MODIFIED,
                        "If-None-Match with the served ETag: 304",
                        &cond,
                    );
                    let weak = if etag.starts_with("W/") {
                        etag.to_owned()
                    } else {
                        format!("W/{etag}")
                    };
                    let list = format!("\"nope\", {weak}");
                    let cond = call(
                        &big,
                        request_for(route, "")
                            .header("If-None-Match", &list)
                            .auth(format, Some(&w.maintainer.token)),
                    )
                    .await;
                    r.expect(
                        Check::ConditionalGet,
                        &id,
                        cond.status == StatusCode::NOT_MODIFIED,
                        "If-None-Match list holding the (weak) ETag: 304",
                        &cond,
                    );
                }
                None if reply.status == StatusCode::OK => {
                    r.fail(
                        Check::ConditionalGet,
                        &id,
                        "a 200 document or file carries an ETag",
                        Some(&reply),
                    );
                }
                None => {}
            }
        }
        let write_version = "9.9.9";
        // Anonymous on a private project.
        let reply = call(&big, request_for(route, write_version)).await;
        let ok = reply.status == StatusCode::UNAUTHORIZED
            && reply.headers.contains_key(header::WWW_AUTHENTICATE);
        r.expect(
            Check::AnonymousGets401,
            &id,
            ok,
            "anonymous on a private project: 401 with WWW-Authenticate",
            &reply,
        );
        if reply.status.is_client_error() {
            check_shape(&mut r, Check::AnonymousGets401, &reply);
        }
        // An authenticated non-member.
        let reply = call(
            &big,
            request_for(route, write_version).auth(format, Some(&w.outsider.token)),
        )
        .await;
        r.expect(
            Check::NonMemberGets404,
            &id,
            reply.status == StatusCode::NOT_FOUND,
            "a non-member: 404",
            &reply,
        );
        if reply.status.is_client_error() {
            check_shape(&mut r, Check::NonMemberGets404, &reply);
        }
        if route.kind.is_read() {
            let reply = call(
                &big,
                request_for(route, "").auth(format, Some(&w.reporter.token)),
            )
            .await;
            r.expect(
                Check::ReadBack,
                &id,
                reply.status == StatusCode::OK,
                "a Reporter reads: 200",
                &reply,
            );
            let reply = call(
                &big,
                request_for(route, "").auth(format, Some(&w.deploy_read)),
            )
            .await;
            r.expect(
                Check::DeployTokenReads,
                &id,
                reply.status == StatusCode::OK,
                "a read-only deploy token reads: 200",
                &reply,
            );
        } else {
            let reply = call(
                &big,
                request_for(route, write_version).auth(format, Some(&w.reporter.token)),
            )
            .await;
            r.expect(
                Check::ReporterCannotWrite,
                &id,
                reply.status == StatusCode::FORBIDDEN,
                "a Reporter writing: 403",
                &reply,
            );
            if reply.status.is_client_error() {
                check_shape(&mut r, Check::ReporterCannotWrite, &reply);
            }
            let reply = call(
                &big,
                request_for(route, write_version).auth(format, Some(&w.deploy_read)),
            )
            .await;
            r.expect(
                Check::ReadOnlyDeployTokenCannotWrite,
                &id,
                reply.status == StatusCode::FORBIDDEN,
                "a read-only deploy token writing: 403",
                &reply,
            );
        }
    }

    // Registry disabled: 403 on every project route for a member who can see the project
    // (policy: NotVisible comes first, so an anonymous caller still gets 401).
    let _ = w
        .registry
        .catalog()
        .set_project_registry_access(w.project.id, RegistryAccess::Disabled)
        .await;
    for route in routes.iter().filter(|r| r.scope == Scope::Project) {
        let id = format!("{} {:?} {}", route.method, route.scope, route.path);
        for token in [&w.maintainer.token, &w.developer.token] {
            let reply = call(&big, request_for(route, "9.9.8").auth(format, Some(token))).await;
            r.expect(
                Check::RegistryDisabledIs403,
                &id,
                reply.status == StatusCode::FORBIDDEN,
                "registry disabled: 403 for a member",
                &reply,
            );
        }
    }
    let _ = w
        .registry
        .catalog()
        .set_project_registry_access(w.project.id, RegistryAccess::Enabled)
        .await;

    // CI job tokens.
    let mut job_version = 0;
    for route in routes.iter().filter(|r| r.scope == Scope::Project) {
        let id = format!("{} {:?} {}", route.method, route.scope, route.path);
        match route.kind {
            RouteKind::Document | RouteKind::File | RouteKind::Query => {
                let reply = call(&big, request_for(route, "").auth(format, Some(&w.job_own))).await;
                r.expect(
                    Check::JobTokenOwnProject,
                    &id,
                    reply.status == StatusCode::OK,
                    "a job token of the project reads: 200",
                    &reply,
                );
                let reply = call(
                    &big,
                    request_for(route, "").auth(format, Some(&w.job_other)),
                )
                .await;
                r.expect(
                    Check::JobTokenOtherProjectNeedsAllowlist,
                    &id,
                    reply.status == StatusCode::NOT_FOUND,
                    "a job token of another project, not on the allowlist: 404",
                    &reply,
                );
            }
            RouteKind::Publish => {
                job_version += 1;
                let v = format!("1.0.{job_version}");
                let reply = call(&big, request_for(route, &v).auth(format, Some(&w.job_own))).await;
                r.expect(
                    Check::JobTokenOwnProject,
                    &id,
                    reply.status.is_success(),
                    "a job token of the project publishes: 2xx",
                    &reply,
                );
                let reply = call(
                    &big,
                    request_for(route, "1.1.0").auth(format, Some(&w.job_other)),
                )
                .await;
                r.expect(
                    Check::JobTokenOtherProjectNeedsAllowlist,
                    &id,
                    reply.status == StatusCode::NOT_FOUND,
                    "a job token of another project, not on the allowlist, publishing: 404",
                    &reply,
                );
            }
            RouteKind::OtherWrite => {}
        }
    }
    let _ = w
        .registry
        .catalog()
        .add_job_token_allowlist(w.project.id, w.other.id)
        .await;
    for route in routes.iter().filter(|r| r.scope == Scope::Project) {
        let id = format!("{} {:?} {}", route.method, route.scope, route.path);
        match route.kind {
            RouteKind::Document | RouteKind::File | RouteKind::Query => {
                let reply = call(
                    &big,
                    request_for(route, "").auth(format, Some(&w.job_other)),
                )
                .await;
                r.expect(
                    Check::JobTokenOtherProjectNeedsAllowlist,
                    &id,
                    reply.status == StatusCode::OK,
                    "a job token of an allowlisted project reads: 200",
                    &reply,
                );
            }
            RouteKind::Publish => {
                let reply = call(
                    &big,
                    request_for(route, "1.1.0").auth(format, Some(&w.job_other)),
                )
                .await;
                r.expect(
                    Check::JobTokenOtherProjectNeedsAllowlist,
                    &id,
                    reply.status.is_success(),
                    "a job token of an allowlisted project publishes: 2xx",
                    &reply,
                );
            }
            RouteKind::OtherWrite => {}
        }
    }

    // Allow anyone to pull: anonymous reads on the private project's package routes.
    let _ = w
        .registry
        .catalog()
        .set_project_registry_access(w.project.id, RegistryAccess::Public)
        .await;
    for route in routes
        .iter()
        .filter(|r| r.scope == Scope::Project && r.kind.is_read())
    {
        let id = format!("{} {:?} {}", route.method, route.scope, route.path);
        let reply = call(&big, request_for(route, "")).await;
        if route.project_info {
            r.expect(
                Check::AllowAnyoneToPull,
                &id,
                reply.status == StatusCode::UNAUTHORIZED,
                "allow anyone to pull does not open project information: 401",
                &reply,
            );
        } else {
            r.expect(
                Check::AllowAnyoneToPull,
                &id,
                reply.status == StatusCode::OK,
                "allow anyone to pull: anonymous reads: 200",
                &reply,
            );
        }
    }
    let _ = w
        .registry
        .catalog()
        .set_project_registry_access(w.project.id, RegistryAccess::Enabled)
        .await;

    // Size: oversize bodies (declared and undeclared) and a cut-off body leave nothing.
    let publish_id = sample_upload.path.clone();
    let before = stored(&w).await;
    for (send, check) in [
        (Send::Whole, Check::OversizeIs413),
        (Send::Undeclared, Check::OversizeUndeclaredIs413),
    ] {
        let upload = format.publish(&spec("3.0.0", 2 * SMALL_LIMIT as usize));
        let reply = call(
            &small,
            upload_req(&upload, send).auth(format, Some(&w.maintainer.token)),
        )
        .await;
        r.expect(
            check,
            &publish_id,
            reply.status == StatusCode::PAYLOAD_TOO_LARGE,
            "a body over the limit: 413",
            &reply,
        );
        if reply.status.is_client_error() {
            if let Err(e) = format.check_error(reply.status, &reply.headers, &reply.body) {
                r.fail(
                    check,
                    &publish_id,
                    &format!("error body not in the format's shape: {e}"),
                    Some(&reply),
                );
            }
        }
        if stored(&w).await != before {
            r.fail(
                check,
                &publish_id,
                "a refused oversize body left a row or a blob",
                None,
            );
        }
    }
    let upload = format.publish(&spec("3.0.1", MIB));
    let reply = call(
        &big,
        upload_req(&upload, Send::CutOff).auth(format, Some(&w.maintainer.token)),
    )
    .await;
    r.expect(
        Check::CutOffBodyLeavesNothing,
        &publish_id,
        !reply.status.is_success(),
        "a cut-off body is not accepted",
        &reply,
    );
    if stored(&w).await != before {
        r.fail(
            Check::CutOffBodyLeavesNothing,
            &publish_id,
            "a cut-off body left a row or a blob",
            Some(&reply),
        );
    }

    // Bad names: 4xx in the format's error shape, on every route naming a package.
    let mut bad = format.bad_names();
    bad.extend(["..".to_owned(), "a\u{0}b".to_owned()]);
    for route in routes
        .iter()
        .filter(|r| r.path.contains("{name}") || r.kind == RouteKind::Publish)
    {
        let id = format!("{} {:?} {}", route.method, route.scope, route.path);
        for name in &bad {
            let req = match route.kind {
                RouteKind::Publish => upload_req(
                    &format.publish(&PublishSpec {
                        name: name.clone(),
                        version: "6.0.0".into(),
                        padding: 0,
                    }),
                    Send::Whole,
                ),
                _ => {
                    let mut vars = vars.clone();
                    vars[0].1 = percent(name);
                    Req {
                        method: route.method.clone(),
                        uri: format!("{}{}", prefix(route.scope), fill(&route.path, &vars)),
                        headers: route.headers.clone(),
                        body: Bytes::from(route.body.clone()),
                        send: Send::Whole,
                    }
                }
            };
            let reply = call(&big, req.auth(format, Some(&w.maintainer.token))).await;
            let what = format!("bad name {name:?}: 4xx");
            r.expect(
                Check::BadNameIs4xx,
                &id,
                reply.status.is_client_error(),
                &what,
                &reply,
            );
            if reply.status.is_client_error() {
                if let Err(e) = format.check_error(reply.status, &reply.headers, &reply.body) {
                    r.fail(
                        Check::BadNameIs4xx,
                        &id,
                        &format!("bad name {name:?}: error body not in the format's shape: {e}"),
                        Some(&reply),
                    );
                }
            }
        }
    }

    // Garbage bodies never make a 5xx.
    for route in routes.iter().filter(|r| !r.kind.is_read()) {
        let id = format!("{} {:?} {}", route.method, route.scope, route.path);
        let base = request_for(route, "7.0.0");
        let mut bodies = garbage();
        bodies.push((
            "truncated sample",
            base.body.slice(..base.body.len() / 2).to_vec(),
        ));
        for (what, body) in bodies {
            let req = Req {
                method: base.method.clone(),
                uri: base.uri.clone(),
                headers: base.headers.clone(),
                body: Bytes::from(body),
                send: Send::Whole,
            };
            let reply = call(&big, req.auth(format, Some(&w.maintainer.token))).await;
            r.expect(
                Check::GarbageIsNever5xx,
                &id,
                !reply.status.is_server_error(),
                &format!("{what}: never 5xx"),
                &reply,
            );
        }
    }

    // Memory bounded during a large publish.
    let upload = format.publish(&spec("2.0.0", format.large_publish()));
    let req = upload_req(&upload, Send::Whole).auth(format, Some(&w.maintainer.token));
    let baseline = alloc.live();
    alloc.reset_peak();
    let reply = call(&big, req).await;
    let growth = alloc.peak().saturating_sub(baseline);
    r.expect(
        Check::MemoryBounded,
        &publish_id,
        reply.status.is_success(),
        "the large publish succeeds",
        &reply,
    );
    if growth > MEMORY_BOUND {
        r.fail(
            Check::MemoryBounded,
            &publish_id,
            &format!(
                "a {} MiB publish grew the live heap by {} MiB (bound {} MiB)",
                upload.body.len() / MIB,
                growth / MIB,
                MEMORY_BOUND / MIB
            ),
            Some(&reply),
        );
    }
    eprintln!(
        "conformance: a {} MiB publish grew the live heap by {:.1} MiB",
        upload.body.len() / MIB,
        growth as f64 / MIB as f64
    );

    eprintln!("conformance: checks ran in {:?}", t0.elapsed());
    for (gap, used) in r.gaps.iter().zip(&r.used) {
        if !used {
            r.failures.push(format!(
                "known gap {:?} on {:?} no longer fails: remove it ({})",
                gap.check, gap.route, gap.reason
            ));
        }
    }
    for k in &r.known {
        eprintln!("conformance: {k}");
    }
    if !r.failures.is_empty() {
        panic!(
            "{} conformance failures:\n{}",
            r.failures.len(),
            r.failures.join("\n")
        );
    }
}
