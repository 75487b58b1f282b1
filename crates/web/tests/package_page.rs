//! One package's page as a browser sees it: its content (versions, files, tags, CI/CD
//! activity, the format's snippets with the instance's URL), the 404 page for whoever may not
//! see it, downloads through the session, and deleting files and packages with confirmation,
//! CSRF and roles (actix test service over SQLite and a blob folder in a temporary folder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::{test, web, FromRequest};
use packyard_core::model::*;
use packyard_core::ports::DuplicatePolicy;
use packyard_core::registry::{now_millis, PublishRequest};
use packyard_core::{Principal, Registry, Snippet, SnippetContext};
use packyard_web::WebConfig;
use support::{
    add_member, app, body_text, cookie_from, fetch, field, follow, get, location, new_group,
    new_project, post_form, seed, user, Format, Svc, Web,
};

const EXTERNAL: &str = "http://packages.example.test:8080";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// Snippets that show what the page filled in.
fn filled_snippets(ctx: &SnippetContext<'_>) -> Vec<Snippet> {
    let filled = format!(
        "{} {} {} {}@{} [{}]",
        ctx.external_url,
        ctx.project_id,
        ctx.project_path,
        ctx.package_name,
        ctx.package_version,
        ctx.file_names.join(",")
    );
    ["Registry setup", "Install", "Publish"]
        .into_iter()
        .map(|title| Snippet {
            title: title.into(),
            language: "shell",
            code: format!("{} <your_access_token> {filled}", title.to_lowercase()),
        })
        .collect()
}

struct World {
    web: Web,
    maintainer: User,
    developer: User,
    /// `acme/tools`, private.
    project: Project,
    /// `acme/other`, private, where the visitors are members too.
    other: Project,
    v1: Package,
    v2: Package,
    /// Files of `v2`.
    tarball: PackageFile,
    zip: PackageFile,
    elsewhere: Package,
}

support::deref_web!(World);

/// Publishes `contents` through the registry (blob first, then the row), as `principal`.
async fn publish(
    registry: &Registry,
    principal: &Principal,
    project: &Project,
    name: &str,
    version: &str,
    file: &str,
    contents: &'static str,
) -> (Package, PackageFile) {
    let (req, mut payload) = test::TestRequest::default()
        .set_payload(contents)
        .to_http_parts();
    let body = web::Payload::from_request(&req, &mut payload)
        .await
        .unwrap();
    let out = registry
        .publish(
            principal,
            project,
            PublishRequest {
                format: FormatId("generic"),
                name: name.into(),
                normalized_name: name.into(),
                version: version.into(),
                status: PackageStatus::Default,
                status_override: None,
                package_metadata: serde_json::json!({}),
                file_name: file.into(),
                file_metadata: serde_json::json!({}),
                duplicates: DuplicatePolicy::Allow,
                max_size: None,
            },
            packyard_core::http::payload_stream(body),
        )
        .await
        .unwrap();
    // Distinct creation times.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(3)).await;
    out
}

async fn world() -> World {
    let seed = seed(Some(EXTERNAL)).await;
    let registry = &seed.registry;
    let maintainer = user(registry, "maria", false, None).await;
    let developer = user(registry, "dev", false, None).await;
    let group = registry
        .create_group(new_group("Acme", "acme", None, Visibility::Private))
        .await
        .unwrap();
    let mut projects = Vec::new();
    for path in ["tools", "other"] {
        let project = registry
            .create_project(new_project(
                path,
                path,
                group.id,
                Visibility::Private,
                RegistryAccess::Enabled,
            ))
            .await
            .unwrap();
        for (u, level) in [
            (&maintainer, AccessLevel::Maintainer),
            (&developer, AccessLevel::Developer),
        ] {
            add_member(registry, MemberSource::Project(project.id), u.id, level).await;
        }
        projects.push(project);
    }
    let other = projects.pop().unwrap();
    let project = projects.pop().unwrap();

    let as_dev = Principal::User {
        user: developer.clone(),
        scopes: None,
    };
    // v2's second file comes from a CI/CD job run by the maintainer.
    let job = Principal::Job {
        token: JobToken {
            id: TokenId(1),
            project_id: project.id,
            user_id: maintainer.id,
            build: BuildInfo {
                pipeline_id: 4242,
                job_id: 9191,
                git_ref: "release/2.0".into(),
                sha: SHA.into(),
            },
            expires_at: now_millis() + 60_000,
            created_at: now_millis(),
            origin: JobTokenOrigin::Session,
        },
        user: maintainer.clone(),
    };
    let (v1, _) = publish(
        registry,
        &as_dev,
        &project,
        "tool",
        "1.0.0",
        "tool-1.0.0.tar.gz",
        "one",
    )
    .await;
    let (_, tarball) = publish(
        registry,
        &as_dev,
        &project,
        "tool",
        "2.0.0",
        "tool-2.0.0.tar.gz",
        "two, tarred",
    )
    .await;
    let (v2, zip) = publish(
        registry,
        &job,
        &project,
        "tool",
        "2.0.0",
        "tool-2.0.0.zip",
        "two, zipped",
    )
    .await;
    registry
        .catalog()
        .set_package_tag(v2.id, "stable")
        .await
        .unwrap();
    let (elsewhere, _) = publish(
        registry,
        &as_dev,
        &other,
        "tool",
        "9.9.9",
        "tool-9.9.9.tar.gz",
        "other",
    )
    .await;

    let generic = Format {
        id: "generic",
        name: "Generic",
        snippets: filled_snippets,
    };
    World {
        web: seed
            .serve(vec![Arc::new(generic)], WebConfig::default())
            .await,
        maintainer,
        developer,
        project,
        other,
        v1,
        v2,
        tarball,
        zip,
        elsewhere,
    }
}

impl World {
    fn page_of(&self, pkg: &Package) -> String {
        format!("/acme/tools/-/packages/{}", pkg.id.0)
    }
    fn file_delete(&self, file: &PackageFile) -> String {
        format!("{}/files/{}/delete", self.page_of(&self.v2), file.id.0)
    }
    async fn files_of_v2(&self) -> Vec<String> {
        self.registry
            .catalog()
            .package_files(
                self.v2.id,
                Page {
                    page: 1,
                    per_page: 100,
                },
            )
            .await
            .unwrap()
            .0
            .into_iter()
            .map(|f| f.file_name)
            .collect()
    }
}

/// POSTs a form with the CSRF token when given (and nothing else), with the session when
/// given.
async fn post(
    app: &impl Svc,
    uri: &str,
    session: Option<&Cookie<'static>>,
    token: Option<&str>,
) -> ServiceResponse<BoxBody> {
    let form: Vec<(&str, &str)> = token
        .map(|t| ("authenticity_token", t))
        .into_iter()
        .collect();
    post_form(app, uri, session, &form).await
}

#[actix_web::test]
async fn the_page_shows_versions_tags_files_ci_activity_and_filled_in_snippets() {
    let w = world().await;
    let app = app(&w).await;
    let dev = w.session(&w.developer).await;
    let (status, html) = get(&app, &w.page_of(&w.v2), Some(&dev)).await;
    assert_eq!(status, StatusCode::OK);

    // Name, format, version, status, tag, project.
    assert!(
        html.contains("<h1>tool <span class=\"muted\">2.0.0</span></h1>"),
        "{html}"
    );
    assert!(html.contains("<dt>Format</dt><dd>Generic</dd>"));
    assert!(html.contains("<dt>Status</dt><dd><span class=\"badge\">Default</span></dd>"));
    assert!(html.contains("<span class=\"badge\">stable</span>"));
    assert!(html.contains("<a href=\"/acme/tools/-/packages\">acme/tools</a>"));
    assert!(html.contains("<dt>Last downloaded</dt><dd><span class=\"muted\">Never</span></dd>"));

    // Both versions, newest first, this one marked; the other project's version is not one.
    let v2_at = html
        .find(&format!(
            "<a href=\"{}\" aria-current=\"page\">2.0.0</a>",
            w.page_of(&w.v2)
        ))
        .expect("this version, marked");
    let v1_at = html
        .find(&format!("<a href=\"{}\">1.0.0</a>", w.page_of(&w.v1)))
        .expect("a link to the other version");
    assert!(v2_at < v1_at, "newest first");
    assert!(html.contains("This version"));
    assert!(!html.contains("9.9.9"));

    // Files: names, sizes, sha256, download links.
    for (file, size) in [(&w.tarball, "11 B"), (&w.zip, "11 B")] {
        assert!(html.contains(&format!(
            "<td class=\"file-name\"><div>{}</div>",
            file.file_name
        )));
        assert!(html.contains(&format!("<td class=\"num\">{size}</td>")));
        assert!(html.contains(&format!("<code class=\"mono\">{}</code>", file.sha256)));
        assert!(html.contains(&format!(
            "href=\"{}/files/{}/download\"",
            w.page_of(&w.v2),
            file.id.0
        )));
    }
    assert!(
        !html.contains("tool-1.0.0.tar.gz"),
        "v1's file is on v1's page"
    );

    // CI/CD activity of the job publish: pipeline, job, commit, ref, user.
    assert!(html.contains("<td>#4242</td><td>#9191</td>"), "{html}");
    assert!(html.contains(&format!("title=\"{SHA}\">{}</code>", &SHA[..12])));
    assert!(html.contains("<code>release/2.0</code>"));
    assert!(html.contains("<td>maria</td>"));

    // The format's snippets, filled with the instance's URL, project, package and files.
    let filled = format!(
        "{EXTERNAL} {} acme/tools tool@2.0.0 [tool-2.0.0.tar.gz,tool-2.0.0.zip]",
        w.project.id.0
    );
    for (id, title) in [
        ("snippet-registry-setup", "Registry setup"),
        ("snippet-install", "Install"),
        ("snippet-publish", "Publish"),
    ] {
        assert!(
            html.contains(&format!("<h3 id=\"{id}-title\">{title}</h3>")),
            "{title}"
        );
        assert!(html.contains(&format!(
            "<pre id=\"{id}\" data-language=\"shell\"><code>{} &lt;your_access_token&gt; {filled}</code></pre>",
            title.to_lowercase()
        )));
        assert!(html.contains(&format!("data-copy-target=\"{id}\"")));
    }

    // A Developer may not delete: no buttons.
    assert!(!html.contains("Delete package"));
    assert!(!html.contains("/delete\""));
}

#[actix_web::test]
async fn a_maintainer_sees_the_delete_buttons() {
    let w = world().await;
    let app = app(&w).await;
    let maria = w.session(&w.maintainer).await;
    let (status, html) = get(&app, &w.page_of(&w.v2), Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(
        "<a class=\"button danger\" href=\"{}/delete\">Delete package</a>",
        w.page_of(&w.v2)
    )));
    assert!(html.contains(&format!("href=\"{}\"", w.file_delete(&w.tarball))));
    assert!(html.contains(&format!("href=\"{}\"", w.file_delete(&w.zip))));
}

#[actix_web::test]
async fn whoever_may_not_see_the_project_gets_the_404_page_everywhere() {
    let w = world().await;
    let app = app(&w).await;
    let page = w.page_of(&w.v2);
    for uri in [
        page.clone(),
        format!("{page}/delete"),
        w.file_delete(&w.tarball),
        format!("{page}/files/{}/download", w.tarball.id.0),
    ] {
        let (status, html) = get(&app, &uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(html.contains("Page not found"));
        assert!(
            !html.contains("tool"),
            "nothing of the package shows: {html}"
        );
    }
    for uri in [format!("{page}/delete"), w.file_delete(&w.tarball)] {
        let resp = post(&app, &uri, None, Some("whatever")).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "POST {uri}");
    }
    assert_eq!(w.files_of_v2().await.len(), 2);
}

#[actix_web::test]
async fn a_package_of_another_project_or_a_bad_id_is_not_found_under_this_path() {
    let w = world().await;
    let app = app(&w).await;
    let dev = w.session(&w.developer).await;
    // The package exists and the visitor may see it, but under its own project only.
    let (status, _) = get(
        &app,
        &format!("/acme/other/-/packages/{}", w.elsewhere.id.0),
        Some(&dev),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.other.full_path, "acme/other");
    for uri in [
        format!("/acme/tools/-/packages/{}", w.elsewhere.id.0),
        "/acme/tools/-/packages/abc".to_owned(),
        "/acme/tools/-/packages/99999999999999999999".to_owned(),
        format!("/acme/nope/-/packages/{}", w.v2.id.0),
        format!("/{}/-/packages/{}", w.project.id.0, w.v2.id.0),
        format!(
            "{}/files/{}/delete",
            w.page_of(&w.v2),
            w.elsewhere.id.0 + 1000
        ),
    ] {
        let (status, _) = get(&app, &uri, Some(&dev)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[actix_web::test]
async fn a_maintainer_deletes_a_file_after_confirming_and_sees_the_notice() {
    let w = world().await;
    let app = app(&w).await;
    let maria = w.session(&w.maintainer).await;
    let uri = w.file_delete(&w.tarball);

    let (status, html) = get(&app, &uri, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Delete file</h1>"));
    assert!(html.contains("tool-2.0.0.tar.gz"));
    assert!(html.contains(&format!("<form method=\"post\" action=\"{uri}\">")));
    assert!(html.contains("<button class=\"danger\" type=\"submit\">Delete</button>"));
    assert!(html.contains(&format!(
        "<a class=\"button secondary\" href=\"{}\">Cancel</a>",
        w.page_of(&w.v2)
    )));
    let token = field(&html, "authenticity_token");

    let resp = post(&app, &uri, Some(&maria), Some(&token)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), w.page_of(&w.v2));
    assert!(
        cookie_from(&resp, "_packyard_flash").is_some(),
        "a notice for the next page"
    );

    assert_eq!(w.files_of_v2().await, ["tool-2.0.0.zip"]);
    let html = follow(&app, resp, &maria).await;
    assert!(html.contains("<div class=\"notice\" role=\"status\">File deleted.</div>"));
    assert!(!html.contains("<div>tool-2.0.0.tar.gz</div>"));
    assert!(html.contains("<div>tool-2.0.0.zip</div>"));

    // Gone: its confirmation page and a second POST are 404.
    let (status, _) = get(&app, &uri, Some(&maria)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let resp = post(&app, &uri, Some(&maria), Some(&token)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_developer_sees_the_package_but_is_refused_a_delete_with_403() {
    let w = world().await;
    let app = app(&w).await;
    let dev = w.session(&w.developer).await;
    let (status, html) = get(&app, &w.page_of(&w.v2), Some(&dev)).await;
    assert_eq!(status, StatusCode::OK);
    // The sign-out form carries the session's token: the refusal is the role, not CSRF.
    let token = field(&html, "authenticity_token");

    let (status, html) = get(&app, &w.file_delete(&w.tarball), Some(&dev)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Maintainer"), "{html}");
    for uri in [
        w.file_delete(&w.tarball),
        format!("{}/delete", w.page_of(&w.v2)),
    ] {
        let resp = post(&app, &uri, Some(&dev), Some(&token)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "POST {uri}");
    }
    assert_eq!(w.files_of_v2().await.len(), 2);
    assert!(w
        .registry
        .catalog()
        .package_by_id(w.project.id, w.v2.id)
        .await
        .unwrap()
        .is_some());
}

#[actix_web::test]
async fn a_delete_without_the_csrf_token_is_refused_with_403() {
    let w = world().await;
    let app = app(&w).await;
    let maria = w.session(&w.maintainer).await;
    for token in [None, Some("forged")] {
        for uri in [
            w.file_delete(&w.tarball),
            format!("{}/delete", w.page_of(&w.v2)),
        ] {
            let resp = post(&app, &uri, Some(&maria), token).await;
            assert_eq!(
                resp.status(),
                StatusCode::FORBIDDEN,
                "POST {uri} with {token:?}"
            );
        }
    }
    assert_eq!(w.files_of_v2().await.len(), 2);
}

#[actix_web::test]
async fn an_anonymous_visitor_of_a_public_project_is_sent_to_sign_in_to_delete() {
    let w = world().await;
    w.registry
        .catalog()
        .update_project(
            w.project.id,
            ProjectUpdate {
                visibility: Some(Visibility::Public),
                ..ProjectUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    let app = app(&w).await;
    let (status, _) = get(&app, &w.page_of(&w.v2), None).await;
    assert_eq!(status, StatusCode::OK);
    let resp = fetch(&app, &w.file_delete(&w.tarball), None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/users/sign_in?redirect_to="));
    let resp = post(&app, &w.file_delete(&w.tarball), None, Some("x")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(w.files_of_v2().await.len(), 2);
}

#[actix_web::test]
async fn a_maintainer_deletes_the_package_and_lands_on_the_registry_page() {
    let w = world().await;
    let app = app(&w).await;
    let maria = w.session(&w.maintainer).await;
    let uri = format!("{}/delete", w.page_of(&w.v2));
    let (status, html) = get(&app, &uri, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Delete package</h1>"));
    assert!(html.contains("with its 2 files"));
    let token = field(&html, "authenticity_token");
    let resp = post(&app, &uri, Some(&maria), Some(&token)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/acme/tools/-/packages");
    assert!(w
        .registry
        .catalog()
        .package_by_id(w.project.id, w.v2.id)
        .await
        .unwrap()
        .is_none());
    let (status, _) = get(&app, &w.page_of(&w.v2), Some(&maria)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The other version stays, and no longer lists the deleted one.
    let (status, html) = get(&app, &w.page_of(&w.v1), Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("2.0.0"));
}

#[actix_web::test]
async fn a_reader_downloads_a_file_through_the_session_and_it_counts_as_a_download() {
    let w = world().await;
    let app = app(&w).await;
    let dev = w.session(&w.developer).await;
    let uri = format!("{}/files/{}/download", w.page_of(&w.v2), w.zip.id.0);
    let resp = fetch(&app, &uri, Some(&dev)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
        "nosniff"
    );
    assert!(resp
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("tool-2.0.0.zip"));
    assert_eq!(body_text(resp).await, "two, zipped");
    let (_, html) = get(&app, &w.page_of(&w.v2), Some(&dev)).await;
    assert!(!html.contains("<dt>Last downloaded</dt><dd><span class=\"muted\">Never</span></dd>"));
    assert!(html.contains("<dt>Last downloaded</dt><dd><time datetime="));
}
