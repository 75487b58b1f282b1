//! Helpers shared by the `cargo xtask bench` commands: the Packyard server under test,
//! process control, memory readings and small formatting.

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
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let code = Command::new(curl)
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", url])
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
        let port = shell::free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let env = vec![
            (
                "PACKYARD_DATA_DIR".to_string(),
                data_dir.display().to_string(),
            ),
            ("PACKYARD_LISTEN".to_string(), format!("127.0.0.1:{port}")),
            ("PACKYARD_EXTERNAL_URL".to_string(), url.clone()),
            ("PACKYARD_INITIAL_ROOT_TOKEN".to_string(), token.to_string()),
            // The default log level (info, one access-log line per request), as installed.
        ];
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
        if let Err(e) = wait_ok(&curl, &ready, "packyard") {
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
