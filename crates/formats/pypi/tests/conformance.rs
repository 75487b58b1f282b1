//! The PyPI format passes the conformance kit (`packyard_testkit::conformance`): the sample
//! is a wheel with its core metadata, uploaded as twine sends it (the legacy upload form).

use std::io::{Cursor, Write};
use std::sync::Arc;

use actix_web::http::header::{HeaderMap, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use bytes::Bytes;
use packyard_core::PackageFormat;
use packyard_format_pypi::{Pypi, PypiConfig};
use packyard_testkit::conformance::{
    self, Conformance, CountingAlloc, PublishSpec, Route, Scope, Upload,
};
use sha2::{Digest, Sha256};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

const BOUNDARY: &str = "kit-boundary-7d3a";

struct PypiKit;

fn file_name(spec: &PublishSpec) -> String {
    format!(
        "{}-{}-py3-none-any.whl",
        spec.name.replace('-', "_"),
        spec.version
    )
}

/// A wheel holding its METADATA and `padding` stored bytes.
fn wheel(spec: &PublishSpec) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(spec.padding > 1 << 30);
        let dist = format!("{}-{}.dist-info", spec.name.replace('-', "_"), spec.version);
        w.start_file(format!("{dist}/METADATA"), opts)
            .unwrap_or_default();
        let _ = write!(
            w,
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\nSummary: kit sample\n",
            spec.name, spec.version
        );
        w.start_file(format!("{dist}/WHEEL"), opts)
            .unwrap_or_default();
        let _ = w.write_all(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
        if spec.padding > 0 {
            w.start_file("kit_pad.bin", opts).unwrap_or_default();
            let chunk = vec![0x5au8; 64 * 1024];
            let mut left = spec.padding;
            while left > 0 {
                let n = left.min(chunk.len());
                let _ = w.write_all(&chunk[..n]);
                left -= n;
            }
        }
        let _ = w.finish();
    }
    buf.into_inner()
}

impl Conformance for PypiKit {
    fn build(&self, max_upload: u64) -> Arc<dyn PackageFormat> {
        Arc::new(Pypi::new(PypiConfig::with_max_file_size(max_upload)))
    }

    fn routes(&self) -> Vec<Route> {
        vec![
            Route::publish(Method::POST, "/pypi"),
            Route::document(Scope::Project, "/pypi/simple"),
            Route::document(Scope::Project, "/pypi/simple/{name}/"),
            Route::file(Scope::Project, "/pypi/files/{sha256}/{file}"),
            Route::write(Method::PUT, Scope::Project, "/pypi/yank/{name}/{version}")
                .with_body(r#"{"reason":"kit"}"#)
                .with_header("Content-Type", "application/json"),
            Route::write(
                Method::DELETE,
                Scope::Project,
                "/pypi/yank/{name}/{version}",
            ),
            Route::document(Scope::Group, "/pypi/simple"),
            Route::document(Scope::Group, "/pypi/simple/{name}/"),
        ]
    }

    fn sample_name(&self) -> String {
        "kit-sample".into()
    }

    fn publish(&self, spec: &PublishSpec) -> Upload {
        let whl = wheel(spec);
        let sha = hex::encode(Sha256::digest(&whl));
        let mut body = Vec::with_capacity(whl.len() + 2048);
        for (k, v) in [
            (":action", "file_upload"),
            ("protocol_version", "1"),
            ("name", spec.name.as_str()),
            ("version", spec.version.as_str()),
            ("filetype", "bdist_wheel"),
            ("pyversion", "py3"),
            ("metadata_version", "2.1"),
            ("sha256_digest", sha.as_str()),
        ] {
            let _ = write!(
                body,
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            );
        }
        let _ = write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            file_name(spec)
        );
        body.extend_from_slice(&whl);
        let _ = write!(body, "\r\n--{BOUNDARY}--\r\n");
        Upload {
            method: Method::POST,
            path: "/pypi".into(),
            headers: vec![(
                CONTENT_TYPE.to_string(),
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )],
            body: Bytes::from(body),
        }
    }

    fn vars(&self, spec: &PublishSpec, _upload: &Upload) -> Vec<(&'static str, String)> {
        vec![
            ("sha256", hex::encode(Sha256::digest(wheel(spec)))),
            ("file", file_name(spec)),
        ]
    }

    fn bad_names(&self) -> Vec<String> {
        vec!["-kit".into(), "kit-".into(), "a b".into(), "é".into()]
    }

    /// twine and uv print the plain-text body (`400 <reason>: <details>`); errors core
    /// answers keep GitLab's JSON.
    fn check_error(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let text = String::from_utf8_lossy(body);
        let ct = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.starts_with("application/json") {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
            return match v.get("message").or_else(|| v.get("error")) {
                Some(serde_json::Value::String(_)) => Ok(()),
                _ => Err("JSON without a `message` or `error` string".into()),
            };
        }
        if text.starts_with(&format!("{} ", status.as_u16())) && text.len() > 4 {
            Ok(())
        } else {
            Err(format!(
                "a plain-text body starting with '{} '",
                status.as_u16()
            ))
        }
    }
}

#[actix_web::test]
async fn pypi_passes_the_conformance_kit() {
    conformance::run(&PypiKit, &ALLOC).await;
}
