//! HTTP glue: a function-URL (API Gateway v2 shaped) request in, a JSON
//! response out. Every outcome is a response with a status; nothing panics.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::{Instrument, info, info_span, warn};

use crate::api::{self, ApiError};
use crate::service::{Answer, Provisioner};

/// The request ID of the invocation (Lambda context, else the URL event's).
pub fn request_id(req: &Request) -> String {
    if let Some(ctx) = req.lambda_context_ref()
        && !ctx.request_id.is_empty()
    {
        return ctx.request_id.clone();
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

fn json(status: u16, value: &serde_json::Value, request_id: &str) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if !request_id.is_empty() {
        builder = builder.header("x-request-id", request_id);
    }
    builder
        .body(Body::Text(value.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Text(value.to_string())))
}

/// Answers one HTTP request.
pub async fn handle(p: &Provisioner, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let rid = request_id(&req);
    let span = info_span!("request", request_id = %rid);
    let calls_before = p.clients().counter.get();
    Ok(async {
        let body: &[u8] = match req.body() {
            Body::Empty => b"",
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => b"",
        };
        let outcome = match api::parse_request(req.method().as_str(), body) {
            Ok(parsed) => p.answer(parsed).await,
            Err(e) => Err(e),
        };
        // AWS HTTP calls made while answering (exact: Lambda runs one request at a time).
        let aws_calls = p.clients().counter.get().saturating_sub(calls_before);
        match outcome {
            Ok(Answer::Bucket(r)) => {
                info!(event = "answered", status = 200, bucket = %r.bucket, account_id = %r.account_id, created = r.created, aws_calls);
                json(200, &serde_json::to_value(&r).unwrap_or_default(), &rid)
            }
            Ok(Answer::SelfTest(r)) => {
                info!(event = "answered", status = 200, ok = r.ok, aws_calls);
                json(200, &serde_json::to_value(&r).unwrap_or_default(), &rid)
            }
            Err(ApiError { status, code, message }) => {
                warn!(event = "rejected", status, error = code, message = %message, aws_calls);
                json(status, &ApiError { status, code, message }.body(), &rid)
            }
        }
    }
    .instrument(span)
    .await)
}
