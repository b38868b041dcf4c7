//! HTTP glue: a function-URL (API Gateway v2 shaped) request in, a JSON
//! response out. Every outcome is a response with a status; nothing panics.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::{Instrument, info, info_span, warn};

use crate::api::{self, ApiError, ErrorCode};
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
            Err(err) => {
                let status = err.status();
                warn!(event = "rejected", status, error = err.code.as_str(), message = %err.message, aws_calls);
                json(status, &err.body(), &rid)
            }
        }
    }
    .instrument(span)
    .await)
}

/// Checks a raw invocation event before `lambda_http` turns it into a
/// [`Request`]. `lambda_http` panics (`failed to decode aws base64 encoded
/// body`) on a function-URL event that says `isBase64Encoded: true` with a body
/// that is not base64 (a direct `Invoke` can send one); that event is answered
/// here with 400 `invalid_body` instead. `None`: the event may go on.
pub fn check_event(event: &serde_json::Value) -> Option<ApiError> {
    use base64::Engine;
    let encoded = event.get("isBase64Encoded").and_then(|v| v.as_bool());
    if encoded == Some(true)
        && let Some(body) = event.get("body").and_then(|b| b.as_str())
        && base64::engine::general_purpose::STANDARD
            .decode(body)
            .is_err()
    {
        return Some(ApiError::new(
            ErrorCode::InvalidBody,
            "isBase64Encoded is true but the body is not valid base64",
        ));
    }
    None
}

/// A function-URL (API Gateway v2 payload 2.0) response for an event that never
/// reached [`handle`]: a rejected or unreadable event. Logged as `rejected`.
pub fn event_error_response(err: &ApiError, request_id: &str) -> serde_json::Value {
    warn!(event = "rejected", status = err.status(), error = err.code.as_str(), message = %err.message, request_id, aws_calls = 0);
    let mut headers = serde_json::json!({"content-type": "application/json"});
    if !request_id.is_empty() {
        headers["x-request-id"] = serde_json::Value::String(request_id.to_owned());
    }
    serde_json::json!({
        "statusCode": err.status(),
        "headers": headers,
        "body": err.body().to_string(),
        "isBase64Encoded": false,
        "cookies": [],
    })
}

/// Answers one raw invocation event: what `lambda_http::run(handle)` does,
/// with the event checked first ([`check_event`]) and the event-to-request
/// conversion guarded, so **no event makes the runtime panic**: an event that
/// is not a function-URL request, or one `lambda_http` cannot represent, gets a
/// 400 JSON answer like any other bad request. `main` serves exactly this.
pub async fn handle_event(
    p: &Provisioner,
    payload: serde_json::Value,
    context: lambda_http::Context,
) -> Result<serde_json::Value, lambda_http::Error> {
    use lambda_http::request::LambdaRequest;
    use lambda_http::{Adapter, LambdaEvent, Service, service_fn};
    let rid = context.request_id.clone();
    if let Some(err) = check_event(&payload) {
        return Ok(event_error_response(&err, &rid));
    }
    let req: LambdaRequest = match serde_json::from_value(payload) {
        Ok(r) => r,
        Err(e) => {
            let err = ApiError::new(
                ErrorCode::InvalidEvent,
                format!("not a function URL event: {e}"),
            );
            return Ok(event_error_response(&err, &rid));
        }
    };
    let mut adapter: Adapter<'_, _, _> = Adapter::from(service_fn(|req: Request| handle(p, req)));
    // The conversion runs synchronously inside `call`; a panic there becomes a 400.
    let fut = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        adapter.call(LambdaEvent::new(req, context))
    })) {
        Ok(fut) => fut,
        Err(_) => {
            let err = ApiError::new(
                ErrorCode::InvalidEvent,
                "the event cannot be read as a function URL request",
            );
            return Ok(event_error_response(&err, &rid));
        }
    };
    Ok(serde_json::to_value(fut.await?)?)
}
