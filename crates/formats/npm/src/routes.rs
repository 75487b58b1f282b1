//! The endpoint table. Each level mounts one tail route, `/npm/{tail:.*}`, and the tail is
//! parsed here from the raw request path, because npm sends scoped names both as
//! `@scope/name` (tarballs, dist-tags) and `@scope%2fname` (packuments, publish), and
//! actix leaves `%2F` encoded in path segments.
//!
//! | method | tail | level | handler |
//! |---|---|---|---|
//! | GET | `:name` | all | packument (full or abbreviated by `Accept`) |
//! | PUT | `:name` | project | publish, or deprecate when there is no attachment |
//! | GET | `:name/-/:file` | all | tarball |
//! | PUT | `:name/-rev/:rev` | project | unpublish's packument rewrite |
//! | DELETE | `:name/-rev/:rev` | project | unpublish the whole package |
//! | DELETE | `:name/-/:file/-rev/:rev` | project | unpublish one version |
//! | GET | `-/package/:name/dist-tags` | all | list tags |
//! | PUT, DELETE | `-/package/:name/dist-tags/:tag` | project | add, remove a tag |
//! | GET | `-/whoami` | all | who the token is |
//! | GET | `-/v1/search` | all | search |

use actix_web::web;

use crate::handlers;
use crate::metadata::{self, NpmName};
use crate::NpmConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Project,
    Group,
    Instance,
}

pub fn configure(cfg: &mut web::ServiceConfig, level: Level, config: NpmConfig) {
    // In its own `/npm` scope, so that requests of other formats cost the router one
    // prefix comparison here.
    cfg.service(
        web::scope("/npm").service(
            web::resource("/{tail:.*}")
                .app_data(web::Data::new(config))
                .app_data(web::Data::new(level))
                .route(web::route().to(handlers::dispatch)),
        ),
    );
}

/// What a tail names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Packument(String),
    Tarball {
        name: String,
        file: String,
    },
    Rev {
        name: String,
    },
    TarballRev {
        name: String,
        file: String,
    },
    DistTags(String),
    DistTag {
        name: String,
        tag: String,
    },
    Whoami,
    Search,
    /// A `-/...` path npm may try that is not served (audit, ping): 404.
    Unknown,
}

/// Splits `/api/v4/.../packages/npm/<tail>` into the registry prefix (up to
/// `/packages/npm`, as the client wrote it) and the decoded tail.
pub fn split_path(raw: &str) -> Option<(&str, String)> {
    const MARK: &str = "/packages/npm";
    let at = raw.find("/packages/npm/")? + MARK.len();
    let mut tail = &raw[at + 1..];
    // `npm unpublish name@version` with a scoped registry builds the tarball DELETE from the
    // tarball URL's whole path (libnpmpublish strips only the *default* registry's path),
    // so the registry prefix arrives twice: read past the second one.
    if let Some(again) = tail
        .starts_with("api/v4/")
        .then(|| tail.find("/packages/npm/"))
        .flatten()
    {
        tail = &tail[again + MARK.len() + 1..];
    }
    let decoded = percent_encoding::percent_decode_str(tail)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some((&raw[..at], decoded))
}

/// Takes a package name (one segment, or two for `@scope/name`) off the front of `parts`.
fn take_name(parts: &mut &[&str]) -> Option<String> {
    let first = *parts.first()?;
    if first.starts_with('@') {
        let second = *parts.get(1)?;
        *parts = &parts[2..];
        Some(format!("{first}/{second}"))
    } else {
        *parts = &parts[1..];
        Some(first.to_owned())
    }
}

/// Parses a decoded tail; `None` when it names nothing.
pub fn parse_tail(tail: &str) -> Option<Endpoint> {
    let all: Vec<&str> = tail.split('/').collect();
    if all.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut parts: &[&str] = &all;
    if parts.first() == Some(&"-") {
        return Some(match &parts[1..] {
            ["whoami"] => Endpoint::Whoami,
            ["v1", "search"] => Endpoint::Search,
            ["package", rest @ ..] => {
                let mut rest: &[&str] = rest;
                let name = take_name(&mut rest)?;
                match rest {
                    ["dist-tags"] => Endpoint::DistTags(name),
                    ["dist-tags", tag] => Endpoint::DistTag {
                        name,
                        tag: (*tag).to_owned(),
                    },
                    _ => return None,
                }
            }
            _ => Endpoint::Unknown,
        });
    }
    let name = take_name(&mut parts)?;
    // The file part may carry the scope (`@scope/name-1.0.0.tgz`): keep its last segment.
    let file_of = |p: &[&str]| p.last().map(|s| (*s).to_owned());
    Some(match parts {
        [] => Endpoint::Packument(name),
        ["-rev", _] => Endpoint::Rev { name },
        ["-", rest @ ..] if rest.len() >= 3 && rest[rest.len() - 2] == "-rev" => {
            let file = file_of(&rest[..rest.len() - 2])?;
            Endpoint::TarballRev { name, file }
        }
        ["-", rest @ ..] if (1..=2).contains(&rest.len()) => Endpoint::Tarball {
            name,
            file: file_of(rest)?,
        },
        _ => return None,
    })
}

/// A name from a read request: anything that is not a valid npm name cannot exist.
pub fn read_name(name: &str) -> Option<NpmName> {
    metadata::parse_name(name).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_at_the_registry_prefix() {
        let (prefix, tail) =
            split_path("/api/v4/projects/grp%2Fproj/packages/npm/@acme%2fui").unwrap();
        assert_eq!(prefix, "/api/v4/projects/grp%2Fproj/packages/npm");
        assert_eq!(tail, "@acme/ui");
        let (prefix, tail) = split_path("/api/v4/packages/npm/-/whoami").unwrap();
        assert_eq!(prefix, "/api/v4/packages/npm");
        assert_eq!(tail, "-/whoami");
        assert!(split_path("/api/v4/packages/npm/%ff").is_none());
        let (_, tail) = split_path(
            "/api/v4/projects/1/packages/npm/api/v4/projects/1/packages/npm/@a/b/-/b-1.0.0.tgz/-rev/3",
        )
        .unwrap();
        assert_eq!(tail, "@a/b/-/b-1.0.0.tgz/-rev/3");
    }

    #[test]
    fn tails_name_endpoints() {
        let p = |s: &str| parse_tail(s);
        assert_eq!(p("left-pad"), Some(Endpoint::Packument("left-pad".into())));
        assert_eq!(p("@a/b"), Some(Endpoint::Packument("@a/b".into())));
        assert_eq!(
            p("@a/b/-/b-1.0.0.tgz"),
            Some(Endpoint::Tarball {
                name: "@a/b".into(),
                file: "b-1.0.0.tgz".into()
            })
        );
        assert_eq!(
            p("@a/b/-/@a/b-1.0.0.tgz"),
            Some(Endpoint::Tarball {
                name: "@a/b".into(),
                file: "b-1.0.0.tgz".into()
            })
        );
        assert_eq!(
            p("x/-/x-1.0.0.tgz/-rev/3-abc"),
            Some(Endpoint::TarballRev {
                name: "x".into(),
                file: "x-1.0.0.tgz".into()
            })
        );
        assert_eq!(p("x/-rev/1"), Some(Endpoint::Rev { name: "x".into() }));
        assert_eq!(
            p("-/package/@a/b/dist-tags"),
            Some(Endpoint::DistTags("@a/b".into()))
        );
        assert_eq!(
            p("-/package/x/dist-tags/beta"),
            Some(Endpoint::DistTag {
                name: "x".into(),
                tag: "beta".into()
            })
        );
        assert_eq!(p("-/whoami"), Some(Endpoint::Whoami));
        assert_eq!(p("-/v1/search"), Some(Endpoint::Search));
        assert_eq!(p("-/npm/v1/security/audits/quick"), Some(Endpoint::Unknown));
        for bad in [
            "",
            "x/",
            "x//y",
            "@a",
            "x/y",
            "x/-",
            "-/package/x",
            "x/-/a/b/c",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
