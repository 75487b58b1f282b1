//! `cargo xtask new-format <id>`: scaffolds `crates/formats/<id>` (a crate that compiles,
//! serves one placeholder route and has a test) and registers it with exactly two lines
//! outside the crate: its dependency-feature line in bin/packyard/Cargo.toml and its
//! registration line in bin/packyard/src/formats.rs. The workspace picks the crate up through
//! its `crates/formats/*` glob.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::shell;

const MANIFEST: &str = "bin/packyard/Cargo.toml";
const REGISTRY: &str = "bin/packyard/src/formats.rs";

/// The crate's files: path inside `crates/formats/<id>`, template.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("new_format/Cargo.toml.in")),
    ("README.md", include_str!("new_format/README.md.in")),
    ("src/lib.rs", include_str!("new_format/lib.rs.in")),
    ("src/routes.rs", include_str!("new_format/routes.rs.in")),
    (
        "src/handlers/mod.rs",
        include_str!("new_format/handlers_mod.rs.in"),
    ),
    (
        "src/handlers/files.rs",
        include_str!("new_format/files.rs.in"),
    ),
    (
        "src/handlers/ping.rs",
        include_str!("new_format/ping.rs.in"),
    ),
    ("src/metadata.rs", include_str!("new_format/metadata.rs.in")),
    ("src/views.rs", include_str!("new_format/views.rs.in")),
    ("src/error.rs", include_str!("new_format/error.rs.in")),
    ("tests/format.rs", include_str!("new_format/test.rs.in")),
    (
        "tests/conformance.rs",
        include_str!("new_format/conformance.rs.in"),
    ),
];

pub fn run(args: &[String]) -> Result<()> {
    let [id] = args else {
        bail!("usage: cargo xtask new-format <id>   (lowercase, [a-z][a-z0-9_]*)");
    };
    let root = shell::workspace_root();
    scaffold(&root, id)?;
    // The templates are formatted for a short id; rustfmt fixes the lines a long one makes.
    if let Err(e) = shell::run(shell::cargo().args(["fmt", "-p", &crate_name(id)])) {
        eprintln!("warning: cargo fmt -p {}: {e:#}", crate_name(id));
    }
    println!(
        "created crates/formats/{id}, registered in {MANIFEST} and {REGISTRY}\n\
         next: add its settings row to docs/configuration.md (a test checks it):\n\
         | `{id}.max_file_size` | `PACKYARD_{}_MAX_FILE_SIZE` | `104857600` | Largest {} file accepted, in bytes. |\n\
         then: cargo build -p packyard --features {id}; cargo test -p {}",
        id.to_ascii_uppercase(),
        type_name(id),
        crate_name(id)
    );
    Ok(())
}

/// The CI step `scaffold`: the template as a contributor gets it today. Copies the tracked
/// files to a temporary workspace, scaffolds `ci_probe` there, and runs the new crate's
/// clippy and tests (its unit test and the conformance kit), so a change to the SDK that
/// breaks the template fails here rather than in a contributor's first build.
pub fn check_in_ci() -> Result<()> {
    const ID: &str = "ci_probe";
    let root = shell::workspace_root();
    let tmp = std::env::temp_dir().join(format!("packyard-scaffold-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    let files = shell::output(
        std::process::Command::new("git")
            .current_dir(&root)
            .args(["ls-files", "-z"]),
    )?;
    for rel in files.split('\0').filter(|f| !f.is_empty()) {
        let from = root.join(rel);
        if !from.is_file() {
            continue;
        }
        let to = tmp.join(rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&from, &to)?;
    }
    scaffold(&tmp, ID)?;
    let krate = crate_name(ID);
    let manifest = tmp.join("Cargo.toml");
    let manifest = manifest.to_string_lossy();
    let result =
        shell::run(shell::cargo().args(["fmt", "--manifest-path", &manifest, "-p", &krate]))
            .and_then(|()| {
                shell::run(shell::cargo().args([
                    "clippy",
                    "--manifest-path",
                    &manifest,
                    "-p",
                    &krate,
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ]))
            })
            .and_then(|()| {
                shell::run(shell::cargo().args([
                    "test",
                    "--manifest-path",
                    &manifest,
                    "-p",
                    &krate,
                ]))
            });
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Why `id` cannot name a format, if it cannot.
pub fn check_id(id: &str) -> Result<()> {
    let mut chars = id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && id.len() <= 40;
    if !ok {
        bail!("format id {id:?} is invalid: use lowercase [a-z][a-z0-9_]*, at most 40 characters");
    }
    if matches!(id, "default" | "core" | "std" | "crate" | "self" | "super") {
        bail!("format id {id:?} is reserved");
    }
    Ok(())
}

fn crate_name(id: &str) -> String {
    format!("packyard-format-{}", id.replace('_', "-"))
}

fn type_name(id: &str) -> String {
    id.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn fill(template: &str, id: &str) -> String {
    let krate = crate_name(id);
    let ty = type_name(id);
    template
        .replace("{{crate}}", &krate)
        .replace("{{lib}}", &krate.replace('-', "_"))
        .replace("{{Type}}", &ty)
        .replace("{{Name}}", &ty)
        .replace("{{ID}}", &id.to_ascii_uppercase())
        .replace("{{id}}", id)
}

/// The manifest with the format's dependency line added after the last format's.
fn add_dependency(manifest: &str, id: &str) -> Result<String> {
    let line = format!(
        "{id} = {{ package = \"{}\", path = \"../../crates/formats/{id}\", optional = true }}",
        crate_name(id)
    );
    let lines: Vec<&str> = manifest.lines().collect();
    if lines
        .iter()
        .any(|l| l.split('=').next().map(str::trim) == Some(id))
    {
        bail!("{MANIFEST} already has a dependency or feature named `{id}`");
    }
    let Some(last) = lines
        .iter()
        .rposition(|l| l.contains("package = \"packyard-format-") && l.contains("optional = true"))
    else {
        bail!("{MANIFEST} has no format dependency line to add `{id}` after");
    };
    Ok(insert_after(&lines, last, &line, manifest.ends_with('\n')))
}

/// `formats.rs` with the format's registration line added after the last format's.
fn add_registration(source: &str, id: &str) -> Result<String> {
    let line = format!("        #[cfg(feature = \"{id}\")] {id}::factory(),");
    let lines: Vec<&str> = source.lines().collect();
    if lines
        .iter()
        .any(|l| l.contains(&format!("feature = \"{id}\"")))
    {
        bail!("{REGISTRY} already registers `{id}`");
    }
    let Some(last) = lines.iter().rposition(|l| {
        l.trim_start().starts_with("#[cfg(feature = ") && l.ends_with("::factory(),")
    }) else {
        bail!("{REGISTRY} has no registration line to add `{id}` after");
    };
    Ok(insert_after(&lines, last, &line, source.ends_with('\n')))
}

fn insert_after(lines: &[&str], at: usize, line: &str, newline_at_end: bool) -> String {
    let mut out: Vec<&str> = lines.to_vec();
    out.insert(at + 1, line);
    let mut text = out.join("\n");
    if newline_at_end {
        text.push('\n');
    }
    text
}

/// Writes the crate under `root/crates/formats/<id>` and the two lines. Checks everything
/// before it writes anything.
pub fn scaffold(root: &Path, id: &str) -> Result<()> {
    check_id(id)?;
    let dir = root.join("crates/formats").join(id);
    if dir.exists() {
        bail!("crates/formats/{id} exists already: the format `{id}` is taken");
    }
    let manifest_path = root.join(MANIFEST);
    let registry_path = root.join(REGISTRY);
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let registry = std::fs::read_to_string(&registry_path)
        .with_context(|| format!("reading {}", registry_path.display()))?;
    let manifest = add_dependency(&manifest, id)?;
    let registry = add_registration(&registry, id)?;
    for (path, template) in FILES {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&file, fill(template, id))
            .with_context(|| format!("writing {}", file.display()))?;
    }
    std::fs::write(&manifest_path, manifest)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    std::fs::write(&registry_path, registry)
        .with_context(|| format!("writing {}", registry_path.display()))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A temporary copy of the two files the scaffold edits.
    fn copy_of_the_workspace() -> tempfile::TempDir {
        let real = shell::workspace_root();
        let tmp = tempfile::tempdir().unwrap();
        for path in [MANIFEST, REGISTRY] {
            let to = tmp.path().join(path);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(real.join(path), to).unwrap();
        }
        std::fs::create_dir_all(tmp.path().join("crates/formats/npm")).unwrap();
        tmp
    }

    fn read(root: &Path, path: &str) -> String {
        std::fs::read_to_string(root.join(path)).unwrap()
    }

    /// The lines of `after` that are not in `before` (a line-level diff of an insertion).
    fn added_lines(before: &str, after: &str) -> Vec<String> {
        let mut rest: Vec<&str> = before.lines().collect();
        let mut added = Vec::new();
        for line in after.lines() {
            if rest.first() == Some(&line) {
                rest.remove(0);
            } else {
                added.push(line.to_owned());
            }
        }
        assert!(rest.is_empty(), "lines were removed: {rest:?}");
        added
    }

    #[test]
    fn scaffolds_the_crate_and_adds_exactly_two_lines() {
        let tmp = copy_of_the_workspace();
        let root = tmp.path();
        let manifest = read(root, MANIFEST);
        let registry = read(root, REGISTRY);
        scaffold(root, "terraform_module").unwrap();

        assert_eq!(
            added_lines(&manifest, &read(root, MANIFEST)),
            ["terraform_module = { package = \"packyard-format-terraform-module\", path = \"../../crates/formats/terraform_module\", optional = true }"]
        );
        assert_eq!(
            added_lines(&registry, &read(root, REGISTRY)),
            ["        #[cfg(feature = \"terraform_module\")] terraform_module::factory(),"]
        );
        // The new line is the feature check-features derives.
        let features = crate::features::features_of(&read(root, MANIFEST)).unwrap();
        assert!(
            features.iter().any(|f| f == "terraform_module"),
            "{features:?}"
        );

        let dir = root.join("crates/formats/terraform_module");
        for (path, _) in FILES {
            let text = std::fs::read_to_string(dir.join(path)).unwrap();
            assert!(!text.contains("{{"), "{path} has an unfilled placeholder");
        }
        let cargo = read(&dir, "Cargo.toml");
        assert!(cargo.contains("name = \"packyard-format-terraform-module\""));
        assert!(cargo.contains("packyard-core.workspace = true"));
        let lib = read(&dir, "src/lib.rs");
        assert!(lib.starts_with("//! packyard-format-terraform-module:"));
        assert!(lib.contains("impl PackageFormat for TerraformModule"));
        assert!(lib.contains("FormatId(\"terraform_module\")"));
        assert!(lib.contains("pub fn factory() -> FormatFactory"));
        assert!(
            !lib.contains("catalog()"),
            "formats reach data through the Registry only"
        );
        let routes = read(&dir, "src/routes.rs");
        assert!(routes.contains("web::scope(\"/terraform_module\")"));
        assert!(routes.contains("\"/ping\""));
        let ping = read(&dir, "src/handlers/ping.rs");
        assert!(ping.contains("authorize_project") && ping.contains("Action::ReadPackage"));
        assert!(read(&dir, "tests/format.rs").contains("use packyard_format_terraform_module::"));
        assert!(read(&dir, "README.md").contains("PACKYARD_TERRAFORM_MODULE_MAX_FILE_SIZE"));
    }

    #[test]
    fn refuses_a_taken_or_bad_id_and_writes_nothing() {
        let tmp = copy_of_the_workspace();
        let root = tmp.path();
        let manifest = read(root, MANIFEST);
        let registry = read(root, REGISTRY);
        for (id, why) in [
            ("npm", "exists already"),
            ("pypi", "already has a dependency"),
            ("Demo", "invalid"),
            ("1demo", "invalid"),
            ("de-mo", "invalid"),
            ("", "invalid"),
            ("default", "reserved"),
        ] {
            let e = format!("{:#}", scaffold(root, id).unwrap_err());
            assert!(e.contains(why), "{id}: {e}");
        }
        assert_eq!(read(root, MANIFEST), manifest);
        assert_eq!(read(root, REGISTRY), registry);
        assert!(!root.join("crates/formats/Demo").exists());
    }

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("demo"), "Demo");
        assert_eq!(type_name("terraform_module"), "TerraformModule");
        assert_eq!(type_name("go2"), "Go2");
    }
}
