//! With moto's IAM enforcement on, the runtime works with exactly the
//! generated `S3BucketManagement` policy and exactly the DynamoDB actions of
//! the generated execution policy, and removing one needed action makes the
//! matching step fail with a clear 502 error (never a panic).
//!
//! The harness (`xacct_testkit::moto`) authorises ownership controls,
//! encryption and Block Public Access under their own actions, as AWS does
//! (moto alone checks them as `s3:CreateBucket`), and gives the
//! `s3:x-amz-bucket-namespace` condition key its header's value, so the
//! generated account regional `CreateBucket` statement is really evaluated.

use crate::support::*;

/// Sets up a moto with IAM enforcement: a Lambda identity in the primary
/// account allowed only `sts:AssumeRole`, and in each storage account the
/// `S3BucketManager` role with `policy` attached.
async fn enforced(policy: &str) -> (Moto, aws_sdk_s3::config::Credentials) {
    enforced_with(Moto::start_with_auth(10_000), policy, &table_actions()).await
}

/// The DynamoDB actions the generated execution policy grants on the table.
fn table_actions() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../generated/dev/policies/lambda-execution-policy.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let st = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "ProvisioningStateTable")
        .expect("the execution policy grants the state table");
    assert!(
        st["Resource"]
            .as_str()
            .is_some_and(|r| r.ends_with(&format!(":table/{STATE_TABLE}"))),
        "the grant is on the table only: {st}"
    );
    st["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

async fn enforced_with(
    moto: Moto,
    policy: &str,
    table_actions: &[String],
) -> (Moto, aws_sdk_s3::config::Credentials) {
    create_state_table(&moto).await;
    let iam = aws_sdk_iam::Client::new(&default_sdk(&moto).await);
    iam.create_user()
        .user_name("provisioner")
        .send()
        .await
        .unwrap();
    // moto checks DynamoDB calls against resource "*" (it does not derive
    // table ARNs), so the grant is on "*" here; `table_actions` checked that
    // the generated statement is on the table only.
    let table = "*";
    // AWS authorises each item of a TransactWriteItems by its own action
    // (PutItem, UpdateItem, DeleteItem), which the generated policy grants;
    // moto checks a `dynamodb:TransactWriteItems` action instead, which does
    // not exist in AWS, so the test adds it for moto only.
    let mut table_actions = table_actions.to_vec();
    table_actions.push("dynamodb:TransactWriteItems".to_owned());
    let allow_assume = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/S3BucketManager"},
        {"Effect": "Allow", "Action": table_actions, "Resource": table}]});
    iam.put_user_policy()
        .user_name("provisioner")
        .policy_name("assume")
        .policy_document(allow_assume.to_string())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("provisioner")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let creds = static_creds(key.access_key_id(), key.secret_access_key(), None);
    for a in [A1, A2] {
        create_manager_role(&moto, a, Some(policy)).await;
    }
    moto.enforce_iam();
    (moto, creds)
}

/// The dev environment as rendered: the account regional namespace in
/// us-east-1, the region the generated `S3BucketManagement` names.
fn regional() -> xacct_provisioner::Config {
    config(
        &[A1, A2],
        10,
        "us-east-1",
        &[(
            xacct_provisioner::contract::env::BUCKET_NAMESPACE,
            xacct_provisioner::contract::ACCOUNT_REGIONAL,
        )],
    )
}

fn without(action: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(&generated_policy()).unwrap();
    for st in doc["Statement"].as_array_mut().unwrap() {
        match &mut st["Action"] {
            serde_json::Value::Array(a) => a.retain(|x| x != action),
            serde_json::Value::String(s) if s == action => st["Action"] = serde_json::json!([]),
            _ => {}
        }
    }
    doc["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|st| st["Action"] != serde_json::json!([]));
    doc.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_with_exactly_the_generated_policy() {
    let (moto, creds) = enforced(&generated_policy()).await;
    let p = provisioner_as(&moto, regional(), creds.clone()).await;
    let (status, r) = provision(&p, "acme").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["created"], true);
    let (status, r) = provision(&p, "acme").await;
    assert_eq!((status, r["created"].as_bool()), (200, Some(false)));
    // A new container checks the marker tags of a bucket it knows from its count.
    let q = provisioner_as(&moto, regional(), creds).await;
    let (status, r) = provision(&q, "acme").await;
    assert_eq!((status, r["created"].as_bool()), (200, Some(false)), "{r}");
    let (status, st) = call(&q, event_file("function_url_post_self_test.json")).await;
    assert_eq!((status, st["ok"].as_bool()), (200, Some(true)), "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_one_action_fails_the_matching_step_clearly() {
    for (action, step) in [
        ("s3:CreateBucket", "CreateBucket"),
        ("s3:PutBucketPolicy", "PutBucketPolicy"),
        (
            "s3:PutBucketOwnershipControls",
            "PutBucketOwnershipControls",
        ),
        ("s3:ListAllMyBuckets", "ListBuckets (first count)"),
    ] {
        let (moto, creds) = enforced(&without(action)).await;
        let p = provisioner_as(&moto, regional(), creds).await;
        let (status, r) = provision(&p, "acme").await;
        assert_eq!(status, 502, "without {action}: {r}");
        assert_eq!(r["error"], "aws_step_failed", "without {action}: {r}");
        let msg = r["message"].as_str().unwrap();
        assert!(msg.starts_with(step), "without {action}: {msg}");
        assert!(msg.contains("AccessDenied"), "without {action}: {msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_gives_the_reservation_back() {
    let (moto, creds) = enforced(&without("s3:CreateBucket")).await;
    let p = provisioner_as(&moto, regional(), creds).await;
    let (status, r) = provision(&p, "acme").await;
    assert_eq!(
        (status, r["error"].as_str()),
        (502, Some("aws_step_failed")),
        "{r}"
    );
    // Read back with the provisioner's own identity (enforcement is on).
    let (record, counters) = p
        .table()
        .read(Some("ambra-dev-acme"), &[A1.to_owned(), A2.to_owned()])
        .await
        .unwrap();
    let counts: std::collections::HashMap<_, _> =
        counters.into_iter().map(|(k, c)| (k, c.count)).collect();
    assert_eq!(
        counts,
        [(A1.into(), 0), (A2.into(), 0)].into(),
        "the refused slot is released"
    );
    assert_eq!(record, None, "and the claim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_action_of_the_execution_policy_is_needed() {
    for (action, status) in [
        ("dynamodb:BatchGetItem", 502),
        ("dynamodb:PutItem", 502),
        ("dynamodb:UpdateItem", 502),
    ] {
        let mut actions = table_actions();
        actions.retain(|a| a != action);
        let (moto, creds) =
            enforced_with(Moto::start_with_auth(10_000), &generated_policy(), &actions).await;
        let p = provisioner_as(&moto, regional(), creds).await;
        let (got, r) = provision(&p, "acme").await;
        assert_eq!(got, status, "without {action}: {r}");
        assert_eq!(r["error"], "state_failed", "without {action}: {r}");
        assert!(
            r["message"].as_str().unwrap().contains("AccessDenied"),
            "without {action}: {r}"
        );
    }
}

/// Issue 15: with exactly the generated `S3BucketManagement` and enforcement on,
/// `S3BucketManager` cannot write ACLs nor remove a bucket's Block Public Access,
/// while the runtime still creates and configures buckets (the test above).
/// moto authorises a bucket `PutPublicAccessBlock` as `s3:CreateBucket` and does
/// not apply Block Public Access to bucket policies, so turning the flags off
/// with `PutPublicAccessBlock` and a public policy are decided by the offline
/// evaluator instead (`tests/xacct/security.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_role_cannot_expose_a_customer_bucket() {
    let (moto, creds) = enforced(&generated_policy()).await;
    let p = provisioner_as(&moto, regional(), creds.clone()).await;
    let (status, r) = provision(&p, "acme").await;
    assert_eq!(status, 200, "{r}");
    let bucket = r["bucket"].as_str().unwrap().to_owned();
    let sts = aws_sdk_sts::Client::new(&sdk(&moto.endpoint, creds, "us-east-1").await);
    let c = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{A1}:role/S3BucketManager"))
        .role_session_name("attacker")
        .send()
        .await
        .unwrap();
    let c = c.credentials().unwrap();
    let cfg = sdk(
        &moto.endpoint,
        static_creds(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
        ),
        "us-east-1",
    )
    .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    let denied = |what: &str, e: String| {
        assert!(e.contains("AccessDenied"), "{what} must be denied: {e}");
    };
    let e = s3
        .put_bucket_acl()
        .bucket(&bucket)
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    denied(
        "PutBucketAcl public-read",
        format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    );
    let e = s3
        .delete_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_err();
    denied(
        "DeletePublicAccessBlock",
        format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    );
    // The bucket the runtime made is untouched and still configured.
    assert_eq!(provision(&p, "acme").await.0, 200);
}
