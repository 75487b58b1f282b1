//! `cargo xtask bench cargo`: the Cargo registry side by side with nginx serving the same
//! bytes statically (the ceiling for any registry). Figures are printed, never asserted.
//!
//! 1. One crate with 500 versions: wrk requests/s and p99 of its index file, and of a 304
//!    revalidation (`If-None-Match`), against Packyard and against nginx.
//! 2. A `cargo build` of a crate that depends on 30 crates of the registry, from an empty
//!    `CARGO_HOME` (so cargo resolves and downloads everything), against a warm Packyard and
//!    against nginx serving a static copy of the index and the `.crate` files.
//!
//! The `.crate` files are packed with the system `tar`; the project is public, so both sides
//! are read anonymously.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::bench_support::{self, nginx_binary, wait_ok, work_dir, Nginx, NginxConfig, Server};
use crate::shell;

const VERSIONS: usize = 500;
const DEPS: usize = 30;
const BUILD_RUNS: usize = 3;
const WRK_SECONDS: &str = "10";

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let curl = shell::ensure_tool("curl", "curl")?;
    let tar = shell::ensure_tool("tar", "tar")?;
    let wrk = shell::ensure_tool("wrk", "wrk")?;
    let nginx = nginx_binary()?;
    let cargo = shell::which("cargo").context("cargo is not on PATH")?;

    let work = work_dir("cargo-")?;
    let work = work.path();

    // ---- Packyard with the crates
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data = work.join("data");
    fs::create_dir_all(&data)?;
    let server = Server::start(&packyard, &data, &token, work)?;
    server.admin(&["create-group", "--path", "bench", "--visibility", "public"])?;
    let project: serde_json::Value = serde_json::from_str(&server.admin(&[
        "create-project",
        "--path",
        "bench/crates",
        "--visibility",
        "public",
    ])?)?;
    let id = project["id"].as_i64().context("project id")?;
    let base = format!("{}/api/v4/projects/{id}/packages/cargo", server.url);

    let crates_dir = work.join("crates");
    fs::create_dir_all(&crates_dir)?;
    let versions = if quick { 50 } else { VERSIONS };
    println!("publishing {versions} versions of `many` and {DEPS} crates `dep01`..");
    let started = Instant::now();
    let mut published: Vec<(String, String)> = Vec::new();
    for v in 0..versions {
        let version = format!("0.{}.{}", v / 100, v % 100);
        publish(&curl, &tar, &crates_dir, &base, &token, "many", &version)?;
        published.push(("many".into(), version));
    }
    for d in 1..=DEPS {
        let name = format!("dep{d:02}");
        publish(&curl, &tar, &crates_dir, &base, &token, &name, "0.1.0")?;
        published.push((name, "0.1.0".into()));
    }
    println!(
        "published {} crates in {:.1}s",
        published.len(),
        started.elapsed().as_secs_f64()
    );

    // ---- a static copy for nginx
    let port = shell::free_port()?;
    let nginx_url = format!("http://127.0.0.1:{port}");
    let root = work.join("static");
    let index_root = root.join("index");
    fs::create_dir_all(&index_root)?;
    fs::write(
        index_root.join("config.json"),
        format!("{{\"dl\":\"{nginx_url}/dl\",\"api\":\"{nginx_url}\"}}"),
    )?;
    let mut names: Vec<&str> = published.iter().map(|(n, _)| n.as_str()).collect();
    names.dedup();
    for name in &names {
        let rel = index_path(name);
        let dest = index_root.join(&rel);
        fs::create_dir_all(dest.parent().context("index dir")?)?;
        fetch(&curl, &format!("{base}/{rel}"), &dest)?;
    }
    for (name, version) in &published {
        let dest = root.join("dl").join(name).join(version).join("download");
        fs::create_dir_all(dest.parent().context("dl dir")?)?;
        fetch(
            &curl,
            &format!("{base}/api/v1/crates/{name}/{version}/download"),
            &dest,
        )?;
    }
    let nginx = Nginx::start(
        &nginx,
        &root,
        work,
        NginxConfig {
            workers: "2",
            worker_connections: 1024,
            default_type: "text/plain",
            port: Some(port),
        },
    )?;
    wait_ok(&curl, &format!("{nginx_url}/index/config.json"), "nginx")?;

    // ---- 1. the index file of `many`
    let rel = index_path("many");
    let py_index = format!("{base}/{rel}");
    let ng_index = format!("{nginx_url}/index/{rel}");
    let size = fs::metadata(index_root.join(&rel))?.len();
    let py_etag = etag(&curl, &py_index)?;
    let ng_etag = etag(&curl, &ng_index)?;
    let rows = [
        ("packyard index file", wrk_run(&wrk, &py_index, None)?),
        ("nginx index file", wrk_run(&wrk, &ng_index, None)?),
        (
            "packyard 304 revalidation",
            wrk_run(&wrk, &py_index, Some(&py_etag))?,
        ),
        (
            "nginx 304 revalidation",
            wrk_run(&wrk, &ng_index, Some(&ng_etag))?,
        ),
    ];

    // ---- 2. cargo build resolving 30 crates
    let app = write_app(work)?;
    let py_build = cargo_build(&cargo, work, &app, &format!("sparse+{base}/"), "packyard")?;
    let ng_build = cargo_build(
        &cargo,
        work,
        &app,
        &format!("sparse+{nginx_url}/index/"),
        "nginx",
    )?;
    drop(nginx);
    drop(server);

    println!(
        "\ncargo registry: index file of one crate with {versions} versions ({size} bytes), \
         wrk 2 threads 32 connections {WRK_SECONDS}s"
    );
    println!("{:<28} {:>12} {:>10}", "", "requests/s", "p99 ms");
    for (label, r) in &rows {
        println!("{label:<28} {:>12.0} {:>10.2}", r.rps, r.p99_ms);
    }
    println!(
        "ratio index / nginx: {:.2}x   ratio 304 / nginx: {:.2}x (target >= 0.7x)",
        rows[0].1.rps / rows[1].1.rps,
        rows[2].1.rps / rows[3].1.rps
    );
    println!(
        "\ncargo build of a crate with {DEPS} registry dependencies, empty CARGO_HOME, \
         median of {BUILD_RUNS} (resolve+download / whole build)"
    );
    for (label, b) in [("packyard", &py_build), ("nginx static copy", &ng_build)] {
        println!(
            "{label:<28} fetch {:>6.2}s   build {:>6.2}s",
            b.fetch_s, b.build_s
        );
    }
    Ok(())
}

/// The sparse index path of a crate name (lower-case).
fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

/// Packs `name-version` with `tar` and publishes it with curl, as `cargo publish` would.
fn publish(
    curl: &Path,
    tar: &Path,
    dir: &Path,
    base: &str,
    token: &str,
    name: &str,
    version: &str,
) -> Result<()> {
    let folder = format!("{name}-{version}");
    let src = dir.join(&folder).join("src");
    fs::create_dir_all(&src)?;
    fs::write(
        dir.join(&folder).join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n"),
    )?;
    fs::write(
        src.join("lib.rs"),
        format!("pub fn f() -> &'static str {{ \"{folder}\" }}\n"),
    )?;
    let krate_path = dir.join(format!("{folder}.crate"));
    shell::run(
        Command::new(tar)
            .arg("-C")
            .arg(dir)
            .arg("-czf")
            .arg(&krate_path)
            .arg(&folder),
    )?;
    let krate = fs::read(&krate_path)?;
    let meta = serde_json::json!({
        "name": name, "vers": version, "deps": [], "features": {}, "authors": [],
        "description": format!("bench crate {name}"), "keywords": [], "categories": [],
        "badges": {}, "links": null,
    })
    .to_string();
    let mut body = Vec::new();
    body.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    body.extend_from_slice(meta.as_bytes());
    body.extend_from_slice(&(krate.len() as u32).to_le_bytes());
    body.extend_from_slice(&krate);
    let body_path = dir.join(format!("{folder}.body"));
    fs::write(&body_path, body)?;
    let out = Command::new(curl)
        .args(["-sS", "--fail-with-body", "-X", "PUT", "-H"])
        .arg(format!("Authorization: {token}"))
        .arg("--data-binary")
        .arg(format!("@{}", body_path.display()))
        .arg(format!("{base}/api/v1/crates/new"))
        .output()?;
    if !out.status.success() {
        bail!(
            "publishing {folder} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn fetch(curl: &Path, url: &str, dest: &Path) -> Result<()> {
    shell::run(
        Command::new(curl)
            .args(["-sS", "--fail", "-o"])
            .arg(dest)
            .arg(url),
    )
}

fn etag(curl: &Path, url: &str) -> Result<String> {
    let out = shell::output(Command::new(curl).args(["-sS", "-o", "/dev/null", "-D", "-", url]))?;
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("etag").then(|| v.trim().to_string())
        })
        .with_context(|| format!("{url} sent no ETag"))
}

struct Wrk {
    rps: f64,
    p99_ms: f64,
}

/// wrk on `url`, with `If-None-Match: TAG` when given (no warm-up).
fn wrk_run(wrk: &Path, url: &str, if_none_match: Option<&str>) -> Result<Wrk> {
    let headers: Vec<String> = if_none_match
        .map(|tag| format!("If-None-Match: {tag}"))
        .into_iter()
        .collect();
    let run = bench_support::wrk_run(
        wrk,
        &["-t2", "-c32", "-d", WRK_SECONDS, "--latency"],
        &headers,
        url,
    )?;
    let p99_ms = run
        .p99_ms()
        .with_context(|| format!("no 99% latency in wrk's report on {url}"))?;
    Ok(Wrk {
        rps: run.rps,
        p99_ms,
    })
}

fn write_app(work: &Path) -> Result<PathBuf> {
    let app = work.join("app");
    fs::create_dir_all(app.join("src"))?;
    let mut deps = String::new();
    let mut body = String::new();
    for d in 1..=DEPS {
        deps.push_str(&format!(
            "dep{d:02} = {{ version = \"0.1\", registry = \"bench\" }}\n"
        ));
        body.push_str(&format!("    println!(\"{{}}\", dep{d:02}::f());\n"));
    }
    fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\n{deps}"
        ),
    )?;
    fs::write(app.join("src/main.rs"), format!("fn main() {{\n{body}}}\n"))?;
    Ok(app)
}

struct Build {
    fetch_s: f64,
    build_s: f64,
}

/// Median times of `cargo fetch` (resolve + download) and of fetch + `cargo build`, from
/// an empty `CARGO_HOME` each run, so nothing comes from cargo's cache.
fn cargo_build(cargo: &Path, work: &Path, app: &Path, index: &str, label: &str) -> Result<Build> {
    let mut fetches = Vec::new();
    let mut builds = Vec::new();
    for run in 0..BUILD_RUNS {
        let home = work.join(format!("home-{label}-{run}"));
        fs::create_dir_all(&home)?;
        fs::write(
            home.join("config.toml"),
            format!("[registries.bench]\nindex = \"{index}\"\n\n[net]\nretry = 0\n"),
        )?;
        let _ = fs::remove_file(app.join("Cargo.lock"));
        let target = work.join(format!("target-{label}-{run}"));
        let cmd = |args: &[&str]| {
            let mut c = Command::new(cargo);
            c.args(args)
                .current_dir(app)
                .env("CARGO_HOME", &home)
                .env("CARGO_TARGET_DIR", &target)
                .env("CARGO_TERM_PROGRESS_WHEN", "never")
                .stdout(Stdio::null());
            c
        };
        let t = Instant::now();
        shell::run(&mut cmd(&["fetch", "-q"]))?;
        let fetched = t.elapsed().as_secs_f64();
        shell::run(&mut cmd(&["build", "-q", "--offline"]))?;
        fetches.push(fetched);
        builds.push(t.elapsed().as_secs_f64());
    }
    Ok(Build {
        fetch_s: median(&mut fetches),
        build_s: median(&mut builds),
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
