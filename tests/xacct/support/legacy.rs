//! A legacy setup in moto, the way the seed's hand-written Terraform would have
//! built it for the dev spec: `S3BucketManager` in each storage account with
//! `s3:*` on `*` and a trust on the primary account root without conditions,
//! the function with the seed's variable names (and PHR access keys), its role
//! and function URL, and the PHR bucket. Used by `tests/xacct/adopt.rs`.

#![allow(dead_code)]

use aws_config::SdkConfig;
use xacct::model::Environment;

use super::verify_deploy::{ALLOW_ALL, base, dummy_zip, in_account, s3};
use xacct_testkit::moto::Moto;

/// A fake (never valid) AWS access key pair, in the shapes the scanner knows.
pub const LEGACY_ACCESS_KEY: &str = "AKIAZZZZZZZZZZZZZZZZ";
pub const LEGACY_SECRET_KEY: &str = "Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Z";
/// The seed's maximum on the legacy function (the dev spec says 1000).
pub const LEGACY_MAX: &str = "500";
/// An extra inline policy on `S3BucketManager` in the second storage account.
pub const EXTRA_POLICY: &str = "legacy-extra";
/// An extra function permission the legacy Terraform added.
pub const EXTRA_PERMISSION: &str = "AllowOpsInvoke";

pub const WIDE_S3: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

fn trust_root(primary: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{primary}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// Admin roles for the audit role and Terraform's bootstrap role, in `cfg`'s account.
pub async fn bootstrap_role(cfg: &SdkConfig, primary: &str) {
    let iam = aws_sdk_iam::Client::new(cfg);
    iam.create_role()
        .role_name("OrganizationAccountAccessRole")
        .assume_role_policy_document(trust_root(primary))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("OrganizationAccountAccessRole")
        .policy_name("admin")
        .policy_document(ALLOW_ALL)
        .send()
        .await
        .unwrap();
}

/// Builds the legacy setup of `env` (dev: PHR bucket in the primary account).
pub async fn build(m: &Moto, env: &Environment) {
    let base = base(m);
    let primary_id = env.primary_account.as_str();
    let primary = in_account(&base, primary_id).await;
    bootstrap_role(&primary, primary_id).await;

    // Execution role, under the name xacct renders, with the legacy trust
    // (no aws:SourceAccount) and a wide inline policy under the rendered name.
    let iam = aws_sdk_iam::Client::new(&primary);
    let role = env.lambda_role_name();
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(&role)
        .policy_name(format!("{}-permissions", env.lambda.function_name))
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/S3BucketManager"},{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();

    // The function with the seed's variables, its URL and permissions.
    let lambda = aws_sdk_lambda::Client::new(&primary);
    let vars = aws_sdk_lambda::types::Environment::builder()
        .variables("environment", &env.name)
        .variables("aws_region", &env.region)
        .variables("max_buckets_per_account", LEGACY_MAX)
        .variables("ambra_storage_accounts", env.storage_accounts.join(","))
        .variables("ambra_phr_account", &env.phr.account)
        .variables("ambra_phr_bucket", &env.phr.bucket)
        .variables("ambra_phr_cred_access_key", LEGACY_ACCESS_KEY)
        .variables("ambra_phr_cred_secret_key", LEGACY_SECRET_KEY)
        .build();
    lambda
        .create_function()
        .function_name(&env.lambda.function_name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .role(env.lambda_role_arn())
        .environment(vars)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(dummy_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .create_function_url_config()
        .function_name(&env.lambda.function_name)
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name(&env.lambda.function_name)
        .statement_id(EXTRA_PERMISSION)
        .action("lambda:InvokeFunction")
        .principal(format!("arn:aws:iam::{primary_id}:role/ops"))
        .send()
        .await
        .unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&primary);
    logs.create_log_group()
        .log_group_name(env.log_group_name())
        .send()
        .await
        .unwrap();

    // The PHR bucket: no policy, no Block Public Access.
    let s3 = s3(&primary);
    s3.create_bucket()
        .bucket(&env.phr.bucket)
        .send()
        .await
        .unwrap();

    // Storage accounts.
    for (i, acct) in env.storage_accounts.iter().enumerate() {
        let c = in_account(&base, acct).await;
        bootstrap_role(&c, primary_id).await;
        let iam = aws_sdk_iam::Client::new(&c);
        iam.create_role()
            .role_name("S3BucketManager")
            .assume_role_policy_document(trust_root(primary_id))
            .send()
            .await
            .unwrap();
        let p = iam
            .create_policy()
            .policy_name("S3BucketManagement")
            .policy_document(WIDE_S3)
            .send()
            .await
            .unwrap();
        iam.attach_role_policy()
            .role_name("S3BucketManager")
            .policy_arn(p.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
        if i == 1 {
            iam.put_role_policy()
                .role_name("S3BucketManager")
                .policy_name(EXTRA_POLICY)
                .policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#,
                )
                .send()
                .await
                .unwrap();
        }
    }
}
