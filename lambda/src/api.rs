//! The function-URL contract, version [`contract::API_VERSION`]. Pure: bytes in,
//! typed request or [`ApiError`] out; typed answer in, JSON out.
//!
//! Request: `POST` with a JSON object body of at most [`MAX_BODY_BYTES`] bytes:
//! `{"customer": "<id>", "kind": "standard" | "phr" | "self-test", "api_version": "1"}`.
//! `kind` defaults to `standard`, `api_version` to the current one; unknown
//! fields are rejected. `customer` is required for `standard` and `phr`.

use serde::{Deserialize, Serialize};

use crate::contract;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 4096;

/// What the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The customer's own bucket, created on first request.
    #[default]
    Standard,
    /// The shared PHR bucket, answered from configuration.
    Phr,
    /// Assume every storage role and report trust, bucket count and headroom.
    SelfTest,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    customer: Option<String>,
    #[serde(default)]
    kind: Kind,
    api_version: Option<String>,
}

/// A parsed, validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Standard { customer: String },
    Phr { customer: String },
    SelfTest,
}

/// A request that is answered with an error status and a JSON body naming the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// Stable machine-readable code, e.g. `unknown_field`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }

    /// The JSON body: `{"api_version", "error", "message"}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "api_version": contract::API_VERSION,
            "error": self.code,
            "message": self.message,
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Checks method and size, then parses the body. Never panics on any input.
pub fn parse_request(method: &str, body: &[u8]) -> Result<Request, ApiError> {
    if !method.eq_ignore_ascii_case("POST") {
        return Err(ApiError::new(
            405,
            "method_not_allowed",
            format!("method {method} is not allowed; use POST with a JSON body"),
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            413,
            "body_too_large",
            format!(
                "request body is {} bytes; the limit is {MAX_BODY_BYTES}",
                body.len()
            ),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "empty_body",
            "request body is empty; send a JSON object such as {\"customer\": \"acme\"}",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad_request("invalid_utf8", format!("request body is not UTF-8: {e}"))
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawRequest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        let msg = e.to_string();
        let code = if msg.starts_with("unknown field") {
            "unknown_field"
        } else if msg.starts_with("unknown variant") {
            "unknown_kind"
        } else if e.is_data() {
            "invalid_field"
        } else {
            "malformed_json"
        };
        let place = if path == "." || path.is_empty() {
            "request body".to_owned()
        } else {
            format!("request body, field `{path}`")
        };
        ApiError::bad_request(code, format!("{place}: {msg}"))
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body: {e}")))?;
    if let Some(v) = &raw.api_version
        && v != contract::API_VERSION
    {
        return Err(ApiError::bad_request(
            "unsupported_api_version",
            format!(
                "api_version {v:?} is not supported; this service speaks {:?}",
                contract::API_VERSION
            ),
        ));
    }
    let customer = |c: Option<String>| -> Result<String, ApiError> {
        let c = c.ok_or_else(|| {
            ApiError::bad_request("missing_customer", "field `customer` is required")
        })?;
        contract::check_customer_id(&c).map_err(|e| {
            ApiError::bad_request("invalid_customer", format!("field `customer`: {e}"))
        })?;
        Ok(c)
    };
    match raw.kind {
        Kind::Standard => Ok(Request::Standard {
            customer: customer(raw.customer)?,
        }),
        Kind::Phr => Ok(Request::Phr {
            customer: customer(raw.customer)?,
        }),
        Kind::SelfTest => match raw.customer {
            None => Ok(Request::SelfTest),
            Some(_) => Err(ApiError::bad_request(
                "invalid_field",
                "field `customer` is not allowed with kind \"self-test\"",
            )),
        },
    }
}

/// The answer for `standard` and `phr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketResponse {
    pub api_version: String,
    pub kind: Kind,
    pub customer: String,
    pub bucket: String,
    pub account_id: String,
    pub region: String,
    pub arn: String,
    /// True only when this very call created the bucket.
    pub created: bool,
}

/// One storage account in a self-test answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountReport {
    pub account_id: String,
    /// `sts:AssumeRole` of the account's `S3BucketManager` role succeeded.
    pub trust_ok: bool,
    /// Buckets with the customer prefix (absent when they could not be listed).
    pub bucket_count: Option<usize>,
    /// `max_buckets_per_account - counter` (the listing when there is no counter).
    pub headroom: Option<usize>,
    /// The account's counter in the provisioning-state table (absent before
    /// the account's first new customer, or when the table could not be read).
    #[serde(default)]
    pub counter: Option<usize>,
    /// `counter - bucket_count`: positive while creates are in flight or after
    /// buckets were deleted by hand, negative after buckets were created by hand.
    #[serde(default)]
    pub drift: Option<i64>,
    pub error: Option<String>,
}

/// The answer for `self-test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfTestResponse {
    pub api_version: String,
    pub kind: Kind,
    pub ok: bool,
    pub environment: String,
    pub region: String,
    pub max_buckets_per_account: usize,
    /// Why the provisioning-state table could not be read (then `ok` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
    pub accounts: Vec<AccountReport>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!(
            parse_request("POST", br#"{"customer":"acme"}"#).unwrap(),
            Request::Standard {
                customer: "acme".into()
            }
        );
        assert_eq!(
            parse_request(
                "post",
                br#"{"customer":"acme","kind":"phr","api_version":"1"}"#
            )
            .unwrap(),
            Request::Phr {
                customer: "acme".into()
            }
        );
        assert_eq!(
            parse_request("POST", br#"{"kind":"self-test"}"#).unwrap(),
            Request::SelfTest
        );
    }

    #[test]
    fn rejects_with_codes() {
        let code = |m: &str, b: &[u8]| parse_request(m, b).unwrap_err().code;
        assert_eq!(code("GET", b""), "method_not_allowed");
        assert_eq!(code("POST", b"  "), "empty_body");
        assert_eq!(code("POST", br#"{"customer":"a","x":1}"#), "unknown_field");
        assert_eq!(
            code("POST", br#"{"customer":"a","kind":"gold"}"#),
            "unknown_kind"
        );
        assert_eq!(code("POST", br#"{"customer":1}"#), "invalid_field");
        assert_eq!(code("POST", b"{"), "malformed_json");
        assert_eq!(code("POST", &[0xff, 0xfe]), "invalid_utf8");
        assert_eq!(code("POST", br#"{}"#), "missing_customer");
        assert_eq!(code("POST", br#"{"customer":"  "}"#), "invalid_customer");
        assert_eq!(
            code("POST", br#"{"customer":"a","api_version":"2"}"#),
            "unsupported_api_version"
        );
        assert_eq!(code("POST", &[b' '; MAX_BODY_BYTES + 1]), "body_too_large");
    }
}
