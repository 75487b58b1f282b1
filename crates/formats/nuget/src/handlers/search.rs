//! (being written by the lead)

use actix_web::HttpResponse;
use packyard_core::ApiError;

pub async fn query() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("search"))
}

pub async fn autocomplete() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("search"))
}
