//! `cargo xtask ci`: every check CI runs, in order, each under a header with its duration.
//!
//! Flags (for local use; CI passes none):
//! - `--keep-going`: run the remaining steps after a failure, then fail.
//! - `--skip STEP` (repeatable, or comma-separated): leave a step out.
//!
//! `cargo xtask e2e` runs only the steps the end-to-end suite needs.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::e2e::{Runner, Tools};
use crate::postgres::Postgres;
use crate::{features, shell};

pub const STEPS: &[&str] = &[
    "fmt",
    "clippy",
    "postgres",
    "build",
    "test",
    "check-features",
    "scaffold",
    "e2e-tools",
    "e2e-sqlite-fs",
    "e2e-postgres-s3",
];

const E2E_STEPS: &[&str] = &[
    "postgres",
    "build",
    "e2e-tools",
    "e2e-sqlite-fs",
    "e2e-postgres-s3",
];

pub fn ci(args: &[String]) -> Result<()> {
    run_steps(STEPS, args)
}

pub fn e2e(args: &[String]) -> Result<()> {
    run_steps(E2E_STEPS, args)
}

fn run_steps(selected: &[&'static str], args: &[String]) -> Result<()> {
    let mut plan = Plan::new(selected, args)?;
    let started = Instant::now();
    let target = shell::target_dir()?;
    let runner = Runner::detect();
    println!(
        "workspace {}, target dir {}, test runner {}",
        shell::workspace_root().display(),
        target.display(),
        runner.name()
    );

    let result = (|| -> Result<()> {
        plan.step("fmt", || {
            ensure_component("fmt", "rustfmt")?;
            shell::run(shell::cargo().args(["fmt", "--all", "--", "--check"]))
        })?;
        plan.step("clippy", || {
            ensure_component("clippy", "clippy")?;
            shell::run(shell::cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
        // Lives until the end of this closure: dropped (stopped) on success and on failure.
        let pg = plan.step("postgres", Postgres::start)?;
        plan.step("build", || {
            shell::run(shell::cargo().args([
                "build",
                "-p",
                "packyard",
                "-p",
                "packyard-testkit",
                "--bins",
            ]))
        })?;
        plan.step("test", || {
            let mut cmd = shell::cargo();
            match runner {
                Runner::Nextest => {
                    cmd.args(["nextest", "run", "--no-tests", "warn", "--no-fail-fast"])
                }
                Runner::CargoTest => cmd.args(["test", "--no-fail-fast"]),
            };
            cmd.args(["--workspace", "--exclude", "packyard-e2e"]);
            // Snapshot tests (insta) compare with the committed `.snap` files and never write:
            // a missing or changed snapshot fails the run instead of leaving a `.snap.new`.
            cmd.env("INSTA_UPDATE", "no").env_remove("INSTA_FORCE_PASS");
            if let Some(pg) = &pg {
                cmd.env("PACKYARD_TEST_POSTGRES_URL", pg.admin_url());
            } else {
                println!("PostgreSQL step skipped: database tests run on SQLite only");
            }
            shell::run(&mut cmd)?;
            if runner == Runner::Nextest {
                // nextest does not run doctests.
                shell::run(shell::cargo().args([
                    "test",
                    "--doc",
                    "--workspace",
                    "--exclude",
                    "packyard-e2e",
                ]))?;
            }
            Ok(())
        })?;
        plan.step("check-features", features::check)?;
        plan.step("scaffold", crate::new_format::check_in_ci)?;
        let tools = plan.step("e2e-tools", || Tools::prepare(&target))?;
        plan.step("e2e-sqlite-fs", || match &tools {
            Some(tools) => tools.run_default(runner),
            None => bail!("e2e-tools did not run"),
        })?;
        plan.step("e2e-postgres-s3", || match (&tools, &pg) {
            (Some(tools), Some(pg)) => {
                let s3_bin = target.join("debug").join("packyard-test-s3");
                tools.run_postgres_s3(runner, pg, &s3_bin)
            }
            _ => bail!("needs the postgres and e2e-tools steps"),
        })?;
        Ok(())
    })();

    plan.summary(started.elapsed());
    result?;
    if plan.failed() {
        bail!("CI failed");
    }
    Ok(())
}

/// A minimal rustup profile lacks rustfmt and clippy: add them when `cargo <sub>` is missing.
fn ensure_component(subcommand: &str, component: &str) -> Result<()> {
    if shell::succeeds(shell::cargo().args([subcommand, "--version"])) {
        return Ok(());
    }
    shell::run(std::process::Command::new("rustup").args(["component", "add", component]))
}

struct Outcome {
    name: &'static str,
    duration: Duration,
    status: &'static str,
}

struct Plan {
    selected: Vec<&'static str>,
    skip: Vec<String>,
    keep_going: bool,
    outcomes: Vec<Outcome>,
}

impl Plan {
    fn new(selected: &[&'static str], args: &[String]) -> Result<Self> {
        let mut skip = Vec::new();
        let mut keep_going = false;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--keep-going" => keep_going = true,
                "--skip" => {
                    let Some(list) = args.next() else {
                        bail!("--skip needs a step name; steps: {}", STEPS.join(", "))
                    };
                    for name in list.split(',') {
                        if !STEPS.contains(&name) {
                            bail!("unknown step `{name}`; steps: {}", STEPS.join(", "));
                        }
                        skip.push(name.to_string());
                    }
                }
                other => bail!("unknown argument `{other}`"),
            }
        }
        Ok(Plan {
            selected: selected.to_vec(),
            skip,
            keep_going,
            outcomes: Vec::new(),
        })
    }

    /// Runs one step under a header. `Ok(None)` when it was skipped, or failed with
    /// `--keep-going`; `Err` when it failed otherwise.
    fn step<T>(&mut self, name: &'static str, f: impl FnOnce() -> Result<T>) -> Result<Option<T>> {
        if !self.selected.contains(&name) {
            return Ok(None);
        }
        if self.skip.iter().any(|s| s == name) {
            println!("\n==> {name}: skipped");
            self.outcomes.push(Outcome {
                name,
                duration: Duration::ZERO,
                status: "skipped",
            });
            return Ok(None);
        }
        println!("\n==> {name}");
        let started = Instant::now();
        let result = f();
        let duration = started.elapsed();
        match result {
            Ok(value) => {
                println!("<== {name}: ok in {}", fmt_duration(duration));
                self.outcomes.push(Outcome {
                    name,
                    duration,
                    status: "ok",
                });
                Ok(Some(value))
            }
            Err(e) => {
                eprintln!("<== {name}: FAILED in {}: {e:#}", fmt_duration(duration));
                self.outcomes.push(Outcome {
                    name,
                    duration,
                    status: "FAILED",
                });
                if self.keep_going {
                    Ok(None)
                } else {
                    Err(e.context(format!("step `{name}` failed")))
                }
            }
        }
    }

    fn failed(&self) -> bool {
        self.outcomes.iter().any(|o| o.status == "FAILED")
    }

    fn summary(&self, total: Duration) {
        println!("\n==> summary");
        for o in &self.outcomes {
            println!(
                "  {:<18} {:>8}  {}",
                o.name,
                fmt_duration(o.duration),
                o.status
            );
        }
        println!("  {:<18} {:>8}", "total", fmt_duration(total));
    }
}

pub fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 60.0 {
        format!("{}m{:04.1}s", (secs / 60.0) as u64, secs % 60.0)
    } else {
        format!("{secs:.1}s")
    }
}
