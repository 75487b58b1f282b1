//! NuGet against a Packyard project and group (issue #15).
//!
//! - Debian's nuget.exe 2.8.7 on mono, against the v2 feed and the push endpoint: packs the
//!   fixtures, pushes with an API key, lists, installs an exact version, the newest and a
//!   package with a dependency, deletes; a duplicate push, a Reporter and anonymous users as
//!   nuget.exe prints their refusals.
//! - The v3 side with the suite's own restore client (`packyard_e2e::nuget_v3`, written from
//!   the protocol docs: this machine kind has no `dotnet`), on packages nuget.exe pushed:
//!   restores from the project and the group endpoints with a deploy token and a personal
//!   access token over Basic, paged registrations, search, and the anonymous challenge.
//!
//! Environment (set by `cargo xtask e2e`): `PACKYARD_E2E_NUGET` (default `nuget`).
//! Fixtures: `tests/fixtures/nuget` (nuspec templates, `@KEY@` replaced per test).
//!
//! nuget.exe's habits the helpers below cater for (CLIENTS.md): every command first GETs the
//! source anonymously and sends the credentials stored in `nuget.config` only after a 401
//! with `WWW-Authenticate: Basic`; `nuget sources add` puts nuget.org back into the config
//! (removed again: there is no internet); push from the package's folder (absolute paths
//! break it); commands that print wrapped text (`list`, `help`) loop forever without a
//! terminal (mono reads a console width of 0), so `list` runs under `script` with a
//! terminal size and `TERM`, and every command runs under `timeout`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use packyard_e2e::nuget_v3::{sha512_base64, Search, V3Client, V3Error};
use packyard_e2e::{path_str, Server};
use tempfile::TempDir;

const GROUP: &str = "dotnet";
const PROJECT: &str = "dotnet/libs";
const GREETING: &str = "Packyard.Greeting";
const APP: &str = "Packyard.App";
/// nuget.exe on mono starts in about a second; a hung command fails the test, not CI.
const COMMAND_TIMEOUT_SECS: &str = "180";

fn nuget_bin() -> PathBuf {
    std::env::var_os("PACKYARD_E2E_NUGET")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("nuget"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("nuget")
}

/// What a nuget.exe run printed.
struct Run {
    ok: bool,
    /// stdout and stderr together, `\r` removed.
    output: String,
}

/// One test's nuget.exe workspace: HOME and XDG dirs (mono's config and NuGet's machine
/// cache stay per test), `nuget.config`, packed packages and install folders.
struct NuGet {
    dir: TempDir,
}

impl NuGet {
    fn new() -> NuGet {
        let dir = tempfile::Builder::new()
            .prefix("packyard-nuget-")
            .tempdir()
            .expect("temp dir");
        let nuget = NuGet { dir };
        for sub in ["home", "config", "data", "cache", "packages"] {
            fs::create_dir_all(nuget.path(sub)).expect("workspace dir");
        }
        fs::write(
            nuget.config(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n</configuration>\n",
        )
        .expect("nuget.config");
        nuget
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self) -> PathBuf {
        self.path("nuget.config")
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env_remove("NUGET_PACKAGES")
            .env_remove("NUGET_HTTP_CACHE_PATH")
            .env("EnableNuGetPackageRestore", "true");
    }

    /// `nuget ARGS -ConfigFile nuget.config -NonInteractive` in `cwd` (`pack` knows no
    /// `-ConfigFile`).
    fn run(&self, cwd: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "5", COMMAND_TIMEOUT_SECS])
            .arg(nuget_bin())
            .args(args);
        if args.first() != Some(&"pack") {
            cmd.arg("-ConfigFile").arg(self.config());
        }
        cmd.arg("-NonInteractive")
            .current_dir(cwd)
            .stdin(Stdio::null());
        self.env(&mut cmd);
        run(cmd)
    }

    /// [`NuGet::run`] that must succeed.
    fn run_ok(&self, server: &Server, cwd: &Path, args: &[&str]) -> String {
        let run = self.run(cwd, args);
        assert!(
            run.ok,
            "nuget {args:?} failed:\n{}\n--- server log ---\n{}",
            run.output,
            server.log()
        );
        run.output
    }

    /// Stores `user`/`password` for `url` as `nuget sources add` does, then takes out the
    /// nuget.org source it adds back.
    fn add_source(&self, server: &Server, url: &str, user: &str, password: &str) {
        let cwd = self.dir.path();
        self.run_ok(
            server,
            cwd,
            &[
                "sources",
                "add",
                "-Name",
                "packyard",
                "-Source",
                url,
                "-UserName",
                user,
                "-Password",
                password,
                "-StorePasswordInClearText",
            ],
        );
        let config = fs::read_to_string(self.config()).expect("nuget.config");
        for nuget_org in ["https://www.nuget.org/api/v2/", "nuget.org"] {
            if config.contains(&format!("key=\"{nuget_org}\"")) {
                self.run_ok(server, cwd, &["sources", "remove", "-Name", nuget_org]);
            }
        }
        let config = fs::read_to_string(self.config()).expect("nuget.config");
        assert!(
            !config.contains("nuget.org") && config.contains(url),
            "nuget.config: {config}"
        );
    }

    /// Packs the fixture `fixture` (its `@KEY@`s replaced by `vars`) with `nuget pack`;
    /// the `.nupkg` in `packages/`.
    fn pack(&self, server: &Server, fixture: &str, vars: &[(&str, &str)]) -> PathBuf {
        let name = vars
            .iter()
            .map(|(_, v)| v.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
            .collect::<Vec<_>>()
            .join("-");
        let src = self.path(&format!("src-{fixture}-{name}"));
        copy_template(&fixtures().join(fixture), &src, vars);
        let nuspec = fs::read_dir(&src)
            .expect("fixture copy")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with(".nuspec"))
            .expect("the fixture has a .nuspec");
        let packages = path_str(&self.path("packages"));
        let out = self.run_ok(
            server,
            &src,
            &["pack", &nuspec, "-OutputDirectory", &packages],
        );
        let created = out
            .lines()
            .find_map(|l| l.strip_prefix("Successfully created package '"))
            .and_then(|rest| rest.strip_suffix("'."))
            .unwrap_or_else(|| panic!("nuget pack did not say what it created:\n{out}"));
        PathBuf::from(created)
    }

    /// Packs `Packyard.Greeting` at `version`; its `lib/net45/greeting.txt` says `hello VERSION`.
    fn pack_greeting(&self, server: &Server, version: &str) -> PathBuf {
        let greeting = format!("hello {version}");
        self.pack(
            server,
            "greeting",
            &[("VERSION", version), ("GREETING", &greeting)],
        )
    }

    /// Packs `Packyard.App` at `version`, depending on `Packyard.Greeting` in `range`.
    fn pack_app(&self, server: &Server, version: &str, range: &str) -> PathBuf {
        self.pack(
            server,
            "app",
            &[("VERSION", version), ("GREETING_RANGE", range)],
        )
    }

    /// `nuget push FILE -Source URL [-ApiKey KEY]`, from the package's folder.
    fn push(&self, nupkg: &Path, url: &str, api_key: Option<&str>) -> Run {
        let folder = nupkg.parent().expect("package folder");
        let file = nupkg
            .file_name()
            .expect("package file")
            .to_string_lossy()
            .into_owned();
        let mut args = vec!["push", file.as_str(), "-Source", url];
        if let Some(key) = api_key {
            args.extend(["-ApiKey", key]);
        }
        self.run(folder, &args)
    }

    /// `nuget install ID [-Version V] -Source URL -OutputDirectory OUT -NoCache`; OUT's path.
    fn install(&self, id: &str, version: Option<&str>, url: &str, out: &str) -> (Run, PathBuf) {
        let out_dir = self.path(out);
        let out_str = path_str(&out_dir);
        let mut args = vec!["install", id];
        if let Some(v) = version {
            args.extend(["-Version", v]);
        }
        args.extend(["-Source", url, "-OutputDirectory", &out_str, "-NoCache"]);
        (self.run(self.dir.path(), &args), out_dir)
    }

    /// `nuget list TERM -Source URL -AllVersions -Prerelease` under `script` (nuget.exe's
    /// list needs a terminal); the `Id Version` lines it printed.
    fn list(&self, server: &Server, term: &str, url: &str) -> Vec<String> {
        let command = [
            &path_str(&nuget_bin()),
            "list",
            term,
            "-Source",
            url,
            "-AllVersions",
            "-Prerelease",
            "-ConfigFile",
            &path_str(&self.config()),
            "-NonInteractive",
        ]
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
        // mono wraps list output to the console width: without a terminal size and a TERM
        // it knows, the width is 0 and nuget prints empty lines forever. nuget must run in
        // the terminal's foreground process group, or mono's first change to the terminal's
        // modes stops it (SIGTTOU) for good: hence `exec`, and the time limit outside
        // `script` (`timeout` moves its child to a process group of its own), and the shell
        // named, whatever the caller's SHELL is.
        let command = format!("stty cols 200 rows 50; exec {command}");
        let mut cmd = Command::new("timeout");
        cmd.args([
            "-k",
            "5",
            COMMAND_TIMEOUT_SECS,
            "script",
            "-qec",
            &command,
            "/dev/null",
        ])
        .current_dir(self.dir.path())
        .env("TERM", "xterm")
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::null());
        self.env(&mut cmd);
        let mut run = run(cmd);
        run.output = strip_ansi(&run.output);
        assert!(
            run.ok,
            "nuget list failed:\n{}\n--- server log ---\n{}",
            run.output,
            server.log()
        );
        run.output
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("Packyard."))
            .map(str::to_string)
            .collect()
    }

    /// `nuget delete ID VERSION -Source URL -ApiKey KEY`.
    fn delete(&self, id: &str, version: &str, url: &str, api_key: &str) -> Run {
        self.run(
            self.dir.path(),
            &["delete", id, version, "-Source", url, "-ApiKey", api_key],
        )
    }
}

fn run(mut cmd: Command) -> Run {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Run {
        ok: out.status.success(),
        output: text.replace('\r', ""),
    }
}

fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // `ESC [ ... letter`, `ESC =`, `ESC >`.
            if let Some(next) = chars.next() {
                if next == '[' {
                    for d in chars.by_ref() {
                        if d.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

fn copy_template(src: &Path, dst: &Path, vars: &[(&str, &str)]) {
    fs::create_dir_all(dst).expect("create dir");
    for entry in fs::read_dir(src).expect("read fixture dir") {
        let entry = entry.expect("dir entry");
        let target = dst.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_template(&entry.path(), &target, vars);
        } else {
            let mut text = fs::read_to_string(entry.path()).expect("fixture is text");
            for (key, value) in vars {
                text = text.replace(&format!("@{key}@"), value);
            }
            fs::write(&target, text).expect("write fixture copy");
        }
    }
}

fn pat(token: &str) -> String {
    format!("PRIVATE-TOKEN: {token}")
}

/// The v2 source nuget.exe uses.
fn v2_url(server: &Server, id: i64) -> String {
    server.api(&format!("/projects/{id}/packages/nuget/v2"))
}

fn project_index(server: &Server, id: i64) -> String {
    server.api(&format!("/projects/{id}/packages/nuget/index.json"))
}

fn group_index(server: &Server) -> String {
    server.api(&format!("/groups/{GROUP}/-/packages/nuget/index.json"))
}

/// A server with the `visibility` project `dotnet/libs` and a Maintainer `dev`; (server, id, token).
fn setup(visibility: &str) -> (Server, i64, String) {
    let server = Server::start();
    let id = server.create_project(PROJECT, visibility);
    let token = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 40);
    (server, id, token)
}

/// The NuGet packages of project `id` as `name@version`, sorted.
fn nuget_packages(server: &Server, id: i64, token: &str) -> Vec<String> {
    let listed = server.curl(&[
        "-H",
        &pat(token),
        &server.api(&format!(
            "/projects/{id}/packages?package_type=nuget&per_page=100"
        )),
    ]);
    assert_eq!(listed.status, 200, "{}", listed.text());
    let json = listed.json();
    let packages = json.as_array().expect("packages array");
    for p in packages {
        assert_eq!(p["package_type"], "nuget", "{p}");
    }
    let mut names: Vec<String> = packages
        .iter()
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap_or_default(),
                p["version"].as_str().unwrap_or_default()
            )
        })
        .collect();
    names.sort();
    names
}

/// Asserts nuget.exe installed `id` `version` into `out` as it does: the folder
/// `Id.Version` with the `.nupkg` (the bytes pushed) and its files extracted.
fn assert_installed(out: &Path, id: &str, version: &str, pushed: &Path) -> PathBuf {
    let folder = out.join(format!("{id}.{version}"));
    let nupkg = folder.join(format!("{id}.{version}.nupkg"));
    assert!(
        nupkg.is_file(),
        "{} is missing; {} holds {:?}",
        nupkg.display(),
        out.display(),
        fs::read_dir(out)
            .map(|d| d
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect::<Vec<_>>())
            .unwrap_or_default()
    );
    assert_eq!(
        fs::read(&nupkg).expect("installed nupkg"),
        fs::read(pushed).expect("pushed nupkg"),
        "the installed {id} {version} is the package pushed"
    );
    folder
}

#[test]
fn nuget_pushes_with_an_api_key_then_lists_and_installs_exact_newest_and_dependent() {
    let (server, id, token) = setup("private");
    let nuget = NuGet::new();
    let url = v2_url(&server, id);
    // nuget.exe reads the feed with the stored Basic credentials after the 401 challenge.
    nuget.add_source(&server, &url, "dev", &token);
    let g100 = nuget.pack_greeting(&server, "1.0.0");
    let g110 = nuget.pack_greeting(&server, "1.1.0");
    let app = nuget.pack_app(&server, "1.0.0", "[1.0.0, 2.0.0)");
    for nupkg in [&g100, &g110, &app] {
        let pushed = nuget.push(nupkg, &url, Some(&token));
        assert!(
            pushed.ok && pushed.output.contains("Your package was pushed."),
            "push {}:\n{}\n--- server log ---\n{}",
            nupkg.display(),
            pushed.output,
            server.log()
        );
    }
    assert_eq!(
        nuget_packages(&server, id, &token),
        [
            "Packyard.App@1.0.0",
            "Packyard.Greeting@1.0.0",
            "Packyard.Greeting@1.1.0"
        ]
    );

    assert_eq!(
        nuget.list(&server, "Packyard", &url),
        [
            "Packyard.App 1.0.0",
            "Packyard.Greeting 1.0.0",
            "Packyard.Greeting 1.1.0"
        ]
    );

    let (exact, out) = nuget.install(GREETING, Some("1.0.0"), &url, "exact");
    assert!(exact.ok, "install -Version 1.0.0:\n{}", exact.output);
    let folder = assert_installed(&out, GREETING, "1.0.0", &g100);
    assert_eq!(
        fs::read_to_string(folder.join("lib/net45/greeting.txt")).expect("the packed lib file"),
        "hello 1.0.0\n"
    );

    let (newest, out) = nuget.install(GREETING, None, &url, "newest");
    assert!(newest.ok, "install without a version:\n{}", newest.output);
    let folder = assert_installed(&out, GREETING, "1.1.0", &g110);
    assert_eq!(
        fs::read_to_string(folder.join("lib/net45/greeting.txt")).expect("the packed lib file"),
        "hello 1.1.0\n"
    );
    assert!(
        !out.join(format!("{GREETING}.1.0.0")).exists(),
        "only the newest is installed"
    );

    // nuget.exe 2.x resolves a dependency range to its lowest applicable version.
    let (dependent, out) = nuget.install(APP, None, &url, "dependent");
    assert!(dependent.ok, "install {APP}:\n{}", dependent.output);
    assert_installed(&out, APP, "1.0.0", &app);
    assert_installed(&out, GREETING, "1.0.0", &g100);
}

#[test]
fn a_duplicate_push_is_refused_with_409_until_the_group_allows_duplicates() {
    let (server, id, token) = setup("private");
    let nuget = NuGet::new();
    let url = v2_url(&server, id);
    nuget.add_source(&server, &url, "dev", &token);
    let first = nuget.pack_greeting(&server, "1.0.0");
    let pushed = nuget.push(&first, &url, Some(&token));
    assert!(pushed.ok, "first push:\n{}", pushed.output);

    let again = nuget.push(&first, &url, Some(&token));
    assert!(!again.ok, "a duplicate push must fail:\n{}", again.output);
    // nuget.exe prints only the status line: the reason is in it.
    assert!(
        again
            .output
            .contains("(409) Duplicate package is not allowed"),
        "nuget.exe prints the 409 and its reason:\n{}",
        again.output
    );
    assert_eq!(
        nuget_packages(&server, id, &token),
        ["Packyard.Greeting@1.0.0"]
    );

    let put = server.curl(&[
        "-X",
        "PUT",
        "-H",
        &pat(&server.root_token),
        "-H",
        "Content-Type: application/json",
        "--data",
        r#"{"nuget_duplicates_allowed": true}"#,
        &server.api(&format!("/groups/{GROUP}/packages/settings")),
    ]);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        put.json()["nuget_duplicates_allowed"],
        true,
        "{}",
        put.text()
    );
    let allowed = nuget.push(&first, &url, Some(&token));
    assert!(
        allowed.ok && allowed.output.contains("Your package was pushed."),
        "a duplicate push once allowed:\n{}\n--- server log ---\n{}",
        allowed.output,
        server.log()
    );
    let (installed, out) = nuget.install(GREETING, Some("1.0.0"), &url, "out");
    assert!(installed.ok, "install:\n{}", installed.output);
    assert_installed(&out, GREETING, "1.0.0", &first);
}

#[test]
fn a_reporter_installs_but_nuget_prints_403_on_push_and_delete() {
    let (server, id, token) = setup("private");
    let reporter = server.create_user_with_token("reader");
    server.add_member(PROJECT, "reader", 20);
    let nuget = NuGet::new();
    let url = v2_url(&server, id);
    nuget.add_source(&server, &url, "reader", &reporter);
    let first = nuget.pack_greeting(&server, "1.0.0");
    let pushed = nuget.push(&first, &url, Some(&token));
    assert!(pushed.ok, "the Maintainer's push:\n{}", pushed.output);

    let (installed, out) = nuget.install(GREETING, Some("1.0.0"), &url, "out");
    assert!(
        installed.ok,
        "a Reporter reads:\n{}\n--- server log ---\n{}",
        installed.output,
        server.log()
    );
    assert_installed(&out, GREETING, "1.0.0", &first);

    let second = nuget.pack_greeting(&server, "1.1.0");
    let refused = nuget.push(&second, &url, Some(&reporter));
    assert!(
        !refused.ok,
        "a Reporter's push must fail:\n{}",
        refused.output
    );
    assert!(
        refused.output.contains("(403)") && refused.output.contains("Developer role"),
        "nuget.exe prints the 403 and what the push needs:\n{}",
        refused.output
    );
    let refused = nuget.delete(GREETING, "1.0.0", &url, &reporter);
    assert!(
        !refused.ok
            && refused.output.contains("(403)")
            && refused.output.contains("Maintainer role"),
        "a Reporter's delete must fail with 403 and say what a delete needs:\n{}",
        refused.output
    );
    // The API key is the credential of the command: a Reporter's key is refused even
    // though the source's stored credentials belong to a Maintainer.
    let maintainer_source = NuGet::new();
    maintainer_source.add_source(&server, &url, "root", &token);
    let refused = maintainer_source.delete(GREETING, "1.0.0", &url, &reporter);
    assert!(
        !refused.ok && refused.output.contains("(403)"),
        "the Reporter's key, beside a Maintainer's stored credentials:\n{}",
        refused.output
    );
    assert_eq!(
        nuget_packages(&server, id, &token),
        ["Packyard.Greeting@1.0.0"]
    );
}

#[test]
fn a_maintainer_deletes_a_version_and_nuget_installs_the_one_left() {
    let (server, id, token) = setup("private");
    let nuget = NuGet::new();
    let url = v2_url(&server, id);
    nuget.add_source(&server, &url, "dev", &token);
    let g100 = nuget.pack_greeting(&server, "1.0.0");
    let g110 = nuget.pack_greeting(&server, "1.1.0");
    for nupkg in [&g100, &g110] {
        let pushed = nuget.push(nupkg, &url, Some(&token));
        assert!(pushed.ok, "push:\n{}", pushed.output);
    }
    let deleted = nuget.delete(GREETING, "1.1.0", &url, &token);
    assert!(
        deleted.ok && deleted.output.contains("was deleted"),
        "delete:\n{}\n--- server log ---\n{}",
        deleted.output,
        server.log()
    );
    assert_eq!(
        nuget_packages(&server, id, &token),
        ["Packyard.Greeting@1.0.0"]
    );
    let (newest, out) = nuget.install(GREETING, None, &url, "out");
    assert!(newest.ok, "install:\n{}", newest.output);
    assert_installed(&out, GREETING, "1.0.0", &g100);
    let (gone, _) = nuget.install(GREETING, Some("1.1.0"), &url, "gone");
    assert!(!gone.ok, "the deleted version installs:\n{}", gone.output);
}

#[test]
fn anonymous_users_list_and_install_from_a_public_project_but_cannot_push() {
    let (server, id, token) = setup("public");
    let publisher = NuGet::new();
    let url = v2_url(&server, id);
    publisher.add_source(&server, &url, "dev", &token);
    let g100 = publisher.pack_greeting(&server, "1.0.0");
    let pushed = publisher.push(&g100, &url, Some(&token));
    assert!(pushed.ok, "push:\n{}", pushed.output);

    // No credentials anywhere: the feed must answer without a challenge.
    let anonymous = NuGet::new();
    assert_eq!(
        anonymous.list(&server, "Packyard", &url),
        ["Packyard.Greeting 1.0.0"]
    );
    let (installed, out) = anonymous.install(GREETING, None, &url, "out");
    assert!(
        installed.ok,
        "anonymous install:\n{}\n--- server log ---\n{}",
        installed.output,
        server.log()
    );
    assert_installed(&out, GREETING, "1.0.0", &g100);

    // The push reaches the server (nuget.exe 2.8.7 checks no API key itself); its 401 makes
    // nuget.exe ask for credentials, which -NonInteractive refuses.
    let g110 = anonymous.pack_greeting(&server, "1.1.0");
    let refused = anonymous.push(&g110, &url, Some("not-a-token"));
    assert!(
        !refused.ok && refused.output.contains("Please provide credentials for"),
        "an anonymous push must meet a 401:\n{}",
        refused.output
    );
    assert_eq!(
        nuget_packages(&server, id, &token),
        ["Packyard.Greeting@1.0.0"]
    );
}

/// Pushes Greeting 1.0.0, 1.1.0 and 2.0.0-beta and App 1.0.0 (needs Greeting [1.0.0, 2.0.0))
/// with nuget.exe; the four `.nupkg` paths in that order.
fn push_the_family(server: &Server, nuget: &NuGet, url: &str, token: &str) -> Vec<PathBuf> {
    let packed = vec![
        nuget.pack_greeting(server, "1.0.0"),
        nuget.pack_greeting(server, "1.1.0"),
        nuget.pack_greeting(server, "2.0.0-beta"),
        nuget.pack_app(server, "1.0.0", "[1.0.0, 2.0.0)"),
    ];
    for nupkg in &packed {
        let pushed = nuget.push(nupkg, url, Some(token));
        assert!(
            pushed.ok,
            "push {}:\n{}\n--- server log ---\n{}",
            nupkg.display(),
            pushed.output,
            server.log()
        );
    }
    packed
}

fn v3<T>(server: &Server, what: &str, result: Result<T, V3Error>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}\n--- server log ---\n{}", server.log()))
}

#[test]
fn the_v3_client_restores_from_project_and_group_with_a_deploy_token_and_a_pat() {
    // A private group: NuGet.Client sends its credentials only after a 401, and a public
    // group answers anonymous searches (without the private project's packages) with 200.
    let server = Server::start();
    server.admin(&["create-group", "--path", GROUP, "--visibility", "private"]);
    let id = server.create_project(PROJECT, "private");
    let token = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 40);
    let nuget = NuGet::new();
    let url = v2_url(&server, id);
    nuget.add_source(&server, &url, "dev", &token);
    let packed = push_the_family(&server, &nuget, &url, &token);
    let deploy = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "restore",
        "--scopes",
        "read_package_registry",
    ]);

    for (name, client) in [
        (
            "project + deploy token",
            V3Client::new(&project_index(&server, id)).with_basic("deployer", &deploy),
        ),
        (
            "group + PAT",
            V3Client::new(&group_index(&server)).with_basic("dev", &token),
        ),
    ] {
        let packages = tempfile::tempdir().expect("packages dir");
        let restored = v3(
            &server,
            name,
            client.restore(&[(APP, "1.0.0")], false, packages.path()),
        );
        let got: Vec<(String, String)> = restored
            .iter()
            .map(|r| (r.id.clone(), r.version.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (APP.to_string(), "1.0.0".to_string()),
                (GREETING.to_string(), "1.0.0".to_string())
            ],
            "{name}: the app and the lowest Greeting its range admits"
        );
        for (r, pushed) in restored.iter().zip([&packed[3], &packed[0]]) {
            assert_eq!(r.sha512, sha512_base64(pushed), "{name}: {} bytes", r.id);
            assert!(
                r.hash_checked,
                "{name}: the registration gives {}'s packageHash",
                r.id
            );
        }
        assert!(
            packages
                .path()
                .join("packyard.app/1.0.0/packyard.app.1.0.0.nupkg.sha512")
                .is_file(),
            "{name}: the global packages folder layout"
        );

        let index = v3(&server, name, client.service_index());
        let newest = v3(&server, name, client.resolve(&index, GREETING, "*", false));
        assert_eq!(newest.version_text, "1.1.0", "{name}: newest stable");
        let pre = v3(&server, name, client.resolve(&index, GREETING, "*", true));
        assert_eq!(pre.version_text, "2.0.0-beta", "{name}: newest prerelease");
        let exact = v3(
            &server,
            name,
            client.resolve(&index, "packyard.greeting", "[1.1.0]", false),
        );
        assert_eq!(
            exact.id, GREETING,
            "{name}: ids are case-insensitive, served as pushed"
        );
        assert!(
            exact
                .package_content
                .as_deref()
                .is_some_and(|u| u.starts_with(&server.url)
                    && u.ends_with(
                        "/download/packyard.greeting/1.1.0/packyard.greeting.1.1.0.nupkg"
                    )),
            "{name}: packageContent is the flat-container URL: {:?}",
            exact.package_content
        );
        let missing = client.resolve(&index, GREETING, "[3.0.0, )", true);
        assert!(
            matches!(missing, Err(V3Error::Unresolved { .. })),
            "{name}: {missing:?}"
        );

        let stable = v3(
            &server,
            name,
            client.search(&Search {
                q: "packyard",
                prerelease: false,
                skip: 0,
                take: 20,
            }),
        );
        assert_eq!(stable.total_hits, 2, "{name}: {stable:?}");
        let greeting = stable
            .data
            .iter()
            .find(|h| h.id == GREETING)
            .unwrap_or_else(|| panic!("{name}: no {GREETING} hit: {stable:?}"));
        assert_eq!(greeting.version, "1.1.0", "{name}: {stable:?}");
        assert_eq!(greeting.versions, ["1.0.0", "1.1.0"], "{name}: {stable:?}");
        let with_pre = v3(
            &server,
            name,
            client.search(&Search {
                q: "greeting",
                prerelease: true,
                skip: 0,
                take: 20,
            }),
        );
        assert_eq!(with_pre.total_hits, 1, "{name}: {with_pre:?}");
        assert_eq!(
            with_pre.data[0].version, "2.0.0-beta",
            "{name}: {with_pre:?}"
        );
        let mut paged = Vec::new();
        for skip in 0..3 {
            let page = v3(
                &server,
                name,
                client.search(&Search {
                    q: "",
                    prerelease: true,
                    skip,
                    take: 1,
                }),
            );
            assert_eq!(page.total_hits, 2, "{name}: skip {skip}: {page:?}");
            paged.extend(page.data.into_iter().map(|h| h.id));
        }
        paged.sort();
        assert_eq!(
            paged,
            [APP, GREETING],
            "{name}: skip and take walk every hit once"
        );
    }
}

#[test]
fn the_v3_client_follows_registration_pages_past_the_page_size() {
    let server = Server::start_with(&[("PACKYARD_NUGET_REGISTRATION_PAGE_SIZE", "2")]);
    let id = server.create_project(PROJECT, "private");
    let token = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 40);
    let nuget = NuGet::new();
    let url = v2_url(&server, id);
    nuget.add_source(&server, &url, "dev", &token);
    // nuget.exe 2.8.7 packs SemVer 1.0.0 prereleases only (`rc1`, not `rc.1`).
    let versions = ["1.0.0", "1.1.0", "1.2.0", "1.3.0-rc1", "1.3.0"];
    let mut packed = Vec::new();
    for version in versions {
        let nupkg = nuget.pack_greeting(&server, version);
        let pushed = nuget.push(&nupkg, &url, Some(&token));
        assert!(pushed.ok, "push {version}:\n{}", pushed.output);
        packed.push(nupkg);
    }

    let client = V3Client::new(&project_index(&server, id)).with_basic("dev", &token);
    let index = v3(&server, "service index", client.service_index());
    let registration = v3(
        &server,
        "registration",
        client.registration(&index, GREETING),
    );
    assert_eq!(
        registration.pages, 3,
        "5 versions, 2 per page: {registration:?}"
    );
    assert_eq!(
        registration.pages_fetched, 3,
        "above the page size the index links its pages instead of inlining them"
    );
    let mut listed: Vec<String> = registration
        .entries
        .iter()
        .map(|e| e.version_text.clone())
        .collect();
    listed.sort();
    let mut expected: Vec<String> = versions.iter().map(|v| v.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected, "every version across the pages");

    let packages = tempfile::tempdir().expect("packages dir");
    let restored = v3(
        &server,
        "restore",
        client.restore(&[(GREETING, "1.*")], false, packages.path()),
    );
    assert_eq!(restored.len(), 1, "{restored:?}");
    assert_eq!(restored[0].version, "1.3.0", "the newest, on the last page");
    assert_eq!(restored[0].sha512, sha512_base64(&packed[4]));
    let oldest = v3(
        &server,
        "restore",
        client.restore(&[(GREETING, "[1.0.0]")], false, packages.path()),
    );
    assert_eq!(oldest[0].version, "1.0.0", "the oldest, on the first page");
    assert_eq!(oldest[0].sha512, sha512_base64(&packed[0]));
    let rc = v3(
        &server,
        "resolve",
        client.resolve(&index, GREETING, "[1.3.0-rc1]", false),
    );
    assert_eq!(
        rc.version_text, "1.3.0-rc1",
        "a range naming a prerelease admits it"
    );
}

#[test]
fn anonymous_v3_requests_to_a_private_project_get_a_basic_challenge() {
    let (server, id, token) = setup("private");
    let nupkg_dir = NuGet::new();
    let url = v2_url(&server, id);
    nupkg_dir.add_source(&server, &url, "dev", &token);
    let nupkg = nupkg_dir.pack_greeting(&server, "1.0.0");
    let pushed = nupkg_dir.push(&nupkg, &url, Some(&token));
    assert!(pushed.ok, "push:\n{}", pushed.output);

    let packages = tempfile::tempdir().expect("packages dir");
    for (who, client) in [
        ("anonymous", V3Client::new(&project_index(&server, id))),
        (
            "a wrong token",
            V3Client::new(&project_index(&server, id)).with_basic("dev", "not-a-token"),
        ),
    ] {
        match client.restore(&[(GREETING, "1.0.0")], false, packages.path()) {
            Err(V3Error::Http {
                status, challenge, ..
            }) => {
                assert_eq!(status, 401, "{who}");
                assert!(
                    challenge
                        .as_deref()
                        .is_some_and(|c| c.to_ascii_lowercase().starts_with("basic")),
                    "{who}: NuGet sends its credentials only after a Basic challenge: {challenge:?}"
                );
            }
            other => panic!("{who}: expected a 401, got {other:?}"),
        }
    }
    // Every v3 read asks, not only the service index.
    let base = server.api(&format!("/projects/{id}/packages/nuget"));
    for path in [
        "metadata/packyard.greeting/index.json",
        "download/packyard.greeting/index.json",
        "download/packyard.greeting/1.0.0/packyard.greeting.1.0.0.nupkg",
        "query?q=packyard",
    ] {
        let got = server.curl(&[&format!("{base}/{path}")]);
        assert_eq!(got.status, 401, "{path}: {}", got.text());
        assert!(
            got.header("www-authenticate")
                .is_some_and(|c| c.to_ascii_lowercase().starts_with("basic")),
            "{path}: {:?}",
            got.headers
        );
    }
    let authed = V3Client::new(&project_index(&server, id)).with_basic("dev", &token);
    let restored = v3(
        &server,
        "restore",
        authed.restore(&[(GREETING, "1.0.0")], false, packages.path()),
    );
    assert_eq!(restored[0].sha512, sha512_base64(&nupkg));
}
