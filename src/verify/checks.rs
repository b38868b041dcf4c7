//! The verifier's checks: stable IDs `XV…` (the audit's evaluator adds its own
//! `XA…` findings on the live documents, prefixed `live:`).

use crate::audit::{Check, Severity};

macro_rules! checks {
    ($($name:ident = $id:literal, $sev:ident, $title:literal;)*) => {
        $(pub const $name: Check = Check { id: $id, severity: Severity::$sev, title: $title };)*
        /// Every verifier check, in ID order.
        pub const CHECKS: &[Check] = &[$($name),*];
    };
}

checks! {
    CALLER = "XV001", Critical, "The credentials do not belong to the environment's primary account";
    PRIMARY_UNREACHABLE = "XV002", High, "A read in the primary account failed";
    FUNCTION_CONFIG = "XV010", High, "The Lambda is missing or its runtime, handler, memory or timeout differ from the spec";
    FUNCTION_ENV = "XV011", High, "A Lambda environment variable differs from the rendered value";
    FUNCTION_URL_AUTH = "XV012", Critical, "The function URL is missing or its auth type is not AWS_IAM";
    FUNCTION_POLICY = "XV013", Critical, "The function's resource policy differs from the rendered invoker permissions";
    LAMBDA_TRUST = "XV014", Critical, "The Lambda execution role is missing or its trust policy differs from the rendered one";
    LAMBDA_POLICY = "XV015", High, "The Lambda execution role's inline policy differs from the rendered one";
    LAMBDA_EXTRA_POLICY = "XV016", High, "The Lambda execution role has a policy that was not rendered";
    LAMBDA_BOUNDARY = "XV017", Critical, "The Lambda execution role lacks the rendered permissions boundary, or the boundary policy differs from the rendered one";
    FUNCTION_CONCURRENCY = "XV018", High, "The function's reserved concurrency differs from the spec (lambda.reserved_concurrency)";
    FUNCTION_CODE_SIGNING = "XV019", Critical, "The spec sets security.code_signing_profile_version_arn but the function has no code signing configuration attached";
    PHR_MISSING = "XV020", High, "The PHR bucket is missing or cannot be read";
    PHR_ENCRYPTION = "XV021", High, "The PHR bucket has no default encryption";
    PHR_PUBLIC_ACCESS = "XV022", Critical, "The PHR bucket's Block Public Access is not fully on";
    PHR_OWNERSHIP = "XV023", Medium, "The PHR bucket's object ownership is not BucketOwnerEnforced";
    PHR_POLICY = "XV024", High, "The PHR bucket policy differs from the rendered TLS-only reader policy";
    LOG_BUCKET = "XV025", High, "The environment's log bucket is missing, or its Block Public Access, object ownership, encryption, lifecycle or TLS-only policy differ from the rendered ones";
    PHR_ACCESS_LOGGING = "XV026", High, "The PHR bucket's server access logs do not go to the environment's log bucket";
    KMS_KEY = "XV027", Critical, "The customer-managed KMS key (security.kms_key) is missing, its rotation is off, its policy differs from the rendered one, or the PHR bucket or the log group does not use it";
    TRAIL = "XV028", High, "The CloudTrail trail (security.cloudtrail) is missing, not logging, not multi-region, without log file validation, or not writing to the log bucket";
    STORAGE_UNREACHABLE = "XV030", High, "A storage account cannot be read through the audit role";
    STORAGE_ROLE_MISSING = "XV031", High, "S3BucketManager does not exist in a storage account";
    STORAGE_TRUST = "XV032", Critical, "S3BucketManager's trust policy differs from the rendered one";
    STORAGE_POLICY_DETACHED = "XV033", High, "S3BucketManagement is not attached to S3BucketManager";
    STORAGE_POLICY = "XV034", Critical, "S3BucketManagement is missing or differs from the rendered one";
    STORAGE_EXTRA_POLICY = "XV035", High, "S3BucketManager has a policy that was not rendered";
    STORAGE_ACCOUNT_PUBLIC_ACCESS = "XV036", Critical, "A storage account's account-level Block Public Access is not fully on, or cannot be read";
    PRIMARY_ACCOUNT_PUBLIC_ACCESS = "XV037", Critical, "The primary account's account-level Block Public Access (security.primary_account_public_access_block) is not fully on, or cannot be read";
    SELF_TEST_PATH = "XV040", Info, "The trust chain was checked through the Lambda's self-test, not walked directly";
    CHAIN_ASSUME = "XV041", High, "The Lambda execution role cannot assume a storage account's S3BucketManager (live)";
    CHAIN_LIST = "XV042", High, "S3BucketManager cannot list buckets (capacity unknown)";
    CAPACITY_WARN = "XV043", Medium, "A storage account is past the capacity warning threshold";
    CAPACITY_FULL = "XV044", High, "A storage account is at its bucket limit (max_buckets_per_account or the S3 quota)";
    CANARY_STEP = "XV045", High, "A canary step (create, configure, read back) failed with S3BucketManager's credentials";
    CANARY_LEFT = "XV046", High, "A canary bucket could not be deleted";
    SELF_TEST = "XV047", High, "The Lambda's self-test could not be invoked or reported a failure";
    CAPACITY_DRIFT = "XV048", Medium, "A storage account's capacity counter differs from its bucket listing (drift)";
    STATE_TABLE = "XV049", High, "The provisioning-state table is missing or its capacity counters cannot be read";
    ORG_UNREADABLE = "XV060", High, "The verifier cannot read the organization (SCPs, RCPs, accounts): guardrails and the organization's zone of trust were not checked";
    ORG_ABSENT = "XV061", High, "The spec names an organization, but the caller's account is in no organization";
    OUTSIDE_NAMESPACE = "XV070", High, "With bucket_namespace = account-regional, a customer bucket was created outside the account regional namespace after the switch";
    INVOKE_NOT_VIA_URL = "XV071", High, "The live lambda:InvokeFunction permission of an invoker is not held to calls through the function URL (lambda:InvokedViaFunctionUrl)";
}
