//! Issue 15 controls proven with the offline evaluator (`xacct::eval`) where
//! moto cannot: moto authorises `PutPublicAccessBlock` on a bucket as
//! `s3:CreateBucket` and does not apply Block Public Access to bucket policies,
//! so "S3BucketManager cannot turn Block Public Access off" is decided here on
//! the rendered documents (the moto side is in `verify.rs` and `lambda/tests/iam.rs`).

use xacct::contract;
use xacct::eval::{Caller, Named, Request, evaluate};
use xacct::iam::documents::Documents;
use xacct::iam::{PolicyDocument, Statement};
use xacct::model::Environment;

fn env(short: &str) -> Environment {
    let spec = crate::repo()
        .join("environments")
        .join(format!("{short}.toml"));
    Environment::load(&spec, Default::default()).unwrap().env
}

fn manager(acct: &str) -> Caller {
    Caller::Aws(format!(
        "arn:aws:sts::{acct}:assumed-role/{}/s",
        contract::STORAGE_ROLE_NAME
    ))
}

/// The requests that would make a customer bucket public without a bucket
/// policy: Block Public Access off (bucket or account; the `Delete...` APIs are
/// authorised by the same `Put...` actions) and ACLs.
fn public_requests(env: &Environment) -> Vec<(&'static str, String)> {
    let bucket = contract::bucket_arn(&xacct::iam::documents::example_bucket(env));
    let acct = &env.storage_accounts[0];
    vec![
        ("s3:PutBucketPublicAccessBlock", bucket.clone()),
        (
            "s3:PutAccountPublicAccessBlock",
            format!("arn:aws:s3:::account/{acct}"),
        ),
        ("s3:PutAccountPublicAccessBlock", "*".to_owned()),
        ("s3:PutBucketAcl", bucket.clone()),
        ("s3:PutObjectAcl", format!("{bucket}/scan.dcm")),
    ]
}

#[test]
fn s3_bucket_manager_cannot_turn_public_access_block_off_or_write_acls() {
    for short in ["dev", "uat", "prod"] {
        let env = env(short);
        let d = Documents::build(&env);
        let acct = &env.storage_accounts[0];
        let docs = [Named::identity("S3BucketManagement", &d.storage_management)];
        for (action, resource) in public_requests(&env) {
            let dec = evaluate(&docs, &Request::new(manager(acct), action, &resource));
            assert!(
                !dec.allowed(),
                "{short}: {action} on {resource} allowed: {dec:?}"
            );
        }
        // The runtime's own writes are still allowed.
        let bucket = contract::bucket_arn(&xacct::iam::documents::example_bucket(&env));
        for step in contract::BUCKET_STEPS {
            let dec = evaluate(&docs, &Request::new(manager(acct), step.action(), &bucket));
            assert!(dec.allowed(), "{short}: {} refused: {dec:?}", step.action());
        }
    }
}

/// The Deny wins over any Allow added later (a broadened statement, an attached
/// `s3:*` policy): removing it is what makes the requests allowed again.
#[test]
fn the_explicit_deny_holds_against_an_added_allow_and_is_what_blocks() {
    let env = env("dev");
    let d = Documents::build(&env);
    let acct = &env.storage_accounts[0];
    let broad = PolicyDocument::new(vec![
        Statement::allow("Broad").actions(["s3:*"]).resources(["*"]),
    ]);
    let with_deny = [
        Named::identity("S3BucketManagement", &d.storage_management),
        Named::identity("extra", &broad),
    ];
    let mut no_deny_doc = d.storage_management.clone();
    no_deny_doc
        .statement
        .retain(|s| s.sid.as_deref() != Some("NeverChangePublicAccess"));
    let without_deny = [
        Named::identity("S3BucketManagement", &no_deny_doc),
        Named::identity("extra", &broad),
    ];
    for (action, resource) in public_requests(&env) {
        let req = Request::new(manager(acct), action, &resource);
        let dec = evaluate(&with_deny, &req);
        assert!(!dec.allowed(), "{action}: {dec:?}");
        assert!(
            dec.statements
                .iter()
                .any(|s| s.sid.as_deref() == Some("NeverChangePublicAccess")),
            "{action}: the Deny is cited: {dec:?}"
        );
        assert!(evaluate(&without_deny, &req).allowed(), "{action}");
    }
}
