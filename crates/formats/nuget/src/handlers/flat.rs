//! (being written by the lead)

use actix_web::HttpResponse;
use packyard_core::ApiError;

pub async fn versions() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("flat"))
}

pub async fn file() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("flat"))
}
