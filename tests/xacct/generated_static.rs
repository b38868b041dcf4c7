//! Static checks of the committed `generated/` tree with the real tools:
//! `terraform fmt -check`, an offline `terraform init` from the local provider
//! mirror and `terraform validate` for every root of every environment, and
//! `cfn-lint` (errors only) for every CloudFormation template.
//!
//! Every environment in `environments/` is covered without listing it here.
//! Each check runs on a private copy (see `support/terraform.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::support::terraform::Terraform;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Short names of every environment, from `environments/*.toml` through the model.
fn environments() -> Vec<String> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(repo().join("environments"))
        .expect("read environments/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no environment specs in environments/");
    specs
        .iter()
        .map(|p| {
            xacct::model::Environment::load(p, Default::default())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .env
                .short_name
        })
        .collect()
}

/// fmt -check, offline init and validate of `generated/<env>/<root>` for every env.
fn check_root(root: &str) {
    let mut timings = Vec::new();
    for env in environments() {
        let dir = repo().join("generated").join(&env).join(root);
        assert!(
            dir.is_dir(),
            "{} is missing: run `cargo run -- render --all`",
            dir.display()
        );
        let started = Instant::now();
        let tf = Terraform::new(&dir);
        tf.fmt_check();
        tf.init();
        tf.validate();
        timings.push(format!("{env}/{root}: {:.1?}", started.elapsed()));
    }
    eprintln!("fmt+init+validate: {}", timings.join(", "));
}

#[test]
fn primary_terraform_roots_are_formatted_and_valid() {
    check_root("primary/terraform");
}

#[test]
fn storage_terraform_roots_are_formatted_and_valid() {
    check_root("storage/terraform");
}

const CFN_LINT_HINT: &str =
    "cfn-lint is required for this test: install it with `pip install cfn-lint` (see .ci/run)";

fn cfn_templates(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read generated/").flatten() {
        let p = entry.path();
        if p.is_dir() {
            cfn_templates(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && p.components().any(|c| c.as_os_str() == "cloudformation")
        {
            out.push(p);
        }
    }
}

/// Runs cfn-lint on `templates`; `Err` carries its findings when it reports an error.
/// Warnings and informational findings do not fail (`--non-zero-exit-code error`).
fn cfn_lint(templates: &[PathBuf]) -> Result<String, String> {
    let bin = std::env::var("XACCT_CFN_LINT").unwrap_or_else(|_| "cfn-lint".to_owned());
    let version = Command::new(&bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{bin}`: {e}. {CFN_LINT_HINT}"));
    assert!(
        version.status.success(),
        "`{bin} --version` failed. {CFN_LINT_HINT}"
    );
    let out = Command::new(&bin)
        .args([
            "--non-zero-exit-code",
            "error",
            "--format",
            "parseable",
            "--",
        ])
        .args(templates)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{bin}`: {e}. {CFN_LINT_HINT}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("cfn-lint exited with {}:\n{text}", out.status))
    }
}

#[test]
fn cloudformation_templates_pass_cfn_lint() {
    let mut templates = Vec::new();
    cfn_templates(&repo().join("generated"), &mut templates);
    templates.sort();
    for env in &environments() {
        for part in ["primary", "storage"] {
            assert!(
                templates
                    .iter()
                    .any(|t| t.starts_with(repo().join("generated").join(env).join(part))),
                "no {part} CloudFormation template for {env} under generated/"
            );
        }
    }
    let started = Instant::now();
    match cfn_lint(&templates) {
        Ok(findings) => eprintln!(
            "cfn-lint: {} templates in {:.1?}; non-error findings:\n{findings}",
            templates.len(),
            started.elapsed()
        ),
        Err(e) => panic!("cfn-lint found errors in generated/: {e}"),
    }
}

/// The checks above can fail: a broken template, an unformatted or invalid
/// root are rejected, and the committed tree is never written to.
#[test]
fn the_checks_reject_broken_inputs() {
    let tmp = tempfile::tempdir().expect("temp dir");

    let bad_cfn = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad_cfn,
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Role:\n    Type: AWS::IAM::NoSuchThing\n    Properties: {}\n",
    )
    .expect("write bad template");
    assert!(
        cfn_lint(&[bad_cfn]).is_err(),
        "cfn-lint accepted an invalid resource type"
    );

    let root = tmp.path().join("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(
        root.join("main.tf"),
        "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n\noutput \"x\" {\n      value = var.undeclared\n}\n",
    )
    .expect("write bad root");
    let tf = Terraform::new(&root);
    assert!(
        !tf.run(&["fmt", "-check"]).success(),
        "fmt -check accepted bad indentation"
    );
    tf.init();
    assert!(
        !tf.run(&["validate"]).success(),
        "validate accepted an undeclared variable"
    );
    assert!(
        !root.join(".terraform").exists(),
        "init wrote into the source tree"
    );

    // The generated tree itself stays clean after the checks above ran on copies.
    for env in environments() {
        for part in ["primary/terraform", "storage/terraform"] {
            let dir = repo().join("generated").join(&env).join(part);
            for junk in [".terraform", ".terraform.lock.hcl", "terraform.tfstate"] {
                assert!(
                    !dir.join(junk).exists(),
                    "{} was written to",
                    dir.join(junk).display()
                );
            }
        }
    }
}
