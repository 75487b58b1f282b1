//! npm packages driven with the real npm, pnpm and yarn (classic), set up as GitLab's npm
//! docs show with only the host changed: a project-local `.npmrc` with `registry=` or
//! `@scope:registry=` and `//host/path/:_authToken=`.
//!
//! Environment (from `cargo xtask e2e`, `xtask/src/e2e_npm.rs`): `PACKYARD_E2E_NPM`,
//! `PACKYARD_E2E_PNPM`, `PACKYARD_E2E_YARN` (defaults: `npm`, `pnpm`, `yarn` on PATH).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use packyard_e2e::Server;
use serde_json::{json, Value};
use tempfile::TempDir;

const PROJECT: &str = "grp/proj";

fn tool(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// A scratch area: a HOME (so no user config leaks in), a cache, and package folders.
struct Work {
    dir: TempDir,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::Builder::new()
            .prefix("packyard-npm-")
            .tempdir()
            .expect("temp dir");
        fs::create_dir_all(dir.path().join("home")).expect("home");
        Work { dir }
    }

    fn path(&self, sub: &str) -> PathBuf {
        let p = self.dir.path().join(sub);
        fs::create_dir_all(&p).expect("mkdir");
        p
    }

    /// Runs `program args` in `cwd` with an isolated HOME and cache.
    fn run(&self, program: &str, cwd: &Path, args: &[&str]) -> Output {
        let home = self.dir.path().join("home");
        Command::new(program)
            .args(args)
            .current_dir(cwd)
            .env("HOME", &home)
            .env("npm_config_cache", self.dir.path().join("cache"))
            .env("npm_config_update_notifier", "false")
            .env("npm_config_audit", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_fetch_retries", "0")
            .env("npm_config_userconfig", home.join(".npmrc"))
            .env("YARN_CACHE_FOLDER", self.dir.path().join("yarn-cache"))
            .env("npm_config_store_dir", self.dir.path().join("pnpm-store"))
            .env_remove("NODE_AUTH_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    fn npm(&self, cwd: &Path, args: &[&str]) -> Output {
        self.run(&tool("PACKYARD_E2E_NPM", "npm"), cwd, args)
    }

    /// Runs npm and panics with its output unless it succeeds; returns stdout.
    fn npm_ok(&self, server: &Server, cwd: &Path, args: &[&str]) -> String {
        let out = self.npm(cwd, args);
        assert_success(server, &format!("npm {}", args.join(" ")), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn assert_success(server: &Server, what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}\n--- server log tail ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        tail(&server.log(), 30)
    );
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn combined(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `//127.0.0.1:PORT/api/v4/...` for `_authToken` lines.
fn nerf(url: &str) -> String {
    url.trim_start_matches("http:").to_string()
}

fn project_registry(server: &Server, id: i64) -> String {
    server.api(&format!("/projects/{id}/packages/npm/"))
}

/// Writes `.npmrc` in `dir`: `registry=` (or `@scope:registry=`) and the token line.
fn npmrc(dir: &Path, registry: &str, scope: Option<&str>, token: Option<&str>) {
    let mut text = match scope {
        Some(s) => format!("{s}:registry={registry}\n"),
        None => format!("registry={registry}\n"),
    };
    if let Some(t) = token {
        text.push_str(&format!("{}:_authToken={t}\n", nerf(registry)));
    }
    fs::write(dir.join(".npmrc"), text).expect("write .npmrc");
}

/// A package folder with `package.json` (+ `extra` fields) and an `index.js`.
fn package(work: &Work, name: &str, version: &str, extra: Value) -> PathBuf {
    let dir = work.path(&format!("src/{}-{version}", name.replace(['@', '/'], "_")));
    let mut manifest = json!({
        "name": name,
        "version": version,
        "description": format!("{name} for the e2e suite"),
        "main": "index.js",
        "license": "MIT",
    });
    if let (Some(m), Some(e)) = (manifest.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    fs::write(dir.join("package.json"), manifest.to_string()).expect("package.json");
    fs::write(
        dir.join("index.js"),
        format!("module.exports = {:?};\n", format!("{name}@{version}")),
    )
    .expect("index.js");
    dir
}

/// Publishes `name@version` to the project with `.npmrc` pointing at it.
fn publish(
    server: &Server,
    work: &Work,
    registry: &str,
    token: &str,
    name: &str,
    version: &str,
    args: &[&str],
) -> Output {
    let dir = package(work, name, version, json!({}));
    let scope = name.split_once('/').map(|(s, _)| s);
    npmrc(&dir, registry, scope, Some(token));
    let _ = server;
    let mut all = vec!["publish"];
    all.extend_from_slice(args);
    work.npm(&dir, &all)
}

fn publish_ok(
    server: &Server,
    work: &Work,
    registry: &str,
    token: &str,
    name: &str,
    version: &str,
) {
    let out = publish(server, work, registry, token, name, version, &[]);
    assert_success(server, &format!("npm publish {name}@{version}"), &out);
}

/// The version of `name` that ended up in `dir/node_modules`.
fn installed_version(dir: &Path, name: &str) -> String {
    let text = fs::read_to_string(dir.join("node_modules").join(name).join("package.json"))
        .unwrap_or_else(|e| panic!("{name} is not installed in {}: {e}", dir.display()));
    let v: Value = serde_json::from_str(&text).expect("package.json");
    v["version"].as_str().expect("version").to_string()
}

/// A consumer project with an empty package.json.
fn consumer(work: &Work, name: &str) -> PathBuf {
    let dir = work.path(name);
    fs::write(
        dir.join("package.json"),
        json!({"name": name, "version": "0.0.0", "private": true}).to_string(),
    )
    .expect("package.json");
    dir
}

/// A server with private `grp/proj`, a Developer `dev` and a Maintainer `boss` (PATs).
fn setup() -> (Server, i64, String, String) {
    let server = Server::start();
    let id = server.create_project(PROJECT, "private");
    let dev = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 30);
    let boss = server.create_user_with_token("boss");
    server.add_member(PROJECT, "boss", 40);
    (server, id, dev, boss)
}

#[test]
fn npm_publishes_and_installs_exact_range_and_tag_from_the_project() {
    let (server, id, dev, _) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    publish_ok(&server, &work, &reg, &dev, "hello-lib", "1.0.0");
    publish_ok(&server, &work, &reg, &dev, "hello-lib", "1.2.0");
    let beta = publish(
        &server,
        &work,
        &reg,
        &dev,
        "hello-lib",
        "2.0.0-beta.1",
        &["--tag", "beta"],
    );
    assert_success(&server, "npm publish --tag beta", &beta);
    publish_ok(&server, &work, &reg, &dev, "@grp/ui", "1.0.0");

    // Publishing over a version is refused with npm's message.
    let again = publish(&server, &work, &reg, &dev, "hello-lib", "1.2.0", &[]);
    assert!(!again.status.success(), "republishing must fail");
    let text = combined(&again);
    assert!(
        text.contains("You cannot publish over the previously published versions: 1.2.0"),
        "{text}"
    );

    let app = consumer(&work, "app");
    npmrc(&app, &reg, None, Some(&dev));
    work.npm_ok(&server, &app, &["install", "hello-lib@1.0.0"]);
    assert_eq!(installed_version(&app, "hello-lib"), "1.0.0");
    work.npm_ok(&server, &app, &["install", "hello-lib@^1.0.0"]);
    assert_eq!(installed_version(&app, "hello-lib"), "1.2.0");
    work.npm_ok(&server, &app, &["install", "hello-lib@beta"]);
    assert_eq!(installed_version(&app, "hello-lib"), "2.0.0-beta.1");
    // `latest` stayed on the newest release.
    work.npm_ok(&server, &app, &["install", "hello-lib@latest"]);
    assert_eq!(installed_version(&app, "hello-lib"), "1.2.0");
    work.npm_ok(&server, &app, &["install", "@grp/ui"]);
    assert_eq!(installed_version(&app, "@grp/ui"), "1.0.0");
    let code = fs::read_to_string(app.join("node_modules/@grp/ui/index.js")).expect("index.js");
    assert!(code.contains("@grp/ui@1.0.0"), "{code}");

    // The lock pins sha512 integrity of what the server serves; `npm ci` checks it.
    let lock: Value =
        serde_json::from_str(&fs::read_to_string(app.join("package-lock.json")).expect("lock"))
            .expect("lock json");
    let entry = &lock["packages"]["node_modules/hello-lib"];
    let integrity = entry["integrity"].as_str().expect("integrity").to_string();
    assert!(integrity.starts_with("sha512-"), "{entry}");
    assert_eq!(
        entry["resolved"],
        format!("{reg}hello-lib/-/hello-lib-1.2.0.tgz")
    );
    let tarball = server.curl(&[
        "-H",
        &format!("Authorization: Bearer {dev}"),
        entry["resolved"].as_str().expect("resolved"),
    ]);
    assert_eq!(tarball.status, 200);
    use sha2_like::sha512_integrity;
    assert_eq!(sha512_integrity(&tarball.body), integrity);
    fs::remove_dir_all(app.join("node_modules")).expect("rm node_modules");
    fs::remove_dir_all(work.dir.path().join("cache")).expect("rm cache");
    work.npm_ok(&server, &app, &["ci"]);
    assert_eq!(installed_version(&app, "hello-lib"), "1.2.0");
    // A lock whose integrity the server's tarball does not match fails the install.
    let tampered = fs::read_to_string(app.join("package-lock.json"))
        .expect("lock")
        .replace(&integrity, "sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");
    fs::write(app.join("package-lock.json"), tampered).expect("write lock");
    fs::remove_dir_all(app.join("node_modules")).expect("rm node_modules");
    fs::remove_dir_all(work.dir.path().join("cache")).expect("rm cache");
    let bad = work.npm(&app, &["ci"]);
    assert!(!bad.status.success(), "a wrong integrity must fail npm ci");
    assert!(combined(&bad).contains("EINTEGRITY"), "{}", combined(&bad));
}

/// sha512 integrity computed with the `openssl`-free route: node itself.
mod sha2_like {
    pub fn sha512_integrity(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("t.tgz");
        std::fs::write(&f, bytes).expect("write");
        let out = std::process::Command::new("node")
            .arg("-e")
            .arg("const c=require('crypto');const b=require('fs').readFileSync(process.argv[1]);process.stdout.write('sha512-'+c.createHash('sha512').update(b).digest('base64'))")
            .arg(&f)
            .output()
            .expect("node");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[test]
fn group_and_instance_endpoints_install_scoped_packages_of_private_projects() {
    let (server, id, dev, _) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    publish_ok(&server, &work, &reg, &dev, "@grp/core", "1.0.0");
    publish_ok(&server, &work, &reg, &dev, "@grp/core", "1.1.0");

    for (what, registry) in [
        ("group by path", server.api("/groups/grp/-/packages/npm/")),
        ("instance", server.api("/packages/npm/")),
    ] {
        let app = consumer(&work, &format!("app-{}", what.replace(' ', "-")));
        npmrc(&app, &registry, Some("@grp"), Some(&dev));
        work.npm_ok(&server, &app, &["install", "@grp/core@~1.0.0"]);
        assert_eq!(installed_version(&app, "@grp/core"), "1.0.0", "{what}");
        work.npm_ok(&server, &app, &["install", "@grp/core@latest"]);
        assert_eq!(installed_version(&app, "@grp/core"), "1.1.0", "{what}");
        // Without credentials the private project's package is not shown.
        let anon = consumer(&work, &format!("anon-{}", what.replace(' ', "-")));
        npmrc(&anon, &registry, Some("@grp"), None);
        let out = work.npm(&anon, &["install", "@grp/core"]);
        assert!(!out.status.success(), "{what}: anonymous install must fail");
        let text = combined(&out);
        assert!(
            text.contains("E401") || text.contains("E404"),
            "{what}: {text}"
        );
    }
    // The instance level serves only scoped names (the scope is a top-level group).
    let r = server.curl(&[
        "-H",
        &format!("Authorization: Bearer {dev}"),
        &server.api("/packages/npm/core"),
    ]);
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]
        .as_str()
        .expect("error")
        .contains("scoped"));
}

#[test]
fn dist_tags_deprecate_and_unpublish_with_npm() {
    let (server, id, dev, boss) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        publish_ok(&server, &work, &reg, &dev, "@grp/tool", v);
    }
    let app = consumer(&work, "app");
    npmrc(&app, &reg, Some("@grp"), Some(&boss));

    work.npm_ok(
        &server,
        &app,
        &["dist-tag", "add", "@grp/tool@1.1.0", "stable"],
    );
    let ls = work.npm_ok(&server, &app, &["dist-tag", "ls", "@grp/tool"]);
    assert!(
        ls.contains("latest: 2.0.0") && ls.contains("stable: 1.1.0"),
        "{ls}"
    );
    work.npm_ok(&server, &app, &["install", "@grp/tool@stable"]);
    assert_eq!(installed_version(&app, "@grp/tool"), "1.1.0");
    work.npm_ok(&server, &app, &["dist-tag", "rm", "@grp/tool", "stable"]);
    let ls = work.npm_ok(&server, &app, &["dist-tag", "ls", "@grp/tool"]);
    assert!(!ls.contains("stable"), "{ls}");

    // A Developer may not remove tags (GitLab: deleting needs Maintainer).
    let devapp = consumer(&work, "devapp");
    npmrc(&devapp, &reg, Some("@grp"), Some(&dev));
    work.npm_ok(
        &server,
        &devapp,
        &["dist-tag", "add", "@grp/tool@1.0.0", "old"],
    );
    let out = work.npm(&devapp, &["dist-tag", "rm", "@grp/tool", "old"]);
    assert!(
        !out.status.success() && combined(&out).contains("403"),
        "{}",
        combined(&out)
    );

    // Deprecate: npm warns at install; undeprecate removes the warning.
    work.npm_ok(
        &server,
        &app,
        &["deprecate", "@grp/tool@1.0.0", "use 2.x instead"],
    );
    let view = work.npm_ok(&server, &app, &["view", "@grp/tool@1.0.0", "deprecated"]);
    assert_eq!(view.trim(), "use 2.x instead");
    let out = work.npm(&app, &["install", "@grp/tool@1.0.0"]);
    assert_success(&server, "npm install of a deprecated version", &out);
    let text = combined(&out);
    assert!(
        text.contains("deprecated") && text.contains("use 2.x instead"),
        "{text}"
    );
    work.npm_ok(&server, &app, &["deprecate", "@grp/tool@1.0.0", ""]);
    let view = work.npm_ok(&server, &app, &["view", "@grp/tool@1.0.0", "deprecated"]);
    assert_eq!(view.trim(), "");

    // Unpublish one version, then the whole package.
    work.npm_ok(&server, &app, &["unpublish", "@grp/tool@2.0.0"]);
    let versions = work.npm_ok(&server, &app, &["view", "@grp/tool", "versions", "--json"]);
    let versions: Value = serde_json::from_str(&versions).expect("json");
    assert_eq!(versions, json!(["1.0.0", "1.1.0"]));
    let latest = work.npm_ok(&server, &app, &["view", "@grp/tool", "dist-tags.latest"]);
    assert_eq!(latest.trim(), "1.1.0");
    let gone = server.curl(&[
        "-H",
        &format!("Authorization: Bearer {boss}"),
        &format!("{reg}@grp/tool/-/tool-2.0.0.tgz"),
    ]);
    assert_eq!(gone.status, 404);
    work.npm_ok(&server, &app, &["unpublish", "@grp/tool", "--force"]);
    let out = work.npm(&app, &["view", "@grp/tool"]);
    assert!(
        !out.status.success() && combined(&out).contains("E404"),
        "{}",
        combined(&out)
    );
}

#[test]
fn dist_tag_and_deprecate_under_a_push_rule_are_refused_and_npm_prints_why() {
    let (server, id, dev, boss) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    for v in ["1.0.0", "2.0.0"] {
        publish_ok(&server, &work, &reg, &dev, "@secret/x", v);
    }
    let rule = server.curl(&[
        "-X",
        "POST",
        "-H",
        &format!("PRIVATE-TOKEN: {boss}"),
        "--data-urlencode",
        "package_name_pattern=@secret/*",
        "--data",
        "package_type=npm&minimum_access_level_for_push=maintainer",
        &server.api(&format!("/projects/{id}/packages/protection/rules")),
    ]);
    assert_eq!(rule.status, 201, "{}", rule.text());
    let devapp = consumer(&work, "devapp");
    npmrc(&devapp, &reg, Some("@secret"), Some(&dev));
    // The downgrade attack: `latest` moved back, the current version deprecated.
    for args in [
        &["dist-tag", "add", "@secret/x@1.0.0", "latest"][..],
        &["deprecate", "@secret/x@2.0.0", "use 1.0.0"][..],
    ] {
        let out = work.npm(&devapp, args);
        let text = combined(&out);
        assert!(
            !out.status.success() && text.contains("403") && text.contains("Package protected"),
            "npm {}: {text}",
            args.join(" ")
        );
    }
    let latest = work.npm_ok(&server, &devapp, &["view", "@secret/x", "dist-tags.latest"]);
    assert_eq!(latest.trim(), "2.0.0");
    let deprecated = work.npm_ok(&server, &devapp, &["view", "@secret/x@2.0.0", "deprecated"]);
    assert_eq!(deprecated.trim(), "");
    // A Maintainer passes the rule.
    let app = consumer(&work, "app");
    npmrc(&app, &reg, Some("@secret"), Some(&boss));
    work.npm_ok(
        &server,
        &app,
        &["dist-tag", "add", "@secret/x@1.0.0", "stable"],
    );
    let ls = work.npm_ok(&server, &app, &["dist-tag", "ls", "@secret/x"]);
    assert!(ls.contains("stable: 1.0.0"), "{ls}");
}

#[test]
fn view_search_and_whoami_with_a_pat_and_a_deploy_token() {
    let (server, id, dev, _) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    publish_ok(&server, &work, &reg, &dev, "other-thing", "0.1.0");
    let dir = package(
        &work,
        "@grp/searchable",
        "3.1.4",
        json!({"dependencies": {"other-thing": "^0.1.0"}, "keywords": ["e2e"]}),
    );
    npmrc(&dir, &reg, Some("@grp"), Some(&dev));
    work.npm_ok(&server, &dir, &["publish"]);

    let app = consumer(&work, "app");
    npmrc(&app, &reg, Some("@grp"), Some(&dev));
    let view = work.npm_ok(&server, &app, &["view", "@grp/searchable", "--json"]);
    let view: Value = serde_json::from_str(&view).expect("view json");
    assert_eq!(view["version"], "3.1.4");
    assert_eq!(view["dependencies"]["other-thing"], "^0.1.0");
    assert_eq!(
        view["dist"]["tarball"],
        format!("{reg}@grp/searchable/-/searchable-3.1.4.tgz")
    );

    let found = work.npm_ok(
        &server,
        &app,
        &["search", "searchable", "--registry", &reg, "--json"],
    );
    let found: Value = serde_json::from_str(&found).expect("search json");
    let names: Vec<&str> = found
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["@grp/searchable"]);

    let who = work.npm_ok(&server, &app, &["whoami", "--registry", &reg]);
    assert_eq!(who.trim(), "dev");

    let deploy = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "ci",
        "--username",
        "deployer",
        "--scopes",
        "read_package_registry",
    ]);
    let ci = consumer(&work, "ci");
    npmrc(&ci, &reg, None, Some(&deploy));
    let who = work.npm_ok(&server, &ci, &["whoami"]);
    assert_eq!(who.trim(), "deployer");
    // Dependencies resolve from the same registry.
    work.npm_ok(&server, &ci, &["install", "@grp/searchable"]);
    assert_eq!(installed_version(&ci, "@grp/searchable"), "3.1.4");
    assert_eq!(installed_version(&ci, "other-thing"), "0.1.0");
    // A read-only deploy token cannot publish.
    let out = publish(&server, &work, &reg, &deploy, "@grp/nope", "1.0.0", &[]);
    assert!(
        !out.status.success() && combined(&out).contains("403"),
        "{}",
        combined(&out)
    );
}

#[test]
fn pnpm_publishes_and_installs_and_yarn_classic_installs() {
    let (server, id, dev, _) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    let pnpm = tool("PACKYARD_E2E_PNPM", "pnpm");
    let yarn = tool("PACKYARD_E2E_YARN", "yarn");

    let dir = package(&work, "@grp/from-pnpm", "1.0.0", json!({}));
    npmrc(&dir, &reg, Some("@grp"), Some(&dev));
    let out = work.run(&pnpm, &dir, &["publish", "--no-git-checks"]);
    assert_success(&server, "pnpm publish", &out);

    let app = consumer(&work, "pnpm-app");
    npmrc(&app, &reg, Some("@grp"), Some(&dev));
    let out = work.run(&pnpm, &app, &["add", "@grp/from-pnpm@^1"]);
    assert_success(&server, "pnpm add", &out);
    assert_eq!(installed_version(&app, "@grp/from-pnpm"), "1.0.0");
    let lock = fs::read_to_string(app.join("pnpm-lock.yaml")).expect("pnpm lock");
    assert!(lock.contains("integrity: sha512-"), "{lock}");

    let yapp = consumer(&work, "yarn-app");
    npmrc(&yapp, &reg, Some("@grp"), Some(&dev));
    let out = work.run(
        &yarn,
        &yapp,
        &["add", "@grp/from-pnpm@1.0.0", "--non-interactive"],
    );
    assert_success(&server, "yarn add", &out);
    assert_eq!(installed_version(&yapp, "@grp/from-pnpm"), "1.0.0");
    let lock = fs::read_to_string(yapp.join("yarn.lock")).expect("yarn lock");
    assert!(lock.contains("integrity sha512-"), "{lock}");
}

#[test]
fn bad_credentials_get_401_403_and_404_as_npm_prints_them() {
    let (server, id, dev, _) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    publish_ok(&server, &work, &reg, &dev, "secret-lib", "1.0.0");
    let reporter = server.create_user_with_token("rep");
    server.add_member(PROJECT, "rep", 20);

    let app = consumer(&work, "anon");
    npmrc(&app, &reg, None, None);
    let out = work.npm(&app, &["install", "secret-lib"]);
    assert!(!out.status.success());
    assert!(combined(&out).contains("E401"), "{}", combined(&out));

    let app = consumer(&work, "wrong");
    npmrc(&app, &reg, None, Some("glpat-not-a-real-token"));
    let out = work.npm(&app, &["install", "secret-lib"]);
    assert!(!out.status.success());
    assert!(combined(&out).contains("E401"), "{}", combined(&out));

    // A Reporter reads but may not publish.
    let app = consumer(&work, "rep");
    npmrc(&app, &reg, None, Some(&reporter));
    work.npm_ok(&server, &app, &["install", "secret-lib"]);
    let out = publish(&server, &work, &reg, &reporter, "secret-lib", "1.0.1", &[]);
    assert!(!out.status.success());
    assert!(combined(&out).contains("E403"), "{}", combined(&out));

    let out = work.npm(&app, &["install", "no-such-lib"]);
    assert!(!out.status.success());
    assert!(combined(&out).contains("E404"), "{}", combined(&out));

    // Someone with no access to the project sees 404, as GitLab answers.
    let stranger = server.create_user_with_token("stranger");
    let r = server.curl(&[
        "-H",
        &format!("Authorization: Bearer {stranger}"),
        &format!("{reg}secret-lib"),
    ]);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.json()["error"].is_string(), "{}", r.text());
}

/// A publish document as npm builds it, for the bad-input cases sent with curl.
fn document(name: &str, version: &str, tgz: &[u8]) -> Value {
    use sha1_hex::sha1;
    let b64 = base64::engine::general_purpose::STANDARD.encode(tgz);
    json!({
        "_id": name,
        "name": name,
        "dist-tags": {"latest": version},
        "versions": {version: {
            "name": name, "version": version,
            "dist": {"shasum": sha1(tgz), "integrity": sha2_like::sha512_integrity(tgz)}
        }},
        "_attachments": {format!("{name}-{version}.tgz"): {
            "content_type": "application/octet-stream", "data": b64, "length": tgz.len()
        }}
    })
}

mod sha1_hex {
    pub fn sha1(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("t");
        std::fs::write(&f, bytes).expect("write");
        let out = std::process::Command::new("sha1sum")
            .arg(&f)
            .output()
            .expect("sha1sum");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

/// `npm pack` of a package, read back.
fn packed(work: &Work, server: &Server, name: &str, version: &str) -> Vec<u8> {
    let dir = package(work, name, version, json!({}));
    let out = work.npm_ok(server, &dir, &["pack", "--json"]);
    let info: Value = serde_json::from_str(&out).expect("pack json");
    let file = info[0]["filename"].as_str().expect("filename");
    fs::read(dir.join(file)).expect("tgz")
}

#[test]
fn bad_publish_documents_get_npm_errors_and_store_nothing() {
    let (server, id, dev, _) = setup();
    let work = Work::new();
    let reg = project_registry(&server, id);
    let good = packed(&work, &server, "bad-input", "1.0.0");
    let other = packed(&work, &server, "something-else", "1.0.0");
    let fixture =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/npm/fixture-pkg-1.0.0.tgz"))
            .expect("fixture");
    let auth = format!("Authorization: Bearer {dev}");
    let put = |name: &str, body: &str| {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("body.json");
        fs::write(&f, body).expect("write");
        server.curl(&[
            "-X",
            "PUT",
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &format!("@{}", f.display()),
            &format!("{reg}{}", name.replace('/', "%2f")),
        ])
    };
    let with = |f: &dyn Fn(&mut Value)| {
        let mut d = document("bad-input", "1.0.0", &good);
        f(&mut d);
        d.to_string()
    };
    let att = "bad-input-1.0.0.tgz";
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "malformed JSON",
            "{\"name\": \"bad-input\", ".into(),
            400,
            "not valid JSON",
        ),
        (
            "non-base64 attachment",
            with(&|d| d["_attachments"][att]["data"] = json!("%%%not-base64%%%")),
            400,
            "base64",
        ),
        (
            "missing attachment data",
            with(&|d| {
                d["_attachments"][att]
                    .as_object_mut()
                    .expect("att")
                    .remove("data");
            }),
            400,
            "no data",
        ),
        (
            "length disagrees",
            with(&|d| d["_attachments"][att]["length"] = json!(3)),
            400,
            "length",
        ),
        (
            "integrity disagrees",
            with(&|d| {
                d["versions"]["1.0.0"]["dist"]["integrity"] =
                    json!(sha2_like::sha512_integrity(b"x"))
            }),
            400,
            "integrity",
        ),
        (
            "shasum disagrees",
            with(&|d| d["versions"]["1.0.0"]["dist"]["shasum"] = json!("0000")),
            400,
            "shasum",
        ),
        (
            "not a tarball",
            {
                let mut d = document("bad-input", "1.0.0", b"just some text, not gzip");
                d["versions"]["1.0.0"]["dist"] = json!({});
                d.to_string()
            },
            400,
            "not a gzipped tar",
        ),
        (
            "tarball of another package",
            {
                let mut d = document("bad-input", "1.0.0", &other);
                d["versions"]["1.0.0"]["dist"] = json!({});
                d.to_string()
            },
            400,
            "package.json in the tarball says something-else@1.0.0",
        ),
        (
            "tarball of the fixture under another name",
            {
                let mut d = document("bad-input", "1.0.0", &fixture);
                d["versions"]["1.0.0"]["dist"] = json!({});
                d.to_string()
            },
            400,
            "fixture-pkg",
        ),
        (
            "version not semver",
            {
                let mut d = document("bad-input", "1.0", &good);
                d["versions"]["1.0"]["dist"] = json!({});
                d.to_string()
            },
            400,
            "invalid version",
        ),
        (
            "two versions",
            with(&|d| d["versions"]["1.0.1"] = json!({"name": "bad-input", "version": "1.0.1"})),
            400,
            "one version",
        ),
    ];
    for (what, body, status, text) in cases {
        let r = put("bad-input", &body);
        assert_eq!(r.status, status, "{what}: {}", r.text());
        let error = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(error.contains(text), "{what}: {error}");
    }
    // A name that breaks npm's rules.
    let r = put(
        "Bad_Name",
        &document("Bad_Name", "1.0.0", &good).to_string(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["error"]
        .as_str()
        .expect("error")
        .contains("invalid package name"));
    // Nothing was stored: no package, no blob left behind on the filesystem store.
    let r = server.curl(&["-H", &auth, &format!("{reg}bad-input")]);
    assert_eq!(r.status, 404, "{}", r.text());
    let listed = server.curl(&[
        "-H",
        &format!("PRIVATE-TOKEN: {dev}"),
        &server.api(&format!("/projects/{id}/packages")),
    ]);
    assert_eq!(listed.json(), json!([]));
    // A refused upload's bytes are left to gc, never deleted at once: another publish of
    // the same bytes may be about to commit them. Nothing refers to them, so gc takes them.
    let out = server.command(&["gc", "--grace-period-secs", "0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !server.uses_s3() {
        let blobs = walk_files(&server.data_dir());
        assert!(
            blobs.iter().all(|p| !p.to_string_lossy().contains("blobs")),
            "refused uploads were still referenced after gc: {blobs:?}"
        );
    }
    // The same document, well-formed, is accepted.
    let r = put(
        "bad-input",
        &document("bad-input", "1.0.0", &good).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Once: the same version again is npm's 403.
    let r = put(
        "bad-input",
        &document("bad-input", "1.0.0", &good).to_string(),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        r.json()["error"],
        "You cannot publish over the previously published versions: 1.0.0."
    );
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_files(&p));
            } else if !p.to_string_lossy().contains("sqlite")
                && !p.to_string_lossy().ends_with(".db")
            {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn packuments_come_full_or_abbreviated_with_etag_revalidation() {
    let server = Server::start();
    let id = server.create_project(PROJECT, "public");
    let dev = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 30);
    let work = Work::new();
    let reg = project_registry(&server, id);
    let dir = package(
        &work,
        "@grp/shape",
        "1.0.0",
        json!({
            "dependencies": {"a": "1"}, "engines": {"node": ">=18"}, "bin": {"shape": "index.js"},
            "scripts": {"postinstall": "node index.js"}, "os": ["linux"], "cpu": ["x64"]
        }),
    );
    npmrc(&dir, &reg, Some("@grp"), Some(&dev));
    work.npm_ok(&server, &dir, &["publish"]);

    // Public project: anonymous reads work, both spellings of the scoped name.
    let full = server.curl(&[&format!("{reg}@grp%2fshape")]);
    assert_eq!(full.status, 200, "{}", full.text());
    assert!(full
        .header("content-type")
        .expect("type")
        .starts_with("application/json"));
    let doc = full.json();
    assert_eq!(doc["name"], "@grp/shape");
    assert_eq!(doc["dist-tags"]["latest"], "1.0.0");
    assert!(doc["time"]["1.0.0"].is_string());
    let v = &doc["versions"]["1.0.0"];
    assert_eq!(v["scripts"]["postinstall"], "node index.js");
    assert_eq!(v["engines"]["node"], ">=18");
    assert!(v["dist"]["shasum"].as_str().expect("shasum").len() == 40);
    assert_eq!(server.curl(&[&format!("{reg}@grp/shape")]).json(), doc);

    let abbr = server.curl(&[
        "-H",
        "Accept: application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
        &format!("{reg}@grp%2fshape"),
    ]);
    assert_eq!(abbr.status, 200);
    assert!(abbr
        .header("content-type")
        .expect("type")
        .starts_with("application/vnd.npm.install-v1+json"));
    let a = abbr.json();
    let av = &a["versions"]["1.0.0"];
    assert_eq!(av["hasInstallScript"], true);
    assert_eq!(av["bin"]["shape"], "index.js");
    assert_eq!(av["os"], json!(["linux"]));
    assert!(av.get("scripts").is_none() && av.get("description").is_none());
    assert_eq!(av["dist"], v["dist"]);

    let etag = full.header("etag").expect("etag").to_string();
    let again = server.curl(&[
        "-H",
        &format!("If-None-Match: {etag}"),
        &format!("{reg}@grp%2fshape"),
    ]);
    assert_eq!(again.status, 304);
    // A new version changes the document.
    let dir = package(&work, "@grp/shape", "1.0.1", json!({}));
    npmrc(&dir, &reg, Some("@grp"), Some(&dev));
    work.npm_ok(&server, &dir, &["publish"]);
    let after = server.curl(&[
        "-H",
        &format!("If-None-Match: {etag}"),
        &format!("{reg}@grp%2fshape"),
    ]);
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["dist-tags"]["latest"], "1.0.1");
}
