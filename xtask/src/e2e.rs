//! The end-to-end suite (`tests/`, package `packyard-e2e`): the tools it drives (curl,
//! python-gitlab in a venv) and the two runs — SQLite + filesystem, PostgreSQL + S3.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::postgres::Postgres;
use crate::s3::{self, TestS3};
use crate::shell;

/// What the e2e tests need from the machine and the build.
pub struct Tools {
    pub packyard_bin: PathBuf,
    pub python: PathBuf,
    /// Environment the format suites need (client paths), from each format's `prepare`.
    pub format_env: Vec<(String, String)>,
}

impl Tools {
    /// Checks the binary exists, installs curl if missing, and prepares the python-gitlab venv.
    pub fn prepare(target: &Path) -> Result<Self> {
        shell::ensure_tool("curl", "curl")?;
        shell::ensure_tool("sha256sum", "coreutils")?;
        let python = python_gitlab_venv(&target.join("e2e-venv"))?;
        let packyard_bin = target.join("debug").join("packyard");
        if !shell::is_executable(&packyard_bin) {
            anyhow::bail!(
                "{} is missing: run `cargo build -p packyard` first",
                packyard_bin.display()
            );
        }
        let mut format_env = Vec::new();
        // Debian's Java clients, nuget and go (one apt call, the largest install on a fresh machine) come
        // in while the Python and node clients install.
        let maven = {
            let target = target.to_path_buf();
            std::thread::spawn(move || crate::e2e_maven::prepare(&target))
        };
        format_env.extend(crate::e2e_pypi::prepare(target)?);
        format_env.extend(crate::e2e_npm::prepare(target)?);
        format_env.extend(crate::e2e_cargo::prepare(target)?);
        format_env.extend(crate::e2e_web::prepare(target)?);
        format_env.extend(
            maven
                .join()
                .map_err(|_| anyhow::anyhow!("preparing the Maven clients panicked"))??,
        );
        // After the Maven prepare, whose apt call installed nuget.
        format_env.extend(crate::e2e_nuget::prepare(target)?);
        // Likewise go (golang-go came in the same apt call).
        format_env.extend(crate::e2e_go::prepare(target)?);
        Ok(Tools {
            packyard_bin,
            python,
            format_env,
        })
    }

    fn test_command(&self, runner: Runner) -> Command {
        let mut cmd = shell::cargo();
        match runner {
            Runner::Nextest => {
                cmd.args([
                    "nextest",
                    "run",
                    "-p",
                    "packyard-e2e",
                    "--test-threads",
                    "2",
                ])
                .args([
                    "--no-tests",
                    "fail",
                    "--failure-output",
                    "final",
                    "--no-fail-fast",
                ]);
            }
            Runner::CargoTest => {
                cmd.args([
                    "test",
                    "-p",
                    "packyard-e2e",
                    "--no-fail-fast",
                    "--",
                    "--test-threads=2",
                ]);
            }
        }
        cmd.env("PACKYARD_BIN", &self.packyard_bin)
            .env("PACKYARD_E2E_PYTHON", &self.python)
            .envs(
                self.format_env
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            // A developer's shell must not leak a backend into the default run.
            .env_remove("PACKYARD_E2E_DATABASE_URL")
            .env_remove("PACKYARD_E2E_POSTGRES_ADMIN_URL")
            .env_remove("PACKYARD_E2E_S3_ENDPOINT");
        cmd
    }

    /// The suite against the server's defaults: SQLite and blobs on the filesystem.
    pub fn run_default(&self, runner: Runner) -> Result<()> {
        shell::run(&mut self.test_command(runner))
    }

    /// The suite with every server on a fresh PostgreSQL database and the test S3 server.
    pub fn run_postgres_s3(&self, runner: Runner, pg: &Postgres, s3_bin: &Path) -> Result<()> {
        let s3 = TestS3::start(s3_bin)?;
        let database = format!("packyard_e2e_{}", shell::random_hex(4)?);
        let database_url = pg.create_database(&database)?;
        let mut cmd = self.test_command(runner);
        cmd.env("PACKYARD_E2E_DATABASE_URL", database_url)
            .env("PACKYARD_E2E_POSTGRES_ADMIN_URL", pg.admin_url())
            .env("PACKYARD_E2E_PSQL", pg.psql())
            .env("PACKYARD_E2E_S3_ENDPOINT", &s3.endpoint)
            .env("PACKYARD_E2E_S3_BUCKET", s3::BUCKET)
            .env("PACKYARD_E2E_S3_ACCESS_KEY", s3::ACCESS_KEY)
            .env("PACKYARD_E2E_S3_SECRET_KEY", s3::SECRET_KEY);
        let result = shell::run(&mut cmd);
        if result.is_err() {
            eprintln!("test S3 server log: {}", s3.log_path().display());
            if let Ok(log) = std::fs::read_to_string(s3.log_path()) {
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                for line in tail.iter().rev() {
                    eprintln!("  s3| {line}");
                }
            }
        }
        result
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Nextest,
    CargoTest,
}

impl Runner {
    /// `cargo nextest` when it is installed, otherwise `cargo test`.
    pub fn detect() -> Self {
        if shell::succeeds(shell::cargo().args(["nextest", "--version"])) {
            Runner::Nextest
        } else {
            Runner::CargoTest
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Runner::Nextest => "cargo nextest",
            Runner::CargoTest => "cargo test",
        }
    }
}

/// A venv with python-gitlab, reused when it already imports `gitlab`.
fn python_gitlab_venv(venv: &Path) -> Result<PathBuf> {
    let python = venv.join("bin").join("python");
    let imports_gitlab =
        |python: &Path| shell::succeeds(Command::new(python).args(["-c", "import gitlab"]));
    if imports_gitlab(&python) {
        println!("reusing {}", venv.display());
        return Ok(python);
    }
    let python3 = shell::ensure_tool("python3", "python3")?;
    let create = |python3: &Path| {
        let _ = std::fs::remove_dir_all(venv);
        shell::run(Command::new(python3).args(["-m", "venv"]).arg(venv))
    };
    if create(&python3).is_err() {
        // Debian's python3 lacks ensurepip until python3-venv is installed.
        shell::apt_install(&["python3-venv"])?;
        create(&python3)?;
    }
    shell::run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-input", "python-gitlab"]),
    )?;
    if !imports_gitlab(&python) {
        anyhow::bail!("python-gitlab installed but `import gitlab` fails");
    }
    Ok(python)
}
