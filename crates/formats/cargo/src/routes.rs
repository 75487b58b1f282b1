//! The endpoint table, mounted under `/api/v4/projects/{id}/packages` in its own `/cargo`
//! scope, so that the router compares one static prefix instead of trying every format's
//! patterns (the index file is the hottest route of a Cargo registry).
//!
//! The web API resources sit in an `/api/v1` scope in front of the index routes:
//! `api/v1/crates` would otherwise also match the three-segment index path pattern.

use actix_web::web;

use crate::handlers::{crates, index, publish};
use crate::CargoConfig;

pub fn configure(cfg: &mut web::ServiceConfig, config: CargoConfig) {
    let config = web::Data::new(config);
    let api = web::scope("/api/v1/crates")
        .service(
            web::resource("/new")
                .app_data(config)
                .route(web::put().to(publish::publish)),
        )
        .service(web::resource("").route(web::get().to(crates::search)))
        .service(
            web::resource("/{name}/owners")
                .route(web::get().to(crates::owners))
                .route(web::put().to(crates::change_owners))
                .route(web::delete().to(crates::change_owners)),
        )
        .service(web::resource("/{name}/{version}/yank").route(web::delete().to(crates::yank)))
        .service(web::resource("/{name}/{version}/unyank").route(web::put().to(crates::unyank)))
        .service(
            web::resource("/{name}/{version}/download")
                .route(web::get().to(crates::download))
                .route(web::head().to(crates::download)),
        );
    cfg.service(
        web::scope("/cargo")
            .service(api)
            .service(
                web::resource("/config.json")
                    .route(web::get().to(index::config))
                    .route(web::head().to(index::config)),
            )
            .service(
                web::resource("/{a}/{name}")
                    .route(web::get().to(index::file))
                    .route(web::head().to(index::file)),
            )
            .service(
                web::resource("/{a}/{b}/{name}")
                    .route(web::get().to(index::file))
                    .route(web::head().to(index::file)),
            ),
    );
}
