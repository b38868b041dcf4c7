//! The canary: create, configure (the contract's steps, in order), read back and
//! delete a bucket with `S3BucketManager`'s own credentials.

use super::*;

pub(super) fn token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{t}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Create, configure, read back and delete a canary bucket with the storage
/// role's credentials: the runtime's write permissions, proven for real.
pub(super) async fn canary(
    ctx: &Ctx,
    mgr: &Aws,
    acct: &str,
    account_blocked: Option<bool>,
    findings: &mut Vec<Finding>,
) -> bool {
    let env = &ctx.env;
    let s3 = mgr.s3();
    let region = mgr
        .config
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_else(|| env.region.clone());
    let name = contract::canary_bucket_name_in(
        env.bucket_namespace,
        &env.bucket_prefix,
        &token(),
        acct,
        &region,
    );
    let arn = contract::bucket_arn(&name);
    let fail = |findings: &mut Vec<Finding>, step: &str, e: String| {
        findings.push(finding(
            checks::CANARY_STEP,
            acct,
            &arn,
            format!("canary {step} failed: {e}"),
            None,
        ));
    };
    // As the runtime creates a bucket (the same calls: `xacct_bucket`): the
    // tags with it (BUCKET_STEPS' first step, s3:TagResource), in the account
    // regional namespace when the name is a namespaced one.
    let b = xacct_bucket::Bucket {
        name: &name,
        owner: acct,
        region: &region,
    };
    if let Err(e) = xacct_bucket::create(&s3, b, Some(&canary_tags(ctx))).await {
        fail(
            findings,
            "s3:CreateBucket (with its tags: s3:TagResource)",
            aws::describe(&e),
        );
        return false;
    }
    let ok = configure_and_read_back(ctx, &s3, b, account_blocked).await;
    if let Err((step, e)) = &ok {
        fail(findings, step, e.clone());
    }
    if let Err(e) = s3.delete_bucket().bucket(&name).send().await {
        findings.push(finding(
            checks::CANARY_LEFT,
            acct,
            &arn,
            format!(
                "canary bucket {name} could not be deleted ({}); delete it by hand",
                aws::describe(&e)
            ),
            None,
        ));
        return false;
    }
    ok.is_ok()
}

/// The canary's tags (the customer tag is the canary infix).
fn canary_tags(ctx: &Ctx) -> Vec<Tag> {
    xacct_bucket::tags(&ctx.env.name, contract::CANARY_INFIX)
}

pub(super) async fn configure_and_read_back(
    ctx: &Ctx,
    s3: &aws_sdk_s3::Client,
    b: xacct_bucket::Bucket<'_>,
    account_blocked: Option<bool>,
) -> std::result::Result<(), (&'static str, String)> {
    let name = b.name;
    // The tags went with CreateBucket; the steps after it, in order.
    for step in contract::steps_after_create() {
        xacct_bucket::put(s3, b, step, &ctx.env.readers, &canary_tags(ctx))
            .await
            .map_err(|e| (step.action(), e.message))?;
    }

    // Read everything back.
    // s3:ListBucket (what HeadBucket needs too; moto maps HEAD to a made-up s3:HeadBucket).
    s3.list_objects_v2()
        .bucket(name)
        .max_keys(1)
        .send()
        .await
        .map_err(|e| ("s3:ListBucket", aws::describe(&e)))?;
    // Block Public Access is no longer written by the runtime (S3's default for
    // new buckets, and the role may not change it): read it back. A bucket
    // without its own configuration passes only when the account's is fully on.
    match s3.get_public_access_block().bucket(name).send().await {
        Ok(got) => {
            if !all_blocked(got.public_access_block_configuration()) {
                return Err((
                    "s3:GetBucketPublicAccessBlock",
                    "read back a configuration that is not fully blocking".to_owned(),
                ));
            }
        }
        Err(e)
            if aws::code(&e) == Some("NoSuchPublicAccessBlockConfiguration")
                && account_blocked == Some(true) => {}
        Err(e) => {
            return Err((
                "s3:GetBucketPublicAccessBlock",
                format!(
                    "{} (and the account's Block Public Access is {})",
                    aws::describe(&e),
                    match account_blocked {
                        Some(true) => "on",
                        Some(false) => "not fully on",
                        None => "unknown",
                    }
                ),
            ));
        }
    }
    let got = s3
        .get_bucket_ownership_controls()
        .bucket(name)
        .send()
        .await
        .map_err(|e| ("s3:GetBucketOwnershipControls", aws::describe(&e)))?;
    let enforced = got.ownership_controls().is_some_and(|c| {
        c.rules()
            .iter()
            .any(|r| *r.object_ownership() == ObjectOwnership::BucketOwnerEnforced)
    });
    if !enforced {
        return Err((
            "s3:GetBucketOwnershipControls",
            "read back ownership other than BucketOwnerEnforced".to_owned(),
        ));
    }
    s3.get_bucket_encryption()
        .bucket(name)
        .send()
        .await
        .map_err(|e| ("s3:GetEncryptionConfiguration", aws::describe(&e)))?;
    let got = s3
        .get_bucket_tagging()
        .bucket(name)
        .send()
        .await
        .map_err(|e| ("s3:GetBucketTagging", aws::describe(&e)))?;
    if !got
        .tag_set()
        .iter()
        .any(|t| t.key() == contract::TAG_MANAGED_BY && t.value() == contract::MANAGED_BY_VALUE)
    {
        return Err((
            "s3:GetBucketTagging",
            format!("tag {} missing on read-back", contract::TAG_MANAGED_BY),
        ));
    }
    let got = s3
        .get_bucket_policy()
        .bucket(name)
        .send()
        .await
        .map_err(|e| ("s3:GetBucketPolicy", aws::describe(&e)))?;
    let live = diff::parse_live(got.policy().unwrap_or_default())
        .map_err(|e| ("s3:GetBucketPolicy", e.to_string()))?;
    let want = crate::iam::documents::bucket_policy(name, &ctx.env.readers);
    if !diff::diff(&want, &live).is_empty() {
        return Err((
            "s3:GetBucketPolicy",
            "read back a bucket policy that differs from the one put".to_owned(),
        ));
    }
    Ok(())
}
