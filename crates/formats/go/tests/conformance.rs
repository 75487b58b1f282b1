//! Go passes the conformance kit (`packyard_testkit::conformance`): every route is
//! checked for the answers of every format (401/403/404, job tokens, allow-anyone-to-pull,
//! HEAD and conditional GET, 413 and cut-off bodies leaving nothing, bad names, garbage
//! bodies, memory during a large publish).
//!
//! The sample is a real module zip of `kit.test/sample` (its `{name}` reaches the routes as
//! `kit.test%2Fsample`, which the catch-all route decodes). The kit's versions (`1.0.0`,
//! `3.0.1`) are not Go versions, so `{gover}` maps `A.B.C` to `v0.A.(100 B + C)`: v0 needs no
//! major version suffix on the path.
#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use bytes::Bytes;
use packyard_core::PackageFormat;
use packyard_format_go::metadata::escape;
use packyard_format_go::{Go, GoConfig};
use packyard_testkit::conformance::{
    self, Check, Conformance, CountingAlloc, KnownGap, PublishSpec, Route, Scope, Upload,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

struct Kit;

fn gover(version: &str) -> String {
    let n: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    let at = |i: usize| n.get(i).copied().unwrap_or(0);
    format!("v0.{}.{}", at(0), at(1) * 100 + at(2))
}

fn module_zip(module: &str, version: &str, padding: usize) -> Vec<u8> {
    let prefix = format!("{module}@{version}/");
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default();
    let stored = deflated.compression_method(zip::CompressionMethod::Stored);
    w.start_file(format!("{prefix}go.mod"), deflated).unwrap();
    write!(w, "module {module}\n\ngo 1.19\n").unwrap();
    w.start_file(format!("{prefix}sample.go"), deflated)
        .unwrap();
    w.write_all(b"package sample\n").unwrap();
    if padding > 0 {
        w.start_file(format!("{prefix}padding.bin"), stored)
            .unwrap();
        w.write_all(&vec![0x5a; padding]).unwrap();
    }
    w.finish().unwrap().into_inner()
}

impl Conformance for Kit {
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat> {
        Arc::new(Go::new(GoConfig {
            max_file_size: max_upload,
        }))
    }

    fn routes(&self) -> Vec<Route> {
        vec![
            Route::publish(Method::PUT, "/go/{name}/@v/{gover}.zip"),
            Route::document(Scope::Project, "/go/{name}/@v/list"),
            Route::document(Scope::Project, "/go/{name}/@v/{gover}.info"),
            Route::document(Scope::Project, "/go/{name}/@v/{gover}.mod"),
            Route::document(Scope::Project, "/go/{name}/@v/{gover}.sum"),
            Route::document(Scope::Project, "/go/{name}/@latest"),
            Route::file(Scope::Project, "/go/{name}/@v/{gover}.zip"),
        ]
    }

    fn sample_name(&self) -> String {
        "kit.test/sample".into()
    }

    fn publish(&self, spec: &PublishSpec) -> Upload {
        let version = gover(&spec.version);
        Upload {
            method: Method::PUT,
            path: format!(
                "/go/{}/@v/{version}.zip",
                conformance::percent(&escape(&spec.name))
            ),
            headers: vec![],
            body: Bytes::from(module_zip(&spec.name, &version, spec.padding)),
        }
    }

    fn vars(&self, spec: &PublishSpec, _upload: &Upload) -> Vec<(&'static str, String)> {
        vec![("gover", gover(&spec.version))]
    }

    fn bad_names(&self) -> Vec<String> {
        vec![
            "a b".into(),
            "no-dot/x".into(),
            "Upper.test/x".into(),
            "kit.test/x/v1".into(),
            format!("kit.test/{}", "x".repeat(600)),
            "é.test".into(),
        ]
    }

    fn check_error(
        &self,
        _status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        // go prints the body after the status: plain text, one message.
        let plain = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
        let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
        if !plain {
            return Err("not text/plain".into());
        }
        if text.trim().is_empty() {
            return Err("empty body".into());
        }
        Ok(())
    }

    fn known_gaps(&self) -> Vec<KnownGap> {
        let reason_401 = "go stops resolving a module at any status but 404/410 (it asks for \
                          every parent path of a module), and sends .netrc credentials up front: \
                          reads answer 404 to anonymous callers of private projects";
        let reason_403 = "reads answer 404, never 403, for the same reason: go would abort";
        let mut gaps = Vec::new();
        for route in [
            "@v/list",
            "{gover}.info",
            "{gover}.mod",
            "{gover}.sum",
            "@latest",
        ] {
            gaps.push(KnownGap {
                check: Check::AnonymousGets401,
                route: Some(route),
                reason: reason_401,
            });
            gaps.push(KnownGap {
                check: Check::RegistryDisabledIs403,
                route: Some(route),
                reason: reason_403,
            });
        }
        // The zip's read shares its path with the publish, which answers 401/403 as usual.
        gaps.push(KnownGap {
            check: Check::AnonymousGets401,
            route: Some("{gover}.zip"),
            reason: reason_401,
        });
        gaps.push(KnownGap {
            check: Check::RegistryDisabledIs403,
            route: Some("{gover}.zip"),
            reason: reason_403,
        });
        gaps
    }
}

#[actix_web::test]
async fn go_passes_the_conformance_kit() {
    conformance::run(&Kit, &ALLOC).await;
}
