//! One storage account: its IAM through the audit role, then the live chain
//! (capacity and, with `--canary`, a canary bucket) with `S3BucketManager`'s
//! own credentials obtained through the Lambda execution role.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};

use super::primary::{SelfTest, SelfTestAccount};
use super::{AccountSummary, Ctx, RoleTrust, checks, diff, diff_findings, finding};
use crate::audit::Finding;
use crate::aws::{self, Aws, AwsError, audit_role_in, bucket_names, confirm_audit_role};
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

impl Result {
    fn new(acct: &str) -> Result {
        Result {
            summary: AccountSummary::new(acct, "storage"),
            findings: Vec::new(),
            trust: None,
            management: None,
            phr_policy: None,
        }
    }
}

/// Checks one storage account. Two independent branches run at the same time:
/// the audit role's reads (IAM and the S3 quota) and the live chain (the
/// Lambda role assumes `S3BucketManager`, which lists buckets). The capacity
/// check needs both (the bucket count and the quota), so it runs after them,
/// then the canary. Critical path: 3 round trips (audit `AssumeRole`, then
/// `GetAccountAuthorizationDetails` alongside `GetServiceQuota`), or 2 for the
/// chain, whichever is slower.
pub async fn check(ctx: &Ctx, base: &Aws, lambda: Option<&Aws>, acct: &str) -> Result {
    let audit_arn = format!("arn:aws:iam::{acct}:role/{}", ctx.opts.audit_role);
    let (audit, live) = tokio::join!(read_account(ctx, base, &audit_arn, acct), async {
        match lambda {
            Some(l) => Some(chain(ctx, l, acct).await),
            None => None,
        }
    });
    let mut r = match audit {
        Ok(r) => r,
        Err(e) => {
            let mut r = Result::new(acct);
            r.findings.push(finding(
                checks::STORAGE_UNREACHABLE,
                acct,
                &audit_arn,
                format!("cannot read the account through the audit role: {e}"),
                None,
            ));
            r
        }
    };
    if let Some(c) = live {
        r.summary.chain_ok = Some(c.mgr.is_some());
        r.findings.extend(c.findings);
        if let Some((ours, total)) = c.counts {
            capacity(ctx, acct, ours, total, &mut r);
        }
        if let (true, Some(mgr)) = (ctx.opts.canary, &c.mgr) {
            r.summary.canary = Some(canary(ctx, mgr, acct, &mut r.findings).await);
        }
    }
    r
}

/// The audit role's side of a storage account: assume it, then read IAM and
/// the S3 bucket quota at the same time (and the PHR bucket when it lives
/// here). `Err`: the account cannot be read through the audit role.
async fn read_account(
    ctx: &Ctx,
    base: &Aws,
    audit_arn: &str,
    acct: &str,
) -> std::result::Result<Result, AwsError> {
    let audit = base.assume(audit_arn, None).await?;
    let (iam, (q, source)) = tokio::join!(
        read_iam(ctx, &audit, audit_arn, acct),
        super::quota::s3_buckets(ctx, &audit, base),
    );
    let mut r = iam?;
    r.summary.reachable = true;
    r.summary.s3_bucket_quota = Some(q);
    r.summary.quota_source = Some(source);
    if ctx.env.phr.location == PhrLocation::Storage && ctx.env.phr.account == acct {
        let (f, p) = super::primary::phr(ctx, &audit, acct).await;
        r.findings.extend(f);
        r.phr_policy = p;
    }
    Ok(r)
}

/// A storage account's roles and customer managed policies, from one
/// paginated `iam:GetAccountAuthorizationDetails` (filter `Role`,
/// `LocalManagedPolicy`): each role with its trust, inline policies and
/// attached policies, each policy with its versions and documents.
///
/// One request instead of six (`GetRole` for the audit role and for
/// `S3BucketManager`, `ListAttachedRolePolicies`, `ListRolePolicies`,
/// `GetPolicy`, `GetPolicyVersion`). Storage accounts are dedicated to this
/// service, so the answer is a handful of roles and one policy: one page. The
/// trade-off: in a large shared account it would page (100 entries a page by
/// default, every role and policy of the account with every policy version),
/// and then the per-role calls would be cheaper.
struct AccountIam {
    roles: Vec<aws_sdk_iam::types::RoleDetail>,
    policies: Vec<aws_sdk_iam::types::ManagedPolicyDetail>,
}

/// `Err((denied, message))`; `denied`: the audit role may not call it.
async fn account_iam(iam: &aws_sdk_iam::Client) -> std::result::Result<AccountIam, (bool, String)> {
    use aws_sdk_iam::types::EntityType;
    let mut out = AccountIam {
        roles: Vec::new(),
        policies: Vec::new(),
    };
    let mut pages = iam
        .get_account_authorization_details()
        .filter(EntityType::Role)
        .filter(EntityType::LocalManagedPolicy)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let p = page.map_err(|e| {
            // By code, or by status where the error body is not modelled
            // (moto's enforcement answers 403 with an `ErrorResponse` the SDK
            // does not parse).
            let denied = matches!(
                aws::code(&e),
                Some("AccessDenied" | "AccessDeniedException")
            ) || e.raw_response().map(|r| r.status().as_u16()) == Some(403);
            (denied, aws::describe(&e))
        })?;
        out.roles.extend(p.role_detail_list().iter().cloned());
        out.policies.extend(p.policies().iter().cloned());
    }
    Ok(out)
}

/// The storage account's IAM as the audit role sees it, compared with the
/// rendered documents. `Err`: the audit role is not confirmed in `acct`.
async fn read_iam(
    ctx: &Ctx,
    audit: &Aws,
    audit_arn: &str,
    acct: &str,
) -> std::result::Result<Result, AwsError> {
    let iam = audit.iam();
    let mut r = Result::new(acct);
    match account_iam(&iam).await {
        Ok(details) => {
            let audit_name = audit_arn.rsplit('/').next().unwrap_or_default();
            let me = details
                .roles
                .iter()
                .find(|d| d.role_name() == Some(audit_name))
                .ok_or_else(|| {
                    AwsError::new(
                        "iam:GetAccountAuthorizationDetails",
                        acct,
                        format!("role {audit_arn} is not among the account's roles"),
                    )
                })?;
            audit_role_in(me.arn().unwrap_or_default(), acct)?;
            compare_details(ctx, &iam, acct, &details, &mut r).await;
        }
        // An audit role without iam:GetAccountAuthorizationDetails: the
        // per-role reads (6 requests instead of 1).
        Err((true, _)) => {
            confirm_audit_role(audit, audit_arn, acct).await?;
            read_iam_per_call(ctx, &iam, acct, &mut r).await;
        }
        Err((false, e)) => {
            return Err(AwsError::new("iam:GetAccountAuthorizationDetails", acct, e));
        }
    }
    Ok(r)
}

fn storage_trust<'a>(ctx: &'a Ctx, acct: &'a str, role_arn: &'a str) -> RoleTrust<'a> {
    let role = contract::STORAGE_ROLE_NAME;
    RoleTrust {
        trust_check: checks::STORAGE_TRUST,
        missing_check: checks::STORAGE_ROLE_MISSING,
        account: acct,
        role_name: role,
        role_arn,
        label: role.to_owned(),
        title: "S3BucketManager trust",
        rendered_file: "policies/s3-bucket-manager-trust.json",
        rendered: &ctx.docs.storage_trust,
    }
}

/// Findings for the policies attached to `S3BucketManager` (`(name, arn)`
/// pairs); the ARN of `S3BucketManagement` as attached (else its default ARN).
fn attached_findings<'a>(
    acct: &str,
    role_arn: &str,
    attached: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
    r: &mut Result,
) -> String {
    let default_policy = format!(
        "arn:aws:iam::{acct}:policy/{}",
        contract::STORAGE_POLICY_NAME
    );
    let mut policy_arn = None;
    for (name, arn) in attached {
        if name == Some(contract::STORAGE_POLICY_NAME) {
            policy_arn = Some(arn.unwrap_or(&default_policy).to_owned());
        } else {
            r.findings.push(finding(
                checks::STORAGE_EXTRA_POLICY,
                acct,
                role_arn,
                format!(
                    "managed policy {} is attached but was not rendered",
                    arn.unwrap_or_default()
                ),
                None,
            ));
        }
    }
    if policy_arn.is_none() {
        r.findings.push(finding(
            checks::STORAGE_POLICY_DETACHED,
            acct,
            role_arn,
            format!(
                "{} is not attached to {}",
                contract::STORAGE_POLICY_NAME,
                contract::STORAGE_ROLE_NAME
            ),
            None,
        ));
    }
    policy_arn.unwrap_or(default_policy)
}

/// An inline policy of `S3BucketManager` (none is rendered).
fn inline_finding(
    acct: &str,
    role_arn: &str,
    name: &str,
    doc: std::result::Result<PolicyDocument, String>,
    r: &mut Result,
) {
    let live_name = format!("live:{role_arn}#inline:{name}");
    let st = match &doc {
        Ok(d) if !d.statement.is_empty() => super::statement_info(&live_name, d, 0),
        _ => None,
    };
    r.findings.push(finding(
        checks::STORAGE_EXTRA_POLICY,
        acct,
        role_arn,
        format!("inline policy {name} was not rendered"),
        st,
    ));
}

/// Diffs `S3BucketManagement` (or the failure to read it) into findings.
fn management_findings(
    ctx: &Ctx,
    acct: &str,
    policy_arn: &str,
    doc: std::result::Result<PolicyDocument, String>,
    r: &mut Result,
) {
    match doc {
        Ok(doc) => {
            r.findings.extend(diff_findings(
                checks::STORAGE_POLICY,
                acct,
                policy_arn,
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
            policy_arn,
            format!("cannot read {}: {e}", contract::STORAGE_POLICY_NAME),
            None,
        )),
    }
}

/// `GetPolicy` + `GetPolicyVersion` (default version), parsed.
async fn fetch_policy(
    iam: &aws_sdk_iam::Client,
    policy_arn: &str,
) -> std::result::Result<PolicyDocument, String> {
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
    diff::parse_live(text)
}

/// The checks of [`read_iam_per_call`], on a `GetAccountAuthorizationDetails`
/// answer. A policy that answer does not list (detached or deleted) is still
/// looked up by ARN, so a detached but existing `S3BucketManagement` is diffed
/// as before.
async fn compare_details(
    ctx: &Ctx,
    iam: &aws_sdk_iam::Client,
    acct: &str,
    details: &AccountIam,
    r: &mut Result,
) {
    let role_arn = contract::storage_role_arn(acct);
    let trust = storage_trust(ctx, acct, &role_arn);
    let Some(role) = details
        .roles
        .iter()
        .find(|d| d.role_name() == Some(contract::STORAGE_ROLE_NAME))
    else {
        r.findings.push(finding(
            trust.missing_check,
            acct,
            &role_arn,
            format!("{} does not exist", trust.label),
            None,
        ));
        return;
    };
    r.trust = super::trust_findings(
        trust,
        role.assume_role_policy_document().unwrap_or_default(),
        &mut r.findings,
    );
    let policy_arn = attached_findings(
        acct,
        &role_arn,
        role.attached_managed_policies()
            .iter()
            .map(|p| (p.policy_name(), p.policy_arn())),
        r,
    );
    for p in role.role_policy_list() {
        let name = p.policy_name().unwrap_or_default();
        let doc = diff::parse_live(p.policy_document().unwrap_or_default());
        inline_finding(acct, &role_arn, name, doc, r);
    }
    let listed = details
        .policies
        .iter()
        .find(|p| p.arn() == Some(policy_arn.as_str()));
    let doc = match listed {
        Some(p) => p
            .policy_version_list()
            .iter()
            .find(|v| {
                v.is_default_version()
                    || (v.version_id().is_some() && v.version_id() == p.default_version_id())
            })
            .ok_or_else(|| "no default version".to_owned())
            .and_then(|v| diff::parse_live(v.document().unwrap_or_default())),
        None => fetch_policy(iam, &policy_arn).await,
    };
    management_findings(ctx, acct, &policy_arn, doc, r);
}

/// The per-role reads, for an audit role that may not call
/// `GetAccountAuthorizationDetails`.
async fn read_iam_per_call(ctx: &Ctx, iam: &aws_sdk_iam::Client, acct: &str, r: &mut Result) {
    let role_arn = contract::storage_role_arn(acct);
    let role = contract::STORAGE_ROLE_NAME;
    match super::read_role_trust(iam, storage_trust(ctx, acct, &role_arn), &mut r.findings).await {
        Some(doc) => r.trust = doc,
        None => return,
    }
    let mut policy_arn = format!(
        "arn:aws:iam::{acct}:policy/{}",
        contract::STORAGE_POLICY_NAME
    );
    match iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
    {
        Ok(o) => {
            policy_arn = attached_findings(
                acct,
                &role_arn,
                o.attached_policies()
                    .iter()
                    .map(|p| (p.policy_name(), p.policy_arn())),
                r,
            );
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
                let doc = iam
                    .get_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await
                    .map_err(|e| aws::describe(&e))
                    .and_then(|o| diff::parse_live(o.policy_document()));
                inline_finding(acct, &role_arn, name, doc, r);
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
    let doc = fetch_policy(iam, &policy_arn).await;
    management_findings(ctx, acct, &policy_arn, doc, r);
}

/// What the live chain found in one storage account.
struct Chain {
    /// `S3BucketManager`'s session, when the Lambda role could assume it.
    mgr: Option<Aws>,
    /// Prefix buckets and all buckets, when they could be listed.
    counts: Option<(u64, u64)>,
    findings: Vec<Finding>,
}

/// Assumes `S3BucketManager` as the Lambda would and counts buckets.
async fn chain(ctx: &Ctx, lambda: &Aws, acct: &str) -> Chain {
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

/// One configuration step of the canary bucket, as the Lambda does it
/// (`contract::BUCKET_STEPS` gives the order: tags last).
async fn canary_step(
    ctx: &Ctx,
    s3: &aws_sdk_s3::Client,
    name: &str,
    step: contract::BucketStep,
) -> std::result::Result<(), String> {
    use contract::BucketStep;
    let env = &ctx.env;
    match step {
        BucketStep::PublicAccessBlock => {
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
                .map_err(|e| aws::describe(&e))?;
        }
        BucketStep::OwnershipControls => {
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                .build()
                .map_err(|e| e.to_string())?;
            let oc = OwnershipControls::builder()
                .rules(rule)
                .build()
                .map_err(|e| e.to_string())?;
            s3.put_bucket_ownership_controls()
                .bucket(name)
                .ownership_controls(oc)
                .send()
                .await
                .map_err(|e| aws::describe(&e))?;
        }
        BucketStep::Encryption => {
            let sse = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(|e| e.to_string())?;
            let enc = ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(sse)
                        .build(),
                )
                .build()
                .map_err(|e| e.to_string())?;
            s3.put_bucket_encryption()
                .bucket(name)
                .server_side_encryption_configuration(enc)
                .send()
                .await
                .map_err(|e| aws::describe(&e))?;
        }
        BucketStep::Policy => {
            let policy = contract::customer_bucket_policy(name, &env.readers).to_string();
            s3.put_bucket_policy()
                .bucket(name)
                .policy(&policy)
                .send()
                .await
                .map_err(|e| aws::describe(&e))?;
        }
        BucketStep::Tags => {
            let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
            let tags = [
                tag(contract::TAG_ENVIRONMENT, &env.name),
                tag(contract::TAG_CUSTOMER, contract::CANARY_INFIX),
                tag(contract::TAG_MANAGED_BY, contract::MANAGED_BY_VALUE),
            ]
            .into_iter()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
            let tagging = Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .map_err(|e| e.to_string())?;
            s3.put_bucket_tagging()
                .bucket(name)
                .tagging(tagging)
                .send()
                .await
                .map_err(|e| aws::describe(&e))?;
        }
    }
    Ok(())
}

async fn configure_and_read_back(
    ctx: &Ctx,
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> std::result::Result<(), (&'static str, String)> {
    for step in contract::BUCKET_STEPS {
        canary_step(ctx, s3, name, *step)
            .await
            .map_err(|e| (step.action(), e))?;
    }

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
    let want = crate::iam::documents::bucket_policy(name, &ctx.env.readers);
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
