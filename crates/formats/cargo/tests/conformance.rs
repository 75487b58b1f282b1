//! The Cargo format passes the conformance kit (`packyard_testkit::conformance`): the sample
//! is a `.crate` as `cargo package` lays it out, published in the framing `cargo publish`
//! sends, with the token as cargo sends it (`Authorization: <token>`).

use std::io::Read;
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use bytes::Bytes;
use packyard_core::PackageFormat;
use packyard_format_cargo::{Cargo, CargoConfig};
use packyard_testkit::conformance::{
    self, Conformance, CountingAlloc, PublishSpec, Route, Scope, Upload,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

struct CargoKit;

/// `name-version/Cargo.toml` and `padding` bytes of `name-version/pad.bin`, gzipped (stored).
fn krate(spec: &PublishSpec) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    {
        let mut tar = tar::Builder::new(&mut gz);
        let top = format!("{}-{}", spec.name, spec.version);
        let toml = format!(
            "[package]\nname = \"{}\"\nversion = \"{}\"\nedition = \"2021\"\n",
            spec.name, spec.version
        );
        let mut h = tar::Header::new_gnu();
        h.set_size(toml.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        let _ = tar.append_data(&mut h, format!("{top}/Cargo.toml"), toml.as_bytes());
        if spec.padding > 0 {
            let mut h = tar::Header::new_gnu();
            h.set_size(spec.padding as u64);
            h.set_mode(0o644);
            h.set_cksum();
            let pad = std::io::repeat(0x5a).take(spec.padding as u64);
            let _ = tar.append_data(&mut h, format!("{top}/pad.bin"), pad);
        }
        let _ = tar.finish();
    }
    gz.finish().unwrap_or_default()
}

impl Conformance for CargoKit {
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat> {
        Arc::new(Cargo::new(CargoConfig::with_max_file_size(max_upload)))
    }

    fn routes(&self) -> Vec<Route> {
        let owners = r#"{"users":["maria"]}"#;
        vec![
            Route::publish(Method::PUT, "/cargo/api/v1/crates/new"),
            Route::document(Scope::Project, "/cargo/config.json"),
            Route::document(Scope::Project, "/cargo/{index}"),
            Route::file(
                Scope::Project,
                "/cargo/api/v1/crates/{name}/{version}/download",
            ),
            Route::query(Scope::Project, "/cargo/api/v1/crates?q=kit"),
            // Owners are the project's Maintainers: project information.
            Route::query(Scope::Project, "/cargo/api/v1/crates/{name}/owners").project_info(),
            Route::write(
                Method::PUT,
                Scope::Project,
                "/cargo/api/v1/crates/{name}/owners",
            )
            .with_body(owners)
            .with_header("Content-Type", "application/json"),
            Route::write(
                Method::DELETE,
                Scope::Project,
                "/cargo/api/v1/crates/{name}/owners",
            )
            .with_body(owners)
            .with_header("Content-Type", "application/json"),
            Route::write(
                Method::DELETE,
                Scope::Project,
                "/cargo/api/v1/crates/{name}/{version}/yank",
            ),
            Route::write(
                Method::PUT,
                Scope::Project,
                "/cargo/api/v1/crates/{name}/{version}/unyank",
            ),
        ]
    }

    fn sample_name(&self) -> String {
        "kit-sample".into()
    }

    fn publish(&self, spec: &PublishSpec) -> Upload {
        let crate_bytes = krate(spec);
        let meta = serde_json::json!({
            "name": spec.name,
            "vers": spec.version,
            "deps": [],
            "features": {},
            "authors": [],
            "description": "kit sample",
            "license": "MIT",
        })
        .to_string();
        let mut body = Vec::with_capacity(crate_bytes.len() + meta.len() + 8);
        body.extend((meta.len() as u32).to_le_bytes());
        body.extend(meta.as_bytes());
        body.extend((crate_bytes.len() as u32).to_le_bytes());
        body.extend(crate_bytes);
        Upload {
            method: Method::PUT,
            path: "/cargo/api/v1/crates/new".into(),
            headers: vec![],
            body: Bytes::from(body),
        }
    }

    fn vars(&self, spec: &PublishSpec, _upload: &Upload) -> Vec<(&'static str, String)> {
        let lower = spec.name.to_ascii_lowercase();
        vec![("index", format!("{}/{}/{lower}", &lower[..2], &lower[2..4]))]
    }

    fn bad_names(&self) -> Vec<String> {
        vec![
            "1kit".into(),
            "a b".into(),
            "kit.sample".into(),
            "x".repeat(65),
        ]
    }

    /// cargo prints each `errors[].detail`.
    fn check_error(
        &self,
        _status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        match v.pointer("/errors/0/detail") {
            Some(serde_json::Value::String(_)) => Ok(()),
            _ => Err("no `errors[0].detail` string (cargo's shape)".into()),
        }
    }

    fn credentials(&self, secret: &str) -> Vec<(String, String)> {
        vec![("Authorization".into(), secret.into())]
    }
}

#[actix_web::test]
async fn cargo_passes_the_conformance_kit() {
    conformance::run(&CargoKit, &ALLOC).await;
}
