//! The Terraform client's error shape. Placeholder: GitLab's JSON `{"message": ...}` as
//! `ApiError` renders it; map errors here when the client expects another shape.

use packyard_core::ApiError;

/// A request the client sent wrong: 400 with `message`.
pub fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message.into())
}
