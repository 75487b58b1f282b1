//! The endpoint tables: project routes under `/api/v4/projects/{id}/packages`, group routes
//! under `/api/v4/groups/{id}/-/packages` (GitLab's paths), each in its own `/pypi` scope so
//! that requests of other formats cost the router one prefix comparison here.

use actix_web::web;

use crate::handlers::{files, simple, upload, yank};
use crate::PypiConfig;

pub fn configure_project(cfg: &mut web::ServiceConfig, config: PypiConfig) {
    cfg.service(
        web::scope("/pypi")
            .service(
                web::resource(["", "/"])
                    .app_data(web::Data::new(config))
                    .route(web::post().to(upload::upload)),
            )
            .service(
                web::resource(["/simple", "/simple/"])
                    .route(web::get().to(simple::project_index))
                    .route(web::head().to(simple::project_index)),
            )
            .service(
                web::resource(["/simple/{name}", "/simple/{name}/"])
                    .route(web::get().to(simple::project_page))
                    .route(web::head().to(simple::project_page)),
            )
            .service(
                web::resource("/files/{sha256}/{file_name}")
                    .route(web::get().to(files::download))
                    .route(web::head().to(files::download)),
            )
            .service(
                web::resource("/yank/{name}/{version}")
                    .route(web::put().to(yank::yank))
                    .route(web::delete().to(yank::unyank)),
            ),
    );
}

pub fn configure_group(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/pypi")
            .service(
                web::resource(["/simple", "/simple/"])
                    .route(web::get().to(simple::group_index))
                    .route(web::head().to(simple::group_index)),
            )
            .service(
                web::resource(["/simple/{name}", "/simple/{name}/"])
                    .route(web::get().to(simple::group_page))
                    .route(web::head().to(simple::group_page)),
            ),
    );
}
