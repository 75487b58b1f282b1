//! `cargo xtask bench nuget [--quick]`: the NuGet registry side by side with nginx serving the
//! same bytes statically (the ceiling for any registry). Figures are printed, never asserted.
//!
//! Workload: `Bench.Lib` with 200 versions (`1.0.0` .. `1.1.99`), each a `.nupkg` built here
//! with the `zip` crate (the `.nuspec` and `lib/netstandard2.0/x.txt`, the newest also a 1 MiB
//! stored member of random bytes), pushed through the project's v3 push endpoint (`PUT
//! .../nuget/`, multipart field `package`, `X-NuGet-ApiKey`) by one curl on one kept-alive
//! connection, on a public project so both sides are read anonymously.
//!
//! 1. wrk requests/s and p99 of the registration index (`metadata/bench.lib/index.json`,
//!    paged: 200 versions are above the default page size), of one registration page (its URL
//!    taken from the index's `items[0].@id`), of the flat container's
//!    `download/bench.lib/index.json` and of the newest `.nupkg` (1 MiB), against Packyard and
//!    against nginx serving a copy of the bytes Packyard answered, at the same paths. The
//!    machine is shared, so each pair runs in 3 interleaved rounds (packyard, then nginx, per
//!    request, per round): the table holds the median run of each side and every round's
//!    ratio.
//! 2. One curl push of a 200 MiB `.nupkg` (a `.nuspec` and one stored member of random bytes,
//!    written once to `target/bench/` and streamed from there) to a fresh server process: its
//!    peak RSS (`VmHWM` from `/proc/<pid>/status`).
//!
//! There is no peer NuGet server on this machine (BaGet and NuGet.Server need .NET, which this
//! machine kind lacks, and nuget.org is unreachable); the output says so.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::bench_support::{
    self, nginx_binary, ratio, vm_hwm_kib, wait_ok, work_dir, wrk_warm_up, Nginx, NginxConfig,
    Server, WrkRun,
};
use crate::shell;

const VERSIONS: usize = 200;
const ID: &str = "Bench.Lib";
const BIG_ID: &str = "Bench.Big";
const BLOB_BYTES: usize = 1 << 20;
const BIG_PUSH_MIB: u64 = 200;
const RSS_TARGET_MIB: u64 = 64;
const API_KEY: &str = "X-NuGet-ApiKey";
/// Interleaved wrk rounds of each request (one with `--quick`).
const ROUNDS: usize = 3;

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { ROUNDS };
    let wrk_args: &[&str] = if quick {
        &["-t2", "-c16", "-d3s", "--latency"]
    } else {
        &["-t2", "-c16", "-d10s", "--latency"]
    };
    // The binary users run, with every default format (NuGet is one).
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let curl = shell::ensure_tool("curl", "curl")?;
    let wrk = shell::ensure_tool("wrk", "wrk")?;
    let nginx_bin = nginx_binary()?;
    let big_push = big_push_file(&target.join("bench"))?;

    let work = work_dir("nuget-")?;
    let work = work.path();

    // ---- the packages
    let files = work.join("files");
    let packages = generate(&files)?;
    let lower_id = ID.to_lowercase();
    let newest = packages.last().context("no packages generated")?;

    // ---- Packyard with the 200 versions
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data = work.join("data");
    fs::create_dir_all(&data)?;
    let server = Server::start(&packyard, &data, &token, work)?;
    server.admin(&["create-group", "--path", "bench", "--visibility", "public"])?;
    let project: Value = serde_json::from_str(&server.admin(&[
        "create-project",
        "--path",
        "bench/nuget",
        "--visibility",
        "public",
    ])?)?;
    let id = project["id"].as_i64().context("project id")?;
    let base = format!("{}/api/v4/projects/{id}/packages/nuget", server.url);

    println!("pushing {VERSIONS} versions of {ID}");
    let started = Instant::now();
    push_batch(&curl, work, &format!("{base}/"), &token, &packages)?;
    let push_secs = started.elapsed().as_secs_f64();
    println!("pushed {VERSIONS} packages in {push_secs:.1}s");

    // ---- what Packyard answers, checked
    let flat_url = format!("{base}/download/{lower_id}/index.json");
    let flat: Value = serde_json::from_str(&get_text(&curl, &flat_url)?)
        .with_context(|| format!("{flat_url} is not JSON"))?;
    let listed = flat["versions"].as_array().map_or(0, Vec::len);
    if listed != VERSIONS {
        bail!("{flat_url} lists {listed} versions, expected {VERSIONS}:\n{flat}");
    }
    let registration_url = format!("{base}/metadata/{lower_id}/index.json");
    let registration: Value = serde_json::from_str(&get_text(&curl, &registration_url)?)
        .with_context(|| format!("{registration_url} is not JSON"))?;
    let pages = registration["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let counted: u64 = pages.iter().filter_map(|p| p["count"].as_u64()).sum();
    if counted != VERSIONS as u64 || pages.len() < 2 || pages[0].get("items").is_some() {
        bail!(
            "{registration_url} should link pages (not inline them) over {VERSIONS} versions; \
             it has {} pages counting {counted} versions:\n{registration}",
            pages.len()
        );
    }
    let page_url = pages[0]["@id"]
        .as_str()
        .context("the registration index's first page has no @id")?
        .to_string();
    let page_versions = pages[0]["count"].as_u64().unwrap_or(0);
    let page_bounds = format!(
        "{} .. {}",
        pages[0]["lower"].as_str().unwrap_or("?"),
        pages[0]["upper"].as_str().unwrap_or("?")
    );
    let page: Value = serde_json::from_str(&get_text(&curl, &page_url)?)
        .with_context(|| format!("{page_url} is not JSON"))?;
    let page_items = page["items"].as_array().map_or(0, Vec::len) as u64;
    if page_items != page_versions {
        bail!("{page_url} holds {page_items} items, its index entry says {page_versions}");
    }
    let nupkg_url = format!(
        "{base}/download/{lower_id}/{v}/{lower_id}.{v}.nupkg",
        v = newest.version
    );

    // ---- a static copy of the same bytes, at the same paths, for nginx
    let root = work.join("static");
    let static_copy = |url: &str| -> Result<String> {
        let rel = url
            .strip_prefix(&server.url)
            .with_context(|| format!("{url} is not on {}", server.url))?
            .to_string();
        let path = root.join(rel.trim_start_matches('/'));
        shell::run(
            Command::new(&curl)
                .args(["-sS", "--fail", "--create-dirs", "-o"])
                .arg(&path)
                .arg(url),
        )?;
        Ok(rel)
    };
    let flat_rel = static_copy(&flat_url)?;
    let registration_rel = static_copy(&registration_url)?;
    let page_rel = static_copy(&page_url)?;
    let nupkg_rel = static_copy(&nupkg_url)?;
    if fs::read(root.join(nupkg_rel.trim_start_matches('/')))? != fs::read(&newest.path)? {
        bail!("{nupkg_url} answered other bytes than the pushed .nupkg");
    }
    let size = |rel: &str| -> Result<u64> {
        Ok(fs::metadata(root.join(rel.trim_start_matches('/')))?.len())
    };
    let checks = [
        (
            format!(
                "registration index, {} pages ({} B)",
                pages.len(),
                size(&registration_rel)?
            ),
            registration_rel.clone(),
        ),
        (
            format!(
                "registration page {page_bounds}, {page_versions} versions ({} B)",
                size(&page_rel)?
            ),
            page_rel.clone(),
        ),
        (
            format!("flat container index.json ({} B)", size(&flat_rel)?),
            flat_rel.clone(),
        ),
        (
            format!(".nupkg download ({} B)", size(&nupkg_rel)?),
            nupkg_rel.clone(),
        ),
    ];
    // The JSON documents and the package each with their own content type, as Packyard
    // answers them.
    let nginx_config = |default_type| NginxConfig {
        workers: "auto",
        worker_connections: 256,
        default_type,
        port: None,
    };
    let nginx_json = Nginx::start(
        &nginx_bin,
        &root,
        &work.join("nginx-json"),
        nginx_config("\"application/json; charset=utf-8\""),
    )?;
    let nginx_nupkg = Nginx::start(
        &nginx_bin,
        &root,
        &work.join("nginx-nupkg"),
        nginx_config("application/octet-stream"),
    )?;
    wait_ok(&curl, &format!("{}{flat_rel}", nginx_json.url()), "nginx")?;
    wait_ok(&curl, &format!("{}{flat_rel}", nginx_nupkg.url()), "nginx")?;

    // ---- 1. wrk, side by side
    let load_before = load_average();
    let mut runs: Vec<(Vec<WrkRun>, Vec<WrkRun>)> =
        checks.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for round in 1..=rounds {
        println!("round {round} of {rounds}");
        for ((_, rel), (py, ng)) in checks.iter().zip(&mut runs) {
            let nginx_base = if rel.ends_with(".nupkg") {
                nginx_nupkg.url()
            } else {
                nginx_json.url()
            };
            py.push(wrk_ok(
                &wrk,
                &curl,
                wrk_args,
                &format!("{}{rel}", server.url),
            )?);
            ng.push(wrk_ok(
                &wrk,
                &curl,
                wrk_args,
                &format!("{nginx_base}{rel}"),
            )?);
        }
    }
    let load_after = load_average();
    let rss_after_reads = vm_hwm_kib(server.pid())? / 1024;
    drop(nginx_json);
    drop(nginx_nupkg);
    drop(server);

    // ---- 2. a 200 MiB push, in a fresh process so VmHWM reflects it alone
    let server = Server::start(&packyard, &data, &token, work)?;
    let base = format!("{}/api/v4/projects/{id}/packages/nuget", server.url);
    let idle_rss = vm_hwm_kib(server.pid())? / 1024;
    let auth = work.join("auth.curlrc");
    fs::write(&auth, format!("header = \"{API_KEY}: {token}\"\n"))?;
    let response = work.join("big-push.response");
    let started = Instant::now();
    let status = shell::output(
        Command::new(&curl)
            .args(["-sS", "-o"])
            .arg(&response)
            .args(["-w", "%{http_code}", "-X", "PUT"])
            .arg("-K")
            .arg(&auth)
            .arg("-F")
            .arg(format!("package=@{}", big_push.display()))
            .arg(format!("{base}/")),
    )?;
    let push_big_secs = started.elapsed().as_secs_f64();
    let push_rss = vm_hwm_kib(server.pid())? / 1024;
    if !status.trim().starts_with('2') {
        bail!(
            "the {BIG_PUSH_MIB} MiB push answered {}: {}",
            status.trim(),
            fs::read_to_string(&response).unwrap_or_default()
        );
    }
    // Stored whole: the flat container lists it and serves every byte back.
    let big_lower = BIG_ID.to_lowercase();
    let big_flat = get_text(&curl, &format!("{base}/download/{big_lower}/index.json"))?;
    if !big_flat.contains("\"1.0.0\"") {
        bail!("after the {BIG_PUSH_MIB} MiB push the flat container lists {big_flat}");
    }
    let served = shell::output(Command::new(&curl).args([
        "-sS",
        "--fail",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        &format!("{base}/download/{big_lower}/1.0.0/{big_lower}.1.0.0.nupkg"),
    ]))?;
    let pushed_len = fs::metadata(&big_push)?.len();
    if served.trim() != pushed_len.to_string() {
        bail!(
            "the {BIG_PUSH_MIB} MiB package downloads as {} bytes, {pushed_len} were pushed",
            served.trim()
        );
    }
    drop(server);

    // ---- the report
    println!(
        "\nnuget: {ID} with {VERSIONS} versions (registration page size: the server's default); \
         anonymous GETs, wrk {}, median of {rounds} interleaved rounds",
        wrk_args.join(" ")
    );
    println!(
        "no peer NuGet server: BaGet and NuGet.Server need .NET (not on this machine kind) and \
         nuget.org is unreachable"
    );
    println!(
        "| request | packyard req/s | packyard p99 | nginx req/s | nginx p99 | packyard / nginx | each round | target |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|---:|");
    for ((label, _), (py_runs, ng_runs)) in checks.iter().zip(&runs) {
        let (py, ng) = (median_run(py_runs)?, median_run(ng_runs)?);
        let each: Vec<String> = py_runs
            .iter()
            .zip(ng_runs)
            .map(|(p, n)| ratio(p.rps, n.rps))
            .collect();
        println!(
            "| {label} | {:.0} | {} | {:.0} | {} | {} | {} | >= 0.7x |",
            py.rps,
            py.p99,
            ng.rps,
            ng.p99,
            ratio(py.rps, ng.rps),
            each.join(", ")
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "load average before / after the wrk runs: {load_before} / {load_after} on {cores} cores \
         (above {cores}: other work competed with wrk, nginx and packyard)"
    );
    println!(
        "\n{BIG_PUSH_MIB} MiB .nupkg push (one curl PUT, multipart `package`): {push_big_secs:.1}s, \
         {:.0} MB/s, answered {}; packyard peak RSS {push_rss} MiB (idle {idle_rss} MiB, \
         target < {RSS_TARGET_MIB} MiB: {})",
        pushed_len as f64 / 1e6 / push_big_secs,
        status.trim(),
        if push_rss < RSS_TARGET_MIB { "met" } else { "MISSED" }
    );
    println!("packyard peak RSS after the reads: {rss_after_reads} MiB");
    println!("pushed {VERSIONS} packages with curl in {push_secs:.1}s");
    Ok(())
}

/// One generated `.nupkg`.
struct Package {
    version: String,
    path: PathBuf,
}

fn lib_version(i: usize) -> String {
    format!("1.{}.{}", i / 100, i % 100)
}

fn nuspec(id: &str, version: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <package xmlns=\"http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd\">\n\
         \x20 <metadata>\n    <id>{id}</id>\n    <version>{version}</version>\n\
         \x20   <authors>Packyard bench</authors>\n\
         \x20   <description>{id} {version}, written by cargo xtask bench nuget.</description>\n\
         \x20 </metadata>\n</package>\n"
    )
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
}

/// Writes the 200 `.nupkg` files of [`ID`] into `dir`, oldest first; the newest holds a 1 MiB
/// stored member of random bytes.
fn generate(dir: &Path) -> Result<Vec<Package>> {
    fs::create_dir_all(dir)?;
    let mut blob = vec![0u8; BLOB_BYTES];
    File::open("/dev/urandom")?.read_exact(&mut blob)?;
    let mut packages = Vec::with_capacity(VERSIONS);
    for i in 0..VERSIONS {
        let version = lib_version(i);
        let path = dir.join(format!("{ID}.{version}.nupkg"));
        let mut zip = ZipWriter::new(BufWriter::new(File::create(&path)?));
        zip.start_file(format!("{ID}.nuspec"), deflated())?;
        zip.write_all(nuspec(ID, &version).as_bytes())?;
        zip.start_file("lib/netstandard2.0/x.txt", deflated())?;
        zip.write_all(format!("{ID} {version}\n").as_bytes())?;
        if i + 1 == VERSIONS {
            zip.start_file("lib/netstandard2.0/blob.bin", stored())?;
            zip.write_all(&blob)?;
        }
        zip.finish()?.flush()?;
        packages.push(Package { version, path });
    }
    Ok(packages)
}

/// The 200 MiB `.nupkg` (a `.nuspec` and one stored member of random bytes), created once and
/// kept in `target/bench/`; written 1 MiB at a time, never held in memory.
fn big_push_file(dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join(format!("nuget-{BIG_PUSH_MIB}MiB.nupkg"));
    if fs::metadata(&path)
        .map(|m| m.len() > BIG_PUSH_MIB << 20)
        .unwrap_or(false)
    {
        println!("reusing {}", path.display());
        return Ok(path);
    }
    println!("writing {} from /dev/urandom", path.display());
    let partial = dir.join(format!("nuget-{BIG_PUSH_MIB}MiB.nupkg.partial"));
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, File::create(&partial)?));
    zip.start_file(format!("{BIG_ID}.nuspec"), deflated())?;
    zip.write_all(nuspec(BIG_ID, "1.0.0").as_bytes())?;
    zip.start_file("content/big.bin", stored())?;
    let mut random = File::open("/dev/urandom")?;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..BIG_PUSH_MIB {
        random.read_exact(&mut buf)?;
        zip.write_all(&buf)?;
    }
    let file = zip.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&partial, &path)?;
    Ok(path)
}

// ---- HTTP

/// The curl config pushing each package to `url` (`PUT`, multipart `package`, the API key),
/// one transfer per package separated by `next`, each printing its status and file name.
fn push_config(url: &str, token: &str, packages: &[Package]) -> String {
    let mut config = String::new();
    for (i, p) in packages.iter().enumerate() {
        if i > 0 {
            config.push_str("next\n");
        }
        let name = p
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        config.push_str(&format!(
            "url = \"{url}\"\nrequest = \"PUT\"\nheader = \"{API_KEY}: {token}\"\n\
             form = \"package=@{}\"\noutput = \"/dev/null\"\nsilent\nshow-error\n\
             write-out = \"%{{http_code}} {name}\\n\"\n",
            p.path.display()
        ));
    }
    config
}

/// Pushes every package with one curl (one kept-alive connection); an error naming each push
/// that did not answer 2xx.
fn push_batch(
    curl: &Path,
    work: &Path,
    url: &str,
    token: &str,
    packages: &[Package],
) -> Result<()> {
    let config = work.join("push.curlrc");
    fs::write(&config, push_config(url, token, packages))?;
    let out = Command::new(curl)
        .arg("-K")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("running curl (push)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let answered = text.lines().count();
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('2'))
        .take(20)
        .collect();
    if !failed.is_empty() || answered != packages.len() || !out.status.success() {
        bail!(
            "push: {answered} of {} pushes answered, these not with 2xx (curl {}):\n{}\n{}",
            packages.len(),
            out.status,
            failed.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn get_text(curl: &Path, url: &str) -> Result<String> {
    shell::output(Command::new(curl).args(["-sS", "--fail", url]))
}

fn status_of(curl: &Path, url: &str) -> Result<u16> {
    let code = shell::output(Command::new(curl).args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        url,
    ]))?;
    code.trim()
        .parse()
        .with_context(|| format!("curl printed `{code}` for {url}, not a status"))
}

/// A warmed-up wrk run of `url`, which must answer 200 before and after it and nothing but
/// 2xx or 3xx during it.
fn wrk_ok(wrk: &Path, curl: &Path, args: &[&str], url: &str) -> Result<WrkRun> {
    let check = |when: &str| -> Result<()> {
        let got = status_of(curl, url)?;
        if got != 200 {
            bail!("{url} answered {got} {when} the wrk run, expected 200");
        }
        Ok(())
    };
    check("before")?;
    wrk_warm_up(wrk, &[], url)?;
    let run = bench_support::wrk_run(wrk, args, &[], url)?;
    check("after")?;
    println!("  {url}: {:.0} req/s, p99 {}", run.rps, run.p99);
    Ok(run)
}

/// The run with the median requests/s (the upper one of an even count).
fn median_run(runs: &[WrkRun]) -> Result<&WrkRun> {
    let mut sorted: Vec<&WrkRun> = runs.iter().collect();
    sorted.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    sorted.get(sorted.len() / 2).copied().context("no wrk runs")
}

/// The 1-minute load average from `/proc/loadavg`, `?` when unreadable.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_package_is_a_zip_holding_its_nuspec_first() {
        let dir = tempfile::tempdir().unwrap();
        let packages = generate(dir.path()).unwrap();
        assert_eq!(packages.len(), VERSIONS);
        assert_eq!(packages[0].version, "1.0.0");
        assert_eq!(packages[VERSIONS - 1].version, "1.1.99");

        let read = |p: &Package| {
            let mut zip = zip::ZipArchive::new(File::open(&p.path).unwrap()).unwrap();
            let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
            let mut nuspec = String::new();
            zip.by_name(&format!("{ID}.nuspec"))
                .unwrap()
                .read_to_string(&mut nuspec)
                .unwrap();
            (names, nuspec)
        };
        let (names, text) = read(&packages[0]);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(text.contains("<id>Bench.Lib</id>") && text.contains("<version>1.0.0</version>"));

        let newest = &packages[VERSIONS - 1];
        let (names, text) = read(newest);
        assert!(names.contains(&"lib/netstandard2.0/blob.bin".to_string()));
        assert!(text.contains("<version>1.1.99</version>"));
        let len = fs::metadata(&newest.path).unwrap().len();
        assert!(
            len > BLOB_BYTES as u64 && len < BLOB_BYTES as u64 + 4096,
            "{len}"
        );
    }

    #[test]
    fn the_median_run_is_the_middle_one_by_requests_per_second_with_its_own_p99() {
        let run = |rps: f64, p99: &str| WrkRun {
            rps,
            p99: p99.into(),
        };
        let runs = [run(300.0, "3ms"), run(100.0, "1ms"), run(200.0, "2ms")];
        let m = median_run(&runs).unwrap();
        assert_eq!((m.rps, m.p99.as_str()), (200.0, "2ms"));
        assert_eq!(median_run(&runs[..1]).unwrap().p99, "3ms");
        assert!(median_run(&[]).is_err());
    }

    #[test]
    fn the_push_config_sends_each_package_as_its_own_put() {
        let packages = [
            Package {
                version: "1.0.0".into(),
                path: PathBuf::from("/b/Bench.Lib.1.0.0.nupkg"),
            },
            Package {
                version: "1.0.1".into(),
                path: PathBuf::from("/b/Bench.Lib.1.0.1.nupkg"),
            },
        ];
        let config = push_config("http://h/nuget/", "tok", &packages);
        assert_eq!(config.matches("\nnext\n").count(), 1, "{config}");
        assert_eq!(config.matches("request = \"PUT\"").count(), 2);
        assert_eq!(
            config.matches("header = \"X-NuGet-ApiKey: tok\"").count(),
            2
        );
        assert!(config.contains("form = \"package=@/b/Bench.Lib.1.0.1.nupkg\""));
        assert!(config.contains("write-out = \"%{http_code} Bench.Lib.1.0.0.nupkg\\n\""));
    }
}
