//! What exists today, read-only: the primary account with the caller's
//! credentials, each storage account through the audit role (as `verify`
//! does). Every read is a `Get*`/`List*`/`Describe*` call.

use std::collections::BTreeMap;

use aws_sdk_iam::error::ProvideErrorMetadata;

use crate::aws::{self, Aws, AwsError};
use crate::contract;
use crate::iam::PolicyDocument;
use crate::iam::live::{parse_lambda_policy, parse_live};
use crate::model::Environment;

/// A role as it exists: trust, inline and attached policies.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleState {
    pub name: String,
    pub arn: String,
    pub trust: PolicyDocument,
    /// `(policy name, document)`.
    pub inline: Vec<(String, PolicyDocument)>,
    /// `(policy ARN, document)`.
    pub attached: Vec<(String, PolicyDocument)>,
}

/// The provisioning function as it exists.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionState {
    pub name: String,
    pub arn: String,
    /// Execution role ARN.
    pub role: String,
    /// Environment variables (values of secret-looking keys are kept in
    /// memory only to compare them; they are never printed).
    pub variables: BTreeMap<String, String>,
    /// Auth type of the function URL, `None` when there is no URL.
    pub url_auth: Option<String>,
    /// The function's resource policy (`None`: no policy).
    pub policy: Option<PolicyDocument>,
}

/// A bucket and which of the configurations xacct renders it has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BucketState {
    pub name: String,
    pub policy: Option<PolicyDocument>,
    pub public_access_block: bool,
    pub ownership_controls: bool,
    pub encryption: bool,
    pub versioning: bool,
}

/// The primary account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Primary {
    pub account: String,
    pub function: Option<FunctionState>,
    /// The execution role under its rendered name.
    pub role: Option<RoleState>,
    /// The function's role when it has another name than the rendered one.
    pub function_role: Option<RoleState>,
    pub log_group: bool,
    /// The PHR bucket, when the spec puts it in the primary account.
    pub phr: Option<BucketState>,
}

/// One storage account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Storage {
    pub account: String,
    pub role: Option<RoleState>,
    /// The customer-managed `S3BucketManagement` in this account (attached or not).
    pub policy: Option<PolicyDocument>,
    pub phr: Option<BucketState>,
}

fn is_code(code: Option<&str>, want: &[&str]) -> bool {
    code.is_some_and(|c| want.contains(&c))
}

/// `iam:GetRole` and the role's policies; `None` when the role does not exist.
pub async fn role(iam: &aws_sdk_iam::Client, name: &str) -> Result<Option<RoleState>, AwsError> {
    let got = match iam.get_role().role_name(name).send().await {
        Ok(r) => r,
        Err(e) if is_code(e.code(), &["NoSuchEntity"]) => return Ok(None),
        Err(e) => return Err(AwsError::sdk("iam:GetRole", name, &e)),
    };
    let r = got
        .role()
        .ok_or_else(|| AwsError::new("iam:GetRole", name, "the answer carried no role"))?;
    let trust = parse_live(r.assume_role_policy_document().unwrap_or_default())
        .map_err(|e| AwsError::new("iam:GetRole", r.arn(), format!("trust policy: {e}")))?;
    let mut state = RoleState {
        name: name.to_owned(),
        arn: r.arn().to_owned(),
        trust,
        inline: Vec::new(),
        attached: Vec::new(),
    };
    let mut names = Vec::new();
    let mut pages = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| AwsError::sdk("iam:ListRolePolicies", name, &e))?;
        names.extend(p.policy_names().iter().cloned());
    }
    for n in names {
        let p = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&n)
            .send()
            .await
            .map_err(|e| AwsError::sdk("iam:GetRolePolicy", format!("{name}/{n}"), &e))?;
        let doc = parse_live(p.policy_document()).map_err(|e| {
            AwsError::new("iam:GetRolePolicy", format!("{name}/{n}"), e.to_string())
        })?;
        state.inline.push((n, doc));
    }
    let mut arns = Vec::new();
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| AwsError::sdk("iam:ListAttachedRolePolicies", name, &e))?;
        arns.extend(
            p.attached_policies()
                .iter()
                .filter_map(|a| a.policy_arn().map(str::to_owned)),
        );
    }
    for arn in arns {
        if let Some(doc) = managed_policy(iam, &arn).await? {
            state.attached.push((arn, doc));
        }
    }
    Ok(Some(state))
}

/// `iam:GetPolicy` + `iam:GetPolicyVersion` (default version); `None` when absent.
pub async fn managed_policy(
    iam: &aws_sdk_iam::Client,
    arn: &str,
) -> Result<Option<PolicyDocument>, AwsError> {
    let p = match iam.get_policy().policy_arn(arn).send().await {
        Ok(p) => p,
        Err(e) if is_code(e.code(), &["NoSuchEntity"]) => return Ok(None),
        Err(e) => return Err(AwsError::sdk("iam:GetPolicy", arn, &e)),
    };
    let Some(version) = p.policy().and_then(|p| p.default_version_id()) else {
        return Err(AwsError::new("iam:GetPolicy", arn, "no default version"));
    };
    let v = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| AwsError::sdk("iam:GetPolicyVersion", arn, &e))?;
    let text = v
        .policy_version()
        .and_then(|v| v.document())
        .unwrap_or_default();
    parse_live(text)
        .map(Some)
        .map_err(|e| AwsError::new("iam:GetPolicyVersion", arn, e.to_string()))
}

/// The function, its URL and resource policy; `None` when it does not exist.
pub async fn function(aws: &Aws, name: &str) -> Result<Option<FunctionState>, AwsError> {
    let lambda = aws.lambda();
    let c = match lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
    {
        Ok(c) => c,
        Err(e) if is_code(e.code(), &["ResourceNotFoundException"]) => return Ok(None),
        Err(e) => return Err(AwsError::sdk("lambda:GetFunctionConfiguration", name, &e)),
    };
    let variables: BTreeMap<String, String> = c
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let url_auth = match lambda
        .get_function_url_config()
        .function_name(name)
        .send()
        .await
    {
        Ok(u) => Some(u.auth_type().as_str().to_owned()),
        Err(e) if is_code(e.code(), &["ResourceNotFoundException"]) => None,
        Err(e) => return Err(AwsError::sdk("lambda:GetFunctionUrlConfig", name, &e)),
    };
    let policy = match lambda.get_policy().function_name(name).send().await {
        Ok(p) => Some(
            parse_lambda_policy(p.policy().unwrap_or_default())
                .map_err(|e| AwsError::new("lambda:GetPolicy", name, e.to_string()))?,
        ),
        Err(e) if is_code(e.code(), &["ResourceNotFoundException"]) => None,
        Err(e) => return Err(AwsError::sdk("lambda:GetPolicy", name, &e)),
    };
    Ok(Some(FunctionState {
        name: name.to_owned(),
        arn: c.function_arn().unwrap_or_default().to_owned(),
        role: c.role().unwrap_or_default().to_owned(),
        variables,
        url_auth,
        policy,
    }))
}

/// Whether the log group exists (`logs:DescribeLogGroups` by prefix).
pub async fn log_group(aws: &Aws, name: &str) -> Result<bool, AwsError> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&aws.config);
    let mut pages = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| AwsError::sdk("logs:DescribeLogGroups", name, &e))?;
        if p.log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(name))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The bucket when this account owns it (`ListBuckets` with the name as
/// prefix: `HeadBucket` answers for other accounts' buckets too).
pub async fn bucket(aws: &Aws, name: &str) -> Result<Option<BucketState>, AwsError> {
    let s3 = aws.s3();
    let owned = s3
        .list_buckets()
        .prefix(name)
        .send()
        .await
        .map_err(|e| AwsError::sdk("s3:ListAllMyBuckets", name, &e))?
        .buckets()
        .iter()
        .any(|b| b.name() == Some(name));
    if !owned {
        return Ok(None);
    }
    let mut b = BucketState {
        name: name.to_owned(),
        ..BucketState::default()
    };
    b.policy = match s3.get_bucket_policy().bucket(name).send().await {
        Ok(p) => Some(
            parse_live(p.policy().unwrap_or_default())
                .map_err(|e| AwsError::new("s3:GetBucketPolicy", name, e.to_string()))?,
        ),
        Err(e) if is_code(e.code(), &["NoSuchBucketPolicy"]) => None,
        Err(e) => return Err(AwsError::sdk("s3:GetBucketPolicy", name, &e)),
    };
    b.public_access_block = match s3.get_public_access_block().bucket(name).send().await {
        Ok(_) => true,
        Err(e) if is_code(e.code(), &["NoSuchPublicAccessBlockConfiguration"]) => false,
        Err(e) => return Err(AwsError::sdk("s3:GetBucketPublicAccessBlock", name, &e)),
    };
    b.ownership_controls = match s3.get_bucket_ownership_controls().bucket(name).send().await {
        Ok(_) => true,
        Err(e) if is_code(e.code(), &["OwnershipControlsNotFoundError"]) => false,
        Err(e) => return Err(AwsError::sdk("s3:GetBucketOwnershipControls", name, &e)),
    };
    b.encryption = match s3.get_bucket_encryption().bucket(name).send().await {
        Ok(_) => true,
        Err(e)
            if is_code(
                e.code(),
                &["ServerSideEncryptionConfigurationNotFoundError"],
            ) =>
        {
            false
        }
        Err(e) => return Err(AwsError::sdk("s3:GetEncryptionConfiguration", name, &e)),
    };
    b.versioning = match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(v) => v.status().is_some(),
        // An answer the SDK could not parse (moto's XML root): read its status.
        Err(e) => match e.raw_response() {
            Some(raw) => raw
                .body()
                .bytes()
                .map(String::from_utf8_lossy)
                .is_some_and(|b| b.contains("<Status>")),
            None => return Err(AwsError::sdk("s3:GetBucketVersioning", name, &e)),
        },
    };
    Ok(Some(b))
}

/// The primary account, read with the caller's credentials (which must be the
/// primary account's).
pub async fn primary(env: &Environment, aws: &Aws) -> Result<Primary, AwsError> {
    let who = aws
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::sdk("sts:GetCallerIdentity", "the caller", &e))?;
    let acct = who.account().unwrap_or_default();
    if acct != env.primary_account {
        return Err(AwsError::new(
            "sts:GetCallerIdentity",
            who.arn().unwrap_or("the caller"),
            format!(
                "the credentials belong to account {acct}, not the primary account {}",
                env.primary_account
            ),
        )
        .next("use credentials (--profile) of the primary account"));
    }
    let iam = aws.iam();
    let function = function(aws, &env.lambda.function_name).await?;
    let role = role(&iam, &env.lambda_role_name()).await?;
    let function_role = match &function {
        Some(f) if f.role != env.lambda_role_arn() && !f.role.is_empty() => {
            let name = f.role.rsplit('/').next().unwrap_or_default();
            self::role(&iam, name).await?
        }
        _ => None,
    };
    let log_group = log_group(aws, &env.log_group_name()).await?;
    let phr = if env.phr_in_primary() {
        bucket(aws, &env.phr.bucket).await?
    } else {
        None
    };
    Ok(Primary {
        account: env.primary_account.clone(),
        function,
        role,
        function_role,
        log_group,
        phr,
    })
}

/// One storage account through the audit role.
pub async fn storage(
    env: &Environment,
    base: &Aws,
    audit_role: &str,
    acct: &str,
) -> Result<Storage, AwsError> {
    let arn = format!("arn:aws:iam::{acct}:role/{audit_role}");
    let s = aws::audit_session(base, &arn, acct).await?;
    let iam = s.iam();
    let role = role(&iam, contract::STORAGE_ROLE_NAME).await?;
    let policy = managed_policy(&iam, &storage_policy_arn(acct)).await?;
    let phr = if !env.phr_in_primary() && env.phr.account == acct {
        bucket(&s, &env.phr.bucket).await?
    } else {
        None
    };
    Ok(Storage {
        account: acct.to_owned(),
        role,
        policy,
        phr,
    })
}

/// `arn:aws:iam::<acct>:policy/S3BucketManagement`.
pub fn storage_policy_arn(acct: &str) -> String {
    format!(
        "arn:aws:iam::{acct}:policy/{}",
        contract::STORAGE_POLICY_NAME
    )
}
