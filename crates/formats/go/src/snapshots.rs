//! The snippets of a module version's page, against committed snapshots (`src/snapshots/`).
//! Regenerate on purpose with `INSTA_UPDATE=always cargo test -p packyard-format-go snapshots`.
//! The proxy documents are snapshotted as the app serves them (bin/packyard/tests/wire_snapshots.rs).

use packyard_core::SnippetContext;

use crate::views;

#[test]
fn snippets() {
    let snippets = views::snippets(&SnippetContext {
        external_url: "https://packyard.example.com:8443",
        project_id: 42,
        project_path: "acme/go",
        package_name: "example.com/Acme/lib",
        package_version: "v1.2.0-RC1",
        file_names: &["v1.2.0-RC1.zip".to_owned()],
    });
    let text: Vec<String> = snippets
        .iter()
        .map(|s| format!("## {} ({})\n{}\n", s.title, s.language, s.code))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}
