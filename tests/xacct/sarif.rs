//! SARIF that GitHub code scanning can place (issue 14): every log `xacct audit`
//! writes (`--env`, `--template`, `--plan`) passes the official SARIF 2.1.0
//! schema and code scanning's requirements (`support::sarif`), and its results
//! sit on the line of the file that holds the problem, relative to the
//! repository root, whatever the current directory and however the paths are
//! given, with fingerprints that survive a re-run and a shifted line.
//! Verify's SARIF is checked against moto in `verify.rs`.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::cli;
use crate::support::fs::copy_tree;
use crate::support::sarif::{self, fingerprints, placed};

/// A temporary repository: `.git/`, `environments/dev.toml`, `generated/dev/`.
struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("environments")).unwrap();
        std::fs::copy(
            crate::repo().join("environments/dev.toml"),
            root.join("environments/dev.toml"),
        )
        .unwrap();
        copy_tree(
            &crate::repo().join("generated/dev"),
            &root.join("generated/dev"),
        );
        Repo { _dir: dir, root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn s(&self, rel: &str) -> String {
        self.path(rel).display().to_string()
    }

    /// Replaces the first `from` in `rel`; returns the 1-based line of `to`.
    fn edit(&self, rel: &str, from: &str, to: &str) -> u64 {
        let p = self.path(rel);
        let text = crate::read(&p);
        assert!(text.contains(from), "`{from}` not in {rel}");
        let text = text.replacen(from, to, 1);
        std::fs::write(&p, &text).unwrap();
        line_of(&text, to.lines().next().unwrap_or(to))
    }
}

fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not found")) as u64
        + 1
}

fn xacct_in(cwd: &Path, args: &[&str]) -> Output {
    cli::output(&mut cli::command(args, Some(cwd), cli::Env::Inherit))
}

/// An AWS-secret-shaped value (built, so no secret-looking literal is committed).
fn secret() -> String {
    format!("wJalrXUtnFEMI/K7MDENG/{}", "bPxRfiCYEXAMPLEKEY")
}

fn rule<'a>(doc: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("rule {id} missing"))
}

const TFVARS: &str = "generated/dev/primary/terraform/terraform.tfvars";
const PHR_POLICY: &str = "generated/dev/policies/phr-bucket-policy.json";

#[test]
fn audit_env_places_results_in_the_committed_files_from_any_directory() {
    let repo = Repo::new();
    // A secret in the committed tfvars (XA018, and XA040: it differs from the render).
    let tfvars = repo.path(TFVARS);
    let mut text = crate::read(&tfvars);
    text.push_str(&format!("aws_secret_access_key = \"{}\"\n", secret()));
    std::fs::write(&tfvars, &text).unwrap();
    let secret_line = text.lines().count() as u64;
    // A reader statement of the PHR bucket policy opened to everyone.
    repo.edit(
        PHR_POLICY,
        r#""AWS": "arn:aws:iam::100000000001:role/ambra-storage-dev""#,
        r#""AWS": "*""#,
    );
    let sid = line_of(
        &crate::read(&repo.path(PHR_POLICY)),
        r#""Sid": "ReaderPrincipalsList""#,
    );

    // From a subdirectory, with absolute paths.
    let out = xacct_in(
        &repo.path("environments"),
        &[
            "audit",
            "--env",
            &repo.s("environments/dev.toml"),
            "--generated",
            &repo.s("generated"),
            "--format",
            "sarif",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = sarif::check(&out.stdout);
    let at = placed(&a);
    assert_eq!(
        a["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", repo.root.display())
    );
    // XA018 is on the secret's line, never on the spec.
    let secrets: Vec<_> = at.iter().filter(|(id, _, _)| id == "XA018").collect();
    assert!(!secrets.is_empty(), "{at:?}");
    for (_, uri, line) in &secrets {
        assert_eq!((uri.as_str(), *line), (TFVARS, secret_line), "{at:?}");
    }
    assert!(
        at.iter().any(|(id, uri, _)| id == "XA040" && uri == TFVARS),
        "{at:?}"
    );
    // The open statement: its own lines (Sid, Effect, Principal), not the document's first.
    let opened: Vec<_> = at
        .iter()
        .filter(|(id, uri, _)| uri == PHR_POLICY && id != "XA040")
        .collect();
    assert!(!opened.is_empty(), "{at:?}");
    for (id, _, line) in &opened {
        assert!(
            (sid..=sid + 3).contains(line),
            "{id} at {line}, the statement's Sid at {sid}: {at:?}"
        );
    }
    let r = rule(&a, "XA018");
    assert_eq!(r["properties"]["security-severity"], "9.5");
    assert_eq!(r["defaultConfiguration"]["level"], "error");
    assert!(
        r["helpUri"].as_str().unwrap().ends_with("#audit-check-ids"),
        "{r}"
    );

    // From the root with relative paths: the same places and fingerprints.
    let out = xacct_in(
        &repo.root,
        &[
            "audit",
            "--env",
            "environments/dev.toml",
            "--generated",
            "generated",
            "--format",
            "sarif",
        ],
    );
    let b = sarif::check(&out.stdout);
    assert_eq!(placed(&b), at);
    assert_eq!(fingerprints(&b), fingerprints(&a));

    // A line added above the secret moves the result, not its fingerprint.
    std::fs::write(&tfvars, format!("# moved\n{text}")).unwrap();
    let out = xacct_in(
        &repo.root,
        &[
            "audit",
            "--env",
            "environments/dev.toml",
            "--generated",
            "generated",
            "--format",
            "sarif",
        ],
    );
    let c = sarif::check(&out.stdout);
    let moved: Vec<_> = placed(&c)
        .into_iter()
        .filter(|(id, _, _)| id == "XA018")
        .collect();
    assert!(
        moved
            .iter()
            .all(|(_, uri, line)| uri == TFVARS && *line == secret_line + 1),
        "{moved:?}"
    );
    let mut fa = fingerprints(&a);
    let mut fc = fingerprints(&c);
    fa.sort();
    fc.sort();
    assert_eq!(fc, fa, "fingerprints do not depend on line numbers");
}

#[test]
fn distinct_findings_have_distinct_fingerprints_and_a_clean_run_validates() {
    let repo = Repo::new();
    // Two identical secrets on two lines: two results, two fingerprints.
    let tfvars = repo.path(TFVARS);
    let mut text = crate::read(&tfvars);
    text.push_str(&format!(
        "aws_secret_access_key = \"{0}\"\naws_secret_access_key = \"{0}\"\n",
        secret()
    ));
    std::fs::write(&tfvars, &text).unwrap();
    let out = xacct_in(
        &repo.root,
        &[
            "audit",
            "--env",
            "environments/dev.toml",
            "--format",
            "sarif",
        ],
    );
    let doc = sarif::check(&out.stdout);
    let xa018: Vec<_> = placed(&doc)
        .into_iter()
        .filter(|(id, _, _)| id == "XA018")
        .collect();
    assert_eq!(xa018.len(), 2, "{xa018:?}");
    assert_ne!(xa018[0].2, xa018[1].2);
    // A clean environment: valid, no results, every rule described.
    let out = xacct_in(
        &crate::repo(),
        &[
            "audit",
            "--env",
            "environments/dev.toml",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc = sarif::check(&out.stdout);
    assert!(placed(&doc).is_empty());
    assert!(
        doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len()
            >= 30
    );
}

#[test]
fn audit_template_places_results_on_the_template_line() {
    let repo = Repo::new();
    let rel = "generated/dev/primary/cloudformation/primary.yaml";
    let line = repo.edit(rel, "AuthType: AWS_IAM", "AuthType: NONE");
    let out = xacct_in(
        &repo.path("generated/dev"),
        &[
            "audit",
            "--template",
            &repo.s(rel),
            "--env",
            &repo.s("environments/dev.toml"),
            "--format",
            "sarif",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc = sarif::check(&out.stdout);
    let at = placed(&doc);
    assert!(
        at.contains(&("XA014".to_owned(), rel.to_owned(), line)),
        "XA014 at {rel}:{line}: {at:?}"
    );
    assert!(at.iter().all(|(_, uri, _)| uri == rel), "{at:?}");
}

#[test]
fn audit_plan_places_results_in_the_generated_terraform() {
    use crate::audit_plan::{Tf, provider_override};
    let repo = Repo::new();
    let tf = Tf::start(&repo.root);
    let dir = repo.path("generated/dev/primary/terraform");
    std::fs::write(
        dir.join("zz_moto_override.tf"),
        provider_override(
            None,
            &tf.moto.endpoint,
            &["iam", "sts", "s3", "lambda", "logs"],
        ),
    )
    .unwrap();
    let main = "generated/dev/primary/terraform/main.tf";
    repo.edit(
        main,
        r#"authorization_type = "AWS_IAM""#,
        r#"authorization_type = "NONE""#,
    );
    repo.edit(
        main,
        "AMBRA_CAPACITY_WARN_PERCENT   = \"80\"",
        &format!(
            "AMBRA_CAPACITY_WARN_PERCENT   = \"80\"\n    AMBRA_PHR_CRED_ACCESS_KEY = \"AKIA{}\"",
            "IOSFODNN7EXAMPLE"
        ),
    );
    let plan = repo.path("primary-plan.json");
    tf.plan(&dir, &[&tf.zip_var()], &plan);

    let out = xacct_in(
        &repo.root,
        &[
            "audit",
            "--plan",
            "primary-plan.json",
            "--env",
            "environments/dev.toml",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc = sarif::check(&out.stdout);
    let at = placed(&doc);
    let text = crate::read(&repo.path(main));
    let url = line_of(&text, "resource \"aws_lambda_function_url\"");
    let function = line_of(&text, "resource \"aws_lambda_function\"");
    assert!(
        at.contains(&("XA014".to_owned(), main.to_owned(), url)),
        "XA014 at {main}:{url}: {at:?}"
    );
    assert!(
        at.contains(&("XA018".to_owned(), main.to_owned(), function)),
        "XA018 at {main}:{function}: {at:?}"
    );
    // The resource block's end is known too.
    let r = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "XA014")
        .unwrap();
    assert!(
        r["locations"][0]["physicalLocation"]["region"]["endLine"]
            .as_u64()
            .is_some_and(|e| e > url),
        "{r}"
    );
}
