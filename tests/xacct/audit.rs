//! `xacct audit` on the committed environments, the mutation table, and the CLI.

use std::path::Path;

use crate::support::fs::copy_tree;

use crate::support::cli::offline as xacct;
use xacct::audit::{self, Finding, Input};
use xacct::cmd::audit::env_input;
use xacct::iam::{PolicyDocument, Principal, Statement};

fn input(env: &str) -> Input {
    env_input(
        Path::new(&format!("environments/{env}.toml")),
        Path::new("generated"),
    )
    .expect("committed environment loads")
}

fn ids(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.check_id).collect()
}

#[test]
fn committed_environments_audit_clean() {
    for env in ["dev", "uat", "prod"] {
        let findings = audit::run(&input(env));
        assert!(
            findings.is_empty(),
            "{env}:\n{}",
            audit::report::table(&findings)
        );
    }
}

// ---- helpers for the mutation table -------------------------------------

fn trust(i: &mut Input) -> &mut PolicyDocument {
    &mut i.storage[0].trust.as_mut().unwrap().doc
}
fn mgmt(i: &mut Input) -> &mut PolicyDocument {
    &mut i.storage[0].management.as_mut().unwrap().doc
}
fn exec(i: &mut Input) -> &mut PolicyDocument {
    &mut i.lambda_execution.as_mut().unwrap().doc
}
fn ltrust(i: &mut Input) -> &mut PolicyDocument {
    &mut i.lambda_trust.as_mut().unwrap().doc
}
fn url(i: &mut Input) -> &mut PolicyDocument {
    &mut i.function_url_policy.as_mut().unwrap().doc
}
fn phr(i: &mut Input) -> &mut PolicyDocument {
    &mut i.bucket_policies[0].doc.doc
}
fn customer(i: &mut Input) -> &mut PolicyDocument {
    &mut i.bucket_policies[1].doc.doc
}
fn deployer(i: &mut Input) -> &mut PolicyDocument {
    &mut i.other_docs[0].doc
}
/// Adds a statement given as JSON.
fn add(d: &mut PolicyDocument, json: &str) {
    d.statement
        .push(serde_json::from_str::<Statement>(json).expect("mutation statement parses"));
}
/// Replaces the condition block of a statement with one operator/key/value.
fn set_cond(s: &mut Statement, op: &str, key: &str, value: &str) {
    s.condition.clear();
    *s = s.clone().condition(op, key, [value]);
}
/// Sets the `Resource` of statement `n`.
fn set_res(d: &mut PolicyDocument, n: usize, arn: &str) {
    d.statement[n].resource = Some(xacct::iam::Values::one(arn));
}
/// Edits a rendered file.
fn edit(i: &mut Input, suffix: &str, from: &str, to: &str) {
    let (_, text) = i
        .texts
        .iter_mut()
        .find(|(p, _)| p.ends_with(suffix))
        .unwrap_or_else(|| panic!("no rendered file ends with {suffix}"));
    assert!(text.contains(from), "{suffix} does not contain {from:?}");
    *text = text.replacen(from, to, 1);
}
fn append(i: &mut Input, suffix: &str, line: &str) {
    let (_, text) = i
        .texts
        .iter_mut()
        .find(|(p, _)| p.ends_with(suffix))
        .unwrap();
    text.push_str(line);
}
/// Fake credentials assembled at runtime, so no secret-shaped literal sits in this file.
fn fake_key_id() -> String {
    format!("AKIA{}", "IOSFODNN7EXAMPLE")
}
fn fake_secret() -> String {
    format!("wJalrXUtnFEMI/K7MDENG/{}", "bPxRfiCYEXAMPLEKEY")
}

const PRIMARY_OTHER: &str = "arn:aws:iam::100000000001:role/ambra-other";

type Mutation = fn(&mut Input);

/// `(case, check ID that must catch it, mutation of the rendered dev documents)`.
#[rustfmt::skip]
const MUTATIONS: &[(&str, &str, Mutation)] = &[
    // A `*` principal narrowed by aws:PrincipalArn is not open (checkov#6839); narrowed by TLS only, it is.
    ("trust principal * narrowed by TLS only", "XA008", |i| { let s = &mut trust(i).statement[0]; s.principal = Some(Principal::Any); s.condition.clear(); set_cond(s, "Bool", "aws:SecureTransport", "true"); }),
    ("trust principal * without condition", "XA003", |i| { let s = &mut trust(i).statement[0]; s.principal = Some(Principal::Any); s.condition.clear(); }),
    ("trust adds foreign account root", "XA003", |i| add(trust(i), r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}"#)),
    ("trust missing aws:PrincipalArn condition", "XA003", |i| trust(i).statement[0].condition.clear()),
    ("trust PrincipalArn widened to role/*", "XA003", |i| set_cond(&mut trust(i).statement[0], "ArnLike", "aws:PrincipalArn", "arn:aws:iam::100000000001:role/*")),
    ("trust ArnNotEquals instead of ArnEquals", "XA003", |i| { let s = &mut trust(i).statement[0]; let c = s.condition.remove("ArnEquals").unwrap(); s.condition.insert("ArnNotEquals".into(), c); }),
    ("trust principal is an AROA unique ID", "XA019", |i| trust(i).statement[0].principal = Some(Principal::aws(["AROADBQP57FF2AEXAMPLE"]))),
    ("trust names another primary role", "XA001", |i| set_cond(&mut trust(i).statement[0], "ArnEquals", "aws:PrincipalArn", PRIMARY_OTHER)),
    ("trust uses an unsupported operator", "XA021", |i| set_cond(&mut trust(i).statement[0], "NumericLessThan", "aws:MultiFactorAuthAge", "3600")),
    ("lambda may assume S3BucketManager in any account", "XA002", |i| set_res(exec(i), 0, "arn:aws:iam::*:role/S3BucketManager")),
    ("lambda may assume any role in a storage account", "XA002", |i| set_res(exec(i), 0, "arn:aws:iam::100000000002:role/*")),
    ("lambda sts:AssumeRole on *", "XA002", |i| set_res(exec(i), 0, "*")),
    ("lambda misses a storage role", "XA001", |i| set_res(exec(i), 0, "arn:aws:iam::100000000002:role/S3BucketManager")),
    ("lambda Action * on *", "XA009", |i| add(exec(i), r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#)),
    ("lambda NotAction allow", "XA010", |i| add(exec(i), r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::x"}"#)),
    ("management s3:* on *", "XA005", |i| add(mgmt(i), r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#)),
    ("management prefix widened to *", "XA005", |i| set_res(mgmt(i), 0, "arn:aws:s3:::*")),
    ("management prefix widened to ambra-*", "XA005", |i| set_res(mgmt(i), 0, "arn:aws:s3:::ambra-*")),
    ("management prefix without its dash", "XA005", |i| set_res(mgmt(i), 0, "arn:aws:s3:::ambra-dev*")),
    ("management misses s3:PutBucketPolicy", "XA004", |i| { let n = mgmt(i).statement.iter().position(|s| s.sid.as_deref() == Some("ManageCustomerBuckets")).unwrap(); mgmt(i).statement[n].action.as_mut().unwrap().0.retain(|x| x != "s3:PutBucketPolicy") }),
    ("management misses the namespaced s3:CreateBucket", "XA004", |i| mgmt(i).statement.retain(|s| s.sid.as_deref() != Some("CreateCustomerBucketsInAccountRegionalNamespace"))),
    ("management CreateBucket without the namespace condition", "XA070", |i| mgmt(i).statement[0].condition.clear()),
    ("management allows iam:PassRole", "XA006", |i| add(mgmt(i), r#"{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::100000000002:role/x"}"#)),
    ("management DeleteBucket on every prefixed bucket", "XA007", |i| add(mgmt(i), r#"{"Effect":"Allow","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::ambra-dev-*"}"#)),
    ("management DeleteObject on objects", "XA007", |i| add(mgmt(i), r#"{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::ambra-dev-*/*"}"#)),
    ("management canary statement widened", "XA007", |i| { let n = mgmt(i).statement.iter().position(|s| s.sid.as_deref() == Some("DeleteVerifierCanaryBuckets")).unwrap(); set_res(mgmt(i), n, "arn:aws:s3:::ambra-dev-*"); }),
    ("management NotResource allow", "XA010", |i| add(mgmt(i), r#"{"Effect":"Allow","Action":"s3:GetBucketTagging","NotResource":"arn:aws:s3:::ambra-phr-development"}"#)),
    ("management GetObject on Resource *", "XA011", |i| add(mgmt(i), r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#)),
    ("function URL principal *", "XA012", |i| url(i).statement[0].principal = Some(Principal::Any)),
    ("function URL foreign account", "XA012", |i| add(url(i), r#"{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"lambda:InvokeFunctionUrl","Resource":"*"}"#)),
    ("function URL policy grants auth NONE", "XA014", |i| set_cond(&mut url(i).statement[0], "StringEquals", "lambda:FunctionUrlAuthType", "NONE")),
    ("terraform function URL auth NONE", "XA014", |i| edit(i, "primary/terraform/main.tf", r#"authorization_type = "AWS_IAM""#, r#"authorization_type = "NONE""#)),
    ("cloudformation function URL AuthType NONE", "XA014", |i| edit(i, "primary/cloudformation/primary.yaml", "AuthType: AWS_IAM", "AuthType: NONE")),
    ("invoker removed from function URL policy", "XA013", |i| url(i).statement.clear()),
    ("PHR bucket public read", "XA015", |i| add(phr(i), r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::ambra-phr-development/*"}"#)),
    ("PHR bucket readable by a foreign account", "XA015", |i| add(phr(i), r#"{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::ambra-phr-development"}"#)),
    ("PHR bucket TLS deny removed", "XA016", |i| { phr(i).statement.remove(0); }),
    ("PHR bucket readers removed", "XA017", |i| phr(i).statement.truncate(1)),
    ("customer bucket public write", "XA015", |i| add(customer(i), r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::ambra-dev-example-customer/*"}"#)),
    ("access key ID in tfvars", "XA018", |i| append(i, "primary/terraform/terraform.tfvars", &format!("phr_access_key = \"{}\"\n", fake_key_id()))),
    ("secret access key in tfvars", "XA018", |i| append(i, "primary/terraform/terraform.tfvars", &format!("ambra_phr_cred_secret_key = \"{}\"\n", fake_secret()))),
    ("private key in a rendered file", "XA018", |i| append(i, "README.md", &format!("-----BEGIN RSA {}-----\n", "PRIVATE KEY"))),
    ("lambda trust without aws:SourceAccount", "XA020", |i| ltrust(i).statement[0].condition.clear()),
    ("lambda trust adds a foreign root", "XA020", |i| add(ltrust(i), r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}"#)),
    ("deployer Action *", "XA009", |i| add(deployer(i), r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::x"}"#)),
    ("AIDA principal in PHR bucket policy", "XA019", |i| phr(i).statement[1].principal = Some(Principal::aws(["AIDAJQABLZS4A3QDU576Q"]))),
];

#[test]
fn every_mutation_is_caught_by_its_check() {
    let base = input("dev");
    assert!(audit::run(&base).is_empty(), "baseline must be clean");
    assert!(MUTATIONS.len() >= 30);
    let mut missed = Vec::new();
    for (case, id, mutate) in MUTATIONS {
        let mut i = base.clone();
        mutate(&mut i);
        let findings = audit::run(&i);
        if !ids(&findings).contains(id) {
            missed.push(format!("{case}: expected {id}, got {:?}", ids(&findings)));
        }
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
}

#[test]
fn findings_cite_the_offending_statement() {
    let mut i = input("dev");
    add(
        mgmt(&mut i),
        r#"{"Sid":"TooBroad","Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
    );
    let f = audit::run(&i);
    let hit = f.iter().find(|f| f.check_id == "XA005").expect("XA005");
    let st = hit.statement.as_ref().expect("statement cited");
    assert_eq!(st.sid.as_deref(), Some("TooBroad"));
    assert_eq!(st.document, "policies/s3-bucket-management-policy.json");
    assert_eq!(hit.account, "100000000002");
}

#[test]
fn cli_exit_codes_and_formats() {
    let out = xacct(&["audit", "--env", "environments/prod.toml"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no findings\n");

    let out = xacct(&[
        "audit",
        "--env",
        "environments/dev.toml",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]));
    assert_eq!(v["summary"]["findings"], 0);
    assert_eq!(v["environment"], "development");

    let out = xacct(&[
        "audit",
        "--env",
        "environments/uat.toml",
        "--format",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["tool"]["driver"]["rules"][0]["id"], "XA001");

    let out = xacct(&["audit", "--env", "environments/missing.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = xacct(&["audit"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_reports_findings_with_exit_1_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let gen_dir = dir.path().join("generated");
    copy_tree(Path::new("generated/dev"), &gen_dir.join("dev"));
    let main_tf = gen_dir.join("dev/primary/terraform/main.tf");
    let text = std::fs::read_to_string(&main_tf).unwrap();
    std::fs::write(
        &main_tf,
        text.replace(
            r#"authorization_type = "AWS_IAM""#,
            r#"authorization_type = "NONE""#,
        ),
    )
    .unwrap();
    let g = gen_dir.to_str().unwrap();
    let out = xacct(&["audit", "--env", "environments/dev.toml", "--generated", g]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("XA014") && table.contains("critical"),
        "{table}"
    );
    let out = xacct(&[
        "audit",
        "--env",
        "environments/dev.toml",
        "--generated",
        g,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["findings"][0];
    for field in [
        "check_id",
        "severity",
        "account",
        "resource",
        "message",
        "statement",
    ] {
        assert!(f.get(field).is_some(), "missing {field} in {f}");
    }
    let out = xacct(&[
        "audit",
        "--env",
        "environments/dev.toml",
        "--generated",
        g,
        "--format",
        "sarif",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "XA014");
    // XA014 is critical, so even the highest threshold fails.
    let out = xacct(&[
        "audit",
        "--env",
        "environments/dev.toml",
        "--generated",
        g,
        "--fail-on",
        "critical",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn explain_prints_decision_and_statements() {
    let out = xacct(&[
        "explain",
        "--env",
        "environments/dev.toml",
        "--principal",
        "arn:aws:iam::100000000002:role/S3BucketManager",
        "--action",
        "s3:CreateBucket",
        "--resource",
        "arn:aws:s3:::ambra-dev-acme-100000000002-us-east-1-an",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ALLOW"), "{text}");
    assert!(
        text.contains("CreateCustomerBucketsInAccountRegionalNamespace"),
        "{text}"
    );
    assert!(text.contains("s3:x-amz-bucket-namespace"), "{text}");
    // Issue 22: dev is in the account regional namespace; a global name is denied.
    let out = xacct(&[
        "explain",
        "--env",
        "environments/dev.toml",
        "--principal",
        "arn:aws:iam::100000000002:role/S3BucketManager",
        "--action",
        "s3:CreateBucket",
        "--resource",
        "arn:aws:s3:::ambra-dev-acme",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("DENY"), "{text}");

    let out = xacct(&[
        "explain",
        "--env",
        "environments/dev.toml",
        "--principal",
        "arn:aws:iam::100000000001:role/ambra-other",
        "--action",
        "sts:AssumeRole",
        "--resource",
        "arn:aws:iam::100000000002:role/S3BucketManager",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("DENY"), "{text}");
    assert!(text.contains("s3-bucket-manager-trust.json"), "{text}");
}
