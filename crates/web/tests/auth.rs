//! Sign-in, sessions, CSRF, throttling and the 404 page, through the pages as a browser
//! uses them (actix test service over SQLite in a temporary folder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::test;
use packyard_web::WebConfig;
use support::{
    app, body_text, cookie_from, fetch, field, get, post_form, seed, sign_in, sign_in_form, user,
    Svc, Web, PASSWORD,
};

/// alice, with a password.
async fn world(config: WebConfig, external_url: &str) -> Web {
    let seed = seed(Some(external_url)).await;
    user(&seed.registry, "alice", false, Some(PASSWORD)).await;
    seed.serve(Vec::new(), config).await
}

#[actix_web::test]
async fn signing_in_sets_a_signed_http_only_cookie_and_signing_out_ends_the_session() {
    let w = world(WebConfig::default(), "https://packyard.test").await;
    let app = app(&w).await;

    let resp = sign_in(&app, "alice", PASSWORD, "/explore?search=x").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers().get(header::LOCATION).unwrap(),
        "/explore?search=x"
    );
    let session = cookie_from(&resp, "_packyard_session").expect("session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_eq!(
        session.secure(),
        Some(true),
        "https instance: Secure cookie"
    );

    let (status, html) = get(&app, "/explore", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Signed in as <strong>alice</strong>"),
        "{html}"
    );

    // A cookie whose signature does not match is nobody.
    let mut forged = session.clone();
    forged.set_value(format!("x{}", session.value()));
    let (_, html) = get(&app, "/explore", Some(&forged)).await;
    assert!(
        !html.contains("Signed in as"),
        "a tampered cookie signs nobody in"
    );

    // Sign out needs the session's CSRF token.
    let csrf = field(&html_of(&app, &session).await, "authenticity_token");
    let refused = post_form(
        &app,
        "/users/sign_out",
        Some(&session),
        &[("authenticity_token", "wrong")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let out = post_form(
        &app,
        "/users/sign_out",
        Some(&session),
        &[("authenticity_token", csrf.as_str())],
    )
    .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    // The old cookie, replayed, no longer signs anyone in: the session row is gone.
    let (_, html) = get(&app, "/explore", Some(&session)).await;
    assert!(!html.contains("Signed in as"), "{html}");
}

async fn html_of(app: &impl Svc, session: &Cookie<'static>) -> String {
    get(app, "/explore", Some(session)).await.1
}

#[actix_web::test]
async fn wrong_passwords_are_refused_and_then_throttled() {
    let config = WebConfig {
        login_max_failures: 3,
        ..WebConfig::default()
    };
    let w = world(config, "http://127.0.0.1:8080").await;
    let app = app(&w).await;

    let resp = sign_in(&app, "alice", "wrong password", "/explore").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(cookie_from(&resp, "_packyard_session").is_none());
    let html = body_text(resp).await;
    assert!(html.contains("Invalid username or password."), "{html}");
    assert!(
        html.contains("value=\"alice\""),
        "the username is kept in the form"
    );

    // An unknown user gets the very same answer.
    let resp = sign_in(&app, "nobody", "wrong password", "/explore").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    sign_in(&app, "alice", "wrong again", "/explore").await;
    sign_in(&app, "ALICE", "third time", "/explore").await;
    // Locked now, even with the right password.
    let resp = sign_in(&app, "alice", PASSWORD, "/explore").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(cookie_from(&resp, "_packyard_session").is_none());
    let html = body_text(resp).await;
    assert!(html.contains("Too many failed sign-in attempts"), "{html}");
    let failures = w.registry.catalog().login_failures("alice").await.unwrap();
    assert!(failures.locked_until.is_some());
}

#[actix_web::test]
async fn the_sign_in_form_needs_its_csrf_token_and_stays_on_this_site() {
    let w = world(WebConfig::default(), "http://127.0.0.1:8080").await;
    let app = app(&w).await;

    // No CSRF cookie: refused.
    let (_, token) = sign_in_form(&app).await;
    let resp = post_form(
        &app,
        "/users/sign_in",
        None,
        &[
            ("username", "alice"),
            ("password", PASSWORD),
            ("authenticity_token", token.as_str()),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // From another site: refused.
    let (csrf, token) = sign_in_form(&app).await;
    let resp = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/users/sign_in")
            .cookie(csrf)
            .insert_header((header::ORIGIN, "https://evil.example"))
            .set_form([
                ("username", "alice"),
                ("password", PASSWORD),
                ("authenticity_token", token.as_str()),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // A redirect_to elsewhere is ignored.
    for target in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let resp = sign_in(&app, "alice", PASSWORD, target).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            resp.headers().get(header::LOCATION).unwrap(),
            "/explore",
            "redirect_to={target}"
        );
    }
}

#[actix_web::test]
async fn unknown_pages_are_the_404_page_with_security_headers() {
    let w = world(WebConfig::default(), "http://127.0.0.1:8080").await;
    let app = app(&w).await;
    let resp = fetch(&app, "/no/such/page", None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let csp = resp
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = body_text(resp).await;
    assert!(html.contains("Page not found"), "{html}");

    // Styles and script are served by Packyard itself.
    let (status, css) = get(&app, "/-/web/app.css", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains(".site-header"));
    let (status, js) = get(&app, "/-/web/app.js", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("clipboard"));
}
