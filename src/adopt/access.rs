//! The access change of an adoption: every existing document compared, by
//! the access it grants, with what will be in place after `terraform apply`,
//! both ways, with the audit's decided comparison (`audit::no_new_access`).
//!
//! "After" is what applying leaves: the rendered document where xacct manages
//! the whole document (trusts, bucket policies, `S3BucketManagement`, the
//! execution role's inline policy), plus everything xacct does not manage and
//! applying leaves in place (other policies on a role, other statements of the
//! function's resource policy). Those are also listed as unmanaged.

use serde::Serialize;

use super::read::{Primary, RoleState, Storage, storage_policy_arn};
use crate::audit::{self, Counterexample};
use crate::contract;
use crate::eval::Kind;
use crate::iam::documents::Documents;
use crate::iam::{PolicyDocument, Statement};
use crate::model::Environment;

/// How the access after applying compares with today's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The same requests are allowed before and after.
    Equivalent,
    /// Applying removes access (some request allowed today is denied after).
    Narrower,
    /// Applying adds access (some request denied today is allowed after).
    Wider,
    /// Both: some requests lose access, others gain it.
    Both,
    /// The comparison could not be decided (see `message`): review by hand.
    Undecided,
}

/// One compared document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub account: String,
    /// What was compared (`S3BucketManager trust`, ...).
    pub document: String,
    pub verdict: Verdict,
    /// A request allowed today and denied after applying.
    pub removed: Option<Counterexample>,
    /// A request denied today and allowed after applying.
    pub added: Option<Counterexample>,
    /// The statement that allows `removed` today.
    pub removed_by: Option<serde_json::Value>,
    /// The statement that allows `added` after applying.
    pub added_by: Option<serde_json::Value>,
    pub message: String,
}

/// Something that exists and xacct does not manage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmanaged {
    pub account: String,
    /// `attached policy`, `inline policy`, `function permission`, `execution role`.
    pub kind: &'static str,
    pub name: String,
    /// What applying does with it: `left` (it stays) or `removed`.
    pub on_apply: &'static str,
    pub note: String,
}

fn union(docs: impl IntoIterator<Item = PolicyDocument>) -> PolicyDocument {
    let statements: Vec<Statement> = docs.into_iter().flat_map(|d| d.statement).collect();
    PolicyDocument::new(statements)
}

/// Compares `before` with `after` both ways.
pub fn compare(
    account: &str,
    document: &str,
    before: &PolicyDocument,
    after: &PolicyDocument,
    kind: Kind,
    holder: Option<&str>,
    resources: &[String],
) -> Change {
    let b = audit::doc("today", account, before.clone());
    let a = audit::doc("after apply", account, after.clone());
    let removed = audit::no_new_access(&b, after, kind, holder, resources);
    let added = audit::no_new_access(&a, before, kind, holder, resources);
    let undecided = [&removed, &added]
        .iter()
        .filter_map(|f| f.as_ref())
        .find(|f| f.counterexample.is_none())
        .map(|f| f.message.clone());
    let cx = |f: &Option<audit::Finding>| f.as_ref().and_then(|f| f.counterexample.clone());
    let by = |f: &Option<audit::Finding>| {
        f.as_ref()
            .and_then(|f| f.statement.as_ref())
            .map(|s| s.json.clone())
    };
    let (removed_by, added_by) = (by(&removed), by(&added));
    let (removed, added) = (cx(&removed), cx(&added));
    let verdict = match (&undecided, &removed, &added) {
        (Some(_), _, _) => Verdict::Undecided,
        (None, None, None) => Verdict::Equivalent,
        (None, Some(_), None) => Verdict::Narrower,
        (None, None, Some(_)) => Verdict::Wider,
        (None, Some(_), Some(_)) => Verdict::Both,
    };
    let granted = |s: &Option<serde_json::Value>| {
        s.as_ref()
            .map(|j| format!(" (granted by {j})"))
            .unwrap_or_default()
    };
    let mut parts = Vec::new();
    if let Some(r) = &removed {
        parts.push(format!(
            "today {}{}; after apply it is denied",
            r.describe(),
            granted(&removed_by)
        ));
    }
    if let Some(r) = &added {
        parts.push(format!(
            "after apply {}{}; today it is denied",
            r.describe(),
            granted(&added_by)
        ));
    }
    let message = match verdict {
        Verdict::Equivalent => format!("{document}: applying grants the same access as today"),
        Verdict::Undecided => format!(
            "{document}: cannot decide the access change ({}); review by hand",
            undecided.unwrap_or_default()
        ),
        Verdict::Narrower => format!("{document}: applying removes access: {}", parts.join("; ")),
        Verdict::Wider => format!("{document}: applying adds access: {}", parts.join("; ")),
        Verdict::Both => format!(
            "{document}: applying removes and adds access: {}",
            parts.join("; ")
        ),
    };
    Change {
        account: account.to_owned(),
        document: document.to_owned(),
        verdict,
        removed,
        added,
        removed_by,
        added_by,
        message,
    }
}

fn role_docs(
    r: &RoleState,
    skip_inline: Option<&str>,
    skip_attached: Option<&str>,
) -> Vec<PolicyDocument> {
    r.inline
        .iter()
        .filter(|(n, _)| Some(n.as_str()) != skip_inline)
        .map(|(_, d)| d.clone())
        .chain(
            r.attached
                .iter()
                .filter(|(a, _)| Some(a.as_str()) != skip_attached)
                .map(|(_, d)| d.clone()),
        )
        .collect()
}

fn unmanaged_of_role(
    out: &mut Vec<Unmanaged>,
    account: &str,
    r: &RoleState,
    skip_inline: Option<&str>,
    skip_attached: Option<&str>,
) {
    for (n, _) in &r.inline {
        if Some(n.as_str()) != skip_inline {
            out.push(Unmanaged {
                account: account.to_owned(),
                kind: "inline policy",
                name: format!("{}/{n}", r.name),
                on_apply: "left",
                note: format!(
                    "xacct does not manage it; it keeps granting its access to {} (delete it with `aws iam delete-role-policy` if it is not needed)",
                    r.name
                ),
            });
        }
    }
    for (a, _) in &r.attached {
        if Some(a.as_str()) != skip_attached {
            out.push(Unmanaged {
                account: account.to_owned(),
                kind: "attached policy",
                name: format!("{} -> {a}", r.name),
                on_apply: "left",
                note: format!(
                    "xacct does not manage this attachment; it keeps granting its access to {} (detach it with `aws iam detach-role-policy` if it is not needed)",
                    r.name
                ),
            });
        }
    }
}

/// The access changes and unmanaged resources of the primary account.
pub fn primary(env: &Environment, docs: &Documents, p: &Primary) -> (Vec<Change>, Vec<Unmanaged>) {
    let acct = p.account.as_str();
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let inline = format!("{}-permissions", env.lambda.function_name);
    // The execution role under its rendered name: trust replaced, the inline
    // policy replaced, everything else left.
    if let Some(r) = &p.role {
        changes.push(compare(
            acct,
            &format!("{} trust", r.name),
            &r.trust,
            &docs.lambda_trust,
            Kind::Resource,
            None,
            std::slice::from_ref(&r.arn),
        ));
        let others = role_docs(r, Some(&inline), None);
        let before = union(role_docs(r, None, None));
        let after = union(std::iter::once(docs.lambda_execution.clone()).chain(others));
        changes.push(compare(
            acct,
            &format!("{} permissions (every policy of the role)", r.name),
            &before,
            &after,
            Kind::Identity,
            Some(&r.arn),
            &[],
        ));
        unmanaged_of_role(&mut unmanaged, acct, r, Some(&inline), None);
    }
    // A function running under another role today switches to the rendered role.
    if let Some(fr) = &p.function_role {
        let before = union(role_docs(fr, None, None));
        let after = match &p.role {
            Some(r) => union(
                std::iter::once(docs.lambda_execution.clone()).chain(role_docs(
                    r,
                    Some(&inline),
                    None,
                )),
            ),
            None => docs.lambda_execution.clone(),
        };
        changes.push(compare(
            acct,
            &format!(
                "the function's permissions (today role {}, after apply {})",
                fr.name,
                env.lambda_role_name()
            ),
            &before,
            &after,
            Kind::Identity,
            Some(&fr.arn),
            &[],
        ));
        unmanaged.push(Unmanaged {
            account: acct.to_owned(),
            kind: "execution role",
            name: fr.arn.clone(),
            on_apply: "left",
            note: format!(
                "the function uses it today; applying switches the function to {} and leaves this role (delete it once nothing uses it)",
                env.lambda_role_arn()
            ),
        });
    }
    if let Some(f) = &p.function {
        let rendered_sids = super::imports::rendered_sids(docs);
        let before = f
            .policy
            .clone()
            .unwrap_or_else(|| PolicyDocument::new(vec![]));
        let extra: Vec<Statement> = before
            .statement
            .iter()
            .filter(|s| {
                !s.sid
                    .as_ref()
                    .is_some_and(|sid| rendered_sids.contains(sid))
            })
            .cloned()
            .collect();
        for s in &extra {
            unmanaged.push(Unmanaged {
                account: acct.to_owned(),
                kind: "function permission",
                name: format!(
                    "{}/{}",
                    f.name,
                    s.sid.as_deref().unwrap_or("(no Sid)")
                ),
                on_apply: "left",
                note: "xacct does not manage this statement of the function's resource policy; it keeps its access (remove it with `aws lambda remove-permission` if it is not needed)".into(),
            });
        }
        let after = union([docs.function_url_policy.clone(), PolicyDocument::new(extra)]);
        let arn = env.function_arn();
        changes.push(compare(
            acct,
            &format!("{} resource policy (who may invoke it)", f.name),
            &before,
            &after,
            Kind::Resource,
            None,
            &[arn.clone(), format!("{arn}:*")],
        ));
        if let Some(a) = &f.url_auth
            && a != "AWS_IAM"
        {
            changes.push(Change {
                account: acct.to_owned(),
                document: format!("{} function URL auth type", f.name),
                verdict: Verdict::Narrower,
                removed: None,
                added: None,
                removed_by: None,
                added_by: None,
                message: format!(
                    "the function URL's auth type is {a} today; applying sets AWS_IAM (unsigned calls are refused after apply)"
                ),
            });
        }
    }
    if let Some(b) = &p.phr {
        changes.push(bucket_change(acct, b, &docs.phr_bucket_policy));
    }
    (changes, unmanaged)
}

fn bucket_change(acct: &str, b: &super::read::BucketState, rendered: &PolicyDocument) -> Change {
    let before = b
        .policy
        .clone()
        .unwrap_or_else(|| PolicyDocument::new(vec![]));
    let arn = contract::bucket_arn(&b.name);
    compare(
        acct,
        &format!("bucket policy of {}", b.name),
        &before,
        rendered,
        Kind::Resource,
        None,
        &[arn.clone(), format!("{arn}/*")],
    )
}

/// The access changes and unmanaged resources of one storage account.
pub fn storage(docs: &Documents, s: &Storage) -> (Vec<Change>, Vec<Unmanaged>) {
    let acct = s.account.as_str();
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let policy_arn = storage_policy_arn(acct);
    if let Some(r) = &s.role {
        changes.push(compare(
            acct,
            &format!("{} trust", r.name),
            &r.trust,
            &docs.storage_trust,
            Kind::Resource,
            None,
            std::slice::from_ref(&r.arn),
        ));
        let before = union(role_docs(r, None, None));
        let after = union(
            std::iter::once(docs.storage_management.clone()).chain(role_docs(
                r,
                None,
                Some(&policy_arn),
            )),
        );
        changes.push(compare(
            acct,
            &format!(
                "{} permissions ({} and every other policy of the role)",
                r.name,
                contract::STORAGE_POLICY_NAME
            ),
            &before,
            &after,
            Kind::Identity,
            Some(&r.arn),
            &[],
        ));
        unmanaged_of_role(&mut unmanaged, acct, r, None, Some(&policy_arn));
    }
    if let Some(b) = &s.phr {
        changes.push(bucket_change(acct, b, &docs.phr_bucket_policy));
    }
    (changes, unmanaged)
}
