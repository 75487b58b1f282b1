//! The format as the server sees it: its id, names, versions, configuration and snippets.
//! Extend with the conformance kit and the format's own cases.
#![allow(clippy::unwrap_used)]

use packyard_core::SnippetContext;
use packyard_format_go::{factory, FORMAT};

#[test]
fn the_format_builds_from_its_declared_defaults() {
    let factory = factory();
    assert_eq!(factory.id, "go");
    assert_eq!(
        factory.env_name("max_file_size"),
        "PACKYARD_GO_MAX_FILE_SIZE"
    );
    let format = factory.build(&factory.defaults()).unwrap();
    assert_eq!(format.id(), FORMAT);
    assert_eq!(format.display_name(), "Go");
    assert_eq!(format.gitlab_package_type(), "golang");
    assert_eq!(
        format.normalize_name("example.com/Lib").unwrap(),
        "example.com/lib"
    );
    assert!(format.normalize_name("lib").is_err());
    assert!(format.normalize_name("example.com/bad name").is_err());
    assert_eq!(
        format.compare_versions("v1.10.0", "v1.9.0"),
        std::cmp::Ordering::Greater
    );
    assert!(format.duplicate_rule().is_none());
    let snippets = format.snippets(&SnippetContext {
        external_url: "http://packyard.test",
        project_id: 7,
        project_path: "acme/tools",
        package_name: "example.com/Lib",
        package_version: "v1.0.0",
        file_names: &[],
    });
    let all: String = snippets.iter().map(|s| s.code.as_str()).collect();
    assert!(all.contains("GOPROXY=http://packyard.test/api/v4/projects/7/packages/go,"));
    assert!(all.contains("machine packyard.test login"));
    assert!(all.contains("GONOSUMDB=example.com"));
    assert!(all.contains("go get example.com/Lib@v1.0.0"));
    // The URL carries the case-encoded path, as go sends it.
    assert!(all.contains("/packages/go/example.com/!lib/@v/v1.0.0.zip"));
}
