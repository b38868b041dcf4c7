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

pub use crate::checks::audit::*;
pub use crate::checks::{Check, Severity};

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
    // The external-access check asks its own questions (the zone of trust):
    // it runs on a second thread while the access checks run on this one.
    let external = std::thread::scope(|s| {
        let external = spawn(s, || external::check(input));
        access::lambda_assume(&mut cx);
        access::storage_trust(&mut cx);
        access::storage_management(&mut cx);
        hygiene::hygiene(&mut cx);
        hygiene::function_url_auth(&mut cx);
        access::function_url(&mut cx);
        access::buckets(&mut cx);
        access::lambda_trust(&mut cx);
        access::kms_key(&mut cx);
        joined(external)
    });
    cx.findings.extend(external);
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
    // No new access asks other questions than the checks: a thread of its own.
    let (mut f, mut wider) = std::thread::scope(|s| {
        let wider = spawn(s, || no_new_access_all(input, rendered));
        (run(input), joined(wider))
    });
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
        Ok(Floor::of(env, &files))
    }

    /// The floor of `files`, the render of `env` a caller already holds.
    pub fn of(env: &crate::model::Environment, files: &[crate::render::RenderedFile]) -> Self {
        let dir = format!("generated/{}", env.short_name);
        let texts: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                let rel = f.path.to_string_lossy().replace('\\', "/");
                let rel = rel
                    .strip_prefix(&format!("{dir}/"))
                    .map_or(rel.clone(), str::to_owned);
                (format!("{dir}/{rel}"), f.contents.clone())
            })
            .collect();
        let read = shipped::read(&dir, &texts, env);
        Floor {
            documents: crate::iam::documents::Documents::build(env),
            settings: read.inputs.into_iter().flat_map(|i| i.settings).collect(),
        }
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

/// A scoped thread with the main thread's stack (8 MiB, reserved, touched
/// only as used): the readers and the decision procedure recurse as deep
/// there as they would on the main thread.
pub(crate) fn spawn<'scope, T: Send + 'scope>(
    s: &'scope std::thread::Scope<'scope, '_>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn_scoped(s, f)
        .expect("the operating system refused a thread")
}

/// The result of a scoped thread; its panic, if any, goes on in this one.
pub(crate) fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
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
