//! A format's own configuration: its `[<id>]` section of `packyard.toml` and its
//! `PACKYARD_<ID>_<KEY>` environment names.
//!
//! A format crate declares its keys ([`ConfigKey`]: name, kind, default, doc line) and a
//! [`FormatFactory`] that builds the format from the values read ([`FormatSettings`]). The
//! binary reads the file and the environment for every installed factory, checks each value
//! against its declaration (errors name the file key and the environment name), runs the
//! format's own validation and builds the format. docs/configuration.md's format rows are
//! [`FormatFactory::doc_rows`], checked by a test in the binary.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::format::PackageFormat;

/// The type of a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// A whole number, at least 0 (sizes, counts, seconds).
    UInt,
    Bool,
    Str,
}

/// A setting's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    UInt(u64),
    Bool(bool),
    Str(Cow<'static, str>),
}

impl std::fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigValue::UInt(n) => write!(f, "{n}"),
            ConfigValue::Bool(b) => write!(f, "{b}"),
            ConfigValue::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// One key of a format's section.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    /// The key in the section, `snake_case` (`max_file_size`).
    pub name: &'static str,
    pub kind: ConfigKind,
    pub default: ConfigValue,
    /// One line for docs/configuration.md.
    pub doc: &'static str,
}

impl ConfigKey {
    /// A whole-number key.
    pub const fn uint(name: &'static str, default: u64, doc: &'static str) -> Self {
        ConfigKey {
            name,
            kind: ConfigKind::UInt,
            default: ConfigValue::UInt(default),
            doc,
        }
    }

    pub const fn bool(name: &'static str, default: bool, doc: &'static str) -> Self {
        ConfigKey {
            name,
            kind: ConfigKind::Bool,
            default: ConfigValue::Bool(default),
            doc,
        }
    }

    pub const fn str(name: &'static str, default: &'static str, doc: &'static str) -> Self {
        ConfigKey {
            name,
            kind: ConfigKind::Str,
            default: ConfigValue::Str(Cow::Borrowed(default)),
            doc,
        }
    }
}

/// How the binary builds one format: its id, its keys, its validation and its constructor.
#[derive(Clone)]
pub struct FormatFactory {
    /// The format's id (`PackageFormat::id`), also its section name and its Cargo feature.
    pub id: &'static str,
    pub keys: Vec<ConfigKey>,
    /// Checks across keys, or of ranges; the error names the key.
    pub validate: fn(&FormatSettings) -> Result<(), String>,
    pub build: fn(&FormatSettings) -> Arc<dyn PackageFormat>,
}

impl std::fmt::Debug for FormatFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormatFactory")
            .field("id", &self.id)
            .field("keys", &self.keys)
            .finish()
    }
}

impl FormatFactory {
    pub fn new(
        id: &'static str,
        keys: Vec<ConfigKey>,
        build: fn(&FormatSettings) -> Arc<dyn PackageFormat>,
    ) -> Self {
        FormatFactory {
            id,
            keys,
            validate: |_| Ok(()),
            build,
        }
    }

    pub fn with_validation(mut self, validate: fn(&FormatSettings) -> Result<(), String>) -> Self {
        self.validate = validate;
        self
    }

    /// `PACKYARD_<ID>_<KEY>`.
    pub fn env_name(&self, key: &str) -> String {
        format!(
            "PACKYARD_{}_{}",
            self.id.to_ascii_uppercase(),
            key.to_ascii_uppercase()
        )
    }

    /// Every key at its default.
    pub fn defaults(&self) -> FormatSettings {
        FormatSettings {
            id: self.id,
            values: self
                .keys
                .iter()
                .map(|k| (k.name, k.default.clone()))
                .collect(),
        }
    }

    /// The rows of docs/configuration.md's settings table for this format.
    pub fn doc_rows(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| {
                format!(
                    "| `{}.{}` | `{}` | `{}` | {} |",
                    self.id,
                    k.name,
                    self.env_name(k.name),
                    k.default,
                    k.doc
                )
            })
            .collect()
    }

    /// Builds the format from `settings` after its validation.
    pub fn build(&self, settings: &FormatSettings) -> Result<Arc<dyn PackageFormat>, String> {
        (self.validate)(settings)?;
        Ok((self.build)(settings))
    }
}

/// The values of one format's section, each checked against its declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSettings {
    id: &'static str,
    values: BTreeMap<&'static str, ConfigValue>,
}

impl FormatSettings {
    fn key<'a>(&self, factory: &'a FormatFactory, key: &str) -> Result<&'a ConfigKey, String> {
        factory.keys.iter().find(|k| k.name == key).ok_or_else(|| {
            let known: Vec<&str> = factory.keys.iter().map(|k| k.name).collect();
            format!(
                "unknown key `{}.{key}` (the [{}] section has: {})",
                self.id,
                self.id,
                if known.is_empty() {
                    "no keys".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
    }

    /// Sets `key` from a typed value (a TOML file's). Errors name `<id>.<key>`.
    pub fn set(
        &mut self,
        factory: &FormatFactory,
        key: &str,
        value: ConfigValue,
    ) -> Result<(), String> {
        let decl = self.key(factory, key)?;
        let ok = matches!(
            (decl.kind, &value),
            (ConfigKind::UInt, ConfigValue::UInt(_))
                | (ConfigKind::Bool, ConfigValue::Bool(_))
                | (ConfigKind::Str, ConfigValue::Str(_))
        );
        if !ok {
            return Err(format!(
                "`{}.{key}` must be {}, got {value}",
                self.id,
                kind_text(decl.kind)
            ));
        }
        self.values.insert(decl.name, value);
        Ok(())
    }

    /// Sets `key` from text (an environment variable's). Errors name `<id>.<key>`.
    pub fn set_text(
        &mut self,
        factory: &FormatFactory,
        key: &str,
        raw: &str,
    ) -> Result<(), String> {
        let decl = self.key(factory, key)?;
        let bad = || {
            format!(
                "`{}.{key}` must be {}, got {raw:?}",
                self.id,
                kind_text(decl.kind)
            )
        };
        let value = match decl.kind {
            ConfigKind::UInt => ConfigValue::UInt(raw.trim().parse().map_err(|_| bad())?),
            ConfigKind::Bool => match raw.trim() {
                "true" | "1" | "yes" => ConfigValue::Bool(true),
                "false" | "0" | "no" => ConfigValue::Bool(false),
                _ => return Err(bad()),
            },
            ConfigKind::Str => ConfigValue::Str(Cow::Owned(raw.to_owned())),
        };
        self.values.insert(decl.name, value);
        Ok(())
    }

    /// A whole-number key (0 for a key the format did not declare as one).
    pub fn uint(&self, key: &str) -> u64 {
        match self.values.get(key) {
            Some(ConfigValue::UInt(n)) => *n,
            _ => 0,
        }
    }

    pub fn bool(&self, key: &str) -> bool {
        matches!(self.values.get(key), Some(ConfigValue::Bool(true)))
    }

    pub fn str(&self, key: &str) -> &str {
        match self.values.get(key) {
            Some(ConfigValue::Str(s)) => s,
            _ => "",
        }
    }
}

fn kind_text(kind: ConfigKind) -> &'static str {
    match kind {
        ConfigKind::UInt => "a whole number, 0 or more",
        ConfigKind::Bool => "true or false",
        ConfigKind::Str => "a string",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn factory() -> FormatFactory {
        FormatFactory {
            id: "demo",
            keys: vec![
                ConfigKey::uint("max_file_size", 10, "Largest file."),
                ConfigKey::bool("strict", false, "Be strict."),
            ],
            validate: |s| {
                if s.uint("max_file_size") > 100 {
                    Err("`demo.max_file_size` must be at most 100".into())
                } else {
                    Ok(())
                }
            },
            build: |_| unreachable!("not built in this test"),
        }
    }

    #[test]
    fn values_are_checked_against_the_declaration() {
        let f = factory();
        let mut s = f.defaults();
        assert_eq!(s.uint("max_file_size"), 10);
        s.set_text(&f, "max_file_size", " 20 ").unwrap();
        assert_eq!(s.uint("max_file_size"), 20);
        s.set(&f, "strict", ConfigValue::Bool(true)).unwrap();
        assert!(s.bool("strict"));
        let e = s.set_text(&f, "max_file_size", "-1").unwrap_err();
        assert!(
            e.contains("`demo.max_file_size` must be a whole number"),
            "{e}"
        );
        let e = s.set(&f, "strict", ConfigValue::UInt(1)).unwrap_err();
        assert!(e.contains("`demo.strict` must be true or false"), "{e}");
        let e = s.set(&f, "stirct", ConfigValue::Bool(true)).unwrap_err();
        assert!(e.contains("unknown key `demo.stirct`"), "{e}");
        assert!(e.contains("max_file_size, strict"), "{e}");
        s.set_text(&f, "max_file_size", "101").unwrap();
        assert!((f.validate)(&s).unwrap_err().contains("demo.max_file_size"));
    }

    #[test]
    fn env_names_and_doc_rows_come_from_the_keys() {
        let f = factory();
        assert_eq!(f.env_name("max_file_size"), "PACKYARD_DEMO_MAX_FILE_SIZE");
        assert_eq!(
            f.doc_rows()[0],
            "| `demo.max_file_size` | `PACKYARD_DEMO_MAX_FILE_SIZE` | `10` | Largest file. |"
        );
    }
}
