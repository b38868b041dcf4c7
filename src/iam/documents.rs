//! The IAM documents of an environment, each built once from the validated model.
//!
//! Least privilege by construction; the reasons for each choice are in
//! ARCHITECTURE.md ("IAM design").

use crate::contract;
use crate::iam::{PolicyDocument, Principal, Statement};
use crate::model::Environment;

/// Every IAM document of one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Documents {
    /// Trust of the Lambda execution role (primary account).
    pub lambda_trust: PolicyDocument,
    /// Inline permission policy of the Lambda execution role.
    pub lambda_execution: PolicyDocument,
    /// Trust of `S3BucketManager` (identical in every storage account).
    pub storage_trust: PolicyDocument,
    /// `S3BucketManagement`, attached to `S3BucketManager`.
    pub storage_management: PolicyDocument,
    /// Bucket policy of the PHR bucket.
    pub phr_bucket_policy: PolicyDocument,
    /// The bucket policy the runtime puts on a customer bucket (shown for an example customer).
    pub customer_bucket_policy: PolicyDocument,
    /// Resource policy of the function: who may call the function URL.
    pub function_url_policy: PolicyDocument,
    /// What the human or CI deployer of the primary stack needs.
    pub deployer: PolicyDocument,
    /// Permissions boundary of the Lambda execution role (issue 15).
    pub execution_boundary: PolicyDocument,
    /// Bucket policy of the environment's log bucket (PHR server access logs).
    pub log_bucket_policy: PolicyDocument,
    /// Key policy of the customer-managed key (`security.kms_key`), else `None`.
    pub kms_key_policy: Option<PolicyDocument>,
}

/// File (under `policies/`) of the customer-managed key's policy.
pub const KMS_KEY_POLICY_FILE: &str = "kms-key-policy.json";

/// Key administration the primary account may delegate through IAM: every
/// action to keep the key manageable (no lockout), none that encrypts,
/// decrypts or hands out grants, and none that turns rotation off.
pub const KMS_ADMIN_ACTIONS: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

/// What CloudWatch Logs does with the key for one log group.
pub const KMS_LOGS_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// Customer used to show the customer bucket policy in `policies/`.
pub const EXAMPLE_CUSTOMER: &str = "example-customer";

impl Documents {
    pub fn build(env: &Environment) -> Self {
        Documents {
            lambda_trust: lambda_trust(env),
            lambda_execution: lambda_execution(env),
            storage_trust: storage_trust(env),
            storage_management: storage_management(env),
            phr_bucket_policy: bucket_policy(&env.phr.bucket, &env.readers),
            customer_bucket_policy: bucket_policy(&example_bucket(env), &env.readers),
            function_url_policy: function_url_policy(env),
            deployer: deployer(env),
            execution_boundary: execution_boundary(env),
            log_bucket_policy: log_bucket_policy(env),
            kms_key_policy: env.security.kms_key.then(|| kms_key_policy(env)),
        }
    }

    /// `(file name under policies/, document)` in a stable order.
    pub fn files(&self) -> Vec<(&'static str, &PolicyDocument)> {
        self.all().into_iter().map(|(k, d)| (k.file(), d)).collect()
    }

    /// Every document that ships, with its kind: **the one list** that
    /// `render` writes (`policies/`), and that no new access (XA023) compares
    /// every source against. A document added here without a [`DocKind`] does
    /// not compile; a kind is matched exhaustively by the audit.
    pub fn all(&self) -> Vec<(DocKind, &PolicyDocument)> {
        let mut all = vec![
            (DocKind::LambdaTrust, &self.lambda_trust),
            (DocKind::LambdaExecution, &self.lambda_execution),
            (DocKind::StorageTrust, &self.storage_trust),
            (DocKind::StorageManagement, &self.storage_management),
            (DocKind::PhrBucketPolicy, &self.phr_bucket_policy),
            (DocKind::CustomerBucketPolicy, &self.customer_bucket_policy),
            (DocKind::FunctionUrlPolicy, &self.function_url_policy),
            (DocKind::Deployer, &self.deployer),
            (DocKind::ExecutionBoundary, &self.execution_boundary),
            (DocKind::LogBucketPolicy, &self.log_bucket_policy),
        ];
        if let Some(k) = &self.kms_key_policy {
            all.push((DocKind::KmsKeyPolicy, k));
        }
        all
    }

    /// The rendered document of `kind` (`None`: not rendered for this environment).
    pub fn get(&self, kind: DocKind) -> Option<&PolicyDocument> {
        self.all()
            .into_iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, d)| d)
    }
}

/// Which rendered document a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocKind {
    LambdaTrust,
    LambdaExecution,
    StorageTrust,
    StorageManagement,
    PhrBucketPolicy,
    CustomerBucketPolicy,
    FunctionUrlPolicy,
    Deployer,
    ExecutionBoundary,
    LogBucketPolicy,
    KmsKeyPolicy,
}

impl DocKind {
    /// The file under `policies/`.
    pub fn file(self) -> &'static str {
        match self {
            DocKind::LambdaTrust => "lambda-execution-trust.json",
            DocKind::LambdaExecution => "lambda-execution-policy.json",
            DocKind::StorageTrust => "s3-bucket-manager-trust.json",
            DocKind::StorageManagement => "s3-bucket-management-policy.json",
            DocKind::PhrBucketPolicy => "phr-bucket-policy.json",
            DocKind::CustomerBucketPolicy => "customer-bucket-policy.json",
            DocKind::FunctionUrlPolicy => "function-url-policy.json",
            DocKind::Deployer => "deployer-policy.json",
            DocKind::ExecutionBoundary => "lambda-execution-boundary.json",
            DocKind::LogBucketPolicy => "log-bucket-policy.json",
            DocKind::KmsKeyPolicy => KMS_KEY_POLICY_FILE,
        }
    }
}

/// The example customer bucket shown in `policies/customer-bucket-policy.json`.
pub fn example_bucket(env: &Environment) -> String {
    contract::bucket_name(&env.bucket_prefix, EXAMPLE_CUSTOMER)
        .expect("a validated prefix always yields a valid name")
}

/// Lambda's service principal, narrowed with `aws:SourceAccount` (the
/// confused-deputy key Lambda sets when it assumes an execution role).
/// Verifier principals, when configured, are trusted by exact ARN.
pub fn lambda_trust(env: &Environment) -> PolicyDocument {
    let mut statements = vec![
        Statement::allow("LambdaServiceAssumesExecutionRole")
            .principal(Principal::service("lambda.amazonaws.com"))
            .actions(["sts:AssumeRole"])
            .condition(
                "StringEquals",
                "aws:SourceAccount",
                [env.primary_account.as_str()],
            ),
    ];
    if !env.verifiers.is_empty() {
        statements.push(
            Statement::allow("VerifierWalksTrustChain")
                .principal(Principal::aws(env.verifiers.iter().cloned()))
                .actions(["sts:AssumeRole"]),
        );
    }
    PolicyDocument::new(statements)
}

pub fn lambda_execution(env: &Environment) -> PolicyDocument {
    let mut statements = Vec::new();
    if env.discover {
        let org = env.organization_id.as_deref().unwrap_or_default();
        statements.push(
            Statement::allow("AssumeStorageRolesInOrganization")
                .actions(["sts:AssumeRole"])
                .resources([format!(
                    "arn:aws:iam::*:role/{}",
                    contract::STORAGE_ROLE_NAME
                )])
                .condition("StringEquals", "aws:ResourceOrgID", [org]),
        );
        statements.push(
            Statement::allow("DiscoverStorageAccountsList")
                .actions(["organizations:ListAccounts"])
                .resources(["*"]),
        );
        statements.push(
            Statement::allow("DiscoverStorageAccountsTags")
                .actions(["organizations:ListTagsForResource"])
                .resources([format!("arn:aws:organizations::*:account/{org}/*")]),
        );
    } else {
        statements.push(
            Statement::allow("AssumeStorageRoles")
                .actions(["sts:AssumeRole"])
                .resources(env.storage_role_arns()),
        );
    }
    statements.push(
        Statement::allow("ProvisioningStateTable")
            .actions(contract::state::RUNTIME_ACTIONS.iter().copied())
            .resources([env.state_table_arn()]),
    );
    statements.push(
        Statement::allow("WriteOwnLogs")
            .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
            .resources([format!("{}:*", env.log_group_arn())]),
    );
    if let Some(topic) = &env.lambda.ops_topic_arn {
        statements.push(
            Statement::allow("NotifyOpsOfCapacity")
                .actions(["sns:Publish"])
                .resources([topic.as_str()]),
        );
    }
    PolicyDocument::new(statements)
}

/// Trusts the primary account root, narrowed to the Lambda execution role by
/// `aws:PrincipalArn` (see ARCHITECTURE.md for why not the role ARN itself).
pub fn storage_trust(env: &Environment) -> PolicyDocument {
    let mut st = Statement::allow("ProvisioningLambdaOnly")
        .principal(Principal::aws([format!(
            "arn:aws:iam::{}:root",
            env.primary_account
        )]))
        .actions(["sts:AssumeRole"])
        .condition("ArnEquals", "aws:PrincipalArn", [env.lambda_role_arn()]);
    if let Some(x) = &env.external_id {
        st = st.condition("StringEquals", "sts:ExternalId", [x.as_str()]);
    }
    PolicyDocument::new(vec![st])
}

/// In the account regional namespace `s3:CreateBucket` gets its own statement:
/// only on `<prefix>-*-<region>-an` and only with `s3:x-amz-bucket-namespace =
/// account-regional`, so the role can never create a global name (squattable,
/// or a name squatted already); every other bucket action stays on
/// `<prefix>-*`, which legacy global buckets need.
pub fn storage_management(env: &Environment) -> PolicyDocument {
    let bucket_actions = contract::BUCKET_ACTIONS.iter().copied();
    let mut statements = match env.bucket_namespace {
        contract::BucketNamespace::Global => vec![
            Statement::allow("ManageCustomerBuckets")
                .actions(bucket_actions)
                .resources([contract::customer_bucket_pattern(&env.bucket_prefix)]),
        ],
        contract::BucketNamespace::AccountRegional => vec![
            Statement::allow("CreateCustomerBucketsInAccountRegionalNamespace")
                .actions(["s3:CreateBucket"])
                .resources([contract::namespaced_bucket_pattern(
                    &env.bucket_prefix,
                    &env.region,
                )])
                .condition(
                    "StringEquals",
                    contract::NAMESPACE_CONDITION_KEY,
                    [contract::ACCOUNT_REGIONAL],
                ),
            Statement::allow("ManageCustomerBuckets")
                .actions(bucket_actions.filter(|a| *a != "s3:CreateBucket"))
                .resources([contract::customer_bucket_pattern(&env.bucket_prefix)]),
        ],
    };
    statements.push(
        Statement::allow("CountBucketsForCapacity")
            .actions(contract::ACCOUNT_ACTIONS.iter().copied())
            .resources(["*"]),
    );
    if env.allow_canary {
        statements.push(
            Statement::allow("DeleteVerifierCanaryBuckets")
                .actions(contract::CANARY_ACTIONS.iter().copied())
                .resources([contract::canary_bucket_pattern(&env.bucket_prefix)]),
        );
    }
    statements.push(deny_public_access_changes());
    PolicyDocument::new(statements)
}

/// The explicit Deny in `S3BucketManagement`: the role may never change Block
/// Public Access (bucket or account) nor write an ACL, whatever else is allowed.
pub fn deny_public_access_changes() -> Statement {
    Statement::deny("NeverChangePublicAccess")
        .actions(contract::DENIED_ACTIONS.iter().copied())
        .resources(["*"])
}

/// TLS-only, reader principals may read: the PHR bucket and every customer bucket.
pub fn bucket_policy(bucket: &str, readers: &[String]) -> PolicyDocument {
    PolicyDocument::from_value(contract::customer_bucket_policy(bucket, readers))
        .expect("contract::customer_bucket_policy is a valid policy document")
}

/// Condition key of a `lambda:InvokeFunction` permission added with
/// `InvokedViaFunctionUrl` (`AddPermission`, CloudFormation
/// `AWS::Lambda::Permission`): the grant holds only for calls through the URL.
pub const INVOKED_VIA_URL_KEY: &str = "lambda:InvokedViaFunctionUrl";

/// The function policy as Terraform provider 5.x renders it: every
/// `lambda:InvokedViaFunctionUrl` condition dropped (provider 5.x cannot say it; the
/// documented gap of docs/runtime.md). What a Terraform apply leaves live.
pub fn without_invoked_via_url(doc: &PolicyDocument) -> PolicyDocument {
    let mut doc = doc.clone();
    for st in &mut doc.statement {
        if let Some(m) = st.condition.get_mut("Bool") {
            m.retain(|k, _| k != INVOKED_VIA_URL_KEY);
        }
        st.condition.retain(|_, m| !m.is_empty());
    }
    doc
}

/// One pair of statements per invoker: `lambda:InvokeFunctionUrl` with
/// `AWS_IAM` auth, plus `lambda:InvokeFunction`, which function URLs created
/// since October 2025 also require, held to calls through the URL
/// (`lambda:InvokedViaFunctionUrl`), so an invoker cannot call `Invoke`
/// directly, outside the URL's auth and CORS. CloudFormation renders it as
/// `InvokedViaFunctionUrl: true`; the Terraform provider 5.100 cannot
/// (docs/runtime.md "Invokers through the URL only").
pub fn function_url_policy(env: &Environment) -> PolicyDocument {
    let function = env.function_arn();
    let mut statements = Vec::new();
    for (i, invoker) in env.invokers.iter().enumerate() {
        statements.push(
            Statement::allow(&format!("InvokeFunctionUrl{i}"))
                .principal(Principal::aws([invoker.as_str()]))
                .actions(["lambda:InvokeFunctionUrl"])
                .resources([function.as_str()])
                .condition("StringEquals", "lambda:FunctionUrlAuthType", ["AWS_IAM"]),
        );
        statements.push(
            Statement::allow(&format!("InvokeFunction{i}"))
                .principal(Principal::aws([invoker.as_str()]))
                .actions(["lambda:InvokeFunction"])
                .resources([function.as_str()])
                .condition("Bool", INVOKED_VIA_URL_KEY, ["true"]),
        );
    }
    PolicyDocument::new(statements)
}

/// The log bucket: TLS only, and S3 server access logging may write the PHR
/// bucket's logs under [`crate::model::ACCESS_LOG_PREFIX`], for that bucket and
/// account only (`aws:SourceArn`, `aws:SourceAccount`: no confused deputy).
/// Nobody else is granted anything; the account's own principals read it.
pub fn log_bucket_policy(env: &Environment) -> PolicyDocument {
    let arn = contract::bucket_arn(&env.phr.log_bucket);
    let mut statements = vec![
        Statement::deny("DenyInsecureTransport")
            .principal(Principal::aws(["*"]))
            .actions(["s3:*"])
            .resources([arn.clone(), format!("{arn}/*")])
            .condition("Bool", "aws:SecureTransport", ["false"]),
        Statement::allow("S3ServerAccessLogsOfPhrBucket")
            .principal(Principal::service("logging.s3.amazonaws.com"))
            .actions(["s3:PutObject"])
            .resources([format!("{arn}/{}*", crate::model::ACCESS_LOG_PREFIX)])
            .condition(
                "ArnLike",
                "aws:SourceArn",
                [contract::bucket_arn(&env.phr.bucket)],
            )
            .condition(
                "StringEquals",
                "aws:SourceAccount",
                [env.phr.account.as_str()],
            ),
    ];
    if env.security.cloudtrail {
        statements.push(
            Statement::allow("CloudTrailChecksBucketAcl")
                .principal(Principal::service("cloudtrail.amazonaws.com"))
                .actions(["s3:GetBucketAcl"])
                .resources([arn.clone()])
                .condition("StringEquals", "aws:SourceArn", [env.trail_arn()]),
        );
        statements.push(
            Statement::allow("CloudTrailWritesTrailLogs")
                .principal(Principal::service("cloudtrail.amazonaws.com"))
                .actions(["s3:PutObject"])
                .resources([format!(
                    "{arn}/{}/AWSLogs/{}/*",
                    crate::model::TRAIL_PREFIX,
                    env.primary_account
                )])
                .condition("StringEquals", "aws:SourceArn", [env.trail_arn()])
                .condition(
                    "StringEquals",
                    "aws:SourceAccount",
                    [env.primary_account.as_str()],
                ),
        );
    }
    PolicyDocument::new(statements)
}

/// The policy of the customer-managed key (`security.kms_key`): the primary
/// account administers it through IAM (no crypto, no grants); CloudWatch Logs
/// uses it for the function's log group only (`kms:EncryptionContext:aws:logs:arn`);
/// the account's principals and the readers use it only through S3
/// (`kms:ViaService`, `kms:CallerAccount`) and only for the PHR bucket's objects;
/// with `security.cloudtrail`, CloudTrail encrypts this account's trail logs and
/// the account may decrypt them. No wildcard principal anywhere. In a key policy
/// `Resource: "*"` means this key.
pub fn kms_key_policy(env: &Environment) -> PolicyDocument {
    let root = format!("arn:aws:iam::{}:root", env.primary_account);
    let s3 = format!("s3.{}.amazonaws.com", env.region);
    let bucket = contract::bucket_arn(&env.phr.bucket);
    let phr_context = [bucket.clone(), format!("{bucket}/*")];
    let mut reader_accounts: Vec<&str> = env
        .readers
        .iter()
        .filter_map(|r| crate::contract::arn_account(r))
        .collect();
    reader_accounts.sort_unstable();
    reader_accounts.dedup();
    let mut statements = vec![
        Statement::allow("KeyAdministrationByTheAccount")
            .principal(Principal::aws([root.as_str()]))
            .actions(KMS_ADMIN_ACTIONS.iter().copied())
            .resources(["*"]),
        Statement::allow("LogsEncryptsTheFunctionLogGroup")
            .principal(Principal::service(&format!(
                "logs.{}.amazonaws.com",
                env.region
            )))
            .actions(KMS_LOGS_ACTIONS.iter().copied())
            .resources(["*"])
            .condition(
                "ArnEquals",
                "kms:EncryptionContext:aws:logs:arn",
                [env.log_group_arn()],
            ),
        Statement::allow("AccountUsesKeyThroughS3ForPhrBucket")
            .principal(Principal::aws([root.as_str()]))
            .actions(["kms:Decrypt", "kms:GenerateDataKey"])
            .resources(["*"])
            .condition("StringEquals", "kms:ViaService", [s3.as_str()])
            .condition(
                "StringEquals",
                "kms:CallerAccount",
                [env.primary_account.as_str()],
            )
            .condition(
                "ArnLike",
                "kms:EncryptionContext:aws:s3:arn",
                phr_context.clone(),
            ),
    ];
    if !env.readers.is_empty() {
        statements.push(
            Statement::allow("ReadersDecryptPhrObjectsThroughS3")
                .principal(Principal::aws(env.readers.iter().cloned()))
                .actions(["kms:Decrypt"])
                .resources(["*"])
                .condition("StringEquals", "kms:ViaService", [s3.as_str()])
                .condition("StringEquals", "kms:CallerAccount", reader_accounts)
                .condition("ArnLike", "kms:EncryptionContext:aws:s3:arn", phr_context),
        );
    }
    if env.security.cloudtrail {
        let trails = format!("arn:aws:cloudtrail:*:{}:trail/*", env.primary_account);
        statements.push(
            Statement::allow("CloudTrailEncryptsTheTrailLogs")
                .principal(Principal::service("cloudtrail.amazonaws.com"))
                .actions(["kms:GenerateDataKey"])
                .resources(["*"])
                .condition("StringEquals", "aws:SourceArn", [env.trail_arn()])
                .condition(
                    "StringLike",
                    "kms:EncryptionContext:aws:cloudtrail:arn",
                    [trails.as_str()],
                ),
        );
        statements.push(
            Statement::allow("CloudTrailDescribesTheKey")
                .principal(Principal::service("cloudtrail.amazonaws.com"))
                .actions(["kms:DescribeKey"])
                .resources(["*"])
                .condition("StringEquals", "aws:SourceArn", [env.trail_arn()]),
        );
        statements.push(
            Statement::allow("AccountDecryptsTrailLogs")
                .principal(Principal::aws([root.as_str()]))
                .actions(["kms:Decrypt"])
                .resources(["*"])
                .condition(
                    "StringEquals",
                    "kms:CallerAccount",
                    [env.primary_account.as_str()],
                )
                .condition(
                    "StringLike",
                    "kms:EncryptionContext:aws:cloudtrail:arn",
                    [trails.as_str()],
                ),
        );
    }
    PolicyDocument::new(statements)
}

/// The permissions boundary of the Lambda execution role: exactly what the
/// runtime needs (the execution policy's statements), so whatever policy the
/// role is given later (by a deployer, by mistake) it can never do more. The
/// deployer may only create or change roles that carry this boundary.
pub fn execution_boundary(env: &Environment) -> PolicyDocument {
    lambda_execution(env)
}

/// The deployer's statements for the opt-in `[security]` controls. None of them
/// can switch a control off: no `kms:DisableKeyRotation`, no
/// `cloudtrail:StopLogging`/`DeleteTrail`, no `lambda:DeleteFunctionCodeSigningConfig`.
/// `kms:PutKeyPolicy` is needed to create and update the key; `xacct verify`
/// compares the live key policy with the rendered one (XV027) and the audit
/// decides the rendered one (XA027).
fn deployer_security(env: &Environment) -> Vec<Statement> {
    let sec = &env.security;
    let (region, account) = (env.region.as_str(), env.primary_account.as_str());
    let mut statements = Vec::new();
    if sec.kms_key {
        statements.push(
            Statement::allow("CreateCustomerManagedKey")
                .actions(["kms:CreateKey", "kms:ListAliases"])
                .resources(["*"]),
        );
        statements.push(
            Statement::allow("ManageCustomerManagedKeyWithRotation")
                .actions([
                    "kms:CreateAlias",
                    "kms:DescribeKey",
                    "kms:EnableKeyRotation",
                    "kms:GetKeyPolicy",
                    "kms:GetKeyRotationStatus",
                    "kms:ListResourceTags",
                    "kms:PutKeyPolicy",
                    "kms:ScheduleKeyDeletion",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:UpdateKeyDescription",
                ])
                .resources([
                    format!("arn:aws:kms:{region}:{account}:key/*"),
                    format!("arn:aws:kms:{region}:{account}:{}", env.kms_alias()),
                ]),
        );
        statements.push(
            Statement::allow("EncryptLogGroupWithTheKey")
                .actions(["logs:AssociateKmsKey"])
                .resources([env.log_group_arn(), format!("{}:*", env.log_group_arn())]),
        );
    }
    if sec.cloudtrail {
        statements.push(
            Statement::allow("ManageTrailWithoutStopOrDelete")
                .actions([
                    "cloudtrail:AddTags",
                    "cloudtrail:CreateTrail",
                    "cloudtrail:GetEventSelectors",
                    "cloudtrail:GetInsightSelectors",
                    "cloudtrail:GetTrail",
                    "cloudtrail:GetTrailStatus",
                    "cloudtrail:ListTags",
                    "cloudtrail:PutEventSelectors",
                    "cloudtrail:RemoveTags",
                    "cloudtrail:StartLogging",
                    "cloudtrail:UpdateTrail",
                ])
                .resources([env.trail_arn()]),
        );
        statements.push(
            Statement::allow("ReadTrails")
                .actions(["cloudtrail:DescribeTrails"])
                .resources(["*"]),
        );
    }
    if sec.primary_account_public_access_block {
        statements.push(
            Statement::allow("AccountBlockPublicAccess")
                .actions([
                    "s3:GetAccountPublicAccessBlock",
                    "s3:PutAccountPublicAccessBlock",
                ])
                .resources(["*"]),
        );
    }
    if sec.code_signing_profile_version_arn.is_some() {
        statements.push(
            Statement::allow("CreateCodeSigningConfig")
                .actions(["lambda:CreateCodeSigningConfig"])
                .resources(["*"]),
        );
        statements.push(
            Statement::allow("ManageCodeSigningConfigWithoutDelete")
                .actions([
                    "lambda:GetCodeSigningConfig",
                    "lambda:ListTags",
                    "lambda:TagResource",
                    "lambda:UpdateCodeSigningConfig",
                ])
                .resources([format!(
                    "arn:aws:lambda:{region}:{account}:code-signing-config:*"
                )]),
        );
        statements.push(
            Statement::allow("AttachCodeSigningConfigToFunction")
                .actions(["lambda:PutFunctionCodeSigningConfig"])
                .resources([
                    env.function_arn(),
                    format!("arn:aws:lambda:{region}:{account}:code-signing-config:*"),
                ]),
        );
    }
    statements
}

/// What the deployer of the primary stack needs, on these resources only.
pub fn deployer(env: &Environment) -> PolicyDocument {
    let function = env.function_arn();
    let role = env.lambda_role_arn();
    let boundary = env.boundary_policy_arn();
    let log_group = env.log_group_arn();
    let mut statements = vec![
        Statement::allow("ManageProvisioningFunction")
            .actions([
                "lambda:AddPermission",
                "lambda:CreateFunction",
                "lambda:CreateFunctionUrlConfig",
                "lambda:DeleteFunction",
                "lambda:DeleteFunctionConcurrency",
                "lambda:DeleteFunctionUrlConfig",
                "lambda:GetFunction",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionUrlConfig",
                "lambda:GetPolicy",
                "lambda:ListTags",
                "lambda:ListVersionsByFunction",
                "lambda:PutFunctionConcurrency",
                "lambda:RemovePermission",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:UpdateFunctionUrlConfig",
            ])
            .resources([function.as_str()]),
        // IAM writes that can grant permissions only on a role that carries the
        // boundary (`iam:PermissionsBoundary` is the boundary the role has, or
        // gets with CreateRole / PutRolePermissionsBoundary).
        Statement::allow("ManageExecutionRoleWithBoundaryOnly")
            .actions([
                "iam:CreateRole",
                "iam:DeleteRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
            ])
            .resources([role.as_str()])
            .condition(
                "StringEquals",
                "iam:PermissionsBoundary",
                [boundary.as_str()],
            ),
        Statement::allow("ManageExecutionRole")
            .actions([
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
            ])
            .resources([role.as_str()]),
        // The boundary itself: created once by the stack, then read only. A new
        // version (widening) needs an administrator; `xacct verify` compares the
        // live document with the rendered one (XV017).
        Statement::allow("CreateAndReadExecutionBoundary")
            .actions([
                "iam:CreatePolicy",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
                "iam:TagPolicy",
            ])
            .resources([boundary.as_str()]),
        Statement::deny("NeverWidenOrRemoveTheBoundary")
            .actions([
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:DeleteRolePermissionsBoundary",
                "iam:SetDefaultPolicyVersion",
            ])
            .resources(["*"]),
        Statement::deny("NoRoleWithoutTheBoundary")
            .actions([
                "iam:AttachRolePolicy",
                "iam:CreateRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
            ])
            .resources(["*"])
            .condition(
                "StringNotEquals",
                "iam:PermissionsBoundary",
                [boundary.as_str()],
            ),
        Statement::allow("PassExecutionRoleToLambdaOnly")
            .actions(["iam:PassRole"])
            .resources([role.as_str()])
            .condition(
                "StringEquals",
                "iam:PassedToService",
                ["lambda.amazonaws.com"],
            ),
        Statement::allow("ManageLogGroup")
            .actions([
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:ListTagsForResource",
                "logs:PutRetentionPolicy",
                "logs:TagResource",
                "logs:UntagResource",
            ])
            .resources([log_group.clone(), format!("{log_group}:*")]),
        Statement::allow("ManageStateTableWithoutDelete")
            .actions([
                "dynamodb:CreateTable",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeTable",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:ListTagsOfResource",
                "dynamodb:TagResource",
                "dynamodb:UntagResource",
                "dynamodb:UpdateContinuousBackups",
                "dynamodb:UpdateTable",
            ])
            .resources([env.state_table_arn()]),
        Statement::allow("DescribeLogGroups")
            .actions(["logs:DescribeLogGroups"])
            .resources([format!(
                "arn:aws:logs:{}:{}:log-group:*",
                env.region, env.primary_account
            )]),
    ];
    statements.extend(deployer_security(env));
    if env.phr_in_primary() {
        statements.push(
            Statement::allow("ManagePhrBucketWithoutDelete")
                .actions([
                    "s3:CreateBucket",
                    "s3:GetAccelerateConfiguration",
                    "s3:GetBucket*",
                    "s3:GetEncryptionConfiguration",
                    "s3:GetLifecycleConfiguration",
                    "s3:GetReplicationConfiguration",
                    "s3:ListBucket",
                    "s3:PutBucketLogging",
                    "s3:PutBucketOwnershipControls",
                    "s3:PutBucketPolicy",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:PutBucketTagging",
                    "s3:PutBucketVersioning",
                    "s3:PutEncryptionConfiguration",
                    "s3:PutLifecycleConfiguration",
                ])
                .resources([
                    contract::bucket_arn(&env.phr.bucket),
                    contract::bucket_arn(&env.phr.log_bucket),
                ]),
        );
    }
    PolicyDocument::new(statements)
}
