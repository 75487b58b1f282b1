//! What the web UI's integration tests share: a Registry over SQLite and a blob folder in a
//! temporary folder, the web state and the actix test app over it, users, a format stand-in,
//! signing in through the real sign-in form, and GET/POST helpers that carry the session
//! cookie and the CSRF field. Each test file has `mod support;`; not every file uses every
//! helper, hence the `dead_code` allowance.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::{test, web, App};
use packyard_core::credentials;
use packyard_core::model::*;
use packyard_core::{
    FormatError, PackageFormat, Registry, RegistryConfig, Snippet, SnippetContext,
};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;
use packyard_web::{WebConfig, WebState};

/// The password of every user made with one.
pub const PASSWORD: &str = "correct horse battery";

/// The test app as a service: every page answers with a boxed body.
pub trait Svc:
    Service<actix_http::Request, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
{
}
impl<T> Svc for T where
    T: Service<actix_http::Request, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
{
}

// ------------------------------------------------------------------ the world

/// A Registry over SQLite and a blob folder in a temporary folder, to fill before the web
/// state is loaded ([`Seed::serve`]).
pub struct Seed {
    pub dir: tempfile::TempDir,
    /// The SQLite file, for rows written straight into it.
    pub db_path: String,
    pub registry: Registry,
}

/// A fresh, migrated instance; `external_url` as configured, or the default.
pub async fn seed(external_url: Option<&str>) -> Seed {
    let dir = tempfile::tempdir().unwrap();
    let db_path = format!("{}/db.sqlite3", dir.path().display());
    let db = DbCatalog::connect(&format!("sqlite://{db_path}"), 4).unwrap();
    db.migrate().await.unwrap();
    let mut config = RegistryConfig::default();
    if let Some(url) = external_url {
        config.external_url = url.into();
    }
    let registry = Registry::new(
        Arc::new(db),
        Arc::new(FsBlobStore::new(dir.path().join("blobs")).unwrap()),
        config,
    );
    Seed {
        dir,
        db_path,
        registry,
    }
}

impl Seed {
    /// Loads the web state over the filled registry.
    pub async fn serve(self, formats: Vec<Arc<dyn PackageFormat>>, config: WebConfig) -> Web {
        let registry = self.registry.with_formats(formats.clone());
        let state = WebState::load(&registry, formats, config).await.unwrap();
        Web {
            _dir: self.dir,
            registry: web::Data::new(registry),
            state: web::Data::new(state),
        }
    }
}

/// The registry and web state the app serves (the temporary folder lives as long).
pub struct Web {
    _dir: tempfile::TempDir,
    pub registry: web::Data<Registry>,
    pub state: web::Data<WebState>,
}

impl Web {
    /// A session cookie for `user`, as signing in would set it.
    pub async fn session(&self, user: &User) -> Cookie<'static> {
        packyard_web::session::start(&self.registry, &self.state, user)
            .await
            .unwrap()
    }

    /// Sets the instance's "allow anyone to pull" option.
    pub async fn set_anyone_option(&self, on: bool) {
        self.registry
            .catalog()
            .set_instance_settings(&InstanceSettings {
                package_registry_allow_anyone_to_pull_option: on,
            })
            .await
            .unwrap();
    }
}

/// `impl Deref<Target = Web>` for a test file's world that keeps its [`Web`] in `web`, so
/// that `w.registry`, `w.state` and `app(&w)` work on it.
#[allow(unused_macros)] // auth.rs has no world of its own
macro_rules! deref_web {
    ($world:ty) => {
        impl std::ops::Deref for $world {
            type Target = $crate::support::Web;
            fn deref(&self) -> &Self::Target {
                &self.web
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use deref_web;

/// The actix test service: the web UI's routes, and the 404 page for everything else.
pub async fn app(w: &Web) -> impl Svc {
    test::init_service(
        App::new()
            .app_data(w.registry.clone())
            .app_data(w.state.clone())
            .configure(packyard_web::configure)
            .default_service(web::to(|| async { packyard_web::not_found_page() })),
    )
    .await
}

/// A user named `username` (name = username, `username@example.test`), with `password` set
/// when given (hashing is slow: only for users who sign in through the form).
pub async fn user(
    registry: &Registry,
    username: &str,
    is_admin: bool,
    password: Option<&str>,
) -> User {
    registry
        .catalog()
        .create_user(NewUser {
            username: username.into(),
            name: username.into(),
            email: format!("{username}@example.test"),
            is_admin,
            password_hash: password.map(|p| credentials::hash_password(p).unwrap()),
        })
        .await
        .unwrap()
}

/// Makes `user` a member of `source` at `level`, without an expiry.
pub async fn add_member(
    registry: &Registry,
    source: MemberSource,
    user: UserId,
    level: AccessLevel,
) {
    registry
        .catalog()
        .add_member(source, user, level, None)
        .await
        .unwrap();
}

/// A group without a description.
pub fn new_group(
    name: &str,
    path: &str,
    parent_id: Option<GroupId>,
    visibility: Visibility,
) -> NewGroup {
    NewGroup {
        name: name.into(),
        path: path.into(),
        parent_id,
        visibility,
        description: String::new(),
    }
}

/// A project of `group`, without a description or creator.
pub fn new_project(
    name: &str,
    path: &str,
    group: GroupId,
    visibility: Visibility,
    registry_access: RegistryAccess,
) -> NewProject {
    NewProject {
        name: name.into(),
        path: path.into(),
        namespace: Namespace::Group(group),
        visibility,
        description: String::new(),
        registry_access,
        creator_id: None,
    }
}

/// A package format as the pages see one: an id, a display name and the snippets
/// `snippets` makes (none by default, see [`Format::plain`]).
pub struct Format {
    pub id: &'static str,
    pub name: &'static str,
    pub snippets: fn(&SnippetContext<'_>) -> Vec<Snippet>,
}

impl Format {
    pub fn plain(id: &'static str, name: &'static str) -> Arc<dyn PackageFormat> {
        Arc::new(Format {
            id,
            name,
            snippets: |_| Vec::new(),
        })
    }
}

/// A [`Format`] with GitLab's duplicate setting (`PackageFormat::duplicate_rule`).
pub struct WithDuplicates(Format, bool);

#[allow(dead_code)] // used by some test files only
impl WithDuplicates {
    pub fn format(
        id: &'static str,
        name: &'static str,
        allowed_by_default: bool,
    ) -> Arc<dyn PackageFormat> {
        Arc::new(WithDuplicates(
            Format {
                id,
                name,
                snippets: |_| Vec::new(),
            },
            allowed_by_default,
        ))
    }
}

impl PackageFormat for WithDuplicates {
    fn id(&self) -> FormatId {
        self.0.id()
    }
    fn display_name(&self) -> &'static str {
        self.0.display_name()
    }
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        self.0.normalize_name(name)
    }
    fn compare_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
        self.0.compare_versions(a, b)
    }
    fn configure_project(&self, _cfg: &mut web::ServiceConfig) {}
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        self.0.snippets(ctx)
    }
    fn duplicate_rule(&self) -> Option<packyard_core::DuplicateRule> {
        Some(packyard_core::DuplicateRule::same_file_name(self.1))
    }
}

impl PackageFormat for Format {
    fn id(&self) -> FormatId {
        FormatId(self.id)
    }
    fn display_name(&self) -> &'static str {
        self.name
    }
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        Ok(name.to_lowercase())
    }
    fn compare_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
        a.cmp(b)
    }
    fn configure_project(&self, _cfg: &mut web::ServiceConfig) {}
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        (self.snippets)(ctx)
    }
}

// ------------------------------------------------------------------ responses

pub fn cookie_from(resp: &ServiceResponse<BoxBody>, name: &str) -> Option<Cookie<'static>> {
    resp.response()
        .cookies()
        .find(|c| c.name() == name)
        .map(|c| c.into_owned())
}

pub async fn body_text(resp: ServiceResponse<BoxBody>) -> String {
    String::from_utf8(test::read_body(resp).await.to_vec()).unwrap()
}

/// The `value` of the first form field named `name`.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

pub fn location(resp: &ServiceResponse<BoxBody>) -> String {
    resp.headers()
        .get(header::LOCATION)
        .expect("a Location")
        .to_str()
        .unwrap()
        .to_owned()
}

// ------------------------------------------------------------------ requests

/// GETs `uri`, with the session cookie when given.
pub async fn fetch(
    app: &impl Svc,
    uri: &str,
    session: Option<&Cookie<'static>>,
) -> ServiceResponse<BoxBody> {
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(c) = session {
        req = req.cookie(c.clone());
    }
    test::call_service(app, req.to_request()).await
}

/// GETs `uri` (with the session cookie when given): status and HTML.
pub async fn get(
    app: &impl Svc,
    uri: &str,
    session: Option<&Cookie<'static>>,
) -> (StatusCode, String) {
    let resp = fetch(app, uri, session).await;
    let status = resp.status();
    (status, body_text(resp).await)
}

/// POSTs `fields` as a form, with the session cookie when given, as they are (no CSRF
/// token added).
pub async fn post_form(
    app: &impl Svc,
    uri: &str,
    session: Option<&Cookie<'static>>,
    fields: &[(&str, &str)],
) -> ServiceResponse<BoxBody> {
    let mut req = test::TestRequest::post().uri(uri);
    if let Some(c) = session {
        req = req.cookie(c.clone());
    }
    test::call_service(app, req.set_form(fields).to_request()).await
}

// ------------------------------------------------------------------ signing in

/// GETs the sign-in form: its CSRF cookie and token.
pub async fn sign_in_form(app: &impl Svc) -> (Cookie<'static>, String) {
    let resp = fetch(app, "/users/sign_in", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csrf = cookie_from(&resp, "_packyard_csrf").expect("csrf cookie");
    let html = body_text(resp).await;
    (csrf, field(&html, "authenticity_token"))
}

/// Submits the sign-in form as a browser does (CSRF cookie and token from the form).
pub async fn sign_in(
    app: &impl Svc,
    username: &str,
    password: &str,
    redirect_to: &str,
) -> ServiceResponse<BoxBody> {
    let (csrf, token) = sign_in_form(app).await;
    test::call_service(
        app,
        test::TestRequest::post()
            .uri("/users/sign_in")
            .cookie(csrf)
            .set_form([
                ("username", username),
                ("password", password),
                ("authenticity_token", token.as_str()),
                ("redirect_to", redirect_to),
            ])
            .to_request(),
    )
    .await
}

/// A signed-in browser: its session cookie and the session's CSRF token.
pub struct Browser {
    pub session: Cookie<'static>,
    pub csrf: String,
}

/// Signs `username` in with [`PASSWORD`], asking to land on `landing`: the sign-in must
/// redirect there, and that page (200) gives the session's CSRF token.
pub async fn browser(app: &impl Svc, username: &str, landing: &str) -> Browser {
    let resp = sign_in(app, username, PASSWORD, landing).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{username} signs in");
    assert_eq!(location(&resp), landing);
    let session = cookie_from(&resp, "_packyard_session").expect("session cookie");
    let (status, html) = get(app, landing, Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = field(&html, "authenticity_token");
    Browser { session, csrf }
}

/// POSTs a form as `who`, with its CSRF token unless `fields` already carries one.
pub async fn post(
    app: &impl Svc,
    uri: &str,
    who: &Browser,
    fields: &[(&str, &str)],
) -> ServiceResponse<BoxBody> {
    let mut form = fields.to_vec();
    if !fields.iter().any(|(k, _)| *k == "authenticity_token") {
        form.push(("authenticity_token", who.csrf.as_str()));
    }
    post_form(app, uri, Some(&who.session), &form).await
}

/// Follows a 303 with the session and the notice cookie it set, as a browser would: the
/// next page's HTML (200).
pub async fn follow(
    app: &impl Svc,
    resp: ServiceResponse<BoxBody>,
    session: &Cookie<'static>,
) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    let mut req = test::TestRequest::get().uri(&to).cookie(session.clone());
    if let Some(flash) = cookie_from(&resp, "_packyard_flash") {
        req = req.cookie(flash);
    }
    let next = test::call_service(app, req.to_request()).await;
    assert_eq!(next.status(), StatusCode::OK);
    body_text(next).await
}
