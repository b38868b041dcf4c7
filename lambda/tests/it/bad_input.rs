//! Malformed requests: each is answered 4xx with a JSON error naming the
//! problem, before any AWS call. Plus property tests: no input panics.

use crate::support::*;
use proptest::prelude::*;
use xacct_provisioner::api::{self, MAX_BODY_BYTES};
use xacct_provisioner::contract;

/// A provisioner whose AWS endpoint is a closed port: any AWS call would fail,
/// so a 4xx here proves the request was rejected up front.
async fn offline() -> xacct_provisioner::Provisioner {
    let cfg = config(&[A1, A2], 10, "eu-west-1", &[]);
    let base = sdk(
        "http://127.0.0.1:9",
        static_creds(moto::ACCESS_KEY, moto::SECRET_KEY, None),
        "us-east-1",
    )
    .await;
    xacct_provisioner::Provisioner::new(
        cfg.clone(),
        xacct_provisioner::aws::Clients::new(base, &cfg),
    )
}

#[tokio::test]
async fn bad_requests_get_4xx_json_naming_the_problem() {
    let p = offline().await;
    let long = "x".repeat(300);
    let big = format!("{{\"customer\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
    let table: Vec<(&str, String, u16, &str, &str)> = vec![
        ("empty body", String::new(), 400, "empty_body", "empty"),
        (
            "not JSON",
            "customer=acme".into(),
            400,
            "malformed_json",
            "request body",
        ),
        (
            "truncated JSON",
            "{\"customer\":".into(),
            400,
            "malformed_json",
            "EOF",
        ),
        (
            "JSON array",
            "[\"acme\"]".into(),
            400,
            "invalid_field",
            "request body",
        ),
        (
            "unknown field",
            "{\"customer\":\"acme\",\"bucket\":\"x\"}".into(),
            400,
            "unknown_field",
            "`bucket`",
        ),
        (
            "unknown kind",
            "{\"customer\":\"acme\",\"kind\":\"gold\"}".into(),
            400,
            "unknown_kind",
            "gold",
        ),
        (
            "customer not a string",
            "{\"customer\":42}".into(),
            400,
            "invalid_field",
            "customer",
        ),
        (
            "missing customer",
            "{\"kind\":\"standard\"}".into(),
            400,
            "missing_customer",
            "`customer` is required",
        ),
        (
            "blank customer",
            "{\"customer\":\"   \"}".into(),
            400,
            "invalid_customer",
            "must not be empty",
        ),
        (
            "control character",
            "{\"customer\":\"a\\u0000b\"}".into(),
            400,
            "invalid_customer",
            "control",
        ),
        (
            "customer too long",
            format!("{{\"customer\":\"{long}\"}}"),
            400,
            "invalid_customer",
            "at most 256",
        ),
        (
            "canary namespace",
            "{\"customer\":\"xacct-canary-0001\"}".into(),
            400,
            "invalid_customer",
            "canaries",
        ),
        (
            "wrong api version",
            "{\"customer\":\"acme\",\"api_version\":\"2\"}".into(),
            400,
            "unsupported_api_version",
            "\"2\"",
        ),
        (
            "self-test with customer",
            "{\"kind\":\"self-test\",\"customer\":\"a\"}".into(),
            400,
            "invalid_field",
            "self-test",
        ),
        (
            "oversized body",
            big,
            413,
            "body_too_large",
            "limit is 4096",
        ),
    ];
    for (what, body, status, code, needle) in table {
        let (got, json) = call(&p, event(&body)).await;
        assert_eq!(got, status, "{what}: {json}");
        assert_eq!(json["error"], code, "{what}: {json}");
        assert_eq!(json["api_version"], contract::API_VERSION);
        let msg = json["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(needle),
            "{what}: message {msg:?} should mention {needle:?}"
        );
    }
    let (got, json) = call(&p, event_file("function_url_get.json")).await;
    assert_eq!(
        (got, json["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    assert_eq!(
        p.clients().counter.get(),
        0,
        "no AWS call for rejected requests"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_never_panics(body in proptest::collection::vec(any::<u8>(), 0..600), method in "[A-Za-z]{0,8}") {
        let _ = api::parse_request(&method, &body);
    }

    #[test]
    fn json_shaped_bodies_never_panic(customer in any::<String>(), kind in "(standard|phr|self-test|[a-z]{0,6})", extra in proptest::option::of("[a-z_]{1,8}")) {
        let mut v = serde_json::json!({"customer": customer, "kind": kind});
        if let Some(k) = extra { v[k] = serde_json::json!(1); }
        let _ = api::parse_request("POST", v.to_string().as_bytes());
    }

    #[test]
    fn bucket_names_are_valid_deterministic_and_prefixed(customer in any::<String>(), prefix in "[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,8}){0,3}") {
        prop_assume!(contract::check_bucket_prefix(&prefix).is_ok());
        match contract::bucket_name(&prefix, &customer) {
            Ok(name) => {
                prop_assert!(contract::check_bucket_name(&name).is_ok(), "{name}");
                let prefix_dash = format!("{prefix}-");
                prop_assert!(name.starts_with(&prefix_dash));
                prop_assert_eq!(contract::bucket_name(&prefix, &customer).unwrap(), name);
            }
            Err(_) => prop_assert!(contract::check_customer_id(&customer).is_err()),
        }
    }
}

/// Sends one raw event (JSON as the Runtime API delivers it) through
/// `handler::handle_event`, the code `bootstrap` serves; returns the
/// function-URL response's status and body.
async fn raw(
    p: &xacct_provisioner::Provisioner,
    event: serde_json::Value,
) -> (u16, serde_json::Value) {
    let resp = xacct_provisioner::handler::handle_event(p, event, Default::default())
        .await
        .expect("handle_event never returns Err for these events");
    let status = resp["statusCode"].as_u64().expect("statusCode") as u16;
    let body = resp["body"].as_str().unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_default())
}

fn fixture_event(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// Whole events, not only bodies: the adapter would panic on the first one
/// (`failed to decode aws base64 encoded body`).
#[tokio::test]
async fn bad_events_get_4xx_json_and_never_panic() {
    let p = offline().await;
    let mut bad_b64 = fixture_event("function_url_post_base64.json");
    bad_b64["body"] = serde_json::json!("this is not base64!!");
    let mut not_object = fixture_event("function_url_get.json");
    not_object["requestContext"] = serde_json::json!("x");
    let table: Vec<(&str, serde_json::Value, u16, &str)> = vec![
        (
            "isBase64Encoded with a non-base64 body",
            bad_b64,
            400,
            "invalid_body",
        ),
        (
            "a JSON string, not an event",
            serde_json::json!("hello"),
            400,
            "invalid_event",
        ),
        ("an array", serde_json::json!([1, 2]), 400, "invalid_event"),
        (
            "requestContext not an object",
            not_object,
            400,
            "invalid_event",
        ),
        (
            "a GET function URL event",
            fixture_event("function_url_get.json"),
            405,
            "method_not_allowed",
        ),
    ];
    for (what, event, status, code) in table {
        let (got, json) = raw(&p, event).await;
        assert_eq!(
            (got, json["error"].as_str()),
            (status, Some(code)),
            "{what}: {json}"
        );
        assert_eq!(json["api_version"], contract::API_VERSION, "{what}");
    }
    assert_eq!(
        p.clients().counter.get(),
        0,
        "no AWS call for rejected events"
    );
}

/// An arbitrary JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Whole function-URL events with any field replaced by any JSON value
    /// (base64 flag, body, method, headers, path, context), and arbitrary JSON:
    /// always an HTTP answer, never a panic, never an AWS call.
    #[test]
    fn no_event_panics(
        field in prop_oneof![
            Just("isBase64Encoded"), Just("body"), Just("headers"), Just("rawPath"),
            Just("rawQueryString"), Just("cookies"), Just("requestContext"), Just("version"),
            Just("queryStringParameters"), Just("pathParameters"),
        ],
        value in any_json(),
        method in "[A-Z]{0,7}|[^\\x00]{0,5}",
        b64 in any::<bool>(),
        body in "[A-Za-z0-9+/=!*_ ]{0,40}",
        whole in proptest::option::of(any_json()),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let p = offline().await;
            let mut ev = fixture_event("function_url_post_base64.json");
            ev["isBase64Encoded"] = serde_json::json!(b64);
            ev["body"] = serde_json::json!(body);
            ev["requestContext"]["http"]["method"] = serde_json::json!(method);
            ev[field] = value;
            for event in [Some(ev), whole].into_iter().flatten() {
                let resp = xacct_provisioner::handler::handle_event(&p, event, Default::default()).await;
                let resp = resp.expect("an answer, not an error");
                let status = resp["statusCode"].as_u64().unwrap_or(0);
                assert!((100..600).contains(&status), "{resp}");
            }
            assert_eq!(p.clients().counter.get(), 0);
        });
    }
}
