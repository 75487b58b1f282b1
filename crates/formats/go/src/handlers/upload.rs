//! `PUT /api/v4/projects/:id/packages/go/$module/@v/$version.zip`: publishes a module
//! version from its module zip (the body, as `go mod download` stores it and
//! `packyard admin go-module-zip` makes it). GitLab builds Go modules from a project's git
//! repository; Packyard has none, so publishing is this upload.
//!
//! The body streams into the blob store (bounded by `go.max_file_size`), is copied to an
//! anonymous temporary file on the blocking pool and checked there as Go checks a module
//! zip ([`crate::modzip::check_zip`]); the `.mod` served is the zip's `go.mod` and the go.sum
//! hashes are computed once, here. Any refusal before the commit discards the upload.
//! Versions are immutable: a second upload of a version is 409, as is a module path that
//! differs only in case from one already in the project.

use std::io::{self, BufReader, Seek, SeekFrom};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use packyard_core::body::{read_blocking, BlockingReader, BridgeError};
use packyard_core::http::{content_length, payload_stream, PackageCaller};
use packyard_core::model::PackageStatus;
use packyard_core::policy::Action;
use packyard_core::ports::DuplicatePolicy;
use packyard_core::registry::PublishRequest;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::error::{as_text, bad_request, text};
use crate::handlers::proxy::{zip_file_name, GO_MOD, H1, H1_MOD};
use crate::handlers::{parse, tail, Want};
use crate::metadata::{self, GoVersion};
use crate::modzip::{self, ModuleZip, ZipProblem};
use crate::{GoConfig, FORMAT};

pub async fn upload(
    req: HttpRequest,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    config: web::Data<GoConfig>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    upload_inner(req, caller, registry, config, body)
        .await
        .map_err(as_text)
}

async fn upload_inner(
    req: HttpRequest,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    config: web::Data<GoConfig>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = req.match_info().get("id").unwrap_or_default().to_owned();
    let project = registry
        .authorize_project(&principal, &id, Action::PublishPackage, RouteClass::Package)
        .await?;
    let target = tail(&req)
        .ok_or_else(|| "the path is not UTF-8".to_owned())
        .and_then(|t| parse(&t))
        .map_err(bad_request)?;
    let version = match target.want {
        Want::Zip(v) => v,
        Want::Mod(_) => {
            return Err(bad_request(
                "the .mod is not uploaded: it is read from the zip's go.mod; PUT the module zip to .../@v/$version.zip",
            ))
        }
        _ => {
            return Err(text(
                StatusCode::METHOD_NOT_ALLOWED,
                "publish a module with PUT .../go/$module/@v/$version.zip",
            ))
        }
    };
    let module = target.module;
    metadata::check_path_major(&module, &version).map_err(bad_request)?;
    // Refuse before reading a byte when the client declares too much.
    let max = config.max_file_size;
    if content_length(&req).is_some_and(|len| len > max) {
        return Err(ApiError::payload_too_large(max));
    }
    let normalized = metadata::normalize_name(&module).map_err(|e| bad_request(e.0))?;
    let existing = registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &normalized)
        .await?;
    if let Some(other) = existing.iter().find(|p| p.name != module) {
        return Err(text(
            StatusCode::CONFLICT,
            format!(
                "module {} is already in this project: a module path differing from it only in case cannot be added",
                other.name
            ),
        ));
    }
    if existing.iter().any(|p| p.version == version.original) {
        return Err(immutable(&module, &version));
    }
    let staged = registry.stage(payload_stream(body), Some(max)).await?;
    let read = staged.read(None).await?;
    let (m, v) = (module.clone(), version.clone());
    let checked = read_blocking(read.stream, move |r| spool_and_check(r, &m, &v))
        .await
        .map_err(BridgeError::for_stored_bytes)?
        .map_err(|e| match e {
            Spool::Io(e) => ApiError::internal(e),
            Spool::Invalid(p) => bad_request(p),
        })?;
    let request = PublishRequest {
        format: FORMAT,
        name: module.clone(),
        normalized_name: normalized,
        version: version.original.clone(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: json!({
            GO_MOD: checked.go_mod,
            H1: checked.h1,
            H1_MOD: checked.h1_mod,
        }),
        file_name: zip_file_name(&version.original),
        file_metadata: json!({}),
        duplicates: DuplicatePolicy::RejectExistingVersion {
            message: format!("{module}@{} already exists", version.original),
        },
        max_size: Some(max),
    };
    match staged.commit(&principal, &project, request).await {
        Ok(_) => {}
        Err(e) if e.status() == StatusCode::CONFLICT => return Err(immutable(&module, &version)),
        Err(e) => return Err(e),
    }
    let body = format!(
        "201 Created: {module}@{v}\n{module} {v} {}\n{module} {v}/go.mod {}\n",
        checked.h1,
        checked.h1_mod,
        v = version.original
    );
    Ok(HttpResponse::Created()
        .content_type("text/plain; charset=utf-8")
        .body(body))
}

fn immutable(module: &str, version: &GoVersion) -> ApiError {
    text(
        StatusCode::CONFLICT,
        format!(
            "{module}@{} already exists: Go module versions are immutable (go.sum pins their hashes); publish a new version",
            version.original
        ),
    )
}

enum Spool {
    Io(io::Error),
    Invalid(ZipProblem),
}

fn spool_and_check(
    reader: &mut BlockingReader,
    module: &str,
    version: &GoVersion,
) -> Result<ModuleZip, Spool> {
    let mut copy = tempfile::tempfile().map_err(Spool::Io)?;
    io::copy(reader, &mut copy).map_err(Spool::Io)?;
    copy.seek(SeekFrom::Start(0)).map_err(Spool::Io)?;
    modzip::check_zip(BufReader::new(copy), module, version).map_err(Spool::Invalid)
}
