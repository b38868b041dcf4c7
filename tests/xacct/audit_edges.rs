//! Issue 24 (the decision procedure at its edges) and issue 18 items 4 and 6:
//! each reported case as a regression test, in memory and through the
//! committed files (`policies/*.json`, Terraform, CloudFormation), plus the
//! brute-force cross-check of the decider against the plain evaluator
//! (`crosscheck`).

use std::path::Path;

use crate::support::audit_tables::{apply, load, subst, target};
use crate::support::fs::copy_tree;
use xacct::audit::{self, Finding};
use xacct::cmd::audit::env_findings;
use xacct::eval::{Caller, catalog};

mod crosscheck;

const PHR: &str = "arn:aws:s3:::ambra-phr-development";

fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.check_id).collect()
}

/// One text edit: after the first `anchor`, the first `from` becomes `to`.
type Edit = (&'static str, &'static str, &'static str);

fn edit_text(text: &str, edits: &[Edit]) -> String {
    let mut t = text.to_owned();
    for (anchor, from, to) in edits {
        let a = t
            .find(anchor)
            .unwrap_or_else(|| panic!("{anchor} not in the text"));
        let i = a + t[a..]
            .find(from)
            .unwrap_or_else(|| panic!("{from} not after {anchor}"));
        t.replace_range(i..i + from.len(), to);
    }
    t
}

/// The committed files that hold dev's PHR bucket policy.
const PHR_FILES: &[&str] = &[
    "policies/phr-bucket-policy.json",
    "primary/terraform/policies.tf",
    "primary/cloudformation/primary.yaml",
];

/// Audits dev with the PHR bucket policy edited, in memory (the spec's input,
/// with "no new access") and through each committed file that holds it; the
/// drift from the render (XA040) is left out. One finding list per source.
fn audit_phr(edits: &[Edit]) -> Vec<(String, Vec<Finding>)> {
    let mut out = Vec::new();
    let (_, mut input, docs) = load("dev");
    let doc = target(&mut input, "phr");
    let text = edit_text(&serde_json::to_string_pretty(doc).unwrap(), edits);
    *doc = xacct::iam::PolicyDocument::from_json(&text).unwrap();
    out.push(("memory".to_owned(), audit::run_with_rendered(&input, &docs)));
    for rel in PHR_FILES {
        let tmp = tempfile::tempdir().unwrap();
        copy_tree(Path::new("generated/dev"), &tmp.path().join("dev"));
        let file = tmp.path().join("dev").join(rel);
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, edit_text(&text, edits)).unwrap();
        let f = env_findings(Path::new("environments/dev.toml"), tmp.path()).unwrap();
        out.push((
            (*rel).to_owned(),
            f.into_iter().filter(|f| f.check_id != "XA040").collect(),
        ));
    }
    out
}

/// Audits dev (with "no new access") with one edit of one document (`audit_tables::apply`).
fn audit_dev(t: &str, edit: &str) -> Vec<Finding> {
    let (env, mut input, docs) = load("dev");
    apply(target(&mut input, t), &subst(edit, &env));
    audit::run_with_rendered(&input, &docs)
}

fn show(f: &[Finding]) -> String {
    audit::report::table(f)
}

/// Issue 24 case 1: an empty value on a key the caller controls (AWS allows
/// empty tag values) exempts that caller from the TLS deny.
#[test]
fn empty_condition_value_on_a_caller_controlled_key_is_caught() {
    let edits = [(
        "DenyInsecureTransport",
        r#""Bool": {"#,
        r#""StringNotLike": {"aws:PrincipalTag/team": [""]}, "Bool": {"#,
    )];
    for (source, f) in audit_phr(&edits) {
        let tls: Vec<&Finding> = f.iter().filter(|f| f.check_id == "XA016").collect();
        assert!(!tls.is_empty(), "{source}: {:?}\n{}", ids(&f), show(&f));
        let c = tls[0].counterexample.as_ref().expect("counterexample");
        assert_eq!(
            c.context.get("aws:principaltag/team"),
            Some(&vec![String::new()]),
            "{source}: {c:?}"
        );
        assert_eq!(
            c.context.get("aws:securetransport"),
            Some(&vec!["false".to_owned()])
        );
        assert!(c.resource.starts_with(PHR), "{source}: {c:?}");
    }
}

/// Issue 24 case 2: `aws:SecureTransport` is always in the request context, so
/// a statement that applies only when it is absent (or not a boolean) grants
/// nothing; the other always-present keys likewise.
#[test]
fn keys_aws_always_sets_are_never_absent() {
    let cases: &[(&str, &str)] = &[
        (
            "phr",
            r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{PHR}/*","Condition":{"StringEqualsIfExists":{"aws:SecureTransport":"maybe"}}}"#,
        ),
        (
            "phr",
            r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{PHR}/*","Condition":{"Null":{"aws:SecureTransport":"true"}}}"#,
        ),
        (
            "mgmt",
            r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{X}-*/*","Condition":{"Null":{"aws:ViaAWSService":"true"}}}"#,
        ),
        (
            "exec",
            r#"+{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:{P}:x","Condition":{"Null":{"aws:RequestedRegion":"true"}}}"#,
        ),
        // The TLS deny written with IfExists: equivalent, since the key is always there.
        (
            "phr",
            r#"s|"Bool":{"aws:SecureTransport":"false"}|"StringNotEqualsIfExists":{"aws:SecureTransport":"true"}|"#,
        ),
    ];
    for (t, edit) in cases {
        let f = audit_dev(t, edit);
        assert!(f.is_empty(), "{t} {edit}:\n{}", show(&f));
    }
    // The same statement without the impossible condition is caught.
    let f = audit_dev(
        "phr",
        r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{PHR}/*","Condition":{"StringEqualsIfExists":{"aws:SecureTransport":"true"}}}"#,
    );
    assert!(ids(&f).contains(&"XA015"), "{}", show(&f));
    // Every counterexample carries the always-present keys.
    for f in &f {
        if let Some(c) = &f.counterexample {
            for (k, _) in xacct::eval::context::ALWAYS_PRESENT {
                assert!(c.context.contains_key(*k), "{k} missing: {c:?}");
            }
        }
    }
}

/// Issue 24 case 3: requests are made on real ARN shapes; an IAM ARN has no region.
#[test]
fn resources_that_cannot_exist_are_no_counterexample() {
    let f = audit_dev(
        "exec",
        "s|arn:aws:iam::100000000003:role/S3BucketManager|arn:aws:iam:*:100000000003:role/S3BucketManager|",
    );
    assert!(f.is_empty(), "{}", show(&f));
    // An S3 bucket ARN has neither region nor account, an object key is not empty:
    // an Allow on those grants nothing.
    let f = audit_dev(
        "mgmt",
        r#"+{"Effect":"Allow","Action":["s3:GetObject","s3:GetBucketTagging"],"Resource":["arn:aws:s3:us-east-1:{S}:{X}-x","arn:aws:s3:::{X}-x/"]}"#,
    );
    assert!(f.is_empty(), "{}", show(&f));
    // With a real object ARN it is new access, on a real object.
    let f = audit_dev(
        "mgmt",
        r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{X}-x/*"}"#,
    );
    let c = f
        .iter()
        .find_map(|f| f.counterexample.as_ref())
        .unwrap_or_else(|| panic!("{}", show(&f)));
    assert!(c.resource.starts_with("arn:aws:s3:::ambra-dev-x/"), "{c:?}");
    assert!(
        c.resource.len() > "arn:aws:s3:::ambra-dev-x/".len(),
        "{c:?}"
    );
}

/// Issue 24 case 4: a bucket policy governs the bucket it is attached to, not
/// the bucket its statements name.
#[test]
fn the_governed_bucket_is_the_one_the_policy_is_attached_to() {
    let edits = [
        ("DenyInsecureTransport", r#""Resource""#, r#""NotResource""#),
        (
            "ReaderPrincipalsList",
            r#""arn:aws:s3:::ambra-phr-development""#,
            r#""arn:aws:s3:::other-bucket""#,
        ),
    ];
    for (source, f) in audit_phr(&edits) {
        assert!(
            f.iter().any(|f| f.check_id == "XA016" && f.resource == PHR),
            "{source}: {:?}\n{}",
            ids(&f),
            show(&f)
        );
        assert!(
            !f.iter().any(|f| f.resource.contains("other-bucket")),
            "{source}:\n{}",
            show(&f)
        );
    }
    // Only the deny's first resource pointed at another bucket: the PHR bucket
    // itself (ListBucket without TLS) is no longer denied.
    let edits = [(
        "DenyInsecureTransport",
        r#""arn:aws:s3:::ambra-phr-development""#,
        r#""arn:aws:s3:::other-bucket""#,
    )];
    for (source, f) in audit_phr(&edits) {
        let tls: Vec<&Finding> = f.iter().filter(|f| f.check_id == "XA016").collect();
        assert!(!tls.is_empty(), "{source}:\n{}", show(&f));
        assert!(
            tls.iter().all(|f| f.resource == PHR),
            "{source}:\n{}",
            show(&f)
        );
        let c = tls[0].counterexample.as_ref().unwrap();
        assert_eq!(c.resource, PHR, "{source}");
    }
}

/// Issue 24 case 5: a deny that covers more is no finding, and it never hides
/// another check's finding (the readers gaining `s3:ListBucketVersions`).
#[test]
fn one_checks_finding_never_stands_in_for_another() {
    let wider = [(
        "DenyInsecureTransport",
        r#""arn:aws:s3:::ambra-phr-development""#,
        r#""arn:aws:s3:::ambra-phr-*""#,
    )];
    for (source, f) in audit_phr(&wider) {
        assert!(f.is_empty(), "{source}:\n{}", show(&f));
    }
    let both = [
        wider[0],
        (
            "ReaderPrincipalsList",
            r#""s3:ListBucket""#,
            r#""s3:ListBucket", "s3:ListBucketVersions""#,
        ),
    ];
    for (source, f) in audit_phr(&both) {
        let got = ids(&f);
        assert!(
            got.contains(&"XA015") || got.contains(&"XA023"),
            "{source}: {got:?}\n{}",
            show(&f)
        );
        assert!(!got.contains(&"XA016"), "{source}:\n{}", show(&f));
        let new = f
            .iter()
            .find(|f| f.check_id == "XA015" || f.check_id == "XA023")
            .unwrap();
        let c = new.counterexample.as_ref().unwrap();
        assert_eq!(c.action, "s3:ListBucketVersions", "{source}: {c:?}");
        assert_eq!(c.resource, PHR);
        assert!(new.severity >= audit::Severity::High);
    }
}

/// Issue 18 item 4: an action without a resource type is requested on `*`
/// only, so a Deny on a bucket pattern does not stop the runtime's listing.
#[test]
fn actions_without_a_resource_type_are_requested_on_star() {
    let deny =
        r#"+{"Sid":"NoPhr","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::ambra-phr-*"}"#;
    let f = audit_dev("mgmt", deny);
    assert!(f.is_empty(), "{}", show(&f));
    // A Deny on `*` does stop it.
    let f = audit_dev(
        "mgmt",
        r#"+{"Effect":"Deny","Action":"s3:ListAllMyBuckets","Resource":"*"}"#,
    );
    assert!(ids(&f).contains(&"XA004"), "{}", show(&f));
    // explain evaluates (and shows) the request on `*`, the plain evaluator too.
    let (env, mut input, _) = load("dev");
    apply(target(&mut input, "mgmt"), &subst(deny, &env));
    let role = xacct::contract::storage_role_arn(&env.storage_accounts[0]);
    let e = audit::explain(
        &input,
        &Caller::Aws(role.clone()),
        "s3:ListAllMyBuckets",
        "arn:aws:s3:::ambra-phr-development",
    );
    assert_eq!(e.resource, "*");
    assert_eq!(e.outcome, xacct::eval::Outcome::Allow);
    let req = xacct::eval::Request::new(
        Caller::Aws(role),
        "s3:ListAllMyBuckets",
        "arn:aws:s3:::ambra-phr-x",
    );
    let d = input.storage[0].management.as_ref().unwrap();
    let named = [xacct::eval::Named::identity(&d.name, &d.doc)];
    assert!(xacct::eval::evaluate(&named, &req).allowed());
    for a in [
        "s3:ListAllMyBuckets",
        "sts:GetCallerIdentity",
        "organizations:ListAccounts",
    ] {
        assert!(catalog::without_resource(a), "{a}");
    }
}

/// Issue 18 item 6: an `Arn*` pattern with fewer than six components is not
/// documented by AWS: "cannot decide" (XA022), never clean, never "matches nothing".
#[test]
fn arn_patterns_with_fewer_than_six_components_cannot_be_decided() {
    for value in ["*", "arn:*", "arn:aws:iam::*"] {
        let (env, mut input, docs) = load("dev");
        let edit = format!(r#"s|"aws:PrincipalArn":"{{R}}"|"aws:PrincipalArn":"{value}"|"#);
        apply(target(&mut input, "trust"), &subst(&edit, &env));
        let f = audit::run_with_rendered(&input, &docs);
        assert!(ids(&f).contains(&"XA022"), "{value}: {}", show(&f));
        // The plain evaluator reports the operator instead of deciding "no match".
        let t = input.storage[0].trust.as_ref().unwrap();
        let req = xacct::eval::Request::new(
            Caller::Aws(env.lambda_role_arn()),
            "sts:AssumeRole",
            &xacct::contract::storage_role_arn(&env.storage_accounts[0]),
        );
        let d = xacct::eval::evaluate(&[xacct::eval::Named::resource(&t.name, &t.doc)], &req);
        assert_eq!(d.unsupported, vec!["ArnEquals".to_owned()], "{value}");
    }
    // Through the storage template alone (issue 18's report).
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(Path::new("generated/dev"), &tmp.path().join("dev"));
    let file = tmp
        .path()
        .join("dev/storage/cloudformation/storage-account.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let from = r#""aws:PrincipalArn": "arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution""#;
    assert!(text.contains(from));
    std::fs::write(&file, text.replacen(from, r#""aws:PrincipalArn": "*""#, 1)).unwrap();
    let f = env_findings(Path::new("environments/dev.toml"), tmp.path()).unwrap();
    assert!(ids(&f).contains(&"XA022"), "{}", show(&f));
}

/// Issue 24 case 4 in a plan: a bucket policy whose `bucket` is unknown until
/// apply governs the bucket resource it references (same module and name), and
/// one whose bucket cannot be told is "cannot decide" (XA041), never the bucket
/// its statements name.
#[test]
fn a_planned_bucket_policy_governs_its_referenced_bucket_or_cannot_be_decided() {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::100000000001:role/r"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other-bucket/*"}]
    })
    .to_string();
    let plan = |with_bucket: bool| {
        let mut resources = vec![serde_json::json!({
            "address": "module.phr.aws_s3_bucket_policy.this", "mode": "managed",
            "type": "aws_s3_bucket_policy", "values": {"policy": policy}
        })];
        if with_bucket {
            resources.push(serde_json::json!({
                "address": "module.phr.aws_s3_bucket.this", "mode": "managed",
                "type": "aws_s3_bucket", "values": {"bucket": "ambra-phr-development"}
            }));
        }
        serde_json::json!({"format_version": "1.2", "planned_values": {"root_module": {
            "child_modules": [{"address": "module.phr", "resources": resources}]}}})
    };
    let (env, _, _) = load("dev");
    let expect = || Some(xacct::audit::Expect::from_env(&env));
    let input = xacct::audit::plan::input_from_plans(vec![("p.json".into(), plan(true))], expect())
        .unwrap();
    assert_eq!(input.bucket_policies.len(), 1);
    assert_eq!(input.bucket_policies[0].bucket, "ambra-phr-development");
    let input =
        xacct::audit::plan::input_from_plans(vec![("p.json".into(), plan(false))], expect())
            .unwrap();
    assert!(input.bucket_policies.is_empty());
    let f = audit::run(&input);
    assert!(ids(&f).contains(&"XA041"), "{}", show(&f));
    assert!(
        !f.iter().any(|f| f.resource.contains("other-bucket")),
        "{}",
        show(&f)
    );
}
