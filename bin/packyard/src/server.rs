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
    // The certificate first: a bad file stops the start before anything else is touched.
    let tls = match config.tls_files() {
        Some(files) => {
            let provider = crate::tls::provider();
            let resolver = Arc::new(crate::tls::CertResolver::new(files, provider.clone())?);
            let server_config = crate::tls::server_config(resolver.clone(), provider)?;
            Some((resolver, server_config))
        }
        None => None,
    };
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
    let format_ids = formats.iter().map(|f| f.id().0).collect::<Vec<_>>();
    let server = HttpServer::new(move || {
        app(
            registry.clone(),
            metrics.clone(),
            web_state.clone(),
            formats.clone(),
        )
    })
    .workers(workers);
    let server = match &tls {
        Some((resolver, server_config)) => {
            tracing::info!(listen = %config.listen, external_url = %config.external_url(), formats = ?format_ids, certificate = %resolver.files().cert_file.display(), sha256 = %resolver.current_fingerprint(), "packyard is listening over https");
            spawn_reload_on_sighup(resolver.clone());
            server.bind_rustls_0_23(&config.listen, server_config.clone())
        }
        None => {
            tracing::info!(listen = %config.listen, external_url = %config.external_url(), formats = ?format_ids, "packyard is listening");
            server.bind(&config.listen)
        }
    }
    .with_context(|| format!("binding `listen` ({})", config.listen))?
    .run();
    match &config.tls.redirect_listen {
        Some(addr) => {
            let redirect = redirect_server(addr, &config.external_url())?;
            tokio::try_join!(server, redirect).context("serving")?;
            Ok(())
        }
        None => server.await.context("serving"),
    }
}

/// SIGHUP re-reads the certificate and key files. A bad file is logged (naming it) and the
/// certificate served so far stays; open connections are never touched.
fn spawn_reload_on_sighup(resolver: Arc<crate::tls::CertResolver>) {
    use tokio::signal::unix::{signal, SignalKind};
    // Installing the handler also keeps SIGHUP's default action (ending the process) away.
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: certificate reloads need a restart");
            return;
        }
    };
    actix_web::rt::spawn(async move {
        while hangups.recv().await.is_some() {
            match resolver.reload() {
                Ok(()) => tracing::info!(
                    certificate = %resolver.files().cert_file.display(),
                    sha256 = %resolver.current_fingerprint(),
                    "SIGHUP: reloaded the TLS certificate"
                ),
                Err(e) => tracing::error!(
                    error = %format!("{e:#}"),
                    "SIGHUP: the TLS certificate was not reloaded; still serving the previous one"
                ),
            }
        }
    });
}

/// The plain-HTTP listener of `tls.redirect_listen`: every request is sent to the same
/// path and query on `external_url`'s https origin (301 for GET and HEAD, which every
/// client follows; 308 for the rest, which keeps the method and body).
fn redirect_server(addr: &str, external_url: &str) -> anyhow::Result<actix_web::dev::Server> {
    let origin = web::Data::new(RedirectOrigin(crate::tls::origin(external_url).to_owned()));
    tracing::info!(listen = %addr, to = %origin.0, "redirecting plain HTTP to https");
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(origin.clone())
            .default_service(web::to(redirect))
    })
    .workers(1)
    .bind(addr)
    .with_context(|| format!("binding `tls.redirect_listen` ({addr})"))?
    .run())
}

struct RedirectOrigin(String);

async fn redirect(req: actix_web::HttpRequest, origin: web::Data<RedirectOrigin>) -> HttpResponse {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let location = crate::tls::redirect_location(&origin.0, path);
    let status = if matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::LOCATION, location))
        .content_type("text/plain")
        .body("This server answers over https.\n")
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
