//! One storage account: its IAM through the audit role, then the live chain
//! (capacity and, with `--canary`, a canary bucket) with `S3BucketManager`'s
//! own credentials obtained through the Lambda execution role.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};

use super::aws::{self, Aws};
use super::primary::{SelfTest, SelfTestAccount};
use super::{
    AccountSummary, Ctx, RoleTrust, checks, diff, diff_findings, finding, read_role_trust,
};
use crate::audit::Finding;
use crate::contract;
use crate::iam::PolicyDocument;
use crate::model::PhrLocation;

/// What one storage account check found.
pub struct Result {
    pub summary: AccountSummary,
    pub findings: Vec<Finding>,
    pub trust: Option<PolicyDocument>,
    pub management: Option<PolicyDocument>,
    pub phr_policy: Option<PolicyDocument>,
}

pub async fn check(ctx: &Ctx, base: &Aws, lambda: Option<&Aws>, acct: &str) -> Result {
    let mut r = Result {
        summary: AccountSummary::new(acct, "storage"),
        findings: Vec::new(),
        trust: None,
        management: None,
        phr_policy: None,
    };
    let audit_arn = format!("arn:aws:iam::{acct}:role/{}", ctx.opts.audit_role);
    match audit_session(base, &audit_arn, acct).await {
        Ok(audit) => {
            r.summary.reachable = true;
            // Independent reads of the account, at the same time.
            let (mut iam, (q, source)) = tokio::join!(
                async {
                    let mut part = Result {
                        summary: AccountSummary::new(acct, "storage"),
                        findings: Vec::new(),
                        trust: None,
                        management: None,
                        phr_policy: None,
                    };
                    read_iam(ctx, &audit, acct, &mut part).await;
                    part
                },
                super::quota::s3_buckets(ctx, &audit, base),
            );
            r.findings.append(&mut iam.findings);
            r.trust = iam.trust.take();
            r.management = iam.management.take();
            r.summary.s3_bucket_quota = Some(q);
            r.summary.quota_source = Some(source);
            if ctx.env.phr.location == PhrLocation::Storage && ctx.env.phr.account == acct {
                let (f, p) = super::primary::phr(ctx, &audit, acct).await;
                r.findings.extend(f);
                r.phr_policy = p;
            }
        }
        Err(e) => r.findings.push(finding(
            checks::STORAGE_UNREACHABLE,
            acct,
            &audit_arn,
            format!("cannot read the account through the audit role: {e}"),
            None,
        )),
    }
    if let Some(lambda) = lambda {
        chain(ctx, lambda, acct, &mut r).await;
    }
    r
}

/// Assumes the audit role and confirms the session by reading the audit role
/// itself: it must exist in the account asked for (some emulators hand out
/// credentials for any role name; real AWS refuses `AssumeRole` already).
pub async fn audit_session(
    base: &Aws,
    role_arn: &str,
    acct: &str,
) -> std::result::Result<Aws, String> {
    let audit = base.assume(role_arn, None).await?;
    let name = role_arn.rsplit('/').next().unwrap_or_default();
    let role = audit
        .iam()
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| format!("role {role_arn} cannot be read: {}", aws::describe(&e)))?;
    let got = role.role().map(|r| r.arn()).unwrap_or_default();
    if crate::eval::arn_account(got) != Some(acct) {
        return Err(format!(
            "the assumed session reads role {got:?}, not one in account {acct}"
        ));
    }
    Ok(audit)
}

async fn read_iam(ctx: &Ctx, audit: &Aws, acct: &str, r: &mut Result) {
    let iam = audit.iam();
    let role_arn = contract::storage_role_arn(acct);
    let role = contract::STORAGE_ROLE_NAME;
    let trust = RoleTrust {
        trust_check: checks::STORAGE_TRUST,
        missing_check: checks::STORAGE_ROLE_MISSING,
        account: acct,
        role_name: role,
        role_arn: &role_arn,
        label: role.to_owned(),
        title: "S3BucketManager trust",
        rendered_file: "policies/s3-bucket-manager-trust.json",
        rendered: &ctx.docs.storage_trust,
    };
    match read_role_trust(&iam, trust, &mut r.findings).await {
        Some(doc) => r.trust = doc,
        None => return,
    }
    let default_policy = format!(
        "arn:aws:iam::{acct}:policy/{}",
        contract::STORAGE_POLICY_NAME
    );
    let mut policy_arn = default_policy.clone();
    match iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
    {
        Ok(o) => {
            let mut attached = false;
            for p in o.attached_policies() {
                if p.policy_name() == Some(contract::STORAGE_POLICY_NAME) {
                    attached = true;
                    policy_arn = p.policy_arn().unwrap_or(&default_policy).to_owned();
                } else {
                    r.findings.push(finding(
                        checks::STORAGE_EXTRA_POLICY,
                        acct,
                        &role_arn,
                        format!(
                            "managed policy {} is attached but was not rendered",
                            p.policy_arn().unwrap_or_default()
                        ),
                        None,
                    ));
                }
            }
            if !attached {
                r.findings.push(finding(
                    checks::STORAGE_POLICY_DETACHED,
                    acct,
                    &role_arn,
                    format!(
                        "{} is not attached to {role}",
                        contract::STORAGE_POLICY_NAME
                    ),
                    None,
                ));
            }
        }
        Err(e) => r.findings.push(finding(
            checks::STORAGE_UNREACHABLE,
            acct,
            &role_arn,
            format!("cannot list attached policies: {}", aws::describe(&e)),
            None,
        )),
    }
    match iam.list_role_policies().role_name(role).send().await {
        Ok(o) => {
            for name in o.policy_names() {
                let live_name = format!("live:{role_arn}#inline:{name}");
                let doc = iam
                    .get_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await
                    .map_err(|e| aws::describe(&e))
                    .and_then(|o| diff::parse_live(o.policy_document()));
                let (msg, st) = match &doc {
                    Ok(d) if !d.statement.is_empty() => (
                        format!("inline policy {name} was not rendered"),
                        super::statement_info(&live_name, d, 0),
                    ),
                    _ => (format!("inline policy {name} was not rendered"), None),
                };
                r.findings.push(finding(
                    checks::STORAGE_EXTRA_POLICY,
                    acct,
                    &role_arn,
                    msg,
                    st,
                ));
            }
        }
        Err(e) => r.findings.push(finding(
            checks::STORAGE_UNREACHABLE,
            acct,
            &role_arn,
            format!("cannot list inline policies: {}", aws::describe(&e)),
            None,
        )),
    }
    let doc = async {
        let p = iam
            .get_policy()
            .policy_arn(&policy_arn)
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
            .policy_arn(&policy_arn)
            .version_id(&version)
            .send()
            .await
            .map_err(|e| aws::describe(&e))?;
        let text = v
            .policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default();
        diff::parse_live(text)
    }
    .await;
    match doc {
        Ok(doc) => {
            r.findings.extend(diff_findings(
                checks::STORAGE_POLICY,
                acct,
                &policy_arn,
                "S3BucketManagement",
                "policies/s3-bucket-management-policy.json",
                &ctx.docs.storage_management,
                &format!("live:{policy_arn}"),
                &doc,
            ));
            r.management = Some(doc);
        }
        Err(e) => r.findings.push(finding(
            checks::STORAGE_POLICY,
            acct,
            &policy_arn,
            format!("cannot read {}: {e}", contract::STORAGE_POLICY_NAME),
            None,
        )),
    }
}

/// Assumes `S3BucketManager` as the Lambda would, counts buckets, runs the canary.
async fn chain(ctx: &Ctx, lambda: &Aws, acct: &str, r: &mut Result) {
    let role_arn = contract::storage_role_arn(acct);
    let mgr = match lambda
        .assume(&role_arn, ctx.env.external_id.as_deref())
        .await
    {
        Ok(m) => m,
        Err(e) => {
            r.summary.chain_ok = Some(false);
            r.findings.push(finding(
                checks::CHAIN_ASSUME,
                acct,
                &role_arn,
                format!(
                    "{} cannot assume {role_arn}: {e}",
                    ctx.env.lambda_role_arn()
                ),
                None,
            ));
            return;
        }
    };
    r.summary.chain_ok = Some(true);
    match bucket_names(&mgr.s3()).await {
        Err(e) => r.findings.push(finding(
            checks::CHAIN_LIST,
            acct,
            &role_arn,
            format!("s3:ListAllMyBuckets failed: {e}"),
            None,
        )),
        Ok(names) => {
            let prefix = format!("{}-", ctx.env.bucket_prefix);
            let ours = names.iter().filter(|n| n.starts_with(&prefix)).count() as u64;
            capacity(ctx, acct, ours, names.len() as u64, r);
        }
    }
    if ctx.opts.canary {
        r.summary.canary = Some(canary(ctx, &mgr, acct, &mut r.findings).await);
    }
}

/// Every bucket name of the account the client's credentials belong to
/// (paginated `ListBuckets`).
pub async fn bucket_names(s3: &aws_sdk_s3::Client) -> std::result::Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut pages = s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let p = page.map_err(|e| aws::describe(&e))?;
        names.extend(
            p.buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_owned)),
        );
    }
    Ok(names)
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
        .unwrap_or(super::quota::QuotaSource::Spec)
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

fn token() -> String {
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
async fn canary(ctx: &Ctx, mgr: &Aws, acct: &str, findings: &mut Vec<Finding>) -> bool {
    let env = &ctx.env;
    let name = contract::canary_bucket_name(&env.bucket_prefix, &token());
    let arn = contract::bucket_arn(&name);
    let s3 = mgr.s3();
    let region = mgr
        .config
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_else(|| env.region.clone());
    let fail = |findings: &mut Vec<Finding>, step: &str, e: String| {
        findings.push(finding(
            checks::CANARY_STEP,
            acct,
            &arn,
            format!("canary {step} failed: {e}"),
            None,
        ));
    };
    let mut create = s3.create_bucket().bucket(&name);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    if let Err(e) = create.send().await {
        fail(findings, "s3:CreateBucket", aws::describe(&e));
        return false;
    }
    let ok = configure_and_read_back(ctx, &s3, &name).await;
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

async fn configure_and_read_back(
    ctx: &Ctx,
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> std::result::Result<(), (&'static str, String)> {
    let env = &ctx.env;
    let pab = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(pab)
        .send()
        .await
        .map_err(|e| ("s3:PutBucketPublicAccessBlock", aws::describe(&e)))?;
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .map_err(|e| ("s3:PutBucketOwnershipControls", e.to_string()))?;
    let oc = OwnershipControls::builder()
        .rules(rule)
        .build()
        .map_err(|e| ("s3:PutBucketOwnershipControls", e.to_string()))?;
    s3.put_bucket_ownership_controls()
        .bucket(name)
        .ownership_controls(oc)
        .send()
        .await
        .map_err(|e| ("s3:PutBucketOwnershipControls", aws::describe(&e)))?;
    let sse = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| ("s3:PutEncryptionConfiguration", e.to_string()))?;
    let enc = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(sse)
                .build(),
        )
        .build()
        .map_err(|e| ("s3:PutEncryptionConfiguration", e.to_string()))?;
    s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(enc)
        .send()
        .await
        .map_err(|e| ("s3:PutEncryptionConfiguration", aws::describe(&e)))?;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    let tags = [
        tag(contract::TAG_ENVIRONMENT, &env.name),
        tag(contract::TAG_CUSTOMER, contract::CANARY_INFIX),
        tag(contract::TAG_MANAGED_BY, contract::MANAGED_BY_VALUE),
    ]
    .into_iter()
    .collect::<std::result::Result<Vec<_>, _>>()
    .map_err(|e| ("s3:PutBucketTagging", e.to_string()))?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .map_err(|e| ("s3:PutBucketTagging", e.to_string()))?;
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| ("s3:PutBucketTagging", aws::describe(&e)))?;
    let policy = contract::customer_bucket_policy(name, &env.readers).to_string();
    s3.put_bucket_policy()
        .bucket(name)
        .policy(&policy)
        .send()
        .await
        .map_err(|e| ("s3:PutBucketPolicy", aws::describe(&e)))?;

    // Read everything back.
    // s3:ListBucket (what HeadBucket needs too; moto maps HEAD to a made-up s3:HeadBucket).
    s3.list_objects_v2()
        .bucket(name)
        .max_keys(1)
        .send()
        .await
        .map_err(|e| ("s3:ListBucket", aws::describe(&e)))?;
    let got = s3
        .get_public_access_block()
        .bucket(name)
        .send()
        .await
        .map_err(|e| ("s3:GetBucketPublicAccessBlock", aws::describe(&e)))?;
    let c = got.public_access_block_configuration();
    let all = [
        c.and_then(|c| c.block_public_acls()),
        c.and_then(|c| c.ignore_public_acls()),
        c.and_then(|c| c.block_public_policy()),
        c.and_then(|c| c.restrict_public_buckets()),
    ];
    if all.iter().any(|v| *v != Some(true)) {
        return Err((
            "s3:GetBucketPublicAccessBlock",
            "read back a configuration that is not fully blocking".to_owned(),
        ));
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
        .map_err(|e| ("s3:GetBucketPolicy", e))?;
    let want = crate::iam::documents::bucket_policy(name, &env.readers);
    if !diff::diff(&want, &live).is_empty() {
        return Err((
            "s3:GetBucketPolicy",
            "read back a bucket policy that differs from the one put".to_owned(),
        ));
    }
    Ok(())
}

/// Applies the Lambda's self-test answer to the storage accounts.
pub fn apply_self_test(
    ctx: &Ctx,
    storage: &mut [Result],
    st: SelfTest,
    findings: &mut Vec<Finding>,
) {
    let primary = ctx.env.primary_account.as_str();
    let fn_arn = ctx.env.function_arn();
    let reports = match st {
        Ok(r) => r,
        Err(e) => {
            findings.push(finding(
                checks::SELF_TEST,
                primary,
                &fn_arn,
                format!("self-test: {e}"),
                None,
            ));
            return;
        }
    };
    for r in storage.iter_mut() {
        let acct = r.summary.account.clone();
        let role_arn = contract::storage_role_arn(&acct);
        let rep: Option<&SelfTestAccount> = reports.iter().find(|a| a.account_id == acct);
        let Some(rep) = rep else {
            r.findings.push(finding(
                checks::SELF_TEST,
                &acct,
                &fn_arn,
                "the self-test did not report this storage account",
                None,
            ));
            continue;
        };
        r.summary.chain_ok = Some(rep.trust_ok);
        if !rep.trust_ok {
            r.findings.push(finding(
                checks::CHAIN_ASSUME,
                &acct,
                &role_arn,
                format!(
                    "self-test: the Lambda cannot assume {role_arn}: {}",
                    rep.error.as_deref().unwrap_or("no reason given")
                ),
                None,
            ));
            continue;
        }
        match rep.bucket_count {
            Some(n) => {
                // The self-test counts prefix buckets only; the quota check uses the same count.
                capacity(ctx, &acct, n, n, r);
            }
            None => r.findings.push(finding(
                checks::CHAIN_LIST,
                &acct,
                &role_arn,
                format!(
                    "self-test could not count buckets: {}",
                    rep.error.as_deref().unwrap_or("no reason given")
                ),
                None,
            )),
        }
    }
}
