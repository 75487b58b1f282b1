//! The go command's error shape: plain text, which it prints after the status
//! (`reading .../@v/list: 404 Not Found\n\tserver response: <body>`). Core's refusals (401,
//! 403, 409, 413) are reshaped to the same text; a 5xx is never reshaped.
//!
//! Reads answer 404 for everything the caller may not see and for every module or version
//! that is not here: go asks for parent paths of every module it resolves
//! (`example.test/@v/list` for `example.test/a/b`) and stops at any status but 404 and 410.

use actix_web::http::StatusCode;
use packyard_core::ApiError;

/// One line of text, ending in a newline.
pub fn text(status: StatusCode, message: impl std::fmt::Display) -> ApiError {
    ApiError::text(status, format!("{message}\n"))
}

/// A request the client sent wrong: 400.
pub fn bad_request(message: impl std::fmt::Display) -> ApiError {
    text(StatusCode::BAD_REQUEST, message)
}

/// Not here, or not for this caller: 404.
pub fn not_found(message: impl std::fmt::Display) -> ApiError {
    text(StatusCode::NOT_FOUND, format!("not found: {message}"))
}

/// Core's refusals as text.
pub fn as_text(e: ApiError) -> ApiError {
    e.reshaped_text(|message| {
        if message.ends_with('\n') {
            message.to_owned()
        } else {
            format!("{message}\n")
        }
    })
}
