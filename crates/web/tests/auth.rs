//! Sign-in, sessions, CSRF, throttling and the 404 page, through the pages as a browser
//! uses them (actix test service over SQLite in a temporary folder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::test;
use packyard_core::model::{UserState, UserUpdate};
use packyard_core::passwords::PasswordHasher;
use packyard_web::WebConfig;
use std::time::Duration;
use support::{
    app, body_text, cookie_from, fetch, field, get, location, post_form, seed, sign_in,
    sign_in_form, user, Svc, Web, PASSWORD,
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

    // A redirect_to elsewhere is ignored: browsers drop tabs and newlines and read `\` as
    // `/`, so anything but a plain path on this site goes to the default page.
    for target in EVIL_TARGETS {
        let resp = sign_in(&app, "alice", PASSWORD, target).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            resp.headers().get(header::LOCATION).unwrap(),
            "/explore",
            "redirect_to={target}"
        );
    }
}

/// `redirect_to` values that must not leave the site (or break the `Location` header).
const EVIL_TARGETS: &[&str] = &[
    "https://evil.example/",
    "http://evil",
    "//evil.example/x",
    "//evil",
    "/\\evil.example",
    "/\\evil",
    "/\t/evil.example/x",
    "/x\r\nSet-Cookie: a=b",
    "/x\n",
    " /x",
    "/x y",
];

#[actix_web::test]
async fn a_redirect_to_that_is_not_a_plain_local_path_goes_to_the_default_page_never_a_500() {
    let w = world(WebConfig::default(), "http://127.0.0.1:8080").await;
    let app = app(&w).await;
    let session = w
        .session(
            &w.registry
                .catalog()
                .user_by_username("alice")
                .await
                .unwrap()
                .unwrap(),
        )
        .await;
    // As the query of the sign-in page, percent-encoded as a link would carry it (a
    // signed-in visitor is sent straight on).
    for raw in [
        "/%09/evil.example/x",
        "//evil",
        "/%5Cevil",
        "%2F%2Fevil",
        "/x%0d%0aSet-Cookie:%20a=b",
        "/x%0a",
        "%20/x",
        "http://evil",
        "/%C3%A9%00",
    ] {
        let resp = fetch(
            &app,
            &format!("/users/sign_in?redirect_to={raw}"),
            Some(&session),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "redirect_to={raw}");
        assert_eq!(location(&resp), "/explore", "redirect_to={raw}");
    }
    // In the form, as a browser posts it.
    for target in EVIL_TARGETS {
        let resp = sign_in(&app, "alice", PASSWORD, target).await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "redirect_to={target:?}"
        );
        assert_eq!(location(&resp), "/explore", "redirect_to={target:?}");
    }
    // A plain path still works, query and all.
    let resp = sign_in(&app, "alice", PASSWORD, "/explore?search=a%20b").await;
    assert_eq!(location(&resp), "/explore?search=a%20b");
}

#[actix_web::test]
async fn parallel_wrong_passwords_check_at_most_the_limit_then_answer_429() {
    let w = world(WebConfig::default(), "http://127.0.0.1:8080").await;
    let app = app(&w).await;
    // Every request has its form first, so that the 40 posts start together.
    let mut forms = Vec::new();
    for _ in 0..40 {
        forms.push(sign_in_form(&app).await);
    }
    let posts = forms.into_iter().map(|(csrf, token)| {
        let app = &app;
        async move {
            test::call_service(
                app,
                test::TestRequest::post()
                    .uri("/users/sign_in")
                    .cookie(csrf)
                    .set_form([
                        ("username", "alice"),
                        ("password", "not the password"),
                        ("authenticity_token", token.as_str()),
                    ])
                    .to_request(),
            )
            .await
            .status()
        }
    });
    let statuses = futures_util::future::join_all(posts).await;
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        (1..=5).contains(&refused),
        "at most login_max_failures (5) passwords checked: {statuses:?}"
    );
    assert_eq!(refused + throttled, 40, "{statuses:?}");
    // And the right password now waits for the lockout too.
    let resp = sign_in(&app, "alice", PASSWORD, "/explore").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp
        .headers()
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 600, "{retry}");
}

#[actix_web::test]
async fn a_busy_password_hasher_answers_429_and_gives_the_attempt_back() {
    let mut seed = seed(None).await;
    user(&seed.registry, "alice", false, Some(PASSWORD)).await;
    seed.registry = seed
        .registry
        .with_password_hasher(PasswordHasher::new(1, Duration::from_millis(50)));
    let w = seed.serve(Vec::new(), WebConfig::default()).await;
    let app = app(&w).await;

    let held = w.registry.passwords().try_hold().expect("the only permit");
    let resp = sign_in(&app, "alice", PASSWORD, "/explore").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get(header::RETRY_AFTER).is_some());
    assert!(cookie_from(&resp, "_packyard_session").is_none());
    let html = body_text(resp).await;
    assert!(html.contains("busy checking other passwords"), "{html}");
    assert_eq!(
        w.registry
            .catalog()
            .login_failures("alice")
            .await
            .unwrap()
            .failures,
        0,
        "an attempt whose password was never checked does not count"
    );
    // An unknown username waits for the hasher just the same.
    let resp = sign_in(&app, "nobody", PASSWORD, "/explore").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);

    drop(held);
    let resp = sign_in(&app, "alice", PASSWORD, "/explore").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn a_password_change_or_deleting_the_user_signs_their_browsers_out() {
    let seed = seed(None).await;
    let alice = user(&seed.registry, "alice", false, Some(PASSWORD)).await;
    let bob = user(&seed.registry, "bob", false, Some(PASSWORD)).await;
    let w = seed.serve(Vec::new(), WebConfig::default()).await;
    let app = app(&w).await;
    let signed_in =
        |html: &str, who: &str| html.contains(&format!("Signed in as <strong>{who}</strong>"));

    let before = cookie_from(
        &sign_in(&app, "alice", PASSWORD, "/explore").await,
        "_packyard_session",
    )
    .unwrap();
    let bobs = cookie_from(
        &sign_in(&app, "bob", PASSWORD, "/explore").await,
        "_packyard_session",
    )
    .unwrap();
    assert!(signed_in(
        &get(&app, "/explore", Some(&before)).await.1,
        "alice"
    ));

    // Another change (the name) keeps the session; a new password (as PUT /users/:id sets
    // it) ends it.
    let rename = UserUpdate {
        name: Some("Alice A.".into()),
        ..UserUpdate::default()
    };
    w.registry
        .update_user_account(alice.id, rename, None)
        .await
        .unwrap();
    assert!(signed_in(
        &get(&app, "/explore", Some(&before)).await.1,
        "alice"
    ));
    w.registry
        .update_user_account(
            alice.id,
            UserUpdate::default(),
            Some("a brand new password".into()),
        )
        .await
        .unwrap();
    assert!(!signed_in(
        &get(&app, "/explore", Some(&before)).await.1,
        "alice"
    ));
    let after = sign_in(&app, "alice", "a brand new password", "/explore").await;
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the new password signs in"
    );
    assert!(
        signed_in(&get(&app, "/explore", Some(&bobs)).await.1, "bob"),
        "bob stays"
    );

    // Deleting bob ends his session.
    assert!(w.registry.catalog().delete_user(bob.id).await.unwrap());
    assert!(!signed_in(
        &get(&app, "/explore", Some(&bobs)).await.1,
        "bob"
    ));
}

#[actix_web::test]
async fn blocking_a_user_signs_their_browsers_out_and_refuses_sign_in_until_unblocked() {
    let seed = seed(None).await;
    let admin = user(&seed.registry, "root", true, Some(PASSWORD)).await;
    let alice = user(&seed.registry, "alice", false, Some(PASSWORD)).await;
    let w = seed.serve(Vec::new(), WebConfig::default()).await;
    let app = app(&w).await;
    let signed_in =
        |html: &str, who: &str| html.contains(&format!("Signed in as <strong>{who}</strong>"));
    let session = cookie_from(
        &sign_in(&app, "alice", PASSWORD, "/explore").await,
        "_packyard_session",
    )
    .unwrap();
    assert!(signed_in(
        &get(&app, "/explore", Some(&session)).await.1,
        "alice"
    ));

    w.registry
        .set_user_state_account(Some(&admin), alice.id, UserState::Blocked)
        .await
        .unwrap();
    assert!(
        !signed_in(&get(&app, "/explore", Some(&session)).await.1, "alice"),
        "the block signed alice's browser out"
    );
    // The right password is told the account is blocked, and gets no session.
    let refused = sign_in(&app, "alice", PASSWORD, "/explore").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(cookie_from(&refused, "_packyard_session").is_none());
    assert!(body_text(refused)
        .await
        .contains("Your account has been blocked."));
    // A wrong one learns nothing more than for any account.
    let wrong = sign_in(&app, "alice", "not the password", "/explore").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(!body_text(wrong).await.contains("blocked"));
    // A session stored by a sign-in that raced the block signs nobody in either.
    // (session::start as sign-in calls it, after the password check the block overtook.)
    let forged = w.session(&alice).await;
    assert!(!signed_in(
        &get(&app, "/explore", Some(&forged)).await.1,
        "alice"
    ));

    w.registry
        .set_user_state_account(Some(&admin), alice.id, UserState::Active)
        .await
        .unwrap();
    let again = sign_in(&app, "alice", PASSWORD, "/explore").await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER, "unblocked: signs in");
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
