//! `cargo xtask bench web [--quick]`: the server time of the package registry pages of the
//! web UI for a group of 50 projects and 10,000 packages (issue #7: "page loads under 50 ms
//! server time"). Figures are printed, never asserted: a shared machine is too noisy for a
//! threshold to mean anything; `crates/web/tests/registry_scale.rs` asserts what can be (the
//! rows and the number of catalog queries).
//!
//! 1. The release binary on a fresh SQLite data dir; a private group `bench` with 50 private
//!    projects, and a Maintainer `maria` with a password, through `packyard admin`.
//! 2. 200 generic packages in every project, uploaded through the generic API by one curl
//!    process with `--parallel` (one connection pool, no process per upload).
//! 3. maria signs in through the sign-in form (CSRF cookie and token, as a browser), and
//!    her session cookie is sent with every request below.
//! 4. For each page, `REQUESTS` sequential requests over one keep-alive connection (curl
//!    again, so no process start is timed), after a warm-up: mean, p50, p99 and max of the
//!    time to the first byte (the server's time: the page is rendered whole before it is
//!    sent) and of the whole response. Pages: the group's first page, a project's first
//!    page, and page 5 of the group filtered by name and sorted by name descending.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::bench_support::{work_dir, Server};
use crate::shell;

const PROJECTS: usize = 50;
const PER_PROJECT: usize = 200;
const REQUESTS: usize = 200;
const TARGET_MS: f64 = 50.0;
const PASSWORD: &str = "bench-password-123";

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let (projects, per_project, requests) = if quick {
        (10, 20, 30)
    } else {
        (PROJECTS, PER_PROJECT, REQUESTS)
    };
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let curl = shell::ensure_tool("curl", "curl")?;

    let work = work_dir("web-")?;
    let work = work.path();

    // ---- 1. the instance
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data = work.join("data");
    fs::create_dir_all(&data)?;
    let server = Server::start(&packyard, &data, &token, work)?;
    server.admin(&["create-group", "--path", "bench", "--visibility", "private"])?;
    server.admin_with_input(
        &["create-user", "--username", "maria", "--password-stdin"],
        PASSWORD,
    )?;
    server.admin(&[
        "add-member",
        "--path",
        "bench",
        "--user",
        "maria",
        "--access-level",
        "40",
    ])?;
    let mut ids = Vec::new();
    for i in 0..projects {
        let path = format!("bench/p{i:02}");
        let out = server.admin(&["create-project", "--path", &path, "--visibility", "private"])?;
        let json: serde_json::Value =
            serde_json::from_str(&out).with_context(|| format!("create-project said {out}"))?;
        ids.push(json["id"].as_i64().context("project id")?);
    }

    // ---- 2. the packages
    let total = projects * per_project;
    println!("publishing {total} generic packages into {projects} projects");
    let started = Instant::now();
    let file = work.join("file.txt");
    fs::write(&file, "bench\n")?;
    let config = work.join("uploads.curl");
    let mut cfg = fs::File::create(&config)?;
    writeln!(cfg, "header = \"PRIVATE-TOKEN: {token}\"")?;
    writeln!(cfg, "fail")?;
    writeln!(cfg, "silent")?;
    writeln!(cfg, "show-error")?;
    for n in 0..per_project {
        // Interleaved over the projects, so creation order mixes them as real traffic does.
        for id in &ids {
            writeln!(cfg, "upload-file = \"{}\"", file.display())?;
            writeln!(
                cfg,
                "url = \"{}/api/v4/projects/{id}/packages/generic/pkg-{n:05}/1.{}.0/file.txt\"",
                server.url,
                n % 7
            )?;
            writeln!(cfg, "output = \"/dev/null\"")?;
        }
    }
    drop(cfg);
    let status = Command::new(&curl)
        .args([
            "--parallel",
            "--parallel-max",
            "8",
            "--no-progress-meter",
            "-K",
        ])
        .arg(&config)
        .stdout(Stdio::null())
        .status()
        .context("running curl")?;
    if !status.success() {
        bail!(
            "some uploads failed (curl exit {status}); see {}",
            work.display()
        );
    }
    println!(
        "published {total} packages in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // ---- 3. sign in
    let jar = work.join("cookies.txt");
    let form = shell::output(
        Command::new(&curl)
            .args(["-sS", "--fail", "-c"])
            .arg(&jar)
            .arg(format!("{}/users/sign_in", server.url)),
    )?;
    let csrf = attribute_after(&form, "name=\"authenticity_token\" value=\"")
        .context("no authenticity_token in the sign-in form")?;
    let code = shell::output(
        Command::new(&curl)
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-b"])
            .arg(&jar)
            .arg("-c")
            .arg(&jar)
            .args(["--data-urlencode", "username=maria"])
            .args(["--data-urlencode", &format!("password={PASSWORD}")])
            .args(["--data-urlencode", &format!("authenticity_token={csrf}")])
            .args(["--data-urlencode", "redirect_to=/explore"])
            .arg(format!("{}/users/sign_in", server.url)),
    )?;
    if code.trim() != "303" {
        bail!("signing in answered {code}, not 303");
    }
    let session = session_cookie(&jar)?;

    // ---- 4. the pages
    let pages = [
        ("group, first page", "/groups/bench/-/packages".to_string()),
        ("project, first page", "/bench/p07/-/packages".to_string()),
        (
            "group, filtered+sorted, page 5",
            "/groups/bench/-/packages?search=pkg-0001&order_by=name&sort=desc&page=5".to_string(),
        ),
    ];
    let expect_total = format!("of {total} packages");
    let first = shell::output(
        Command::new(&curl)
            .args(["-sS", "--fail", "-H"])
            .arg(format!("Cookie: _packyard_session={session}"))
            .arg(format!("{}{}", server.url, pages[0].1)),
    )?;
    if !first.contains(&expect_total) {
        bail!("the group page does not say \"{expect_total}\"; signed in? seeded?");
    }
    let mut results = Vec::new();
    for (label, path) in &pages {
        let url = format!("{}{path}", server.url);
        timed(&curl, &session, &url, 10, work)?; // warm-up
        results.push((*label, timed(&curl, &session, &url, requests, work)?));
    }
    drop(server);

    println!(
        "\nweb UI registry pages, {total} packages in {projects} projects, signed-in \
         Maintainer, {requests} sequential requests each over one keep-alive connection"
    );
    println!(
        "{:<32} {:>9} {:>9} {:>9} {:>9} {:>11}",
        "server time (first byte) ms", "mean", "p50", "p99", "max", "total mean"
    );
    for (label, t) in &results {
        println!(
            "{label:<32} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>11.2}",
            t.mean, t.p50, t.p99, t.max, t.total_mean
        );
    }
    let worst = results.iter().map(|(_, t)| t.p99).fold(0.0, f64::max);
    println!(
        "target: under {TARGET_MS} ms; worst p99 {worst:.2} ms ({})",
        if worst < TARGET_MS { "met" } else { "NOT met" }
    );
    Ok(())
}

/// The value of the attribute that starts right after `marker`.
fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_string())
}

/// `_packyard_session` from a curl (Netscape) cookie jar; HttpOnly lines start with
/// `#HttpOnly_`.
fn session_cookie(jar: &Path) -> Result<String> {
    let text = fs::read_to_string(jar)?;
    text.lines()
        .map(|l| l.strip_prefix("#HttpOnly_").unwrap_or(l))
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            (fields.len() == 7 && fields[5] == "_packyard_session").then(|| fields[6].to_string())
        })
        .context("no _packyard_session cookie after signing in")
}

struct Timing {
    mean: f64,
    p50: f64,
    p99: f64,
    max: f64,
    total_mean: f64,
}

/// `n` sequential GETs of `url` by one curl process (one keep-alive connection): the time
/// to the first byte and the whole time of each, in ms.
fn timed(curl: &Path, session: &str, url: &str, n: usize, work: &Path) -> Result<Timing> {
    let config = work.join("timed.curl");
    let mut cfg = fs::File::create(&config)?;
    writeln!(cfg, "header = \"Cookie: _packyard_session={session}\"")?;
    writeln!(cfg, "fail")?;
    writeln!(cfg, "silent")?;
    writeln!(cfg, "show-error")?;
    writeln!(
        cfg,
        "write-out = \"%{{http_code}} %{{time_starttransfer}} %{{time_total}}\\n\""
    )?;
    for _ in 0..n {
        writeln!(cfg, "url = \"{url}\"")?;
        writeln!(cfg, "output = \"/dev/null\"")?;
    }
    drop(cfg);
    let out = shell::output(Command::new(curl).arg("-K").arg(&config))?;
    let mut first = Vec::new();
    let mut total = Vec::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() != 3 || parts[0] != "200" {
            bail!("{url} answered {line:?}");
        }
        first.push(parts[1].parse::<f64>()? * 1000.0);
        total.push(parts[2].parse::<f64>()? * 1000.0);
    }
    if first.len() != n {
        bail!("{url}: {} answers for {n} requests", first.len());
    }
    first.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| first[((first.len() as f64 * p).ceil() as usize).clamp(1, first.len()) - 1];
    Ok(Timing {
        mean: first.iter().sum::<f64>() / n as f64,
        p50: pct(0.50),
        p99: pct(0.99),
        max: first[first.len() - 1],
        total_mean: total.iter().sum::<f64>() / n as f64,
    })
}
