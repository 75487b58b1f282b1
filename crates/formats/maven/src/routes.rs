//! The endpoint table, each in its own `/maven` scope (GitLab's paths):
//! - project `/api/v4/projects/:id/packages/maven/*path`: `PUT`, `GET`, `HEAD`;
//! - group `/api/v4/groups/:id/-/packages/maven/*path`: `GET`, `HEAD`;
//! - instance `/api/v4/packages/maven/*path`: `GET`, `HEAD`.

use actix_web::web;

use crate::handlers::{read, write, State};

pub fn project(cfg: &mut web::ServiceConfig, state: web::Data<State>) {
    cfg.service(
        web::scope("/maven").app_data(state).service(
            web::resource("/{path:.+}")
                .route(web::put().to(write::put))
                .route(web::get().to(read::project))
                .route(web::head().to(read::project)),
        ),
    );
}

pub fn group(cfg: &mut web::ServiceConfig, state: web::Data<State>) {
    cfg.service(
        web::scope("/maven").app_data(state).service(
            web::resource("/{path:.+}")
                .route(web::get().to(read::group))
                .route(web::head().to(read::group)),
        ),
    );
}

pub fn instance(cfg: &mut web::ServiceConfig, state: web::Data<State>) {
    cfg.service(
        web::scope("/maven").app_data(state).service(
            web::resource("/{path:.+}")
                .route(web::get().to(read::instance))
                .route(web::head().to(read::instance)),
        ),
    );
}
