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
//! `autocomplete`).

use actix_web::web;

use crate::handlers::{
    delete, flat, push, registration, search, service_index, symbols, v2, State,
};

pub fn project(cfg: &mut web::ServiceConfig, state: web::Data<State>) {
    cfg.service(
        web::scope("/nuget")
            .app_data(state)
            .route("/index.json", web::get().to(service_index::project))
            .route("", web::put().to(push::push))
            .route("/", web::put().to(push::push))
            .route("/symbolpackage", web::put().to(symbols::push))
            .route("/download/{package}/index.json", web::get().to(flat::versions))
            .route(
                "/download/{package}/{version}/{file}",
                web::get().to(flat::file),
            )
            .route("/metadata/{package}/index.json", web::get().to(registration::index))
            .route(
                "/metadata/{package}/page/{lower}/{upper}.json",
                web::get().to(registration::page),
            )
            .route(
                "/metadata/{package}/{version}.json",
                web::get().to(registration::leaf),
            )
            .route("/query", web::get().to(search::query))
            .route("/autocomplete", web::get().to(search::autocomplete))
            .route(
                "/symbolfiles/{file}/{signature}/{same_file}",
                web::get().to(symbols::file),
            )
            .route("/v2", web::put().to(push::push))
            .route("/v2/", web::put().to(push::push))
            .route("/v2", web::get().to(v2::read))
            .route("/v2/{rest:.*}", web::get().to(v2::read))
            .route("/v2/{package}/{version}", web::delete().to(delete::delete))
            .route("/{package}/{version}", web::delete().to(delete::delete)),
    );
}

pub fn group(cfg: &mut web::ServiceConfig, state: web::Data<State>) {
    cfg.service(
        web::scope("/nuget")
            .app_data(state)
            .route("/index.json", web::get().to(service_index::group))
            .route("/download/{package}/index.json", web::get().to(flat::versions))
            .route(
                "/download/{package}/{version}/{file}",
                web::get().to(flat::file),
            )
            .route("/metadata/{package}/index.json", web::get().to(registration::index))
            .route(
                "/metadata/{package}/page/{lower}/{upper}.json",
                web::get().to(registration::page),
            )
            .route(
                "/metadata/{package}/{version}.json",
                web::get().to(registration::leaf),
            )
            .route("/query", web::get().to(search::query))
            .route("/autocomplete", web::get().to(search::autocomplete)),
    );
}
