//! Bounded readers of the XML clients upload: a `.pom` (the POM reference,
//! <https://maven.apache.org/pom.html>) and a `maven-metadata.xml` (the repository metadata
//! model, <https://maven.apache.org/ref/3.8.7/maven-repository-metadata/repository-metadata.html>).
//!
//! Both go through one pull loop over quick-xml events that refuses what a registry has no use
//! for and what could make reading expensive: any `<!DOCTYPE` (so no DTD and no entity is ever
//! expanded: a "billion laughs" document is refused, not expanded), processing instructions
//! other than the XML declaration, references to entities other than XML's five and character
//! references, and bytes that are not UTF-8. The loop counts depth ([`MAX_DEPTH`]), elements
//! ([`MAX_ELEMENTS`]) and the text of one element ([`MAX_TEXT`]) itself and never recurses.
//! Error messages quote at most 100 characters of the input.
//!
//! Elements are matched by local name, so a namespace (`xmlns="http://maven.apache.org/POM/4.0.0"`)
//! or a prefix changes nothing. Only the elements that carry what Packyard reads are looked at:
//! the direct children of `<project>` and `<parent>`, not the `groupId` of a dependency.

use std::borrow::Cow;

use packyard_core::error::printable;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Deepest nesting of elements accepted (a real pom nests about 8 deep).
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document.
pub const MAX_ELEMENTS: usize = 100_000;
/// Most bytes of text in one element.
pub const MAX_TEXT: usize = 64 * 1024;

/// What Packyard reads from a pom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pom {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
    pub packaging: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `<parent>`'s groupId, artifactId and version, when it names all three.
    pub parent: Option<(String, String, String)>,
}

impl Pom {
    /// The groupId Maven uses: the pom's own, else the parent's (which it inherits).
    pub fn effective_group_id(&self) -> Option<&str> {
        self.group_id
            .as_deref()
            .or(self.parent.as_ref().map(|p| p.0.as_str()))
    }

    /// The version Maven uses: the pom's own, else the parent's.
    pub fn effective_version(&self) -> Option<&str> {
        self.version
            .as_deref()
            .or(self.parent.as_ref().map(|p| p.2.as_str()))
    }
}

/// One `versioning/snapshotVersions/snapshotVersion` of a SNAPSHOT's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotVersion {
    pub classifier: Option<String>,
    pub extension: Option<String>,
    /// The timestamped version, `1.0-20240101.120000-1`.
    pub value: Option<String>,
    pub updated: Option<String>,
}

/// One `plugins/plugin` of a group-level metadata document (plugin prefixes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plugin {
    pub name: Option<String>,
    pub prefix: Option<String>,
    pub artifact_id: Option<String>,
}

/// What Packyard reads from an uploaded `maven-metadata.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadedMetadata {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
    /// A group-level document (plugin prefixes).
    pub has_plugins: bool,
    /// `versioning/versions/version`, in document order.
    pub versions: Vec<String>,
    pub latest: Option<String>,
    pub release: Option<String>,
    pub last_updated: Option<String>,
    /// `versioning/snapshot`: timestamp and buildNumber, when both are there.
    pub snapshot: Option<(String, u32)>,
    pub snapshot_versions: Vec<SnapshotVersion>,
    pub plugins: Vec<Plugin>,
}

/// Why an XML document was refused, as the client may read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct XmlError(pub String);

/// Reads a pom: the root must be `<project>`.
pub fn read_pom(bytes: &[u8]) -> Result<Pom, XmlError> {
    let mut v = PomVisitor::default();
    walk(bytes, "the pom", "project", &mut v)?;
    let mut pom = v.pom;
    if let (Some(g), Some(a), Some(ver)) = v.parent {
        pom.parent = Some((g, a, ver));
    }
    Ok(pom)
}

/// Reads a `maven-metadata.xml`: the root must be `<metadata>`.
pub fn read_metadata(bytes: &[u8]) -> Result<UploadedMetadata, XmlError> {
    let mut v = MetadataVisitor::default();
    walk(bytes, "the maven-metadata.xml", "metadata", &mut v)?;
    let mut md = v.md;
    if let (Some(t), Some(n)) = v.snapshot {
        md.snapshot = Some((t, n));
    }
    Ok(md)
}

// ------------------------------------------------------------------ the visitors

/// What a reader does with the elements of its document. `path` holds the local names from
/// the root down to the element in question.
trait Visitor {
    /// An element starts.
    fn start(&mut self, path: &[String]) -> Result<(), XmlError>;
    /// Whether the element's text is wanted.
    fn wants_text(&self, path: &[String]) -> bool;
    /// The text of a wanted element, trimmed, when the element ends.
    fn text(&mut self, path: &[String], text: String) -> Result<(), XmlError>;
}

fn is(path: &[String], want: &[&str]) -> bool {
    path.len() == want.len() && path.iter().zip(want).all(|(a, b)| a == b)
}

/// Sets a field once: a second `<version>` in the same place is refused, as Maven's own
/// reader refuses it ("Duplicated tag"), so Packyard never reads a different one than Maven.
fn set_once(
    doc: &str,
    path: &[String],
    field: &mut Option<String>,
    seen: &mut bool,
    text: String,
) -> Result<(), XmlError> {
    if std::mem::replace(seen, true) {
        let (name, parent) = match path {
            [.., parent, name] => (name.as_str(), parent.as_str()),
            _ => ("?", "?"),
        };
        return Err(XmlError(format!(
            "{doc} has more than one <{}> in <{}>",
            printable(name),
            printable(parent)
        )));
    }
    *field = non_empty(text);
    Ok(())
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[derive(Default)]
struct PomVisitor {
    pom: Pom,
    parent: (Option<String>, Option<String>, Option<String>),
    /// Which of the 9 fields were seen (project's 6, then parent's 3).
    seen: [bool; 9],
}

const POM_FIELDS: [&str; 6] = [
    "groupId",
    "artifactId",
    "version",
    "packaging",
    "name",
    "description",
];
const COORDINATES: [&str; 3] = ["groupId", "artifactId", "version"];

impl PomVisitor {
    /// The field `path` names and its slot in `seen`.
    fn field(&mut self, path: &[String]) -> Option<(&mut Option<String>, usize)> {
        match path {
            [_, name] => {
                let i = POM_FIELDS.iter().position(|f| name == f)?;
                let p = &mut self.pom;
                let field = match i {
                    0 => &mut p.group_id,
                    1 => &mut p.artifact_id,
                    2 => &mut p.version,
                    3 => &mut p.packaging,
                    4 => &mut p.name,
                    _ => &mut p.description,
                };
                Some((field, i))
            }
            [_, parent, name] if parent == "parent" => {
                let i = COORDINATES.iter().position(|f| name == f)?;
                let p = &mut self.parent;
                let field = match i {
                    0 => &mut p.0,
                    1 => &mut p.1,
                    _ => &mut p.2,
                };
                Some((field, 6 + i))
            }
            _ => None,
        }
    }
}

impl Visitor for PomVisitor {
    fn start(&mut self, _path: &[String]) -> Result<(), XmlError> {
        Ok(())
    }

    fn wants_text(&self, path: &[String]) -> bool {
        match path {
            [_, name] => POM_FIELDS.contains(&name.as_str()),
            [_, parent, name] => parent == "parent" && COORDINATES.contains(&name.as_str()),
            _ => false,
        }
    }

    fn text(&mut self, path: &[String], text: String) -> Result<(), XmlError> {
        let mut seen = self.seen;
        if let Some((field, i)) = self.field(path) {
            set_once("the pom", path, field, &mut seen[i], text)?;
        }
        self.seen = seen;
        Ok(())
    }
}

#[derive(Default)]
struct MetadataVisitor {
    md: UploadedMetadata,
    snapshot: (Option<String>, Option<u32>),
    /// groupId, artifactId, version, latest, release, lastUpdated, timestamp, buildNumber.
    seen: [bool; 8],
}

const DOC: &str = "the maven-metadata.xml";

impl Visitor for MetadataVisitor {
    fn start(&mut self, path: &[String]) -> Result<(), XmlError> {
        if is(path, &["metadata", "plugins"]) {
            self.md.has_plugins = true;
        } else if is(path, &["metadata", "plugins", "plugin"]) {
            self.md.plugins.push(Plugin::default());
        } else if is(
            path,
            &[
                "metadata",
                "versioning",
                "snapshotVersions",
                "snapshotVersion",
            ],
        ) {
            self.md.snapshot_versions.push(SnapshotVersion::default());
        }
        Ok(())
    }

    fn wants_text(&self, path: &[String]) -> bool {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        matches!(
            p.as_slice(),
            [_, "groupId" | "artifactId" | "version"]
                | [_, "versioning", "latest" | "release" | "lastUpdated"]
                | [_, "versioning", "versions", "version"]
                | [_, "versioning", "snapshot", "timestamp" | "buildNumber"]
                | [
                    _,
                    "versioning",
                    "snapshotVersions",
                    "snapshotVersion",
                    "classifier" | "extension" | "value" | "updated"
                ]
                | [_, "plugins", "plugin", "name" | "prefix" | "artifactId"]
        )
    }

    fn text(&mut self, path: &[String], text: String) -> Result<(), XmlError> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let md = &mut self.md;
        let seen = &mut self.seen;
        match p.as_slice() {
            [_, "groupId"] => set_once(DOC, path, &mut md.group_id, &mut seen[0], text)?,
            [_, "artifactId"] => set_once(DOC, path, &mut md.artifact_id, &mut seen[1], text)?,
            [_, "version"] => set_once(DOC, path, &mut md.version, &mut seen[2], text)?,
            [_, "versioning", "latest"] => set_once(DOC, path, &mut md.latest, &mut seen[3], text)?,
            [_, "versioning", "release"] => {
                set_once(DOC, path, &mut md.release, &mut seen[4], text)?
            }
            [_, "versioning", "lastUpdated"] => {
                set_once(DOC, path, &mut md.last_updated, &mut seen[5], text)?
            }
            [_, "versioning", "versions", "version"] if !text.is_empty() => {
                md.versions.push(text);
            }
            [_, "versioning", "snapshot", "timestamp"] => {
                set_once(DOC, path, &mut self.snapshot.0, &mut seen[6], text)?
            }
            [_, "versioning", "snapshot", "buildNumber"] => {
                let mut n = None;
                set_once(DOC, path, &mut n, &mut seen[7], text)?;
                self.snapshot.1 = match n {
                    None => None,
                    Some(n) => Some(n.parse::<u32>().map_err(|_| {
                        XmlError(format!(
                            "{DOC} has <buildNumber>{}</buildNumber>; a build number is a \
                             whole number such as 1",
                            printable(&n)
                        ))
                    })?),
                };
            }
            [_, "versioning", "snapshotVersions", "snapshotVersion", name] => {
                if let Some(sv) = md.snapshot_versions.last_mut() {
                    let field = match *name {
                        "classifier" => &mut sv.classifier,
                        "extension" => &mut sv.extension,
                        "value" => &mut sv.value,
                        _ => &mut sv.updated,
                    };
                    *field = non_empty(text);
                }
            }
            [_, "plugins", "plugin", name] => {
                if let Some(pl) = md.plugins.last_mut() {
                    let field = match *name {
                        "name" => &mut pl.name,
                        "prefix" => &mut pl.prefix,
                        _ => &mut pl.artifact_id,
                    };
                    *field = non_empty(text);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ the bounded loop

fn ill_formed(doc: &str, pos: u64, why: impl std::fmt::Display) -> XmlError {
    XmlError(format!(
        "{doc} is not well-formed XML (at byte {pos}): {}",
        printable(&why.to_string())
    ))
}

/// The local name of an element, `project` for `<m:project>`.
fn local_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

/// Walks the document once, checking every rule of the module doc, and tells `v` about the
/// elements below the root `root`.
fn walk(bytes: &[u8], doc: &str, root: &str, v: &mut dyn Visitor) -> Result<(), XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        XmlError(format!(
            "{doc} is not UTF-8 (invalid byte at offset {}); Packyard reads XML encoded as UTF-8",
            e.valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.allow_unmatched_ends = false;
    config.expand_empty_elements = false;

    let mut path: Vec<String> = Vec::new();
    let mut elements = 0usize;
    let mut root_done = false;
    let mut first_event = true;
    // Text of the current element, when the visitor wants it: (depth, text).
    let mut collecting: Option<(usize, String)> = None;
    // Bytes of text since the last tag.
    let mut text_run = 0usize;

    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ill_formed(doc, reader.error_position(), e))?;
        let was_first = std::mem::replace(&mut first_event, false);
        match event {
            Event::Decl(_) if was_first => {}
            Event::Decl(_) => {
                return Err(ill_formed(
                    doc,
                    pos,
                    "the XML declaration <?xml ...?> may only open the document",
                ))
            }
            Event::PI(pi) => {
                return Err(XmlError(format!(
                    "{doc} holds the processing instruction <?{}?>; processing instructions \
                     are not accepted",
                    printable(&String::from_utf8_lossy(pi.target()))
                )))
            }
            Event::DocType(_) => {
                return Err(XmlError(format!(
                    "{doc} declares a DTD (<!DOCTYPE ...>); DTDs and entities are not accepted"
                )))
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                text_run = 0;
                if path.is_empty() && root_done {
                    return Err(ill_formed(
                        doc,
                        pos,
                        "a second root element follows the first",
                    ));
                }
                if path.len() >= MAX_DEPTH {
                    return Err(XmlError(format!(
                        "{doc} nests elements deeper than {MAX_DEPTH} levels"
                    )));
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(XmlError(format!(
                        "{doc} has more than {MAX_ELEMENTS} elements"
                    )));
                }
                check_attributes(doc, pos, e)?;
                let name = local_name(e);
                if path.is_empty() && name != root {
                    return Err(XmlError(format!(
                        "{doc}'s root element is <{}>, not <{root}>",
                        printable(&name)
                    )));
                }
                path.push(name);
                v.start(&path)?;
                if empty {
                    if v.wants_text(&path) {
                        v.text(&path, String::new())?;
                    }
                    path.pop();
                    root_done |= path.is_empty();
                } else if v.wants_text(&path) {
                    collecting = Some((path.len(), String::new()));
                }
            }
            Event::End(_) => {
                text_run = 0;
                if let Some((depth, _)) = &collecting {
                    if *depth == path.len() {
                        if let Some((_, t)) = collecting.take() {
                            v.text(&path, t.trim().to_owned())?;
                        }
                    }
                }
                path.pop();
                root_done |= path.is_empty();
            }
            Event::Text(ref t) => {
                let s = t.xml10_content().map_err(|e| ill_formed(doc, pos, e))?;
                add_text(doc, pos, &path, &mut collecting, &mut text_run, &s)?;
            }
            Event::CData(ref t) => {
                let s = t.decode().map_err(|e| ill_formed(doc, pos, e))?;
                add_text(doc, pos, &path, &mut collecting, &mut text_run, &s)?;
            }
            Event::GeneralRef(ref r) => {
                let c = resolve_reference(doc, pos, r)?;
                let mut buf = [0u8; 4];
                add_text(
                    doc,
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
                        doc,
                        pos,
                        format!("the document ends before </{open}>"),
                    ));
                }
                if !root_done {
                    return Err(XmlError(format!("{doc} has no <{root}> element")));
                }
                return Ok(());
            }
        }
    }
}

/// Adds text to the current element, refusing text outside the root and overlong text.
fn add_text(
    doc: &str,
    pos: u64,
    path: &[String],
    collecting: &mut Option<(usize, String)>,
    text_run: &mut usize,
    s: &str,
) -> Result<(), XmlError> {
    if path.is_empty() {
        if s.trim_matches(is_xml_space).is_empty() {
            return Ok(());
        }
        return Err(ill_formed(doc, pos, "text outside the root element"));
    }
    *text_run += s.len();
    if *text_run > MAX_TEXT {
        return Err(XmlError(format!(
            "{doc} has an element <{}> with more than {MAX_TEXT} bytes of text",
            printable(path.last().map_or("", String::as_str))
        )));
    }
    if let Some((depth, t)) = collecting {
        if *depth == path.len() {
            t.push_str(s);
        }
    }
    Ok(())
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `&lt;` and the other four XML entities, and character references; nothing else.
fn resolve_reference(
    doc: &str,
    pos: u64,
    r: &quick_xml::events::BytesRef<'_>,
) -> Result<char, XmlError> {
    let name: Cow<'_, str> = String::from_utf8_lossy(r.as_ref());
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(ill_formed(
                doc,
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
        other => Err(XmlError(format!(
            "{doc} refers to the entity &{}; which is not one of XML's five (&lt; &gt; &amp; \
             &apos; &quot;); DTDs and entities are not accepted",
            printable(other)
        ))),
    }
}

/// Attributes must be well-formed, unique, and refer to no entity beyond XML's five.
fn check_attributes(doc: &str, pos: u64, e: &BytesStart<'_>) -> Result<(), XmlError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| ill_formed(doc, pos, err))?;
        let raw = String::from_utf8_lossy(&attr.value);
        if raw.contains('&') {
            quick_xml::escape::unescape(&raw).map_err(|err| {
                XmlError(format!(
                    "{doc} has an attribute with a reference that is not accepted ({}); \
                     DTDs and entities are not accepted",
                    printable(&err.to_string())
                ))
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A pom as `mvn archetype` and real projects write it: namespaced, with dependencies and
    /// plugins that carry their own groupId, artifactId and version.
    const REAL_POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Licensed to the Apache Software Foundation (ASF) -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>

  <groupId>com.example.tools</groupId>
  <artifactId>hello-lib</artifactId>
  <version>1.2.0-SNAPSHOT</version>
  <packaging>jar</packaging>

  <name>Hello &amp; Goodbye</name>
  <description>
    A library that says &quot;hello&quot; &#x2014; and <![CDATA[<goodbye>]]>.
  </description>

  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <version>not-this-one</version>
  </properties>

  <dependencies>
    <dependency>
      <groupId>junit</groupId>
      <artifactId>junit</artifactId>
      <version>4.13.2</version>
      <scope>test</scope>
    </dependency>
  </dependencies>

  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-compiler-plugin</artifactId>
        <version>3.10.1</version>
        <configuration><release>11</release></configuration>
      </plugin>
    </plugins>
  </build>
</project>
"#;

    fn err_pom(doc: &str) -> String {
        match read_pom(doc.as_bytes()) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => e.0,
        }
    }

    fn err_md(doc: &str) -> String {
        match read_metadata(doc.as_bytes()) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => e.0,
        }
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn a_real_pom_gives_its_own_coordinates_not_its_dependencies() {
        let pom = read_pom(REAL_POM.as_bytes()).expect("pom");
        assert_eq!(
            pom,
            Pom {
                group_id: s("com.example.tools"),
                artifact_id: s("hello-lib"),
                version: s("1.2.0-SNAPSHOT"),
                packaging: s("jar"),
                name: s("Hello & Goodbye"),
                description: s("A library that says \"hello\" \u{2014} and <goodbye>."),
                parent: None,
            }
        );
    }

    #[test]
    fn a_pom_with_a_parent_inherits_group_and_version() {
        let pom = read_pom(
            br#"<project>
  <parent>
    <groupId>org.example</groupId>
    <artifactId>parent</artifactId>
    <version>7</version>
    <relativePath/>
  </parent>
  <artifactId>child</artifactId>
</project>"#,
        )
        .expect("pom");
        assert_eq!(pom.group_id, None);
        assert_eq!(pom.artifact_id, s("child"));
        assert_eq!(
            pom.parent,
            Some(("org.example".into(), "parent".into(), "7".into()))
        );
        assert_eq!(pom.effective_group_id(), Some("org.example"));
        assert_eq!(pom.effective_version(), Some("7"));
    }

    #[test]
    fn a_prefixed_namespace_is_read_by_local_name() {
        let pom = read_pom(
            br#"<m:project xmlns:m="http://maven.apache.org/POM/4.0.0"><m:groupId>g</m:groupId><m:artifactId>a</m:artifactId><m:version>1</m:version></m:project>"#,
        )
        .expect("pom");
        assert_eq!(
            (pom.group_id, pom.artifact_id, pom.version),
            (s("g"), s("a"), s("1"))
        );
    }

    #[test]
    fn an_empty_project_reads_as_nothing() {
        assert_eq!(read_pom(b"<project/>"), Ok(Pom::default()));
        assert_eq!(
            read_pom(b"\xef\xbb\xbf<project><version> </version></project>"),
            Ok(Pom::default())
        );
    }

    #[test]
    fn what_is_not_xml_or_not_a_pom_is_refused() {
        assert!(
            err_pom("").contains("has no <project> element"),
            "{}",
            err_pom("")
        );
        assert!(err_pom("PK\u{3}\u{4} a jar").contains("text outside the root element"));
        assert!(err_pom("{\"json\": true}").contains("not well-formed"));
        assert_eq!(
            err_pom("<html><body/></html>"),
            "the pom's root element is <html>, not <project>"
        );
        assert!(err_pom("<project></project><project/>").contains("second root"));
        assert!(err_pom("<project><a></b></project>").contains("not well-formed"));
        assert!(err_pom("<project a='1' a='2'/>").contains("not well-formed"));
        let e = read_pom(b"<project><name>caf\xe9</name></project>").expect_err("latin-1");
        assert!(
            e.0.contains("is not UTF-8 (invalid byte at offset 18)"),
            "{e}"
        );
    }

    #[test]
    fn a_duplicated_coordinate_is_refused_as_maven_refuses_it() {
        assert_eq!(
            err_pom("<project><version>1</version><version>2</version></project>"),
            "the pom has more than one <version> in <project>"
        );
        assert_eq!(
            err_pom("<project><parent><groupId>a</groupId><groupId>b</groupId></parent></project>"),
            "the pom has more than one <groupId> in <parent>"
        );
    }

    #[test]
    fn truncated_xml_is_refused() {
        let cut = &REAL_POM[..REAL_POM.find("</dependencies>").expect("cut")];
        let e = err_pom(cut);
        assert!(e.starts_with("the pom is not well-formed XML"), "{e}");
        assert!(e.contains("</dependencies>"), "{e}");
        assert!(err_pom("<project><groupId>g</grou").contains("not well-formed"));
        assert!(err_pom("<project><!-- never closed").contains("not well-formed"));
    }

    #[test]
    fn a_billion_laughs_is_refused_not_expanded() {
        let mut doc =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_owned()
            } else {
                format!("lol{}", i - 1)
            };
            doc.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">\n",
                format!("&{prev};").repeat(10)
            ));
        }
        doc.push_str("]>\n<project><name>&lol9;</name></project>");
        assert_eq!(
            err_pom(&doc),
            "the pom declares a DTD (<!DOCTYPE ...>); DTDs and entities are not accepted"
        );
        // Without the DTD the entity is unknown, and refused as such.
        let e = err_pom("<project><name>&lol9;</name></project>");
        assert!(e.contains("refers to the entity &lol9;"), "{e}");
        assert!(err_pom("<project a='&lol9;'/>").contains("not accepted"));
        // An external entity cannot be declared either.
        assert!(err_pom("<!DOCTYPE p SYSTEM \"file:///etc/passwd\"><project/>").contains("DTD"));
    }

    #[test]
    fn processing_instructions_other_than_the_declaration_are_refused() {
        assert_eq!(
            err_pom("<?xml version=\"1.0\"?><?xml-stylesheet href=\"a.xsl\"?><project/>"),
            "the pom holds the processing instruction <?xml-stylesheet?>; processing \
             instructions are not accepted"
        );
        assert!(err_pom("<project/><?php echo 1; ?>").contains("processing instruction"));
        assert!(err_pom("<project><?xml version=\"1.0\"?></project>").contains("not well-formed"));
    }

    #[test]
    fn character_references_are_read_and_bad_ones_refused() {
        let pom =
            read_pom(b"<project><name>&#65;&#x42;&lt;&gt;&apos;</name></project>").expect("pom");
        assert_eq!(pom.name, s("AB<>'"));
        assert!(err_pom("<project><name>&#0;</name></project>").contains("character reference"));
        assert!(err_pom("<project><name>&#xFFFFFFFF;</name></project>").contains("not well-formed"));
    }

    #[test]
    fn deep_nesting_is_refused_quickly_without_recursion() {
        let doc = format!("<project>{}", "<a>".repeat(100_000));
        let t = Instant::now();
        assert_eq!(
            err_pom(&doc),
            "the pom nests elements deeper than 64 levels"
        );
        assert!(t.elapsed().as_secs() < 5, "took {:?}", t.elapsed());
        // 64 levels are fine.
        let ok = format!(
            "<project>{}{}</project>",
            "<a>".repeat(63),
            "</a>".repeat(63)
        );
        assert!(read_pom(ok.as_bytes()).is_ok());
        let deep = format!(
            "<project>{}{}</project>",
            "<a>".repeat(64),
            "</a>".repeat(64)
        );
        assert!(read_pom(deep.as_bytes()).is_err());
    }

    #[test]
    fn too_many_elements_and_too_much_text_are_refused() {
        let doc = format!("<project>{}</project>", "<a/>".repeat(MAX_ELEMENTS));
        assert_eq!(err_pom(&doc), "the pom has more than 100000 elements");
        let fits = format!(
            "<project><description>{}</description></project>",
            "x".repeat(MAX_TEXT)
        );
        assert!(read_pom(fits.as_bytes()).is_ok());
        let long = format!(
            "<project><description>{}</description></project>",
            "x".repeat(MAX_TEXT + 1)
        );
        assert_eq!(
            err_pom(&long),
            "the pom has an element <description> with more than 65536 bytes of text"
        );
        let refs = format!("<project><x>{}</x></project>", "&amp;".repeat(MAX_TEXT + 1));
        assert!(err_pom(&refs).contains("more than 65536 bytes"));
    }

    #[test]
    fn errors_quote_at_most_100_characters_of_the_input() {
        let name = "n".repeat(10_000);
        for e in [
            err_pom(&format!("<project><{name}></b></project>")),
            err_pom(&format!("<{name}/>")),
            err_pom(&format!("<project>&{name};</project>")),
            err_pom(&format!("<project/><?{name}?>")),
        ] {
            assert!(e.len() < 400, "{} bytes: {}", e.len(), &e[..200]);
        }
    }

    /// maven-metadata.xml as mvn 3.8.7 deploys it for a release (artifact level).
    const RELEASE_METADATA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>com.example.tools</groupId>
  <artifactId>hello-lib</artifactId>
  <versioning>
    <release>1.1.0</release>
    <versions>
      <version>1.0.0</version>
      <version>1.1.0</version>
    </versions>
    <lastUpdated>20240101120000</lastUpdated>
  </versioning>
</metadata>
"#;

    /// And for a SNAPSHOT (version level), with the timestamped files.
    const SNAPSHOT_METADATA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>com.example.tools</groupId>
  <artifactId>hello-lib</artifactId>
  <version>1.2.0-SNAPSHOT</version>
  <versioning>
    <snapshot>
      <timestamp>20240102.080910</timestamp>
      <buildNumber>3</buildNumber>
    </snapshot>
    <lastUpdated>20240102080910</lastUpdated>
    <snapshotVersions>
      <snapshotVersion>
        <extension>jar</extension>
        <value>1.2.0-20240102.080910-3</value>
        <updated>20240102080910</updated>
      </snapshotVersion>
      <snapshotVersion>
        <classifier>sources</classifier>
        <extension>jar</extension>
        <value>1.2.0-20240102.080910-3</value>
        <updated>20240102080910</updated>
      </snapshotVersion>
      <snapshotVersion>
        <extension>pom</extension>
        <value>1.2.0-20240102.080910-3</value>
        <updated>20240102080910</updated>
      </snapshotVersion>
    </snapshotVersions>
  </versioning>
</metadata>
"#;

    /// Group level, as maven-plugin-plugin deploys it with a plugin.
    const PLUGINS_METADATA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <plugins>
    <plugin>
      <name>Hello Maven Plugin</name>
      <prefix>hello</prefix>
      <artifactId>hello-maven-plugin</artifactId>
    </plugin>
  </plugins>
</metadata>
"#;

    #[test]
    fn release_metadata_as_mvn_writes_it_is_read() {
        let md = read_metadata(RELEASE_METADATA.as_bytes()).expect("metadata");
        assert_eq!(
            md,
            UploadedMetadata {
                group_id: s("com.example.tools"),
                artifact_id: s("hello-lib"),
                versions: vec!["1.0.0".into(), "1.1.0".into()],
                release: s("1.1.0"),
                last_updated: s("20240101120000"),
                ..UploadedMetadata::default()
            }
        );
    }

    #[test]
    fn snapshot_metadata_as_mvn_writes_it_is_read() {
        let md = read_metadata(SNAPSHOT_METADATA.as_bytes()).expect("metadata");
        assert_eq!(md.version, s("1.2.0-SNAPSHOT"));
        assert_eq!(md.snapshot, Some(("20240102.080910".into(), 3)));
        assert_eq!(md.snapshot_versions.len(), 3);
        assert_eq!(
            md.snapshot_versions[1],
            SnapshotVersion {
                classifier: s("sources"),
                extension: s("jar"),
                value: s("1.2.0-20240102.080910-3"),
                updated: s("20240102080910"),
            }
        );
        assert_eq!(md.snapshot_versions[2].extension, s("pom"));
        assert!(!md.has_plugins);
        assert!(md.versions.is_empty());
    }

    #[test]
    fn group_metadata_with_plugins_is_read() {
        let md = read_metadata(PLUGINS_METADATA.as_bytes()).expect("metadata");
        assert!(md.has_plugins);
        assert_eq!(
            md.plugins,
            vec![Plugin {
                name: s("Hello Maven Plugin"),
                prefix: s("hello"),
                artifact_id: s("hello-maven-plugin"),
            }]
        );
        assert_eq!(md.group_id, None);
        // <plugins> deeper down (in a pom-like document) does not count.
        let md = read_metadata(b"<metadata><x><plugins/></x></metadata>").expect("metadata");
        assert!(!md.has_plugins);
    }

    #[test]
    fn bad_metadata_is_refused() {
        assert_eq!(
            err_md("<project/>"),
            "the maven-metadata.xml's root element is <project>, not <metadata>"
        );
        assert_eq!(
            err_md("<metadata><versioning><snapshot><buildNumber>x1</buildNumber></snapshot></versioning></metadata>"),
            "the maven-metadata.xml has <buildNumber>x1</buildNumber>; a build number is a whole number such as 1"
        );
        assert!(
            err_md("<!DOCTYPE metadata><metadata/>").contains("DTDs and entities are not accepted")
        );
        assert!(err_md(&RELEASE_METADATA[..100]).contains("not well-formed"));
        // A snapshot without its build number is no snapshot.
        let md = read_metadata(b"<metadata><versioning><snapshot><localCopy>true</localCopy></snapshot></versioning></metadata>")
            .expect("metadata");
        assert_eq!(md.snapshot, None);
    }
}
