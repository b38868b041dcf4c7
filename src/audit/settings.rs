//! The floor of every security setting: one table ([`TABLE`]), as data, of
//! every security-relevant attribute of every resource type xacct renders
//! (Terraform and CloudFormation), with the direction that weakens it, and a
//! pure comparison ([`compare`]) of the rendered settings with the settings
//! a plan, template, committed file or live account holds.
//!
//! The readers ([`super::plan`], [`super::template`]) call [`observe`] for
//! every resource they read, so a setting is read the same way from the
//! render (read back through the same readers) and from what is audited.
//! `xacct diff` and `verify` call [`compare`] with the two sides.
//!
//! A resource type the renderer emits must have an entry (a test walks every
//! rendered resource); an entry without attributes says why (`none`). An
//! attribute that checkov checks for a rendered type is either an [`Attr`] or
//! listed in `not_applicable` with its reason (`tests/inputs/checkov/`).

use serde_json::Value;

use super::attributes::Place;
use super::{Check, Finding};

pub use crate::checks::settings::*;

/// The direction that weakens an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakens {
    /// A flag that must stay on (`true`).
    On,
    /// A flag that must stay off (`false`).
    Off,
    /// An enum, strongest first: a value later in the list, or not in it, is weaker.
    Order(&'static [&'static str]),
    /// A number that must not drop (deletion window, rotation days).
    AtLeast,
    /// A retention in days where `0` (or unset) keeps forever: must not drop.
    Retention,
    /// A cap where `-1` (or unset) means none: must not grow.
    Cap,
    /// A number that must not grow (session duration, count of lifecycle rules).
    AtMost,
    /// A list that must not gain an element (CORS origins, publishers).
    NoGrow,
    /// A value that must stay what the render says (a key, a target bucket).
    Same,
}

impl Weakens {
    /// The direction in words, for messages and `xacct diff`.
    pub fn describe(self) -> &'static str {
        match self {
            Weakens::On => "must stay on",
            Weakens::Off => "must stay off",
            Weakens::Order(_) => "must not move down the order",
            Weakens::AtLeast | Weakens::Retention => "must not drop",
            Weakens::Cap | Weakens::AtMost => "must not grow",
            Weakens::NoGrow => "must not gain an element",
            Weakens::Same => "must equal the render",
        }
    }
}

/// One security-relevant attribute.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    /// The attribute's name (the last part of `path`, or its block).
    pub name: &'static str,
    /// JSON pointer into the plan values (Terraform) or the resolved `Properties` (CloudFormation).
    pub path: &'static str,
    pub weakens: Weakens,
    /// The value AWS or the provider uses when the attribute is not set (JSON).
    pub default: Option<&'static str>,
    /// The check a weakening is reported as: an existing check of the
    /// attribute (XA042-XA048, XA014), else [`SETTING_WEAKER`].
    pub check: &'static str,
}

/// The table entry of one resource type.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub resource_type: &'static str,
    pub attrs: &'static [Attr],
    /// Attributes holding an IAM or resource document: decided by no new access (XA023).
    pub documents: &'static [&'static str],
    /// Attributes (checkov's names) that are not security settings of this setup, with the reason.
    pub not_applicable: &'static [(&'static str, &'static str)],
    /// Set when the type has no security-relevant attribute: the reason.
    pub none: Option<&'static str>,
    /// checkov checks of this type that judge a policy document in code: xacct
    /// decides the document exactly instead (XA001-XA028, no new access XA023).
    pub policy_checks: &'static [&'static str],
}

const fn a(name: &'static str, path: &'static str, weakens: Weakens) -> Attr {
    Attr {
        name,
        path,
        weakens,
        default: None,
        check: "XA050",
    }
}

const fn d(
    name: &'static str,
    path: &'static str,
    weakens: Weakens,
    default: &'static str,
) -> Attr {
    Attr {
        name,
        path,
        weakens,
        default: Some(default),
        check: "XA050",
    }
}

const fn c(name: &'static str, path: &'static str, weakens: Weakens, check: &'static str) -> Attr {
    Attr {
        name,
        path,
        weakens,
        default: None,
        check,
    }
}

const OWNERSHIP: Weakens = Weakens::Order(&[
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
]);
const SSE: Weakens = Weakens::Order(&["aws:kms:dsse", "aws:kms", "AES256"]);
const VERSIONING: Weakens = Weakens::Order(&["Enabled", "Suspended", "Disabled"]);
const AUTH: Weakens = Weakens::Order(&["AWS_IAM", "NONE"]);
const SIGNING: Weakens = Weakens::Order(&["Enforce", "Warn"]);

const NA_TAGS: (&str, &str) = ("tags", "labels only; no access depends on them");
const NA_DOC: &str = "an IAM or resource document: compared by no new access (XA023)";

const IAM_TF_CHECKS: &[&str] = &[
    "CKV_AWS_62",
    "CKV_AWS_63",
    "CKV_AWS_286",
    "CKV_AWS_287",
    "CKV_AWS_288",
    "CKV_AWS_289",
    "CKV_AWS_290",
    "CKV_AWS_355",
];
const IAM_CFN_CHECKS: &[&str] = &[
    "CKV_AWS_107",
    "CKV_AWS_108",
    "CKV_AWS_109",
    "CKV_AWS_110",
    "CKV_AWS_111",
];

/// Every resource type xacct renders, Terraform then CloudFormation.
pub const TABLE: &[Entry] = &[
    // --- Terraform ---
    Entry {
        resource_type: "aws_s3_account_public_access_block",
        attrs: &[
            a("block_public_acls", "/block_public_acls", Weakens::On),
            a("block_public_policy", "/block_public_policy", Weakens::On),
            a("ignore_public_acls", "/ignore_public_acls", Weakens::On),
            a(
                "restrict_public_buckets",
                "/restrict_public_buckets",
                Weakens::On,
            ),
        ],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_kms_key",
        attrs: &[
            d(
                "enable_key_rotation",
                "/enable_key_rotation",
                Weakens::On,
                "false",
            ),
            d(
                "deletion_window_in_days",
                "/deletion_window_in_days",
                Weakens::AtLeast,
                "30",
            ),
            d(
                "customer_master_key_spec",
                "/customer_master_key_spec",
                Weakens::Same,
                "\"SYMMETRIC_DEFAULT\"",
            ),
            d(
                "key_usage",
                "/key_usage",
                Weakens::Same,
                "\"ENCRYPT_DECRYPT\"",
            ),
            d("is_enabled", "/is_enabled", Weakens::On, "true"),
            d("multi_region", "/multi_region", Weakens::Off, "false"),
            d(
                "bypass_policy_lockout_safety_check",
                "/bypass_policy_lockout_safety_check",
                Weakens::Off,
                "false",
            ),
        ],
        documents: &["policy"],
        not_applicable: &[NA_TAGS, ("description", "free text")],
        none: None,
        policy_checks: &["CKV_AWS_33"],
    },
    Entry {
        resource_type: "aws_kms_alias",
        attrs: &[a("target_key_id", "/target_key_id", Weakens::Same)],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_cloudtrail",
        attrs: &[
            d(
                "is_multi_region_trail",
                "/is_multi_region_trail",
                Weakens::On,
                "false",
            ),
            d(
                "enable_log_file_validation",
                "/enable_log_file_validation",
                Weakens::On,
                "false",
            ),
            d(
                "include_global_service_events",
                "/include_global_service_events",
                Weakens::On,
                "true",
            ),
            d("enable_logging", "/enable_logging", Weakens::On, "true"),
            a("kms_key_id", "/kms_key_id", Weakens::Same),
            a("s3_bucket_name", "/s3_bucket_name", Weakens::Same),
            a("s3_key_prefix", "/s3_key_prefix", Weakens::Same),
            a("event_selector", "/event_selector", Weakens::Same),
            a(
                "advanced_event_selector",
                "/advanced_event_selector",
                Weakens::Same,
            ),
        ],
        documents: &[],
        not_applicable: &[
            NA_TAGS,
            (
                "cloud_watch_logs_group_arn",
                "CloudWatch Logs delivery is not rendered: the trail's record is the log bucket (validated, KMS-encrypted)",
            ),
            (
                "sns_topic_name",
                "no trail notification is rendered; delivery is checked live (XV028)",
            ),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_dynamodb_table",
        attrs: &[
            d(
                "point_in_time_recovery",
                "/point_in_time_recovery/0/enabled",
                Weakens::On,
                "false",
            ),
            d(
                "deletion_protection_enabled",
                "/deletion_protection_enabled",
                Weakens::On,
                "false",
            ),
            d(
                "server_side_encryption",
                "/server_side_encryption/0/enabled",
                Weakens::On,
                "false",
            ),
            a(
                "server_side_encryption.kms_key_arn",
                "/server_side_encryption/0/kms_key_arn",
                Weakens::Same,
            ),
        ],
        documents: &[],
        not_applicable: &[
            (
                "CKV_AWS_119",
                "server_side_encryption.kms_key_arn is in the table (Same); the rendered AWS owned key holds no patient data (README Security model)",
            ),
            NA_TAGS,
            ("billing_mode", "capacity, not access"),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_lambda_function",
        attrs: &[
            d(
                "reserved_concurrent_executions",
                "/reserved_concurrent_executions",
                Weakens::Cap,
                "-1",
            ),
            a(
                "code_signing_config_arn",
                "/code_signing_config_arn",
                Weakens::Same,
            ),
            a("role", "/role", Weakens::Same),
            a("kms_key_arn", "/kms_key_arn", Weakens::Same),
        ],
        documents: &[],
        not_applicable: &[
            ("CKV_AWS_173", "kms_key_arn is in the table (Same)"),
            ("CKV_AWS_45", "the secret scan (XA018) reads every value"),
            (
                "runtime",
                "the custom runtime carries the binary; not an access setting, checkov gates deprecation in CI",
            ),
            NA_TAGS,
            (
                "tracing_config",
                "no X-Ray: every request is one structured log line (README Security model)",
            ),
            (
                "vpc_config",
                "calls only AWS APIs over TLS and reaches no VPC resource",
            ),
            (
                "dead_letter_config",
                "synchronous invocation only; a DLQ applies to async events",
            ),
            (
                "environment",
                "IDs and names, no secret; audited by the secret scan (XA018)",
            ),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_lambda_function_url",
        attrs: &[
            c("authorization_type", "/authorization_type", AUTH, "XA014"),
            c(
                "cors.allow_origins",
                "/cors/0/allow_origins",
                Weakens::NoGrow,
                "XA046",
            ),
            d(
                "cors.allow_credentials",
                "/cors/0/allow_credentials",
                Weakens::Off,
                "false",
            ),
            a(
                "cors.allow_methods",
                "/cors/0/allow_methods",
                Weakens::NoGrow,
            ),
            a(
                "cors.allow_headers",
                "/cors/0/allow_headers",
                Weakens::NoGrow,
            ),
        ],
        documents: &[],
        not_applicable: &[("invoke_mode", "response streaming or buffering, not access")],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_lambda_permission",
        attrs: &[
            c(
                "function_url_auth_type",
                "/function_url_auth_type",
                AUTH,
                "XA048",
            ),
            a("principal", "/principal", Weakens::Same),
            a("source_arn", "/source_arn", Weakens::Same),
            a("source_account", "/source_account", Weakens::Same),
        ],
        documents: &["action", "principal"],
        not_applicable: &[],
        none: None,
        policy_checks: &["CKV_AWS_364"],
    },
    Entry {
        resource_type: "aws_lambda_code_signing_config",
        attrs: &[
            a(
                "untrusted_artifact_on_deployment",
                "/policies/0/untrusted_artifact_on_deployment",
                SIGNING,
            ),
            a(
                "signing_profile_version_arns",
                "/allowed_publishers/0/signing_profile_version_arns",
                Weakens::NoGrow,
            ),
        ],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_cloudwatch_log_group",
        attrs: &[
            d(
                "retention_in_days",
                "/retention_in_days",
                Weakens::Retention,
                "0",
            ),
            a("kms_key_id", "/kms_key_id", Weakens::Same),
        ],
        documents: &[],
        not_applicable: &[
            (
                "CKV_AWS_338",
                "the same attribute as retention_in_days (Retention: must not drop below the spec's days)",
            ),
            NA_TAGS,
            ("skip_destroy", "the group is recreated by the stack"),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_iam_role",
        attrs: &[
            a(
                "permissions_boundary",
                "/permissions_boundary",
                Weakens::Same,
            ),
            d(
                "max_session_duration",
                "/max_session_duration",
                Weakens::AtMost,
                "3600",
            ),
        ],
        documents: &["assume_role_policy", "inline_policy"],
        not_applicable: &[
            NA_TAGS,
            (
                "managed_policy_arns",
                "computed by the provider from the attachments; an attachment outside the plan is XA049",
            ),
        ],
        none: None,
        policy_checks: &["CKV_AWS_60", "CKV_AWS_61", "CKV_AWS_274", "CKV_AWS_393"],
    },
    Entry {
        resource_type: "aws_iam_policy",
        attrs: &[],
        documents: &["policy"],
        not_applicable: &[],
        none: Some(NA_DOC),
        policy_checks: IAM_TF_CHECKS,
    },
    Entry {
        resource_type: "aws_iam_role_policy",
        attrs: &[],
        documents: &["policy"],
        not_applicable: &[],
        none: Some(NA_DOC),
        policy_checks: IAM_TF_CHECKS,
    },
    Entry {
        resource_type: "aws_iam_role_policy_attachment",
        attrs: &[a("policy_arn", "/policy_arn", Weakens::Same)],
        documents: &[],
        not_applicable: &[(
            "CKV_AWS_274",
            "policy_arn is in the table (Same): an AdministratorAccess attachment differs from the render",
        )],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_s3_bucket",
        attrs: &[d("force_destroy", "/force_destroy", Weakens::Off, "false")],
        documents: &["policy"],
        not_applicable: &[
            (
                "CKV_AWS_143",
                "object lock is not rendered: PHR retention is versioning plus lifecycle",
            ),
            NA_TAGS,
            (
                "object_lock_enabled",
                "not rendered: PHR retention is versioning plus lifecycle (README Security model)",
            ),
            (
                "replication_configuration",
                "not rendered: single-region data by design",
            ),
            ("event_notification", "not rendered; no event consumer"),
        ],
        none: None,
        policy_checks: &["CKV_AWS_70", "CKV_AWS_93"],
    },
    Entry {
        resource_type: "aws_s3_bucket_public_access_block",
        attrs: &[
            c(
                "block_public_acls",
                "/block_public_acls",
                Weakens::On,
                "XA042",
            ),
            c(
                "block_public_policy",
                "/block_public_policy",
                Weakens::On,
                "XA042",
            ),
            c(
                "ignore_public_acls",
                "/ignore_public_acls",
                Weakens::On,
                "XA042",
            ),
            c(
                "restrict_public_buckets",
                "/restrict_public_buckets",
                Weakens::On,
                "XA042",
            ),
        ],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_s3_bucket_ownership_controls",
        attrs: &[c(
            "object_ownership",
            "/rule/0/object_ownership",
            OWNERSHIP,
            "XA043",
        )],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_s3_bucket_server_side_encryption_configuration",
        attrs: &[
            c(
                "sse_algorithm",
                "/rule/0/apply_server_side_encryption_by_default/0/sse_algorithm",
                SSE,
                "XA044",
            ),
            a(
                "kms_master_key_id",
                "/rule/0/apply_server_side_encryption_by_default/0/kms_master_key_id",
                Weakens::Same,
            ),
        ],
        documents: &[],
        not_applicable: &[("bucket_key_enabled", "request cost, not access")],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_s3_bucket_versioning",
        attrs: &[
            c(
                "status",
                "/versioning_configuration/0/status",
                VERSIONING,
                "XA045",
            ),
            d(
                "mfa_delete",
                "/versioning_configuration/0/mfa_delete",
                Weakens::Order(&["Enabled", "Disabled"]),
                "\"Disabled\"",
            ),
        ],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_s3_bucket_lifecycle_configuration",
        attrs: &[a("rule", "/rule", Weakens::Same)],
        documents: &[],
        not_applicable: &[(
            "CKV_AWS_300",
            "rule is in the table (Same: the whole rule list)",
        )],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_s3_bucket_logging",
        attrs: &[
            a("target_bucket", "/target_bucket", Weakens::Same),
            a("target_prefix", "/target_prefix", Weakens::Same),
        ],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "aws_s3_bucket_policy",
        attrs: &[],
        documents: &["policy"],
        not_applicable: &[],
        none: Some(NA_DOC),
        policy_checks: &["CKV_AWS_70", "CKV_AWS_93"],
    },
    // --- CloudFormation ---
    Entry {
        resource_type: "AWS::S3::Bucket",
        attrs: &[
            c(
                "BlockPublicAcls",
                "/PublicAccessBlockConfiguration/BlockPublicAcls",
                Weakens::On,
                "XA042",
            ),
            c(
                "BlockPublicPolicy",
                "/PublicAccessBlockConfiguration/BlockPublicPolicy",
                Weakens::On,
                "XA042",
            ),
            c(
                "IgnorePublicAcls",
                "/PublicAccessBlockConfiguration/IgnorePublicAcls",
                Weakens::On,
                "XA042",
            ),
            c(
                "RestrictPublicBuckets",
                "/PublicAccessBlockConfiguration/RestrictPublicBuckets",
                Weakens::On,
                "XA042",
            ),
            c(
                "ObjectOwnership",
                "/OwnershipControls/Rules/0/ObjectOwnership",
                OWNERSHIP,
                "XA043",
            ),
            c(
                "SSEAlgorithm",
                "/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/SSEAlgorithm",
                SSE,
                "XA044",
            ),
            a(
                "KMSMasterKeyID",
                "/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/KMSMasterKeyID",
                Weakens::Same,
            ),
            c(
                "VersioningConfiguration",
                "/VersioningConfiguration/Status",
                VERSIONING,
                "XA045",
            ),
            a(
                "LifecycleConfiguration",
                "/LifecycleConfiguration",
                Weakens::Same,
            ),
            a(
                "LoggingConfiguration",
                "/LoggingConfiguration",
                Weakens::Same,
            ),
        ],
        documents: &[],
        not_applicable: &[
            (
                "AccessControl",
                "a canned ACL is inert: ObjectOwnership BucketOwnerEnforced (in the table) disables ACLs",
            ),
            ("Tags", "labels only; no access depends on them"),
            (
                "ObjectLockEnabled",
                "not rendered: PHR retention is versioning plus lifecycle (README Security model)",
            ),
            (
                "ReplicationConfiguration",
                "not rendered: single-region data by design",
            ),
            (
                "NotificationConfiguration",
                "not rendered; no event consumer",
            ),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::S3::BucketPolicy",
        attrs: &[],
        documents: &["PolicyDocument"],
        not_applicable: &[],
        none: Some(NA_DOC),
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::KMS::Key",
        attrs: &[
            d(
                "EnableKeyRotation",
                "/EnableKeyRotation",
                Weakens::On,
                "false",
            ),
            d(
                "PendingWindowInDays",
                "/PendingWindowInDays",
                Weakens::AtLeast,
                "30",
            ),
            d(
                "KeySpec",
                "/KeySpec",
                Weakens::Same,
                "\"SYMMETRIC_DEFAULT\"",
            ),
            d(
                "KeyUsage",
                "/KeyUsage",
                Weakens::Same,
                "\"ENCRYPT_DECRYPT\"",
            ),
            d("Enabled", "/Enabled", Weakens::On, "true"),
            d("MultiRegion", "/MultiRegion", Weakens::Off, "false"),
            d(
                "BypassPolicyLockoutSafetyCheck",
                "/BypassPolicyLockoutSafetyCheck",
                Weakens::Off,
                "false",
            ),
        ],
        documents: &["KeyPolicy"],
        not_applicable: &[
            ("Tags", "labels only; no access depends on them"),
            ("Description", "free text"),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::KMS::Alias",
        attrs: &[a("TargetKeyId", "/TargetKeyId", Weakens::Same)],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::CloudTrail::Trail",
        attrs: &[
            d(
                "IsMultiRegionTrail",
                "/IsMultiRegionTrail",
                Weakens::On,
                "false",
            ),
            d(
                "EnableLogFileValidation",
                "/EnableLogFileValidation",
                Weakens::On,
                "false",
            ),
            d(
                "IncludeGlobalServiceEvents",
                "/IncludeGlobalServiceEvents",
                Weakens::On,
                "true",
            ),
            a("IsLogging", "/IsLogging", Weakens::On),
            a("KMSKeyId", "/KMSKeyId", Weakens::Same),
            a("S3BucketName", "/S3BucketName", Weakens::Same),
            a("S3KeyPrefix", "/S3KeyPrefix", Weakens::Same),
            a("EventSelectors", "/EventSelectors", Weakens::Same),
            a(
                "AdvancedEventSelectors",
                "/AdvancedEventSelectors",
                Weakens::Same,
            ),
        ],
        documents: &[],
        not_applicable: &[
            ("Tags", "labels only; no access depends on them"),
            (
                "CloudWatchLogsLogGroupArn",
                "CloudWatch Logs delivery is not rendered: the trail's record is the log bucket (validated, KMS-encrypted)",
            ),
            (
                "SnsTopicName",
                "no trail notification is rendered; delivery is checked live (XV028)",
            ),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::DynamoDB::Table",
        attrs: &[
            d(
                "PointInTimeRecoveryEnabled",
                "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
                Weakens::On,
                "false",
            ),
            d(
                "DeletionProtectionEnabled",
                "/DeletionProtectionEnabled",
                Weakens::On,
                "false",
            ),
            d(
                "SSEEnabled",
                "/SSESpecification/SSEEnabled",
                Weakens::On,
                "false",
            ),
            a(
                "KMSMasterKeyId",
                "/SSESpecification/KMSMasterKeyId",
                Weakens::Same,
            ),
        ],
        documents: &[],
        not_applicable: &[
            (
                "CKV_AWS_119",
                "KMSMasterKeyId is in the table (Same); the rendered AWS owned key holds no patient data (README Security model)",
            ),
            ("Tags", "labels only; no access depends on them"),
            ("BillingMode", "capacity, not access"),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::Lambda::Function",
        attrs: &[
            d(
                "ReservedConcurrentExecutions",
                "/ReservedConcurrentExecutions",
                Weakens::Cap,
                "-1",
            ),
            a(
                "CodeSigningConfigArn",
                "/CodeSigningConfigArn",
                Weakens::Same,
            ),
            a("Role", "/Role", Weakens::Same),
            a("KmsKeyArn", "/KmsKeyArn", Weakens::Same),
        ],
        documents: &[],
        not_applicable: &[
            (
                "CKV_AWS_116",
                "synchronous invocation only; a DLQ applies to async events",
            ),
            ("CKV_AWS_173", "KmsKeyArn is in the table (Same)"),
            ("CKV_AWS_45", "the secret scan (XA018) reads every value"),
            (
                "Runtime",
                "the custom runtime carries the binary; not an access setting, checkov gates deprecation in CI",
            ),
            ("Tags", "labels only; no access depends on them"),
            (
                "TracingConfig",
                "no X-Ray: every request is one structured log line (README Security model)",
            ),
            (
                "VpcConfig",
                "calls only AWS APIs over TLS and reaches no VPC resource",
            ),
            (
                "DeadLetterConfig",
                "synchronous invocation only; a DLQ applies to async events",
            ),
            (
                "Environment",
                "IDs and names, no secret; audited by the secret scan (XA018)",
            ),
        ],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::Lambda::Url",
        attrs: &[
            c("AuthType", "/AuthType", AUTH, "XA014"),
            c(
                "Cors.AllowOrigins",
                "/Cors/AllowOrigins",
                Weakens::NoGrow,
                "XA046",
            ),
            d(
                "Cors.AllowCredentials",
                "/Cors/AllowCredentials",
                Weakens::Off,
                "false",
            ),
            a("Cors.AllowMethods", "/Cors/AllowMethods", Weakens::NoGrow),
            a("Cors.AllowHeaders", "/Cors/AllowHeaders", Weakens::NoGrow),
        ],
        documents: &[],
        not_applicable: &[("InvokeMode", "response streaming or buffering, not access")],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::Lambda::Permission",
        attrs: &[
            c("FunctionUrlAuthType", "/FunctionUrlAuthType", AUTH, "XA048"),
            a("Principal", "/Principal", Weakens::Same),
            a("SourceArn", "/SourceArn", Weakens::Same),
            a("SourceAccount", "/SourceAccount", Weakens::Same),
        ],
        documents: &["Action", "Principal"],
        not_applicable: &[],
        none: None,
        policy_checks: &["CKV_AWS_364"],
    },
    Entry {
        resource_type: "AWS::Lambda::CodeSigningConfig",
        attrs: &[
            a(
                "UntrustedArtifactOnDeployment",
                "/CodeSigningPolicies/UntrustedArtifactOnDeployment",
                SIGNING,
            ),
            a(
                "SigningProfileVersionArns",
                "/AllowedPublishers/SigningProfileVersionArns",
                Weakens::NoGrow,
            ),
        ],
        documents: &[],
        not_applicable: &[],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::Logs::LogGroup",
        attrs: &[
            d(
                "RetentionInDays",
                "/RetentionInDays",
                Weakens::Retention,
                "0",
            ),
            a("KmsKeyId", "/KmsKeyId", Weakens::Same),
        ],
        documents: &["DataProtectionPolicy"],
        not_applicable: &[("Tags", "labels only; no access depends on them")],
        none: None,
        policy_checks: &[],
    },
    Entry {
        resource_type: "AWS::IAM::Role",
        attrs: &[
            a("PermissionsBoundary", "/PermissionsBoundary", Weakens::Same),
            d(
                "MaxSessionDuration",
                "/MaxSessionDuration",
                Weakens::AtMost,
                "3600",
            ),
            a("ManagedPolicyArns", "/ManagedPolicyArns", Weakens::NoGrow),
        ],
        documents: &["AssumeRolePolicyDocument", "Policies"],
        not_applicable: &[("Tags", "labels only; no access depends on them")],
        none: None,
        policy_checks: &[
            "CKV_AWS_60",
            "CKV_AWS_61",
            "CKV_AWS_62",
            "CKV_AWS_63",
            "CKV_AWS_107",
            "CKV_AWS_108",
            "CKV_AWS_109",
            "CKV_AWS_110",
            "CKV_AWS_111",
        ],
    },
    Entry {
        resource_type: "AWS::IAM::ManagedPolicy",
        attrs: &[],
        documents: &["PolicyDocument"],
        not_applicable: &[],
        none: Some(NA_DOC),
        policy_checks: IAM_CFN_CHECKS,
    },
];

/// Where a resource's own name is (a hand-written source names its resources
/// differently but keeps the physical names): the key it is matched by.
const NAMES: &[(&str, &str)] = &[
    ("aws_iam_role", "/name"),
    ("aws_s3_bucket", "/bucket"),
    ("aws_dynamodb_table", "/name"),
    ("aws_lambda_function", "/function_name"),
    ("aws_cloudwatch_log_group", "/name"),
    ("aws_cloudtrail", "/name"),
    ("aws_kms_alias", "/name"),
    ("AWS::IAM::Role", "/RoleName"),
    ("AWS::S3::Bucket", "/BucketName"),
    ("AWS::DynamoDB::Table", "/TableName"),
    ("AWS::Lambda::Function", "/FunctionName"),
    ("AWS::Logs::LogGroup", "/LogGroupName"),
    ("AWS::CloudTrail::Trail", "/TrailName"),
    ("AWS::KMS::Alias", "/AliasName"),
];

/// The table entry of `resource_type`.
pub fn entry(resource_type: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.resource_type == resource_type)
}

/// One value as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Known(Value),
    /// Set, but known only after apply (a reference in a plan or in the files).
    Unknown,
    Absent,
}

/// One resource's security settings, as read from a source.
#[derive(Debug, Clone, PartialEq)]
pub struct Res {
    pub resource_type: String,
    /// Identity within the source family: a Terraform address without
    /// instance keys, or a CloudFormation logical ID.
    pub key: String,
    pub account: String,
    pub place: Place,
    /// `(attribute name, value)` in [`Entry::attrs`] order.
    pub values: Vec<(&'static str, Val)>,
    /// 1-based line of each attribute in `place.file`, when known.
    pub lines: Vec<(&'static str, usize)>,
    /// Read from a Terraform plan, where an unknown value may be computed by
    /// the provider (in files, an unknown value is always a reference).
    pub computed: bool,
    /// Created only under a condition (CloudFormation `Condition`, Terraform
    /// `count`): missing elsewhere is not a removal.
    pub conditional: bool,
    /// Read live ([`live`]): only the attributes in `values` were read, and
    /// only those are compared.
    pub partial: bool,
}

/// Reads the table's attributes of one resource. `values`: plan values or
/// resolved properties; `unknown`: the plan's `after_unknown` (or the file
/// reader's), marking attributes that are set but unknown until apply.
/// `None` for a type without attributes in the table.
pub fn observe(
    resource_type: &str,
    key: &str,
    account: &str,
    place: Place,
    values: &Value,
    unknown: Option<&Value>,
) -> Option<Res> {
    let e = entry(resource_type)?;
    if e.attrs.is_empty() {
        return None;
    }
    let named = NAMES
        .iter()
        .find(|(t, _)| *t == resource_type)
        .and_then(|(_, p)| values.pointer(p)?.as_str())
        .filter(|n| !n.is_empty() && !n.contains("${"));
    let key = match named {
        Some(n) => format!("name:{n}"),
        None => strip_instance_keys(key),
    };
    let values = e
        .attrs
        .iter()
        .map(|a| {
            let v = match values.pointer(a.path) {
                Some(v) if !v.is_null() => Val::Known(v.clone()),
                _ if unknown
                    .and_then(|u| u.pointer(a.path))
                    .is_some_and(|u| u != &Value::Bool(false) && !u.is_null()) =>
                {
                    Val::Unknown
                }
                _ => Val::Absent,
            };
            (a.name, v)
        })
        .collect();
    Some(Res {
        resource_type: resource_type.to_owned(),
        key,
        account: account.to_owned(),
        place,
        values,
        lines: Vec::new(),
        computed: false,
        conditional: false,
        partial: false,
    })
}

/// One live resource's settings (`verify`): `values` holds what AWS returned
/// in the Terraform shape of the table's paths. An attribute is read when its
/// path resolves in `values` (`null` means "not set" live), or when a block on
/// its path is `null` or an empty list; the others were not read and are not
/// compared.
/// `arn` names the live resource in findings. `None` for a type without
/// attributes in the table.
pub fn live(resource_type: &str, account: &str, arn: &str, values: &Value) -> Option<Res> {
    let e = entry(resource_type)?;
    let mut r = observe(resource_type, arn, account, Place::new(arn), values, None)?;
    // Read: the whole path resolves, or a block on the way is `null` or an
    // empty list (the block is not set live, so neither is the attribute).
    let read = |path: &str| {
        values.pointer(path).is_some()
            || path.match_indices('/').skip(1).any(|(i, _)| {
                values
                    .pointer(&path[..i])
                    .is_some_and(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty))
            })
    };
    r.values
        .retain(|(n, _)| e.attrs.iter().any(|a| a.name == *n && read(a.path)));
    r.partial = true;
    Some(r)
}

/// `module.a["x"].b[0].c` -> `module.a.b.c`.
fn strip_instance_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    for ch in address.chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// What is wrong with one setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Weaker than the render in the attribute's direction.
    Weaker,
    /// The rendered resource is not there.
    Removed,
    /// One side is known only after apply: cannot decide.
    Undecided,
}

/// One weakening: attribute, direction, rendered and actual value, where.
#[derive(Debug, Clone, PartialEq)]
pub struct Weakening {
    pub resource_type: String,
    pub key: String,
    pub account: String,
    /// Empty for [`Change::Removed`].
    pub attribute: &'static str,
    pub direction: &'static str,
    pub rendered: String,
    pub actual: String,
    pub change: Change,
    /// The check it is reported as.
    pub check: &'static str,
    pub place: Place,
}

fn text(v: &Val) -> String {
    match v {
        Val::Known(Value::String(s)) => s.clone(),
        Val::Known(v) => v.to_string(),
        Val::Unknown => "(known after apply)".to_owned(),
        Val::Absent => "(not set)".to_owned(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty() || a.iter().all(is_empty),
        Value::Object(o) => o.values().all(is_empty),
        _ => false,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// Canonical form for "same": empty values are one value; objects without
/// their empty members (a plan fills defaults the files leave out).
fn canonical(v: &Value) -> Value {
    match v {
        v if is_empty(v) => Value::Null,
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        // A member that is empty or `false` is the provider's fill-in for an
        // unset one (a plan's `expired_object_delete_marker: false`).
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, x)| !is_empty(x) && **x != Value::Bool(false))
                .map(|(k, x)| (k.clone(), canonical(x)))
                .collect(),
        ),
        Value::Number(n) => n
            .as_f64()
            .map_or(Value::Number(n.clone()), |f| serde_json::json!(f)),
        other => other.clone(),
    }
}

/// Is `actual` weaker than `rendered` in direction `w`? Both with defaults applied.
pub fn weaker(w: Weakens, rendered: &Value, actual: &Value) -> bool {
    match w {
        Weakens::On => truthy(rendered) && !truthy(actual),
        Weakens::Off => !truthy(rendered) && truthy(actual),
        Weakens::Order(order) => {
            let rank = |v: &Value| {
                let s = match v {
                    Value::String(s) => s.as_str(),
                    _ => "",
                };
                order.iter().position(|o| o.eq_ignore_ascii_case(s))
            };
            match (rank(rendered), rank(actual)) {
                (_, None) => canonical(rendered) != canonical(actual),
                (None, Some(_)) => false,
                (Some(r), Some(a)) => a > r,
            }
        }
        Weakens::AtLeast => match (number(rendered), number(actual)) {
            (Some(r), Some(a)) => a < r,
            (Some(_), None) => true,
            _ => false,
        },
        Weakens::AtMost => match (number(rendered), number(actual)) {
            (Some(r), Some(a)) => a > r,
            (Some(_), None) => true,
            _ => false,
        },
        Weakens::Retention => {
            let days = |v: &Value| match number(v) {
                None | Some(0.0) => f64::INFINITY,
                Some(n) => n,
            };
            days(actual) < days(rendered)
        }
        Weakens::Cap => {
            let cap = |v: &Value| match number(v) {
                None => f64::INFINITY,
                Some(n) if n < 0.0 => f64::INFINITY,
                Some(n) => n,
            };
            cap(actual) > cap(rendered)
        }
        Weakens::NoGrow => {
            let r = strings(rendered);
            strings(actual).iter().any(|x| !r.contains(x))
        }
        Weakens::Same => canonical(rendered) != canonical(actual),
    }
}

fn with_default(v: &Val, a: &Attr) -> Val {
    match (v, a.default) {
        (Val::Absent, Some(d)) => Val::Known(serde_json::from_str(d).unwrap_or(Value::Null)),
        (Val::Absent, None) => Val::Known(Value::Null),
        _ => v.clone(),
    }
}

/// Compares one rendered resource's settings with the actual one's.
pub fn compare_res(rendered: &Res, actual: &Res) -> Vec<Weakening> {
    let Some(e) = entry(&rendered.resource_type) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for a in e.attrs {
        // Live: an attribute that was not read, or that the render sets to a
        // reference (known after apply: a key or role ARN), is left to the
        // dedicated live check that resolves it (XV017, XV027, XV028).
        if actual.partial
            && (!actual.values.iter().any(|(n, _)| *n == a.name)
                || rendered
                    .values
                    .iter()
                    .any(|(n, v)| *n == a.name && *v == Val::Unknown))
        {
            continue;
        }
        let get = |r: &Res| {
            r.values
                .iter()
                .find(|(n, _)| *n == a.name)
                .map_or(Val::Absent, |(_, v)| v.clone())
        };
        let (rv, av) = (
            with_default(&get(rendered), a),
            with_default(&get(actual), a),
        );
        let change = match (&rv, &av) {
            (Val::Unknown, Val::Unknown) => None,
            // Left unset by the render and computed by the provider in a plan
            // (`multi_region`, a table's AWS owned key ARN): the provider's value.
            (_, Val::Unknown) if get(rendered) == Val::Absent && actual.computed => None,
            // A reference the render sets, gone: weaker; otherwise one side is
            // known only after apply: cannot decide, never clean.
            (Val::Unknown, Val::Known(x)) if is_empty(x) => Some(Change::Weaker),
            (Val::Known(_), Val::Unknown) | (Val::Unknown, Val::Known(_)) => {
                Some(Change::Undecided)
            }
            (Val::Known(r), Val::Known(x)) => weaker(a.weakens, r, x).then_some(Change::Weaker),
            _ => None,
        };
        if let Some(change) = change {
            let line = actual
                .lines
                .iter()
                .find(|(n, _)| *n == a.name)
                .map(|(_, l)| *l);
            let mut place = actual.place.clone();
            if line.is_some() {
                place.line = line;
            }
            out.push(Weakening {
                resource_type: rendered.resource_type.clone(),
                key: rendered.key.clone(),
                account: actual.account.clone(),
                attribute: a.name,
                direction: a.weakens.describe(),
                rendered: text(&get(rendered)),
                actual: text(&get(actual)),
                change,
                check: if change == Change::Undecided {
                    super::UNDECIDED.id
                } else {
                    a.check
                },
                place,
            });
        }
    }
    out
}

/// The pure comparison: every setting of `actual` weaker than `rendered`
/// (same resource type and key). A rendered resource that `actual` lacks is
/// [`Change::Removed`] when `actual` holds anything of the same account and
/// format (one side given alone is not "everything removed").
pub fn compare(rendered: &[Res], actual: &[Res]) -> Vec<Weakening> {
    use std::collections::{BTreeSet, HashMap};
    let index: HashMap<(&str, &str, &str), &Res> = actual
        .iter()
        .map(|r| {
            (
                (r.resource_type.as_str(), r.key.as_str(), r.account.as_str()),
                r,
            )
        })
        .collect();
    let cfn = |t: &str| t.starts_with("AWS::");
    let present: BTreeSet<(&str, bool)> = actual
        .iter()
        .map(|r| (r.account.as_str(), cfn(&r.resource_type)))
        .collect();
    let mut out = Vec::new();
    for r in rendered {
        match index.get(&(r.resource_type.as_str(), r.key.as_str(), r.account.as_str())) {
            Some(a) => out.extend(compare_res(r, a)),
            None if !r.conditional
                && present.contains(&(r.account.as_str(), cfn(&r.resource_type))) =>
            {
                out.push(Weakening {
                    resource_type: r.resource_type.clone(),
                    key: r.key.clone(),
                    account: r.account.clone(),
                    attribute: "",
                    direction: "must exist",
                    rendered: r.key.clone(),
                    actual: "(missing)".to_owned(),
                    change: Change::Removed,
                    check: SETTING_REMOVED.id,
                    place: actual
                        .iter()
                        .find(|x| {
                            x.account == r.account && cfn(&x.resource_type) == cfn(&r.resource_type)
                        })
                        .map(|x| Place {
                            name: r.key.clone(),
                            file: x.place.file.clone(),
                            line: None,
                        })
                        .unwrap_or_else(|| Place::new(r.key.clone())),
                });
            }
            None => {}
        }
    }
    out
}

/// The severity of the check a weakening is reported as.
pub fn severity_of(check: &str) -> super::Severity {
    check_of(check).severity
}

fn check_of(id: &str) -> Check {
    super::CHECKS
        .iter()
        .chain(super::attributes::CHECKS)
        .chain(CHECKS)
        .find(|c| c.id == id)
        .copied()
        .unwrap_or(SETTING_WEAKER)
}

/// Findings for `weakenings`, leaving out one an earlier check already
/// reported at the same place (XA042-XA048, XA014 judge some of these
/// attributes absolutely: one finding per weakened setting).
pub fn findings(weakenings: &[Weakening], existing: &[Finding]) -> Vec<Finding> {
    let mut out = Vec::new();
    for w in weakenings {
        let check = check_of(w.check);
        let dup = existing.iter().any(|f| {
            f.check_id == check.id
                && f.account == w.account
                && (f.resource == w.place.name
                    || (f.file.is_some() && f.file == w.place.file && f.line == w.place.line)
                    || f.resource.ends_with(&w.key))
        });
        if dup && check.id != SETTING_WEAKER.id && check.id != SETTING_REMOVED.id {
            continue;
        }
        let message = match w.change {
            Change::Weaker => format!(
                "{} {}: {} is {}, weaker than the rendered {} ({}); restore the rendered value or change the spec and re-render",
                w.resource_type, w.key, w.attribute, w.actual, w.rendered, w.direction
            ),
            Change::Removed => format!(
                "{} {} is rendered by xacct but missing here: its security settings are gone; restore it",
                w.resource_type, w.key
            ),
            Change::Undecided => format!(
                "cannot decide whether {} {}.{} ({}) keeps the rendered {}: review it by hand",
                w.resource_type, w.key, w.attribute, w.actual, w.rendered
            ),
        };
        out.push(Finding {
            check_id: check.id,
            severity: check.severity,
            account: w.account.clone(),
            resource: w.place.name.clone(),
            message,
            statement: None,
            file: w.place.file.clone(),
            line: w.place.line,
            counterexample: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn directions() {
        assert!(weaker(Weakens::On, &json!(true), &json!(false)));
        assert!(!weaker(Weakens::On, &json!(true), &json!("true")));
        assert!(weaker(SIGNING, &json!("Enforce"), &json!("Warn")));
        assert!(!weaker(SIGNING, &json!("Warn"), &json!("Enforce")));
        assert!(weaker(SIGNING, &json!("Enforce"), &json!("Other")));
        assert!(weaker(Weakens::AtLeast, &json!(30), &json!(7)));
        assert!(!weaker(Weakens::AtLeast, &json!(7), &json!("30")));
        assert!(weaker(Weakens::Retention, &json!(365), &json!(30)));
        assert!(weaker(Weakens::Retention, &json!(0), &json!(3650)));
        assert!(!weaker(Weakens::Retention, &json!(365), &json!(0)));
        assert!(weaker(Weakens::Cap, &json!(10), &json!(-1)));
        assert!(weaker(Weakens::Cap, &json!(10), &json!(11)));
        assert!(!weaker(Weakens::Cap, &json!(10), &json!(5)));
        assert!(weaker(Weakens::NoGrow, &json!(null), &json!(["*"])));
        assert!(!weaker(Weakens::NoGrow, &json!(["a", "b"]), &json!(["b"])));
        assert!(!weaker(Weakens::Same, &json!([]), &json!(null)));
        assert!(!weaker(Weakens::Same, &json!(7), &json!(7.0)));
        assert!(weaker(Weakens::Same, &json!("k1"), &json!("k2")));
    }

    #[test]
    fn every_attribute_is_read_at_its_path() {
        for e in TABLE {
            for a in e.attrs {
                assert!(a.path.starts_with('/'), "{} {}", e.resource_type, a.name);
                if let Some(d) = a.default {
                    assert!(
                        serde_json::from_str::<Value>(d).is_ok(),
                        "{} {}",
                        e.resource_type,
                        a.name
                    );
                }
                assert!(
                    check_of(a.check).id == a.check,
                    "{} {}: unknown check {}",
                    e.resource_type,
                    a.name,
                    a.check
                );
            }
            assert!(
                !e.attrs.is_empty() || e.none.is_some(),
                "{}: no attribute and no reason",
                e.resource_type
            );
        }
    }

    #[test]
    fn instance_keys_are_dropped() {
        assert_eq!(
            strip_instance_keys("module.account_1.module.phr_bucket[0].aws_s3_bucket.this"),
            "module.account_1.module.phr_bucket.aws_s3_bucket.this"
        );
    }
}
