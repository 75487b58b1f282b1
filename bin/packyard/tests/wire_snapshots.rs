//! Snapshots of the documents the real application (`server::app`, SQLite, a blob folder)
//! serves after real publishes: the PyPI simple pages (HTML and JSON, index and project),
//! npm packuments (full and abbreviated) and dist-tags, Cargo's `config.json` and index file,
//! generic's upload answers, Go's proxy documents, and GitLab's package JSON. The view
//! functions have their own snapshots (`src/snapshots.rs` of each crate); these catch what the
//! handlers add around them (URLs, ordering, yanks, content types).
//!
//! Clocks are redacted: every ISO-8601 timestamp reads `[timestamp]`, npm's `_rev` `[rev]`.
//! Ids are not: a fresh catalog numbers rows in the order of the requests below.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Write};

use actix_web::http::StatusCode;
use actix_web::{test, web};
use base64::Engine;
use packyard::config::{self, Config};
use packyard::metrics::Metrics;
use packyard::{formats, server};
use packyard_core::model::*;
use packyard_core::Registry;
use serde_json::{json, Value};

const ROOT: &str = "glpat-roottokenroottokenroottoken00";
const PROJECT: &str = "/api/v4/projects/1/packages";

struct Env {
    _dir: tempfile::TempDir,
    config: Config,
    registry: web::Data<Registry>,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let config = config::load(
        None,
        |k| match k {
            "PACKYARD_DATA_DIR" => Some(data.clone()),
            "PACKYARD_EXTERNAL_URL" => Some("http://packyard.test".into()),
            _ => None,
        },
        &[],
    )
    .unwrap();
    let registry = server::open_registry(&config).await.unwrap();
    registry.ensure_initial_root(ROOT).await.unwrap();
    let g = registry
        .create_group(NewGroup {
            name: "acme".into(),
            path: "acme".into(),
            parent_id: None,
            visibility: Visibility::Public,
            description: String::new(),
        })
        .await
        .unwrap();
    let p = registry
        .create_project(NewProject {
            name: "tools".into(),
            path: "tools".into(),
            namespace: Namespace::Group(g.id),
            visibility: Visibility::Private,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    assert_eq!(p.id, ProjectId(1), "the paths below name project 1");
    Env {
        _dir: dir,
        config,
        registry: web::Data::new(registry),
    }
}

async fn web_state(env: &Env) -> web::Data<packyard_web::WebState> {
    web::Data::new(
        packyard_web::WebState::load(
            &env.registry,
            formats::enabled(&env.config),
            packyard_web::WebConfig::default(),
        )
        .await
        .unwrap(),
    )
}

macro_rules! app {
    ($env:expr) => {
        test::init_service(server::app(
            $env.registry.clone(),
            web::Data::new(Metrics::new()),
            web_state(&$env).await,
            formats::enabled(&$env.config),
        ))
        .await
    };
}

/// Status, content type and body of a request made with the root token.
async fn call<B: actix_web::body::MessageBody>(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> (StatusCode, String, String) {
    let req = req.insert_header(("Authorization", format!("Bearer {ROOT}")));
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    (status, content_type, body)
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && s.ends_with('Z')
        && s[..4].bytes().all(|c| c.is_ascii_digit())
}

fn redact(v: &mut Value) {
    match v {
        Value::String(s) if is_timestamp(s) => *s = "[timestamp]".into(),
        Value::Array(a) => a.iter_mut().for_each(redact),
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if k == "_rev" {
                    *v = Value::String("[rev]".into());
                } else {
                    redact(v);
                }
            }
        }
        _ => {}
    }
}

/// `content-type` then the body: JSON pretty-printed with clocks redacted, text as served.
fn document(status: StatusCode, content_type: &str, body: &str) -> String {
    assert!(status.is_success(), "{status}: {body}");
    let shown = match serde_json::from_str::<Value>(body) {
        Ok(mut v) if content_type.contains("json") => {
            redact(&mut v);
            serde_json::to_string_pretty(&v).unwrap()
        }
        _ => body.to_owned(),
    };
    format!("content-type: {content_type}\n\n{shown}")
}

macro_rules! snap {
    ($name:expr, $app:expr, $req:expr) => {{
        let (status, ct, body) = call(&$app, $req).await;
        insta::assert_snapshot!($name, document(status, &ct, &body));
    }};
}

// ------------------------------------------------------------------------- uploads

const BOUNDARY: &str = "snap-boundary-1";

fn wheel(name: &str, version: &str, requires_python: Option<&str>) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let dist = format!("{}-{version}.dist-info", name.replace('-', "_"));
        w.start_file(format!("{dist}/METADATA"), opts).unwrap();
        write!(
            w,
            "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: snapshot sample\n"
        )
        .unwrap();
        if let Some(rp) = requires_python {
            writeln!(w, "Requires-Python: {rp}").unwrap();
        }
        w.start_file(format!("{dist}/WHEEL"), opts).unwrap();
        w.write_all(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            .unwrap();
        w.finish().unwrap();
    }
    buf.into_inner()
}

fn pypi_upload(name: &str, version: &str, requires_python: Option<&str>) -> test::TestRequest {
    let whl = wheel(name, version, requires_python);
    let mut body = Vec::new();
    let mut fields = vec![
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", name),
        ("version", version),
        ("filetype", "bdist_wheel"),
        ("pyversion", "py3"),
        ("metadata_version", "2.1"),
    ];
    if let Some(rp) = requires_python {
        fields.push(("requires_python", rp));
    }
    for (k, v) in fields {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    write!(
        body,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{}-{version}-py3-none-any.whl\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        name.replace('-', "_")
    )
    .unwrap();
    body.extend_from_slice(&whl);
    write!(body, "\r\n--{BOUNDARY}--\r\n").unwrap();
    test::TestRequest::post()
        .uri(&format!("{PROJECT}/pypi"))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(body)
}

fn targz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    {
        let mut tar = tar::Builder::new(&mut gz);
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, path, *data).unwrap();
        }
        tar.finish().unwrap();
    }
    gz.finish().unwrap()
}

const NPM_NAME: &str = "@acme/widget";

fn npm_publish(version: &str, tag: &str, manifest: Value) -> test::TestRequest {
    let mut manifest = manifest;
    manifest["name"] = json!(NPM_NAME);
    manifest["version"] = json!(version);
    let tgz = targz(&[("package/package.json", manifest.to_string().as_bytes())]);
    let file = format!("widget-{version}.tgz");
    let mut version_doc = manifest.clone();
    version_doc["dist"] = json!({ "tarball": format!("http://client.invalid/{file}") });
    let body = json!({
        "_id": NPM_NAME,
        "name": NPM_NAME,
        "dist-tags": { tag: version },
        "versions": { version: version_doc },
        "_attachments": { file: {
            "content_type": "application/octet-stream",
            "length": tgz.len(),
            "data": base64::engine::general_purpose::STANDARD.encode(&tgz),
        }},
    });
    test::TestRequest::put()
        .uri(&format!("{PROJECT}/npm/@acme%2fwidget"))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

fn cargo_publish(name: &str, version: &str, deps: Value) -> test::TestRequest {
    let top = format!("{name}-{version}");
    let toml =
        format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n");
    let krate = targz(&[(&format!("{top}/Cargo.toml"), toml.as_bytes())]);
    let meta = json!({
        "name": name, "vers": version, "deps": deps,
        "features": { "default": ["std"], "std": [] },
        "authors": [], "description": "snapshot sample", "license": "MIT",
    })
    .to_string();
    let mut body = Vec::new();
    body.extend((meta.len() as u32).to_le_bytes());
    body.extend(meta.as_bytes());
    body.extend((krate.len() as u32).to_le_bytes());
    body.extend(krate);
    test::TestRequest::put()
        .uri(&format!("{PROJECT}/cargo/api/v1/crates/new"))
        .set_payload(body)
}

async fn ok<B: actix_web::body::MessageBody>(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> String {
    let (status, _, body) = call(app, req).await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

// ------------------------------------------------------------------------- documents

#[actix_web::test]
async fn wire_documents_after_real_publishes() {
    let env = env().await;
    let app = app!(env);

    // generic: package 1 (file 1), then the answers to an upload with and without
    // `select=package_file`.
    let generic = format!("{PROJECT}/generic/demo/1.0.0");
    snap!(
        "generic_upload_select_package_file",
        app,
        test::TestRequest::put()
            .uri(&format!("{generic}/hello.txt?select=package_file"))
            .set_payload("hello\n")
    );
    snap!(
        "generic_upload",
        app,
        test::TestRequest::put()
            .uri(&format!("{generic}/notes.txt"))
            .set_payload("notes\n")
    );

    // pypi: packages 2 and 3, 1.0 yanked with a reason.
    ok(&app, pypi_upload("Demo.Pkg", "1.0", Some(">=3.8"))).await;
    ok(&app, pypi_upload("Demo.Pkg", "1.1", None)).await;
    ok(
        &app,
        test::TestRequest::put()
            .uri(&format!("{PROJECT}/pypi/yank/demo-pkg/1.0"))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"reason":"broken build"}"#),
    )
    .await;
    let simple = format!("{PROJECT}/pypi/simple");
    for (accept, key) in [
        ("text/html", "html"),
        ("application/vnd.pypi.simple.v1+html", "htmlv1"),
        ("application/vnd.pypi.simple.v1+json", "json"),
    ] {
        snap!(
            format!("pypi_simple_index_{key}"),
            app,
            test::TestRequest::get()
                .uri(&format!("{simple}/"))
                .insert_header(("Accept", accept))
        );
        snap!(
            format!("pypi_simple_project_{key}"),
            app,
            test::TestRequest::get()
                .uri(&format!("{simple}/demo-pkg/"))
                .insert_header(("Accept", accept))
        );
    }

    // npm: packages 4 and 5, a `next` tag on the second.
    ok(
        &app,
        npm_publish(
            "1.0.0",
            "latest",
            json!({ "description": "A widget", "license": "MIT",
                    "dependencies": { "left-pad": "^1.3.0" },
                    "scripts": { "postinstall": "node setup.js" }, "readme": "# widget" }),
        ),
    )
    .await;
    ok(
        &app,
        npm_publish(
            "2.0.0-rc.1",
            "next",
            json!({ "description": "A widget, next" }),
        ),
    )
    .await;
    let packument = format!("{PROJECT}/npm/@acme%2fwidget");
    snap!(
        "npm_packument_full",
        app,
        test::TestRequest::get()
            .uri(&packument)
            .insert_header(("Accept", "application/json"))
    );
    snap!(
        "npm_packument_abbreviated",
        app,
        test::TestRequest::get().uri(&packument).insert_header((
            "Accept",
            "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
        ))
    );
    snap!(
        "npm_dist_tags",
        app,
        test::TestRequest::get().uri(&format!("{PROJECT}/npm/-/package/{NPM_NAME}/dist-tags"))
    );

    // cargo: packages 6 and 7, 0.1.0 yanked.
    ok(&app, cargo_publish("demo-crate", "0.1.0", json!([]))).await;
    ok(
        &app,
        cargo_publish(
            "demo-crate",
            "1.0.0",
            json!([{ "name": "serde", "version_req": "^1", "features": ["derive"],
                     "optional": false, "default_features": true, "target": null,
                     "kind": "normal" }]),
        ),
    )
    .await;
    ok(
        &app,
        test::TestRequest::delete().uri(&format!(
            "{PROJECT}/cargo/api/v1/crates/demo-crate/0.1.0/yank"
        )),
    )
    .await;
    snap!(
        "cargo_config_json",
        app,
        test::TestRequest::get().uri(&format!("{PROJECT}/cargo/config.json"))
    );
    snap!(
        "cargo_index_file",
        app,
        test::TestRequest::get().uri(&format!("{PROJECT}/cargo/de/mo/demo-crate"))
    );

    // The GitLab Packages API over all of them.
    snap!(
        "gitlab_packages_list",
        app,
        test::TestRequest::get().uri(&format!("{PROJECT}?order_by=created_at&sort=asc"))
    );
    snap!(
        "gitlab_package",
        app,
        test::TestRequest::get().uri(&format!("{PROJECT}/1"))
    );
    snap!(
        "gitlab_package_files",
        app,
        test::TestRequest::get().uri(&format!("{PROJECT}/1/package_files"))
    );
}

/// The Maven clocks (`lastUpdated`, `updated`) redacted from a metadata document.
#[cfg(feature = "maven")]
fn maven_clocks(body: &str) -> String {
    body.lines()
        .map(|line| {
            for tag in ["lastUpdated", "updated"] {
                let open = format!("<{tag}>");
                if let Some(start) = line.find(&open) {
                    return format!("{}<{tag}>[clock]</{tag}>", &line[..start]);
                }
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Maven: the artifact- and version-level `maven-metadata.xml` as served after real
/// deploys, their checksums, and the artifact's metadata after its newest release is
/// deleted (`latest` and `release` move at once: nothing to repair).
#[cfg(feature = "maven")]
#[actix_web::test]
async fn maven_metadata_after_deploys_and_a_delete() {
    let env = env().await;
    let app = app!(env);
    let base = format!("{PROJECT}/maven/com/example/lib");
    let pom = |v: &str| {
        format!(
            "<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId>\
             <artifactId>lib</artifactId><version>{v}</version></project>"
        )
    };
    for (v, file) in [
        ("1.0", "lib-1.0"),
        ("2.0", "lib-2.0"),
        ("2.1-SNAPSHOT", "lib-2.1-20261202.101500-1"),
        ("2.1-SNAPSHOT", "lib-2.1-20261202.111500-2"),
    ] {
        ok(
            &app,
            test::TestRequest::put()
                .uri(&format!("{base}/{v}/{file}.pom"))
                .set_payload(pom(v)),
        )
        .await;
        ok(
            &app,
            test::TestRequest::put()
                .uri(&format!("{base}/{v}/{file}.jar"))
                .set_payload(format!("jar of {file}")),
        )
        .await;
    }
    let metadata = |app_body: (StatusCode, String, String)| {
        let (status, ct, body) = app_body;
        document(status, &ct, &maven_clocks(&body))
    };
    let artifact = call(
        &app,
        test::TestRequest::get().uri(&format!("{base}/maven-metadata.xml")),
    )
    .await;
    let body = artifact.2.clone();
    insta::assert_snapshot!("maven_artifact_metadata", metadata(artifact));
    let (_, _, sha1) = call(
        &app,
        test::TestRequest::get().uri(&format!("{base}/maven-metadata.xml.sha1")),
    )
    .await;
    use sha1::Digest as _;
    assert_eq!(sha1, hex::encode(sha1::Sha1::digest(body.as_bytes())));
    insta::assert_snapshot!(
        "maven_snapshot_version_metadata",
        metadata(
            call(
                &app,
                test::TestRequest::get().uri(&format!("{base}/2.1-SNAPSHOT/maven-metadata.xml")),
            )
            .await
        )
    );

    // Delete 2.0 through the Packages API: the next read lists 1.0 as the release.
    let packages: Value =
        serde_json::from_str(&ok(&app, test::TestRequest::get().uri(PROJECT)).await).unwrap();
    let id = packages
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["version"] == "2.0")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    ok(
        &app,
        test::TestRequest::delete().uri(&format!("{PROJECT}/{id}")),
    )
    .await;
    let (_, _, after) = call(
        &app,
        test::TestRequest::get().uri(&format!("{base}/maven-metadata.xml")),
    )
    .await;
    assert!(after.contains("<release>1.0</release>"), "{after}");
    assert!(after.contains("<latest>2.1-SNAPSHOT</latest>"), "{after}");
    assert!(!after.contains("<version>2.0</version>"), "{after}");
}

/// A multipart `nuget push` of a package holding `nuspec`.
#[cfg(feature = "nuget")]
fn nuget_push(nuspec: &str) -> test::TestRequest {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("package.nuspec", options).unwrap();
    zip.write_all(nuspec.as_bytes()).unwrap();
    zip.start_file("lib/netstandard2.0/lib.txt", options)
        .unwrap();
    zip.write_all(b"lib").unwrap();
    let package = zip.finish().unwrap().into_inner();
    let mut body =
        b"--b0\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.nupkg\"\r\n\r\n"
            .to_vec();
    body.extend_from_slice(&package);
    body.extend_from_slice(b"\r\n--b0--\r\n");
    test::TestRequest::put()
        .uri(&format!("{PROJECT}/nuget/"))
        .insert_header(("Content-Type", "multipart/form-data; boundary=b0"))
        .set_payload(body)
}

/// NuGet: the v3 documents as served after real pushes (three versions of one id, one a
/// pre-release, and a second id depending on the first): the service index, the flat
/// container's versions, the registration index (inlined), a leaf and a search.
#[cfg(feature = "nuget")]
#[actix_web::test]
async fn nuget_v3_documents_after_pushes() {
    let env = env().await;
    let app = app!(env);
    let nuspec = |id: &str, version: &str, deps: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
             <package xmlns=\"http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd\"><metadata>\
             <id>{id}</id><version>{version}</version><authors>Acme, Inc.</authors>\
             <description>{id} for tests.</description><tags>acme test</tags>\
             <license type=\"expression\">MIT</license>{deps}</metadata></package>"
        )
    };
    for (id, version, deps) in [
        ("Acme.Core", "1.0", ""),
        ("Acme.Core", "1.1.0-beta.1", ""),
        ("Acme.Core", "2.0.0", ""),
        (
            "Acme.App",
            "1.0.0",
            "<dependencies><group targetFramework=\"netstandard2.0\">\
             <dependency id=\"Acme.Core\" version=\"1.0\" /></group></dependencies>",
        ),
    ] {
        let (status, _, body) = call(&app, nuget_push(&nuspec(id, version, deps))).await;
        assert_eq!(status, StatusCode::CREATED, "{id} {version}: {body}");
    }
    let base = format!("{PROJECT}/nuget");
    snap!(
        "nuget_service_index",
        app,
        test::TestRequest::get().uri(&format!("{base}/index.json"))
    );
    snap!(
        "nuget_flat_versions",
        app,
        test::TestRequest::get().uri(&format!("{base}/download/ACME.CORE/index.json"))
    );
    snap!(
        "nuget_registration_index",
        app,
        test::TestRequest::get().uri(&format!("{base}/metadata/acme.core/index.json"))
    );
    snap!(
        "nuget_registration_leaf_with_dependencies",
        app,
        test::TestRequest::get().uri(&format!("{base}/metadata/acme.app/1.0.0.json"))
    );
    snap!(
        "nuget_search_prerelease",
        app,
        test::TestRequest::get().uri(&format!(
            "{base}/query?q=acme&prerelease=true&semVerLevel=2.0.0"
        ))
    );
}

#[cfg(feature = "go")]
fn go_upload(module: &str, version: &str, go_mod: Option<&str>) -> test::TestRequest {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    let prefix = format!("{module}@{version}/");
    if let Some(go_mod) = go_mod {
        w.start_file(format!("{prefix}go.mod"), o).unwrap();
        w.write_all(go_mod.as_bytes()).unwrap();
    }
    w.start_file(format!("{prefix}lib.go"), o).unwrap();
    w.write_all(b"package lib\n").unwrap();
    let body = w.finish().unwrap().into_inner();
    let escaped = go::metadata::escape(module);
    test::TestRequest::put()
        .uri(&format!("{PROJECT}/go/{escaped}/@v/{version}.zip"))
        .set_payload(body)
}

/// The GOPROXY documents after uploads of a release, a pre-release, a pseudo-version and a
/// `+incompatible` version of a module without go.mod.
#[cfg(feature = "go")]
#[actix_web::test]
async fn go_proxy_documents_after_uploads() {
    let env = env().await;
    let app = app!(env);
    let go_mod = "module example.test/Lib\n\ngo 1.19\n\nretract v1.1.0-rc.1 // broken\n";
    snap!(
        "go_upload",
        app,
        go_upload("example.test/Lib", "v1.0.0", Some(go_mod))
    );
    for version in ["v1.1.0-rc.1", "v1.1.1-0.20240102030405-abcdefabcdef"] {
        ok(&app, go_upload("example.test/Lib", version, Some(go_mod))).await;
    }
    ok(
        &app,
        go_upload("example.test/old", "v2.0.0+incompatible", None),
    )
    .await;
    let base = format!("{PROJECT}/go/example.test/%21lib");
    snap!(
        "go_list",
        app,
        test::TestRequest::get().uri(&format!("{base}/@v/list"))
    );
    snap!(
        "go_latest",
        app,
        test::TestRequest::get().uri(&format!("{base}/@latest"))
    );
    snap!(
        "go_pseudo_info",
        app,
        test::TestRequest::get().uri(&format!(
            "{base}/@v/v1.1.1-0.20240102030405-abcdefabcdef.info"
        ))
    );
    snap!(
        "go_mod",
        app,
        test::TestRequest::get().uri(&format!("{base}/@v/v1.0.0.mod"))
    );
    snap!(
        "go_sum",
        app,
        test::TestRequest::get().uri(&format!("{base}/@v/v1.0.0.sum"))
    );
    snap!(
        "go_synthesized_mod",
        app,
        test::TestRequest::get().uri(&format!(
            "{PROJECT}/go/example.test/old/@v/v2.0.0+incompatible.mod"
        ))
    );
}
