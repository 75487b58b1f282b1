//! The endpoint table, mounted under `/api/v4/projects/{id}/packages` in its own `/go`
//! scope.

use actix_web::web;

use crate::handlers::{files, ping};
use crate::GoConfig;

pub fn configure(cfg: &mut web::ServiceConfig, config: GoConfig) {
    cfg.service(
        web::scope("/go")
            .app_data(web::Data::new(config))
            .route("/ping", web::get().to(ping::ping))
            .route("/{name}/{version}/{file}", web::put().to(files::upload))
            .route("/{name}/{version}/{file}", web::get().to(files::download))
            .route("/{name}/{version}/{file}", web::head().to(files::download)),
    );
}
