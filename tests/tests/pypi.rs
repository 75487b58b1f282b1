//! PyPI driven with the real clients, set up as GitLab's PyPI docs say with only the host
//! changed: twine (7 and 6), uv, poetry, pip and `python -m build`.
//!
//! Environment (from `cargo xtask e2e`, see `xtask/src/e2e_pypi.rs`):
//! - `PACKYARD_E2E_PYPI_VENV`: a venv with pip, twine, uv, poetry, build, setuptools, wheel.
//! - `PACKYARD_E2E_TWINE6`: a twine 6.0/6.1 executable (6.2 and 7 allow `--skip-existing`
//!   only for pypi.org).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use packyard_e2e::{path_str, sha256sum, Server};

const PROJECT: &str = "py/lib";
const PROJECT_ENC: &str = "py%2Flib";

fn venv() -> PathBuf {
    let venv = std::env::var("PACKYARD_E2E_PYPI_VENV")
        .unwrap_or_else(|_| format!("{}/../target/e2e-pypi-venv", env!("CARGO_MANIFEST_DIR")));
    let venv = PathBuf::from(venv);
    assert!(
        venv.join("bin/twine").is_file(),
        "{} has no twine: run `cargo xtask e2e` or set PACKYARD_E2E_PYPI_VENV",
        venv.display()
    );
    venv
}

fn bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

fn twine6() -> PathBuf {
    PathBuf::from(std::env::var("PACKYARD_E2E_TWINE6").unwrap_or_else(|_| {
        format!(
            "{}/../target/e2e-pypi-twine6/bin/twine",
            env!("CARGO_MANIFEST_DIR")
        )
    }))
}

/// Runs a client with no stdin and no user config leaking in.
fn run(program: &Path, args: &[&str], env: &[(&str, &str)], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_INPUT", "1")
        .env("UV_NO_CONFIG", "1")
        .env("UV_NO_CACHE", "1")
        .env_remove("TWINE_USERNAME")
        .env_remove("TWINE_PASSWORD")
        .env_remove("TWINE_REPOSITORY_URL")
        .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(out.status.success(), "client failed: {}", text(&out));
    text(&out)
}

#[track_caller]
fn fails(out: Output) -> String {
    assert!(
        !out.status.success(),
        "client should have failed: {}",
        text(&out)
    );
    text(&out)
}

/// A setuptools project `name` at `version`, built with `python -m build` (wheel and sdist).
fn build(dir: &Path, name: &str, version: &str, requires_python: &str) -> (PathBuf, PathBuf) {
    let module = name.replace('-', "_");
    let src = dir.join(format!("src-{name}-{version}"));
    fs::create_dir_all(src.join("src").join(&module)).expect("mkdir");
    fs::write(
        src.join("pyproject.toml"),
        format!(
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Packyard e2e fixture\"\nrequires-python = \"{requires_python}\"\n"
        ),
    )
    .expect("pyproject");
    fs::write(
        src.join("src").join(&module).join("__init__.py"),
        format!("VERSION = \"{version}\"\n"),
    )
    .expect("module");
    let out_dir = dir.join("dist");
    ok(run(
        &bin("python"),
        &[
            "-m",
            "build",
            "--no-isolation",
            "--outdir",
            &path_str(&out_dir),
            &path_str(&src),
        ],
        &[],
        None,
    ));
    let wheel = out_dir.join(format!("{module}-{version}-py3-none-any.whl"));
    let sdist = out_dir.join(format!("{module}-{version}.tar.gz"));
    assert!(
        wheel.is_file() && sdist.is_file(),
        "build made no {}",
        wheel.display()
    );
    (wheel, sdist)
}

/// Distributions shared by every test: `demo-pkg` 1.0, 1.1, 2.0 and 3.0 (3.0 requires
/// Python >= 4), built once per test binary.
struct Dists {
    wheel: Vec<PathBuf>,
    sdist_10: PathBuf,
}

fn dists() -> &'static Dists {
    static DISTS: OnceLock<Dists> = OnceLock::new();
    DISTS.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("packyard-e2e-pypi-")
            .tempdir()
            .expect("tmp")
            .keep();
        let mut wheel = Vec::new();
        let mut sdist_10 = PathBuf::new();
        for (version, rp) in [
            ("1.0", ">=3.8"),
            ("1.1", ">=3.8"),
            ("2.0", ">=3.8"),
            ("3.0", ">=4"),
        ] {
            let (w, s) = build(&dir, "demo-pkg", version, rp);
            wheel.push(w);
            if version == "1.0" {
                sdist_10 = s;
            }
        }
        Dists { wheel, sdist_10 }
    })
}

/// A server with `py/lib` (of `visibility`) and a Developer `dev` holding an `api` PAT.
fn setup(visibility: &str) -> (Server, String, i64) {
    let server = Server::start();
    let id = server.create_project(PROJECT, visibility);
    let token = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 30);
    (server, token, id)
}

fn upload_url(server: &Server) -> String {
    server.api(&format!("/projects/{PROJECT_ENC}/packages/pypi"))
}

/// `http://user:token@host/api/v4/<path>`.
fn with_credentials(server: &Server, user: &str, token: &str, path: &str) -> String {
    let host = server.url.trim_start_matches("http://");
    format!("http://{user}:{token}@{host}/api/v4{path}")
}

fn project_index(server: &Server, token: &str) -> String {
    with_credentials(
        server,
        "__token__",
        token,
        &format!("/projects/{PROJECT_ENC}/packages/pypi/simple"),
    )
}

fn twine_upload(server: &Server, user: &str, token: &str, files: &[&Path]) -> Output {
    let url = upload_url(server);
    let mut args = vec![
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        &url,
        "-u",
        user,
        "-p",
        token,
    ];
    let names: Vec<String> = files.iter().map(|f| path_str(f)).collect();
    args.extend(names.iter().map(String::as_str));
    run(&bin("twine"), &args, &[], None)
}

fn pip(args: &[&str]) -> Output {
    let mut all = vec![
        "-m",
        "pip",
        "--no-input",
        "--disable-pip-version-check",
        "--no-cache-dir",
    ];
    all.extend_from_slice(args);
    run(&bin("python"), &all, &[], None)
}

fn downloaded(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn yank(server: &Server, token: &str, version: &str, reason: &str) -> u16 {
    let url = server.api(&format!(
        "/projects/{PROJECT_ENC}/packages/pypi/yank/demo-pkg/{version}"
    ));
    let body = serde_json::json!({ "reason": reason }).to_string();
    let r = server.curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("PRIVATE-TOKEN: {token}"),
        "-H",
        "Content-Type: application/json",
        "--data",
        &body,
        &url,
    ]);
    assert!(r.status != 500, "yank: {}", r.text());
    r.status
}

#[test]
fn twine_uploads_wheel_and_sdist_and_pip_installs_them_with_hashes() {
    let d = dists();
    let (server, token, id) = setup("private");
    ok(twine_upload(
        &server,
        "__token__",
        &token,
        &[&d.wheel[0], &d.sdist_10],
    ));

    // The JSON page (PEP 691/700/658) describes both files.
    let page = server.curl(&[
        "-u",
        &format!("__token__:{token}"),
        "-H",
        "Accept: application/vnd.pypi.simple.v1+json",
        &server.api(&format!("/projects/{id}/packages/pypi/simple/demo-pkg/")),
    ]);
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("application/vnd.pypi.simple.v1+json")
    );
    let json = page.json();
    assert_eq!(json["versions"], serde_json::json!(["1.0"]));
    let files = json["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{json}");
    let wheel = files
        .iter()
        .find(|f| f["filename"] == "demo_pkg-1.0-py3-none-any.whl")
        .expect("wheel listed");
    assert_eq!(wheel["hashes"]["sha256"], sha256sum(&d.wheel[0]));
    assert_eq!(wheel["requires-python"], ">=3.8");
    let metadata_sha = wheel["core-metadata"]["sha256"]
        .as_str()
        .expect("core-metadata for the wheel")
        .to_string();
    // PEP 658: the METADATA file next to the wheel, with the advertised hash.
    let url = format!("{}.metadata", wheel["url"].as_str().expect("url"));
    let meta = server.curl(&["-u", &format!("__token__:{token}"), &url]);
    assert_eq!(meta.status, 200);
    assert!(meta.text().contains("Name: demo-pkg"), "{}", meta.text());
    let dir = tempfile::tempdir().expect("tmp");
    let meta_file = dir.path().join("METADATA");
    fs::write(&meta_file, &meta.body).expect("write");
    assert_eq!(sha256sum(&meta_file), metadata_sha);

    // pip install with credentials in the index URL.
    let target = dir.path().join("site");
    ok(pip(&[
        "install",
        "--target",
        &path_str(&target),
        "--index-url",
        &project_index(&server, &token),
        "demo-pkg==1.0",
    ]));
    let init = fs::read_to_string(target.join("demo_pkg/__init__.py")).expect("installed");
    assert!(init.contains("1.0"));

    // --require-hashes: the right hash installs, a wrong one is refused.
    let reqs = dir.path().join("requirements.txt");
    fs::write(
        &reqs,
        format!("demo-pkg==1.0 --hash=sha256:{}\n", sha256sum(&d.wheel[0])),
    )
    .expect("write");
    let hashed = dir.path().join("hashed");
    ok(pip(&[
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--require-hashes",
        "-r",
        &path_str(&reqs),
        "-d",
        &path_str(&hashed),
        "--index-url",
        &project_index(&server, &token),
    ]));
    assert_eq!(downloaded(&hashed), ["demo_pkg-1.0-py3-none-any.whl"]);
    fs::write(
        &reqs,
        format!("demo-pkg==1.0 --hash=sha256:{}\n", "0".repeat(64)),
    )
    .expect("write");
    let out = fails(pip(&[
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--require-hashes",
        "-r",
        &path_str(&reqs),
        "-d",
        &path_str(&dir.path().join("bad")),
        "--index-url",
        &project_index(&server, &token),
    ]));
    assert!(
        out.contains("THESE PACKAGES DO NOT MATCH THE HASHES"),
        "{out}"
    );

    // The sdist downloads too, byte for byte.
    let sdist = dir.path().join("sdist");
    ok(pip(&[
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--no-build-isolation",
        "-d",
        &path_str(&sdist),
        "--index-url",
        &project_index(&server, &token),
        "demo-pkg==1.0",
    ]));
    assert_eq!(
        sha256sum(&sdist.join("demo_pkg-1.0.tar.gz")),
        sha256sum(&d.sdist_10)
    );
}

#[test]
fn pip_chooses_the_newest_version_skips_yanked_and_honours_requires_python() {
    let d = dists();
    let (server, token, _) = setup("private");
    let maintainer = server.create_user_with_token("maint");
    server.add_member(PROJECT, "maint", 40);
    let wheels: Vec<&Path> = d.wheel.iter().map(PathBuf::as_path).collect();
    ok(twine_upload(&server, "__token__", &token, &wheels));
    // A Developer may not yank; a Maintainer may.
    assert_eq!(yank(&server, &token, "2.0", "broken build"), 403);
    assert_eq!(yank(&server, &maintainer, "2.0", "broken build"), 200);

    let page = server.curl(&[
        "-u",
        &format!("__token__:{token}"),
        &server.api(&format!(
            "/projects/{PROJECT_ENC}/packages/pypi/simple/demo-pkg/"
        )),
    ]);
    let html = page.text();
    let line = html
        .lines()
        .find(|l| l.contains(">demo_pkg-2.0-py3-none-any.whl<"))
        .expect("2.0 listed");
    assert!(line.contains("data-yanked=\"broken build\""), "{html}");
    assert!(html.contains("data-requires-python=\"&gt;=4\""), "{html}");

    let dir = tempfile::tempdir().expect("tmp");
    let get = |spec: &str, sub: &str| {
        let out = dir.path().join(sub);
        ok(pip(&[
            "download",
            "--no-deps",
            "-d",
            &path_str(&out),
            "--index-url",
            &project_index(&server, &token),
            spec,
        ]));
        downloaded(&out)
    };
    // 3.0 needs Python 4, 2.0 is yanked: 1.1 is the newest pip may take.
    assert_eq!(get("demo-pkg", "newest"), ["demo_pkg-1.1-py3-none-any.whl"]);
    // An exact pin still gets a yanked release (PEP 592), and an older one.
    assert_eq!(
        get("demo-pkg==2.0", "pinned"),
        ["demo_pkg-2.0-py3-none-any.whl"]
    );
    assert_eq!(
        get("demo-pkg==1.0", "exact"),
        ["demo_pkg-1.0-py3-none-any.whl"]
    );

    // Un-yanked, 2.0 is the newest again.
    let url = server.api(&format!(
        "/projects/{PROJECT_ENC}/packages/pypi/yank/demo-pkg/2.0"
    ));
    let r = server.curl(&[
        "-X",
        "DELETE",
        "-H",
        &format!("PRIVATE-TOKEN: {maintainer}"),
        &url,
    ]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get("demo-pkg", "after"), ["demo_pkg-2.0-py3-none-any.whl"]);
}

#[test]
fn duplicate_upload_is_refused_with_the_reason_twine_prints_and_twine6_skips_it() {
    let d = dists();
    let (server, token, _) = setup("private");
    ok(twine_upload(&server, "__token__", &token, &[&d.wheel[1]]));
    let out = fails(twine_upload(&server, "__token__", &token, &[&d.wheel[1]]));
    assert!(out.contains("400 Bad Request"), "{out}");
    assert!(out.contains("File already exists"), "{out}");
    // Another file of the same version is added to it.
    let (_, sdist) = build(
        &tempfile::tempdir().expect("tmp").keep(),
        "demo-pkg",
        "1.1",
        ">=3.8",
    );
    ok(twine_upload(&server, "__token__", &token, &[&sdist]));

    let url = upload_url(&server);
    let out = ok(run(
        &twine6(),
        &[
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--skip-existing",
            "--repository-url",
            &url,
            "-u",
            "__token__",
            "-p",
            &token,
            &path_str(&d.wheel[1]),
        ],
        &[],
        None,
    ));
    assert!(out.contains("Skipping"), "{out}");
}

#[test]
fn uv_publishes_skips_with_check_url_and_installs_from_the_group_index() {
    let d = dists();
    let server = Server::start();
    server.create_project("team/one", "private");
    server.create_project("team/sub/two", "private");
    let token = server.create_user_with_token("dev");
    server.add_member("team/one", "dev", 30);
    server.add_member("team/sub/two", "dev", 30);
    let publish = |project: &str, file: &Path, check: bool| {
        let url = server.api(&format!(
            "/projects/{}/packages/pypi",
            project.replace('/', "%2F")
        ));
        let check_url = with_credentials(
            &server,
            "__token__",
            &token,
            &format!(
                "/projects/{}/packages/pypi/simple/",
                project.replace('/', "%2F")
            ),
        );
        let mut args = vec![
            "publish",
            "--publish-url",
            &url,
            "--username",
            "__token__",
            "--password",
            &token,
        ];
        if check {
            args.extend(["--check-url", &check_url]);
        }
        let f = path_str(file);
        args.push(&f);
        run(&bin("uv"), &args, &[], None)
    };
    ok(publish("team/one", &d.wheel[0], false));
    ok(publish("team/sub/two", &d.wheel[1], false));
    let out = fails(publish("team/one", &d.wheel[0], false));
    assert!(out.contains("File already exists"), "{out}");
    let out = ok(publish("team/one", &d.wheel[0], true));
    assert!(out.contains("already") || out.contains("Skipping"), "{out}");

    // The group index merges both projects (subgroup included).
    let dir = tempfile::tempdir().expect("tmp");
    let group_index = with_credentials(
        &server,
        "__token__",
        &token,
        "/groups/team/-/packages/pypi/simple",
    );
    let target = dir.path().join("site");
    ok(run(
        &bin("uv"),
        &[
            "pip",
            "install",
            "--python",
            &path_str(&bin("python")),
            "--target",
            &path_str(&target),
            "--index-url",
            &group_index,
            "demo-pkg",
        ],
        &[],
        None,
    ));
    let init = fs::read_to_string(target.join("demo_pkg/__init__.py")).expect("installed");
    assert!(init.contains("1.1"), "uv took {init}");
    let out = dir.path().join("pip");
    ok(pip(&[
        "download",
        "--no-deps",
        "-d",
        &path_str(&out),
        "--index-url",
        &group_index,
        "demo-pkg==1.0",
    ]));
    assert_eq!(downloaded(&out), ["demo_pkg-1.0-py3-none-any.whl"]);
}

#[test]
fn poetry_publishes_and_adds_from_a_primary_source() {
    let (server, token, _) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("poetry-config");
    let cache = dir.path().join("poetry-cache");
    let url = upload_url(&server);
    let simple = server.api(&format!("/projects/{PROJECT_ENC}/packages/pypi/simple"));
    let env = [
        ("POETRY_CONFIG_DIR", path_str(&config)),
        ("POETRY_CACHE_DIR", path_str(&cache)),
        ("POETRY_VIRTUALENVS_CREATE", "false".to_string()),
        ("POETRY_REPOSITORIES_PACKYARD_URL", url.clone()),
        (
            "POETRY_HTTP_BASIC_PACKYARD_USERNAME",
            "__token__".to_string(),
        ),
        ("POETRY_HTTP_BASIC_PACKYARD_PASSWORD", token.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let lib = dir.path().join("poetry-lib");
    fs::create_dir_all(lib.join("poetry_lib")).expect("mkdir");
    fs::write(
        lib.join("pyproject.toml"),
        "[project]\nname = \"poetry-lib\"\nversion = \"0.3.0\"\ndescription = \"fixture\"\nrequires-python = \">=3.8\"\n\n[build-system]\nrequires = [\"poetry-core>=2\"]\nbuild-backend = \"poetry.core.masonry.api\"\n",
    )
    .expect("pyproject");
    fs::write(lib.join("poetry_lib/__init__.py"), "").expect("init");
    fs::write(lib.join("README.md"), "").expect("readme");
    ok(run(
        &bin("poetry"),
        &[
            "publish",
            "--build",
            "--repository",
            "packyard",
            "--no-interaction",
        ],
        &env,
        Some(&lib),
    ));

    let app = dir.path().join("app");
    fs::create_dir_all(&app).expect("mkdir");
    fs::write(
        app.join("pyproject.toml"),
        format!("[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\n\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"packyard\"\nurl = \"{simple}\"\npriority = \"primary\"\n"),
    )
    .expect("pyproject");
    ok(run(
        &bin("poetry"),
        &["add", "--lock", "--no-interaction", "poetry-lib"],
        &env,
        Some(&app),
    ));
    let lock = fs::read_to_string(app.join("poetry.lock")).expect("lock");
    assert!(lock.contains("name = \"poetry-lib\""), "{lock}");
    assert!(lock.contains("version = \"0.3.0\""), "{lock}");
}

#[test]
fn anonymous_pip_installs_from_a_public_project_but_gets_401_on_a_private_one() {
    let d = dists();
    let (server, token, _) = setup("public");
    ok(twine_upload(&server, "__token__", &token, &[&d.wheel[0]]));
    let dir = tempfile::tempdir().expect("tmp");
    let index = server.api(&format!("/projects/{PROJECT_ENC}/packages/pypi/simple"));
    ok(pip(&[
        "download",
        "--no-deps",
        "-d",
        &path_str(dir.path()),
        "--index-url",
        &index,
        "demo-pkg",
    ]));
    assert_eq!(downloaded(dir.path()), ["demo_pkg-1.0-py3-none-any.whl"]);

    server.create_project("py/secret", "private");
    let secret = server.api("/projects/py%2Fsecret/packages/pypi/simple/demo-pkg/");
    let r = server.curl(&[&secret]);
    assert_eq!(r.status, 401);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic")),
        "{:?}",
        r.headers
    );
    // A signed-in stranger is not told the project exists.
    let stranger = server.create_user_with_token("stranger");
    let r = server.curl(&["-u", &format!("x:{stranger}"), &secret]);
    assert_eq!(r.status, 404);
}

#[test]
fn deploy_tokens_and_reporters_cannot_publish_but_can_install() {
    let d = dists();
    let (server, token, _) = setup("private");
    ok(twine_upload(&server, "__token__", &token, &[&d.wheel[0]]));
    let read_only = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "ro",
        "--scopes",
        "read_package_registry",
        "--username",
        "deployer",
    ]);
    let out = fails(twine_upload(
        &server,
        "deployer",
        &read_only,
        &[&d.wheel[1]],
    ));
    assert!(out.contains("403"), "{out}");
    let reporter = server.create_user_with_token("rep");
    server.add_member(PROJECT, "rep", 20);
    let out = fails(twine_upload(
        &server,
        "__token__",
        &reporter,
        &[&d.wheel[1]],
    ));
    assert!(out.contains("403"), "{out}");
    let out = fails(twine_upload(
        &server,
        "__token__",
        "glpat-wrong",
        &[&d.wheel[1]],
    ));
    assert!(out.contains("401") || out.contains("403"), "{out}");

    // The read-only deploy token installs with Basic auth, as GitLab documents.
    let dir = tempfile::tempdir().expect("tmp");
    ok(pip(&[
        "download",
        "--no-deps",
        "-d",
        &path_str(dir.path()),
        "--index-url",
        &with_credentials(
            &server,
            "deployer",
            &read_only,
            &format!("/projects/{PROJECT_ENC}/packages/pypi/simple"),
        ),
        "demo-pkg",
    ]));
    assert_eq!(downloaded(dir.path()), ["demo_pkg-1.0-py3-none-any.whl"]);
    // A write deploy token publishes.
    let writer = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "rw",
        "--scopes",
        "write_package_registry,read_package_registry",
    ]);
    ok(twine_upload(&server, "anything", &writer, &[&d.wheel[1]]));
}

/// Sends a hand-made upload form with curl; returns (status line, body).
fn curl_upload(server: &Server, token: &str, form: &[String]) -> (String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "-u", &format!("__token__:{token}")]);
    for f in form {
        cmd.args(["-F", f]);
    }
    cmd.arg(upload_url(server));
    let out = cmd.output().expect("curl");
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = raw.lines().next().unwrap_or_default().trim().to_string();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn zip_file(path: &Path, entries: &[(&str, &str)]) {
    let script = "import sys, zipfile, json\nentries = json.loads(sys.argv[2])\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    for name, data in entries:\n        z.writestr(name, data)\n";
    let entries = serde_json::to_string(entries).expect("json");
    ok(run(
        &bin("python"),
        &["-c", script, &path_str(path), &entries],
        &[],
        None,
    ));
}

#[test]
fn bad_uploads_get_a_400_reason_and_leave_nothing_stored() {
    let d = dists();
    let (server, token, id) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let p = |name: &str| dir.path().join(name);
    let good_meta = "Metadata-Version: 2.1\nName: bad-pkg\nVersion: 1.0\n";

    fs::write(p("bad_pkg-1.0-py3-none-any.whl"), "not a zip").expect("write");
    zip_file(&p("no_meta"), &[("bad_pkg/__init__.py", "")]);
    zip_file(
        &p("no_name"),
        &[(
            "bad_pkg-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nVersion: 1.0\n",
        )],
    );
    zip_file(
        &p("no_version"),
        &[(
            "bad_pkg-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: bad-pkg\n",
        )],
    );
    zip_file(
        &p("other_name"),
        &[(
            "bad_pkg-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n",
        )],
    );
    zip_file(
        &p("bad_version"),
        &[(
            "bad_pkg-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: bad-pkg\nVersion: 1.0-beta-x\n",
        )],
    );
    zip_file(&p("good"), &[("bad_pkg-1.0.dist-info/METADATA", good_meta)]);
    // 200 MB of one byte, deflated to a few hundred KB: a compression bomb.
    let bomb_script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    with z.open('bad_pkg-1.0.dist-info/METADATA', 'w', force_zip64=True) as f:\n        chunk = b'a' * (1 << 20)\n        for _ in range(200):\n            f.write(chunk)\n";
    ok(run(
        &bin("python"),
        &["-c", bomb_script, &path_str(&p("bomb"))],
        &[],
        None,
    ));

    let wheel = "bad_pkg-1.0-py3-none-any.whl";
    let file = |path: &str, name: &str| format!("content=@{path};filename={name}");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![file(&path_str(&p(wheel)), wheel)],
            "Invalid distribution file",
        ),
        (
            vec![file(&path_str(&p("no_meta")), wheel)],
            "Invalid distribution file",
        ),
        (
            vec![file(&path_str(&p("bomb")), wheel)],
            "Invalid distribution file",
        ),
        (
            vec![file(&path_str(&p("no_name")), wheel)],
            "Invalid core metadata",
        ),
        (
            vec![file(&path_str(&p("no_version")), wheel)],
            "Invalid core metadata",
        ),
        (
            vec![file(&path_str(&p("bad_version")), wheel)],
            "Invalid core metadata",
        ),
        (
            vec![file(&path_str(&p("other_name")), wheel)],
            "Metadata does not match the file",
        ),
        (
            vec![file(&path_str(&p("good")), "bad_pkg-2.0-py3-none-any.whl")],
            "Metadata does not match the file",
        ),
        (
            vec![file(
                &path_str(&p("good")),
                "bad_pkg-1.0_x-py3-none-any.whl",
            )],
            "Invalid distribution file name",
        ),
        (
            vec![file(
                &path_str(&p("good")),
                "../bad_pkg-1.0-py3-none-any.whl",
            )],
            "Invalid distribution file name",
        ),
        (
            vec![
                "sha256_digest=".to_string() + &"0".repeat(64),
                file(&path_str(&p("good")), wheel),
            ],
            "The digest supplied does not match",
        ),
        (
            vec![
                ":action=file_upload".to_string(),
                "name=bad-pkg".to_string(),
            ],
            "Upload payload does not have a file",
        ),
    ];
    for (form, reason) in &cases {
        let (status, body) = curl_upload(&server, &token, form);
        assert!(
            status.starts_with("HTTP/1.1 400") && status.contains(reason),
            "{form:?}: expected 400 {reason}, got {status:?} {body:?}"
        );
        assert!(
            body.starts_with(&format!("400 {reason}")),
            "{form:?}: {body}"
        );
    }
    // A good file with the same form goes through, proving the cases above failed for
    // their own reason.
    let (status, body) = curl_upload(&server, &token, &[file(&path_str(&p("good")), wheel)]);
    assert!(status.starts_with("HTTP/1.1 201"), "{status} {body}");

    // twine prints the reason of a refusal (here: a wheel renamed to another version).
    let renamed = p("demo_pkg-9.9-py3-none-any.whl");
    fs::copy(&d.wheel[0], &renamed).expect("copy");
    let out = fails(twine_upload(&server, "__token__", &token, &[&renamed]));
    assert!(out.contains("400 Bad Request"), "{out}");

    // Nothing but the one good upload was kept.
    let list = server.curl(&[
        "-H",
        &format!("PRIVATE-TOKEN: {token}"),
        &server.api(&format!("/projects/{id}/packages")),
    ]);
    let names: Vec<String> = list
        .json()
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap_or(""),
                p["version"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(names, ["bad-pkg 1.0"]);
    // A refused upload's bytes are left to gc, never deleted at once: another publish of
    // the same bytes may be about to commit them. Nothing refers to them, so gc takes them.
    let out = server.command(&["gc", "--grace-period-secs", "0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !server.uses_s3() {
        let blobs = count_files(&server.data_dir().join("blobs"));
        assert_eq!(blobs, 1, "refused uploads were still referenced after gc");
    }
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_files(&p)
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn simple_pages_redirect_non_normalized_names_and_revalidate() {
    let d = dists();
    let (server, token, id) = setup("private");
    ok(twine_upload(&server, "__token__", &token, &[&d.wheel[0]]));
    let auth = format!("__token__:{token}");
    let r = server.curl(&[
        "-u",
        &auth,
        &server.api(&format!("/projects/{id}/packages/pypi/simple/Demo_Pkg/")),
    ]);
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some(
            server
                .api(&format!("/projects/{id}/packages/pypi/simple/demo-pkg/"))
                .as_str()
        )
    );
    let url = server.api(&format!("/projects/{id}/packages/pypi/simple/demo-pkg/"));
    let first = server.curl(&["-u", &auth, &url]);
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let etag = first.header("etag").expect("etag").to_string();
    let again = server.curl(&["-u", &auth, "-H", &format!("If-None-Match: {etag}"), &url]);
    assert_eq!(again.status, 304);
    // A new upload changes the page.
    ok(twine_upload(&server, "__token__", &token, &[&d.wheel[1]]));
    let after = server.curl(&["-u", &auth, "-H", &format!("If-None-Match: {etag}"), &url]);
    assert_eq!(after.status, 200);
    assert!(after.text().contains("demo_pkg-1.1-py3-none-any.whl"));
    let index = server.curl(&[
        "-u",
        &auth,
        &server.api(&format!("/projects/{id}/packages/pypi/simple/")),
    ]);
    assert!(
        index.text().contains("<a href=\"demo-pkg/\">demo-pkg</a>"),
        "{}",
        index.text()
    );
    let missing = server.curl(&[
        "-u",
        &auth,
        &server.api(&format!("/projects/{id}/packages/pypi/simple/nothing/")),
    ]);
    assert_eq!(missing.status, 404);
}
