//! The snippets shown on a module version's page.

use packyard_core::{Snippet, SnippetContext};

use crate::metadata::escape;

/// GOPROXY and `.netrc` set-up, GONOSUMDB, the version's go.sum lines and the publish recipe.
pub fn snippets(ctx: &SnippetContext<'_>) -> Vec<Snippet> {
    let base = format!(
        "{}/api/v4/projects/{}/packages/go",
        ctx.external_url, ctx.project_id
    );
    let host = ctx
        .external_url
        .split_once("://")
        .map_or(ctx.external_url, |(_, rest)| rest);
    let machine = host.split(['/', ':']).next().unwrap_or(host);
    let module = ctx.package_name;
    let version = ctx.package_version;
    let escaped = escape(module);
    let prefix = module.split('/').next().unwrap_or(module);
    vec![
        Snippet {
            title: "Registry setup".into(),
            language: "shell",
            code: format!(
                "# ~/.netrc (go sends it as Basic auth over HTTPS): any login, a token as password\n\
                 printf 'machine {machine} login <username> password <your_access_token>\\n' >> ~/.netrc\n\
                 export GOPROXY={base},https://proxy.golang.org,direct\n\
                 # Private modules are not in the public checksum database:\n\
                 export GONOSUMDB={prefix}"
            ),
        },
        Snippet {
            title: "Install".into(),
            language: "shell",
            code: format!("go get {module}@{version}"),
        },
        Snippet {
            title: "go.sum".into(),
            language: "shell",
            // Single quotes: the `!` of the case-encoding is history expansion in bash.
            code: format!("curl --netrc '{base}/{escaped}/@v/{}.sum'", escape(version)),
        },
        Snippet {
            title: "Publish".into(),
            language: "shell",
            code: format!(
                "packyard admin go-module-zip --module {module} --version {version} . --out module.zip\n\
                 curl --fail-with-body --header \"PRIVATE-TOKEN: <your_access_token>\" \\\n  \
                 --upload-file module.zip '{base}/{escaped}/@v/{}.zip'",
                escape(version)
            ),
        },
    ]
}
