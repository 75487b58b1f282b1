//! The server as an operator sees it: boot with an initial root token, health and metrics.

use std::path::Path;

use packyard_e2e::{random_file, Server};

#[test]
fn initial_root_token_authenticates_as_admin_root() {
    let server = Server::start();
    let me = server.curl(&[
        "-H",
        &format!("PRIVATE-TOKEN: {}", server.root_token),
        &server.api("/user"),
    ]);
    assert_eq!(me.status, 200, "{}", me.text());
    assert!(
        me.header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"),
        "python-gitlab only parses application/json"
    );
    let user = me.json();
    assert_eq!(user["username"], "root", "{user}");
    assert_eq!(user["is_admin"], true, "{user}");
    assert!(user["id"].is_i64(), "{user}");

    let bearer = server.curl(&[
        "-H",
        &format!("Authorization: Bearer {}", server.root_token),
        &server.api("/user"),
    ]);
    assert_eq!(bearer.status, 200);
    assert_eq!(bearer.json()["username"], "root");

    server.curl(&[&server.api("/user")]).expect_error(401);
}

#[test]
fn version_endpoint_reports_three_part_version() {
    let server = Server::start();
    let got = server.curl(&[
        "-H",
        &format!("PRIVATE-TOKEN: {}", server.root_token),
        &server.api("/version"),
    ]);
    assert_eq!(got.status, 200, "{}", got.text());
    let version = got.json()["version"]
        .as_str()
        .expect("version string")
        .to_string();
    let core = version.split('-').next().unwrap_or_default();
    assert_eq!(core.split('.').count(), 3, "version {version:?}");
    assert!(
        core.split('.').all(|p| p.parse::<u32>().is_ok()),
        "version {version:?}"
    );
}

#[test]
fn health_endpoints_answer_200() {
    let server = Server::start();
    for path in ["/-/health", "/-/liveness", "/-/readiness"] {
        let got = server.curl(&[&format!("{}{path}", server.url)]);
        assert_eq!(got.status, 200, "{path}: {}", got.text());
    }
}

/// Sum of every sample of the counter families whose name mentions requests.
fn request_counter_total(metrics: &str) -> f64 {
    let counters: Vec<&str> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, kind)| kind.trim() == "counter" && name.contains("request"))
        .map(|(name, _)| name)
        .collect();
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let name_end = l.find(['{', ' '])?;
            let name = &l[..name_end];
            let family = counters
                .iter()
                .find(|c| name == **c || name.strip_prefix(**c).is_some_and(|s| s == "_total"))?;
            let _ = family;
            l.rsplit(' ').next()?.parse::<f64>().ok()
        })
        .sum()
}

#[test]
fn metrics_count_requests() {
    let server = Server::start();
    let metrics_url = format!("{}/-/metrics", server.url);
    let before = server.curl(&[&metrics_url]);
    assert_eq!(before.status, 200, "{}", before.text());
    let before_total = request_counter_total(&before.text());

    for _ in 0..5 {
        server.curl(&[&server.api("/version")]);
    }
    let after = server.curl(&[&metrics_url]);
    assert_eq!(after.status, 200);
    let text = after.text();
    assert!(
        text.lines().any(|l| l.starts_with("# TYPE ")),
        "not Prometheus text: {text}"
    );
    let after_total = request_counter_total(&text);
    assert!(
        after_total >= before_total + 5.0,
        "request counters went from {before_total} to {after_total} after 5 requests:\n{text}"
    );
}

/// Guards the e2e runs themselves: the PostgreSQL + S3 run must really put rows in PostgreSQL
/// and bytes in S3, and the default run must use SQLite and `<data>/blobs`.
#[test]
fn data_lands_in_the_configured_backends() {
    let server = Server::start();
    server.create_project("grp/proj", "private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "where.bin", 3333);
    let got = server.curl(&[
        "-H",
        &format!("PRIVATE-TOKEN: {}", server.root_token),
        "--upload-file",
        file.to_str().expect("utf-8"),
        &server.api("/projects/grp%2Fproj/packages/generic/where/1.0.0/where.bin"),
    ]);
    assert_eq!(got.status, 201, "{}", got.text());

    let content = std::fs::read(&file).expect("read");
    let on_disk = contains_file_with(&server.data_dir(), &content);
    if server.uses_s3() {
        assert!(
            !on_disk,
            "with S3 configured, the blob was written under the data dir"
        );
    } else {
        assert!(on_disk, "the blob is not under the data dir");
    }
    match server.database_url() {
        Some(_) => assert_eq!(
            server.psql("SELECT count(*) FROM package_files"),
            "1",
            "the package file row is not in PostgreSQL"
        ),
        None => assert!(
            std::fs::read_dir(server.data_dir())
                .expect("data dir")
                .flatten()
                .any(|e| e.file_name().to_string_lossy().contains(".db")
                    || e.file_name().to_string_lossy().contains("sqlite")),
            "no SQLite database in the data dir"
        ),
    }
}

fn contains_file_with(dir: &Path, content: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            contains_file_with(&path, content)
        } else {
            entry.metadata().map(|m| m.len()).ok() == Some(content.len() as u64)
                && std::fs::read(&path).ok().as_deref() == Some(content)
        }
    })
}
