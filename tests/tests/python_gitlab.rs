//! python-gitlab (spec §5) against the real server: the calls GitLab users script with.
//! Scripts run with the venv python (`PACKYARD_E2E_PYTHON`), print JSON, and Rust asserts.

use packyard_e2e::{random_file, sha256sum, Server};

const PROJECT: &str = "grp/proj";

fn setup() -> (Server, String) {
    let server = Server::start();
    server.create_project(PROJECT, "private");
    let token = server.create_user_with_token("maintainer");
    server.add_member(PROJECT, "maintainer", 40);
    (server, token)
}

#[test]
fn python_gitlab_authenticates_and_finds_project_by_path() {
    let (server, token) = setup();
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
gl.auth()
project = gl.projects.get("grp/proj")
print(json.dumps({"username": gl.user.username, "user_id": gl.user.id,
                  "project_id": project.id, "path": project.path_with_namespace}))
"#,
        &token,
        &[],
    );
    assert_eq!(out["username"], "maintainer", "{out}");
    assert!(out["user_id"].is_i64(), "{out}");
    assert_eq!(out["path"], PROJECT, "{out}");
    assert!(out["project_id"].is_i64(), "{out}");
}

#[test]
fn python_gitlab_generic_upload_and_download_roundtrip() {
    let (server, token) = setup();
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "artifact.tar.gz", 300_000);
    let out = server.python(
        r#"
import hashlib, json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
gl.auth()
project = gl.projects.get("grp/proj")
up = project.generic_packages.upload(package_name="artifact", package_version="1.2.3",
                                     file_name="artifact.tar.gz", path=os.environ["FILE"])
data = project.generic_packages.download(package_name="artifact", package_version="1.2.3",
                                         file_name="artifact.tar.gz")
print(json.dumps({"upload": up.attributes, "sha256": hashlib.sha256(data).hexdigest(),
                  "size": len(data)}))
"#,
        &token,
        &[("FILE", file.to_str().expect("utf-8"))],
    );
    assert_eq!(out["upload"]["message"], "201 Created", "{out}");
    assert_eq!(out["upload"]["package_name"], "artifact", "{out}");
    assert_eq!(out["size"], 300_000, "{out}");
    assert_eq!(out["sha256"], sha256sum(&file).as_str(), "{out}");
}

#[test]
fn python_gitlab_lists_and_deletes_package_files_and_packages() {
    let (server, token) = setup();
    let dir = tempfile::tempdir().expect("tmp");
    let one = random_file(dir.path(), "one.bin", 1111);
    let two = random_file(dir.path(), "two.bin", 2222);
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
gl.auth()
project = gl.projects.get("grp/proj")
for name in ("one.bin", "two.bin"):
    project.generic_packages.upload(package_name="bundle", package_version="0.9.0",
                                    file_name=name, path=os.environ[name])
# A second package that must survive deleting the first.
project.generic_packages.upload(package_name="other", package_version="1.0.0",
                                file_name="one.bin", path=os.environ["one.bin"])
listed = project.packages.list(package_type="generic", package_name="bundle")
pkg = project.packages.get(listed[0].id)
files = pkg.package_files.list()
before = sorted([{"file_name": f.file_name, "size": f.size} for f in files],
                key=lambda f: f["file_name"])
one = [f for f in files if f.file_name == "one.bin"][0]
pkg.package_files.delete(one.id)
after_file_delete = sorted(f.file_name for f in pkg.package_files.list())
project.packages.delete(pkg.id)
after_delete = [p.name for p in project.packages.list(package_type="generic", package_name="bundle")]
remaining = sorted(p.name for p in project.packages.list(get_all=True))
print(json.dumps({
    "listed": [{"name": p.name, "version": p.version, "package_type": p.package_type}
               for p in listed],
    "files": before,
    "after_file_delete": after_file_delete,
    "after_delete": after_delete,
    "remaining": remaining,
}))
"#,
        &token,
        &[
            ("one.bin", one.to_str().expect("utf-8")),
            ("two.bin", two.to_str().expect("utf-8")),
        ],
    );
    assert_eq!(
        out["listed"],
        serde_json::json!([{"name": "bundle", "version": "0.9.0", "package_type": "generic"}]),
        "{out}"
    );
    assert_eq!(
        out["files"],
        serde_json::json!([
            {"file_name": "one.bin", "size": 1111},
            {"file_name": "two.bin", "size": 2222},
        ]),
        "{out}"
    );
    assert_eq!(
        out["after_file_delete"],
        serde_json::json!(["two.bin"]),
        "{out}"
    );
    assert_eq!(out["after_delete"], serde_json::json!([]), "{out}");
    assert_eq!(out["remaining"], serde_json::json!(["other"]), "{out}");
}

#[test]
fn python_gitlab_reports_authentication_error_for_bad_token() {
    let server = Server::start();
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token="glpat-wrong")
try:
    gl.auth()
    print(json.dumps({"error": None}))
except gitlab.exceptions.GitlabAuthenticationError as e:
    print(json.dumps({"error": type(e).__name__, "code": e.response_code}))
"#,
        "unused",
        &[],
    );
    assert_eq!(out["error"], "GitlabAuthenticationError", "{out}");
    assert_eq!(out["code"], 401, "{out}");
}
