//! The Packages API (spec §3, §5, §6.2, §6.3) against the real binary: python-gitlab's
//! package calls, the curl recipes of GitLab's packages-API and generic-packages docs (only
//! the host changed), protection rules enforced on publish and delete, the group package
//! settings and the cleanup policy (REST extensions), and who may publish.

use std::path::Path;
use std::time::{Duration, Instant};

use packyard_e2e::{random_file, Response, Server};
use serde_json::{json, Value};

fn pat(token: &str) -> String {
    format!("PRIVATE-TOKEN: {token}")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `curl --header "PRIVATE-TOKEN: ..." --upload-file FILE URL`, as the generic docs show.
fn upload(
    server: &Server,
    auth: &str,
    project: &str,
    name: &str,
    version: &str,
    file: &Path,
) -> Response {
    let file_name = file
        .file_name()
        .and_then(|f| f.to_str())
        .expect("file name");
    let url = server.api(&format!(
        "/projects/{}/packages/generic/{name}/{version}/{file_name}",
        project.replace('/', "%2F")
    ));
    server.curl(&["--header", auth, "--upload-file", path_str(file), &url])
}

fn created(r: &Response) {
    assert_eq!(r.status, 201, "upload: {}", r.text());
}

/// `grp` (public) with `grp/app` and `grp/secret`, `grp/sub` with `grp/sub/lib`, all
/// private; `maint` is Maintainer of app and lib, not of secret.
fn group_setup(env: &[(&str, &str)]) -> (Server, String) {
    let server = Server::start_with(env);
    server.create_project("grp/app", "private");
    server.create_project("grp/secret", "private");
    server.admin(&[
        "create-group",
        "--path",
        "grp/sub",
        "--visibility",
        "public",
    ]);
    server.create_project("grp/sub/lib", "private");
    let token = server.create_user_with_token("maint");
    server.add_member("grp/app", "maint", 40);
    server.add_member("grp/sub/lib", "maint", 40);
    (server, token)
}

fn mint_job_token(server: &Server, token: &str, project: &str, pipeline: i64) -> String {
    let minted = server.curl(&[
        "--request",
        "POST",
        "--header",
        &pat(token),
        "--data",
        &format!(
            "pipeline_id={pipeline}&job_id={}&ref=main&sha={:040x}",
            pipeline * 10,
            pipeline
        ),
        &server.api(&format!(
            "/projects/{}/ci/job_token",
            project.replace('/', "%2F")
        )),
    ]);
    assert_eq!(minted.status, 201, "job token: {}", minted.text());
    minted.json()["token"].as_str().expect("token").to_string()
}

#[test]
fn python_gitlab_lists_project_and_group_packages_files_and_pipelines_then_deletes() {
    let (server, token) = group_setup(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let f = |name: &str, size: usize| random_file(dir.path(), name, size);
    let auth = pat(&token);
    for (name, version) in [
        ("alpha", "1.0"),
        ("beta", "1.0"),
        ("beta", "2.0"),
        ("gamma", "0.1"),
    ] {
        created(&upload(
            &server,
            &auth,
            "grp/app",
            name,
            version,
            &f("a.bin", 100),
        ));
    }
    created(&upload(
        &server,
        &auth,
        "grp/app",
        "alpha",
        "1.0",
        &f("b.bin", 200),
    ));
    created(&upload(
        &server,
        &auth,
        "grp/sub/lib",
        "libthing",
        "3.0",
        &f("l.bin", 10),
    ));
    // A package in a project maint cannot read: never listed for maint.
    created(&upload(
        &server,
        &pat(&server.root_token),
        "grp/secret",
        "hidden-away",
        "1.0",
        &f("s.bin", 10),
    ));
    // A CI job publishes: the package gets a pipeline.
    let job = mint_job_token(&server, &token, "grp/app", 4242);
    created(&upload(
        &server,
        &format!("JOB-TOKEN: {job}"),
        "grp/app",
        "built",
        "1.0",
        &f("c.bin", 10),
    ));
    // A second pipeline publishes another file: pipelines page with a keyset cursor.
    let job = mint_job_token(&server, &token, "grp/app", 4343);
    created(&upload(
        &server,
        &format!("JOB-TOKEN: {job}"),
        "grp/app",
        "built",
        "1.0",
        &f("d.bin", 10),
    ));

    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
app = gl.projects.get("grp/app", lazy=True)
names = lambda ps: [p.name + "@" + p.version for p in ps]
out = {}
out["all"] = names(app.packages.list(get_all=True, per_page=2))
out["iter"] = names(app.packages.list(iterator=True, per_page=2))
out["by_name_desc"] = names(app.packages.list(get_all=True, order_by="name", sort="desc"))
out["name_filter"] = names(app.packages.list(get_all=True, package_name="BET", package_type="generic"))
out["version_filter"] = names(app.packages.list(get_all=True, package_version="2.0"))
page = app.packages.list(page=2, per_page=2)
out["page2"] = names(page)
grp = gl.groups.get("grp", lazy=True)
gp = grp.packages.list(get_all=True, per_page=3)
out["group"] = sorted(p.project_path + ":" + p.name for p in gp)
out["group_ids"] = sorted(set(p.project_id for p in gp))
out["group_no_sub"] = sorted(p.name for p in grp.packages.list(get_all=True, exclude_subgroups=True))
out["group_by_path"] = [p.project_path for p in grp.packages.list(get_all=True, order_by="project_path", sort="desc")]
alpha = [p for p in app.packages.list(get_all=True) if p.name == "alpha"][0]
pkg = app.packages.get(alpha.id)
out["alpha_links"] = pkg._links
files = pkg.package_files.list(get_all=True)
out["files"] = sorted((x.file_name, x.size) for x in files)
built = [p for p in app.packages.list(get_all=True) if p.name == "built"][0]
out["built_pipeline"] = built.pipeline
pipes = app.packages.get(built.id).pipelines.list(get_all=True, per_page=1)
out["pipelines"] = [{"id": p.id, "ref": p.ref, "sha": p.sha, "user": p.user["username"]} for p in pipes]
beta2 = [p for p in app.packages.list(get_all=True) if p.name == "beta" and p.version == "2.0"][0]
out["beta_versions"] = [v["version"] for v in app.packages.get(beta2.id).versions]
# Delete one file of alpha, then the whole beta 1.0.
files[0].delete()
out["files_after"] = len(pkg.package_files.list(get_all=True))
beta1 = [p for p in app.packages.list(get_all=True) if p.name == "beta" and p.version == "1.0"][0]
app.packages.delete(beta1.id)
out["after_delete"] = names(app.packages.list(get_all=True))
try:
    app.packages.get(beta1.id)
    out["deleted_get"] = "found"
except gitlab.exceptions.GitlabGetError as e:
    out["deleted_get"] = e.response_code
print(json.dumps(out))
"#,
        &token,
        &[],
    );
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("array expected: {v}"))
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let created_order = [
        "alpha@1.0",
        "beta@1.0",
        "beta@2.0",
        "gamma@0.1",
        "built@1.0",
    ];
    assert_eq!(strings(&out["all"]), created_order, "{out}");
    assert_eq!(strings(&out["iter"]), created_order, "{out}");
    assert_eq!(strings(&out["page2"]), ["beta@2.0", "gamma@0.1"], "{out}");
    assert_eq!(
        strings(&out["by_name_desc"]),
        [
            "gamma@0.1",
            "built@1.0",
            "beta@2.0",
            "beta@1.0",
            "alpha@1.0"
        ],
        "{out}"
    );
    assert_eq!(
        strings(&out["name_filter"]),
        ["beta@1.0", "beta@2.0"],
        "{out}"
    );
    assert_eq!(strings(&out["version_filter"]), ["beta@2.0"], "{out}");
    assert_eq!(
        strings(&out["group"]),
        [
            "grp/app:alpha",
            "grp/app:beta",
            "grp/app:beta",
            "grp/app:built",
            "grp/app:gamma",
            "grp/sub/lib:libthing"
        ],
        "the group listing covers subgroups and only readable projects: {out}"
    );
    assert_eq!(out["group_ids"].as_array().map(Vec::len), Some(2), "{out}");
    assert_eq!(
        strings(&out["group_no_sub"]),
        ["alpha", "beta", "beta", "built", "gamma"],
        "{out}"
    );
    assert_eq!(strings(&out["group_by_path"])[0], "grp/sub/lib", "{out}");
    assert!(
        out["alpha_links"]["delete_api_path"]
            .as_str()
            .is_some_and(|u| u.starts_with(&server.url)),
        "{out}"
    );
    assert_eq!(
        out["files"],
        json!([["a.bin", 100], ["b.bin", 200]]),
        "{out}"
    );
    assert_eq!(out["built_pipeline"]["id"], 4343, "the newest build: {out}");
    assert_eq!(
        out["pipelines"],
        json!([
            {"id": 4343, "ref": "main", "sha": format!("{:040x}", 4343), "user": "maint"},
            {"id": 4242, "ref": "main", "sha": format!("{:040x}", 4242), "user": "maint"}
        ]),
        "{out}"
    );
    assert_eq!(strings(&out["beta_versions"]), ["1.0"], "{out}");
    assert_eq!(out["files_after"], 1, "{out}");
    assert_eq!(
        strings(&out["after_delete"]),
        ["alpha@1.0", "beta@2.0", "gamma@0.1", "built@1.0"],
        "{out}"
    );
    assert_eq!(out["deleted_get"], 404, "{out}");
}

#[test]
fn python_gitlab_protection_rules_block_developers_and_deploy_tokens_until_removed() {
    let (server, maint) = group_setup(&[]);
    let dev = server.create_user_with_token("dev");
    server.add_member("grp/app", "dev", 30);
    let deploy = server.admin(&[
        "create-deploy-token",
        "--path",
        "grp/app",
        "--name",
        "ci",
        "--scopes",
        "read_package_registry,write_package_registry",
    ]);
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
app = gl.projects.get("grp/app", lazy=True)
rule = app.package_protection_rules.create({
    "package_name_pattern": "release-*", "package_type": "generic",
    "minimum_access_level_for_push": "maintainer"})
listed = [r.package_name_pattern for r in app.package_protection_rules.list()]
try:
    app.package_protection_rules.create({"package_name_pattern": "release-*", "package_type": "generic",
        "minimum_access_level_for_push": "owner"})
    dup = "created"
except gitlab.exceptions.GitlabCreateError as e:
    dup = e.response_code
print(json.dumps({"rule": rule.attributes, "listed": listed, "dup": dup}))
"#,
        &maint,
        &[],
    );
    assert_eq!(out["rule"]["package_name_pattern"], "release-*", "{out}");
    assert_eq!(
        out["rule"]["minimum_access_level_for_push"], "maintainer",
        "{out}"
    );
    assert_eq!(
        out["rule"]["minimum_access_level_for_delete"],
        Value::Null,
        "{out}"
    );
    assert_eq!(out["listed"], json!(["release-*"]), "{out}");
    assert_eq!(out["dup"], 422, "{out}");
    let rule_id = out["rule"]["id"].as_i64().expect("rule id");

    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "r.bin", 64);
    let blocked = upload(&server, &pat(&dev), "grp/app", "release-tool", "1.0", &file);
    assert_eq!(
        blocked.expect_error(403),
        "403 Forbidden - Package protected."
    );
    let blocked = upload(
        &server,
        &format!("DEPLOY-TOKEN: {deploy}"),
        "grp/app",
        "Release-Tool",
        "1.0",
        &file,
    );
    assert_eq!(
        blocked.expect_error(403),
        "403 Forbidden - Package protected.",
        "the pattern is case-insensitive and deploy tokens have no role"
    );
    // Not matching: fine for the developer. The Maintainer passes the rule.
    created(&upload(
        &server,
        &pat(&dev),
        "grp/app",
        "tool",
        "1.0",
        &file,
    ));
    created(&upload(
        &server,
        &pat(&maint),
        "grp/app",
        "release-tool",
        "1.0",
        &file,
    ));
    // Nothing half-written: only the maintainer's upload made a file.
    let list = server.curl(&[
        "--header",
        &pat(&maint),
        &server.api("/projects/grp%2Fapp/packages?package_name=release-tool"),
    ]);
    assert_eq!(
        list.json().as_array().map(Vec::len),
        Some(1),
        "{}",
        list.text()
    );

    // PATCH raises push to owner and guards deletes too.
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
app = gl.projects.get("grp/app", lazy=True)
rule = app.package_protection_rules.update(int(os.environ["RULE"]), {
    "minimum_access_level_for_push": "owner", "minimum_access_level_for_delete": "owner"})
pkg = [p for p in app.packages.list(get_all=True) if p.name == "release-tool"][0]
try:
    app.packages.delete(pkg.id)
    deleted = "deleted"
except gitlab.exceptions.GitlabDeleteError as e:
    deleted = [e.response_code, str(e.error_message)]
print(json.dumps({"rule": rule, "delete": deleted, "pkg": pkg.id}))
"#,
        &maint,
        &[("RULE", &rule_id.to_string())],
    );
    assert_eq!(
        out["rule"]["minimum_access_level_for_push"], "owner",
        "{out}"
    );
    assert_eq!(
        out["delete"],
        json!([403, "403 Forbidden - Package protected."]),
        "{out}"
    );
    let blocked = upload(
        &server,
        &pat(&maint),
        "grp/app",
        "release-tool",
        "1.1",
        &file,
    );
    assert_eq!(
        blocked.expect_error(403),
        "403 Forbidden - Package protected."
    );
    // The admin passes every rule.
    let pkg = out["pkg"].as_i64().expect("pkg id");
    let del = server.curl(&[
        "--request",
        "DELETE",
        "--header",
        &pat(&server.root_token),
        &server.api(&format!("/projects/grp%2Fapp/packages/{pkg}")),
    ]);
    assert_eq!(del.status, 204, "{}", del.text());

    // Developers cannot manage rules; once the rule is gone, the developer publishes.
    let dev_delete = server.curl(&[
        "--request",
        "DELETE",
        "--header",
        &pat(&dev),
        &server.api(&format!(
            "/projects/grp%2Fapp/packages/protection/rules/{rule_id}"
        )),
    ]);
    assert_eq!(dev_delete.expect_error(403), "403 Forbidden");
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
app = gl.projects.get("grp/app", lazy=True)
app.package_protection_rules.delete(int(os.environ["RULE"]))
print(json.dumps({"left": len(app.package_protection_rules.list())}))
"#,
        &maint,
        &[("RULE", &rule_id.to_string())],
    );
    assert_eq!(out["left"], 0, "{out}");
    created(&upload(
        &server,
        &pat(&dev),
        "grp/app",
        "release-tool",
        "2.0",
        &file,
    ));
}

#[test]
fn reporters_read_only_deploy_tokens_and_guests_cannot_publish_and_strangers_see_nothing() {
    let (server, maint) = group_setup(&[]);
    let reporter = server.create_user_with_token("reporter");
    server.add_member("grp/app", "reporter", 20);
    let guest = server.create_user_with_token("guest");
    server.add_member("grp/app", "guest", 10);
    let stranger = server.create_user_with_token("stranger");
    let reader = server.admin(&[
        "create-deploy-token",
        "--path",
        "grp/app",
        "--name",
        "reader",
        "--scopes",
        "read_package_registry",
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "x.bin", 32);
    created(&upload(
        &server,
        &pat(&maint),
        "grp/app",
        "pkg",
        "1.0",
        &file,
    ));

    upload(&server, &pat(&reporter), "grp/app", "pkg", "1.1", &file).expect_error(403);
    upload(
        &server,
        &format!("DEPLOY-TOKEN: {reader}"),
        "grp/app",
        "pkg",
        "1.1",
        &file,
    )
    .expect_error(403);
    upload(&server, &pat(&guest), "grp/app", "pkg", "1.1", &file).expect_error(403);
    let anonymous = server.curl(&[
        "--upload-file",
        path_str(&file),
        &server.api("/projects/grp%2Fapp/packages/generic/pkg/1.1/x.bin"),
    ]);
    anonymous.expect_error(401);

    let list = |auth: &[&str]| {
        let mut args = auth.to_vec();
        let url = server.api("/projects/grp%2Fapp/packages");
        args.push(&url);
        server.curl(&args)
    };
    // The reporter and the read-only deploy token read; a guest of a private project does
    // not pull; a stranger and an anonymous caller do not even see the project.
    assert_eq!(
        list(&["--header", &pat(&reporter)])
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        list(&["--header", &format!("DEPLOY-TOKEN: {reader}")])
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(list(&["--header", &pat(&guest)]).status, 403);
    list(&["--header", &pat(&stranger)]).expect_error(404);
    list(&[]).expect_error(404);
    let download = server.curl(&[
        "--header",
        &pat(&guest),
        &server.api("/projects/grp%2Fapp/packages/generic/pkg/1.0/x.bin"),
    ]);
    assert_eq!(download.status, 403, "{}", download.text());
    // Group listing: the stranger sees the public group but none of its private packages.
    let group = server.curl(&[
        "--header",
        &pat(&stranger),
        &server.api("/groups/grp/packages"),
    ]);
    assert_eq!(group.status, 200, "{}", group.text());
    assert_eq!(group.json(), json!([]));
    // Only a Maintainer deletes.
    let pkg_id = list(&["--header", &pat(&reporter)]).json()[0]["id"]
        .as_i64()
        .expect("id");
    let del = server.curl(&[
        "--request",
        "DELETE",
        "--header",
        &pat(&reporter),
        &server.api(&format!("/projects/grp%2Fapp/packages/{pkg_id}")),
    ]);
    del.expect_error(403);
}

#[test]
fn gitlab_doc_curl_recipes_work_with_only_the_host_changed() {
    let (server, token) = group_setup(&[]);
    let host = &server.url;
    let id = {
        let p = server.curl(&["--header", &pat(&token), &server.api("/projects/grp%2Fapp")]);
        p.json()["id"].as_i64().expect("project id")
    };
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "file.txt", 1234);
    let cd = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .current_dir(dir.path())
            .arg("-sS")
            .args(args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Generic packages docs: publish, publish hidden, publish with select, download.
    let published = cd(&[
        "--location",
        "--header",
        &format!("PRIVATE-TOKEN: {token}"),
        "--upload-file",
        "file.txt",
        &format!("{host}/api/v4/projects/{id}/packages/generic/my_package/0.0.1/file.txt"),
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&published).ok(),
        Some(json!({"message": "201 Created"}))
    );
    let selected = cd(&[
        "--header",
        &format!("PRIVATE-TOKEN: {token}"),
        "--upload-file",
        "file.txt",
        &format!("{host}/api/v4/projects/{id}/packages/generic/my_package/0.0.1/file.txt?select=package_file"),
    ]);
    let selected: Value = serde_json::from_str(&selected).expect("package file JSON");
    assert_eq!(selected["file_name"], "file.txt");
    assert_eq!(selected["size"], 1234);
    cd(&[
        "--header",
        &format!("PRIVATE-TOKEN: {token}"),
        "--upload-file",
        "file.txt",
        &format!("{host}/api/v4/projects/{id}/packages/generic/my_hidden_package/0.0.1/file.txt?status=hidden"),
    ]);
    cd(&[
        "--location",
        "--header",
        &format!("PRIVATE-TOKEN: {token}"),
        &format!("{host}/api/v4/projects/{id}/packages/generic/my_package/0.0.1/file.txt"),
        "--output",
        "downloaded.txt",
    ]);
    assert_eq!(
        std::fs::read(dir.path().join("downloaded.txt")).expect("downloaded"),
        std::fs::read(&file).expect("file")
    );
    cd(&[
        "--location",
        "--user",
        &format!("user:{token}"),
        &format!("{host}/api/v4/projects/{id}/packages/generic/my_package/0.0.1/file.txt"),
        "--output",
        "basic.txt",
    ]);
    assert_eq!(
        std::fs::read(dir.path().join("basic.txt")).expect("downloaded"),
        std::fs::read(&file).expect("file")
    );

    // Packages API docs.
    let get = |url: &str| -> Value {
        let text = cd(&["--header", &format!("PRIVATE-TOKEN: {token}"), url]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
    };
    let listed = get(&format!("{host}/api/v4/projects/{id}/packages"));
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "hidden packages are not listed: {listed}"
    );
    let hidden = get(&format!(
        "{host}/api/v4/projects/{id}/packages?status=hidden"
    ));
    assert_eq!(hidden[0]["name"], "my_hidden_package");
    // The generic docs' lookup recipe: find the package, list its files, download each.
    let found = get(&format!(
        "{host}/api/v4/projects/{id}/packages?package_type=generic&package_name=my_package&package_version=0.0.1"
    ));
    let package_id = found[0]["id"].as_i64().expect("package id");
    let group_list = get(&format!(
        "{host}/api/v4/groups/grp/packages?exclude_subgroups=false"
    ));
    assert_eq!(group_list[0]["project_path"], "grp/app", "{group_list}");
    assert_eq!(group_list[0]["project_id"], id);
    let one = get(&format!(
        "{host}/api/v4/projects/{id}/packages/{package_id}"
    ));
    assert_eq!(one["name"], "my_package");
    assert_eq!(one["versions"], json!([]));
    let files = get(&format!(
        "{host}/api/v4/projects/{id}/packages/{package_id}/package_files"
    ));
    assert_eq!(
        files.as_array().map(Vec::len),
        Some(2),
        "a same-named file is appended: {files}"
    );
    let pipelines = get(&format!(
        "{host}/api/v4/projects/{id}/packages/{package_id}/pipelines"
    ));
    assert_eq!(pipelines, json!([]));
    let file_id = files[0]["id"].as_i64().expect("file id");
    let status = |args: &[&str]| -> String {
        let mut full = vec!["--output", "/dev/null", "--write-out", "%{http_code}"];
        full.extend_from_slice(args);
        cd(&full)
    };
    assert_eq!(
        status(&[
            "--request",
            "DELETE",
            "--header",
            &format!("PRIVATE-TOKEN: {token}"),
            &format!("{host}/api/v4/projects/{id}/packages/{package_id}/package_files/{file_id}"),
        ]),
        "204"
    );
    assert_eq!(
        status(&[
            "--request",
            "DELETE",
            "--header",
            &format!("PRIVATE-TOKEN: {token}"),
            &format!("{host}/api/v4/projects/{id}/packages/{package_id}"),
        ]),
        "204"
    );
    assert_eq!(
        status(&[
            "--header",
            &format!("PRIVATE-TOKEN: {token}"),
            &format!("{host}/api/v4/projects/{id}/packages/{package_id}")
        ]),
        "404"
    );

    // Protection rules API docs (JSON bodies, PATCH, DELETE).
    let rules = format!("{host}/api/v4/projects/{id}/packages/protection/rules");
    let created_rule = cd(&[
        "--request",
        "POST",
        "--header",
        &format!("PRIVATE-TOKEN: {token}"),
        "--header",
        "Content-Type: application/json",
        "--url",
        &rules,
        "--data",
        r#"{"package_name_pattern": "package-name-pattern-*", "package_type": "npm", "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "maintainer"}"#,
    ]);
    let rule: Value = serde_json::from_str(&created_rule).expect("rule JSON");
    assert_eq!(rule["package_type"], "npm", "{rule}");
    let rule_id = rule["id"].as_i64().expect("rule id");
    let patched = cd(&[
        "--request",
        "PATCH",
        "--header",
        &format!("PRIVATE-TOKEN: {token}"),
        "--header",
        "Content-Type: application/json",
        "--url",
        &format!("{rules}/{rule_id}"),
        "--data",
        r#"{"package_name_pattern": "new-package-name-pattern-*"}"#,
    ]);
    let patched: Value = serde_json::from_str(&patched).expect("rule JSON");
    assert_eq!(
        patched["package_name_pattern"],
        "new-package-name-pattern-*"
    );
    assert_eq!(patched["minimum_access_level_for_push"], "maintainer");
    assert_eq!(
        status(&[
            "--request",
            "DELETE",
            "--header",
            &format!("PRIVATE-TOKEN: {token}"),
            "--url",
            &format!("{rules}/{rule_id}")
        ]),
        "204"
    );
    // Bad input: GitLab's parameter errors, never a 500.
    let bad = server.curl(&[
        "--request",
        "POST",
        "--header",
        &pat(&token),
        "--data",
        "package_type=npm",
        &rules,
    ]);
    assert_eq!(bad.expect_error(400), "package_name_pattern is missing");
    let bad = server.curl(&[
        "--request",
        "POST",
        "--header",
        &pat(&token),
        "--data",
        "package_name_pattern=x&package_type=npm&minimum_access_level_for_push=developer",
        &rules,
    ]);
    assert_eq!(
        bad.expect_error(400),
        "minimum_access_level_for_push does not have a valid value"
    );
    let bad = server.curl(&[
        "--header",
        &pat(&token),
        &server.api(&format!("/projects/{id}/packages?order_by=size")),
    ]);
    assert_eq!(
        bad.expect_error(400),
        "order_by does not have a valid value"
    );
    let bad = server.curl(&[
        "--header",
        &pat(&token),
        &server.api("/groups/grp/packages?exclude_subgroups=maybe"),
    ]);
    assert_eq!(
        bad.expect_error(400),
        "exclude_subgroups does not have a valid value"
    );
}

fn file_count(server: &Server, token: &str, project: &str, name: &str) -> usize {
    let list = server.curl(&[
        "--header",
        &pat(token),
        &server.api(&format!(
            "/projects/{}/packages?package_name={name}",
            project.replace('/', "%2F")
        )),
    ]);
    let id = list.json()[0]["id"].as_i64().expect("package id");
    let files = server.curl(&[
        "--header",
        &pat(token),
        &server.api(&format!(
            "/projects/{}/packages/{id}/package_files",
            project.replace('/', "%2F")
        )),
    ]);
    files.json().as_array().map(Vec::len).unwrap_or(0)
}

#[test]
fn cleanup_policy_keeps_the_newest_duplicates_on_schedule_and_on_demand() {
    // The schedule: every second.
    let (server, token) = group_setup(&[("PACKYARD_CLEANUP_INTERVAL_SECS", "1")]);
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "dup.bin", 16);
    for _ in 0..3 {
        created(&upload(
            &server,
            &pat(&token),
            "grp/app",
            "dups",
            "1.0",
            &file,
        ));
    }
    let policy_url = server.api("/projects/grp%2Fapp/packages/cleanup_policy");
    let shown = server.curl(&["--header", &pat(&token), &policy_url]);
    assert_eq!(shown.json()["keep_n_duplicated_package_files"], "all");
    let bad = server.curl(&[
        "--request",
        "PUT",
        "--header",
        &pat(&token),
        "--data",
        "keep_n_duplicated_package_files=2",
        &policy_url,
    ]);
    assert_eq!(
        bad.expect_error(400),
        "keep_n_duplicated_package_files does not have a valid value"
    );
    let set = server.curl(&[
        "--request",
        "PUT",
        "--header",
        &pat(&token),
        "--header",
        "Content-Type: application/json",
        "--data",
        r#"{"keep_n_duplicated_package_files": "1"}"#,
        &policy_url,
    ]);
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(set.json()["keep_n_duplicated_package_files"], "1");
    let deadline = Instant::now() + Duration::from_secs(20);
    while file_count(&server, &token, "grp/app", "dups") > 1 {
        assert!(
            Instant::now() < deadline,
            "the scheduled cleanup did not run:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Developers may not change the policy.
    let dev = server.create_user_with_token("dev");
    server.add_member("grp/app", "dev", 30);
    let denied = server.curl(&[
        "--request",
        "PUT",
        "--header",
        &pat(&dev),
        "--data",
        "keep_n_duplicated_package_files=all",
        &policy_url,
    ]);
    assert_eq!(denied.expect_error(403), "403 Forbidden");
    drop(server);

    // On demand, with the schedule off.
    let (server, token) = group_setup(&[("PACKYARD_CLEANUP_INTERVAL_SECS", "0")]);
    for _ in 0..4 {
        created(&upload(
            &server,
            &pat(&token),
            "grp/sub/lib",
            "dups",
            "1.0",
            &file,
        ));
    }
    let set = server.curl(&[
        "--request",
        "PUT",
        "--header",
        &pat(&token),
        "--data",
        "keep_n_duplicated_package_files=1",
        &server.api("/projects/grp%2Fsub%2Flib/packages/cleanup_policy"),
    ]);
    assert_eq!(set.status, 200, "{}", set.text());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        file_count(&server, &token, "grp/sub/lib", "dups"),
        4,
        "no schedule: nothing ran"
    );
    let out = server.command(&["cleanup"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(report["policies"], 1, "{report}");
    assert_eq!(report["deleted_files"], 3, "{report}");
    assert_eq!(file_count(&server, &token, "grp/sub/lib", "dups"), 1);
}

#[test]
fn group_package_settings_are_owner_only_and_govern_generic_duplicates() {
    let (server, maint) = group_setup(&[]);
    let owner = server.create_user_with_token("owner");
    server.add_member("grp", "owner", 50);
    let settings = server.api("/groups/grp/packages/settings");
    let shown = server.curl(&["--header", &pat(&owner), &settings]);
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(shown.json()["generic_duplicates_allowed"], true);
    assert_eq!(shown.json()["maven_duplicates_allowed"], false);
    assert_eq!(shown.json()["nuget_duplicates_allowed"], false);
    // Only the installed formats that have GitLab's setting (generic, and Maven and NuGet,
    // whose versions are immutable by default): PyPI, npm and Cargo always refuse a version
    // that exists, so they have none.
    let mut fields: Vec<String> = shown
        .json()
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "generic_duplicate_exception_regex",
            "generic_duplicates_allowed",
            "maven_duplicate_exception_regex",
            "maven_duplicates_allowed",
            "nuget_duplicate_exception_regex",
            "nuget_duplicates_allowed"
        ],
        "{}",
        shown.text()
    );
    // A Maintainer of a project is not the group's Owner; a private group hides itself.
    server
        .curl(&["--header", &pat(&maint), &settings])
        .expect_error(403);
    server.admin(&[
        "create-group",
        "--path",
        "hidden",
        "--visibility",
        "private",
    ]);
    server
        .curl(&[
            "--header",
            &pat(&maint),
            &server.api("/groups/hidden/packages/settings"),
        ])
        .expect_error(404);
    let bad = server.curl(&[
        "--request",
        "PUT",
        "--header",
        &pat(&owner),
        "--data",
        "generic_duplicate_exception_regex=(",
        &settings,
    ]);
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert_eq!(
        bad.json(),
        json!({"message": {"generic_duplicate_exception_regex": ["is invalid"]}})
    );
    let put = server.curl(&[
        "--request",
        "PUT",
        "--header",
        &pat(&owner),
        "--header",
        "Content-Type: application/json",
        "--data",
        r#"{"generic_duplicates_allowed": false, "generic_duplicate_exception_regex": ".*-SNAPSHOT", "unknown_field": 1}"#,
        &settings,
    ]);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.json()["generic_duplicates_allowed"], false);
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "d.bin", 8);
    created(&upload(&server, &pat(&maint), "grp/app", "d", "1.0", &file));
    let dup = upload(&server, &pat(&maint), "grp/app", "d", "1.0", &file);
    assert_eq!(dup.status, 400, "{}", dup.text());
    created(&upload(
        &server,
        &pat(&maint),
        "grp/app",
        "d",
        "1.0-SNAPSHOT",
        &file,
    ));
    created(&upload(
        &server,
        &pat(&maint),
        "grp/app",
        "d",
        "1.0-SNAPSHOT",
        &file,
    ));
}
