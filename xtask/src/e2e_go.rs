//! The client the Go e2e tests drive (CLIENTS.md's Go row): Debian's golang-go (go 1.19). Its
//! apt package goes into the Maven prepare's single `apt-get install` ([`missing_packages`]):
//! apt holds a lock, so two installs cannot run side by side.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::shell;

/// Debian's go toolchain.
const PACKAGES: &[&str] = &["golang-go"];

/// The packages of [`PACKAGES`] that are not installed, for the one apt call of the run.
pub fn missing_packages() -> Vec<&'static str> {
    if shell::which("go").is_some() {
        Vec::new()
    } else {
        PACKAGES.to_vec()
    }
}

/// Checks go is installed (the Maven prepare installs it) and returns the environment that
/// tells the tests where it is.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let _ = target;
    let missing = missing_packages();
    if !missing.is_empty() {
        // Only when the Maven prepare did not run first (it installs these with its own).
        println!("go e2e: installing {}", missing.join(" "));
        shell::apt_install(&missing)?;
    }
    let go = shell::which("go").context("go is still missing after installing golang-go")?;
    let version = shell::output(Command::new(&go).arg("version"))?;
    println!("go e2e client: {} ({})", go.display(), version.trim());
    Ok(vec![("PACKYARD_E2E_GO".into(), go.display().to_string())])
}
