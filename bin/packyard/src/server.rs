//! Builds the registry from the configuration and serves it: GitLab's REST API, every enabled
//! format's endpoints, health checks and metrics.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{middleware, web, App, HttpResponse, HttpServer};
use anyhow::Context;
use packyard_core::ports::{BlobStore, Catalog};
use packyard_core::{ApiError, PackageFormat, Registry, RegistryConfig};
use packyard_db::DbCatalog;
use packyard_storage::{FsBlobStore, S3BlobStore, S3Config};
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::metrics::{self, Metrics};

/// Opens the catalog (running migrations) and the blob store named by the configuration.
pub async fn open_registry(config: &Config) -> anyhow::Result<Registry> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;
    let url = config.database_url();
    let catalog = DbCatalog::connect(&url, config.database_pool_size)
        .with_context(|| format!("opening the catalog at `database_url` ({})", redact(&url)))?;
    catalog
        .migrate()
        .await
        .context("running catalog migrations")?;
    let blobs: Arc<dyn BlobStore> = match config.storage.backend.as_str() {
        "s3" => {
            let s3 = &config.storage.s3;
            Arc::new(
                S3BlobStore::new(S3Config {
                    endpoint: s3.endpoint.clone(),
                    region: s3.region.clone(),
                    bucket: s3.bucket.clone(),
                    access_key: s3.access_key_id.clone().unwrap_or_default(),
                    secret_key: s3.secret_access_key.clone().unwrap_or_default(),
                    path_style: s3.path_style,
                    prefix: s3.prefix.clone(),
                    spool_dir: config.data_dir.join("spool"),
                    max_concurrent_chunks: s3.max_concurrent_parts.max(1),
                })
                .context("opening the S3 blob store (`storage.s3`)")?,
            )
        }
        _ => Arc::new(FsBlobStore::new(config.blob_path()).with_context(|| {
            format!(
                "opening the blob folder `storage.path` ({})",
                config.blob_path().display()
            )
        })?),
    };
    let catalog: Arc<dyn Catalog> = Arc::new(catalog);
    Ok(Registry::new(
        catalog,
        blobs,
        RegistryConfig {
            external_url: config.external_url(),
            presigned_downloads: config.storage.s3.presigned_downloads,
            presign_ttl: Duration::from_secs(config.storage.s3.presign_ttl_secs),
            job_token_ttl: Duration::from_secs(config.job_token_ttl_secs),
        },
    )
    .with_formats(crate::formats::enabled(config)))
}

/// Hides the password of a database URL in messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let registry = open_registry(&config).await?;
    if let Some(token) = config.initial_root_token.as_deref() {
        if registry
            .ensure_initial_root(token)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            tracing::info!("created the admin user `root` with the initial root token");
        }
    }
    let registry = web::Data::new(registry);
    crate::cleanup::spawn_schedule(registry.clone().into_inner(), &config);
    let metrics = web::Data::new(Metrics::new());
    // The formats the Registry was built with: one instance of each serves everything.
    let formats = registry.formats().to_vec();
    let web_state = web::Data::new(
        packyard_web::WebState::load(&registry, formats.clone(), config.web.web_config())
            .await
            .map_err(|e| anyhow::anyhow!("preparing the web UI: {e}"))?,
    );
    let workers = config.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    tracing::info!(listen = %config.listen, external_url = %config.external_url(), formats = ?formats.iter().map(|f| f.id().0).collect::<Vec<_>>(), "packyard is listening");
    HttpServer::new(move || {
        app(
            registry.clone(),
            metrics.clone(),
            web_state.clone(),
            formats.clone(),
        )
    })
    .workers(workers)
    .bind(&config.listen)
    .with_context(|| format!("binding `listen` ({})", config.listen))?
    .run()
    .await
    .context("serving")
}

/// The application: what one worker serves.
pub fn app(
    registry: web::Data<Registry>,
    metrics: web::Data<Metrics>,
    web_state: web::Data<packyard_web::WebState>,
    formats: Vec<Arc<dyn PackageFormat>>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(registry)
        .app_data(metrics)
        .app_data(web_state)
        .wrap(middleware::from_fn(metrics::record))
        .wrap(TracingLogger::<crate::logging::RequestSpan>::new())
        .route("/-/health", web::get().to(health))
        .route("/-/liveness", web::get().to(liveness))
        .route("/-/readiness", web::get().to(readiness))
        .route("/-/metrics", web::get().to(metrics::endpoint))
        .configure(|cfg| {
            packyard_core::mount::mount(
                cfg,
                &formats,
                packyard_api::configure_project_packages,
                packyard_api::configure,
            )
        })
        // Pages last: project paths (`/{path}/-/packages`) would match the routes above.
        .configure(packyard_web::configure)
        .default_service(web::to(not_found))
}

/// Unknown paths: GitLab's JSON 404 under `/api/`, the web UI's 404 page elsewhere.
async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.path().starts_with("/api/") {
        Err(ApiError::error(StatusCode::NOT_FOUND, "404 Not Found"))
    } else {
        Ok(packyard_web::not_found_page())
    }
}

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .body("Packyard OK")
}

async fn liveness() -> HttpResponse {
    packyard_core::http::json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

async fn readiness(registry: web::Data<Registry>) -> HttpResponse {
    match registry.ready().await {
        Ok(()) => packyard_core::http::json(StatusCode::OK, &serde_json::json!({ "status": "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            packyard_core::http::json(
                StatusCode::SERVICE_UNAVAILABLE,
                &serde_json::json!({ "status": "failed" }),
            )
        }
    }
}
