//! The HTTP contract of the real application (`server::app`) over the real catalog (SQLite)
//! and blob store (a folder): bad input gets a clear 4xx in GitLab's shape and leaves nothing
//! behind; credentials and roles get the answers GitLab gives on package routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};

use actix_web::http::StatusCode;
use actix_web::{test, web};
use packyard::config::{self, Config};
use packyard::metrics::Metrics;
use packyard::{formats, server};
use packyard_core::model::*;
use packyard_core::Registry;
use serde_json::Value;

const ROOT: &str = "glpat-roottokenroottokenroottoken00";

struct Env {
    dir: tempfile::TempDir,
    config: Config,
    registry: web::Data<Registry>,
}

async fn env_with(max_file_size: u64) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let max = max_file_size.to_string();
    let config = config::load(
        None,
        |k| match k {
            "PACKYARD_DATA_DIR" => Some(data.clone()),
            "PACKYARD_GENERIC_MAX_FILE_SIZE" => Some(max.clone()),
            "PACKYARD_EXTERNAL_URL" => Some("http://packyard.test".into()),
            _ => None,
        },
        &[],
    )
    .unwrap();
    let registry = server::open_registry(&config).await.unwrap();
    registry.ensure_initial_root(ROOT).await.unwrap();
    let g = registry
        .create_group(NewGroup {
            name: "acme".into(),
            path: "acme".into(),
            parent_id: None,
            visibility: Visibility::Public,
            description: String::new(),
        })
        .await
        .unwrap();
    for (path, vis, access) in [
        ("tools", Visibility::Private, RegistryAccess::Enabled),
        ("open", Visibility::Public, RegistryAccess::Enabled),
        ("off", Visibility::Public, RegistryAccess::Disabled),
    ] {
        registry
            .create_project(NewProject {
                name: path.into(),
                path: path.into(),
                namespace: Namespace::Group(g.id),
                visibility: vis,
                description: String::new(),
                registry_access: access,
                creator_id: None,
            })
            .await
            .unwrap();
    }
    Env {
        dir,
        config,
        registry: web::Data::new(registry),
    }
}

async fn env() -> Env {
    env_with(1024 * 1024).await
}

impl Env {
    /// A user with `level` on acme/tools (None: no membership) and a token with `scopes`.
    async fn user(&self, name: &str, level: Option<AccessLevel>, scopes: &[&str]) -> String {
        let u = self
            .registry
            .catalog()
            .create_user(NewUser {
                username: name.into(),
                name: name.into(),
                email: format!("{name}@x"),
                is_admin: false,
                password_hash: None,
            })
            .await
            .unwrap();
        if let Some(l) = level {
            let p = self
                .registry
                .catalog()
                .project_by_full_path("acme/tools")
                .await
                .unwrap()
                .unwrap();
            self.registry
                .catalog()
                .add_member(MemberSource::Project(p.id), u.id, l, None)
                .await
                .unwrap();
        }
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        self.registry
            .create_personal_access_token(u.id, "t", &scopes, None)
            .await
            .unwrap()
            .0
    }

    async fn package_count(&self) -> i64 {
        let ids: Vec<ProjectId> = (1..=3).map(ProjectId).collect();
        let filter = PackageFilter {
            status: None,
            ..Default::default()
        };
        self.registry
            .catalog()
            .list_packages(
                &ids,
                &filter,
                PackageOrder::CreatedAt,
                false,
                Page {
                    page: 1,
                    per_page: 100,
                },
            )
            .await
            .unwrap()
            .1
    }
}

async fn web_state(env: &Env) -> web::Data<packyard_web::WebState> {
    web::Data::new(
        packyard_web::WebState::load(
            &env.registry,
            formats::enabled(&env.config),
            packyard_web::WebConfig::default(),
        )
        .await
        .unwrap(),
    )
}

macro_rules! app {
    ($env:expr) => {
        test::init_service(server::app(
            $env.registry.clone(),
            web::Data::new(Metrics::new()),
            web_state(&$env).await,
            formats::enabled(&$env.config),
        ))
        .await
    };
}

const BASE: &str = "/api/v4/projects/acme%2Ftools/packages/generic";

async fn send<B: actix_web::body::MessageBody>(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await;
    let json = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, headers, json)
}

fn put(path: &str, token: &str, body: &'static [u8]) -> test::TestRequest {
    test::TestRequest::put()
        .uri(path)
        .insert_header(("PRIVATE-TOKEN", token.to_owned()))
        .insert_header(("Content-Length", body.len().to_string()))
        .set_payload(body)
}

#[actix_web::test]
async fn file_names_with_traversal_slashes_or_control_characters_are_400() {
    let env = env().await;
    let app = app!(env);
    for bad in [
        "..%2Fetc%2Fpasswd",
        "a/../b",
        "a/./b",
        "f.txt/",
        "/f.txt",
        "a//b",
        "a%00b",
        "a%0Ab",
        "a%7Fb",
        "%ff",
    ] {
        let (status, _, body) =
            send(&app, put(&format!("{BASE}/hello/1.0.0/{bad}"), ROOT, b"x")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "file_name is invalid", "{bad}");
    }
    assert_eq!(env.package_count().await, 0);
}

#[actix_web::test]
async fn invalid_names_versions_and_params_are_400_with_the_parameter_named() {
    let env = env().await;
    let app = app!(env);
    let cases = [
        (
            format!("{BASE}/he%20llo/1.0.0/f"),
            "package_name is invalid",
        ),
        (format!("{BASE}/hello/1..0/f"), "package_version is invalid"),
        (
            format!("{BASE}/hello/1.0.0/f?status=processing"),
            "status does not have a valid value",
        ),
        (
            format!("{BASE}/hello/1.0.0/f?select=everything"),
            "select does not have a valid value",
        ),
    ];
    for (uri, msg) in cases {
        let (status, _, body) = send(&app, put(&uri, ROOT, b"x")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(body["error"], msg, "{uri}");
    }
}

#[actix_web::test]
async fn bad_project_ids_are_404_never_500() {
    let env = env().await;
    let app = app!(env);
    for id in [
        "abc%00def",
        "99999999999999999999999",
        "%ff%fe",
        "acme%2F..%2Ftools",
        "0",
    ] {
        let (status, _, body) = send(
            &app,
            put(
                &format!("/api/v4/projects/{id}/packages/generic/a/1/f"),
                ROOT,
                b"x",
            ),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
        assert_eq!(body["message"], "404 Project Not Found");
    }
    // Unknown API paths answer GitLab's JSON; other paths are the web UI's 404 page.
    let (status, _, body) = send(&app, test::TestRequest::get().uri("/api/v4/no/such/route")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "404 Not Found");
    let (status, headers, body) = send(&app, test::TestRequest::get().uri("/no/such/route")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(body.as_str().unwrap().contains("Page not found"), "{body}");
}

#[actix_web::test]
async fn declared_oversize_body_is_413_and_nothing_is_stored() {
    let env = env_with(1024).await;
    let app = app!(env);
    let req = test::TestRequest::put()
        .uri(&format!("{BASE}/big/1.0.0/big.bin"))
        .insert_header(("PRIVATE-TOKEN", ROOT))
        .insert_header(("Content-Length", "2048"))
        .set_payload(vec![7u8; 2048]);
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("too large"));
    assert_eq!(env.package_count().await, 0);
    assert!(env.registry.blobs().list().await.unwrap().is_empty());
}

#[actix_web::test]
async fn undeclared_oversize_body_is_413_and_nothing_is_stored() {
    let env = env_with(1024).await;
    let app = app!(env);
    // No Content-Length: the limit is enforced while streaming.
    let req = test::TestRequest::put()
        .uri(&format!("{BASE}/big/1.0.0/big.bin"))
        .insert_header(("PRIVATE-TOKEN", ROOT))
        .set_payload(vec![7u8; 4096]);
    let (status, _, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(env.package_count().await, 0);
    assert!(env.registry.blobs().list().await.unwrap().is_empty());
}

#[actix_web::test]
async fn credentials_that_do_not_check_out_are_401_with_a_basic_challenge() {
    let env = env().await;
    let app = app!(env);
    let uri = format!("{BASE}/hello/1.0.0/f");
    let cases: Vec<(&str, String)> = vec![
        ("Authorization", "Basic !!!not-base64".into()),
        ("Authorization", "Basic bm9jb2xvbg==".into()), // "nocolon"
        ("Authorization", "Digest whatever".into()),
        (
            "PRIVATE-TOKEN",
            "glpat-unknownunknownunknownunknown0".into(),
        ),
    ];
    for (h, v) in cases {
        let req = test::TestRequest::get()
            .uri(&uri)
            .insert_header((h, v.clone()));
        let (status, headers, _) = send(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{h}: {v}");
        assert_eq!(
            headers.get("www-authenticate").unwrap(),
            "Basic realm=\"Packyard Package Registry\""
        );
    }
    // Two different credentials at once are refused rather than guessed between.
    let req = test::TestRequest::get()
        .uri(&uri)
        .insert_header(("PRIVATE-TOKEN", ROOT))
        .insert_header(("JOB-TOKEN", "x"));
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
    // An unknown token is 401 even where anonymous reads are allowed.
    let req = test::TestRequest::get()
        .uri("/api/v4/projects/acme%2Fopen/packages/generic/a/1/f")
        .insert_header(("PRIVATE-TOKEN", "nope"));
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn expired_and_revoked_tokens_are_401_invalid_token() {
    let env = env().await;
    let app = app!(env);
    let root = env
        .registry
        .catalog()
        .user_by_username("root")
        .await
        .unwrap()
        .unwrap();
    let scopes = vec!["api".to_string()];
    let (expired, _) = env
        .registry
        .create_personal_access_token(root.id, "old", &scopes, Some("2020-01-01".into()))
        .await
        .unwrap();
    let (revoked, row) = env
        .registry
        .create_personal_access_token(root.id, "gone", &scopes, None)
        .await
        .unwrap();
    env.registry
        .catalog()
        .revoke_personal_access_token(row.id)
        .await
        .unwrap();
    for (tok, text) in [
        (expired, "Token is expired"),
        (revoked, "Token was revoked"),
    ] {
        let req = test::TestRequest::get()
            .uri(&format!("{BASE}/a/1/f"))
            .insert_header(("PRIVATE-TOKEN", tok));
        let (status, _, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_token");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with(text),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn unknown_scopes_are_refused_when_creating_tokens() {
    let env = env().await;
    let root = env
        .registry
        .catalog()
        .user_by_username("root")
        .await
        .unwrap()
        .unwrap();
    let err = env
        .registry
        .create_personal_access_token(root.id, "t", &["api".into(), "bogus".into()], None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    assert!(err
        .to_string()
        .contains("scopes does not have a valid value"));
    let err = env
        .registry
        .create_deploy_token(
            DeployTokenOwner::Group(GroupId(1)),
            "d",
            None,
            &["write_everything".into()],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn roles_get_gitlab_answers_on_package_routes() {
    let env = env().await;
    let app = app!(env);
    let outsider = env.user("outsider", None, &["api"]).await;
    let reporter = env
        .user("reporter", Some(AccessLevel::Reporter), &["api"])
        .await;
    let developer = env
        .user("developer", Some(AccessLevel::Developer), &["api"])
        .await;
    let reader = env
        .user("reader", Some(AccessLevel::Maintainer), &["read_api"])
        .await;
    let uri = format!("{BASE}/hello/1.0.0/hello.txt");
    // Anonymous: 401 so clients retry with credentials.
    let anon = test::TestRequest::put().uri(&uri).set_payload("x");
    assert_eq!(send(&app, anon).await.0, StatusCode::UNAUTHORIZED);
    // Signed in but cannot see the private project: 404.
    assert_eq!(
        send(&app, put(&uri, &outsider, b"x")).await.0,
        StatusCode::NOT_FOUND
    );
    // Can see, cannot publish: 403.
    assert_eq!(
        send(&app, put(&uri, &reporter, b"x")).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, body) = send(&app, put(&uri, &reader, b"x")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_scope"))
    );
    // Developer publishes; the reporter reads it back.
    let (status, _, body) = send(&app, put(&uri, &developer, b"hello")).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::CREATED, Some("201 Created"))
    );
    let req = test::TestRequest::get()
        .uri(&uri)
        .insert_header(("PRIVATE-TOKEN", reporter));
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await.as_ref(), b"hello");
    // Registry disabled: 403 even for the admin.
    let off = "/api/v4/projects/acme%2Foff/packages/generic/a/1/f";
    assert_eq!(
        send(&app, put(off, ROOT, b"x")).await.0,
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn deploy_and_job_tokens_publish_as_gitlab_allows() {
    let env = env().await;
    let app = app!(env);
    let registry = &env.registry;
    let group = registry
        .catalog()
        .group_by_full_path("acme")
        .await
        .unwrap()
        .unwrap();
    let (read_only, _) = registry
        .create_deploy_token(
            DeployTokenOwner::Group(group.id),
            "ro",
            None,
            &["read_package_registry".into()],
            None,
        )
        .await
        .unwrap();
    let (writer, _) = registry
        .create_deploy_token(
            DeployTokenOwner::Group(group.id),
            "rw",
            None,
            &["write_package_registry".into()],
            None,
        )
        .await
        .unwrap();
    let basic = |user: &str, secret: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
        )
    };
    let uri = format!("{BASE}/ci/1.0.0/out.bin");
    let req = |auth: String, body: &'static [u8]| {
        test::TestRequest::put()
            .uri(&uri)
            .insert_header(("Authorization", auth))
            .set_payload(body)
    };
    assert_eq!(
        send(&app, req(basic("anyone", &read_only), b"x")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, req(basic("anyone", &writer), b"x")).await.0,
        StatusCode::CREATED
    );
    // A job token minted for a developer publishes over Basic `gitlab-ci-token` and records the build.
    let dev_token = env
        .user("dev", Some(AccessLevel::Developer), &["api"])
        .await;
    let mint = test::TestRequest::post()
        .uri("/api/v4/projects/acme%2Ftools/ci/job_token")
        .insert_header(("PRIVATE-TOKEN", dev_token))
        .set_json(
            serde_json::json!({"pipeline_id": 77, "job_id": 8, "ref": "main", "sha": "abc123"}),
        );
    let (status, _, body) = send(&app, mint).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let job = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        send(&app, req(basic("someone", &job), b"y")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, req(basic("gitlab-ci-token", &job), b"y"))
            .await
            .0,
        StatusCode::CREATED
    );
    let project = registry
        .catalog()
        .project_by_full_path("acme/tools")
        .await
        .unwrap()
        .unwrap();
    let (pkgs, _) = registry
        .catalog()
        .list_packages(
            &[project.id],
            &PackageFilter::default(),
            PackageOrder::CreatedAt,
            false,
            Page {
                page: 1,
                per_page: 10,
            },
        )
        .await
        .unwrap();
    let builds = registry
        .catalog()
        .package_build_infos(pkgs[0].id)
        .await
        .unwrap();
    assert_eq!(builds[0].build.pipeline_id, 77);
    assert_eq!(builds[0].build.git_ref, "main");
}

#[actix_web::test]
async fn duplicates_follow_the_group_setting_and_exception_regex() {
    let env = env().await;
    let app = app!(env);
    let uri = format!("{BASE}/dup/1.0.0/a.txt");
    assert_eq!(
        send(&app, put(&uri, ROOT, b"1")).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        send(&app, put(&uri, ROOT, b"2")).await.0,
        StatusCode::CREATED
    );
    let group = env
        .registry
        .catalog()
        .group_by_full_path("acme")
        .await
        .unwrap()
        .unwrap();
    let settings = PackageSettings {
        generic_duplicates_allowed: false,
        generic_duplicate_exception_regex: "snap.*".into(),
    };
    env.registry
        .catalog()
        .set_group_package_settings(group.id, &settings)
        .await
        .unwrap();
    let (status, _, body) = send(&app, put(&uri, ROOT, b"3")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "400 Bad request - Duplicate package is not allowed"
    );
    // A new file name in the same package is not a duplicate; a name matching the exception is allowed.
    assert_eq!(
        send(&app, put(&format!("{BASE}/dup/1.0.0/b.txt"), ROOT, b"4"))
            .await
            .0,
        StatusCode::CREATED
    );
    let snap = format!("{BASE}/snapshot/1.0.0/a.txt");
    assert_eq!(
        send(&app, put(&snap, ROOT, b"5")).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        send(&app, put(&snap, ROOT, b"6")).await.0,
        StatusCode::CREATED
    );
    // The download is the newest file of that name.
    let req = test::TestRequest::get()
        .uri(&uri)
        .insert_header(("PRIVATE-TOKEN", ROOT));
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(test::read_body(res).await.as_ref(), b"2");
}

#[actix_web::test]
async fn ranges_and_conditional_downloads() {
    let env = env().await;
    let app = app!(env);
    let uri = format!("{BASE}/r/1.0.0/r.txt");
    assert_eq!(
        send(&app, put(&uri, ROOT, b"0123456789abcdef")).await.0,
        StatusCode::CREATED
    );
    let get = |range: Option<&str>| {
        let mut r = test::TestRequest::get()
            .uri(&uri)
            .insert_header(("PRIVATE-TOKEN", ROOT));
        if let Some(v) = range {
            r = r.insert_header(("Range", v.to_owned()));
        }
        r.to_request()
    };
    let res = test::call_service(&app, get(Some("bytes=2-5"))).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers().get("content-range").unwrap(), "bytes 2-5/16");
    assert_eq!(test::read_body(res).await.as_ref(), b"2345");
    let res = test::call_service(&app, get(Some("bytes=-3"))).await;
    assert_eq!(test::read_body(res).await.as_ref(), b"def");
    // Nonsense ranges are ignored: the whole file comes back.
    let res = test::call_service(&app, get(Some("bytes=zz"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, get(Some("bytes=100-"))).await;
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let etag = test::call_service(&app, get(None))
        .await
        .headers()
        .get("etag")
        .unwrap()
        .clone();
    let req = test::TestRequest::get()
        .uri(&uri)
        .insert_header(("PRIVATE-TOKEN", ROOT))
        .insert_header(("If-None-Match", etag));
    assert_eq!(
        test::call_service(&app, req.to_request()).await.status(),
        StatusCode::NOT_MODIFIED
    );
}

/// A real socket: the client promises more bytes than it sends, then hangs up.
#[actix_web::test]
async fn body_shorter_than_content_length_leaves_no_row_and_no_blob() {
    let env = env().await;
    let registry = env.registry.clone();
    let cfg = env.config.clone();
    let web_state = web_state(&env).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let srv = actix_web::HttpServer::new(move || {
        server::app(
            registry.clone(),
            web::Data::new(Metrics::new()),
            web_state.clone(),
            formats::enabled(&cfg),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = srv.handle();
    actix_web::rt::spawn(srv);
    let response = actix_web::rt::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "PUT {BASE}/short/1.0.0/short.bin HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {ROOT}\r\nContent-Length: 100000\r\n\r\nonly a few bytes"
        )
        .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    })
    .await
    .unwrap();
    // Whether or not the server can still answer a half-closed connection, it must not be a 2xx or 5xx.
    assert!(
        !response.starts_with("HTTP/1.1 2") && !response.starts_with("HTTP/1.1 5"),
        "{response}"
    );
    // Give the handler a moment to finish cleaning up.
    for _ in 0..50 {
        if env.registry.blobs().list().await.unwrap().is_empty() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(env.package_count().await, 0);
    assert!(env.registry.blobs().list().await.unwrap().is_empty());
    let tmp = env.dir.path().join("blobs").join("tmp");
    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    handle.stop(false).await;
}

#[actix_web::test]
async fn health_readiness_and_metrics_answer() {
    let env = env().await;
    let app = app!(env);
    assert_eq!(
        send(&app, test::TestRequest::get().uri("/-/health"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, test::TestRequest::get().uri("/-/liveness"))
            .await
            .0,
        StatusCode::OK
    );
    let (status, _, body) = send(&app, test::TestRequest::get().uri("/-/readiness")).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    send(&app, put(&format!("{BASE}/m/1/m.txt"), ROOT, b"metrics")).await;
    let (_, _, body) = send(&app, test::TestRequest::get().uri("/-/metrics")).await;
    let text = body.as_str().unwrap();
    assert!(text.contains("packyard_http_requests_total{method=\"PUT\",route=\"/api/v4/projects/{id}/packages/generic/{package_name}/{package_version}/{file_name:.+}\",status=\"201\"} 1"), "{text}");
    assert!(text.contains("packyard_http_request_bytes_total"), "{text}");
}

fn basic_auth(user: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

async fn mint(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    pat: &str,
) -> String {
    let req = test::TestRequest::post()
        .uri("/api/v4/projects/acme%2Ftools/ci/job_token")
        .insert_header(("PRIVATE-TOKEN", pat.to_owned()))
        .set_json(serde_json::json!({"pipeline_id": 1, "job_id": 2, "ref": "main", "sha": "abc"}));
    let (status, _, body) = send(app, req).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_job_token_ends_when_the_token_that_minted_it_is_revoked_or_expired() {
    let env = env().await;
    let app = app!(env);
    let dev = env
        .user("dev", Some(AccessLevel::Developer), &["api"])
        .await;
    let job = mint(&app, &dev).await;
    let read = |tok: &str| {
        test::TestRequest::get()
            .uri(&format!("{BASE}/ci/1.0.0/a.bin"))
            .insert_header(("JOB-TOKEN", tok.to_owned()))
    };
    let publish = |tok: &str, file: &str| {
        test::TestRequest::put()
            .uri(&format!("{BASE}/ci/1.0.0/{file}"))
            .insert_header(("Authorization", basic_auth("gitlab-ci-token", tok)))
            .set_payload(&b"bytes"[..])
    };
    assert_eq!(
        send(&app, publish(&job, "a.bin")).await.0,
        StatusCode::CREATED
    );
    assert_eq!(send(&app, read(&job)).await.0, StatusCode::OK);

    // Revoking the PAT (here through its own DELETE /personal_access_tokens/self) ends it.
    let revoke = test::TestRequest::delete()
        .uri("/api/v4/personal_access_tokens/self")
        .insert_header(("PRIVATE-TOKEN", dev.clone()));
    assert_eq!(send(&app, revoke).await.0, StatusCode::NO_CONTENT);
    let (status, _, body) = send(&app, read(&job)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("Token was revoked"));
    assert_eq!(
        send(&app, publish(&job, "b.bin")).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A job token minted with a PAT that has since expired is refused as expired.
    let user = env
        .registry
        .catalog()
        .user_by_username("dev")
        .await
        .unwrap()
        .unwrap();
    let scopes = vec!["api".to_string()];
    let (_, old) = env
        .registry
        .create_personal_access_token(user.id, "old", &scopes, Some("2020-01-01".into()))
        .await
        .unwrap();
    let project = env
        .registry
        .catalog()
        .project_by_full_path("acme/tools")
        .await
        .unwrap()
        .unwrap();
    let principal = packyard_core::Principal::User {
        user,
        scopes: Some(scopes),
    };
    let build = BuildInfo {
        pipeline_id: 3,
        job_id: 4,
        git_ref: "main".into(),
        sha: "def".into(),
    };
    let (job, _) = env
        .registry
        .mint_job_token(&principal, &project, build, Some(&old))
        .await
        .unwrap();
    let (status, _, body) = send(&app, read(&job)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("Token is expired"));
    assert_eq!(
        send(&app, publish(&job, "c.bin")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_job_deletes_its_own_token_and_it_is_refused_right_after() {
    let env = env().await;
    let app = app!(env);
    let dev = env
        .user("dev", Some(AccessLevel::Developer), &["api"])
        .await;
    let job = mint(&app, &dev).await;
    let other = mint(&app, &dev).await;
    let delete = |tok: &str, project: &str| {
        test::TestRequest::delete()
            .uri(&format!("/api/v4/projects/{project}/ci/job_token"))
            .insert_header(("JOB-TOKEN", tok.to_owned()))
    };
    let list = |tok: &str| {
        test::TestRequest::get()
            .uri("/api/v4/projects/acme%2Ftools/packages")
            .insert_header(("JOB-TOKEN", tok.to_owned()))
    };
    assert_eq!(send(&app, list(&job)).await.0, StatusCode::OK);
    // Only under its own project, and only a job token revokes itself.
    assert_eq!(
        send(&app, delete(&job, "acme%2Fopen")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, delete(&job, "acme%2Fnope")).await.0,
        StatusCode::NOT_FOUND
    );
    let as_user = test::TestRequest::delete()
        .uri("/api/v4/projects/acme%2Ftools/ci/job_token")
        .insert_header(("PRIVATE-TOKEN", dev.clone()));
    assert_eq!(send(&app, as_user).await.0, StatusCode::UNAUTHORIZED);

    let (status, _, body) = send(&app, delete(&job, "acme%2Ftools")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(send(&app, list(&job)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(&app, delete(&job, "acme%2Ftools")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // The other job's token is untouched.
    assert_eq!(send(&app, list(&other)).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn a_present_but_unusable_credential_is_401_even_on_a_public_package() {
    let env = env().await;
    let app = app!(env);
    let uri = "/api/v4/projects/acme%2Fopen/packages/generic/pub/1.0.0/f.txt";
    let up = test::TestRequest::put()
        .uri(uri)
        .insert_header(("PRIVATE-TOKEN", ROOT))
        .set_payload(&b"public"[..]);
    assert_eq!(send(&app, up).await.0, StatusCode::CREATED);
    let anonymous = send(&app, test::TestRequest::get().uri(uri)).await;
    assert_eq!(anonymous.0, StatusCode::OK);
    let non_ascii = actix_web::http::header::HeaderValue::from_bytes(b"glpat-\xe9t\xe9").unwrap();
    let cases: Vec<(&str, actix_web::http::header::HeaderValue)> = vec![
        ("Authorization", "Basic Og==".parse().unwrap()),
        ("PRIVATE-TOKEN", non_ascii.clone()),
        ("JOB-TOKEN", non_ascii.clone()),
        ("DEPLOY-TOKEN", non_ascii.clone()),
        ("Authorization", non_ascii),
        ("PRIVATE-TOKEN", "".parse().unwrap()),
    ];
    for (name, value) in cases {
        let req = test::TestRequest::get()
            .uri(uri)
            .insert_header((name, value.clone()));
        let (status, headers, _) = send(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {value:?}");
        assert!(headers.contains_key("www-authenticate"), "{name}");
    }
    for query in ["private_token=", "job_token=%E9"] {
        let req = test::TestRequest::get().uri(&format!("{uri}?{query}"));
        assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED, "{query}");
    }
    // The REST API answers the same way.
    let req = test::TestRequest::get()
        .uri("/api/v4/projects/acme%2Fopen/packages")
        .insert_header(("Authorization", "Basic Og=="));
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_same_token_in_two_places_is_one_credential() {
    let env = env().await;
    let app = app!(env);
    let up = put(&format!("{BASE}/two/1.0.0/f.txt"), ROOT, b"x");
    assert_eq!(send(&app, up).await.0, StatusCode::CREATED);
    let uri = format!("{BASE}/two/1.0.0/f.txt");
    for auth in [basic_auth("root", ROOT), format!("Bearer {ROOT}")] {
        let req = test::TestRequest::get()
            .uri(&uri)
            .insert_header(("PRIVATE-TOKEN", ROOT))
            .insert_header(("Authorization", auth.clone()));
        assert_eq!(send(&app, req).await.0, StatusCode::OK, "{auth}");
    }
    let req = test::TestRequest::get()
        .uri(&format!(
            "/api/v4/projects/acme%2Ftools/packages?private_token={ROOT}"
        ))
        .insert_header(("PRIVATE-TOKEN", ROOT));
    assert_eq!(send(&app, req).await.0, StatusCode::OK);
    let dev = env
        .user("dev", Some(AccessLevel::Developer), &["api"])
        .await;
    for auth in [basic_auth("root", &dev), format!("Bearer {dev}")] {
        let req = test::TestRequest::get()
            .uri(&uri)
            .insert_header(("PRIVATE-TOKEN", ROOT))
            .insert_header(("Authorization", auth.clone()));
        let (status, _, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth}");
        assert!(
            body.to_string().contains("several different credentials"),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn deploy_and_job_tokens_are_not_users_on_management_routes() {
    let env = env().await;
    let app = app!(env);
    let group = env
        .registry
        .catalog()
        .group_by_full_path("acme")
        .await
        .unwrap()
        .unwrap();
    let (deploy, _) = env
        .registry
        .create_deploy_token(
            DeployTokenOwner::Group(group.id),
            "rw",
            None,
            &[
                "read_package_registry".into(),
                "write_package_registry".into(),
            ],
            None,
        )
        .await
        .unwrap();
    let maintainer = env
        .user("maria", Some(AccessLevel::Maintainer), &["api"])
        .await;
    let job = mint(&app, &maintainer).await;
    let up = put(&format!("{BASE}/dt/1.0.0/f.txt"), ROOT, b"x");
    assert_eq!(send(&app, up).await.0, StatusCode::CREATED);
    for (header, secret) in [("DEPLOY-TOKEN", &deploy), ("JOB-TOKEN", &job)] {
        let with = |req: test::TestRequest| req.insert_header((header, secret.clone()));
        // Management routes: not a user.
        for uri in [
            "/api/v4/projects/acme%2Ftools",
            "/api/v4/projects",
            "/api/v4/groups/acme",
            "/api/v4/projects/acme%2Ftools/members",
            "/api/v4/projects/acme%2Ftools/packages/protection/rules",
            "/api/v4/projects/acme%2Ftools/packages/cleanup_policy",
        ] {
            let (status, _, body) = send(&app, with(test::TestRequest::get().uri(uri))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{header} {uri}: {body}");
        }
        let create_rule = with(
            test::TestRequest::post()
                .uri("/api/v4/projects/acme%2Ftools/packages/protection/rules"),
        )
        .set_json(serde_json::json!({
            "package_name_pattern": "x*", "package_type": "generic",
            "minimum_access_level_for_push": "maintainer"
        }));
        assert_eq!(send(&app, create_rule).await.0, StatusCode::UNAUTHORIZED);
        // Package routes and the Packages API: still fine.
        let (status, _, _) = send(
            &app,
            with(test::TestRequest::get().uri(&format!("{BASE}/dt/1.0.0/f.txt"))),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{header} download");
        let (status, _, body) = send(
            &app,
            with(test::TestRequest::get().uri("/api/v4/projects/acme%2Ftools/packages")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{header} packages list: {body}");
    }
}

#[actix_web::test]
async fn pagination_links_never_repeat_the_private_token() {
    let env = env().await;
    let app = app!(env);
    for n in 0..3 {
        let up = put(&format!("{BASE}/p{n}/1.0.0/f.txt"), ROOT, b"x");
        assert_eq!(send(&app, up).await.0, StatusCode::CREATED);
    }
    for uri in [
        format!("/api/v4/projects/acme%2Ftools/packages?per_page=1&private_token={ROOT}"),
        format!("/api/v4/groups/acme/packages?per_page=1&private_token={ROOT}&sort=asc"),
        format!("/api/v4/projects?per_page=1&private_token={ROOT}"),
    ] {
        let (status, headers, body) = send(&app, test::TestRequest::get().uri(&uri)).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        let link = headers.get("link").unwrap().to_str().unwrap();
        assert!(link.contains("rel=\"next\""), "{link}");
        assert!(
            !link.contains("private_token") && !link.contains(ROOT),
            "{link}"
        );
    }
}

#[actix_web::test]
async fn metrics_label_invented_methods_as_other() {
    let env = env().await;
    let app = app!(env);
    for m in ["XMETH123", "XMETH456"] {
        let req = test::TestRequest::default()
            .method(actix_web::http::Method::from_bytes(m.as_bytes()).unwrap())
            .uri("/api/v4/version");
        send(&app, req).await;
    }
    let (_, _, body) = send(&app, test::TestRequest::get().uri("/-/metrics")).await;
    let text = body.as_str().unwrap();
    assert!(!text.contains("XMETH"), "{text}");
    assert!(
        text.contains("method=\"other\",route=\"/api/v4/version\""),
        "{text}"
    );
}

// ------------------------------------------------------------ package writes and protection

impl Env {
    async fn project(&self, path: &str) -> Project {
        self.registry
            .catalog()
            .project_by_full_path(path)
            .await
            .unwrap()
            .unwrap()
    }

    /// A package row with one file (its blob is not needed by these tests).
    async fn seed(
        &self,
        project: &str,
        format: &str,
        name: &str,
        version: &str,
        meta: Value,
    ) -> Package {
        let project = self.project(project).await;
        let sha = format!(
            "{:0>64}",
            format!("{:x}", name.len() * 1000 + version.len())
        );
        let (package, _) = self
            .registry
            .catalog()
            .publish_file(packyard_core::ports::PublishFile {
                package: NewPackage {
                    project_id: project.id,
                    format: format.into(),
                    name: name.into(),
                    normalized_name: name.into(),
                    version: version.into(),
                    status: PackageStatus::Default,
                    metadata: meta,
                },
                status_override: None,
                file_name: format!("{}-{version}.bin", name.replace('/', "-")),
                digests: BlobDigests {
                    size: 1,
                    sha256: sha.clone(),
                    sha1: sha[..40].into(),
                    md5: sha[..32].into(),
                    sha512: format!("{sha}{sha}"),
                },
                file_metadata: serde_json::json!({}),
                build: None,
                user_id: None,
                duplicates: packyard_core::ports::DuplicatePolicy::Allow,
            })
            .await
            .unwrap();
        package
    }

    async fn rule(
        &self,
        format: &str,
        pattern: &str,
        push: Option<ProtectionLevel>,
        delete: Option<ProtectionLevel>,
    ) {
        let project = self.project("acme/tools").await;
        self.registry
            .catalog()
            .create_protection_rule(NewProtectionRule {
                project_id: project.id,
                package_name_pattern: pattern.into(),
                package_type: format.into(),
                minimum_access_level_for_push: push,
                minimum_access_level_for_delete: delete,
            })
            .await
            .unwrap();
    }

    async fn tags(&self, format: &str, name: &str) -> Vec<(String, PackageId)> {
        let project = self.project("acme/tools").await;
        self.registry
            .packages()
            .package_tags_by_name(project.id, format, name)
            .await
            .unwrap()
    }

    async fn package(&self, format: &str, name: &str, version: &str) -> Package {
        let project = self.project("acme/tools").await;
        self.registry
            .packages()
            .packages_by_name(project.id, format, name)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.version == version)
            .unwrap()
    }
}

const NPM: &str = "/api/v4/projects/acme%2Ftools/packages/npm";

fn with_token(req: test::TestRequest, token: &str) -> test::TestRequest {
    req.insert_header(("Authorization", format!("Bearer {token}")))
}

#[actix_web::test]
async fn npm_dist_tags_and_deprecations_pass_the_push_protection_rule() {
    let env = env().await;
    let app = app!(env);
    env.rule("npm", "@secret/*", Some(ProtectionLevel::Maintainer), None)
        .await;
    let developer = env
        .user("developer", Some(AccessLevel::Developer), &["api"])
        .await;
    let maintainer = env
        .user("maintainer", Some(AccessLevel::Maintainer), &["api"])
        .await;
    let old = env
        .seed(
            "acme/tools",
            "npm",
            "@secret/x",
            "1.0.0",
            serde_json::json!({}),
        )
        .await;
    let new = env
        .seed(
            "acme/tools",
            "npm",
            "@secret/x",
            "2.0.0",
            serde_json::json!({}),
        )
        .await;
    env.registry
        .catalog()
        .set_package_tag(new.id, "latest")
        .await
        .unwrap();
    env.registry
        .catalog()
        .set_package_tag(new.id, "beta")
        .await
        .unwrap();
    let before = env.tags("npm", "@secret/x").await;

    // The downgrade attack: `latest` moved back to an old version, the current one deprecated.
    let move_latest = |token: &str| {
        with_token(
            test::TestRequest::put()
                .uri(&format!("{NPM}/-/package/@secret%2fx/dist-tags/latest"))
                .set_payload("\"1.0.0\""),
            token,
        )
    };
    let (status, _, body) = send(&app, move_latest(&developer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Package protected"),
        "{body}"
    );
    let remove_beta = with_token(
        test::TestRequest::delete().uri(&format!("{NPM}/-/package/@secret%2fx/dist-tags/beta")),
        &developer,
    );
    let (status, _, body) = send(&app, remove_beta).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let deprecate = |token: &str| {
        with_token(
            test::TestRequest::put()
                .uri(&format!("{NPM}/@secret%2fx"))
                .set_json(serde_json::json!({
                    "_id": "@secret/x",
                    "name": "@secret/x",
                    "versions": {
                        "2.0.0": {"name": "@secret/x", "version": "2.0.0", "deprecated": "broken, use 1.0.0"}
                    }
                })),
            token,
        )
    };
    let (status, _, body) = send(&app, deprecate(&developer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Package protected"),
        "{body}"
    );
    assert_eq!(env.tags("npm", "@secret/x").await, before);
    let current = env.package("npm", "@secret/x", "2.0.0").await;
    assert_eq!(current.status, PackageStatus::Default);
    assert!(current.metadata.get("deprecated").is_none());

    // A Maintainer passes the rule.
    let (status, _, body) = send(&app, move_latest(&maintainer)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(&app, deprecate(&maintainer)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tags = env.tags("npm", "@secret/x").await;
    assert!(tags.contains(&("latest".to_owned(), old.id)), "{tags:?}");
    assert_eq!(
        env.package("npm", "@secret/x", "2.0.0").await.status,
        PackageStatus::Deprecated
    );
    // Names the rule does not match stay open to Developers.
    let free = env
        .seed("acme/tools", "npm", "free", "1.0.0", serde_json::json!({}))
        .await;
    let tag_free = with_token(
        test::TestRequest::put()
            .uri(&format!("{NPM}/-/package/free/dist-tags/next"))
            .set_payload("\"1.0.0\""),
        &developer,
    );
    assert_eq!(send(&app, tag_free).await.0, StatusCode::OK);
    assert!(env
        .tags("npm", "free")
        .await
        .contains(&("next".to_owned(), free.id)));
}

#[actix_web::test]
async fn pypi_and_cargo_yanks_pass_the_delete_protection_rule() {
    let env = env().await;
    let app = app!(env);
    env.rule("pypi", "secret-*", None, Some(ProtectionLevel::Owner))
        .await;
    env.rule("cargo", "secret-*", None, Some(ProtectionLevel::Owner))
        .await;
    let maintainer = env
        .user("maintainer", Some(AccessLevel::Maintainer), &["api"])
        .await;
    let owner = env.user("owner", Some(AccessLevel::Owner), &["api"]).await;
    env.seed(
        "acme/tools",
        "pypi",
        "secret-lib",
        "1.0",
        serde_json::json!({}),
    )
    .await;
    let index =
        serde_json::json!({"index": {"name": "secret-crate", "vers": "1.0.0", "yanked": false}});
    env.seed("acme/tools", "cargo", "secret-crate", "1.0.0", index)
        .await;
    let pypi = "/api/v4/projects/acme%2Ftools/packages/pypi/yank/secret-lib/1.0";
    let cargo = "/api/v4/projects/acme%2Ftools/packages/cargo/api/v1/crates/secret-crate/1.0.0";
    let requests = |token: &str| {
        vec![
            with_token(test::TestRequest::put().uri(pypi), token),
            with_token(
                test::TestRequest::put().uri(&format!("{pypi}?file_name=secret-lib-1.0.bin")),
                token,
            ),
            with_token(test::TestRequest::delete().uri(pypi), token),
            with_token(
                test::TestRequest::delete().uri(&format!("{cargo}/yank")),
                token,
            ),
            with_token(
                test::TestRequest::put().uri(&format!("{cargo}/unyank")),
                token,
            ),
        ]
    };
    for req in requests(&maintainer) {
        let (status, _, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let pkg = env.package("pypi", "secret-lib", "1.0").await;
    assert!(pkg.metadata.get("yanked").is_none(), "{:?}", pkg.metadata);
    let files = env
        .registry
        .packages()
        .package_files_of(&[pkg.id])
        .await
        .unwrap();
    assert!(files[0].metadata.get("yanked").is_none());
    let crate_ = env.package("cargo", "secret-crate", "1.0.0").await;
    assert_eq!(crate_.metadata["index"]["yanked"], false);

    let yank = with_token(test::TestRequest::put().uri(pypi), &owner);
    assert_eq!(send(&app, yank).await.0, StatusCode::OK);
    let yank = with_token(
        test::TestRequest::delete().uri(&format!("{cargo}/yank")),
        &owner,
    );
    assert_eq!(send(&app, yank).await.0, StatusCode::OK);
    assert_ne!(
        env.package("pypi", "secret-lib", "1.0")
            .await
            .metadata
            .get("yanked"),
        None
    );
    assert_eq!(
        env.package("cargo", "secret-crate", "1.0.0").await.metadata["index"]["yanked"],
        true
    );
}

#[actix_web::test]
async fn small_bodies_read_into_memory_are_413_past_their_cap() {
    let env = env().await;
    let app = app!(env);
    let maintainer = env
        .user("maintainer", Some(AccessLevel::Maintainer), &["api"])
        .await;
    env.seed("acme/tools", "npm", "big", "1.0.0", serde_json::json!({}))
        .await;
    env.seed("acme/tools", "pypi", "big", "1.0", serde_json::json!({}))
        .await;
    // npm dist-tag add: the body is a version as a JSON string, in npm's error shape.
    let tag = test::TestRequest::put()
        .uri(&format!("{NPM}/-/package/big/dist-tags/next"))
        .set_payload(format!("\"{}\"", "1".repeat(4096)));
    let (status, _, body) = send(&app, with_token(tag, &maintainer)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("1024 bytes"),
        "{body}"
    );
    assert!(env.tags("npm", "big").await.is_empty());
    // PyPI yank: the reason's JSON.
    let yank = test::TestRequest::put()
        .uri("/api/v4/projects/acme%2Ftools/packages/pypi/yank/big/1.0")
        .set_payload(format!("{{\"reason\": \"{}\"}}", "r".repeat(64 * 1024)));
    let (status, _, body) = send(&app, with_token(yank, &maintainer)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(env
        .package("pypi", "big", "1.0")
        .await
        .metadata
        .get("yanked")
        .is_none());
}

#[actix_web::test]
async fn npm_unpublish_passes_the_delete_protection_rule() {
    let env = env().await;
    let app = app!(env);
    env.rule("npm", "@secret/*", None, Some(ProtectionLevel::Owner))
        .await;
    let maintainer = env
        .user("maintainer", Some(AccessLevel::Maintainer), &["api"])
        .await;
    let owner = env.user("owner", Some(AccessLevel::Owner), &["api"]).await;
    for version in ["1.0.0", "2.0.0"] {
        env.seed(
            "acme/tools",
            "npm",
            "@secret/x",
            version,
            serde_json::json!({}),
        )
        .await;
    }
    let whole = || test::TestRequest::delete().uri(&format!("{NPM}/@secret%2fx/-rev/1-0"));
    let one =
        || test::TestRequest::delete().uri(&format!("{NPM}/@secret%2fx/-/x-1.0.0.tgz/-rev/1-0"));
    for req in [whole(), one()] {
        let (status, _, body) = send(&app, with_token(req, &maintainer)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("Package protected"),
            "{body}"
        );
    }
    let project = env.project("acme/tools").await;
    let left = |env: &Env| {
        let registry = env.registry.clone();
        async move {
            let mut v: Vec<String> = registry
                .packages()
                .packages_by_name(project.id, "npm", "@secret/x")
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.version)
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(left(&env).await, ["1.0.0", "2.0.0"]);
    // An Owner passes the rule.
    let (status, _, body) = send(&app, with_token(one(), &owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(left(&env).await, ["2.0.0"]);
}

#[actix_web::test]
async fn allow_anyone_to_pull_shows_packages_but_not_members_or_the_project_path() {
    let env = env().await;
    let app = app!(env);
    let group = env
        .registry
        .catalog()
        .group_by_full_path("acme")
        .await
        .unwrap()
        .unwrap();
    let hidden = env
        .registry
        .create_project(NewProject {
            name: "hidden-name".into(),
            path: "hidden-name".into(),
            namespace: Namespace::Group(group.id),
            visibility: Visibility::Private,
            description: String::new(),
            registry_access: RegistryAccess::Public,
            creator_id: None,
        })
        .await
        .unwrap();
    let maintainer = env
        .registry
        .catalog()
        .create_user(NewUser {
            username: "keeper".into(),
            name: "Keeper".into(),
            email: "keeper@x".into(),
            is_admin: false,
            password_hash: None,
        })
        .await
        .unwrap();
    env.registry
        .catalog()
        .add_member(
            MemberSource::Project(hidden.id),
            maintainer.id,
            AccessLevel::Maintainer,
            None,
        )
        .await
        .unwrap();
    let index = serde_json::json!({"index": {"name": "pulled", "vers": "1.0.0", "yanked": false}});
    env.seed("acme/hidden-name", "cargo", "pulled", "1.0.0", index)
        .await;
    let base = "/api/v4/projects/acme%2Fhidden-name/packages/cargo";

    // Anonymous pulls: the index file is served.
    let index = test::TestRequest::get().uri(&format!("{base}/pu/ll/pulled"));
    assert_eq!(send(&app, index).await.0, StatusCode::OK);
    // But the member list is project information.
    let owners = test::TestRequest::get().uri(&format!("{base}/api/v1/crates/pulled/owners"));
    let (status, _, body) = send(&app, owners).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(!body.to_string().contains("keeper"), "{body}");
    let change = test::TestRequest::put().uri(&format!("{base}/api/v1/crates/pulled/owners"));
    // Changing owners is a write: an anonymous puller is asked for credentials.
    let (status, _, body) = send(&app, change).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(!body.to_string().contains("hidden-name"), "{body}");
    // REST package listings need the project visible too.
    let rest = test::TestRequest::get().uri("/api/v4/projects/acme%2Fhidden-name/packages");
    let (status, _, body) = send(&app, rest).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let group_list = test::TestRequest::get().uri("/api/v4/groups/acme/packages");
    let (status, _, body) = send(&app, group_list).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains("hidden-name"), "{body}");
    // A caller who sees the project reads the owners.
    let root_owners = with_token(
        test::TestRequest::get().uri(&format!("{base}/api/v1/crates/pulled/owners")),
        ROOT,
    );
    let (status, _, body) = send(&app, root_owners).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains("keeper"), "{body}");
}

#[actix_web::test]
async fn a_refused_upload_never_removes_the_blob_another_staged_publish_commits() {
    let env = env().await;
    let registry = &env.registry;
    use futures_util::StreamExt;
    let body = || {
        futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(
            b"the same bytes",
        ))])
        .boxed()
    };
    // Two publishes of the same bytes stage at once; one is refused: dropping its guard
    // discards it.
    let discarded = registry.discarded_uploads();
    let refused = registry.stage(body(), None).await.unwrap();
    let kept = registry.stage(body(), None).await.unwrap();
    assert_eq!(refused.sha256(), kept.sha256());
    drop(refused);
    assert_eq!(registry.discarded_uploads(), discarded + 1);
    let project = env.project("acme/tools").await;
    let request = packyard_core::registry::PublishRequest {
        format: FormatId("generic"),
        name: "shared".into(),
        normalized_name: "shared".into(),
        version: "1.0.0".into(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: serde_json::json!({}),
        file_name: "shared.bin".into(),
        file_metadata: serde_json::json!({}),
        duplicates: packyard_core::ports::DuplicatePolicy::Allow,
        max_size: None,
    };
    let root = packyard_core::Principal::User {
        user: registry
            .catalog()
            .user_by_username("root")
            .await
            .unwrap()
            .unwrap(),
        scopes: None,
    };
    // Committing consumes the guard: nothing more is discarded.
    let (package, file) = kept.commit(&root, &project, request.clone()).await.unwrap();
    assert_eq!(registry.discarded_uploads(), discarded + 1);
    let download = registry.download(&package, &file, None).await.unwrap();
    let packyard_core::registry::Download::Stream(read) = download else {
        panic!("a folder store streams");
    };
    let bytes: Vec<u8> = read.stream.map(|c| c.unwrap().to_vec()).concat().await;
    assert_eq!(bytes, b"the same bytes");
    // A refused commit (here: a Reporter may not publish) discards the upload too, and
    // writes no row.
    let reporter = env
        .user("reader", Some(AccessLevel::Reporter), &["api"])
        .await;
    let reporter = registry
        .authenticate(
            Some(packyard_core::credentials::Credential::PrivateToken(
                reporter.clone(),
            )),
            packyard_core::RouteClass::Package,
        )
        .await
        .unwrap();
    let again = registry.stage(body(), None).await.unwrap();
    let refused = again
        .commit(
            &reporter,
            &project,
            packyard_core::registry::PublishRequest {
                version: "2.0.0".into(),
                ..request
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(registry.discarded_uploads(), discarded + 2);
    let versions = registry
        .packages()
        .packages_by_name(project.id, "generic", "shared")
        .await
        .unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    // gc keeps what a row references, and a refused upload's blob until the grace period
    // has passed.
    let orphan = registry
        .stage(
            futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(
                b"refused alone",
            ))])
            .boxed(),
            None,
        )
        .await
        .unwrap();
    let orphan_sha256 = orphan.sha256().to_owned();
    drop(orphan);
    let report = registry
        .gc(std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(report.deleted, 0);
    let report = registry.gc(std::time::Duration::ZERO).await.unwrap();
    assert_eq!(report.deleted, 1);
    assert!(registry.read_blob(&file.sha256, None).await.is_ok());
    assert!(registry.read_blob(&orphan_sha256, None).await.is_err());
}

#[actix_web::test]
async fn a_blocked_user_is_signed_out_and_every_credential_of_theirs_is_403_until_unblocked() {
    let env = env().await;
    let app = app!(env);
    let dev = env
        .user("dev", Some(AccessLevel::Developer), &["api"])
        .await;
    let other = env.user("other", None, &["api"]).await;
    let catalog = env.registry.catalog();
    let user = catalog.user_by_username("dev").await.unwrap().unwrap();
    let root = catalog.user_by_username("root").await.unwrap().unwrap();
    let job = mint(&app, &dev).await;
    let group = catalog.group_by_full_path("acme").await.unwrap().unwrap();
    let (deploy, _) = env
        .registry
        .create_deploy_token(
            DeployTokenOwner::Group(group.id),
            "ro",
            None,
            &["read_package_registry".into()],
            None,
        )
        .await
        .unwrap();
    let file = format!("{BASE}/blk/1.0.0/a.bin");
    assert_eq!(
        send(&app, put(&file, &dev, b"bytes")).await.0,
        StatusCode::CREATED
    );
    catalog
        .create_web_session(&WebSession {
            id_digest: "browser".into(),
            user_id: user.id,
            csrf_token: "csrf".into(),
            created_at: 0,
            expires_at: i64::MAX,
        })
        .await
        .unwrap();
    let whoami = |tok: &str| {
        test::TestRequest::get()
            .uri("/api/v4/user")
            .insert_header(("PRIVATE-TOKEN", tok.to_owned()))
    };
    let download =
        |header: (&'static str, String)| test::TestRequest::get().uri(&file).insert_header(header);
    let as_pat = || ("PRIVATE-TOKEN", dev.clone());
    let as_job = || ("JOB-TOKEN", job.clone());
    let as_deploy = || ("DEPLOY-TOKEN", deploy.clone());
    let moderate = |action: &str, id: i64, tok: &str| {
        test::TestRequest::post()
            .uri(&format!("/api/v4/users/{id}/{action}"))
            .insert_header(("PRIVATE-TOKEN", tok.to_owned()))
    };
    // (Warm the per-request read cache: a block must not be answered from it.)
    assert_eq!(send(&app, whoami(&dev)).await.0, StatusCode::OK);
    assert_eq!(send(&app, download(as_job())).await.0, StatusCode::OK);

    // Only admins block, never themselves; an unknown user is 404.
    let (status, _, body) = send(&app, moderate("block", user.id.0, &other)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = send(&app, moderate("block", root.id.0, ROOT)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("your own account"));
    for id in [99_999, 0] {
        let (status, _, body) = send(&app, moderate("block", id, ROOT)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["message"], "404 User Not Found");
    }
    assert_eq!(send(&app, whoami(&dev)).await.0, StatusCode::OK);

    let (status, _, body) = send(&app, moderate("block", user.id.0, ROOT)).await;
    assert_eq!((status, body), (StatusCode::CREATED, Value::Bool(true)));
    assert_eq!(
        catalog.web_session("browser", 1).await.unwrap(),
        None,
        "the block signed dev's browsers out"
    );
    let (status, _, body) = send(&app, whoami(&dev)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        "403 Forbidden - Your account has been blocked."
    );
    for (who, header) in [("pat", as_pat()), ("job token", as_job())] {
        let (status, _, body) = send(&app, download(header)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    let basic = ("Authorization", basic_auth("dev", &dev));
    assert_eq!(send(&app, download(basic)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&app, put(&format!("{BASE}/blk/1.0.1/a.bin"), &dev, b"x"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, download(as_deploy())).await.0,
        StatusCode::OK,
        "a group's deploy token is not dev's"
    );
    // The state is shown from the row; blocking twice is still `true`.
    let show = test::TestRequest::get()
        .uri(&format!("/api/v4/users/{}", user.id.0))
        .insert_header(("PRIVATE-TOKEN", ROOT));
    assert_eq!(send(&app, show).await.2["state"], "blocked");
    let listed = test::TestRequest::get()
        .uri("/api/v4/users?blocked=true")
        .insert_header(("PRIVATE-TOKEN", ROOT));
    let (status, _, body) = send(&app, listed).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev"]);
    let (status, _, body) = send(&app, moderate("block", user.id.0, ROOT)).await;
    assert_eq!((status, body), (StatusCode::CREATED, Value::Bool(true)));
    let (status, _, _) = send(&app, moderate("unblock", user.id.0, &other)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _, body) = send(&app, moderate("unblock", user.id.0, ROOT)).await;
    assert_eq!((status, body), (StatusCode::CREATED, Value::Bool(true)));
    let (status, _, body) = send(&app, whoami(&dev)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "active");
    for header in [as_pat(), as_job()] {
        assert_eq!(send(&app, download(header)).await.0, StatusCode::OK);
    }
}

/// Every read a format serves revalidates and answers HEAD the same way (core's
/// `conditional`): a download, a PyPI simple page and Cargo's `config.json`.
#[actix_web::test]
async fn downloads_and_documents_answer_head_and_weak_or_dated_revalidation() {
    let env = env().await;
    let app = app!(env);
    let file = format!("{BASE}/h/1.0.0/h.txt");
    assert_eq!(
        send(&app, put(&file, ROOT, b"0123456789")).await.0,
        StatusCode::CREATED
    );
    let paths = [
        file,
        "/api/v4/projects/acme%2Ftools/packages/pypi/simple/".to_owned(),
        "/api/v4/projects/acme%2Ftools/packages/cargo/config.json".to_owned(),
    ];
    for path in paths {
        let call = |method: actix_web::http::Method, headers: Vec<(&'static str, String)>| {
            let mut r = test::TestRequest::default()
                .method(method)
                .uri(&path)
                .insert_header(("PRIVATE-TOKEN", ROOT));
            for h in headers {
                r = r.insert_header(h);
            }
            test::call_service(&app, r.to_request())
        };
        let get = call(actix_web::http::Method::GET, vec![]).await;
        assert_eq!(get.status(), StatusCode::OK, "{path}");
        let etag = get
            .headers()
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let content_type = get.headers().get("content-type").unwrap().clone();
        let last_modified = get
            .headers()
            .get("last-modified")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = test::read_body(get).await;
        assert!(!body.is_empty(), "{path}");

        let head = call(actix_web::http::Method::HEAD, vec![]).await;
        assert_eq!(head.status(), StatusCode::OK, "{path}");
        assert_eq!(head.headers().get("etag").unwrap(), etag.as_str(), "{path}");
        assert_eq!(head.headers().get("content-type").unwrap(), content_type);
        assert_eq!(
            actix_web::body::MessageBody::size(head.response().body()),
            actix_web::body::BodySize::Sized(body.len() as u64),
            "{path}: HEAD declares the GET's length"
        );
        assert!(
            test::read_body(head).await.is_empty(),
            "{path}: HEAD has no body"
        );

        for inm in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", W/{etag}"),
            "*".to_owned(),
        ] {
            for method in [actix_web::http::Method::GET, actix_web::http::Method::HEAD] {
                let res = call(method, vec![("If-None-Match", inm.clone())]).await;
                assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path} {inm}");
                assert_eq!(res.headers().get("etag").unwrap(), etag.as_str());
                assert!(res.headers().get("content-type").is_none(), "{path}");
                assert!(test::read_body(res).await.is_empty());
            }
        }
        let res = call(
            actix_web::http::Method::GET,
            vec![("If-None-Match", "\"other\"".to_owned())],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(test::read_body(res).await, body);

        if let Some(lm) = last_modified {
            let res = call(
                actix_web::http::Method::GET,
                vec![("If-Modified-Since", lm)],
            )
            .await;
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
            let res = call(
                actix_web::http::Method::GET,
                vec![(
                    "If-Modified-Since",
                    "Mon, 01 Jan 2001 00:00:00 GMT".to_owned(),
                )],
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
        }
    }
}

/// Core's scope resolution: a group gives the projects whose packages the caller may read;
/// refusals are the package routes' (401 + `WWW-Authenticate` to anonymous, else 404).
#[actix_web::test]
async fn scopes_resolve_to_the_readable_projects_and_refuse_like_package_routes() {
    use packyard_core::scope::Scope;
    use packyard_core::Principal;
    let env = env().await;
    let reporter = env
        .user("rita", Some(AccessLevel::Reporter), &["api"])
        .await;
    let stranger = env.user("sam", None, &["api"]).await;
    let principal = |token: &str| {
        let token = token.to_owned();
        let registry = env.registry.clone();
        async move {
            let cred = packyard_core::credentials::Credential::PrivateToken(token);
            registry
                .authenticate(Some(cred), packyard_core::RouteClass::Package)
                .await
                .unwrap()
        }
    };
    let req = test::TestRequest::default().to_http_request();
    let paths = |projects: Vec<Project>| {
        let mut p: Vec<String> = projects.into_iter().map(|p| p.path).collect();
        p.sort();
        p
    };
    let group = |who: Principal| {
        let registry = env.registry.clone();
        let req = req.clone();
        async move {
            registry
                .readable_projects(&req, &who, Scope::Group("acme"))
                .await
        }
    };
    // acme/off has its registry disabled; acme/tools is private.
    assert_eq!(paths(group(Principal::Anonymous).await.unwrap()), ["open"]);
    assert_eq!(
        paths(group(principal(&stranger).await).await.unwrap()),
        ["open"]
    );
    assert_eq!(
        paths(group(principal(&reporter).await).await.unwrap()),
        ["open", "tools"]
    );
    let instance = env
        .registry
        .readable_projects(
            &req,
            &principal(&reporter).await,
            Scope::Instance { group: "acme" },
        )
        .await
        .unwrap();
    assert_eq!(paths(instance), ["open", "tools"]);
    let tools = env
        .registry
        .readable_projects(
            &req,
            &principal(&reporter).await,
            Scope::Project("acme/tools"),
        )
        .await
        .unwrap();
    assert_eq!(paths(tools), ["tools"]);

    for scope in [Scope::Project("acme/tools"), Scope::Group("nope")] {
        let e = env
            .registry
            .readable_projects(&req, &Principal::Anonymous, scope)
            .await
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED, "{scope:?}");
        let resp = actix_web::ResponseError::error_response(&e);
        assert!(
            resp.headers().get("www-authenticate").is_some(),
            "{scope:?}"
        );
        let e = env
            .registry
            .readable_projects(&req, &principal(&stranger).await, scope)
            .await
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::NOT_FOUND, "{scope:?}");
    }
}

/// Maven's bad input: each a 400 whose status line says why (Maven prints only that), and
/// nothing stored: a pom that is not XML, an XML bomb, a pom nested too deep, a pom whose
/// coordinates differ from its path, a 0-byte jar, a file name that is not the path's
/// artifact and version, `..` and `%2e%2e`, a checksum file with garbage or the wrong
/// digest, a version-level metadata upload for a version with no files.
#[cfg(feature = "maven")]
#[actix_web::test]
async fn maven_bad_input_is_a_400_with_its_reason_and_stores_nothing() {
    let env = env().await;
    let app = app!(env);
    let base = "/api/v4/projects/acme%2Ftools/packages/maven/com/example/lib";
    let deep = format!(
        "<project>{}{}</project>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        (format!("{base}/1.0/lib-1.0.pom"), b"not xml at all".to_vec(), "Invalid pom"),
        (
            format!("{base}/1.0/lib-1.0.pom"),
            b"<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><project>&b;</project>".to_vec(),
            "Invalid pom",
        ),
        (format!("{base}/1.0/lib-1.0.pom"), deep.into_bytes(), "Invalid pom"),
        (
            format!("{base}/1.0/lib-1.0.pom"),
            b"<project><groupId>com.example</groupId><artifactId>other</artifactId><version>1.0</version></project>".to_vec(),
            "The pom does not match its path",
        ),
        (format!("{base}/1.0/lib-1.0.jar"), Vec::new(), "Empty file"),
        (format!("{base}/1.0/other-1.0.jar"), b"PK".to_vec(), "Invalid Maven path"),
        (format!("{base}/1.0/lib-2.0.jar"), b"PK".to_vec(), "Invalid Maven path"),
        (format!("{base}/../lib-1.0.jar"), b"PK".to_vec(), "Invalid Maven path"),
        (format!("{base}/%2e%2e/lib-1.0.jar"), b"PK".to_vec(), "Invalid Maven path"),
        (format!("{base}/1.0/lib-1.0.jar.sha1"), b"not a digest".to_vec(), "Invalid checksum file"),
        (
            format!("{base}/1.0-SNAPSHOT/maven-metadata.xml"),
            b"<metadata><groupId>com.example</groupId><artifactId>lib</artifactId><version>1.0-SNAPSHOT</version></metadata>".to_vec(),
            "No files for this version",
        ),
    ];
    for (uri, body, expected) in cases {
        let req = test::TestRequest::put()
            .uri(&uri)
            .insert_header(("PRIVATE-TOKEN", ROOT))
            .set_payload(body);
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(res.response().head().reason(), expected, "{uri}");
    }
    assert_eq!(env.package_count().await, 0);

    // A stored jar, then a checksum that is not its digest.
    let (status, _, _) = send(
        &app,
        put(&format!("{base}/1.0/lib-1.0.jar"), ROOT, b"PK jar"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let req = put(
        &format!("{base}/1.0/lib-1.0.jar.sha1"),
        ROOT,
        b"0000000000000000000000000000000000000000",
    );
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.response().head().reason(), "Checksum mismatch");
    // The right digest is accepted, and GET answers it from the stored bytes.
    let sha1 = {
        use sha1::Digest as _;
        hex::encode(sha1::Sha1::digest(b"PK jar"))
    };
    let req = test::TestRequest::put()
        .uri(&format!("{base}/1.0/lib-1.0.jar.sha1"))
        .insert_header(("PRIVATE-TOKEN", ROOT))
        .set_payload(sha1.clone());
    assert_eq!(
        test::call_service(&app, req.to_request()).await.status(),
        StatusCode::CREATED
    );
    let (status, _, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&format!("{base}/1.0/lib-1.0.jar.sha1"))
            .insert_header(("PRIVATE-TOKEN", ROOT)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, Value::String(sha1));
    assert_eq!(env.package_count().await, 1);
}

/// A `.nupkg` for the NuGet tests: the entries given, each stored as named.
#[cfg(feature = "nuget")]
fn nupkg_of(entries: &[(&str, &[u8])], deflated: bool) -> Vec<u8> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflated {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[cfg(feature = "nuget")]
fn nuspec_of(id: &str, version: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><package><metadata><id>{id}</id><version>{version}</version><authors>a</authors><description>d</description></metadata></package>"
    )
    .into_bytes()
}

#[cfg(feature = "nuget")]
fn nuget_push(token: &str, package: &[u8]) -> test::TestRequest {
    let mut body =
        b"--b0\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.nupkg\"\r\n\r\n"
            .to_vec();
    body.extend_from_slice(package);
    body.extend_from_slice(b"\r\n--b0--\r\n");
    test::TestRequest::put()
        .uri("/api/v4/projects/acme%2Ftools/packages/nuget/")
        .insert_header(("X-NuGet-ApiKey", token.to_owned()))
        .insert_header(("Content-Type", "multipart/form-data; boundary=b0"))
        .set_payload(body)
}

/// NuGet's bad input: each a 400 whose status line says why (nuget.exe prints only that)
/// and whose body names the problem, and nothing stored: not a zip, no `.nuspec`, two, an
/// XML bomb in the `.nuspec`, an invalid id, an invalid version, a `.nuspec` that inflates
/// past its bound (a zip bomb), a `..` entry; then a good package, and its duplicate (409).
#[cfg(feature = "nuget")]
#[actix_web::test]
async fn nuget_bad_packages_are_a_400_with_their_reason_and_store_nothing() {
    let env = env().await;
    let app = app!(env);
    let good = nuspec_of("Acme.Lib", "1.0.0");
    let bomb_xml = b"<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><package><metadata><id>&b;</id></metadata></package>".to_vec();
    let mut inflating = b"<package><metadata><description>".to_vec();
    inflating.resize(20 * 1024 * 1024, b' ');
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a zip", b"this is not a zip archive".to_vec(), "zip"),
        (
            "no nuspec",
            nupkg_of(&[("lib/a.dll", b"MZ")], false),
            "no .nuspec",
        ),
        (
            "two nuspecs",
            nupkg_of(&[("a.nuspec", &good), ("b.nuspec", &good)], false),
            "more than one .nuspec",
        ),
        (
            "xml bomb",
            nupkg_of(&[("a.nuspec", &bomb_xml)], false),
            "DOCTYPE",
        ),
        (
            "bad id",
            nupkg_of(&[("a.nuspec", &nuspec_of("bad id!", "1.0.0"))], false),
            "id",
        ),
        (
            "bad version",
            nupkg_of(&[("a.nuspec", &nuspec_of("Acme.Lib", "one.two"))], false),
            "version",
        ),
        (
            "zip bomb",
            nupkg_of(&[("a.nuspec", &inflating)], true),
            "larger",
        ),
        (
            "dot-dot entry",
            nupkg_of(&[("a.nuspec", &good), ("lib/../../evil.dll", b"MZ")], false),
            "..",
        ),
    ];
    for (what, package, expected) in cases {
        let res = test::call_service(&app, nuget_push(ROOT, &package).to_request()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(res.response().head().reason(), "Invalid package", "{what}");
        let body: Value = serde_json::from_slice(&test::read_body(res).await).unwrap();
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        assert!(
            message
                .to_ascii_lowercase()
                .contains(&expected.to_ascii_lowercase()),
            "{what}: {message}"
        );
    }
    assert_eq!(env.package_count().await, 0);

    let package = nupkg_of(&[("Acme.Lib.nuspec", &good), ("lib/a.dll", b"MZ")], true);
    let res = test::call_service(&app, nuget_push(ROOT, &package).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // The same version again, spelled differently: a duplicate.
    let again = nupkg_of(&[("acme.lib.nuspec", &nuspec_of("ACME.LIB", "1.0"))], true);
    let res = test::call_service(&app, nuget_push(ROOT, &again).to_request()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(
        res.response().head().reason(),
        "Duplicate package is not allowed"
    );
    assert_eq!(env.package_count().await, 1);
    // nuget.exe on mono closes its form with a bare LF before the delimiter and nothing
    // after it: accepted.
    let other = nupkg_of(
        &[("Acme.Other.nuspec", &nuspec_of("Acme.Other", "2.0.0"))],
        true,
    );
    let mut body =
        b"--b0\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.nupkg\"\r\n\r\n"
            .to_vec();
    body.extend_from_slice(&other);
    body.extend_from_slice(b"\n--b0--");
    let req = test::TestRequest::put()
        .uri("/api/v4/projects/acme%2Ftools/packages/nuget/v2/")
        .insert_header(("X-NuGet-ApiKey", ROOT))
        .insert_header(("Content-Type", "multipart/form-data; boundary=b0"))
        .set_payload(body);
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(env.package_count().await, 2);
    // A wrong API key is a 401, not anonymous.
    let res = test::call_service(
        &app,
        nuget_push("glpat-not-a-real-token-at-all00", &package).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[cfg(feature = "go")]
const GO: &str = "/api/v4/projects/acme%2Ftools/packages/go";

/// A module zip of `entries` (names under the zip root, as given).
#[cfg(feature = "go")]
fn go_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, body) in entries {
        w.start_file(*name, o).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[cfg(feature = "go")]
fn go_put(path: &str, token: &str, body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::put()
        .uri(&format!("{GO}/{path}"))
        .insert_header(("PRIVATE-TOKEN", token.to_owned()))
        .set_payload(body)
}

#[cfg(feature = "go")]
async fn go_text<B: actix_web::body::MessageBody>(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> (StatusCode, String, String) {
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
    (status, content_type, body)
}

/// Go's bad uploads: each a 4xx whose plain-text body says why, and nothing stored: not a
/// zip, files outside `module@version/`, a `..` path, a go.mod naming another module, a
/// nested module, a case-fold collision, a symbolic link, a member that inflates past the
/// size it declares (a zip bomb), bad versions and paths, a major version without its
/// suffix; then a good module, its re-upload (409: versions are immutable) and a path that
/// differs only in case (409).
#[cfg(feature = "go")]
#[actix_web::test]
async fn go_bad_module_zips_are_a_400_with_their_reason_and_store_nothing() {
    let env = env().await;
    let app = app!(env);
    let m = "example.test/m@v1.0.0/";
    let go_mod: &[u8] = b"module example.test/m\n";
    let f = |name: &str| format!("{m}{name}");
    let mut symlink = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    symlink
        .add_symlink(
            f("link"),
            "/etc/passwd",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
    let symlink = symlink.finish().unwrap().into_inner();
    // 4 MiB of zeros that the zip's headers say are 10 bytes.
    let mut bomb = go_zip(&[(&f("go.mod"), go_mod), (&f("big.txt"), &vec![0u8; 4 << 20])]);
    for (sig, at) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
        let mut i = 0;
        let mut seen = 0;
        while let Some(p) = bomb[i..].windows(4).position(|w| w == sig) {
            let start = i + p;
            seen += 1;
            if seen == 2 {
                bomb[start + at..start + at + 4].copy_from_slice(&10u32.to_le_bytes());
            }
            i = start + 4;
        }
    }
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "not a zip",
            "example.test/m/@v/v1.0.0.zip",
            b"not a zip".to_vec(),
            "zip",
        ),
        (
            "outside the root",
            "example.test/m/@v/v1.0.0.zip",
            go_zip(&[("example.test/m@v1.0.0.txt", b"x")]),
            "prefix",
        ),
        (
            "dot-dot path",
            "example.test/m/@v/v1.0.0.zip",
            go_zip(&[(&f("go.mod"), go_mod), (&f("../../evil.go"), b"x")]),
            "double dot",
        ),
        (
            "go.mod of another module",
            "example.test/m/@v/v1.0.0.zip",
            go_zip(&[(&f("go.mod"), b"module example.test/other\n")]),
            "module line must equal the path",
        ),
        (
            "nested module",
            "example.test/m/@v/v1.0.0.zip",
            go_zip(&[
                (&f("go.mod"), go_mod),
                (&f("sub/go.mod"), b"module x.test/sub\n"),
            ]),
            "nested module",
        ),
        (
            "case-fold collision",
            "example.test/m/@v/v1.0.0.zip",
            go_zip(&[
                (&f("go.mod"), go_mod),
                (&f("a.go"), b"x"),
                (&f("A.go"), b"x"),
            ]),
            "collision",
        ),
        (
            "symlink",
            "example.test/m/@v/v1.0.0.zip",
            symlink,
            "symbolic links",
        ),
        (
            "zip bomb",
            "example.test/m/@v/v1.0.0.zip",
            bomb,
            "declared uncompressed size",
        ),
        (
            "short version",
            "example.test/m/@v/v1.0.zip",
            go_zip(&[(&f("go.mod"), go_mod)]),
            "canonical",
        ),
        (
            "version without v",
            "example.test/m/@v/1.0.0.zip",
            go_zip(&[(&f("go.mod"), go_mod)]),
            "canonical",
        ),
        (
            "build metadata",
            "example.test/m/@v/v1.0.0+meta.zip",
            go_zip(&[(&f("go.mod"), go_mod)]),
            "build metadata",
        ),
        (
            "v2 without /v2",
            "example.test/m/@v/v2.0.0.zip",
            go_zip(&[("example.test/m@v2.0.0/go.mod", go_mod)]),
            "want v0 or v1",
        ),
        (
            "+incompatible with a go.mod",
            "example.test/m/@v/v2.0.0+incompatible.zip",
            go_zip(&[("example.test/m@v2.0.0+incompatible/go.mod", go_mod)]),
            "+incompatible",
        ),
        (
            "no dot in the first element",
            "example/m/@v/v1.0.0.zip",
            go_zip(&[("example/m@v1.0.0/go.mod", b"module example/m\n")]),
            "missing dot",
        ),
        (
            "upper case unescaped",
            "example.test/M/@v/v1.0.0.zip",
            go_zip(&[("example.test/M@v1.0.0/go.mod", b"module example.test/M\n")]),
            "invalid escaped module path",
        ),
        (
            "the .mod is not uploaded",
            "example.test/m/@v/v1.0.0.mod",
            go_mod.to_vec(),
            "read from the zip",
        ),
    ];
    for (what, path, body, expected) in cases {
        let (status, content_type, text) = go_text(&app, go_put(path, ROOT, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
        assert!(
            content_type.starts_with("text/plain"),
            "{what}: {content_type}"
        );
        assert!(text.contains(expected), "{what}: {text}");
    }
    assert_eq!(env.package_count().await, 0);

    let good = go_zip(&[(&f("go.mod"), go_mod), (&f("m.go"), b"package m\n")]);
    let (status, _, text) = go_text(
        &app,
        go_put("example.test/m/@v/v1.0.0.zip", ROOT, good.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(text.contains("example.test/m v1.0.0 h1:"), "{text}");
    assert!(text.contains("example.test/m v1.0.0/go.mod h1:"), "{text}");
    let (status, _, text) = go_text(&app, go_put("example.test/m/@v/v1.0.0.zip", ROOT, good)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{text}");
    assert!(text.contains("immutable"), "{text}");
    let upper = go_zip(&[("example.test/M@v1.1.0/go.mod", b"module example.test/M\n")]);
    let (status, _, text) =
        go_text(&app, go_put("example.test/%21m/@v/v1.1.0.zip", ROOT, upper)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{text}");
    assert!(text.contains("only in case"), "{text}");
    assert_eq!(env.package_count().await, 1);
}

/// Go's reads: 404 in plain text for what is not there and for whoever may not read it
/// (anonymous on a private project, a disabled registry, a non-member), never 401/403,
/// since go stops at those; a path spelled in another case is another module; Basic auth
/// with any username and a token as password (what go sends from .netrc) reads.
#[cfg(feature = "go")]
#[actix_web::test]
async fn go_reads_answer_404_in_text_to_whoever_may_not_read() {
    let env = env().await;
    let app = app!(env);
    let outsider = env.user("outsider", None, &["api"]).await;
    let zip = go_zip(&[
        (
            "example.test/Lib@v1.2.0/go.mod",
            b"module example.test/Lib\n",
        ),
        ("example.test/Lib@v1.2.0/lib.go", b"package lib\n"),
    ]);
    let (status, _, text) =
        go_text(&app, go_put("example.test/%21lib/@v/v1.2.0.zip", ROOT, zip)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let pseudo = "v1.2.1-0.20240102030405-abcdefabcdef";
    let zip = go_zip(&[(
        &format!("example.test/Lib@{pseudo}/go.mod"),
        b"module example.test/Lib\n",
    )]);
    let (status, _, text) = go_text(
        &app,
        go_put(&format!("example.test/%21lib/@v/{pseudo}.zip"), ROOT, zip),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");

    let get = |path: &str, auth: Option<String>| {
        let req = test::TestRequest::get().uri(&format!("{GO}/{path}"));
        match auth {
            Some(a) => req.insert_header(("Authorization", a)),
            None => req,
        }
    };
    let root = || Some(basic_auth("anyone", ROOT));
    let (status, _, text) = go_text(&app, get("example.test/%21lib/@v/list", root())).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "v1.2.0\n"));
    let (status, _, text) = go_text(&app, get("example.test/!lib/@latest", root())).await;
    assert_eq!(status, StatusCode::OK);
    let info: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(info["Version"], "v1.2.0");
    let (status, _, text) = go_text(
        &app,
        get(&format!("example.test/%21lib/@v/{pseudo}.info"), root()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let info: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(info["Time"], "2024-01-02T03:04:05Z");
    let (status, _, text) = go_text(&app, get("example.test/%21lib/@v/v1.2.0.mod", root())).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, "module example.test/Lib\n")
    );

    for (what, path, auth) in [
        (
            "anonymous, private project",
            "example.test/%21lib/@v/list",
            None,
        ),
        (
            "non-member",
            "example.test/%21lib/@v/list",
            Some(format!("Bearer {outsider}")),
        ),
        ("parent path go probes", "example.test/@v/list", root()),
        ("other case", "example.test/lib/@v/list", root()),
        (
            "unknown version",
            "example.test/%21lib/@v/v9.9.9.info",
            root(),
        ),
        ("branch query", "example.test/%21lib/@v/main.info", root()),
        ("unknown zip", "example.test/%21lib/@v/v9.9.9.zip", root()),
        ("not a proxy path", "example.test/%21lib", root()),
    ] {
        let (status, content_type, text) = go_text(&app, get(path, auth)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {text}");
        assert!(content_type.starts_with("text/plain"), "{what}");
        assert!(text.starts_with("not found"), "{what}: {text}");
    }
    // The disabled registry of a public project: 404 too.
    let req = test::TestRequest::get()
        .uri("/api/v4/projects/acme%2Foff/packages/go/example.test/x/@v/list")
        .insert_header(("Authorization", basic_auth("anyone", ROOT)));
    let (status, _, _) = go_text(&app, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The Packages API filters by GitLab's name for the format.
    let req = test::TestRequest::get()
        .uri("/api/v4/projects/acme%2Ftools/packages?package_type=golang")
        .insert_header(("PRIVATE-TOKEN", ROOT));
    let (status, _, list) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.iter().all(|p| p["name"] == "example.test/Lib"));
}
