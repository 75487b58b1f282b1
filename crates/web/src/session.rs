//! Password sessions and CSRF protection.
//!
//! - The session cookie (`_packyard_session`) carries a random secret (~190 bits), signed with
//!   the shared cookie key (HMAC-SHA256, the cookie crate's signed jar), `HttpOnly`,
//!   `SameSite=Lax`, `Secure` on https. The catalog stores only the secret's sha256, so a
//!   database leak gives no session away, and signing out deletes the row: a copied cookie
//!   dies with it.
//! - Every form carries `authenticity_token`. For a signed-in visitor it is the session's
//!   CSRF token (stored with the session); the sign-in form, which has no session yet, uses a
//!   signed double-submit cookie (`_packyard_csrf`). Tokens are compared in constant time.
//!   A POST whose `Origin` names another site is refused as well.
//! - One-shot notices ("Package deleted.") travel in a signed `_packyard_flash` cookie that
//!   the next page shows and clears.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponseBuilder};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use packyard_core::credentials;
use packyard_core::model::{User, WebSession};
use packyard_core::registry::now_millis;
use packyard_core::{Principal, Registry};

use crate::error::WebError;
use crate::WebState;

pub const SESSION_COOKIE: &str = "_packyard_session";
pub const CSRF_COOKIE: &str = "_packyard_csrf";
pub const FLASH_COOKIE: &str = "_packyard_flash";

/// Who is looking at a page.
pub struct Visitor {
    pub user: Option<User>,
    session: Option<WebSession>,
    /// A one-shot notice from the previous request, shown once.
    pub flash: Option<String>,
    /// The site's cookies carry `Secure` (see [`WebState::secure_cookies`]).
    secure_cookies: bool,
}

impl Visitor {
    /// Whether cookies set for this visitor must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// The principal policy decisions are made for: a session is a user with every scope.
    pub fn principal(&self) -> Principal {
        match &self.user {
            Some(user) => Principal::User {
                user: user.clone(),
                scopes: None,
            },
            None => Principal::Anonymous,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }

    /// The token forms of a signed-in visitor carry.
    pub fn csrf_token(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.csrf_token.as_str())
    }

    /// The signed-in user, or a redirect to the sign-in page that comes back to `req`.
    pub fn require_user(&self, req: &HttpRequest) -> Result<&User, WebError> {
        self.user.as_ref().ok_or_else(|| WebError::SignIn {
            redirect_to: return_path(req),
        })
    }

    /// Checks a form's `authenticity_token` (and the request's `Origin`) for a signed-in
    /// visitor. Anything else is a 403 page.
    pub fn check_csrf(&self, req: &HttpRequest, token: &str) -> Result<&User, WebError> {
        check_origin(req)?;
        let user = self.require_user(req)?;
        match &self.session {
            Some(s) if credentials::digests_match(&s.csrf_token, token) => Ok(user),
            _ => Err(WebError::Forbidden(
                "The form expired or did not come from this site. Reload the page and try again."
                    .into(),
            )),
        }
    }

    pub fn session_digest(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.id_digest.as_str())
    }
}

/// The path and query of a request, as a safe local `redirect_to` (without credential
/// parameters such as `private_token`, which are never echoed).
pub fn return_path(req: &HttpRequest) -> String {
    match packyard_core::credentials::query_without(req.query_string(), &[]).as_str() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    }
}

/// Where a visitor lands when no (acceptable) `redirect_to` says otherwise.
pub const DEFAULT_PAGE: &str = "/explore";

/// A `redirect_to` that stays on this site ([`packyard_core::redirect::local_path`]: a path,
/// never `//host`, `/\\host`, a URL, whitespace or a control character), else the default
/// page.
pub fn safe_redirect(target: Option<&str>) -> String {
    target
        .and_then(packyard_core::redirect::local_path)
        .unwrap_or(DEFAULT_PAGE)
        .to_owned()
}

/// Refuses a POST whose `Origin` (or, without it, `Referer`) is another site.
pub fn check_origin(req: &HttpRequest) -> Result<(), WebError> {
    let headers = req.headers();
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(source) = source else {
        return Ok(());
    };
    let host = req.connection_info().host().to_owned();
    let external = req
        .app_data::<web::Data<Registry>>()
        .map(|r| r.config().external_url.clone())
        .unwrap_or_default();
    let authority = |url: &str| -> Option<String> {
        let rest = url.split_once("://")?.1;
        Some(
            rest.split('/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        )
    };
    let from = authority(source);
    let ok = from.as_deref() == Some(host.to_ascii_lowercase().as_str())
        || (from.is_some() && from == authority(&external));
    if ok {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "The form did not come from this site.".into(),
        ))
    }
}

fn jar_from(req: &HttpRequest) -> CookieJar {
    let mut jar = CookieJar::new();
    if let Ok(cookies) = req.cookies() {
        for c in cookies.iter() {
            jar.add_original(c.clone().into_owned());
        }
    }
    jar
}

/// The verified value of a signed cookie.
pub fn signed_cookie(req: &HttpRequest, state: &WebState, name: &str) -> Option<String> {
    jar_from(req)
        .signed(state.key())
        .get(name)
        .map(|c| c.value().to_owned())
}

/// A signed cookie with this site's attributes.
pub fn make_cookie(
    state: &WebState,
    name: &'static str,
    value: String,
    max_age_secs: Option<i64>,
) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    let mut cookie = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies())
        .finish();
    if let Some(secs) = max_age_secs {
        cookie.set_max_age(actix_web::cookie::time::Duration::seconds(secs));
    }
    jar.signed_mut(state.key()).add(cookie);
    jar.get(name)
        .cloned()
        .unwrap_or_else(|| Cookie::new(name, ""))
}

/// The decrypted value of a private (encrypted and authenticated) cookie.
pub fn private_cookie(req: &HttpRequest, state: &WebState, name: &str) -> Option<String> {
    jar_from(req)
        .private(state.key())
        .get(name)
        .map(|c| c.value().to_owned())
}

/// A private cookie (AES-256-GCM with the shared key: unreadable and unforgeable by the
/// browser) scoped to `path`, for a secret the next page shows once.
pub fn make_private_cookie(
    state: &WebState,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age_secs: i64,
) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    let mut cookie = Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies())
        .finish();
    cookie.set_max_age(actix_web::cookie::time::Duration::seconds(max_age_secs));
    jar.private_mut(state.key()).add(cookie);
    jar.get(name)
        .cloned()
        .unwrap_or_else(|| Cookie::new(name, ""))
}

/// A cookie that removes `name` set on `path`; `Secure` like the cookie it removes (a
/// browser ignores a plain cookie that would overwrite a secure one).
pub fn removal_at(secure: bool, name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "")
        .path(path)
        .http_only(true)
        .secure(secure)
        .finish();
    c.make_removal();
    c
}

/// A cookie that removes `name`.
pub fn removal(secure: bool, name: &'static str) -> Cookie<'static> {
    removal_at(secure, name, "/")
}

/// Sets a one-shot notice for the next page. The text travels base64url-encoded: a cookie
/// value cannot hold `;`, quotes or non-ASCII text (a package name in a notice), and
/// percent-encoding would be undone by the cookie parser before the signature is checked.
pub fn set_flash(resp: &mut HttpResponseBuilder, state: &WebState, text: &str) {
    let value = URL_SAFE_NO_PAD.encode(text.as_bytes());
    resp.cookie(make_cookie(state, FLASH_COOKIE, value, Some(300)));
}

fn read_flash(req: &HttpRequest, state: &WebState) -> Option<String> {
    let raw = signed_cookie(req, state, FLASH_COOKIE)?;
    let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

/// A fresh random secret (hex).
pub fn random_token() -> String {
    credentials::new_secret("")
}

/// Starts a session for `user`: stores its digest and returns the cookie to set.
pub async fn start(
    registry: &Registry,
    state: &WebState,
    user: &User,
) -> Result<Cookie<'static>, WebError> {
    let secret = random_token();
    let now = now_millis();
    let ttl = i64::try_from(state.config.session_ttl_secs).unwrap_or(i64::MAX / 2000);
    let session = WebSession {
        id_digest: credentials::digest(&secret),
        user_id: user.id,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now.saturating_add(ttl.saturating_mul(1000)),
    };
    registry.catalog().create_web_session(&session).await?;
    // Expired sessions of everyone are swept now and then, here where a row is added.
    if rand::random::<u8>() < 8 {
        registry.catalog().delete_expired_web_sessions(now).await?;
    }
    Ok(make_cookie(state, SESSION_COOKIE, secret, Some(ttl)))
}

type LocalFut<T> = Pin<Box<dyn Future<Output = Result<T, WebError>>>>;

impl FromRequest for Visitor {
    type Error = WebError;
    type Future = LocalFut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let registry = req.app_data::<web::Data<Registry>>().cloned();
        let state = req.app_data::<web::Data<WebState>>().cloned();
        let (secret, flash) = match &state {
            Some(state) => (
                signed_cookie(req, state, SESSION_COOKIE),
                read_flash(req, state),
            ),
            None => (None, None),
        };
        Box::pin(async move {
            let (Some(registry), Some(state)) = (registry, state) else {
                return Err(WebError::Internal(
                    "Registry or WebState missing from app data".into(),
                ));
            };
            let mut visitor = Visitor {
                user: None,
                session: None,
                flash,
                secure_cookies: state.secure_cookies(),
            };
            let Some(secret) = secret else {
                return Ok(visitor);
            };
            let digest = credentials::digest(&secret);
            let Some(session) = registry
                .catalog()
                .web_session(&digest, now_millis())
                .await?
            else {
                return Ok(visitor);
            };
            // Blocking deletes the user's sessions; a session created by a sign-in that
            // raced the block (password checked before, session stored after) still
            // signs nobody in.
            visitor.user = registry
                .catalog()
                .user_by_id(session.user_id)
                .await?
                .filter(|u| !u.is_blocked());
            if visitor.user.is_some() {
                visitor.session = Some(session);
            }
            Ok(visitor)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::cookie::Key;
    use actix_web::test::TestRequest;
    use actix_web::HttpResponse;

    fn state() -> WebState {
        state_with(false)
    }

    fn state_with(secure_cookies: bool) -> WebState {
        WebState {
            formats: Vec::new(),
            config: crate::WebConfig::default(),
            key: Key::generate(),
            secure_cookies,
        }
    }

    /// Every cookie this site sets, through every helper, is `Secure` exactly when the
    /// external URL is https.
    #[test]
    fn every_cookie_is_secure_when_the_site_is_https() {
        for secure in [true, false] {
            let state = state_with(secure);
            let mut flash = HttpResponse::SeeOther();
            set_flash(&mut flash, &state, "hi");
            let flash = flash
                .finish()
                .cookies()
                .map(|c| c.into_owned())
                .collect::<Vec<_>>();
            let cookies = [
                make_cookie(&state, SESSION_COOKIE, "s".into(), Some(60)),
                make_cookie(&state, FLASH_COOKIE, "f".into(), None),
                make_private_cookie(&state, "_x", "p".into(), "/-/x", 60),
                removal(state.secure_cookies(), SESSION_COOKIE),
                removal_at(state.secure_cookies(), "_x", "/-/x"),
            ];
            for c in cookies.iter().chain(&flash) {
                assert_eq!(c.secure().unwrap_or(false), secure, "{c}");
                assert_eq!(c.to_string().contains("; Secure"), secure, "{c}");
            }
        }
    }

    #[test]
    fn a_notice_with_quotes_semicolons_and_unicode_survives_the_cookie() {
        let state = state();
        let text = "Package \u{201c}@acme/wid;get\u{201d} = deleted, 100%";
        let mut b = HttpResponse::SeeOther();
        set_flash(&mut b, &state, text);
        let resp = b.finish();
        let header = resp
            .headers()
            .get(actix_web::http::header::SET_COOKIE)
            .expect("set-cookie")
            .to_str()
            .expect("an ASCII header")
            .to_owned();
        let value = header.split(';').next().unwrap_or_default();
        assert!(
            value.starts_with("_packyard_flash=") && !value.contains(' '),
            "{header}"
        );
        let cookie = resp
            .cookies()
            .find(|c| c.name() == FLASH_COOKIE)
            .expect("flash cookie")
            .into_owned();
        let req = TestRequest::default().cookie(cookie).to_http_request();
        assert_eq!(read_flash(&req, &state).as_deref(), Some(text));
    }

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(
            safe_redirect(Some("/acme/-/packages?page=2")),
            "/acme/-/packages?page=2"
        );
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "/\t/evil.test/x",
            "/x\r\nLocation: //evil.test",
            " /x",
            "evil",
            "",
        ] {
            assert_eq!(safe_redirect(Some(bad)), "/explore", "{bad}");
        }
        assert_eq!(safe_redirect(None), "/explore");
    }
}
