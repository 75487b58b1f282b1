//! Bounded readers of the XML clients upload: a `.pom` and a `maven-metadata.xml`.
//! STUB: replaced by the full implementation.

/// What Packyard reads from a pom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pom {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
    pub packaging: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `<parent>`'s groupId, artifactId, version.
    pub parent: Option<(String, String, String)>,
}

/// What Packyard reads from an uploaded `maven-metadata.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadedMetadata {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
    /// A group-level document (plugin prefixes).
    pub has_plugins: bool,
}

/// Why an XML document was refused, as the client may read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct XmlError(pub String);

pub fn read_pom(bytes: &[u8]) -> Result<Pom, XmlError> {
    if bytes.is_empty() {
        return Err(XmlError("empty".into()));
    }
    Ok(Pom::default())
}

pub fn read_metadata(bytes: &[u8]) -> Result<UploadedMetadata, XmlError> {
    if bytes.is_empty() {
        return Err(XmlError("empty".into()));
    }
    Ok(UploadedMetadata::default())
}
