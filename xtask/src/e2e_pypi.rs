//! The clients the pypi e2e tests drive, installed when missing: one venv with pip, twine 7,
//! uv, poetry, build, setuptools and wheel (`<target>/e2e-pypi-venv`), and one with twine
//! 6.1 (`<target>/e2e-pypi-twine6`), the last twine whose `--skip-existing` works with any
//! index (6.2 and 7 allow it only for pypi.org).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::shell;

/// What the main venv must provide, checked by importing/running it.
const MAIN_PACKAGES: &[&str] = &[
    "pip>=24",
    "twine>=6",
    "uv",
    "poetry>=2",
    "build",
    "setuptools>=68",
    "wheel",
];

/// Installs what the pypi suite needs and returns the environment that tells the tests where.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let main = target.join("e2e-pypi-venv");
    let ready = |venv: &Path| {
        ["twine", "uv", "poetry", "pyproject-build"]
            .iter()
            .all(|b| shell::is_executable(&venv.join("bin").join(b)))
            && shell::succeeds(
                Command::new(venv.join("bin").join("python"))
                    .args(["-c", "import setuptools, wheel"]),
            )
    };
    venv(&main, MAIN_PACKAGES, ready)?;
    let twine6 = target.join("e2e-pypi-twine6");
    venv(&twine6, &["twine>=6,<6.2"], |v: &Path| {
        shell::output(Command::new(v.join("bin").join("twine")).arg("--version"))
            .is_ok_and(|out| out.contains("version 6.0") || out.contains("version 6.1"))
    })?;
    Ok(vec![
        ("PACKYARD_E2E_PYPI_VENV".into(), path(&main)),
        (
            "PACKYARD_E2E_TWINE6".into(),
            path(&twine6.join("bin").join("twine")),
        ),
    ])
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Creates `dir` as a venv with `packages` unless `ready` says it is already usable.
fn venv(dir: &Path, packages: &[&str], ready: impl Fn(&Path) -> bool) -> Result<PathBuf> {
    if ready(dir) {
        println!("reusing {}", dir.display());
        return Ok(dir.to_path_buf());
    }
    let python3 = shell::ensure_tool("python3", "python3")?;
    let create = |python3: &Path| {
        let _ = std::fs::remove_dir_all(dir);
        shell::run(Command::new(python3).args(["-m", "venv"]).arg(dir))
    };
    if create(&python3).is_err() {
        // Debian's python3 lacks ensurepip until python3-venv is installed.
        shell::apt_install(&["python3-venv"])?;
        create(&python3)?;
    }
    shell::run(
        Command::new(dir.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(packages),
    )?;
    if !ready(dir) {
        anyhow::bail!("{} is incomplete after pip install", dir.display());
    }
    Ok(dir.to_path_buf())
}
