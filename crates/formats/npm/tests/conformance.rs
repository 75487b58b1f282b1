//! The npm format passes the conformance kit (`packyard_testkit::conformance`): the sample is
//! a tarball as `npm pack` lays it out, published in the document `npm publish` sends.

use std::io::Write;
use std::sync::Arc;

use actix_web::http::header::{HeaderMap, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use base64::Engine;
use bytes::Bytes;
use packyard_core::PackageFormat;
use packyard_format_npm::{Npm, NpmConfig};
use packyard_testkit::conformance::{
    self, Conformance, CountingAlloc, PublishSpec, Route, Scope, Upload,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

struct NpmKit;

/// The tarball name npm gives `@scope/name` (the scope dropped).
fn file_name(spec: &PublishSpec) -> String {
    let bare = spec.name.rsplit('/').next().unwrap_or(&spec.name);
    format!("{bare}-{}.tgz", spec.version)
}

/// `package/package.json` and `padding` bytes of `package/pad.bin`, gzipped (stored).
fn tarball(spec: &PublishSpec) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    {
        let mut tar = tar::Builder::new(&mut gz);
        let manifest = serde_json::json!({"name": spec.name, "version": spec.version});
        let manifest = manifest.to_string();
        let mut h = tar::Header::new_gnu();
        h.set_size(manifest.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        let _ = tar.append_data(&mut h, "package/package.json", manifest.as_bytes());
        if spec.padding > 0 {
            let mut h = tar::Header::new_gnu();
            h.set_size(spec.padding as u64);
            h.set_mode(0o644);
            h.set_cksum();
            let _ = tar.append_data(
                &mut h,
                "package/pad.bin",
                std::io::repeat(0x5a).take_n(spec.padding),
            );
        }
        let _ = tar.finish();
    }
    gz.finish().unwrap_or_default()
}

trait TakeN: std::io::Read + Sized {
    fn take_n(self, n: usize) -> std::io::Take<Self> {
        self.take(n as u64)
    }
}
impl<R: std::io::Read> TakeN for R {}

impl Conformance for NpmKit {
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat> {
        Arc::new(Npm::new(NpmConfig::with_max_file_size(max_upload)))
    }

    fn routes(&self) -> Vec<Route> {
        let mut routes = vec![Route::publish(Method::PUT, "/npm/{name}")];
        for scope in [Scope::Project, Scope::Group, Scope::Instance] {
            routes.push(Route::document(scope, "/npm/{name}"));
            routes.push(Route::file(scope, "/npm/{name}/-/{file}"));
            routes.push(Route::document(scope, "/npm/-/package/{name}/dist-tags"));
        }
        let json = |r: Route| r.with_header("Content-Type", "application/json");
        routes.extend([
            json(
                Route::write(
                    Method::PUT,
                    Scope::Project,
                    "/npm/-/package/{name}/dist-tags/kit",
                )
                .with_body(r#""1.0.0""#),
            ),
            Route::write(
                Method::DELETE,
                Scope::Project,
                "/npm/-/package/{name}/dist-tags/kit",
            ),
            json(
                Route::write(Method::PUT, Scope::Project, "/npm/{name}/-rev/1")
                    .with_body(r#"{"name":"@kit/kit-sample","versions":{}}"#),
            ),
            Route::write(
                Method::DELETE,
                Scope::Project,
                "/npm/{name}/-/{file}/-rev/1",
            ),
            Route::write(Method::DELETE, Scope::Project, "/npm/{name}/-rev/1"),
        ]);
        routes
    }

    /// Scoped by the kit's top-level group, which the instance-level routes require.
    fn sample_name(&self) -> String {
        "@kit/kit-sample".into()
    }

    fn publish(&self, spec: &PublishSpec) -> Upload {
        let tgz = tarball(spec);
        let file = file_name(spec);
        let data = base64::engine::general_purpose::STANDARD.encode(&tgz);
        let mut body = Vec::with_capacity(data.len() + 1024);
        let head = serde_json::json!({
            "_id": spec.name,
            "name": spec.name,
            "dist-tags": {"latest": spec.version},
            "versions": {spec.version.clone(): {
                "name": spec.name,
                "version": spec.version,
                "dist": {"tarball": format!("http://kit.test/{}/-/{file}", spec.name)},
            }},
        })
        .to_string();
        let _ = write!(
            body,
            "{},\"_attachments\":{{{}:{{\"content_type\":\"application/octet-stream\",\"length\":{},\"data\":\"",
            &head[..head.len() - 1],
            serde_json::Value::String(file),
            tgz.len()
        );
        body.extend_from_slice(data.as_bytes());
        body.extend_from_slice(b"\"}}}");
        Upload {
            method: Method::PUT,
            path: format!("/npm/{}", conformance::percent(&spec.name)),
            headers: vec![(CONTENT_TYPE.to_string(), "application/json".into())],
            body: Bytes::from(body),
        }
    }

    fn vars(&self, spec: &PublishSpec, _upload: &Upload) -> Vec<(&'static str, String)> {
        vec![("file", file_name(spec))]
    }

    fn bad_names(&self) -> Vec<String> {
        vec![
            "Kit-Upper".into(),
            ".kit".into(),
            "a b".into(),
            "x".repeat(215),
        ]
    }

    /// npm prints `error` after the status line.
    fn check_error(
        &self,
        _status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        match v.get("error") {
            Some(serde_json::Value::String(_)) => Ok(()),
            _ => Err("no `error` string (npm's shape)".into()),
        }
    }

    /// 32 MiB (43 MiB of base64 in the document), twice the memory bound: the streaming
    /// JSON and base64 decode of an unoptimized test build takes about 6 s for 64 MiB.
    fn large_publish(&self) -> usize {
        32 << 20
    }
}

#[actix_web::test]
async fn npm_passes_the_conformance_kit() {
    conformance::run(&NpmKit, &ALLOC).await;
}
