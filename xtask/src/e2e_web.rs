//! What the web UI e2e test drives, installed when missing: Debian's `chromium` (apt) and
//! the npm package `playwright-core` in `<target>/e2e-web-tools` (`npx playwright install`
//! cannot download browsers here, and needs not: Playwright launches the system chromium).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell;

const PLAYWRIGHT: &str = "playwright-core@1";

fn chromium() -> Option<PathBuf> {
    shell::which("chromium").or_else(|| {
        let p = PathBuf::from("/usr/bin/chromium");
        p.is_file().then_some(p)
    })
}

/// Installs what the web suite needs and returns the environment that tells the test where.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let Some(npm) = shell::which("npm") else {
        bail!("npm is needed by the web UI e2e test: install node.js (npm 10+)");
    };
    let node = shell::which("node").context("node is needed by the web UI e2e test")?;
    let browser = match chromium() {
        Some(p) => p,
        None => {
            shell::apt_install(&["chromium"])?;
            chromium().context("chromium still missing after apt-get install chromium")?
        }
    };
    let tools = target.join("e2e-web-tools");
    let module = tools.join("node_modules").join("playwright-core");
    if !module.join("package.json").is_file() {
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
                    PLAYWRIGHT,
                ]),
        )?;
    }
    Ok(vec![
        ("PACKYARD_E2E_NODE".into(), node.display().to_string()),
        (
            "PACKYARD_E2E_CHROMIUM".into(),
            browser.display().to_string(),
        ),
        (
            "PACKYARD_E2E_PLAYWRIGHT".into(),
            module.display().to_string(),
        ),
    ])
}
