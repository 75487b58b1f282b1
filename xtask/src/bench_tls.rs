//! `cargo xtask bench tls`: what serving https costs. A 1 GiB generic package is downloaded
//! `RUNS` times with curl from packyard over plain HTTP, over https with HTTP/1.1 and with
//! HTTP/2, and the same bytes from nginx over https (the same certificate, a static file)
//! with both protocols. For each: the server's CPU seconds per GiB (utime + stime from
//! `/proc/PID/stat`, nginx's master and worker summed), the median MB/s and the server's
//! peak RSS (`VmHWM`, a fresh process per phase: it must stay flat, downloads stream).
//! Figures are printed, never asserted.

use std::fs;
use std::process::Command;

use anyhow::{Context, Result};

use crate::bench::{bench_file, curl_speed, measure, Measured, FILE_SIZE, RUNS};
use crate::bench_support::{
    nginx_binary, ratio, self_signed_cert, wait_head_ok_tls, Nginx, NginxConfig, Server,
};
use crate::shell;

pub fn run(_args: &[String]) -> Result<()> {
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
        .prefix("tls-")
        .tempdir_in(&bench_dir)?;
    let tls = self_signed_cert(&packyard, &work.path().join("tls"))?;
    let ca = tls.cert.display().to_string();
    let token = format!("bench-{}", shell::random_hex(16)?);
    let data_dir = work.path().join("data");
    fs::create_dir_all(&data_dir)?;
    let path = format!("/api/v4/projects/bench%2Ffiles/packages/generic/blob/1.0.0/{file_name}");

    // The package, uploaded once over plain HTTP.
    {
        let server = Server::start(&packyard, &data_dir, &token, work.path())?;
        server.admin(&["create-group", "--path", "bench"])?;
        server.admin(&["create-project", "--path", "bench/files"])?;
        shell::output(
            Command::new(&curl)
                .args(["-sS", "--fail", "-o", "/dev/null", "--upload-file"])
                .arg(&file)
                .args(["-H", &format!("PRIVATE-TOKEN: {token}")])
                .arg(format!("{}{path}", server.url)),
        )?;
    }
    let download = |url: &str, extra: &[&str]| {
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
                .args(["--cacert", &ca])
                .args(extra)
                .args(["-H", &format!("PRIVATE-TOKEN: {token}")])
                .arg(url),
        )
    };
    // Each packyard phase in a fresh process, so VmHWM is that phase's alone.
    let packyard_phase = |over_tls: bool, extra: &[&str]| -> Result<Measured> {
        let server = if over_tls {
            Server::start_tls(&packyard, &data_dir, &token, work.path(), &tls)?
        } else {
            Server::start(&packyard, &data_dir, &token, work.path())?
        };
        let url = format!("{}{path}", server.url);
        println!("packyard {url} {extra:?}");
        measure(&[server.pid()], ticks_per_sec, |_| download(&url, extra))
    };
    let plain = packyard_phase(false, &[])?;
    let tls_h1 = packyard_phase(true, &["--http1.1"])?;
    let tls_h2 = packyard_phase(true, &["--http2"])?;

    let nginx_phase = |extra: &[&str]| -> Result<Measured> {
        let nginx = Nginx::start_tls(
            &nginx,
            &bench_dir,
            work.path(),
            NginxConfig {
                workers: "1",
                worker_connections: 64,
                default_type: "application/octet-stream",
                port: None,
            },
            &tls,
        )?;
        let url = format!("{}/{file_name}", nginx.url());
        wait_head_ok_tls(&curl, &url, "nginx", &tls.cert)?;
        println!("nginx {url} {extra:?}");
        measure(&nginx.pids(), ticks_per_sec, |_| download(&url, extra))
    };
    let nginx_h1 = nginx_phase(&["--http1.1"])?;
    let nginx_h2 = nginx_phase(&["--http2"])?;

    println!(
        "\n1 GiB download ({} MiB file), median of {RUNS} runs (MB = 10^6 bytes)",
        FILE_SIZE >> 20
    );
    println!(
        "{:<30} {:>10} {:>12} {:>14}",
        "", "MB/s", "CPU s/GiB", "peak RSS MiB"
    );
    let rows = [
        ("packyard http/1.1 (plain)", &plain),
        ("packyard https http/1.1", &tls_h1),
        ("packyard https h2", &tls_h2),
        ("nginx https http/1.1", &nginx_h1),
        ("nginx https h2", &nginx_h2),
    ];
    for (label, r) in rows {
        println!(
            "{label:<30} {:>10.1} {:>12.3} {:>14.1}",
            r.median_mb_s, r.cpu_s_per_gib, r.peak_rss_mib
        );
    }
    for (label, a, b) in [
        ("ratio https/plain, http/1.1", &tls_h1, &plain),
        ("ratio packyard/nginx, https 1.1", &tls_h1, &nginx_h1),
        ("ratio packyard/nginx, https h2", &tls_h2, &nginx_h2),
    ] {
        println!(
            "{label:<30} {:>10} {:>12} {:>14}",
            ratio(a.median_mb_s, b.median_mb_s),
            ratio(a.cpu_s_per_gib, b.cpu_s_per_gib),
            ratio(a.peak_rss_mib, b.peak_rss_mib),
        );
    }
    println!(
        "(nginx CPU and RSS are summed over its master and worker; curl runs on the same machine)"
    );
    Ok(())
}
