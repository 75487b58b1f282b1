//! Names and versions as the Terraform client compares them. Placeholders: exact names, and
//! versions compared as text; write the package manager's rules here.

use std::cmp::Ordering;

use packyard_core::FormatError;

/// The name as the package manager compares names.
pub fn normalize_name(name: &str) -> Result<String, FormatError> {
    // Starts with a letter or digit, so `.` and `..` never name a package.
    let ok = name.len() <= 255
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(FormatError(format!(
            "package name {name:?} is invalid: use letters, digits, '-', '_' and '.'"
        )))
    }
}

/// A version as given, if it is one path segment of printable ASCII.
pub fn validate_version(version: &str) -> Result<String, FormatError> {
    segment("version", version)
}

/// A file name as given, if it is one path segment of printable ASCII.
pub fn validate_file_name(file: &str) -> Result<String, FormatError> {
    segment("file name", file)
}

fn segment(what: &str, value: &str) -> Result<String, FormatError> {
    let ok = !value.is_empty()
        && value.len() <= 255
        && value != "."
        && value != ".."
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FormatError(format!(
            "{what} {value:?} is invalid: use letters, digits, '-', '_', '+' and '.'"
        )))
    }
}

/// Version order as the package manager sees it.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(normalize_name("my-lib").ok().as_deref(), Some("my-lib"));
        assert!(normalize_name("").is_err());
        assert!(normalize_name("..").is_err());
        assert!(normalize_name("a/b").is_err());
        assert!(validate_version("1.0.0+build").is_ok());
        assert!(validate_file_name("..").is_err());
    }
}
