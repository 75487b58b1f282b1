//! Parameters of the package administration endpoints (protection rules, cleanup policy,
//! package settings), merged from the query string, a form body and a JSON body as GitLab's
//! Grape does (spec §0): python-gitlab sends JSON, curl recipes send forms or query strings.
//! Errors have Grape's shapes: `{"error": "<param> is missing"}` and
//! `{"error": "<param> does not have a valid value"}`.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest};
use serde_json::Value;

use packyard_core::ApiError;

/// A parameters body larger than this is a client mistake.
const BODY_LIMIT: usize = 64 * 1024;

pub(crate) struct Params(HashMap<String, Value>);

pub(crate) fn missing(name: &str) -> ApiError {
    ApiError::error(StatusCode::BAD_REQUEST, format!("{name} is missing"))
}

pub(crate) fn invalid(name: &str) -> ApiError {
    ApiError::error(
        StatusCode::BAD_REQUEST,
        format!("{name} does not have a valid value"),
    )
}

/// A boolean as Grape coerces one: `true`/`false`, `1`/`0`, `t`/`f`, `yes`/`no`, `on`/`off`,
/// any case (python-gitlab sends Python's `True`).
pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "t" | "yes" | "y" | "on" => Some(true),
        "false" | "0" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

impl Params {
    /// The query string, then a form or JSON body over it.
    pub(crate) async fn read(req: &HttpRequest, body: web::Payload) -> Result<Params, ApiError> {
        let mut params = HashMap::new();
        let pairs = |s: &str| -> Result<Vec<(String, String)>, ApiError> {
            web::Query::<Vec<(String, String)>>::from_query(s)
                .map(web::Query::into_inner)
                .map_err(|_| ApiError::invalid_param("query"))
        };
        for (k, v) in pairs(req.query_string())? {
            params.insert(k, Value::String(v));
        }
        let bytes = match body.to_bytes_limited(BODY_LIMIT).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => {
                return Err(ApiError::bad_request(
                    "the request body ended before it was complete",
                ))
            }
            Err(_) => return Err(ApiError::payload_too_large(BODY_LIMIT as u64)),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params(params));
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("application/json") {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => params.extend(map),
                _ => return Err(ApiError::bad_request("the body is not a JSON object")),
            }
        } else {
            // curl -d sends application/x-www-form-urlencoded; treat any other text body
            // the same way, as Grape does for a missing content type.
            let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::invalid_param("body"))?;
            for (k, v) in pairs(text)? {
                params.insert(k, Value::String(v));
            }
        }
        Ok(Params(params))
    }

    #[cfg(test)]
    pub(crate) fn from_json(v: Value) -> Params {
        match v {
            Value::Object(m) => Params(m.into_iter().collect()),
            _ => Params(HashMap::new()),
        }
    }

    /// Whether the parameter was sent (even as null or empty).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// A string parameter; `None` when absent. Numbers are taken as their text.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(invalid(name)),
        }
    }

    /// A required non-blank string parameter.
    pub(crate) fn required(&self, name: &str) -> Result<String, ApiError> {
        match self.string(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(missing(name)),
        }
    }

    /// A boolean parameter (`true`/`false`, also as strings and 1/0 like Grape).
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => parse_bool(s).map(Some).ok_or_else(|| invalid(name)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(1) => Ok(Some(true)),
                Some(0) => Ok(Some(false)),
                _ => Err(invalid(name)),
            },
            Some(_) => Err(invalid(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_read_in_every_shape_clients_send() {
        let p = Params::from_json(json!({
            "a": "x", "n": 10, "t": "true", "f": false, "bad": [1], "blank": " "
        }));
        assert_eq!(p.string("a").ok().flatten().as_deref(), Some("x"));
        assert_eq!(p.string("n").ok().flatten().as_deref(), Some("10"));
        assert_eq!(p.boolean("t").ok().flatten(), Some(true));
        assert_eq!(p.boolean("f").ok().flatten(), Some(false));
        assert!(p.boolean("a").is_err());
        assert!(p.string("bad").is_err());
        assert!(p.required("blank").is_err());
        assert!(p.required("absent").is_err());
        assert!(p.has("blank") && !p.has("absent"));
    }
}
