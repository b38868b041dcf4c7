//! The live verifier: reads what is deployed, compares it with what
//! [`Documents::build`] renders, evaluates the live documents with the audit's
//! evaluator, and walks the trust chain for real.
//!
//! Knows nothing about clap: [`run`] takes an [`Environment`] and [`Options`]
//! and returns a [`Report`]. An AWS failure never aborts the run: it becomes a
//! finding for the account it happened in, and the other accounts go on. A
//! local setup problem (no connection, rejected credentials: the first call,
//! `sts:GetCallerIdentity`, tells) is not a finding: the run stops with a
//! [`SetupError`](crate::aws::SetupError) (exit 2).

pub use crate::checks::verify as checks;
pub mod diff;
pub mod judge;
pub mod primary;
pub mod quota;
pub mod report;
pub mod settings;
pub mod shared;
pub mod storage;

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::audit::{self, Check, Finding, Severity, StatementInfo};
use crate::iam::documents::Documents;
use crate::iam::{PolicyDocument, Statement};
use crate::model::Environment;

use crate::aws;
pub use crate::aws::{Aws, Target};
use crate::progress::Event;

/// Storage accounts checked at the same time by default.
///
/// One storage account costs 5 requests (audit `AssumeRole`, then
/// `GetAccountAuthorizationDetails` and `GetServiceQuota` together; at the
/// same time the chain's `AssumeRole` + `ListBuckets`), about 3 sequential
/// round trips. With 64 in flight, 100 accounts are 2 waves against AWS. The
/// requests of one account go to that account's IAM, S3 and Service Quotas
/// (per-account rate limits); only the `AssumeRole` calls share the
/// verifier's and the Lambda role's STS endpoint, at most 128 in flight,
/// well below STS's per-account request rate. Raise it with `--concurrency`
/// (up to 256) for very large fleets; lower it for a slow emulator.
pub const DEFAULT_CONCURRENCY: u16 = 64;

/// What to verify and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// Create, configure, check and delete a canary bucket in every storage account.
    pub canary: bool,
    /// Storage accounts checked at the same time.
    pub concurrency: usize,
    /// Read-only role assumed in each storage account to read its IAM.
    pub audit_role: String,
    /// Where progress events go (`cmd` renders them; the library never prints).
    pub progress: crate::progress::Progress,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: Target::default(),
            canary: false,
            concurrency: usize::from(DEFAULT_CONCURRENCY),
            audit_role: crate::contract::DEFAULT_BOOTSTRAP_ROLE.to_owned(),
            progress: crate::progress::Progress::none(),
        }
    }
}

/// How the live trust chain was exercised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainPath {
    /// The verifier assumed the Lambda execution role and, from it, each storage role.
    Direct,
    /// The verifier may not assume the Lambda role: the Lambda's self-test was invoked.
    SelfTest,
    /// The chain was not exercised (the primary account could not be reached).
    None,
}

/// One account's line in the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    pub account: String,
    /// `primary` or `storage`.
    pub kind: &'static str,
    pub reachable: bool,
    /// The storage role could be assumed through the chain.
    pub chain_ok: Option<bool>,
    /// Buckets with the customer prefix (capacity is counted against these).
    pub prefix_buckets: Option<u64>,
    /// All buckets of the account (counted against the S3 quota).
    pub total_buckets: Option<u64>,
    /// `max_buckets_per_account` minus prefix buckets.
    pub headroom: Option<i64>,
    /// The account's S3 bucket quota, and where that figure came from.
    pub s3_bucket_quota: Option<u64>,
    pub quota_source: Option<quota::QuotaSource>,
    /// The canary bucket round trip succeeded.
    pub canary: Option<bool>,
    /// The account's capacity counter in the provisioning-state table.
    pub capacity_counter: Option<u64>,
    /// Findings about this account (the findings themselves are in the report's `findings`).
    #[serde(rename = "finding_count")]
    pub findings: usize,
    pub worst: Option<Severity>,
}

impl AccountSummary {
    fn new(account: &str, kind: &'static str) -> Self {
        AccountSummary {
            account: account.to_owned(),
            kind,
            reachable: false,
            chain_ok: None,
            prefix_buckets: None,
            total_buckets: None,
            headroom: None,
            s3_bucket_quota: None,
            quota_source: None,
            canary: None,
            capacity_counter: None,
            findings: 0,
            worst: None,
        }
    }
}

/// Everything one run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub environment: String,
    pub caller: Option<String>,
    pub chain_path: ChainPath,
    pub accounts: Vec<AccountSummary>,
    pub findings: Vec<Finding>,
}

impl Report {
    /// The highest severity found.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Builds a finding of a verifier check.
pub fn finding(
    check: Check,
    account: &str,
    resource: &str,
    message: impl Into<String>,
    statement: Option<StatementInfo>,
) -> Finding {
    Finding {
        check_id: check.id,
        severity: check.severity,
        account: account.to_owned(),
        resource: resource.to_owned(),
        message: message.into(),
        statement,
        file: None,
        line: None,
        counterexample: None,
    }
}

fn statement_info(document: &str, doc: &PolicyDocument, index: usize) -> Option<StatementInfo> {
    let st: &Statement = doc.statement.get(index)?;
    Some(StatementInfo {
        document: document.to_owned(),
        index,
        sid: st.sid.clone(),
        json: serde_json::to_value(st).unwrap_or_default(),
    })
}

/// Semantic diff of a live document against the rendered one, one finding per
/// differing statement (extra statements cite the live statement, missing ones
/// the rendered statement).
#[allow(clippy::too_many_arguments)]
pub fn diff_findings(
    check: Check,
    account: &str,
    resource: &str,
    what: &str,
    rendered_name: &str,
    expected: &PolicyDocument,
    live_name: &str,
    live: &PolicyDocument,
) -> Vec<Finding> {
    diff::diff(expected, live)
        .into_iter()
        .map(|d| match d {
            diff::Difference::Extra(i) => finding(
                check,
                account,
                resource,
                format!("{what}: live statement #{i} is not in the rendered document (widened or changed)"),
                statement_info(live_name, live, i),
            ),
            diff::Difference::Missing(j) => finding(
                check,
                account,
                resource,
                format!("{what}: rendered statement #{j} is missing live (narrowed or changed)"),
                statement_info(rendered_name, expected, j),
            ),
        })
        .collect()
}

/// Counts accounts as they are read and reports each one.
#[derive(Clone)]
struct Counter {
    sink: crate::progress::Progress,
    done: Arc<std::sync::atomic::AtomicU64>,
    total: u64,
}

impl Counter {
    fn done(&self, s: &AccountSummary) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.sink.emit(&Event::AccountRead {
            kind: s.kind,
            account: s.account.clone(),
            done,
            total: self.total,
        });
    }
}

/// Shared, read-only state of one run.
pub struct Ctx {
    pub env: Environment,
    pub docs: Documents,
    pub opts: Options,
    /// `GetAWSDefaultServiceQuota` for S3 buckets, asked at most once per run.
    pub quota_default: tokio::sync::OnceCell<Option<u64>>,
}

/// The verifier's storage checks for one account (IAM through the audit role,
/// no chain, no primary checks): what `onboard --apply` runs after the stack.
pub async fn storage_account(
    env: &Environment,
    base: &Aws,
    audit_role: &str,
    account: &str,
) -> Vec<Finding> {
    let ctx = Ctx {
        env: env.clone(),
        docs: Documents::build(env),
        opts: Options {
            audit_role: audit_role.to_owned(),
            ..Options::default()
        },
        quota_default: Default::default(),
    };
    storage::check(&ctx, base, None, account).await.findings
}

/// Verifies one environment.
pub async fn run(env: &Environment, opts: &Options) -> Result<Report, crate::aws::SetupError> {
    let aws = Aws::load(&opts.target, &env.region).await;
    run_with(env, opts, aws).await
}

/// [`run`] with an already loaded configuration.
pub async fn run_with(
    env: &Environment,
    opts: &Options,
    aws: Aws,
) -> Result<Report, crate::aws::SetupError> {
    run_chain_with(env, opts, aws, None).await
}

/// [`run_with`], with the Lambda execution role's session supplied by the
/// caller instead of assumed by the verifier (`None`: assume it). Used where
/// the first hop cannot be exercised, e.g. emulators that cannot evaluate a
/// trust policy with a service principal.
pub async fn run_chain_with(
    env: &Environment,
    opts: &Options,
    aws: Aws,
    lambda_session: Option<Aws>,
) -> Result<Report, crate::aws::SetupError> {
    let ctx = Arc::new(Ctx {
        env: env.clone(),
        docs: Documents::build(env),
        opts: opts.clone(),
        quota_default: tokio::sync::OnceCell::new(),
    });
    let mut report = Report {
        environment: env.name.clone(),
        caller: None,
        chain_path: ChainPath::None,
        accounts: Vec::new(),
        findings: Vec::new(),
    };
    let primary_acct = env.primary_account.clone();

    // 1. Who are we?
    match aws.sts().get_caller_identity().send().await {
        Ok(id) => {
            report.caller = id.arn().map(str::to_owned);
            let acct = id.account().unwrap_or_default();
            if acct != primary_acct {
                report.findings.push(finding(
                    checks::CALLER,
                    &primary_acct,
                    report.caller.as_deref().unwrap_or("caller"),
                    format!(
                        "the credentials belong to account {acct}, not the primary account {primary_acct} of {}: nothing else was checked",
                        env.name
                    ),
                    None,
                ));
                return Ok(finish(report));
            }
        }
        Err(e) => {
            // No connection, rejected credentials: the operator's to fix, exit 2.
            if let Some(problem) = aws::caller_identity_problem(&e, &opts.target) {
                return Err(problem);
            }
            report.findings.push(finding(
                checks::PRIMARY_UNREACHABLE,
                &primary_acct,
                "sts:GetCallerIdentity",
                format!(
                    "cannot determine the caller identity: {}",
                    aws::describe(&e)
                ),
                None,
            ));
            let mut s = AccountSummary::new(&primary_acct, "primary");
            s.findings = 1;
            s.worst = Some(checks::PRIMARY_UNREACHABLE.severity);
            report.accounts.push(s);
            return Ok(finish(report));
        }
    }

    // 2. The trust chain's first hop: may the verifier act as the Lambda?
    let lambda = match lambda_session {
        Some(l) => Ok(l),
        None => aws.assume(&env.lambda_role_arn(), None).await,
    };
    let (lambda, path) = match lambda {
        Ok(l) => (Some(l), ChainPath::Direct),
        Err(e) => {
            report.findings.push(finding(
                checks::SELF_TEST_PATH,
                &primary_acct,
                &env.lambda_role_arn(),
                format!(
                    "the verifier may not assume the Lambda execution role ({e}); the trust chain is checked through the Lambda's self-test instead (add the verifier to access.verifier_principals to walk it directly){}",
                    if opts.canary { "; the canary needs the direct path and was skipped" } else { "" }
                ),
                None,
            ));
            (None, ChainPath::SelfTest)
        }
    };
    report.chain_path = path;

    let total = env.storage_accounts.len() as u64 + 1;
    let progress = Counter {
        sink: opts.progress.clone(),
        done: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        total,
    };
    progress.sink.emit(&Event::Started { total });

    // 3. Primary account and every storage account, concurrently.
    let primary_task = {
        let ctx = ctx.clone();
        let aws = aws.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let r = primary::check(&ctx, &aws).await;
            progress.done(&r.summary);
            r
        })
    };
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, acct) in env.storage_accounts.iter().enumerate() {
        let ctx = ctx.clone();
        let aws = aws.clone();
        let lambda = lambda.clone();
        let sem = sem.clone();
        let acct = acct.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            let r = storage::check(&ctx, &aws, lambda.as_ref(), &acct).await;
            progress.done(&r.summary);
            (i, r)
        });
    }
    let mut results: Vec<Option<storage::Result>> =
        (0..env.storage_accounts.len()).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => results[i] = Some(r),
            Err(e) => report.findings.push(finding(
                checks::STORAGE_UNREACHABLE,
                "?",
                "verifier task",
                format!("a storage account check stopped unexpectedly: {e}"),
                None,
            )),
        }
    }
    let mut primary = match primary_task.await {
        Ok(p) => p,
        Err(e) => {
            let mut p = primary::Result::empty(&primary_acct);
            p.findings.push(finding(
                checks::PRIMARY_UNREACHABLE,
                &primary_acct,
                "verifier task",
                format!("the primary account check stopped unexpectedly: {e}"),
                None,
            ));
            p
        }
    };

    // 4. Self-test path: one invocation reports every storage account. A
    // verifier that may not read the function's configuration may still be
    // allowed to invoke it: only a function known to be absent is skipped.
    let mut storage: Vec<storage::Result> = results.into_iter().flatten().collect();
    if path == ChainPath::SelfTest && !primary.function_missing {
        let st = primary::self_test(&ctx, &aws).await;
        storage::apply_self_test(&ctx, &mut storage, st, &mut report.findings);
    }

    // 4b. The capacity counters (state table, primary account) against the
    // listings: one BatchGetItem and one Scan of the `creating` records.
    let table = aws::state::Table::new(&aws, &env.region, &env.state_table_name());
    match table.read(&env.storage_accounts).await {
        Ok(state) => {
            for r in &mut storage {
                let acct = r.summary.account.clone();
                r.summary.capacity_counter = state.counters.get(&acct).map(|c| c.count as u64);
                let Some(listed) = r.summary.prefix_buckets else {
                    continue;
                };
                if let Some(d) = state.drift(&acct, listed)
                    && d.excess() != 0
                {
                    r.findings.push(finding(
                        checks::CAPACITY_DRIFT,
                        &acct,
                        &format!("{} {}", table.name(), crate::contract::state::counter_key(&acct)),
                        format!(
                            "the capacity counter says {} bucket(s), the account lists {listed} customer bucket(s) ({} create(s) in flight): buckets were {} by hand; run `xacct capacity --env <spec> --reconcile`",
                            d.counter,
                            d.in_flight,
                            if d.excess() > 0 { "deleted" } else { "created" }
                        ),
                        None,
                    ));
                }
            }
        }
        Err(e) => report.findings.push(finding(
            checks::STATE_TABLE,
            &primary_acct,
            table.name(),
            format!(
                "cannot read the capacity counters: {e}; the table is rendered with the primary stack (`xacct render`), and the verifier needs dynamodb:BatchGetItem and dynamodb:Scan on it"
            ),
            None,
        )),
    }

    // 4c. The state table's settings (point-in-time recovery, deletion
    // protection, encryption) for the floor below.
    let mut live_settings = std::mem::take(&mut primary.settings);
    match table.settings().await {
        Ok((arn, values)) => live_settings.extend(crate::audit::settings::live(
            "aws_dynamodb_table",
            &primary_acct,
            &arn,
            &values,
        )),
        Err(e) => report.findings.push(finding(
            checks::STATE_TABLE,
            &primary_acct,
            table.name(),
            format!(
                "cannot read the table's settings: {e}; the verifier needs dynamodb:DescribeTable and dynamodb:DescribeContinuousBackups on it"
            ),
            None,
        )),
    }

    // 5. The audit's evaluator over the live documents, under the live
    // organization (its SCPs and RCPs, its accounts as the zone of trust),
    // and every live setting against the render (the floor).
    match settings::floor(env) {
        Ok(floor) => report
            .findings
            .extend(settings::judge(&floor, &live_settings)),
        Err(e) => report.findings.push(finding(
            crate::audit::UNDECIDED,
            &primary_acct,
            &env.short_name,
            format!(
                "cannot render the environment to compare the live settings with: {e}; run `xacct render --env <spec>` to see why"
            ),
            None,
        )),
    }
    let mut live = live_input(&ctx, &primary, &storage);
    let org = live_org(env, &aws, &mut report.findings).await;
    if let Some(s) = &org {
        live.expect = live.expect.clone().with_org(s);
    }
    let mut audited = audit::run_with_rendered(&live, &ctx.docs);
    if let Some(s) = &org {
        crate::org::guardrails::annotate(s, &mut audited);
        audited.extend(crate::org::guardrails::check(
            &live,
            s,
            "the live organization",
        ));
    }
    for mut f in audited {
        f.message = format!("live: {}", f.message);
        report.findings.push(f);
    }

    report.findings.extend(primary.findings);
    report.accounts.push(primary.summary);
    for s in storage {
        report.findings.extend(s.findings);
        report.accounts.push(s.summary);
    }
    let report = finish(report);
    opts.progress.emit(&Event::Finished {
        accounts: report
            .accounts
            .iter()
            .map(|a| (a.kind, a.account.clone(), a.findings))
            .collect(),
    });
    Ok(report)
}

/// The live organization around the environment (Organizations API, the
/// caller's credentials), or `None` with a finding when it cannot be read:
/// XV060 when the caller may not read it (the permission it needs), XV061 when
/// the spec names an organization and the caller's account is in none.
async fn live_org(
    env: &Environment,
    aws: &Aws,
    findings: &mut Vec<Finding>,
) -> Option<crate::org::Snapshot> {
    let accounts = audit::input::env_accounts(env);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    match crate::org::live::read(&aws.organizations(), &accounts, &crate::org::rfc3339(now)).await {
        Ok(s) => Some(s),
        Err(crate::org::live::OrgReadError::NotInOrganization(m)) => {
            if let Some(o) = &env.organization_id {
                findings.push(finding(
                    checks::ORG_ABSENT,
                    &env.primary_account,
                    o,
                    format!(
                        "the spec names organization {o}, but the caller's account is in no organization ({m}): SCPs, RCPs and the organization's zone of trust were not checked"
                    ),
                    None,
                ));
            }
            None
        }
        Err(e) => {
            findings.push(finding(
                checks::ORG_UNREADABLE,
                &env.primary_account,
                "organizations:DescribeOrganization",
                format!(
                    "setup: cannot read the organization, so its SCPs and RCPs were not evaluated and the zone of trust is the environment's accounts only: {e}; grant the verifier {}",
                    crate::org::live::READ_PERMISSIONS
                ),
                None,
            ));
            None
        }
    }
}

/// Sorts findings (severity, check, account), dedups, and fills in per-account counts.
fn finish(mut report: Report) -> Report {
    report.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.check_id.cmp(b.check_id))
            .then(a.account.cmp(&b.account))
            .then(a.resource.cmp(&b.resource))
    });
    report.findings.dedup();
    for s in &mut report.accounts {
        let mine: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.account == s.account)
            .collect();
        s.findings = mine.len();
        s.worst = mine.iter().map(|f| f.severity).max();
    }
    report
}

/// The live documents as an audit input: the same named checks the offline
/// audit runs on rendered documents, now on what AWS returned.
fn live_input(ctx: &Ctx, p: &primary::Result, storage: &[storage::Result]) -> audit::Input {
    use audit::input::{BucketPolicy, Doc, StorageAccount};
    let env = &ctx.env;
    let doc = |name: &str, acct: &str, d: &Option<PolicyDocument>| {
        d.as_ref().map(|d| Doc {
            name: name.to_owned(),
            account: acct.to_owned(),
            doc: d.clone(),
        })
    };
    let primary = env.primary_account.as_str();
    let mut bucket_policies = Vec::new();
    let phr_live = p
        .phr_policy
        .clone()
        .or_else(|| storage.iter().find_map(|s| s.phr_policy.clone()));
    if let Some(d) = doc(
        &format!("live:s3:{}/policy", env.phr.bucket),
        &env.phr.account,
        &phr_live,
    ) {
        bucket_policies.push(BucketPolicy {
            bucket: env.phr.bucket.clone(),
            doc: d,
            readers_required: true,
        });
    }
    let log_live = p
        .log_bucket_policy
        .clone()
        .or_else(|| storage.iter().find_map(|s| s.log_bucket_policy.clone()));
    if let Some(d) = doc(
        &format!("live:s3:{}/policy", env.phr.log_bucket),
        &env.phr.account,
        &log_live,
    ) {
        bucket_policies.push(BucketPolicy {
            bucket: env.phr.log_bucket.clone(),
            doc: d,
            readers_required: false,
        });
    }
    // The boundary is judged as the rendered boundary (no new access), like
    // the same document read from a plan.
    let boundary_name = format!("live:{}", env.boundary_policy_arn());
    let other_docs: Vec<Doc> = doc(&boundary_name, primary, &p.boundary)
        .into_iter()
        .collect();
    let kinds = other_docs
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                crate::iam::documents::DocKind::ExecutionBoundary,
            )
        })
        .collect();
    audit::Input {
        expect: audit::Expect::from_env(env),
        lambda_trust: doc(
            &format!("live:{}#trust", env.lambda_role_arn()),
            primary,
            &p.lambda_trust,
        ),
        lambda_execution: doc(
            &format!("live:{}#inline", env.lambda_role_arn()),
            primary,
            &p.lambda_execution,
        ),
        storage: storage
            .iter()
            .filter(|s| s.trust.is_some() || s.management.is_some())
            .map(|s| StorageAccount {
                account: s.summary.account.clone(),
                trust: doc(
                    &format!(
                        "live:{}#trust",
                        crate::contract::storage_role_arn(&s.summary.account)
                    ),
                    &s.summary.account,
                    &s.trust,
                ),
                management: doc(
                    &format!(
                        "live:arn:aws:iam::{}:policy/{}",
                        s.summary.account,
                        crate::contract::STORAGE_POLICY_NAME
                    ),
                    &s.summary.account,
                    &s.management,
                ),
            })
            .collect(),
        bucket_policies,
        function_url_policy: doc(
            &format!("live:{}#policy", env.function_arn()),
            primary,
            &p.function_policy,
        ),
        kms_key_policy: doc(
            &format!("live:{}:kms:alias/policy", env.primary_account),
            primary,
            &p.kms_key_policy,
        ),
        other_docs,
        kinds,
        ..audit::Input::default()
    }
}

/// A role whose live trust policy is compared with the rendered one.
pub(crate) struct RoleTrust<'a> {
    /// Check reported when the trust differs or does not parse.
    pub trust_check: Check,
    /// Check reported when the role cannot be read.
    pub missing_check: Check,
    pub account: &'a str,
    pub role_name: &'a str,
    pub role_arn: &'a str,
    /// How messages name the role, e.g. `execution role s3-...-execution`.
    pub label: String,
    pub title: &'a str,
    pub rendered_file: &'a str,
    pub rendered: &'a PolicyDocument,
}

/// Reads a role and diffs its trust against the rendered document, pushing
/// findings. `None`: the role could not be read (nothing more to check);
/// `Some(doc)`: the role exists, `doc` is its parsed trust when it parses.
pub(crate) async fn read_role_trust(
    iam: &aws_sdk_iam::Client,
    t: RoleTrust<'_>,
    findings: &mut Vec<crate::audit::Finding>,
) -> Option<Option<PolicyDocument>> {
    match iam.get_role().role_name(t.role_name).send().await {
        Ok(out) => {
            let text = out
                .role()
                .and_then(|r| r.assume_role_policy_document())
                .unwrap_or_default();
            Some(trust_findings(t, text, findings))
        }
        Err(e) => {
            let msg = if aws::code(&e) == Some("NoSuchEntity") {
                format!("{} does not exist", t.label)
            } else {
                format!("cannot read {}: {}", t.label, aws::describe(&e))
            };
            findings.push(finding(t.missing_check, t.account, t.role_arn, msg, None));
            None
        }
    }
}

/// Diffs a role's live trust policy `text` (JSON, or URL-encoded JSON as IAM
/// sends it) against the rendered one, pushing findings; the parsed document
/// when it parses.
pub(crate) fn trust_findings(
    t: RoleTrust<'_>,
    text: &str,
    findings: &mut Vec<crate::audit::Finding>,
) -> Option<PolicyDocument> {
    match diff::parse_live(text) {
        Ok(doc) => {
            findings.extend(diff_findings(
                t.trust_check,
                t.account,
                t.role_arn,
                t.title,
                t.rendered_file,
                t.rendered,
                &format!("live:{}#trust", t.role_arn),
                &doc,
            ));
            Some(doc)
        }
        Err(e) => {
            findings.push(finding(
                t.trust_check,
                t.account,
                t.role_arn,
                format!("the trust policy does not parse: {e}"),
                None,
            ));
            None
        }
    }
}
