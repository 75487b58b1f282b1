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

/// Re-shapes an error from the core (refusals, 413, 404) into npm's body, from its fields:
/// status, client-safe message, challenge. Server errors are left alone so they are logged
/// and answered generically.
pub fn npm_shape(e: ApiError) -> ApiError {
    let unauthorized = e.status() == StatusCode::UNAUTHORIZED && e.challenge().is_none();
    let shaped = e.reshaped(|text| json!({ "error": text }));
    if unauthorized {
        shaped.www_authenticate(format!("Basic realm=\"{PACKAGE_REALM}\""))
    } else {
        shaped
    }
}

pub fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooLarge => npm_error(StatusCode::PAYLOAD_TOO_LARGE, e),
        _ => bad_request(e),
    }
}
