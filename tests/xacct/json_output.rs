//! Issue 14: one JSON envelope for every `--format json` (validated against
//! `docs/schema/xacct-output-v1.json`), and `explain` that refuses malformed
//! input (exit 2, the argument, the rule, an example) and prints what it evaluated.
//!
//! Offline commands run here; live ones (verify, capacity, accounts, onboard,
//! offboard) against moto. Every run through `live_cli::xacct` and verify's
//! helper is checked against the schema too (`support::schema::check_run`).

use serde_json::{Value, json};

use crate::support::live_cli::*;
use crate::support::schema;

/// Runs the binary offline (from the repository root); checks any JSON run.
fn run(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    schema::check_run(args, out.code, &out.stdout);
    out
}

fn parse(out: &Out) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", out.stdout, out.stderr))
}

#[test]
fn the_schema_rejects_what_the_envelope_forbids() {
    // The validator really checks: each of these is a mistake the issue names.
    let good = json!({
        "schema_version": 1, "command": "accounts", "environment": "dev",
        "summary": {"exit_code": 0, "accounts": 1, "missing_from_spec": 0, "missing_tag": 0,
                    "suspended": 0, "not_in_organization": 0},
        "accounts": [{"account": "100000000002", "name": "a", "status": "ACTIVE", "tag": null,
                      "tagged": false, "in_spec": true}],
        "missing_from_spec": [], "missing_tag": [], "suspended": [], "not_in_organization": [],
        "in_sync": true
    });
    assert_eq!(schema::errors(&good), Vec::<String>::new());
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        assert!(!schema::errors(&v).is_empty(), "accepted: {v:#}");
    };
    broken(&|v| v["accounts"][0]["id"] = json!("100000000002")); // `id`, not `account`
    broken(&|v| v["accounts"][0]["account"] = json!("10000000002")); // 11 digits
    broken(&|v| v["schema_version"] = json!(2));
    broken(&|v| {
        v["summary"].as_object_mut().unwrap().remove("exit_code");
    });
    broken(&|v| v["summary"]["missing_tag"] = json!(-1));
    broken(&|v| v["command"] = json!("frobnicate"));
    assert!(!schema::errors(&json!([])).is_empty(), "a bare array");
    // verify: per-account counts are `finding_count`; `findings` is an array.
    let verify = json!({
        "schema_version": 1, "command": "verify", "environment": "dev",
        "summary": {"exit_code": 0, "findings": 0, "accounts": 0, "unreachable": 0,
                    "by_severity": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}},
        "fail_on": "high", "caller": null, "chain_path": "none", "accounts": [], "findings": 3
    });
    assert!(!schema::errors(&verify).is_empty());
    // audit: severities are lowercase.
    let audit = json!({
        "schema_version": 1, "command": "audit", "environment": null,
        "summary": {"exit_code": 1, "findings": 1,
                    "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0}},
        "fail_on": "high",
        "findings": [{"check_id": "XA003", "severity": "HIGH", "account": "100000000002",
                      "resource": "r", "message": "m", "file": null, "line": null,
                      "statement": null, "counterexample": null}]
    });
    assert!(!schema::errors(&audit).is_empty());
}

#[test]
fn audit_json_is_the_envelope_with_counts_by_severity() {
    // A committed tree with the function URL opened up: XA014 (critical).
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&root().join("generated/dev"), &tmp.path().join("dev"));
    let main_tf = tmp.path().join("dev/primary/terraform/main.tf");
    let text = std::fs::read_to_string(&main_tf).unwrap();
    std::fs::write(
        &main_tf,
        text.replace(
            r#"authorization_type = "AWS_IAM""#,
            r#"authorization_type = "NONE""#,
        ),
    )
    .unwrap();
    let g = tmp.path().to_str().unwrap();
    let r = run(&[
        "audit",
        "--env",
        "environments/dev.toml",
        "--generated",
        g,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = parse(&r);
    assert_eq!(v["environment"], "development");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(v["summary"]["findings"], findings.len());
    let critical = findings
        .iter()
        .filter(|f| f["severity"] == "critical")
        .count();
    assert!(critical >= 1, "{v:#}");
    assert_eq!(v["summary"]["by_severity"]["critical"], critical);
    assert!(findings.iter().any(|f| f["check_id"] == "XA014"), "{v:#}");
    // Clean: exit 0 in the summary too.
    let r = run(&[
        "audit",
        "--env",
        "environments/prod.toml",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(parse(&r)["summary"]["findings"], 0);
    // Templates (no --env): the envelope with a null environment.
    let r = run(&[
        "audit",
        "--template",
        "generated/dev/primary/cloudformation/primary.yaml",
        "--template",
        "generated/dev/storage/cloudformation/storage-account.yaml",
        "--format",
        "json",
    ]);
    assert!(parse(&r)["environment"].is_null(), "{}", r.stdout);
}

#[test]
fn validate_and_render_json() {
    let r = run(&[
        "validate",
        "--env",
        "environments/dev.toml",
        "--env",
        "environments/prod.toml",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = parse(&r);
    assert!(v["environment"].is_null(), "two specs: no one environment");
    assert_eq!(v["summary"]["specs"], 2);
    assert_eq!(v["specs"][0]["environment"], "development");
    assert_eq!(
        v["specs"][0]["storage_accounts"],
        json!(["100000000002", "100000000003"])
    );
    let r = run(&[
        "validate",
        "--env",
        "environments/dev.toml",
        "--format",
        "json",
    ]);
    assert_eq!(parse(&r)["environment"], "development");
    // An invalid spec: exit 2, text on stderr, nothing on stdout.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "not = [toml").unwrap();
    let r = run(&[
        "validate",
        "--env",
        bad.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("bad.toml"), "{}", r.stderr);

    // render: what was written, then --check's stale, missing and orphaned files.
    let w = Work::new();
    let rendered = |v: &Value| v["environments"][0].clone();
    let r = w.run(None, &["render", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = parse(&r);
    let e = rendered(&v);
    assert_eq!(e["written"], json!([]), "Work already rendered: {v:#}");
    assert_eq!(e["unchanged"], e["files"]);
    assert!(e["stale"].is_null());
    let tfvars = w.out.join("dev/primary/terraform/terraform.tfvars");
    std::fs::write(&tfvars, "tampered\n").unwrap();
    let r = w.run(None, &["render", "--format", "json"]);
    let e = rendered(&parse(&r));
    assert_eq!(e["written"], json!([tfvars.display().to_string()]));
    assert_eq!(parse(&r)["summary"]["written"], 1);

    // Stale, missing and orphaned, each named.
    std::fs::write(&tfvars, "tampered\n").unwrap();
    let policy = w.out.join("dev/policies/phr-bucket-policy.json");
    std::fs::remove_file(&policy).unwrap();
    // An orphan: listed in the previous render's manifest, still on disk
    // (the manifest itself is then stale too).
    let manifest = w.out.join("dev/.xacct-manifest");
    let orphan = w.out.join("dev/primary/terraform/old.tf");
    let mut m = std::fs::read_to_string(&manifest).unwrap();
    m.push_str("primary/terraform/old.tf\n");
    std::fs::write(&manifest, m).unwrap();
    std::fs::write(&orphan, "# old\n").unwrap();
    let r = w.run(None, &["render", "--check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = parse(&r);
    let e = rendered(&v);
    assert_eq!(v["check"], true);
    let mut stale: Vec<&str> = e["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    stale.sort();
    let (t, mf) = (tfvars.display().to_string(), manifest.display().to_string());
    let mut want = vec![t.as_str(), mf.as_str()];
    want.sort();
    assert_eq!(stale, want, "{v:#}");
    assert_eq!(e["missing"], json!([policy.display().to_string()]), "{v:#}");
    assert_eq!(
        e["orphaned"],
        json!([orphan.display().to_string()]),
        "{v:#}"
    );
    assert_eq!(
        (
            &v["summary"]["stale"],
            &v["summary"]["missing"],
            &v["summary"]["orphaned"]
        ),
        (&json!(2), &json!(1), &json!(1))
    );
    assert!(e["written"].is_null());
    // --check wrote nothing.
    assert_eq!(std::fs::read_to_string(&tfvars).unwrap(), "tampered\n");
}

#[test]
fn explain_json_and_text_show_the_request_evaluated() {
    let args = [
        "explain",
        "--env",
        "environments/dev.toml",
        "--principal",
        "arn:aws:iam::100000000002:role/S3BucketManager",
        "--action",
        "s3:createbucket",
        "--resource",
        "arn:aws:s3:::ambra-dev-acme-100000000002-us-east-1-an",
    ];
    let r = run(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for line in [
        "evaluated request:",
        "  principal: arn:aws:iam::100000000002:role/S3BucketManager",
        "  action:    s3:CreateBucket",
        "  resource:  arn:aws:s3:::ambra-dev-acme-100000000002-us-east-1-an",
        // dev creates buckets in the account regional namespace (issue 22).
        "s3:x-amz-bucket-namespace = account-regional",
        "aws:principalaccount = 100000000002",
        "decided by:",
    ] {
        assert!(r.stdout.contains(line), "{line:?} in\n{}", r.stdout);
    }
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let v = parse(&run(&json_args));
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["account"], "100000000002");
    assert_eq!(v["request"]["action"], "s3:CreateBucket");
    assert_eq!(
        v["request"]["context"]["aws:principalarn"],
        json!(["arn:aws:iam::100000000002:role/S3BucketManager"])
    );
    let stmts = v["statements"].as_array().unwrap();
    assert!(!stmts.is_empty());
    assert!(
        stmts
            .iter()
            .any(|s| s["sid"] == "CreateCustomerBucketsInAccountRegionalNamespace"),
        "{v:#}"
    );
    // The deciding statements' condition keys, with the values used.
    for k in v["condition_keys"].as_array().unwrap() {
        assert!(k["key"].as_str().unwrap().contains(':'), "{k}");
    }

    // A denial: exit 1 and summary.exit_code 1, the trust policy consulted.
    let r = run(&[
        "explain",
        "--env",
        "environments/dev.toml",
        "--principal",
        "arn:aws:iam::100000000001:role/ambra-other",
        "--action",
        "sts:AssumeRole",
        "--resource",
        "arn:aws:iam::100000000002:role/S3BucketManager",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    let v = parse(&r);
    assert_eq!(v["decision"], "implicit_deny");
    assert_eq!(v["allowed"], false);
    assert!(
        v["resource_document"]
            .as_str()
            .unwrap()
            .contains("s3-bucket-manager-trust.json"),
        "{v:#}"
    );
}

#[test]
fn explain_refuses_malformed_input_with_the_rule_and_an_example() {
    let ok_principal = "arn:aws:iam::100000000002:role/S3BucketManager";
    let ok_action = "s3:CreateBucket";
    let ok_resource = "arn:aws:s3:::ambra-dev-acme";
    // (principal, action, resource, argument named, rule, example)
    let cases = [
        // The issue's three examples.
        (
            "arn:aws:iam::10000000002:role/S3BucketManager",
            ok_action,
            ok_resource,
            "--principal",
            "has 11 digits; an account ID is exactly 12 digits",
            "e.g. arn:aws:iam::100000000002:role/S3BucketManager",
        ),
        (
            ok_principal,
            ok_action,
            "ambra-dev-acme",
            "--resource",
            "not an ARN",
            "e.g. arn:aws:s3:::ambra-dev-acme",
        ),
        (
            ok_principal,
            "CreateBucket",
            ok_resource,
            "--action",
            "`<service>:<Action>`",
            "e.g. s3:CreateBucket",
        ),
        // More rules.
        (
            ok_principal,
            "s3:CreateBuckett",
            ok_resource,
            "--action",
            "not an action of s3 in the action catalog",
            "did you mean s3:CreateBucket?",
        ),
        (
            ok_principal,
            "ec2:RunInstances",
            ok_resource,
            "--action",
            "unknown service prefix `ec2`",
            "e.g. s3:CreateBucket",
        ),
        (
            ok_principal,
            ok_action,
            "arn:aws:s3:::Ambra_Dev",
            "--resource",
            "is not an S3 bucket name",
            "e.g. arn:aws:s3:::ambra-dev-acme",
        ),
        (
            ok_principal,
            "sts:AssumeRole",
            "arn:aws:iam::1000000000022:role/S3BucketManager",
            "--resource",
            "has 13 digits",
            "e.g. arn:aws:iam::100000000002:role/S3BucketManager",
        ),
        (
            ok_principal,
            "lambda:InvokeFunctionUrl",
            "arn:aws:lambda:us-east-1:100000000001:s3-bucket-provisioning",
            "--resource",
            "must be `function:<name>",
            "e.g. arn:aws:lambda:us-east-1:100000000001:function:",
        ),
        (
            "arn:aws:iam::100000000002:group/admins",
            ok_action,
            ok_resource,
            "--principal",
            "must be `root`, `role/<name>` or `user/<name>`",
            "e.g. arn:aws:iam::",
        ),
    ];
    for (principal, action, resource, arg, rule, example) in cases {
        for format in ["text", "json"] {
            let r = run(&[
                "explain",
                "--env",
                "environments/dev.toml",
                "--principal",
                principal,
                "--action",
                action,
                "--resource",
                resource,
                "--format",
                format,
            ]);
            let what = format!("{principal} {action} {resource} ({format})");
            assert_eq!(r.code, 2, "{what}: {}{}", r.stdout, r.stderr);
            assert_eq!(r.stdout, "", "{what}: no decision is printed");
            assert!(!r.stderr.contains("DENY"), "{what}: {}", r.stderr);
            for needle in [arg, rule, example] {
                assert!(
                    r.stderr.contains(needle),
                    "{what}: {needle:?} in {}",
                    r.stderr
                );
            }
        }
    }
}

#[test]
fn live_commands_json_against_moto() {
    let m = moto_with(&[
        (STORAGE_A, &["ambra-dev-a", "unrelated-a"]),
        (STORAGE_B, &[]),
        (NEW, &[]),
    ]);
    let spec = root().join("environments/dev.toml");
    let spec = spec.to_str().unwrap();

    // capacity: the plan, each account's counts, the state table.
    let r = xacct(
        Some(&m),
        &[
            "capacity",
            "--env",
            spec,
            "--customers",
            "5000",
            "--growth",
            "2",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = parse(&r);
    assert_eq!(v["environment"], "development");
    assert_eq!(v["plan"]["buckets_needed"], 10000);
    assert_eq!(v["plan"]["accounts_to_add"], 8);
    let a = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == STORAGE_A)
        .unwrap();
    assert_eq!(
        (&a["customer_buckets"], &a["total_buckets"], &a["headroom"]),
        (&json!(1), &json!(2), &json!(999))
    );
    assert_eq!(v["summary"]["customer_buckets"], 1);
    assert_eq!(v["summary"]["free"], 1999);
    assert!(v["state_table"]["error"].is_null(), "{v:#}");
    let r = xacct(
        None,
        &["capacity", "--env", spec, "--offline", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = parse(&r);
    assert_eq!((&v["offline"], &v["accounts"]), (&json!(true), &json!([])));
    assert!(v["state_table"].is_null());

    // onboard without --apply (the files written, the steps left), then --apply.
    let w = Work::new();
    let r = w.run(Some(&m), &["onboard", "--account", NEW, "--format", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = parse(&r);
    assert_eq!(
        (&v["account"], &v["spec_changed"], &v["apply"]),
        (&json!(NEW), &json!(true), &json!(false))
    );
    assert!(v["applied"].is_null());
    let written = v["written"].as_array().unwrap();
    assert!(
        written.iter().any(|p| p
            .as_str()
            .unwrap()
            .ends_with(&format!("parameters/{NEW}.json"))),
        "{v:#}"
    );
    assert_eq!(v["summary"]["written"], written.len());
    assert!(v["steps"].as_array().unwrap().len() >= 3, "{v:#}");
    let r = w.run(
        Some(&m),
        &["onboard", "--account", NEW, "--apply", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = parse(&r);
    assert_eq!(v["spec_changed"], false);
    let applied = &v["applied"];
    assert_eq!(applied["stack"], "xacct-dev-storage");
    assert_eq!(applied["stack_status"], "CREATE_COMPLETE");
    assert_eq!(
        (&applied["public_access_block"], &applied["verified"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(
        v["summary"]["findings"],
        applied["findings"].as_array().unwrap().len()
    );

    // offboard: refused while a customer bucket remains (exit 1 in the JSON too).
    rt().block_on(async {
        let c = in_account(&base(&m), NEW).await;
        s3(&c)
            .create_bucket()
            .bucket("ambra-dev-kept")
            .send()
            .await
            .unwrap();
    });
    let r = w.run(
        Some(&m),
        &["offboard", "--account", NEW, "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = parse(&r);
    assert_eq!(
        (&v["refused"], &v["customer_buckets"], &v["spec_changed"]),
        (&json!(true), &json!(1), &json!(false))
    );
    rt().block_on(async {
        let c = in_account(&base(&m), NEW).await;
        s3(&c)
            .delete_bucket()
            .bucket("ambra-dev-kept")
            .send()
            .await
            .unwrap();
    });
    let r = w.run(
        Some(&m),
        &["offboard", "--account", NEW, "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = parse(&r);
    assert_eq!(
        (&v["refused"], &v["customer_buckets"], &v["spec_changed"]),
        (&json!(false), &json!(0), &json!(true))
    );
    assert!(
        v["removed"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .ends_with(&format!("parameters/{NEW}.json"))),
        "{v:#}"
    );
    w.check_clean();
}

#[test]
fn every_command_with_format_json_is_in_the_schema() {
    use clap::CommandFactory;
    let schema: Value = serde_json::from_str(&crate::read(
        &root().join("docs/schema/xacct-output-v1.json"),
    ))
    .unwrap();
    let mut in_schema: Vec<String> = schema["properties"]["command"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    in_schema.sort();
    let cli = xacct::cmd::Cli::command();
    let mut with_json: Vec<String> = cli
        .get_subcommands()
        .filter(|c| {
            c.get_arguments().any(|a| {
                a.get_id() == "format"
                    && a.get_possible_values()
                        .iter()
                        .any(|v| v.get_name() == "json")
            })
        })
        .map(|c| c.get_name().to_owned())
        .collect();
    with_json.sort();
    assert_eq!(with_json, in_schema);
    for c in [
        "audit", "verify", "capacity", "validate", "render", "explain", "onboard", "offboard",
        "accounts",
    ] {
        assert!(with_json.iter().any(|x| x == c), "{c} has no --format json");
    }
}
