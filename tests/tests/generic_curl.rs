//! Generic packages driven with the `curl` CLI, as GitLab's docs show
//! (spec §4: `PUT|GET|HEAD /projects/:id/packages/generic/:name/:version/:file`).

use std::path::Path;

use packyard_e2e::{random_file, sha256sum, Response, Server};

const PROJECT: &str = "grp/proj";
const PROJECT_ENC: &str = "grp%2Fproj";

/// A server with `grp/proj` (of `visibility`) and a Developer `dev` holding an `api` PAT.
fn setup(visibility: &str) -> (Server, String) {
    setup_with(visibility, &[])
}

fn setup_with(visibility: &str, env: &[(&str, &str)]) -> (Server, String) {
    let server = Server::start_with(env);
    server.create_project(PROJECT, visibility);
    let token = server.create_user_with_token("dev");
    server.add_member(PROJECT, "dev", 30);
    (server, token)
}

fn generic_url(server: &Server, name: &str, version: &str, file: &str) -> String {
    server.api(&format!(
        "/projects/{PROJECT_ENC}/packages/generic/{name}/{version}/{file}"
    ))
}

fn pat(token: &str) -> String {
    format!("PRIVATE-TOKEN: {token}")
}

fn upload(server: &Server, auth: &[&str], url: &str, file: &Path) -> Response {
    let mut args: Vec<&str> = auth.to_vec();
    args.extend(["--upload-file", file.to_str().expect("utf-8 path"), url]);
    server.curl(&args)
}

fn assert_created(response: &Response) {
    assert_eq!(response.status, 201, "body: {}", response.text());
    assert_eq!(
        response.json(),
        serde_json::json!({"message": "201 Created"})
    );
}

#[test]
fn upload_with_private_token_returns_201_created() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "hello.bin", 4096);
    let url = generic_url(&server, "hello", "1.0.0", "hello.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));
}

#[test]
fn download_returns_same_bytes_with_disposition_checksum_and_length() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "app.tar.gz", 100_000);
    let url = generic_url(&server, "app", "2.1.0", "app.tar.gz");
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));

    let got = server.curl(&["-H", &pat(&token), &url]);
    assert_eq!(got.status, 200, "body: {}", got.text());
    assert!(
        got.body == std::fs::read(&file).expect("read"),
        "downloaded bytes differ from the upload"
    );
    assert_eq!(
        got.header("content-disposition"),
        Some(r#"attachment; filename="app.tar.gz""#)
    );
    assert_eq!(
        got.header("x-checksum-sha256"),
        Some(sha256sum(&file).as_str())
    );
    assert_eq!(got.header("content-length"), Some("100000"));
}

#[test]
fn head_returns_download_headers_without_body() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "tool.bin", 12_345);
    let url = generic_url(&server, "tool", "1.0.0", "tool.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));

    let head = server.curl(&["-I", "-H", &pat(&token), &url]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("12345"));
    assert_eq!(
        head.header("x-checksum-sha256"),
        Some(sha256sum(&file).as_str())
    );
    assert_eq!(
        head.header("content-disposition"),
        Some(r#"attachment; filename="tool.bin""#)
    );

    // curl -I never reads a body, so look at the bytes on the wire.
    let path = url.trim_start_matches(&server.url);
    let raw = server.raw_http(&format!(
        "HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}",
        pat(&token)
    ));
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head_part, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    assert!(head_part.starts_with("HTTP/1.1 200"), "{head_part}");
    assert!(
        body.is_empty(),
        "HEAD response carried {} body bytes",
        body.len()
    );

    let missing = server.curl(&[
        "-I",
        "-H",
        &pat(&token),
        &generic_url(&server, "tool", "1.0.0", "other.bin"),
    ]);
    assert_eq!(missing.status, 404);
}

#[test]
fn range_request_returns_206_with_requested_bytes() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "data.bin", 5000);
    let url = generic_url(&server, "data", "1.0.0", "data.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));

    let got = server.curl(&["-H", &pat(&token), "-H", "Range: bytes=0-9", &url]);
    assert_eq!(got.status, 206, "body: {}", got.text());
    let bytes = std::fs::read(&file).expect("read");
    assert_eq!(got.body, bytes[..10].to_vec());
    assert_eq!(got.header("content-range"), Some("bytes 0-9/5000"));
}

#[test]
fn upload_with_select_package_file_returns_file_json() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "lib.so", 2048);
    let url = format!(
        "{}?select=package_file",
        generic_url(&server, "lib", "0.1.0", "lib.so")
    );
    let got = upload(&server, &["-H", &pat(&token)], &url, &file);
    assert_eq!(got.status, 200, "body: {}", got.text());
    let json = got.json();
    assert_eq!(
        json["size"],
        serde_json::json!(2048),
        "size must be an integer: {json}"
    );
    assert_eq!(json["file_sha256"], sha256sum(&file).as_str());
    assert_eq!(json["file_name"], "lib.so");
    assert!(json["id"].is_i64(), "{json}");
    assert!(json["package_id"].is_i64(), "{json}");
}

#[test]
fn upload_with_expect_100_continue_gets_interim_100_response() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "big.bin", 2 << 20);
    let url = generic_url(&server, "big", "1.0.0", "big.bin");
    let got = upload(
        &server,
        &["-v", "-H", &pat(&token), "-H", "Expect: 100-continue"],
        &url,
        &file,
    );
    assert!(
        got.stderr.contains("HTTP/1.1 100 Continue"),
        "the server did not answer `Expect: 100-continue`; curl -v said:\n{}",
        got.stderr
    );
    assert_created(&got);
}

#[test]
fn anonymous_upload_gets_401_with_basic_challenge() {
    let (server, _) = setup("public");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "a.bin", 100);
    let got = upload(
        &server,
        &[],
        &generic_url(&server, "a", "1.0.0", "a.bin"),
        &file,
    );
    got.expect_error(401);
    let challenge = got.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Basic realm="),
        "WWW-Authenticate: {challenge:?}"
    );
}

#[test]
fn anonymous_download_from_private_project_gets_401() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "p.bin", 100);
    let url = generic_url(&server, "p", "1.0.0", "p.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));

    let got = server.curl(&[&url]);
    got.expect_error(401);
    assert!(got
        .header("www-authenticate")
        .unwrap_or_default()
        .starts_with("Basic realm="));
}

#[test]
fn anonymous_download_from_public_project_succeeds() {
    let (server, token) = setup("public");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "pub.bin", 300);
    let url = generic_url(&server, "pub", "1.0.0", "pub.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));

    let got = server.curl(&[&url]);
    assert_eq!(got.status, 200, "body: {}", got.text());
    assert_eq!(got.body, std::fs::read(&file).expect("read"));
}

#[test]
fn non_member_gets_404_on_private_project() {
    let (server, token) = setup("private");
    let outsider = server.create_user_with_token("outsider");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "s.bin", 100);
    let url = generic_url(&server, "s", "1.0.0", "s.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));

    server
        .curl(&["-H", &pat(&outsider), &url])
        .expect_error(404);
    upload(&server, &["-H", &pat(&outsider)], &url, &file).expect_error(404);
}

#[test]
fn reporter_upload_gets_403_but_download_works() {
    let (server, token) = setup("private");
    let reporter = server.create_user_with_token("reporter");
    server.add_member(PROJECT, "reporter", 20);
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "r.bin", 100);
    let url = generic_url(&server, "r", "1.0.0", "r.bin");

    upload(&server, &["-H", &pat(&reporter)], &url, &file).expect_error(403);
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));
    assert_eq!(server.curl(&["-H", &pat(&reporter), &url]).status, 200);
}

#[test]
fn write_deploy_token_uploads_over_basic_auth() {
    let (server, _) = setup("private");
    let deploy = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "ci-writer",
        "--scopes",
        "read_package_registry,write_package_registry",
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "d.bin", 777);
    let url = generic_url(&server, "d", "1.0.0", "d.bin");
    let basic = format!("deployer:{deploy}");
    assert_created(&upload(&server, &["-u", &basic], &url, &file));

    let got = server.curl(&["-u", &basic, &url]);
    assert_eq!(got.status, 200);
    assert_eq!(got.body, std::fs::read(&file).expect("read"));
    let got = server.curl(&["-H", &format!("DEPLOY-TOKEN: {deploy}"), &url]);
    assert_eq!(got.status, 200);
}

#[test]
fn read_only_deploy_token_upload_gets_403() {
    let (server, token) = setup("private");
    let deploy = server.admin(&[
        "create-deploy-token",
        "--path",
        PROJECT,
        "--name",
        "reader",
        "--scopes",
        "read_package_registry",
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "ro.bin", 100);
    let url = generic_url(&server, "ro", "1.0.0", "ro.bin");
    let basic = format!("reader:{deploy}");

    upload(&server, &["-u", &basic], &url, &file).expect_error(403);
    assert_created(&upload(&server, &["-H", &pat(&token)], &url, &file));
    assert_eq!(server.curl(&["-u", &basic, &url]).status, 200);
}

#[test]
fn job_token_uploads_with_header_and_basic_and_records_pipeline() {
    let (server, token) = setup("private");
    let minted = server.curl(&[
        "-X",
        "POST",
        "-H",
        &pat(&token),
        "--data",
        "pipeline_id=4242&job_id=777&ref=main&sha=0123456789abcdef0123456789abcdef01234567",
        &server.api(&format!("/projects/{PROJECT_ENC}/ci/job_token")),
    ]);
    assert!(
        minted.status == 200 || minted.status == 201,
        "minting a job token: {} {}",
        minted.status,
        minted.text()
    );
    let job_token = minted.json()["token"]
        .as_str()
        .expect("token in job_token response")
        .to_string();

    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "build.zip", 1000);
    let header_url = generic_url(&server, "build", "1.0.0", "build.zip");
    assert_created(&upload(
        &server,
        &["-H", &format!("JOB-TOKEN: {job_token}")],
        &header_url,
        &file,
    ));
    let basic_url = generic_url(&server, "build", "1.0.0", "build-basic.zip");
    assert_created(&upload(
        &server,
        &["-u", &format!("gitlab-ci-token:{job_token}")],
        &basic_url,
        &file,
    ));
    // The Basic user must be gitlab-ci-token for a job token (spec §1.1).
    let wrong_user = upload(
        &server,
        &["-u", &format!("someone:{job_token}")],
        &generic_url(&server, "build", "1.0.0", "wrong.zip"),
        &file,
    );
    assert!(
        wrong_user.status == 401 || wrong_user.status == 403,
        "job token under another Basic user: {} {}",
        wrong_user.status,
        wrong_user.text()
    );

    let list = server.curl(&[
        "-H",
        &pat(&token),
        &server.api(&format!(
            "/projects/{PROJECT_ENC}/packages?package_type=generic&package_name=build"
        )),
    ]);
    assert_eq!(list.status, 200, "{}", list.text());
    let packages = list.json();
    let package_id = packages[0]["id"].as_i64().expect("package id");
    let package = server.curl(&[
        "-H",
        &pat(&token),
        &server.api(&format!("/projects/{PROJECT_ENC}/packages/{package_id}")),
    ]);
    assert_eq!(package.status, 200, "{}", package.text());
    let pipeline = &package.json()["pipeline"];
    assert_eq!(pipeline["id"], 4242, "pipeline: {pipeline}");
    assert_eq!(pipeline["ref"], "main", "pipeline: {pipeline}");
    assert_eq!(
        pipeline["sha"], "0123456789abcdef0123456789abcdef01234567",
        "pipeline: {pipeline}"
    );
}

#[test]
fn duplicate_file_is_refused_when_group_disallows_duplicates() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "dup.bin", 100);
    let first = generic_url(&server, "dup", "1.0.0", "dup.bin");
    // Allowed by default: the second upload appends a file.
    assert_created(&upload(&server, &["-H", &pat(&token)], &first, &file));
    assert_created(&upload(&server, &["-H", &pat(&token)], &first, &file));

    server.admin(&[
        "set-package-settings",
        "--group",
        "grp",
        "--generic-duplicates-allowed",
        "false",
    ]);
    let second = generic_url(&server, "dup", "2.0.0", "dup.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &second, &file));
    let refused = upload(&server, &["-H", &pat(&token)], &second, &file);
    let message = refused.expect_error(400);
    assert!(
        message.contains("Duplicate package is not allowed"),
        "message: {message}"
    );
    // Another file name in the same version is not a duplicate.
    let other = generic_url(&server, "dup", "2.0.0", "other.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &other, &file));
}

/// `PUT` with the file as the body, without `--upload-file` appending names to the URL.
fn put_as_is(server: &Server, token: &str, url: &str, file: &Path) -> Response {
    let data = format!("@{}", file.to_str().expect("utf-8 path"));
    server.curl(&[
        "--path-as-is",
        "-X",
        "PUT",
        "-H",
        &pat(token),
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &data,
        url,
    ])
}

#[test]
fn file_name_with_dot_dot_is_rejected() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "x.bin", 10);
    // Encoded traversal reaches the handler: a validation error.
    for bad in ["%2E%2E", "a%2F..%2F..%2Fescape", "..%2Fescape"] {
        let url = generic_url(&server, "trav", "1.0.0", bad);
        put_as_is(&server, &token, &url, &file).expect_error(400);
    }
    let bad_version = generic_url(&server, "trav", "1..0", "x.bin");
    put_as_is(&server, &token, &bad_version, &file).expect_error(400);
    // A literal `..` segment may be resolved before routing; it must still be refused.
    let literal = generic_url(&server, "trav", "1.0.0", "..");
    let got = put_as_is(&server, &token, &literal, &file);
    assert!(
        got.status == 400 || got.status == 404,
        "literal `..`: {} {}",
        got.status,
        got.text()
    );
    got.expect_error(got.status);

    let list = server.curl(&[
        "-H",
        &pat(&token),
        &server.api(&format!("/projects/{PROJECT_ENC}/packages")),
    ]);
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json(), serde_json::json!([]), "nothing may be stored");
}

#[test]
fn file_name_with_nul_is_rejected() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "x.bin", 10);
    let url = generic_url(&server, "nul", "1.0.0", "bad%00name.bin");
    upload(&server, &["-H", &pat(&token)], &url, &file).expect_error(400);
    let url = generic_url(&server, "nul%00x", "1.0.0", "x.bin");
    upload(&server, &["-H", &pat(&token)], &url, &file).expect_error(400);
}

#[test]
fn body_over_max_file_size_gets_413() {
    let (server, token) = setup_with("private", &[("PACKYARD_GENERIC_MAX_FILE_SIZE", "1024")]);
    let dir = tempfile::tempdir().expect("tmp");
    let small = random_file(dir.path(), "small.bin", 1000);
    let large = random_file(dir.path(), "large.bin", 4096);
    let ok = generic_url(&server, "lim", "1.0.0", "small.bin");
    assert_created(&upload(&server, &["-H", &pat(&token)], &ok, &small));

    let too_big = generic_url(&server, "lim", "1.0.0", "large.bin");
    upload(&server, &["-H", &pat(&token)], &too_big, &large).expect_error(413);
    // Chunked, so the server cannot refuse from Content-Length alone.
    upload(
        &server,
        &["-H", &pat(&token), "-H", "Transfer-Encoding: chunked"],
        &too_big,
        &large,
    )
    .expect_error(413);
    assert_eq!(
        server.curl(&["-H", &pat(&token), &too_big]).status,
        404,
        "a refused upload must leave no file"
    );
}

#[test]
fn malformed_basic_header_gets_401() {
    let (server, _) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "m.bin", 10);
    let url = generic_url(&server, "m", "1.0.0", "m.bin");
    for header in [
        "Authorization: Basic !!!not-base64!!!",
        "Authorization: Basic bm9jb2xvbg==", // "nocolon"
        "Authorization: Basic",
    ] {
        upload(&server, &["-H", header], &url, &file).expect_error(401);
    }
}

#[test]
fn unknown_project_gets_404_for_authenticated_caller() {
    let (server, token) = setup("private");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "u.bin", 10);
    for project in ["nope%2Fnothing", "999999"] {
        let url = server.api(&format!(
            "/projects/{project}/packages/generic/u/1.0.0/u.bin"
        ));
        upload(&server, &["-H", &pat(&token)], &url, &file).expect_error(404);
        server.curl(&["-H", &pat(&token), &url]).expect_error(404);
    }
}

#[test]
fn unknown_token_gets_401() {
    let (server, _) = setup("public");
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "t.bin", 10);
    let url = generic_url(&server, "t", "1.0.0", "t.bin");
    upload(
        &server,
        &["-H", "PRIVATE-TOKEN: glpat-not-a-real-token"],
        &url,
        &file,
    )
    .expect_error(401);
}
