//! The stylesheet and the one small script, compiled into the binary and served by Packyard
//! itself (many installs are offline: no CDN, no web font).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

pub const CSS_PATH: &str = "/-/web/app.css";
pub const JS_PATH: &str = "/-/web/app.js";

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(CSS_PATH, web::get().to(css))
        .route(JS_PATH, web::get().to(js));
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}
