//! The function-URL contract, version [`contract::API_VERSION`]. Pure: bytes in,
//! typed request or [`ApiError`] out; typed answer in, JSON out.
//!
//! Request: `POST` with a JSON object body of at most [`MAX_BODY_BYTES`] bytes:
//! `{"customer": "<id>", "kind": "standard" | "phr" | "self-test", "api_version": "1"}`.
//! `kind` defaults to `standard`, `api_version` to the current one; unknown
//! fields are rejected. `customer` is required for `standard` and `phr`.

use crate::contract;

pub use contract::api::{
    AccountReport, BucketResponse, ErrorCode, Kind, MAX_BODY_BYTES, RequestBody, SelfTestResponse,
};

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
    /// Stable machine-readable code, e.g. `unknown_field`; it carries the status.
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status of [`Self::code`].
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The JSON body: `{"api_version", "error", "message"}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(contract::api::ErrorBody {
            api_version: contract::API_VERSION.to_owned(),
            error: self.code,
            message: self.message.clone(),
        })
        .unwrap_or_default()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Checks method and size, then parses the body. Never panics on any input.
pub fn parse_request(method: &str, body: &[u8]) -> Result<Request, ApiError> {
    if !method.eq_ignore_ascii_case("POST") {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method {method} is not allowed; use POST with a JSON body"),
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            ErrorCode::BodyTooLarge,
            format!(
                "request body is {} bytes; the limit is {MAX_BODY_BYTES}",
                body.len()
            ),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::EmptyBody,
            "request body is empty; send a JSON object such as {\"customer\": \"acme\"}",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidUtf8,
            format!("request body is not UTF-8: {e}"),
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RequestBody = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        let msg = e.to_string();
        let code = if msg.starts_with("unknown field") {
            ErrorCode::UnknownField
        } else if msg.starts_with("unknown variant") {
            ErrorCode::UnknownKind
        } else if e.is_data() {
            ErrorCode::InvalidField
        } else {
            ErrorCode::MalformedJson
        };
        let place = if path == "." || path.is_empty() {
            "request body".to_owned()
        } else {
            format!("request body, field `{path}`")
        };
        ApiError::new(code, format!("{place}: {msg}"))
    })?;
    de.end()
        .map_err(|e| ApiError::new(ErrorCode::MalformedJson, format!("request body: {e}")))?;
    if let Some(v) = &raw.api_version
        && v != contract::API_VERSION
    {
        return Err(ApiError::new(
            ErrorCode::UnsupportedApiVersion,
            format!(
                "api_version {v:?} is not supported; this service speaks {:?}",
                contract::API_VERSION
            ),
        ));
    }
    let customer = |c: Option<String>| -> Result<String, ApiError> {
        let c = c.ok_or_else(|| {
            ApiError::new(ErrorCode::MissingCustomer, "field `customer` is required")
        })?;
        contract::check_customer_id(&c).map_err(|e| {
            ApiError::new(ErrorCode::InvalidCustomer, format!("field `customer`: {e}"))
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
            Some(_) => Err(ApiError::new(
                ErrorCode::InvalidField,
                "field `customer` is not allowed with kind \"self-test\"",
            )),
        },
    }
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
