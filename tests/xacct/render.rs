use std::path::Path;

use xacct::model::{Environment, LoadOptions};
use xacct::render::{Renderer, output};

fn render(path: &Path) -> Vec<xacct::render::RenderedFile> {
    let env = Environment::load(path, LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .env;
    Renderer::new().unwrap().render(&env).unwrap()
}

/// Every rendered file of every fixture, one snapshot per fixture.
#[test]
fn rendered() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "inputs/*.toml",
        |path| {
            let files = render(path);
            let mut all = String::new();
            for f in &files {
                all.push_str(&format!("===== {} =====\n{}", f.path.display(), f.contents));
                if !f.contents.ends_with('\n') {
                    all.push('\n');
                }
            }
            insta::with_settings!({info => &crate::read(path), omit_expression => true}, {
                insta::assert_snapshot!(all);
            });
        }
    );
}

/// The committed generated/ matches environments/ and templates/ (what `render --check` guards).
#[test]
fn generated_is_current() {
    let renderer = Renderer::new().unwrap();
    let mut problems = Vec::new();
    for name in ["dev", "uat", "prod"] {
        let spec = crate::repo().join(format!("environments/{name}.toml"));
        let env = Environment::load(&spec, LoadOptions::default())
            .unwrap()
            .env;
        let files = renderer.render(&env).unwrap();
        let dir = crate::repo().join("generated").join(&env.short_name);
        problems.extend(
            output::check(&dir, &files)
                .into_iter()
                .map(|d| d.to_string()),
        );
    }
    assert!(
        problems.is_empty(),
        "generated/ is out of date; run `cargo run -- render --all` and commit:\n{}",
        problems.join("\n")
    );
}

#[test]
fn write_then_check_then_remove_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("two");
    let files = render(&crate::input("two_accounts.toml"));
    let report = output::write(&out, &files).unwrap();
    assert_eq!(report.written.len(), files.len());
    assert!(output::check(&out, &files).is_empty());

    // A second write changes nothing.
    let again = output::write(&out, &files).unwrap();
    assert!(again.written.is_empty());
    assert_eq!(again.unchanged, files.len());

    // Hand edits are reported as stale, with a diff.
    let main_tf = out.join("primary/terraform/main.tf");
    std::fs::write(&main_tf, "# edited\n").unwrap();
    let drift = output::check(&out, &files);
    assert_eq!(drift.len(), 1, "{drift:?}");
    match &drift[0] {
        output::Drift::Stale { path, diff } => {
            assert_eq!(path, &main_tf);
            assert!(diff.contains("-# edited"), "{diff}");
        }
        other => panic!("expected stale, got {other}"),
    }

    // Dropping an account orphans its parameter file; the next write removes it,
    // while a file the user added by hand is left alone.
    let keep = out.join("notes.txt");
    std::fs::write(&keep, "mine").unwrap();
    let fewer: Vec<_> = files
        .iter()
        .filter(|f| !f.path.ends_with("333333333333.json"))
        .cloned()
        .collect();
    let drift = output::check(&out, &fewer);
    assert!(
        drift
            .iter()
            .any(|d| matches!(d, output::Drift::Orphan(p) if p.ends_with("333333333333.json"))),
        "{drift:?}"
    );
    let report = output::write(&out, &fewer).unwrap();
    assert!(
        report
            .removed
            .iter()
            .any(|p| p.ends_with("333333333333.json"))
    );
    assert!(keep.exists());
}

#[test]
fn policies_are_the_documents_the_templates_embed() {
    // The JSON in policies/ is the same text the Terraform heredocs and the
    // CloudFormation templates carry: one source of truth.
    let files = render(&crate::input("phr_in_storage.toml"));
    let get = |p: &str| {
        files
            .iter()
            .find(|f| f.path.to_string_lossy() == p)
            .unwrap_or_else(|| panic!("{p} not rendered"))
            .contents
            .clone()
    };
    let trust = get("policies/s3-bucket-manager-trust.json");
    let body: String = trust.lines().map(|l| format!("    {l}\n")).collect();
    assert!(get("storage/terraform/policies.tf").contains(&body));
    let body8: String = trust.lines().map(|l| format!("        {l}\n")).collect();
    assert!(get("storage/cloudformation/storage-account.yaml").contains(&body8));
    // The PHR bucket lives in a storage account here: not in the primary root.
    assert!(!get("primary/terraform/main.tf").contains("module \"phr_bucket\""));
    assert!(
        get("storage/terraform/main.tf").contains("phr_bucket_name   = \"fixture-phr-storage\"")
    );
}

#[test]
fn legacy_phr_keys_are_sensitive_without_default_and_never_written() {
    let files = render(&crate::input("phr_in_storage.toml"));
    let legacy = files
        .iter()
        .find(|f| f.path.ends_with("legacy_phr_keys.tf"))
        .expect("legacy key variables rendered when the spec opts in");
    for var in ["ambra_phr_cred_access_key", "ambra_phr_cred_secret_key"] {
        let block = legacy
            .contents
            .split(&format!("variable \"{var}\""))
            .nth(1)
            .and_then(|b| b.split("\n}").next())
            .unwrap_or_else(|| panic!("{var} missing"));
        assert!(block.contains("sensitive   = true"), "{block}");
        assert!(!block.contains("default"), "{block}");
    }
    for f in &files {
        assert!(
            !f.contents.contains("ambra_phr_cred_access_key =")
                || f.path.ends_with("legacy_phr_keys.tf"),
            "{} assigns a PHR credential",
            f.path.display()
        );
    }
    let default = render(&crate::input("two_accounts.toml"));
    assert!(
        !default
            .iter()
            .any(|f| f.contents.contains("ambra_phr_cred"))
    );
}
