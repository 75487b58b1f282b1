//! Uploads whose archive is a bomb for the tar or zip reader (issue 12): a small file whose
//! tar stream opens with a GNU long-name or PAX extension entry of 300 MiB of zeros, or a
//! wheel whose METADATA inflates to 300 MiB. Each format answers 400 in its client's shape,
//! with the bound named, and stores nothing. What the reader allocates on such archives is
//! measured in crates/core/tests/archive_memory.rs (every format reads through that reader).
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

const ROOT: &str = "glpat-roottokenroottokenroottoken00";
const MIB: u64 = 1024 * 1024;
const BASE: &str = "/api/v4/projects/acme%2Ftools/packages";

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
    registry
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
    Env {
        _dir: dir,
        config,
        registry: web::Data::new(registry),
    }
}

impl Env {
    async fn package_count(&self) -> i64 {
        let filter = PackageFilter {
            status: None,
            ..Default::default()
        };
        self.registry
            .catalog()
            .list_packages(
                &[ProjectId(1)],
                &filter,
                PackageOrder::CreatedAt,
                false,
                Page {
                    page: 1,
                    per_page: 100,
                },
            )
            .await
            .unwrap()
            .1
    }
}

/// Sends `req` to the real application and returns the status, reason and body text.
async fn call(env: &Env, req: test::TestRequest) -> (StatusCode, String, String) {
    let web_state = web::Data::new(
        packyard_web::WebState::load(
            &env.registry,
            formats::enabled(&env.config),
            packyard_web::WebConfig::default(),
        )
        .await
        .unwrap(),
    );
    let app = test::init_service(server::app(
        env.registry.clone(),
        web::Data::new(Metrics::new()),
        web_state,
        formats::enabled(&env.config),
    ))
    .await;
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status();
    let reason = res.response().head().reason().to_owned();
    let body = test::read_body(res).await;
    (status, reason, String::from_utf8_lossy(&body).into_owned())
}

fn write_zeros(w: &mut impl Write, mut zeros: u64) {
    let chunk = vec![0u8; 64 * 1024];
    while zeros > 0 {
        let n = zeros.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n]).unwrap();
        zeros -= n as u64;
    }
}

fn raw_header(kind: tar::EntryType, name: &[u8], size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_cksum();
    h
}

/// A gzipped tar: an extension header of `kind` holding 300 MiB of zeros, then `files`.
fn bomb_tgz(kind: tar::EntryType, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw_header(kind, b"././@LongLink", 300 * MIB).as_bytes())
        .unwrap();
    write_zeros(&mut gz, 300 * MIB);
    for (name, data) in files {
        gz.write_all(
            raw_header(tar::EntryType::Regular, name.as_bytes(), data.len() as u64).as_bytes(),
        )
        .unwrap();
        gz.write_all(data).unwrap();
        write_zeros(
            &mut gz,
            (data.len() as u64).div_ceil(512) * 512 - data.len() as u64,
        );
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    let out = gz.finish().unwrap();
    assert!(out.len() < 2 * MIB as usize, "{} bytes", out.len());
    out
}

fn pypi_upload(file_name: &str, filetype: &str, content: &[u8]) -> test::TestRequest {
    let boundary = "----packyardboundary";
    let mut body = Vec::new();
    for (k, v) in [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", "demo"),
        ("version", "1.0"),
        ("filetype", filetype),
        ("metadata_version", "2.1"),
    ] {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .unwrap();
    body.extend_from_slice(content);
    write!(body, "\r\n--{boundary}--\r\n").unwrap();
    test::TestRequest::post()
        .uri(&format!("{BASE}/pypi"))
        .insert_header(("PRIVATE-TOKEN", ROOT))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body)
}

const PKG_INFO: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";

#[actix_web::test]
async fn pypi_sdist_with_a_300_mib_long_name_header_is_400_and_stores_nothing() {
    let env = env().await;
    let sdist = bomb_tgz(
        tar::EntryType::GNULongName,
        &[("demo-1.0/PKG-INFO", PKG_INFO)],
    );
    let (status, reason, body) = call(&env, pypi_upload("demo-1.0.tar.gz", "sdist", &sdist)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(reason, "Invalid distribution file");
    assert_eq!(
        body,
        "400 Invalid distribution file: the archive's GNU long-name extension header of \
         300 MiB exceeds the 64 KiB limit"
    );
    assert_eq!(env.package_count().await, 0);
}

#[actix_web::test]
async fn pypi_wheel_whose_metadata_inflates_to_300_mib_is_400() {
    let env = env().await;
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        w.start_file("demo-1.0.dist-info/METADATA", opts).unwrap();
        w.write_all(PKG_INFO).unwrap();
        write_zeros(&mut w, 300 * MIB);
        w.finish().unwrap();
    }
    let wheel = buf.into_inner();
    assert!(wheel.len() < 2 * MIB as usize);
    let (status, reason, body) = call(
        &env,
        pypi_upload("demo-1.0-py3-none-any.whl", "bdist_wheel", &wheel),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(reason, "Invalid distribution file");
    assert_eq!(
        body,
        "400 Invalid distribution file: the core metadata file is larger than 1048576 bytes"
    );
    assert_eq!(env.package_count().await, 0);
}

#[actix_web::test]
async fn npm_tarball_with_a_300_mib_pax_header_is_400_in_npm_shape() {
    let env = env().await;
    let manifest = br#"{"name":"demo","version":"1.0.0"}"#;
    let tgz = bomb_tgz(
        tar::EntryType::XHeader,
        &[("package/package.json", manifest)],
    );
    let data = base64::engine::general_purpose::STANDARD.encode(&tgz);
    let doc = serde_json::json!({
        "name": "demo",
        "versions": {"1.0.0": {"name": "demo", "version": "1.0.0"}},
        "dist-tags": {"latest": "1.0.0"},
        "_attachments": {"demo-1.0.0.tgz": {
            "content_type": "application/octet-stream",
            "data": data,
            "length": tgz.len(),
        }},
    });
    let req = test::TestRequest::put()
        .uri(&format!("{BASE}/npm/demo"))
        .insert_header(("Authorization", format!("Bearer {ROOT}")))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(serde_json::to_vec(&doc).unwrap());
    let (status, _, body) = call(&env, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json["error"],
        "the tarball cannot be read: the archive's PAX extension header of 300 MiB exceeds \
         the 64 KiB limit"
    );
    assert_eq!(env.package_count().await, 0);
}

#[actix_web::test]
async fn cargo_crate_with_a_300_mib_long_name_header_is_400_in_cargo_shape() {
    let env = env().await;
    let toml = b"[package]\nname = \"demo\"\nversion = \"1.0.0\"\n";
    let krate = bomb_tgz(
        tar::EntryType::GNULongName,
        &[("demo-1.0.0/Cargo.toml", toml)],
    );
    let json = serde_json::to_vec(&serde_json::json!({
        "name": "demo", "vers": "1.0.0", "deps": [], "features": {},
        "authors": [], "description": "d", "keywords": [], "categories": [],
        "badges": {}, "links": null
    }))
    .unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(&(json.len() as u32).to_le_bytes());
    body.extend_from_slice(&json);
    body.extend_from_slice(&(krate.len() as u32).to_le_bytes());
    body.extend_from_slice(&krate);
    let req = test::TestRequest::put()
        .uri(&format!("{BASE}/cargo/api/v1/crates/new"))
        .insert_header(("Authorization", ROOT))
        .set_payload(body);
    let (status, _, body) = call(&env, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json["errors"][0]["detail"],
        "the .crate file is invalid: the archive's GNU long-name extension header of 300 MiB \
         exceeds the 64 KiB limit"
    );
    assert_eq!(env.package_count().await, 0);
}
