//! The endpoint table, mounted under `/api/v4/projects/{id}/packages`.
//!
//! The web API resources come first: `api/v1/crates` would otherwise also match the
//! three-segment index path pattern.

use actix_web::web;

use crate::handlers::{crates, index, publish};
use crate::CargoConfig;

pub fn configure(cfg: &mut web::ServiceConfig, config: CargoConfig) {
    let config = web::Data::new(config);
    cfg.service(
        web::resource("/cargo/api/v1/crates/new")
            .app_data(config.clone())
            .route(web::put().to(publish::publish)),
    )
    .service(web::resource("/cargo/api/v1/crates").route(web::get().to(crates::search)))
    .service(
        web::resource("/cargo/api/v1/crates/{name}/owners")
            .route(web::get().to(crates::owners))
            .route(web::put().to(crates::change_owners))
            .route(web::delete().to(crates::change_owners)),
    )
    .service(
        web::resource("/cargo/api/v1/crates/{name}/{version}/yank")
            .route(web::delete().to(crates::yank)),
    )
    .service(
        web::resource("/cargo/api/v1/crates/{name}/{version}/unyank")
            .route(web::put().to(crates::unyank)),
    )
    .service(
        web::resource("/cargo/api/v1/crates/{name}/{version}/download")
            .route(web::get().to(crates::download))
            .route(web::head().to(crates::download)),
    )
    .service(
        web::resource("/cargo/config.json")
            .route(web::get().to(index::config))
            .route(web::head().to(index::config)),
    )
    .service(
        web::resource("/cargo/{a}/{name}")
            .route(web::get().to(index::file))
            .route(web::head().to(index::file)),
    )
    .service(
        web::resource("/cargo/{a}/{b}/{name}")
            .route(web::get().to(index::file))
            .route(web::head().to(index::file)),
    );
}
