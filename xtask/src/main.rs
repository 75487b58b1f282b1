//! `cargo xtask <command>`: the project's scripts, in Rust so they run wherever cargo does.
//!
//! - `ci [--keep-going] [--skip STEP,...]`: every check CI runs (see `ci.rs`).
//! - `e2e [--skip STEP,...]`: build, then the end-to-end suite on SQLite + filesystem and on
//!   PostgreSQL + S3.
//! - `check-features`: `cargo check` the server with each format feature alone and with none.
//! - `new-format <id>`: scaffold a format crate and register it behind its feature.
//! - `bench generic`: upload/download throughput, CPU and memory of the generic registry,
//!   next to nginx serving the same file.

mod bench;
mod bench_cargo;
mod bench_go;
mod bench_maven;
mod bench_npm;
mod bench_nuget;
mod bench_pypi;
mod bench_support;
mod bench_tls;
mod bench_web;
mod ci;
mod e2e;
mod e2e_cargo;
mod e2e_go;
mod e2e_maven;
mod e2e_npm;
mod e2e_nuget;
mod e2e_pypi;
mod e2e_web;
mod features;
mod new_format;
mod postgres;
mod s3;
mod shell;

use anyhow::{bail, Result};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci [--keep-going] [--skip STEP[,STEP]]   run every check CI runs
  e2e [--skip STEP[,STEP]]                 build and run the end-to-end suite (both backends)
  check-features                           cargo check the server per format feature
  new-format <id>                          scaffold crates/formats/<id> and register it (two lines)
  bench generic                            benchmark generic uploads/downloads against nginx
  bench pypi|npm|cargo                     benchmark a format's index documents against its peers
  bench web [--quick]                      server time of the web UI's registry pages, 10,000 packages
  bench maven [--quick]                    Maven metadata, checksum, jar and 404 against nginx; mvn resolve; big deploy RSS
  bench nuget [--quick]                    NuGet registration index and page, flat container, .nupkg against nginx; big push RSS
  bench go [--quick]                       Go proxy @v/list, .info, .mod, .zip against nginx, both over TLS
  bench tls                                1 GiB download CPU/GiB, MB/s, RSS: packyard over https vs http vs nginx https";

fn main() {
    // Print the error chain, not a backtrace: RUST_BACKTRACE is often set on CI machines.
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        println!("{USAGE}");
        return Ok(());
    };
    let rest = &args[1..];
    match command.as_str() {
        "ci" => ci::ci(rest),
        "e2e" => ci::e2e(rest),
        "check-features" => features::check(),
        "new-format" => new_format::run(rest),
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}\n\nci steps: {}", ci::STEPS.join(", "));
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}
