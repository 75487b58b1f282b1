//! `packyard-test-s3`: a local S3-compatible server (s3s-fs) with SigV4 checks, for CI's
//! end-to-end run of Packyard on S3.
//!
//! ```text
//! packyard-test-s3 --root DIR --listen 127.0.0.1:PORT --access-key K --secret-key S [--bucket B ...]
//! ```
//!
//! Creates the bucket folders, prints `ready http://ADDR` on stdout once listening, and
//! serves until killed (SIGINT/SIGTERM).

use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(about = "Local S3-compatible server (s3s-fs) with SigV4 authentication, for tests")]
struct Args {
    /// Folder that holds the buckets (created if missing).
    #[arg(long)]
    root: PathBuf,
    /// Address to listen on; port 0 picks a free port (see the `ready` line).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    #[arg(long)]
    access_key: String,
    #[arg(long)]
    secret_key: String,
    /// Bucket to create; may be repeated.
    #[arg(long = "bucket")]
    buckets: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("packyard-test-s3: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("packyard-test-s3: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    std::fs::create_dir_all(&args.root)?;
    for bucket in &args.buckets {
        packyard_testkit::s3::create_bucket(&args.root, bucket)?;
    }
    let service = packyard_testkit::s3::service(&args.root, &args.access_key, &args.secret_key)?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ready http://{addr}")?;
        out.flush()?;
    }
    packyard_testkit::s3::serve_service(listener, service, shutdown_signal()).await;
    Ok(())
}

/// Completes on SIGINT or SIGTERM (what CI scripts send with `kill`).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
