//! Running commands and finding tools on the machine.
//!
//! CI runs on a fresh Debian machine as root with only Rust installed, so whatever a step
//! needs (PostgreSQL, python3-venv, curl, nginx) is found here or installed with apt-get.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};

/// The workspace root: the folder above `xtask/`.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo that runs us (`cargo xtask` sets `CARGO`), so rustup toolchains stay consistent.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    cmd
}

/// The target directory cargo builds into; honours `CARGO_TARGET_DIR` and `.cargo/config.toml`.
pub fn target_dir() -> Result<PathBuf> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed");
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let dir = meta["target_directory"]
        .as_str()
        .context("cargo metadata has no target_directory")?;
    Ok(PathBuf::from(dir))
}

/// A shell-like rendering of a command, for the log.
pub fn display(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            parts.push(format!(
                "{}={}",
                key.to_string_lossy(),
                quote(value.to_string_lossy().as_ref())
            ));
        }
    }
    parts.push(quote(&cmd.get_program().to_string_lossy()));
    parts.extend(cmd.get_args().map(|a| quote(&a.to_string_lossy())));
    parts.join(" ")
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs a command with inherited stdio; an error if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("$ {}", display(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", display(cmd)))?;
    if !status.success() {
        bail!("command failed ({status}): {}", display(cmd));
    }
    Ok(())
}

/// Runs a command and returns its stdout; stderr is shown.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {}", display(cmd)))?;
    if !out.status.success() {
        bail!("command failed ({}): {}", out.status, display(cmd));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether a command runs and exits 0, with all output discarded.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Looks an executable up on `PATH`.
pub fn which(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    let name = name.as_ref();
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

pub fn is_executable(path: &Path) -> bool {
    path.metadata()
        .map(|m| m.is_file() && m.mode() & 0o111 != 0)
        .unwrap_or(false)
}

pub fn is_root() -> bool {
    Path::new("/proc/self")
        .metadata()
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// `apt-get install -y --no-install-recommends PKGS`, after one `apt-get update` per run.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    if which("apt-get").is_none() {
        bail!(
            "{} is needed but missing, and there is no apt-get to install it",
            packages.join(" ")
        );
    }
    let apt = |args: &[&str]| {
        let mut cmd = if is_root() {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        run(&mut apt(&["update"]))?;
    }
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run(&mut apt(&args))
}

/// Makes sure `tool` is on PATH, installing `package` with apt-get if not.
pub fn ensure_tool(tool: &str, package: &str) -> Result<PathBuf> {
    if let Some(path) = which(tool) {
        return Ok(path);
    }
    println!("{tool} not found; installing {package}");
    apt_install(&[package])?;
    which(tool).with_context(|| format!("{tool} still missing after installing {package}"))
}

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding an ephemeral port")?;
    Ok(listener.local_addr()?.port())
}

/// A short random hex string (from /dev/urandom), for unique names.
pub fn random_hex(bytes: usize) -> Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
