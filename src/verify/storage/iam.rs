//! The storage account's IAM as the audit role reads it, compared with the
//! rendered documents.

use super::*;

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
pub(super) struct AccountIam {
    roles: Vec<aws_sdk_iam::types::RoleDetail>,
    policies: Vec<aws_sdk_iam::types::ManagedPolicyDetail>,
}

/// `Err((denied, message))`; `denied`: the audit role may not call it.
pub(super) async fn account_iam(
    iam: &aws_sdk_iam::Client,
) -> std::result::Result<AccountIam, (bool, String)> {
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
pub(super) async fn read_iam(
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

pub(super) fn storage_trust<'a>(ctx: &'a Ctx, acct: &'a str, role_arn: &'a str) -> RoleTrust<'a> {
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
pub(super) fn attached_findings<'a>(
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
pub(super) fn inline_finding(
    acct: &str,
    role_arn: &str,
    name: &str,
    doc: std::result::Result<PolicyDocument, ReadError>,
    r: &mut Result,
) {
    let live_name = format!("live:{role_arn}#inline:{name}");
    let st = match &doc {
        Ok(d) if !d.statement.is_empty() => crate::verify::statement_info(&live_name, d, 0),
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
pub(super) fn management_findings(
    ctx: &Ctx,
    acct: &str,
    policy_arn: &str,
    doc: std::result::Result<PolicyDocument, ReadError>,
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

/// The checks of [`read_iam_per_call`], on a `GetAccountAuthorizationDetails`
/// answer. A policy that answer does not list (detached or deleted) is still
/// looked up by ARN, so a detached but existing `S3BucketManagement` is diffed
/// as before.
pub(super) async fn compare_details(
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
    r.trust = crate::verify::trust_findings(
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
        let doc = diff::parse_live(p.policy_document().unwrap_or_default())
            .map_err(|e| ReadError(e.to_string()));
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
            .ok_or_else(|| ReadError::from("no default version"))
            .and_then(|v| {
                diff::parse_live(v.document().unwrap_or_default())
                    .map_err(|e| ReadError(e.to_string()))
            }),
        None => fetch_policy(iam, &policy_arn).await,
    };
    management_findings(ctx, acct, &policy_arn, doc, r);
}

/// The per-role reads, for an audit role that may not call
/// `GetAccountAuthorizationDetails`.
pub(super) async fn read_iam_per_call(
    ctx: &Ctx,
    iam: &aws_sdk_iam::Client,
    acct: &str,
    r: &mut Result,
) {
    let role_arn = contract::storage_role_arn(acct);
    let role = contract::STORAGE_ROLE_NAME;
    match crate::verify::read_role_trust(iam, storage_trust(ctx, acct, &role_arn), &mut r.findings)
        .await
    {
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
                    .map_err(|e| ReadError(aws::describe(&e)))
                    .and_then(|o| {
                        diff::parse_live(o.policy_document()).map_err(|e| ReadError(e.to_string()))
                    });
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
