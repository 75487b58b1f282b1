//! The `.nuspec` manifest.
//!
//! <https://learn.microsoft.com/en-us/nuget/reference/nuspec>. Read with a bounded pull
//! parser: no DTD, no entities beyond XML's five, depth, element count and text length
//! bounded.
//!
//! One loop over quick-xml events refuses what a manifest has no use for and what could make
//! reading expensive: any `<!DOCTYPE` (so no entity is ever declared or expanded: a "billion
//! laughs" manifest is refused, not expanded), processing instructions, references to
//! entities other than XML's five and character references, and bytes that are not UTF-8
//! (a byte-order mark is skipped). It counts input bytes ([`MAX_NUSPEC`]), depth
//! ([`MAX_DEPTH`]), elements ([`MAX_ELEMENTS`]) and the text of one element or attribute
//! ([`MAX_TEXT`]) itself and never recurses.
//!
//! The schema's namespace differs by version (`http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd`,
//! 2011/08, 2012/06, 2013/01, 2013/05, or none), so elements and attributes are matched by
//! local name under `<package><metadata>`. Rules NuGet.Client's `ManifestReader` enforces are
//! enforced here too, so the registry never keeps a manifest the clients would refuse to read
//! (a license has a `type` of `expression` or `file`), and where the clients' `NuspecReader`
//! is lenient this reader reads as it does: when `<dependencies>` holds `<group>` children,
//! `<dependency>` children beside them are ignored (such packages exist on nuget.org), and a
//! flag is true only when it says `true` in any case. A field written twice is refused (NuGet
//! would read one of them; which one is not worth guessing).

use packyard_core::error::printable;
use std::collections::HashSet;

use packyard_core::archive::Size;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::{Deserialize, Serialize};

use crate::version;

/// Largest `.nuspec` read, in bytes.
pub const MAX_NUSPEC: u64 = 1024 * 1024;
/// Deepest nesting of elements accepted (a real manifest nests 5 deep).
pub const MAX_DEPTH: usize = 32;
/// Most elements accepted in one manifest.
pub const MAX_ELEMENTS: usize = 10_000;
/// Most bytes of text in one element, or in one attribute value.
pub const MAX_TEXT: usize = 64 * 1024;
/// Longest package id (NuGet's `PackageIdValidator.MaxPackageIdLength`).
pub const MAX_ID_LEN: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nuspec {
    pub id: String,
    /// As written in the file.
    pub version: String,
    pub title: Option<String>,
    pub authors: String,
    pub owners: Option<String>,
    pub description: String,
    pub summary: Option<String>,
    pub release_notes: Option<String>,
    pub copyright: Option<String>,
    pub language: Option<String>,
    /// `<tags>` split on spaces (and commas).
    pub tags: Vec<String>,
    pub project_url: Option<String>,
    pub icon_url: Option<String>,
    pub license_url: Option<String>,
    pub license: Option<License>,
    pub icon: Option<String>,
    pub readme: Option<String>,
    pub require_license_acceptance: bool,
    pub development_dependency: bool,
    pub min_client_version: Option<String>,
    /// `<dependencies>`: groups by target framework; ungrouped `<dependency>` elements are
    /// one group with no framework.
    pub dependency_groups: Vec<DependencyGroup>,
    pub package_types: Vec<PackageType>,
    pub repository: Option<Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// `expression` or `file`.
    pub kind: String,
    pub value: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyGroup {
    pub target_framework: Option<String>,
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub id: String,
    /// The `version` attribute as written (a range).
    pub range: Option<String>,
    pub include: Option<String>,
    pub exclude: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageType {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub kind: Option<String>,
    pub url: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
}

/// Why a `.nuspec` is refused: a sentence the client prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidNuspec(pub String);

fn invalid(msg: impl Into<String>) -> InvalidNuspec {
    InvalidNuspec(msg.into())
}

fn ill_formed(pos: u64, why: impl std::fmt::Display) -> InvalidNuspec {
    invalid(format!(
        "the .nuspec is not well-formed XML (at byte {pos}): {}",
        printable(&why.to_string())
    ))
}

/// Parses a `.nuspec`. Requires `id` (valid per [`validate_id`]), `version` (a NuGet
/// version), `authors` and `description`.
pub fn parse(xml: &[u8]) -> Result<Nuspec, InvalidNuspec> {
    if xml.len() as u64 > MAX_NUSPEC {
        return Err(invalid(format!(
            "the .nuspec is larger than {}",
            Size(MAX_NUSPEC)
        )));
    }
    let text = std::str::from_utf8(xml).map_err(|e| {
        invalid(format!(
            "the .nuspec is not UTF-8 (invalid byte at offset {}); Packyard reads manifests \
             encoded as UTF-8, as `nuget pack` and `dotnet pack` write them",
            e.valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // XML 1.0 allows no control character but tab, LF and CR (and PostgreSQL's JSON could
    // not keep a NUL anyway).
    if let Some(at) = text.bytes().position(is_forbidden_control) {
        return Err(ill_formed(
            at as u64,
            "a control character that XML does not allow",
        ));
    }
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.allow_unmatched_ends = false;
    config.expand_empty_elements = false;

    let mut b = Builder::default();
    let mut path: Vec<String> = Vec::new();
    let mut elements = 0usize;
    let mut root_done = false;
    let mut first_event = true;
    // Text of the current element when it is a field: (depth, text).
    let mut collecting: Option<(usize, String)> = None;
    // Bytes of text since the last tag.
    let mut text_run = 0usize;

    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ill_formed(reader.error_position(), e))?;
        let was_first = std::mem::replace(&mut first_event, false);
        match event {
            Event::Decl(_) if was_first => {}
            Event::Decl(_) => {
                return Err(ill_formed(
                    pos,
                    "the XML declaration <?xml ...?> may only open the document",
                ))
            }
            Event::PI(pi) => {
                return Err(invalid(format!(
                    "the .nuspec holds the processing instruction <?{}?>; processing \
                     instructions are not accepted",
                    printable(&String::from_utf8_lossy(pi.target()))
                )))
            }
            Event::DocType(_) => return Err(invalid(
                "the .nuspec declares a DTD (<!DOCTYPE ...>); DTDs and entities are not accepted",
            )),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                text_run = 0;
                if path.is_empty() && root_done {
                    return Err(ill_formed(pos, "a second root element follows the first"));
                }
                if path.len() >= MAX_DEPTH {
                    return Err(invalid(format!(
                        "the .nuspec nests elements deeper than {MAX_DEPTH} levels"
                    )));
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(invalid(format!(
                        "the .nuspec has more than {MAX_ELEMENTS} elements"
                    )));
                }
                let attrs = attributes(pos, e)?;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() && name != "package" {
                    return Err(invalid(format!(
                        "the .nuspec's root element is <{}>, not <package>",
                        printable(&name)
                    )));
                }
                path.push(name);
                b.start(&path, &attrs)?;
                if is_field(&path) {
                    if empty {
                        b.text(&path, String::new())?;
                    } else {
                        collecting = Some((path.len(), String::new()));
                    }
                }
                if empty {
                    path.pop();
                    root_done |= path.is_empty();
                }
            }
            Event::End(_) => {
                text_run = 0;
                if let Some((depth, _)) = &collecting {
                    if *depth == path.len() {
                        if let Some((_, t)) = collecting.take() {
                            b.text(&path, t.trim_matches(is_xml_space).to_owned())?;
                        }
                    }
                }
                path.pop();
                root_done |= path.is_empty();
            }
            Event::Text(ref t) => {
                let s = t.xml10_content().map_err(|e| ill_formed(pos, e))?;
                add_text(pos, &path, &mut collecting, &mut text_run, &s)?;
            }
            Event::CData(ref t) => {
                let s = t.decode().map_err(|e| ill_formed(pos, e))?;
                add_text(pos, &path, &mut collecting, &mut text_run, &s)?;
            }
            Event::GeneralRef(ref r) => {
                let c = resolve_reference(pos, r)?;
                let mut buf = [0u8; 4];
                add_text(
                    pos,
                    &path,
                    &mut collecting,
                    &mut text_run,
                    c.encode_utf8(&mut buf),
                )?;
            }
            Event::Comment(_) => {}
            Event::Eof => {
                if let Some(open) = path.last() {
                    return Err(ill_formed(
                        pos,
                        format!("the document ends before </{}>", printable(open)),
                    ));
                }
                if !root_done {
                    return Err(invalid("the .nuspec has no <package> element"));
                }
                return b.finish();
            }
        }
    }
}

/// A package id NuGet accepts: at most 100 characters, letters, digits, `_`, and `.`/`-`
/// between them.
pub fn validate_id(id: &str) -> Result<(), InvalidNuspec> {
    if id.is_empty() {
        return Err(invalid("the package id is empty"));
    }
    if id.chars().count() > MAX_ID_LEN {
        return Err(invalid(format!(
            "the package id `{}` is longer than {MAX_ID_LEN} characters",
            printable(id)
        )));
    }
    // NuGet's PackageIdValidator: ^\w+([_.-]\w+)*$ with \w = [A-Za-z0-9_]: so every
    // character is one of those or `.`/`-`, and a `.` or `-` has a word character on each
    // side.
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let sep = |b: u8| b == b'.' || b == b'-';
    let bytes = id.as_bytes();
    let chars_ok = bytes.iter().all(|&b| word(b) || sep(b));
    let ends_ok = bytes.first().is_some_and(|&b| word(b)) && bytes.last().is_some_and(|&b| word(b));
    let no_double = bytes.windows(2).all(|w| !(sep(w[0]) && sep(w[1])));
    if chars_ok && ends_ok && no_double {
        Ok(())
    } else {
        Err(invalid(format!(
            "`{}` is not a valid package id: an id is made of ASCII letters, digits and `_`, \
             with single `.` or `-` between them (like Contoso.Utility-Core)",
            printable(id)
        )))
    }
}

// ------------------------------------------------------------------ the reader

fn is_forbidden_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The `<metadata>` children read as text.
const TEXT_FIELDS: [&str; 19] = [
    "id",
    "version",
    "title",
    "authors",
    "owners",
    "description",
    "summary",
    "releaseNotes",
    "copyright",
    "language",
    "tags",
    "projectUrl",
    "iconUrl",
    "licenseUrl",
    "license",
    "icon",
    "readme",
    "requireLicenseAcceptance",
    "developmentDependency",
];

/// `path` is `package/metadata/<a text field>`.
fn is_field(path: &[String]) -> bool {
    match path {
        [_, m, name] => m == "metadata" && TEXT_FIELDS.contains(&name.as_str()),
        _ => false,
    }
}

/// Adds text to the current element, refusing text outside the root and overlong text.
fn add_text(
    pos: u64,
    path: &[String],
    collecting: &mut Option<(usize, String)>,
    text_run: &mut usize,
    s: &str,
) -> Result<(), InvalidNuspec> {
    if path.is_empty() {
        if s.trim_matches(is_xml_space).is_empty() {
            return Ok(());
        }
        return Err(ill_formed(pos, "text outside the root element"));
    }
    *text_run += s.len();
    if *text_run > MAX_TEXT {
        return Err(invalid(format!(
            "the .nuspec has an element <{}> with more than {} KiB of text",
            printable(path.last().map_or("", String::as_str)),
            MAX_TEXT / 1024
        )));
    }
    if let Some((depth, t)) = collecting {
        if *depth == path.len() {
            t.push_str(s);
        }
    }
    Ok(())
}

/// `&lt;` and the other four XML entities, and character references; nothing else.
fn resolve_reference(pos: u64, r: &quick_xml::events::BytesRef<'_>) -> Result<char, InvalidNuspec> {
    let name = String::from_utf8_lossy(r.as_ref());
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) if !(c.is_ascii() && is_forbidden_control(c as u8)) => Ok(c),
            _ => Err(ill_formed(
                pos,
                format!("&{name}; is not a valid character reference"),
            )),
        };
    }
    match name.as_ref() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(invalid(format!(
            "the .nuspec refers to the entity &{}; which is not one of XML's five (&lt; &gt; \
             &amp; &apos; &quot;); DTDs and entities are not accepted",
            printable(other)
        ))),
    }
}

/// The element's attributes by local name, unescaped; every attribute must be well-formed,
/// unique, within [`MAX_TEXT`] and refer to no entity beyond XML's five.
fn attributes(pos: u64, e: &BytesStart<'_>) -> Result<Vec<(String, String)>, InvalidNuspec> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| ill_formed(pos, err))?;
        if attr.value.len() > MAX_TEXT {
            return Err(invalid(format!(
                "the .nuspec has an attribute value of more than {} KiB",
                MAX_TEXT / 1024
            )));
        }
        let key = attr.key;
        // Namespace declarations are not data.
        if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let raw = String::from_utf8_lossy(&attr.value);
        let value = quick_xml::escape::unescape(&raw).map_err(|err| {
            invalid(format!(
                "the .nuspec has an attribute with a reference that is not accepted ({}); \
                 DTDs and entities are not accepted",
                printable(&err.to_string())
            ))
        })?;
        let name = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
        out.push((name, value.trim_matches(is_xml_space).to_owned()));
    }
    Ok(out)
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

#[derive(Default)]
struct Builder {
    n: Nuspec,
    metadata: bool,
    /// Text fields and single elements seen (a second one is refused).
    seen: HashSet<String>,
    license: Option<(Option<String>, Option<String>)>,
    /// A `<group>` was seen in `<dependencies>`: then ungrouped dependencies are ignored.
    grouped: bool,
    flat: Vec<Dependency>,
}

fn dependency(attrs: &[(String, String)]) -> Result<Dependency, InvalidNuspec> {
    let id = attr(attrs, "id")
        .ok_or_else(|| invalid("the .nuspec has a <dependency> without an id attribute"))?;
    validate_id(&id).map_err(|e| {
        invalid(format!(
            "the .nuspec has a dependency whose id is not valid: {e}"
        ))
    })?;
    Ok(Dependency {
        id,
        range: attr(attrs, "version"),
        include: attr(attrs, "include"),
        exclude: attr(attrs, "exclude"),
    })
}

impl Builder {
    fn once(&mut self, name: &str, parent: &str) -> Result<(), InvalidNuspec> {
        if !self.seen.insert(format!("{parent}/{name}")) {
            return Err(invalid(format!(
                "the .nuspec has more than one <{}> in <{parent}>",
                printable(name)
            )));
        }
        Ok(())
    }

    fn start(&mut self, path: &[String], attrs: &[(String, String)]) -> Result<(), InvalidNuspec> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["package", "metadata"] => {
                self.once("metadata", "package")?;
                self.metadata = true;
                self.n.min_client_version = attr(attrs, "minClientVersion");
            }
            ["package", "metadata", "license"] => {
                self.license = Some((attr(attrs, "type"), attr(attrs, "version")));
            }
            ["package", "metadata", "repository"] => {
                self.once("repository", "metadata")?;
                self.n.repository = Some(Repository {
                    kind: attr(attrs, "type"),
                    url: attr(attrs, "url"),
                    branch: attr(attrs, "branch"),
                    commit: attr(attrs, "commit"),
                });
            }
            ["package", "metadata", name @ ("dependencies" | "packageTypes")] => {
                self.once(name, "metadata")?;
            }
            ["package", "metadata", "dependencies", "dependency"] => {
                let d = dependency(attrs)?;
                if !self.grouped {
                    self.flat.push(d);
                }
            }
            ["package", "metadata", "dependencies", "group"] => {
                self.grouped = true;
                self.flat.clear();
                self.n.dependency_groups.push(DependencyGroup {
                    target_framework: attr(attrs, "targetFramework"),
                    dependencies: Vec::new(),
                });
            }
            ["package", "metadata", "dependencies", "group", "dependency"] => {
                let d = dependency(attrs)?;
                if let Some(g) = self.n.dependency_groups.last_mut() {
                    g.dependencies.push(d);
                }
            }
            ["package", "metadata", "packageTypes", "packageType"] => {
                let name = attr(attrs, "name").ok_or_else(|| {
                    invalid("the .nuspec has a <packageType> without a name attribute")
                })?;
                self.n.package_types.push(PackageType {
                    name,
                    version: attr(attrs, "version"),
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The text of `package/metadata/<field>`, trimmed.
    fn text(&mut self, path: &[String], text: String) -> Result<(), InvalidNuspec> {
        let Some(name) = path.last() else {
            return Ok(());
        };
        self.once(name, "metadata")?;
        let opt = |t: String| (!t.is_empty()).then_some(t);
        // NuspecReader: true when it says so in any case, false otherwise.
        let flag = |t: &str| t.eq_ignore_ascii_case("true");
        let n = &mut self.n;
        match name.as_str() {
            "id" => n.id = text,
            "version" => n.version = text,
            "title" => n.title = opt(text),
            "authors" => n.authors = text,
            "owners" => n.owners = opt(text),
            "description" => n.description = text,
            "summary" => n.summary = opt(text),
            "releaseNotes" => n.release_notes = opt(text),
            "copyright" => n.copyright = opt(text),
            "language" => n.language = opt(text),
            "tags" => {
                n.tags = text
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "projectUrl" => n.project_url = opt(text),
            "iconUrl" => n.icon_url = opt(text),
            "licenseUrl" => n.license_url = opt(text),
            "icon" => n.icon = opt(text),
            "readme" => n.readme = opt(text),
            "requireLicenseAcceptance" => n.require_license_acceptance = flag(&text),
            "developmentDependency" => n.development_dependency = flag(&text),
            "license" => {
                let (kind, version) = self.license.take().unwrap_or_default();
                let kind = kind.map(|k| k.to_ascii_lowercase());
                let kind =
                    match kind.as_deref() {
                        Some(k @ ("expression" | "file")) => k.to_owned(),
                        Some(other) => {
                            return Err(invalid(format!(
                            "the .nuspec's <license> has type `{}`; it must be expression or file",
                            printable(other)
                        )))
                        }
                        None => return Err(invalid(
                            "the .nuspec's <license> has no type attribute (expression or file)",
                        )),
                    };
                if text.is_empty() {
                    return Err(invalid("the .nuspec's <license> is empty"));
                }
                self.n.license = Some(License {
                    kind,
                    value: text,
                    version,
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Nuspec, InvalidNuspec> {
        if !self.metadata {
            return Err(invalid(
                "the .nuspec has no <metadata> element in <package>",
            ));
        }
        let n = &mut self.n;
        let missing = |field: &str| {
            invalid(format!(
                "the .nuspec's <metadata> has no <{field}> (or it is empty); NuGet requires one"
            ))
        };
        if n.id.is_empty() {
            return Err(missing("id"));
        }
        validate_id(&n.id)?;
        if n.version.is_empty() {
            return Err(missing("version"));
        }
        version::parse(&n.version)
            .map_err(|e| invalid(format!("the .nuspec's <version> is not valid: {e}")))?;
        if n.authors.is_empty() {
            return Err(missing("authors"));
        }
        if n.description.is_empty() {
            return Err(missing("description"));
        }
        if !self.grouped && !self.flat.is_empty() {
            n.dependency_groups = vec![DependencyGroup {
                target_framework: None,
                dependencies: std::mem::take(&mut self.flat),
            }];
        }
        Ok(self.n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MINIMAL: &str = include_str!("../tests/fixtures/minimal.nuspec");
    const GROUPS: &str = include_str!("../tests/fixtures/groups.nuspec");
    const LICENSE: &str = include_str!("../tests/fixtures/license-expression.nuspec");
    const OLD_2010: &str = include_str!("../tests/fixtures/old-2010.nuspec");
    const NO_NAMESPACE: &str = include_str!("../tests/fixtures/no-namespace.nuspec");

    /// A manifest with `metadata` as the body of `<metadata>`.
    fn with_metadata(metadata: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"><metadata>{metadata}</metadata></package>"#
        )
    }

    const REQUIRED: &str =
        "<id>Pkg</id><version>1.0.0</version><authors>me</authors><description>d</description>";

    fn err(xml: &str) -> String {
        parse(xml.as_bytes()).unwrap_err().0
    }

    #[test]
    fn a_minimal_manifest_gives_its_four_fields() {
        let n = parse(MINIMAL.as_bytes()).unwrap();
        assert_eq!(n.id, "Contoso.Minimal");
        assert_eq!(n.version, "1.0.0");
        assert_eq!(n.authors, "Contoso");
        assert_eq!(n.description, "The smallest package nuget pack makes.");
        assert_eq!(
            n,
            Nuspec {
                id: n.id.clone(),
                version: n.version.clone(),
                authors: n.authors.clone(),
                description: n.description.clone(),
                ..Nuspec::default()
            }
        );
    }

    #[test]
    fn a_manifest_with_groups_reads_every_field() {
        insta::assert_json_snapshot!("groups", parse(GROUPS.as_bytes()).unwrap());
    }

    #[test]
    fn a_license_expression_and_repository_are_read() {
        insta::assert_json_snapshot!("license_expression", parse(LICENSE.as_bytes()).unwrap());
    }

    #[test]
    fn the_2010_schema_with_flat_dependencies_is_one_group_without_a_framework() {
        let n = parse(OLD_2010.as_bytes()).unwrap();
        assert_eq!(n.id, "Old.Style");
        assert_eq!(n.version, "2.1");
        assert_eq!(n.license_url.as_deref(), Some("http://example.com/license"));
        assert!(n.require_license_acceptance);
        assert_eq!(
            n.dependency_groups,
            [DependencyGroup {
                target_framework: None,
                dependencies: vec![
                    Dependency {
                        id: "log4net".into(),
                        range: Some("[1.2.10]".into()),
                        ..Dependency::default()
                    },
                    Dependency {
                        id: "Newtonsoft.Json".into(),
                        range: Some("4.0".into()),
                        ..Dependency::default()
                    },
                ],
            }]
        );
        assert_eq!(n.tags, ["logging", "old", "style"]);
    }

    #[test]
    fn a_manifest_without_a_namespace_or_with_prefixes_reads_the_same() {
        let n = parse(NO_NAMESPACE.as_bytes()).unwrap();
        assert_eq!(n.id, "No.Namespace");
        assert_eq!(n.title.as_deref(), Some("No namespace & no <problem>"));
        let prefixed = r#"<n:package xmlns:n="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd"><n:metadata n:minClientVersion="2.8"><n:id>P</n:id><n:version>1.0</n:version><n:authors>a</n:authors><n:description>d</n:description></n:metadata></n:package>"#;
        let n = parse(prefixed.as_bytes()).unwrap();
        assert_eq!(n.id, "P");
        assert_eq!(n.min_client_version.as_deref(), Some("2.8"));
    }

    #[test]
    fn every_schema_namespace_is_read() {
        for ns in [
            "http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd",
            "http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd",
            "http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd",
            "http://schemas.microsoft.com/packaging/2013/01/nuspec.xsd",
            "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd",
        ] {
            let xml = format!(r#"<package xmlns="{ns}"><metadata>{REQUIRED}</metadata></package>"#);
            assert_eq!(parse(xml.as_bytes()).unwrap().id, "Pkg", "{ns}");
        }
    }

    #[test]
    fn a_byte_order_mark_references_and_cdata_are_read() {
        let xml = format!(
            "\u{feff}{}",
            with_metadata(
                "<id>Pkg</id><version>1.0.0</version><authors>A &amp; B &#x263A;</authors>\
                 <description><![CDATA[<b>bold</b>]]> &lt;x&gt; &quot;&apos;</description>"
            )
        );
        let n = parse(xml.as_bytes()).unwrap();
        assert_eq!(n.authors, "A & B \u{263a}");
        assert_eq!(n.description, "<b>bold</b> <x> \"'");
    }

    #[test]
    fn tags_split_on_spaces_and_commas() {
        let xml = with_metadata(&format!("{REQUIRED}<tags> a, b\tc,,d\n e </tags>"));
        assert_eq!(
            parse(xml.as_bytes()).unwrap().tags,
            ["a", "b", "c", "d", "e"]
        );
    }

    #[test]
    fn flags_are_true_only_when_they_say_true_in_any_case() {
        let xml = with_metadata(&format!(
            "{REQUIRED}<requireLicenseAcceptance>TRUE</requireLicenseAcceptance><developmentDependency>False</developmentDependency>"
        ));
        let n = parse(xml.as_bytes()).unwrap();
        assert!(n.require_license_acceptance);
        assert!(!n.development_dependency);
        // As NuGet.Client's NuspecReader reads them: anything else is false.
        let xml = with_metadata(&format!(
            "{REQUIRED}<developmentDependency>yes</developmentDependency><requireLicenseAcceptance/>"
        ));
        let n = parse(xml.as_bytes()).unwrap();
        assert!(!n.development_dependency);
        assert!(!n.require_license_acceptance);
    }

    #[test]
    fn unknown_elements_and_files_are_ignored() {
        let xml = format!(
            r#"<package><metadata>{REQUIRED}<serviceable>true</serviceable><frameworkAssemblies><frameworkAssembly assemblyName="System.Xml"/></frameworkAssemblies><contentFiles><files include="**/*" buildAction="None"/></contentFiles></metadata><files><file src="bin\a.dll" target="lib\net45"/></files></package>"#
        );
        let n = parse(xml.as_bytes()).unwrap();
        assert_eq!(n.id, "Pkg");
        // A <dependency> elsewhere (not under metadata/dependencies) is not one.
        let xml = format!(
            r#"<package><metadata>{REQUIRED}<references><dependency id="x"/></references></metadata></package>"#
        );
        assert!(parse(xml.as_bytes()).unwrap().dependency_groups.is_empty());
    }

    #[test]
    fn missing_or_empty_required_fields_are_named() {
        for (field, body) in [
            (
                "id",
                "<version>1.0</version><authors>a</authors><description>d</description>",
            ),
            (
                "id",
                "<id> </id><version>1.0</version><authors>a</authors><description>d</description>",
            ),
            (
                "version",
                "<id>P</id><authors>a</authors><description>d</description>",
            ),
            (
                "authors",
                "<id>P</id><version>1.0</version><authors/><description>d</description>",
            ),
            (
                "description",
                "<id>P</id><version>1.0</version><authors>a</authors>",
            ),
        ] {
            let e = err(&with_metadata(body));
            assert!(e.contains(&format!("has no <{field}>")), "{field}: {e}");
        }
        assert!(err("<package/>").contains("no <metadata>"));
        assert!(err("<package><files/></package>").contains("no <metadata>"));
    }

    #[test]
    fn a_bad_id_or_version_is_refused_with_the_reason() {
        let e = err(&with_metadata(
            "<id>bad id</id><version>1.0</version><authors>a</authors><description>d</description>",
        ));
        assert!(e.contains("`bad id` is not a valid package id"), "{e}");
        let e = err(&with_metadata(
            "<id>P</id><version>1.0.0-</version><authors>a</authors><description>d</description>",
        ));
        assert!(
            e.contains("<version> is not valid: `1.0.0-` is not a valid NuGet version"),
            "{e}"
        );
        let e = err(&with_metadata(
            "<id>P</id><version>$version$</version><authors>a</authors><description>d</description>",
        ));
        assert!(e.contains("<version> is not valid"), "{e}");
    }

    #[test]
    fn ids_follow_nugets_package_id_validator() {
        for ok in [
            "a",
            "A1",
            "_",
            "a_b",
            "a._b",
            "Contoso.Utility-Core",
            "x.y.z",
            "1.0",
            "a__b",
        ] {
            assert!(validate_id(ok).is_ok(), "{ok}");
        }
        assert!(validate_id(&"a".repeat(100)).is_ok());
        for bad in [
            "", ".a", "a.", "-a", "a-", "a..b", "a.-b", "a b", "a/b", "é", "a+b", "a\0",
        ] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
        assert!(validate_id(&"a".repeat(101))
            .unwrap_err()
            .0
            .contains("longer than 100 characters"));
    }

    #[test]
    fn a_doctype_is_refused_so_no_entity_expands() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<package><metadata><id>P</id><version>1.0</version><authors>&lol3;</authors><description>d</description></metadata></package>"#;
        assert!(err(bomb)
            .contains("declares a DTD (<!DOCTYPE ...>); DTDs and entities are not accepted"));
        let e = err(&with_metadata(&format!("{REQUIRED}<title>&lol;</title>")));
        assert!(e.contains("&lol; which is not one of XML's five"), "{e}");
        let e = err(r#"<package><metadata a="&lol;">x</metadata></package>"#);
        assert!(e.contains("DTDs and entities are not accepted"), "{e}");
        for r in ["&#0;", "&#x1;", "&#x1F;", "&#xD800;", "&#xZZ;"] {
            let e = err(&with_metadata(&format!("{REQUIRED}<title>{r}</title>")));
            assert!(e.contains("not a valid character reference"), "{r}: {e}");
        }
    }

    #[test]
    fn a_deeply_nested_manifest_is_refused() {
        let xml = format!(
            "<package><metadata>{REQUIRED}{}{}</metadata></package>",
            "<x>".repeat(40),
            "</x>".repeat(40)
        );
        assert!(err(&xml).contains("deeper than 32 levels"));
        // 32 levels are fine.
        let xml = format!(
            "<package><metadata>{REQUIRED}{}{}</metadata></package>",
            "<x>".repeat(30),
            "</x>".repeat(30)
        );
        assert!(parse(xml.as_bytes()).is_ok());
    }

    #[test]
    fn too_many_elements_are_refused() {
        let xml = format!(
            "<package><metadata>{REQUIRED}{}</metadata></package>",
            "<x/>".repeat(MAX_ELEMENTS)
        );
        assert!(err(&xml).contains("more than 10000 elements"));
    }

    #[test]
    fn huge_text_or_attributes_are_refused() {
        let xml = with_metadata(&format!(
            "{REQUIRED}<summary>{}</summary>",
            "a".repeat(MAX_TEXT + 1)
        ));
        assert!(err(&xml).contains("<summary> with more than 64 KiB of text"));
        // Text split by references is counted whole.
        let xml = with_metadata(&format!(
            "{REQUIRED}<summary>{}</summary>",
            "aaaaaaa&amp;".repeat(MAX_TEXT / 8 + 1)
        ));
        assert!(err(&xml).contains("more than 64 KiB of text"));
        let xml = format!(
            r#"<package><metadata>{REQUIRED}<dependencies><dependency id="{}"/></dependencies></metadata></package>"#,
            "a".repeat(MAX_TEXT + 1)
        );
        assert!(err(&xml).contains("attribute value of more than 64 KiB"));
        let xml = format!("<package>{}</package>", " ".repeat(MAX_NUSPEC as usize));
        assert!(err(&xml).contains("larger than 1 MiB"));
    }

    #[test]
    fn malformed_xml_is_refused() {
        for (xml, want) in [
            ("", "no <package> element"),
            ("<package><metadata></package>", "not well-formed"),
            ("<package><metadata>", "ends before </metadata>"),
            ("<package/><package/>", "second root element"),
            ("<nuspec/>", "root element is <nuspec>, not <package>"),
            ("<package/>x", "text outside the root"),
            (
                "<package><?php x?></package>",
                "processing instruction <?php?>",
            ),
            ("<package a='1' a='2'/>", "not well-formed"),
            (
                "<package>\u{0}</package>",
                "not well-formed XML (at byte 9): a control character",
            ),
            ("<package a='\u{1}'/>", "a control character"),
        ] {
            let e = err(xml);
            assert!(e.contains(want), "{xml:?}: {e}");
        }
        let e = parse(b"<package>\xff</package>").unwrap_err().0;
        assert!(e.contains("not UTF-8 (invalid byte at offset 9)"), "{e}");
    }

    #[test]
    fn nuget_rules_on_dependencies_licenses_and_duplicates_hold() {
        let xml = with_metadata(&format!(
            r#"{REQUIRED}<dependencies><dependency version="1.0"/></dependencies>"#
        ));
        assert!(err(&xml).contains("<dependency> without an id"));
        let xml = with_metadata(&format!(
            r#"{REQUIRED}<dependencies><dependency id="a b"/></dependencies>"#
        ));
        assert!(err(&xml).contains("dependency whose id is not valid: `a b`"));
        let xml = with_metadata(&format!(r#"{REQUIRED}<license>MIT</license>"#));
        assert!(err(&xml).contains("<license> has no type attribute"));
        let xml = with_metadata(&format!(r#"{REQUIRED}<license type="url">MIT</license>"#));
        assert!(err(&xml).contains("<license> has type `url`"));
        let xml = with_metadata(&format!(r#"{REQUIRED}<license type="expression"/>"#));
        assert!(err(&xml).contains("<license> is empty"));
        let xml = with_metadata(&format!(r#"{REQUIRED}<id>Other</id>"#));
        assert!(err(&xml).contains("more than one <id> in <metadata>"));
        let xml = format!("<package><metadata>{REQUIRED}</metadata><metadata/></package>");
        assert!(err(&xml).contains("more than one <metadata> in <package>"));
        let xml = with_metadata(&format!(
            r#"{REQUIRED}<packageTypes><packageType/></packageTypes>"#
        ));
        assert!(err(&xml).contains("<packageType> without a name"));
    }

    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        // Letters, XML's special characters, non-ASCII and inner whitespace; no leading or
        // trailing whitespace (the reader trims it).
        "[a-zA-Z0-9&<>\"'é☺][a-zA-Z0-9&<>\"'é☺ \n\t,]{0,30}[a-zA-Z0-9&<>\"'é☺]"
    }

    proptest::proptest! {
        #[test]
        fn what_is_written_escaped_is_read_back(
            id in "[A-Za-z0-9_]{1,10}([.-][A-Za-z0-9_]{1,10}){0,3}",
            version in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}(-[a-zA-Z0-9]{1,5}(\\.[a-zA-Z0-9]{1,5}){0,2})?",
            authors in text(),
            description in text(),
            title in proptest::option::of(text()),
            dep_ids in proptest::collection::vec("[A-Za-z][A-Za-z0-9]{0,8}", 0..4),
            // Attribute values: no literal tab or newline (XML normalizes those to spaces).
            range in "[0-9\\[(][0-9\\[\\]() ,.&<>\"'-]{0,20}[0-9\\])]",
        ) {
            use quick_xml::escape::escape;
            let title_xml = title
                .as_ref()
                .map(|t| format!("<title>{}</title>", escape(t.as_str())))
                .unwrap_or_default();
            let deps: String = dep_ids
                .iter()
                .map(|d| format!(r#"<dependency id="{d}" version="{}"/>"#, escape(range.as_str())))
                .collect();
            let xml = format!(
                "<package><metadata><id>{id}</id><version>{version}</version>\
                 <authors>{}</authors><description>{}</description>{title_xml}\
                 <dependencies><group targetFramework=\"net8.0\">{deps}</group></dependencies>\
                 </metadata></package>",
                escape(authors.as_str()),
                escape(description.as_str()),
            );
            let n = parse(xml.as_bytes()).unwrap();
            proptest::prop_assert_eq!(&n.id, &id);
            proptest::prop_assert_eq!(&n.version, &version);
            proptest::prop_assert_eq!(&n.authors, &authors);
            proptest::prop_assert_eq!(&n.description, &description);
            proptest::prop_assert_eq!(&n.title, &title);
            let got: Vec<(String, Option<String>)> = n.dependency_groups[0]
                .dependencies
                .iter()
                .map(|d| (d.id.clone(), d.range.clone()))
                .collect();
            let want: Vec<(String, Option<String>)> =
                dep_ids.iter().map(|d| (d.clone(), Some(range.clone()))).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn ungrouped_dependencies_beside_groups_are_ignored_as_nuget_reads_them() {
        for deps in [
            r#"<dependency id="Flat.Before"/><group targetFramework="net45"><dependency id="In.Group"/></group><dependency id="Flat.After"/>"#,
            r#"<group targetFramework="net45"><dependency id="In.Group"/></group><dependency id="Flat.After"/>"#,
        ] {
            let xml = with_metadata(&format!("{REQUIRED}<dependencies>{deps}</dependencies>"));
            let n = parse(xml.as_bytes()).unwrap();
            assert_eq!(
                n.dependency_groups,
                [DependencyGroup {
                    target_framework: Some("net45".into()),
                    dependencies: vec![Dependency {
                        id: "In.Group".into(),
                        ..Dependency::default()
                    }],
                }],
                "{deps}"
            );
        }
        // An ungrouped dependency is still checked.
        let xml = with_metadata(&format!(
            r#"{REQUIRED}<dependencies><group/><dependency version="1.0"/></dependencies>"#
        ));
        assert!(err(&xml).contains("<dependency> without an id"));
    }

    #[test]
    fn an_empty_dependencies_element_or_empty_group_is_kept() {
        let xml = with_metadata(&format!("{REQUIRED}<dependencies/>"));
        assert!(parse(xml.as_bytes()).unwrap().dependency_groups.is_empty());
        let xml = with_metadata(&format!(
            r#"{REQUIRED}<dependencies><group targetFramework="netstandard2.0"/><group/></dependencies>"#
        ));
        assert_eq!(
            parse(xml.as_bytes()).unwrap().dependency_groups,
            [
                DependencyGroup {
                    target_framework: Some("netstandard2.0".into()),
                    dependencies: vec![],
                },
                DependencyGroup::default(),
            ]
        );
    }
}
