//! `packyard gc` and `packyard fsck` on a real server's data (DESIGN.md "Data").

use std::path::{Path, PathBuf};

use packyard_e2e::{parse_json, random_file, Response, Server};

const PROJECT_ENC: &str = "grp%2Fproj";

fn setup() -> (Server, String) {
    let server = Server::start();
    server.create_project("grp/proj", "private");
    let token = server.create_user_with_token("owner");
    server.add_member("grp/proj", "owner", 50);
    (server, token)
}

fn generic_url(server: &Server, name: &str, file: &str) -> String {
    server.api(&format!(
        "/projects/{PROJECT_ENC}/packages/generic/{name}/1.0.0/{file}"
    ))
}

fn upload(server: &Server, token: &str, url: &str, file: &Path) -> Response {
    let got = server.curl(&[
        "-H",
        &format!("PRIVATE-TOKEN: {token}"),
        "--upload-file",
        file.to_str().expect("utf-8"),
        url,
    ]);
    assert_eq!(got.status, 201, "upload: {}", got.text());
    got
}

fn gc(server: &Server) -> serde_json::Value {
    let out = server.command(&["gc", "--grace-period-secs", "0"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "packyard gc failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_json(stdout.lines().last().unwrap_or_default())
}

#[test]
fn gc_removes_blobs_of_deleted_packages_and_keeps_others() {
    let (mut server, token) = setup();
    let dir = tempfile::tempdir().expect("tmp");
    let doomed = random_file(dir.path(), "doomed.bin", 5000);
    let kept = random_file(dir.path(), "kept.bin", 6000);
    upload(
        &server,
        &token,
        &generic_url(&server, "doomed", "doomed.bin"),
        &doomed,
    );
    let kept_url = generic_url(&server, "kept", "kept.bin");
    upload(&server, &token, &kept_url, &kept);

    let report = gc(&server);
    assert_eq!(
        report["deleted"], 0,
        "nothing was unreferenced yet: {report}"
    );

    let auth = format!("PRIVATE-TOKEN: {token}");
    let list = server.curl(&[
        "-H",
        &auth,
        &server.api(&format!(
            "/projects/{PROJECT_ENC}/packages?package_name=doomed"
        )),
    ]);
    let id = list.json()[0]["id"].as_i64().expect("package id");
    let deleted = server.curl(&[
        "-X",
        "DELETE",
        "-H",
        &auth,
        &server.api(&format!("/projects/{PROJECT_ENC}/packages/{id}")),
    ]);
    assert_eq!(deleted.status, 204, "{}", deleted.text());

    // On a stopped server's data, as an operator would run it from cron.
    server.stop();
    let report = gc(&server);
    assert!(
        report["deleted"].as_u64().unwrap_or(0) >= 1,
        "gc should delete the deleted package's blob: {report}"
    );
    assert!(report["kept"].as_u64().unwrap_or(0) >= 1, "{report}");

    // The other package's blob survived: fsck (which hashes every referenced blob) is clean.
    let fsck = server.command(&["fsck"]);
    assert!(
        fsck.status.success(),
        "fsck after gc: {}",
        String::from_utf8_lossy(&fsck.stdout)
    );
}

#[test]
fn fsck_reports_a_corrupted_blob() {
    let (server, token) = setup();
    if server.uses_s3() {
        eprintln!("skipped: corrupting a blob needs the filesystem store");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "victim.bin", 4321);
    upload(
        &server,
        &token,
        &generic_url(&server, "victim", "victim.bin"),
        &file,
    );

    let clean = server.command(&["fsck"]);
    assert!(
        clean.status.success() && clean.stdout.is_empty(),
        "fsck on intact data: {} {}",
        clean.status,
        String::from_utf8_lossy(&clean.stdout)
    );

    let original = std::fs::read(&file).expect("read");
    let blob = find_file_with_content(&server.data_dir().join("blobs"), &original)
        .expect("the uploaded blob under <data>/blobs");
    let mut corrupted = original.clone();
    corrupted[0] ^= 0xff;
    std::fs::write(&blob, corrupted).expect("corrupt blob");

    let out = server.command(&["fsck"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "fsck must exit 1: {stdout}");
    let problems: Vec<_> = stdout.lines().map(parse_json).collect();
    assert_eq!(problems.len(), 1, "one problem expected: {stdout}");
}

#[test]
fn fsck_reports_a_missing_blob() {
    let (server, token) = setup();
    if server.uses_s3() {
        eprintln!("skipped: removing a blob needs the filesystem store");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let file = random_file(dir.path(), "gone.bin", 999);
    upload(
        &server,
        &token,
        &generic_url(&server, "gone", "gone.bin"),
        &file,
    );
    let blob = find_file_with_content(
        &server.data_dir().join("blobs"),
        &std::fs::read(&file).expect("read"),
    )
    .expect("the uploaded blob under <data>/blobs");
    std::fs::remove_file(&blob).expect("remove blob");

    let out = server.command(&["fsck"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "fsck must exit 1: {stdout}");
    assert!(
        stdout.lines().map(parse_json).count() >= 1,
        "fsck printed no problem"
    );
}

fn find_file_with_content(dir: &Path, content: &[u8]) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file_with_content(&path, content) {
                return Some(found);
            }
        } else if entry.metadata().map(|m| m.len()).ok() == Some(content.len() as u64)
            && std::fs::read(&path).ok().as_deref() == Some(content)
        {
            return Some(path);
        }
    }
    None
}
