//! NuGet's error shape: GitLab's JSON `{"message": ...}`, with the reason in the HTTP
//! status line too, because nuget.exe prints only the status line of a refused request.

use packyard_core::ApiError;

/// A request the client sent wrong: 400 with `reason` in the status line and `detail` in
/// the body's `message`.
pub fn bad_request(reason: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::bad_request(detail.into()).with_reason(reason)
}

/// The 404 of a package, version or file that does not exist (or that the caller may not
/// see).
pub fn not_found() -> ApiError {
    ApiError::not_found("Package")
}
