//! The offline permission audit: named checks with stable IDs over the IAM
//! documents of an environment (built by [`crate::iam::documents`] or read
//! from a Terraform plan by [`plan`]), answered by the pure evaluator in
//! [`crate::eval`]. Knows nothing about clap, files or AWS: inputs come in as
//! values, findings go out as values.

pub mod attributes;
pub mod input;
pub mod plan;
pub mod report;
pub mod secrets;
pub mod shipped;
pub mod template;
pub mod terraform;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::contract;
use crate::eval::{self, Caller, Named, Outcome, Request};
use crate::iam::{Effect, PolicyDocument, Principal, Statement};

pub use input::{Doc, Expect, Input};

/// Severity of a finding; `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// A check: stable ID, severity, one-line description.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
}

macro_rules! checks {
    ($($name:ident = $id:literal, $sev:ident, $title:literal;)*) => {
        $(pub const $name: Check = Check { id: $id, severity: Severity::$sev, title: $title };)*
        /// Every check, in ID order.
        pub const CHECKS: &[Check] = &[$($name),*];
    };
}

checks! {
    LAMBDA_CANNOT_ASSUME = "XA001", High, "The Lambda execution role cannot assume a storage account's S3BucketManager";
    LAMBDA_ASSUMES_OTHER = "XA002", Critical, "The Lambda execution role may assume a role other than the storage roles";
    STORAGE_ROLE_OPEN = "XA003", Critical, "S3BucketManager can be assumed by a principal other than the Lambda execution role";
    MANAGEMENT_MISSING = "XA004", High, "S3BucketManagement does not allow an action the runtime needs on a prefixed bucket";
    MANAGEMENT_FOREIGN_BUCKET = "XA005", Critical, "S3BucketManagement allows bucket actions on a bucket outside the prefix";
    MANAGEMENT_NON_S3 = "XA006", High, "S3BucketManagement allows actions outside S3";
    DESTRUCTIVE = "XA007", Critical, "A destructive S3 action is allowed (other than canary deletion when enabled)";
    WILDCARD_PRINCIPAL = "XA008", Critical, "An Allow statement has a `*` principal (or NotPrincipal)";
    WILDCARD_ACTION = "XA009", High, "An Allow statement has `Action: *`";
    NOT_ACTION_ALLOW = "XA010", High, "An Allow statement uses NotAction or NotResource";
    WILDCARD_RESOURCE = "XA011", High, "`Resource: *` on an action that can be scoped";
    FUNCTION_URL_CALLER = "XA012", Critical, "The function URL can be called by a principal that is not an invoker";
    FUNCTION_URL_INVOKER_DENIED = "XA013", Medium, "A configured invoker cannot call the function URL";
    FUNCTION_URL_AUTH = "XA014", Critical, "Function URL auth type is not AWS_IAM";
    BUCKET_PUBLIC = "XA015", Critical, "A bucket policy grants access to anonymous or foreign principals";
    BUCKET_TLS = "XA016", High, "A bucket policy does not deny requests without TLS";
    BUCKET_READER = "XA017", Medium, "A reader principal cannot read the bucket";
    SECRET = "XA018", Critical, "A long-lived secret appears in a rendered file or plan value";
    UNIQUE_ID_PRINCIPAL = "XA019", Medium, "A principal is an IAM unique ID (AROA/AIDA...): a deleted or recreated principal";
    LAMBDA_TRUST_OPEN = "XA020", High, "The Lambda execution role can be assumed by something other than Lambda in the primary account";
    UNSUPPORTED = "XA021", Medium, "A condition operator the evaluator does not implement (treated as false)";
}

/// Actions that cannot be scoped to a resource ARN and may use `Resource: *`.
pub const UNSCOPABLE_ACTIONS: &[&str] = &["s3:ListAllMyBuckets", "organizations:ListAccounts"];

/// S3 actions that destroy data or loosen protection.
pub const DESTRUCTIVE_ACTIONS: &[&str] = &[
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutLifecycleConfiguration",
    "s3:DeleteBucketOwnershipControls",
    "s3:PutObject",
];

/// Non-S3 actions probed against `S3BucketManagement`.
const NON_S3_PROBES: &[&str] = &[
    "iam:PassRole",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "sts:AssumeRole",
    "kms:Decrypt",
    "lambda:InvokeFunction",
    "ec2:RunInstances",
    "organizations:ListAccounts",
    "secretsmanager:GetSecretValue",
];

/// An account no configuration ever names (probing "a foreign account").
pub const FOREIGN_ACCOUNT: &str = "999999999999";

/// The statement behind a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementInfo {
    pub document: String,
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub json: serde_json::Value,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub check_id: &'static str,
    pub severity: Severity,
    pub account: String,
    pub resource: String,
    pub message: String,
    pub statement: Option<StatementInfo>,
    /// The committed file (or template, plan) the finding is in, when it comes from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`: the cited statement, else the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

struct Ctx<'a> {
    input: &'a Input,
    findings: Vec<Finding>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        check: Check,
        doc: &Doc,
        resource: &str,
        message: String,
        idx: Option<usize>,
    ) {
        let (file, line) = self.input.location(&doc.name, idx);
        self.findings.push(Finding {
            check_id: check.id,
            severity: check.severity,
            account: doc.account.clone(),
            resource: resource.to_owned(),
            message,
            statement: idx.and_then(|i| statement_info(doc, i)),
            file,
            line,
        });
    }
}

fn statement_info(doc: &Doc, index: usize) -> Option<StatementInfo> {
    let st = doc.doc.statement.get(index)?;
    Some(StatementInfo {
        document: doc.name.clone(),
        index,
        sid: st.sid.clone(),
        json: serde_json::to_value(st).unwrap_or_default(),
    })
}

/// The first statement a decision cites in `doc`.
fn cited(d: &eval::Decision, doc: &Doc) -> Option<usize> {
    d.statements
        .iter()
        .find(|s| s.document == doc.name)
        .map(|s| s.index)
}

/// Runs every check. Findings are sorted by severity (highest first), then ID.
pub fn run(input: &Input) -> Vec<Finding> {
    let mut cx = Ctx {
        input,
        findings: Vec::new(),
    };
    lambda_assume(&mut cx);
    storage_trust(&mut cx);
    storage_management(&mut cx);
    hygiene(&mut cx);
    function_url(&mut cx);
    buckets(&mut cx);
    lambda_trust(&mut cx);
    secrets::scan(input, &mut cx.findings);
    attributes::check(input, &mut cx.findings);
    input.locate(&mut cx.findings);
    let mut f = cx.findings;
    f.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.check_id.cmp(b.check_id))
            .then(a.account.cmp(&b.account))
    });
    f.dedup();
    f
}

fn lambda_caller(e: &Expect) -> Caller {
    Caller::Aws(e.lambda_role_arn.clone())
}

/// Context the Lambda presents when it assumes a storage role.
fn assume_context(e: &Expect, org: Option<&str>) -> Vec<(String, Vec<String>)> {
    let mut ctx = Vec::new();
    if let Some(x) = &e.external_id {
        ctx.push(("sts:ExternalId".to_owned(), vec![x.clone()]));
    }
    if let Some(o) = org {
        ctx.push(("aws:ResourceOrgID".to_owned(), vec![o.to_owned()]));
    }
    ctx
}

fn with_ctx(mut r: Request, ctx: &[(String, Vec<String>)]) -> Request {
    for (k, v) in ctx {
        r = r.with(k, v.iter().cloned());
    }
    r
}

fn lambda_assume(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let Some(exec) = &input.lambda_execution else {
        return;
    };
    let caller = lambda_caller(e);
    let identity = [Named::identity(&exec.name, &exec.doc)];
    let org = e.organization_id.as_deref();
    for acct in &input.storage {
        let role = contract::storage_role_arn(&acct.account);
        let Some(trust) = &acct.trust else { continue };
        let req = with_ctx(
            Request::new(caller.clone(), "sts:AssumeRole", &role),
            &assume_context(e, org),
        );
        let d = eval::combine(
            &identity,
            &caller,
            Named::resource(&trust.name, &trust.doc),
            Some(&acct.account),
            &req,
        );
        if !d.allowed() {
            let side = if eval::evaluate(&identity, &req).allowed() {
                "its trust policy does not allow it"
            } else {
                "the Lambda's identity policy does not allow it"
            };
            cx.push(
                LAMBDA_CANNOT_ASSUME,
                trust,
                &role,
                format!("{} cannot assume {role}: {side}", e.lambda_role_arn),
                None,
            );
        }
    }
    // Roles that are not a storage role: foreign accounts, other role names.
    let mut probes: Vec<(String, Option<&str>)> = vec![
        (
            contract::storage_role_arn(FOREIGN_ACCOUNT),
            Some("o-foreign00000"),
        ),
        (
            format!("arn:aws:iam::{FOREIGN_ACCOUNT}:role/Admin"),
            Some("o-foreign00000"),
        ),
        (
            format!("arn:aws:iam::{}:role/Admin", e.primary_account),
            org,
        ),
    ];
    for acct in input.storage.iter().take(3) {
        probes.push((
            format!(
                "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
                acct.account
            ),
            org,
        ));
        probes.push((
            format!("arn:aws:iam::{}:role/S3BucketManagerAdmin", acct.account),
            org,
        ));
    }
    for (role, org) in probes {
        let req = with_ctx(
            Request::new(caller.clone(), "sts:AssumeRole", &role),
            &assume_context(e, org),
        );
        let d = eval::evaluate(&identity, &req);
        if d.allowed() {
            let idx = cited(&d, exec);
            cx.push(
                LAMBDA_ASSUMES_OTHER,
                exec,
                &role,
                format!("the Lambda's identity policy allows sts:AssumeRole on {role}"),
                idx,
            );
        }
    }
}

fn storage_trust(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    for acct in &input.storage {
        let Some(trust) = &acct.trust else { continue };
        let role = contract::storage_role_arn(&acct.account);
        let callers = [
            Caller::Aws(format!(
                "arn:aws:iam::{}:role/ambra-other",
                e.primary_account
            )),
            Caller::Aws(format!("arn:aws:iam::{}:root", e.primary_account)),
            Caller::Aws(format!("arn:aws:iam::{}:user/someone", e.primary_account)),
            Caller::Aws(format!("arn:aws:iam::{}:role/Other", acct.account)),
            Caller::Aws(format!("arn:aws:iam::{FOREIGN_ACCOUNT}:root")),
            Caller::Aws(format!(
                "arn:aws:iam::{FOREIGN_ACCOUNT}:role/{}",
                e.lambda_role_arn.rsplit('/').next().unwrap_or_default()
            )),
            Caller::Service("ec2.amazonaws.com".to_owned()),
            Caller::Anonymous,
        ];
        // Worst case: the caller knows the external ID and its own identity policy allows.
        let ctx = assume_context(e, e.organization_id.as_deref());
        for c in callers {
            if c == lambda_caller(e) {
                continue;
            }
            let req = with_ctx(Request::new(c.clone(), "sts:AssumeRole", &role), &ctx);
            let d = eval::evaluate(&[Named::resource(&trust.name, &trust.doc)], &req);
            if d.allowed() {
                cx.push(
                    STORAGE_ROLE_OPEN,
                    trust,
                    &role,
                    format!("{} may assume {role}", c.describe()),
                    cited(&d, trust),
                );
            }
        }
    }
}

fn storage_management(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let role = |acct: &str| Caller::Aws(contract::storage_role_arn(acct));
    let ours = contract::bucket_arn(&format!("{}-x", e.bucket_prefix));
    let canary = contract::bucket_arn(&contract::canary_bucket_name(&e.bucket_prefix, "audit"));
    let foreign = [
        contract::bucket_arn("other-bucket"),
        contract::bucket_arn(&e.bucket_prefix),
        contract::bucket_arn(&format!("{}x-evil", e.bucket_prefix)),
        contract::bucket_arn(&e.phr_bucket),
    ];
    for acct in &input.storage {
        let Some(m) = &acct.management else { continue };
        let named = [Named::identity(&m.name, &m.doc)];
        let caller = role(&acct.account);
        let allows = |action: &str, resource: &str| {
            eval::evaluate(&named, &Request::new(caller.clone(), action, resource))
        };
        let mut needed: Vec<(&str, String)> = contract::BUCKET_ACTIONS
            .iter()
            .map(|a| (*a, ours.clone()))
            .collect();
        needed.extend(
            contract::ACCOUNT_ACTIONS
                .iter()
                .map(|a| (*a, "*".to_owned())),
        );
        if e.allow_canary {
            needed.extend(
                contract::CANARY_ACTIONS
                    .iter()
                    .map(|a| (*a, canary.clone())),
            );
        }
        for (action, resource) in needed {
            if !allows(action, &resource).allowed() {
                cx.push(
                    MANAGEMENT_MISSING,
                    m,
                    &resource,
                    format!("{action} on {resource} is not allowed"),
                    None,
                );
            }
        }
        for bucket in &foreign {
            for action in contract::BUCKET_ACTIONS {
                let d = allows(action, bucket);
                if d.allowed() {
                    cx.push(
                        MANAGEMENT_FOREIGN_BUCKET,
                        m,
                        bucket,
                        format!(
                            "{action} is allowed on {bucket}, outside prefix {}-",
                            e.bucket_prefix
                        ),
                        cited(&d, m),
                    );
                    break;
                }
            }
        }
        for (i, st) in m.doc.statement.iter().enumerate() {
            if st.effect != Some(Effect::Allow) {
                continue;
            }
            let non_s3 = st.not_action.is_some()
                || st
                    .action
                    .iter()
                    .flat_map(|a| a.iter())
                    .any(|a| !a.to_ascii_lowercase().starts_with("s3:"));
            if non_s3 {
                cx.push(
                    MANAGEMENT_NON_S3,
                    m,
                    &m.name,
                    format!("statement {} allows actions outside S3", label(st, i)),
                    Some(i),
                );
            }
        }
        for action in NON_S3_PROBES {
            let d = allows(action, "*");
            if d.allowed() {
                cx.push(
                    MANAGEMENT_NON_S3,
                    m,
                    "*",
                    format!("{action} is allowed"),
                    cited(&d, m),
                );
            }
        }
        let object = format!("{ours}/key");
        for action in DESTRUCTIVE_ACTIONS {
            for resource in [&ours, &object, &canary] {
                let permitted_canary = e.allow_canary
                    && resource == &canary
                    && contract::CANARY_ACTIONS.contains(action);
                if permitted_canary {
                    continue;
                }
                let d = allows(action, resource);
                if d.allowed() {
                    cx.push(
                        DESTRUCTIVE,
                        m,
                        resource,
                        format!(
                            "destructive {action} is allowed on {resource}{}",
                            if e.allow_canary {
                                ""
                            } else {
                                " (allow_canary is off)"
                            }
                        ),
                        cited(&d, m),
                    );
                }
            }
        }
    }
}

fn label(st: &Statement, i: usize) -> String {
    match &st.sid {
        Some(s) => format!("#{i} ({s})"),
        None => format!("#{i}"),
    }
}

/// Structural checks on every document.
fn hygiene(cx: &mut Ctx<'_>) {
    let input = cx.input;
    for doc in input.all_docs() {
        for (i, st) in doc.doc.statement.iter().enumerate() {
            for p in [&st.principal, &st.not_principal].into_iter().flatten() {
                for v in principal_values(p) {
                    if is_unique_id(v) {
                        cx.push(
                            UNIQUE_ID_PRINCIPAL,
                            doc,
                            v,
                            format!("principal {v} is a unique ID: the principal was deleted (a recreated one does not match); use its ARN"),
                            Some(i),
                        );
                    }
                }
            }
            for op in st.condition.keys() {
                if !eval::operator_supported(op) {
                    cx.push(
                        UNSUPPORTED,
                        doc,
                        &doc.name,
                        format!("condition operator {op} is not evaluated offline (treated as false); review statement {} by hand", label(st, i)),
                        Some(i),
                    );
                }
            }
            if st.effect != Some(Effect::Allow) {
                continue;
            }
            if st.principal.as_ref().is_some_and(Principal::is_wildcard)
                || st.not_principal.is_some()
            {
                cx.push(
                    WILDCARD_PRINCIPAL,
                    doc,
                    &doc.name,
                    format!("statement {} allows any principal", label(st, i)),
                    Some(i),
                );
            }
            let actions: Vec<&str> = st.action.iter().flat_map(|a| a.iter()).collect();
            if actions.iter().any(|a| *a == "*" || *a == "*:*") {
                cx.push(
                    WILDCARD_ACTION,
                    doc,
                    &doc.name,
                    format!("statement {} allows every action", label(st, i)),
                    Some(i),
                );
            }
            if st.not_action.is_some() || st.not_resource.is_some() {
                cx.push(
                    NOT_ACTION_ALLOW,
                    doc,
                    &doc.name,
                    format!(
                        "statement {} allows with {}: everything not listed is granted",
                        label(st, i),
                        if st.not_action.is_some() {
                            "NotAction"
                        } else {
                            "NotResource"
                        }
                    ),
                    Some(i),
                );
            }
            let star_resource = st
                .resource
                .as_ref()
                .is_some_and(|r| r.iter().any(|v| v == "*"));
            if star_resource {
                let scoped: Vec<&str> = actions
                    .iter()
                    .copied()
                    .filter(|a| !UNSCOPABLE_ACTIONS.iter().any(|u| u.eq_ignore_ascii_case(a)))
                    .collect();
                if !scoped.is_empty() || st.not_action.is_some() {
                    cx.push(
                        WILDCARD_RESOURCE,
                        doc,
                        "*",
                        format!(
                            "statement {} grants {} on Resource \"*\"; only {} may use it",
                            label(st, i),
                            if scoped.is_empty() {
                                "NotAction".to_owned()
                            } else {
                                scoped.join(", ")
                            },
                            UNSCOPABLE_ACTIONS.join(", ")
                        ),
                        Some(i),
                    );
                }
            }
        }
    }
}

fn principal_values(p: &Principal) -> Vec<&str> {
    match p {
        Principal::Any => vec!["*"],
        Principal::Map(m) => m.values().flat_map(|v| v.iter()).collect(),
    }
}

/// `AROA…` (role), `AIDA…` (user) and the other IAM unique-ID prefixes.
pub fn is_unique_id(v: &str) -> bool {
    ["AROA", "AIDA", "AGPA", "AIPA", "ANPA", "ANVA", "ASCA"]
        .iter()
        .any(|p| v.starts_with(p))
        && v.len() >= 16
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn function_url(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let from_texts = input.texts.iter().flat_map(|(path, text)| {
        input::function_url_auth_in_text(text)
            .into_iter()
            .map(move |a| (path.clone(), a))
    });
    let auths: Vec<(String, String)> = input
        .function_url_auth
        .iter()
        .cloned()
        .chain(from_texts)
        .collect();
    for (source, auth) in &auths {
        if !auth.eq_ignore_ascii_case("AWS_IAM") {
            cx.findings.push(Finding {
                check_id: FUNCTION_URL_AUTH.id,
                severity: FUNCTION_URL_AUTH.severity,
                account: e.primary_account.clone(),
                resource: e.function_arn.clone(),
                message: format!("{source}: function URL auth type is {auth}, must be AWS_IAM"),
                statement: None,
                file: None,
                line: None,
            });
        }
    }
    let Some(doc) = &input.function_url_policy else {
        return;
    };
    let named = [Named::resource(&doc.name, &doc.doc)];
    let invokers: BTreeSet<&str> = e.invokers.iter().map(String::as_str).collect();
    for (i, st) in doc.doc.statement.iter().enumerate() {
        if st.effect != Some(Effect::Allow) {
            continue;
        }
        if let Some(p) = &st.principal {
            for v in principal_values(p) {
                if !invokers.contains(v) {
                    cx.push(
                        FUNCTION_URL_CALLER,
                        doc,
                        &e.function_arn,
                        format!("principal {v} is not an invoker principal"),
                        Some(i),
                    );
                }
            }
        }
        for (op, keys) in &st.condition {
            for (k, vals) in keys {
                if k.eq_ignore_ascii_case("lambda:FunctionUrlAuthType")
                    && vals.iter().any(|v| v.eq_ignore_ascii_case("NONE"))
                {
                    cx.push(
                        FUNCTION_URL_AUTH,
                        doc,
                        &e.function_arn,
                        format!(
                            "statement {} grants with {op} lambda:FunctionUrlAuthType NONE",
                            label(st, i)
                        ),
                        Some(i),
                    );
                }
            }
        }
    }
    let url = |c: &Caller, auth: &str| {
        Request::new(c.clone(), "lambda:InvokeFunctionUrl", &e.function_arn)
            .with("lambda:FunctionUrlAuthType", [auth])
    };
    let outsiders = [
        Caller::Anonymous,
        Caller::Aws(format!("arn:aws:iam::{FOREIGN_ACCOUNT}:root")),
        Caller::Aws(format!(
            "arn:aws:iam::{}:role/ambra-other",
            e.primary_account
        )),
    ];
    for c in outsiders {
        for auth in ["AWS_IAM", "NONE"] {
            let d = eval::evaluate(&named, &url(&c, auth));
            if d.allowed() {
                cx.push(
                    FUNCTION_URL_CALLER,
                    doc,
                    &e.function_arn,
                    format!("{} may call the function URL (auth {auth})", c.describe()),
                    cited(&d, doc),
                );
            }
        }
    }
    for inv in &e.invokers {
        let c = Caller::Aws(inv.clone());
        for action in ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"] {
            let r = Request::new(c.clone(), action, &e.function_arn)
                .with("lambda:FunctionUrlAuthType", ["AWS_IAM"]);
            if !eval::evaluate(&named, &r).allowed() {
                cx.push(
                    FUNCTION_URL_INVOKER_DENIED,
                    doc,
                    &e.function_arn,
                    format!("invoker {inv} is not allowed {action}"),
                    None,
                );
            }
        }
    }
}

fn buckets(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    for b in &input.bucket_policies {
        let doc = &b.doc;
        let named = Named::resource(&doc.name, &doc.doc);
        let bucket = contract::bucket_arn(&b.bucket);
        let object = format!("{bucket}/key");
        let owner = doc.account.as_str();
        let tls = |c: &Caller, action: &str, res: &str, secure: &str| {
            Request::new(c.clone(), action, res).with("aws:SecureTransport", [secure])
        };
        let outsiders = [
            Caller::Anonymous,
            Caller::Aws(format!("arn:aws:iam::{FOREIGN_ACCOUNT}:root")),
            Caller::Aws(format!("arn:aws:iam::{FOREIGN_ACCOUNT}:role/reader")),
        ];
        let reads = [
            ("s3:GetObject", object.as_str()),
            ("s3:ListBucket", bucket.as_str()),
            ("s3:PutObject", object.as_str()),
            ("s3:PutBucketPolicy", bucket.as_str()),
        ];
        for c in &outsiders {
            for (action, res) in reads {
                let d = eval::evaluate(&[named], &tls(c, action, res, "true"));
                if d.allowed() {
                    cx.push(
                        BUCKET_PUBLIC,
                        doc,
                        &bucket,
                        format!("{} is allowed {action} on {res}", c.describe()),
                        cited(&d, doc),
                    );
                    break;
                }
            }
        }
        let insider = Caller::Aws(format!("arn:aws:iam::{owner}:role/any"));
        let probes: Vec<Caller> = e
            .readers
            .iter()
            .map(|r| Caller::Aws(r.clone()))
            .chain([insider.clone()])
            .collect();
        for c in &probes {
            for (action, res) in [
                ("s3:GetObject", object.as_str()),
                ("s3:PutObject", object.as_str()),
            ] {
                let d = eval::evaluate(&[named], &tls(c, action, res, "false"));
                if d.outcome != Outcome::ExplicitDeny {
                    cx.push(
                        BUCKET_TLS,
                        doc,
                        &bucket,
                        format!("{action} by {} without TLS is not denied", c.describe()),
                        None,
                    );
                }
            }
        }
        if b.readers_required {
            for r in &e.readers {
                let c = Caller::Aws(r.clone());
                for (action, res) in [
                    ("s3:GetObject", object.as_str()),
                    ("s3:ListBucket", bucket.as_str()),
                ] {
                    let d =
                        eval::combine(&[], &c, named, Some(owner), &tls(&c, action, res, "true"));
                    // Cross-account readers also need their own identity policy; the bucket side must allow.
                    let bucket_side = eval::evaluate(&[named], &tls(&c, action, res, "true"));
                    if !(d.allowed() || bucket_side.allowed()) {
                        cx.push(
                            BUCKET_READER,
                            doc,
                            &bucket,
                            format!("reader {r} is not allowed {action}"),
                            None,
                        );
                    }
                }
            }
        }
    }
}

fn lambda_trust(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let Some(trust) = &input.lambda_trust else {
        return;
    };
    let named = [Named::resource(&trust.name, &trust.doc)];
    let role = &e.lambda_role_arn;
    let lambda = Caller::Service("lambda.amazonaws.com".to_owned());
    let ok = Request::new(lambda.clone(), "sts:AssumeRole", role)
        .with("aws:SourceAccount", [e.primary_account.as_str()]);
    if !eval::evaluate(&named, &ok).allowed() {
        cx.push(
            LAMBDA_TRUST_OPEN,
            trust,
            role,
            "lambda.amazonaws.com in the primary account cannot assume the execution role"
                .to_owned(),
            None,
        );
    }
    let mut bad: Vec<(String, Request)> = vec![
        (
            "lambda.amazonaws.com on behalf of a foreign account".to_owned(),
            Request::new(lambda.clone(), "sts:AssumeRole", role)
                .with("aws:SourceAccount", [FOREIGN_ACCOUNT]),
        ),
        (
            "lambda.amazonaws.com without aws:SourceAccount".to_owned(),
            Request::new(lambda, "sts:AssumeRole", role),
        ),
        (
            "ec2.amazonaws.com".to_owned(),
            Request::new(
                Caller::Service("ec2.amazonaws.com".into()),
                "sts:AssumeRole",
                role,
            )
            .with("aws:SourceAccount", [e.primary_account.as_str()]),
        ),
    ];
    for c in [
        Caller::Anonymous,
        Caller::Aws(format!("arn:aws:iam::{FOREIGN_ACCOUNT}:root")),
        Caller::Aws(format!("arn:aws:iam::{}:root", e.primary_account)),
        Caller::Aws(format!(
            "arn:aws:iam::{}:role/ambra-other",
            e.primary_account
        )),
    ] {
        if let Caller::Aws(a) = &c
            && e.verifiers.contains(a)
        {
            continue;
        }
        bad.push((c.describe(), Request::new(c, "sts:AssumeRole", role)));
    }
    for (who, req) in bad {
        let d = eval::evaluate(&named, &req);
        if d.allowed() {
            cx.push(
                LAMBDA_TRUST_OPEN,
                trust,
                role,
                format!("{who} may assume the Lambda execution role"),
                cited(&d, trust),
            );
        }
    }
}

/// `xacct explain`: which documents answer a request and how.
pub fn explain(input: &Input, caller: &Caller, action: &str, resource: &str) -> Explanation {
    let e = &input.expect;
    let req = Request::new(caller.clone(), action, resource);
    let caller_arn = match caller {
        Caller::Aws(a) => a.as_str(),
        _ => "",
    };
    // Identity policies of the caller, when the caller is one of ours.
    let mut identity: Vec<&Doc> = Vec::new();
    if caller_arn == e.lambda_role_arn {
        identity.extend(input.lambda_execution.iter());
    }
    for acct in &input.storage {
        if caller_arn == contract::storage_role_arn(&acct.account) {
            identity.extend(acct.management.iter());
        }
    }
    let id_named: Vec<Named<'_>> = identity
        .iter()
        .map(|d| Named::identity(&d.name, &d.doc))
        .collect();
    // The resource policy governing the resource, if we have one.
    let mut resource_doc: Option<&Doc> = None;
    for acct in &input.storage {
        if resource == contract::storage_role_arn(&acct.account) {
            resource_doc = acct.trust.as_ref();
        }
    }
    if resource == e.lambda_role_arn {
        resource_doc = input.lambda_trust.as_ref();
    }
    if resource == e.function_arn || resource.starts_with(&format!("{}:", e.function_arn)) {
        resource_doc = input.function_url_policy.as_ref();
    }
    for b in &input.bucket_policies {
        let arn = contract::bucket_arn(&b.bucket);
        if resource == arn || resource.starts_with(&format!("{arn}/")) {
            resource_doc = Some(&b.doc);
        }
    }
    let decision = match resource_doc {
        Some(rd) => eval::combine(
            &id_named,
            caller,
            Named::resource(&rd.name, &rd.doc),
            Some(rd.account.as_str()).filter(|a| !a.is_empty()),
            &req,
        ),
        None => eval::evaluate(&id_named, &req),
    };
    let statements = decision
        .statements
        .iter()
        .filter_map(|s| {
            let doc = input
                .all_docs()
                .into_iter()
                .find(|d| d.name == s.document)?;
            statement_info(doc, s.index)
        })
        .collect();
    Explanation {
        outcome: decision.outcome,
        identity_documents: identity.iter().map(|d| d.name.clone()).collect(),
        resource_document: resource_doc.map(|d| d.name.clone()),
        statements,
        unsupported: decision.unsupported,
    }
}

/// The answer of [`explain`].
#[derive(Debug, Clone)]
pub struct Explanation {
    pub outcome: Outcome,
    pub identity_documents: Vec<String>,
    pub resource_document: Option<String>,
    pub statements: Vec<StatementInfo>,
    pub unsupported: Vec<String>,
}

/// Parses policy JSON into a [`Doc`].
pub fn doc(name: impl Into<String>, account: impl Into<String>, doc: PolicyDocument) -> Doc {
    Doc {
        name: name.into(),
        account: account.into(),
        doc,
    }
}
