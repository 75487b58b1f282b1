//! The format as the server sees it: its id, names, versions, configuration, duplicate
//! rule and snippets.
#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;

use packyard_core::SnippetContext;
use packyard_format_maven::{factory, FORMAT};

#[test]
fn the_format_builds_from_its_declared_defaults() {
    let factory = factory();
    assert_eq!(factory.id, "maven");
    assert_eq!(
        factory.env_name("max_file_size"),
        "PACKYARD_MAVEN_MAX_FILE_SIZE"
    );
    let format = factory.build(&factory.defaults()).unwrap();
    assert_eq!(format.id(), FORMAT);
    assert_eq!(format.display_name(), "Maven");
    assert_eq!(
        format.normalize_name("com/Example/Lib").unwrap(),
        "com/example/lib"
    );
    assert!(format.normalize_name("bad name").is_err());
    assert_eq!(
        format.compare_versions("1.0-SNAPSHOT", "1.0"),
        Ordering::Less
    );
    // Releases refused by default, SNAPSHOTs never duplicates.
    let rule = format.duplicate_rule().unwrap();
    assert!(!rule.allowed_by_default);
    let exempt = rule.always_allowed.unwrap();
    assert!(exempt("1.0-SNAPSHOT"));
    assert!(!exempt("1.0"));
    let snippets = format.snippets(&SnippetContext {
        external_url: "http://packyard.test",
        project_id: 7,
        project_path: "acme/tools",
        package_name: "com/example/lib",
        package_version: "1.0",
        file_names: &[],
    });
    let all: String = snippets.iter().map(|s| s.code.as_str()).collect();
    assert!(all.contains("http://packyard.test/api/v4/projects/7/packages/maven"));
    assert!(all.contains("<groupId>com.example</groupId>"));
    assert!(all.contains("<artifactId>lib</artifactId>"));
}
