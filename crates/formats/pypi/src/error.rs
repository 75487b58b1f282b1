//! Upload refusals, answered the way PyPI answers them.
//!
//! twine prints only the HTTP reason phrase of a failed upload (`HTTPError: 400 Bad Request
//! from URL` followed by `response.reason`), and skips a duplicate under `--skip-existing`
//! when the status is 400 and the reason or body says "already exists". So every refusal
//! here has a fixed, specific reason phrase (actix-web takes only `&'static str` there) and
//! a plain-text body with the details, which `twine --verbose` and uv print.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use packyard_core::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum PypiError {
    /// A 400 refusal: the reason phrase and the details.
    #[error("{reason}: {detail}")]
    Refused {
        reason: &'static str,
        detail: String,
    },
    /// Anything else (auth, storage, catalog): core's status, challenge and message, as text.
    #[error(transparent)]
    Api(#[from] ApiError),
}

pub const FILE_EXISTS: &str = "File already exists";
pub const INVALID_FILE_NAME: &str = "Invalid distribution file name";
pub const INVALID_DISTRIBUTION: &str = "Invalid distribution file";
pub const INVALID_METADATA: &str = "Invalid core metadata";
pub const METADATA_MISMATCH: &str = "Metadata does not match the file";
pub const DIGEST_MISMATCH: &str =
    "The digest supplied does not match a digest calculated from the uploaded file";
pub const NO_FILE: &str = "Upload payload does not have a file";
pub const INVALID_FORM: &str = "Invalid upload form";

impl PypiError {
    pub fn refused(reason: &'static str, detail: impl Into<String>) -> Self {
        PypiError::Refused {
            reason,
            detail: detail.into(),
        }
    }

    /// The response twine, uv and poetry print.
    pub fn into_response(self) -> HttpResponse {
        match self {
            PypiError::Refused { reason, detail } => {
                let body = if detail.is_empty() {
                    format!("400 {reason}")
                } else {
                    format!("400 {reason}: {detail}")
                };
                let mut resp = ApiError::text(StatusCode::BAD_REQUEST, body).error_response();
                resp.head_mut().reason = Some(reason);
                resp
            }
            // PyPI answers in plain text: the status and the core's client-safe message
            // (a 5xx stays generic and is logged).
            PypiError::Api(e) => e.reshaped_text(str::to_owned).error_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn refusals_carry_the_reason_phrase_twine_prints() {
        let resp = PypiError::refused(FILE_EXISTS, "demo-1.0.tar.gz").into_response();
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.head().reason(), "File already exists");
        let body = actix_web::body::to_bytes(resp.into_body())
            .await
            .expect("body");
        assert_eq!(&body[..], b"400 File already exists: demo-1.0.tar.gz");
    }

    #[actix_web::test]
    async fn core_refusals_keep_status_and_challenge_in_text() {
        let resp = PypiError::from(ApiError::unauthorized_basic()).into_response();
        assert_eq!(resp.status(), 401);
        assert!(resp
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("Basic realm=")));
        let body = actix_web::body::to_bytes(resp.into_body())
            .await
            .expect("body");
        assert_eq!(&body[..], b"401 Unauthorized");
        let resp = PypiError::from(ApiError::internal(std::io::Error::other("disk on fire")))
            .into_response();
        let body = actix_web::body::to_bytes(resp.into_body())
            .await
            .expect("body");
        assert!(!String::from_utf8_lossy(&body).contains("disk"));
    }
}
