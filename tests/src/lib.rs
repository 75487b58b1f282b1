//! End-to-end harness: starts the real `packyard` binary and drives it with real clients
//! (the `curl` CLI and python-gitlab), as a user would.
//!
//! Environment (set by `cargo xtask e2e` / `cargo xtask ci`):
//! - `PACKYARD_BIN`: the server binary (default `<workspace>/target/debug/packyard`).
//! - `PACKYARD_E2E_PYTHON`: a python with python-gitlab installed (default `python3`).
//! - `PACKYARD_E2E_POSTGRES_ADMIN_URL` (+ `PACKYARD_E2E_PSQL`): every server gets a fresh
//!   PostgreSQL database created through this URL; else `PACKYARD_E2E_DATABASE_URL`, shared
//!   by all servers; else the server's default (SQLite in its data dir).
//! - `PACKYARD_E2E_S3_ENDPOINT`, `_BUCKET`, `_ACCESS_KEY`, `_SECRET_KEY`: blobs go to that S3
//!   server, under a random prefix per server; else the server's default (filesystem).
//!
//! The GitLab API this exercises is specified in `../shared/specs/gitlab-api.md` §3–§5.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub mod nuget_v3;

/// A running `packyard serve` on a fresh data dir (and database, and S3 prefix), killed on drop.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT` for [`Server::start_tls`].
    pub url: String,
    /// The token given as `PACKYARD_INITIAL_ROOT_TOKEN`.
    pub root_token: String,
    env: Vec<(String, String)>,
    binary: PathBuf,
    dir: TempDir,
    log_path: PathBuf,
    s3: bool,
    database_url: Option<String>,
    /// The self-signed certificate served, when over TLS.
    ca_file: Option<PathBuf>,
}

impl Server {
    /// Starts a server with the default configuration for this run.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts a server with extra `PACKYARD_*` settings.
    pub fn start_with(extra_env: &[(&str, &str)]) -> Server {
        Server::launch(extra_env, false)
    }

    /// Starts a server over https: a certificate for `localhost` and `127.0.0.1` made by
    /// `packyard admin self-signed-cert` in the server's temp dir ([`Server::ca_file`]),
    /// served with `PACKYARD_TLS_CERT_FILE`/`PACKYARD_TLS_KEY_FILE`.
    pub fn start_tls() -> Server {
        Server::start_tls_with(&[])
    }

    /// [`Server::start_tls`] with extra `PACKYARD_*` settings.
    pub fn start_tls_with(extra_env: &[(&str, &str)]) -> Server {
        Server::launch(extra_env, true)
    }

    fn launch(extra_env: &[(&str, &str)], tls: bool) -> Server {
        let binary = packyard_bin();
        assert!(
            binary.is_file(),
            "{} does not exist: build it with `cargo build -p packyard` or set PACKYARD_BIN",
            binary.display()
        );
        let mut dir = tempfile::Builder::new()
            .prefix("packyard-e2e-")
            .tempdir()
            .expect("temp dir");
        let data_dir = dir.path().join("data");
        fs::create_dir_all(&data_dir).expect("data dir");
        let root_token = format!("root-{}", random_hex(16));
        let mut base_env = vec![
            ("PACKYARD_DATA_DIR".to_string(), path_str(&data_dir)),
            (
                "PACKYARD_INITIAL_ROOT_TOKEN".to_string(),
                root_token.clone(),
            ),
        ];
        let database_url = database_url();
        if let Some(url) = &database_url {
            base_env.push(("PACKYARD_DATABASE_URL".to_string(), url.clone()));
        }
        let s3 = match std::env::var("PACKYARD_E2E_S3_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => {
                let var = |name: &str| {
                    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set with S3"))
                };
                base_env.extend([
                    ("PACKYARD_STORAGE_BACKEND".to_string(), "s3".to_string()),
                    ("PACKYARD_S3_ENDPOINT".to_string(), endpoint),
                    (
                        "PACKYARD_S3_BUCKET".to_string(),
                        var("PACKYARD_E2E_S3_BUCKET"),
                    ),
                    (
                        "PACKYARD_S3_ACCESS_KEY_ID".to_string(),
                        var("PACKYARD_E2E_S3_ACCESS_KEY"),
                    ),
                    (
                        "PACKYARD_S3_SECRET_ACCESS_KEY".to_string(),
                        var("PACKYARD_E2E_S3_SECRET_KEY"),
                    ),
                    ("PACKYARD_S3_REGION".to_string(), "us-east-1".to_string()),
                    ("PACKYARD_S3_PATH_STYLE".to_string(), "true".to_string()),
                    (
                        "PACKYARD_S3_PREFIX".to_string(),
                        format!("e2e-{}/", random_hex(8)),
                    ),
                ]);
                true
            }
            _ => false,
        };
        let ca_file = if tls {
            let tls_dir = dir.path().join("tls");
            fs::create_dir_all(&tls_dir).expect("tls dir");
            let cert = tls_dir.join("cert.pem");
            let key = tls_dir.join("key.pem");
            let out = Command::new(&binary)
                .args([
                    "admin",
                    "self-signed-cert",
                    "--host",
                    "localhost",
                    "--ip",
                    "127.0.0.1",
                    "--cert-out",
                ])
                .arg(&cert)
                .arg("--key-out")
                .arg(&key)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
            assert!(
                out.status.success(),
                "packyard admin self-signed-cert failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            base_env.push(("PACKYARD_TLS_CERT_FILE".to_string(), path_str(&cert)));
            base_env.push(("PACKYARD_TLS_KEY_FILE".to_string(), path_str(&key)));
            Some(cert)
        } else {
            None
        };
        let scheme = if tls { "https" } else { "http" };
        for (k, v) in extra_env {
            base_env.push((k.to_string(), v.to_string()));
        }

        // A free port can be taken between our check and the server's bind: retry.
        let mut last_failure = String::new();
        for attempt in 0..3 {
            let port = free_port();
            let url = format!("{scheme}://127.0.0.1:{port}");
            let mut env = base_env.clone();
            env.push(("PACKYARD_LISTEN".to_string(), format!("127.0.0.1:{port}")));
            env.push(("PACKYARD_EXTERNAL_URL".to_string(), url.clone()));
            let log_path = dir.path().join(format!("server-{attempt}.log"));
            let log = File::create(&log_path).expect("log file");
            let mut cmd = Command::new(&binary);
            cmd.arg("serve")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log file"))
                .stderr(log);
            apply_env(&mut cmd, &env);
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut server = Server {
                child: Some(child),
                url,
                root_token: root_token.clone(),
                env,
                binary: binary.clone(),
                dir,
                log_path,
                s3,
                database_url: database_url.clone(),
                ca_file: ca_file.clone(),
            };
            match server.wait_ready(Duration::from_secs(30)) {
                Ok(()) => return server,
                Err(why) => {
                    last_failure = format!("{why}\n--- server log ---\n{}", server.log());
                    let exited = server.kill();
                    dir = server.into_dir();
                    if !exited {
                        break;
                    }
                }
            }
        }
        panic!("packyard did not become ready: {last_failure}");
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let url = format!("{}/-/readiness", self.url);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("server exited early with {status}"));
                }
            }
            let mut curl = Command::new("curl");
            curl.args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "2",
            ]);
            if let Some(ca) = &self.ca_file {
                curl.arg("--cacert").arg(ca);
            }
            let out = curl.arg(&url).output().expect("curl must be installed");
            let code = String::from_utf8_lossy(&out.stdout).to_string();
            if code == "200" {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "GET /-/readiness did not answer 200 within {timeout:?} (last: {code})"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the process; true if it had already exited by itself.
    fn kill(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        let _ = child.kill();
        let _ = child.wait();
        exited
    }

    fn into_dir(mut self) -> TempDir {
        self.kill();
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// The certificate a TLS server serves (self-signed: clients trust it as their CA, with
    /// `SSL_CERT_FILE` or `curl --cacert`); `None` for a plain-HTTP server.
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.ca_file.clone()
    }

    /// The server's process id, while it runs (to send it a signal).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's temp dir (its data dir, logs and, over TLS, `tls/cert.pem` and
    /// `tls/key.pem`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server (the data stays, for `gc`/`fsck` on a stopped server).
    pub fn stop(&mut self) {
        self.kill();
    }

    /// The server's stdout and stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Whether blobs go to S3 (else the filesystem under the data dir).
    pub fn uses_s3(&self) -> bool {
        self.s3
    }

    /// The PostgreSQL URL the server runs on, if not its SQLite default.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// Runs one SQL query on the server's PostgreSQL database with `psql`; the unaligned result.
    pub fn psql(&self, sql: &str) -> String {
        let url = self.database_url().expect("the server runs on SQLite");
        let psql = std::env::var("PACKYARD_E2E_PSQL").unwrap_or_else(|_| "psql".to_string());
        let out = Command::new(&psql)
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-c",
                sql,
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {psql}: {e}"));
        assert!(
            out.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `http://host/api/v4` + `path`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v4{path}", self.url)
    }

    /// Runs `packyard ARGS` with the server's configuration.
    pub fn command(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.binary);
        cmd.args(args).stdin(Stdio::null());
        apply_env(&mut cmd, &self.env);
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run packyard {args:?}: {e}"))
    }

    /// Runs `packyard admin ARGS`, panics unless it succeeds, and returns stdout trimmed.
    pub fn admin(&self, args: &[&str]) -> String {
        let mut full = vec!["admin"];
        full.extend_from_slice(args);
        let out = self.command(&full);
        assert!(
            out.status.success(),
            "packyard {} failed ({}):\nstdout: {}\nstderr: {}",
            full.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Creates `group/project` and returns the project's numeric id. The group is created
    /// public if it does not exist yet, so it admits a project of any visibility.
    pub fn create_project(&self, path: &str, visibility: &str) -> i64 {
        let (group, _) = path.rsplit_once('/').expect("project path needs a group");
        // Fails harmlessly when the group exists (several projects in one group).
        let _ = self.command(&[
            "admin",
            "create-group",
            "--path",
            group,
            "--visibility",
            "public",
        ]);
        let project = parse_json(&self.admin(&[
            "create-project",
            "--path",
            path,
            "--visibility",
            visibility,
        ]));
        assert_eq!(
            project["full_path"], path,
            "create-project output: {project}"
        );
        project["id"].as_i64().expect("project id")
    }

    /// Creates a user with an `api` personal access token; returns the token.
    pub fn create_user_with_token(&self, username: &str) -> String {
        let user = parse_json(&self.admin(&[
            "create-user",
            "--username",
            username,
            "--email",
            &format!("{username}@example.com"),
            "--name",
            username,
        ]));
        assert_eq!(user["username"], username, "create-user output: {user}");
        self.admin(&[
            "create-token",
            "--user",
            username,
            "--name",
            "e2e",
            "--scopes",
            "api",
        ])
    }

    /// Creates a user who signs in to the web UI with `password` (an admin with `admin`).
    pub fn create_user_with_password(&self, username: &str, password: &str, admin: bool) {
        use std::io::Write;
        let email = format!("{username}@example.com");
        let mut args = vec![
            "admin",
            "create-user",
            "--username",
            username,
            "--email",
            &email,
            "--name",
            username,
            "--password-stdin",
        ];
        if admin {
            args.push("--admin");
        }
        let mut cmd = Command::new(&self.binary);
        cmd.args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        apply_env(&mut cmd, &self.env);
        let mut child = cmd.spawn().expect("packyard admin create-user");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes())
            .expect("write password");
        let out = child.wait_with_output().expect("create-user");
        assert!(
            out.status.success(),
            "create-user {username}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn add_member(&self, path: &str, username: &str, access_level: u32) {
        self.admin(&[
            "add-member",
            "--path",
            path,
            "--user",
            username,
            "--access-level",
            &access_level.to_string(),
        ]);
    }

    /// Runs `curl -sS ARGS` and returns what came back. Never fails on an HTTP status.
    /// (With `-I`, curl writes the headers where the body would go.) Over TLS,
    /// `--cacert <the server's certificate>` comes first.
    pub fn curl(&self, args: &[&str]) -> Response {
        match &self.ca_file {
            Some(ca) => {
                let ca = path_str(ca);
                let mut all = vec!["--cacert", ca.as_str()];
                all.extend_from_slice(args);
                curl(&all)
            }
            None => curl(args),
        }
    }

    /// Sends `request` (a whole HTTP/1.1 request; `Connection: close` is added) over a plain
    /// TCP connection and returns every byte the server sent back, for what curl hides
    /// (a body after a HEAD response). Plain HTTP only: not for a [`Server::start_tls`].
    pub fn raw_http(&self, request: &str) -> Vec<u8> {
        use std::io::Write;
        assert!(
            self.ca_file.is_none(),
            "raw_http speaks plain HTTP: use curl on a TLS server"
        );
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let request = request.trim_end_matches("\r\n");
        write!(stream, "{request}\r\nConnection: close\r\n\r\n").expect("send request");
        let mut response = Vec::new();
        // A read timeout means the server kept the connection open: return what came so far.
        let _ = stream.read_to_end(&mut response);
        response
    }

    /// Runs a python-gitlab script with `PACKYARD_URL` and `PACKYARD_TOKEN` (plus `env`) set;
    /// the script prints one JSON document as its last stdout line.
    pub fn python(&self, script: &str, token: &str, env: &[(&str, &str)]) -> Value {
        let mut cmd = Command::new(python());
        cmd.arg("-c")
            .arg(script)
            .env("PACKYARD_URL", &self.url)
            .env("PACKYARD_TOKEN", token)
            .stdin(Stdio::null());
        if let Some(ca) = &self.ca_file {
            // python-gitlab (requests) trusts this bundle.
            cmd.env("REQUESTS_CA_BUNDLE", ca).env("SSL_CERT_FILE", ca);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("cannot run python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "python script failed ({}):\nstdout: {stdout}\nstderr: {}\n--- server log ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        let last = stdout.lines().last().unwrap_or_default();
        parse_json(last)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("--- packyard log ({}) ---\n{}", self.url, self.log());
        }
    }
}

/// What curl got: final status, final headers (lower-cased names), body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// curl's stderr (verbose output when `-v` is passed).
    pub stderr: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "expected JSON ({e}), got status {} body {:?}",
                self.status,
                self.text()
            )
        })
    }

    /// Asserts the status and that the body is a GitLab error document
    /// (`{"message": ...}` or `{"error": ...}`); returns its text.
    pub fn expect_error(&self, status: u16) -> String {
        assert_eq!(
            self.status,
            status,
            "unexpected status, body: {}",
            self.text()
        );
        let json = self.json();
        let message = json.get("message").or_else(|| json.get("error"));
        match message {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => panic!("error body has neither message nor error: {json}"),
        }
    }
}

/// Runs `curl -sS ARGS`; the status, headers and body of the final response.
pub fn curl(args: &[&str]) -> Response {
    let dir = tempfile::tempdir().expect("temp dir");
    let headers_path = dir.path().join("headers");
    let body_path = dir.path().join("body");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "120", "-D"])
        .arg(&headers_path)
        .arg("-o")
        .arg(&body_path)
        .args(["-w", "%{http_code}"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("curl must be installed");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "curl {args:?} failed ({}): {stderr}",
        out.status
    );
    let status: u16 = code
        .parse()
        .unwrap_or_else(|_| panic!("curl printed status {code:?}"));
    let raw_headers = fs::read_to_string(&headers_path).unwrap_or_default();
    // With `Expect: 100-continue` the file holds the interim response first: keep the last block.
    let last_block = raw_headers
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or_default();
    let headers = last_block
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = fs::read(&body_path).unwrap_or_default();
    Response {
        status,
        headers,
        body,
        stderr,
    }
}

pub fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("expected JSON ({e}): {text:?}"))
}

/// The sha256 of a file as `sha256sum` computes it.
pub fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum must be installed");
    assert!(out.status.success(), "sha256sum failed");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha256sum output")
        .to_string()
}

/// A file of `size` random bytes in `dir`.
pub fn random_file(dir: &Path, name: &str, size: usize) -> PathBuf {
    let mut bytes = vec![0u8; size];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write test file");
    path
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn path_str(path: &Path) -> String {
    path.to_str().expect("utf-8 path").to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Sets `env` on `cmd`, and keeps every other `PACKYARD_*` variable of the test runner away.
fn apply_env(cmd: &mut Command, env: &[(String, String)]) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PACKYARD_") {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
}

fn packyard_bin() -> PathBuf {
    match std::env::var_os("PACKYARD_BIN") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("debug")
            .join("packyard"),
    }
}

fn python() -> PathBuf {
    std::env::var_os("PACKYARD_E2E_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// The database for a new server: a fresh one per server through the admin URL, else the
/// shared `PACKYARD_E2E_DATABASE_URL`, else none (the server's SQLite default).
fn database_url() -> Option<String> {
    if let Ok(admin) = std::env::var("PACKYARD_E2E_POSTGRES_ADMIN_URL") {
        if !admin.is_empty() {
            let name = format!("packyard_e2e_{}", random_hex(6));
            let psql = std::env::var("PACKYARD_E2E_PSQL").unwrap_or_else(|_| "psql".to_string());
            let out = Command::new(&psql)
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &admin, "-c"])
                .arg(format!("CREATE DATABASE \"{name}\""))
                .output()
                .unwrap_or_else(|e| panic!("cannot run {psql}: {e}"));
            assert!(
                out.status.success(),
                "CREATE DATABASE failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let (base, _) = admin
                .rsplit_once('/')
                .expect("admin URL ends with /DATABASE");
            return Some(format!("{base}/{name}"));
        }
    }
    std::env::var("PACKYARD_E2E_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}
