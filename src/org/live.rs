//! Reading an AWS Organization into an [`org::Snapshot`] (issue 20):
//! read-only (`Describe*`/`List*`), paginated with the SDK paginators.
//!
//! Permissions: `organizations:DescribeOrganization`, `ListRoots`, `ListAccounts`,
//! `ListParents`, `DescribeOrganizationalUnit`, `ListPoliciesForTarget`,
//! `DescribePolicy` (the management account or a delegated administrator).

use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};

use super::{Account, OrganizationalUnit, Policy, PolicyKind, Snapshot};
use crate::aws::AwsError;

/// What reading the organization needs, for messages.
pub const READ_PERMISSIONS: &str = "organizations:DescribeOrganization, ListRoots, ListAccounts, ListParents, DescribeOrganizationalUnit, ListPoliciesForTarget and DescribePolicy (run it in the management account or as a delegated administrator)";

/// Why an organization could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OrgReadError {
    /// The caller's account is in no organization: no guardrail applies.
    #[error("the caller's account is not in an AWS Organization ({0})")]
    NotInOrganization(String),
    /// The caller may not read the organization.
    #[error("{0}")]
    Denied(AwsError),
    #[error("{0}")]
    Aws(AwsError),
}

fn classify(e: AwsError) -> OrgReadError {
    let denied = matches!(
        e.code(),
        Some("AccessDenied" | "AccessDeniedException" | "AccessDeniedForDependencyException")
    ) || e.message.contains("AccessDenied")
        || e.message.contains("HTTP 403");
    if e.message.contains("AWSOrganizationsNotInUseException") {
        OrgReadError::NotInOrganization(e.message)
    } else if denied {
        OrgReadError::Denied(e.next(format!("the caller needs {READ_PERMISSIONS}")))
    } else {
        OrgReadError::Aws(e)
    }
}

fn kind_of(k: PolicyKind) -> PolicyType {
    match k {
        PolicyKind::Scp => PolicyType::ServiceControlPolicy,
        PolicyKind::Rcp => PolicyType::ResourceControlPolicy,
    }
}

/// Reads the organization around `accounts` (the environment's accounts).
/// `read_at` is when (RFC 3339), passed in so the read has no clock.
pub async fn read(
    org: &aws_sdk_organizations::Client,
    accounts: &[String],
    read_at: &str,
) -> Result<Snapshot, OrgReadError> {
    let o = org.describe_organization().send().await.map_err(|e| {
        classify(AwsError::sdk(
            "organizations:DescribeOrganization",
            "the organization",
            &e,
        ))
    })?;
    let o = o.organization().ok_or_else(|| {
        OrgReadError::Aws(AwsError::new(
            "organizations:DescribeOrganization",
            "the organization",
            "the answer has no organization",
        ))
    })?;
    let organization_id = o.id().unwrap_or_default().to_owned();
    let management_account = o.master_account_id().unwrap_or_default().to_owned();
    let roots = org.list_roots().send().await.map_err(|e| {
        classify(AwsError::sdk(
            "organizations:ListRoots",
            &organization_id,
            &e,
        ))
    })?;
    let root = roots.roots().first().ok_or_else(|| {
        OrgReadError::Aws(AwsError::new(
            "organizations:ListRoots",
            &organization_id,
            "no root",
        ))
    })?;
    let root_id = root.id().unwrap_or_default().to_owned();
    let enabled_policy_types: Vec<PolicyKind> = root
        .policy_types()
        .iter()
        .filter(|t| t.status() == Some(&PolicyTypeStatus::Enabled))
        .filter_map(|t| match t.r#type() {
            Some(PolicyType::ServiceControlPolicy) => Some(PolicyKind::Scp),
            Some(PolicyType::ResourceControlPolicy) => Some(PolicyKind::Rcp),
            _ => None,
        })
        .collect();
    let mut all = Vec::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            classify(AwsError::sdk(
                "organizations:ListAccounts",
                &organization_id,
                &e,
            ))
        })?;
        for a in page.accounts() {
            all.push(Account {
                id: a.id().unwrap_or_default().to_owned(),
                name: a.name().unwrap_or_default().to_owned(),
            });
        }
    }
    let mut paths = std::collections::BTreeMap::new();
    let mut ous: Vec<OrganizationalUnit> = Vec::new();
    let mut outside = Vec::new();
    let mut targets: Vec<String> = vec![root_id.clone()];
    for acct in accounts {
        if !all.iter().any(|a| a.id == *acct) {
            outside.push(acct.clone());
            continue;
        }
        // Walk up to the root.
        let mut path = Vec::new();
        let mut child = acct.clone();
        loop {
            let p = org
                .list_parents()
                .child_id(&child)
                .send()
                .await
                .map_err(|e| classify(AwsError::sdk("organizations:ListParents", &child, &e)))?;
            let Some(parent) = p.parents().first() else {
                break;
            };
            let id = parent.id().unwrap_or_default().to_owned();
            path.push(id.clone());
            if id == root_id || id.starts_with("r-") {
                break;
            }
            if !ous.iter().any(|o| o.id == id) {
                let d = org
                    .describe_organizational_unit()
                    .organizational_unit_id(&id)
                    .send()
                    .await
                    .map_err(|e| {
                        classify(AwsError::sdk(
                            "organizations:DescribeOrganizationalUnit",
                            &id,
                            &e,
                        ))
                    })?;
                ous.push(OrganizationalUnit {
                    id: id.clone(),
                    name: d
                        .organizational_unit()
                        .and_then(|u| u.name())
                        .unwrap_or_default()
                        .to_owned(),
                    parent: String::new(),
                });
            }
            child = id;
        }
        path.reverse();
        // Parents of OUs, now that the path is known.
        for w in path.windows(2) {
            if let Some(o) = ous.iter_mut().find(|o| o.id == w[1]) {
                o.parent = w[0].clone();
            }
        }
        targets.extend(path.iter().cloned());
        targets.push(acct.clone());
        paths.insert(acct.clone(), path);
    }
    targets.sort();
    targets.dedup();
    let mut policies: Vec<Policy> = Vec::new();
    for kind in [PolicyKind::Scp, PolicyKind::Rcp] {
        for t in &targets {
            let mut pages = org
                .list_policies_for_target()
                .target_id(t)
                .filter(kind_of(kind))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(p) => p,
                    // A policy type the organization does not support or has not enabled.
                    Err(e) => {
                        let err = AwsError::sdk("organizations:ListPoliciesForTarget", t, &e);
                        if !enabled_policy_types.contains(&kind)
                            && !matches!(classify(err.clone()), OrgReadError::Denied(_))
                        {
                            break;
                        }
                        return Err(classify(err));
                    }
                };
                for p in page.policies() {
                    let id = p.id().unwrap_or_default().to_owned();
                    if let Some(known) = policies.iter_mut().find(|x| x.id == id) {
                        known.targets.push(t.clone());
                        continue;
                    }
                    let d = org
                        .describe_policy()
                        .policy_id(&id)
                        .send()
                        .await
                        .map_err(|e| {
                            classify(AwsError::sdk("organizations:DescribePolicy", &id, &e))
                        })?;
                    let text = d.policy().and_then(|x| x.content()).unwrap_or_default();
                    let content = crate::iam::PolicyDocument::from_json(text).map_err(|e| {
                        OrgReadError::Aws(AwsError::new(
                            "organizations:DescribePolicy",
                            &id,
                            format!(
                                "the policy `{}` is not a policy document xacct can read: {e}",
                                p.name().unwrap_or_default()
                            ),
                        ))
                    })?;
                    policies.push(Policy {
                        id,
                        name: p.name().unwrap_or_default().to_owned(),
                        kind,
                        aws_managed: p.aws_managed(),
                        targets: vec![t.clone()],
                        content,
                    });
                }
            }
        }
    }
    Ok(Snapshot {
        version: crate::org::SNAPSHOT_VERSION,
        organization_id,
        management_account,
        read_at: read_at.to_owned(),
        root_id,
        enabled_policy_types,
        accounts: all,
        organizational_units: ous,
        paths,
        outside,
        policies,
    }
    .canonical())
}
