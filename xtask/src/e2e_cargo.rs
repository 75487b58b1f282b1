//! The client the cargo e2e tests drive: cargo itself, which every machine that builds
//! Packyard already has. The tests need cargo 1.74+ (`global-credential-providers`,
//! `auth-required` on sparse registries); CI uses the workspace toolchain (1.95).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::shell;

/// Returns `PACKYARD_E2E_CARGO`, the cargo the tests run.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let _ = target;
    let cargo = shell::which("cargo")
        .or_else(|| std::env::var_os("CARGO").map(PathBuf::from))
        .context("cargo is not on PATH")?;
    let version = shell::output(std::process::Command::new(&cargo).arg("--version"))?;
    println!("cargo e2e client: {} ({})", cargo.display(), version.trim());
    Ok(vec![(
        "PACKYARD_E2E_CARGO".to_string(),
        cargo.to_string_lossy().into_owned(),
    )])
}
