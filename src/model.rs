//! The validated environment: the one place a spec file is read and checked.
//! Everything downstream (IAM documents, rendering, audit, verify, onboard)
//! takes an [`Environment`] and trusts it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::contract;
use crate::spec::Spec;

/// S3's default bucket quota per account (raised from 100 in Nov 2024).
pub const S3_DEFAULT_BUCKET_QUOTA: u32 = 10_000;
/// The highest quota S3 grants on request.
pub const S3_MAX_BUCKET_QUOTA: u32 = 1_000_000;
/// Default capacity warning threshold, percent of `max_buckets_per_account`.
pub use crate::contract::DEFAULT_WARN_PERCENT;

const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One broken rule: which file, which field, what rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub field: String,
    pub rule: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{level}: {}: `{}`: {}",
            self.file.display(),
            self.field,
            self.rule
        )
    }
}

/// Why a spec could not become an [`Environment`].
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read environment spec `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("environment spec `{}` is not valid TOML for xacct: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("environment spec `{}` is invalid:\n{}", path.display(), list(.diagnostics))]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
}

fn list(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the PHR bucket lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhrLocation {
    Primary,
    Storage,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phr {
    pub account: String,
    pub bucket: String,
    pub location: PhrLocation,
    pub legacy_access_keys: bool,
    /// The environment's log bucket (server access logs of the PHR bucket), in
    /// the PHR bucket's account: [`log_bucket_name`].
    pub log_bucket: String,
    pub access_log_retention_days: u32,
    pub noncurrent_version_days: u32,
}

/// Default retention of the PHR bucket's server access logs (days).
pub const DEFAULT_ACCESS_LOG_DAYS: u32 = 365;
/// Default life of a noncurrent PHR object version (days).
pub const DEFAULT_NONCURRENT_DAYS: u32 = 90;
/// Days after which an incomplete multipart upload to the PHR bucket is aborted.
pub const ABORT_MULTIPART_DAYS: u32 = 7;
/// Key prefix of the server access logs in the log bucket.
pub const ACCESS_LOG_PREFIX: &str = "s3-access/";

/// `<phr bucket>-logs`, the PHR bucket's name cut so the result fits 63 characters.
pub fn log_bucket_name(phr_bucket: &str) -> String {
    let keep = contract::BUCKET_NAME_MAX - "-logs".len();
    let base: String = phr_bucket.chars().take(keep).collect();
    format!("{}-logs", base.trim_end_matches(['-', '.']))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lambda {
    pub function_name: String,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    pub log_retention_days: u32,
    pub ops_topic_arn: Option<String>,
    /// Reserved concurrency: the most instances the function may run at once,
    /// also guaranteed to it (a runaway caller cannot starve the account).
    pub reserved_concurrency: u32,
}

/// Default reserved concurrency. Seed 000's traffic is customer onboarding: a
/// request per new customer (a few a day; a batch import at most a few hundred
/// in a row), each answered in well under a second (warm) to a few seconds
/// (cold, new bucket). 10 concurrent instances serve ~10-50 requests a second,
/// orders of magnitude above that, and leave the rest of the account's
/// concurrency to everything else.
pub const DEFAULT_RESERVED_CONCURRENCY: u32 = 10;

/// Opt-in defense-in-depth controls of the primary account (`[security]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Security {
    /// A customer-managed KMS key (rotation on) for the PHR bucket and the log group.
    pub kms_key: bool,
    /// A multi-region CloudTrail trail writing to the environment's log bucket.
    pub cloudtrail: bool,
    /// S3 Block Public Access for the whole primary account.
    pub primary_account_public_access_block: bool,
    /// Signer profile version ARN the function's code must be signed with.
    pub code_signing_profile_version_arn: Option<String>,
}

/// Key prefix of CloudTrail's log files in the log bucket.
pub const TRAIL_PREFIX: &str = "cloudtrail";

#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub expected_customers: u32,
    pub growth_factor: f64,
}

/// A validated environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// The spec file this came from.
    pub source: PathBuf,
    pub name: String,
    pub short_name: String,
    pub production: bool,
    pub region: String,
    pub primary_account: String,
    pub storage_accounts: Vec<String>,
    pub discover: bool,
    pub organization_id: Option<String>,
    pub max_buckets_per_account: u32,
    pub bucket_prefix: String,
    /// Where new customer buckets are created (`storage.bucket_namespace`).
    pub bucket_namespace: contract::BucketNamespace,
    pub external_id: Option<String>,
    pub bootstrap_role: String,
    pub capacity_warn_percent: u8,
    pub s3_bucket_quota: u32,
    pub allow_canary: bool,
    pub phr: Phr,
    pub lambda: Lambda,
    pub invokers: Vec<String>,
    pub readers: Vec<String>,
    pub verifiers: Vec<String>,
    pub deployers: Vec<String>,
    /// Principals outside the zone of trust accepted explicitly (`access.external_principals`).
    pub external_principals: Vec<ExternalPrincipal>,
    pub capacity: Option<Capacity>,
    pub security: Security,
}

/// A principal outside the zone of trust, accepted with a reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExternalPrincipal {
    pub principal: String,
    pub reason: String,
}

/// Options of [`Environment::load`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Turn capacity warnings into errors.
    pub strict: bool,
}

/// A validated environment plus the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub env: Environment,
    pub warnings: Vec<Diagnostic>,
}

impl Environment {
    /// Reads, parses and validates a spec file.
    pub fn load(path: &Path, opts: LoadOptions) -> Result<Loaded, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_str(path, &text, opts)
    }

    /// Parses and validates spec text; `path` is used in messages.
    pub fn from_str(path: &Path, text: &str, opts: LoadOptions) -> Result<Loaded, SpecError> {
        let spec: Spec = toml::from_str(text).map_err(|e| SpecError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        validate(path, spec, opts)
    }

    /// `<function>-execution`: the Lambda's execution role.
    pub fn lambda_role_name(&self) -> String {
        format!("{}-execution", self.lambda.function_name)
    }

    /// Managed policy used as the execution role's permissions boundary.
    pub fn boundary_policy_name(&self) -> String {
        format!("{}-boundary", self.lambda.function_name)
    }

    pub fn boundary_policy_arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:policy/{}",
            self.primary_account,
            self.boundary_policy_name()
        )
    }

    pub fn lambda_role_arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role/{}",
            self.primary_account,
            self.lambda_role_name()
        )
    }

    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.primary_account, self.lambda.function_name
        )
    }

    /// The provisioning-state table (DynamoDB, primary account, this region).
    pub fn state_table_name(&self) -> String {
        contract::state::table_name(&self.lambda.function_name)
    }

    pub fn state_table_arn(&self) -> String {
        contract::state::table_arn(
            &self.region,
            &self.primary_account,
            &self.state_table_name(),
        )
    }

    pub fn log_group_name(&self) -> String {
        format!("/aws/lambda/{}", self.lambda.function_name)
    }

    pub fn log_group_arn(&self) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{}",
            self.region,
            self.primary_account,
            self.log_group_name()
        )
    }

    /// The name of the primary stack (CloudFormation) and Terraform state key.
    pub fn primary_stack_name(&self) -> String {
        format!("xacct-{}-primary", self.short_name)
    }

    pub fn storage_stack_name(&self) -> String {
        format!("xacct-{}-storage", self.short_name)
    }

    /// `<function>-trail`: the optional CloudTrail trail (`security.cloudtrail`).
    pub fn trail_name(&self) -> String {
        format!("{}-trail", self.lambda.function_name)
    }

    pub fn trail_arn(&self) -> String {
        format!(
            "arn:aws:cloudtrail:{}:{}:trail/{}",
            self.region,
            self.primary_account,
            self.trail_name()
        )
    }

    /// `alias/<function>`: the alias of the optional customer-managed key.
    pub fn kms_alias(&self) -> String {
        format!("alias/{}", self.lambda.function_name)
    }

    pub fn phr_in_primary(&self) -> bool {
        self.phr.location == PhrLocation::Primary
    }

    /// Storage role ARNs, in spec order.
    pub fn storage_role_arns(&self) -> Vec<String> {
        self.storage_accounts
            .iter()
            .map(|a| contract::storage_role_arn(a))
            .collect()
    }

    /// The quota that bounds an account: the configured quota (default 10,000).
    pub fn quota_bound(&self) -> u32 {
        self.s3_bucket_quota
    }

    /// Storage accounts x `max_buckets_per_account`.
    pub fn total_capacity(&self) -> u64 {
        self.storage_accounts.len() as u64 * u64::from(self.max_buckets_per_account)
    }
}

struct Checker<'a> {
    file: &'a Path,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn push(&mut self, severity: Severity, field: impl Into<String>, rule: impl Into<String>) {
        self.diags.push(Diagnostic {
            severity,
            file: self.file.to_owned(),
            field: field.into(),
            rule: rule.into(),
        });
    }

    fn error(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.push(Severity::Error, field, rule);
    }

    fn account(&mut self, field: &str, value: &str) {
        if !is_account_id(value) {
            self.error(
                field,
                format!("AWS account IDs are exactly 12 digits (got {value:?})"),
            );
        }
    }

    fn principals(&mut self, field: &str, values: &[String], required: bool) {
        if required && values.is_empty() {
            self.error(field, "at least one principal ARN is required");
        }
        for (i, p) in values.iter().enumerate() {
            if let Err(rule) = check_principal_arn(p) {
                self.error(format!("{field}[{i}]"), rule.0);
            }
        }
        if let Some(d) = first_duplicate(values) {
            self.error(field, format!("duplicate principal {d:?}"));
        }
    }
}

pub use crate::contract::is_account_id;

fn first_duplicate(values: &[String]) -> Option<&String> {
    let mut seen = std::collections::BTreeSet::new();
    values.iter().find(|v| !seen.insert(v.as_str()))
}

crate::message_error! {
    /// The rule a spec value breaks, worded for the field's diagnostic.
    RuleBroken
}

/// Checks an IAM principal ARN: an account root, a role or a user, never a wildcard.
pub fn check_principal_arn(p: &str) -> Result<(), RuleBroken> {
    if p.contains('*') || p.contains('?') {
        return Err(RuleBroken(format!(
            "wildcards are not allowed in principals (got {p:?})"
        )));
    }
    let rest = p.strip_prefix("arn:aws:iam::").ok_or_else(|| {
        format!("must be an IAM ARN like arn:aws:iam::<account>:role/<name> (got {p:?})")
    })?;
    let (account, resource) = rest
        .split_once(':')
        .ok_or_else(|| format!("missing resource after the account in {p:?}"))?;
    if !is_account_id(account) {
        return Err(RuleBroken(format!(
            "account part must be 12 digits (got {account:?} in {p:?})"
        )));
    }
    if resource == "root" {
        return Ok(());
    }
    let name = resource
        .strip_prefix("role/")
        .or_else(|| resource.strip_prefix("user/"))
        .ok_or_else(|| format!("must name a role/, user/ or root (got {p:?})"))?;
    let leaf = name.rsplit('/').next().unwrap_or_default();
    if !crate::contract::is_role_name(leaf) {
        return Err(RuleBroken(format!(
            "role or user name must be {} (got {leaf:?})",
            crate::contract::ROLE_NAME_RULE
        )));
    }
    if !name
        .split('/')
        .all(|part| part.is_empty() || crate::contract::is_role_name(part))
    {
        return Err(RuleBroken(format!("invalid character in path of {p:?}")));
    }
    Ok(())
}

use crate::contract::is_region;

fn validate(path: &Path, spec: Spec, opts: LoadOptions) -> Result<Loaded, SpecError> {
    let mut c = Checker {
        file: path,
        diags: Vec::new(),
    };
    let (e, s, p, l, a) = (
        &spec.environment,
        &spec.storage,
        &spec.phr,
        &spec.lambda,
        &spec.access,
    );
    check_environment(&mut c, e);
    let (quota, warn) = check_storage(&mut c, e, s);
    let location = check_phr(&mut c, e, s, p);
    check_lambda(&mut c, l);
    check_access(&mut c, a);
    let security = spec.security.clone().unwrap_or_default();
    check_security(&mut c, e, p, &security);
    let capacity = spec.capacity.as_ref().map(|cap| Capacity {
        expected_customers: cap.expected_customers,
        growth_factor: cap.growth_factor,
    });
    if let Some(cap) = &capacity {
        check_capacity(&mut c, s, cap, quota, opts);
    }

    let (errors, warnings): (Vec<_>, Vec<_>) = c
        .diags
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(SpecError::Invalid {
            path: path.to_owned(),
            diagnostics: errors,
        });
    }
    let env = Environment {
        source: path.to_owned(),
        name: e.name.clone(),
        short_name: e.short_name.clone(),
        production: e.production,
        region: e.region.clone(),
        primary_account: e.primary_account.clone(),
        storage_accounts: s.accounts.clone(),
        discover: s.discover,
        organization_id: s.organization_id.clone(),
        max_buckets_per_account: s.max_buckets_per_account,
        bucket_prefix: s.bucket_prefix.clone(),
        bucket_namespace: namespace_of(s),
        external_id: s.external_id.clone(),
        bootstrap_role: s
            .bootstrap_role
            .clone()
            .unwrap_or_else(|| contract::DEFAULT_BOOTSTRAP_ROLE.to_owned()),
        capacity_warn_percent: warn,
        s3_bucket_quota: quota,
        allow_canary: s.allow_canary,
        phr: Phr {
            account: p.account.clone(),
            bucket: p.bucket.clone(),
            location: location.unwrap_or(PhrLocation::Primary),
            legacy_access_keys: p.legacy_access_keys,
            log_bucket: log_bucket_name(&p.bucket),
            access_log_retention_days: p
                .access_log_retention_days
                .unwrap_or(DEFAULT_ACCESS_LOG_DAYS),
            noncurrent_version_days: p.noncurrent_version_days.unwrap_or(DEFAULT_NONCURRENT_DAYS),
        },
        lambda: Lambda {
            function_name: l.function_name.clone(),
            memory_mb: l.memory_mb,
            timeout_seconds: l.timeout_seconds,
            log_retention_days: l.log_retention_days,
            ops_topic_arn: l.ops_topic_arn.clone(),
            reserved_concurrency: l
                .reserved_concurrency
                .unwrap_or(DEFAULT_RESERVED_CONCURRENCY),
        },
        invokers: a.invoker_principals.clone(),
        readers: a.reader_principals.clone(),
        verifiers: a.verifier_principals.clone(),
        deployers: a.deployer_principals.clone(),
        external_principals: a
            .external_principals
            .iter()
            .map(|x| ExternalPrincipal {
                principal: x.principal.clone(),
                reason: x.reason.trim().to_owned(),
            })
            .collect(),
        capacity,
        security: Security {
            kms_key: security.kms_key,
            cloudtrail: security.cloudtrail,
            primary_account_public_access_block: security.primary_account_public_access_block,
            code_signing_profile_version_arn: security.code_signing_profile_version_arn,
        },
    };
    Ok(Loaded { env, warnings })
}

/// `[environment]`: names, region, primary account.
fn check_environment(c: &mut Checker<'_>, e: &crate::spec::EnvironmentSpec) {
    if e.name.trim().is_empty() || e.name.len() > 64 {
        c.error(
            "environment.name",
            "must be 1-64 characters (it is a tag value)",
        );
    }
    let short_ok = !e.short_name.is_empty()
        && e.short_name.len() <= 16
        && e.short_name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !short_ok {
        c.error(
            "environment.short_name",
            "must be 1-16 characters of [a-z0-9-] (it names files and stacks)",
        );
    }
    if !is_region(&e.region) {
        c.error(
            "environment.region",
            format!(
                "must be an AWS region such as us-east-1 (got {:?})",
                e.region
            ),
        );
    }
    c.account("environment.primary_account", &e.primary_account);
}

/// `[storage]`: accounts, discovery, quota and maximum, prefix, external ID,
/// bootstrap role, warning threshold. Returns the quota and the threshold in force.
/// `storage.bucket_namespace`, `global` when absent (validated by [`check_namespace`]).
fn namespace_of(s: &crate::spec::StorageSpec) -> contract::BucketNamespace {
    s.bucket_namespace
        .as_deref()
        .and_then(contract::BucketNamespace::parse)
        .unwrap_or_default()
}

/// `storage.bucket_namespace`: exactly `account-regional` or `global`; in the
/// account regional namespace the prefix must leave room for the suffix
/// `-<account>-<region>-an` (and, with `allow_canary`, for a canary name).
fn check_namespace(
    c: &mut Checker<'_>,
    e: &crate::spec::EnvironmentSpec,
    s: &crate::spec::StorageSpec,
) {
    let Some(v) = s.bucket_namespace.as_deref() else {
        return;
    };
    let Some(ns) = contract::BucketNamespace::parse(v) else {
        c.error(
            "storage.bucket_namespace",
            format!(
                "must be \"{}\" or \"{}\" (got {v:?})",
                contract::ACCOUNT_REGIONAL,
                contract::GLOBAL
            ),
        );
        return;
    };
    if ns != contract::BucketNamespace::AccountRegional || !is_region(&e.region) {
        return;
    }
    if let Err(err) = contract::check_namespaced_prefix(&s.bucket_prefix, &e.region) {
        c.error(
            "storage.bucket_prefix",
            format!("{err}; shorten the prefix or set storage.bucket_namespace = \"global\""),
        );
    } else if s.allow_canary && s.bucket_prefix.len() > contract::canary_prefix_max(&e.region) {
        c.error(
            "storage.bucket_prefix",
            format!(
                "with storage.allow_canary in the account regional namespace the prefix must be at most {} characters (is {}): a canary is <prefix>-xacct-canary-<{} hex>-<account>-<region>-an within 63; shorten the prefix or turn allow_canary off",
                contract::canary_prefix_max(&e.region),
                s.bucket_prefix.len(),
                contract::CANARY_HEX_MIN
            ),
        );
    }
}

fn check_storage(
    c: &mut Checker<'_>,
    e: &crate::spec::EnvironmentSpec,
    s: &crate::spec::StorageSpec,
) -> (u32, u8) {
    for (i, a) in s.accounts.iter().enumerate() {
        c.account(&format!("storage.accounts[{i}]"), a);
        if *a == e.primary_account {
            c.error(
                format!("storage.accounts[{i}]"),
                "the primary account cannot also be a storage account",
            );
        }
    }
    if let Some(d) = first_duplicate(&s.accounts) {
        c.error(
            "storage.accounts",
            format!("duplicate storage account {d:?}"),
        );
    }
    if !s.discover && !e.production && s.accounts.len() < 2 {
        c.error(
            "storage.accounts",
            format!(
                "non-production environments need at least 2 storage accounts to test cross-account role assumption (seed 000); got {}",
                s.accounts.len()
            ),
        );
    }
    if !s.discover && s.accounts.is_empty() {
        c.error(
            "storage.accounts",
            "list at least one storage account, or set storage.discover = true",
        );
    }
    match (&s.organization_id, s.discover) {
        (None, true) => c.error(
            "storage.organization_id",
            "required when storage.discover = true: it scopes sts:AssumeRole to roles in your organization",
        ),
        (Some(o), _) if !is_org_id(o) => c.error(
            "storage.organization_id",
            format!("must look like o-exampleorgid (o- then 10-32 of [a-z0-9]); got {o:?}"),
        ),
        _ => {}
    }
    let quota = s.s3_bucket_quota.unwrap_or(S3_DEFAULT_BUCKET_QUOTA);
    if quota == 0 || quota > S3_MAX_BUCKET_QUOTA {
        c.error(
            "storage.s3_bucket_quota",
            format!("must be between 1 and {S3_MAX_BUCKET_QUOTA} (got {quota})"),
        );
    }
    if s.max_buckets_per_account == 0 {
        c.error("storage.max_buckets_per_account", "must be at least 1");
    } else if s.max_buckets_per_account > quota {
        c.error(
            "storage.max_buckets_per_account",
            format!(
                "must not exceed the S3 bucket quota per account ({quota}; 10,000 by default since Nov 2024, set storage.s3_bucket_quota if Service Quotas raised it); got {}",
                s.max_buckets_per_account
            ),
        );
    }
    if let Err(err) = contract::check_bucket_prefix(&s.bucket_prefix) {
        c.error(
            "storage.bucket_prefix",
            format!(
                "{err}; the prefix must be 1-{} characters of [a-z0-9-] with no '--', and the longest generated name `{}` must be a valid bucket name",
                contract::PREFIX_MAX,
                contract::longest_bucket_name(&s.bucket_prefix)
            ),
        );
    }
    check_namespace(c, e, s);
    if let Some(x) = &s.external_id {
        let ok = (2..=1224).contains(&x.len())
            && x.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c));
        if !ok {
            c.error(
                "storage.external_id",
                "must be 2-1224 characters of [A-Za-z0-9+=,.@:/_-]",
            );
        }
    }
    if let Some(r) = &s.bootstrap_role
        && !crate::contract::is_role_name(r)
    {
        c.error(
            "storage.bootstrap_role",
            format!("must be a role name: {}", crate::contract::ROLE_NAME_RULE),
        );
    }
    let warn = s.capacity_warn_percent.unwrap_or(DEFAULT_WARN_PERCENT);
    if !(1..=100).contains(&warn) {
        c.error("storage.capacity_warn_percent", "must be between 1 and 100");
    }
    (quota, warn)
}

/// `[phr]`: where the PHR bucket lives, its name, its retention settings.
fn check_phr(
    c: &mut Checker<'_>,
    e: &crate::spec::EnvironmentSpec,
    s: &crate::spec::StorageSpec,
    p: &crate::spec::PhrSpec,
) -> Option<PhrLocation> {
    c.account("phr.account", &p.account);
    let location = if p.account == e.primary_account {
        Some(PhrLocation::Primary)
    } else if s.accounts.contains(&p.account) {
        Some(PhrLocation::Storage)
    } else {
        c.error(
            "phr.account",
            format!(
                "must be the primary account or one of storage.accounts (got {:?})",
                p.account
            ),
        );
        None
    };
    if let Err(err) = contract::check_bucket_name(&p.bucket) {
        c.error("phr.bucket", format!("not a valid S3 bucket name: {err}"));
    }
    for (field, v) in [
        ("phr.access_log_retention_days", p.access_log_retention_days),
        ("phr.noncurrent_version_days", p.noncurrent_version_days),
    ] {
        if let Some(n) = v
            && !(1..=3650).contains(&n)
        {
            c.error(field, "must be between 1 and 3650 days");
        }
    }
    if p.bucket.starts_with(&format!("{}-", s.bucket_prefix)) {
        c.error(
            "phr.bucket",
            format!(
                "must not start with the customer bucket prefix `{}-`: the storage role manages every bucket matching it and a customer could be given the PHR bucket's name",
                s.bucket_prefix
            ),
        );
    }
    location
}

/// `[lambda]`: function name, memory, timeout, log retention, concurrency, ops topic.
fn check_lambda(c: &mut Checker<'_>, l: &crate::spec::LambdaSpec) {
    let fn_ok = !l.function_name.is_empty()
        && l.function_name.len() <= 54
        && l.function_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !fn_ok {
        c.error(
            "lambda.function_name",
            "must be 1-54 characters of [A-Za-z0-9_-] (the execution role `<name>-execution` must fit IAM's 64)",
        );
    }
    if !(128..=10240).contains(&l.memory_mb) {
        c.error("lambda.memory_mb", "must be between 128 and 10240 MB");
    }
    if !(1..=900).contains(&l.timeout_seconds) {
        c.error(
            "lambda.timeout_seconds",
            "must be between 1 and 900 seconds",
        );
    }
    if !LOG_RETENTION_DAYS.contains(&l.log_retention_days) {
        c.error(
            "lambda.log_retention_days",
            format!("must be one of CloudWatch Logs' retention values {LOG_RETENTION_DAYS:?}"),
        );
    }
    if let Some(n) = l.reserved_concurrency
        && !(1..=1000).contains(&n)
    {
        c.error(
            "lambda.reserved_concurrency",
            "must be between 1 and 1000 (0 would throttle every request; the account's unreserved pool must keep 100)",
        );
    }
    if let Some(t) = &l.ops_topic_arn
        && !crate::contract::is_sns_topic_arn(t)
    {
        c.error(
            "lambda.ops_topic_arn",
            format!("must be {}", crate::contract::SNS_TOPIC_ARN_RULE),
        );
    }
}

/// `[security]`: the key and the trail live in the primary account next to the
/// log group and need the PHR bucket (and its log bucket) there; the signing
/// profile must be a Signer profile version ARN.
fn check_security(
    c: &mut Checker<'_>,
    e: &crate::spec::EnvironmentSpec,
    p: &crate::spec::PhrSpec,
    s: &crate::spec::SecuritySpec,
) {
    let phr_elsewhere = p.account != e.primary_account;
    if s.kms_key && phr_elsewhere {
        c.error(
            "security.kms_key",
            format!(
                "the customer-managed key is rendered in the primary account ({}) for the log group and the PHR bucket, but phr.account is {:?}; next step: set phr.account to the primary account, or remove security.kms_key",
                e.primary_account, p.account
            ),
        );
    }
    if s.cloudtrail && phr_elsewhere {
        c.error(
            "security.cloudtrail",
            format!(
                "the trail writes to the environment's log bucket, which lives with the PHR bucket in account {:?}, not in the primary account ({}); next step: set phr.account to the primary account, or remove security.cloudtrail",
                p.account, e.primary_account
            ),
        );
    }
    if let Some(arn) = &s.code_signing_profile_version_arn
        && let Err(rule) = check_signing_profile_version_arn(arn)
    {
        c.error(
            "security.code_signing_profile_version_arn",
            format!(
                "{rule}; next step: copy the profile version ARN from `aws signer get-signing-profile --profile-name <name>` (field profileVersionArn)"
            ),
        );
    }
}

/// `arn:aws:signer:<region>:<account>:/signing-profiles/<name>/<version>`:
/// name 2-64 of `[A-Za-z0-9_]`, version 10 of `[A-Za-z0-9]`.
pub fn check_signing_profile_version_arn(arn: &str) -> Result<(), RuleBroken> {
    let shape = "must be a Signer profile version ARN like arn:aws:signer:us-east-1:123456789012:/signing-profiles/MyProfile/abcdef0123";
    let rest = arn
        .strip_prefix("arn:aws:signer:")
        .ok_or_else(|| format!("{shape} (got {arn:?})"))?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, resource) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if !is_region(region) {
        return Err(RuleBroken(format!(
            "{shape}: {region:?} is not a region (got {arn:?})"
        )));
    }
    if !is_account_id(account) {
        return Err(RuleBroken(format!(
            "{shape}: the account must be 12 digits (got {arn:?})"
        )));
    }
    let Some((name, version)) = resource
        .strip_prefix("/signing-profiles/")
        .and_then(|r| r.split_once('/'))
    else {
        return Err(RuleBroken(format!(
            "{shape}: the resource must be /signing-profiles/<name>/<version> (got {arn:?})"
        )));
    };
    let name_ok = (2..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let version_ok = version.len() == 10 && version.chars().all(|c| c.is_ascii_alphanumeric());
    if !name_ok || !version_ok {
        return Err(RuleBroken(format!(
            "{shape}: the profile name is 2-64 of [A-Za-z0-9_] and the version 10 of [A-Za-z0-9] (got {arn:?})"
        )));
    }
    Ok(())
}

/// `[access]`: every principal list.
fn check_access(c: &mut Checker<'_>, a: &crate::spec::AccessSpec) {
    c.principals("access.invoker_principals", &a.invoker_principals, true);
    c.principals("access.reader_principals", &a.reader_principals, true);
    c.principals("access.verifier_principals", &a.verifier_principals, false);
    c.principals("access.deployer_principals", &a.deployer_principals, false);
    let mut seen = std::collections::BTreeSet::new();
    for (i, x) in a.external_principals.iter().enumerate() {
        let field = format!("access.external_principals[{i}]");
        if let Err(rule) = check_principal_arn(&x.principal) {
            c.error(format!("{field}.principal"), rule.0);
        }
        if x.reason.trim().is_empty() {
            c.error(
                format!("{field}.reason"),
                "must say why this principal outside the zone of trust is accepted (a non-empty reason)",
            );
        }
        if !seen.insert(x.principal.as_str()) {
            c.error(
                format!("{field}.principal"),
                format!("duplicate principal {:?}", x.principal),
            );
        }
    }
}

/// `[capacity]`: the accounts must hold the expected customers with growth; the
/// arithmetic is `capacity::plan`'s, the one `xacct capacity` prints.
fn check_capacity(
    c: &mut Checker<'_>,
    s: &crate::spec::StorageSpec,
    cap: &Capacity,
    quota: u32,
    opts: LoadOptions,
) {
    let plan = match crate::capacity::plan(
        u64::from(cap.expected_customers),
        cap.growth_factor,
        s.max_buckets_per_account,
        quota.max(1),
    ) {
        Ok(plan) => plan,
        Err(crate::capacity::PlanError::Growth(_)) => {
            c.error("capacity.growth_factor", "must be a number >= 1.0");
            return;
        }
        // A zero maximum or quota is reported under [storage].
        Err(_) => return,
    };
    let have = s.accounts.len() as u64;
    if have == 0 || have >= plan.accounts_configured {
        return;
    }
    let sev = if opts.strict {
        Severity::Error
    } else {
        Severity::Warning
    };
    c.push(
        sev,
        "storage.accounts",
        format!(
            "capacity: {have} accounts x {} buckets = {} < {} customers x {} growth = {}; add {} more storage account(s)",
            s.max_buckets_per_account,
            have * u64::from(s.max_buckets_per_account),
            cap.expected_customers,
            cap.growth_factor,
            plan.buckets_needed,
            plan.accounts_configured - have
        ),
    );
}

fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|r| {
        (10..=32).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}
