//! Helpers shared by the `cargo xtask bench` commands: the Packyard server under test, nginx
//! serving a static copy (the ceiling), peer registries, wrk runs, process control, memory
//! readings and small formatting. A format's bench is its workload: what it publishes, which
//! URLs it loads, and its table.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::shell;

/// A fresh work folder `target/bench/PREFIX…` for one run, removed on drop.
pub fn work_dir(prefix: &str) -> Result<tempfile::TempDir> {
    let bench_dir = shell::target_dir()?.join("bench");
    fs::create_dir_all(&bench_dir)?;
    Ok(tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&bench_dir)?)
}

/// `path` when it is an executable file.
pub fn executable(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    shell::is_executable(&p).then_some(p)
}

/// `a / b` as `0.00x`.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".to_string()
    }
}

/// Sends SIGTERM, waits up to 10 s, then SIGKILL.
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Peak resident memory (`VmHWM`) of a process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmHWM in /proc/{pid}/status"))
}

/// Polls `url` until it answers 200, for up to 60 s.
pub fn wait_ok(curl: &Path, url: &str, what: &str) -> Result<()> {
    wait_for_200(curl, url, what, false)
}

/// [`wait_ok`] with HEAD requests, for a URL whose body is large.
pub fn wait_head_ok(curl: &Path, url: &str, what: &str) -> Result<()> {
    wait_for_200(curl, url, what, true)
}

/// [`wait_ok`] over https, trusting the certificate `ca` (e.g. from [`self_signed_cert`]).
pub fn wait_ok_tls(curl: &Path, url: &str, what: &str, ca: &Path) -> Result<()> {
    wait_for_200_with(curl, url, what, false, Some(ca))
}

/// [`wait_head_ok`] over https, trusting the certificate `ca`.
pub fn wait_head_ok_tls(curl: &Path, url: &str, what: &str, ca: &Path) -> Result<()> {
    wait_for_200_with(curl, url, what, true, Some(ca))
}

fn wait_for_200(curl: &Path, url: &str, what: &str, head: bool) -> Result<()> {
    wait_for_200_with(curl, url, what, head, None)
}

fn wait_for_200_with(
    curl: &Path,
    url: &str,
    what: &str,
    head: bool,
    ca: Option<&Path>,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut cmd = Command::new(curl);
        if let Some(ca) = ca {
            cmd.arg("--cacert").arg(ca);
        }
        let code = cmd
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", url])
            .args(if head { &["-I"][..] } else { &[][..] })
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        if code == "200" {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what} did not answer 200 at {url} within 60 s (last: {code:?})");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A certificate for `localhost` and `127.0.0.1` and its key, written into `dir` as
/// `cert.pem` and `key.pem` by `packyard admin self-signed-cert`: for [`Server::start_tls`]
/// and [`Nginx::start_tls`] (the same files, so both serve the same certificate), and for
/// clients as their CA (`curl --cacert`, `SSL_CERT_FILE`).
pub fn self_signed_cert(packyard: &Path, dir: &Path) -> Result<TlsFiles> {
    fs::create_dir_all(dir)?;
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    shell::output(
        Command::new(packyard)
            .args(["admin", "self-signed-cert", "--force"])
            .args(["--host", "localhost", "--ip", "127.0.0.1", "--cert-out"])
            .arg(&files.cert)
            .arg("--key-out")
            .arg(&files.key),
    )?;
    Ok(files)
}

/// A PEM certificate and its key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// `packyard serve` on a data dir with an initial root token, on a free port of 127.0.0.1,
/// its log in `packyard-PORT.log` of the folder given; stopped on drop.
pub struct Server {
    child: Child,
    pub url: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts the server and waits until it is ready; if it does not get ready, stops it and
    /// fails with its log.
    pub fn start(binary: &Path, data_dir: &Path, token: &str, logs: &Path) -> Result<Server> {
        Server::launch(binary, data_dir, token, logs, None)
    }

    /// [`Server::start`] over https with `tls` (`url` is `https://127.0.0.1:PORT`; clients
    /// trust `tls.cert`).
    pub fn start_tls(
        binary: &Path,
        data_dir: &Path,
        token: &str,
        logs: &Path,
        tls: &TlsFiles,
    ) -> Result<Server> {
        Server::launch(binary, data_dir, token, logs, Some(tls))
    }

    fn launch(
        binary: &Path,
        data_dir: &Path,
        token: &str,
        logs: &Path,
        tls: Option<&TlsFiles>,
    ) -> Result<Server> {
        let port = shell::free_port()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        let mut env = vec![
            (
                "PACKYARD_DATA_DIR".to_string(),
                data_dir.display().to_string(),
            ),
            ("PACKYARD_LISTEN".to_string(), format!("127.0.0.1:{port}")),
            ("PACKYARD_EXTERNAL_URL".to_string(), url.clone()),
            ("PACKYARD_INITIAL_ROOT_TOKEN".to_string(), token.to_string()),
            // The default log level (info, one access-log line per request), as installed.
        ];
        if let Some(tls) = tls {
            env.push((
                "PACKYARD_TLS_CERT_FILE".to_string(),
                tls.cert.display().to_string(),
            ));
            env.push((
                "PACKYARD_TLS_KEY_FILE".to_string(),
                tls.key.display().to_string(),
            ));
        }
        let log_path = logs.join(format!("packyard-{port}.log"));
        let log = fs::File::create(&log_path)?;
        let child = Command::new(binary)
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = Server {
            child,
            url,
            binary: binary.to_path_buf(),
            env,
        };
        let curl = shell::ensure_tool("curl", "curl")?;
        let ready = format!("{}/-/readiness", server.url);
        let waited = match tls {
            Some(tls) => wait_ok_tls(&curl, &ready, "packyard", &tls.cert),
            None => wait_ok(&curl, &ready, "packyard"),
        };
        if let Err(e) = waited {
            stop(&mut server.child);
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            bail!("{e}\nserver log:\n{log}");
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn admin_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("admin")
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// `packyard admin ARGS` against the server's data dir: what it prints.
    pub fn admin(&self, args: &[&str]) -> Result<String> {
        shell::output(&mut self.admin_command(args))
    }

    /// [`Server::admin`] with `input` (and a newline) on its standard input, for
    /// `--password-stdin`.
    pub fn admin_with_input(&self, args: &[&str], input: &str) -> Result<String> {
        let mut cmd = self.admin_command(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("running {}", shell::display(&cmd)))?;
        if let Some(mut pipe) = child.stdin.take() {
            writeln!(pipe, "{input}")?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "{} failed: {}",
                shell::display(&cmd),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The nginx binary: on `PATH`, or `/usr/sbin/nginx`, else installed with apt-get.
pub fn nginx_binary() -> Result<PathBuf> {
    if let Some(p) = shell::which("nginx").or_else(|| executable("/usr/sbin/nginx")) {
        return Ok(p);
    }
    shell::apt_install(&["nginx"])?;
    shell::which("nginx")
        .or_else(|| executable("/usr/sbin/nginx"))
        .context("nginx still missing after apt-get install nginx")
}

/// How [`Nginx`] serves its folder.
pub struct NginxConfig<'a> {
    /// `worker_processes`: a number or `auto`.
    pub workers: &'a str,
    pub worker_connections: u32,
    /// The `Content-Type` of every file (nginx's `default_type`).
    pub default_type: &'a str,
    /// The port to listen on; `None` picks a free one.
    pub port: Option<u16>,
}

/// nginx serving a folder as static files on 127.0.0.1, in the foreground, its config and
/// temp folders in `WORK/nginx`, errors on standard error; stopped on drop.
pub struct Nginx {
    child: Child,
    pub port: u16,
    tls: bool,
}

impl Nginx {
    /// Starts nginx; it may not answer yet (wait with [`wait_ok`] on a file of `root`).
    pub fn start(
        binary: &Path,
        root: &Path,
        work: &Path,
        config: NginxConfig<'_>,
    ) -> Result<Nginx> {
        Nginx::launch(binary, root, work, config, None)
    }

    /// [`Nginx::start`] over https (TLS 1.2/1.3, ALPN `h2` and `http/1.1`) with the
    /// certificate and key of `tls`; [`Nginx::url`] is then `https://127.0.0.1:PORT`. Wait
    /// with [`wait_ok_tls`] / [`wait_head_ok_tls`].
    pub fn start_tls(
        binary: &Path,
        root: &Path,
        work: &Path,
        config: NginxConfig<'_>,
        tls: &TlsFiles,
    ) -> Result<Nginx> {
        Nginx::launch(binary, root, work, config, Some(tls))
    }

    fn launch(
        binary: &Path,
        root: &Path,
        work: &Path,
        config: NginxConfig<'_>,
        tls: Option<&TlsFiles>,
    ) -> Result<Nginx> {
        let dir = work.join("nginx");
        fs::create_dir_all(&dir)?;
        let port = match config.port {
            Some(p) => p,
            None => shell::free_port()?,
        };
        // As root, nginx workers would drop to `nobody`, who may not read target/ (e.g. under
        // /root).
        let user = if shell::is_root() { "user root;\n" } else { "" };
        let d = dir.display();
        // `listen ... ssl http2` is the spelling nginx 1.22 (Debian 12) knows; later ones
        // still accept it.
        let (listen_opts, tls_conf) = match tls {
            Some(tls) => (
                " ssl http2",
                format!(
                    "    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.2 TLSv1.3;\n",
                    tls.cert.display(),
                    tls.key.display()
                ),
            ),
            None => ("", String::new()),
        };
        let text = format!(
            "{user}daemon off;\nworker_processes {workers};\nerror_log stderr;\npid {d}/nginx.pid;\n\
             events {{ worker_connections {connections}; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  default_type {default_type};\n\
             \x20 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n    listen 127.0.0.1:{port}{listen_opts};\n{tls_conf}    root {root};\n  }}\n}}\n",
            workers = config.workers,
            connections = config.worker_connections,
            default_type = config.default_type,
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
        Ok(Nginx {
            child,
            port,
            tls: tls.is_some(),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` for [`Nginx::start_tls`]).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The master and its workers.
    pub fn pids(&self) -> Vec<u32> {
        let master = self.child.id();
        let mut pids = vec![master];
        if let Ok(entries) = fs::read_dir("/proc") {
            for entry in entries.flatten() {
                if let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
                    if parent_pid(pid) == Some(master) {
                        pids.push(pid);
                    }
                }
            }
        }
        pids
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops the workers too ("fast shutdown").
        stop(&mut self.child);
    }
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// A peer registry process (the comparison), its output in `log`; stopped on drop.
pub struct Peer(Child);

impl Peer {
    pub fn start(cmd: &mut Command, log: PathBuf) -> Result<Self> {
        let file = fs::File::create(&log)?;
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        println!("$ {}", shell::display(cmd));
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", shell::display(cmd)))?;
        Ok(Peer(child))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        stop(&mut self.0);
    }
}

/// What one wrk run measured.
pub struct WrkRun {
    pub rps: f64,
    /// The 99th percentile latency as wrk prints it (`1.23ms`), `?` when it printed none.
    pub p99: String,
}

impl WrkRun {
    /// [`WrkRun::p99`] in milliseconds.
    pub fn p99_ms(&self) -> Option<f64> {
        let s = self.p99.as_str();
        let (num, factor) = if let Some(v) = s.strip_suffix("us") {
            (v, 0.001)
        } else if let Some(v) = s.strip_suffix("ms") {
            (v, 1.0)
        } else if let Some(v) = s.strip_suffix('s') {
            (v, 1000.0)
        } else {
            return None;
        };
        num.parse::<f64>().ok().map(|n| n * factor)
    }
}

/// A short wrk run (`-t1 -c2 -d2s`) that fills caches and connection pools.
pub fn wrk_warm_up(wrk: &Path, headers: &[String], url: &str) -> Result<()> {
    shell::output(
        Command::new(wrk)
            .args(["-t1", "-c2", "-d2s"])
            .args(headers_args(headers))
            .arg(url),
    )
    .map(drop)
}

/// `wrk ARGS [-H HEADER].. URL` (ARGS should include `--latency`): its requests per second
/// and p99 latency; an error when wrk saw any response other than 2xx or 3xx.
pub fn wrk_run(wrk: &Path, args: &[&str], headers: &[String], url: &str) -> Result<WrkRun> {
    let out = shell::output(
        Command::new(wrk)
            .args(args)
            .args(headers_args(headers))
            .arg(url),
    )?;
    let rps = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{out}"))?;
    let p99 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "?".into());
    if let Some(e) = out.lines().find(|l| l.contains("Non-2xx")) {
        bail!("wrk saw errors on {url}: {e}");
    }
    Ok(WrkRun { rps, p99 })
}

fn headers_args(headers: &[String]) -> Vec<&str> {
    headers.iter().flat_map(|h| ["-H", h.as_str()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_read_in_milliseconds_from_each_unit_wrk_prints() {
        let ms = |p99: &str| {
            WrkRun {
                rps: 0.0,
                p99: p99.into(),
            }
            .p99_ms()
        };
        assert_eq!(ms("250.00us"), Some(0.25));
        assert_eq!(ms("1.50ms"), Some(1.5));
        assert_eq!(ms("2.00s"), Some(2000.0));
        assert_eq!(ms("?"), None);
    }

    #[test]
    fn each_header_becomes_one_dash_h_pair() {
        let headers = vec!["Accept: a".to_string(), "If-None-Match: \"x\"".to_string()];
        assert_eq!(
            headers_args(&headers),
            ["-H", "Accept: a", "-H", "If-None-Match: \"x\""]
        );
        assert!(headers_args(&[]).is_empty());
    }
}
