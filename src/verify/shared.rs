//! The reads both fetchers make, so `primary` and `storage` never import each
//! other: the PHR bucket and the log bucket (the PHR bucket lives in the primary
//! account or in a storage account), the account-level Block Public Access, and a
//! managed policy's default version.

use super::aws::{self, Aws};
use super::{Ctx, checks, diff, diff_findings, finding};
use crate::audit::Finding;
use crate::contract::api::AccountReport;
use crate::iam::PolicyDocument;

crate::message_error! {
    /// A live read that failed: the call and what AWS (or the parser) said.
    ReadError
}

/// The self-test outcome (`primary::self_test`, applied by
/// `storage::apply_self_test`): per-account reports, or why it could not run.
pub type SelfTest = std::result::Result<Vec<AccountReport>, SelfTestError>;

/// Why the Lambda's self-test gave no report (XV047).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelfTestError {
    #[error("lambda:InvokeFunction failed: {0}")]
    Invoke(String),
    #[error("the function failed ({kind}): {payload}")]
    FunctionFailed { kind: String, payload: String },
    #[error("the self-test answer is not JSON: {0}")]
    NotJson(String),
    #[error("the self-test answered HTTP {status}: {body}")]
    Status { status: u64, body: String },
    #[error("the self-test body is not JSON: {0}")]
    BodyNotJson(String),
    #[error("unexpected self-test answer: {0}")]
    Unexpected(String),
}

/// The PHR bucket (XV020-XV024) and, beside it, its access logging (XV026) and
/// the log bucket (XV025), read with `aws` in the account that holds it (the
/// primary account, or a storage account through the audit role).
/// What [`phr`] read: findings, and the live policies of the PHR bucket and of
/// the log bucket (judged again by the audit's evaluator: no new access).
#[derive(Default)]
pub struct PhrRead {
    pub findings: Vec<Finding>,
    pub phr_policy: Option<PolicyDocument>,
    pub log_bucket_policy: Option<PolicyDocument>,
}

pub async fn phr(ctx: &Ctx, aws: &Aws, account: &str) -> PhrRead {
    let bucket = ctx.env.phr.bucket.as_str();
    let arn = crate::contract::bucket_arn(bucket);
    let s3 = aws.s3();
    let mut out = Vec::new();
    if let Err(e) = s3.head_bucket().bucket(bucket).send().await {
        let why = match aws::code(&e) {
            Some("NotFound") | Some("NoSuchBucket") => "does not exist".to_owned(),
            _ => format!("cannot be read: {}", aws::describe(&e)),
        };
        out.push(finding(
            checks::PHR_MISSING,
            account,
            &arn,
            format!("PHR bucket {bucket} {why}"),
            None,
        ));
        return PhrRead {
            findings: out,
            ..PhrRead::default()
        };
    }
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(o) => {
            let algos: Vec<String> = o
                .server_side_encryption_configuration()
                .map(|c| {
                    c.rules()
                        .iter()
                        .filter_map(|r| r.apply_server_side_encryption_by_default())
                        .map(|d| d.sse_algorithm().as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            if algos.is_empty() {
                out.push(finding(
                    checks::PHR_ENCRYPTION,
                    account,
                    &arn,
                    "no default encryption rule",
                    None,
                ));
            }
        }
        Err(e) => out.push(finding(
            checks::PHR_ENCRYPTION,
            account,
            &arn,
            format!("no default encryption: {}", aws::describe(&e)),
            None,
        )),
    }
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(o) => {
            let c = o.public_access_block_configuration();
            let flags = [
                ("BlockPublicAcls", c.and_then(|c| c.block_public_acls())),
                ("IgnorePublicAcls", c.and_then(|c| c.ignore_public_acls())),
                ("BlockPublicPolicy", c.and_then(|c| c.block_public_policy())),
                (
                    "RestrictPublicBuckets",
                    c.and_then(|c| c.restrict_public_buckets()),
                ),
            ];
            let off: Vec<&str> = flags
                .iter()
                .filter(|(_, v)| *v != Some(true))
                .map(|(k, _)| *k)
                .collect();
            if !off.is_empty() {
                out.push(finding(
                    checks::PHR_PUBLIC_ACCESS,
                    account,
                    &arn,
                    format!("Block Public Access is off: {}", off.join(", ")),
                    None,
                ));
            }
        }
        Err(e) => out.push(finding(
            checks::PHR_PUBLIC_ACCESS,
            account,
            &arn,
            format!(
                "no Block Public Access configuration: {}",
                aws::describe(&e)
            ),
            None,
        )),
    }
    match s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(o) => {
            let modes = ownership_modes(&o);
            if modes != ["BucketOwnerEnforced"] {
                out.push(finding(
                    checks::PHR_OWNERSHIP,
                    account,
                    &arn,
                    format!("object ownership is {modes:?}, expected BucketOwnerEnforced"),
                    None,
                ));
            }
        }
        Err(e) => out.push(finding(
            checks::PHR_OWNERSHIP,
            account,
            &arn,
            format!("no ownership controls: {}", aws::describe(&e)),
            None,
        )),
    }
    let live_name = format!("live:s3:{bucket}/policy");
    let policy = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(o) => match diff::parse_live(o.policy().unwrap_or_default()) {
            Ok(doc) => {
                out.extend(diff_findings(
                    checks::PHR_POLICY,
                    account,
                    &arn,
                    "PHR bucket policy",
                    "policies/phr-bucket-policy.json",
                    &ctx.docs.phr_bucket_policy,
                    &live_name,
                    &doc,
                ));
                Some(doc)
            }
            Err(e) => {
                out.push(finding(
                    checks::PHR_POLICY,
                    account,
                    &arn,
                    format!("bucket policy does not parse: {e}"),
                    None,
                ));
                None
            }
        },
        Err(e) => {
            out.push(finding(
                checks::PHR_POLICY,
                account,
                &arn,
                format!(
                    "no bucket policy (requests without TLS are not denied): {}",
                    aws::describe(&e)
                ),
                None,
            ));
            None
        }
    };
    let (logging, logs) = tokio::join!(
        phr_access_logging(ctx, &s3, account),
        log_bucket(ctx, &s3, account)
    );
    out.extend(logging);
    let (f, log_bucket_policy) = logs;
    out.extend(f);
    PhrRead {
        findings: out,
        phr_policy: policy,
        log_bucket_policy,
    }
}

/// XV026: the PHR bucket's server access logs go to the log bucket, under
/// [`crate::model::ACCESS_LOG_PREFIX`].
pub async fn phr_access_logging(
    ctx: &Ctx,
    s3: &aws_sdk_s3::Client,
    account: &str,
) -> Option<Finding> {
    let (bucket, logs) = (&ctx.env.phr.bucket, &ctx.env.phr.log_bucket);
    let why = match s3.get_bucket_logging().bucket(bucket).send().await {
        Ok(o) => match o.logging_enabled() {
            Some(l)
                if l.target_bucket() == logs
                    && l.target_prefix() == crate::model::ACCESS_LOG_PREFIX =>
            {
                return None;
            }
            Some(l) => format!(
                "server access logs go to s3://{}/{}, expected s3://{logs}/{}",
                l.target_bucket(),
                l.target_prefix(),
                crate::model::ACCESS_LOG_PREFIX
            ),
            None => format!(
                "server access logging is off (expected s3://{logs}/{})",
                crate::model::ACCESS_LOG_PREFIX
            ),
        },
        Err(e) => format!(
            "server access logging cannot be read: {}",
            aws::describe(&e)
        ),
    };
    Some(finding(
        checks::PHR_ACCESS_LOGGING,
        account,
        &crate::contract::bucket_arn(bucket),
        why,
        None,
    ))
}

/// XV025: the log bucket exists with Block Public Access, BucketOwnerEnforced,
/// default encryption, the retention lifecycle and the rendered TLS-only policy.
pub async fn log_bucket(
    ctx: &Ctx,
    s3: &aws_sdk_s3::Client,
    account: &str,
) -> (Vec<Finding>, Option<PolicyDocument>) {
    let bucket = ctx.env.phr.log_bucket.as_str();
    let arn = crate::contract::bucket_arn(bucket);
    let f = |why: String| finding(checks::LOG_BUCKET, account, &arn, why, None);
    if let Err(e) = s3.head_bucket().bucket(bucket).send().await {
        return (
            vec![f(format!(
                "log bucket {bucket} is missing or unreadable: {}",
                aws::describe(&e)
            ))],
            None,
        );
    }
    let (bpa, own, enc, life, pol) = tokio::join!(
        s3.get_public_access_block().bucket(bucket).send(),
        s3.get_bucket_ownership_controls().bucket(bucket).send(),
        s3.get_bucket_encryption().bucket(bucket).send(),
        s3.get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send(),
        s3.get_bucket_policy().bucket(bucket).send(),
    );
    let mut out = Vec::new();
    match bpa {
        Ok(o) if all_blocked(o.public_access_block_configuration()) => {}
        Ok(_) => out.push(f("Block Public Access is not fully on".to_owned())),
        Err(e) => out.push(f(format!("no Block Public Access: {}", aws::describe(&e)))),
    }
    match own {
        Ok(o) => {
            let modes = ownership_modes(&o);
            if modes != ["BucketOwnerEnforced"] {
                out.push(f(format!(
                    "object ownership is {modes:?}, expected BucketOwnerEnforced"
                )));
            }
        }
        Err(e) => out.push(f(format!("no ownership controls: {}", aws::describe(&e)))),
    }
    match enc {
        Ok(o)
            if o.server_side_encryption_configuration().is_some_and(|c| {
                c.rules()
                    .iter()
                    .any(|r| r.apply_server_side_encryption_by_default().is_some())
            }) => {}
        Ok(_) => out.push(f("no default encryption rule".to_owned())),
        Err(e) => out.push(f(format!("no default encryption: {}", aws::describe(&e)))),
    }
    let days = i32::try_from(ctx.env.phr.access_log_retention_days).unwrap_or(i32::MAX);
    match life {
        Ok(o) => {
            let expires = o.rules().iter().any(|r| {
                r.status().as_str() == "Enabled"
                    && r.expiration().and_then(|e| e.days()) == Some(days)
            });
            if !expires {
                out.push(f(format!(
                    "no enabled lifecycle rule expires logs after {days} days (phr.access_log_retention_days)"
                )));
            }
        }
        Err(e) => out.push(f(format!(
            "no lifecycle configuration: {}",
            aws::describe(&e)
        ))),
    }
    let mut live = None;
    match pol {
        Ok(o) => match diff::parse_live(o.policy().unwrap_or_default()) {
            Ok(doc) => {
                out.extend(diff_findings(
                    checks::LOG_BUCKET,
                    account,
                    &arn,
                    "log bucket policy",
                    "policies/log-bucket-policy.json",
                    &ctx.docs.log_bucket_policy,
                    &format!("live:s3:{bucket}/policy"),
                    &doc,
                ));
                live = Some(doc);
            }
            Err(e) => out.push(f(format!("bucket policy does not parse: {e}"))),
        },
        Err(e) => out.push(f(format!(
            "no bucket policy (requests without TLS are not denied): {}",
            aws::describe(&e)
        ))),
    }
    (out, live)
}

/// Whether all four flags of the account-level Block Public Access are on
/// (`s3control:GetPublicAccessBlock`, IAM action `s3:GetAccountPublicAccessBlock`).
/// No configuration at all is `Ok(false)`.
pub async fn account_public_access_block(
    audit: &Aws,
    acct: &str,
) -> std::result::Result<bool, ReadError> {
    match audit
        .s3control()
        .get_public_access_block()
        .account_id(acct)
        .send()
        .await
    {
        Ok(o) => {
            let c = o.public_access_block_configuration();
            Ok([
                c.and_then(|c| c.block_public_acls()),
                c.and_then(|c| c.ignore_public_acls()),
                c.and_then(|c| c.block_public_policy()),
                c.and_then(|c| c.restrict_public_buckets()),
            ]
            .iter()
            .all(|v| *v == Some(true)))
        }
        Err(e) if aws::code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => Ok(false),
        Err(e) => Err(ReadError(aws::describe(&e))),
    }
}

pub fn all_blocked(c: Option<&aws_sdk_s3::types::PublicAccessBlockConfiguration>) -> bool {
    [
        c.and_then(|c| c.block_public_acls()),
        c.and_then(|c| c.ignore_public_acls()),
        c.and_then(|c| c.block_public_policy()),
        c.and_then(|c| c.restrict_public_buckets()),
    ]
    .iter()
    .all(|v| *v == Some(true))
}

/// `GetPolicy` + `GetPolicyVersion` (default version), parsed.
pub async fn fetch_policy(
    iam: &aws_sdk_iam::Client,
    policy_arn: &str,
) -> std::result::Result<PolicyDocument, ReadError> {
    let p = iam
        .get_policy()
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(|e| aws::describe(&e))?;
    let version = p
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or("no default version")?
        .to_owned();
    let v = iam
        .get_policy_version()
        .policy_arn(policy_arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| aws::describe(&e))?;
    let text = v
        .policy_version()
        .and_then(|v| v.document())
        .unwrap_or_default();
    diff::parse_live(text).map_err(|e| ReadError(e.to_string()))
}

/// The object ownership modes a `GetBucketOwnershipControls` answer holds.
fn ownership_modes(
    o: &aws_sdk_s3::operation::get_bucket_ownership_controls::GetBucketOwnershipControlsOutput,
) -> Vec<String> {
    o.ownership_controls()
        .map(|c| {
            c.rules()
                .iter()
                .map(|r| r.object_ownership().as_str().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
