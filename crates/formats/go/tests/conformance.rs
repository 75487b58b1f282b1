//! Go passes the conformance kit (`packyard_testkit::conformance`): every route is
//! checked for the answers of every format (401/403/404, job tokens, allow-anyone-to-pull,
//! HEAD and conditional GET, 413 and cut-off bodies leaving nothing, bad names, garbage
//! bodies, memory during a large publish). Declare each new route in `routes`.

use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use bytes::Bytes;
use packyard_core::PackageFormat;
use packyard_format_go::{Go, GoConfig};
use packyard_testkit::conformance::{self, Conformance, CountingAlloc, PublishSpec, Route, Upload};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

const FILE: &str = "kit-file.bin";

struct Kit;

impl Conformance for Kit {
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat> {
        Arc::new(Go::new(GoConfig {
            max_file_size: max_upload,
        }))
    }

    fn routes(&self) -> Vec<Route> {
        vec![
            Route::publish(Method::PUT, "/go/{name}/{version}/{file}"),
            Route::file(conformance::Scope::Project, "/go/{name}/{version}/{file}"),
        ]
    }

    fn sample_name(&self) -> String {
        "kit-sample".into()
    }

    fn publish(&self, spec: &PublishSpec) -> Upload {
        let mut body = b"go kit sample\n".to_vec();
        body.extend(std::iter::repeat_n(0x5a, spec.padding));
        Upload {
            method: Method::PUT,
            path: format!(
                "/go/{}/{}/{FILE}",
                conformance::percent(&spec.name),
                conformance::percent(&spec.version)
            ),
            headers: vec![],
            body: Bytes::from(body),
        }
    }

    fn vars(&self, _spec: &PublishSpec, _upload: &Upload) -> Vec<(&'static str, String)> {
        vec![("file", FILE.into())]
    }

    fn bad_names(&self) -> Vec<String> {
        vec!["a b".into(), "x".repeat(256), "é".into()]
    }

    fn check_error(
        &self,
        _status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        // The placeholder error shape (src/error.rs): GitLab's `{"message": ...}`.
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        if v.get("message").is_some_and(|m| m.is_string())
            || v.get("error").is_some_and(|m| m.is_string())
        {
            Ok(())
        } else {
            Err("no string `message` or `error`".into())
        }
    }
}

#[actix_web::test]
async fn go_passes_the_conformance_kit() {
    conformance::run(&Kit, &ALLOC).await;
}
