//! Primary-account checks: the function, its URL and resource policy, the
//! execution role, and the PHR bucket when it lives here.

use std::collections::BTreeMap;

use aws_sdk_lambda::primitives::Blob;

use super::aws::{self, Aws};
use super::shared::{SelfTest, SelfTestError};
use super::{
    AccountSummary, Ctx, RoleTrust, checks, diff, diff_findings, finding, judge, read_role_trust,
};
use crate::audit::Finding;
use crate::audit::settings::{self, Res};
use crate::contract::api::RequestBody;
use crate::iam::PolicyDocument;
use crate::model::PhrLocation;

pub use super::judge::{HANDLER, RUNTIME};

/// What the primary account check found.
pub struct Result {
    pub summary: AccountSummary,
    pub findings: Vec<Finding>,
    pub function_exists: bool,
    /// The function is known not to exist (`ResourceNotFoundException`), as
    /// opposed to unreadable: only then is the self-test not worth invoking.
    pub function_missing: bool,
    pub lambda_trust: Option<PolicyDocument>,
    pub lambda_execution: Option<PolicyDocument>,
    pub function_policy: Option<PolicyDocument>,
    pub phr_policy: Option<PolicyDocument>,
    /// The customer-managed key's policy (`security.kms_key`).
    pub kms_key_policy: Option<PolicyDocument>,
    /// The execution role's permissions boundary (the policy's default version).
    pub boundary: Option<PolicyDocument>,
    /// The log bucket's policy, when the PHR bucket lives here.
    pub log_bucket_policy: Option<PolicyDocument>,
    /// The security settings read, in the table's Terraform shape
    /// (judged by [`super::settings::judge`]).
    pub settings: Vec<Res>,
}

impl Result {
    pub fn empty(account: &str) -> Self {
        Result {
            summary: AccountSummary::new(account, "primary"),
            findings: Vec::new(),
            function_exists: false,
            function_missing: false,
            lambda_trust: None,
            lambda_execution: None,
            function_policy: None,
            phr_policy: None,
            kms_key_policy: None,
            boundary: None,
            log_bucket_policy: None,
            settings: Vec::new(),
        }
    }
}

pub async fn check(ctx: &Ctx, aws: &Aws) -> Result {
    let env = &ctx.env;
    let acct = env.primary_account.as_str();
    let mut r = Result::empty(acct);
    r.summary.reachable = true;
    function(ctx, aws, &mut r).await;
    execution_role(ctx, aws, &mut r).await;
    if env.phr.location == PhrLocation::Primary {
        let read = super::shared::phr(ctx, aws, acct).await;
        r.findings.extend(read.findings);
        r.phr_policy = read.phr_policy;
        r.log_bucket_policy = read.log_bucket_policy;
    }
    let group = log_group(ctx, aws).await;
    if let Ok(Some(g)) = &group {
        r.settings.extend(settings::live(
            "aws_cloudwatch_log_group",
            acct,
            &env.log_group_arn(),
            &serde_json::json!({
                "name": g.log_group_name(),
                "retention_in_days": g.retention_in_days(),
            }),
        ));
    }
    if env.security.primary_account_public_access_block {
        r.findings
            .extend(primary_account_public_access_block(aws, acct).await);
    }
    let key_arn = if env.security.kms_key {
        kms_key(ctx, aws, acct, &group, &mut r).await
    } else {
        None
    };
    if env.security.cloudtrail {
        trail(ctx, aws, acct, key_arn.as_deref(), &mut r).await;
    }
    r
}

/// The function's log group (`DescribeLogGroups`), `None` when it does not exist.
async fn log_group(
    ctx: &Ctx,
    aws: &Aws,
) -> std::result::Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>, super::shared::ReadError>
{
    let group = ctx.env.log_group_name();
    aws.logs()
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .map(|o| {
            o.log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(group.as_str()))
                .cloned()
        })
        .map_err(|e| super::shared::ReadError(aws::describe(&e)))
}

/// XV027: the customer-managed key (found by its alias) is enabled, rotates,
/// carries the rendered policy, and the PHR bucket (SSE-KMS) and the function's
/// log group use it. Keeps the key's policy and settings in `r`; returns the
/// key's ARN when it was found.
async fn kms_key(
    ctx: &Ctx,
    aws: &Aws,
    acct: &str,
    group: &std::result::Result<
        Option<aws_sdk_cloudwatchlogs::types::LogGroup>,
        super::shared::ReadError,
    >,
    r: &mut Result,
) -> Option<String> {
    let env = &ctx.env;
    let alias = env.kms_alias();
    let alias_arn = format!("arn:aws:kms:{}:{acct}:{alias}", env.region);
    let f = |res: &str, why: String| finding(checks::KMS_KEY, acct, res, why, None);
    let kms = aws.kms();
    let key = match kms.describe_key().key_id(&alias).send().await {
        Ok(o) => o.key_metadata().cloned(),
        Err(e) => {
            r.findings.push(f(
                &alias_arn,
                format!(
                    "the key {alias} is missing or unreadable: {}",
                    aws::describe(&e)
                ),
            ));
            return None;
        }
    };
    let Some(key) = key else {
        r.findings
            .push(f(&alias_arn, format!("{alias} names no key")));
        return None;
    };
    let (id, arn) = (
        key.key_id().to_owned(),
        key.arn().unwrap_or_default().to_owned(),
    );
    let mut out = Vec::new();
    if !key.enabled() {
        out.push(f(&arn, "the key is disabled".to_owned()));
    }
    let s3 = aws.s3();
    let (rotation, policy, enc) = tokio::join!(
        kms.get_key_rotation_status().key_id(&id).send(),
        kms.get_key_policy()
            .key_id(&id)
            .policy_name("default")
            .send(),
        s3.get_bucket_encryption().bucket(&env.phr.bucket).send(),
    );
    let mut values = serde_json::json!({
        "is_enabled": key.enabled(),
        "customer_master_key_spec": key.key_spec().map(|s| s.as_str()),
        "key_usage": key.key_usage().map(|u| u.as_str()),
        "multi_region": key.multi_region(),
    });
    if let Ok(o) = &rotation {
        values["enable_key_rotation"] = o.key_rotation_enabled().into();
    }
    r.settings
        .extend(settings::live("aws_kms_key", acct, &arn, &values));
    match rotation {
        Ok(o) if o.key_rotation_enabled() => {}
        Ok(_) => out.push(f(&arn, "automatic key rotation is off".to_owned())),
        Err(e) => out.push(f(
            &arn,
            format!("key rotation cannot be read: {}", aws::describe(&e)),
        )),
    }
    match policy.map(|o| o.policy().map(diff::parse_live)) {
        Ok(Some(Ok(live))) => {
            if let Some(want) = &ctx.docs.kms_key_policy {
                out.extend(diff_findings(
                    checks::KMS_KEY,
                    acct,
                    &arn,
                    "key policy",
                    &format!("policies/{}", crate::iam::documents::KMS_KEY_POLICY_FILE),
                    want,
                    &format!("live:kms:{id}/policy"),
                    &live,
                ));
            }
            r.kms_key_policy = Some(live);
        }
        Ok(Some(Err(e))) => out.push(f(&arn, format!("key policy does not parse: {e}"))),
        Ok(None) => out.push(f(&arn, "the key has no policy".to_owned())),
        Err(e) => out.push(f(
            &arn,
            format!("key policy cannot be read: {}", aws::describe(&e)),
        )),
    }
    let uses =
        |k: Option<&str>| k.is_some_and(|k| k == arn || k == id || k.ends_with(&format!("/{id}")));
    let phr_arn = crate::contract::bucket_arn(&env.phr.bucket);
    match enc {
        Ok(o) => {
            let kms_rule = o.server_side_encryption_configuration().is_some_and(|c| {
                c.rules().iter().any(|r| {
                    r.apply_server_side_encryption_by_default()
                        .is_some_and(|d| {
                            d.sse_algorithm().as_str() == "aws:kms" && uses(d.kms_master_key_id())
                        })
                })
            });
            if !kms_rule {
                out.push(f(
                    &phr_arn,
                    format!("the PHR bucket's default encryption is not SSE-KMS with {alias}"),
                ));
            }
        }
        Err(e) => out.push(f(
            &phr_arn,
            format!(
                "the PHR bucket's encryption cannot be read: {}",
                aws::describe(&e)
            ),
        )),
    }
    let name = env.log_group_name();
    match group {
        Ok(live) => {
            if !live.as_ref().is_some_and(|g| uses(g.kms_key_id())) {
                out.push(f(
                    &env.log_group_arn(),
                    format!("the log group {name} is not encrypted with {alias}"),
                ));
            }
        }
        Err(e) => out.push(f(
            &env.log_group_arn(),
            format!("the log group cannot be read: {e}"),
        )),
    }
    r.findings.extend(out);
    Some(arn)
}

/// XV028: the trail exists, logs, covers every region, validates log files,
/// writes to the log bucket under [`crate::model::TRAIL_PREFIX`], and uses the
/// customer-managed key when there is one. Its settings go to `r.settings`.
async fn trail(ctx: &Ctx, aws: &Aws, acct: &str, key_arn: Option<&str>, r: &mut Result) {
    r.findings
        .extend(trail_checks(ctx, aws, acct, key_arn, &mut r.settings).await);
}

async fn trail_checks(
    ctx: &Ctx,
    aws: &Aws,
    acct: &str,
    key_arn: Option<&str>,
    live_settings: &mut Vec<Res>,
) -> Vec<Finding> {
    let env = &ctx.env;
    let (name, arn) = (env.trail_name(), env.trail_arn());
    let f = |why: String| finding(checks::TRAIL, acct, &arn, why, None);
    let ct = aws.cloudtrail();
    let (t, status) = tokio::join!(
        ct.get_trail().name(&name).send(),
        ct.get_trail_status().name(&name).send()
    );
    let t = match t {
        Ok(o) => match o.trail().cloned() {
            Some(t) => t,
            None => return vec![f(format!("trail {name} is missing"))],
        },
        Err(e) => {
            return vec![f(format!(
                "trail {name} is missing or unreadable: {}",
                aws::describe(&e)
            ))];
        }
    };
    let live = judge::Trail {
        name: t.name().map(str::to_owned),
        bucket: t.s3_bucket_name().map(str::to_owned),
        prefix: t.s3_key_prefix().map(str::to_owned),
        multi_region: t.is_multi_region_trail(),
        log_file_validation: t.log_file_validation_enabled(),
        global_service_events: t.include_global_service_events(),
        kms_key: t.kms_key_id().map(str::to_owned),
        logging: status
            .map(|s| s.is_logging())
            .map_err(|e| super::shared::ReadError(aws::describe(&e))),
    };
    live_settings.extend(settings::live("aws_cloudtrail", acct, &arn, &live.values()));
    judge::trail(env, &live, key_arn)
}

/// XV037: with `security.primary_account_public_access_block`, the primary
/// account's Block Public Access has all four flags on.
async fn primary_account_public_access_block(aws: &Aws, acct: &str) -> Option<Finding> {
    let resource = format!("arn:aws:s3:::account/{acct}");
    let why = match super::shared::account_public_access_block(aws, acct).await {
        Ok(true) => return None,
        Ok(false) => {
            "the account-level Block Public Access is not fully on (all four flags)".to_owned()
        }
        Err(e) => format!("the account-level Block Public Access could not be read: {e}"),
    };
    Some(finding(
        checks::PRIMARY_ACCOUNT_PUBLIC_ACCESS,
        acct,
        &resource,
        why,
        None,
    ))
}

async fn function(ctx: &Ctx, aws: &Aws, r: &mut Result) {
    let env = &ctx.env;
    let acct = env.primary_account.as_str();
    let name = env.lambda.function_name.as_str();
    let arn = env.function_arn();
    let lambda = aws.lambda();
    match lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
    {
        Ok(c) => {
            r.function_exists = true;
            let live = judge::FunctionConfig {
                runtime: c.runtime().map(|r| r.as_str().to_owned()),
                handler: c.handler().map(str::to_owned),
                memory_mb: c.memory_size(),
                timeout_seconds: c.timeout(),
                role: c.role().map(str::to_owned),
            };
            r.findings.extend(judge::function_config(env, &live));
            let concurrency = lambda
                .get_function_concurrency()
                .function_name(name)
                .send()
                .await;
            let mut values = serde_json::json!({
                "function_name": name,
                "role": c.role(),
                "kms_key_arn": c.kms_key_arn(),
            });
            if let Ok(o) = &concurrency {
                values["reserved_concurrent_executions"] =
                    o.reserved_concurrent_executions().unwrap_or(-1).into();
            }
            r.settings
                .extend(settings::live("aws_lambda_function", acct, &arn, &values));
            match concurrency {
                Ok(o) => r
                    .findings
                    .extend(judge::concurrency(env, o.reserved_concurrent_executions())),
                Err(e) => r.findings.push(finding(
                    checks::FUNCTION_CONCURRENCY,
                    acct,
                    &arn,
                    format!(
                        "cannot read the reserved concurrency: {}",
                        aws::describe(&e)
                    ),
                    None,
                )),
            }
            if env.security.code_signing_profile_version_arn.is_some() {
                r.findings
                    .extend(code_signing(&lambda, name, acct, &arn).await);
            }
            let live: BTreeMap<String, String> = c
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            r.findings.extend(env_findings(ctx, &live));
        }
        Err(e) => {
            let msg = if aws::code(&e) == Some("ResourceNotFoundException") {
                r.function_missing = true;
                format!("function {name} does not exist")
            } else {
                format!("cannot read function {name}: {}", aws::describe(&e))
            };
            r.findings
                .push(finding(checks::FUNCTION_CONFIG, acct, &arn, msg, None));
            return;
        }
    }
    match lambda
        .get_function_url_config()
        .function_name(name)
        .send()
        .await
    {
        Ok(u) => {
            let cors: Vec<serde_json::Value> = u
                .cors()
                .map(|c| {
                    serde_json::json!({
                        "allow_origins": c.allow_origins(),
                        "allow_credentials": c.allow_credentials(),
                        "allow_methods": c.allow_methods(),
                        "allow_headers": c.allow_headers(),
                    })
                })
                .into_iter()
                .collect();
            r.settings.extend(settings::live(
                "aws_lambda_function_url",
                acct,
                u.function_url(),
                &serde_json::json!({
                    "authorization_type": u.auth_type().as_str(),
                    "cors": cors,
                }),
            ));
            let auth = u.auth_type().as_str();
            if auth != "AWS_IAM" {
                r.findings.push(finding(
                    checks::FUNCTION_URL_AUTH,
                    acct,
                    &arn,
                    format!("function URL auth type is {auth}, not AWS_IAM: anyone on the internet can call it"),
                    None,
                ));
            }
        }
        Err(e) => r.findings.push(finding(
            checks::FUNCTION_URL_AUTH,
            acct,
            &arn,
            format!("cannot read the function URL: {}", aws::describe(&e)),
            None,
        )),
    }
    let live_name = format!("live:{arn}#policy");
    match lambda.get_policy().function_name(name).send().await {
        Ok(p) => match diff::parse_lambda_policy(p.policy().unwrap_or_default()) {
            Ok(doc) => {
                r.findings.extend(diff_findings(
                    checks::FUNCTION_POLICY,
                    acct,
                    &arn,
                    "function resource policy",
                    "policies/function-url-policy.json",
                    &ctx.docs.function_url_policy,
                    &live_name,
                    &doc,
                ));
                r.findings.extend(invoke_not_via_url(ctx, &doc));
                r.function_policy = Some(doc);
            }
            Err(e) => r.findings.push(finding(
                checks::FUNCTION_POLICY,
                acct,
                &arn,
                format!("the function's resource policy does not parse: {e}"),
                None,
            )),
        },
        Err(e) => r.findings.push(finding(
            checks::FUNCTION_POLICY,
            acct,
            &arn,
            format!(
                "cannot read the function's resource policy (the invokers cannot call it): {}",
                aws::describe(&e)
            ),
            None,
        )),
    }
}

/// An invoker's live `lambda:InvokeFunction` grant without
/// `lambda:InvokedViaFunctionUrl = true` (a Terraform provider 5.x deployment
/// has it: docs/runtime.md "Invokers through the URL only").
fn invoke_not_via_url(ctx: &Ctx, doc: &crate::iam::PolicyDocument) -> Vec<Finding> {
    let env = &ctx.env;
    let key = crate::iam::documents::INVOKED_VIA_URL_KEY;
    let mut out = Vec::new();
    for st in &doc.statement {
        if st.effect != Some(crate::iam::Effect::Allow) {
            continue;
        }
        let invoke = st.action.as_ref().is_some_and(|a| {
            a.iter().any(|x| {
                let x = x.to_ascii_lowercase();
                x == "lambda:invokefunction" || x == "lambda:*" || x == "*"
            })
        });
        let principals: Vec<&str> = st
            .principal
            .as_ref()
            .map(|p| p.of_type("AWS"))
            .unwrap_or_default();
        let via = st
            .condition
            .get("Bool")
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .is_some_and(|(_, v)| v.iter().all(|x| x.eq_ignore_ascii_case("true")));
        for p in principals
            .into_iter()
            .filter(|p| env.invokers.iter().any(|i| i == p))
        {
            if invoke && !via {
                out.push(finding(
                    checks::INVOKE_NOT_VIA_URL,
                    &env.primary_account,
                    &env.function_arn(),
                    format!(
                        "statement {} grants lambda:InvokeFunction to invoker {p} without {key} = true: it can call Invoke directly, outside the URL's auth; re-add it with `aws lambda add-permission --invoked-via-function-url` (Terraform provider >= 6: invoked_via_function_url = true)",
                        st.sid.as_deref().unwrap_or("(no Sid)")
                    ),
                    None,
                ));
            }
        }
    }
    out
}

/// Environment variables compared with [`crate::render::lambda_env`]; secret
/// values are never printed.
fn env_findings(ctx: &Ctx, live: &BTreeMap<String, String>) -> Vec<Finding> {
    let env = &ctx.env;
    let acct = env.primary_account.as_str();
    let arn = env.function_arn();
    let expected = crate::render::lambda_env(env);
    let mut out = Vec::new();
    for (key, value) in &expected {
        match (live.get(*key), value) {
            (None, _) => out.push(finding(
                checks::FUNCTION_ENV,
                acct,
                &arn,
                format!("environment variable {key} is not set"),
                None,
            )),
            (Some(got), Some(want)) if got != want => out.push(finding(
                checks::FUNCTION_ENV,
                acct,
                &arn,
                format!("environment variable {key} is {got:?}, rendered {want:?}"),
                None,
            )),
            _ => {}
        }
    }
    for key in live.keys() {
        if !expected.iter().any(|(k, _)| k == key) {
            out.push(finding(
                checks::FUNCTION_ENV,
                acct,
                &arn,
                format!("environment variable {key} is set but was not rendered"),
                None,
            ));
        }
    }
    out
}

async fn execution_role(ctx: &Ctx, aws: &Aws, r: &mut Result) {
    let env = &ctx.env;
    let acct = env.primary_account.as_str();
    let role = env.lambda_role_name();
    let arn = env.lambda_role_arn();
    let iam = aws.iam();
    let trust = RoleTrust {
        trust_check: checks::LAMBDA_TRUST,
        missing_check: checks::LAMBDA_TRUST,
        account: acct,
        role_name: &role,
        role_arn: &arn,
        label: format!("execution role {role}"),
        title: "execution role trust",
        rendered_file: "policies/lambda-execution-trust.json",
        rendered: &ctx.docs.lambda_trust,
    };
    match read_role_trust(&iam, trust, &mut r.findings).await {
        Some(doc) => r.lambda_trust = doc,
        None => return,
    }
    boundary(ctx, &iam, &role, &arn, r).await;
    let inline_name = format!("{}-permissions", env.lambda.function_name);
    let names = match iam.list_role_policies().role_name(&role).send().await {
        Ok(o) => o.policy_names().to_vec(),
        Err(e) => {
            r.findings.push(finding(
                checks::PRIMARY_UNREACHABLE,
                acct,
                &arn,
                format!("cannot list the inline policies: {}", aws::describe(&e)),
                None,
            ));
            Vec::new()
        }
    };
    if !names.contains(&inline_name) {
        r.findings.push(finding(
            checks::LAMBDA_POLICY,
            acct,
            &arn,
            format!("inline policy {inline_name} is missing"),
            None,
        ));
    }
    for name in &names {
        let live_name = format!("live:{arn}#inline:{name}");
        let doc = match iam
            .get_role_policy()
            .role_name(&role)
            .policy_name(name)
            .send()
            .await
        {
            Ok(o) => diff::parse_live(o.policy_document()).map_err(|e| e.to_string()),
            Err(e) => Err(aws::describe(&e)),
        };
        match doc {
            Ok(doc) if *name == inline_name => {
                r.findings.extend(diff_findings(
                    checks::LAMBDA_POLICY,
                    acct,
                    &arn,
                    "execution role inline policy",
                    "policies/lambda-execution-policy.json",
                    &ctx.docs.lambda_execution,
                    &live_name,
                    &doc,
                ));
                r.lambda_execution = Some(doc);
            }
            Ok(doc) => {
                for i in 0..doc.statement.len() {
                    r.findings.push(finding(
                        checks::LAMBDA_EXTRA_POLICY,
                        acct,
                        &arn,
                        format!("inline policy {name} was not rendered"),
                        super::statement_info(&live_name, &doc, i),
                    ));
                }
            }
            Err(e) => r.findings.push(finding(
                checks::LAMBDA_POLICY,
                acct,
                &arn,
                format!("cannot read inline policy {name}: {e}"),
                None,
            )),
        }
    }
    match iam
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
    {
        Ok(o) => {
            for p in o.attached_policies() {
                r.findings.push(finding(
                    checks::LAMBDA_EXTRA_POLICY,
                    acct,
                    &arn,
                    format!(
                        "managed policy {} is attached but was not rendered",
                        p.policy_arn().unwrap_or_default()
                    ),
                    None,
                ));
            }
        }
        Err(e) => r.findings.push(finding(
            checks::PRIMARY_UNREACHABLE,
            acct,
            &arn,
            format!("cannot list the attached policies: {}", aws::describe(&e)),
            None,
        )),
    }
}

/// The PHR bucket's settings, read with `aws` (credentials in the bucket's account).
/// XV017: the execution role carries the rendered permissions boundary, and the
/// boundary policy's default version is the rendered document (a widened
/// boundary is reported with the statements it adds).
async fn boundary(ctx: &Ctx, iam: &aws_sdk_iam::Client, role: &str, arn: &str, r: &mut Result) {
    let env = &ctx.env;
    let acct = env.primary_account.as_str();
    let want = env.boundary_policy_arn();
    let findings = &mut r.findings;
    let live = match iam.get_role().role_name(role).send().await {
        Ok(o) => {
            let live = o
                .role()
                .and_then(|r| r.permissions_boundary())
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned);
            r.settings.extend(settings::live(
                "aws_iam_role",
                acct,
                arn,
                &serde_json::json!({
                    "name": role,
                    "permissions_boundary": live,
                    "max_session_duration": o.role().and_then(|r| r.max_session_duration()),
                }),
            ));
            live
        }
        Err(e) => {
            findings.push(finding(
                checks::LAMBDA_BOUNDARY,
                acct,
                arn,
                format!(
                    "cannot read the permissions boundary: {}",
                    aws::describe(&e)
                ),
                None,
            ));
            return;
        }
    };
    if live.as_deref() != Some(want.as_str()) {
        findings.push(finding(
            checks::LAMBDA_BOUNDARY,
            acct,
            arn,
            match live {
                None => {
                    format!("execution role {role} has no permissions boundary (expected {want})")
                }
                Some(l) => format!(
                    "execution role {role} has the permissions boundary {l} (expected {want})"
                ),
            },
            None,
        ));
        return;
    }
    match super::shared::fetch_policy(iam, &want).await {
        Ok(doc) => {
            findings.extend(diff_findings(
                checks::LAMBDA_BOUNDARY,
                acct,
                &want,
                "execution role permissions boundary",
                "policies/lambda-execution-boundary.json",
                &ctx.docs.execution_boundary,
                &format!("live:{want}"),
                &doc,
            ));
            r.boundary = Some(doc);
        }
        Err(e) => findings.push(finding(
            checks::LAMBDA_BOUNDARY,
            acct,
            &want,
            format!("cannot read the permissions boundary policy: {e}"),
            None,
        )),
    }
}

/// Invokes the function with a function-URL event carrying the self-test
/// request (`contract::api::RequestBody::self_test`) and reads its report
/// (`contract::api::SelfTestResponse`).
pub async fn self_test(ctx: &Ctx, aws: &Aws) -> SelfTest {
    let body = serde_json::to_string(&RequestBody::self_test()).unwrap_or_default();
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": ctx.env.primary_account,
            "apiId": "xacct-verify",
            "domainName": "xacct-verify.lambda-url.local",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "xacct-verify"},
            "requestId": "xacct-verify",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    });
    let out = aws
        .lambda()
        .invoke()
        .function_name(&ctx.env.lambda.function_name)
        .payload(Blob::new(event.to_string().into_bytes()))
        .send()
        .await
        .map_err(|e| SelfTestError::Invoke(aws::describe(&e)))?;
    let payload = out
        .payload()
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    let cut = |s: &str| s.chars().take(300).collect::<String>();
    if let Some(fe) = out.function_error() {
        return Err(SelfTestError::FunctionFailed {
            kind: fe.to_owned(),
            payload: cut(&String::from_utf8_lossy(&payload)),
        });
    }
    let resp: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|e| SelfTestError::NotJson(e.to_string()))?;
    let status = resp.get("statusCode").and_then(|s| s.as_u64()).unwrap_or(0);
    let body_text = resp.get("body").and_then(|b| b.as_str()).unwrap_or("");
    if status != 200 {
        return Err(SelfTestError::Status {
            status,
            body: cut(body_text),
        });
    }
    let body: serde_json::Value =
        serde_json::from_str(body_text).map_err(|e| SelfTestError::BodyNotJson(e.to_string()))?;
    let accounts = body.get("accounts").cloned().unwrap_or_default();
    serde_json::from_value(accounts).map_err(|e| SelfTestError::Unexpected(e.to_string()))
}

/// XV019: with code signing in the spec, the function must have a code
/// signing configuration attached (its `Enforce` policy and publishers are the
/// rendered template's; the audit reads those).
async fn code_signing(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    acct: &str,
    arn: &str,
) -> Option<Finding> {
    let message = match lambda
        .get_function_code_signing_config()
        .function_name(name)
        .send()
        .await
    {
        Ok(o) if !o.code_signing_config_arn().is_empty() => return None,
        Ok(_) => format!(
            "function {name} has no code signing configuration: unsigned code can be deployed; apply the primary stack (it attaches the rendered configuration)"
        ),
        Err(e) => format!(
            "cannot read the code signing configuration of {name}: {}",
            aws::describe(&e)
        ),
    };
    Some(finding(
        checks::FUNCTION_CODE_SIGNING,
        acct,
        arn,
        message,
        None,
    ))
}
