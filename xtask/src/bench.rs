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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::bench_support::{ratio, stop, vm_hwm_kib};
use crate::shell;

const FILE_SIZE: u64 = 1 << 30;
const RUNS: usize = 3;

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("generic") => generic(),
        Some("pypi") => crate::bench_pypi::run(&args[1..]),
        Some("npm") => crate::bench_npm::run(&args[1..]),
        Some("cargo") => crate::bench_cargo::run(&args[1..]),
        Some("web") => crate::bench_web::run(&args[1..]),
        _ => bail!("usage: cargo xtask bench generic|pypi|npm|cargo|web"),
    }
}

fn generic() -> Result<()> {
    shell::run(shell::cargo().args(["build", "--release", "-p", "packyard"]))?;
    let target = shell::target_dir()?;
    let packyard = target.join("release").join("packyard");
    let curl = shell::ensure_tool("curl", "curl")?;
    let nginx = match shell::which("nginx").or_else(|| existing("/usr/sbin/nginx")) {
        Some(p) => p,
        None => {
            shell::apt_install(&["nginx"])?;
            shell::which("nginx")
                .or_else(|| existing("/usr/sbin/nginx"))
                .context("nginx still missing after apt-get install nginx")?
        }
    };
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
    let server = BenchServer::start(&packyard, &data_dir, &token, work.path())?;
    server.admin(&["create-group", "--path", "bench"])?;
    server.admin(&["create-project", "--path", "bench/files"])?;
    let package_url = |server: &BenchServer, run: usize| {
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
    let server = BenchServer::start(&packyard, &data_dir, &token, work.path())?;
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

    let nginx = Nginx::start(&nginx, &bench_dir, work.path(), &curl, &file_name)?;
    let pids = nginx.pids();
    let nginx_url = format!("http://127.0.0.1:{}/{file_name}", nginx.port);
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

fn existing(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    shell::is_executable(&p).then_some(p)
}

/// The 1 GiB random file, created once and kept in `target/bench/`.
fn bench_file(dir: &Path) -> Result<PathBuf> {
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

struct Measured {
    median_mb_s: f64,
    cpu_s_per_gib: f64,
    peak_rss_mib: f64,
}

/// Runs `RUNS` transfers, returning the median speed and the CPU and peak RSS of `pids`.
fn measure(
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

fn curl_speed(cmd: &mut Command) -> Result<f64> {
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

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// Polls `url` until it answers 200; `head` sends HEAD (for the 1 GiB file).
fn wait_http_ok(curl: &Path, url: &str, what: &str, head: bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let code = Command::new(curl)
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", url])
            .args(if head { &["-I"][..] } else { &[][..] })
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        if code == "200" {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what} did not answer 200 at {url} within 30 s (last: {code:?})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct BenchServer {
    child: Child,
    url: String,
    env: Vec<(String, String)>,
    binary: PathBuf,
}

impl BenchServer {
    fn start(binary: &Path, data_dir: &Path, token: &str, logs: &Path) -> Result<Self> {
        let port = shell::free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let env = vec![
            ("PACKYARD_LISTEN".to_string(), format!("127.0.0.1:{port}")),
            (
                "PACKYARD_DATA_DIR".to_string(),
                data_dir.display().to_string(),
            ),
            ("PACKYARD_EXTERNAL_URL".to_string(), url.clone()),
            ("PACKYARD_INITIAL_ROOT_TOKEN".to_string(), token.to_string()),
        ];
        let log = File::create(logs.join(format!("packyard-{port}.log")))?;
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        println!("$ {}", shell::display(&cmd));
        let child = cmd.spawn().context("starting packyard")?;
        let mut server = BenchServer {
            child,
            url,
            env,
            binary: binary.to_path_buf(),
        };
        let ready = format!("{}/-/readiness", server.url);
        if let Err(e) = wait_http_ok(Path::new("curl"), &ready, "packyard", false) {
            stop(&mut server.child);
            let log =
                fs::read_to_string(logs.join(format!("packyard-{port}.log"))).unwrap_or_default();
            bail!("{e}\nserver log:\n{log}");
        }
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn admin(&self, args: &[&str]) -> Result<String> {
        shell::output(
            Command::new(&self.binary)
                .arg("admin")
                .args(args)
                .envs(self.env.iter().map(|(k, v)| (k, v))),
        )
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    fn start(binary: &Path, root: &Path, work: &Path, curl: &Path, file: &str) -> Result<Self> {
        let dir = work.join("nginx");
        fs::create_dir_all(&dir)?;
        let port = shell::free_port()?;
        // As root, nginx workers would drop to `nobody`, who may not read target/ (e.g. under /root).
        let user = if shell::is_root() { "user root;\n" } else { "" };
        let d = dir.display();
        let config = format!(
            "{user}daemon off;\nworker_processes 1;\nerror_log stderr;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  default_type application/octet-stream;\n\
             \x20 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n    listen 127.0.0.1:{port};\n    root {};\n  }}\n}}\n",
            root.display()
        );
        let conf = dir.join("nginx.conf");
        fs::write(&conf, config)?;
        let mut cmd = Command::new(binary);
        cmd.arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg("stderr")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null());
        println!("$ {}", shell::display(&cmd));
        let mut child = cmd.spawn().context("starting nginx")?;
        let url = format!("http://127.0.0.1:{port}/{file}");
        if let Err(e) = wait_http_ok(curl, &url, "nginx", true) {
            stop(&mut child);
            return Err(e);
        }
        Ok(Nginx { child, port })
    }

    /// The master and its workers.
    fn pids(&self) -> Vec<u32> {
        let master = self.child.id();
        let mut pids = vec![master];
        if let Ok(entries) = fs::read_dir("/proc") {
            for entry in entries.flatten() {
                if let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
                    if parent_pid(pid) == Some(master) {
                        pids.push(pid);
                    }
                }
            }
        }
        pids
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops the workers too ("fast shutdown").
        stop(&mut self.child);
    }
}
