//! Prometheus metrics at `/-/metrics`: requests by route and status, latency, bytes in and out.
//!
//! Every label comes from a bounded set, so that no request can add series at will: the route
//! *pattern* (`/api/v4/projects/{id}/packages`, or `unmatched`), never the raw path; the
//! method when it is a standard one, else `other`; the status code.

use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry as PromRegistry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteOnly {
    route: String,
}

pub struct Metrics {
    registry: Mutex<PromRegistry>,
    requests: Family<RouteLabels, Counter>,
    latency: Family<RouteOnly, Histogram>,
    bytes_in: Family<RouteOnly, Counter>,
    bytes_out: Family<RouteOnly, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = PromRegistry::with_prefix("packyard");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteOnly, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let bytes_in = Family::<RouteOnly, Counter>::default();
        let bytes_out = Family::<RouteOnly, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to the response head",
            latency.clone(),
        );
        registry.register(
            "http_request_bytes",
            "Declared request body bytes",
            bytes_in.clone(),
        );
        registry.register(
            "http_response_bytes",
            "Sized response body bytes",
            bytes_out.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            bytes_in,
            bytes_out,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(reg) = self.registry.lock() {
            // Encoding into a String cannot fail.
            let _ = prometheus_client::encoding::text::encode(&mut out, &reg);
        }
        out
    }
}

/// Middleware recording one request.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let start = Instant::now();
    let method = method_label(req.method()).to_owned();
    let declared_in: u64 = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let res = next.call(req).await?;
    tracing::info!(
        status = res.status().as_u16(),
        elapsed_ms = start.elapsed().as_secs_f64() * 1000.0,
        "{} {}",
        res.request().method(),
        res.request().path()
    );
    if let Some(m) = metrics {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        let status = res.status().as_u16();
        m.requests
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
                status,
            })
            .inc();
        let r = RouteOnly { route };
        m.latency
            .get_or_create(&r)
            .observe(start.elapsed().as_secs_f64());
        m.bytes_in.get_or_create(&r).inc_by(declared_in);
        if let BodySize::Sized(n) = res.response().body().size() {
            m.bytes_out.get_or_create(&r).inc_by(n);
        }
    }
    Ok(res)
}

/// The method as a metric label: the standard methods by name, anything else (`XMETH123`,
/// which a client may invent per request) as `other`.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |(_, name)| name)
}

pub async fn endpoint(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::Method;

    #[test]
    fn standard_methods_keep_their_name_and_others_are_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        for invented in ["XMETH123", "get", "PROPFIND"] {
            let m = Method::from_bytes(invented.as_bytes()).expect("a token");
            assert_eq!(method_label(&m), "other", "{invented}");
        }
    }
}
