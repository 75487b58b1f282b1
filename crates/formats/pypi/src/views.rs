//! The simple repository pages pip, uv and poetry read.
//!
//! - HTML: PEP 503 (<https://peps.python.org/pep-0503/>) with `data-requires-python`
//!   (PEP 345/503), `data-yanked` (PEP 592), `data-core-metadata` and `data-dist-info-metadata`
//!   (PEP 658/714), and the `pypi:repository-version` meta tag (PEP 629).
//! - JSON: PEP 691 (<https://peps.python.org/pep-0691/>), API version 1.1 with the PEP 700
//!   fields `versions`, `size` and `upload-time`.

use serde_json::{json, Value};

/// PEP 691 media types.
pub const JSON_V1: &str = "application/vnd.pypi.simple.v1+json";
pub const HTML_V1: &str = "application/vnd.pypi.simple.v1+html";
/// The repository API version we speak (PEP 629 / PEP 700).
pub const API_VERSION: &str = "1.1";

/// Which representation a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Json,
    /// `application/vnd.pypi.simple.v1+html`.
    HtmlV1,
    /// `text/html`, the default.
    Html,
}

impl Representation {
    pub fn content_type(self) -> &'static str {
        match self {
            Representation::Json => JSON_V1,
            Representation::HtmlV1 => HTML_V1,
            Representation::Html => "text/html; charset=utf-8",
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Representation::Json => "json",
            Representation::HtmlV1 => "htmlv1",
            Representation::Html => "html",
        }
    }
}

/// PEP 691 content negotiation: the acceptable type with the highest quality (earlier wins a
/// tie); HTML when the header is missing or names nothing we serve.
pub fn negotiate(accept: Option<&str>) -> Representation {
    let Some(accept) = accept else {
        return Representation::Html;
    };
    let mut best: Option<(f32, Representation)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        let repr =
            match media.as_str() {
                "application/vnd.pypi.simple.v1+json"
                | "application/vnd.pypi.simple.latest+json" => Representation::Json,
                "application/vnd.pypi.simple.v1+html"
                | "application/vnd.pypi.simple.latest+html" => Representation::HtmlV1,
                "text/html" | "text/*" | "*/*" => Representation::Html,
                _ => continue,
            };
        if q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, repr));
        }
    }
    best.map(|(_, r)| r).unwrap_or(Representation::Html)
}

/// One file on a project page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLink {
    pub filename: String,
    /// Absolute download URL, without a fragment.
    pub url: String,
    pub sha256: String,
    pub size: i64,
    /// Upload time, milliseconds since the epoch.
    pub uploaded_at: i64,
    pub requires_python: Option<String>,
    /// `Some(reason)` when yanked (the reason may be empty).
    pub yanked: Option<String>,
    /// sha256 of the core metadata served at `<url>.metadata`.
    pub core_metadata_sha256: Option<String>,
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn upload_time(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// The root page: every project name, linking to `{normalized}/`.
pub fn index_html(names: &[String]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Simple index</title>\n  </head>\n  <body>\n",
    );
    for n in names {
        let e = escape(n);
        out.push_str(&format!("    <a href=\"{e}/\">{e}</a><br/>\n"));
    }
    out.push_str("  </body>\n</html>\n");
    out
}

pub fn index_json(names: &[String]) -> String {
    let projects: Vec<Value> = names.iter().map(|n| json!({ "name": n })).collect();
    json!({ "meta": { "api-version": API_VERSION }, "projects": projects }).to_string()
}

/// One project's page. `files` in the order to show, `versions` in PEP 440 order.
pub fn project_html(name: &str, files: &[FileLink]) -> String {
    let title = escape(name);
    let mut out = format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Links for {title}</title>\n  </head>\n  <body>\n    <h1>Links for {title}</h1>\n"
    );
    for f in files {
        out.push_str(&format!(
            "    <a href=\"{}#sha256={}\"",
            escape(&f.url),
            escape(&f.sha256)
        ));
        if let Some(rp) = &f.requires_python {
            out.push_str(&format!(" data-requires-python=\"{}\"", escape(rp)));
        }
        if let Some(reason) = &f.yanked {
            out.push_str(&format!(" data-yanked=\"{}\"", escape(reason)));
        }
        if let Some(sha) = &f.core_metadata_sha256 {
            let v = escape(&format!("sha256={sha}"));
            out.push_str(&format!(
                " data-core-metadata=\"{v}\" data-dist-info-metadata=\"{v}\""
            ));
        }
        out.push_str(&format!(">{}</a><br/>\n", escape(&f.filename)));
    }
    out.push_str("  </body>\n</html>\n");
    out
}

pub fn project_json(name: &str, versions: &[String], files: &[FileLink]) -> String {
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            let metadata = match &f.core_metadata_sha256 {
                Some(sha) => json!({ "sha256": sha }),
                None => json!(false),
            };
            let yanked = match &f.yanked {
                None => json!(false),
                Some(r) if r.is_empty() => json!(true),
                Some(r) => json!(r),
            };
            let mut v = json!({
                "filename": f.filename,
                "url": f.url,
                "hashes": { "sha256": f.sha256 },
                "size": f.size,
                "upload-time": upload_time(f.uploaded_at),
                "yanked": yanked,
                "core-metadata": metadata,
                "dist-info-metadata": metadata,
            });
            if let Some(rp) = &f.requires_python {
                v["requires-python"] = json!(rp);
            }
            v
        })
        .collect();
    json!({
        "meta": { "api-version": API_VERSION },
        "name": name,
        "versions": versions,
        "files": files,
    })
    .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn link() -> FileLink {
        FileLink {
            filename: "demo-1.0-py3-none-any.whl".into(),
            url: "http://h/api/v4/projects/1/packages/pypi/files/abc/demo-1.0-py3-none-any.whl"
                .into(),
            sha256: "abc".into(),
            size: 10,
            uploaded_at: 1_700_000_000_000,
            requires_python: Some(">=3.8,<4".into()),
            yanked: Some("broken \"build\"".into()),
            core_metadata_sha256: Some("def".into()),
        }
    }

    #[test]
    fn accept_header_picks_the_representation() {
        assert_eq!(negotiate(None), Representation::Html);
        assert_eq!(negotiate(Some("text/html")), Representation::Html);
        assert_eq!(negotiate(Some(JSON_V1)), Representation::Json);
        assert_eq!(
            negotiate(Some(
                "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
            )),
            Representation::Json
        );
        assert_eq!(
            negotiate(Some("application/vnd.pypi.simple.v1+json;q=0.1, text/html")),
            Representation::Html
        );
        assert_eq!(negotiate(Some("image/png")), Representation::Html);
        assert_eq!(
            negotiate(Some("application/vnd.pypi.simple.latest+html")),
            Representation::HtmlV1
        );
    }

    #[test]
    fn project_html_escapes_and_carries_every_attribute() {
        let html = project_html("demo", &[link()]);
        assert!(html.contains(
            "<a href=\"http://h/api/v4/projects/1/packages/pypi/files/abc/demo-1.0-py3-none-any.whl#sha256=abc\" data-requires-python=\"&gt;=3.8,&lt;4\" data-yanked=\"broken &quot;build&quot;\" data-core-metadata=\"sha256=def\" data-dist-info-metadata=\"sha256=def\">demo-1.0-py3-none-any.whl</a><br/>"
        ), "{html}");
        assert!(html.contains("<meta name=\"pypi:repository-version\" content=\"1.1\">"));
    }

    #[test]
    fn project_json_has_pep_691_and_700_fields() {
        let mut plain = link();
        plain.yanked = None;
        plain.core_metadata_sha256 = None;
        plain.requires_python = None;
        let v: Value =
            serde_json::from_str(&project_json("demo", &["1.0".into()], &[link(), plain])).unwrap();
        assert_eq!(v["meta"]["api-version"], "1.1");
        assert_eq!(v["versions"], json!(["1.0"]));
        let f = &v["files"][0];
        assert_eq!(f["hashes"]["sha256"], "abc");
        assert_eq!(f["size"], 10);
        assert_eq!(f["upload-time"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(f["yanked"], "broken \"build\"");
        assert_eq!(f["requires-python"], ">=3.8,<4");
        assert_eq!(f["core-metadata"], json!({"sha256": "def"}));
        let g = &v["files"][1];
        assert_eq!(g["yanked"], false);
        assert_eq!(g["core-metadata"], false);
        assert!(g.get("requires-python").is_none());
    }

    #[test]
    fn index_pages_list_names() {
        let names = vec!["a-b".to_string(), "c".to_string()];
        assert!(index_html(&names).contains("<a href=\"a-b/\">a-b</a><br/>"));
        let v: Value = serde_json::from_str(&index_json(&names)).unwrap();
        assert_eq!(v["projects"], json!([{"name": "a-b"}, {"name": "c"}]));
    }
}
