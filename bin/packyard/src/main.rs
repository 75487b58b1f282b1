//! `packyard`: the server (`serve`), its maintenance jobs (`migrate`, `gc`, `fsck`,
//! `cleanup`) and admin commands that print machine-readable results.

use packyard::{admin, cleanup, config, logging, server};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "packyard", version, about = "A self-hosted package registry")]
struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "PACKYARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[arg(long)]
        listen: Option<String>,
        #[arg(long)]
        data_dir: Option<String>,
        #[arg(long)]
        external_url: Option<String>,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Run the catalog migrations and exit.
    Migrate,
    /// Delete blobs no package file references, older than the grace period.
    Gc {
        /// Override `gc_grace_period_secs`.
        #[arg(long)]
        grace_period_secs: Option<u64>,
    },
    /// Check that every package file's blob exists and matches its sha256.
    Fsck,
    /// Run every project's package cleanup policy now (deletes old duplicated files; their
    /// blobs go at the next `gc`).
    Cleanup,
    /// Administrative commands.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut flags: Vec<(&str, String)> = Vec::new();
    if let Command::Serve {
        listen,
        data_dir,
        external_url,
        database_url,
    } = &cli.command
    {
        for (k, v) in [
            ("listen", listen),
            ("data_dir", data_dir),
            ("external_url", external_url),
            ("database_url", database_url),
        ] {
            if let Some(v) = v {
                flags.push((k, v.clone()));
            }
        }
    }
    let config = match config::load(cli.config.as_deref(), |k| std::env::var(k).ok(), &flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("packyard: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _log_flush = init_logging(
        &config.log_format,
        matches!(cli.command, Command::Serve { .. }),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("packyard: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, config));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("packyard: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: config::Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { .. } => {
            // actix-web runs its own per-worker runtimes; start it from a LocalSet-capable system.
            let handle = std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(server::serve(config))
            });
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("the server thread panicked"))??;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            server::open_registry(&config).await?;
            println!("{}", serde_json::json!({ "migrated": true }));
            Ok(ExitCode::SUCCESS)
        }
        Command::Gc { grace_period_secs } => {
            let registry = server::open_registry(&config).await?;
            let grace = std::time::Duration::from_secs(
                grace_period_secs.unwrap_or(config.gc_grace_period_secs),
            );
            let report = registry
                .gc(grace)
                .await
                .map_err(|e| anyhow::anyhow!("gc failed: {e}"))?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Fsck => {
            let registry = server::open_registry(&config).await?;
            let problems = registry
                .fsck()
                .await
                .map_err(|e| anyhow::anyhow!("fsck failed: {e}"))?;
            for p in &problems {
                println!("{}", serde_json::to_string(p)?);
            }
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Cleanup => {
            let registry = server::open_registry(&config).await?;
            let report = cleanup::run_now(&registry, &config).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(cmd) if !cmd.needs_registry() => {
            admin::self_signed_cert(cmd)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(cmd) => {
            let registry = server::open_registry(&config).await?;
            admin::run(&registry, cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Sets up `tracing`. While serving, lines are batched to stderr by a background thread
/// (`logging::BatchedStderr`): keep the returned guard until the server stops.
fn init_logging(format: &str, serving: bool) -> Option<logging::FlushGuard> {
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    use tracing_subscriber::EnvFilter;
    let default = if serving { "info" } else { "warn" };
    let filter =
        EnvFilter::try_from_env("PACKYARD_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = if serving {
        let (writer, guard) = logging::BatchedStderr::start();
        (BoxMakeWriter::new(writer), Some(guard))
    } else {
        (BoxMakeWriter::new(std::io::stderr), None)
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}
