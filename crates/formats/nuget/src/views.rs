//! The v3 documents (service index, flat container, registrations, search) and snippets.

use packyard_core::{Snippet, SnippetContext};

/// Install and publish snippets shown on a package's page.
pub fn snippets(ctx: &SnippetContext<'_>) -> Vec<Snippet> {
    let _ = ctx;
    Vec::new()
}
