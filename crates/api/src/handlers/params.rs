//! Request parameters and list pagination the way GitLab's API takes them (spec §0, §2.7,
//! <https://docs.gitlab.com/api/rest/#pagination>).
//!
//! Parameters arrive in the query string, a form body or a JSON body (python-gitlab sends
//! `POST /projects?name=..` with `{}`): all three are merged, the body winning. Arrays come
//! as `key[]=a&key[]=b`, a JSON array, or (for `scopes`) a plain or comma-separated string.
//! Unknown parameters are ignored; a bad value is 400 `{"error": "<param> does not have a
//! valid value"}` and a missing one 400 `{"error": "<param> is missing"}`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use packyard_core::model::{
    AccessLevel, ListOptions, ListOrder, Listing, Page, Paging, Visibility,
};
use packyard_core::pagination;
use packyard_core::{ApiError, Registry};

/// Parameters fit in a small body; a larger one is a client mistake.
const BODY_LIMIT: usize = 64 * 1024;

pub struct Params(Map<String, Value>);

fn missing(name: &str) -> ApiError {
    ApiError::error(StatusCode::BAD_REQUEST, format!("{name} is missing"))
}

pub fn invalid(name: &str) -> ApiError {
    ApiError::error(
        StatusCode::BAD_REQUEST,
        format!("{name} does not have a valid value"),
    )
}

/// Adds `key=value` pairs, collecting `key[]` into arrays under `key`.
fn add_pairs(map: &mut Map<String, Value>, text: &str) -> Result<(), ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(text)
        .map_err(|_| ApiError::invalid_param("query"))?
        .into_inner();
    for (k, v) in pairs {
        match k.strip_suffix("[]") {
            Some(base) => match map.get_mut(base) {
                Some(Value::Array(items)) => items.push(Value::String(v)),
                _ => {
                    map.insert(base.to_owned(), Value::Array(vec![Value::String(v)]));
                }
            },
            None => {
                map.insert(k, Value::String(v));
            }
        }
    }
    Ok(())
}

impl Params {
    /// The query string only (GET, DELETE without a body).
    pub fn query(req: &HttpRequest) -> Result<Params, ApiError> {
        let mut map = Map::new();
        add_pairs(&mut map, req.query_string())?;
        Ok(Params(map))
    }

    /// Query string, then a JSON or form body over it.
    pub async fn merged(req: &HttpRequest, body: web::Payload) -> Result<Params, ApiError> {
        let mut params = Params::query(req)?;
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
            return Ok(params);
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => params.0.extend(map),
                _ => return Err(ApiError::bad_request("the body is not a JSON object")),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::invalid_param("body"))?;
            add_pairs(&mut params.0, text)?;
        } else if content_type.starts_with("multipart/form-data") {
            return Err(ApiError::bad_request(
                "send parameters as JSON, a form or the query string",
            ));
        }
        Ok(params)
    }

    #[cfg(test)]
    pub fn from_json(v: Value) -> Params {
        match v {
            Value::Object(m) => Params(m),
            _ => Params(Map::new()),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        match self.0.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A string (numbers and booleans are taken as their text).
    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(invalid(name)),
        }
    }

    /// A string that must be there and not blank.
    pub fn required(&self, name: &str) -> Result<String, ApiError> {
        match self.string(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(missing(name)),
        }
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(name)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid(name)),
            Some(_) => Err(invalid(name)),
        }
    }

    pub fn required_integer(&self, name: &str) -> Result<i64, ApiError> {
        self.integer(name)?.ok_or_else(|| missing(name))
    }

    /// Grape's booleans: `true/false`, `1/0`, `yes/no`, `t/f`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(1) => Ok(Some(true)),
                Some(0) => Ok(Some(false)),
                _ => Err(invalid(name)),
            },
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "t" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "f" | "off" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(invalid(name)),
            },
            Some(_) => Err(invalid(name)),
        }
    }

    /// An array: `key[]=`, a JSON array, or a plain/comma-separated string.
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let items: Vec<String> = match self.get(name) {
            None => return Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(invalid(name)),
                })
                .collect::<Result<_, _>>()?,
            Some(Value::String(s)) => s.split(',').map(str::to_owned).collect(),
            Some(_) => return Err(invalid(name)),
        };
        Ok(Some(
            items
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        ))
    }

    pub fn visibility(&self, name: &str) -> Result<Option<Visibility>, ApiError> {
        self.string(name)?
            .map(|s| Visibility::parse(&s).ok_or_else(|| invalid(name)))
            .transpose()
    }

    pub fn access_level(&self, name: &str) -> Result<Option<AccessLevel>, ApiError> {
        self.integer(name)?
            .map(|n| {
                i16::try_from(n)
                    .ok()
                    .and_then(AccessLevel::from_i16)
                    .ok_or_else(|| invalid(name))
            })
            .transpose()
    }

    /// `YYYY-MM-DD`; a full ISO 8601 time is cut to its date. An empty string is `Some(None)`
    /// (clears the date).
    pub fn date(&self, name: &str) -> Result<Option<Option<String>>, ApiError> {
        let Some(s) = self.string(name)? else {
            return Ok(None);
        };
        let s = s.trim();
        if s.is_empty() {
            return Ok(Some(None));
        }
        let day = s.get(..10).unwrap_or(s);
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map(|d| Some(Some(d.format("%Y-%m-%d").to_string())))
            .map_err(|_| invalid(name))
    }

    /// A point in time (`2024-01-01` or RFC 3339), as milliseconds.
    pub fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let Some(s) = self.string(name)? else {
            return Ok(None);
        };
        let s = s.trim();
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
            return Ok(Some(t.timestamp_millis()));
        }
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Some(t.and_utc().timestamp_millis()))
            .ok_or_else(|| invalid(name))
    }

    /// `page`/`per_page` (offset pagination).
    pub fn page(&self) -> Result<Page, ApiError> {
        pagination::page_from(
            self.string("page")?.as_deref(),
            self.string("per_page")?.as_deref(),
        )
    }

    /// Order and paging of a listing: `order_by` among `orders` (default the first),
    /// `sort` (`asc|desc`, default `default_desc`), and offset or, when `keyset` is allowed
    /// and `pagination=keyset`, keyset pages on `id` (`id_after`).
    pub fn list_options(
        &self,
        orders: &[(&str, ListOrder)],
        default_desc: bool,
        keyset: bool,
    ) -> Result<ListOptions, ApiError> {
        let order = match self.string("order_by")? {
            None => orders.first().map(|o| o.1).unwrap_or_default(),
            Some(s) => orders
                .iter()
                .find(|(name, _)| *name == s)
                .map(|o| o.1)
                .ok_or_else(|| invalid("order_by"))?,
        };
        let descending = match self.string("sort")?.as_deref() {
            None => default_desc,
            Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(invalid("sort")),
        };
        let page = self.page()?;
        let paging = match self.string("pagination")?.as_deref() {
            Some("keyset") if keyset => {
                if order != ListOrder::Id {
                    return Err(ApiError::error(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "Keyset pagination is not yet available for this type of request",
                    ));
                }
                Paging::Keyset {
                    per_page: page.per_page,
                    after_id: self.integer("id_after")?,
                }
            }
            Some("keyset") | Some("offset") | None => Paging::Offset(page),
            Some(_) => return Err(invalid("pagination")),
        };
        Ok(ListOptions {
            order,
            descending,
            paging,
        })
    }
}

/// The raw query without `drop` and without any credential parameter, for `Link` URLs.
fn query_without(query: &str, drop: &[&str]) -> String {
    packyard_core::credentials::query_without(query, drop)
}

/// A JSON array page with GitLab's pagination headers: `x-*` and `Link` for offset pages,
/// only `Link rel="next"` (carrying `id_after`) for keyset pages.
pub fn page_response(
    req: &HttpRequest,
    registry: &Registry,
    paging: Paging,
    total: Option<i64>,
    last_id: Option<i64>,
    items: Vec<Value>,
) -> HttpResponse {
    let full = registry.url(req.path());
    let mut resp = HttpResponse::Ok();
    match paging {
        Paging::Offset(page) => {
            let rest = query_without(req.query_string(), &["page", "per_page"]);
            let url = if rest.is_empty() {
                full
            } else {
                format!("{full}?{rest}")
            };
            for (k, v) in pagination::headers(page, total.unwrap_or(0), &url) {
                resp.insert_header((k, v));
            }
        }
        Paging::Keyset { per_page, .. } => {
            resp.insert_header(("x-per-page", per_page.to_string()));
            if let (true, Some(last)) = (items.len() as i64 >= per_page, last_id) {
                let rest = query_without(req.query_string(), &["id_after", "per_page", "page"]);
                let sep = if rest.is_empty() { "" } else { "&" };
                resp.insert_header((
                    "link",
                    format!(
                        "<{full}?{rest}{sep}id_after={last}&per_page={per_page}>; rel=\"next\""
                    ),
                ));
            }
        }
    }
    resp.content_type("application/json")
        .body(Value::Array(items).to_string())
}

/// [`page_response`] for a catalog listing, with a view per row and its id for keyset.
pub fn listing_response<T>(
    req: &HttpRequest,
    registry: &Registry,
    paging: Paging,
    listing: &Listing<T>,
    id: impl Fn(&T) -> i64,
    view: impl Fn(&T) -> Value,
) -> HttpResponse {
    let last = listing.items.last().map(&id);
    let items = listing.items.iter().map(view).collect();
    page_response(req, registry, paging, listing.total, last, items)
}

/// `Paging::Offset` for a page parsed from the params.
pub fn offset(page: Page) -> Paging {
    Paging::Offset(page)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_come_as_arrays_or_comma_separated_strings() {
        let p =
            Params::from_json(json!({"a": ["api", "read_api"], "b": "api, read_user", "c": "api"}));
        assert_eq!(p.list("a").unwrap().unwrap(), ["api", "read_api"]);
        assert_eq!(p.list("b").unwrap().unwrap(), ["api", "read_user"]);
        assert_eq!(p.list("c").unwrap().unwrap(), ["api"]);
        assert!(p.list("d").unwrap().is_none());
    }

    #[test]
    fn bracket_pairs_collect_into_arrays() {
        let mut m = Map::new();
        add_pairs(&mut m, "scopes[]=api&scopes[]=read_api&name=x").unwrap();
        let p = Params(m);
        assert_eq!(p.list("scopes").unwrap().unwrap(), ["api", "read_api"]);
        assert_eq!(p.required("name").unwrap(), "x");
    }

    #[test]
    fn bad_and_missing_values_name_the_parameter() {
        let p = Params::from_json(
            json!({"visibility": "secret", "access_level": 11, "n": "x", "blank": " "}),
        );
        assert_eq!(
            p.visibility("visibility").unwrap_err().to_string(),
            r#"400 Bad Request {"error":"visibility does not have a valid value"}"#
        );
        assert!(p.access_level("access_level").is_err());
        assert!(p.integer("n").is_err());
        assert_eq!(
            p.required("blank").unwrap_err().to_string(),
            r#"400 Bad Request {"error":"blank is missing"}"#
        );
        assert_eq!(
            p.required("absent").unwrap_err().to_string(),
            r#"400 Bad Request {"error":"absent is missing"}"#
        );
    }

    #[test]
    fn booleans_and_dates_accept_gitlab_spellings() {
        let p = Params::from_json(
            json!({"a": "true", "b": 0, "c": "2030-01-02T00:00:00Z", "d": "", "e": "maybe"}),
        );
        assert_eq!(p.boolean("a").unwrap(), Some(true));
        assert_eq!(p.boolean("b").unwrap(), Some(false));
        assert!(p.boolean("e").is_err());
        assert_eq!(p.date("c").unwrap(), Some(Some("2030-01-02".into())));
        assert_eq!(p.date("d").unwrap(), Some(None));
        assert!(p.date("e").is_err());
        assert_eq!(p.time("c").unwrap(), Some(1_893_542_400_000));
    }

    #[test]
    fn keyset_needs_order_by_id_and_unknown_orders_are_refused() {
        let orders = [("id", ListOrder::Id), ("name", ListOrder::Name)];
        let p =
            Params::from_json(json!({"pagination": "keyset", "order_by": "id", "id_after": "7"}));
        let o = p.list_options(&orders, false, true).unwrap();
        assert_eq!(
            o.paging,
            Paging::Keyset {
                per_page: 20,
                after_id: Some(7)
            }
        );
        let p = Params::from_json(json!({"pagination": "keyset", "order_by": "name"}));
        assert_eq!(
            p.list_options(&orders, false, true).unwrap_err().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        let p = Params::from_json(json!({"order_by": "stars"}));
        assert!(p.list_options(&orders, false, true).is_err());
    }
}
