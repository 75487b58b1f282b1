//! `PUT .../nuget/symbolpackage` and the symbol server `GET .../nuget/symbolfiles/...`
//! (owned by the nugetsym task; stubbed).

use actix_web::HttpResponse;

use packyard_core::ApiError;

pub async fn push() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("symbol packages are not written yet"))
}

pub async fn file() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("symbol files are not written yet"))
}
