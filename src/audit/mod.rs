//! The offline permission audit: named checks with stable IDs over the IAM
//! documents of an environment (built by [`crate::iam::documents`] or read
//! from a Terraform plan by [`plan`]), answered by the pure evaluator in
//! [`crate::eval`]. Knows nothing about clap, files or AWS: inputs come in as
//! values, findings go out as values.

pub mod access;
pub mod attributes;
pub mod explain;
pub mod external;
pub mod hygiene;
pub mod input;
pub mod intent;
pub mod plan;
pub mod report;
pub mod secrets;
pub mod settings;
pub mod shipped;
pub mod template;
pub mod terraform;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::eval::{Caller, Request};
use crate::iam::{PolicyDocument, Statement};

pub use access::{no_new_access, no_new_access_all};
pub use explain::{Explanation, explain};
pub use input::{Doc, Expect, Input};

/// Severity of a finding; `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
    DESTRUCTIVE = "XA007", Critical, "A destructive S3 action (catalog access level Write or Permissions management) is allowed (other than canary deletion when enabled)";
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
    UNDECIDED = "XA022", High, "The audit cannot decide a question for this document (unmodelled operator, policy variable, size limit)";
    NEW_ACCESS = "XA023", High, "A document allows a request the rendered document does not (no new access)";
    EXECUTION_EXTRA = "XA024", High, "The Lambda execution role may do more than assume storage roles, write its logs, notify ops and discover accounts";
    MANAGEMENT_EXTRA = "XA025", High, "S3BucketManagement allows an S3 action the runtime does not need on prefixed buckets or their objects";
    UNKNOWN_ACTION = "XA026", Low, "An action of a catalogued service that is not in the action catalog (typo, or newer than the catalog)";
    KMS_KEY_OPEN = "XA027", Critical, "The customer-managed KMS key's policy lets someone outside the intent use or manage the key";
    KMS_KEY_USER_DENIED = "XA028", Medium, "A reader (through S3) or CloudWatch Logs (for the function's log group) cannot use the customer-managed KMS key";
    GUARDRAIL_BLOCKS = "XA060", High, "An SCP or RCP of the organization blocks an intended request of the provisioning chain";
    GUARDRAIL_UNDECIDED = "XA061", High, "Whether an SCP or RCP blocks an intended request cannot be decided (condition key unknown offline, unmodelled operator)";
    EXTERNAL_ACCESS = "XA062", Critical, "A principal outside the zone of trust may reach a bucket, the KMS key, the function or a role (external access)";
    EXTERNAL_ACCEPTED = "XA063", Info, "External access accepted in access.external_principals (shown with its reason)";
    ORG_ACCOUNT_OUTSIDE = "XA064", Medium, "An environment account is not in the organization of the snapshot";
    ORG_MISMATCH = "XA065", High, "The organization snapshot does not match the spec (another organization, or unreadable)";
    CREATE_OUTSIDE_NAMESPACE = "XA070", High, "With bucket_namespace = account-regional, S3BucketManagement allows s3:CreateBucket without s3:x-amz-bucket-namespace = account-regional or outside <prefix>-*-<region>-an (a global, squattable name)";
}

/// Actions that cannot be scoped to a resource ARN and may use `Resource: *`
/// (the Service Authorization Reference lists no resource type for them):
/// - `s3:ListAllMyBuckets`, `organizations:ListAccounts`: account-wide listings.
/// - `s3:GetAccountPublicAccessBlock`, `s3:PutAccountPublicAccessBlock`: the
///   account's Block Public Access (`security.primary_account_public_access_block`);
///   the setting belongs to the account, there is no bucket to name.
/// - `kms:CreateKey`: the key's ARN does not exist before the call
///   (`security.kms_key`); the key policy then decides who uses it.
///   `kms:ListAliases`: a listing (Terraform and CloudFormation read the alias through it).
/// - `lambda:CreateCodeSigningConfig`: likewise for the code signing
///   configuration (`security.code_signing_profile_version_arn`).
/// - `cloudtrail:DescribeTrails`: Terraform and CloudFormation read trails
///   through this listing (`security.cloudtrail`).
pub const UNSCOPABLE_ACTIONS: &[&str] = &[
    "s3:ListAllMyBuckets",
    "organizations:ListAccounts",
    "s3:GetAccountPublicAccessBlock",
    "s3:PutAccountPublicAccessBlock",
    "kms:CreateKey",
    "kms:ListAliases",
    "lambda:CreateCodeSigningConfig",
    "cloudtrail:DescribeTrails",
];

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
    /// For "too open" findings: one request the documents allow and the intent does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
}

/// One concrete request: principal (an ARN, `service:<name>` or `anonymous`),
/// action, resource, and the condition keys (lowercased) with their values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counterexample {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl Counterexample {
    pub fn of(r: &Request) -> Self {
        Counterexample {
            principal: crate::eval::decide::principal_text(&r.caller),
            action: r.action.clone(),
            resource: r.resource.clone(),
            context: r
                .context()
                .map(|(k, v)| (k.to_owned(), v.to_vec()))
                .collect(),
        }
    }

    /// The request again, for the plain evaluator.
    pub fn request(&self) -> Request {
        let caller = if let Some(s) = self.principal.strip_prefix("service:") {
            Caller::Service(s.to_owned())
        } else if self.principal == "anonymous" {
            Caller::Anonymous
        } else {
            Caller::Aws(self.principal.clone())
        };
        let mut r = Request::new(caller, &self.action, &self.resource);
        for (k, v) in &self.context {
            r = r.with(k, v.iter().cloned());
        }
        r
    }

    /// One line: `principal action resource [k=v, ...]`.
    pub fn describe(&self) -> String {
        let ctx: Vec<String> = self
            .context
            .iter()
            .filter(|(k, v)| {
                !matches!(
                    k.as_str(),
                    "aws:principalarn" | "aws:principalaccount" | "aws:principalservicename"
                ) && !usual_value(k, v, &self.principal)
            })
            .map(|(k, v)| format!("{k}={}", v.join("|")))
            .collect();
        let mut s = format!(
            "{} may {} on {}",
            self.principal, self.action, self.resource
        );
        if !ctx.is_empty() {
            s.push_str(&format!(" with {}", ctx.join(", ")));
        }
        s
    }
}

/// An always-present key with the value a counterexample gives it when no
/// document tests it (`eval::context::ALWAYS_PRESENT`): not worth a mention.
fn usual_value(key: &str, values: &[String], principal: &str) -> bool {
    let [v] = values else { return false };
    if key == "aws:principalisawsservice" {
        return v
            == if principal.starts_with("service:") {
                "true"
            } else {
                "false"
            };
    }
    crate::eval::context::ALWAYS_PRESENT
        .iter()
        .any(|(k, d)| *k == key && v == d)
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
            counterexample: None,
        });
    }
}

pub(crate) fn statement_info(doc: &Doc, index: usize) -> Option<StatementInfo> {
    let st = doc.doc.statement.get(index)?;
    Some(StatementInfo {
        document: doc.name.clone(),
        index,
        sid: st.sid.clone(),
        json: serde_json::to_value(st).unwrap_or_default(),
    })
}

/// Runs every check. Findings are sorted by severity (highest first), then ID.
pub fn run(input: &Input) -> Vec<Finding> {
    let mut cx = Ctx {
        input,
        findings: Vec::new(),
    };
    access::lambda_assume(&mut cx);
    access::storage_trust(&mut cx);
    access::storage_management(&mut cx);
    hygiene::hygiene(&mut cx);
    hygiene::function_url_auth(&mut cx);
    access::function_url(&mut cx);
    access::buckets(&mut cx);
    access::lambda_trust(&mut cx);
    access::kms_key(&mut cx);
    cx.findings.extend(external::check(input));
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

/// [`run`], plus [`no_new_access`] of every document against the rendered set
/// (when the environment, hence the rendered documents, is known).
pub fn run_with_rendered(
    input: &Input,
    rendered: &crate::iam::documents::Documents,
) -> Vec<Finding> {
    let mut f = run(input);
    let mut wider = no_new_access_all(input, rendered);
    input.locate(&mut wider);
    f.extend(wider);
    sort(&mut f);
    f
}

/// What the render fixes for one environment: every document (for no new
/// access) and every security setting of the rendered Terraform and
/// CloudFormation, read back through the audit's own readers (for
/// [`settings::compare`]). Built once per audit run.
#[derive(Debug, Clone)]
pub struct Floor {
    pub documents: crate::iam::documents::Documents,
    pub settings: Vec<settings::Res>,
}

impl Floor {
    /// Renders `env` in memory and reads the result like committed files.
    pub fn build(env: &crate::model::Environment) -> Result<Self, crate::render::RenderError> {
        let files = crate::render::Renderer::new()?.render(env)?;
        let dir = format!("generated/{}", env.short_name);
        let texts: Vec<(String, String)> = files
            .into_iter()
            .map(|f| {
                let rel = f.path.to_string_lossy().replace('\\', "/");
                let rel = rel
                    .strip_prefix(&format!("{dir}/"))
                    .map_or(rel.clone(), str::to_owned);
                (format!("{dir}/{rel}"), f.contents)
            })
            .collect();
        let read = shipped::read(&dir, &texts, env);
        Ok(Floor {
            documents: crate::iam::documents::Documents::build(env),
            settings: read.inputs.into_iter().flat_map(|i| i.settings).collect(),
        })
    }
}

/// [`run_with_rendered`], plus every setting of `input` compared with the
/// render ([`settings::compare`]): weaker is XA050 (or the attribute's own
/// check), a missing rendered resource XA051, unknown until apply XA022.
pub fn run_with_floor(input: &Input, floor: &Floor) -> Vec<Finding> {
    let mut f = run_with_rendered(input, &floor.documents);
    let weaker = settings::compare(&floor.settings, &input.settings);
    let extra = settings::findings(&weaker, &f);
    f.extend(extra);
    sort(&mut f);
    f
}

/// Severity (highest first), then ID, then account.
fn sort(f: &mut [Finding]) {
    f.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.check_id.cmp(b.check_id))
            .then(a.account.cmp(&b.account))
    });
}

pub(crate) fn label(st: &Statement, i: usize) -> String {
    match &st.sid {
        Some(s) => format!("#{i} ({s})"),
        None => format!("#{i}"),
    }
}

/// Parses policy JSON into a [`Doc`].
pub fn doc(name: impl Into<String>, account: impl Into<String>, doc: PolicyDocument) -> Doc {
    Doc {
        name: name.into(),
        account: account.into(),
        doc,
    }
}
