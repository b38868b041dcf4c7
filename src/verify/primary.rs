//! Primary-account checks: the function, its URL and resource policy, the
//! execution role, and the PHR bucket when it lives here.

use std::collections::BTreeMap;

use aws_sdk_lambda::primitives::Blob;

use super::aws::{self, Aws};
use super::{
    AccountSummary, Ctx, RoleTrust, checks, diff, diff_findings, finding, read_role_trust,
};
use crate::audit::Finding;
use crate::iam::PolicyDocument;
use crate::model::PhrLocation;

/// Runtime and handler every rendered function has.
pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";

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
        let (f, p) = phr(ctx, aws, acct).await;
        r.findings.extend(f);
        r.phr_policy = p;
    }
    r
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
            let runtime = c
                .runtime()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default();
            let mut diffs = Vec::new();
            if runtime != RUNTIME {
                diffs.push(format!("runtime {runtime:?} (expected {RUNTIME:?})"));
            }
            if c.handler() != Some(HANDLER) {
                diffs.push(format!("handler {:?} (expected {HANDLER:?})", c.handler()));
            }
            if c.memory_size() != Some(env.lambda.memory_mb as i32) {
                diffs.push(format!(
                    "memory {:?} MB (expected {})",
                    c.memory_size(),
                    env.lambda.memory_mb
                ));
            }
            if c.timeout() != Some(env.lambda.timeout_seconds as i32) {
                diffs.push(format!(
                    "timeout {:?} s (expected {})",
                    c.timeout(),
                    env.lambda.timeout_seconds
                ));
            }
            if let Some(role) = c.role()
                && role != env.lambda_role_arn()
            {
                diffs.push(format!(
                    "execution role {role} (expected {})",
                    env.lambda_role_arn()
                ));
            }
            if !diffs.is_empty() {
                r.findings.push(finding(
                    checks::FUNCTION_CONFIG,
                    acct,
                    &arn,
                    format!("function {name}: {}", diffs.join("; ")),
                    None,
                ));
            }
            match lambda
                .get_function_concurrency()
                .function_name(name)
                .send()
                .await
            {
                Ok(o)
                    if o.reserved_concurrent_executions()
                        == Some(env.lambda.reserved_concurrency as i32) => {}
                Ok(o) => r.findings.push(finding(
                    checks::FUNCTION_CONCURRENCY,
                    acct,
                    &arn,
                    format!(
                        "function {name}: reserved concurrency {} (expected {})",
                        o.reserved_concurrent_executions()
                            .map_or("none".to_owned(), |n| n.to_string()),
                        env.lambda.reserved_concurrency
                    ),
                    None,
                )),
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
    boundary(ctx, &iam, &role, &arn, &mut r.findings).await;
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
async fn boundary(
    ctx: &Ctx,
    iam: &aws_sdk_iam::Client,
    role: &str,
    arn: &str,
    findings: &mut Vec<Finding>,
) {
    let env = &ctx.env;
    let acct = env.primary_account.as_str();
    let want = env.boundary_policy_arn();
    let live = match iam.get_role().role_name(role).send().await {
        Ok(o) => o
            .role()
            .and_then(|r| r.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_owned),
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
    match super::storage::fetch_policy(iam, &want).await {
        Ok(doc) => findings.extend(diff_findings(
            checks::LAMBDA_BOUNDARY,
            acct,
            &want,
            "execution role permissions boundary",
            "policies/lambda-execution-boundary.json",
            &ctx.docs.execution_boundary,
            &format!("live:{want}"),
            &doc,
        )),
        Err(e) => findings.push(finding(
            checks::LAMBDA_BOUNDARY,
            acct,
            &want,
            format!("cannot read the permissions boundary policy: {e}"),
            None,
        )),
    }
}

pub async fn phr(ctx: &Ctx, aws: &Aws, account: &str) -> (Vec<Finding>, Option<PolicyDocument>) {
    let bucket = ctx.env.phr.bucket.as_str();
    let arn = crate::contract::bucket_arn(bucket);
    let s3 = aws.s3();
    let mut out = Vec::new();
    if let Err(e) = s3.head_bucket().bucket(bucket).send().await {
        let why = match aws::code(&e) {
            Some("NotFound") | Some("NoSuchBucket") => "does not exist".to_owned(),
            _ => format!("cannot be read: {}", aws::describe(&e)),
        };
        out.push(finding(
            checks::PHR_MISSING,
            account,
            &arn,
            format!("PHR bucket {bucket} {why}"),
            None,
        ));
        return (out, None);
    }
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(o) => {
            let algos: Vec<String> = o
                .server_side_encryption_configuration()
                .map(|c| {
                    c.rules()
                        .iter()
                        .filter_map(|r| r.apply_server_side_encryption_by_default())
                        .map(|d| d.sse_algorithm().as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            if algos.is_empty() {
                out.push(finding(
                    checks::PHR_ENCRYPTION,
                    account,
                    &arn,
                    "no default encryption rule",
                    None,
                ));
            }
        }
        Err(e) => out.push(finding(
            checks::PHR_ENCRYPTION,
            account,
            &arn,
            format!("no default encryption: {}", aws::describe(&e)),
            None,
        )),
    }
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(o) => {
            let c = o.public_access_block_configuration();
            let flags = [
                ("BlockPublicAcls", c.and_then(|c| c.block_public_acls())),
                ("IgnorePublicAcls", c.and_then(|c| c.ignore_public_acls())),
                ("BlockPublicPolicy", c.and_then(|c| c.block_public_policy())),
                (
                    "RestrictPublicBuckets",
                    c.and_then(|c| c.restrict_public_buckets()),
                ),
            ];
            let off: Vec<&str> = flags
                .iter()
                .filter(|(_, v)| *v != Some(true))
                .map(|(k, _)| *k)
                .collect();
            if !off.is_empty() {
                out.push(finding(
                    checks::PHR_PUBLIC_ACCESS,
                    account,
                    &arn,
                    format!("Block Public Access is off: {}", off.join(", ")),
                    None,
                ));
            }
        }
        Err(e) => out.push(finding(
            checks::PHR_PUBLIC_ACCESS,
            account,
            &arn,
            format!(
                "no Block Public Access configuration: {}",
                aws::describe(&e)
            ),
            None,
        )),
    }
    match s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(o) => {
            let modes: Vec<String> = o
                .ownership_controls()
                .map(|c| {
                    c.rules()
                        .iter()
                        .map(|r| r.object_ownership().as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            if modes != ["BucketOwnerEnforced"] {
                out.push(finding(
                    checks::PHR_OWNERSHIP,
                    account,
                    &arn,
                    format!("object ownership is {modes:?}, expected BucketOwnerEnforced"),
                    None,
                ));
            }
        }
        Err(e) => out.push(finding(
            checks::PHR_OWNERSHIP,
            account,
            &arn,
            format!("no ownership controls: {}", aws::describe(&e)),
            None,
        )),
    }
    let live_name = format!("live:s3:{bucket}/policy");
    let policy = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(o) => match diff::parse_live(o.policy().unwrap_or_default()) {
            Ok(doc) => {
                out.extend(diff_findings(
                    checks::PHR_POLICY,
                    account,
                    &arn,
                    "PHR bucket policy",
                    "policies/phr-bucket-policy.json",
                    &ctx.docs.phr_bucket_policy,
                    &live_name,
                    &doc,
                ));
                Some(doc)
            }
            Err(e) => {
                out.push(finding(
                    checks::PHR_POLICY,
                    account,
                    &arn,
                    format!("bucket policy does not parse: {e}"),
                    None,
                ));
                None
            }
        },
        Err(e) => {
            out.push(finding(
                checks::PHR_POLICY,
                account,
                &arn,
                format!(
                    "no bucket policy (requests without TLS are not denied): {}",
                    aws::describe(&e)
                ),
                None,
            ));
            None
        }
    };
    (out, policy)
}

/// One storage account as the self-test reports it (the `lambda` crate's
/// `AccountReport`, read loosely so a newer Lambda still parses).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SelfTestAccount {
    pub account_id: String,
    #[serde(default)]
    pub trust_ok: bool,
    pub bucket_count: Option<u64>,
    pub headroom: Option<i64>,
    pub error: Option<String>,
}

/// The self-test outcome: per-account reports, or why it could not run.
pub type SelfTest = std::result::Result<Vec<SelfTestAccount>, String>;

/// Invokes the function with a function-URL event carrying
/// `{"kind":"self-test","api_version":"1"}` (the request the `lambda` crate defines).
pub async fn self_test(ctx: &Ctx, aws: &Aws) -> SelfTest {
    let body =
        serde_json::json!({"kind": "self-test", "api_version": crate::contract::API_VERSION})
            .to_string();
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
        .map_err(|e| format!("lambda:InvokeFunction failed: {}", aws::describe(&e)))?;
    let payload = out
        .payload()
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    if let Some(fe) = out.function_error() {
        return Err(format!(
            "the function failed ({fe}): {}",
            String::from_utf8_lossy(&payload)
                .chars()
                .take(300)
                .collect::<String>()
        ));
    }
    let resp: serde_json::Value = serde_json::from_slice(&payload)
        .map_err(|e| format!("the self-test answer is not JSON: {e}"))?;
    let status = resp.get("statusCode").and_then(|s| s.as_u64()).unwrap_or(0);
    let body_text = resp.get("body").and_then(|b| b.as_str()).unwrap_or("");
    if status != 200 {
        return Err(format!(
            "the self-test answered HTTP {status}: {}",
            body_text.chars().take(300).collect::<String>()
        ));
    }
    let body: serde_json::Value = serde_json::from_str(body_text)
        .map_err(|e| format!("the self-test body is not JSON: {e}"))?;
    let accounts = body.get("accounts").cloned().unwrap_or_default();
    serde_json::from_value(accounts).map_err(|e| format!("unexpected self-test answer: {e}"))
}
