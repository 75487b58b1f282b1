//! `cargo xtask bench npm [--no-peers]`: how fast the packument of one package with 200
//! versions is served, full (`application/json`) and abbreviated
//! (`application/vnd.npm.install-v1+json`), side by side with verdaccio 6.1.6 holding the
//! same 200 versions and nginx serving Packyard's own response bytes as static files (the
//! ceiling); and Packyard's peak RSS while it takes a 200 MiB tarball publish.
//!
//! Requests/s and p99 come from `wrk --latency` (2 threads, 16 connections, 10 s, anonymous
//! GETs on a public project). Peak RSS is `VmHWM` of a fresh server process. Publish
//! documents are built and sent by a small python script (the same for Packyard and
//! verdaccio). Figures are printed, never asserted.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::bench_support::{
    self, nginx_binary, ratio, vm_hwm_kib, wait_ok, work_dir, wrk_warm_up, Nginx, NginxConfig,
    Peer, Server, WrkRun,
};
use crate::shell;

const VERSIONS: usize = 200;
const NAME: &str = "bench-pkg";
const BIG_MIB: u64 = 200;
const WRK_ARGS: &[&str] = &["-t2", "-c16", "-d10s", "--latency"];
const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

pub fn run(args: &[String]) -> Result<()> {
    let skip_peers = args.iter().any(|a| a == "--no-peers");
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let wrk = shell::ensure_tool("wrk", "wrk")?;
    let curl = shell::ensure_tool("curl", "curl")?;
    let python = shell::ensure_tool("python3", "python3")?;
    let nginx = nginx_binary()?;
    let work = work_dir("npm-")?;
    let script = work.path().join("publish.py");
    fs::write(&script, PUBLISH)?;

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
        "bench/js",
        "--visibility",
        "public",
    ])?;
    let registry = format!("{}/api/v4/projects/bench%2Fjs/packages/npm/", server.url);
    println!("publishing {VERSIONS} versions of {NAME} to Packyard");
    shell::run(Command::new(&python).arg(&script).args([
        "many",
        &registry,
        &token,
        NAME,
        &VERSIONS.to_string(),
    ]))?;
    let url = format!("{registry}{NAME}");
    let full = shell::output(Command::new(&curl).args(["-sS", "--fail", &url]))?;
    let abbr = shell::output(Command::new(&curl).args([
        "-sS",
        "--fail",
        "-H",
        &format!("Accept: {ABBREVIATED}"),
        &url,
    ]))?;
    let count = full.matches("\"tarball\"").count();
    if count != VERSIONS {
        bail!("Packyard's packument lists {count} versions, expected {VERSIONS}");
    }
    println!(
        "Packyard packument: full {} bytes, abbreviated {} bytes",
        full.len(),
        abbr.len()
    );
    rows.push(("packyard full".into(), wrk_run(&wrk, &url, None)?));
    rows.push((
        "packyard abbreviated".into(),
        wrk_run(&wrk, &url, Some(ABBREVIATED))?,
    ));
    let rss_after_reads = vm_hwm_kib(server.pid())? / 1024;
    drop(server);

    // nginx serving the same bytes.
    let root = work.path().join("static");
    fs::create_dir_all(&root)?;
    fs::write(root.join("full.json"), &full)?;
    fs::write(root.join("abbreviated.json"), &abbr)?;
    let nginx = Nginx::start(
        &nginx,
        &root,
        work.path(),
        NginxConfig {
            workers: "1",
            worker_connections: 64,
            default_type: "application/json",
            port: None,
        },
    )?;
    let base = format!("http://127.0.0.1:{}", nginx.port);
    wait_ok(&curl, &format!("{base}/full.json"), "nginx")?;
    rows.push((
        "nginx full (static copy)".into(),
        wrk_run(&wrk, &format!("{base}/full.json"), None)?,
    ));
    rows.push((
        "nginx abbreviated (static copy)".into(),
        wrk_run(&wrk, &format!("{base}/abbreviated.json"), None)?,
    ));
    drop(nginx);

    if !skip_peers {
        let verdaccio = verdaccio_install(&target.join("bench-npm-verdaccio"))?;
        let vdir = work.path().join("verdaccio");
        fs::create_dir_all(&vdir)?;
        let port = shell::free_port()?;
        fs::write(
            vdir.join("config.yaml"),
            format!(
                "storage: {storage}\nauth:\n  htpasswd:\n    file: {storage}/htpasswd\n    max_users: 100\n\
                 uplinks: {{}}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\n\
                 max_body_size: 300mb\nlog: {{ type: stdout, level: error }}\nlisten: 127.0.0.1:{port}\n",
                storage = vdir.join("storage").display()
            ),
        )?;
        let peer = Peer::start(
            Command::new(&verdaccio)
                .arg("--config")
                .arg(vdir.join("config.yaml")),
            work.path().join("verdaccio.log"),
        )?;
        let vbase = format!("http://127.0.0.1:{port}/");
        wait_ok(&curl, &format!("{vbase}-/ping"), "verdaccio")?;
        let vtoken = shell::output(Command::new(&python).arg(&script).args([
            "login",
            &vbase,
            "bench",
            "bench-password",
        ]))?;
        println!("publishing {VERSIONS} versions of {NAME} to verdaccio");
        shell::run(Command::new(&python).arg(&script).args([
            "many",
            &vbase,
            vtoken.trim(),
            NAME,
            &VERSIONS.to_string(),
        ]))?;
        let vurl = format!("{vbase}{NAME}");
        rows.push(("verdaccio 6.1.6 full".into(), wrk_run(&wrk, &vurl, None)?));
        rows.push((
            "verdaccio 6.1.6 abbreviated".into(),
            wrk_run(&wrk, &vurl, Some(ABBREVIATED))?,
        ));
        drop(peer);
    }

    // A 200 MiB tarball publish, in a fresh process so VmHWM reflects it alone.
    let server = Server::start(&packyard, &data, &token, work.path())?;
    let idle = vm_hwm_kib(server.pid())? / 1024;
    let registry = format!("{}/api/v4/projects/bench%2Fjs/packages/npm/", server.url);
    let started = Instant::now();
    shell::run(Command::new(&python).arg(&script).args([
        "big",
        &registry,
        &token,
        "bench-big",
        &BIG_MIB.to_string(),
    ]))?;
    let secs = started.elapsed().as_secs_f64();
    let big_rss = vm_hwm_kib(server.pid())? / 1024;
    drop(server);

    let nginx_of = |variant: &str| {
        rows.iter()
            .find(|(n, _)| n.starts_with("nginx") && n.contains(variant))
            .map(|(_, w)| w.rps)
            .unwrap_or(0.0)
    };
    println!();
    println!(
        "GET {NAME} ({VERSIONS} versions; full {} B, abbreviated {} B), wrk {}",
        full.len(),
        abbr.len(),
        WRK_ARGS.join(" ")
    );
    println!("| server | requests/s | p99 latency | this / nginx (same form) |");
    println!("|---|---:|---:|---:|");
    for (name, w) in &rows {
        let variant = if name.contains("abbreviated") {
            "abbreviated"
        } else {
            "full"
        };
        println!(
            "| {name} | {:.0} | {} | {} |",
            w.rps,
            w.p99,
            ratio(w.rps, nginx_of(variant))
        );
    }
    println!();
    println!(
        "Packyard peak RSS after the packument runs: {rss_after_reads} MiB; {BIG_MIB} MiB tarball \
         publish: {secs:.1} s, peak RSS {big_rss} MiB (idle {idle} MiB, target < 64 MiB)"
    );
    Ok(())
}

/// Builds tarballs and npm publish documents, and sends them (`many`, `big`), or logs in to
/// verdaccio (`login`, prints the token). Standard library only.
const PUBLISH: &str = r#"
import base64, hashlib, io, json, os, sys, tarfile, urllib.request

def tgz(name, version, payload=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as t:
        pj = json.dumps({"name": name, "version": version, "description": "bench",
                         "main": "index.js", "dependencies": {"a": "^1.0.0"}}).encode()
        for path, data in (("package/package.json", pj), ("package/index.js", b"module.exports=1\n")):
            info = tarfile.TarInfo(path); info.size = len(data); t.addfile(info, io.BytesIO(data))
        if payload:
            info = tarfile.TarInfo("package/blob.bin"); info.size = payload
            t.addfile(info, RandomReader(payload))
    return buf.getvalue()

class RandomReader:
    def __init__(self, n): self.n = n
    def read(self, k=-1):
        k = self.n if k < 0 else min(k, self.n); self.n -= k; return os.urandom(k)

def put(url, token, body):
    req = urllib.request.Request(url, data=body, method="PUT", headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return r.read()

def publish(registry, token, name, version, data):
    b64 = base64.b64encode(data).decode()
    doc = {"_id": name, "name": name, "dist-tags": {"latest": version},
           "versions": {version: {"name": name, "version": version, "description": "bench",
                                  "main": "index.js", "dependencies": {"a": "^1.0.0"},
                                  "dist": {"shasum": hashlib.sha1(data).hexdigest(),
                                           "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()}}},
           "_attachments": {f"{name}-{version}.tgz": {"content_type": "application/octet-stream",
                                                     "data": b64, "length": len(data)}}}
    put(registry + name, token, json.dumps(doc).encode())

cmd = sys.argv[1]
if cmd == "many":
    registry, token, name, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    for i in range(n):
        v = f"1.{i}.0"
        publish(registry, token, name, v, tgz(name, v))
elif cmd == "big":
    registry, token, name, mib = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    publish(registry, token, name, "1.0.0", tgz(name, "1.0.0", mib << 20))
elif cmd == "login":
    registry, user, password = sys.argv[2], sys.argv[3], sys.argv[4]
    req = urllib.request.Request(registry + "-/user/org.couchdb.user:" + user, method="PUT",
        data=json.dumps({"name": user, "password": password}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        print(json.loads(r.read())["token"])
"#;

/// verdaccio 6.1.6 in a local folder (CLIENTS.md: the mirror serves only `latest` tags,
/// hence the override), reused when present.
fn verdaccio_install(dir: &Path) -> Result<PathBuf> {
    let bin = dir.join("node_modules").join(".bin").join("verdaccio");
    if shell::is_executable(&bin) {
        return Ok(bin);
    }
    fs::create_dir_all(dir)?;
    fs::write(
        dir.join("package.json"),
        r#"{"private":true,"dependencies":{"verdaccio":"6.1.6"},"overrides":{"node-fetch@cjs":"2.7.0"}}"#,
    )?;
    let npm = shell::which("npm").context("npm is needed for verdaccio")?;
    shell::run(
        Command::new(npm)
            .arg("install")
            .args(["--no-audit", "--no-fund", "--no-update-notifier"])
            .current_dir(dir),
    )?;
    if !shell::is_executable(&bin) {
        bail!("{} missing after npm install", bin.display());
    }
    Ok(bin)
}
/// A warmed-up wrk run of `url`, with `Accept: ACCEPT` when given, printed.
fn wrk_run(wrk: &Path, url: &str, accept: Option<&str>) -> Result<WrkRun> {
    let headers: Vec<String> = accept.map(|a| format!("Accept: {a}")).into_iter().collect();
    wrk_warm_up(wrk, &headers, url)?;
    let run = bench_support::wrk_run(wrk, WRK_ARGS, &headers, url)?;
    println!(
        "  {url} ({}): {:.0} req/s, p99 {}",
        accept.unwrap_or("default"),
        run.rps,
        run.p99
    );
    Ok(run)
}
