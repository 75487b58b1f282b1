//! `cargo xtask bench go [--quick]`: the Go module proxy side by side with nginx serving the
//! same bytes statically (the ceiling for any proxy), both over TLS with the same certificate,
//! since go sends credentials only over HTTPS. Figures are printed, never asserted.
//!
//! Workload: `example.test/bench` with 200 versions (`v1.0.0` .. `v1.1.99`), each a module
//! directory (go.mod, a .go file, a LICENSE; the newest also a 1 MiB file of random bytes)
//! zipped by `packyard admin go-module-zip` as a user does, and uploaded with the docs' curl
//! recipe (`PUT .../go/$module/@v/$version.zip`, `PRIVATE-TOKEN`) by one curl on one kept-alive
//! connection, on a public project so both sides are read anonymously.
//!
//! wrk requests/s and p99 of what go asks a proxy for: `@v/list` (200 versions), the newest
//! version's `.info`, `.mod` and `.zip` (1 MiB), against Packyard and against nginx serving a
//! copy of the bytes Packyard answered, at the same paths. The machine is shared, so each pair
//! runs in 3 interleaved rounds (packyard, then nginx, per request, per round): the table holds
//! the median run of each side and every round's ratio.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::bench_support::{self, ratio, vm_hwm_kib, work_dir, wrk_warm_up, WrkRun};
use crate::shell;

const VERSIONS: usize = 200;
const MODULE: &str = "example.test/bench";
const BLOB_BYTES: usize = 1 << 20;
/// Interleaved wrk rounds of each request (one with `--quick`).
const ROUNDS: usize = 3;

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { ROUNDS };
    let wrk_args: &[&str] = if quick {
        &["-t2", "-c16", "-d3s", "--latency"]
    } else {
        &["-t2", "-c16", "-d10s", "--latency"]
    };
    // The binary users run, with every default format (Go is one).
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let curl = shell::ensure_tool("curl", "curl")?;
    let wrk = shell::ensure_tool("wrk", "wrk")?;
    let nginx_bin = bench_support::nginx_binary()?;

    let work = work_dir("go-")?;
    let work = work.path();

    // ---- one certificate for both servers, trusted by curl (wrk does not verify)
    let cert = work.join("cert.pem");
    let key = work.join("key.pem");
    shell::run(
        Command::new(&packyard)
            .args([
                "admin",
                "self-signed-cert",
                "--host",
                "localhost",
                "--ip",
                "127.0.0.1",
            ])
            .arg("--cert-out")
            .arg(&cert)
            .arg("--key-out")
            .arg(&key),
    )?;

    // ---- Packyard over TLS, and the 200 versions
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data = work.join("data");
    fs::create_dir_all(&data)?;
    let server = TlsServer::start(&packyard, &data, &token, work, &cert, &key)?;
    server.admin(&["create-group", "--path", "bench", "--visibility", "public"])?;
    let project: Value = serde_json::from_str(&server.admin(&[
        "create-project",
        "--path",
        "bench/go",
        "--visibility",
        "public",
    ])?)?;
    let id = project["id"].as_i64().context("project id")?;
    let base = format!("{}/api/v4/projects/{id}/packages/go", server.url);

    let zips = generate(&server, &work.join("modules"))?;
    println!("uploading {VERSIONS} versions of {MODULE}");
    let started = Instant::now();
    upload_batch(&curl, &cert, work, &base, &token, &zips)?;
    let upload_secs = started.elapsed().as_secs_f64();
    println!("uploaded {VERSIONS} module zips in {upload_secs:.1}s");

    // ---- what Packyard answers, checked
    let newest = zips.last().context("no module zips generated")?;
    let list_url = format!("{base}/{MODULE}/@v/list");
    let list = get_text(&curl, &cert, &list_url)?;
    if list.lines().count() != VERSIONS {
        bail!(
            "{list_url} lists {} versions, expected {VERSIONS}",
            list.lines().count()
        );
    }
    let info_url = format!("{base}/{MODULE}/@v/{}.info", newest.version);
    let info: Value = serde_json::from_str(&get_text(&curl, &cert, &info_url)?)
        .with_context(|| format!("{info_url} is not JSON"))?;
    if info["Version"] != newest.version.as_str() {
        bail!("{info_url} answered {info}");
    }
    let mod_url = format!("{base}/{MODULE}/@v/{}.mod", newest.version);
    let zip_url = format!("{base}/{MODULE}/@v/{}.zip", newest.version);

    // ---- a static copy of the same bytes, at the same paths, for nginx
    let root = work.join("static");
    let static_copy = |url: &str| -> Result<String> {
        let rel = url
            .strip_prefix(&server.url)
            .with_context(|| format!("{url} is not on {}", server.url))?
            .to_string();
        let path = root.join(rel.trim_start_matches('/'));
        shell::run(
            Command::new(&curl)
                .args(["-sS", "--fail", "--create-dirs", "--cacert"])
                .arg(&cert)
                .arg("-o")
                .arg(&path)
                .arg(url),
        )?;
        Ok(rel)
    };
    let list_rel = static_copy(&list_url)?;
    let info_rel = static_copy(&info_url)?;
    let mod_rel = static_copy(&mod_url)?;
    let zip_rel = static_copy(&zip_url)?;
    if fs::read(root.join(zip_rel.trim_start_matches('/')))? != fs::read(&newest.path)? {
        bail!("{zip_url} answered other bytes than the uploaded zip");
    }
    let size = |rel: &str| -> Result<u64> {
        Ok(fs::metadata(root.join(rel.trim_start_matches('/')))?.len())
    };
    let checks = [
        (
            format!("@v/list, {VERSIONS} versions ({} B)", size(&list_rel)?),
            list_rel.clone(),
        ),
        (format!(".info ({} B)", size(&info_rel)?), info_rel.clone()),
        (format!(".mod ({} B)", size(&mod_rel)?), mod_rel.clone()),
        (format!(".zip ({} B)", size(&zip_rel)?), zip_rel.clone()),
    ];
    let nginx = TlsNginx::start(&nginx_bin, &root, work, &cert, &key)?;
    wait_ok_tls(&curl, &cert, &format!("{}{list_rel}", nginx.url()), "nginx")?;

    // ---- wrk, side by side
    let load_before = load_average();
    let mut runs: Vec<(Vec<WrkRun>, Vec<WrkRun>)> =
        checks.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for round in 1..=rounds {
        println!("round {round} of {rounds}");
        for ((_, rel), (py, ng)) in checks.iter().zip(&mut runs) {
            py.push(wrk_ok(
                &wrk,
                &curl,
                &cert,
                wrk_args,
                &format!("{}{rel}", server.url),
            )?);
            ng.push(wrk_ok(
                &wrk,
                &curl,
                &cert,
                wrk_args,
                &format!("{}{rel}", nginx.url()),
            )?);
        }
    }
    let load_after = load_average();
    let rss = vm_hwm_kib(server.pid())? / 1024;
    drop(nginx);
    drop(server);

    // ---- the report
    println!(
        "\ngo: {MODULE} with {VERSIONS} versions, over TLS (HTTP/1.1, one self-signed \
         certificate for both servers); anonymous GETs, wrk {}, median of {rounds} interleaved \
         rounds",
        wrk_args.join(" ")
    );
    println!(
        "no peer Go proxy: none is packaged for Debian, and building one (Athens) needs Go \
         modules from the internet, unreachable here"
    );
    println!(
        "| request | packyard req/s | packyard p99 | nginx req/s | nginx p99 | packyard / nginx | each round | target |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|---:|");
    for ((label, _), (py_runs, ng_runs)) in checks.iter().zip(&runs) {
        let (py, ng) = (median_run(py_runs)?, median_run(ng_runs)?);
        let each: Vec<String> = py_runs
            .iter()
            .zip(ng_runs)
            .map(|(p, n)| ratio(p.rps, n.rps))
            .collect();
        println!(
            "| {label} | {:.0} | {} | {:.0} | {} | {} | {} | >= 0.7x |",
            py.rps,
            py.p99,
            ng.rps,
            ng.p99,
            ratio(py.rps, ng.rps),
            each.join(", ")
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "load average before / after the wrk runs: {load_before} / {load_after} on {cores} cores \
         (above {cores}: other work competed with wrk, nginx and packyard)"
    );
    println!("packyard peak RSS after the reads: {rss} MiB");
    println!("uploaded {VERSIONS} module zips with curl in {upload_secs:.1}s");
    Ok(())
}

/// One module zip made by `packyard admin go-module-zip`.
struct ModuleZip {
    version: String,
    path: PathBuf,
}

fn module_version(i: usize) -> String {
    format!("v1.{}.{}", i / 100, i % 100)
}

/// Writes the module directory of each version and zips it with `packyard admin
/// go-module-zip`, oldest first; the newest holds a 1 MiB file of random bytes.
fn generate(server: &TlsServer, dir: &Path) -> Result<Vec<ModuleZip>> {
    let mut blob = vec![0u8; BLOB_BYTES];
    File::open("/dev/urandom")?.read_exact(&mut blob)?;
    let mut zips = Vec::with_capacity(VERSIONS);
    for i in 0..VERSIONS {
        let version = module_version(i);
        let src = dir.join(&version);
        fs::create_dir_all(&src)?;
        fs::write(src.join("go.mod"), format!("module {MODULE}\n\ngo 1.19\n"))?;
        fs::write(
            src.join("bench.go"),
            format!(
                "// Package bench is written by cargo xtask bench go.\npackage bench\n\n\
                 // Version is the release this file belongs to.\nconst Version = \"{version}\"\n"
            ),
        )?;
        fs::write(
            src.join("LICENSE"),
            "Written by cargo xtask bench go; no rights reserved.\n",
        )?;
        if i + 1 == VERSIONS {
            fs::write(src.join("blob.bin"), &blob)?;
        }
        let path = dir.join(format!("{version}.zip"));
        server.admin(&[
            "go-module-zip",
            "--module",
            MODULE,
            "--version",
            &version,
            &src.display().to_string(),
            "--out",
            &path.display().to_string(),
        ])?;
        zips.push(ModuleZip { version, path });
    }
    Ok(zips)
}

// ---- HTTP

/// The curl config uploading each zip to its URL below `base` (`PUT` of the file,
/// `PRIVATE-TOKEN`), one transfer per zip separated by `next`, each printing its status and
/// version.
fn upload_config(base: &str, cert: &Path, token: &str, zips: &[ModuleZip]) -> String {
    let mut config = String::new();
    for (i, z) in zips.iter().enumerate() {
        if i > 0 {
            config.push_str("next\n");
        }
        config.push_str(&format!(
            "url = \"{base}/{MODULE}/@v/{v}.zip\"\nupload-file = \"{}\"\n\
             header = \"PRIVATE-TOKEN: {token}\"\ncacert = \"{}\"\noutput = \"/dev/null\"\n\
             silent\nshow-error\nwrite-out = \"%{{http_code}} {v}\\n\"\n",
            z.path.display(),
            cert.display(),
            v = z.version
        ));
    }
    config
}

/// Uploads every zip with one curl (one kept-alive connection); an error naming each upload
/// that did not answer 2xx.
fn upload_batch(
    curl: &Path,
    cert: &Path,
    work: &Path,
    base: &str,
    token: &str,
    zips: &[ModuleZip],
) -> Result<()> {
    let config = work.join("upload.curlrc");
    fs::write(&config, upload_config(base, cert, token, zips))?;
    let out = Command::new(curl)
        .arg("-K")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("running curl (upload)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let answered = text.lines().count();
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('2'))
        .take(20)
        .collect();
    if !failed.is_empty() || answered != zips.len() || !out.status.success() {
        bail!(
            "upload: {answered} of {} uploads answered, these not with 2xx (curl {}):\n{}\n{}",
            zips.len(),
            out.status,
            failed.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn get_text(curl: &Path, cert: &Path, url: &str) -> Result<String> {
    shell::output(
        Command::new(curl)
            .args(["-sS", "--fail", "--cacert"])
            .arg(cert)
            .arg(url),
    )
}

fn status_of(curl: &Path, cert: &Path, url: &str) -> Result<u16> {
    let code = shell::output(
        Command::new(curl)
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(cert)
            .arg(url),
    )?;
    code.trim()
        .parse()
        .with_context(|| format!("curl printed `{code}` for {url}, not a status"))
}

/// A warmed-up wrk run of `url`, which must answer 200 before and after it and nothing but
/// 2xx or 3xx during it.
fn wrk_ok(wrk: &Path, curl: &Path, cert: &Path, args: &[&str], url: &str) -> Result<WrkRun> {
    let check = |when: &str| -> Result<()> {
        let got = status_of(curl, cert, url)?;
        if got != 200 {
            bail!("{url} answered {got} {when} the wrk run, expected 200");
        }
        Ok(())
    };
    check("before")?;
    wrk_warm_up(wrk, &[], url)?;
    let run = bench_support::wrk_run(wrk, args, &[], url)?;
    check("after")?;
    println!("  {url}: {:.0} req/s, p99 {}", run.rps, run.p99);
    Ok(run)
}

/// The run with the median requests/s (the upper one of an even count).
fn median_run(runs: &[WrkRun]) -> Result<&WrkRun> {
    let mut sorted: Vec<&WrkRun> = runs.iter().collect();
    sorted.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    sorted.get(sorted.len() / 2).copied().context("no wrk runs")
}

/// The 1-minute load average from `/proc/loadavg`, `?` when unreadable.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

// ---- TLS servers
//
// Local to this bench because bench_support.rs had no TLS variant of its Server and Nginx when it
// was written: fold them into those once it does (`cargo xtask bench tls` needs the same).

/// `packyard serve` over TLS (`PACKYARD_TLS_CERT_FILE`/`_KEY_FILE`) on a free port of
/// 127.0.0.1, its log in `packyard-PORT.log` of the folder given; stopped on drop.
struct TlsServer {
    child: std::process::Child,
    url: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
}

impl TlsServer {
    fn start(
        binary: &Path,
        data_dir: &Path,
        token: &str,
        logs: &Path,
        cert: &Path,
        key: &Path,
    ) -> Result<TlsServer> {
        let port = shell::free_port()?;
        let url = format!("https://127.0.0.1:{port}");
        let env = vec![
            (
                "PACKYARD_DATA_DIR".to_string(),
                data_dir.display().to_string(),
            ),
            ("PACKYARD_LISTEN".to_string(), format!("127.0.0.1:{port}")),
            ("PACKYARD_EXTERNAL_URL".to_string(), url.clone()),
            ("PACKYARD_INITIAL_ROOT_TOKEN".to_string(), token.to_string()),
            (
                "PACKYARD_TLS_CERT_FILE".to_string(),
                cert.display().to_string(),
            ),
            (
                "PACKYARD_TLS_KEY_FILE".to_string(),
                key.display().to_string(),
            ),
        ];
        let log_path = logs.join(format!("packyard-{port}.log"));
        let log = File::create(&log_path)?;
        let child = Command::new(binary)
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = TlsServer {
            child,
            url,
            binary: binary.to_path_buf(),
            env,
        };
        let curl = shell::ensure_tool("curl", "curl")?;
        let ready = format!("{}/-/readiness", server.url);
        if let Err(e) = wait_ok_tls(&curl, cert, &ready, "packyard") {
            bench_support::stop(&mut server.child);
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            bail!("{e}\nserver log:\n{log}");
        }
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `packyard admin ARGS` against the server's data dir: what it prints.
    fn admin(&self, args: &[&str]) -> Result<String> {
        shell::output(
            Command::new(&self.binary)
                .arg("admin")
                .args(args)
                .envs(self.env.iter().map(|(k, v)| (k, v))),
        )
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        bench_support::stop(&mut self.child);
    }
}

/// Polls `url` (trusting `cert`) until it answers 200, for up to 60 s.
fn wait_ok_tls(curl: &Path, cert: &Path, url: &str, what: &str) -> Result<()> {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let code = status_of(curl, cert, url).unwrap_or_default();
        if code == 200 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what} did not answer 200 at {url} within 60 s (last: {code})");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// nginx serving a folder over TLS on 127.0.0.1 (HTTP/1.1, the certificate given), each file
/// with the content type Packyard gives it; its config in `WORK/nginx-tls`; stopped on drop.
struct TlsNginx {
    child: std::process::Child,
    port: u16,
}

impl TlsNginx {
    fn start(binary: &Path, root: &Path, work: &Path, cert: &Path, key: &Path) -> Result<TlsNginx> {
        let dir = work.join("nginx-tls");
        fs::create_dir_all(&dir)?;
        let port = shell::free_port()?;
        // As root, nginx workers would drop to `nobody`, who may not read target/.
        let user = if shell::is_root() { "user root;\n" } else { "" };
        let d = dir.display();
        let text = format!(
            "{user}daemon off;\nworker_processes auto;\nerror_log stderr;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n\
             \x20 types {{ application/json info; application/zip zip; }}\n\
             \x20 default_type \"text/plain; charset=utf-8\";\n\
             \x20 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n    listen 127.0.0.1:{port} ssl;\n\
             \x20   ssl_certificate {cert};\n    ssl_certificate_key {key};\n\
             \x20   ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_cache shared:SSL:1m;\n\
             \x20   root {root};\n  }}\n}}\n",
            cert = cert.display(),
            key = key.display(),
            root = root.display()
        );
        let conf = dir.join("nginx.conf");
        fs::write(&conf, text)?;
        let mut cmd = Command::new(binary);
        cmd.arg("-p")
            .arg(&dir)
            .args(["-e", "stderr", "-c"])
            .arg(&conf)
            .stdin(Stdio::null());
        println!("$ {}", shell::display(&cmd));
        let child = cmd.spawn().context("starting nginx")?;
        Ok(TlsNginx { child, port })
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsNginx {
    fn drop(&mut self) {
        bench_support::stop(&mut self.child);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_in_semver_order() {
        assert_eq!(module_version(0), "v1.0.0");
        assert_eq!(module_version(99), "v1.0.99");
        assert_eq!(module_version(VERSIONS - 1), "v1.1.99");
    }

    #[test]
    fn the_upload_config_puts_each_zip_at_its_version() {
        let zips = [
            ModuleZip {
                version: "v1.0.0".into(),
                path: PathBuf::from("/b/v1.0.0.zip"),
            },
            ModuleZip {
                version: "v1.0.1".into(),
                path: PathBuf::from("/b/v1.0.1.zip"),
            },
        ];
        let config = upload_config("https://h/go", Path::new("/c.pem"), "tok", &zips);
        assert_eq!(config.matches("\nnext\n").count(), 1, "{config}");
        assert!(config.contains("url = \"https://h/go/example.test/bench/@v/v1.0.1.zip\"\nupload-file = \"/b/v1.0.1.zip\"\n"));
        assert_eq!(config.matches("header = \"PRIVATE-TOKEN: tok\"").count(), 2);
        assert_eq!(config.matches("cacert = \"/c.pem\"").count(), 2);
        assert!(config.contains("write-out = \"%{http_code} v1.0.0\\n\""));
    }

    #[test]
    fn the_median_run_is_the_middle_one_by_requests_per_second() {
        let run = |rps: f64| WrkRun {
            rps,
            p99: "1ms".into(),
        };
        let runs = [run(300.0), run(100.0), run(200.0)];
        assert_eq!(median_run(&runs).unwrap().rps, 200.0);
        assert!(median_run(&[]).is_err());
    }
}
