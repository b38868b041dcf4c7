//! `xacct adopt` against a legacy setup in moto (the seed's hand-written
//! Terraform, `support/legacy.rs`): import blocks for exactly what exists,
//! the access change with concrete requests, the seed's Lambda variables,
//! `terraform plan`/`apply` of the generated roots with the import blocks, and
//! `adopt` again on the adopted environment.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sts::config::Credentials;
use serde_json::Value;

use crate::support::fs::copy_tree;
use crate::support::legacy;
use crate::support::moto::{self, Moto};
use crate::support::terraform::{ProviderOverride, Terraform, moto_provider_override};
use crate::support::verify_deploy::{self as deploy, base, creds_in, rt};
use xacct::iam::documents::Documents;
use xacct::model::Environment;

use crate::support::cli::Out;

/// A temp copy of the dev spec and `generated/dev/`.
struct Work {
    _dir: tempfile::TempDir,
    spec: PathBuf,
    out: PathBuf,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("dev.toml");
        std::fs::copy(deploy::root().join("environments/dev.toml"), &spec).unwrap();
        let out = dir.path().join("generated");
        copy_tree(&deploy::root().join("generated/dev"), &out.join("dev"));
        Work {
            _dir: dir,
            spec,
            out,
        }
    }

    fn dev(&self) -> PathBuf {
        self.out.join("dev")
    }
}

/// The real binary as `creds`, against moto.
fn xacct(m: &Moto, creds: &Credentials, args: &[&str]) -> Out {
    crate::support::cli::xacct_as(m, creds, args)
}

fn adopt(m: &Moto, creds: &Credentials, w: &Work, extra: &[&str]) -> Out {
    let spec = w.spec.to_str().unwrap();
    let out = w.out.to_str().unwrap();
    let mut args = vec!["adopt", "--env", spec, "--out", out];
    args.extend_from_slice(extra);
    xacct(m, creds, &args)
}

fn env() -> Environment {
    deploy::load(&deploy::root().join("environments/dev.toml"))
}

/// `to` addresses of the import blocks in `file`.
fn import_addresses(file: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .filter_map(|l| l.trim().strip_prefix("to = ").map(str::to_owned))
        .collect()
}

fn set(items: &[String]) -> BTreeSet<String> {
    items.iter().cloned().collect()
}

fn storage_addresses(acct: &str) -> Vec<String> {
    vec![
        format!("module.account_{acct}.aws_iam_role.s3_bucket_manager"),
        format!("module.account_{acct}.aws_iam_policy.s3_bucket_management"),
        format!("module.account_{acct}.aws_iam_role_policy_attachment.s3_bucket_management"),
    ]
}

struct Legacy {
    moto: Moto,
    env: Environment,
    primary: Credentials,
    work: Work,
}

fn legacy() -> Legacy {
    let moto = Moto::start();
    let env = env();
    let primary = rt().block_on(async {
        legacy::build(&moto, &env).await;
        creds_in(
            &base(&moto),
            &env.primary_account,
            "OrganizationAccountAccessRole",
        )
        .await
    });
    Legacy {
        moto,
        env,
        primary,
        work: Work::new(),
    }
}

fn change<'a>(report: &'a Value, account: &str, document_starts: &str) -> &'a Value {
    report["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["account"] == account && c["document"].as_str().unwrap().starts_with(document_starts)
        })
        .unwrap_or_else(|| {
            panic!(
                "no access entry {account} {document_starts}: {:#}",
                report["access"]
            )
        })
}

#[test]
fn adopt_reports_the_access_change_and_writes_imports_for_exactly_what_exists() {
    let l = legacy();
    let (a, b) = (&l.env.storage_accounts[0], &l.env.storage_accounts[1]);
    let out = adopt(&l.moto, &l.primary, &l.work, &["--format", "json"]);
    assert_eq!(
        out.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        !out.stdout.contains(legacy::LEGACY_SECRET_KEY)
            && !out.stderr.contains(legacy::LEGACY_SECRET_KEY),
        "the PHR secret key was printed"
    );
    assert!(
        !out.stdout.contains(legacy::LEGACY_ACCESS_KEY),
        "the PHR key ID was printed"
    );
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["changes_access"], true);
    assert_eq!(r["errors"], serde_json::json!([]));

    // Import blocks: exactly what exists, per root.
    let storage = import_addresses(&l.work.dev().join("storage/terraform/imports.tf"));
    let mut want: Vec<String> = storage_addresses(a);
    want.extend(storage_addresses(b));
    assert_eq!(storage, set(&want));
    let primary = import_addresses(&l.work.dev().join("primary/terraform/imports.tf"));
    let want_primary: BTreeSet<String> = [
        "aws_iam_role.lambda_execution",
        "aws_iam_role_policy.lambda_execution",
        "aws_cloudwatch_log_group.lambda",
        "aws_lambda_function.provisioner",
        "aws_lambda_function_url.provisioner",
        "module.phr_bucket.aws_s3_bucket.this",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // moto gives every new bucket default encryption (as AWS does): imported too.
    let optional: BTreeSet<String> =
        ["module.phr_bucket.aws_s3_bucket_server_side_encryption_configuration.this".to_owned()]
            .into();
    assert!(primary.is_superset(&want_primary), "{primary:?}");
    assert!(
        primary
            .difference(&want_primary)
            .all(|x| optional.contains(x)),
        "imports of things that do not exist: {primary:?}"
    );
    let to_create: Vec<&str> = r["to_create"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        to_create.contains(&"primary/terraform: module.phr_bucket.aws_s3_bucket_policy.this"),
        "{to_create:?}"
    );
    assert!(
        to_create.contains(&"primary/terraform: aws_lambda_permission.invoke_function_url_0"),
        "{to_create:?}"
    );

    // The access change, with concrete requests.
    for acct in [a, b] {
        let perms = change(&r, acct, "S3BucketManager permissions");
        assert_eq!(perms["verdict"], "narrower", "{perms:#}");
        let removed = &perms["removed"];
        assert!(
            removed["action"].as_str().unwrap().starts_with("s3:"),
            "{removed:#}"
        );
        // The request is one the rendered policy denies: outside the prefix or not needed.
        let rendered = Documents::build(&l.env).storage_management;
        let req = xacct::audit::Counterexample {
            principal: removed["principal"].as_str().unwrap().to_owned(),
            action: removed["action"].as_str().unwrap().to_owned(),
            resource: removed["resource"].as_str().unwrap().to_owned(),
            context: Default::default(),
        }
        .request();
        let named = [xacct::eval::Named::identity("rendered", &rendered)];
        assert!(
            !xacct::eval::evaluate(&named, &req).allowed(),
            "{removed:#}"
        );
        assert_eq!(perms["removed_by"]["Action"], "s3:*", "{perms:#}");
        let trust = change(&r, acct, "S3BucketManager trust");
        assert_eq!(trust["verdict"], "narrower", "{trust:#}");
        assert!(
            trust["removed"]["principal"]
                .as_str()
                .unwrap()
                .starts_with(&format!("arn:aws:iam::{}:", l.env.primary_account)),
            "{trust:#}"
        );
    }
    let lt = change(
        &r,
        &l.env.primary_account,
        &format!("{} trust", l.env.lambda_role_name()),
    );
    assert_eq!(lt["verdict"], "narrower", "{lt:#}");
    let phr = change(&r, &l.env.primary_account, "bucket policy of");
    assert!(
        matches!(phr["verdict"].as_str(), Some("wider") | Some("both")),
        "{phr:#}"
    );

    // What xacct does not manage, and that applying leaves it.
    let unmanaged = r["unmanaged"].as_array().unwrap();
    assert!(
        unmanaged.iter().any(|u| u["account"] == b.as_str()
            && u["name"].as_str().unwrap().ends_with(legacy::EXTRA_POLICY)
            && u["on_apply"] == "left"),
        "{unmanaged:#?}"
    );
    assert!(
        unmanaged.iter().any(|u| u["kind"] == "function permission"
            && u["name"]
                .as_str()
                .unwrap()
                .ends_with(legacy::EXTRA_PERMISSION)),
        "{unmanaged:#?}"
    );

    // The seed's Lambda variables: mapped, the maximum disagrees, keys flagged.
    let cfg = &r["lambda_configuration"];
    assert_eq!(cfg["seed_names"], true);
    let var = |n: &str| {
        cfg["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == n)
            .unwrap_or_else(|| panic!("{n}: {cfg:#}"))
            .clone()
    };
    assert_eq!(var("max_buckets_per_account")["status"], "differs");
    assert_eq!(
        var("max_buckets_per_account")["xacct_name"],
        "AMBRA_MAX_BUCKETS_PER_ACCOUNT"
    );
    assert_eq!(var("ambra_storage_accounts")["status"], "agrees");
    assert_eq!(var("ambra_phr_bucket")["status"], "agrees");
    assert_eq!(var("ambra_phr_cred_secret_key")["status"], "secret");
    assert_eq!(var("ambra_phr_cred_secret_key")["value"], Value::Null);
    assert!(
        cfg["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().contains("ambra_phr_cred_access_key"))
    );

    // Idempotent: the same files again, nothing rewritten.
    let before =
        std::fs::read_to_string(l.work.dev().join("storage/terraform/imports.tf")).unwrap();
    let again = adopt(&l.moto, &l.primary, &l.work, &[]);
    assert_eq!(again.code, 1, "{}", again.stdout);
    assert!(again.stdout.contains("is up to date"), "{}", again.stdout);
    assert!(again.stdout.contains("NARROWER"), "{}", again.stdout);
    assert_eq!(
        before,
        std::fs::read_to_string(l.work.dev().join("storage/terraform/imports.tf")).unwrap()
    );
    // render --check does not call the files orphans.
    let check = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args([
            "render",
            "--check",
            "--env",
            l.work.spec.to_str().unwrap(),
            "--out",
            l.work.out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout).into_owned()
        + &String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{text}");
    assert!(
        text.contains("imports.tf"),
        "render --check names the adopt files: {text}"
    );

    // --clean removes exactly adopt's files.
    let clean = adopt(&l.moto, &l.primary, &l.work, &["--clean"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(!l.work.dev().join("storage/terraform/imports.tf").exists());
    assert!(!l.work.dev().join("primary/terraform/imports.tf").exists());
    assert!(!l.work.dev().join(".xacct-adopt").exists());
    assert!(l.work.dev().join("storage/terraform/main.tf").exists());
}

#[test]
fn adopt_of_an_adopted_environment_changes_no_access() {
    let moto = Moto::start();
    let env = env();
    let creds = rt().block_on(async {
        deploy::deploy(&moto, &env).await;
        let b = base(&moto);
        let c = deploy::in_account(&b, &env.primary_account).await;
        legacy::bootstrap_role(&c, &env.primary_account).await;
        // (`deploy` created the function's log group, as the stack does.)
        creds_in(&b, &env.primary_account, "OrganizationAccountAccessRole").await
    });
    let w = Work::new();
    let out = adopt(&moto, &creds, &w, &["--format", "json"]);
    let r: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    assert_eq!(out.code, 0, "{:#}", r);
    assert_eq!(r["changes_access"], false);
    assert!(
        r["access"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "equivalent")
    );
    assert!(!r["access"].as_array().unwrap().is_empty());
    assert_eq!(r["lambda_configuration"]["seed_names"], false);
}

// ------------------------------------------------------------ terraform side

fn prepared(moto: &Moto, env: &Environment, dir: &Path, root: &str) -> Terraform {
    let tf = Terraform::new(dir.join(root));
    let providers: Vec<ProviderOverride> = if root.starts_with("storage") {
        env.storage_accounts
            .iter()
            .map(|a| ProviderOverride {
                alias: Some(format!("account_{a}")),
                assume_role_arn: None,
            })
            .collect()
    } else {
        vec![ProviderOverride {
            alias: None,
            assume_role_arn: Some(format!(
                "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
                env.primary_account
            )),
        }]
    };
    let hcl = moto_provider_override(
        &moto.endpoint,
        moto::ACCESS_KEY,
        moto::SECRET_KEY,
        &providers,
    );
    tf.write_override("xacct_test_override.tf", &hcl);
    tf.init();
    // S3 Control (account-level Block Public Access) puts the account before the
    // endpoint's host: the proxy sends those requests to moto (see terraform_moto).
    let proxy = crate::support::terraform::host_prefix_proxy(&moto.endpoint);
    tf.envs(moto.env())
        .envs([("HTTP_PROXY", proxy.clone()), ("http_proxy", proxy)])
}

/// `(address, actions, importing)` of every resource change in a plan.
fn changes(plan: &Value) -> Vec<(String, Vec<String>, bool)> {
    plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_owned(),
                c["change"]["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect(),
                !c["change"]["importing"].is_null(),
            )
        })
        .collect()
}

#[test]
fn terraform_imports_the_legacy_setup_and_applies_the_rendered_state() {
    let l = legacy();
    let out = adopt(&l.moto, &l.primary, &l.work, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let docs = Documents::build(&l.env);

    // Storage root: the plan imports every existing resource and creates none of them.
    let tf = prepared(&l.moto, &l.env, &l.work.dev(), "storage/terraform");
    let imported = import_addresses(&l.work.dev().join("storage/terraform/imports.tf"));
    let plan = tf.show_plan_json(&[]);
    let ch = changes(&plan);
    for addr in &imported {
        let (_, actions, importing) = ch
            .iter()
            .find(|(a, _, _)| a == addr)
            .unwrap_or_else(|| panic!("{addr} not in the plan: {ch:?}"));
        assert!(importing, "{addr} is not imported: {ch:?}");
        assert!(
            actions.iter().all(|a| a == "no-op" || a == "update"),
            "{addr}: {actions:?}"
        );
    }
    // Nothing is deleted, and the only resource created is the account-level Block
    // Public Access that the legacy setup lacks (a new control; putting it is idempotent).
    assert!(
        ch.iter().all(|(addr, a, _)| {
            !a.iter().any(|x| x == "delete")
                && (!a.iter().any(|x| x == "create")
                    || addr.ends_with("aws_s3_account_public_access_block.this"))
        }),
        "storage plan creates or deletes: {ch:?}"
    );
    tf.apply(&[], None);

    // Primary root.
    let tfp = prepared(&l.moto, &l.env, &l.work.dev(), "primary/terraform");
    let zip = tfp.scratch().join("bootstrap.zip");
    std::fs::write(&zip, deploy::dummy_zip()).unwrap();
    let zip_arg = zip.to_str().unwrap().to_owned();
    let vars = [("lambda_zip", zip_arg.as_str())];
    let imported = import_addresses(&l.work.dev().join("primary/terraform/imports.tf"));
    let ch = changes(&tfp.show_plan_json(&vars));
    for addr in &imported {
        let (_, actions, importing) = ch
            .iter()
            .find(|(a, _, _)| a == addr)
            .unwrap_or_else(|| panic!("{addr} not in the plan: {ch:?}"));
        assert!(importing, "{addr} is not imported: {ch:?}");
        assert!(
            actions.iter().all(|a| a == "no-op" || a == "update"),
            "{addr}: {actions:?}"
        );
    }
    assert!(
        ch.iter().all(|(_, a, _)| !a.iter().any(|x| x == "delete")),
        "primary plan deletes: {ch:?}"
    );
    tfp.apply(&vars, None);

    // Read back: the rendered documents are in place.
    rt().block_on(async {
        let b = base(&l.moto);
        for acct in &l.env.storage_accounts {
            let c = deploy::in_account(&b, acct).await;
            let iam = aws_sdk_iam::Client::new(&c);
            let s = xacct::adopt::read::role(&iam, "S3BucketManager")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(s.trust, docs.storage_trust, "trust in {acct}");
            let arn = format!("arn:aws:iam::{acct}:policy/S3BucketManagement");
            let (_, doc) = s
                .attached
                .iter()
                .find(|(a, _)| *a == arn)
                .expect("S3BucketManagement attached");
            assert_eq!(
                *doc, docs.storage_management,
                "S3BucketManagement in {acct}"
            );
        }
        let c = deploy::in_account(&b, &l.env.primary_account).await;
        let iam = aws_sdk_iam::Client::new(&c);
        let r = xacct::adopt::read::role(&iam, &l.env.lambda_role_name())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.trust, docs.lambda_trust);
        let inline = format!("{}-permissions", l.env.lambda.function_name);
        assert_eq!(
            r.inline.iter().find(|(n, _)| *n == inline).map(|(_, d)| d),
            Some(&docs.lambda_execution)
        );
        let lambda = aws_sdk_lambda::Client::new(&c);
        let f = lambda
            .get_function_configuration()
            .function_name(&l.env.lambda.function_name)
            .send()
            .await
            .unwrap();
        let vars = f
            .environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default();
        assert!(
            !vars.contains_key("ambra_phr_cred_secret_key"),
            "the legacy key is still set"
        );
        assert_eq!(
            vars.get("AMBRA_MAX_BUCKETS_PER_ACCOUNT")
                .map(String::as_str),
            Some("1000")
        );
    });

    // adopt again: the import blocks now describe managed resources. The one access
    // change left is the documented Terraform gap (issue 22, docs/runtime.md): provider
    // 5.x cannot hold an invoker's lambda:InvokeFunction to the function URL, so the
    // applied grant is plain and the render (with InvokedViaFunctionUrl) still narrows
    // it. Nothing else differs.
    let again = adopt(&l.moto, &l.primary, &l.work, &["--format", "json"]);
    let r: Value = serde_json::from_str(&again.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", again.stdout, again.stderr));
    let changed: Vec<&Value> = r["access"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] != "equivalent")
        .collect();
    assert_eq!(changed.len(), 1, "{:#}", r["access"]);
    let msg = changed[0]["message"].as_str().unwrap();
    assert!(
        changed[0]["document"]
            .as_str()
            .unwrap()
            .contains("resource policy (who may invoke it)")
            && msg.contains("applying removes access")
            && msg.contains("lambda:InvokeFunction")
            && !msg.contains("applying adds access"),
        "{:#}",
        r["access"]
    );
    // What adopt listed as unmanaged is still there (applying left it).
    assert_eq!(
        r["unmanaged"].as_array().unwrap().len(),
        2,
        "{:#}",
        r["unmanaged"]
    );

    // docs/adopt.md's last steps: remove what adopt listed as left, then verify is clean.
    rt().block_on(async {
        let b = base(&l.moto);
        let c = deploy::in_account(&b, &l.env.storage_accounts[1]).await;
        aws_sdk_iam::Client::new(&c)
            .delete_role_policy()
            .role_name("S3BucketManager")
            .policy_name(legacy::EXTRA_POLICY)
            .send()
            .await
            .unwrap();
        let c = deploy::in_account(&b, &l.env.primary_account).await;
        aws_sdk_lambda::Client::new(&c)
            .remove_permission()
            .function_name(&l.env.lambda.function_name)
            .statement_id(legacy::EXTRA_PERMISSION)
            .send()
            .await
            .unwrap();
    });
    let spec = l.work.spec.to_str().unwrap();
    let v = xacct(
        &l.moto,
        &l.primary,
        &["verify", "--env", spec, "--format", "json"],
    );
    // Clean but for the documented Terraform gap (issue 22): provider 5.x applied
    // the invokers' lambda:InvokeFunction without InvokedViaFunctionUrl, which verify
    // reports (XV071, and the function policy differs from the render: XV013, XA023).
    let report: Value =
        serde_json::from_str(&v.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", v.stdout, v.stderr));
    let ids: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.iter()
            .all(|id| ["XV071", "XV013", "XA023"].contains(id))
            && ids.contains("XV071"),
        "verify after adoption:\n{}\n{}",
        v.stdout,
        v.stderr
    );
    let clean = adopt(&l.moto, &l.primary, &l.work, &["--clean"]);
    assert_eq!(clean.code, 0);
}

// ------------------------------------------------------- offline: CloudFormation

/// The file of `generated/dev/` that declares `address`'s resource, and the
/// resource line: `module.account_X.aws_iam_role.s3_bucket_manager` ->
/// `modules/storage-account/main.tf`, `resource "aws_iam_role" "s3_bucket_manager"`.
fn declared(dev: &Path, root: &str, address: &str) -> bool {
    let parts: Vec<&str> = address.split('.').collect();
    let (file, rest) = match parts.as_slice() {
        ["module", m, "module", "phr_bucket[0]", rest @ ..] => {
            assert!(
                std::fs::read_to_string(dev.join(root).join("main.tf"))
                    .unwrap()
                    .contains(&format!("module \"{m}\""))
            );
            (dev.join("modules/phr-bucket/main.tf"), rest.to_vec())
        }
        ["module", "phr_bucket", rest @ ..] => {
            (dev.join("modules/phr-bucket/main.tf"), rest.to_vec())
        }
        ["module", m, rest @ ..] => {
            assert!(
                std::fs::read_to_string(dev.join(root).join("main.tf"))
                    .unwrap()
                    .contains(&format!("module \"{m}\"")),
                "{m}"
            );
            (dev.join("modules/storage-account/main.tf"), rest.to_vec())
        }
        rest => (dev.join(root).join("main.tf"), rest.to_vec()),
    };
    let [ty, name] = rest.as_slice() else {
        panic!("{address}")
    };
    std::fs::read_to_string(file)
        .unwrap()
        .contains(&format!("resource \"{ty}\" \"{name}\" {{"))
}

/// A report as if every rendered resource existed (no AWS).
fn everything(env: &Environment) -> xacct::adopt::Report {
    let docs = Documents::build(env);
    let p = xacct::adopt::everything_primary(env, &docs);
    let s: Vec<_> = env
        .storage_accounts
        .iter()
        .map(|a| xacct::adopt::everything_storage(env, a))
        .collect();
    xacct::adopt::build(env, &docs, Some(&p), &s)
}

#[test]
fn every_import_address_and_logical_id_is_a_rendered_resource() {
    for short in ["dev", "uat", "prod"] {
        let env = deploy::load(&deploy::root().join(format!("environments/{short}.toml")));
        let dev = deploy::root().join("generated").join(short);
        let r = everything(&env);
        assert!(r.to_create.is_empty(), "{:?}", r.to_create);
        assert!(
            !r.changes_access,
            "{short}: rendered documents against themselves: {:#?}",
            r.access
        );
        for i in &r.imports {
            assert!(
                declared(&dev, i.root, &i.address),
                "{short}: {} is not declared in generated/{short}",
                i.address
            );
            if let Some(c) = &i.cloudformation {
                let t = if i.root.starts_with("primary") {
                    "primary/cloudformation/primary.yaml"
                } else {
                    "storage/cloudformation/storage-account.yaml"
                };
                let text = std::fs::read_to_string(dev.join(t)).unwrap();
                let block: String = text
                    .split(&format!("\n  {}:\n", c.logical_id))
                    .nth(1)
                    .unwrap_or_else(|| panic!("{short}: {} not in {t}", c.logical_id))
                    .split("\n\n")
                    .next()
                    .unwrap()
                    .to_owned();
                assert!(
                    block.contains(&format!("Type: {}", c.resource_type)),
                    "{block}"
                );
                assert!(
                    block.contains("DeletionPolicy: Retain")
                        && block.contains("UpdateReplacePolicy: Retain"),
                    "{short}: {} needs Retain for an import:\n{block}",
                    c.logical_id
                );
            }
        }
    }
}

#[test]
fn cloudformation_import_files_and_commands() {
    let env = env();
    let mut r = everything(&env);
    let dir = tempfile::tempdir().unwrap();
    let files = xacct::adopt::files(&env, &mut r, Path::new("generated/dev")).unwrap();
    let a = &env.storage_accounts[0];
    let stack = r.cloudformation.iter().find(|c| c.account == *a).unwrap();
    assert_eq!(
        stack.commands[0],
        format!(
            "aws cloudformation create-change-set --stack-name xacct-dev-storage --change-set-name xacct-adopt --change-set-type IMPORT --resources-to-import file://generated/dev/storage/cloudformation/import/{a}.json --template-body file://generated/dev/storage/cloudformation/import/template-{a}.yaml --parameters file://generated/dev/storage/cloudformation/parameters/{a}.json --capabilities CAPABILITY_NAMED_IAM --region us-east-1"
        )
    );
    assert_eq!(
        stack.commands[1],
        "aws cloudformation execute-change-set --stack-name xacct-dev-storage --change-set-name xacct-adopt --region us-east-1"
    );
    assert!(stack.commands[2].starts_with("aws cloudformation deploy --stack-name xacct-dev-storage --template-file generated/dev/storage/cloudformation/storage-account.yaml"));
    let res: Value = serde_json::from_str(
        &files
            .iter()
            .find(|f| f.path == Path::new(&format!("storage/cloudformation/import/{a}.json")))
            .unwrap()
            .contents,
    )
    .unwrap();
    assert_eq!(
        res,
        serde_json::json!([
            {"ResourceType": "AWS::IAM::Role", "LogicalResourceId": "S3BucketManager", "ResourceIdentifier": {"RoleName": "S3BucketManager"}},
            {"ResourceType": "AWS::IAM::ManagedPolicy", "LogicalResourceId": "S3BucketManagement", "ResourceIdentifier": {"PolicyArn": format!("arn:aws:iam::{a}:policy/S3BucketManagement")}},
        ])
    );
    let primary = r
        .cloudformation
        .iter()
        .find(|c| c.account == env.primary_account)
        .unwrap();
    let ids: BTreeSet<&str> = primary
        .resources
        .iter()
        .map(|c| c.logical_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "ExecutionRole",
            "LogGroup",
            "Function",
            "FunctionUrl",
            "PhrBucket",
            "PhrBucketPolicy"
        ]
        .into()
    );
    assert!(
        primary.commands[0].contains("--stack-name xacct-dev-primary")
            && primary.commands[0].contains("--change-set-type IMPORT")
    );

    // The import templates hold exactly the imported resources, and pass cfn-lint.
    let mut templates = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.path.extension().is_some_and(|e| e == "yaml"))
    {
        let p = dir.path().join(f.path.file_name().unwrap());
        std::fs::write(&p, &f.contents).unwrap();
        assert!(
            !f.contents.contains("Type: AWS::Lambda::Permission"),
            "{}",
            f.contents
        );
        assert!(!f.contents.contains("Outputs:"), "{}", f.contents);
        templates.push(p);
    }
    assert_eq!(templates.len(), 3);
    crate::generated_static::cfn_lint(&templates).unwrap_or_else(|e| panic!("{e}"));

    // A function whose role does not exist yet cannot be imported in this step.
    let docs = Documents::build(&env);
    let mut p = xacct::adopt::everything_primary(&env, &docs);
    p.role = None;
    let mut r = xacct::adopt::build(&env, &docs, Some(&p), &[]);
    xacct::adopt::files(&env, &mut r, Path::new("generated/dev")).unwrap();
    let primary = &r.cloudformation[0];
    assert!(
        primary.not_importable.contains(&"Function".to_owned()),
        "{primary:#?}"
    );
    assert!(!primary.resources.iter().any(|c| c.logical_id == "Function"));
}

// ------------------------------------------------------------ init --from-function

#[test]
fn init_from_the_legacy_function_names_what_needs_a_human_then_validates() {
    let l = legacy();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.toml");
    let spec_s = spec.to_str().unwrap();
    let f = l.env.lambda.function_name.as_str();
    let out = xacct(
        &l.moto,
        &l.primary,
        &["init", "--from-function", f, "--out", spec_s],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    for field in [
        "storage.bucket_prefix",
        "lambda.log_retention_days",
        "access.invoker_principals",
        "access.reader_principals",
    ] {
        assert!(
            out.stdout.contains(&format!("needs a human: `{field}`")),
            "{field}: {}",
            out.stdout
        );
    }
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(!text.contains(legacy::LEGACY_SECRET_KEY) && !text.contains(legacy::LEGACY_ACCESS_KEY));
    assert!(text.contains("max_buckets_per_account = 500  # from the function's variable `max_buckets_per_account`"), "{text}");
    assert!(
        text.contains("primary_account = \"100000000001\"  # from the caller"),
        "{text}"
    );

    // Without --force an existing file is kept.
    let again = xacct(
        &l.moto,
        &l.primary,
        &["init", "--from-function", f, "--out", spec_s],
    );
    assert_eq!(again.code, 2, "{}{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);

    // With customer buckets, a log retention, a URL invoker and a reader on the
    // PHR bucket, everything is inferred and the spec validates.
    let invoker = &l.env.invokers[0];
    let reader = &l.env.readers[0];
    rt().block_on(async {
        let b = base(&l.moto);
        let s = deploy::s3(&deploy::in_account(&b, &l.env.storage_accounts[0]).await);
        for n in ["ambra-dev-acme", "ambra-dev-beta"] {
            s.create_bucket().bucket(n).send().await.unwrap();
        }
        let c = deploy::in_account(&b, &l.env.primary_account).await;
        aws_sdk_cloudwatchlogs::Client::new(&c)
            .put_retention_policy()
            .log_group_name(l.env.log_group_name())
            .retention_in_days(30)
            .send()
            .await
            .unwrap();
        aws_sdk_lambda::Client::new(&c)
            .add_permission()
            .function_name(f)
            .statement_id("AllowV3Services")
            .action("lambda:InvokeFunctionUrl")
            .principal(invoker)
            .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
            .send()
            .await
            .unwrap();
        deploy::s3(&c)
            .put_bucket_policy()
            .bucket(&l.env.phr.bucket)
            .policy(format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{reader}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{}/*"}}]}}"#, l.env.phr.bucket))
            .send()
            .await
            .unwrap();
    });
    let out = xacct(
        &l.moto,
        &l.primary,
        &["init", "--from-function", f, "--out", spec_s, "--force"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let got = deploy::load(&spec);
    assert_eq!(got.storage_accounts, l.env.storage_accounts);
    assert_eq!(got.max_buckets_per_account, 500);
    assert_eq!(got.bucket_prefix, "ambra-dev");
    assert_eq!(
        (got.phr.account.as_str(), got.phr.bucket.as_str()),
        (l.env.phr.account.as_str(), l.env.phr.bucket.as_str())
    );
    assert_eq!(got.invokers, vec![invoker.clone()]);
    assert_eq!(got.readers, vec![reader.clone()]);
    assert_eq!(
        (
            got.name.as_str(),
            got.short_name.as_str(),
            got.region.as_str()
        ),
        ("development", "dev", "us-east-1")
    );
    assert_eq!(got.lambda.function_name, f);
}

#[test]
fn onboard_adopt_import_request_holds_exactly_the_existing_storage_resources() {
    let env = env();
    let acct = "100000000004";
    let template = std::fs::read_to_string(
        deploy::root().join("generated/dev/storage/cloudformation/storage-account.yaml"),
    )
    .unwrap();
    let mut s = xacct::adopt::everything_storage(&env, acct);
    let req = xacct::adopt::onboard::import_request(&env, &template, &s).unwrap();
    assert_eq!(
        (req.stack.as_str(), req.change_set.as_str()),
        ("xacct-dev-storage", "xacct-adopt")
    );
    let sdk = xacct::adopt::onboard::resources_to_import(&req);
    type Entry = (String, String, Vec<(String, String)>);
    let got: Vec<Entry> = sdk
        .iter()
        .map(|r| {
            let mut id: Vec<(String, String)> = r
                .resource_identifier()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            id.sort();
            (
                r.resource_type().unwrap().to_owned(),
                r.logical_resource_id().unwrap().to_owned(),
                id,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "AWS::IAM::Role".into(),
                "S3BucketManager".into(),
                vec![("RoleName".into(), "S3BucketManager".into())]
            ),
            (
                "AWS::IAM::ManagedPolicy".into(),
                "S3BucketManagement".into(),
                vec![(
                    "PolicyArn".into(),
                    format!("arn:aws:iam::{acct}:policy/S3BucketManagement")
                )]
            ),
        ]
    );
    assert!(
        req.template.contains("  S3BucketManager:\n")
            && req.template.contains("  S3BucketManagement:\n")
    );
    assert!(!req.template.contains("Outputs:"));
    // Only the role: the import template holds the role alone.
    s.policy = None;
    let req = xacct::adopt::onboard::import_request(&env, &template, &s).unwrap();
    assert_eq!(req.resources.len(), 1);
    assert!(!req.template.contains("S3BucketManagement:"));
    // Only the policy: it names the role, which does not exist, so it cannot be imported.
    let mut s = xacct::adopt::everything_storage(&env, acct);
    s.role = None;
    assert_eq!(
        xacct::adopt::onboard::import_request(&env, &template, &s),
        None
    );
}

#[test]
fn a_function_under_another_role_is_compared_and_its_role_left() {
    let env = env();
    let docs = Documents::build(&env);
    let mut p = xacct::adopt::everything_primary(&env, &docs);
    let legacy_arn = format!("arn:aws:iam::{}:role/legacy-lambda", env.primary_account);
    p.role = None;
    p.function.as_mut().unwrap().role = legacy_arn.clone();
    p.function_role = Some(xacct::adopt::read::RoleState {
        name: "legacy-lambda".into(),
        arn: legacy_arn.clone(),
        trust: docs.lambda_trust.clone(),
        inline: vec![(
            "all".into(),
            xacct::iam::PolicyDocument::from_json(legacy::WIDE_S3).unwrap(),
        )],
        attached: vec![],
    });
    let r = xacct::adopt::build(&env, &docs, Some(&p), &[]);
    assert!(
        !r.imports
            .iter()
            .any(|i| i.address == "aws_iam_role.lambda_execution")
    );
    assert!(
        r.to_create
            .contains(&"primary/terraform: aws_iam_role.lambda_execution".to_owned())
    );
    let c = r
        .access
        .iter()
        .find(|c| c.document.starts_with("the function's permissions"))
        .expect("compared");
    // s3:* today, sts:AssumeRole and logs after apply: both ways.
    assert_eq!(c.verdict, xacct::adopt::Verdict::Both, "{c:#?}");
    assert!(
        c.removed.as_ref().unwrap().action.starts_with("s3:"),
        "{c:#?}"
    );
    let u = r
        .unmanaged
        .iter()
        .find(|u| u.kind == "execution role")
        .expect("listed");
    assert_eq!((u.name.as_str(), u.on_apply), (legacy_arn.as_str(), "left"));
    assert!(r.changes_access);
}

#[test]
fn seed_variables_name_accounts_missing_from_the_spec() {
    let env = env();
    let mut vars = std::collections::BTreeMap::new();
    vars.insert(
        "ambra_storage_accounts".to_owned(),
        "100000000002,100000000003,100000000009".to_owned(),
    );
    vars.insert("max_buckets_per_account".to_owned(), "1000".to_owned());
    let c = xacct::adopt::seed::compare(&env, &vars);
    assert!(c.seed_names);
    let v = c
        .variables
        .iter()
        .find(|v| v.name == "ambra_storage_accounts")
        .unwrap();
    assert_eq!(v.status, "differs");
    assert!(
        c.findings
            .iter()
            .any(|f| f.contains("missing from the spec: [\"100000000009\"]")),
        "{:?}",
        c.findings
    );
    assert_eq!(
        c.variables
            .iter()
            .find(|v| v.name == "max_buckets_per_account")
            .unwrap()
            .status,
        "agrees"
    );
}

#[test]
fn render_check_fails_on_imports_into_an_account_the_spec_no_longer_lists() {
    let w = Work::new();
    let dev = w.dev();
    std::fs::write(
        dev.join(".xacct-adopt"),
        "# adopt\nstorage/terraform/imports.tf\n",
    )
    .unwrap();
    std::fs::write(
        dev.join("storage/terraform/imports.tf"),
        "import {\n  to = module.account_100000000009.aws_iam_role.s3_bucket_manager\n  id = \"S3BucketManager\"\n}\n",
    )
    .unwrap();
    let check = || {
        let o = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .args([
                "render",
                "--check",
                "--env",
                w.spec.to_str().unwrap(),
                "--out",
                w.out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (code, out) = check();
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("stale:") && out.contains("100000000009") && out.contains("xacct adopt"),
        "{out}"
    );
    // A current one is only named; render never removes it.
    std::fs::write(
        dev.join("storage/terraform/imports.tf"),
        "import {\n  to = module.account_100000000002.aws_iam_role.s3_bucket_manager\n  id = \"S3BucketManager\"\n}\n",
    )
    .unwrap();
    let (code, out) = check();
    assert_eq!(code, Some(0), "{out}");
    let o = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args([
            "render",
            "--env",
            w.spec.to_str().unwrap(),
            "--out",
            w.out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(dev.join("storage/terraform/imports.tf").exists());
}
