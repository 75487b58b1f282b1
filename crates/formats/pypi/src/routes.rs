//! The endpoint tables: project routes under `/api/v4/projects/{id}/packages`, group routes
//! under `/api/v4/groups/{id}/-/packages` (GitLab's paths).

use actix_web::web;

use crate::handlers::{files, simple, upload, yank};
use crate::PypiConfig;

pub fn configure_project(cfg: &mut web::ServiceConfig, config: PypiConfig) {
    cfg.service(
        web::resource(["/pypi", "/pypi/"])
            .app_data(web::Data::new(config))
            .route(web::post().to(upload::upload)),
    )
    .service(
        web::resource(["/pypi/simple", "/pypi/simple/"])
            .route(web::get().to(simple::project_index))
            .route(web::head().to(simple::project_index)),
    )
    .service(
        web::resource(["/pypi/simple/{name}", "/pypi/simple/{name}/"])
            .route(web::get().to(simple::project_page))
            .route(web::head().to(simple::project_page)),
    )
    .service(
        web::resource("/pypi/files/{sha256}/{file_name}")
            .route(web::get().to(files::download))
            .route(web::head().to(files::download)),
    )
    .service(
        web::resource("/pypi/yank/{name}/{version}")
            .route(web::put().to(yank::yank))
            .route(web::delete().to(yank::unyank)),
    );
}

pub fn configure_group(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/pypi/simple", "/pypi/simple/"])
            .route(web::get().to(simple::group_index))
            .route(web::head().to(simple::group_index)),
    )
    .service(
        web::resource(["/pypi/simple/{name}", "/pypi/simple/{name}/"])
            .route(web::get().to(simple::group_page))
            .route(web::head().to(simple::group_page)),
    );
}
