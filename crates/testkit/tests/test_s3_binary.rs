//! The `packyard-test-s3` binary as CI scripts use it: it creates the buckets, announces
//! `ready http://ADDR`, and refuses requests that are not signed with its key.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn curl_status(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn binary_announces_ready_creates_buckets_and_checks_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut child = Command::new(env!("CARGO_BIN_EXE_packyard-test-s3"))
        .args(["--root", root.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(["--access-key", "ci-key", "--secret-key", "ci-secret"])
        .args(["--bucket", "packages", "--bucket", "other-bucket"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let endpoint = line.trim().strip_prefix("ready ").unwrap().to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{line}");
    assert!(root.join("packages").is_dir());
    assert!(root.join("other-bucket").is_dir());

    let url = format!("{endpoint}/packages/some-object");
    let sign = [
        "-H",
        "x-amz-content-sha256: UNSIGNED-PAYLOAD",
        "--aws-sigv4",
        "aws:amz:us-east-1:s3",
    ];
    // Unsigned and wrongly signed requests are refused; a signed one reaches the bucket.
    assert_eq!(curl_status(&[&url]), "403");
    assert_eq!(
        curl_status(&[&sign[..], &["--user", "ci-key:wrong", &url]].concat()),
        "403"
    );
    assert_eq!(
        curl_status(&[&sign[..], &["--user", "ci-key:ci-secret", &url]].concat()),
        "404"
    );
    drop(child);
}

#[test]
fn binary_rejects_an_invalid_bucket_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_packyard-test-s3"))
        .args(["--root", dir.path().to_str().unwrap()])
        .args(["--access-key", "k", "--secret-key", "s", "--bucket", "B"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid S3 bucket name"));
}
