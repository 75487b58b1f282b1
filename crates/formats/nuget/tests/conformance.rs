//! NuGet passes the conformance kit (`packyard_testkit::conformance`): every route is
//! checked for the answers of every format (401/403/404, job tokens, allow-anyone-to-pull,
//! HEAD and conditional GET, 413 and cut-off bodies leaving nothing, bad names, garbage
//! bodies, memory during a large publish). Declare each new route in `routes`.

#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use bytes::Bytes;
use packyard_core::PackageFormat;
use packyard_format_nuget::{Nuget, NugetConfig};
use packyard_testkit::conformance::{self, Conformance, CountingAlloc, PublishSpec, Route, Upload};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

const BOUNDARY: &str = "kit-nuget-boundary";

/// A `.nupkg` of the sample: its `.nuspec` and `padding` stored bytes.
fn nupkg(spec: &PublishSpec) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(format!("{}.nuspec", spec.name), stored)
        .unwrap();
    write!(
        zip,
        r#"<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>{}</id>
    <version>{}</version>
    <authors>kit</authors>
    <description>The conformance kit's sample.</description>
  </metadata>
</package>
"#,
        spec.name, spec.version
    )
    .unwrap();
    zip.start_file("lib/netstandard2.0/kit.txt", stored)
        .unwrap();
    zip.write_all(b"kit").unwrap();
    if spec.padding > 0 {
        zip.start_file("content/padding.bin", stored).unwrap();
        zip.write_all(&vec![0x5a; spec.padding]).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The multipart form `nuget push` sends.
fn form(package: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"package\"; filename=\"package.nupkg\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(package);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

struct Kit;

impl Conformance for Kit {
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat> {
        Arc::new(Nuget::new(NugetConfig {
            max_file_size: max_upload,
            ..NugetConfig::default()
        }))
    }

    fn routes(&self) -> Vec<Route> {
        use conformance::Scope::{Group, Project};
        let mut routes = vec![
            Route::publish(Method::PUT, "/nuget/"),
            Route::write(Method::DELETE, Project, "/nuget/{name}/{version}"),
            // A symbol package of the sample (refused by content for writers: the kit checks
            // who may write, not what).
            Route::write(Method::PUT, Project, "/nuget/symbolpackage")
                .with_header(
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .with_body(form(b"not a symbol package")),
        ];
        // The v2 feed nuget.exe 2.x reads (project level only, as on GitLab).
        routes.push(Route::document(Project, "/nuget/v2"));
        routes.push(Route::document(Project, "/nuget/v2/$metadata"));
        routes.push(Route::query(
            Project,
            "/nuget/v2/FindPackagesById()?id='{name}'",
        ));
        routes.push(Route::query(
            Project,
            "/nuget/v2/Packages(Id='{name}',Version='{version}')",
        ));
        routes.push(Route::query(
            Project,
            "/nuget/v2/Search()?searchTerm='kit'&includePrerelease=true",
        ));
        routes.push(Route::write(
            Method::DELETE,
            Project,
            "/nuget/v2/{name}/{version}",
        ));
        for scope in [Project, Group] {
            routes.push(Route::document(scope, "/nuget/index.json"));
            routes.push(Route::document(scope, "/nuget/download/{name}/index.json"));
            routes.push(Route::file(
                scope,
                "/nuget/download/{name}/{version}/{file}",
            ));
            routes.push(Route::document(
                scope,
                "/nuget/download/{name}/{version}/{nuspec}",
            ));
            routes.push(Route::document(scope, "/nuget/metadata/{name}/index.json"));
            routes.push(Route::document(
                scope,
                "/nuget/metadata/{name}/{version}.json",
            ));
            routes.push(Route::query(scope, "/nuget/query?q=kit&prerelease=true"));
            routes.push(Route::query(scope, "/nuget/autocomplete?q=kit"));
            routes.push(Route::query(scope, "/nuget/autocomplete?id={name}"));
        }
        routes
    }

    fn sample_name(&self) -> String {
        "Kit.Sample".into()
    }

    fn publish(&self, spec: &PublishSpec) -> Upload {
        Upload {
            method: Method::PUT,
            path: "/nuget/".into(),
            headers: vec![(
                "content-type".into(),
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )],
            body: Bytes::from(form(&nupkg(spec))),
        }
    }

    fn vars(&self, spec: &PublishSpec, _upload: &Upload) -> Vec<(&'static str, String)> {
        let lower = spec.name.to_ascii_lowercase();
        vec![
            ("file", format!("{lower}.{}.nupkg", spec.version)),
            ("nuspec", format!("{lower}.nuspec")),
        ]
    }

    fn bad_names(&self) -> Vec<String> {
        vec!["a b".into(), "x".repeat(256), "é".into(), "-x".into()]
    }

    fn check_error(
        &self,
        _status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        // GitLab's `{"message": ...}` (src/error.rs); nuget.exe reads the reason phrase.
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
async fn nuget_passes_the_conformance_kit() {
    conformance::run(&Kit, &ALLOC).await;
}
