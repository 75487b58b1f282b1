//! (being written by the lead)

use actix_web::HttpResponse;
use packyard_core::ApiError;

pub async fn project() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("service_index"))
}

pub async fn group() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("service_index"))
}
