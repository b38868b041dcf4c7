//! The S3 bucket quota of a storage account: Service Quotas where available
//! (`GetServiceQuota`, the account's applied value, one call per account), else
//! the AWS default (`GetAWSDefaultServiceQuota`, one call per run), else the
//! spec's `storage.s3_bucket_quota` (10,000 by default). A missing or denied
//! quota API is not a finding: it only changes the source reported.

use serde::Serialize;

use super::Ctx;
use super::aws::Aws;

/// Service Quotas code of Amazon S3 and of its "General purpose buckets" quota.
pub const SERVICE_CODE: &str = "s3";
pub const BUCKETS_QUOTA_CODE: &str = "L-DC2B2D3D";

/// Where the quota figure of an account came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaSource {
    /// The account's applied value (`servicequotas:GetServiceQuota`).
    ServiceQuotas,
    /// The AWS default (`servicequotas:GetAWSDefaultServiceQuota`).
    AwsDefault,
    /// `storage.s3_bucket_quota` of the spec (10,000 when not set).
    Spec,
}

impl QuotaSource {
    pub fn label(self) -> &'static str {
        match self {
            QuotaSource::ServiceQuotas => "service-quotas",
            QuotaSource::AwsDefault => "aws-default",
            QuotaSource::Spec => "spec",
        }
    }
}

fn whole(v: Option<f64>) -> Option<u64> {
    v.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64)
}

/// The account's bucket quota with `session` (credentials in that account),
/// falling back to the run-wide default of [`default_quota`].
pub async fn s3_buckets(ctx: &Ctx, session: &Aws, base: &Aws) -> (u64, QuotaSource) {
    let applied = session
        .servicequotas()
        .get_service_quota()
        .service_code(SERVICE_CODE)
        .quota_code(BUCKETS_QUOTA_CODE)
        .send()
        .await
        .ok()
        .and_then(|o| whole(o.quota().and_then(|q| q.value())));
    match applied {
        Some(v) => (v, QuotaSource::ServiceQuotas),
        None => default_quota(ctx, base).await,
    }
}

/// The AWS default quota, asked once per run with the verifier's own
/// credentials (it is the same for every account), else the spec's figure.
///
/// One attempt, no retry: every account whose own quota read failed waits
/// for this answer, a retry's backoff (up to a second, with jitter) would
/// sit on all their critical paths, and the fallback (the spec's figure,
/// 10,000 by default) is AWS's documented default anyway. (Against moto,
/// which answers HTTP 500 here, the retry made small runs vary by 0-1 s.)
pub async fn default_quota(ctx: &Ctx, base: &Aws) -> (u64, QuotaSource) {
    let aws_default = ctx
        .quota_default
        .get_or_init(|| async {
            let conf = base
                .servicequotas()
                .config()
                .to_builder()
                .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
                .build();
            aws_sdk_servicequotas::Client::from_conf(conf)
                .get_aws_default_service_quota()
                .service_code(SERVICE_CODE)
                .quota_code(BUCKETS_QUOTA_CODE)
                .send()
                .await
                .ok()
                .and_then(|o| whole(o.quota().and_then(|q| q.value())))
        })
        .await;
    match aws_default {
        Some(v) => (*v, QuotaSource::AwsDefault),
        None => (u64::from(ctx.env.s3_bucket_quota), QuotaSource::Spec),
    }
}
