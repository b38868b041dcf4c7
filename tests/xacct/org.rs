//! Issue 20: the organization around the setup. A library of real-world
//! guardrails (written from AWS's published SCP and RCP examples) with their
//! expected verdict for the provisioning chain; external access against the
//! zone of trust; `org snapshot` and its use by audit, verify and onboard
//! against moto's Organizations API (which stores SCPs and RCPs and their
//! attachments but enforces neither: the evaluation is xacct's).

use serde_json::{Value, json};

use crate::support::live_cli::*;
use xacct::audit::{Finding, Input};
use xacct::model::{Environment, LoadOptions};
use xacct::org::{Snapshot, guardrails};

const ORG: &str = "o-exampleorg1";
const ROOT: &str = "r-ex01";
const STORAGE_OU: &str = "ou-ex01-storage1";
const OTHER_OU: &str = "ou-ex01-sandbox1";
const WORKLOAD_OU: &str = "ou-ex01-workload";
const MANAGEMENT: &str = "900000000001";

fn dev() -> Environment {
    Environment::load(
        &root().join("environments/dev.toml"),
        LoadOptions::default(),
    )
    .unwrap()
    .env
}

/// The dev environment's organization: primary in `workloads`, storage in
/// `storage`, an unrelated `sandbox` OU; FullAWSAccess and RCPFullAWSAccess
/// everywhere (as AWS attaches them), plus `extra` policies (kind, name, targets, document).
fn org_with(extra: &[(&str, &str, &[&str], Value)]) -> Snapshot {
    let mut paths = serde_json::Map::new();
    paths.insert("100000000001".into(), json!([ROOT, WORKLOAD_OU]));
    for s in ["100000000002", "100000000003"] {
        paths.insert(s.into(), json!([ROOT, STORAGE_OU]));
    }
    let all = json!([
        ROOT,
        STORAGE_OU,
        OTHER_OU,
        WORKLOAD_OU,
        "100000000001",
        "100000000002",
        "100000000003"
    ]);
    let mut policies = vec![
        json!({"id": "p-FullAWSAccess", "name": "FullAWSAccess", "kind": "SERVICE_CONTROL_POLICY",
               "aws_managed": true, "targets": all,
               "content": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}),
        json!({"id": "p-RCPFullAWSAccess", "name": "RCPFullAWSAccess", "kind": "RESOURCE_CONTROL_POLICY",
               "aws_managed": true, "targets": all,
               "content": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}}),
    ];
    for (i, (kind, name, targets, doc)) in extra.iter().enumerate() {
        policies.push(
            json!({"id": format!("p-ex{i:08}"), "name": name, "kind": kind,
            "aws_managed": false, "targets": targets, "content": doc}),
        );
    }
    let v = json!({
        "version": 1, "organization_id": ORG, "management_account": MANAGEMENT,
        "read_at": "2026-12-06T00:00:00Z", "root_id": ROOT,
        "enabled_policy_types": ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"],
        "accounts": [
            {"id": "100000000001", "name": "primary"}, {"id": "100000000002", "name": "storage-1"},
            {"id": "100000000003", "name": "storage-2"}, {"id": MANAGEMENT, "name": "management"}
        ],
        "organizational_units": [
            {"id": OTHER_OU, "name": "sandbox", "parent": ROOT},
            {"id": STORAGE_OU, "name": "storage", "parent": ROOT},
            {"id": WORKLOAD_OU, "name": "workloads", "parent": ROOT}
        ],
        "paths": paths, "outside": [], "policies": policies
    });
    Snapshot::from_json(std::path::Path::new("test.org.json"), &v.to_string()).unwrap()
}

fn guardrail_findings(env: &Environment, s: &Snapshot) -> Vec<Finding> {
    guardrails::check(&Input::from_env(env), s, "test.org.json")
}

const SCP: &str = "SERVICE_CONTROL_POLICY";
const RCP: &str = "RESOURCE_CONTROL_POLICY";

/// What a guardrail does to the chain.
#[derive(Debug, PartialEq)]
enum Expected {
    /// Nothing of the chain is blocked or undecided.
    Allows,
    /// XA060 for these actions (at least), naming the policy.
    Blocks(&'static [&'static str]),
    /// XA061: depends on something not known offline.
    Undecided,
}

/// The library: AWS's published examples (Organizations user guide, "SCP
/// examples" and "RCP examples"; the data-perimeter policy examples), each with
/// the verdict for dev's provisioning chain.
fn library() -> Vec<(
    &'static str,
    &'static str,
    &'static [&'static str],
    Value,
    Expected,
)> {
    let region_deny = |regions: &[&str], not_action: &[&str]| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "DenyAllOutsideApprovedRegions", "Effect": "Deny",
            "NotAction": not_action, "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions},
                          "ArnNotLike": {"aws:PrincipalARN": ["arn:aws:iam::*:role/Role1AllowedToBypassThisSCP"]}}}]})
    };
    let global = [
        "iam:*",
        "organizations:*",
        "route53:*",
        "budgets:*",
        "waf:*",
        "cloudfront:*",
        "globalaccelerator:*",
        "importexport:*",
        "kms:*",
        "sts:*",
        "support:*",
        "s3:GetAccountPublic*",
        "s3:ListAllMyBuckets",
        "s3:PutAccountPublic*",
    ];
    let no_sts: Vec<&str> = global.iter().copied().filter(|a| *a != "sts:*").collect();
    vec![
        (
            "DenyLeavingOrganization",
            SCP,
            &[ROOT],
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}),
            Expected::Allows,
        ),
        (
            "DenyOutsideEU",
            SCP,
            &[ROOT],
            region_deny(&["eu-central-1", "eu-west-1"], &global),
            Expected::Blocks(&[
                "s3:CreateBucket",
                "s3:PutBucketTagging",
                "dynamodb:PutItem",
                "logs:PutLogEvents",
            ]),
        ),
        (
            "DenyOutsideUsEast1",
            SCP,
            &[ROOT],
            region_deny(&["us-east-1"], &global),
            Expected::Allows,
        ),
        // The region list allows us-east-1 only through the function's region:
        // forgetting sts:* in NotAction matters only where STS is called outside it.
        (
            "DenyOutsideEUForgotSts",
            SCP,
            &[STORAGE_OU, WORKLOAD_OU],
            region_deny(&["eu-west-1"], &no_sts),
            Expected::Blocks(&["sts:AssumeRole", "s3:CreateBucket"]),
        ),
        (
            "DenyRootUser",
            SCP,
            &[ROOT],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}}}]}),
            Expected::Allows,
        ),
        (
            "RequireOrgForAssumeRole",
            RCP,
            &[ROOT],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                           "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}),
            Expected::Allows,
        ),
        (
            "RequireOrgForS3",
            RCP,
            &[ROOT],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                           "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}),
            Expected::Allows,
        ),
        // A perimeter for another organization: nothing of ours passes it.
        (
            "RequireOtherOrgForS3",
            RCP,
            &[STORAGE_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-otherorg0001"},
                           "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}),
            Expected::Blocks(&["s3:CreateBucket", "s3:GetObject"]),
        ),
        (
            "EnforceSecureTransport",
            RCP,
            &[ROOT],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EnforceSecureTransport", "Effect": "Deny", "Principal": "*",
             "Action": ["sts:*", "s3:*", "sqs:*", "secretsmanager:*", "kms:*"], "Resource": "*",
             "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}}]}),
            Expected::Allows,
        ),
        // xacct tags a bucket last, so "no policy on an untagged bucket" stops every new customer.
        (
            "DenyPutBucketPolicyUnlessTagged",
            SCP,
            &[STORAGE_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyPolicyOnUntaggedBuckets", "Effect": "Deny", "Action": "s3:PutBucketPolicy", "Resource": "*",
             "Condition": {"Null": {"aws:ResourceTag/managed-by": "true"}}}]}),
            Expected::Blocks(&["s3:PutBucketPolicy"]),
        ),
        (
            "RequireEnvironmentTagOnTagging",
            SCP,
            &[STORAGE_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "RequireEnvironmentTag", "Effect": "Deny", "Action": "s3:PutBucketTagging", "Resource": "*",
             "Condition": {"Null": {"aws:RequestTag/environment": "true"}}}]}),
            Expected::Allows,
        ),
        (
            "DenyUnlessTeamTag",
            SCP,
            &[STORAGE_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyUntaggedPrincipals", "Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "storage"}}}]}),
            Expected::Undecided,
        ),
        (
            "DenyOutsideCorporateNetwork",
            SCP,
            &[WORKLOAD_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}}]}),
            Expected::Undecided,
        ),
        (
            "DenyTaggingOnStorage",
            SCP,
            &[STORAGE_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoTagging", "Effect": "Deny", "Action": "s3:PutBucketTagging", "Resource": "*"}]}),
            Expected::Blocks(&["s3:PutBucketTagging"]),
        ),
        (
            "DenyTaggingOnSandbox",
            SCP,
            &[OTHER_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoTagging", "Effect": "Deny", "Action": "s3:PutBucketTagging", "Resource": "*"}]}),
            Expected::Allows,
        ),
        // An allow-list on the storage OU that forgot a bucket step (FullAWSAccess detached there).
        (
            "StorageAllowList",
            SCP,
            &[STORAGE_OU],
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListAllMyBuckets", "s3:PutBucketPolicy",
              "s3:PutBucketTagging", "s3:PutBucketOwnershipControls", "sts:*"], "Resource": "*"}]}),
            Expected::Blocks(&["s3:PutEncryptionConfiguration"]),
        ),
    ]
}

#[test]
fn the_guardrail_library_has_its_expected_verdict_for_the_chain() {
    let env = dev();
    assert!(
        guardrail_findings(&env, &org_with(&[])).is_empty(),
        "the default organization allows the chain"
    );
    for (name, kind, targets, doc, want) in library() {
        let mut s = org_with(&[(kind, name, targets, doc)]);
        if name == "StorageAllowList" {
            for p in &mut s.policies {
                if p.id == "p-FullAWSAccess" {
                    p.targets.retain(|t| t != STORAGE_OU);
                }
            }
        }
        let f = guardrail_findings(&env, &s);
        let dump = f
            .iter()
            .map(|f| format!("{} {}", f.check_id, f.message))
            .collect::<Vec<_>>()
            .join("\n");
        match want {
            Expected::Allows => assert!(f.is_empty(), "{name}: expected no finding:\n{dump}"),
            Expected::Undecided => {
                assert!(
                    f.iter().any(|f| f.check_id == "XA061"),
                    "{name}: expected XA061:\n{dump}"
                );
                assert!(
                    f.iter().all(|f| f.check_id != "XA060"),
                    "{name}: guessed a block:\n{dump}"
                );
            }
            Expected::Blocks(actions) => {
                for a in actions {
                    let hit = f.iter().find(|f| {
                        f.check_id == "XA060"
                            && f.counterexample
                                .as_ref()
                                .is_some_and(|c| c.action.eq_ignore_ascii_case(a))
                    });
                    let hit = hit.unwrap_or_else(|| panic!("{name}: {a} not blocked:\n{dump}"));
                    if name != "StorageAllowList" {
                        assert!(
                            hit.message.contains(&format!("`{name}`")),
                            "{name}: {}",
                            hit.message
                        );
                        assert!(hit.statement.is_some(), "{name}: no statement cited");
                    } else {
                        assert!(
                            hit.message.contains("no Allow")
                                || hit.message.contains("nothing allows"),
                            "{}",
                            hit.message
                        );
                    }
                    // The counterexample is blocked by the plain evaluator, at the named level.
                    assert!(hit.message.contains("attached to"), "{}", hit.message);
                }
            }
        }
    }
}

#[test]
fn the_management_account_and_accounts_outside_the_organization_are_exempt_from_guardrails() {
    let deny_all = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]});
    let mut s = org_with(&[(SCP, "DenyS3", &[ROOT], deny_all.clone())]);
    assert!(!guardrail_findings(&dev(), &s).is_empty());
    // The storage accounts become the management account / leave the organization.
    s.accounts
        .retain(|a| a.id != "100000000002" && a.id != "100000000003");
    s.paths.retain(|a, _| a == "100000000001");
    s.outside = vec!["100000000002".into(), "100000000003".into()];
    let f = guardrail_findings(&dev(), &s);
    assert!(
        f.iter()
            .all(|f| f.check_id != "XA060" || f.account == "100000000001"),
        "{f:#?}"
    );
    assert_eq!(
        f.iter().filter(|f| f.check_id == "XA064").count(),
        2,
        "{f:#?}"
    );
}

#[test]
fn a_primary_account_outside_the_organization_is_blocked_by_an_org_only_assume_role_rcp() {
    let rcp = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                       "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]});
    let mut s = org_with(&[(RCP, "RequireOrgForAssumeRole", &[ROOT], rcp)]);
    s.accounts.retain(|a| a.id != "100000000001");
    s.paths.remove("100000000001");
    s.outside = vec!["100000000001".into()];
    let f = guardrail_findings(&dev(), &s);
    let blocked: Vec<&Finding> = f
        .iter()
        .filter(|f| f.check_id == "XA060" && f.message.contains("sts:AssumeRole into"))
        .collect();
    assert_eq!(blocked.len(), 2, "{f:#?}");
    assert!(
        blocked[0].message.contains("RCP `RequireOrgForAssumeRole`"),
        "{}",
        blocked[0].message
    );
}

fn spec_with_readers(readers: &str, extra: &str) -> String {
    std::fs::read_to_string(root().join("environments/dev.toml"))
        .unwrap()
        .replace(
            r#"reader_principals = ["arn:aws:iam::100000000001:role/ambra-storage-dev"]"#,
            &format!("reader_principals = [{readers}]\n{extra}"),
        )
}

const FOREIGN: &str =
    r#""arn:aws:iam::100000000001:role/ambra-storage-dev", "arn:aws:iam::999999999999:root""#;

/// Regression (issue 20): a reader in a foreign account audited clean.
#[test]
fn a_foreign_reader_is_external_access_in_validate_and_audit_until_accepted_with_a_reason() {
    let w = Work::with_spec(&spec_with_readers(FOREIGN, ""));
    let gen_dir = w.o().to_owned();
    let a = xacct(
        None,
        &[
            "audit",
            "--env",
            w.s(),
            "--generated",
            &gen_dir,
            "--format",
            "json",
        ],
    );
    assert_eq!(a.code, 1, "{}{}", a.stdout, a.stderr);
    let v: Value = serde_json::from_str(&a.stdout).unwrap();
    let ext: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "XA062")
        .collect();
    assert!(!ext.is_empty(), "{}", a.stdout);
    for f in &ext {
        let p = f["counterexample"]["principal"].as_str().unwrap();
        assert!(p.starts_with("arn:aws:iam::999999999999:"), "{f}");
        assert_eq!(f["severity"], "critical");
    }
    // Both buckets (PHR and customer) are reported.
    for b in ["phr-bucket-policy", "customer-bucket-policy"] {
        assert!(
            ext.iter()
                .any(|f| f["resource"].as_str().unwrap().contains(b)
                    || f["file"].as_str().unwrap_or("").contains(b)),
            "{b}: {}",
            a.stdout
        );
    }
    let val = xacct(None, &["validate", "--env", w.s()]);
    assert_eq!(val.code, 1, "{}{}", val.stdout, val.stderr);
    assert!(
        val.stdout.contains("XA062") && val.stdout.contains("999999999999"),
        "{}",
        val.stdout
    );

    // Accepted with a reason: shown as accepted (info), the audit passes.
    let accepted = spec_with_readers(
        FOREIGN,
        "\n[[access.external_principals]]\nprincipal = \"arn:aws:iam::999999999999:root\"\nreason = \"radiology partner, contract RAD-42\"\n",
    );
    let w = Work::with_spec(&accepted);
    let gen_dir = w.o().to_owned();
    let a = xacct(
        None,
        &[
            "audit",
            "--env",
            w.s(),
            "--generated",
            &gen_dir,
            "--format",
            "json",
        ],
    );
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let v: Value = serde_json::from_str(&a.stdout).unwrap();
    let fs = v["findings"].as_array().unwrap();
    assert!(fs.iter().all(|f| f["check_id"] != "XA062"), "{}", a.stdout);
    let acc: Vec<&Value> = fs.iter().filter(|f| f["check_id"] == "XA063").collect();
    assert!(!acc.is_empty(), "{}", a.stdout);
    assert!(
        acc.iter()
            .all(|f| f["severity"] == "info" && f["message"].as_str().unwrap().contains("RAD-42")),
        "{}",
        a.stdout
    );
    let val = xacct(None, &["validate", "--env", w.s(), "--format", "json"]);
    assert_eq!(val.code, 0, "{}{}", val.stdout, val.stderr);

    // An empty reason is an input error naming the field.
    let bad = spec_with_readers(
        FOREIGN,
        "\n[[access.external_principals]]\nprincipal = \"arn:aws:iam::999999999999:root\"\nreason = \" \"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.toml");
    std::fs::write(&spec, bad).unwrap();
    let val = xacct(None, &["validate", "--env", spec.to_str().unwrap()]);
    assert_eq!(val.code, 2, "{}{}", val.stdout, val.stderr);
    assert!(
        val.stderr.contains("access.external_principals[0].reason"),
        "{}",
        val.stderr
    );
}

/// Another foreign principal than the accepted one is still reported.
#[test]
fn accepting_one_foreign_role_does_not_accept_its_whole_account_or_another_account() {
    let readers = r#""arn:aws:iam::100000000001:role/ambra-storage-dev", "arn:aws:iam::999999999999:role/partner", "arn:aws:iam::888888888888:root""#;
    let text = spec_with_readers(
        readers,
        "\n[[access.external_principals]]\nprincipal = \"arn:aws:iam::999999999999:role/partner\"\nreason = \"partner\"\n",
    );
    let env = Environment::from_str(
        std::path::Path::new("dev.toml"),
        &text,
        LoadOptions::default(),
    )
    .unwrap()
    .env;
    let f = xacct::audit::external::check(&Input::from_env(&env));
    let ext: Vec<&Finding> = f.iter().filter(|f| f.check_id == "XA062").collect();
    assert!(
        ext.iter().any(|f| f
            .counterexample
            .as_ref()
            .unwrap()
            .principal
            .contains("888888888888")),
        "{f:#?}"
    );
    assert!(
        ext.iter().all(|f| !f
            .counterexample
            .as_ref()
            .unwrap()
            .principal
            .contains("999999999999")),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|f| f.check_id == "XA063" && f.message.contains("999999999999:role/partner")),
        "{f:#?}"
    );
}

#[test]
fn a_snapshot_widens_the_zone_of_trust_to_the_organization() {
    let readers = r#""arn:aws:iam::100000000001:role/ambra-storage-dev", "arn:aws:iam::100000000009:role/analytics""#;
    let text = spec_with_readers(readers, "");
    let env = Environment::from_str(
        std::path::Path::new("dev.toml"),
        &text,
        LoadOptions::default(),
    )
    .unwrap()
    .env;
    let input = Input::from_env(&env);
    assert!(
        xacct::audit::external::check(&input)
            .iter()
            .any(|f| f.check_id == "XA062")
    );
    let mut s = org_with(&[]);
    s.accounts.push(xacct::org::Account {
        id: "100000000009".into(),
        name: "analytics".into(),
    });
    let mut inside = input.clone();
    inside.expect = inside.expect.clone().with_org(&s);
    let f = xacct::audit::external::check(&inside);
    assert!(f.iter().all(|f| f.check_id != "XA062"), "{f:#?}");
}

#[test]
fn a_guardrail_that_denies_a_counterexample_is_shown_as_a_mitigation_and_the_finding_stays() {
    let w = Work::with_spec(&spec_with_readers(FOREIGN, ""));
    let rcp = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                       "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]});
    let s = org_with(&[(RCP, "DataPerimeterS3", &[ROOT], rcp)]);
    let snap = w.root.join("org.json");
    std::fs::write(&snap, s.to_json()).unwrap();
    let gen_dir = w.o().to_owned();
    let a = xacct(
        None,
        &[
            "audit",
            "--env",
            w.s(),
            "--generated",
            &gen_dir,
            "--org",
            snap.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(a.code, 1, "{}{}", a.stdout, a.stderr);
    let v: Value = serde_json::from_str(&a.stdout).unwrap();
    let ext: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "XA062")
        .collect();
    assert!(!ext.is_empty(), "{}", a.stdout);
    // The PHR bucket is in the primary account, the customer bucket in storage: both under the root RCP.
    for f in &ext {
        assert_eq!(f["severity"], "critical");
        let m = f["message"].as_str().unwrap();
        assert!(
            m.contains("mitigation")
                && m.contains("RCP `DataPerimeterS3`")
                && m.contains("the root"),
            "{m}"
        );
    }
}

#[test]
fn the_bundled_environments_audit_clean_with_and_without_the_sample_organization() {
    for env in ["dev", "uat", "prod"] {
        let spec = format!("environments/{env}.toml");
        let r = std::process::Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(root())
            .args(["audit", "--env", &spec])
            .output()
            .unwrap();
        assert_eq!(
            r.status.code(),
            Some(0),
            "{env}: {}",
            String::from_utf8_lossy(&r.stdout)
        );
        let r = std::process::Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(root())
            .args([
                "audit",
                "--env",
                &spec,
                "--org",
                "examples/org/sample.org.json",
            ])
            .output()
            .unwrap();
        assert_eq!(
            r.status.code(),
            Some(0),
            "{env} with the sample organization: {}",
            String::from_utf8_lossy(&r.stdout)
        );
    }
}

/// moto's Organizations: an organization (moto's default account manages it)
/// with `storage` and `sandbox` OUs, two storage accounts created in it and
/// moved to `storage`; returns (storage account IDs, storage OU, sandbox OU).
async fn moto_org(b: &aws_config::SdkConfig) -> (Vec<String>, String, String) {
    let org = aws_sdk_organizations::Client::new(b);
    let (root_id, storage_ou) = org_with_storage_ou(b).await;
    let sandbox = org
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("sandbox")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for name in ["storage-1", "storage-2"] {
        let out = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap();
        let id = out
            .create_account_status()
            .unwrap()
            .account_id()
            .unwrap()
            .to_owned();
        org.move_account()
            .account_id(&id)
            .source_parent_id(&root_id)
            .destination_parent_id(&storage_ou)
            .send()
            .await
            .unwrap();
        ids.push(id);
    }
    (ids, storage_ou, sandbox)
}

async fn scp(b: &aws_config::SdkConfig, name: &str, content: &str) -> String {
    let org = aws_sdk_organizations::Client::new(b);
    org.create_policy()
        .name(name)
        .description(name)
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .content(content)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

const DENY_TAGGING: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoBucketTagging","Effect":"Deny","Action":"s3:PutBucketTagging","Resource":"*"}]}"#;

#[test]
fn org_snapshot_is_deterministic_and_check_names_attached_detached_and_edited_policies() {
    let m = Moto::start();
    let rt = rt();
    let b = base(&m);
    let (ids, storage_ou, sandbox) = rt.block_on(moto_org(&b));
    let policy = rt.block_on(scp(&b, "DenyTagging", DENY_TAGGING));
    let w = Work::with_spec(&dev_spec_with(&[&ids[0], &ids[1]]));
    let file = w.root.join("dev.org.json");
    let snap = |extra: &[&str]| {
        let mut a = vec!["org", "snapshot", "--env", w.s()];
        a.extend_from_slice(extra);
        xacct(Some(&m), &a)
    };
    let r = snap(&[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let first = std::fs::read_to_string(&file).unwrap();
    // The primary account is not in moto's organization: reported, not dropped.
    assert!(r.stderr.contains("100000000001"), "{}", r.stderr);
    let s: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(s["outside"], json!(["100000000001"]));
    assert_eq!(s["paths"][&ids[0]], json!([s["root_id"], storage_ou]));
    // Two runs, byte-identical (a second file too, with a fixed clock).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = snap(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    let other = w.root.join("again.org.json");
    let r = snap(&["--out", other.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let strip = |t: &str| {
        let mut v: Value = serde_json::from_str(t).unwrap();
        v["read_at"] = Value::Null;
        v
    };
    assert_eq!(
        strip(&std::fs::read_to_string(&other).unwrap()),
        strip(&first)
    );
    assert_eq!(snap(&["--check"]).code, 0);

    let org = aws_sdk_organizations::Client::new(&b);
    // Attached.
    rt.block_on(
        org.attach_policy()
            .policy_id(&policy)
            .target_id(&storage_ou)
            .send(),
    )
    .unwrap();
    let r = snap(&["--check"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("`DenyTagging`")
            && r.stdout.contains("attached to")
            && r.stdout.contains("storage"),
        "{}",
        r.stdout
    );
    assert_eq!(snap(&[]).code, 0);
    assert_eq!(snap(&["--check"]).code, 0);
    // Edited.
    rt.block_on(
        org.update_policy()
            .policy_id(&policy)
            .content(DENY_TAGGING.replace("s3:PutBucketTagging", "s3:PutBucketPolicy"))
            .send(),
    )
    .unwrap();
    let r = snap(&["--check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("content edited")),
        "{}",
        r.stdout
    );
    assert_eq!(snap(&[]).code, 0);
    // Detached (and attached elsewhere).
    rt.block_on(
        org.detach_policy()
            .policy_id(&policy)
            .target_id(&storage_ou)
            .send(),
    )
    .unwrap();
    rt.block_on(
        org.attach_policy()
            .policy_id(&policy)
            .target_id(&sandbox)
            .send(),
    )
    .unwrap();
    let r = snap(&["--check"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("detached from"), "{}", r.stdout);
    // --check without a file is an input error.
    let r = snap(&[
        "--check",
        "--out",
        w.root.join("none.json").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn an_scp_denying_a_bucket_step_on_the_storage_ou_fails_audit_and_onboard_and_not_on_another_ou() {
    let m = Moto::start();
    let rt = rt();
    let b = base(&m);
    let (ids, storage_ou, sandbox) = rt.block_on(moto_org(&b));
    let policy = rt.block_on(scp(&b, "DenyTagging", DENY_TAGGING));
    let org = aws_sdk_organizations::Client::new(&b);
    for (target, blocked) in [(&sandbox, false), (&storage_ou, true)] {
        rt.block_on(
            org.attach_policy()
                .policy_id(&policy)
                .target_id(target)
                .send(),
        )
        .unwrap();
        let w = Work::with_spec(&dev_spec_with(&[&ids[0], &ids[1]]));
        let r = xacct(Some(&m), &["org", "snapshot", "--env", w.s()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let gen_dir = w.o().to_owned();
        // The snapshot beside the spec is used by default; --no-org skips it.
        let a = xacct(
            None,
            &[
                "audit",
                "--env",
                w.s(),
                "--generated",
                &gen_dir,
                "--format",
                "json",
            ],
        );
        let v: Value = serde_json::from_str(&a.stdout).unwrap();
        let hits: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check_id"] == "XA060")
            .collect();
        if blocked {
            assert_eq!(a.code, 1, "{}", a.stdout);
            assert_eq!(hits.len(), 2, "one per storage account: {}", a.stdout);
            for h in &hits {
                let msg = h["message"].as_str().unwrap();
                assert!(
                    msg.contains("s3:PutBucketTagging")
                        && msg.contains("`DenyTagging`")
                        && msg.contains(&policy)
                        && msg.contains("OU `storage`"),
                    "{msg}"
                );
                assert_eq!(h["statement"]["sid"], "NoBucketTagging");
            }
            let n = xacct(
                None,
                &["audit", "--env", w.s(), "--generated", &gen_dir, "--no-org"],
            );
            assert_eq!(n.code, 0, "{}", n.stdout);
        } else {
            assert!(hits.is_empty(), "{}", a.stdout);
            assert_eq!(a.code, 0, "{}", a.stdout);
        }
        rt.block_on(
            org.detach_policy()
                .policy_id(&policy)
                .target_id(target)
                .send(),
        )
        .unwrap();
    }
}

#[test]
fn onboard_refuses_an_account_whose_guardrails_block_the_chain_and_deploys_when_they_do_not() {
    let m = moto_with(&[]);
    let rt = rt();
    let b = base(&m);
    let (ids, storage_ou, sandbox) = rt.block_on(moto_org(&b));
    let policy = rt.block_on(scp(&b, "DenyTagging", DENY_TAGGING));
    let org = aws_sdk_organizations::Client::new(&b);
    rt.block_on(
        org.attach_policy()
            .policy_id(&policy)
            .target_id(&storage_ou)
            .send(),
    )
    .unwrap();
    let w = Work::new();
    let r = w.run(Some(&m), &["onboard", "--account", &ids[0], "--apply"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("refusing to deploy")
            && r.stderr.contains("`DenyTagging`")
            && r.stderr.contains(&policy)
            && r.stderr.contains("OU `storage`")
            && r.stderr.contains("s3:PutBucketTagging"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("CREATE_COMPLETE"), "{}", r.stdout);
    // Nothing was deployed into the account.
    rt.block_on(async {
        let c = in_account(&b, &ids[0]).await;
        let role = aws_sdk_iam::Client::new(&c)
            .get_role()
            .role_name("S3BucketManager")
            .send()
            .await;
        assert!(role.is_err(), "the stack was deployed: {role:?}");
    });
    // The same SCP on an unrelated OU does not stop it.
    rt.block_on(
        org.detach_policy()
            .policy_id(&policy)
            .target_id(&storage_ou)
            .send(),
    )
    .unwrap();
    rt.block_on(
        org.attach_policy()
            .policy_id(&policy)
            .target_id(&sandbox)
            .send(),
    )
    .unwrap();
    let r = w.run(Some(&m), &["onboard", "--account", &ids[0], "--apply"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("verified {}", ids[0])),
        "{}",
        r.stdout
    );
}

#[test]
fn verify_reads_the_live_scps_and_reports_a_blocked_bucket_step() {
    use crate::support::verify_deploy::{PRIMARY, VERIFIER_ROLE, creds_in, deploy, load};
    let m = Moto::start();
    let rt = rt();
    let b = base(&m);
    // The primary account manages the organization, so the verifier may read it.
    let (ids, storage_ou, sandbox, policy) = rt.block_on(async {
        let p = in_account(&b, PRIMARY).await;
        let (ids, storage_ou, sandbox) = moto_org(&p).await;
        let policy = scp(&p, "DenyTagging", DENY_TAGGING).await;
        (ids, storage_ou, sandbox, policy)
    });
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.toml");
    std::fs::write(&spec, dev_spec_with(&[&ids[0], &ids[1]])).unwrap();
    let env = load(&spec);
    let verifier = rt.block_on(async {
        // moto's CreateAccount made OrganizationAccountAccessRole; the deployment makes its own.
        for id in &ids {
            let iam = aws_sdk_iam::Client::new(&in_account(&b, id).await);
            let role = "OrganizationAccountAccessRole";
            let attached = iam
                .list_attached_role_policies()
                .role_name(role)
                .send()
                .await
                .unwrap();
            for a in attached.attached_policies() {
                iam.detach_role_policy()
                    .role_name(role)
                    .policy_arn(a.policy_arn().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            let inline = iam
                .list_role_policies()
                .role_name(role)
                .send()
                .await
                .unwrap();
            for n in inline.policy_names() {
                iam.delete_role_policy()
                    .role_name(role)
                    .policy_name(n)
                    .send()
                    .await
                    .unwrap();
            }
            iam.delete_role().role_name(role).send().await.unwrap();
        }
        deploy(&m, &env).await;
        creds_in(&b, PRIMARY, VERIFIER_ROLE).await
    });
    let (code, report, stderr) = crate::verify::verify(&m, &verifier, &spec, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let p = rt.block_on(in_account(&b, PRIMARY));
    let org = aws_sdk_organizations::Client::new(&p);
    for (target, blocked) in [(&storage_ou, true), (&sandbox, false)] {
        rt.block_on(
            org.attach_policy()
                .policy_id(&policy)
                .target_id(target)
                .send(),
        )
        .unwrap();
        let (code, report, stderr) = crate::verify::verify(&m, &verifier, &spec, &[]);
        let hits: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check_id"] == "XA060")
            .collect();
        if blocked {
            assert_eq!(code, 1, "{report:#}\n{stderr}");
            assert_eq!(hits.len(), 2, "{report:#}");
            for h in hits {
                let msg = h["message"].as_str().unwrap();
                assert!(
                    msg.starts_with("live: ")
                        && msg.contains("`DenyTagging`")
                        && msg.contains("s3:PutBucketTagging"),
                    "{msg}"
                );
            }
        } else {
            assert_eq!(code, 0, "{report:#}\n{stderr}");
            assert!(hits.is_empty(), "{report:#}");
        }
        rt.block_on(
            org.detach_policy()
                .policy_id(&policy)
                .target_id(target)
                .send(),
        )
        .unwrap();
    }
}
