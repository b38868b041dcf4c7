//! The real `bootstrap` binary against the Runtime API emulator and moto, with
//! the environment variables the generated Terraform sets.

mod common;
use xacct_testkit::runtime_api;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use runtime_api::{Outcome, RuntimeApi};

/// The `AMBRA_*` names the generated dev Terraform puts in the Lambda environment.
fn terraform_env_names() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../generated/dev/primary/terraform/main.tf"
    );
    let tf = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    tf.lines()
        .filter_map(|l| l.trim().split_once('=').map(|(k, _)| k.trim().to_owned()))
        .filter(|k| k.starts_with("AMBRA_"))
        .collect()
}

fn response_json(o: &Outcome) -> serde_json::Value {
    let Outcome::Response { body, .. } = o else {
        panic!("expected a response, got {o:?}")
    };
    serde_json::from_str(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_binary_answers_function_url_events() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    let api = RuntimeApi::start();
    let values = [
        ("AMBRA_ENVIRONMENT", "development".to_owned()),
        ("AMBRA_BUCKET_REGION", "eu-west-1".to_owned()),
        ("AMBRA_PRIMARY_ACCOUNT", moto::DEFAULT_ACCOUNT.to_owned()),
        ("AMBRA_MAX_BUCKETS_PER_ACCOUNT", "10".to_owned()),
        ("AMBRA_STORAGE_ACCOUNTS", format!("{A1},{A2}")),
        ("AMBRA_PHR_ACCOUNT", moto::DEFAULT_ACCOUNT.to_owned()),
        ("AMBRA_PHR_BUCKET", "ambra-dev-phr".to_owned()),
        ("AMBRA_BUCKET_PREFIX", PREFIX.to_owned()),
        (
            "AMBRA_READER_PRINCIPALS",
            format!(
                "arn:aws:iam::{}:role/ambra-storage-dev",
                moto::DEFAULT_ACCOUNT
            ),
        ),
        ("AMBRA_CAPACITY_WARN_PERCENT", "80".to_owned()),
    ];
    for name in terraform_env_names() {
        assert!(
            values.iter().any(|(k, _)| *k == name),
            "the test must set {name}, which the generated Terraform sets"
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .envs(moto.env())
        .envs(values.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "s3-bucket-provisioning-dev")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the bootstrap binary");

    let wait = Duration::from_secs(60);
    api.invoke("req-1", &fixture("function_url_post_standard.json"));
    let (_, first) = api.outcome(wait).expect("first answer");
    let first = response_json(&first);
    assert_eq!(first["statusCode"], 200, "{first}");
    let body: serde_json::Value = serde_json::from_str(first["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            body["bucket"].as_str(),
            body["account_id"].as_str(),
            body["created"].as_bool()
        ),
        (Some("ambra-dev-acme"), Some(A1), Some(true))
    );

    api.invoke("req-2", &fixture("function_url_post_standard.json"));
    let body = response_json(&api.outcome(wait).unwrap().1);
    let body: serde_json::Value = serde_json::from_str(body["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["created"], false);

    api.invoke("req-3", &fixture("function_url_post_phr.json"));
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert!(
        body["body"].as_str().unwrap().contains("ambra-dev-phr"),
        "{body}"
    );

    api.invoke("req-4", &fixture("function_url_get.json"));
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert_eq!(body["statusCode"], 405, "{body}");

    // A direct Invoke whose event claims a base64 body that is not base64:
    // lambda_http alone panics here; the runtime answers 400 and stays up.
    let mut bad: serde_json::Value =
        serde_json::from_str(&fixture("function_url_post_base64.json")).unwrap();
    bad["body"] = serde_json::json!("not base64 at all!");
    api.invoke("req-5", &bad.to_string());
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert_eq!(body["statusCode"], 400, "{body}");
    assert!(
        body["body"].as_str().unwrap().contains("invalid_body"),
        "{body}"
    );

    // A customer name owned by a foreign account: 409 and a bucket_name_squatted log event.
    s3_in(&moto, A3, "us-east-1")
        .await
        .create_bucket()
        .bucket("ambra-dev-taken")
        .send()
        .await
        .unwrap();
    let mut taken: serde_json::Value =
        serde_json::from_str(&fixture("function_url_post_standard.json")).unwrap();
    taken["body"] = serde_json::json!(r#"{"customer":"taken"}"#);
    api.invoke("req-6", &taken.to_string());
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert_eq!(body["statusCode"], 409, "{body}");

    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        !lines.is_empty(),
        "structured JSON logs expected on stdout:\n{logs}"
    );
    assert!(lines.iter().any(|l| l["fields"]["event"] == "bucket_created" && l["span"]["request_id"] == "req-1"), "{logs}");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["event"] == "bucket_name_squatted"
                && l["span"]["request_id"] == "req-6"),
        "{logs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["event"] == "rejected" && l["fields"]["error"] == "invalid_body"),
        "{logs}"
    );
    assert!(!logs.contains(moto::SECRET_KEY), "no secrets in logs");
}
