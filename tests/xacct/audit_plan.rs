//! `xacct audit --plan` on a real `terraform show -json` of the generated dev
//! roots, planned against a moto server on 127.0.0.1 (never real AWS).
//! Terraform reads the provider from the filesystem mirror /opt/tf-plugins.

// The shared harness is not ours to edit; silence its lints here.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::terraform;

use crate::support::fs::copy_tree;
use crate::support::moto;

/// One provider override: moto endpoints, fake keys, no account lookups.
pub(crate) fn provider_override(alias: Option<&str>, endpoint: &str, services: &[&str]) -> String {
    let alias = alias
        .map(|a| format!("  alias                       = \"{a}\"\n"))
        .unwrap_or_default();
    let endpoints: String = services
        .iter()
        .map(|s| format!("    {s} = \"{endpoint}\"\n"))
        .collect();
    format!(
        "provider \"aws\" {{\n{alias}  access_key                  = \"{}\"\n  secret_key                  = \"{}\"\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  skip_metadata_api_check     = true\n  s3_use_path_style           = true\n  allowed_account_ids         = null\n  endpoints {{\n{endpoints}  }}\n}}\n",
        moto::ACCESS_KEY,
        moto::SECRET_KEY
    )
}

/// Plans of a root copied under `scratch`, against one moto server: the
/// binary, provider mirror and environment of [`crate::support::terraform`].
pub(crate) struct Tf {
    bin: PathBuf,
    cli_config: PathBuf,
    /// An empty Lambda zip for the primary root's `lambda_zip` variable.
    pub(crate) zip: PathBuf,
    pub(crate) moto: moto::Moto,
}

impl Tf {
    pub(crate) fn start(scratch: &Path) -> Tf {
        let bin = terraform::terraform_bin();
        let cli_config = scratch.join("terraform.tfrc");
        std::fs::write(
            &cli_config,
            terraform::cli_config(&terraform::provider_mirror()),
        )
        .unwrap();
        let zip = scratch.join("bootstrap.zip");
        std::fs::write(&zip, b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap();
        Tf {
            bin,
            cli_config,
            zip,
            moto: moto::Moto::start(),
        }
    }

    /// `-var=lambda_zip=<the empty zip>`.
    pub(crate) fn zip_var(&self) -> String {
        format!("-var=lambda_zip={}", self.zip.display())
    }

    fn run(&self, dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = terraform::command(&self.bin)
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .envs(self.moto.env())
            .output()
            .expect("run terraform");
        assert!(
            out.status.success(),
            "terraform {args:?} in {} failed:\n{}\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// init + plan + show -json; returns the plan JSON path.
    pub(crate) fn plan(&self, dir: &Path, extra: &[&str], json_out: &Path) {
        self.run(
            dir,
            &["init", "-input=false", "-no-color", "-backend=false"],
        );
        let mut args = vec!["plan", "-input=false", "-no-color", "-out=plan.out"];
        args.extend_from_slice(extra);
        self.run(dir, &args);
        let json = self.run(dir, &["show", "-json", "plan.out"]);
        std::fs::write(json_out, json).unwrap();
    }
}

#[test]
fn plan_of_generated_dev_roots_audits_clean_and_catches_auth_none() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(Path::new("generated/dev"), &root.join("dev"));
    let tf = Tf::start(root);
    let ep = tf.moto.endpoint.clone();

    let primary = root.join("dev/primary/terraform");
    std::fs::write(
        primary.join("zz_moto_override.tf"),
        provider_override(None, &ep, &["iam", "sts", "s3", "lambda", "logs"]),
    )
    .unwrap();
    let storage = root.join("dev/storage/terraform");
    let env =
        xacct::model::Environment::load(Path::new("environments/dev.toml"), Default::default())
            .unwrap()
            .env;
    let overrides: String = env
        .storage_accounts
        .iter()
        .map(|a| provider_override(Some(&format!("account_{a}")), &ep, &["iam", "sts", "s3"]))
        .collect();
    std::fs::write(storage.join("zz_moto_override.tf"), overrides).unwrap();

    let primary_json = root.join("primary.json");
    let storage_json = root.join("storage.json");
    let zip_var = tf.zip_var();
    tf.plan(&primary, &[&zip_var], &primary_json);
    tf.plan(&storage, &[], &storage_json);

    let plans = [primary_json.clone(), storage_json.clone()];
    // The plan holds every document the audit needs.
    let input = xacct::cmd::audit::plan_input(&plans, Some(Path::new("environments/dev.toml")))
        .expect("plan parses");
    assert!(input.lambda_trust.is_some() && input.lambda_execution.is_some());
    assert_eq!(input.storage.len(), 2);
    assert!(
        input
            .storage
            .iter()
            .all(|s| s.trust.is_some() && s.management.is_some())
    );
    // The PHR bucket's and the log bucket's (issue 15).
    assert_eq!(input.bucket_policies.len(), 2);
    assert_eq!(
        input.function_url_auth.len(),
        2,
        "{:?}",
        input.function_url_auth
    );
    let findings = xacct::audit::run(&input);
    assert!(
        findings.is_empty(),
        "{}",
        xacct::audit::report::table(&findings)
    );

    // Through the binary, with and without the spec's intent.
    let xacct = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .args(args)
            .output()
            .unwrap();
        crate::support::schema::check_run(
            args,
            out.status.code().unwrap_or(-1),
            &String::from_utf8_lossy(&out.stdout),
        );
        out
    };
    let p = primary_json.to_str().unwrap();
    let s = storage_json.to_str().unwrap();
    let out = xacct(&[
        "audit",
        "--plan",
        p,
        "--plan",
        s,
        "--env",
        "environments/dev.toml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Plan only: intent comes from the plan; dev's canary deletion is then reported.
    let out = xacct(&["audit", "--plan", p, "--plan", s, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check_id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|i| *i == "XA007"), "{ids:?}");

    // A plan whose function URL is NONE and whose Lambda carries a legacy key is caught.
    let main_tf = primary.join("main.tf");
    let text = std::fs::read_to_string(&main_tf).unwrap();
    let text = text
        .replace(r#"authorization_type = "AWS_IAM""#, r#"authorization_type = "NONE""#)
        .replace(
            "AMBRA_CAPACITY_WARN_PERCENT   = \"80\"",
            &format!(
                "AMBRA_CAPACITY_WARN_PERCENT   = \"80\"\n    AMBRA_PHR_CRED_ACCESS_KEY = \"AKIA{}\"",
                "IOSFODNN7EXAMPLE"
            ),
        );
    std::fs::write(&main_tf, text).unwrap();
    let bad_json = root.join("bad.json");
    tf.plan(&primary, &[&zip_var], &bad_json);
    let bad = xacct::cmd::audit::plan_input(
        &[bad_json, storage_json],
        Some(Path::new("environments/dev.toml")),
    )
    .unwrap();
    let ids: Vec<&str> = xacct::audit::run(&bad).iter().map(|f| f.check_id).collect();
    assert!(ids.contains(&"XA014"), "{ids:?}");
    assert!(ids.contains(&"XA018"), "{ids:?}");
}

#[test]
fn bad_plan_input_is_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("plan.json");
    std::fs::write(&f, "{not json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["audit", "--plan", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(
        &f,
        r#"{"format_version":"1.2","planned_values":{"root_module":{"resources":[{"address":"aws_iam_role.x","mode":"managed","type":"aws_iam_role","values":{"name":"x","assume_role_policy":"{\"Statement\":3}"}}]}}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["audit", "--plan", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("aws_iam_role.x"));
}

/// Plan attribute mutations of `generated/dev` (one line each: file, text,
/// replacement, expected check, address the finding names), planned together
/// with the real `terraform` and audited with the spec's intent.
#[rustfmt::skip]
const PLAN_MUTATIONS: &[(&str, &str, &str, &str, &str)] = &[
    ("modules/phr-bucket/main.tf", "restrict_public_buckets = true", "restrict_public_buckets = false", "XA042", "module.phr_bucket.aws_s3_bucket_public_access_block.this"),
    ("modules/phr-bucket/main.tf", r#"object_ownership = "BucketOwnerEnforced""#, r#"object_ownership = "ObjectWriter""#, "XA043", "module.phr_bucket.aws_s3_bucket_ownership_controls.this"),
    ("modules/phr-bucket/main.tf", r#"resource "aws_s3_bucket_server_side_encryption_configuration" "this" {"#, "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"this\" {\n  count = 0\n", "XA044", "module.phr_bucket.aws_s3_bucket.this"),
    ("modules/phr-bucket/main.tf", r#"status = "Enabled""#, r#"status = "Suspended""#, "XA045", "module.phr_bucket.aws_s3_bucket_versioning.this"),
    ("primary/terraform/main.tf", r#"authorization_type = "AWS_IAM""#, "authorization_type = \"AWS_IAM\"\n\n  cors {\n    allow_origins     = [\"*\"]\n    allow_credentials = true\n  }", "XA046", "aws_lambda_function_url.provisioner"),
    ("primary/terraform/main.tf", r#"function_url_auth_type = "AWS_IAM""#, r#"function_url_auth_type = "NONE""#, "XA048", "aws_lambda_permission.invoke_function_url_0"),
    ("primary/terraform/main.tf", "principal     = \"arn:aws:iam::100000000001:role/ambra-v3services-dev\"\n\n  # Held", "principal     = \"s3.amazonaws.com\"\n\n  # Held", "XA047", "aws_lambda_permission.invoke_function_0"),
    ("primary/terraform/main.tf", r#"module "phr_bucket" {"#, "resource \"aws_lambda_permission\" \"anyone\" {\n  statement_id  = \"Anyone\"\n  action        = \"lambda:InvokeFunction\"\n  function_name = aws_lambda_function.provisioner.function_name\n  principal     = \"*\"\n}\n\nmodule \"phr_bucket\" {", "XA047", "aws_lambda_permission.anyone"),
    ("primary/terraform/main.tf", r#"module "phr_bucket" {"#, "resource \"aws_iam_role_policy_attachment\" \"admin\" {\n  role       = aws_iam_role.lambda_execution.name\n  policy_arn = \"arn:aws:iam::aws:policy/AdministratorAccess\"\n}\n\nmodule \"phr_bucket\" {", "XA049", "aws_iam_role_policy_attachment.admin"),
];

#[test]
fn plan_attribute_mutations_are_each_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(Path::new("generated/dev"), &root.join("dev"));
    let tf = Tf::start(root);
    let primary = root.join("dev/primary/terraform");
    std::fs::write(
        primary.join("zz_moto_override.tf"),
        provider_override(
            None,
            &tf.moto.endpoint,
            &["iam", "sts", "s3", "lambda", "logs"],
        ),
    )
    .unwrap();
    for (file, from, to, _, _) in PLAN_MUTATIONS {
        let path = root.join("dev").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "`{from}` not in {file}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    let json = root.join("mutated.json");
    let zip_var = tf.zip_var();
    tf.plan(&primary, &[&zip_var], &json);
    let input = xacct::cmd::audit::plan_input(
        std::slice::from_ref(&json),
        Some(Path::new("environments/dev.toml")),
    )
    .unwrap();
    let findings = xacct::audit::run(&input);
    let table = xacct::audit::report::table(&findings);
    for (_, _, _, id, address) in PLAN_MUTATIONS {
        assert!(
            findings
                .iter()
                .any(|f| f.check_id == *id && f.resource.ends_with(address)),
            "{id} on {address} missing:\n{table}"
        );
    }
    // Through the binary: exit 1, and the plan file is the location.
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args([
            "audit",
            "--plan",
            json.to_str().unwrap(),
            "--env",
            "environments/dev.toml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::support::schema::check("audit", &v);
    assert_eq!(v["summary"]["exit_code"], 1);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check_id"] == "XA042" && f["file"] == json.display().to_string()),
        "{v}"
    );
}
