//! The intent of every audit question, as policy documents built from the
//! [`Expect`]ed principals, accounts and prefix (never from the documents under
//! review), and the request context AWS sets on the intended callers' requests.
//!
//! Some of these read like `iam::documents` (the trust of the execution role,
//! for one) on purpose: the intent is a second, independent statement of who
//! may do what, built from an `Expect` that plans and templates also yield. If
//! it called the renderer, a renderer bug would be its own intent and audit clean.

use crate::contract;
use crate::iam::{PolicyDocument, Principal, Statement};

use super::input::{Expect, Input};

/// The region of the function (and of the buckets it creates).
pub fn region(e: &Expect) -> String {
    e.function_arn
        .split(':')
        .nth(3)
        .unwrap_or_default()
        .to_owned()
}

fn function_name(e: &Expect) -> String {
    e.function_arn
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Who may assume `S3BucketManager`: the Lambda execution role and the verifiers.
pub fn storage_trust(e: &Expect) -> PolicyDocument {
    let mut who = vec![e.lambda_role_arn.clone()];
    who.extend(e.verifiers.iter().cloned());
    PolicyDocument::new(vec![
        Statement::allow("Intent")
            .principal(Principal::aws(who))
            .actions(["sts:AssumeRole"]),
    ])
}

/// The roles the execution role may assume.
pub fn lambda_assume(input: &Input) -> PolicyDocument {
    let e = &input.expect;
    let st = if e.discover {
        let mut st = Statement::allow("Intent")
            .actions(["sts:AssumeRole"])
            .resources([format!(
                "arn:aws:iam::*:role/{}",
                contract::STORAGE_ROLE_NAME
            )]);
        if let Some(o) = &e.organization_id {
            st = st.condition("StringEquals", "aws:ResourceOrgID", [o.as_str()]);
        }
        st
    } else {
        Statement::allow("Intent")
            .actions(["sts:AssumeRole"])
            // The storage accounts read, and those the intent names (a primary
            // side given alone still has its storage roles).
            .resources(
                input
                    .storage
                    .iter()
                    .map(|s| s.account.as_str())
                    .chain(e.storage_accounts.iter().map(String::as_str))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(contract::storage_role_arn),
            )
    };
    PolicyDocument::new(vec![st])
}

/// Everything the execution role may do: assume, its own logs, the ops topic, discovery.
pub fn lambda_execution(input: &Input) -> PolicyDocument {
    let e = &input.expect;
    let mut doc = lambda_assume(input);
    doc.statement.push(
        Statement::allow("Logs")
            .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
            .resources([format!(
                "arn:aws:logs:{}:{}:log-group:/aws/lambda/{}:*",
                region(e),
                e.primary_account,
                function_name(e)
            )]),
    );
    // The shared provisioning state (issue 11): exactly the runtime's DynamoDB
    // actions, on the environment's state table only.
    doc.statement.push(
        Statement::allow("State")
            .actions(contract::state::RUNTIME_ACTIONS.iter().copied())
            .resources([contract::state::table_arn(
                &region(e),
                &e.primary_account,
                &contract::state::table_name(&function_name(e)),
            )]),
    );
    if let Some(t) = &e.ops_topic_arn {
        doc.statement.push(
            Statement::allow("Ops")
                .actions(["sns:Publish"])
                .resources([t.as_str()]),
        );
    }
    if e.discover {
        doc.statement.push(
            Statement::allow("List")
                .actions(["organizations:ListAccounts"])
                .resources(["*"]),
        );
        let org = e.organization_id.as_deref().unwrap_or("*");
        doc.statement.push(
            Statement::allow("Tags")
                .actions(["organizations:ListTagsForResource"])
                .resources([format!("arn:aws:organizations::*:account/{org}/*")]),
        );
    }
    doc
}

/// What `S3BucketManager` may do: the contract's actions on prefixed buckets,
/// the account-level listing and, when enabled, deleting canary buckets. In
/// the account regional namespace, `s3:CreateBucket` only there ([`create_bucket`]).
pub fn storage_management(e: &Expect) -> PolicyDocument {
    let mut st = match e.bucket_namespace {
        contract::BucketNamespace::Global => vec![
            Statement::allow("Buckets")
                .actions(contract::BUCKET_ACTIONS.iter().copied())
                .resources([contract::customer_bucket_pattern(&e.bucket_prefix)]),
        ],
        contract::BucketNamespace::AccountRegional => {
            let mut v = create_bucket(e).statement;
            v.push(
                Statement::allow("Buckets")
                    .actions(
                        contract::BUCKET_ACTIONS
                            .iter()
                            .copied()
                            .filter(|a| *a != "s3:CreateBucket"),
                    )
                    .resources([contract::customer_bucket_pattern(&e.bucket_prefix)]),
            );
            v
        }
    };
    st.push(
        Statement::allow("Account")
            .actions(contract::ACCOUNT_ACTIONS.iter().copied())
            .resources(["*"]),
    );
    if e.allow_canary {
        st.push(
            Statement::allow("Canary")
                .actions(contract::CANARY_ACTIONS.iter().copied())
                .resources([contract::canary_bucket_pattern(&e.bucket_prefix)]),
        );
    }
    PolicyDocument::new(st)
}

/// Where `s3:CreateBucket` is intended in the account regional namespace: on
/// `<prefix>-*-<region>-an`, with `s3:x-amz-bucket-namespace = account-regional`
/// (what the runtime sends; S3 itself keeps the suffix to the account).
pub fn create_bucket(e: &Expect) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::allow("CreateInNamespace")
            .actions(["s3:CreateBucket"])
            .resources([contract::namespaced_bucket_pattern(
                &e.bucket_prefix,
                &region(e),
            )])
            .condition(
                "StringEquals",
                contract::NAMESPACE_CONDITION_KEY,
                [contract::ACCOUNT_REGIONAL],
            ),
    ])
}

/// Every S3 action on prefixed buckets and their objects (the "inside the prefix" region).
pub fn prefixed_s3(e: &Expect) -> PolicyDocument {
    let b = contract::customer_bucket_pattern(&e.bucket_prefix);
    PolicyDocument::new(vec![
        Statement::allow("Prefixed")
            .actions(["s3:*"])
            .resources([b.clone(), format!("{b}/*")]),
    ])
}

/// Who may assume the execution role: Lambda for the primary account, verifiers.
pub fn lambda_trust(e: &Expect) -> PolicyDocument {
    let mut st = vec![
        Statement::allow("Lambda")
            .principal(Principal::service("lambda.amazonaws.com"))
            .actions(["sts:AssumeRole"])
            .condition(
                "StringEquals",
                "aws:SourceAccount",
                [e.primary_account.as_str()],
            ),
    ];
    if !e.verifiers.is_empty() {
        st.push(
            Statement::allow("Verifiers")
                .principal(Principal::aws(e.verifiers.iter().cloned()))
                .actions(["sts:AssumeRole"]),
        );
    }
    PolicyDocument::new(st)
}

/// Who may call the function URL and invoke the function: the invokers, with IAM auth.
pub fn function_url(e: &Expect) -> PolicyDocument {
    let mut st = Vec::new();
    if !e.invokers.is_empty() {
        st.push(
            Statement::allow("Url")
                .principal(Principal::aws(e.invokers.iter().cloned()))
                .actions(["lambda:InvokeFunctionUrl"])
                .resources([e.function_arn.clone(), format!("{}:*", e.function_arn)])
                .condition("StringEquals", "lambda:FunctionUrlAuthType", ["AWS_IAM"]),
        );
        st.push(
            Statement::allow("Invoke")
                .principal(Principal::aws(e.invokers.iter().cloned()))
                .actions(["lambda:InvokeFunction"])
                .resources([e.function_arn.clone(), format!("{}:*", e.function_arn)]),
        );
    }
    PolicyDocument::new(st)
}

/// Who may do what on a bucket through its policy: the readers may list and read.
pub fn bucket(e: &Expect, bucket: &str) -> PolicyDocument {
    let arn = contract::bucket_arn(bucket);
    let mut st = Vec::new();
    if !e.readers.is_empty() {
        st.push(
            Statement::allow("List")
                .principal(Principal::aws(e.readers.iter().cloned()))
                .actions(["s3:GetBucketLocation", "s3:ListBucket"])
                .resources([arn.clone()]),
        );
        st.push(
            Statement::allow("Read")
                .principal(Principal::aws(e.readers.iter().cloned()))
                .actions(["s3:GetObject"])
                .resources([format!("{arn}/*")]),
        );
    }
    PolicyDocument::new(st)
}

/// The PHR bucket's server access logs (issue 15): S3's log delivery may put
/// objects under the log prefix of `<phr bucket>-logs`, only for the PHR bucket
/// of `account`; and the primary account's CloudTrail trails (`security.cloudtrail`)
/// may check the bucket and put their log files under `cloudtrail/AWSLogs/<primary>/`.
/// Empty for any other bucket.
pub fn log_delivery(e: &Expect, bucket: &str, account: &str) -> Vec<Statement> {
    if bucket != crate::model::log_bucket_name(&e.phr_bucket) {
        return Vec::new();
    }
    let arn = contract::bucket_arn(bucket);
    let trails = format!("arn:aws:cloudtrail:*:{}:trail/*", e.primary_account);
    vec![
        Statement::allow("LogDelivery")
            .principal(Principal::service("logging.s3.amazonaws.com"))
            .actions(["s3:PutObject"])
            .resources([format!("{arn}/{}*", crate::model::ACCESS_LOG_PREFIX)])
            .condition(
                "ArnLike",
                "aws:SourceArn",
                [contract::bucket_arn(&e.phr_bucket)],
            )
            .condition("StringEquals", "aws:SourceAccount", [account]),
        Statement::allow("TrailChecksBucket")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["s3:GetBucketAcl"])
            .resources([arn.clone()])
            .condition("ArnLike", "aws:SourceArn", [trails.as_str()]),
        Statement::allow("TrailDelivery")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["s3:PutObject"])
            .resources([format!(
                "{arn}/{}/AWSLogs/{}/*",
                crate::model::TRAIL_PREFIX,
                e.primary_account
            )])
            .condition("ArnLike", "aws:SourceArn", [trails.as_str()])
            .condition(
                "StringEquals",
                "aws:SourceAccount",
                [e.primary_account.as_str()],
            ),
    ]
}

/// Who may use the customer-managed key (`security.kms_key`), whatever its
/// policy says: the primary account administers it (no cryptographic use, no
/// grants); CloudWatch Logs for the function's log group only; the account's
/// principals and the readers only through S3 and only for the PHR bucket's
/// objects; CloudTrail for the account's trails, and the account decrypting
/// their logs. Anything else (another account, another service, direct use by
/// a reader, another log group or bucket) is outside the intent.
pub fn kms_key(e: &Expect) -> PolicyDocument {
    let root = format!("arn:aws:iam::{}:root", e.primary_account);
    let region = region(e);
    let log_group = format!(
        "arn:aws:logs:{region}:{}:log-group:/aws/lambda/{}",
        e.primary_account,
        function_name(e)
    );
    let bucket = contract::bucket_arn(&e.phr_bucket);
    let phr = [bucket.clone(), format!("{bucket}/*")];
    let via_s3 = format!("s3.{region}.amazonaws.com");
    let trails = format!("arn:aws:cloudtrail:*:{}:trail/*", e.primary_account);
    let mut s3_users = vec![root.clone()];
    s3_users.extend(e.readers.iter().cloned());
    PolicyDocument::new(vec![
        Statement {
            not_action: Some(crate::iam::Values::many(KMS_USE_ACTIONS.iter().copied())),
            ..Statement::allow("AccountAdministers")
                .principal(Principal::aws([root.as_str()]))
                .resources(["*"])
        },
        Statement::allow("LogsForTheFunctionLogGroup")
            .principal(Principal::service(&format!("logs.{region}.amazonaws.com")))
            .actions(["kms:*"])
            .resources(["*"])
            .condition(
                "ArnEquals",
                "kms:EncryptionContext:aws:logs:arn",
                [log_group],
            ),
        Statement::allow("PhrObjectsThroughS3")
            .principal(Principal::aws(s3_users))
            .actions(["kms:Decrypt", "kms:GenerateDataKey*"])
            .resources(["*"])
            .condition("StringEquals", "kms:ViaService", [via_s3])
            .condition("ArnLike", "kms:EncryptionContext:aws:s3:arn", phr),
        Statement::allow("TrailLogs")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["kms:GenerateDataKey*"])
            .resources(["*"])
            .condition(
                "StringLike",
                "kms:EncryptionContext:aws:cloudtrail:arn",
                [trails.as_str()],
            ),
        Statement::allow("TrailDescribesKey")
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .actions(["kms:DescribeKey"])
            .resources(["*"]),
        Statement::allow("AccountReadsTrailLogs")
            .principal(Principal::aws([root.as_str()]))
            .actions(["kms:Decrypt"])
            .resources(["*"])
            .condition(
                "StringLike",
                "kms:EncryptionContext:aws:cloudtrail:arn",
                [trails.as_str()],
            ),
    ])
}

/// Key actions that use key material or delegate its use (grants): the
/// account's administration never includes them.
pub const KMS_USE_ACTIONS: &[&str] = &[
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeriveSharedSecret",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:GenerateMac",
    "kms:ReEncrypt*",
    "kms:RetireGrant",
    "kms:Sign",
    "kms:Verify*",
];

/// Every S3 request on a bucket and its objects, by anyone.
pub fn bucket_all(bucket: &str) -> PolicyDocument {
    let arn = contract::bucket_arn(bucket);
    PolicyDocument::new(vec![
        Statement::allow("All")
            .principal(Principal::Any)
            .actions(["s3:*"])
            .resources([arn.clone(), format!("{arn}/*")]),
    ])
}

/// The context AWS sets on a request by an IAM role session in `account`
/// to a resource in `resource_account` (see ARCHITECTURE.md, "Context model").
pub fn role_context(
    e: &Expect,
    resource_account: &str,
    same_org: bool,
) -> Vec<(String, Vec<String>)> {
    let mut c = vec![
        (
            "aws:PrincipalType".to_owned(),
            vec!["AssumedRole".to_owned()],
        ),
        (
            "aws:ResourceAccount".to_owned(),
            vec![resource_account.to_owned()],
        ),
        ("aws:RequestedRegion".to_owned(), vec![region(e)]),
        ("aws:SecureTransport".to_owned(), vec!["true".to_owned()]),
        ("aws:ViaAWSService".to_owned(), vec!["false".to_owned()]),
        (
            "aws:PrincipalIsAWSService".to_owned(),
            vec!["false".to_owned()],
        ),
    ];
    if e.bucket_namespace == contract::BucketNamespace::AccountRegional {
        c.push((
            contract::NAMESPACE_CONDITION_KEY.to_owned(),
            vec![contract::ACCOUNT_REGIONAL.to_owned()],
        ));
    }
    if let Some(o) = &e.organization_id {
        c.push(("aws:PrincipalOrgID".to_owned(), vec![o.clone()]));
        if same_org {
            c.push(("aws:ResourceOrgID".to_owned(), vec![o.clone()]));
        }
    }
    c
}

/// The Lambda's `sts:AssumeRole` of a storage role.
pub fn assume_context(e: &Expect, storage_account: &str) -> Vec<(String, Vec<String>)> {
    let mut c = role_context(e, storage_account, true);
    if let Some(x) = &e.external_id {
        c.push(("sts:ExternalId".to_owned(), vec![x.clone()]));
    }
    c.push((
        "sts:RoleSessionName".to_owned(),
        vec!["xacct-provisioner".to_owned()],
    ));
    c
}

/// Lambda (the service) assuming the execution role.
pub fn lambda_service_context(e: &Expect) -> Vec<(String, Vec<String>)> {
    vec![
        (
            "aws:SourceAccount".to_owned(),
            vec![e.primary_account.clone()],
        ),
        ("aws:SourceArn".to_owned(), vec![e.function_arn.clone()]),
        (
            "aws:PrincipalIsAWSService".to_owned(),
            vec!["true".to_owned()],
        ),
        ("aws:SecureTransport".to_owned(), vec!["true".to_owned()]),
    ]
}
