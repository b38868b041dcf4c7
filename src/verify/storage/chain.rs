//! The live chain: the Lambda role assumes `S3BucketManager`, which lists the
//! account's buckets; then the capacity findings.

use super::*;

/// What the live chain found in one storage account.
pub(super) struct Chain {
    /// `S3BucketManager`'s session, when the Lambda role could assume it.
    pub(super) mgr: Option<Aws>,
    /// Prefix buckets and all buckets, when they could be listed.
    pub(super) counts: Option<(u64, u64)>,
    pub(super) findings: Vec<Finding>,
}

/// Assumes `S3BucketManager` as the Lambda would and counts buckets.
pub(super) async fn chain(ctx: &Ctx, lambda: &Aws, acct: &str) -> Chain {
    let role_arn = contract::storage_role_arn(acct);
    let mut c = Chain {
        mgr: None,
        counts: None,
        findings: Vec::new(),
    };
    let mgr = match lambda
        .assume(&role_arn, ctx.env.external_id.as_deref())
        .await
    {
        Ok(m) => m,
        Err(e) => {
            c.findings.push(finding(
                checks::CHAIN_ASSUME,
                acct,
                &role_arn,
                format!(
                    "{} cannot assume {role_arn}: {e}",
                    ctx.env.lambda_role_arn()
                ),
                None,
            ));
            return c;
        }
    };
    match bucket_names(&mgr.s3()).await {
        Err(e) => c.findings.push(finding(
            checks::CHAIN_LIST,
            acct,
            &role_arn,
            format!("s3:ListAllMyBuckets failed: {e}"),
            None,
        )),
        Ok(names) => {
            let ours = names
                .iter()
                .filter(|n| contract::is_customer_bucket(&ctx.env.bucket_prefix, n))
                .count() as u64;
            c.counts = Some((ours, names.len() as u64));
        }
    }
    c.mgr = Some(mgr);
    c
}

/// Capacity findings for bucket counts (prefix buckets vs the configured
/// maximum; all buckets vs the S3 quota).
pub fn capacity(ctx: &Ctx, acct: &str, ours: u64, total: u64, r: &mut Result) {
    let env = &ctx.env;
    let max = u64::from(env.max_buckets_per_account);
    let quota = r
        .summary
        .s3_bucket_quota
        .unwrap_or(u64::from(env.s3_bucket_quota));
    let source = r
        .summary
        .quota_source
        .unwrap_or(crate::verify::quota::QuotaSource::Spec)
        .label();
    let quota_what = format!("the S3 bucket quota ({source})");
    let warn = u64::from(env.capacity_warn_percent);
    r.summary.prefix_buckets = Some(ours);
    r.summary.total_buckets = Some(total);
    r.summary.headroom = Some(max as i64 - ours as i64);
    let res = format!("account {acct} buckets");
    for (count, limit, what) in [
        (ours, max, "max_buckets_per_account"),
        (total, quota, quota_what.as_str()),
    ] {
        if count >= limit {
            r.findings.push(finding(
                checks::CAPACITY_FULL,
                acct,
                &res,
                format!("{count} buckets, {what} is {limit}: no room for new customers"),
                None,
            ));
        } else if count * 100 >= warn * limit {
            r.findings.push(finding(
                checks::CAPACITY_WARN,
                acct,
                &res,
                format!(
                    "{count} of {limit} buckets ({what}) used, past the {warn}% warning threshold"
                ),
                None,
            ));
        }
    }
}
