//! The endpoint table, mounted under `/api/v4/projects/{id}/packages` in its own `/go`
//! scope. Module paths hold slashes, so one catch-all route per method; the handlers parse
//! the path ([`crate::handlers::parse`]).

use actix_web::web;

use crate::handlers::{proxy, upload};
use crate::GoConfig;

pub fn configure(cfg: &mut web::ServiceConfig, config: GoConfig) {
    cfg.service(
        web::scope("/go")
            .app_data(web::Data::new(config))
            .route("/{tail:.*}", web::get().to(proxy::read))
            .route("/{tail:.*}", web::head().to(proxy::read))
            .route("/{tail:.*}", web::put().to(upload::upload)),
    );
}
