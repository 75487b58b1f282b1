//! `/-/user_settings/personal_access_tokens` as a browser uses it: the list of one's active
//! tokens, creating one (its secret shown once, on the POST's own 200 page), and revoking.
//! A token made through the page authenticates as the REST API checks it
//! (`Registry::authenticate`, then what `GET /api/v4/user` asks of the principal).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use packyard_core::admin::Need;
use packyard_core::credentials::{self, Credential};
use packyard_core::model::*;
use packyard_core::{ApiError, Principal, RouteClass};
use packyard_web::WebConfig;
use support::{
    app, body_text, cookie_from, fetch, follow, get, location, post, post_form, seed, user,
    Browser, Svc, Web, PASSWORD,
};

const PAGE: &str = "/-/user_settings/personal_access_tokens";

struct World {
    web: Web,
    alice: User,
    bob: User,
}

support::deref_web!(World);

async fn world() -> World {
    let seed = seed(Some("http://packyard.test")).await;
    let alice = user(&seed.registry, "alice", false, Some(PASSWORD)).await;
    let bob = user(&seed.registry, "bob", false, Some(PASSWORD)).await;
    World {
        web: seed.serve(Vec::new(), WebConfig::default()).await,
        alice,
        bob,
    }
}

/// Signs `username` in, landing on the tokens page.
async fn sign_in(app: &impl Svc, username: &str) -> Browser {
    support::browser(app, username, PAGE).await
}

/// The secret in the page's "shown once" box.
fn shown_secret(html: &str) -> String {
    let box_start = html.find("class=\"token-once\"").expect("a token-once box");
    let rest = &html[box_start..];
    let pre = rest
        .find("<pre id=\"new-token\"")
        .expect("the token's code block");
    let code = rest[pre..].find("<code>").unwrap() + pre + "<code>".len();
    let end = rest[code..].find("</code>").unwrap() + code;
    rest[code..end].to_owned()
}

fn date_in(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

async fn authenticate(w: &World, secret: &str) -> Result<Principal, ApiError> {
    w.registry
        .authenticate(
            Some(Credential::PrivateToken(secret.to_owned())),
            RouteClass::Rest,
        )
        .await
}

#[actix_web::test]
async fn anonymous_visitors_are_sent_to_sign_in() {
    let w = world().await;
    let app = app(&w).await;
    let resp = fetch(&app, PAGE, None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&resp),
        "/users/sign_in?redirect_to=/-/user_settings/personal_access_tokens"
    );
    let resp = post_form(&app, PAGE, None, &[("name", "x"), ("scopes", "api")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/users/sign_in"));
    let listing = w
        .registry
        .catalog()
        .list_personal_access_tokens(
            TokenFilter::default(),
            Page {
                page: 1,
                per_page: 100,
            },
        )
        .await
        .unwrap();
    assert!(listing.items.is_empty());
}

#[actix_web::test]
async fn a_token_created_on_the_page_is_shown_once_and_authenticates() {
    let w = world().await;
    let app = app(&w).await;
    let alice = sign_in(&app, "alice").await;

    let (_, html) = get(&app, PAGE, Some(&alice.session)).await;
    assert!(html.contains("You have no active personal access tokens."));
    for scope in [
        "api",
        "read_api",
        "read_user",
        "read_registry",
        "write_registry",
    ] {
        assert!(
            html.contains(&format!(r#"name="scopes" value="{scope}""#)),
            "{scope}"
        );
    }
    assert!(html.contains(r#"<label for="token-name">"#));
    assert!(!html.contains("token-once"));

    let expires = date_in(10);
    let resp = post(
        &app,
        PAGE,
        &alice,
        &[
            ("name", "laptop pip"),
            ("expires_at", expires.as_str()),
            ("scopes", "read_api"),
            ("scopes", "read_user"),
        ],
    )
    .await;
    // 303 back to the page; the secret travels in an encrypted, path-scoped cookie only.
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), PAGE);
    let carried = cookie_from(&resp, "_packyard_new_token").expect("the new-token cookie");
    assert_eq!(carried.path(), Some(PAGE));
    assert_eq!(carried.http_only(), Some(true));
    assert!(
        !carried.value().contains(credentials::PAT_PREFIX),
        "the secret is encrypted in the cookie"
    );

    // Someone else's browser holding that cookie is shown nothing.
    let bob = sign_in(&app, "bob").await;
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(PAGE)
            .cookie(bob.session.clone())
            .cookie(carried.clone())
            .to_request(),
    )
    .await;
    assert!(!body_text(resp).await.contains("token-once"));

    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(PAGE)
            .cookie(alice.session.clone())
            .cookie(carried.clone())
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let removal = cookie_from(&resp, "_packyard_new_token").expect("the cookie is removed");
    assert_eq!(removal.value(), "");
    let html = body_text(resp).await;
    let secret = shown_secret(&html);
    assert!(secret.starts_with(credentials::PAT_PREFIX), "{secret}");
    assert!(html.contains("it will not be shown again"));
    assert!(
        html.contains("data-copy-target=\"new-token\""),
        "a copy button"
    );
    assert!(html.contains("laptop pip"));

    // It authenticates as alice, with the scopes chosen; GET /api/v4/user accepts read_user.
    let principal = authenticate(&w, &secret).await.unwrap();
    match &principal {
        Principal::User { user, scopes } => {
            assert_eq!(user.id, w.alice.id);
            assert_eq!(
                scopes.as_deref(),
                Some(&["read_api".to_owned(), "read_user".to_owned()][..])
            );
        }
        other => panic!("not a user: {other:?}"),
    }
    let me = w
        .registry
        .signed_in_user(&principal, Need::ReadUser)
        .unwrap();
    assert_eq!(me.username, "alice");
    // read_api does not write.
    assert!(w.registry.signed_in_user(&principal, Need::Write).is_err());

    // Listed afterwards, without the secret.
    let (_, html) = get(&app, PAGE, Some(&alice.session)).await;
    assert!(html.contains("laptop pip"));
    assert!(html.contains(&format!(r#"<time datetime="{expires}">"#)));
    // Used once above, by `authenticate`.
    assert!(
        !html.contains(r#"<span class="muted">Never</span>"#),
        "{html}"
    );
    assert!(!html.contains(&secret), "the secret is never shown again");
    assert!(!html.contains("token-once"));
    assert!(html.contains("Active personal access tokens (1)"));

    // Bob does not see alice's token.
    let bob = sign_in(&app, "bob").await;
    let (_, html) = get(&app, PAGE, Some(&bob.session)).await;
    assert!(!html.contains("laptop pip"));
    assert!(html.contains("You have no active personal access tokens."));
}

#[actix_web::test]
async fn bad_token_forms_are_shown_again_with_the_problem() {
    let w = world().await;
    let app = app(&w).await;
    let alice = sign_in(&app, "alice").await;
    let past = date_in(-1);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("name", ""), ("scopes", "api")], "Enter a token name."),
        (&[("name", "ci")], "Choose at least one scope."),
        (
            &[
                ("name", "ci"),
                ("scopes", "api"),
                ("expires_at", past.as_str()),
            ],
            "must not be in the past",
        ),
        (
            &[
                ("name", "ci"),
                ("scopes", "api"),
                ("expires_at", "next week"),
            ],
            "YYYY-MM-DD",
        ),
        (
            &[("name", "ci"), ("scopes", "sudo")],
            "is not a scope this form offers",
        ),
    ];
    for (fields, problem) in cases {
        let resp = post(&app, PAGE, &alice, fields).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{problem}");
        let html = body_text(resp).await;
        assert!(html.contains(problem), "{problem}: {html}");
        assert!(!html.contains("token-once"));
    }
    // What was typed stays in the form.
    let resp = post(&app, PAGE, &alice, &[("name", "deploy box")]).await;
    let html = body_text(resp).await;
    assert!(html.contains(r#"value="deploy box""#));

    // Without the CSRF token: 403.
    let resp = post(
        &app,
        PAGE,
        &alice,
        &[
            ("name", "ci"),
            ("scopes", "api"),
            ("authenticity_token", "nope"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let listing = w
        .registry
        .catalog()
        .list_personal_access_tokens(
            TokenFilter {
                user_id: Some(w.alice.id),
                ..TokenFilter::default()
            },
            Page {
                page: 1,
                per_page: 100,
            },
        )
        .await
        .unwrap();
    assert!(listing.items.is_empty(), "no token was created");
}

#[actix_web::test]
async fn revoking_works_for_ones_own_tokens_only() {
    let w = world().await;
    let app = app(&w).await;
    let scopes = vec!["api".to_owned()];
    let (alice_secret, alice_token) = w
        .registry
        .create_personal_access_token(w.alice.id, "old laptop", &scopes, None)
        .await
        .unwrap();
    let (bob_secret, bob_token) = w
        .registry
        .create_personal_access_token(w.bob.id, "bob's ci", &scopes, None)
        .await
        .unwrap();
    // Expired and revoked tokens are not listed.
    w.registry
        .create_personal_access_token(w.alice.id, "expired one", &scopes, Some(date_in(-3)))
        .await
        .unwrap();
    let (_, gone) = w
        .registry
        .create_personal_access_token(w.alice.id, "revoked one", &scopes, None)
        .await
        .unwrap();
    w.registry
        .catalog()
        .revoke_personal_access_token(gone.id)
        .await
        .unwrap();

    let alice = sign_in(&app, "alice").await;
    let (_, html) = get(&app, PAGE, Some(&alice.session)).await;
    assert!(html.contains("old laptop"));
    assert!(!html.contains("expired one"));
    assert!(!html.contains("revoked one"));
    assert!(!html.contains("bob&#39;s ci") && !html.contains("bob's ci"));
    let revoke_alice = format!("{PAGE}/{}/revoke", alice_token.id.0);
    assert!(html.contains(&format!(r#"action="{revoke_alice}""#)));
    assert!(html.contains("data-confirm="), "asks before revoking");

    // Someone else's token, a missing id, an already revoked one, a non-number: 404.
    for id in [
        bob_token.id.0.to_string(),
        "999999".to_owned(),
        gone.id.0.to_string(),
        "abc".to_owned(),
    ] {
        let resp = post(&app, &format!("{PAGE}/{id}/revoke"), &alice, &[]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{id}");
    }
    assert!(
        authenticate(&w, &bob_secret).await.is_ok(),
        "bob's token still works"
    );

    // No CSRF token: 403, and the token still works.
    let resp = post(&app, &revoke_alice, &alice, &[("authenticity_token", "")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(authenticate(&w, &alice_secret).await.is_ok());

    let resp = post(&app, &revoke_alice, &alice, &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), PAGE);
    assert!(cookie_from(&resp, "_packyard_flash").is_some(), "a notice");
    let html = follow(&app, resp, &alice.session).await;
    assert!(html.contains("Personal access token revoked."), "{html}");
    assert!(html.contains("You have no active personal access tokens."));
    let err = authenticate(&w, &alice_secret).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
}
