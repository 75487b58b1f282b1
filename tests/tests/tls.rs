//! `packyard serve` over https (docs/tls.md), driven with the `curl` CLI against a
//! certificate made by `packyard admin self-signed-cert`.

use std::path::Path;
use std::process::{Command, Stdio};

use packyard_e2e::{path_str, random_file, sha256sum, Server};

/// curl negotiates HTTP/2 and HTTP/1.1 by ALPN, trusting the self-signed certificate.
#[test]
fn curl_speaks_http2_and_http1_over_tls() {
    let server = Server::start_tls();
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let url = format!("{}/-/health", server.url);
    for (flag, status_line) in [("--http2", "< HTTP/2 200"), ("--http1.1", "< HTTP/1.1 200")] {
        let r = server.curl(&["-v", flag, &url]);
        assert_eq!(r.status, 200, "{flag}");
        assert_eq!(r.text(), "Packyard OK", "{flag}");
        assert!(r.stderr.contains(status_line), "{flag}: {}", r.stderr);
    }
}

/// A GitLab API call with a token, and a generic package uploaded and downloaded over https.
#[test]
fn api_and_generic_package_round_trip_over_tls() {
    let server = Server::start_tls();
    server.create_project("grp/proj", "private");
    let token = server.create_user_with_token("dev");
    server.add_member("grp/proj", "dev", 30);
    let auth = format!("PRIVATE-TOKEN: {token}");
    let me = server.curl(&["-H", &auth, &server.api("/user")]);
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["username"], "dev");

    let dir = tempfile::tempdir().expect("temp dir");
    let file = random_file(dir.path(), "blob.bin", 3 << 20);
    let url = server.api("/projects/grp%2Fproj/packages/generic/blob/1.0.0/blob.bin");
    let up = server.curl(&["-H", &auth, "--upload-file", &path_str(&file), &url]);
    assert_eq!(up.status, 201, "{}", up.text());
    let down = server.curl(&["-H", &auth, &url]);
    assert_eq!(down.status, 200);
    let back = dir.path().join("back.bin");
    std::fs::write(&back, &down.body).expect("write");
    assert_eq!(sha256sum(&back), sha256sum(&file));
}

/// The web UI's cookies carry `Secure` when served over https.
#[test]
fn sign_in_cookies_are_secure_over_tls() {
    let server = Server::start_tls();
    server.create_user_with_password("alice", "correct horse battery", false);
    let dir = tempfile::tempdir().expect("temp dir");
    let jar = path_str(&dir.path().join("jar"));
    let form = server.curl(&["-c", &jar, &format!("{}/users/sign_in", server.url)]);
    assert_eq!(form.status, 200);
    let csrf = form.header("set-cookie").expect("a CSRF cookie");
    assert!(csrf.contains("; Secure"), "{csrf}");
    let html = form.text();
    let token = html
        .split("name=\"authenticity_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form's authenticity_token");
    let signed_in = server.curl(&[
        "-b",
        &jar,
        "--data-urlencode",
        &format!("authenticity_token={token}"),
        "--data-urlencode",
        "username=alice",
        "--data-urlencode",
        "password=correct horse battery",
        "-v",
        &format!("{}/users/sign_in", server.url),
    ]);
    let session: Vec<&str> = signed_in
        .stderr
        .lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("< set-cookie: _packyard_session=")
        })
        .collect();
    assert_eq!(
        session.len(),
        1,
        "status {}: {}",
        signed_in.status,
        signed_in.stderr
    );
    assert!(session[0].contains("; Secure"), "{}", session[0]);
}

/// `tls.redirect_listen` answers plain HTTP with a redirect to the same path on https.
#[test]
fn the_redirect_listener_sends_plain_http_to_https() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_tls_with(&[("PACKYARD_TLS_REDIRECT_LISTEN", &listen)]);
    let get = server.curl(&["-I", &format!("http://{listen}/-/health?x=1")]);
    assert_eq!(get.status, 301);
    assert_eq!(
        get.header("location"),
        Some(format!("{}/-/health?x=1", server.url).as_str())
    );
    let put = server.curl(&["-X", "PUT", &format!("http://{listen}/api/v4/x")]);
    assert_eq!(put.status, 308);
    // curl follows it to the https listener, which answers.
    let followed = server.curl(&["-L", &format!("http://{listen}/-/health")]);
    assert_eq!(followed.status, 200);
    assert_eq!(followed.text(), "Packyard OK");
}

/// SIGHUP serves a new certificate to new handshakes while a connection opened before it
/// keeps answering; a bad
/// file on reload is logged, naming it, and the old certificate stays.
#[test]
fn sighup_reloads_the_certificate() {
    let server = Server::start_tls();
    let url = format!("{}/-/health", server.url);
    let cert = server.dir().join("tls").join("cert.pem");
    let key = server.dir().join("tls").join("key.pem");
    let before = served_fingerprint(&server, &url);
    assert_eq!(before, file_fingerprint(&cert));

    // A bad certificate: logged, and the old one still served.
    let good = std::fs::read(&cert).expect("cert");
    std::fs::write(&cert, "garbage").expect("write");
    hup(&server);
    wait_for_log(&server, "was not reloaded");
    assert!(server.log().contains(&path_str(&cert)), "{}", server.log());
    std::fs::write(&cert, &good).expect("write");
    assert_eq!(served_fingerprint(&server, &url), before);

    // A new pair.
    let out = server.command(&[
        "admin",
        "self-signed-cert",
        "--force",
        "--host",
        "localhost",
        "--ip",
        "127.0.0.1",
        "--cert-out",
        &path_str(&cert),
        "--key-out",
        &path_str(&key),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A connection opened before the reload keeps working after it.
    let mut open = OpenConnection::new(&url);
    open.get("/-/health", "keep-alive", 1);
    hup(&server);
    wait_for_log(&server, "reloaded the TLS certificate");
    open.get("/-/health", "close", 2);
    let after = file_fingerprint(&cert);
    assert_ne!(after, before);
    assert_eq!(served_fingerprint(&server, &url), after);
}

/// One TLS connection held open by `openssl s_client`, HTTP/1.1 requests written to it.
struct OpenConnection {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    seen: std::sync::Arc<std::sync::Mutex<String>>,
    host: String,
}

impl OpenConnection {
    fn new(url: &str) -> OpenConnection {
        use std::io::Read;
        let host = url
            .trim_start_matches("https://")
            .split('/')
            .next()
            .expect("host:port")
            .to_string();
        let mut child = Command::new("openssl")
            .args(["s_client", "-quiet", "-crlf", "-connect", &host])
            .args(["-servername", "localhost"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl must be installed");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = child.stdout.take().expect("stdout");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        OpenConnection {
            child,
            stdin,
            seen,
            host,
        }
    }

    /// Sends a GET on this connection and waits for the `n`th `200` on it.
    fn get(&mut self, path: &str, connection: &str, n: usize) {
        use std::io::Write;
        write!(
            self.stdin,
            "GET {path} HTTP/1.1\nHost: {}\nConnection: {connection}\n\n",
            self.host
        )
        .expect("write to the open connection");
        self.stdin.flush().expect("flush");
        for _ in 0..200 {
            if self
                .seen
                .lock()
                .expect("lock")
                .matches("HTTP/1.1 200")
                .count()
                >= n
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!(
            "no answer {n} on the open connection: {:?}",
            self.seen.lock().expect("lock")
        );
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hup(server: &Server) {
    let pid = server.pid().expect("running").to_string();
    let ok = Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill");
    assert!(ok.success());
}

fn wait_for_log(server: &Server, text: &str) {
    for _ in 0..100 {
        if server.log().contains(text) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no {text:?} in the log:\n{}", server.log());
}

/// The sha256 fingerprint of the certificate the server presents to a new connection
/// (openssl s_client, not trusting anything: only the certificate is read).
fn served_fingerprint(server: &Server, url: &str) -> String {
    let addr = url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .expect("host:port");
    assert!(server.pid().is_some());
    let s_client = Command::new("openssl")
        .args(["s_client", "-connect", addr, "-servername", "localhost"])
        .stdin(Stdio::null())
        .output()
        .expect("openssl must be installed");
    let pem = String::from_utf8_lossy(&s_client.stdout).into_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("served.pem");
    std::fs::write(&f, pem).expect("write");
    file_fingerprint(&f)
}

fn file_fingerprint(pem: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .expect("openssl must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Start-up errors name the file; the exit status is not 0.
#[test]
fn bad_certificate_files_stop_the_start_naming_the_file() {
    let server = Server::start_tls();
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = path_str(&server.dir().join("tls").join("cert.pem"));
    let key = path_str(&server.dir().join("tls").join("key.pem"));
    let missing = path_str(&dir.path().join("missing.pem"));
    let garbage = path_str(&dir.path().join("garbage.pem"));
    std::fs::write(&garbage, "hello\n").expect("write");
    let other_key = path_str(&dir.path().join("other-key.pem"));
    let other_cert = path_str(&dir.path().join("other-cert.pem"));
    let out = server.command(&[
        "admin",
        "self-signed-cert",
        "--host",
        "x.example",
        "--cert-out",
        &other_cert,
        "--key-out",
        &other_key,
    ]);
    assert!(out.status.success());
    for (c, k, named, says) in [
        (&missing, &key, &missing, "cannot read"),
        (&garbage, &key, &garbage, "holds no certificate"),
        (&cert, &garbage, &garbage, "holds no private key"),
        (&cert, &other_key, &other_key, "does not match"),
    ] {
        let data = dir.path().join("data");
        let out = Command::new(std::env::var("PACKYARD_BIN").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug/packyard").to_string()
        }))
        .arg("serve")
        .env("PACKYARD_DATA_DIR", &data)
        .env("PACKYARD_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("PACKYARD_TLS_CERT_FILE", c)
        .env("PACKYARD_TLS_KEY_FILE", k)
        .stdin(Stdio::null())
        .output()
        .expect("run packyard");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{c} {k}: {stderr}");
        assert!(
            stderr.contains(named.as_str()) && stderr.contains(says),
            "{stderr}"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}
