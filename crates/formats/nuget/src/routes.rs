//! The endpoint table, each in its own `/nuget` scope (GitLab's paths).
//!
//! Project, under `/api/v4/projects/:id/packages/nuget`:
//! - v3: `index.json` (service index), `PUT /` (push, multipart `package`), `PUT
//!   symbolpackage`, `download/:id/index.json` and `download/:id/:version/:file` (flat
//!   container: `.nupkg`, `.nuspec`), `metadata/:id/index.json`, `metadata/:id/page/:lower/:upper.json`
//!   and `metadata/:id/:version.json` (registrations), `query` (search), `autocomplete`,
//!   `DELETE :id/:version`, `symbolfiles/:file/:signature/:file` (symbol server);
//! - v2: `GET v2` and `v2/*` (OData feed), `PUT v2` (push), `DELETE v2/:id/:version`.
//!
//! Group, under `/api/v4/groups/:id/-/packages/nuget`: the v3 reads over every project
//! the caller may read (`index.json`, `download/...`, `metadata/...`, `query`,
//! `autocomplete`, `symbolfiles/...`).

use actix_web::dev::Handler;
use actix_web::{web, FromRequest, Resource, Responder};

use crate::handlers::{
    delete, flat, push, registration, search, service_index, symbols, v2, State,
};

/// A read: `GET` and `HEAD` (answered as `GET` without a body) of one path.
fn read<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
}

pub fn project(cfg: &mut web::ServiceConfig, state: web::Data<State>) {
    cfg.service(
        web::scope("/nuget")
            .app_data(state)
            .service(read("/index.json", service_index::get))
            .route("", web::put().to(push::push))
            .route("/", web::put().to(push::push))
            .route("/symbolpackage", web::put().to(symbols::push))
            .service(read("/download/{package}/index.json", flat::versions))
            .service(read("/download/{package}/{version}/{file}", flat::file))
            .service(read("/metadata/{package}/index.json", registration::index))
            .service(read(
                "/metadata/{package}/page/{lower}/{upper}.json",
                registration::page,
            ))
            .service(read(
                "/metadata/{package}/{version}.json",
                registration::leaf,
            ))
            .service(read("/query", search::query))
            .service(read("/autocomplete", search::autocomplete))
            .service(read(
                "/symbolfiles/{file}/{signature}/{same_file}",
                symbols::file,
            ))
            .route("/v2", web::put().to(push::push))
            .route("/v2/", web::put().to(push::push))
            // Deletes before the v2 reads: a resource that matches a path answers 405 to
            // the methods it lacks, and `v2/{rest}` matches every path under v2.
            .route("/v2/{package}/{version}", web::delete().to(delete::delete))
            .route("/{package}/{version}", web::delete().to(delete::delete))
            .service(read("/v2", v2::read))
            .service(read("/v2/{rest:.*}", v2::read)),
    );
}

pub fn group(cfg: &mut web::ServiceConfig, state: web::Data<State>) {
    cfg.service(
        web::scope("/nuget")
            .app_data(state)
            .service(read("/index.json", service_index::get))
            .service(read("/download/{package}/index.json", flat::versions))
            .service(read("/download/{package}/{version}/{file}", flat::file))
            .service(read("/metadata/{package}/index.json", registration::index))
            .service(read(
                "/metadata/{package}/page/{lower}/{upper}.json",
                registration::page,
            ))
            .service(read(
                "/metadata/{package}/{version}.json",
                registration::leaf,
            ))
            .service(read("/query", search::query))
            .service(read("/autocomplete", search::autocomplete))
            .service(read(
                "/symbolfiles/{file}/{signature}/{same_file}",
                symbols::file,
            )),
    );
}
