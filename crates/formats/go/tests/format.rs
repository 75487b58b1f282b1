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
    assert_eq!(format.normalize_name("lib").unwrap(), "lib");
    assert!(format.normalize_name("bad name").is_err());
    assert!(format.duplicate_rule().is_none());
    let snippets = format.snippets(&SnippetContext {
        external_url: "http://packyard.test",
        project_id: 7,
        project_path: "acme/tools",
        package_name: "lib",
        package_version: "1.0",
        file_names: &[],
    });
    assert!(snippets[0]
        .code
        .contains("/api/v4/projects/7/packages/go/ping"));
}
