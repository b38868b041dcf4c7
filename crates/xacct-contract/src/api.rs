//! The function-URL wire types, version [`crate::API_VERSION`]: the request
//! body, the answers (one bucket, the self-test report) and the error codes with
//! their HTTP status. The Lambda parses and answers with them
//! (`xacct_provisioner::api`); `xacct verify` sends the self-test request and
//! reads its report with them. Types only: no I/O, no parsing policy.
//!
//! Request: `POST` with a JSON object body of at most [`MAX_BODY_BYTES`] bytes:
//! `{"customer": "<id>", "kind": "standard" | "phr" | "self-test", "api_version": "1"}`.
//! `kind` defaults to `standard`, `api_version` to the current one; unknown
//! fields are rejected. `customer` is required for `standard` and `phr`.

use serde::{Deserialize, Serialize};

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

/// The request body as sent (absent fields are not written).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    // No `default` on the options: an absent key is `None` anyway, and a JSON
    // array (which serde would read field by field) stays an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default)]
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

impl RequestBody {
    /// `{"kind": "self-test", "api_version": "<current>"}`.
    pub fn self_test() -> RequestBody {
        RequestBody {
            customer: None,
            kind: Kind::SelfTest,
            api_version: Some(crate::API_VERSION.to_owned()),
        }
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
    #[serde(default)]
    pub trust_ok: bool,
    /// Buckets with the customer prefix (absent when they could not be listed).
    #[serde(default)]
    pub bucket_count: Option<usize>,
    /// `max_buckets_per_account - counter` (the listing when there is no
    /// counter). Signed, like `xacct verify`'s headroom: a lowered maximum can
    /// leave an account above it (the Lambda reports 0 then).
    #[serde(default)]
    pub headroom: Option<i64>,
    /// The account's counter in the provisioning-state table (absent before
    /// the account's first new customer, or when the table could not be read).
    #[serde(default)]
    pub counter: Option<usize>,
    /// `counter - bucket_count`: positive while creates are in flight or after
    /// buckets were deleted by hand, negative after buckets were created by hand.
    #[serde(default)]
    pub drift: Option<i64>,
    #[serde(default)]
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

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $status:literal;)*) => {
        /// Every error the function URL answers with: a stable machine-readable
        /// code (the body's `error`) and its HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name),*];

            /// The code as it appears in the body, e.g. `unknown_field`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $code,)*
                }
            }

            /// The HTTP status the code is answered with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$name => $status,)*
                }
            }
        }
    };
}

error_codes! {
    /// Not `POST`.
    MethodNotAllowed = "method_not_allowed", 405;
    /// Over [`MAX_BODY_BYTES`].
    BodyTooLarge = "body_too_large", 413;
    EmptyBody = "empty_body", 400;
    InvalidUtf8 = "invalid_utf8", 400;
    UnknownField = "unknown_field", 400;
    UnknownKind = "unknown_kind", 400;
    InvalidField = "invalid_field", 400;
    MalformedJson = "malformed_json", 400;
    UnsupportedApiVersion = "unsupported_api_version", 400;
    MissingCustomer = "missing_customer", 400;
    InvalidCustomer = "invalid_customer", 400;
    /// `isBase64Encoded` with a body that is not base64.
    InvalidBody = "invalid_body", 400;
    /// Not a function-URL event.
    InvalidEvent = "invalid_event", 400;
    /// Another request holds the customer's record in a state this one cannot follow.
    ProvisioningConflict = "provisioning_conflict", 503;
    /// The customer's name is owned by an account outside the storage accounts.
    BucketNameTaken = "bucket_name_taken", 409;
    /// The customer's bucket name is another customer's (a customer ID that
    /// looks like another's shortened, hashed name; issue 22).
    CustomerNameCollision = "customer_name_collision", 409;
    PhrNotConfigured = "phr_not_configured", 503;
    NoStorageAccounts = "no_storage_accounts", 503;
    /// Every storage account is at `max_buckets_per_account`.
    CapacityExhausted = "capacity_exhausted", 503;
    AwsStepFailed = "aws_step_failed", 502;
    StateFailed = "state_failed", 502;
    RecordAccountUnknown = "record_account_unknown", 502;
    DiscoveryFailed = "discovery_failed", 502;
    Internal = "internal", 500;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ErrorCode, D::Error> {
        let s = String::deserialize(d)?;
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s:?}")))
    }
}

/// An error answer's body: `{"api_version", "error", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub api_version: String,
    pub error: ErrorCode,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_self_test_request_is_the_documented_body() {
        let v = serde_json::to_value(RequestBody::self_test()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "self-test", "api_version": crate::API_VERSION})
        );
        let back: RequestBody = serde_json::from_value(v).unwrap();
        assert_eq!(back, RequestBody::self_test());
        assert!(serde_json::from_str::<RequestBody>(r#"{"kind":"phr","x":1}"#).is_err());
        assert!(serde_json::from_str::<RequestBody>(r#"["acme"]"#).is_err());
        assert_eq!(
            serde_json::from_str::<RequestBody>("{}").unwrap(),
            RequestBody::default()
        );
    }

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(
                c.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            assert!((400..600).contains(&c.status()), "{c}");
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *c);
        }
        assert_eq!(ErrorCode::CapacityExhausted.status(), 503);
        assert_eq!(ErrorCode::MethodNotAllowed.status(), 405);
        assert!(serde_json::from_str::<ErrorCode>("\"nope\"").is_err());
    }

    #[test]
    fn a_report_missing_optional_fields_still_parses() {
        let r: AccountReport = serde_json::from_str(r#"{"account_id":"111111111111"}"#).unwrap();
        assert!(!r.trust_ok && r.headroom.is_none() && r.counter.is_none());
        let r: AccountReport =
            serde_json::from_str(r#"{"account_id":"1","headroom":-3,"newer":true}"#).unwrap();
        assert_eq!(r.headroom, Some(-3));
    }
}
