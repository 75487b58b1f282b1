//! Request handlers: the GOPROXY reads ([`proxy`]) and the module upload ([`upload`]).

pub mod proxy;
pub mod upload;

use actix_web::HttpRequest;

use crate::metadata::{self, GoVersion};

/// What a request under `.../packages/go/` asks for, from its path after the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// `$module/@v/list`
    List,
    /// `$module/@latest`
    Latest,
    /// `$module/@v/$version.info`
    Info(GoVersion),
    /// `$module/@v/$version.mod`
    Mod(GoVersion),
    /// `$module/@v/$version.zip`
    Zip(GoVersion),
    /// `$module/@v/$version.sum`: the version's two go.sum lines (Packyard's own).
    Sum(GoVersion),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The module path, decoded (case as Go spells it).
    pub module: String,
    pub want: Want,
}

/// The part of the request path after `/packages/go/`, percent-decoded (go sends the `!`
/// of the case-encoding as `%21`; a client may send `/` as `%2F`).
pub fn tail(req: &HttpRequest) -> Option<String> {
    let path = req.path();
    let at = path.find("/packages/go/")? + "/packages/go/".len();
    percent_encoding::percent_decode_str(&path[at..])
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Parses a decoded tail: the module path is escaped as Go escapes it, so is the version.
pub fn parse(tail: &str) -> Result<Target, String> {
    let (escaped, rest) = if let Some(module) = tail.strip_suffix("/@latest") {
        (module, None)
    } else if let Some((module, rest)) = tail.split_once("/@v/") {
        (module, Some(rest))
    } else {
        return Err(format!(
            "{:?} is not a GOPROXY path ($module/@v/list, $module/@v/$version.info|.mod|.zip, $module/@latest)",
            packyard_core::error::printable(tail)
        ));
    };
    let module = metadata::unescape_path(escaped)?;
    let want = match rest {
        None => Want::Latest,
        Some("list") => Want::List,
        Some(file) => {
            let (version, ext) = file.rsplit_once('.').ok_or_else(|| {
                format!(
                    "{:?} is not a version file ($version.info, .mod or .zip)",
                    packyard_core::error::printable(file)
                )
            })?;
            let decoded = metadata::unescape(version).ok_or_else(|| {
                format!(
                    "invalid escaped version {:?}",
                    packyard_core::error::printable(version)
                )
            })?;
            let v = GoVersion::parse(&decoded)?;
            match ext {
                "info" => Want::Info(v),
                "mod" => Want::Mod(v),
                "zip" => Want::Zip(v),
                "sum" => Want::Sum(v),
                _ => {
                    return Err(format!(
                        "{:?} is not a version file ($version.info, .mod or .zip)",
                        packyard_core::error::printable(file)
                    ))
                }
            }
        }
    };
    Ok(Target { module, want })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn proxy_paths_parse() {
        let t = parse("example.com/!foo/bar/@v/v1.0.0-!r!c1.info").unwrap();
        assert_eq!(t.module, "example.com/Foo/bar");
        assert_eq!(t.want, Want::Info(GoVersion::parse("v1.0.0-RC1").unwrap()));
        assert_eq!(parse("example.com/a/@v/list").unwrap().want, Want::List);
        assert_eq!(parse("example.com/a/@latest").unwrap().want, Want::Latest);
        assert!(matches!(
            parse("example.com/a/v2/@v/v2.0.0.zip").unwrap().want,
            Want::Zip(_)
        ));
        for bad in [
            "example.com/a",
            "example.com/A/@v/list",
            "example.com/a/@v/master.info",
            "example.com/a/@v/v1.0.0.tar",
            "example.com/a/@v/v1.0.0",
            "/@v/list",
            "example/@v/list",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
