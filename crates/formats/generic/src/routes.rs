//! The endpoint table, mounted under `/api/v4/projects/{id}/packages` in its own `/generic`
//! scope, so that requests of other formats cost the router one prefix comparison here.

use actix_web::web;

use crate::handlers::files;
use crate::GenericConfig;

pub fn configure(cfg: &mut web::ServiceConfig, config: GenericConfig) {
    cfg.service(
        web::scope("/generic").service(
            web::resource("/{package_name}/{package_version}/{file_name:.+}")
                .app_data(web::Data::new(config))
                .route(web::put().to(files::upload))
                .route(web::get().to(files::download))
                .route(web::head().to(files::download)),
        ),
    );
}
