//! The web UI in a real browser: Playwright (`playwright-core`) drives Debian's chromium
//! against the real binary. The browser script is `tests/web/ui.cjs`; this test seeds the
//! data with the admin commands and the real npm and curl, runs the script, and then checks
//! with real clients what the browser handed over: the install snippet copied from a package
//! page is run as it is (with the token filled in), and the token created on the token page
//! authenticates against the REST API.
//!
//! Screenshots of every page land in `<target>/tmp/web-ui/<backend>/`.
//!
//! Environment (from `cargo xtask e2e`, `xtask/src/e2e_web.rs`): `PACKYARD_E2E_NODE`,
//! `PACKYARD_E2E_CHROMIUM`, `PACKYARD_E2E_PLAYWRIGHT` (the `playwright-core` module folder),
//! `PACKYARD_E2E_NPM`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use packyard_e2e::{parse_json, path_str, Server};
use serde_json::Value;

fn tool(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Where the screenshots of this run go.
fn screenshot_dir(server: &Server) -> PathBuf {
    let backend = if server.database_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("web-ui")
        .join(backend);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Uploads one generic file with a personal access token; panics unless it is created.
fn generic(server: &Server, token: &str, project: i64, name: &str, version: &str, file: &str) {
    generic_as(
        server,
        &format!("PRIVATE-TOKEN: {token}"),
        project,
        name,
        version,
        file,
    );
}

fn generic_as(server: &Server, auth: &str, project: i64, name: &str, version: &str, file: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join(file);
    fs::write(&path, format!("{name} {version} {file}\n")).expect("write");
    let r = server.curl(&[
        "-H",
        auth,
        "--upload-file",
        &path_str(&path),
        &server.api(&format!(
            "/projects/{project}/packages/generic/{name}/{version}/{file}"
        )),
    ]);
    assert_eq!(
        r.status,
        201,
        "generic upload {name} {version}: {}",
        r.text()
    );
}

/// Publishes the npm fixture with the real npm.
fn npm_publish(server: &Server, token: &str, project: i64) {
    let dir = tempfile::tempdir().expect("tmp");
    let registry = server.api(&format!("/projects/{project}/packages/npm/"));
    let npmrc = dir.path().join(".npmrc");
    fs::write(
        &npmrc,
        format!(
            "registry={registry}\n{}:_authToken={token}\n",
            registry.trim_start_matches("http:")
        ),
    )
    .expect("npmrc");
    let tgz = workspace().join("tests/fixtures/npm/fixture-pkg-1.0.0.tgz");
    let out = Command::new(tool("PACKYARD_E2E_NPM", "npm"))
        .args(["publish", &path_str(&tgz), "--registry", &registry])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("npm_config_userconfig", &npmrc)
        .env("npm_config_cache", dir.path().join("cache"))
        .env("npm_config_update_notifier", "false")
        .stdin(Stdio::null())
        .output()
        .expect("npm publish");
    assert!(
        out.status.success(),
        "npm publish: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const PASSWORD: &str = "correct horse battery";

#[test]
fn browse_search_copy_delete_settings_and_sign_out_in_a_real_browser() {
    let server = Server::start();
    let root = &server.root_token;

    // Groups, projects and people.
    for path in ["acme", "acme/libs"] {
        server.admin(&["create-group", "--path", path, "--visibility", "public"]);
    }
    let app = server.create_project("acme/app", "public");
    let core = server.create_project("acme/libs/core", "public");
    let secret = server.create_project("acme/secret", "private");
    server.create_user_with_password("ada", PASSWORD, true);
    server.create_user_with_password("mia", PASSWORD, false);
    server.create_user_with_password("dev", PASSWORD, false);
    server.add_member("acme", "mia", 40);
    server.add_member("acme", "dev", 30);

    // 24 packages in the group (two pages of 20), in two projects and two formats, and one
    // in the private project.
    for v in 0..5 {
        generic(
            &server,
            root,
            app,
            "widget",
            &format!("1.0.{v}"),
            "widget.bin",
        );
    }
    // One file comes from a CI job, so the package page has CI/CD activity to show.
    let minted = server.curl(&[
        "-X",
        "POST",
        "-H",
        &format!("PRIVATE-TOKEN: {root}"),
        "--data",
        "pipeline_id=4242&job_id=777&ref=main&sha=0123456789abcdef0123456789abcdef01234567",
        &server.api(&format!("/projects/{app}/ci/job_token")),
    ]);
    assert!(minted.status / 100 == 2, "job token: {}", minted.text());
    let job_token = minted.json()["token"].as_str().expect("token").to_owned();
    generic_as(
        &server,
        &format!("JOB-TOKEN: {job_token}"),
        app,
        "widget",
        "1.0.4",
        "widget-extra.txt",
    );
    generic(&server, root, app, "widget", "1.0.4", "widget-old.txt");
    for n in 0..18 {
        generic(
            &server,
            root,
            core,
            &format!("lib-{n:02}"),
            "0.1.0",
            "lib.tar",
        );
    }
    npm_publish(&server, root, core);
    generic(&server, root, secret, "hidden-tool", "3.0.0", "tool.bin");

    let shots = screenshot_dir(&server);
    let out = Command::new(tool("PACKYARD_E2E_NODE", "node"))
        .arg(workspace().join("tests/web/ui.cjs"))
        .env(
            "PLAYWRIGHT_MODULE",
            tool("PACKYARD_E2E_PLAYWRIGHT", "playwright-core"),
        )
        .env(
            "CHROMIUM",
            tool("PACKYARD_E2E_CHROMIUM", "/usr/bin/chromium"),
        )
        .env("BASE_URL", &server.url)
        .env("SHOTS", &shots)
        .env("PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser script failed ({}):\n{stdout}\n{}\n--- server log tail ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        tail(&server.log(), 40)
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(parse_json)
        .unwrap_or_else(|| panic!("no RESULT line in:\n{stdout}"));

    // The token made in the browser works against the REST API, as that user.
    let token = result["token"].as_str().expect("token");
    let r = server.curl(&[
        "-H",
        &format!("PRIVATE-TOKEN: {token}"),
        &server.api("/user"),
    ]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["username"], "mia");

    // The install snippet copied from the page is the real command: run it.
    let snippet = result["snippet"].as_str().expect("snippet");
    let work = tempfile::tempdir().expect("tmp");
    let command = snippet.replace("<your_access_token>", token);
    let run = Command::new("sh")
        .args(["-c", &command])
        .current_dir(work.path())
        .stdin(Stdio::null())
        .output()
        .expect("sh");
    assert!(
        run.status.success(),
        "the copied snippet failed: {command}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for file in ["widget.bin", "widget-extra.txt"] {
        let downloaded = fs::read_to_string(work.path().join(file))
            .unwrap_or_else(|e| panic!("the snippet downloads {file}: {e}"));
        assert_eq!(downloaded, format!("widget 1.0.4 {file}\n"));
    }
    assert!(
        !work.path().join("widget-old.txt").exists(),
        "the file deleted in the browser is not in the snippet"
    );

    // Screenshots of each page were saved.
    let saved: Vec<String> = fs::read_dir(&shots)
        .expect("shots")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for page in [
        "explore",
        "sign-in",
        "group-registry",
        "package",
        "project-settings",
    ] {
        assert!(
            saved.iter().any(|s| s.starts_with(page)),
            "no screenshot of {page} in {saved:?}"
        );
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
