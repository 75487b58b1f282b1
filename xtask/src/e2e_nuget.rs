//! The client the NuGet e2e tests drive (CLIENTS.md's NuGet row): Debian's nuget 2.8.7 on
//! mono, which speaks the v2 feed and pushes. Its apt package goes into the Maven prepare's
//! single `apt-get install` ([`missing_packages`]): apt holds a lock, so two installs cannot
//! run side by side. The v3 side is tested by the suite's own client (`tests/src/nuget_v3.rs`),
//! since this machine kind has no `dotnet`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::shell;

/// Debian's nuget.exe (pulls mono).
const PACKAGES: &[&str] = &["nuget"];

/// The packages of [`PACKAGES`] that are not installed, for the one apt call of the run.
pub fn missing_packages() -> Vec<&'static str> {
    if shell::which("nuget").is_some() {
        Vec::new()
    } else {
        PACKAGES.to_vec()
    }
}

/// Checks nuget is installed (the Maven prepare installs it) and returns the environment
/// that tells the tests where it is.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let missing = missing_packages();
    if !missing.is_empty() {
        // Only when the Maven prepare did not run first (it installs these with its own).
        println!("nuget e2e: installing {}", missing.join(" "));
        shell::apt_install(&missing)?;
    }
    let nuget = shell::which("nuget").context("nuget is still missing after installing nuget")?;
    let _ = target;
    // Not `nuget help`: without a terminal its word wrapping never ends (console width 0).
    let version = match shell::which("dpkg-query") {
        Some(dpkg) => shell::output(Command::new(dpkg).args(["-W", "-f", "${Version}", "nuget"]))?,
        None => "unknown version".to_string(),
    };
    println!("nuget e2e client: {} ({version})", nuget.display());
    Ok(vec![(
        "PACKYARD_E2E_NUGET".into(),
        nuget.display().to_string(),
    )])
}
