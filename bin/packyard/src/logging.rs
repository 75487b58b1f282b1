//! Request logging: one span per request carrying a request id, so every log line written
//! while serving it names the request. The query string is never recorded, because GitLab
//! clients may put tokens there (`?private_token=`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::Error;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = uuid::Uuid::new_v4();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.path(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if let Ok(res) = outcome {
            span.record("status", res.status().as_u16());
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
