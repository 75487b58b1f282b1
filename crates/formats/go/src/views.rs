//! The documents this format serves, and its snippets.

use packyard_core::model::Project;
use packyard_core::{Snippet, SnippetContext};
use serde_json::{json, Value};

/// The placeholder route's answer.
pub fn ping(project: &Project) -> Value {
    json!({ "format": crate::FORMAT.0, "project_id": project.id.0 })
}

/// Install and publish snippets shown on a package's page.
pub fn snippets(ctx: &SnippetContext<'_>) -> Vec<Snippet> {
    vec![Snippet {
        title: "Registry setup".into(),
        language: "shell",
        code: format!(
            "curl --header \"PRIVATE-TOKEN: <your_access_token>\" {}/api/v4/projects/{}/packages/{}/ping",
            ctx.external_url,
            ctx.project_id,
            crate::FORMAT.0
        ),
    }]
}
