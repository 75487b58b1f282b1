//! `ApiError`: the one place where failures become HTTP responses.
//!
//! GitLab's error shapes (spec §0): `{"message": "404 Project Not Found"}`,
//! `{"error": "file_name is invalid"}`, `{"error": "insufficient_scope", ...}`. A format can
//! choose another body shape its client prints (`with_body`). A 5xx logs the whole error chain
//! and answers a generic message; internal text never reaches the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use std::fmt;

use crate::policy::Refusal;
use crate::ports::{BlobError, CatalogError};

/// The realm package routes announce so clients retry with credentials.
pub const PACKAGE_REALM: &str = "Packyard Package Registry";

#[derive(Debug)]
enum Body {
    Json(serde_json::Value),
    Text(String),
}

/// A failure as the client will see it: its status, the client-safe message, the body shape
/// (GitLab's by default), an optional auth challenge and `Retry-After`. Formats read the
/// fields ([`ApiError::status`], [`ApiError::client_message`], [`ApiError::challenge`]) to
/// answer in their client's shape ([`ApiError::reshaped`], [`ApiError::reshaped_text`]).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    /// The text a client may read: the body's `message`, `error_description` or `error`, or
    /// the plain body; the generic status text for an internal error.
    message: String,
    body: Body,
    www_authenticate: Option<String>,
    /// `Retry-After` seconds (a 429 or 503 that clears by itself).
    retry_after: Option<u64>,
    /// The status line's reason phrase, for clients that print only the status line (Maven).
    reason: Option<&'static str>,
    /// Logged for 5xx, never sent.
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Which kind of route is answering, because GitLab answers refusals differently on each
/// (spec §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// Management REST API: 404 for whatever the caller may not see, anonymous included.
    Rest,
    /// Package-manager and generic routes: 401 + `WWW-Authenticate` to anonymous callers.
    Package,
}

impl ApiError {
    /// `{"message": "<status> <text>"}`, GitLab's most common shape.
    pub fn message(status: StatusCode, text: impl fmt::Display) -> Self {
        let text = text.to_string();
        ApiError {
            status,
            body: Body::Json(json!({ "message": text })),
            message: text,
            www_authenticate: None,
            retry_after: None,
            reason: None,
            source: None,
        }
    }
    /// `{"error": "<text>"}`, GitLab's parameter-validation shape.
    pub fn error(status: StatusCode, text: impl fmt::Display) -> Self {
        let text = text.to_string();
        ApiError {
            status,
            body: Body::Json(json!({ "error": text })),
            message: text,
            www_authenticate: None,
            retry_after: None,
            reason: None,
            source: None,
        }
    }
    /// Any JSON body, for formats whose clients read another shape.
    pub fn with_body(status: StatusCode, body: serde_json::Value) -> Self {
        ApiError {
            status,
            message: text_of(&body),
            body: Body::Json(body),
            www_authenticate: None,
            retry_after: None,
            reason: None,
            source: None,
        }
    }
    /// A plain-text body (clients that print the body verbatim).
    pub fn text(status: StatusCode, text: impl fmt::Display) -> Self {
        let text = text.to_string();
        ApiError {
            status,
            message: text.clone(),
            body: Body::Text(text),
            www_authenticate: None,
            retry_after: None,
            reason: None,
            source: None,
        }
    }
    pub fn bad_request(reason: impl fmt::Display) -> Self {
        Self::message(
            StatusCode::BAD_REQUEST,
            format!("400 Bad request - {reason}"),
        )
    }
    pub fn invalid_param(param: &str) -> Self {
        Self::error(StatusCode::BAD_REQUEST, format!("{param} is invalid"))
    }
    pub fn unauthorized() -> Self {
        Self::message(StatusCode::UNAUTHORIZED, "401 Unauthorized")
    }
    /// 401 that asks the client to retry with Basic credentials.
    pub fn unauthorized_basic() -> Self {
        Self::unauthorized().www_authenticate(format!("Basic realm=\"{PACKAGE_REALM}\""))
    }
    pub fn forbidden() -> Self {
        Self::message(StatusCode::FORBIDDEN, "403 Forbidden")
    }
    pub fn not_found(what: &str) -> Self {
        Self::message(StatusCode::NOT_FOUND, format!("404 {what} Not Found"))
    }
    pub fn project_not_found() -> Self {
        Self::not_found("Project")
    }
    pub fn insufficient_scope() -> Self {
        Self::with_body(
            StatusCode::FORBIDDEN,
            json!({
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": "api",
            }),
        )
    }
    pub fn conflict(text: impl fmt::Display) -> Self {
        Self::message(StatusCode::CONFLICT, text)
    }
    pub fn payload_too_large(limit: u64) -> Self {
        Self::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("413 Request Entity Too Large - File is too large (limit {limit} bytes)"),
        )
    }
    /// A server-side failure: logged with its chain, answered with a generic message.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: INTERNAL.to_owned(),
            body: Body::Json(json!({ "message": INTERNAL })),
            www_authenticate: None,
            retry_after: None,
            reason: None,
            source: Some(source.into()),
        }
    }
    pub fn www_authenticate(mut self, value: String) -> Self {
        self.www_authenticate = Some(value);
        self
    }
    /// Puts `reason` in the status line (`HTTP/1.1 400 Duplicate package is not allowed`):
    /// Maven, Gradle and Ivy print the status line of a refusal and never its body. Kept by
    /// [`ApiError::reshaped`]; ignored for a 5xx, whose answer is generic.
    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }
    /// Adds `Retry-After: <secs>`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The text a client may read (`message`, `error` or the plain body) for a 4xx; `None`
    /// for a 5xx, whose details never leave the server.
    pub fn client_text(&self) -> Option<String> {
        if self.status.is_server_error() {
            return None;
        }
        Some(self.message.clone())
    }

    /// The client-safe message, whatever the status: the text the body carries (`message`,
    /// `error_description` or `error`, or the plain body). For an internal error it is the
    /// generic "500 Internal Server Error"; the cause is only logged.
    pub fn client_message(&self) -> &str {
        &self.message
    }

    /// The `WWW-Authenticate` challenge sent with this error, if any.
    pub fn challenge(&self) -> Option<&str> {
        self.www_authenticate.as_deref()
    }

    /// The same error in another JSON shape, built from the client-safe message (npm's
    /// `{"error": m}`, Cargo's `{"errors": [{"detail": m}]}`). Status, challenge and
    /// `Retry-After` are kept. A 5xx is returned as it is, so that its cause is logged and
    /// the generic answer sent.
    pub fn reshaped(self, shape: impl FnOnce(&str) -> serde_json::Value) -> Self {
        if self.status.is_server_error() {
            return self;
        }
        let body = shape(&self.message);
        ApiError {
            body: Body::Json(body),
            ..self
        }
    }

    /// The same error as a plain-text body (clients that print the body verbatim), built
    /// from the client-safe message; see [`ApiError::reshaped`].
    pub fn reshaped_text(self, shape: impl FnOnce(&str) -> String) -> Self {
        if self.status.is_server_error() {
            return self;
        }
        let body = shape(&self.message);
        ApiError {
            body: Body::Text(body),
            ..self
        }
    }

    /// Turns a policy refusal into the answer this route class gives (spec §1.3).
    pub fn from_refusal(refusal: Refusal, class: RouteClass, anonymous: bool) -> Self {
        match (refusal, class) {
            (Refusal::NotVisible | Refusal::Forbidden, RouteClass::Package) if anonymous => {
                Self::unauthorized_basic()
            }
            (Refusal::NotVisible, _) => Self::project_not_found(),
            (Refusal::Forbidden, _) => Self::forbidden(),
            (Refusal::InsufficientScope, _) => Self::insufficient_scope(),
            (Refusal::RegistryDisabled, _) => Self::message(
                StatusCode::FORBIDDEN,
                "403 Forbidden - The package registry is disabled for this project",
            ),
        }
    }
}

/// The generic answer of a 500.
const INTERNAL: &str = "500 Internal Server Error";

/// The client-readable text of a JSON error body (`message`, then `error_description`, then
/// `error`; the whole body when it has none of them).
fn text_of(body: &serde_json::Value) -> String {
    match body
        .get("message")
        .or_else(|| body.get("error_description"))
        .or_else(|| body.get("error"))
        .or_else(|| body.pointer("/errors/0/detail"))
    {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => body.to_string(),
    }
}

/// At most 100 characters of client input with control characters replaced, fit to quote in
/// an error message (names, versions, digests a client sent).
pub fn printable(s: &str) -> String {
    s.chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.body {
            Body::Json(v) => write!(f, "{} {}", self.status, v),
            Body::Text(t) => write!(f, "{} {}", self.status, t),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            let mut chain = String::new();
            let mut cur: Option<&(dyn std::error::Error + 'static)> =
                std::error::Error::source(self);
            while let Some(e) = cur {
                chain.push_str(": ");
                chain.push_str(&e.to_string());
                cur = e.source();
            }
            tracing::error!(status = self.status.as_u16(), error = %chain, "request failed");
        }
        let mut resp = HttpResponse::build(self.status);
        if let Some(reason) = self.reason.filter(|_| !self.status.is_server_error()) {
            resp.reason(reason);
        }
        if let Some(w) = &self.www_authenticate {
            resp.insert_header((header::WWW_AUTHENTICATE, w.clone()));
        }
        if let Some(secs) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        match &self.body {
            Body::Json(v) => resp.content_type("application/json").body(v.to_string()),
            Body::Text(t) => resp
                .content_type("text/plain; charset=utf-8")
                .body(t.clone()),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Conflict(msg) => ApiError::conflict(msg),
            CatalogError::NotFound => ApiError::message(StatusCode::NOT_FOUND, "404 Not found"),
            other => ApiError::internal(other),
        }
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound => ApiError::message(StatusCode::NOT_FOUND, "404 Not found"),
            BlobError::TooLarge { limit } => ApiError::payload_too_large(limit),
            BlobError::Interrupted(_) => {
                ApiError::bad_request("the request body ended before it was complete")
            }
            BlobError::RangeNotSatisfiable { .. } => ApiError::message(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "416 Range Not Satisfiable",
            ),
            other => ApiError::internal(other),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_readable_and_reshaping_keeps_status_and_challenge() {
        let e = ApiError::unauthorized_basic();
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(e.client_message(), "401 Unauthorized");
        assert!(e.challenge().unwrap().starts_with("Basic realm="));
        let npm = e.reshaped(|m| json!({ "error": m }));
        assert_eq!(npm.status(), StatusCode::UNAUTHORIZED);
        assert!(npm.challenge().is_some());
        assert_eq!(
            npm.to_string(),
            r#"401 Unauthorized {"error":"401 Unauthorized"}"#
        );

        let scope = ApiError::insufficient_scope();
        assert!(scope
            .client_message()
            .starts_with("The request requires higher privileges"));
        let cargo = ApiError::with_body(
            StatusCode::CONFLICT,
            json!({ "errors": [{ "detail": "crate exists" }] }),
        );
        assert_eq!(cargo.client_message(), "crate exists");
        let text = ApiError::conflict("409 taken").reshaped_text(|m| format!("{m}!"));
        assert_eq!(text.to_string(), "409 Conflict 409 taken!");
        assert_eq!(text.client_text().as_deref(), Some("409 taken"));
    }

    #[test]
    fn an_internal_error_never_shows_its_cause_in_any_shape() {
        let e = ApiError::internal(std::io::Error::other("secret path /var/db"));
        assert_eq!(e.client_message(), "500 Internal Server Error");
        assert_eq!(e.client_text(), None);
        let shaped = e.reshaped(|m| json!({ "error": m }));
        assert!(!shaped.to_string().contains("secret"), "{shaped}");
        let text = ApiError::internal(std::io::Error::other("secret")).reshaped_text(str::to_owned);
        assert!(!text.to_string().contains("secret"), "{text}");
    }

    #[test]
    fn printable_cuts_control_characters_and_length() {
        assert_eq!(printable("a\nb\u{7}c"), "a?b?c");
        assert_eq!(printable(&"x".repeat(500)).chars().count(), 100);
    }
}
