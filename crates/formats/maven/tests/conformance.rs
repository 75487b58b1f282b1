//! Maven passes the conformance kit (`packyard_testkit::conformance`): every route is
//! checked for the answers of every format (401/403/404, job tokens, allow-anyone-to-pull,
//! HEAD and conditional GET, 413 and cut-off bodies leaving nothing, bad names, garbage
//! bodies, memory during a large publish). Declare each new route in `routes`.

use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use bytes::Bytes;
use packyard_core::PackageFormat;
use packyard_format_maven::{Maven, MavenConfig};
use packyard_testkit::conformance::{self, Conformance, CountingAlloc, PublishSpec, Route, Upload};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

struct Kit;

/// The jar of the sample: `<artifactId>-<version>.jar`.
fn file_name(spec: &PublishSpec) -> String {
    format!("{}-{}.jar", spec.name, spec.version)
}

impl Conformance for Kit {
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat> {
        Arc::new(Maven::new(MavenConfig {
            max_file_size: max_upload,
            ..MavenConfig::default()
        }))
    }

    fn routes(&self) -> Vec<Route> {
        use conformance::Scope::{Group, Instance, Project};
        let file = "/maven/com/kit/{name}/{version}/{file}";
        let sha1 = "/maven/com/kit/{name}/{version}/{file}.sha1";
        let metadata = "/maven/com/kit/{name}/maven-metadata.xml";
        let metadata_md5 = "/maven/com/kit/{name}/maven-metadata.xml.md5";
        let mut routes = vec![Route::publish(Method::PUT, file)];
        for scope in [Project, Group, Instance] {
            routes.push(Route::file(scope, file));
            routes.push(Route::document(scope, sha1));
            routes.push(Route::document(scope, metadata));
            routes.push(Route::document(scope, metadata_md5));
        }
        routes
    }

    fn sample_name(&self) -> String {
        "kit-sample".into()
    }

    fn publish(&self, spec: &PublishSpec) -> Upload {
        let mut body = b"PK maven kit sample\n".to_vec();
        body.extend(std::iter::repeat_n(0x5a, spec.padding));
        Upload {
            method: Method::PUT,
            path: format!(
                "/maven/com/kit/{}/{}/{}",
                conformance::percent(&spec.name),
                conformance::percent(&spec.version),
                conformance::percent(&file_name(spec)),
            ),
            headers: vec![],
            body: Bytes::from(body),
        }
    }

    fn vars(&self, spec: &PublishSpec, _upload: &Upload) -> Vec<(&'static str, String)> {
        vec![("file", file_name(spec))]
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
        // GitLab's `{"message": ...}` (src/error.rs); Maven itself reads the reason phrase.
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
async fn maven_passes_the_conformance_kit() {
    conformance::run(&Kit, &ALLOC).await;
}
