//! (being written by the lead)

use actix_web::HttpResponse;
use packyard_core::ApiError;

pub async fn push() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("push"))
}
