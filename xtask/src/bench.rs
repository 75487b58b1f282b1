//! `cargo xtask bench generic`: how fast the generic registry moves a 1 GiB file, what CPU and
//! memory it spends doing so, and the same numbers for nginx serving the file statically (the
//! ceiling for any registry). Figures are printed, never asserted.
//!
//! CPU is utime + stime from `/proc/<pid>/stat` sampled around each phase; peak RSS is
//! `VmHWM` from `/proc/<pid>/status`. VmHWM never goes down, so the upload phase runs in one
//! server process and the download phase in a fresh one on the same data.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::bench_support::{
    nginx_binary, ratio, vm_hwm_kib, wait_head_ok, Nginx, NginxConfig, Server,
};
use crate::shell;

pub(crate) const FILE_SIZE: u64 = 1 << 30;
pub(crate) const RUNS: usize = 3;

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("generic") => generic(),
        Some("pypi") => crate::bench_pypi::run(&args[1..]),
        Some("npm") => crate::bench_npm::run(&args[1..]),
        Some("cargo") => crate::bench_cargo::run(&args[1..]),
        Some("web") => crate::bench_web::run(&args[1..]),
        Some("maven") => crate::bench_maven::run(&args[1..]),
        Some("nuget") => crate::bench_nuget::run(&args[1..]),
        Some("go") => crate::bench_go::run(&args[1..]),
        Some("tls") => crate::bench_tls::run(&args[1..]),
        _ => bail!("usage: cargo xtask bench generic|pypi|npm|cargo|web|maven|nuget|go|tls"),
    }
}

fn generic() -> Result<()> {
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let curl = shell::ensure_tool("curl", "curl")?;
    let nginx = nginx_binary()?;
    let ticks_per_sec: f64 = shell::output(Command::new("getconf").arg("CLK_TCK"))?
        .trim()
        .parse()
        .context("parsing getconf CLK_TCK")?;

    let bench_dir = target.join("bench");
    fs::create_dir_all(&bench_dir)?;
    let file = bench_file(&bench_dir)?;
    let file_name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("bench file name")?
        .to_string();
    let work = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&bench_dir)?;
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data_dir = work.path().join("data");
    fs::create_dir_all(&data_dir)?;

    // Upload phase, in its own server process.
    let server = Server::start(&packyard, &data_dir, &token, work.path())?;
    server.admin(&["create-group", "--path", "bench"])?;
    server.admin(&["create-project", "--path", "bench/files"])?;
    let package_url = |server: &Server, run: usize| {
        format!(
            "{}/api/v4/projects/bench%2Ffiles/packages/generic/blob/1.0.{run}/{file_name}",
            server.url
        )
    };
    let upload = measure(&[server.pid()], ticks_per_sec, |run| {
        let url = package_url(&server, run);
        curl_speed(
            Command::new(&curl)
                .args(["-sS", "--fail", "-o", "/dev/null", "-w", "%{speed_upload}"])
                .arg("--upload-file")
                .arg(&file)
                .args(["-H", &format!("PRIVATE-TOKEN: {token}")])
                .arg(url),
        )
    })?;
    drop(server);

    // Download phase, in a fresh process so VmHWM reflects downloads only.
    let server = Server::start(&packyard, &data_dir, &token, work.path())?;
    let download = measure(&[server.pid()], ticks_per_sec, |run| {
        let url = package_url(&server, run);
        curl_speed(
            Command::new(&curl)
                .args([
                    "-sS",
                    "--fail",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{speed_download}",
                ])
                .args(["-H", &format!("PRIVATE-TOKEN: {token}")])
                .arg(url),
        )
    })?;
    drop(server);

    let nginx = Nginx::start(
        &nginx,
        &bench_dir,
        work.path(),
        NginxConfig {
            workers: "1",
            worker_connections: 64,
            default_type: "application/octet-stream",
            port: None,
        },
    )?;
    let nginx_url = format!("{}/{file_name}", nginx.url());
    wait_head_ok(&curl, &nginx_url, "nginx")?;
    let pids = nginx.pids();
    let static_download = measure(&pids, ticks_per_sec, |_| {
        curl_speed(
            Command::new(&curl)
                .args([
                    "-sS",
                    "--fail",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{speed_download}",
                ])
                .arg(&nginx_url),
        )
    })?;
    drop(nginx);

    println!(
        "\ngeneric packages, {} MiB file, median of {RUNS} runs (MB = 10^6 bytes)",
        FILE_SIZE >> 20
    );
    println!(
        "{:<26} {:>10} {:>12} {:>14}",
        "", "MB/s", "CPU s/GiB", "peak RSS MiB"
    );
    for (label, r) in [
        ("packyard upload", &upload),
        ("packyard download", &download),
        ("nginx download (static)", &static_download),
    ] {
        println!(
            "{label:<26} {:>10.1} {:>12.3} {:>14.1}",
            r.median_mb_s, r.cpu_s_per_gib, r.peak_rss_mib
        );
    }
    for (label, r) in [
        ("ratio upload / nginx", &upload),
        ("ratio download / nginx", &download),
    ] {
        println!(
            "{label:<26} {:>10} {:>12} {:>14}",
            ratio(r.median_mb_s, static_download.median_mb_s),
            ratio(r.cpu_s_per_gib, static_download.cpu_s_per_gib),
            ratio(r.peak_rss_mib, static_download.peak_rss_mib),
        );
    }
    println!(
        "(nginx CPU and RSS are summed over its master and worker; RSS is VmHWM after the phase)"
    );
    Ok(())
}

/// The 1 GiB random file, created once and kept in `target/bench/`.
pub(crate) fn bench_file(dir: &Path) -> Result<PathBuf> {
    let path = dir.join("generic-1GiB.bin");
    if fs::metadata(&path)
        .map(|m| m.len() == FILE_SIZE)
        .unwrap_or(false)
    {
        println!("reusing {}", path.display());
        return Ok(path);
    }
    println!("writing {} from /dev/urandom", path.display());
    let partial = dir.join("generic-1GiB.bin.partial");
    let mut random = File::open("/dev/urandom")?;
    let mut out = std::io::BufWriter::new(File::create(&partial)?);
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..(FILE_SIZE >> 20) {
        random.read_exact(&mut buf)?;
        out.write_all(&buf)?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs::rename(&partial, &path)?;
    Ok(path)
}

pub(crate) struct Measured {
    pub(crate) median_mb_s: f64,
    pub(crate) cpu_s_per_gib: f64,
    pub(crate) peak_rss_mib: f64,
}

/// Runs `RUNS` transfers, returning the median speed and the CPU and peak RSS of `pids`.
pub(crate) fn measure(
    pids: &[u32],
    ticks_per_sec: f64,
    mut transfer: impl FnMut(usize) -> Result<f64>,
) -> Result<Measured> {
    let cpu_before = cpu_ticks(pids)?;
    let mut speeds = Vec::new();
    for run in 1..=RUNS {
        let bytes_per_sec = transfer(run)?;
        println!("  run {run}: {:.1} MB/s", bytes_per_sec / 1e6);
        speeds.push(bytes_per_sec / 1e6);
    }
    let cpu_after = cpu_ticks(pids)?;
    let peak_kib: u64 = pids
        .iter()
        .map(|pid| vm_hwm_kib(*pid))
        .sum::<Result<u64>>()?;
    speeds.sort_by(|a, b| a.total_cmp(b));
    let gib_moved = (RUNS as u64 * FILE_SIZE) as f64 / (1u64 << 30) as f64;
    Ok(Measured {
        median_mb_s: speeds[speeds.len() / 2],
        cpu_s_per_gib: (cpu_after - cpu_before) as f64 / ticks_per_sec / gib_moved,
        peak_rss_mib: peak_kib as f64 / 1024.0,
    })
}

pub(crate) fn curl_speed(cmd: &mut Command) -> Result<f64> {
    let out = shell::output(cmd)?;
    out.trim()
        .parse()
        .with_context(|| format!("curl printed `{}`, not a speed", out.trim()))
}

/// utime + stime, summed over `pids`, in clock ticks.
fn cpu_ticks(pids: &[u32]) -> Result<u64> {
    let mut total = 0;
    for pid in pids {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15.
        let after_comm = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        let utime: u64 = fields.get(11).context("utime")?.parse()?;
        let stime: u64 = fields.get(12).context("stime")?.parse()?;
        total += utime + stime;
    }
    Ok(total)
}
