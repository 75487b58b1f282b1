//! Helpers shared by the `cargo xtask bench` commands: process control, memory readings and
//! small formatting.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::shell;

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
