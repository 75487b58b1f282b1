//! A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir, `pg_ctl start` on a
//! free port, stopped and deleted on drop (also when a step fails).
//!
//! `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user and
//! every server-side command goes through `runuser -u postgres --`.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::shell;

pub struct Postgres {
    bin_dir: PathBuf,
    dir: TempDir,
    port: u16,
    as_postgres_user: bool,
}

impl Postgres {
    /// Finds (or installs) PostgreSQL and starts a fresh cluster.
    pub fn start() -> Result<Self> {
        let bin_dir = find_bin_dir()?;
        println!("using PostgreSQL from {}", bin_dir.display());
        let as_postgres_user = shell::is_root();
        if as_postgres_user && !shell::succeeds(Command::new("id").arg("postgres")) {
            shell::run(Command::new("useradd").args([
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "postgres",
            ]))?;
        }
        let dir = tempfile::Builder::new()
            .prefix("packyard-pg-")
            .tempdir()
            .context("creating a temp dir for PostgreSQL")?;
        if as_postgres_user {
            shell::run(Command::new("chown").arg("postgres:").arg(dir.path()))?;
        }
        let mut pg = Postgres {
            bin_dir,
            dir,
            port: 0,
            as_postgres_user,
        };
        pg.server_cmd("initdb", |c| {
            c.arg("-D")
                .arg(pg.data_dir())
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
                .arg("--no-sync");
        })
        .and_then(|mut c| shell::output(&mut c).map(drop))
        .context("initdb failed")?;

        // The port is only known free when we pick it: retry if another process takes it first.
        let mut last_err = None;
        for _ in 0..3 {
            pg.port = shell::free_port()?;
            let options = format!(
                "-p {} -c fsync=off -c full_page_writes=off -c synchronous_commit=off \
                 -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=300",
                pg.port,
                pg.dir.path().display()
            );
            let started = pg
                .server_cmd("pg_ctl", |c| {
                    c.arg("-D")
                        .arg(pg.data_dir())
                        .arg("-l")
                        .arg(pg.log_file())
                        .args(["-w", "-t", "60", "-o", &options, "start"]);
                })
                .and_then(|mut c| shell::run(&mut c));
            match started {
                Ok(()) => {
                    println!("PostgreSQL listening on 127.0.0.1:{}", pg.port);
                    return Ok(pg);
                }
                Err(e) => {
                    eprintln!("{}", fs::read_to_string(pg.log_file()).unwrap_or_default());
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth).
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The `psql` client that came with this server (or the one on PATH).
    pub fn psql(&self) -> PathBuf {
        let local = self.bin_dir.join("psql");
        if shell::is_executable(&local) {
            return local;
        }
        shell::which("psql").unwrap_or(local)
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        shell::run(
            Command::new(self.psql())
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                .arg(self.admin_url())
                .arg("-c")
                .arg(format!("CREATE DATABASE \"{name}\"")),
        )?;
        Ok(self.url(name))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// A command for one of the server tools, as the `postgres` user when we are root.
    fn server_cmd(&self, tool: &str, configure: impl FnOnce(&mut Command)) -> Result<Command> {
        let program = self.bin_dir.join(tool);
        if !shell::is_executable(&program) {
            bail!("{} not found", program.display());
        }
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // The caller's cwd may be unreadable to `postgres` (e.g. under /root).
        cmd.current_dir(self.dir.path());
        configure(&mut cmd);
        Ok(cmd)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.port == 0 {
            return;
        }
        let stopped = self
            .server_cmd("pg_ctl", |c| {
                c.arg("-D")
                    .arg(self.data_dir())
                    .args(["-m", "immediate", "-w", "stop"]);
            })
            .map(|mut c| shell::succeeds(&mut c))
            .unwrap_or(false);
        if stopped {
            println!("PostgreSQL on port {} stopped", self.port);
        } else {
            eprintln!("warning: could not stop PostgreSQL on port {}", self.port);
        }
    }
}

/// The folder holding `initdb` and `pg_ctl`: PATH first, then Debian's
/// `/usr/lib/postgresql/<version>/bin`, installing the `postgresql` package if neither has them.
fn find_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = installed_bin_dir() {
        return Ok(dir);
    }
    println!("PostgreSQL not found; installing it");
    shell::apt_install(&["postgresql"])?;
    installed_bin_dir().context("PostgreSQL still missing after apt-get install postgresql")
}

fn installed_bin_dir() -> Option<PathBuf> {
    if let Some(initdb) = shell::which("initdb") {
        // Follow symlinks (Debian links /usr/local/bin/initdb into /usr/lib/postgresql/N/bin).
        let initdb = fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = initdb.parent() {
            if shell::is_executable(&dir.join("pg_ctl")) {
                return Some(dir.to_path_buf());
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            let complete = ["initdb", "pg_ctl"]
                .iter()
                .all(|t| shell::is_executable(&bin.join(t)));
            complete.then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
