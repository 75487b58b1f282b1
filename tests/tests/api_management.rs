//! The management API (issue #3 part A; spec §0–§2, §6.1) driven by python-gitlab and curl
//! against the real binary: groups and subgroups, projects of each visibility, members at
//! each level, personal access tokens (create, list, rotate, revoke), deploy tokens of
//! projects and groups, and what each kind of caller may and may not do with packages.

use packyard_e2e::{parse_json, random_file, Response, Server};
use serde_json::Value;

fn pat(token: &str) -> String {
    format!("PRIVATE-TOKEN: {token}")
}

fn json_post(server: &Server, token: &str, path: &str, body: &str) -> Response {
    server.curl(&[
        "-X",
        "POST",
        "-H",
        &pat(token),
        "-H",
        "Content-Type: application/json",
        "--data",
        body,
        &server.api(path),
    ])
}

/// Uploads `file` as a generic package with the given auth header.
fn upload(server: &Server, project: i64, auth: &str, file: &std::path::Path) -> Response {
    let url = server.api(&format!(
        "/projects/{project}/packages/generic/tool/1.0.0/tool.bin"
    ));
    server.curl(&[
        "-H",
        auth,
        "--upload-file",
        file.to_str().expect("utf-8"),
        &url,
    ])
}

#[test]
fn python_gitlab_builds_groups_projects_and_members() {
    let server = Server::start();
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
gl.auth()
users = {}
for name in ("alice", "rita", "gus", "max"):
    attrs = {"username": name, "email": name + "@example.com", "name": name.title()}
    if name == "alice":
        attrs["password"] = "correct horse battery"
    users[name] = gl.users.create(attrs)
acme = gl.groups.create({"name": "Acme", "path": "acme", "visibility": "public"})
tools = gl.groups.create({"name": "Tools", "path": "tools", "parent_id": acme.id,
                          "visibility": "internal"})
deep = gl.groups.create({"name": "Deep", "path": "deep", "parent_id": tools.id,
                         "visibility": "private"})
projects = {}
for v in ("private", "internal", "public"):
    projects[v] = gl.projects.create({"name": "P " + v, "namespace_id": acme.id, "visibility": v,
                                      "description": "the " + v + " one"})
inner = gl.projects.create({"path": "inner", "namespace_id": deep.id})
open_pull = gl.projects.create({"name": "open", "namespace_id": acme.id,
                                "package_registry_access_level": "public"})
tools.members.create({"user_id": users["alice"].id, "access_level": 30})
priv = projects["private"]
priv.members.create({"user_id": users["rita"].id, "access_level": 20})
priv.members.create({"user_id": users["gus"].id, "access_level": 10})
priv.members.create({"user_id": users["max"].id, "access_level": 40, "expires_at": "2099-01-31"})
m = priv.members.get(users["rita"].id)
m.access_level = 30
m.save()
after_update = priv.members.get(users["rita"].id).access_level
m.access_level = 20
m.save()
priv.members.delete(users["max"].id)
inherited = deep.members_all.list(get_all=True)
inner_all = inner.members_all.list(get_all=True)
acme.description = "renamed"
acme.save()
all_projects = gl.projects.list(get_all=True, per_page=2)
keyset = list(gl.projects.list(iterator=True, pagination="keyset", order_by="id", sort="asc",
                      per_page=2))
print(json.dumps({
    "acme": acme.full_path, "tools": tools.full_path, "deep": deep.full_path,
    "deep_full_name": gl.groups.get(deep.id).full_name,
    "acme_description": gl.groups.get("acme").description,
    "subgroups": [g.full_path for g in acme.subgroups.list(get_all=True)],
    "descendants": sorted(g.full_path for g in acme.descendant_groups.list(get_all=True)),
    "group_projects": sorted(p.path_with_namespace for p in acme.projects.list(get_all=True)),
    "tree_projects": sorted(p.path_with_namespace
                            for p in acme.projects.list(get_all=True, include_subgroups=True)),
    "visibilities": {v: gl.projects.get(p.id).visibility for v, p in projects.items()},
    "inner_path": inner.path_with_namespace, "inner_visibility": inner.visibility,
    "open_access": gl.projects.get(open_pull.id).package_registry_access_level,
    "members": {m.username: m.access_level for m in priv.members.list(get_all=True)},
    "rita_after_update": after_update,
    "inherited": {m.username: m.access_level for m in inherited},
    "inner_all": {m.username: m.access_level for m in inner_all},
    "all_projects": len(all_projects), "keyset": len(keyset),
    "keyset_ids": [p.id for p in keyset],
    "search": [p.path for p in gl.projects.list(search="intern", get_all=True)],
    "user_search": [u.username for u in gl.users.list(search="ali")],
    "by_username": [u.id for u in gl.users.list(username="rita")],
    "rita_id": users["rita"].id,
}))
"#,
        &server.root_token,
        &[],
    );
    assert_eq!(out["deep"], "acme/tools/deep", "{out}");
    assert_eq!(out["deep_full_name"], "Acme / Tools / Deep", "{out}");
    assert_eq!(out["acme_description"], "renamed", "{out}");
    assert_eq!(out["subgroups"], serde_json::json!(["acme/tools"]), "{out}");
    assert_eq!(
        out["descendants"],
        serde_json::json!(["acme/tools", "acme/tools/deep"]),
        "{out}"
    );
    assert_eq!(
        out["group_projects"],
        serde_json::json!([
            "acme/open",
            "acme/p-internal",
            "acme/p-private",
            "acme/p-public"
        ]),
        "{out}"
    );
    assert_eq!(
        out["tree_projects"].as_array().map(Vec::len),
        Some(5),
        "{out}"
    );
    for v in ["private", "internal", "public"] {
        assert_eq!(out["visibilities"][v], v, "{out}");
    }
    assert_eq!(out["inner_path"], "acme/tools/deep/inner", "{out}");
    assert_eq!(out["inner_visibility"], "private", "{out}");
    assert_eq!(out["open_access"], "public", "{out}");
    assert_eq!(
        out["members"],
        serde_json::json!({"rita": 20, "gus": 10}),
        "{out}"
    );
    assert_eq!(out["rita_after_update"], 30, "{out}");
    // root created the groups, so it is their Owner; alice inherits Developer from tools.
    assert_eq!(out["inherited"]["alice"], 30, "{out}");
    assert_eq!(out["inherited"]["root"], 50, "{out}");
    assert_eq!(out["inner_all"]["alice"], 30, "{out}");
    assert_eq!(out["all_projects"], 5, "{out}");
    assert_eq!(out["keyset"], 5, "{out}");
    let ids: Vec<i64> = out["keyset_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert_eq!(out["search"], serde_json::json!(["p-internal"]), "{out}");
    assert_eq!(out["user_search"], serde_json::json!(["alice"]), "{out}");
    assert_eq!(
        out["by_username"],
        serde_json::json!([out["rita_id"]]),
        "{out}"
    );
}

#[test]
fn python_gitlab_personal_access_tokens_create_list_rotate_revoke() {
    let server = Server::start();
    let out = server.python(
        r#"
import json, os, gitlab
url = os.environ["PACKYARD_URL"]
root = gitlab.Gitlab(url, private_token=os.environ["PACKYARD_TOKEN"])
root.auth()
bob = root.users.create({"username": "bob", "email": "bob@example.com", "name": "Bob"})
t1 = bob.personal_access_tokens.create({"name": "ci", "scopes": ["api"], "expires_at": "2099-12-31"})
t2 = bob.personal_access_tokens.create({"name": "reader", "scopes": "read_api"})
gl = gitlab.Gitlab(url, private_token=t1.token)
gl.auth()
mine = gl.personal_access_tokens.list(get_all=True)
me = gl.personal_access_tokens.get("self")
try:
    gl.personal_access_tokens.list(user_id=1)
    other = "listed"
except gitlab.exceptions.GitlabAuthenticationError:
    other = 401
rotated = gl.personal_access_tokens.rotate(t1.id)
try:
    gl.auth()
    old_after_rotate = "worked"
except gitlab.exceptions.GitlabAuthenticationError:
    old_after_rotate = 401
gl2 = gitlab.Gitlab(url, private_token=rotated["token"])
gl2.auth()
reader = gitlab.Gitlab(url, private_token=t2.token)
reader.auth()
try:
    reader.projects.create({"name": "nope"})
    reader_create = "created"
except gitlab.exceptions.GitlabCreateError as e:
    reader_create = e.response_code
gl2.personal_access_tokens.delete(t2.id)
try:
    reader.auth()
    revoked = "worked"
except gitlab.exceptions.GitlabAuthenticationError:
    revoked = 401
active = gl2.personal_access_tokens.list(state="active", get_all=True)
revoked_list = gl2.personal_access_tokens.list(revoked=True, get_all=True)
print(json.dumps({
    "t1_scopes": t1.scopes, "t1_expires": t1.expires_at, "t2_scopes": t2.scopes,
    "listed": sorted(t.name for t in mine), "self_id": me.id, "t1_id": t1.id,
    "other": other, "rotated_name": rotated["name"], "rotated_id": rotated["id"],
    "rotated_expires": rotated["expires_at"],
    "old_after_rotate": old_after_rotate, "reader_create": reader_create,
    "revoked": revoked, "active": [t["id"] if isinstance(t, dict) else t.id for t in active],
    "revoked_count": len(revoked_list),
}))
"#,
        &server.root_token,
        &[],
    );
    assert_eq!(out["t1_scopes"], serde_json::json!(["api"]), "{out}");
    assert_eq!(out["t1_expires"], "2099-12-31", "{out}");
    assert_eq!(out["t2_scopes"], serde_json::json!(["read_api"]), "{out}");
    assert_eq!(out["listed"], serde_json::json!(["ci", "reader"]), "{out}");
    assert_eq!(out["self_id"], out["t1_id"], "{out}");
    assert_eq!(out["other"], 401, "{out}");
    assert_eq!(out["rotated_name"], "ci", "{out}");
    assert_ne!(out["rotated_id"], out["t1_id"], "{out}");
    assert!(out["rotated_expires"].is_string(), "{out}");
    assert_eq!(out["old_after_rotate"], 401, "{out}");
    assert_eq!(out["reader_create"], 403, "{out}");
    assert_eq!(out["revoked"], 401, "{out}");
    assert_eq!(
        out["active"],
        serde_json::json!([out["rotated_id"]]),
        "{out}"
    );
    assert_eq!(out["revoked_count"], 2, "{out}");
}

#[test]
fn deploy_tokens_and_package_permissions_follow_roles_and_scopes() {
    let server = Server::start();
    let out = server.python(
        r#"
import json, os, gitlab
gl = gitlab.Gitlab(os.environ["PACKYARD_URL"], private_token=os.environ["PACKYARD_TOKEN"])
gl.auth()
grp = gl.groups.create({"name": "corp", "path": "corp", "visibility": "private"})
proj = gl.projects.create({"name": "vault", "namespace_id": grp.id, "visibility": "private"})
tokens = {}
for role, level in (("guest", 10), ("reporter", 20), ("developer", 30)):
    u = gl.users.create({"username": role, "email": role + "@example.com", "name": role})
    proj.members.create({"user_id": u.id, "access_level": level})
    tokens[role] = u.personal_access_tokens.create({"name": "t", "scopes": ["api"]}).token
read = proj.deploytokens.create({"name": "reader", "scopes": ["read_package_registry", "read_repository"]})
write = grp.deploytokens.create({"name": "writer", "scopes": ["write_package_registry"],
                                 "username": "ci-bot"})
old = proj.deploytokens.create({"name": "old", "scopes": ["read_registry"], "expires_at": "2021-09-09"})
listed = proj.deploytokens.list(get_all=True)
everything = gl.deploytokens.list(get_all=True)
proj.deploytokens.delete(old.id)
print(json.dumps({
    "project": proj.id, "tokens": tokens, "read": read.token, "write": write.token,
    "read_scopes": read.scopes, "write_username": write.username,
    "old_expires": old.expires_at, "old_expired": [t.expired for t in listed if t.id == old.id],
    "listed": sorted(t.name for t in listed), "everything": sorted(t.name for t in everything),
    "after_delete": sorted(t.name for t in proj.deploytokens.list(get_all=True)),
    "read_username": read.username, "read_id": read.id,
}))
"#,
        &server.root_token,
        &[],
    );
    assert_eq!(
        out["read_scopes"],
        serde_json::json!(["read_package_registry", "read_repository"]),
        "{out}"
    );
    assert_eq!(out["write_username"], "ci-bot", "{out}");
    assert_eq!(
        out["read_username"],
        format!("gitlab+deploy-token-{}", out["read_id"]).as_str(),
        "{out}"
    );
    assert_eq!(out["old_expires"], "2021-09-09T00:00:00.000Z", "{out}");
    assert_eq!(out["old_expired"], serde_json::json!([true]), "{out}");
    assert_eq!(out["listed"], serde_json::json!(["old", "reader"]), "{out}");
    assert_eq!(
        out["everything"],
        serde_json::json!(["old", "reader", "writer"]),
        "{out}"
    );
    assert_eq!(out["after_delete"], serde_json::json!(["reader"]), "{out}");

    let project = out["project"].as_i64().expect("project id");
    let token = |k: &str| out["tokens"][k].as_str().expect("token").to_string();
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "tool.bin", 4096);

    // Anonymous callers cannot see a private project at all.
    server
        .curl(&[&server.api(&format!("/projects/{project}"))])
        .expect_error(404);
    // A Reporter may not publish; a read-only deploy token may not either.
    upload(&server, project, &pat(&token("reporter")), &file).expect_error(403);
    let read_only = format!("DEPLOY-TOKEN: {}", out["read"].as_str().expect("read"));
    upload(&server, project, &read_only, &file).expect_error(403);
    // The group's write token covers the project.
    let write = format!("DEPLOY-TOKEN: {}", out["write"].as_str().expect("write"));
    let created = upload(&server, project, &write, &file);
    assert_eq!(created.status, 201, "{}", created.text());

    let url = server.api(&format!(
        "/projects/{project}/packages/generic/tool/1.0.0/tool.bin"
    ));
    // A Guest cannot pull from a private project; a Reporter and the read token can.
    server
        .curl(&["-H", &pat(&token("guest")), &url])
        .expect_error(403);
    assert_eq!(
        server.curl(&["-H", &pat(&token("reporter")), &url]).body,
        std::fs::read(&file).expect("read")
    );
    assert_eq!(server.curl(&["-H", &read_only, &url]).status, 200);
    // A Developer publishes.
    let dev = upload(&server, project, &pat(&token("developer")), &file);
    assert_eq!(dev.status, 201, "{}", dev.text());
}

#[test]
fn rest_answers_gitlab_statuses_and_error_shapes() {
    let server = Server::start();
    let root = server.root_token.clone();
    let user_token = server.create_user_with_token("plain");

    let version = server.curl(&[&server.api("/version")]).json();
    assert_eq!(
        version["version"].as_str().map(|v| v.split('.').count()),
        Some(3)
    );
    server.curl(&[&server.api("/license")]).expect_error(404);
    let meta = server.curl(&["-H", &pat(&user_token), &server.api("/metadata")]);
    assert_eq!(meta.json()["enterprise"], false);

    // Missing and invalid parameters name the field; duplicates are 400 as GitLab.
    let missing = json_post(&server, &root, "/groups", r#"{"name":"x"}"#);
    assert_eq!(missing.expect_error(400), "path is missing");
    let bad = json_post(
        &server,
        &root,
        "/groups",
        r#"{"name":"x","path":"x","visibility":"secret","unknown_field":1}"#,
    );
    assert_eq!(
        bad.expect_error(400),
        "visibility does not have a valid value"
    );
    let first = json_post(&server, &root, "/groups", r#"{"name":"x","path":"x"}"#);
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("content-type"), Some("application/json"));
    let dup = json_post(&server, &root, "/groups", r#"{"name":"x","path":"x"}"#);
    assert_eq!(dup.status, 400, "{}", dup.text());
    assert_eq!(dup.json()["message"]["path"][0], "has already been taken");
    // Form bodies and query strings work as well as JSON.
    let form = server.curl(&[
        "-X",
        "POST",
        "-H",
        &pat(&root),
        "--data",
        "name=Form+Made&namespace_id=x&visibility=private",
        &server.api("/projects"),
    ]);
    assert_eq!(form.status, 201, "{}", form.text());
    assert_eq!(form.json()["path_with_namespace"], "x/form-made");
    let bad_level = json_post(
        &server,
        &root,
        "/projects",
        r#"{"name":"y","package_registry_access_level":"everyone"}"#,
    );
    assert_eq!(
        bad_level.expect_error(400),
        "package_registry_access_level does not have a valid value"
    );

    // Admin-only endpoints: 403 for users, 401 for anonymous callers.
    json_post(
        &server,
        &user_token,
        "/users",
        r#"{"username":"z","email":"z@example.com","name":"Z"}"#,
    )
    .expect_error(403);
    server
        .curl(&[
            "-H",
            &pat(&user_token),
            &server.api("/application/settings"),
        ])
        .expect_error(403);
    server
        .curl(&[&server.api("/application/settings")])
        .expect_error(401);
    let short = json_post(
        &server,
        &root,
        "/users",
        r#"{"username":"z","email":"z@example.com","name":"Z","password":"short"}"#,
    );
    assert_eq!(short.status, 400, "{}", short.text());
    assert!(short.json()["message"]["password"].is_array());
    let taken = json_post(
        &server,
        &root,
        "/users",
        r#"{"username":"plain","email":"other@example.com","name":"P"}"#,
    );
    assert_eq!(taken.expect_error(409), "Username has already been taken");

    // Instance settings: the admin turns "allow anyone to pull" off.
    let put = server.curl(&[
        "-X",
        "PUT",
        "-H",
        &pat(&root),
        "--data",
        "package_registry_allow_anyone_to_pull_option=false",
        &server.api("/application/settings"),
    ]);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        put.json()["package_registry_allow_anyone_to_pull_option"],
        false
    );

    // Project and group deletes answer 202 and then the resource is gone.
    let project = parse_json(
        &json_post(
            &server,
            &root,
            "/projects",
            r#"{"name":"gone","namespace_id":"x"}"#,
        )
        .text(),
    );
    let id = project["id"].as_i64().expect("id");
    let del = server.curl(&[
        "-X",
        "DELETE",
        "-H",
        &pat(&root),
        &server.api(&format!("/projects/{id}")),
    ]);
    assert_eq!(del.status, 202, "{}", del.text());
    server
        .curl(&["-H", &pat(&root), &server.api(&format!("/projects/{id}"))])
        .expect_error(404);
    // A plain user may not delete someone else's group: it is private, so 404.
    server
        .curl(&[
            "-X",
            "DELETE",
            "-H",
            &pat(&user_token),
            &server.api("/groups/x"),
        ])
        .expect_error(404);
    let del = server.curl(&["-X", "DELETE", "-H", &pat(&root), &server.api("/groups/x")]);
    assert_eq!(del.status, 202, "{}", del.text());
    server
        .curl(&["-H", &pat(&root), &server.api("/groups/x")])
        .expect_error(404);
    server
        .curl(&["-H", &pat(&root), &server.api("/projects/x%2Fform-made")])
        .expect_error(404);

    // Offset pagination headers on a listing.
    for i in 0..3 {
        let r = json_post(
            &server,
            &user_token,
            "/projects",
            &format!(r#"{{"name":"p{i}"}}"#),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let page = server.curl(&[
        "-H",
        &pat(&user_token),
        &server.api("/projects?owned=true&per_page=2&page=1&order_by=id&sort=asc"),
    ]);
    assert_eq!(page.json().as_array().map(Vec::len), Some(2));
    assert_eq!(page.header("x-total"), Some("3"));
    assert_eq!(page.header("x-total-pages"), Some("2"));
    assert_eq!(page.header("x-next-page"), Some("2"));
    assert!(page
        .header("link")
        .is_some_and(|l| l.contains("rel=\"next\"") && l.contains("owned=true")));
    // Deleting a user takes its personal projects along.
    let plain = server
        .curl(&["-H", &pat(&root), &server.api("/users?username=plain")])
        .json();
    let uid = plain[0]["id"].as_i64().expect("user id");
    let del = server.curl(&[
        "-X",
        "DELETE",
        "-H",
        &pat(&root),
        &server.api(&format!("/users/{uid}")),
    ]);
    assert_eq!(del.status, 204, "{}", del.text());
    server
        .curl(&["-H", &pat(&root), &server.api("/projects/plain%2Fp0")])
        .expect_error(404);
    server
        .curl(&["-H", &pat(&user_token), &server.api("/user")])
        .expect_error(401);
}
