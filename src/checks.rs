//! The check registry: every check ID, declared once with its severity, title,
//! remedy, README anchor and (for verify's live findings) the generated policy or
//! spec field that governs it. `audit`, `verify` and `sarif` read it; nothing
//! matches on ID strings. Pure data: imports nothing from the crate.
//!
//! Adding a check is one entry in its group below:
//!
//! ```text
//! NAME = "XV050", High, "What is wrong, in one line",
//!     remedy "What to do about it.",          // optional: the group's remedy otherwise
//!     policy "lambda-execution-policy.json",  // optional, verify: the generated policy
//!     spec [Key("lambda", "function_name")];  // optional, verify: spec fields, tried in order
//! ```
//!
//! An entry written for the former per-module `checks!` macros (`NAME = "ID", Sev,
//! "title";`) is valid here unchanged; its remedy text (formerly a `match` arm in
//! `sarif::remedy`) becomes its `remedy`, its SARIF placement (formerly an arm in
//! the `live_place` matches) its `policy`/`spec`.

use serde::Serialize;

/// Severity of a finding; `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// Which command finds a check's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `xacct audit`, offline (and `xacct verify` on the live documents).
    Audit,
    /// `xacct verify`, in what is deployed.
    Verify,
}

/// A spec field a live finding is placed at (SARIF), tried in the order given;
/// the finding's account entry is the last resort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecAt {
    /// `key` in `[section]`.
    Key(&'static str, &'static str),
    /// The `[section]` header.
    Table(&'static str),
    /// The finding's storage account in `storage.accounts`.
    Account,
}

/// A check: stable ID, severity, one-line title, what to do, where README
/// documents it, and where a live finding of it belongs.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub kind: Kind,
    /// What to do about a finding.
    pub remedy: &'static str,
    /// The anchor of README's table that lists the check.
    pub anchor: &'static str,
    /// Verify: the file under `generated/<env>/policies/` that governs the finding.
    pub policy: Option<&'static str>,
    /// Verify: the spec fields that govern the finding, tried in order.
    pub spec: &'static [SpecAt],
}

/// The check with this ID, if any.
pub fn by_id(id: &str) -> Option<&'static Check> {
    ALL.iter().flat_map(|g| g.iter()).find(|c| c.id == id)
}

macro_rules! first {
    ($a:expr $(, $rest:expr)*) => {
        $a
    };
}

macro_rules! registry {
    ($(
        $(#[$doc:meta])*
        pub mod $group:ident ($kind:ident, $anchor:literal, $fallback:literal) {
            $($name:ident = $id:literal, $sev:ident, $title:literal
                $(, remedy $remedy:literal)?
                $(, policy $policy:literal)?
                $(, spec [$($spec:expr),* $(,)?])?;)*
        }
    )*) => {
        $(
            $(#[$doc])*
            pub mod $group {
                #[allow(unused_imports)]
                use super::{Check, Kind, Severity, SpecAt::*};
                $(pub const $name: Check = Check {
                    id: $id,
                    severity: Severity::$sev,
                    title: $title,
                    kind: Kind::$kind,
                    remedy: first!($($remedy,)? $fallback),
                    anchor: $anchor,
                    policy: first!($(Some($policy),)? None),
                    spec: first!($(&[$($spec),*],)? &[]),
                };)*
                /// The group's checks, in ID order.
                pub const CHECKS: &[Check] = &[$($name),*];
            }
        )*
        /// Every group, in order.
        pub const ALL: &[&[Check]] = &[$($group::CHECKS),*];
    };
}

registry! {
    /// The audit's policy checks (`crate::audit`), XA001-XA039.
    pub mod audit (Audit, "audit-check-ids", "Fix the document or setting at the location shown, then run the audit again.") {
        LAMBDA_CANNOT_ASSUME = "XA001", High,
            "The Lambda execution role cannot assume a storage account's S3BucketManager",
            remedy "Allow the Lambda execution role `sts:AssumeRole` on each storage account's `S3BucketManager`, and name the execution role in that role's trust policy; the message names the blocking statement or the missing grant.";
        LAMBDA_ASSUMES_OTHER = "XA002", Critical,
            "The Lambda execution role may assume a role other than the storage roles",
            remedy "Narrow the execution role's `sts:AssumeRole` statement to `arn:aws:iam::<storage account>:role/S3BucketManager` (or the discovery form with `aws:ResourceOrgID`); the counterexample is a role it may assume today.";
        STORAGE_ROLE_OPEN = "XA003", Critical,
            "S3BucketManager can be assumed by a principal other than the Lambda execution role",
            remedy "Make `S3BucketManager`'s trust name only the Lambda execution role (and `access.verifier_principals`); remove wildcards in `aws:PrincipalArn` and any other principal.";
        MANAGEMENT_MISSING = "XA004", High,
            "S3BucketManagement does not allow an action the runtime needs on a prefixed bucket",
            remedy "Add the missing action on `<bucket_prefix>-*` to `S3BucketManagement` (see `contract::BUCKET_ACTIONS`), or remove the statement or condition that blocks it.";
        MANAGEMENT_FOREIGN_BUCKET = "XA005", Critical,
            "S3BucketManagement allows bucket actions on a bucket outside the prefix",
            remedy "Scope `S3BucketManagement`'s bucket statements to `arn:aws:s3:::<bucket_prefix>-*`.";
        MANAGEMENT_NON_S3 = "XA006", High,
            "S3BucketManagement allows actions outside S3",
            remedy "Remove the non-S3 actions from `S3BucketManagement`.";
        DESTRUCTIVE = "XA007", Critical,
            "A destructive S3 action (catalog access level Write or Permissions management) is allowed (other than canary deletion when enabled)",
            remedy "Remove the destructive S3 action (delete, put policy or ACL) from the policy; canary deletion is allowed only with `storage.allow_canary`.";
        WILDCARD_PRINCIPAL = "XA008", Critical,
            "An Allow statement has a `*` principal (or NotPrincipal)",
            remedy "Replace the `*` principal (or NotPrincipal) with the principal ARNs that need access, or narrow it with `aws:PrincipalArn`/`aws:PrincipalAccount`/`aws:PrincipalOrgID`.";
        WILDCARD_ACTION = "XA009", High,
            "An Allow statement has `Action: *`",
            remedy "List the actions the statement needs instead of `*`.";
        NOT_ACTION_ALLOW = "XA010", High,
            "An Allow statement uses NotAction or NotResource",
            remedy "Rewrite the statement with Action and Resource lists instead of NotAction/NotResource.";
        WILDCARD_RESOURCE = "XA011", High,
            "`Resource: *` on an action that can be scoped",
            remedy "Scope the statement's Resource to the ARNs the actions need; only actions that cannot be scoped (`s3:ListAllMyBuckets`, `organizations:ListAccounts`) may use `*`.";
        FUNCTION_URL_CALLER = "XA012", Critical,
            "The function URL can be called by a principal that is not an invoker",
            remedy "Limit the function's resource policy to `access.invoker_principals` with `lambda:InvokeFunctionUrl` (auth `AWS_IAM`) and `lambda:InvokeFunction`.";
        FUNCTION_URL_INVOKER_DENIED = "XA013", Medium,
            "A configured invoker cannot call the function URL",
            remedy "Grant the invoker `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` in the function policy (and check its own identity policy).";
        FUNCTION_URL_AUTH = "XA014", Critical,
            "Function URL auth type is not AWS_IAM",
            remedy "Set the function URL's auth type to `AWS_IAM` (Terraform `authorization_type`, CloudFormation `AuthType`).";
        BUCKET_PUBLIC = "XA015", Critical,
            "A bucket policy grants access to anonymous or foreign principals",
            remedy "Remove grants to anonymous or foreign principals from the bucket policy; readers get `ListBucket`, `GetBucketLocation` and `GetObject` only.";
        BUCKET_TLS = "XA016", High,
            "A bucket policy does not deny requests without TLS",
            remedy "Add a Deny of `s3:*` on the bucket and its objects when `aws:SecureTransport` is false.";
        BUCKET_READER = "XA017", Medium,
            "A reader principal cannot read the bucket",
            remedy "Grant the reader `s3:ListBucket`, `s3:GetBucketLocation` and `s3:GetObject` in the bucket policy, or remove it from `access.reader_principals`.";
        SECRET = "XA018", Critical,
            "A long-lived secret appears in a rendered file or plan value",
            remedy "Remove the secret from the file, rotate it now (it is compromised once committed), and pass credentials through a secret store or the environment instead.";
        UNIQUE_ID_PRINCIPAL = "XA019", Medium,
            "A principal is an IAM unique ID (AROA/AIDA...): a deleted or recreated principal",
            remedy "Replace the unique ID (AROA/AIDA...) with the principal's ARN; recreate the grant if the principal was deleted.";
        LAMBDA_TRUST_OPEN = "XA020", High,
            "The Lambda execution role can be assumed by something other than Lambda in the primary account",
            remedy "Make the execution role's trust allow only `lambda.amazonaws.com` with `aws:SourceAccount` = the primary account (plus verifiers).";
        UNSUPPORTED = "XA021", Medium,
            "A condition operator the evaluator does not implement (treated as false)",
            remedy "Review the document by hand: the audit could not decide it. Prefer conditions, values and references the audit can read (see README), or resolve the reference with `--parameters`.";
        UNDECIDED = "XA022", High,
            "The audit cannot decide a question for this document (unmodelled operator, policy variable, size limit)",
            remedy "Review the document by hand: the audit could not decide it. Prefer conditions, values and references the audit can read (see README), or resolve the reference with `--parameters`.";
        NEW_ACCESS = "XA023", High,
            "A document allows a request the rendered document does not (no new access)",
            remedy "Remove the access the rendered document does not grant (the counterexample is one such request), or change the spec and re-render if it is intended.";
        EXECUTION_EXTRA = "XA024", High,
            "The Lambda execution role may do more than assume storage roles, write its logs, notify ops and discover accounts",
            remedy "Remove the execution role's permissions beyond assuming storage roles, writing its logs, publishing to the ops topic and discovering accounts.";
        MANAGEMENT_EXTRA = "XA025", High,
            "S3BucketManagement allows an S3 action the runtime does not need on prefixed buckets or their objects",
            remedy "Remove the S3 actions the runtime does not need from `S3BucketManagement` (see `contract::BUCKET_ACTIONS`).";
        UNKNOWN_ACTION = "XA026", Low,
            "An action of a catalogued service that is not in the action catalog (typo, or newer than the catalog)",
            remedy "Fix the action's spelling (actions are `service:Action`), or update the action catalog if the action is newer.";
        KMS_KEY_OPEN = "XA027", Critical,
            "The customer-managed KMS key's policy lets someone outside the intent use or manage the key";
        KMS_KEY_USER_DENIED = "XA028", Medium,
            "A reader (through S3) or CloudWatch Logs (for the function's log group) cannot use the customer-managed KMS key";
        GUARDRAIL_BLOCKS = "XA060", High,
            "An SCP or RCP of the organization blocks an intended request of the provisioning chain",
            remedy "Exempt the provisioning chain from the named SCP or RCP statement (or move the account to an OU where it does not apply), then take a new `xacct org snapshot`; see docs/organization.md.";
        GUARDRAIL_UNDECIDED = "XA061", High,
            "Whether an SCP or RCP blocks an intended request cannot be decided (condition key unknown offline, unmodelled operator)",
            remedy "Review the named SCP or RCP statement by hand against the request shown: the audit could not decide it offline.";
        EXTERNAL_ACCESS = "XA062", Critical,
            "A principal outside the zone of trust may reach a bucket, the KMS key, the function or a role (external access)",
            remedy "Remove the foreign principal from the spec (or the document), or accept it in `access.external_principals` with a reason if the access is intended.";
        EXTERNAL_ACCEPTED = "XA063", Info,
            "External access accepted in access.external_principals (shown with its reason)",
            remedy "Nothing to do while the reason holds; remove the entry from `access.external_principals` when it no longer does.";
        ORG_ACCOUNT_OUTSIDE = "XA064", Medium,
            "An environment account is not in the organization of the snapshot",
            remedy "Invite the account into the organization, or take the snapshot of the organization that holds it (`xacct org snapshot`).";
        ORG_MISMATCH = "XA065", High,
            "The organization snapshot does not match the spec (another organization, or unreadable)",
            remedy "Take a new snapshot with `xacct org snapshot --env <spec>`, or fix `storage.organization_id`.";
        CREATE_OUTSIDE_NAMESPACE = "XA070", High,
            "With bucket_namespace = account-regional, S3BucketManagement allows s3:CreateBucket without s3:x-amz-bucket-namespace = account-regional or outside <prefix>-*-<region>-an (a global, squattable name)",
            remedy "Re-render `S3BucketManagement`: `s3:CreateBucket` only on `<prefix>-*-<region>-an` with `s3:x-amz-bucket-namespace = account-regional` (docs/runtime.md).";
    }
    /// The audit's checks beyond policies (`crate::audit::attributes`,
    /// `crate::audit::shipped`), XA040-XA049.
    pub mod attributes (Audit, "audit-check-ids", "Fix the document or setting at the location shown, then run the audit again.") {
        COMMITTED_DRIFT = "XA040", High,
            "A committed file under generated/<env>/ differs from what xacct renders (hand-edited, stale, missing or orphaned)",
            remedy "Run `xacct render --env <spec>` and commit the result; change the spec or the templates instead of the rendered files.";
        CANNOT_DECIDE = "XA041", High,
            "A policy or setting could not be read (unresolved reference, computed value): cannot decide, review by hand",
            remedy "Review the document by hand: the audit could not decide it. Prefer conditions, values and references the audit can read (see README), or resolve the reference with `--parameters`.";
        BUCKET_PUBLIC_ACCESS_BLOCK = "XA042", Critical,
            "A bucket's Block Public Access is missing or one of its four flags is off",
            remedy "Turn on all four Block Public Access flags of the bucket.";
        BUCKET_OWNERSHIP = "XA043", High,
            "A bucket's object ownership is not BucketOwnerEnforced (ACLs stay active)",
            remedy "Set the bucket's object ownership to `BucketOwnerEnforced`.";
        BUCKET_ENCRYPTION = "XA044", High,
            "A bucket has no default encryption (SSE-S3 or SSE-KMS)",
            remedy "Configure default encryption (SSE-S3 or SSE-KMS) on the bucket.";
        PHR_VERSIONING = "XA045", High,
            "Versioning of the PHR bucket is not Enabled",
            remedy "Enable versioning on the PHR bucket.";
        FUNCTION_URL_CORS = "XA046", High,
            "The function URL's CORS allows a wildcard origin (xacct renders no CORS)",
            remedy "Remove the wildcard origin from the function URL's CORS (xacct renders none).";
        INVOKE_PRINCIPAL = "XA047", Critical,
            "A Lambda invoke permission has a `*` or service principal without SourceArn/SourceAccount",
            remedy "Add `SourceArn`/`SourceAccount` (or `PrincipalOrgID`) to the invoke permission, or name a specific principal.";
        INVOKE_URL_AUTH = "XA048", Critical,
            "A lambda:InvokeFunctionUrl permission does not require FunctionUrlAuthType AWS_IAM",
            remedy "Add `FunctionUrlAuthType = AWS_IAM` to the `lambda:InvokeFunctionUrl` permission.";
        TEMPLATE_UNAUDITED = "XA049", Medium,
            "A template resource that grants or holds access is of a type the audit does not read",
            remedy "Review the resource by hand or express the access with the roles and policies xacct renders.";
        INVOKE_NOT_VIA_URL = "XA071", High,
            "A lambda:InvokeFunction permission to an invoker is not held to calls through the function URL (InvokedViaFunctionUrl), so it also allows a direct Invoke outside the URL's auth",
            remedy "Set `InvokedViaFunctionUrl: true` on the invoker's `lambda:InvokeFunction` permission (docs/runtime.md; Terraform provider 5.x cannot say it).";
    }
    /// The settings floor (`crate::audit::settings`), XA050-XA059: nothing weaker than the render.
    pub mod settings (Audit, "audit-check-ids", "Set the attribute back to the value xacct renders (or stronger), then run the audit again.") {
        SETTING_WEAKER = "XA050", High,
            "A security setting is weaker than the one xacct renders (flag off, weaker enum, smaller number, longer list)";
        SETTING_REMOVED = "XA051", High,
            "A resource with security settings that xacct renders is missing from the plan, template or committed files",
            remedy "Restore the resource xacct renders (re-render and apply `generated/<env>/`).";
    }
    /// The verifier's checks (`crate::verify`), XV…; the audit's XA checks also
    /// run on the live documents (prefixed `live:`).
    pub mod verify (Verify, "verify-check-ids", "Re-deploy what xacct renders for this environment (`generated/<env>/`, Terraform or CloudFormation): the deployed resource differs from it. The message names the difference.") {
        CALLER = "XV001", Critical,
            "The credentials do not belong to the environment's primary account",
            remedy "Use credentials of the environment's primary account (`--profile`), or fix `environment.primary_account` in the spec.",
            spec [Key("environment", "primary_account")];
        PRIMARY_UNREACHABLE = "XV002", High,
            "A read in the primary account failed",
            remedy "Give the verifying principal the read permissions listed in README (xacct verify) in the primary account; the message names the API that failed.",
            spec [Key("environment", "primary_account")];
        FUNCTION_CONFIG = "XV010", High,
            "The Lambda is missing or its runtime, handler, memory or timeout differ from the spec",
            spec [Key("lambda", "function_name")];
        FUNCTION_ENV = "XV011", High,
            "A Lambda environment variable differs from the rendered value",
            spec [Key("lambda", "function_name")];
        FUNCTION_URL_AUTH = "XV012", Critical,
            "The function URL is missing or its auth type is not AWS_IAM",
            spec [Key("access", "invoker_principals")];
        FUNCTION_POLICY = "XV013", Critical,
            "The function's resource policy differs from the rendered invoker permissions",
            policy "function-url-policy.json",
            spec [Key("access", "invoker_principals")];
        LAMBDA_TRUST = "XV014", Critical,
            "The Lambda execution role is missing or its trust policy differs from the rendered one",
            policy "lambda-execution-trust.json";
        LAMBDA_POLICY = "XV015", High,
            "The Lambda execution role's inline policy differs from the rendered one",
            policy "lambda-execution-policy.json";
        LAMBDA_EXTRA_POLICY = "XV016", High,
            "The Lambda execution role has a policy that was not rendered",
            spec [Key("lambda", "function_name")];
        LAMBDA_BOUNDARY = "XV017", Critical,
            "The Lambda execution role lacks the rendered permissions boundary, or the boundary policy differs from the rendered one",
            policy "lambda-execution-boundary.json";
        FUNCTION_CONCURRENCY = "XV018", High,
            "The function's reserved concurrency differs from the spec (lambda.reserved_concurrency)",
            spec [Key("lambda", "reserved_concurrency"), Table("lambda")];
        FUNCTION_CODE_SIGNING = "XV019", Critical,
            "The spec sets security.code_signing_profile_version_arn but the function has no code signing configuration attached",
            spec [Key("security", "code_signing_profile_version_arn")];
        PHR_MISSING = "XV020", High,
            "The PHR bucket is missing or cannot be read",
            spec [Key("phr", "bucket")];
        PHR_ENCRYPTION = "XV021", High,
            "The PHR bucket has no default encryption",
            spec [Key("phr", "bucket")];
        PHR_PUBLIC_ACCESS = "XV022", Critical,
            "The PHR bucket's Block Public Access is not fully on",
            spec [Key("phr", "bucket")];
        PHR_OWNERSHIP = "XV023", Medium,
            "The PHR bucket's object ownership is not BucketOwnerEnforced",
            spec [Key("phr", "bucket")];
        PHR_POLICY = "XV024", High,
            "The PHR bucket policy differs from the rendered TLS-only reader policy",
            policy "phr-bucket-policy.json",
            spec [Key("phr", "bucket")];
        LOG_BUCKET = "XV025", High,
            "The environment's log bucket is missing, or its Block Public Access, object ownership, encryption, lifecycle or TLS-only policy differ from the rendered ones",
            policy "log-bucket-policy.json";
        PHR_ACCESS_LOGGING = "XV026", High,
            "The PHR bucket's server access logs do not go to the environment's log bucket",
            spec [Key("phr", "access_log_retention_days"), Key("phr", "bucket")];
        KMS_KEY = "XV027", Critical,
            "The customer-managed KMS key (security.kms_key) is missing, its rotation is off, its policy differs from the rendered one, or the PHR bucket or the log group does not use it",
            spec [Key("security", "kms_key")];
        TRAIL = "XV028", High,
            "The CloudTrail trail (security.cloudtrail) is missing, not logging, not multi-region, without log file validation, or not writing to the log bucket",
            spec [Key("security", "cloudtrail")];
        STORAGE_UNREACHABLE = "XV030", High,
            "A storage account cannot be read through the audit role",
            remedy "Make the audit role (`--audit-role`) exist in the storage account and trust the verifying principal.";
        STORAGE_ROLE_MISSING = "XV031", High,
            "S3BucketManager does not exist in a storage account";
        STORAGE_TRUST = "XV032", Critical,
            "S3BucketManager's trust policy differs from the rendered one",
            policy "s3-bucket-manager-trust.json";
        STORAGE_POLICY_DETACHED = "XV033", High,
            "S3BucketManagement is not attached to S3BucketManager";
        STORAGE_POLICY = "XV034", Critical,
            "S3BucketManagement is missing or differs from the rendered one",
            policy "s3-bucket-management-policy.json";
        STORAGE_EXTRA_POLICY = "XV035", High,
            "S3BucketManager has a policy that was not rendered";
        STORAGE_ACCOUNT_PUBLIC_ACCESS = "XV036", Critical,
            "A storage account's account-level Block Public Access is not fully on, or cannot be read";
        PRIMARY_ACCOUNT_PUBLIC_ACCESS = "XV037", Critical,
            "The primary account's account-level Block Public Access (security.primary_account_public_access_block) is not fully on, or cannot be read",
            spec [Key("security", "primary_account_public_access_block")];
        SELF_TEST_PATH = "XV040", Info,
            "The trust chain was checked through the Lambda's self-test, not walked directly",
            remedy "Add the verifier to `access.verifier_principals` and re-deploy to walk the trust chain directly.",
            spec [Key("lambda", "function_name")];
        CHAIN_ASSUME = "XV041", High,
            "The Lambda execution role cannot assume a storage account's S3BucketManager (live)",
            remedy "Re-deploy the rendered trust and policies (Lambda execution role, `S3BucketManager`); the message names the step that failed.";
        CHAIN_LIST = "XV042", High,
            "S3BucketManager cannot list buckets (capacity unknown)",
            remedy "Re-deploy the rendered trust and policies (Lambda execution role, `S3BucketManager`); the message names the step that failed.";
        CAPACITY_WARN = "XV043", Medium,
            "A storage account is past the capacity warning threshold",
            remedy "Add storage accounts to `storage.accounts`, raise the limits, or reconcile the counters with `xacct capacity --reconcile`.",
            spec [Account, Key("storage", "max_buckets_per_account")];
        CAPACITY_FULL = "XV044", High,
            "A storage account is at its bucket limit (max_buckets_per_account or the S3 quota)",
            remedy "Add storage accounts to `storage.accounts`, raise the limits, or reconcile the counters with `xacct capacity --reconcile`.",
            spec [Account, Key("storage", "max_buckets_per_account")];
        CANARY_STEP = "XV045", High,
            "A canary step (create, configure, read back) failed with S3BucketManager's credentials",
            remedy "Check `S3BucketManagement` and the canary bucket in the storage account; delete a leftover canary bucket by hand.";
        CANARY_LEFT = "XV046", High,
            "A canary bucket could not be deleted",
            remedy "Check `S3BucketManagement` and the canary bucket in the storage account; delete a leftover canary bucket by hand.";
        SELF_TEST = "XV047", High,
            "The Lambda's self-test could not be invoked or reported a failure",
            remedy "Re-deploy the rendered trust and policies (Lambda execution role, `S3BucketManager`); the message names the step that failed.",
            spec [Key("lambda", "function_name")];
        CAPACITY_DRIFT = "XV048", Medium,
            "A storage account's capacity counter differs from its bucket listing (drift)",
            remedy "Add storage accounts to `storage.accounts`, raise the limits, or reconcile the counters with `xacct capacity --reconcile`.";
        STATE_TABLE = "XV049", High,
            "The provisioning-state table is missing or its capacity counters cannot be read",
            remedy "Deploy the primary stack (it creates the provisioning-state table) and give the verifier read access to it.",
            spec [Table("capacity"), Table("storage")];
        ORG_UNREADABLE = "XV060", High,
            "The verifier cannot read the organization (SCPs, RCPs, accounts): guardrails and the organization's zone of trust were not checked",
            remedy "Give the verifier `organizations:DescribeOrganization`, `ListRoots`, `ListAccounts`, `ListParents`, `DescribeOrganizationalUnit`, `ListPoliciesForTarget` and `DescribePolicy` (docs/organization.md).",
            spec [Key("storage", "organization_id")];
        ORG_ABSENT = "XV061", High,
            "The spec names an organization, but the caller's account is in no organization",
            remedy "Fix `storage.organization_id`, or verify with credentials of an account in the organization.",
            spec [Key("storage", "organization_id")];
        OUTSIDE_NAMESPACE = "XV070", High,
            "With bucket_namespace = account-regional, a customer bucket was created outside the account regional namespace after the switch",
            remedy "Find who created the global-name bucket (CloudTrail) and re-deploy the rendered `S3BucketManagement`, which allows creation only in the namespace.",
            spec [Key("storage", "bucket_namespace")];
        INVOKE_NOT_VIA_URL = "XV071", High,
            "The live lambda:InvokeFunction permission of an invoker is not held to calls through the function URL (lambda:InvokedViaFunctionUrl)",
            remedy "Re-add the permission with `aws lambda add-permission --invoked-via-function-url` (a Terraform provider 5.x deployment lacks it; docs/runtime.md).",
            policy "function-url-policy.json";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_prefixed_by_kind() {
        let mut seen = std::collections::BTreeSet::new();
        for group in ALL {
            for w in group.windows(2) {
                assert!(w[0].id < w[1].id, "{} before {}", w[0].id, w[1].id);
            }
            for c in *group {
                assert!(seen.insert(c.id), "{} declared twice", c.id);
                let prefix = match c.kind {
                    Kind::Audit => "XA",
                    Kind::Verify => "XV",
                };
                assert!(c.id.starts_with(prefix) && c.id.len() == 5, "{}", c.id);
                assert!(!c.remedy.is_empty() && !c.title.is_empty(), "{}", c.id);
                assert!(c.kind == Kind::Verify || (c.policy.is_none() && c.spec.is_empty()));
            }
        }
        assert_eq!(
            by_id("XV049").map(|c| c.title),
            Some(verify::STATE_TABLE.title)
        );
        assert!(by_id("XA999").is_none());
    }

    #[test]
    fn attributes_cover_xa040_to_xa049_without_gaps() {
        let ids: Vec<&str> = attributes::CHECKS.iter().map(|c| c.id).collect();
        // XA040..XA049 without gaps, then XA071 (issue 22).
        let want: Vec<String> = (40..50)
            .map(|n| format!("XA0{n}"))
            .chain(["XA071".to_owned()])
            .collect();
        assert_eq!(ids, want);
    }
}
