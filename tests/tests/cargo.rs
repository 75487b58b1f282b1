//! Cargo against a Packyard project as an alternative registry over the sparse protocol
//! (issue #6): the real `cargo` (1.95) publishes, resolves, downloads, builds, yanks,
//! searches and lists owners, with `global-credential-providers = ["cargo:token"]`.
//!
//! Environment: `PACKYARD_E2E_CARGO` (default `cargo`), set by `cargo xtask e2e`.
//! Every crate here depends only on crates from Packyard, so nothing reaches crates.io.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use packyard_e2e::Server;
use tempfile::TempDir;

const PROJECT: &str = "rust/crates";

fn cargo_bin() -> PathBuf {
    std::env::var_os("PACKYARD_E2E_CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// A cargo user: its own `CARGO_HOME` (registry config, caches), crates folder and target dir.
struct CargoUser {
    dir: TempDir,
    index: String,
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl CargoUser {
    fn new(server: &Server, project_id: i64) -> CargoUser {
        let dir = tempfile::Builder::new()
            .prefix("packyard-cargo-")
            .tempdir()
            .expect("temp dir");
        let index = format!(
            "sparse+{}/api/v4/projects/{project_id}/packages/cargo/",
            server.url
        );
        let user = CargoUser { dir, index };
        fs::create_dir_all(user.home()).expect("cargo home");
        fs::write(
            user.home().join("config.toml"),
            format!(
                "[registries.packyard]\nindex = \"{}\"\n\n[registry]\nglobal-credential-providers = [\"cargo:token\"]\n\n[net]\ngit-fetch-with-cli = true\nretry = 0\n",
                user.index
            ),
        )
        .expect("config.toml");
        user
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("cargo-home")
    }

    /// Drops cargo's downloaded index and crates, so the next build fetches everything again.
    fn forget_cache(&self) {
        let _ = fs::remove_dir_all(self.home().join("registry"));
    }

    /// Writes a crate `name` (a library unless `main` is given) and returns its folder.
    fn write_crate(&self, name: &str, version: &str, extra_toml: &str, src: &str) -> PathBuf {
        let dir = self
            .dir
            .path()
            .join("src")
            .join(format!("{name}-{version}"));
        fs::create_dir_all(dir.join("src")).expect("crate dir");
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
                 description = \"The {name} crate\"\nlicense = \"MIT\"\n\n{extra_toml}\n"
            ),
        )
        .expect("Cargo.toml");
        let file = if src.contains("fn main") {
            "main.rs"
        } else {
            "lib.rs"
        };
        fs::write(dir.join("src").join(file), src).expect("source");
        dir
    }

    /// Runs cargo in `dir` with `token` as the registry token (or none at all).
    fn cargo(&self, dir: &Path, args: &[&str], token: Option<&str>) -> Run {
        let mut cmd = Command::new(cargo_bin());
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .env("CARGO_HOME", self.home())
            .env("CARGO_TARGET_DIR", self.dir.path().join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_TERM_PROGRESS_WHEN", "never")
            .env("CARGO_INCREMENTAL", "0")
            .env_remove("CARGO_REGISTRIES_PACKYARD_TOKEN")
            .env_remove("CARGO_REGISTRY_TOKEN")
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("CARGO_MAKEFLAGS");
        if let Some(t) = token {
            cmd.env("CARGO_REGISTRIES_PACKYARD_TOKEN", t);
        }
        let out: Output = cmd.output().expect("cannot run cargo");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs cargo and panics with its output (and the server's log) unless it succeeds.
    fn ok(&self, server: &Server, dir: &Path, args: &[&str], token: Option<&str>) -> Run {
        let run = self.cargo(dir, args, token);
        assert!(
            run.ok,
            "cargo {args:?} failed\nstdout: {}\nstderr: {}\n--- server log ---\n{}",
            run.stdout,
            run.stderr,
            server.log()
        );
        run
    }

    fn publish(&self, server: &Server, dir: &Path, token: &str) {
        self.ok(
            server,
            dir,
            &[
                "publish",
                "--registry",
                "packyard",
                "--no-verify",
                "--allow-dirty",
            ],
            Some(token),
        );
    }

    fn fails(&self, dir: &Path, args: &[&str], token: Option<&str>) -> String {
        let run = self.cargo(dir, args, token);
        assert!(
            !run.ok,
            "cargo {args:?} should have failed\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run.stderr
    }
}

/// A server with `rust/crates` of `visibility` and a Maintainer `maint` holding an `api` PAT.
fn setup(visibility: &str) -> (Server, i64, String) {
    let server = Server::start();
    let id = server.create_project(PROJECT, visibility);
    let token = server.create_user_with_token("maint");
    server.add_member(PROJECT, "maint", 40);
    (server, id, token)
}

fn lib_src(value: u32) -> String {
    format!("pub fn value() -> u32 {{ {value} }}\n")
}

fn index_url(server: &Server, id: i64, path: &str) -> String {
    server.api(&format!("/projects/{id}/packages/cargo/{path}"))
}

fn auth(token: &str) -> String {
    format!("Authorization: {token}")
}

#[test]
fn published_crates_resolve_download_and_build_with_features_and_a_renamed_dependency() {
    let (server, id, token) = setup("private");
    let user = CargoUser::new(&server, id);
    let base = user.write_crate("base_lib", "0.1.0", "", &lib_src(40));
    user.publish(&server, &base, &token);
    let feat = user.write_crate(
        "feat-lib",
        "0.2.0",
        "[dependencies]\nbase_lib = { version = \"0.1\", registry = \"packyard\", optional = true }\n\n\
         [features]\ndefault = []\nfancy = []\nextra = [\"dep:base_lib\"]\n",
        "#[cfg(feature = \"fancy\")]\npub fn fancy() -> u32 { 1 }\n\
         #[cfg(feature = \"extra\")]\npub fn extra() -> u32 { base_lib::value() + 1 }\n",
    );
    user.publish(&server, &feat, &token);

    // The index line carries the new feature syntax in features2 with v: 2.
    let got = server.curl(&[
        "-H",
        &auth(&token),
        &index_url(&server, id, "fe/at/feat-lib"),
    ]);
    assert_eq!(got.status, 200, "{}", got.text());
    let line = packyard_e2e::parse_json(got.text().trim());
    assert_eq!(line["name"], "feat-lib");
    assert_eq!(line["v"], 2);
    assert_eq!(
        line["features2"]["extra"],
        serde_json::json!(["dep:base_lib"])
    );
    assert_eq!(line["deps"][0]["name"], "base_lib");
    assert_eq!(line["deps"][0]["optional"], true);
    assert_eq!(
        line["cksum"].as_str().map(str::len),
        Some(64),
        "cksum is a sha256: {line}"
    );

    // A dependent on both, one of them renamed, with features turned on.
    let app = user.write_crate(
        "app",
        "1.0.0",
        "[dependencies]\nbase_lib = { version = \"0.1\", registry = \"packyard\" }\n\
         renamed = { package = \"feat-lib\", version = \"0.2\", registry = \"packyard\", features = [\"fancy\", \"extra\"] }\n",
        "fn main() { println!(\"sum={}\", base_lib::value() + renamed::fancy() + renamed::extra()); }\n",
    );
    let run = user.ok(&server, &app, &["run", "-q"], Some(&token));
    assert_eq!(run.stdout.trim(), "sum=82");
    let lock = fs::read_to_string(app.join("Cargo.lock")).expect("Cargo.lock");
    assert!(lock.contains("name = \"feat-lib\""), "{lock}");
    assert!(
        lock.contains(&user.index),
        "the lockfile names the registry: {lock}"
    );

    // Publishing the dependent records the rename and the registry-local dependency.
    user.publish(&server, &app, &token);
    let got = server.curl(&["-H", &auth(&token), &index_url(&server, id, "3/a/app")]);
    let line = packyard_e2e::parse_json(got.text().trim());
    let renamed = line["deps"]
        .as_array()
        .expect("deps")
        .iter()
        .find(|d| d["name"] == "renamed")
        .unwrap_or_else(|| panic!("no renamed dep in {line}"));
    assert_eq!(renamed["package"], "feat-lib");
    assert_eq!(renamed["features"], serde_json::json!(["fancy", "extra"]));
}

#[test]
fn index_files_revalidate_with_304_and_anonymous_callers_are_asked_for_a_token() {
    let (server, id, token) = setup("private");
    let user = CargoUser::new(&server, id);
    let lib = user.write_crate("cache_me", "1.0.0", "", &lib_src(1));
    user.publish(&server, &lib, &token);

    // Anonymous: every index path answers 401 with a challenge, config.json first.
    for path in ["config.json", "ca/ch/cache_me", "3/a/abc"] {
        let got = server.curl(&[&index_url(&server, id, path)]);
        assert_eq!(got.status, 401, "{path}: {}", got.text());
        assert!(got.header("www-authenticate").is_some(), "{path}");
    }
    let config = server.curl(&["-H", &auth(&token), &index_url(&server, id, "config.json")]);
    assert_eq!(config.status, 200);
    let config = config.json();
    assert_eq!(config["auth-required"], true);
    assert_eq!(
        config["dl"],
        format!(
            "{}/api/v4/projects/{id}/packages/cargo/api/v1/crates",
            server.url
        )
    );

    let url = index_url(&server, id, "ca/ch/cache_me");
    let first = server.curl(&["-H", &format!("Authorization: Bearer {token}"), &url]);
    assert_eq!(first.status, 200);
    let etag = first.header("etag").expect("etag").to_string();
    let modified = first
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    let again = server.curl(&[
        "-H",
        &auth(&token),
        "-H",
        &format!("If-None-Match: {etag}"),
        &url,
    ]);
    assert_eq!(again.status, 304);
    let again = server.curl(&[
        "-H",
        &auth(&token),
        "-H",
        &format!("If-Modified-Since: {modified}"),
        &url,
    ]);
    assert_eq!(again.status, 304);

    // A new version changes the document and its ETag.
    let next = user.write_crate("cache_me", "1.1.0", "", &lib_src(2));
    user.publish(&server, &next, &token);
    let changed = server.curl(&[
        "-H",
        &auth(&token),
        "-H",
        &format!("If-None-Match: {etag}"),
        &url,
    ]);
    assert_eq!(changed.status, 200);
    let versions: Vec<String> = changed
        .text()
        .lines()
        .map(|l| {
            packyard_e2e::parse_json(l)["vers"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0"], "oldest first");

    // Unknown crates are 404 for cargo.
    let missing = server.curl(&["-H", &auth(&token), &index_url(&server, id, "no/pe/nope")]);
    assert_eq!(missing.status, 404);
}

#[test]
fn yank_keeps_locked_builds_working_and_fresh_resolution_skips_it() {
    let (server, id, token) = setup("private");
    let user = CargoUser::new(&server, id);
    for (version, value) in [("1.0.0", 1), ("1.0.1", 2)] {
        let lib = user.write_crate("yanky", version, "", &lib_src(value));
        user.publish(&server, &lib, &token);
    }
    let app = user.write_crate(
        "yank-app",
        "0.1.0",
        "[dependencies]\nyanky = { version = \"1\", registry = \"packyard\" }\n",
        "fn main() { println!(\"v={}\", yanky::value()); }\n",
    );
    assert_eq!(
        user.ok(&server, &app, &["run", "-q"], Some(&token))
            .stdout
            .trim(),
        "v=2"
    );

    // A Developer may publish but not yank.
    let dev = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 30);
    let err = user.fails(
        &app,
        &["yank", "--registry", "packyard", "yanky@1.0.1"],
        Some(&dev),
    );
    assert!(err.contains("Maintainer"), "{err}");

    user.ok(
        &server,
        &app,
        &["yank", "--registry", "packyard", "yanky@1.0.1"],
        Some(&token),
    );
    // The lockfile pins 1.0.1: it still downloads and builds, from an empty cache.
    user.forget_cache();
    let run = user.ok(&server, &app, &["run", "-q", "--locked"], Some(&token));
    assert_eq!(run.stdout.trim(), "v=2");
    // A fresh resolution skips the yanked version.
    fs::remove_file(app.join("Cargo.lock")).expect("remove lock");
    assert_eq!(
        user.ok(&server, &app, &["run", "-q"], Some(&token))
            .stdout
            .trim(),
        "v=1"
    );

    user.ok(
        &server,
        &app,
        &["yank", "--undo", "--registry", "packyard", "yanky@1.0.1"],
        Some(&token),
    );
    user.ok(&server, &app, &["update", "-q"], Some(&token));
    assert_eq!(
        user.ok(&server, &app, &["run", "-q"], Some(&token))
            .stdout
            .trim(),
        "v=2"
    );
}

#[test]
fn search_owners_and_republishing_an_existing_version() {
    let (server, id, token) = setup("private");
    let user = CargoUser::new(&server, id);
    let a = user.write_crate("search-alpha", "0.3.0", "", &lib_src(1));
    user.publish(&server, &a, &token);
    let b = user.write_crate("search_beta", "1.2.0", "", &lib_src(1));
    user.publish(&server, &b, &token);
    let c = user.write_crate("other", "0.1.0", "", &lib_src(1));
    user.publish(&server, &c, &token);

    let run = user.ok(
        &server,
        &a,
        &["search", "--registry", "packyard", "search"],
        Some(&token),
    );
    assert!(
        run.stdout.contains("search-alpha = \"0.3.0\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("search_beta = \"1.2.0\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("The search_beta crate"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("other ="), "{}", run.stdout);

    // Owners: the project's Maintainers and Owners, direct or through its group.
    server.create_user_with_token("groupowner");
    server.add_member(PROJECT.split('/').next().expect("group"), "groupowner", 50);
    server.create_user_with_token("justdev");
    server.add_member(PROJECT, "justdev", 30);
    let run = user.ok(
        &server,
        &a,
        &["owner", "--list", "--registry", "packyard", "search-alpha"],
        Some(&token),
    );
    assert!(run.stdout.contains("maint"), "{}", run.stdout);
    assert!(run.stdout.contains("groupowner"), "{}", run.stdout);
    assert!(!run.stdout.contains("justdev"), "{}", run.stdout);

    // Same version again: refused with a message that says why.
    let err = user.fails(
        &a,
        &[
            "publish",
            "--registry",
            "packyard",
            "--no-verify",
            "--allow-dirty",
        ],
        Some(&token),
    );
    assert!(err.contains("already exists"), "{err}");
    // Even once yanked.
    user.ok(
        &server,
        &a,
        &["yank", "--registry", "packyard", "search-alpha@0.3.0"],
        Some(&token),
    );
    let err = user.fails(
        &a,
        &[
            "publish",
            "--registry",
            "packyard",
            "--no-verify",
            "--allow-dirty",
        ],
        Some(&token),
    );
    assert!(err.contains("already exists"), "{err}");
    // Another spelling of an existing name is the same crate.
    let clash = user.write_crate("Search_Alpha", "9.0.0", "", &lib_src(1));
    let err = user.fails(
        &clash,
        &[
            "publish",
            "--registry",
            "packyard",
            "--no-verify",
            "--allow-dirty",
        ],
        Some(&token),
    );
    assert!(err.contains("same name as the existing crate"), "{err}");
}

#[test]
fn anonymous_cargo_on_a_private_project_needs_a_token_and_succeeds_with_one() {
    let (server, id, token) = setup("private");
    let user = CargoUser::new(&server, id);
    let lib = user.write_crate("secret_lib", "0.1.0", "", &lib_src(7));
    user.publish(&server, &lib, &token);
    let app = user.write_crate(
        "secret-app",
        "0.1.0",
        "[dependencies]\nsecret_lib = { version = \"0.1\", registry = \"packyard\" }\n",
        "fn main() { println!(\"{}\", secret_lib::value()); }\n",
    );
    let err = user.fails(&app, &["build"], None);
    assert!(err.contains("token"), "cargo should ask for a token: {err}");
    let run = user.ok(&server, &app, &["run", "-q"], Some(&token));
    assert_eq!(run.stdout.trim(), "7");
    // A wrong token is refused.
    user.forget_cache();
    let err = user.fails(&app, &["build"], Some("glpat-not-a-real-token"));
    assert!(err.contains("401"), "{err}");
}

#[test]
fn a_public_project_builds_without_any_token() {
    let (server, id, token) = setup("public");
    let user = CargoUser::new(&server, id);
    let lib = user.write_crate("open_lib", "0.1.0", "", &lib_src(3));
    user.publish(&server, &lib, &token);
    let config = server.curl(&[&index_url(&server, id, "config.json")]);
    assert_eq!(config.status, 200);
    assert_eq!(config.json()["auth-required"], false);
    let app = user.write_crate(
        "open-app",
        "0.1.0",
        "[dependencies]\nopen_lib = { version = \"0.1\", registry = \"packyard\" }\n",
        "fn main() { println!(\"{}\", open_lib::value()); }\n",
    );
    let run = user.ok(&server, &app, &["run", "-q"], None);
    assert_eq!(run.stdout.trim(), "3");
    // Publishing still needs a token.
    let other = user.write_crate("open_lib", "0.2.0", "", &lib_src(4));
    let err = user.fails(
        &other,
        &[
            "publish",
            "--registry",
            "packyard",
            "--no-verify",
            "--allow-dirty",
        ],
        None,
    );
    assert!(err.contains("token"), "{err}");
}

#[test]
fn a_read_only_deploy_token_builds_but_cannot_publish() {
    let (server, id, token) = setup("private");
    let deploy = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "reader",
        "--scopes",
        "read_package_registry",
    ]);
    let user = CargoUser::new(&server, id);
    let lib = user.write_crate("deployed", "0.1.0", "", &lib_src(5));
    user.publish(&server, &lib, &token);
    let app = user.write_crate(
        "deploy-app",
        "0.1.0",
        "[dependencies]\ndeployed = { version = \"0.1\", registry = \"packyard\" }\n",
        "fn main() { println!(\"{}\", deployed::value()); }\n",
    );
    let run = user.ok(&server, &app, &["run", "-q"], Some(&deploy));
    assert_eq!(run.stdout.trim(), "5");
    let next = user.write_crate("deployed", "0.2.0", "", &lib_src(6));
    let err = user.fails(
        &next,
        &[
            "publish",
            "--registry",
            "packyard",
            "--no-verify",
            "--allow-dirty",
        ],
        Some(&deploy),
    );
    assert!(
        err.contains("403") && err.contains("may not publish"),
        "{err}"
    );
    // Nothing was published.
    let got = server.curl(&[
        "-H",
        &auth(&token),
        &index_url(&server, id, "de/pl/deployed"),
    ]);
    assert_eq!(got.text().lines().count(), 1, "{}", got.text());
}

// ---------------------------------------------------------------- bad publish bodies

fn body(json: &[u8], krate: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(json.len() as u32).to_le_bytes());
    b.extend_from_slice(json);
    b.extend_from_slice(&(krate.len() as u32).to_le_bytes());
    b.extend_from_slice(krate);
    b
}

fn meta(name: &str, version: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "name": name, "vers": version, "deps": [], "features": {}, "authors": [],
        "description": null, "keywords": [], "categories": [], "badges": {}, "links": null
    }))
    .expect("json")
}

#[test]
fn bad_publish_bodies_get_a_cargo_error_and_store_nothing() {
    let (server, id, token) = setup("private");
    let user = CargoUser::new(&server, id);
    // A real .crate, packed by cargo.
    let lib = user.write_crate("good", "1.0.0", "", &lib_src(1));
    user.ok(
        &server,
        &lib,
        &["package", "--no-verify", "--allow-dirty", "-q"],
        None,
    );
    let krate = fs::read(user.dir.path().join("target/package/good-1.0.0.crate")).expect(".crate");
    let dir = tempfile::tempdir().expect("tmp");
    let url = index_url(&server, id, "api/v1/crates/new");
    let put = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        fs::write(&path, bytes).expect("write body");
        let got = server.curl(&[
            "-X",
            "PUT",
            "-H",
            &auth(&token),
            "--data-binary",
            &format!("@{}", path.display()),
            &url,
        ]);
        (
            got.status,
            got.json()["errors"][0]["detail"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    };
    let good = body(&meta("good", "1.0.0"), &krate);
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"extra");
    let mut lying = good.clone();
    let at = 4 + meta("good", "1.0.0").len();
    lying[at..at + 4].copy_from_slice(&(krate.len() as u32 + 100).to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "truncated",
            good[..good.len() - 10].to_vec(),
            400,
            "ended before",
        ),
        ("lying", lying, 400, "ended before"),
        ("trailing", trailing, 400, "goes on after"),
        ("json", body(b"{nope", &krate), 400, "not valid JSON"),
        (
            "name",
            body(&meta("bad name", "1.0.0"), &krate),
            400,
            "may only contain",
        ),
        (
            "reserved",
            body(&meta("std", "1.0.0"), &krate),
            400,
            "reserved",
        ),
        ("version", body(&meta("good", "1.0"), &krate), 400, "semver"),
        (
            "notgzip",
            body(&meta("good", "1.0.0"), b"this is not gzip"),
            400,
            "gzipped tar",
        ),
        (
            "disagrees",
            body(&meta("good", "2.0.0"), &krate),
            400,
            "outside the folder",
        ),
        (
            "huge",
            {
                let mut b = body(&meta("good", "1.0.0"), b"");
                let at = b.len() - 4;
                b[at..].copy_from_slice(&u32::MAX.to_le_bytes());
                b
            },
            413,
            "over this registry's limit",
        ),
    ];
    for (name, bytes, status, want) in cases {
        let (got, detail) = put(name, &bytes);
        assert_eq!(got, status, "{name}: {detail}");
        assert!(
            detail.contains(want),
            "{name}: {detail:?} should mention {want:?}"
        );
    }
    // Nothing of it was stored.
    let index = server.curl(&["-H", &auth(&token), &index_url(&server, id, "go/od/good")]);
    assert_eq!(index.status, 404, "{}", index.text());
    // A refused upload's bytes are left to gc, never deleted at once: another publish of
    // the same bytes may be about to commit them. Nothing refers to them, so gc takes them.
    gc_now(&server);
    if !server.uses_s3() {
        let blobs = walk(&server.data_dir());
        assert!(
            !blobs.iter().any(|p| fs::read(p).is_ok_and(|b| b == krate)),
            "a refused .crate was still referenced after gc: {blobs:?}"
        );
    }
    // And the good body is accepted, then downloadable byte for byte.
    let (got, detail) = put("good", &good);
    assert_eq!(got, 200, "{detail}");
    let dl = server.curl(&[
        "-H",
        &auth(&token),
        &index_url(&server, id, "api/v1/crates/good/1.0.0/download"),
    ]);
    assert_eq!(dl.status, 200);
    assert!(dl.body == krate, "downloaded .crate differs");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_ci_job_token_publishes_and_builds_with_or_without_bearer() {
    let (server, id, token) = setup("private");
    let minted = server.curl(&[
        "-X",
        "POST",
        "-H",
        &format!("PRIVATE-TOKEN: {token}"),
        "--data",
        "pipeline_id=12&job_id=34&ref=main&sha=0123456789abcdef0123456789abcdef01234567",
        &server.api(&format!("/projects/{id}/ci/job_token")),
    ]);
    assert!(
        minted.status == 200 || minted.status == 201,
        "{}",
        minted.text()
    );
    let job = minted.json()["token"]
        .as_str()
        .expect("job token")
        .to_string();
    let user = CargoUser::new(&server, id);
    let lib = user.write_crate("ci_lib", "0.1.0", "", &lib_src(9));
    user.publish(&server, &lib, &job);
    let app = user.write_crate(
        "ci-app",
        "0.1.0",
        "[dependencies]\nci_lib = { version = \"0.1\", registry = \"packyard\" }\n",
        "fn main() { println!(\"{}\", ci_lib::value()); }\n",
    );
    let bearer = format!("Bearer {job}");
    let run = user.ok(&server, &app, &["run", "-q"], Some(&bearer));
    assert_eq!(run.stdout.trim(), "9");
}

/// `packyard gc` with no grace period (nothing is uploading while it runs).
fn gc_now(server: &Server) {
    let out = server.command(&["gc", "--grace-period-secs", "0"]);
    assert!(
        out.status.success(),
        "gc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
