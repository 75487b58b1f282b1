//! The clients the npm e2e tests drive, installed when missing: npm comes with node; pnpm
//! and yarn (classic) are installed into `<target>/e2e-npm-tools` with `npm install
//! --prefix`, so the system's global packages are left alone.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Result};

use crate::shell;

/// Installs what the npm suite needs and returns the environment that tells the tests where.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let Some(npm) = shell::which("npm") else {
        bail!("npm is needed by the npm e2e suite: install node.js (npm 10+)");
    };
    let tools = target.join("e2e-npm-tools");
    let bin = tools.join("node_modules").join(".bin");
    let pnpm = bin.join("pnpm");
    let yarn = bin.join("yarn");
    if !shell::is_executable(&pnpm) || !shell::is_executable(&yarn) {
        std::fs::create_dir_all(&tools)?;
        shell::run(
            Command::new(&npm)
                .arg("install")
                .arg("--prefix")
                .arg(&tools)
                .args([
                    "--no-audit",
                    "--no-fund",
                    "--no-update-notifier",
                    "--no-save",
                    "pnpm@10",
                    "yarn@1",
                ]),
        )?;
    }
    Ok(vec![
        ("PACKYARD_E2E_NPM".into(), npm.display().to_string()),
        ("PACKYARD_E2E_PNPM".into(), pnpm.display().to_string()),
        ("PACKYARD_E2E_YARN".into(), yarn.display().to_string()),
    ])
}
