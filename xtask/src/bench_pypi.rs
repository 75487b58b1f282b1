//! `cargo xtask bench pypi`: how fast the PyPI simple page of a project with 200 versions
//! (400 files: a wheel and an sdist each) is served, side by side with pypiserver (gunicorn),
//! devpi-server and nginx serving the bytes of Packyard's own page as a static file (the
//! ceiling); and the peak RSS of Packyard while it takes a 500 MiB wheel upload.
//!
//! Requests/s and p99 latency come from `wrk --latency` (2 threads, 16 connections, 10 s,
//! anonymous GETs of `/simple/<name>/` on a public project). Peak RSS is `VmHWM` of a fresh
//! server process. Figures are printed, never asserted.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::bench_support::{
    self, nginx_binary, ratio, vm_hwm_kib, wait_ok, work_dir, wrk_warm_up, Nginx, NginxConfig,
    Peer, Server, WrkRun,
};
use crate::shell;

const VERSIONS: usize = 200;
const NAME: &str = "bench-pkg";
const BIG_WHEEL_MIB: u64 = 500;
const WRK_ARGS: &[&str] = &["-t2", "-c16", "-d10s", "--latency"];

pub fn run(args: &[String]) -> Result<()> {
    let skip_peers = args.iter().any(|a| a == "--no-peers");
    // The binary users run, with every format (and the same one the other benches build).
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let wrk = shell::ensure_tool("wrk", "wrk")?;
    let curl = shell::ensure_tool("curl", "curl")?;
    let nginx = nginx_binary()?;
    let venv = bench_venv(&target.join("bench-pypi-venv"), skip_peers)?;
    let python = venv.join("bin").join("python");

    let work = work_dir("pypi-")?;
    let dists = work.path().join("dists");
    fs::create_dir_all(&dists)?;
    println!(
        "generating {} versions of {NAME} in {}",
        VERSIONS,
        dists.display()
    );
    shell::run(
        Command::new(&python)
            .args(["-c", GENERATE, NAME, &VERSIONS.to_string()])
            .arg(&dists),
    )?;

    let mut rows: Vec<(String, WrkRun)> = Vec::new();

    // Packyard.
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data = work.path().join("packyard-data");
    fs::create_dir_all(&data)?;
    let server = Server::start(&packyard, &data, &token, work.path())?;
    server.admin(&["create-group", "--path", "bench", "--visibility", "public"])?;
    server.admin(&[
        "create-project",
        "--path",
        "bench/py",
        "--visibility",
        "public",
    ])?;
    let upload_url = format!("{}/api/v4/projects/bench%2Fpy/packages/pypi", server.url);
    twine_upload(&venv, &upload_url, "__token__", &token, &dists)?;
    let page_url = format!(
        "{}/api/v4/projects/bench%2Fpy/packages/pypi/simple/{NAME}/",
        server.url
    );
    let page = shell::output(Command::new(&curl).args(["-sS", "--fail", &page_url]))?;
    let files = page.matches("<a href=").count();
    if files != 2 * VERSIONS {
        bail!(
            "Packyard's page lists {files} files, expected {}",
            2 * VERSIONS
        );
    }
    println!("Packyard page: {} bytes, {files} files", page.len());
    rows.push(("packyard".into(), wrk_run(&wrk, &page_url)?));
    let packyard_rss_after_pages = vm_hwm_kib(server.pid())? / 1024;
    drop(server);

    // nginx serving the same bytes.
    let static_root = work.path().join("static");
    let static_dir = static_root.join("simple").join(NAME);
    fs::create_dir_all(&static_dir)?;
    fs::write(static_dir.join("index.html"), &page)?;
    let nginx = Nginx::start(
        &nginx,
        &static_root,
        work.path(),
        NginxConfig {
            workers: "auto",
            worker_connections: 256,
            default_type: "text/html",
            port: None,
        },
    )?;
    let nginx_url = format!("http://127.0.0.1:{}/simple/{NAME}/", nginx.port);
    wait_ok(&curl, &nginx_url, "nginx")?;
    rows.push(("nginx (static copy)".into(), wrk_run(&wrk, &nginx_url)?));
    drop(nginx);

    if !skip_peers {
        // pypiserver on gunicorn (its default wsgiref server is single-threaded).
        let port = shell::free_port()?;
        let pypiserver = Peer::start(
            Command::new(venv.join("bin").join("pypi-server"))
                .args(["run", "-p", &port.to_string(), "-i", "127.0.0.1"])
                .args(["--server", "gunicorn", "-a", ".", "-P", "."])
                .arg(&dists),
            work.path().join("pypiserver.log"),
        )?;
        let url = format!("http://127.0.0.1:{port}/simple/{NAME}/");
        wait_ok(&curl, &url, "pypiserver")?;
        rows.push(("pypiserver 2 (gunicorn)".into(), wrk_run(&wrk, &url)?));
        drop(pypiserver);

        // devpi-server, offline, one volatile index.
        let serverdir = work.path().join("devpi");
        let port = shell::free_port()?;
        shell::run(
            Command::new(venv.join("bin").join("devpi-init"))
                .args(["--no-root-pypi", "--serverdir"])
                .arg(&serverdir),
        )?;
        let devpi = Peer::start(
            Command::new(venv.join("bin").join("devpi-server"))
                .args(["--offline-mode", "--port", &port.to_string(), "--serverdir"])
                .arg(&serverdir),
            work.path().join("devpi.log"),
        )?;
        let base = format!("http://127.0.0.1:{port}");
        wait_ok(&curl, &format!("{base}/+api"), "devpi-server")?;
        let client_dir = work.path().join("devpi-client");
        let devpi_cli = |args: &[&str]| {
            shell::run(
                Command::new(venv.join("bin").join("devpi"))
                    .args(args)
                    .arg("--clientdir")
                    .arg(&client_dir),
            )
        };
        devpi_cli(&["use", &base])?;
        devpi_cli(&["login", "root", "--password", ""])?;
        devpi_cli(&["index", "-c", "bench", "volatile=True"])?;
        twine_upload(&venv, &format!("{base}/root/bench/"), "root", "", &dists)?;
        let url = format!("{base}/root/bench/+simple/{NAME}/");
        wait_ok(&curl, &url, "devpi-server")?;
        rows.push(("devpi-server".into(), wrk_run(&wrk, &url)?));
        drop(devpi);
    }

    // Upload of a 500 MiB wheel, in a fresh process so VmHWM reflects it alone.
    let big_dir = work.path().join("big");
    fs::create_dir_all(&big_dir)?;
    shell::run(
        Command::new(&python)
            .args(["-c", BIG_WHEEL, &BIG_WHEEL_MIB.to_string()])
            .arg(&big_dir),
    )?;
    let big = big_dir.join("big_pkg-1.0-py3-none-any.whl");
    let server = Server::start(&packyard, &data, &token, work.path())?;
    let upload_url = format!("{}/api/v4/projects/bench%2Fpy/packages/pypi", server.url);
    let idle_rss = vm_hwm_kib(server.pid())? / 1024;
    let started = Instant::now();
    let status = shell::output(
        Command::new(&curl)
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(["-u", &format!("__token__:{token}")])
            .arg("-F")
            .arg(format!("content=@{}", big.display()))
            .args(["-F", ":action=file_upload"])
            .arg(&upload_url),
    )?;
    let upload_secs = started.elapsed().as_secs_f64();
    if status.trim() != "201" {
        bail!("the 500 MiB upload answered {status}");
    }
    let upload_rss = vm_hwm_kib(server.pid())? / 1024;
    drop(server);

    let nginx_rps = rows
        .iter()
        .find(|(n, _)| n.starts_with("nginx"))
        .map(|(_, w)| w.rps)
        .unwrap_or(0.0);
    let packyard_rps = rows.first().map(|(_, w)| w.rps).unwrap_or(0.0);
    println!();
    println!(
        "GET /simple/{NAME}/ ({} versions, {} files, {} bytes), wrk {}",
        VERSIONS,
        2 * VERSIONS,
        page.len(),
        WRK_ARGS.join(" ")
    );
    println!("| server | requests/s | p99 latency | Packyard / this | this / nginx |");
    println!("|---|---:|---:|---:|---:|");
    for (name, w) in &rows {
        println!(
            "| {name} | {:.0} | {} | {} | {} |",
            w.rps,
            w.p99,
            ratio(packyard_rps, w.rps),
            ratio(w.rps, nginx_rps)
        );
    }
    println!();
    println!(
        "Packyard peak RSS after serving pages: {packyard_rss_after_pages} MiB; \
         {BIG_WHEEL_MIB} MiB wheel upload: {upload_secs:.1} s, peak RSS {upload_rss} MiB \
         (idle {idle_rss} MiB, target < 64 MiB)"
    );
    Ok(())
}

/// Writes `VERSIONS` wheels and sdists of `NAME` (real archives with METADATA / PKG-INFO).
const GENERATE: &str = r#"
import io, sys, tarfile, zipfile
name, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mod = name.replace('-', '_')
for i in range(count):
    v = f"1.{i}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {v}\nSummary: bench\nRequires-Python: >=3.8\n\n"
    with zipfile.ZipFile(f"{out}/{mod}-{v}-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{mod}/__init__.py", f"VERSION = '{v}'\n")
        z.writestr(f"{mod}-{v}.dist-info/METADATA", meta)
        z.writestr(f"{mod}-{v}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{mod}-{v}.dist-info/RECORD", "")
    with tarfile.open(f"{out}/{mod}-{v}.tar.gz", "w:gz") as t:
        for path, data in ((f"{mod}-{v}/PKG-INFO", meta), (f"{mod}-{v}/{mod}/__init__.py", "")):
            b = data.encode()
            info = tarfile.TarInfo(path)
            info.size = len(b)
            t.addfile(info, io.BytesIO(b))
"#;

/// Writes a wheel of about N MiB (one stored, incompressible member).
const BIG_WHEEL: &str = r#"
import os, sys, zipfile
mib, out = int(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(f"{out}/big_pkg-1.0-py3-none-any.whl", "w", zipfile.ZIP_STORED) as z:
    z.writestr("big_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: big-pkg\nVersion: 1.0\n")
    with z.open("big_pkg/blob.bin", "w", force_zip64=True) as f:
        chunk = os.urandom(1 << 20)
        for _ in range(mib):
            f.write(chunk)
"#;

/// A venv with twine, pypiserver (+ gunicorn) and devpi, reused when complete.
fn bench_venv(dir: &Path, skip_peers: bool) -> Result<PathBuf> {
    let mut wanted = vec!["twine"];
    if !skip_peers {
        wanted.extend([
            "pypi-server",
            "gunicorn",
            "devpi-server",
            "devpi-init",
            "devpi",
        ]);
    }
    let complete = |dir: &Path| {
        wanted
            .iter()
            .all(|b| shell::is_executable(&dir.join("bin").join(b)))
    };
    if complete(dir) {
        println!("reusing {}", dir.display());
        return Ok(dir.to_path_buf());
    }
    let python3 = shell::ensure_tool("python3", "python3")?;
    let _ = fs::remove_dir_all(dir);
    shell::run(Command::new(python3).args(["-m", "venv"]).arg(dir))?;
    let mut packages = vec!["twine"];
    if !skip_peers {
        packages.extend([
            "pypiserver",
            "passlib",
            "gunicorn",
            "devpi-server",
            "devpi-client",
        ]);
    }
    shell::run(
        Command::new(dir.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(&packages),
    )?;
    if !complete(dir) {
        bail!("{} is incomplete after pip install", dir.display());
    }
    Ok(dir.to_path_buf())
}

fn twine_upload(venv: &Path, url: &str, user: &str, password: &str, dir: &Path) -> Result<()> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let out = Command::new(venv.join("bin").join("twine"))
        .args(["upload", "--non-interactive", "--disable-progress-bar"])
        .args(["--repository-url", url, "-u", user, "-p", password])
        .args(&files)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .context("running twine")?;
    if !out.status.success() {
        bail!(
            "twine upload to {url} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
/// A warmed-up wrk run of `url`, printed.
fn wrk_run(wrk: &Path, url: &str) -> Result<WrkRun> {
    wrk_warm_up(wrk, &[], url)?;
    let run = bench_support::wrk_run(wrk, WRK_ARGS, &[], url)?;
    println!("  {url}: {:.0} req/s, p99 {}", run.rps, run.p99);
    Ok(run)
}
