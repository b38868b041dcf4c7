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
    match crate::aws::buckets(&mgr.s3()).await {
        Err(e) => c.findings.push(finding(
            checks::CHAIN_LIST,
            acct,
            &role_arn,
            format!("s3:ListAllMyBuckets failed: {e}"),
            None,
        )),
        Ok(listed) => {
            let ours = listed
                .iter()
                .filter(|(n, _)| contract::is_customer_bucket(&ctx.env.bucket_prefix, n))
                .count() as u64;
            c.counts = Some((ours, listed.len() as u64));
            if ctx.env.bucket_namespace == contract::BucketNamespace::AccountRegional {
                for (name, first) in
                    outside_namespace(&ctx.env.bucket_prefix, acct, &ctx.env.region, &listed)
                {
                    c.findings.push(finding(
                        checks::OUTSIDE_NAMESPACE,
                        acct,
                        &contract::bucket_arn(&name),
                        format!(
                            "customer bucket {name} was created outside the account regional namespace after the switch (the account's first namespaced bucket is {first}): a global name anyone could have taken; find who created it (CloudTrail CreateBucket) and move the customer"
                        ),
                        None,
                    ));
                }
            }
        }
    }
    c.mgr = Some(mgr);
    c
}

/// Customer buckets (canaries excluded) of `acct` in the global namespace
/// created after the account's first bucket in its regional namespace (the
/// switch happened no later than that): `(bucket, first namespaced bucket)`.
/// Global buckets older than that are the legacy customers that keep them.
/// A listing without creation times cannot tell and reports nothing.
pub fn outside_namespace(
    prefix: &str,
    acct: &str,
    region: &str,
    listed: &[(String, Option<i64>)],
) -> Vec<(String, String)> {
    let customer = |n: &str| contract::is_customer_bucket(prefix, n);
    let Some((first, since)) = listed
        .iter()
        .filter(|(n, _)| customer(n) && contract::is_namespaced_bucket(n, acct, region))
        .filter_map(|(n, t)| t.map(|t| (n, t)))
        .min_by_key(|(_, t)| *t)
    else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = listed
        .iter()
        .filter(|(n, t)| {
            customer(n)
                && !contract::is_namespaced_bucket(n, acct, region)
                && t.is_some_and(|t| t > since)
        })
        .map(|(n, _)| (n.clone(), first.clone()))
        .collect();
    out.sort();
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_buckets_after_the_first_namespaced_one_are_reported() {
        let (a, r) = ("100000000002", "us-east-1");
        let ns = |c: &str| contract::namespaced_bucket_name("ambra-dev", c, a, r).unwrap();
        let listed = vec![
            ("ambra-dev-legacy".to_owned(), Some(100)),
            (ns("new"), Some(200)),
            ("ambra-dev-late".to_owned(), Some(300)),
            (contract::canary_bucket_name("ambra-dev", "t"), Some(400)),
            ("other-bucket".to_owned(), Some(500)),
            (ns("newer"), Some(600)),
        ];
        assert_eq!(
            outside_namespace("ambra-dev", a, r, &listed),
            [("ambra-dev-late".to_owned(), ns("new"))]
        );
        // Before any namespaced bucket nothing can be told apart.
        assert!(outside_namespace("ambra-dev", a, r, &listed[..1]).is_empty());
        // Another account's suffix is not this account's namespace.
        let foreign =
            contract::namespaced_bucket_name("ambra-dev", "x", "100000000003", r).unwrap();
        let listed = vec![(ns("new"), Some(1)), (foreign.clone(), Some(2))];
        assert_eq!(
            outside_namespace("ambra-dev", a, r, &listed),
            [(foreign, ns("new"))]
        );
    }
}
