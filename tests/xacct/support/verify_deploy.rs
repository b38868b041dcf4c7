//! Deploys an environment into moto with the AWS SDK, exactly as
//! `Documents::build` renders it (shared by `tests/verify.rs` and the
//! `verify_bench` example). Expects the moto harness as `crate::moto`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use xacct::iam::documents::Documents;
use xacct::model::{Environment, LoadOptions};

use xacct_testkit::moto::{self, Moto};

pub const PRIMARY: &str = "100000000001";
pub const STORAGE_A: &str = "100000000002";
pub const STORAGE_B: &str = "100000000003";
pub const VERIFIER_ROLE: &str = "xacct-verifier";

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load(path: &Path) -> Environment {
    Environment::load(path, LoadOptions::default()).unwrap().env
}

/// Base configuration with moto's default credentials.
pub fn base(m: &Moto) -> SdkConfig {
    let creds = Credentials::new(moto::ACCESS_KEY, moto::SECRET_KEY, None, None, "test");
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&m.endpoint)
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

/// Credentials for another account: moto hands out credentials of the role's
/// account for `sts:AssumeRole` into any role ARN (it checks cross-account trust
/// only with enforcement on, and not even then).
pub async fn creds_in(base: &SdkConfig, account: &str, role: &str) -> Credentials {
    let out = aws_sdk_sts::Client::new(base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
        .role_session_name("xacct-test")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "test",
    )
}

pub async fn in_account(base: &SdkConfig, account: &str) -> SdkConfig {
    let c = creds_in(base, account, "xacct-test-admin").await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(c))
        .build()
}

/// The xacct AWS layer over a test configuration (path-style, moto endpoint).
pub fn session(c: &SdkConfig) -> xacct::aws::Aws {
    xacct::aws::Aws {
        config: c.clone(),
        path_style: true,
        session_name: "xacct-tests".to_owned(),
    }
}

pub fn s3(c: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(c)
            .force_path_style(true)
            .build(),
    )
}

/// A zip with a `bootstrap` file (the function's code is never run here).
pub fn dummy_zip() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"#!/bin/sh\n").unwrap();
    zip.finish().unwrap().into_inner()
}

/// A permissive identity policy for the test's own roles.
pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
pub const AUDIT_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","s3:Get*","s3:List*","servicequotas:GetServiceQuota","sts:GetCallerIdentity"],"Resource":"*"}]}"#;

/// Deploys what `generated/<env>` describes, with the AWS SDK.
pub async fn deploy(m: &Moto, env: &Environment) {
    let base = base(m);
    let d = Documents::build(env);
    let primary = in_account(&base, &env.primary_account).await;

    // The verifier's own role (used with IAM enforcement on).
    let iam = aws_sdk_iam::Client::new(&primary);
    let trust_primary = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        env.primary_account
    );
    iam.create_role()
        .role_name(VERIFIER_ROLE)
        .assume_role_policy_document(&trust_primary)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(VERIFIER_ROLE)
        .policy_name("all")
        .policy_document(ALLOW_ALL)
        .send()
        .await
        .unwrap();

    // Execution role, with its permissions boundary.
    let role = env.lambda_role_name();
    iam.create_policy()
        .policy_name(env.boundary_policy_name())
        .policy_document(d.execution_boundary.to_compact_json())
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name(&role)
        .permissions_boundary(env.boundary_policy_arn())
        .assume_role_policy_document(d.lambda_trust.to_compact_json())
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(&role)
        .policy_name(format!("{}-permissions", env.lambda.function_name))
        .policy_document(d.lambda_execution.to_compact_json())
        .send()
        .await
        .unwrap();

    // Function, URL, permissions.
    create_state_table(&primary, env).await;
    let lambda = aws_sdk_lambda::Client::new(&primary);
    let mut vars = aws_sdk_lambda::types::Environment::builder();
    for (k, v) in xacct::render::lambda_env(env) {
        vars = vars.variables(k, v.unwrap_or_default());
    }
    // The templates attach a code signing configuration when the spec names a
    // signing profile (moto keeps the ARN it is given; it has no
    // CreateCodeSigningConfig).
    let code_signing = env
        .security
        .code_signing_profile_version_arn
        .as_ref()
        .map(|_| {
            format!(
                "arn:aws:lambda:{}:{}:code-signing-config:csc-0123456789abcdef0",
                env.region, env.primary_account
            )
        });
    lambda
        .create_function()
        .set_code_signing_config_arn(code_signing)
        .function_name(&env.lambda.function_name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(env.lambda_role_arn())
        .memory_size(env.lambda.memory_mb as i32)
        .timeout(env.lambda.timeout_seconds as i32)
        .environment(vars.build())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(dummy_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .put_function_concurrency()
        .function_name(&env.lambda.function_name)
        .reserved_concurrent_executions(env.lambda.reserved_concurrency as i32)
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
    for st in &d.function_url_policy.statement {
        let action = st
            .action
            .as_ref()
            .unwrap()
            .iter()
            .next()
            .unwrap()
            .to_owned();
        let principal = st.principal.as_ref().unwrap().of_type("AWS")[0].to_owned();
        let mut req = lambda
            .add_permission()
            .function_name(&env.lambda.function_name)
            .statement_id(st.sid.clone().unwrap())
            .action(action)
            .principal(principal);
        if st.condition.contains_key("StringEquals") {
            req = req.function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam);
        }
        if st.condition.contains_key("Bool") {
            req = req.invoked_via_function_url(true);
        }
        req.send().await.unwrap();
    }

    // PHR bucket (in the primary account for dev).
    let phr_cfg = in_account(&base, &env.phr.account).await;
    deploy_phr(
        &s3(&phr_cfg),
        &env.phr.bucket,
        &d.phr_bucket_policy.to_compact_json(),
    )
    .await;
    deploy_log_bucket(&s3(&phr_cfg), env, &d.log_bucket_policy.to_compact_json()).await;
    match &d.kms_key_policy {
        Some(policy) => deploy_kms_key(&primary, env, &policy.to_compact_json()).await,
        None => create_log_group(&primary, env, None).await,
    }
    if env.security.cloudtrail {
        deploy_trail(&primary, env).await;
    }
    if env.security.primary_account_public_access_block {
        xacct::onboard::deploy::put_account_public_access_block(
            &session(&primary),
            &env.primary_account,
        )
        .await
        .unwrap();
    }

    // Storage accounts.
    for acct in &env.storage_accounts {
        let c = in_account(&base, acct).await;
        // What `aws_s3_account_public_access_block` / `onboard --apply` do.
        xacct::onboard::deploy::put_account_public_access_block(&session(&c), acct)
            .await
            .unwrap();
        let iam = aws_sdk_iam::Client::new(&c);
        iam.create_role()
            .role_name("S3BucketManager")
            .assume_role_policy_document(d.storage_trust.to_compact_json())
            .send()
            .await
            .unwrap();
        let p = iam
            .create_policy()
            .policy_name("S3BucketManagement")
            .policy_document(d.storage_management.to_compact_json())
            .send()
            .await
            .unwrap();
        iam.attach_role_policy()
            .role_name("S3BucketManager")
            .policy_arn(p.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
        iam.create_role()
            .role_name("OrganizationAccountAccessRole")
            .assume_role_policy_document(&trust_primary)
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name("OrganizationAccountAccessRole")
            .policy_name("read")
            .policy_document(AUDIT_READ)
            .send()
            .await
            .unwrap();
    }
}

pub async fn deploy_phr(s3: &aws_sdk_s3::Client, bucket: &str, policy: &str) {
    use aws_sdk_s3::types::*;
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .unwrap();
}

/// The environment's log bucket as the templates render it (Block Public
/// Access, BucketOwnerEnforced, SSE-S3, retention lifecycle, TLS-only policy),
/// and the PHR bucket's server access logging into it.
pub async fn deploy_log_bucket(s3: &aws_sdk_s3::Client, env: &Environment, policy: &str) {
    use aws_sdk_s3::types::*;
    let logs = env.phr.log_bucket.as_str();
    deploy_phr(s3, logs, policy).await;
    s3.put_bucket_lifecycle_configuration()
        .bucket(logs)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id("expire-access-logs")
                        .status(ExpirationStatus::Enabled)
                        .filter(LifecycleRuleFilter::builder().prefix("").build())
                        .expiration(
                            LifecycleExpiration::builder()
                                .days(env.phr.access_log_retention_days as i32)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_logging()
        .bucket(&env.phr.bucket)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(logs)
                        .target_prefix(xacct::model::ACCESS_LOG_PREFIX)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The customer-managed key as the templates render it (`security.kms_key`):
/// the rendered key policy, rotation on, the alias; the PHR bucket's SSE-KMS
/// with the bucket key and the function's log group use it.
pub async fn deploy_kms_key(primary: &SdkConfig, env: &Environment, policy: &str) {
    use aws_sdk_s3::types::*;
    let kms = aws_sdk_kms::Client::new(primary);
    let key = kms
        .create_key()
        .description("xacct test key")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let meta = key.key_metadata().unwrap();
    let (id, arn) = (meta.key_id().to_owned(), meta.arn().unwrap().to_owned());
    kms.enable_key_rotation().key_id(&id).send().await.unwrap();
    kms.create_alias()
        .alias_name(env.kms_alias())
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    s3(primary)
        .put_bucket_encryption()
        .bucket(&env.phr.bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id(&arn)
                                .build()
                                .unwrap(),
                        )
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    create_log_group(primary, env, Some(&arn)).await;
}

/// The trail as the templates render it (`security.cloudtrail`), logging.
pub async fn deploy_trail(primary: &SdkConfig, env: &Environment) {
    let ct = aws_sdk_cloudtrail::Client::new(primary);
    let mut req = ct
        .create_trail()
        .name(env.trail_name())
        .s3_bucket_name(&env.phr.log_bucket)
        .s3_key_prefix(xacct::model::TRAIL_PREFIX)
        .is_multi_region_trail(true)
        .include_global_service_events(true)
        .enable_log_file_validation(true);
    if env.security.kms_key {
        let key = aws_sdk_kms::Client::new(primary)
            .describe_key()
            .key_id(env.kms_alias())
            .send()
            .await
            .unwrap();
        req = req.kms_key_id(key.key_metadata().unwrap().arn().unwrap());
    }
    req.send().await.unwrap();
    ct.start_logging()
        .name(env.trail_name())
        .send()
        .await
        .unwrap();
}

/// The provisioning-state table as the templates render it (key `pk`, on
/// demand, deletion protection, point-in-time recovery, SSE), in the
/// environment's region of the primary account.
pub async fn create_state_table(primary: &SdkConfig, env: &Environment) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType,
        PointInTimeRecoverySpecification, ScalarAttributeType, SseSpecification,
    };
    let pk = xacct::contract::state::PARTITION_KEY;
    let client = state_table_client(primary, env);
    client
        .create_table()
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .table_name(env.state_table_name())
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(pk)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(pk)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("create the provisioning-state table");
    client
        .update_continuous_backups()
        .table_name(env.state_table_name())
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("turn on point-in-time recovery");
}

/// The function's log group as the templates render it: the spec's retention,
/// and the customer-managed key when `kms_key_arn` is given.
pub async fn create_log_group(primary: &SdkConfig, env: &Environment, kms_key_arn: Option<&str>) {
    let logs = aws_sdk_cloudwatchlogs::Client::new(primary);
    logs.create_log_group()
        .log_group_name(env.log_group_name())
        .set_kms_key_id(kms_key_arn.map(str::to_owned))
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(env.log_group_name())
        .retention_in_days(env.lambda.log_retention_days as i32)
        .send()
        .await
        .unwrap();
}

/// A DynamoDB client of the primary account in the environment's region.
pub fn state_table_client(primary: &SdkConfig, env: &Environment) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(primary)
            .region(aws_config::Region::new(env.region.clone()))
            .build(),
    )
}
