//! Live reads for capacity, offboard and accounts, through the AWS layer:
//! [`crate::aws::audit_session`] (the audit role, confirmed to be in the right
//! account) and [`crate::aws::bucket_names`] (paginated `ListBuckets`).

use serde::Serialize;
use tokio::task::JoinSet;

use crate::aws::{Aws, AwsError, audit_session, bucket_names};
use crate::contract;
use crate::model::Environment;

/// One account's live bucket counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Customer buckets: `<prefix>-*`, verifier canaries excluded (as the Lambda counts).
    pub customer: u64,
    /// Every bucket of the account (counted against the S3 quota).
    pub total: u64,
}

/// Counts from a list of bucket names.
pub fn count(prefix: &str, names: &[String]) -> Counts {
    Counts {
        customer: names
            .iter()
            .filter(|n| contract::is_customer_bucket(prefix, n))
            .count() as u64,
        total: names.len() as u64,
    }
}

/// Counts the buckets of one storage account through the audit role.
pub async fn account_counts(
    base: &Aws,
    audit_role: &str,
    prefix: &str,
    account: &str,
) -> Result<Counts, AwsError> {
    let arn = format!("arn:aws:iam::{account}:role/{audit_role}");
    let session = audit_session(base, &arn, account).await?;
    let names = bucket_names(&session.s3()).await.map_err(|e| AwsError {
        target: format!("account {account}"),
        ..e
    })?;
    Ok(count(prefix, &names))
}

/// Counts every listed account concurrently; results in the order given.
pub async fn all_counts(
    base: &Aws,
    audit_role: &str,
    env: &Environment,
    accounts: &[String],
) -> Vec<(String, Result<Counts, AwsError>)> {
    let mut set = JoinSet::new();
    for (i, a) in accounts.iter().enumerate() {
        let (base, role, prefix, a) = (
            base.clone(),
            audit_role.to_owned(),
            env.bucket_prefix.clone(),
            a.clone(),
        );
        set.spawn(async move { (i, account_counts(&base, &role, &prefix, &a).await) });
    }
    let mut out: Vec<(String, Result<Counts, AwsError>)> = accounts
        .iter()
        .map(|a| {
            let e = AwsError::new("s3:ListAllMyBuckets", format!("account {a}"), "not checked");
            (a.clone(), Err(e))
        })
        .collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            out[i].1 = r;
        }
    }
    out
}

/// One Organizations account as `xacct accounts` sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    pub status: String,
    /// Value of the `ambra-storage` tag, when present.
    pub tag: Option<String>,
}

impl OrgAccount {
    /// Tagged for discovery the way the Lambda reads it
    /// (`contract::is_storage_account_tag`).
    pub fn tagged(&self) -> bool {
        self.tag
            .as_deref()
            .is_some_and(|v| contract::is_storage_account_tag(contract::STORAGE_ACCOUNT_TAG, v))
    }
}

/// Every account of the organization with its `ambra-storage` tag, sorted by ID.
pub async fn org_accounts(
    org: &aws_sdk_organizations::Client,
) -> Result<Vec<OrgAccount>, AwsError> {
    let mut out = Vec::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| AwsError::sdk("organizations:ListAccounts", "the organization", &e))?;
        for a in page.accounts() {
            out.push(OrgAccount {
                id: a.id().unwrap_or_default().to_owned(),
                name: a.name().unwrap_or_default().to_owned(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                tag: None,
            });
        }
    }
    for a in &mut out {
        let mut pages = org
            .list_tags_for_resource()
            .resource_id(&a.id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::sdk("organizations:ListTagsForResource", &a.id, &e))?;
            if let Some(t) = page
                .tags()
                .iter()
                .find(|t| t.key() == contract::STORAGE_ACCOUNT_TAG)
            {
                a.tag = Some(t.value().to_owned());
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// A disagreement between the organization and the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Drift {
    /// Tagged `ambra-storage` in the organization, not in `storage.accounts`.
    MissingFromSpec { account: String },
    /// In `storage.accounts`, in the organization, without the tag (or tagged `false`).
    MissingTag { account: String },
    /// In `storage.accounts` but not an account of the organization.
    NotInOrganization { account: String },
    /// In the spec or tagged, but not ACTIVE.
    Suspended { account: String, status: String },
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::MissingFromSpec { account } => write!(
                f,
                "missing from spec: {account} is tagged {} but not in storage.accounts (xacct onboard --account {account})",
                contract::STORAGE_ACCOUNT_TAG
            ),
            Drift::MissingTag { account } => write!(
                f,
                "missing the tag:   {account} is in storage.accounts but not tagged {} (discovery would not find it)",
                contract::STORAGE_ACCOUNT_TAG
            ),
            Drift::NotInOrganization { account } => write!(
                f,
                "not in the org:    {account} is in storage.accounts but not an account of the organization"
            ),
            Drift::Suspended { account, status } => write!(
                f,
                "suspended:         {account} is {status} (the Lambda skips it; xacct offboard --account {account})"
            ),
        }
    }
}

/// Diffs the organization's accounts against the spec's storage accounts.
pub fn diff(org: &[OrgAccount], spec_accounts: &[String]) -> Vec<Drift> {
    let mut out = Vec::new();
    for a in org {
        let in_spec = spec_accounts.contains(&a.id);
        if a.tagged() && !in_spec {
            out.push(Drift::MissingFromSpec {
                account: a.id.clone(),
            });
        }
        if in_spec && !a.tagged() {
            out.push(Drift::MissingTag {
                account: a.id.clone(),
            });
        }
        if (in_spec || a.tagged()) && a.status != "ACTIVE" {
            out.push(Drift::Suspended {
                account: a.id.clone(),
                status: a.status.clone(),
            });
        }
    }
    for s in spec_accounts {
        if !org.iter().any(|a| &a.id == s) {
            out.push(Drift::NotInOrganization { account: s.clone() });
        }
    }
    out
}

/// One account of `xacct accounts --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportAccount {
    /// The 12-digit account ID.
    pub account: String,
    pub name: String,
    pub status: String,
    /// Value of the `ambra-storage` tag (`null`: absent).
    pub tag: Option<String>,
    /// Tagged for discovery (see [`OrgAccount::tagged`]).
    pub tagged: bool,
    pub in_spec: bool,
}

/// `xacct accounts --format json`: the accounts the table lists (in the spec
/// or carrying the tag) and the differences, as lists of account IDs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountsReport {
    pub accounts: Vec<ReportAccount>,
    pub missing_from_spec: Vec<String>,
    pub missing_tag: Vec<String>,
    pub suspended: Vec<String>,
    pub not_in_organization: Vec<String>,
    pub in_sync: bool,
}

impl AccountsReport {
    pub fn new(org: &[OrgAccount], spec_accounts: &[String]) -> AccountsReport {
        let accounts = org
            .iter()
            .filter(|a| spec_accounts.contains(&a.id) || a.tag.is_some())
            .map(|a| ReportAccount {
                account: a.id.clone(),
                name: a.name.clone(),
                status: a.status.clone(),
                tag: a.tag.clone(),
                tagged: a.tagged(),
                in_spec: spec_accounts.contains(&a.id),
            })
            .collect();
        let drift = diff(org, spec_accounts);
        let mut r = AccountsReport {
            accounts,
            missing_from_spec: Vec::new(),
            missing_tag: Vec::new(),
            suspended: Vec::new(),
            not_in_organization: Vec::new(),
            in_sync: drift.is_empty(),
        };
        for d in drift {
            match d {
                Drift::MissingFromSpec { account } => r.missing_from_spec.push(account),
                Drift::MissingTag { account } => r.missing_tag.push(account),
                Drift::Suspended { account, .. } => r.suspended.push(account),
                Drift::NotInOrganization { account } => r.not_in_organization.push(account),
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_exclude_canaries_and_other_buckets() {
        let names: Vec<String> = [
            "ambra-dev-a",
            "ambra-dev-b",
            "ambra-dev-xacct-canary-0123",
            "ambra-devx",
            "other",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            count("ambra-dev", &names),
            Counts {
                customer: 2,
                total: 5
            }
        );
    }

    #[test]
    fn diff_cases() {
        let acct = |id: &str, status: &str, tag: Option<&str>| OrgAccount {
            id: id.into(),
            name: id.into(),
            status: status.into(),
            tag: tag.map(String::from),
        };
        let org = [
            acct("100000000002", "ACTIVE", Some("true")),
            acct("100000000003", "ACTIVE", None),
            acct("100000000004", "ACTIVE", Some("")),
            acct("100000000005", "SUSPENDED", Some("true")),
            acct("100000000006", "ACTIVE", Some("false")),
        ];
        let spec = ["100000000002", "100000000003", "100000000009"].map(String::from);
        let d = diff(&org, &spec);
        assert_eq!(
            d,
            vec![
                Drift::MissingTag {
                    account: "100000000003".into()
                },
                Drift::MissingFromSpec {
                    account: "100000000004".into()
                },
                Drift::MissingFromSpec {
                    account: "100000000005".into()
                },
                Drift::Suspended {
                    account: "100000000005".into(),
                    status: "SUSPENDED".into()
                },
                Drift::NotInOrganization {
                    account: "100000000009".into()
                },
            ]
        );
        assert!(diff(&org[..1], &spec[..1]).is_empty());

        let r = AccountsReport::new(&org, &spec);
        assert!(!r.in_sync);
        assert_eq!(r.missing_from_spec, ["100000000004", "100000000005"]);
        assert_eq!(r.missing_tag, ["100000000003"]);
        assert_eq!(r.suspended, ["100000000005"]);
        assert_eq!(r.not_in_organization, ["100000000009"]);
        // Tagged `false` still has the tag key: listed, not tagged for discovery.
        let ids: Vec<(&str, bool, bool)> = r
            .accounts
            .iter()
            .map(|a| (a.account.as_str(), a.tagged, a.in_spec))
            .collect();
        assert_eq!(
            ids,
            [
                ("100000000002", true, true),
                ("100000000003", false, true),
                ("100000000004", true, false),
                ("100000000005", true, false),
                ("100000000006", false, false),
            ]
        );
        assert!(AccountsReport::new(&org[..1], &spec[..1]).in_sync);
    }
}
