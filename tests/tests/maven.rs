//! Maven against a Packyard project, group and instance (issue #14), with Debian's clients:
//! mvn 3.8.7 (wagon-http 3.5.3) deploys and resolves a library, SNAPSHOTs, `deploy-file` and
//! `dependency:get`; Gradle 4.4.1 publishes and resolves; Apache Ivy 2.5 resolves and
//! publishes through m2-compatible resolvers; duplicates and 401/403/404 as Maven prints them.
//!
//! Environment (set by `cargo xtask e2e`): `PACKYARD_E2E_MVN` (default `mvn`),
//! `PACKYARD_E2E_GRADLE` (default `gradle`), `PACKYARD_E2E_IVY_JAR` (default
//! `/usr/share/java/ivy.jar`), `PACKYARD_E2E_MAVEN_REPO` (default `/usr/share/maven-repo`:
//! every `settings.xml` mirrors `central` onto it, so nothing reaches Maven Central).
//! Fixtures: `tests/fixtures/maven` (see its README).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use packyard_e2e::{path_str, Server};
use serde_json::Value;
use tempfile::TempDir;

const GROUP: &str = "java";
const PROJECT: &str = "java/libs";
const LIB: &str = "com/example/packyard/lib";

fn env_or(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

fn mvn_bin() -> PathBuf {
    env_or("PACKYARD_E2E_MVN", "mvn")
}

fn gradle_bin() -> PathBuf {
    env_or("PACKYARD_E2E_GRADLE", "gradle")
}

fn ivy_jar() -> PathBuf {
    env_or("PACKYARD_E2E_IVY_JAR", "/usr/share/java/ivy.jar")
}

fn maven_repo() -> PathBuf {
    env_or("PACKYARD_E2E_MAVEN_REPO", "/usr/share/maven-repo")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("maven")
}

/// How a `settings.xml` authenticates to the server id `packyard`.
enum Auth<'a> {
    /// No `<server>` entry: anonymous.
    Anonymous,
    /// `<httpHeaders>` with one header (`Private-Token`, `Deploy-Token`, `Job-Token`).
    Header(&'a str, &'a str),
    /// `<username>` / `<password>`: Basic.
    Basic(&'a str, &'a str),
}

/// What a client run printed.
struct Run {
    ok: bool,
    /// stdout and stderr together, without ANSI colours.
    output: String,
}

/// One test's Maven workspace: settings files, project copies and local repositories.
struct Maven {
    dir: TempDir,
}

impl Maven {
    fn new() -> Maven {
        let dir = tempfile::Builder::new()
            .prefix("packyard-maven-")
            .tempdir()
            .expect("temp dir");
        Maven { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `settings-NAME.xml`: the `central` mirror onto Debian's repository and `auth`.
    fn settings(&self, name: &str, auth: Auth<'_>) -> PathBuf {
        let server = match auth {
            Auth::Anonymous => String::new(),
            Auth::Header(header, value) => format!(
                "  <servers>\n    <server>\n      <id>packyard</id>\n      <configuration>\n        \
                 <httpHeaders>\n          <property>\n            <name>{}</name>\n            \
                 <value>{}</value>\n          </property>\n        </httpHeaders>\n      \
                 </configuration>\n    </server>\n  </servers>\n",
                xml_escape(header),
                xml_escape(value)
            ),
            Auth::Basic(user, password) => format!(
                "  <servers>\n    <server>\n      <id>packyard</id>\n      <username>{}</username>\n      \
                 <password>{}</password>\n    </server>\n  </servers>\n",
                xml_escape(user),
                xml_escape(password)
            ),
        };
        let text = format!(
            "<settings>\n  <mirrors>\n    <mirror>\n      <id>debian</id>\n      \
             <mirrorOf>central</mirrorOf>\n      <url>file://{}</url>\n    </mirror>\n  \
             </mirrors>\n{server}</settings>\n",
            maven_repo().display()
        );
        let path = self.path(&format!("settings-{name}.xml"));
        fs::write(&path, text).expect("settings.xml");
        path
    }

    /// Copies the fixture `fixture` to `name`, replacing each `@KEY@` of `vars` in every file.
    fn project(&self, fixture: &str, name: &str, vars: &[(&str, &str)]) -> PathBuf {
        let dst = self.path(name);
        let _ = fs::remove_dir_all(&dst);
        copy_template(&fixtures().join(fixture), &dst, vars);
        dst
    }

    /// `mvn -B -s SETTINGS -Dmaven.repo.local=<workspace>/REPO ARGS` in `dir`.
    fn mvn(&self, dir: &Path, settings: &Path, repo: &str, args: &[&str]) -> Run {
        let mut cmd = Command::new(mvn_bin());
        cmd.arg("-B")
            .arg("-s")
            .arg(settings)
            .arg(format!("-Dmaven.repo.local={}", self.path(repo).display()))
            .args(args)
            .current_dir(dir)
            .env_remove("MAVEN_OPTS")
            .env_remove("MAVEN_ARGS");
        run(cmd, "mvn")
    }

    /// `mvn` that must succeed; the server's log goes into the panic message otherwise.
    fn mvn_ok(&self, server: &Server, dir: &Path, settings: &Path, repo: &str, args: &[&str]) {
        let run = self.mvn(dir, settings, repo, args);
        assert!(
            run.ok,
            "mvn {args:?} failed:\n{}\n--- server log ---\n{}",
            run.output,
            server.log()
        );
    }

    /// Runs the app's `Main` against the library jar the local repository `repo` holds.
    fn run_app(&self, app: &Path, repo: &str, lib_version: &str) -> String {
        let jar = self
            .path(repo)
            .join(LIB)
            .join(lib_version)
            .join(format!("lib-{lib_version}.jar"));
        assert!(jar.is_file(), "{} was not resolved", jar.display());
        let classpath = format!("{}:{}", app.join("target/classes").display(), jar.display());
        java(&["-cp", &classpath, "com.example.app.Main"])
    }
}

/// Runs `cmd` with stdin closed; its stdout and stderr, merged, without ANSI colours.
fn run(mut cmd: Command, what: &str) -> Run {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} ({:?}): {e}", cmd.get_program()));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Run {
        ok: out.status.success(),
        output: strip_ansi(&text),
    }
}

fn java(args: &[&str]) -> String {
    let mut cmd = Command::new("java");
    cmd.args(args);
    let run = run(cmd, "java");
    assert!(run.ok, "java {args:?} failed:\n{}", run.output);
    run.output.trim().to_string()
}

fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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

fn sha1_hex(path: &Path) -> String {
    let out = Command::new("sha1sum")
        .arg(path)
        .output()
        .expect("sha1sum must be installed");
    assert!(out.status.success(), "sha1sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha1sum output")
        .to_string()
}

fn pat(token: &str) -> String {
    format!("PRIVATE-TOKEN: {token}")
}

fn project_url(server: &Server, id: i64) -> String {
    server.api(&format!("/projects/{id}/packages/maven"))
}

fn group_url(server: &Server) -> String {
    server.api(&format!("/groups/{GROUP}/-/packages/maven"))
}

fn instance_url(server: &Server) -> String {
    server.api("/packages/maven")
}

/// A server with the private project `java/libs` and a Maintainer `dev`; (server, id, token).
fn setup() -> (Server, i64, String) {
    let server = Server::start();
    let id = server.create_project(PROJECT, "private");
    let token = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 40);
    (server, id, token)
}

/// The library fixture at `version`, deploying to `deploy_url`.
fn lib_project(maven: &Maven, name: &str, version: &str, greeting: &str, url: &str) -> PathBuf {
    maven.project(
        "lib",
        name,
        &[
            ("VERSION", version),
            ("GREETING", greeting),
            ("DEPLOY_URL", url),
        ],
    )
}

/// Rewrites the library's greeting in place (a new build of the same version).
fn set_greeting(lib: &Path, greeting: &str) {
    let source = lib.join("src/main/java/com/example/packyard/Greeting.java");
    let template = fixtures().join("lib/src/main/java/com/example/packyard/Greeting.java");
    let text = fs::read_to_string(template).expect("Greeting.java");
    fs::write(source, text.replace("@GREETING@", greeting)).expect("write Greeting.java");
}

fn app_project(maven: &Maven, name: &str, lib_version: &str, repo_url: &str) -> PathBuf {
    maven.project(
        "app",
        name,
        &[("LIB_VERSION", lib_version), ("REPO_URL", repo_url)],
    )
}

/// The Maven packages of project `id` as `name@version`, with each one's JSON.
fn maven_packages(server: &Server, id: i64, token: &str) -> Vec<(String, Value)> {
    let listed = server.curl(&[
        "-H",
        &pat(token),
        &server.api(&format!(
            "/projects/{id}/packages?package_type=maven&per_page=100"
        )),
    ]);
    assert_eq!(listed.status, 200, "{}", listed.text());
    listed
        .json()
        .as_array()
        .expect("packages array")
        .iter()
        .map(|p| {
            (
                format!(
                    "{}@{}",
                    p["name"].as_str().unwrap_or_default(),
                    p["version"].as_str().unwrap_or_default()
                ),
                p.clone(),
            )
        })
        .collect()
}

/// The file names of the package `name@version` of project `id`, sorted.
fn package_file_names(server: &Server, id: i64, token: &str, name_at_version: &str) -> Vec<String> {
    let packages = maven_packages(server, id, token);
    let Some((_, package)) = packages.iter().find(|(n, _)| n == name_at_version) else {
        panic!(
            "no package {name_at_version} in {:?}",
            packages.iter().map(|(n, _)| n).collect::<Vec<_>>()
        );
    };
    let files = server.curl(&[
        "-H",
        &pat(token),
        &server.api(&format!(
            "/projects/{id}/packages/{}/package_files?per_page=100",
            package["id"]
        )),
    ]);
    assert_eq!(files.status, 200, "{}", files.text());
    let mut names: Vec<String> = files
        .json()
        .as_array()
        .expect("files array")
        .iter()
        .map(|f| f["file_name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

/// GET `url` with `token`; the body as text, asserting a 200.
fn get_text(server: &Server, token: &str, url: &str) -> String {
    let got = server.curl(&["-H", &pat(token), url]);
    assert_eq!(got.status, 200, "GET {url}: {}", got.text());
    got.text()
}

#[test]
fn a_private_token_deploys_and_the_app_builds_from_project_group_and_instance() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let url = project_url(&server, id);
    let settings = maven.settings("pat", Auth::Header("Private-Token", &token));
    let lib = lib_project(&maven, "lib", "1.0.0", "hello from 1.0.0", &url);
    let started = Instant::now();
    maven.mvn_ok(&server, &lib, &settings, "m2-lib", &["deploy"]);
    // Not asserted (no timings in tests): the wall time of compile, package and upload. A
    // server that does not answer `Expect: 100-continue` adds 3 s per PUT (12 PUTs here:
    // pom, jar, sources jar and metadata, each with .sha1 and .md5).
    eprintln!("mvn deploy took {:?}", started.elapsed());

    assert_eq!(
        package_file_names(&server, id, &token, &format!("{LIB}@1.0.0")),
        ["lib-1.0.0-sources.jar", "lib-1.0.0.jar", "lib-1.0.0.pom"],
        "the files of the release (checksums and metadata are derived, not stored)"
    );
    let metadata = get_text(&server, &token, &format!("{url}/{LIB}/maven-metadata.xml"));
    assert!(
        metadata.contains("<groupId>com.example.packyard</groupId>")
            && metadata.contains("<artifactId>lib</artifactId>")
            && metadata.contains("<version>1.0.0</version>")
            && metadata.contains("<release>1.0.0</release>"),
        "{metadata}"
    );
    let jar_sha1 = get_text(
        &server,
        &token,
        &format!("{url}/{LIB}/1.0.0/lib-1.0.0.jar.sha1"),
    );
    assert_eq!(jar_sha1.trim(), sha1_hex(&lib.join("target/lib-1.0.0.jar")));

    for (name, repo_url) in [
        ("project", url.clone()),
        ("group", group_url(&server)),
        ("instance", instance_url(&server)),
    ] {
        let app = app_project(&maven, &format!("app-{name}"), "1.0.0", &repo_url);
        let repo = format!("m2-app-{name}");
        maven.mvn_ok(&server, &app, &settings, &repo, &["package"]);
        assert_eq!(
            maven.run_app(&app, &repo, "1.0.0"),
            "hello from 1.0.0",
            "the app built from the {name} endpoint"
        );
    }
}

#[test]
fn a_deploy_token_over_basic_and_a_ci_job_token_deploy() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let url = project_url(&server, id);
    let deploy = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "maven-ci",
        "--scopes",
        "read_package_registry,write_package_registry",
    ]);
    let basic = maven.settings("deploy", Auth::Basic("deployer", &deploy));
    let lib = lib_project(&maven, "lib", "1.1.0", "deployed over Basic", &url);
    maven.mvn_ok(&server, &lib, &basic, "m2-lib", &["deploy"]);

    let minted = server.curl(&[
        "-X",
        "POST",
        "-H",
        &pat(&token),
        "--data",
        "pipeline_id=77&job_id=770&ref=main&sha=0123456789abcdef0123456789abcdef01234567",
        &server.api(&format!("/projects/{id}/ci/job_token")),
    ]);
    assert_eq!(minted.status, 201, "job token: {}", minted.text());
    let job = minted.json()["token"]
        .as_str()
        .expect("job token")
        .to_string();
    let job_settings = maven.settings("job", Auth::Header("Job-Token", &job));
    let lib = lib_project(&maven, "lib", "1.2.0", "deployed by CI", &url);
    maven.mvn_ok(&server, &lib, &job_settings, "m2-lib", &["deploy"]);

    let packages = maven_packages(&server, id, &token);
    let mut names: Vec<&str> = packages.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, [format!("{LIB}@1.1.0"), format!("{LIB}@1.2.0")]);
    let (_, by_ci) = packages
        .iter()
        .find(|(n, _)| n.ends_with("@1.2.0"))
        .expect("1.2.0");
    assert_eq!(
        by_ci["pipeline"]["id"], 77,
        "the CI build is recorded: {by_ci}"
    );
    let metadata = get_text(&server, &token, &format!("{url}/{LIB}/maven-metadata.xml"));
    assert!(
        metadata.contains("<version>1.1.0</version>")
            && metadata.contains("<version>1.2.0</version>")
            && metadata.contains("<release>1.2.0</release>"),
        "{metadata}"
    );

    // The deploy token reads too: Maven sends Basic on GET only after the 401 challenge.
    let got = maven.mvn(
        &maven.path("."),
        &basic,
        "m2-get",
        &[
            "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
            "-Dartifact=com.example.packyard:lib:1.2.0",
            &format!("-DremoteRepositories=packyard::default::{url}"),
            "-Dtransitive=false",
        ],
    );
    assert!(got.ok, "dependency:get with Basic:\n{}", got.output);
    let fetched = maven.path("m2-get").join(LIB).join("1.2.0/lib-1.2.0.jar");
    assert_eq!(
        sha1_hex(&fetched),
        sha1_hex(&lib.join("target/lib-1.2.0.jar"))
    );
}

#[test]
fn snapshots_add_builds_and_dependents_get_the_newest_and_u_picks_up_a_third() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let url = project_url(&server, id);
    let settings = maven.settings("pat", Auth::Header("Private-Token", &token));
    let lib = lib_project(&maven, "lib", "1.0-SNAPSHOT", "snapshot build 1", &url);
    maven.mvn_ok(&server, &lib, &settings, "m2-lib", &["deploy"]);
    set_greeting(&lib, "snapshot build 2");
    maven.mvn_ok(&server, &lib, &settings, "m2-lib", &["deploy"]);

    let version_metadata = |server: &Server| {
        get_text(
            server,
            &token,
            &format!("{url}/{LIB}/1.0-SNAPSHOT/maven-metadata.xml"),
        )
    };
    let metadata = version_metadata(&server);
    assert!(
        metadata.contains("<buildNumber>2</buildNumber>")
            && metadata.contains("<version>1.0-SNAPSHOT</version>"),
        "{metadata}"
    );
    let files = package_file_names(&server, id, &token, &format!("{LIB}@1.0-SNAPSHOT"));
    let jars: Vec<&String> = files
        .iter()
        .filter(|f| f.ends_with(".jar") && !f.ends_with("-sources.jar"))
        .collect();
    assert_eq!(jars.len(), 2, "two timestamped builds: {files:?}");
    assert!(
        jars.iter()
            .all(|j| j.starts_with("lib-1.0-") && !j.contains("SNAPSHOT")),
        "timestamped file names: {files:?}"
    );

    let app = app_project(&maven, "app", "1.0-SNAPSHOT", &url);
    maven.mvn_ok(&server, &app, &settings, "m2-app", &["package"]);
    assert_eq!(
        maven.run_app(&app, "m2-app", "1.0-SNAPSHOT"),
        "snapshot build 2"
    );

    set_greeting(&lib, "snapshot build 3");
    maven.mvn_ok(&server, &lib, &settings, "m2-lib", &["deploy"]);
    assert!(
        version_metadata(&server).contains("<buildNumber>3</buildNumber>"),
        "{}",
        version_metadata(&server)
    );
    maven.mvn_ok(&server, &app, &settings, "m2-app", &["-U", "package"]);
    assert_eq!(
        maven.run_app(&app, "m2-app", "1.0-SNAPSHOT"),
        "snapshot build 3",
        "-U fetched the third build"
    );
}

#[test]
fn deploy_file_with_a_classifier_and_dependency_get_of_an_exact_version() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let url = project_url(&server, id);
    let settings = maven.settings("pat", Auth::Header("Private-Token", &token));
    let file = packyard_e2e::random_file(maven.dir.path(), "tools.zip", 50_000);
    maven.mvn_ok(
        &server,
        maven.dir.path(),
        &settings,
        "m2-deploy",
        &[
            "org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file",
            &format!("-Dfile={}", path_str(&file)),
            "-DgroupId=com.example.packyard",
            "-DartifactId=tools",
            "-Dversion=2.0.0",
            "-Dpackaging=zip",
            "-Dclassifier=linux-x86_64",
            "-DgeneratePom=true",
            "-DrepositoryId=packyard",
            &format!("-Durl={url}"),
        ],
    );
    assert_eq!(
        package_file_names(&server, id, &token, "com/example/packyard/tools@2.0.0"),
        ["tools-2.0.0-linux-x86_64.zip", "tools-2.0.0.pom"]
    );

    // From the group endpoint, into a fresh local repository.
    maven.mvn_ok(
        &server,
        maven.dir.path(),
        &settings,
        "m2-get",
        &[
            "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
            "-Dartifact=com.example.packyard:tools:2.0.0:zip:linux-x86_64",
            &format!(
                "-DremoteRepositories=packyard::default::{}",
                group_url(&server)
            ),
        ],
    );
    let fetched = maven
        .path("m2-get")
        .join("com/example/packyard/tools/2.0.0/tools-2.0.0-linux-x86_64.zip");
    assert_eq!(
        fs::read(&fetched).expect("the fetched zip"),
        fs::read(&file).expect("the deployed zip")
    );
}

#[test]
fn redeploying_a_release_is_refused_with_a_reason_until_the_group_allows_duplicates() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let url = project_url(&server, id);
    let settings = maven.settings("pat", Auth::Header("Private-Token", &token));
    let lib = lib_project(&maven, "lib", "1.0.0", "first", &url);
    maven.mvn_ok(&server, &lib, &settings, "m2-lib", &["deploy"]);

    set_greeting(&lib, "second");
    let refused = maven.mvn(&lib, &settings, "m2-lib", &["deploy"]);
    assert!(
        !refused.ok,
        "a re-deploy of 1.0.0 passed:\n{}",
        refused.output
    );
    assert!(
        refused.output.contains("400")
            && refused.output.contains("Duplicate package is not allowed"),
        "mvn shows the reason:\n{}",
        refused.output
    );
    let served = server.curl(&[
        "-H",
        &pat(&token),
        &format!("{url}/{LIB}/1.0.0/lib-1.0.0.jar"),
    ]);
    assert_eq!(served.status, 200);
    assert_ne!(
        served.body,
        fs::read(lib.join("target/lib-1.0.0.jar")).expect("jar"),
        "the refused build replaced nothing"
    );

    let owner = server.create_user_with_token("owner");
    server.add_member(GROUP, "owner", 50);
    let put = server.curl(&[
        "-X",
        "PUT",
        "-H",
        &pat(&owner),
        "-H",
        "Content-Type: application/json",
        "--data",
        r#"{"maven_duplicates_allowed": true}"#,
        &server.api(&format!("/groups/{GROUP}/packages/settings")),
    ]);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        put.json()["maven_duplicates_allowed"],
        true,
        "{}",
        put.text()
    );

    maven.mvn_ok(&server, &lib, &settings, "m2-lib", &["deploy"]);
    let served = server.curl(&[
        "-H",
        &pat(&token),
        &format!("{url}/{LIB}/1.0.0/lib-1.0.0.jar"),
    ]);
    assert_eq!(
        served.body,
        fs::read(lib.join("target/lib-1.0.0.jar")).expect("jar"),
        "the allowed re-deploy is what the server serves"
    );
}

#[test]
fn gradle_publishes_to_the_project_and_resolves_from_the_group() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let vars = |url: &str| -> Vec<(&'static str, String)> {
        vec![
            ("VERSION", "2.0.0".to_string()),
            ("GREETING", "built with gradle".to_string()),
            ("REPO_URL", url.to_string()),
            ("USER", "dev".to_string()),
            ("PASSWORD", token.clone()),
        ]
    };
    let lib_vars = vars(&project_url(&server, id));
    let lib = maven.project("gradle-lib", "gradle-lib", &borrowed(&lib_vars));
    gradle_ok(
        &server,
        &maven,
        &lib,
        "gradle-home-lib",
        &["publishPackyardPublicationToPackyardRepository"],
    );
    let files = package_file_names(&server, id, &token, "com/example/gradle/gradle-lib@2.0.0");
    for expected in ["gradle-lib-2.0.0.jar", "gradle-lib-2.0.0.pom"] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} in {files:?}"
        );
    }

    let app_vars = vars(&group_url(&server));
    let app = maven.project("gradle-app", "gradle-app", &borrowed(&app_vars));
    gradle_ok(
        &server,
        &maven,
        &app,
        "gradle-home-app",
        &["writeClasspath"],
    );
    let classpath = fs::read_to_string(app.join("build/classpath.txt")).expect("classpath.txt");
    assert_eq!(
        java(&["-cp", classpath.trim(), "com.example.gradleapp.Main"]),
        "built with gradle"
    );
}

fn borrowed<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `gradle --no-daemon -q ARGS` in `dir` with its own `GRADLE_USER_HOME`; must succeed.
fn gradle_ok(server: &Server, maven: &Maven, dir: &Path, home: &str, args: &[&str]) {
    let mut cmd = Command::new(gradle_bin());
    cmd.args(["--no-daemon", "-q", "--stacktrace"])
        .args(args)
        .current_dir(dir)
        .env("GRADLE_USER_HOME", maven.path(home))
        .env_remove("GRADLE_OPTS")
        .env_remove("JAVA_OPTS");
    let run = run(cmd, "gradle");
    assert!(
        run.ok,
        "gradle {args:?} failed:\n{}\n--- server log ---\n{}",
        run.output,
        server.log()
    );
}

#[test]
fn ivy_resolves_through_an_m2_resolver_and_publishes_a_module() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let url = project_url(&server, id);
    let settings = maven.settings("pat", Auth::Header("Private-Token", &token));
    let lib = lib_project(&maven, "lib", "1.0.0", "resolved by ivy", &url);
    maven.mvn_ok(&server, &lib, &settings, "m2-lib", &["deploy"]);

    let group = group_url(&server);
    let cache = maven.path("ivy-cache");
    let cache = path_str(&cache);
    let ivy = maven.project(
        "ivy",
        "ivy",
        &[
            ("USER", "dev"),
            ("PASSWORD", &token),
            ("CACHE_DIR", &cache),
            ("REPO_URL", &group),
            ("PUBLISH_URL", &url),
            ("VERSION", "3.0.0"),
        ],
    );
    let resolved = ivy_run(
        &ivy,
        &[
            "-dependency",
            "com.example.packyard",
            "lib",
            "1.0.0",
            "-retrieve",
            "retrieved/[artifact]-[revision](-[classifier]).[ext]",
        ],
    );
    assert!(
        resolved.ok,
        "ivy -dependency failed:\n{}\n--- server log ---\n{}",
        resolved.output,
        server.log()
    );
    assert_eq!(
        sha1_hex(&ivy.join("retrieved/lib-1.0.0.jar")),
        sha1_hex(&lib.join("target/lib-1.0.0.jar"))
    );

    fs::create_dir_all(ivy.join("dist")).expect("dist");
    let jar = packyard_e2e::random_file(&ivy.join("dist"), "ivy-tool-3.0.0.jar", 3000);
    let published = ivy_run(
        &ivy,
        &[
            "-ivy",
            "ivy.xml",
            "-publish",
            "publish",
            "-publishpattern",
            "dist/[artifact]-[revision].[ext]",
            "-revision",
            "3.0.0",
            // Ivy checks each checksum file before it uploads it, and the server answers
            // the `.sha1` of every stored file from its digest: without `-overwrite` Ivy
            // stops with "destination file exists and overwrite == false".
            "-overwrite",
        ],
    );
    assert!(
        published.ok,
        "ivy -publish failed:\n{}\n--- server log ---\n{}",
        published.output,
        server.log()
    );
    let files = package_file_names(&server, id, &token, "com/example/ivy/ivy-tool@3.0.0");
    assert!(files.iter().any(|f| f == "ivy-tool-3.0.0.jar"), "{files:?}");
    let served = server.curl(&[
        "-H",
        &pat(&token),
        &format!("{url}/com/example/ivy/ivy-tool/3.0.0/ivy-tool-3.0.0.jar"),
    ]);
    assert_eq!(served.status, 200);
    assert_eq!(served.body, fs::read(&jar).expect("jar"));
}

/// `java -jar ivy.jar -settings ivysettings.xml ARGS` in `dir`.
fn ivy_run(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new("java");
    cmd.arg("-jar")
        .arg(ivy_jar())
        .args(["-settings", "ivysettings.xml"])
        .args(args)
        .current_dir(dir);
    run(cmd, "ivy")
}

#[test]
fn reporters_read_only_deploy_tokens_and_anonymous_callers_are_refused_as_maven_prints() {
    let (server, id, token) = setup();
    let maven = Maven::new();
    let url = project_url(&server, id);
    let dev = maven.settings("pat", Auth::Header("Private-Token", &token));
    let lib = lib_project(&maven, "lib", "1.0.0", "private", &url);
    maven.mvn_ok(&server, &lib, &dev, "m2-lib", &["deploy"]);
    let lib = lib_project(&maven, "lib-next", "1.0.1", "not allowed", &url);

    let reporter = server.create_user_with_token("reporter");
    server.add_member(PROJECT, "reporter", 20);
    let as_reporter = maven.settings("reporter", Auth::Header("Private-Token", &reporter));
    let denied = maven.mvn(&lib, &as_reporter, "m2-lib", &["deploy"]);
    assert!(!denied.ok, "a Reporter deployed:\n{}", denied.output);
    assert!(
        denied.output.contains("403"),
        "mvn shows 403:\n{}",
        denied.output
    );

    let read_only = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "reader",
        "--scopes",
        "read_package_registry",
    ]);
    let as_reader = maven.settings("reader", Auth::Basic("reader", &read_only));
    let denied = maven.mvn(&lib, &as_reader, "m2-lib", &["deploy"]);
    assert!(
        !denied.ok,
        "a read-only deploy token deployed:\n{}",
        denied.output
    );
    assert!(
        denied.output.contains("403"),
        "mvn shows 403:\n{}",
        denied.output
    );
    assert!(
        !maven_packages(&server, id, &token)
            .iter()
            .any(|(n, _)| n.ends_with("@1.0.1")),
        "nothing of 1.0.1 is stored"
    );

    // Anonymous: the private project answers 401 (and Maven has no credentials to retry with).
    let anonymous = maven.settings("anonymous", Auth::Anonymous);
    let app = app_project(&maven, "app", "1.0.0", &url);
    let failed = maven.mvn(&app, &anonymous, "m2-anon", &["package"]);
    assert!(
        !failed.ok,
        "an anonymous build resolved a private library:\n{}",
        failed.output
    );
    assert!(
        failed.output.contains("401"),
        "mvn shows 401:\n{}",
        failed.output
    );

    // An artifact nobody deployed: 404, which Maven reports as not found.
    let missing = maven.mvn(
        maven.dir.path(),
        &dev,
        "m2-missing",
        &[
            "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
            "-Dartifact=com.example.packyard:nope:1.0.0",
            &format!("-DremoteRepositories=packyard::default::{url}"),
        ],
    );
    assert!(
        !missing.ok,
        "a missing artifact resolved:\n{}",
        missing.output
    );
    assert!(
        missing.output.contains("com.example.packyard:nope:"),
        "mvn names the missing artifact:\n{}",
        missing.output
    );
    let not_found = server.curl(&[
        "-H",
        &pat(&token),
        &format!("{url}/com/example/packyard/nope/1.0.0/nope-1.0.0.pom"),
    ]);
    assert_eq!(not_found.status, 404);
}
