//! Guardrail evaluation (issue 20): the SCPs and RCPs of a [`Snapshot`] over
//! the intended requests of the provisioning chain, with AWS's semantics.
//!
//! - SCPs of every level of the **caller** account's path (root, each OU, the
//!   account) and RCPs of every level of the **resource** account's path apply;
//!   each level must allow the request (an allow-list: `FullAWSAccess` /
//!   `RCPFullAWSAccess` by default) and no statement of any level may deny it.
//! - Exempt: a caller (SCP) or resource (RCP) in the management account or
//!   outside the organization, service-linked roles, service principals from
//!   SCPs; RCPs only for the services they cover ([`RCP_SERVICES`]).
//! - A policy type that is neither enabled nor attached anywhere applies to nobody.
//!
//! Each level is decided with [`decide::find`] over the request with the
//! condition keys the intended context knows fixed and every other key the
//! guardrails test free: a level that blocks under some value of such a key and
//! allows under another is "cannot decide" (XA061), never clean.

use crate::audit::input::{Expect, Input};
use crate::audit::{
    Counterexample, Finding, GUARDRAIL_BLOCKS, GUARDRAIL_UNDECIDED, ORG_ACCOUNT_OUTSIDE,
    ORG_MISMATCH, StatementInfo, intent,
};
use crate::contract;
use crate::eval::decide::{self, Answer, Scope, Values};
use crate::eval::{self, Caller, Kind, Named, Request};
use crate::iam::{PolicyDocument, Principal, Statement};

use super::{PolicyKind, Snapshot};

/// Services whose resources RCPs restrict (AWS Organizations, "List of AWS
/// services that support RCPs"; AWS Control Tower, "Controls implemented with
/// RCPs": Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager).
pub const RCP_SERVICES: &[&str] = &["s3", "sts", "kms", "sqs", "secretsmanager"];

/// Keys AWS does not set on the chain's direct calls (no VPC, no service
/// forwarding, no federation): absent, not unknown.
const ABSENT_KEYS: &[&str] = &[
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:federatedprovider",
    "aws:sourceidentity",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
];

/// One intended request of the chain.
#[derive(Debug, Clone)]
pub struct Intended {
    /// What it is, for messages (`S3BucketManager s3:PutBucketTagging in 100000000002`).
    pub label: String,
    pub caller: Caller,
    pub caller_account: Option<String>,
    pub action: String,
    /// A fixed resource, or an IAM wildcard pattern (every customer bucket).
    pub resource: String,
    pub resource_is_pattern: bool,
    pub resource_account: String,
    /// The condition keys the intent knows (lowercased keys).
    pub context: Vec<(String, Vec<String>)>,
    /// Bucket steps run on a bucket that has no tags yet (`aws:ResourceTag/*` absent).
    pub untagged_resource: bool,
}

fn lc(ctx: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    ctx.into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

fn set(ctx: &mut Vec<(String, Vec<String>)>, key: &str, v: Vec<String>) {
    let key = key.to_ascii_lowercase();
    ctx.retain(|(k, _)| *k != key);
    ctx.push((key, v));
}

/// The organization keys AWS sets for a caller and a resource account.
fn org_keys(s: &Snapshot, ctx: &mut Vec<(String, Vec<String>)>, caller: Option<&str>, res: &str) {
    let path = |a: &str| {
        s.paths.get(a).map(|p| {
            let mut t = format!("{}/", s.organization_id);
            for l in p {
                t.push_str(l);
                t.push('/');
            }
            t
        })
    };
    match caller.filter(|a| s.is_member(a)) {
        Some(a) => {
            set(ctx, "aws:PrincipalOrgID", vec![s.organization_id.clone()]);
            if let Some(p) = path(a) {
                set(ctx, "aws:PrincipalOrgPaths", vec![p]);
            }
        }
        None => ctx.retain(|(k, _)| k != "aws:principalorgid" && k != "aws:principalorgpaths"),
    }
    if s.is_member(res) {
        set(ctx, "aws:ResourceOrgID", vec![s.organization_id.clone()]);
        if let Some(p) = path(res) {
            set(ctx, "aws:ResourceOrgPaths", vec![p]);
        }
    } else {
        ctx.retain(|(k, _)| k != "aws:resourceorgid" && k != "aws:resourceorgpaths");
    }
}

fn region_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Every intended request of the provisioning chain of `input`.
pub fn intended(input: &Input, s: &Snapshot) -> Vec<Intended> {
    let e = &input.expect;
    let primary = e.primary_account.clone();
    let lambda = Caller::Aws(e.lambda_role_arn.clone());
    let mut out = Vec::new();
    let mut push = |label: String,
                    caller: Caller,
                    action: &str,
                    resource: String,
                    pattern: bool,
                    resource_account: String,
                    mut context: Vec<(String, Vec<String>)>,
                    untagged: bool| {
        let caller_account = caller.account().map(str::to_owned);
        org_keys(
            s,
            &mut context,
            caller_account.as_deref(),
            &resource_account,
        );
        if action.starts_with("organizations:") {
            set(
                &mut context,
                "aws:RequestedRegion",
                vec![contract::ORGANIZATIONS_REGION.to_owned()],
            );
        }
        out.push(Intended {
            label,
            caller,
            caller_account,
            action: action.to_owned(),
            resource,
            resource_is_pattern: pattern,
            resource_account,
            context: lc(context),
            untagged_resource: untagged,
        });
    };
    // Lambda (the service) assumes the execution role.
    push(
        "Lambda assumes the execution role".to_owned(),
        Caller::Service("lambda.amazonaws.com".to_owned()),
        "sts:AssumeRole",
        e.lambda_role_arn.clone(),
        false,
        primary.clone(),
        intent::lambda_service_context(e),
        false,
    );
    let storage: Vec<String> = {
        let mut v: Vec<String> = input.storage.iter().map(|a| a.account.clone()).collect();
        v.extend(e.storage_accounts.iter().cloned());
        v.sort();
        v.dedup();
        v
    };
    let bucket = contract::customer_bucket_pattern(&e.bucket_prefix);
    for acct in &storage {
        let role = contract::storage_role_arn(acct);
        push(
            format!("the execution role's sts:AssumeRole into {role}"),
            lambda.clone(),
            "sts:AssumeRole",
            role.clone(),
            false,
            acct.clone(),
            intent::assume_context(e, acct),
            false,
        );
        let manager = Caller::Aws(role.clone());
        let ctx = intent::role_context(e, acct, true);
        push(
            format!("S3BucketManager s3:CreateBucket in {acct}"),
            manager.clone(),
            "s3:CreateBucket",
            bucket.clone(),
            true,
            acct.clone(),
            ctx.clone(),
            true,
        );
        for step in contract::BUCKET_STEPS {
            let mut c = ctx.clone();
            if *step == contract::BucketStep::Tags {
                let tags = [
                    (contract::TAG_ENVIRONMENT, e.environment_name.clone()),
                    (contract::TAG_CUSTOMER, String::new()),
                    (
                        contract::TAG_MANAGED_BY,
                        contract::MANAGED_BY_VALUE.to_owned(),
                    ),
                ];
                set(
                    &mut c,
                    "aws:TagKeys",
                    tags.iter().map(|(k, _)| (*k).to_owned()).collect(),
                );
                for (k, v) in tags {
                    // The customer's tag value varies: left free (unknown).
                    if !v.is_empty() {
                        set(&mut c, &format!("aws:RequestTag/{k}"), vec![v]);
                    }
                }
            }
            push(
                format!("S3BucketManager {} in {acct}", step.action()),
                manager.clone(),
                step.action(),
                bucket.clone(),
                true,
                acct.clone(),
                c,
                true,
            );
        }
        for a in contract::ACCOUNT_ACTIONS {
            push(
                format!("S3BucketManager {a} in {acct}"),
                manager.clone(),
                a,
                "*".to_owned(),
                false,
                acct.clone(),
                ctx.clone(),
                false,
            );
        }
        for r in &e.readers {
            let reader = Caller::Aws(r.clone());
            let c = intent::role_context(e, acct, true);
            push(
                format!("reader {r} s3:GetObject on customer buckets in {acct}"),
                reader.clone(),
                "s3:GetObject",
                format!("{bucket}/*"),
                true,
                acct.clone(),
                c.clone(),
                false,
            );
            push(
                format!("reader {r} s3:ListBucket on customer buckets in {acct}"),
                reader,
                "s3:ListBucket",
                bucket.clone(),
                true,
                acct.clone(),
                c,
                false,
            );
        }
    }
    // The PHR bucket reads.
    let phr_account = input
        .bucket_policies
        .iter()
        .find(|b| b.bucket == e.phr_bucket)
        .map_or(primary.clone(), |b| b.doc.account.clone());
    if !e.phr_bucket.is_empty() {
        let arn = contract::bucket_arn(&e.phr_bucket);
        for r in &e.readers {
            let c = intent::role_context(e, &phr_account, true);
            push(
                format!("reader {r} s3:GetObject on the PHR bucket"),
                Caller::Aws(r.clone()),
                "s3:GetObject",
                format!("{arn}/*"),
                true,
                phr_account.clone(),
                c.clone(),
                false,
            );
            push(
                format!("reader {r} s3:ListBucket on the PHR bucket"),
                Caller::Aws(r.clone()),
                "s3:ListBucket",
                arn.clone(),
                false,
                phr_account.clone(),
                c,
                false,
            );
        }
    }
    // The execution role's own writes: logs, state table, ops topic, discovery.
    let own = intent::role_context(e, &primary, true);
    let exec = intent::lambda_execution(input);
    for st in exec
        .statement
        .iter()
        .filter(|st| st.sid.as_deref() != Some("Intent"))
    {
        let (Some(actions), Some(resources)) = (&st.action, &st.resource) else {
            continue;
        };
        for a in actions.iter() {
            for r in resources.iter() {
                let account = eval::arn_account(r)
                    .filter(|a| contract::is_account_id(a))
                    .unwrap_or(&primary)
                    .to_owned();
                let mut c = own.clone();
                set(&mut c, "aws:ResourceAccount", vec![account.clone()]);
                if let Some(reg) = region_of_arn(r) {
                    set(&mut c, "aws:RequestedRegion", vec![reg.to_owned()]);
                }
                push(
                    format!("the execution role's {a} on {r}"),
                    lambda.clone(),
                    a,
                    r.to_owned(),
                    r.contains('*'),
                    account,
                    c,
                    false,
                );
            }
        }
    }
    out
}

/// The requests that deploying a storage stack makes with the bootstrap role
/// (`onboard --apply`): CloudFormation, the IAM writes the stack performs with
/// the caller's credentials, and the account-level Block Public Access.
pub fn deployment(e: &Expect, account: &str, bootstrap_role: &str, s: &Snapshot) -> Vec<Intended> {
    let caller = Caller::Aws(format!("arn:aws:iam::{account}:role/{bootstrap_role}"));
    let region = intent::region(e);
    let stack = format!("arn:aws:cloudformation:{region}:{account}:stack/*");
    let role = contract::storage_role_arn(account);
    let policy = format!("arn:aws:iam::{account}:policy/*");
    let mut out = Vec::new();
    for (a, r) in [
        ("cloudformation:CreateStack", stack.as_str()),
        ("cloudformation:UpdateStack", stack.as_str()),
        ("cloudformation:DescribeStacks", stack.as_str()),
        ("iam:CreateRole", role.as_str()),
        ("iam:UpdateAssumeRolePolicy", role.as_str()),
        ("iam:AttachRolePolicy", role.as_str()),
        ("iam:CreatePolicy", policy.as_str()),
        ("iam:CreatePolicyVersion", policy.as_str()),
        ("s3:PutAccountPublicAccessBlock", "*"),
    ] {
        let mut c = lc(intent::role_context(e, account, true));
        set(&mut c, "aws:ResourceAccount", vec![account.to_owned()]);
        if a.starts_with("iam:") {
            set(&mut c, "aws:RequestedRegion", vec!["us-east-1".to_owned()]);
        }
        org_keys(s, &mut c, Some(account), account);
        out.push(Intended {
            label: format!("deploying the storage stack: {bootstrap_role} {a} in {account}"),
            caller: caller.clone(),
            caller_account: Some(account.to_owned()),
            action: a.to_owned(),
            resource: r.to_owned(),
            resource_is_pattern: r.contains('*'),
            resource_account: account.to_owned(),
            context: lc(c),
            untagged_resource: false,
        });
    }
    out
}

/// How one guardrail level treats a request.
#[derive(Debug, Clone)]
pub enum Verdict {
    Allowed,
    /// Blocked at `target` by `policy` (statement, when a Deny matched).
    Blocked {
        kind: PolicyKind,
        target: String,
        policy: String,
        statement: Option<StatementInfo>,
        example: Request,
    },
    Undecided {
        kind: PolicyKind,
        target: String,
        why: String,
    },
}

fn is_service_linked(c: &Caller) -> bool {
    matches!(c, Caller::Aws(a) if a.contains(":role/aws-service-role/"))
}

/// Whether `kind` applies at all to a request by `caller` in `caller_account`
/// on `resource_account`'s `action`.
fn applies(s: &Snapshot, kind: PolicyKind, r: &Intended) -> Option<String> {
    let effective = s.enabled(kind) || s.policies.iter().any(|p| p.kind == kind);
    if !effective || is_service_linked(&r.caller) {
        return None;
    }
    let account = match kind {
        PolicyKind::Scp => {
            if !matches!(r.caller, Caller::Aws(_)) {
                return None;
            }
            r.caller_account.clone()?
        }
        PolicyKind::Rcp => {
            let service = r
                .action
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !RCP_SERVICES.contains(&service.as_str()) {
                return None;
            }
            r.resource_account.clone()
        }
    };
    (account != s.management_account && s.is_member(&account)).then_some(account)
}

/// A policy's name in findings: `SCP `DenyTagging` (p-abc) on OU `storage` (ou-...)`.
fn policy_label(s: &Snapshot, kind: PolicyKind, name: &str, id: &str, target: &str) -> String {
    format!(
        "{} `{name}` ({id}) attached to {}",
        kind.short(),
        s.describe_target(target)
    )
}

/// The policies of one kind attached at one level, with the labels findings cite.
struct Level<'a> {
    kind: PolicyKind,
    attached: Vec<&'a super::Policy>,
    labels: Vec<String>,
}

impl<'a> Level<'a> {
    fn new(s: &'a Snapshot, kind: PolicyKind, target: &str) -> Self {
        let attached = s.attached(kind, target);
        let labels = attached
            .iter()
            .map(|p| policy_label(s, kind, &p.name, &p.id, target))
            .collect();
        Level {
            kind,
            attached,
            labels,
        }
    }

    /// The level's documents for the evaluator, named by their labels.
    fn named(&self) -> Vec<Named<'_>> {
        self.attached
            .iter()
            .zip(&self.labels)
            .map(|(p, l)| Named {
                name: l,
                kind: named_kind(self.kind),
                doc: &p.content,
            })
            .collect()
    }
}

fn universal(kind: PolicyKind) -> PolicyDocument {
    let st = Statement::allow("Any").actions(["*"]).resources(["*"]);
    PolicyDocument::new(vec![match kind {
        PolicyKind::Scp => st,
        PolicyKind::Rcp => st.principal(Principal::Any),
    }])
}

fn named_kind(kind: PolicyKind) -> Kind {
    match kind {
        PolicyKind::Scp => Kind::Identity,
        PolicyKind::Rcp => Kind::Resource,
    }
}

/// Condition keys (lowercased) of a set of documents.
fn keys_of(docs: &[&PolicyDocument]) -> Vec<String> {
    let mut v: Vec<String> = docs
        .iter()
        .flat_map(|d| d.statement.iter())
        .flat_map(|st| st.condition.values())
        .flat_map(|m| m.keys())
        .map(|k| k.to_ascii_lowercase())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The question's scope: the request fixed, known keys fixed, the rest free.
fn scope_of(r: &Intended, keys: &[String]) -> Scope {
    let mut s = Scope::open()
        .principal(Values::Fixed(decide::principal_text(&r.caller)))
        .action(Values::Fixed(r.action.clone()))
        .resource(if r.resource_is_pattern {
            Values::Like(vec![r.resource.clone()])
        } else {
            Values::Fixed(r.resource.clone())
        });
    for (k, v) in &r.context {
        s = s.key(k, Some(v.clone()));
    }
    for k in keys {
        if r.context.iter().any(|(c, _)| c == k) {
            continue;
        }
        let absent = ABSENT_KEYS.contains(&k.as_str())
            || (r.untagged_resource && k.starts_with("aws:resourcetag/"))
            || ((k.starts_with("aws:requesttag/") || k == "aws:tagkeys")
                && !r.context.iter().any(|(c, _)| c == "aws:tagkeys"))
            || (matches!(
                k.as_str(),
                "aws:principalorgid"
                    | "aws:principalorgpaths"
                    | "aws:resourceorgid"
                    | "aws:resourceorgpaths"
            ));
        if absent {
            s = s.key(k, None);
        }
    }
    s
}

/// Every level of the request's path for `kind`, each level's policies.
fn judge_kind(s: &Snapshot, kind: PolicyKind, r: &Intended) -> Verdict {
    let Some(account) = applies(s, kind, r) else {
        return Verdict::Allowed;
    };
    let Some(levels) = s.levels(&account) else {
        return Verdict::Undecided {
            kind,
            target: account.clone(),
            why: format!("the snapshot has no path for account {account}"),
        };
    };
    let univ = universal(kind);
    let univ_n = [Named {
        name: "any",
        kind: named_kind(kind),
        doc: &univ,
    }];
    for target in &levels {
        let level = Level::new(s, kind, target);
        let (attached, labels) = (&level.attached, level.labels.as_slice());
        let named = level.named();
        let keys = keys_of(&attached.iter().map(|p| &p.content).collect::<Vec<_>>());
        let scope = scope_of(r, &keys);
        let w = match decide::find(&[&univ_n], &[&named], &scope) {
            Answer::Empty => continue,
            Answer::Unknown(why) => {
                return Verdict::Undecided {
                    kind,
                    target: target.clone(),
                    why,
                };
            }
            Answer::Witness(w) => w,
        };
        // Blocked for this resource whatever the unknown keys are?
        let fixed = scope_of(
            &Intended {
                resource: w.resource.clone(),
                resource_is_pattern: false,
                ..r.clone()
            },
            &keys,
        );
        let d = eval::evaluate(&named, &w);
        let (policy, statement) = match d.statements.first() {
            Some(st) => {
                let p = attached
                    .iter()
                    .zip(labels)
                    .find(|(_, l)| **l == st.document);
                let json = p
                    .and_then(|(p, _)| p.content.statement.get(st.index))
                    .and_then(|x| serde_json::to_value(x).ok())
                    .unwrap_or_default();
                (
                    st.document.clone(),
                    Some(StatementInfo {
                        document: st.document.clone(),
                        index: st.index,
                        sid: st.sid.clone(),
                        json,
                    }),
                )
            }
            None => (
                if labels.is_empty() {
                    format!(
                        "no {} attached to {} (nothing allows)",
                        kind.short(),
                        s.describe_target(target)
                    )
                } else {
                    format!("no Allow in {}", labels.join(", "))
                },
                None,
            ),
        };
        return match decide::find(&[&named], &[], &fixed) {
            Answer::Empty => Verdict::Blocked {
                kind,
                target: target.clone(),
                policy,
                statement,
                example: w,
            },
            Answer::Witness(_) => {
                let free: Vec<&String> = keys
                    .iter()
                    .filter(|k| {
                        !r.context.iter().any(|(c, _)| c == *k)
                            && !fixed.context.contains_key(k.as_str())
                    })
                    .collect();
                Verdict::Undecided {
                    kind,
                    target: target.clone(),
                    why: format!(
                        "{policy} blocks it or not depending on {} (not known offline; e.g. blocked with {})",
                        free.iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        Counterexample::of(&w).describe()
                    ),
                }
            }
            Answer::Unknown(why) => Verdict::Undecided {
                kind,
                target: target.clone(),
                why,
            },
        };
    }
    Verdict::Allowed
}

/// SCPs first (the caller's side), then RCPs.
pub fn judge(s: &Snapshot, r: &Intended) -> Verdict {
    match judge_kind(s, PolicyKind::Scp, r) {
        Verdict::Allowed => judge_kind(s, PolicyKind::Rcp, r),
        v => v,
    }
}

/// The finding of a verdict (none when allowed).
pub fn finding(r: &Intended, v: Verdict) -> Option<Finding> {
    match v {
        Verdict::Allowed => None,
        Verdict::Blocked {
            kind,
            target,
            policy,
            statement,
            example,
        } => {
            let how = match &statement {
                Some(st) => format!(
                    "denied by {policy}, statement #{}{}",
                    st.index,
                    st.sid
                        .as_ref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ),
                None => format!("not allowed at every level: {policy}"),
            };
            Some(Finding {
                check_id: GUARDRAIL_BLOCKS.id,
                severity: GUARDRAIL_BLOCKS.severity,
                account: target_account(r, kind),
                resource: example.resource.clone(),
                message: format!(
                    "{} is blocked by the organization's {}s (level {target}): {how}; every request like it fails at runtime: change the guardrail or exempt the role",
                    r.label,
                    kind.short()
                ),
                statement,
                file: None,
                line: None,
                counterexample: Some(Counterexample::of(&example)),
            })
        }
        Verdict::Undecided { kind, target, why } => Some(Finding {
            check_id: GUARDRAIL_UNDECIDED.id,
            severity: GUARDRAIL_UNDECIDED.severity,
            account: target_account(r, kind),
            resource: r.resource.clone(),
            message: format!(
                "cannot decide whether the {}s (level {target}) block {}: {why}; review the guardrail by hand",
                kind.short(),
                r.label
            ),
            statement: None,
            file: None,
            line: None,
            counterexample: None,
        }),
    }
}

fn target_account(r: &Intended, kind: PolicyKind) -> String {
    match kind {
        PolicyKind::Scp => r.caller_account.clone().unwrap_or_default(),
        PolicyKind::Rcp => r.resource_account.clone(),
    }
}

/// The snapshot's own findings: another organization than the spec's, and
/// environment accounts outside the organization.
pub fn snapshot_findings(s: &Snapshot, e: &Expect, source: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mk = |check: crate::audit::Check, account: &str, message: String| Finding {
        check_id: check.id,
        severity: check.severity,
        account: account.to_owned(),
        resource: source.to_owned(),
        message,
        statement: None,
        file: None,
        line: None,
        counterexample: None,
    };
    if let Some(o) = &e.organization_id
        && *o != s.organization_id
    {
        out.push(mk(
            ORG_MISMATCH,
            &e.primary_account,
            format!(
                "{source} is organization {}, the spec's storage.organization_id is {o}: take the snapshot with credentials of the right organization",
                s.organization_id
            ),
        ));
    }
    for a in &s.outside {
        out.push(mk(
            ORG_ACCOUNT_OUTSIDE,
            a,
            format!(
                "environment account {a} is not in organization {} ({source}): no SCP or RCP of it applies there, its principals are outside the zone of trust, and aws:PrincipalOrgID conditions fail for them",
                s.organization_id
            ),
        ));
    }
    out
}

/// Every guardrail finding of an input against a snapshot: the snapshot's own
/// (XA064, XA065), then each intended request blocked (XA060) or undecided (XA061).
pub fn check(input: &Input, s: &Snapshot, source: &str) -> Vec<Finding> {
    let mut out = snapshot_findings(s, &input.expect, source);
    out.extend(check_requests(&intended(input, s), s));
    out
}

/// The findings of a list of intended requests.
pub fn check_requests(reqs: &[Intended], s: &Snapshot) -> Vec<Finding> {
    reqs.iter()
        .filter_map(|r| finding(r, judge(s, r)))
        .collect()
}

/// Mitigations, shown and never applied: for every finding with a
/// counterexample that a guardrail explicitly denies, the message says so.
/// The finding, its check and its severity stay.
pub fn annotate(s: &Snapshot, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        let Some(cx) = &f.counterexample else {
            continue;
        };
        if f.check_id == GUARDRAIL_BLOCKS.id {
            continue;
        }
        let req = cx.request();
        let caller_account = req.caller.account().map(str::to_owned);
        let resource_account = eval::arn_account(&req.resource)
            .filter(|a| contract::is_account_id(a))
            .map_or(f.account.clone(), str::to_owned);
        let r = Intended {
            label: String::new(),
            caller: req.caller.clone(),
            caller_account,
            action: req.action.clone(),
            resource: req.resource.clone(),
            resource_is_pattern: false,
            resource_account,
            context: req
                .context()
                .map(|(k, v)| (k.to_owned(), v.to_vec()))
                .collect(),
            untagged_resource: false,
        };
        for kind in [PolicyKind::Scp, PolicyKind::Rcp] {
            let Some(account) = applies(s, kind, &r) else {
                continue;
            };
            let Some(levels) = s.levels(&account) else {
                continue;
            };
            for target in &levels {
                let level = Level::new(s, kind, target);
                let named = level.named();
                let d = eval::evaluate(&named, &req);
                if d.outcome == eval::Outcome::ExplicitDeny
                    && let Some(st) = d.statements.first()
                {
                    f.message.push_str(&format!(
                        "; mitigation (not applied, the finding stays): this counterexample is denied by {}, statement #{}{}",
                        st.document,
                        st.index,
                        st.sid.as_ref().map(|s| format!(" ({s})")).unwrap_or_default()
                    ));
                    break;
                }
            }
        }
    }
}

/// The zone of trust of an audit with a snapshot (here, not in `audit`: the audit
/// knows nothing about the organization model).
impl Expect {
    /// Widens the zone of trust to the organization of a snapshot.
    pub fn with_org(mut self, snapshot: &super::Snapshot) -> Self {
        self.zone_accounts
            .extend(snapshot.accounts.iter().map(|a| a.id.clone()));
        self.zone_accounts.sort();
        self.zone_accounts.dedup();
        self.org_snapshot = true;
        self.zone_org = Some(snapshot.organization_id.clone());
        self
    }
}
