//! The test S3 server (`packyard-test-s3` from `packyard-testkit`), run as a child process
//! for the e2e run on PostgreSQL + S3. Killed on drop.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::shell;

pub const BUCKET: &str = "packyard";
pub const ACCESS_KEY: &str = "packyard";
pub const SECRET_KEY: &str = "packyard-secret";

pub struct TestS3 {
    child: Child,
    dir: TempDir,
    /// `http://ADDR` as printed by the server.
    pub endpoint: String,
}

impl TestS3 {
    pub fn start(binary: &Path) -> Result<Self> {
        if !shell::is_executable(binary) {
            bail!(
                "{} is missing: build packyard-testkit first",
                binary.display()
            );
        }
        let dir = tempfile::Builder::new().prefix("packyard-s3-").tempdir()?;
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root)?;
        let mut last_err = None;
        for _ in 0..3 {
            let port = shell::free_port()?;
            let log = File::create(dir.path().join("s3.log"))?;
            let mut cmd = Command::new(binary);
            cmd.arg("--root")
                .arg(&root)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .args(["--bucket", BUCKET])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(log);
            println!("$ {}", shell::display(&cmd));
            let mut child = cmd
                .spawn()
                .with_context(|| format!("starting {}", binary.display()))?;
            let stdout = child.stdout.take().context("no stdout")?;
            let (tx, rx) = mpsc::channel();
            // Keep reading stdout for the server's whole life so it never blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                    if let Some(addr) = line.strip_prefix("ready ") {
                        let _ = tx.send(addr.trim().to_string());
                    }
                }
            });
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(endpoint) => {
                    println!("test S3 server ready at {endpoint}");
                    return Ok(TestS3 {
                        child,
                        dir,
                        endpoint,
                    });
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log =
                        std::fs::read_to_string(dir.path().join("s3.log")).unwrap_or_default();
                    eprintln!(
                        "packyard-test-s3 did not print `ready http://ADDR`; its log:\n{log}"
                    );
                    last_err = Some(anyhow::anyhow!("packyard-test-s3 did not become ready"));
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("packyard-test-s3 did not start")))
    }

    /// The server's log so far (for failure reports).
    pub fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("s3.log")
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
