//! The v2 (OData) feed's reads: `GET .../nuget/v2` and everything under it (owned by the
//! nugetv2 task; stubbed).

use actix_web::HttpResponse;

use packyard_core::ApiError;

pub async fn read() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("the v2 feed is not written yet"))
}
