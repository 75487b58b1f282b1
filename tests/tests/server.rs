//! The server as an operator sees it: boot with an initial root token, health and metrics.

use packyard_e2e::Server;

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
