//! Sign in with username and password, sign out.
//!
//! Sign-in attempts are counted per username in the catalog (so every process sees them),
//! atomically and before the password is checked: `login_max_failures` attempts within
//! `login_window_secs` are checked, the next ones are refused for `login_lockout_secs` with
//! a 429, and a successful sign-in clears the count. Password checks go through the
//! Registry's [`PasswordHasher`](packyard_core::passwords::PasswordHasher), which runs a few
//! at a time and answers 429 when it stays busy.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use packyard_core::credentials;
use packyard_core::model::LoginLimits;
use packyard_core::registry::now_millis;
use packyard_core::Registry;
use serde::Deserialize;

use crate::error::WebError;
use crate::layout::{self, Crumb};
use crate::session::{self, Visitor, CSRF_COOKIE, SESSION_COOKIE};
use crate::WebState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/users/sign_in", web::get().to(sign_in_form))
        .route("/users/sign_in", web::post().to(sign_in))
        .route("/users/sign_out", web::post().to(sign_out));
}

async fn home() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((actix_web::http::header::LOCATION, session::DEFAULT_PAGE))
        .finish()
}

#[derive(Deserialize)]
pub struct SignInQuery {
    redirect_to: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    authenticity_token: String,
    redirect_to: Option<String>,
}

fn form_page(
    visitor: &Visitor,
    token: &str,
    username: &str,
    redirect_to: &str,
    error: Option<&str>,
) -> maud::Markup {
    let body = html! {
        div.sign-in {
            h1 { "Sign in" }
            @if let Some(error) = error {
                div.error role="alert" { (error) }
            }
            form method="post" action="/users/sign_in" {
                input type="hidden" name="authenticity_token" value=(token);
                input type="hidden" name="redirect_to" value=(redirect_to);
                div.field {
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(username)
                        autocomplete="username" autocapitalize="none" spellcheck="false"
                        required autofocus;
                }
                div.field {
                    label for="password" { "Password" }
                    input #password type="password" name="password"
                        autocomplete="current-password" required;
                }
                button type="submit" { "Sign in" }
            }
            p.muted {
                "Tools sign in with personal access tokens, deploy tokens or CI job tokens instead."
            }
        }
    };
    layout::page(
        visitor,
        "Sign in",
        &[Crumb::new("Sign in", "/users/sign_in")],
        body,
    )
}

/// The sign-in form, with a fresh double-submit CSRF token in a signed cookie.
async fn sign_in_form(
    visitor: Visitor,
    query: web::Query<SignInQuery>,
    state: web::Data<WebState>,
) -> HttpResponse {
    let redirect_to = session::safe_redirect(query.redirect_to.as_deref());
    if visitor.user.is_some() {
        return layout::redirect(&state, &redirect_to, None);
    }
    let token = session::random_token();
    let mut resp = layout::html_page(
        &visitor,
        form_page(&visitor, &token, "", &redirect_to, None),
    );
    let _ = resp.add_cookie(&session::make_cookie(&state, CSRF_COOKIE, token, None));
    resp
}

async fn sign_in(
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<SignInForm>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    session::check_origin(&req)?;
    let form = form.into_inner();
    let redirect_to = session::safe_redirect(form.redirect_to.as_deref());
    let expected = session::signed_cookie(&req, &state, CSRF_COOKIE);
    if !expected.is_some_and(|t| credentials::digests_match(&t, &form.authenticity_token)) {
        return Err(WebError::Forbidden(
            "The sign-in form expired. Reload the page and try again.".into(),
        ));
    }
    let username = form.username.trim().to_owned();
    if username.is_empty() {
        // No account has an empty name: nothing to count, nothing to hash.
        return Ok(refused(&state, &visitor, &username, &redirect_to));
    }
    let now = now_millis();
    let catalog = registry.catalog();
    let cfg = &state.config;
    let limits = LoginLimits {
        max_attempts: cfg.login_max_failures,
        window: secs_to_millis(cfg.login_window_secs),
        lockout: secs_to_millis(cfg.login_lockout_secs),
    };
    // The attempt is counted before argon2 runs, in one atomic statement: N parallel
    // guesses (on any number of processes) check at most `login_max_failures` passwords.
    let attempts = catalog
        .reserve_login_attempt(&username, now, limits)
        .await?;
    if !attempts.allows(limits) {
        let until = attempts
            .locked_until
            .unwrap_or(now.saturating_add(limits.lockout));
        let secs = (until.saturating_sub(now).max(0) as u64)
            .div_ceil(1000)
            .max(1);
        let minutes = secs.div_ceil(60);
        return Err(WebError::TooManyRequests {
            text: format!(
                "Too many failed sign-in attempts for this username. Try again in {minutes} minute{}.",
                if minutes > 1 { "s" } else { "" }
            ),
            retry_after_secs: Some(secs),
        });
    }
    let user = catalog.user_by_username(&username).await?;
    let phc = user.as_ref().and_then(|u| u.password_hash.clone());
    // A missing user still costs one verification, so timing does not tell which usernames
    // exist. The hasher bounds how many run at once; when it stays busy the attempt is
    // given back (its password was never checked) and the answer is 429.
    let verified = match registry.passwords().verify(form.password, phc).await {
        Ok(v) => v,
        Err(e) => {
            catalog.release_login_attempt(&username).await?;
            return Err(e.into());
        }
    };
    let user = match user {
        Some(user) if verified => user,
        _ => return Ok(refused(&state, &visitor, &username, &redirect_to)),
    };
    if user.is_blocked() {
        // Told only to whoever knows the password (it was checked, at the same cost as
        // any other attempt): a blocked account cannot be probed by name.
        return Ok(form_again(
            &state,
            &visitor,
            &username,
            &redirect_to,
            StatusCode::FORBIDDEN,
            "Your account has been blocked. Ask an administrator of this Packyard to unblock it.",
        ));
    }
    catalog.clear_login_failures(&username).await?;
    let cookie = session::start(&registry, &state, &user).await?;
    let mut resp = layout::redirect(&state, &redirect_to, None);
    let _ = resp.add_cookie(&cookie);
    let _ = resp.add_cookie(&session::removal(state.secure_cookies(), CSRF_COOKIE));
    tracing::info!(user = %user.username, "signed in");
    Ok(resp)
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    authenticity_token: String,
}

async fn sign_out(
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<TokenForm>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    if visitor.user.is_none() {
        // Already signed out (or the session expired): nothing to protect.
        let mut resp = layout::redirect(&state, session::DEFAULT_PAGE, None);
        let _ = resp.add_cookie(&session::removal(state.secure_cookies(), SESSION_COOKIE));
        return Ok(resp);
    }
    visitor.check_csrf(&req, &form.authenticity_token)?;
    if let Some(digest) = visitor.session_digest() {
        registry.catalog().delete_web_session(digest).await?;
    }
    let mut resp = layout::redirect(&state, session::DEFAULT_PAGE, Some("Signed out."));
    let _ = resp.add_cookie(&session::removal(state.secure_cookies(), SESSION_COOKIE));
    Ok(resp)
}

fn secs_to_millis(secs: u64) -> i64 {
    i64::try_from(secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

/// The 401 form again: "Invalid username or password.", the username kept.
fn refused(state: &WebState, visitor: &Visitor, username: &str, redirect_to: &str) -> HttpResponse {
    form_again(
        state,
        visitor,
        username,
        redirect_to,
        StatusCode::UNAUTHORIZED,
        "Invalid username or password.",
    )
}

/// The sign-in form again with `status` and `message`, the username kept.
fn form_again(
    state: &WebState,
    visitor: &Visitor,
    username: &str,
    redirect_to: &str,
    status: StatusCode,
    message: &str,
) -> HttpResponse {
    let token = session::random_token();
    let mut resp = layout::respond(
        status,
        form_page(visitor, &token, username, redirect_to, Some(message)),
    );
    let _ = resp.add_cookie(&session::make_cookie(state, CSRF_COOKIE, token, None));
    resp
}
