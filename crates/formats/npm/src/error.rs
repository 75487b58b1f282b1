//! npm's error shape: `{"error": "..."}`, which the npm CLI prints after the status line
//! (`npm error 403 403 Forbidden - PUT http://... - You cannot publish over ...`).

use actix_web::http::StatusCode;
use packyard_core::error::PACKAGE_REALM;
use packyard_core::ApiError;
use serde_json::json;

use crate::body::BodyError;

pub fn npm_error(status: StatusCode, text: impl std::fmt::Display) -> ApiError {
    let err = ApiError::with_body(status, json!({ "error": text.to_string() }));
    if status == StatusCode::UNAUTHORIZED {
        err.www_authenticate(format!("Basic realm=\"{PACKAGE_REALM}\""))
    } else {
        err
    }
}

pub fn bad_request(text: impl std::fmt::Display) -> ApiError {
    npm_error(StatusCode::BAD_REQUEST, text)
}

pub fn not_found(text: impl std::fmt::Display) -> ApiError {
    npm_error(StatusCode::NOT_FOUND, text)
}

/// Re-shapes an error from the core (refusals, 413, 404) into npm's body, keeping its
/// status and text. Server errors are left alone so they are logged and answered generically.
pub fn npm_shape(e: ApiError) -> ApiError {
    let status = e.status();
    if status.is_server_error() {
        return e;
    }
    // `ApiError`'s Display is "<status> <json body>"; the body's text is what the client
    // should read.
    let shown = e.to_string();
    let text = shown
        .find('{')
        .and_then(|i| serde_json::from_str::<serde_json::Value>(&shown[i..]).ok())
        .and_then(|v| {
            v.get("error_description")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    npm_error(status, text)
}

pub fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooLarge => npm_error(StatusCode::PAYLOAD_TOO_LARGE, e),
        _ => bad_request(e),
    }
}
