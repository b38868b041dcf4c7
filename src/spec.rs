//! The environment spec as written in `environments/<env>.toml`: raw serde
//! structs, no checks beyond types. [`crate::model`] turns a [`Spec`] into a
//! validated [`crate::model::Environment`]; nothing downstream reads this file.

use serde::{Deserialize, Serialize};

/// One environment spec file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub environment: EnvironmentSpec,
    pub storage: StorageSpec,
    pub phr: PhrSpec,
    pub lambda: LambdaSpec,
    pub access: AccessSpec,
    #[serde(default)]
    pub capacity: Option<CapacitySpec>,
    /// Optional defense-in-depth controls (issue 15), all off by default.
    #[serde(default)]
    pub security: Option<SecuritySpec>,
}

/// `[security]`: opt-in controls of the primary account.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySpec {
    /// Render a customer-managed KMS key (rotation on) for the PHR bucket
    /// (SSE-KMS with the bucket key) and the function's log group.
    #[serde(default)]
    pub kms_key: bool,
    /// Render a multi-region CloudTrail trail of the primary account writing to
    /// the environment's log bucket.
    #[serde(default)]
    pub cloudtrail: bool,
    /// Turn on S3 Block Public Access for the whole primary account.
    #[serde(default)]
    pub primary_account_public_access_block: bool,
    /// AWS Signer profile version ARN: enforce code signing on the function.
    #[serde(default)]
    pub code_signing_profile_version_arn: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    /// Tag value written on every bucket, e.g. `development`.
    pub name: String,
    /// Short name used in resource names and as the `generated/<short_name>` folder.
    pub short_name: String,
    /// Whether this is a production environment (relaxes the two-account minimum).
    #[serde(default)]
    pub production: bool,
    pub region: String,
    pub primary_account: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Storage account IDs. Rendered into the Lambda's environment unless
    /// `discover` is set; always used for the storage-side artifacts.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Let the Lambda discover storage accounts through AWS Organizations.
    #[serde(default)]
    pub discover: bool,
    /// Organization ID (`o-...`), required with `discover`: scopes the Lambda's
    /// `sts:AssumeRole` to roles inside the organization.
    #[serde(default)]
    pub organization_id: Option<String>,
    pub max_buckets_per_account: u32,
    pub bucket_prefix: String,
    /// `"account-regional"` or `"global"` (default): where new customer buckets
    /// are created (docs/runtime.md, docs/runtime.md).
    #[serde(default)]
    pub bucket_namespace: Option<String>,
    /// Optional `sts:ExternalId` required by every `S3BucketManager` trust.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Role assumed in each storage account to deploy or read its stack.
    #[serde(default)]
    pub bootstrap_role: Option<String>,
    /// Percentage of `max_buckets_per_account` that triggers a capacity warning.
    #[serde(default)]
    pub capacity_warn_percent: Option<u8>,
    /// Raised S3 bucket quota per account, when Service Quotas granted one.
    #[serde(default)]
    pub s3_bucket_quota: Option<u32>,
    /// Grant `s3:DeleteBucket` on `<prefix>-xacct-canary-*` for `xacct verify --canary`.
    #[serde(default)]
    pub allow_canary: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PhrSpec {
    pub account: String,
    pub bucket: String,
    /// Keep the seed's PHR access-key variables (sensitive, never written to a file).
    #[serde(default)]
    pub legacy_access_keys: bool,
    /// Days the PHR bucket's server access logs are kept in the log bucket
    /// (default [`crate::model::DEFAULT_ACCESS_LOG_DAYS`]).
    #[serde(default)]
    pub access_log_retention_days: Option<u32>,
    /// Days a noncurrent version of a PHR object is kept
    /// (default [`crate::model::DEFAULT_NONCURRENT_DAYS`]).
    #[serde(default)]
    pub noncurrent_version_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSpec {
    pub function_name: String,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    pub log_retention_days: u32,
    /// Optional SNS topic notified when an account crosses the warning threshold.
    #[serde(default)]
    pub ops_topic_arn: Option<String>,
    /// Reserved concurrency of the function (default
    /// [`crate::model::DEFAULT_RESERVED_CONCURRENCY`]).
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccessSpec {
    /// Principals allowed to call the function URL (the application's EC2 role).
    pub invoker_principals: Vec<String>,
    /// Principals that read customer buckets and the PHR bucket.
    pub reader_principals: Vec<String>,
    /// Principals (e.g. a CI role) also trusted by the Lambda execution role so
    /// `xacct verify` can walk the live trust chain.
    #[serde(default)]
    pub verifier_principals: Vec<String>,
    /// Principals that apply the primary stack; named in the deployer policy's docs.
    #[serde(default)]
    pub deployer_principals: Vec<String>,
    /// Principals outside the zone of trust (the organization, else the
    /// environment's accounts) accepted explicitly, each with its reason (issue 20).
    #[serde(default)]
    pub external_principals: Vec<ExternalPrincipalSpec>,
}

/// `[[access.external_principals]]`: one accepted external principal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalPrincipalSpec {
    /// An IAM ARN (account root, role or user); a root accepts the whole account.
    pub principal: String,
    /// Why this principal may reach the environment's data or roles (shown in every report).
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CapacitySpec {
    pub expected_customers: u32,
    #[serde(default = "default_growth")]
    pub growth_factor: f64,
}

fn default_growth() -> f64 {
    1.0
}
