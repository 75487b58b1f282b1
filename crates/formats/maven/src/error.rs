//! Refusals as Maven, Gradle and Ivy show them: they print the status line of a failed
//! request and never its body, so the reason goes in the reason phrase
//! (`HTTP/1.1 400 Checksum mismatch`), and the body keeps GitLab's `{"message": ...}` with
//! the details for curl and logs.

use actix_web::http::StatusCode;

use packyard_core::ApiError;

/// A 400 whose status line reads `reason` and whose body says `detail`.
pub fn bad_request(reason: &'static str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::message(
        StatusCode::BAD_REQUEST,
        format!("400 Bad request - {detail}"),
    )
    .with_reason(reason)
}

/// The path is not in the Maven 2 layout.
pub fn bad_path(detail: impl std::fmt::Display) -> ApiError {
    bad_request("Invalid Maven path", detail)
}

/// Nothing at this path for this caller.
pub fn not_found() -> ApiError {
    ApiError::message(StatusCode::NOT_FOUND, "404 Package Not Found")
}
