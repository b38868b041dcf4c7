//! `xacct verify` against a moto server: deploy `generated/dev` with the AWS
//! SDK (the same documents `Documents::build` renders), run the real binary,
//! and check that each tampering is caught with the right check ID and account.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use moto::Moto;
use serde_json::Value;
use xacct::iam::documents::Documents;
use xacct::model::Environment;

use crate::support::verify_deploy::*;
use crate::support::{lambda_proxy, moto};

/// Runs the real binary as the verifier role in the primary account; returns
/// (exit code, parsed JSON report, stderr).
pub(crate) fn verify(
    m: &Moto,
    creds: &Credentials,
    spec: &Path,
    extra: &[&str],
) -> (i32, Value, String) {
    verify_at(&m.endpoint, creds, spec, extra)
}

/// [`verify`] with `--endpoint-url endpoint`.
fn verify_at(
    endpoint: &str,
    creds: &Credentials,
    spec: &Path,
    extra: &[&str],
) -> (i32, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
    cmd.arg("verify")
        .arg("--env")
        .arg(spec)
        .args(["--endpoint-url", endpoint, "--format", "json"])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env(
            "AWS_SESSION_TOKEN",
            creds.session_token().unwrap_or_default(),
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    let code = out.status.code().unwrap_or(-1);
    // Every verify report of these tests is a valid envelope with the exit code.
    crate::support::schema::check_run(&["verify", "--format", "json"], code, &stdout);
    (code, json, stderr)
}

fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().unwrap().to_owned(),
                f["account"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn account<'a>(report: &'a Value, acct: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == acct)
        .unwrap_or_else(|| panic!("account {acct} not in report: {report:#}"))
}

struct Setup {
    moto: Moto,
    env: Environment,
    spec: PathBuf,
    verifier: Credentials,
    rt: tokio::runtime::Runtime,
}

fn setup_with(spec: PathBuf, moto: Moto) -> Setup {
    let env = load(&spec);
    let rt = rt();
    let verifier = rt.block_on(async {
        deploy(&moto, &env).await;
        creds_in(&base(&moto), &env.primary_account, VERIFIER_ROLE).await
    });
    Setup {
        moto,
        env,
        spec,
        verifier,
        rt,
    }
}

fn setup() -> Setup {
    setup_with(root().join("environments/dev.toml"), Moto::start())
}

#[test]
fn deployed_dev_verifies_clean_with_canary() {
    let s = setup();
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &["--canary"]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert!(
        findings(&report)
            .iter()
            .all(|(id, _, _)| id == "XV040" || !id.is_empty())
    );
    assert_eq!(report["chain_path"], "direct");
    for acct in [STORAGE_A, STORAGE_B] {
        let a = account(&report, acct);
        assert_eq!(a["reachable"], true);
        assert_eq!(a["chain_ok"], true);
        assert_eq!(a["canary"], true);
        assert_eq!(a["prefix_buckets"], 0);
        assert_eq!(a["headroom"], s.env.max_buckets_per_account);
        // moto 5.2.1 has no S3 quotas in Service Quotas (NoSuchResource) and
        // no GetAWSDefaultServiceQuota: the spec's figure, and that source.
        assert_eq!(a["s3_bucket_quota"], s.env.s3_bucket_quota, "{a:#}");
        assert_eq!(a["quota_source"], "spec", "{a:#}");
    }
    assert!(
        stderr.contains("account 100000000002 checked"),
        "plain progress lines when not a TTY: {stderr}"
    );
    // The canary buckets are gone.
    let names = s.rt.block_on(async {
        let c = in_account(&base(&s.moto), STORAGE_A).await;
        s3(&c).list_buckets().send().await.unwrap().buckets().len()
    });
    assert_eq!(names, 0);
}

/// Runs the real binary with `args` as `creds`, pointed at `m`; returns (exit code, stdout, stderr).
fn xacct_as(m: &Moto, creds: &Credentials, args: &[&str]) -> (i32, String, String) {
    let out = crate::support::cli::xacct_as(m, creds, args);
    (out.code, out.stdout, out.stderr)
}

/// verify and capacity count an account's customer buckets by the same rule (the
/// contract's `is_customer_bucket`): a verifier canary left behind is not a customer.
#[test]
fn verify_and_capacity_agree_on_an_account_holding_a_canary() {
    let s = setup();
    s.rt.block_on(async {
        let c = in_account(&base(&s.moto), STORAGE_A).await;
        for name in [
            "ambra-dev-a",
            "ambra-dev-b",
            "ambra-dev-xacct-canary-00ff",
            "other-x",
        ] {
            s3(&c).create_bucket().bucket(name).send().await.unwrap();
        }
    });
    let (_, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    let a = account(&report, STORAGE_A);
    assert_eq!(a["prefix_buckets"], 2, "{a:#}\n{stderr}");
    assert_eq!(a["headroom"], s.env.max_buckets_per_account as i64 - 2);
    let spec = s.spec.to_str().unwrap();
    let (code, stdout, stderr) = xacct_as(&s.moto, &s.verifier, &["capacity", "--env", spec]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with(STORAGE_A))
        .unwrap_or_else(|| panic!("{STORAGE_A} missing:\n{stdout}"))
        .split_whitespace()
        .collect();
    // account, customer buckets, all buckets, ...
    assert_eq!(row[1], "2", "{stdout}");
    assert_eq!(row[2], "4", "{stdout}");
}

/// Drift: the Lambda counted two buckets in account A, one of them is deleted
/// by hand. `verify` reports XV048, `capacity` shows the drift and exits 1,
/// `capacity --reconcile` sets the counter to the listing (conditionally), and
/// both are clean afterwards.
#[test]
fn a_bucket_deleted_by_hand_is_drift_that_reconcile_fixes() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use xacct::contract::state as st;
    let s = setup();
    s.rt.block_on(async {
        let c = in_account(&base(&s.moto), STORAGE_A).await;
        for name in ["ambra-dev-a", "ambra-dev-b"] {
            s3(&c).create_bucket().bucket(name).send().await.unwrap();
        }
        // The counters as the Lambda leaves them: A holds 2, B holds 0.
        let primary = in_account(&base(&s.moto), &s.env.primary_account).await;
        let ddb = state_table_client(&primary, &s.env);
        for (acct, n) in [(STORAGE_A, 2), (STORAGE_B, 0)] {
            ddb.put_item()
                .table_name(s.env.state_table_name())
                .item(st::PARTITION_KEY, AttributeValue::S(st::counter_key(acct)))
                .item(st::BUCKET_COUNT, AttributeValue::N(n.to_string()))
                .item(st::LISTED_AT, AttributeValue::N("0".into()))
                .send()
                .await
                .unwrap();
        }
        s3(&c)
            .delete_bucket()
            .bucket("ambra-dev-b")
            .send()
            .await
            .unwrap();
    });
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &["--fail-on", "medium"]);
    let drift: Vec<_> = findings(&report)
        .into_iter()
        .filter(|(id, _, _)| id == "XV048")
        .collect();
    assert_eq!(drift.len(), 1, "{report:#}\n{stderr}");
    assert_eq!(drift[0].1, STORAGE_A, "{drift:?}");
    assert_eq!(
        code, 1,
        "a medium finding fails `--fail-on medium`: {stderr}"
    );
    assert_eq!(account(&report, STORAGE_A)["capacity_counter"], 2);

    let spec = s.spec.to_str().unwrap();
    let row = |stdout: &str| -> Vec<String> {
        stdout
            .lines()
            .find(|l| l.starts_with(STORAGE_A))
            .unwrap_or_else(|| panic!("{STORAGE_A} missing:\n{stdout}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let (code, stdout, stderr) = xacct_as(&s.moto, &s.verifier, &["capacity", "--env", spec]);
    assert_eq!(code, 1, "drift is a finding: {stdout}{stderr}");
    // account, customer, all, headroom, quota left, counter, drift
    assert_eq!(
        row(&stdout)[1..].first().map(String::as_str),
        Some("1"),
        "{stdout}"
    );
    assert_eq!(row(&stdout)[5], "2", "{stdout}");
    assert_eq!(row(&stdout)[6], "1", "{stdout}");
    assert!(stdout.contains("--reconcile"), "{stdout}");

    let (code, stdout, stderr) = xacct_as(
        &s.moto,
        &s.verifier,
        &["capacity", "--env", spec, "--reconcile"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("reconciled {STORAGE_A}: counter 2 -> 1")),
        "{stdout}"
    );
    let (code, stdout, stderr) = xacct_as(&s.moto, &s.verifier, &["capacity", "--env", spec]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(row(&stdout)[5], "1", "{stdout}");
    assert_eq!(row(&stdout)[6], "0", "{stdout}");
    let (_, report, _) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    assert!(
        findings(&report).iter().all(|(id, _, _)| id != "XV048"),
        "{report:#}"
    );
}

/// The canary configures its bucket with exactly the contract's steps, in the contract's
/// order (tags first, with `CreateBucket`; then the others), as seen on the wire by moto;
/// dev is in the account regional namespace, so the canaries are too (issue 22).
#[test]
fn canary_follows_the_contract_bucket_steps() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("requests.jsonl");
    let s = setup_with(
        root().join("environments/dev.toml"),
        Moto::start_with_recorder(&rec),
    );
    s.moto.record(true);
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &["--canary"]);
    s.moto.record(false);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let recording = std::fs::read_to_string(&rec).unwrap();
    let canaries: std::collections::BTreeSet<String> = recording
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|r| r["url"].as_str().map(str::to_owned))
        .filter_map(|u| {
            let path = u.split_once("://")?.1.split_once('/')?.1.to_owned();
            let bucket = path.split(['?', '/']).next()?.to_owned();
            xacct::contract::is_canary_bucket(&s.env.bucket_prefix, &bucket).then_some(bucket)
        })
        .collect();
    assert_eq!(
        canaries.len(),
        2,
        "one canary per storage account: {canaries:?}"
    );
    let want: Vec<&str> = xacct::contract::steps_after_create()
        .map(|s| s.subresource())
        .collect();
    for bucket in &canaries {
        assert!(
            s.env
                .storage_accounts
                .iter()
                .any(|a| { xacct::contract::is_namespaced_bucket(bucket, a, &s.env.region) }),
            "{bucket} is not in a storage account's regional namespace"
        );
        assert_eq!(
            moto::recorded_bucket_puts(&recording, bucket),
            want,
            "{bucket}"
        );
    }
}

#[test]
fn table_and_sarif_output() {
    let s = setup();
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .arg("verify")
            .arg("--env")
            .arg(&s.spec)
            .args(["--endpoint-url", &s.moto.endpoint, "--format", format])
            .env_clear()
            .env("AWS_ACCESS_KEY_ID", s.verifier.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", s.verifier.secret_access_key())
            .env(
                "AWS_SESSION_TOKEN",
                s.verifier.session_token().unwrap_or_default(),
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run("table");
    assert!(table.contains("no findings"), "{table}");
    assert!(table.contains("trust chain: direct"), "{table}");
    assert!(table.contains("10000 (spec)"), "{table}");
    for acct in [PRIMARY, STORAGE_A, STORAGE_B] {
        assert!(table.lines().any(|l| l.starts_with(acct)), "{table}");
    }
    let sarif = crate::support::sarif::check(run("sarif").as_bytes());
    assert_eq!(sarif["version"], "2.1.0");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| r["id"] == "XV032"));
    assert!(rules.iter().any(|r| r["id"] == "XA003"));
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
}

/// Verify's SARIF: valid (schema and code scanning), each live finding at the
/// spec field or the generated policy that governs it, stable across runs.
#[test]
fn sarif_places_live_findings_at_the_spec_field_or_generated_policy() {
    let s = setup();
    s.rt.block_on(async {
        tamper(&s.moto, &s.env, "trust-star").await;
        tamper(&s.moto, &s.env, "phr-public-access-block").await;
        tamper(&s.moto, &s.env, "account-public-access-block-off").await;
    });
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(root().join("src"))
            .arg("verify")
            .arg("--env")
            .arg(&s.spec)
            .args(["--endpoint-url", &s.moto.endpoint, "--format", "sarif"])
            .env_clear()
            .env("AWS_ACCESS_KEY_ID", s.verifier.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", s.verifier.secret_access_key())
            .env(
                "AWS_SESSION_TOKEN",
                s.verifier.session_token().unwrap_or_default(),
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        crate::support::sarif::check(&out.stdout)
    };
    let doc = run();
    let at = crate::support::sarif::placed(&doc);
    let spec = std::fs::read_to_string(&s.spec).unwrap();
    let line = |needle: &str| {
        spec.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in the spec")) as u64
            + 1
    };
    let spec_uri = "environments/dev.toml".to_owned();
    // The trust: the generated trust policy; the PHR bucket: `phr.bucket`;
    // the storage account's own setting: its entry in `storage.accounts`.
    for want in [
        (
            "XV032".to_owned(),
            "generated/dev/policies/s3-bucket-manager-trust.json".to_owned(),
            1,
        ),
        ("XV022".to_owned(), spec_uri.clone(), line("bucket = \"")),
        (
            "XV036".to_owned(),
            spec_uri.clone(),
            line(&format!("\"{STORAGE_B}\"")),
        ),
    ] {
        assert!(at.contains(&want), "{want:?} not in {at:?}");
    }
    // Nothing is left at line 1 of the spec without a reason: every spec result is on a field.
    assert!(
        at.iter().all(|(_, uri, l)| uri != &spec_uri || *l > 1),
        "{at:?}"
    );
    let again = run();
    assert_eq!(
        crate::support::sarif::fingerprints(&again),
        crate::support::sarif::fingerprints(&doc)
    );
    assert_eq!(crate::support::sarif::placed(&again), at);
}

#[test]
fn wrong_account_is_a_caller_finding() {
    let s = setup();
    let other =
        s.rt.block_on(creds_in(&base(&s.moto), STORAGE_A, "someone"));
    let (code, report, _) = verify(&s.moto, &other, &s.spec, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "XV001");
}

#[test]
fn missing_spec_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["verify", "--env", "/nonexistent/dev.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["verify", "--env"])
        .arg(root().join("environments/dev.toml"))
        .args(["--audit-role", "bad name"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// One tampering: what to change, the check that must catch it, in which account.
struct Case {
    name: &'static str,
    check: &'static str,
    account: &'static str,
}

async fn tamper(m: &Moto, env: &Environment, name: &str) {
    let base = base(m);
    let b = in_account(&base, STORAGE_B).await;
    let p = in_account(&base, PRIMARY).await;
    let iam_b = aws_sdk_iam::Client::new(&b);
    let iam_p = aws_sdk_iam::Client::new(&p);
    let lambda = aws_sdk_lambda::Client::new(&p);
    let d = Documents::build(env);
    let policy_arn = format!("arn:aws:iam::{STORAGE_B}:policy/S3BucketManagement");
    let with_statement = |doc: &xacct::iam::PolicyDocument, extra: Value| {
        let mut v = serde_json::to_value(doc).unwrap();
        v["Statement"].as_array_mut().unwrap().push(extra);
        v.to_string()
    };
    match name {
        "trust-star" | "trust-foreign" => {
            let principal = if name == "trust-star" {
                "*"
            } else {
                "arn:aws:iam::999999999999:root"
            };
            let t = with_statement(
                &d.storage_trust,
                serde_json::json!({"Effect":"Allow","Principal":{"AWS":principal},"Action":"sts:AssumeRole"}),
            );
            iam_b
                .update_assume_role_policy()
                .role_name("S3BucketManager")
                .policy_document(t)
                .send()
                .await
                .unwrap();
        }
        "s3-star" => {
            let t = with_statement(
                &d.storage_management,
                serde_json::json!({"Effect":"Allow","Action":"s3:*","Resource":"*"}),
            );
            iam_b
                .create_policy_version()
                .policy_arn(&policy_arn)
                .policy_document(t)
                .set_as_default(true)
                .send()
                .await
                .unwrap();
        }
        "detached" => {
            iam_b
                .detach_role_policy()
                .role_name("S3BucketManager")
                .policy_arn(&policy_arn)
                .send()
                .await
                .unwrap();
        }
        "role-deleted" => {
            iam_b
                .detach_role_policy()
                .role_name("S3BucketManager")
                .policy_arn(&policy_arn)
                .send()
                .await
                .unwrap();
            iam_b
                .delete_role()
                .role_name("S3BucketManager")
                .send()
                .await
                .unwrap();
        }
        "storage-inline-policy" => {
            iam_b
                .put_role_policy()
                .role_name("S3BucketManager")
                .policy_name("extra")
                .policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                )
                .send()
                .await
                .unwrap();
        }
        "url-auth-none" => {
            lambda
                .update_function_url_config()
                .function_name(&env.lambda.function_name)
                .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
                .send()
                .await
                .unwrap();
        }
        "env-var" => {
            let mut vars = aws_sdk_lambda::types::Environment::builder();
            for (k, v) in xacct::render::lambda_env(env) {
                let v = if k == "AMBRA_MAX_BUCKETS_PER_ACCOUNT" {
                    "5000".to_owned()
                } else {
                    v.unwrap_or_default()
                };
                vars = vars.variables(k, v);
            }
            lambda
                .update_function_configuration()
                .function_name(&env.lambda.function_name)
                .environment(vars.build())
                .send()
                .await
                .unwrap();
        }
        "phr-public-access-block" => {
            s3(&p)
                .delete_public_access_block()
                .bucket(&env.phr.bucket)
                .send()
                .await
                .unwrap();
        }
        "concurrency-removed" => {
            lambda
                .delete_function_concurrency()
                .function_name(&env.lambda.function_name)
                .send()
                .await
                .unwrap();
        }
        "boundary-removed" => {
            iam_p
                .delete_role_permissions_boundary()
                .role_name(env.lambda_role_name())
                .send()
                .await
                .unwrap();
        }
        "account-public-access-block-off" => {
            crate::support::verify_deploy::session(&b)
                .s3control()
                .delete_public_access_block()
                .account_id(STORAGE_B)
                .send()
                .await
                .unwrap();
        }
        "execution-extra-statement" => {
            let t = with_statement(
                &d.lambda_execution,
                serde_json::json!({"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}),
            );
            iam_p
                .put_role_policy()
                .role_name(env.lambda_role_name())
                .policy_name(format!("{}-permissions", env.lambda.function_name))
                .policy_document(t)
                .send()
                .await
                .unwrap();
        }
        "audit-role-missing" => {
            iam_b
                .delete_role_policy()
                .role_name("OrganizationAccountAccessRole")
                .policy_name("read")
                .send()
                .await
                .unwrap();
            iam_b
                .delete_role()
                .role_name("OrganizationAccountAccessRole")
                .send()
                .await
                .unwrap();
        }
        "log-bucket-policy-removed" => {
            s3(&p)
                .delete_bucket_policy()
                .bucket(&env.phr.log_bucket)
                .send()
                .await
                .unwrap();
        }
        "phr-access-logging-off" => {
            s3(&p)
                .put_bucket_logging()
                .bucket(&env.phr.bucket)
                .bucket_logging_status(aws_sdk_s3::types::BucketLoggingStatus::builder().build())
                .send()
                .await
                .unwrap();
        }
        other => panic!("unknown tampering {other}"),
    }
}

fn run_case(c: &Case) {
    let s = setup();
    s.rt.block_on(tamper(&s.moto, &s.env, c.name));
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    let f = findings(&report);
    assert_eq!(code, 1, "{}: expected exit 1\n{f:#?}\n{stderr}", c.name);
    assert!(
        f.iter()
            .any(|(id, acct, _)| id == c.check && acct == c.account),
        "{}: expected {} in {}; got {f:#?}",
        c.name,
        c.check,
        c.account
    );
    // The other accounts are still checked and reported, and the progress
    // lines count exactly the findings the report gives each account.
    for acct in [PRIMARY, STORAGE_A, STORAGE_B] {
        let a = account(&report, acct);
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("account {acct} checked: ")))
            .unwrap_or_else(|| panic!("no progress line for {acct}:\n{stderr}"));
        assert!(
            line.ends_with(&format!("checked: {} finding(s)", a["finding_count"])),
            "{}: progress says {line:?}, the report {a:#}",
            c.name
        );
        assert!(
            stderr.contains(&format!("account {acct} read (")),
            "{stderr}"
        );
    }
    if c.account != STORAGE_A {
        let a = account(&report, STORAGE_A);
        assert_eq!(a["reachable"], true, "{}", c.name);
        assert_eq!(a["chain_ok"], true, "{}", c.name);
        assert!(
            f.iter().all(|(_, acct, _)| acct != STORAGE_A),
            "{}: untouched account {STORAGE_A} has findings: {f:#?}",
            c.name
        );
    }
}

macro_rules! tampering {
    ($($test:ident: $name:literal => $check:literal in $acct:expr;)*) => {
        $(
            #[test]
            fn $test() {
                run_case(&Case { name: $name, check: $check, account: $acct });
            }
        )*
    };
}

tampering! {
    tamper_trust_widened_to_star: "trust-star" => "XV032" in STORAGE_B;
    tamper_trust_widened_to_foreign_account: "trust-foreign" => "XV032" in STORAGE_B;
    tamper_s3_star_in_management_policy: "s3-star" => "XV034" in STORAGE_B;
    tamper_policy_detached: "detached" => "XV033" in STORAGE_B;
    tamper_role_deleted: "role-deleted" => "XV031" in STORAGE_B;
    tamper_inline_policy_on_storage_role: "storage-inline-policy" => "XV035" in STORAGE_B;
    tamper_function_url_auth_none: "url-auth-none" => "XV012" in PRIMARY;
    tamper_lambda_env_var_changed: "env-var" => "XV011" in PRIMARY;
    tamper_phr_public_access_block_removed: "phr-public-access-block" => "XV022" in PRIMARY;
    tamper_extra_statement_in_execution_role: "execution-extra-statement" => "XV015" in PRIMARY;
    tamper_reserved_concurrency_removed: "concurrency-removed" => "XV018" in PRIMARY;
    tamper_execution_role_boundary_removed: "boundary-removed" => "XV017" in PRIMARY;
    tamper_account_public_access_block_removed: "account-public-access-block-off" => "XV036" in STORAGE_B;
    unreachable_storage_account_is_a_finding: "audit-role-missing" => "XV030" in STORAGE_B;
    tamper_log_bucket_policy_removed: "log-bucket-policy-removed" => "XV025" in PRIMARY;
    tamper_phr_access_logging_off: "phr-access-logging-off" => "XV026" in PRIMARY;
}

/// dev with `[security] primary_account_public_access_block = true`: clean when
/// the primary account's Block Public Access is on, XV037 once it is removed.
#[test]
fn primary_account_public_access_block_is_verified_when_configured() {
    let (_dir, spec) = dev_spec_with("\n[security]\nprimary_account_public_access_block = true\n");
    let s = setup_with(spec, Moto::start());
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    s.rt.block_on(async {
        let p = in_account(&base(&s.moto), PRIMARY).await;
        session(&p)
            .s3control()
            .delete_public_access_block()
            .account_id(PRIMARY)
            .send()
            .await
            .unwrap();
    });
    let (code, report, _) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    assert_finding(code, &report, "XV037", PRIMARY);
}

/// `environments/dev.toml` plus `extra` (a `[security]` section), in a
/// temporary directory that lives as long as the returned guard.
fn dev_spec_with(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("environments/dev.toml")).unwrap() + extra;
    let spec = dir.path().join("dev.toml");
    std::fs::write(&spec, text).unwrap();
    (dir, spec)
}

/// A verify run of `s` that must exit 1: its findings.
fn failing(s: &Setup) -> Vec<(String, String, String)> {
    let (code, report, _) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    let f = findings(&report);
    assert_eq!(code, 1, "{f:#?}");
    f
}

/// Exit 1 with a finding `id` about account `acct`.
fn assert_finding(code: i32, report: &Value, id: &str, acct: &str) {
    let f = findings(report);
    assert_eq!(code, 1, "{f:#?}");
    assert!(
        f.iter().any(|(i, a, _)| i == id && a == acct),
        "{id}: {f:#?}"
    );
}

/// XV019: with a signing profile in the spec, the deployment that attaches the
/// code signing configuration verifies clean, and a function without one is a
/// critical finding.
#[test]
fn code_signing_is_verified_when_configured() {
    let (_dir, spec) = dev_spec_with(
        "\n[security]\ncode_signing_profile_version_arn = \"arn:aws:signer:us-east-1:100000000001:/signing-profiles/xacct_dev/a1b2c3d4e5\"\n",
    );
    let s = setup_with(spec.clone(), Moto::start());
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");

    // The same spec against a function deployed without the configuration.
    let plain = setup();
    let (code, report, _) = verify(&plain.moto, &plain.verifier, &spec, &[]);
    assert_finding(code, &report, "XV019", PRIMARY);
}

/// With moto's IAM enforcement on, the chain's identity policies are enforced:
/// the Lambda role's inline policy (sts:AssumeRole on the storage roles) and
/// `S3BucketManagement` (every S3 call of the count and the canary). moto
/// cannot evaluate the first hop (its trust evaluator crashes on the Lambda
/// trust's `Service` principal) and rejects Lambda API signatures under
/// enforcement, so the Lambda role's session is taken before enforcement and
/// handed to the verifier library, and primary-account findings are not
/// asserted here (the non-enforced tests cover them).
fn enforced_run(s: &Setup) -> xacct::verify::Report {
    let lambda_creds =
        s.rt.block_on(creds_in(&base(&s.moto), PRIMARY, &s.env.lambda_role_name()));
    s.moto.enforce_iam();
    let as_session = |c: &Credentials| xacct::aws::Aws {
        config: base(&s.moto)
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(c.clone()))
            .build(),
        path_style: true,
        session_name: "xacct-verify".to_owned(),
    };
    let opts = xacct::verify::Options {
        canary: true,
        ..Default::default()
    };
    s.rt.block_on(xacct::verify::run_chain_with(
        &s.env,
        &opts,
        as_session(&s.verifier),
        Some(as_session(&lambda_creds)),
    ))
    .expect("moto answers sts:GetCallerIdentity")
}

fn storage_findings(r: &xacct::verify::Report, acct: &str) -> Vec<String> {
    r.findings
        .iter()
        .filter(|f| f.account == acct)
        .map(|f| format!("{} {}", f.check_id, f.message))
        .collect()
}

#[test]
fn iam_enforced_chain_and_canary_work_with_exactly_the_generated_permissions() {
    let s = setup_with(
        root().join("environments/dev.toml"),
        Moto::start_with_auth(100_000),
    );
    let r = enforced_run(&s);
    assert_eq!(r.chain_path, xacct::verify::ChainPath::Direct);
    for acct in [STORAGE_A, STORAGE_B] {
        let a = r.accounts.iter().find(|a| a.account == acct).unwrap();
        assert!(a.reachable, "{acct}: {:?}", storage_findings(&r, acct));
        assert_eq!(
            a.chain_ok,
            Some(true),
            "{acct}: {:?}",
            storage_findings(&r, acct)
        );
        assert_eq!(
            a.canary,
            Some(true),
            "{acct}: {:?}",
            storage_findings(&r, acct)
        );
        assert_eq!(a.prefix_buckets, Some(0));
        assert!(
            storage_findings(&r, acct).is_empty(),
            "{:?}",
            storage_findings(&r, acct)
        );
    }
}

/// The audit role's reads without `iam:GetAccountAuthorizationDetails`: in
/// one storage account the audit role may only make the per-role reads
/// (`GetRole`, `ListAttachedRolePolicies`, `ListRolePolicies`,
/// `GetRolePolicy`, `GetPolicy`, `GetPolicyVersion`). moto refuses it the
/// single call, and verify falls back to the per-role reads there: the
/// account is still read and verified clean, like the other one.
#[test]
fn iam_enforced_audit_role_without_authorization_details_uses_per_role_reads() {
    const PER_ROLE_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:GetRolePolicy","iam:GetPolicy","iam:GetPolicyVersion","s3:Get*","s3:List*","servicequotas:GetServiceQuota"],"Resource":"*"}]}"#;
    let s = setup_with(
        root().join("environments/dev.toml"),
        Moto::start_with_auth(100_000),
    );
    let audit_b = s.rt.block_on(async {
        let base = base(&s.moto);
        let b = in_account(&base, STORAGE_B).await;
        aws_sdk_iam::Client::new(&b)
            .put_role_policy()
            .role_name("OrganizationAccountAccessRole")
            .policy_name("read")
            .policy_document(PER_ROLE_READ)
            .send()
            .await
            .unwrap();
        let c = creds_in(&base, STORAGE_B, "OrganizationAccountAccessRole").await;
        base.to_builder()
            .credentials_provider(SharedCredentialsProvider::new(c))
            .build()
    });
    let r = enforced_run(&s);
    // The single call really is refused to that audit role.
    let refused = s.rt.block_on(
        aws_sdk_iam::Client::new(&audit_b)
            .get_account_authorization_details()
            .send(),
    );
    // (moto's 403 body is an `ErrorResponse` the SDK does not model.)
    let e = refused.expect_err("GetAccountAuthorizationDetails must be refused");
    let status = e.raw_response().map(|r| r.status().as_u16());
    assert_eq!(status, Some(403), "{e:?}");
    assert!(
        format!("{e:?}").contains("not authorized to perform: iam:GetAccountAuthorizationDetails"),
        "{e:?}"
    );
    for acct in [STORAGE_A, STORAGE_B] {
        let a = r.accounts.iter().find(|a| a.account == acct).unwrap();
        assert!(a.reachable, "{acct}: {:?}", storage_findings(&r, acct));
        assert_eq!(a.chain_ok, Some(true));
        assert!(
            storage_findings(&r, acct).is_empty(),
            "{acct}: {:?}",
            storage_findings(&r, acct)
        );
    }
}

/// A live setting that cannot be read is a finding, never a clean floor: with
/// `dynamodb:DescribeTable` and `dynamodb:DescribeContinuousBackups` denied to the
/// verifier, the table's point-in-time recovery, deletion protection and
/// encryption are unknown, and verify says so (XV049) instead of comparing nothing.
#[test]
fn iam_enforced_unreadable_table_settings_are_a_finding_not_a_clean_floor() {
    let table_findings = |r: &xacct::verify::Report| -> Vec<String> {
        r.findings
            .iter()
            .filter(|f| f.check_id == "XV049")
            .map(|f| format!("{} {}", f.check_id, f.message))
            .collect()
    };
    // (Each run turns enforcement on for good, so each gets its own moto.)
    let readable = setup_with(
        root().join("environments/dev.toml"),
        Moto::start_with_auth(100_000),
    );
    let clean = enforced_run(&readable);
    assert!(
        table_findings(&clean).is_empty(),
        "{:#?}",
        table_findings(&clean)
    );
    let s = setup_with(
        root().join("environments/dev.toml"),
        Moto::start_with_auth(100_000),
    );
    s.rt.block_on(async {
        let p = in_account(&base(&s.moto), PRIMARY).await;
        aws_sdk_iam::Client::new(&p)
            .put_role_policy()
            .role_name(VERIFIER_ROLE)
            .policy_name("no-table-settings")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["dynamodb:DescribeTable","dynamodb:DescribeContinuousBackups"],"Resource":"*"}]}"#,
            )
            .send()
            .await
            .unwrap();
    });
    let r = enforced_run(&s);
    let f = table_findings(&r);
    assert!(
        f.iter()
            .any(|m| m.contains("cannot read the table's settings")
                && m.contains("dynamodb:DescribeTable")),
        "{f:#?}"
    );
    assert!(
        r.worst().is_some(),
        "an unreadable setting leaves the report clean"
    );
}

#[test]
fn iam_enforced_canary_fails_clearly_when_a_permission_is_removed() {
    let s = setup_with(
        root().join("environments/dev.toml"),
        Moto::start_with_auth(100_000),
    );
    // Remove s3:PutEncryptionConfiguration from S3BucketManagement in one account
    // (tags travel with CreateBucket since issue 22: PutBucketTagging is only the fallback).
    s.rt.block_on(async {
        let b = in_account(&base(&s.moto), STORAGE_B).await;
        let mut doc = Documents::build(&s.env).storage_management;
        for st in &mut doc.statement {
            if let Some(a) = &mut st.action {
                a.0.retain(|x| x != "s3:PutEncryptionConfiguration");
            }
        }
        aws_sdk_iam::Client::new(&b)
            .create_policy_version()
            .policy_arn(format!(
                "arn:aws:iam::{STORAGE_B}:policy/S3BucketManagement"
            ))
            .policy_document(doc.to_compact_json())
            .set_as_default(true)
            .send()
            .await
            .unwrap();
    });
    let r = enforced_run(&s);
    let b = storage_findings(&r, STORAGE_B);
    assert!(
        b.iter()
            .any(|f| f.starts_with("XV045") && f.contains("s3:PutEncryptionConfiguration")),
        "{b:#?}"
    );
    assert!(b.iter().any(|f| f.starts_with("XV034")), "{b:#?}");
    let a = r.accounts.iter().find(|a| a.account == STORAGE_A).unwrap();
    assert_eq!(
        a.canary,
        Some(true),
        "{:?}",
        storage_findings(&r, STORAGE_A)
    );
    let bb = r.accounts.iter().find(|a| a.account == STORAGE_B).unwrap();
    assert_eq!(bb.canary, Some(false));
    // The canary bucket was still deleted.
    assert!(!b.iter().any(|f| f.starts_with("XV046")), "{b:#?}");
}

/// The self-test fallback, end to end: the verifier may not assume the Lambda
/// execution role (IAM enforcement on), so `xacct verify` invokes the function
/// with `lambda:Invoke`; the endpoint it talks to runs the real provisioner
/// handler in-process for that call (moto cannot run a Lambda without docker)
/// and forwards every other request to moto.
///
/// The refusal is real: the verifier role's identity policy denies
/// `sts:AssumeRole` on the execution role. (In AWS the execution role's trust,
/// which does not list the verifier, refuses it; moto's trust evaluator fails
/// with HTTP 500 on the trust's `Service` principal, so the identity policy is
/// what refuses it here.) moto also rejects Lambda API read signatures under
/// enforcement, so the primary account's function reads are findings in this
/// run and are not asserted; the non-enforced tests cover them.
#[test]
fn self_test_path_reports_every_storage_account_when_the_lambda_role_is_refused() {
    let s = setup_with(
        root().join("environments/dev.toml"),
        Moto::start_with_auth(100_000),
    );
    let lambda_role = s.env.lambda_role_arn();
    let (verifier, execution) = s.rt.block_on(async {
        let base = base(&s.moto);
        let p = in_account(&base, PRIMARY).await;
        let iam = aws_sdk_iam::Client::new(&p);
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{PRIMARY}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        iam.create_role()
            .role_name("xacct-verifier-ci")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": lambda_role},
        ]});
        iam.put_role_policy()
            .role_name("xacct-verifier-ci")
            .policy_name("verifier")
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap();
        // Three customer buckets in A (the self-test counts them) and a canary
        // left behind there (it does not count).
        let a = s3(&in_account(&base, STORAGE_A).await);
        let canary = xacct::contract::canary_bucket_name("ambra-dev", "left-behind");
        for b in ["ambra-dev-one", "ambra-dev-two", "ambra-dev-three", &canary] {
            a.create_bucket().bucket(b).send().await.unwrap();
        }
        // Tamper with B: S3BucketManagement detached, so the Lambda can assume
        // S3BucketManager there but not list buckets with it.
        let b = aws_sdk_iam::Client::new(&in_account(&base, STORAGE_B).await);
        b.detach_role_policy()
            .role_name("S3BucketManager")
            .policy_arn(format!("arn:aws:iam::{STORAGE_B}:policy/S3BucketManagement"))
            .send()
            .await
            .unwrap();
        (
            creds_in(&base, PRIMARY, "xacct-verifier-ci").await,
            creds_in(&base, PRIMARY, &s.env.lambda_role_name()).await,
        )
    });
    let vars: std::collections::HashMap<String, String> = xacct::render::lambda_env(&s.env)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.unwrap_or_default()))
        .collect();
    let proxy =
        lambda_proxy::LambdaProxy::start(&s.moto, &s.env.lambda.function_name, &vars, execution);
    s.moto.enforce_iam();

    let (code, report, stderr) = verify_at(&proxy.endpoint, &verifier, &s.spec, &[]);
    let f = findings(&report);
    assert_eq!(code, 1, "{f:#?}\n{stderr}");
    assert_eq!(report["chain_path"], "self-test", "{report:#}");
    assert_eq!(
        proxy.invocations.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "one self-test invocation reports every storage account"
    );
    assert!(proxy.forwarded.load(std::sync::atomic::Ordering::Relaxed) > 0);
    let st = f
        .iter()
        .find(|(id, _, _)| id == "XV040")
        .unwrap_or_else(|| panic!("no SELF_TEST_PATH finding: {f:#?}"));
    assert_eq!(st.1, PRIMARY);
    assert!(
        st.2.contains("may not assume the Lambda execution role"),
        "{}",
        st.2
    );
    // The refusal is moto's 403 for the verifier, not an emulator failure.
    let refused = s.rt.block_on(async {
        let c = base(&s.moto)
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(verifier.clone()))
            .build();
        aws_sdk_sts::Client::new(&c)
            .assume_role()
            .role_arn(&lambda_role)
            .role_session_name("xacct-test")
            .send()
            .await
            .expect_err("the verifier may not assume the Lambda role")
    });
    assert_eq!(
        refused.raw_response().map(|r| r.status().as_u16()),
        Some(403),
        "{refused:?}"
    );
    assert!(
        !f.iter().any(|(id, _, _)| id == "XV047"),
        "the self-test itself ran: {f:#?}"
    );

    // A: per-account results from the self-test.
    let a = account(&report, STORAGE_A);
    assert_eq!(a["reachable"], true);
    assert_eq!(a["chain_ok"], true, "{report:#}");
    assert_eq!(a["prefix_buckets"], 3, "canaries are not customer buckets");
    assert_eq!(a["headroom"], s.env.max_buckets_per_account as i64 - 3);
    assert!(
        f.iter().all(|(_, acct, _)| acct != STORAGE_A),
        "untouched {STORAGE_A} has findings: {f:#?}"
    );

    // B: the Lambda's own ListBuckets was refused, and the read found why.
    let b = account(&report, STORAGE_B);
    assert_eq!(
        b["chain_ok"], true,
        "the Lambda still assumes S3BucketManager"
    );
    assert_eq!(b["prefix_buckets"], Value::Null);
    let listed = f
        .iter()
        .find(|(id, acct, _)| id == "XV042" && acct == STORAGE_B)
        .unwrap_or_else(|| panic!("no XV042 for {STORAGE_B}: {f:#?}"));
    assert!(
        listed.2.starts_with("self-test") && listed.2.contains("AccessDenied"),
        "{}",
        listed.2
    );
    assert!(
        f.iter()
            .any(|(id, acct, _)| id == "XV033" && acct == STORAGE_B),
        "{f:#?}"
    );
}

/// dev with `[security] kms_key = true, cloudtrail = true`: clean as deployed;
/// the key's rotation turned off is XV027, the trail stopped is XV028, the log
/// group recreated without the key is XV027 again.
#[test]
fn kms_key_and_trail_are_verified_when_configured() {
    let (_dir, spec) = dev_spec_with("\n[security]\nkms_key = true\ncloudtrail = true\n");
    let s = setup_with(spec, Moto::start());
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let p = s.rt.block_on(in_account(&base(&s.moto), PRIMARY));
    let kms = aws_sdk_kms::Client::new(&p);
    s.rt.block_on(async {
        let key = kms
            .describe_key()
            .key_id(s.env.kms_alias())
            .send()
            .await
            .unwrap();
        kms.disable_key_rotation()
            .key_id(key.key_metadata().unwrap().key_id())
            .send()
            .await
            .unwrap();
        aws_sdk_cloudtrail::Client::new(&p)
            .stop_logging()
            .name(s.env.trail_name())
            .send()
            .await
            .unwrap();
    });
    let f = failing(&s);
    for (id, what) in [("XV027", "rotation"), ("XV028", "not logging")] {
        assert!(
            f.iter()
                .any(|(i, acct, m)| i == id && acct == PRIMARY && m.contains(what)),
            "{id} {what}: {f:#?}"
        );
    }
    // moto has no DisassociateKmsKey: the log group is recreated without the key.
    s.rt.block_on(async {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&p);
        logs.delete_log_group()
            .log_group_name(s.env.log_group_name())
            .send()
            .await
            .unwrap();
        logs.create_log_group()
            .log_group_name(s.env.log_group_name())
            .send()
            .await
            .unwrap();
    });
    let (_, report, _) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    assert!(
        findings(&report)
            .iter()
            .any(|(i, _, m)| i == "XV027" && m.contains("log group")),
        "{report:#}"
    );
}

/// The render is the floor, live (issue 18): with every `[security]` control
/// on, the deployment verifies clean; then each setting the table holds and
/// each document that only `verify` reads (key policy, boundary, log bucket
/// policy) is weakened in AWS, and the next run names every one of them with
/// the audit's own check (XA050 weaker setting, XA046 CORS, XA023 new access).
#[test]
fn every_live_setting_and_document_weaker_than_the_render_is_found() {
    let (_dir, spec) = dev_spec_with("\n[security]\nkms_key = true\ncloudtrail = true\n");
    let s = setup_with(spec, Moto::start());
    let (code, report, stderr) = verify(&s.moto, &s.verifier, &s.spec, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let d = Documents::build(&s.env);
    let edit = |doc: &xacct::iam::PolicyDocument, sid: &str, f: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(&doc.to_compact_json()).unwrap();
        let st = v["Statement"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("{sid}"));
        f(st);
        v.to_string()
    };
    let key_policy = edit(
        d.kms_key_policy.as_ref().unwrap(),
        "CloudTrailEncryptsTheTrailLogs",
        &|s| {
            s["Condition"]["StringEquals"]
                .as_object_mut()
                .unwrap()
                .remove("aws:SourceArn");
        },
    );
    let boundary = edit(&d.execution_boundary, "AssumeStorageRoles", &|s| {
        s["Resource"] = Value::from("arn:aws:iam::*:role/*")
    });
    let log_bucket = s.env.phr.log_bucket.clone();
    let log_policy = edit(&d.log_bucket_policy, "CloudTrailWritesTrailLogs", &|s| {
        s["Resource"] = Value::from(format!("arn:aws:s3:::{log_bucket}/*"))
    });
    let p = s.rt.block_on(in_account(&base(&s.moto), PRIMARY));
    let env = &s.env;
    s.rt.block_on(async {
        aws_sdk_cloudtrail::Client::new(&p)
            .update_trail()
            .name(env.trail_name())
            .include_global_service_events(false)
            .send()
            .await
            .unwrap();
        let ddb = state_table_client(&p, env);
        ddb.update_continuous_backups()
            .table_name(env.state_table_name())
            .point_in_time_recovery_specification(
                aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(false)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        ddb.update_table()
            .table_name(env.state_table_name())
            .deletion_protection_enabled(false)
            .send()
            .await
            .unwrap();
        aws_sdk_cloudwatchlogs::Client::new(&p)
            .put_retention_policy()
            .log_group_name(env.log_group_name())
            .retention_in_days(1)
            .send()
            .await
            .unwrap();
        aws_sdk_lambda::Client::new(&p)
            .update_function_url_config()
            .function_name(&env.lambda.function_name)
            .cors(
                aws_sdk_lambda::types::Cors::builder()
                    .allow_origins("*")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let kms = aws_sdk_kms::Client::new(&p);
        let key = kms
            .describe_key()
            .key_id(env.kms_alias())
            .send()
            .await
            .unwrap();
        kms.put_key_policy()
            .key_id(key.key_metadata().unwrap().key_id())
            .policy_name("default")
            .policy(&key_policy)
            .send()
            .await
            .unwrap();
        aws_sdk_iam::Client::new(&p)
            .create_policy_version()
            .policy_arn(env.boundary_policy_arn())
            .policy_document(&boundary)
            .set_as_default(true)
            .send()
            .await
            .unwrap();
        s3(&p)
            .put_bucket_policy()
            .bucket(&log_bucket)
            .policy(&log_policy)
            .send()
            .await
            .unwrap();
    });
    let f = failing(&s);
    let live = |id: &str, what: &str| {
        f.iter()
            .any(|(i, a, m)| i == id && a == PRIMARY && m.starts_with("live: ") && m.contains(what))
    };
    for (id, what) in [
        ("XA050", "include_global_service_events"),
        ("XA050", "point_in_time_recovery"),
        ("XA050", "deletion_protection_enabled"),
        ("XA050", "retention_in_days"),
        ("XA046", "cors.allow_origins"),
        ("XA023", "kms"),
        ("XA023", &s.env.boundary_policy_name()),
        ("XA023", &log_bucket),
    ] {
        assert!(live(id, what), "{id} {what}: {f:#?}");
    }
}
