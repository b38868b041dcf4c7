//! What an audit looks at: the documents, where they live, and the intent
//! (the [`Expect`]ed principals, accounts and prefix) they are judged against.

use std::collections::BTreeMap;

use super::{Finding, attributes};
use crate::iam::PolicyDocument;
use crate::iam::documents::{self, DocKind, Documents};
use crate::model::Environment;

/// A named document in an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Where it comes from: a file under `policies/` or a Terraform address.
    pub name: String,
    pub account: String,
    pub doc: PolicyDocument,
}

/// The intent the documents are checked against.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expect {
    pub primary_account: String,
    pub lambda_role_arn: String,
    pub function_arn: String,
    pub bucket_prefix: String,
    /// Where new customer buckets are created: in the account regional
    /// namespace `s3:CreateBucket` is intended only with
    /// `s3:x-amz-bucket-namespace = account-regional` on `<prefix>-*-<region>-an`.
    pub bucket_namespace: crate::contract::BucketNamespace,
    pub allow_canary: bool,
    pub external_id: Option<String>,
    pub organization_id: Option<String>,
    pub invokers: Vec<String>,
    pub readers: Vec<String>,
    pub verifiers: Vec<String>,
    pub phr_bucket: String,
    /// The storage accounts, when the intent names them (`--env`, a template's
    /// Lambda environment): the accounts a storage template is instantiated for.
    pub storage_accounts: Vec<String>,
    /// Storage accounts are discovered through AWS Organizations at runtime.
    pub discover: bool,
    /// The SNS topic the Lambda may publish capacity warnings to.
    pub ops_topic_arn: Option<String>,
    /// The zone of trust's accounts (issue 20): the environment's accounts, plus
    /// every account of the organization when a snapshot lists them.
    pub zone_accounts: Vec<String>,
    /// The organization's accounts come from a snapshot (membership is known).
    pub org_snapshot: bool,
    /// The organization of the zone of trust: the snapshot's, else `storage.organization_id`.
    pub zone_org: Option<String>,
    /// Principals outside the zone accepted explicitly: (principal, reason).
    pub accepted_external: Vec<(String, String)>,
    /// `environment.name`: the `environment` tag the runtime writes (empty when unknown).
    pub environment_name: String,
}

impl Expect {
    /// The managed policy that bounds the execution role (`<function>-boundary`,
    /// as `Environment::boundary_policy_name`).
    pub fn boundary_policy_name(&self) -> String {
        let function = self.function_arn.rsplit(':').next().unwrap_or_default();
        format!("{function}-boundary")
    }

    pub fn from_env(env: &Environment) -> Self {
        Expect {
            primary_account: env.primary_account.clone(),
            lambda_role_arn: env.lambda_role_arn(),
            function_arn: env.function_arn(),
            bucket_prefix: env.bucket_prefix.clone(),
            bucket_namespace: env.bucket_namespace,
            allow_canary: env.allow_canary,
            external_id: env.external_id.clone(),
            organization_id: env.organization_id.clone(),
            invokers: env.invokers.clone(),
            readers: env.readers.clone(),
            verifiers: env.verifiers.clone(),
            phr_bucket: env.phr.bucket.clone(),
            storage_accounts: env.storage_accounts.clone(),
            discover: env.discover,
            ops_topic_arn: env.lambda.ops_topic_arn.clone(),
            zone_accounts: env_accounts(env),
            org_snapshot: false,
            zone_org: env.organization_id.clone(),
            accepted_external: env
                .external_principals
                .iter()
                .map(|x| (x.principal.clone(), x.reason.clone()))
                .collect(),
            environment_name: env.name.clone(),
        }
    }
}

/// The environment's accounts: primary, storage and PHR, sorted.
pub fn env_accounts(env: &Environment) -> Vec<String> {
    let mut v = vec![env.primary_account.clone(), env.phr.account.clone()];
    v.extend(env.storage_accounts.iter().cloned());
    v.sort();
    v.dedup();
    v
}

/// One storage account's documents.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageAccount {
    pub account: String,
    pub trust: Option<Doc>,
    pub management: Option<Doc>,
}

/// A bucket policy and its bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketPolicy {
    pub bucket: String,
    pub doc: Doc,
    /// The reader principals must be able to read this bucket.
    pub readers_required: bool,
}

/// Everything one audit run evaluates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input {
    pub expect: Expect,
    pub lambda_trust: Option<Doc>,
    pub lambda_execution: Option<Doc>,
    pub storage: Vec<StorageAccount>,
    pub bucket_policies: Vec<BucketPolicy>,
    pub function_url_policy: Option<Doc>,
    /// Policy of the customer-managed KMS key (`security.kms_key`), when there is one.
    pub kms_key_policy: Option<Doc>,
    /// `(where, auth type)` of function URL configurations seen outside `texts`
    /// (plan values); the texts are scanned when the audit runs.
    pub function_url_auth: Vec<(String, String)>,
    /// Documents that only get the structural checks (the deployer policy, unknown roles).
    pub other_docs: Vec<Doc>,
    /// `(path, text)` of rendered files, scanned for secrets and auth types.
    pub texts: Vec<(String, String)>,
    /// `(where, key, value)` of plan values, scanned for secrets.
    pub values: Vec<(String, String, String)>,
    /// Where each document (by [`Doc::name`]) was read from, when it came from a file.
    pub locations: BTreeMap<String, DocLocation>,
    /// `(file, line)` of the sources named in `function_url_auth`.
    pub sources: BTreeMap<String, (String, Option<usize>)>,
    /// S3 buckets the plan, template or committed files create, with their settings.
    pub buckets: Vec<attributes::Bucket>,
    /// Function URL CORS configurations.
    pub url_cors: Vec<attributes::Cors>,
    /// Lambda invoke permissions (`aws_lambda_permission`, `AWS::Lambda::Permission`).
    pub permissions: Vec<attributes::Permission>,
    /// Values the audit could not read (an unresolved `!Ref`, a computed policy):
    /// reported as "cannot decide", never clean.
    pub undecided: Vec<attributes::Undecided>,
    /// The security settings of every resource read ([`super::settings::TABLE`]).
    pub settings: Vec<super::settings::Res>,
    /// The rendered document each of `other_docs` is (by [`Doc::name`]), when
    /// the reader recognised it (the boundary, the deployer policy).
    pub kinds: BTreeMap<String, DocKind>,
    /// A Terraform plan whose provider cannot hold `lambda:InvokeFunction` to
    /// the function URL (provider 5.x has no `invoked_via_function_url`): its
    /// function policy is compared with the rendered one without that
    /// condition, the documented gap (docs/runtime.md "Invokers through the URL only").
    pub url_condition_gap: bool,
}

/// Every document kind (for matching `policies/` file names).
pub const ALL_KINDS: &[DocKind] = &[
    DocKind::LambdaTrust,
    DocKind::LambdaExecution,
    DocKind::StorageTrust,
    DocKind::StorageManagement,
    DocKind::PhrBucketPolicy,
    DocKind::CustomerBucketPolicy,
    DocKind::FunctionUrlPolicy,
    DocKind::Deployer,
    DocKind::ExecutionBoundary,
    DocKind::LogBucketPolicy,
    DocKind::KmsKeyPolicy,
];

/// The file and line a document was read from, and the line of each statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocLocation {
    pub file: String,
    pub line: usize,
    pub statements: Vec<usize>,
}

impl DocLocation {
    /// Locates a document that starts at 1-based `line` of `text`: statement `i`
    /// is at the `i`-th line after it that sets `Effect`.
    pub fn in_text(file: &str, text: &str, line: usize, statements: usize) -> Self {
        DocLocation::at(file, line, numbered(text, line), statements)
    }

    /// [`DocLocation::in_text`] over a text already split.
    pub fn in_lines(file: &str, text: &Lines<'_>, line: usize, statements: usize) -> Self {
        DocLocation::at(file, line, text.from(line), statements)
    }

    /// `lines`: the numbered lines from the document's first on.
    fn at<'t>(
        file: &str,
        line: usize,
        lines: impl Iterator<Item = (usize, &'t str)>,
        statements: usize,
    ) -> Self {
        let statements = lines
            .filter(|(_, l)| {
                let t = l
                    .trim_start()
                    .trim_start_matches(['"', '\\', '\'', '{', ' ', '-']);
                t.starts_with("Effect")
            })
            .map(|(n, _)| n)
            .take(statements)
            .collect();
        DocLocation {
            file: file.to_owned(),
            line,
            statements,
        }
    }
}

/// The lines of `text` from 1-based line `from` on, with their 1-based
/// numbers (as [`Lines::from`], without splitting the rest of the text).
fn numbered(text: &str, from: usize) -> impl Iterator<Item = (usize, &str)> {
    let from = from.max(1);
    text.lines()
        .enumerate()
        .skip(from - 1)
        .map(|(n, l)| (n + 1, l))
}

/// The number of the first of the numbered `lines` that, trimmed, starts with `prefix`.
fn first_starting<'t>(
    mut lines: impl Iterator<Item = (usize, &'t str)>,
    prefix: &str,
) -> Option<usize> {
    lines
        .find(|(_, l)| l.trim_start().starts_with(prefix))
        .map(|(n, _)| n)
}

/// The 1-based line of the first line at or after `from` (1-based) that, trimmed,
/// starts with `prefix`.
pub fn line_starting(text: &str, from: usize, prefix: &str) -> Option<usize> {
    first_starting(numbered(text, from), prefix)
}

/// A text split into lines once, for the many line lookups of one file (a
/// storage template is looked up again for each of its accounts).
pub struct Lines<'t>(Vec<&'t str>);

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        Lines(text.lines().collect())
    }

    /// [`line_starting`] in these lines.
    pub fn starting(&self, from: usize, prefix: &str) -> Option<usize> {
        first_starting(self.from(from), prefix)
    }

    /// Every line, in order (index 0 is line 1).
    pub fn all(&self) -> &[&'t str] {
        &self.0
    }

    /// The 1-based line `n`.
    pub fn get(&self, n: usize) -> Option<&'t str> {
        self.0.get(n.checked_sub(1)?).copied()
    }

    /// The lines from 1-based line `from` on, with their 1-based numbers.
    pub fn from(&self, from: usize) -> impl Iterator<Item = (usize, &'t str)> + '_ {
        let from = from.max(1);
        self.0
            .iter()
            .enumerate()
            .skip(from - 1)
            .map(|(n, l)| (n + 1, *l))
    }
}

impl Input {
    /// The documents [`Documents::build`] makes for `env`, with the same names
    /// as the files under `generated/<env>/policies/`.
    pub fn from_env(env: &Environment) -> Self {
        let d = Documents::build(env);
        let primary = env.primary_account.as_str();
        let name = |f: &str| format!("policies/{f}");
        let mk = |f: &str, acct: &str, doc: &PolicyDocument| Doc {
            name: name(f),
            account: acct.to_owned(),
            doc: doc.clone(),
        };
        let storage = env
            .storage_accounts
            .iter()
            .map(|a| StorageAccount {
                account: a.clone(),
                trust: Some(mk("s3-bucket-manager-trust.json", a, &d.storage_trust)),
                management: Some(mk(
                    "s3-bucket-management-policy.json",
                    a,
                    &d.storage_management,
                )),
            })
            .collect();
        Input {
            expect: Expect::from_env(env),
            lambda_trust: Some(mk("lambda-execution-trust.json", primary, &d.lambda_trust)),
            lambda_execution: Some(mk(
                "lambda-execution-policy.json",
                primary,
                &d.lambda_execution,
            )),
            storage,
            bucket_policies: vec![
                BucketPolicy {
                    bucket: env.phr.bucket.clone(),
                    doc: mk(
                        "phr-bucket-policy.json",
                        &env.phr.account,
                        &d.phr_bucket_policy,
                    ),
                    readers_required: true,
                },
                BucketPolicy {
                    bucket: documents::example_bucket(env),
                    doc: mk(
                        "customer-bucket-policy.json",
                        env.storage_accounts.first().map_or(primary, String::as_str),
                        &d.customer_bucket_policy,
                    ),
                    readers_required: true,
                },
                BucketPolicy {
                    bucket: env.phr.log_bucket.clone(),
                    doc: mk(
                        "log-bucket-policy.json",
                        &env.phr.account,
                        &d.log_bucket_policy,
                    ),
                    readers_required: false,
                },
            ],
            function_url_policy: Some(mk(
                "function-url-policy.json",
                primary,
                &d.function_url_policy,
            )),
            function_url_auth: Vec::new(),
            kms_key_policy: d
                .kms_key_policy
                .as_ref()
                .map(|k| mk(documents::KMS_KEY_POLICY_FILE, primary, k)),
            other_docs: vec![
                mk("deployer-policy.json", primary, &d.deployer),
                mk(
                    "lambda-execution-boundary.json",
                    primary,
                    &d.execution_boundary,
                ),
            ],
            ..Input::default()
        }
    }

    /// `(file, line)` of statement `idx` of the document named `name` (or of
    /// the document itself), when it was read from a file.
    pub fn location(&self, name: &str, idx: Option<usize>) -> (Option<String>, Option<usize>) {
        match self.locations.get(name) {
            Some(l) => (
                Some(l.file.clone()),
                Some(
                    idx.and_then(|i| l.statements.get(i).copied())
                        .unwrap_or(l.line),
                ),
            ),
            None => (None, None),
        }
    }

    /// Fills `file`/`line` of findings that cite a statement of a located
    /// document, or whose message starts with a located source (`<source>: ...`).
    pub fn locate(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut().filter(|f| f.file.is_none()) {
            if let Some(st) = &f.statement {
                (f.file, f.line) = self.location(&st.document, Some(st.index));
            } else if let Some((_, (file, line))) = self
                .sources
                .iter()
                .find(|(src, _)| f.message.starts_with(&format!("{src}: ")))
            {
                f.file = Some(file.clone());
                f.line = *line;
            } else if let Some(b) = self.bucket_policies.iter().find(|b| {
                f.resource == b.bucket || f.resource == crate::contract::bucket_arn(&b.bucket)
            }) && self.locations.contains_key(&b.doc.name)
            {
                // A bucket policy's missing statement (no TLS deny): the policy's line.
                (f.file, f.line) = self.location(&b.doc.name, None);
            } else if let Some((_, l)) = self
                .locations
                .iter()
                .filter(|(name, _)| f.message.contains(name.as_str()))
                .max_by_key(|(name, _)| name.len())
            {
                // A decision that names its document in the message ("no statement
                // of <doc> allows it", "review <doc> by hand"): the document's line.
                f.file = Some(l.file.clone());
                f.line = Some(l.line);
            }
        }
    }

    /// Adds rendered files: scanned for secrets, and for the function URL's auth type.
    pub fn add_texts(&mut self, texts: Vec<(String, String)>) {
        self.texts.extend(texts);
    }

    /// Every document, for the structural checks.
    pub fn all_docs(&self) -> Vec<&Doc> {
        let mut v: Vec<&Doc> = Vec::new();
        v.extend(self.lambda_trust.iter());
        v.extend(self.lambda_execution.iter());
        // Storage documents are usually identical: check each distinct one once.
        let mut seen: Vec<&PolicyDocument> = Vec::new();
        for s in &self.storage {
            for d in [&s.trust, &s.management].into_iter().flatten() {
                if !seen.contains(&&d.doc) {
                    seen.push(&d.doc);
                    v.push(d);
                }
            }
        }
        v.extend(self.bucket_policies.iter().map(|b| &b.doc));
        v.extend(self.function_url_policy.iter());
        v.extend(self.kms_key_policy.iter());
        v.extend(self.other_docs.iter());
        v
    }

    /// Every document with the rendered document it stands for: the
    /// dedicated fields by their role, a bucket policy by its bucket (PHR,
    /// log, else a customer bucket), `other_docs` by [`Input::kinds`] or by
    /// their `policies/` file name. Documents of no rendered kind (a role
    /// xacct does not render) get the structural checks only.
    pub fn kinds_of(&self) -> Vec<(DocKind, &Doc)> {
        let mut v: Vec<(DocKind, &Doc)> = Vec::new();
        v.extend(self.lambda_trust.iter().map(|d| (DocKind::LambdaTrust, d)));
        v.extend(
            self.lambda_execution
                .iter()
                .map(|d| (DocKind::LambdaExecution, d)),
        );
        for s in &self.storage {
            v.extend(s.trust.iter().map(|d| (DocKind::StorageTrust, d)));
            v.extend(s.management.iter().map(|d| (DocKind::StorageManagement, d)));
        }
        let log_bucket = crate::model::log_bucket_name(&self.expect.phr_bucket);
        for b in &self.bucket_policies {
            let kind = if b.bucket == self.expect.phr_bucket {
                DocKind::PhrBucketPolicy
            } else if b.bucket == log_bucket {
                DocKind::LogBucketPolicy
            } else {
                DocKind::CustomerBucketPolicy
            };
            v.push((kind, &b.doc));
        }
        v.extend(
            self.function_url_policy
                .iter()
                .map(|d| (DocKind::FunctionUrlPolicy, d)),
        );
        v.extend(
            self.kms_key_policy
                .iter()
                .map(|d| (DocKind::KmsKeyPolicy, d)),
        );
        for d in &self.other_docs {
            let file = d.name.rsplit('/').next().unwrap_or(&d.name);
            let kind = self.kinds.get(&d.name).copied().or_else(|| {
                ALL_KINDS
                    .iter()
                    .copied()
                    .find(|k| d.name.starts_with("policies/") && k.file() == file)
            });
            if let Some(k) = kind {
                v.push((k, d));
            }
        }
        v
    }

    /// The storage account entry, created on first use. Searched from the
    /// end: readers fill one account's documents one after the other.
    pub fn storage_mut(&mut self, account: &str) -> &mut StorageAccount {
        if let Some(i) = self.storage.iter().rposition(|s| s.account == account) {
            return &mut self.storage[i];
        }
        self.storage.push(StorageAccount {
            account: account.to_owned(),
            trust: None,
            management: None,
        });
        self.storage.last_mut().expect("just pushed")
    }
}

/// Function URL auth types set in Terraform (`authorization_type`,
/// `function_url_auth_type`) or CloudFormation (`AuthType`, `FunctionUrlAuthType`) text.
pub fn function_url_auth_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('#') || l.starts_with("//") {
            continue;
        }
        let Some((k, v)) = l.split_once('=').or_else(|| l.split_once(':')) else {
            continue;
        };
        let key = k.trim().trim_matches('"');
        if matches!(
            key,
            "authorization_type" | "function_url_auth_type" | "AuthType" | "FunctionUrlAuthType"
        ) {
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'' || c == ',');
            if !v.is_empty() && v.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                out.push(v.to_owned());
            }
        }
    }
    out
}
