//! (being written by the lead)

use actix_web::HttpResponse;
use packyard_core::ApiError;

pub async fn index() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("registration"))
}

pub async fn page() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("registration"))
}

pub async fn leaf() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("registration"))
}
