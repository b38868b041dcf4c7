//! One storage account: its IAM through the audit role, then the live chain
//! (capacity and, with `--canary`, a canary bucket) with `S3BucketManager`'s
//! own credentials obtained through the Lambda execution role.

use aws_sdk_s3::types::{ObjectOwnership, Tag};

mod canary;
mod chain;
mod iam;
mod self_test;

pub use chain::capacity;
pub use self_test::apply_self_test;

pub use super::shared::{ReadError, account_public_access_block, all_blocked, fetch_policy};
use canary::*;
use chain::*;
use iam::*;

use super::shared::SelfTest;
use super::{AccountSummary, Ctx, RoleTrust, checks, diff, diff_findings, finding};
use crate::audit::Finding;
use crate::aws::{self, Aws, AwsError, audit_role_in, confirm_audit_role};
use crate::contract;
use crate::contract::api::AccountReport;
use crate::iam::PolicyDocument;
use crate::model::PhrLocation;

/// What one storage account check found.
pub struct Result {
    pub summary: AccountSummary,
    pub findings: Vec<Finding>,
    pub trust: Option<PolicyDocument>,
    pub management: Option<PolicyDocument>,
    pub phr_policy: Option<PolicyDocument>,
    /// The log bucket's policy, when the PHR bucket lives here.
    pub log_bucket_policy: Option<PolicyDocument>,
    /// The account-level Block Public Access, all four flags on (`None`: unread).
    pub account_public_access_blocked: Option<bool>,
}

impl Result {
    fn new(acct: &str) -> Result {
        Result {
            summary: AccountSummary::new(acct, "storage"),
            findings: Vec::new(),
            trust: None,
            management: None,
            phr_policy: None,
            log_bucket_policy: None,
            account_public_access_blocked: None,
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
            let blocked = r.account_public_access_blocked;
            r.summary.canary = Some(canary(ctx, mgr, acct, blocked, &mut r.findings).await);
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
    let (iam, (q, source), bpa) = tokio::join!(
        read_iam(ctx, &audit, audit_arn, acct),
        super::quota::s3_buckets(ctx, &audit, base),
        account_public_access_block(&audit, acct),
    );
    let mut r = iam?;
    match bpa {
        Ok(on) => {
            r.account_public_access_blocked = Some(on);
            if !on {
                r.findings.push(finding(
                    checks::STORAGE_ACCOUNT_PUBLIC_ACCESS,
                    acct,
                    &format!("arn:aws:s3:::account/{acct}"),
                    "the account-level Block Public Access is not fully on (all four flags)"
                        .to_owned(),
                    None,
                ));
            }
        }
        Err(e) => r.findings.push(finding(
            checks::STORAGE_ACCOUNT_PUBLIC_ACCESS,
            acct,
            &format!("arn:aws:s3:::account/{acct}"),
            format!("the account-level Block Public Access could not be read: {e}"),
            None,
        )),
    }
    r.summary.reachable = true;
    r.summary.s3_bucket_quota = Some(q);
    r.summary.quota_source = Some(source);
    if ctx.env.phr.location == PhrLocation::Storage && ctx.env.phr.account == acct {
        let read = super::shared::phr(ctx, &audit, acct).await;
        r.findings.extend(read.findings);
        r.phr_policy = read.phr_policy;
        r.log_bucket_policy = read.log_bucket_policy;
    }
    Ok(r)
}
