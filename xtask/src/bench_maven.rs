//! `cargo xtask bench maven [--quick]`: the Maven registry side by side with nginx serving the
//! same bytes statically (the ceiling for any registry). Figures are printed, never asserted.
//!
//! Workload: `com.example.bench:bench-lib` with 200 versions (a pom and a small jar each, the
//! newest jar 1 MiB) and 30 artifacts `com.example.bench:dep01`.. (pom and jar), PUT through
//! the project endpoint with curl (one process, one kept-alive connection), on a public project
//! so both sides are read anonymously.
//!
//! 1. wrk requests/s and p99 of the artifact-level `maven-metadata.xml` of `bench-lib`, of its
//!    `.sha1`, of the 1 MiB jar, and of a 404 for an artifact that does not exist, against
//!    Packyard and against nginx serving a static copy of the same files (nginx's own 404 for
//!    the 404 row).
//! 2. The real `mvn` resolving a generated pom that depends on the 30 artifacts
//!    (`dependency:resolve`, checksum policy `fail`), from a fresh local repository each run
//!    (only Maven's plugins are copied in beforehand), against a warm Packyard and against
//!    nginx; median of 3 wall-clock runs each, next to the same command with the 30 already
//!    local (what the JVM and Maven cost without any download).
//! 3. One curl PUT of a 500 MiB jar with `Expect: 100-continue` to a fresh server process: its
//!    peak RSS (`VmHWM` from `/proc/<pid>/status`).
//!
//! There is no peer Maven registry on this machine (Nexus, Reposilite and Artifactory are not
//! packaged for Debian and cannot be fetched offline); the output says so.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::bench_support::{
    self, nginx_binary, ratio, stop, vm_hwm_kib, wait_ok, work_dir, wrk_warm_up, Server, WrkRun,
};
use crate::shell;

const VERSIONS: usize = 200;
const DEPS: usize = 30;
const GROUP_PATH: &str = "com/example/bench";
const LIB: &str = "bench-lib";
const BIG_JAR_BYTES: usize = 1 << 20;
const BIG_DEPLOY_MIB: u64 = 500;
const MVN_RUNS: usize = 3;
const RSS_TARGET_MIB: u64 = 64;
/// Debian's maven-dependency-plugin (Maven's default version is not in /usr/share/maven-repo).
const RESOLVE_GOAL: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:resolve";
/// The local Maven repository Debian ships, mirrored as `central` (Maven Central is offline).
const DEBIAN_REPO: &str = "file:///usr/share/maven-repo";

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let wrk_args: &[&str] = if quick {
        &["-t2", "-c16", "-d3s", "--latency"]
    } else {
        &["-t2", "-c16", "-d10s", "--latency"]
    };
    let mvn_runs = if quick { 1 } else { MVN_RUNS };
    // The binary users run, with every format (Maven is a default one).
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let curl = shell::ensure_tool("curl", "curl")?;
    let wrk = shell::ensure_tool("wrk", "wrk")?;
    let mvn = shell::ensure_tool("mvn", "maven")?;
    let nginx_bin = nginx_binary()?;
    let big_deploy = big_deploy_file(&target.join("bench"))?;

    let work = work_dir("maven-")?;
    let work = work.path();

    // ---- the files, written once for both sides
    let files_dir = work.join("files");
    let uploads = generate(&files_dir)?;

    // ---- Packyard with the artifacts
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data = work.join("data");
    fs::create_dir_all(&data)?;
    let server = Server::start(&packyard, &data, &token, work)?;
    server.admin(&["create-group", "--path", "bench", "--visibility", "public"])?;
    let project: serde_json::Value = serde_json::from_str(&server.admin(&[
        "create-project",
        "--path",
        "bench/maven",
        "--visibility",
        "public",
    ])?)?;
    let id = project["id"].as_i64().context("project id")?;
    let base = format!("{}/api/v4/projects/{id}/packages/maven", server.url);
    let auth = work.join("auth.curlrc");
    fs::write(&auth, format!("header = \"Private-Token: {token}\"\n"))?;

    println!(
        "publishing {VERSIONS} versions of {LIB} and {DEPS} artifacts dep01.. ({} files)",
        uploads.len()
    );
    let started = Instant::now();
    let mut config = String::new();
    for rel in &uploads {
        config.push_str(&format!(
            "upload-file = \"{}\"\nurl = \"{base}/{rel}\"\noutput = \"/dev/null\"\n",
            files_dir.join(rel).display()
        ));
    }
    curl_batch(&curl, work, "publish", &config, Some(&auth))?;
    let publish_secs = started.elapsed().as_secs_f64();
    println!("published {} files in {publish_secs:.1}s", uploads.len());

    let metadata_rel = format!("{GROUP_PATH}/{LIB}/maven-metadata.xml");
    let metadata = shell::output(Command::new(&curl).args([
        "-sS",
        "--fail",
        &format!("{base}/{metadata_rel}"),
    ]))?;
    let listed = metadata.matches("<version>").count();
    if listed != VERSIONS {
        bail!(
            "{LIB}'s maven-metadata.xml lists {listed} versions, expected {VERSIONS}:\n{metadata}"
        );
    }

    // ---- a static copy of the same layout for nginx: every file, its .sha1 and .md5, and
    // each artifact's maven-metadata.xml with its checksums
    let root = work.join("static");
    let mut copies: Vec<String> = Vec::new();
    for rel in &uploads {
        copies.extend([rel.clone(), format!("{rel}.sha1"), format!("{rel}.md5")]);
    }
    let mut artifacts: Vec<String> = vec![LIB.to_string()];
    artifacts.extend((1..=DEPS).map(dep_name));
    for artifact in &artifacts {
        let rel = format!("{GROUP_PATH}/{artifact}/maven-metadata.xml");
        copies.extend([format!("{rel}.sha1"), format!("{rel}.md5"), rel]);
    }
    let mut config = String::from("create-dirs\n");
    for rel in &copies {
        config.push_str(&format!(
            "url = \"{base}/{rel}\"\noutput = \"{}\"\n",
            root.join(rel).display()
        ));
    }
    curl_batch(&curl, work, "static copy", &config, None)?;
    let nginx = StaticNginx::start(&nginx_bin, &root, work)?;
    let nginx_base = format!("http://127.0.0.1:{}", nginx.port);
    wait_ok(&curl, &format!("{nginx_base}/{metadata_rel}"), "nginx")?;

    // ---- 1. wrk, side by side
    let big_rel = big_jar_rel();
    let missing_rel = format!("{GROUP_PATH}/no-such-lib/1.0/no-such-lib-1.0.pom");
    let sizes = [
        fs::metadata(root.join(&metadata_rel))?.len(),
        fs::metadata(root.join(format!("{metadata_rel}.sha1")))?.len(),
        fs::metadata(root.join(&big_rel))?.len(),
    ];
    let checks = [
        (
            format!("maven-metadata.xml ({} B)", sizes[0]),
            metadata_rel.clone(),
            200,
        ),
        (
            format!("maven-metadata.xml.sha1 ({} B)", sizes[1]),
            format!("{metadata_rel}.sha1"),
            200,
        ),
        (
            format!("jar download ({} B)", sizes[2]),
            big_rel.clone(),
            200,
        ),
        ("404 missing artifact".to_string(), missing_rel.clone(), 404),
    ];
    let load_before = load_average();
    let mut rows = Vec::new();
    for (label, rel, status) in &checks {
        let py = wrk_expect(&wrk, &curl, wrk_args, &format!("{base}/{rel}"), *status)?;
        let ng = wrk_expect(
            &wrk,
            &curl,
            wrk_args,
            &format!("{nginx_base}/{rel}"),
            *status,
        )?;
        rows.push((label.clone(), *status, py, ng));
    }

    let load_after = load_average();

    // ---- 2. mvn resolving 30 artifacts
    let app = write_app(work)?;
    let py_settings = write_settings(work, "packyard", &format!("{base}/"))?;
    let ng_settings = write_settings(work, "nginx", &format!("{nginx_base}/"))?;
    // A local repository holding Maven's plugins only: filled by one unmeasured run (which
    // also warms the server), then stripped of the bench artifacts.
    let plugins_repo = work.join("m2-plugins");
    mvn_resolve(&mvn, &app, &py_settings, &plugins_repo)?;
    fs::remove_dir_all(plugins_repo.join(GROUP_PATH))?;
    mvn_resolve(
        &mvn,
        &app,
        &ng_settings,
        &fresh_repo(work, &plugins_repo, "nginx-warm")?,
    )?;
    let mut py_times = Vec::new();
    let mut ng_times = Vec::new();
    let mut local_times = Vec::new();
    for run in 0..mvn_runs {
        let repo = fresh_repo(work, &plugins_repo, &format!("packyard-{run}"))?;
        py_times.push(mvn_resolve(&mvn, &app, &py_settings, &repo)?);
        let repo = fresh_repo(work, &plugins_repo, &format!("nginx-{run}"))?;
        ng_times.push(mvn_resolve(&mvn, &app, &ng_settings, &repo)?);
        // The same command again on a repository that now holds the 30: no download at all.
        local_times.push(mvn_resolve(&mvn, &app, &ng_settings, &repo)?);
    }
    let rss_after_reads = vm_hwm_kib(server.pid())? / 1024;
    drop(nginx);
    drop(server);

    // ---- 3. a 500 MiB deploy, in a fresh process so VmHWM reflects it alone
    let server = Server::start(&packyard, &data, &token, work)?;
    let base = format!("{}/api/v4/projects/{id}/packages/maven", server.url);
    let idle_rss = vm_hwm_kib(server.pid())? / 1024;
    let headers_file = work.join("big-deploy.headers");
    let started = Instant::now();
    let status = shell::output(
        Command::new(&curl)
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg("-K")
            .arg(&auth)
            .args(["-H", "Expect: 100-continue", "--expect100-timeout", "10"])
            .arg("-D")
            .arg(&headers_file)
            .arg("-T")
            .arg(&big_deploy)
            .arg(format!(
                "{base}/{GROUP_PATH}/bench-big/1.0/bench-big-1.0.jar"
            )),
    )?;
    let deploy_secs = started.elapsed().as_secs_f64();
    if !status.trim().starts_with('2') {
        bail!("the {BIG_DEPLOY_MIB} MiB deploy answered {status}");
    }
    let continued = fs::read_to_string(&headers_file)?
        .lines()
        .any(|l| l.starts_with("HTTP/") && l.contains(" 100"));
    let deploy_rss = vm_hwm_kib(server.pid())? / 1024;
    drop(server);

    // ---- the report
    println!(
        "\nmaven: {LIB} with {VERSIONS} versions, {DEPS} more artifacts; anonymous GETs, wrk {}",
        wrk_args.join(" ")
    );
    println!(
        "no peer registry: Nexus, Reposilite and Artifactory cannot be installed offline here"
    );
    println!(
        "| request | packyard req/s | packyard p99 | nginx req/s | nginx p99 | packyard / nginx | target |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (label, status, py, ng) in &rows {
        let target = if *status == 404 { ">= 0.5x" } else { ">= 0.7x" };
        println!(
            "| {label} | {:.0} | {} | {:.0} | {} | {} | {target} |",
            py.rps,
            py.p99,
            ng.rps,
            ng.p99,
            ratio(py.rps, ng.rps)
        );
    }
    // The other rule for misses: no dearer than a cached hit (the metadata row).
    if let (Some(hit), Some(miss)) = (rows.first(), rows.last()) {
        println!(
            "packyard 404 / packyard maven-metadata.xml hit: {} (a miss should cost no more than a cached hit)",
            ratio(miss.2.rps, hit.2.rps)
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "load average before / after the wrk runs: {load_before} / {load_after} on {cores} cores \
         (above {cores}: other work competed with wrk, nginx and packyard)"
    );
    println!(
        "\nmvn {RESOLVE_GOAL} of a pom with {DEPS} dependencies (pom + jar + .sha1 each), fresh \
         local repository (plugins pre-copied), checksum policy fail, wall clock, median of {mvn_runs}"
    );
    let py_med = median(&mut py_times);
    let ng_med = median(&mut ng_times);
    let local_med = median(&mut local_times);
    println!("| source | seconds | runs |");
    println!("|---|---:|---|");
    for (label, med, runs) in [
        ("packyard (warm)", py_med, &py_times),
        ("nginx static copy", ng_med, &ng_times),
        ("already local (no download)", local_med, &local_times),
    ] {
        let each: Vec<String> = runs.iter().map(|t| format!("{t:.2}")).collect();
        println!("| {label} | {med:.2} | {} |", each.join(", "));
    }
    println!(
        "downloading part (minus the no-download run): packyard {:.2}s, nginx {:.2}s",
        py_med - local_med,
        ng_med - local_med
    );
    println!(
        "\n{BIG_DEPLOY_MIB} MiB jar deploy (one curl PUT, Expect: 100-continue {}): {deploy_secs:.1}s, \
         {:.0} MB/s, answered {}; packyard peak RSS {deploy_rss} MiB (idle {idle_rss} MiB, \
         target < {RSS_TARGET_MIB} MiB: {})",
        if continued { "answered with 100" } else { "NOT answered with 100" },
        (BIG_DEPLOY_MIB << 20) as f64 / 1e6 / deploy_secs,
        status.trim(),
        if deploy_rss < RSS_TARGET_MIB { "met" } else { "MISSED" }
    );
    println!("packyard peak RSS after the reads and resolutions: {rss_after_reads} MiB");
    println!(
        "published {} files with curl in {publish_secs:.1}s",
        uploads.len()
    );
    Ok(())
}

fn dep_name(d: usize) -> String {
    format!("dep{d:02}")
}

fn lib_version(i: usize) -> String {
    format!("1.{}.{}", i / 100, i % 100)
}

/// The newest version's jar, the 1 MiB one.
fn big_jar_rel() -> String {
    let v = lib_version(VERSIONS - 1);
    format!("{GROUP_PATH}/{LIB}/{v}/{LIB}-{v}.jar")
}

/// Writes the poms and jars under `dir` in the Maven layout; their paths relative to it, each
/// pom before its jar.
fn generate(dir: &Path) -> Result<Vec<String>> {
    let mut coords: Vec<(String, String)> = (0..VERSIONS)
        .map(|i| (LIB.to_string(), lib_version(i)))
        .collect();
    coords.extend((1..=DEPS).map(|d| (dep_name(d), "1.0".to_string())));
    let mut big = vec![0u8; BIG_JAR_BYTES];
    File::open("/dev/urandom")?.read_exact(&mut big)?;
    let mut rels = Vec::new();
    for (artifact, version) in &coords {
        let folder = format!("{GROUP_PATH}/{artifact}/{version}");
        fs::create_dir_all(dir.join(&folder))?;
        let pom = format!("{folder}/{artifact}-{version}.pom");
        fs::write(
            dir.join(&pom),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n\
                 \x20 <modelVersion>4.0.0</modelVersion>\n  <groupId>com.example.bench</groupId>\n\
                 \x20 <artifactId>{artifact}</artifactId>\n  <version>{version}</version>\n\
                 \x20 <packaging>jar</packaging>\n</project>\n"
            ),
        )?;
        let jar = format!("{folder}/{artifact}-{version}.jar");
        let manifest = b"Manifest-Version: 1.0\r\nCreated-By: cargo xtask bench maven\r\n\r\n";
        let marker = format!("{artifact} {version}\n");
        let mut entries: Vec<(&str, &[u8])> = vec![
            ("META-INF/MANIFEST.MF", manifest),
            ("com/example/bench/VERSION", marker.as_bytes()),
        ];
        if jar == big_jar_rel() {
            entries.push(("com/example/bench/blob.bin", &big));
        }
        let mut out = File::create(dir.join(&jar))?;
        write_jar(&mut out, &entries)?;
        rels.extend([pom, jar]);
    }
    Ok(rels)
}

/// The 500 MiB jar for the deploy (one stored member of random bytes), created once and kept
/// in `target/bench/`.
fn big_deploy_file(dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join(format!("maven-{BIG_DEPLOY_MIB}MiB.jar"));
    if fs::metadata(&path)
        .map(|m| m.len() > BIG_DEPLOY_MIB << 20)
        .unwrap_or(false)
    {
        println!("reusing {}", path.display());
        return Ok(path);
    }
    println!("writing {} from /dev/urandom", path.display());
    let partial = dir.join(format!("maven-{BIG_DEPLOY_MIB}MiB.jar.partial"));
    let mut out = File::create(&partial)?;
    let name = "com/example/bench/big.bin";
    let size = u32::try_from(BIG_DEPLOY_MIB << 20).context("the big jar must stay under 4 GiB")?;
    // The local header's CRC is patched once the data is written.
    out.write_all(&local_header(name, 0, size))?;
    let mut random = File::open("/dev/urandom")?;
    let mut buf = vec![0u8; 1 << 20];
    let mut crc = !0u32;
    for _ in 0..BIG_DEPLOY_MIB {
        random.read_exact(&mut buf)?;
        crc = crc32_update(crc, &buf);
        out.write_all(&buf)?;
    }
    let crc = !crc;
    let end = out.stream_position()?;
    out.seek(SeekFrom::Start(14))?;
    out.write_all(&crc.to_le_bytes())?;
    out.seek(SeekFrom::Start(end))?;
    let central = central_header(name, crc, size, 0);
    let central_offset = u32::try_from(end).context("jar offset")?;
    out.write_all(&central)?;
    out.write_all(&end_of_central(1, central.len() as u32, central_offset))?;
    out.sync_all()?;
    drop(out);
    fs::rename(&partial, &path)?;
    Ok(path)
}

// ---- a minimal jar (zip) writer: stored members, no compression

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC_TABLE: [u32; 256] = crc_table();

/// One step of CRC-32 (IEEE, as zip uses); start from `!0` and invert the result.
fn crc32_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

fn crc32(data: &[u8]) -> u32 {
    !crc32_update(!0, data)
}

/// DOS date 1980-01-01, time 00:00.
const DOS_DATE: u16 = 0x21;

fn local_header(name: &str, crc: u32, size: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(30 + name.len());
    h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    h.extend_from_slice(&10u16.to_le_bytes()); // version needed
    h.extend_from_slice(&0u16.to_le_bytes()); // flags
    h.extend_from_slice(&0u16.to_le_bytes()); // method: stored
    h.extend_from_slice(&0u16.to_le_bytes()); // time
    h.extend_from_slice(&DOS_DATE.to_le_bytes());
    h.extend_from_slice(&crc.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes()); // compressed
    h.extend_from_slice(&size.to_le_bytes()); // uncompressed
    h.extend_from_slice(&(name.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // extra
    h.extend_from_slice(name.as_bytes());
    h
}

fn central_header(name: &str, crc: u32, size: u32, offset: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(46 + name.len());
    h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    h.extend_from_slice(&20u16.to_le_bytes()); // made by
    h.extend_from_slice(&10u16.to_le_bytes()); // needed
    h.extend_from_slice(&0u16.to_le_bytes()); // flags
    h.extend_from_slice(&0u16.to_le_bytes()); // method
    h.extend_from_slice(&0u16.to_le_bytes()); // time
    h.extend_from_slice(&DOS_DATE.to_le_bytes());
    h.extend_from_slice(&crc.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&(name.len() as u16).to_le_bytes());
    h.extend_from_slice(&[0; 12]); // extra, comment, disk, internal and external attributes
    h.extend_from_slice(&offset.to_le_bytes());
    h.extend_from_slice(name.as_bytes());
    h
}

fn end_of_central(entries: u16, size: u32, offset: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(22);
    h.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    h.extend_from_slice(&[0; 4]); // disk numbers
    h.extend_from_slice(&entries.to_le_bytes());
    h.extend_from_slice(&entries.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&offset.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // comment
    h
}

/// A jar of stored (uncompressed) members.
fn write_jar(out: &mut impl Write, entries: &[(&str, &[u8])]) -> Result<()> {
    let mut offset = 0u32;
    let mut central = Vec::new();
    for (name, data) in entries {
        let size = u32::try_from(data.len()).context("jar member too large")?;
        let crc = crc32(data);
        let header = local_header(name, crc, size);
        out.write_all(&header)?;
        out.write_all(data)?;
        central.extend(central_header(name, crc, size, offset));
        offset += header.len() as u32 + size;
    }
    out.write_all(&central)?;
    let count = u16::try_from(entries.len()).context("too many jar members")?;
    out.write_all(&end_of_central(count, central.len() as u32, offset))?;
    Ok(())
}

// ---- HTTP

/// Runs one curl over a config file of transfers (each a `url` with its `output`, and an
/// `upload-file` for a PUT), on one kept-alive connection; an error naming every transfer that
/// did not answer 2xx.
fn curl_batch(
    curl: &Path,
    work: &Path,
    what: &str,
    transfers: &str,
    auth: Option<&Path>,
) -> Result<()> {
    let config = work.join(format!("{}.curlrc", what.replace(' ', "-")));
    fs::write(&config, transfers)?;
    let mut cmd = Command::new(curl);
    cmd.args(["-sS", "-w", "%{http_code} %{url_effective}\\n"]);
    if let Some(auth) = auth {
        cmd.arg("-K").arg(auth);
    }
    cmd.arg("-K").arg(&config).stdout(Stdio::piped());
    let out = cmd
        .output()
        .with_context(|| format!("running curl ({what})"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|c| !c.starts_with('2'))
        })
        .collect();
    if !failed.is_empty() || !out.status.success() {
        bail!(
            "{what}: {} transfers did not answer 2xx (curl {}):\n{}",
            failed.len(),
            out.status,
            failed
                .iter()
                .take(20)
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(())
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

/// A warmed-up wrk run of `url`, which must answer `status` before and after it. wrk counts
/// anything but 2xx and 3xx as `Non-2xx`: a 2xx run must have none, a 404 run only those.
fn wrk_expect(wrk: &Path, curl: &Path, args: &[&str], url: &str, status: u16) -> Result<WrkRun> {
    let check = |when: &str| -> Result<()> {
        let got = status_of(curl, url)?;
        if got != status {
            bail!("{url} answered {got} {when} the wrk run, expected {status}");
        }
        Ok(())
    };
    check("before")?;
    wrk_warm_up(wrk, &[], url)?;
    let run = if status < 300 {
        bench_support::wrk_run(wrk, args, &[], url)?
    } else {
        wrk_misses(wrk, args, url)?
    };
    check("after")?;
    println!("  {url}: {:.0} req/s, p99 {}", run.rps, run.p99);
    Ok(run)
}

/// wrk on a URL that answers an error status: every response must be one.
fn wrk_misses(wrk: &Path, args: &[&str], url: &str) -> Result<WrkRun> {
    let out = shell::output(Command::new(wrk).args(args).arg(url))?;
    let parsed =
        parse_wrk(&out).with_context(|| format!("reading wrk's report on {url}:\n{out}"))?;
    if parsed.non_2xx != parsed.requests {
        bail!(
            "wrk on {url}: {} of {} responses were errors, expected all",
            parsed.non_2xx,
            parsed.requests
        );
    }
    Ok(parsed.run)
}

struct WrkReport {
    run: WrkRun,
    requests: u64,
    non_2xx: u64,
}

fn parse_wrk(out: &str) -> Option<WrkReport> {
    let line_value = |prefix: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_string()))
    };
    let rps = line_value("Requests/sec:")?.parse().ok()?;
    let p99 = line_value("99%").unwrap_or_else(|| "?".into());
    let requests = out
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))?
        .0
        .trim()
        .parse()
        .ok()?;
    let non_2xx = match line_value("Non-2xx or 3xx responses:") {
        Some(n) => n.parse().ok()?,
        None => 0,
    };
    Some(WrkReport {
        run: WrkRun { rps, p99 },
        requests,
        non_2xx,
    })
}

/// nginx serving `root` with Maven's types, not logging the 404s it answers (each would be an
/// error-log line on standard error); stopped on drop.
struct StaticNginx {
    child: Child,
    port: u16,
}

impl StaticNginx {
    fn start(binary: &Path, root: &Path, work: &Path) -> Result<StaticNginx> {
        let dir = work.join("nginx");
        fs::create_dir_all(&dir)?;
        let port = shell::free_port()?;
        // As root, nginx workers would drop to `nobody`, who may not read target/.
        let user = if shell::is_root() { "user root;\n" } else { "" };
        let d = dir.display();
        let text = format!(
            "{user}daemon off;\nworker_processes auto;\nerror_log stderr;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  log_not_found off;\n  sendfile on;\n\
             \x20 types {{ application/xml xml pom; application/java-archive jar; text/plain sha1 md5; }}\n\
             \x20 default_type application/octet-stream;\n\
             \x20 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n    listen 127.0.0.1:{port};\n    root {root};\n  }}\n}}\n",
            root = root.display()
        );
        let conf = dir.join("nginx.conf");
        fs::write(&conf, text)?;
        let mut cmd = Command::new(binary);
        cmd.arg("-p")
            .arg(&dir)
            .args(["-e", "stderr", "-c"])
            .arg(&conf)
            .stdin(Stdio::null());
        println!("$ {}", shell::display(&cmd));
        let child = cmd.spawn().context("starting nginx")?;
        Ok(StaticNginx { child, port })
    }
}

impl Drop for StaticNginx {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

// ---- mvn

/// A project depending on the 30 artifacts.
fn write_app(work: &Path) -> Result<PathBuf> {
    let app = work.join("app");
    fs::create_dir_all(&app)?;
    let deps: String = (1..=DEPS)
        .map(|d| {
            format!(
                "    <dependency><groupId>com.example.bench</groupId><artifactId>{}</artifactId>\
                 <version>1.0</version></dependency>\n",
                dep_name(d)
            )
        })
        .collect();
    fs::write(
        app.join("pom.xml"),
        format!(
            "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n\
             \x20 <groupId>com.example.bench</groupId>\n  <artifactId>app</artifactId>\n\
             \x20 <version>1.0</version>\n  <dependencies>\n{deps}  </dependencies>\n</project>\n"
        ),
    )?;
    Ok(app)
}

/// A `settings.xml` with `central` mirrored onto Debian's Maven repository (for the plugins)
/// and the repository `bench` at `url`, checksums enforced.
fn write_settings(work: &Path, label: &str, url: &str) -> Result<PathBuf> {
    let path = work.join(format!("settings-{label}.xml"));
    fs::write(
        &path,
        format!(
            "<settings>\n  <mirrors><mirror><id>central</id><mirrorOf>central</mirrorOf>\
             <url>{DEBIAN_REPO}</url></mirror></mirrors>\n  <profiles><profile><id>bench</id>\
             <repositories><repository><id>bench</id><url>{url}</url>\
             <releases><enabled>true</enabled><checksumPolicy>fail</checksumPolicy></releases>\
             <snapshots><enabled>false</enabled></snapshots></repository></repositories>\
             </profile></profiles>\n  <activeProfiles><activeProfile>bench</activeProfile></activeProfiles>\n\
             </settings>\n"
        ),
    )?;
    Ok(path)
}

/// A copy of the plugins-only local repository, for one run.
fn fresh_repo(work: &Path, plugins: &Path, label: &str) -> Result<PathBuf> {
    let repo = work.join(format!("m2-{label}"));
    shell::run(Command::new("cp").arg("-a").arg(plugins).arg(&repo))?;
    Ok(repo)
}

/// `mvn dependency:resolve` of the app into `repo`: its wall-clock seconds. An error unless
/// mvn succeeds and `repo` then holds every dependency's jar.
fn mvn_resolve(mvn: &Path, app: &Path, settings: &Path, repo: &Path) -> Result<f64> {
    let mut cmd = Command::new(mvn);
    cmd.args(["-B", "-s"])
        .arg(settings)
        .arg(format!("-Dmaven.repo.local={}", repo.display()))
        .arg(RESOLVE_GOAL)
        .current_dir(app)
        .stdin(Stdio::null());
    println!("$ {}", shell::display(&cmd));
    let started = Instant::now();
    let out = cmd.output().context("running mvn")?;
    let secs = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("mvn failed ({}):\n{log}", out.status);
    }
    for d in 1..=DEPS {
        let name = dep_name(d);
        let jar = repo.join(format!("{GROUP_PATH}/{name}/1.0/{name}-1.0.jar"));
        if !jar.is_file() {
            bail!("mvn succeeded but {} is missing:\n{log}", jar.display());
        }
    }
    let downloads = log.matches("Downloaded from bench:").count();
    println!("  {secs:.2}s, {downloads} files downloaded from the bench repository");
    Ok(secs)
}

/// The 1-minute load average from `/proc/loadavg`, `?` when unreadable.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_published_check_value() {
        // The CRC-32/ISO-HDLC check value of "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_jar_is_a_zip_that_unzip_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jar");
        let mut out = File::create(&path).unwrap();
        write_jar(
            &mut out,
            &[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                ("a/b.txt", b"hello"),
            ],
        )
        .unwrap();
        drop(out);
        let Some(unzip) = shell::which("unzip") else {
            eprintln!("unzip is not installed; skipping the listing check");
            return;
        };
        let out = Command::new(unzip).arg("-t").arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("a/b.txt") && text.contains("No errors"),
            "{text}"
        );
    }

    #[test]
    fn a_wrk_report_of_404s_counts_them() {
        let report = "Running 3s test @ http://127.0.0.1:1/x\n  2 threads and 16 connections\n\
            \x20 Latency Distribution\n     50%  100.00us\n     99%    1.20ms\n\
            \x20 91234 requests in 3.00s, 12.00MB read\n  Non-2xx or 3xx responses: 91234\n\
            Requests/sec:  30411.33\nTransfer/sec:      4.00MB\n";
        let parsed = parse_wrk(report).unwrap();
        assert_eq!(parsed.requests, 91234);
        assert_eq!(parsed.non_2xx, 91234);
        assert_eq!(parsed.run.p99, "1.20ms");
        assert!((parsed.run.rps - 30411.33).abs() < 1e-6);
        let ok = report.replace("  Non-2xx or 3xx responses: 91234\n", "");
        assert_eq!(parse_wrk(&ok).unwrap().non_2xx, 0);
    }
}
