//! Issue 21: `xacct diff`, the access a change grants or removes.
//!
//! The table of the issue (onboard, offboard, a foreign reader, `ArnEquals` ->
//! `ArnLike`, `security.kms_key`, a setting turned off, a pure reordering and
//! re-casing, a `templates/` change), each side built the way the command
//! builds it: the spec, and the committed files (here: rendered in memory, then
//! edited as the change would), read back by the audit's readers. Every example
//! request of every output is re-evaluated with the plain evaluator: allowed by
//! the new side, denied by the old. The audit's mutation and rewrite tables run
//! through the diff too. The binary runs against a throwaway git repository.

use std::path::Path;

use xacct::audit::Severity;
use xacct::diff::{self, DocChange, EnvDiff, Side, Verdict, settings::Change};
use xacct::eval::{self, Named};
use xacct::iam::PolicyDocument;
use xacct::model::{Environment, LoadOptions};
use xacct::render::Renderer;

use crate::support::audit_tables::{self, EQUIVALENT, MUTATIONS};
use crate::support::live_cli::{Command, Out};
use crate::support::schema;

fn spec_text(path: &str) -> String {
    crate::read(&crate::repo().join(path))
}

fn env_of(text: &str) -> Environment {
    Environment::from_str(
        Path::new("environments/x.toml"),
        text,
        LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .env
}

/// The committed files of a spec: its render with `edit(path, text)` applied.
fn committed(
    renderer: &Renderer,
    env: &Environment,
    edit: &dyn Fn(&str, String) -> String,
) -> Vec<(String, String)> {
    renderer
        .render(env)
        .unwrap()
        .into_iter()
        .map(|f| {
            let p = f.path.to_string_lossy().replace('\\', "/");
            let t = edit(&p, f.contents);
            (p, t)
        })
        .collect()
}

fn keep(_: &str, t: String) -> String {
    t
}

/// A base side: the committed files only (what a revision ships).
fn base(text: &str) -> Side {
    let env = env_of(text);
    let files = committed(&Renderer::new().unwrap(), &env, &keep);
    Side::build(env, Some(&files), None)
}

/// A head side: committed files (edited) plus the render, as on the working tree.
fn head(text: &str, edit: &dyn Fn(&str, String) -> String, with_render: bool) -> Side {
    let env = env_of(text);
    let r = Renderer::new().unwrap();
    let files = committed(&r, &env, edit);
    let rendered = r.render(&env).unwrap();
    Side::build(env, Some(&files), with_render.then_some(&rendered[..]))
}

/// Every example of `d`: new access allowed by some source of the head side
/// and by none of the base side; removed access the converse.
fn recheck(old: &Side, new: &Side, d: &EnvDiff) {
    for c in &d.documents {
        let key = diff::DocKey {
            document: c.document.clone(),
            account: c.accounts.first().cloned(),
        };
        let (o, n) = diff::slots(&old.docs, &new.docs, &key, Some(old), Some(new));
        let allowed = |slot: Option<&diff::Slot>, req: &eval::Request| {
            slot.is_some_and(|s| {
                s.docs.iter().any(|src| {
                    eval::evaluate(
                        &[Named {
                            name: &src.source,
                            kind: s.kind,
                            doc: &src.doc,
                        }],
                        req,
                    )
                    .allowed()
                })
            })
        };
        for l in &c.new_access {
            let req = l.example.request();
            assert!(
                allowed(n, &req),
                "{}: head does not allow {}",
                c.document,
                l.example.describe()
            );
            assert!(
                !allowed(o, &req),
                "{}: base allows {}",
                c.document,
                l.example.describe()
            );
        }
        for l in &c.removed_access {
            let req = l.example.request();
            assert!(
                allowed(o, &req),
                "{}: base does not allow {}",
                c.document,
                l.example.describe()
            );
            assert!(
                !allowed(n, &req),
                "{}: head allows {}",
                c.document,
                l.example.describe()
            );
        }
    }
}

fn run(old: &Side, new: &Side) -> EnvDiff {
    let d = diff::compare(Some(old), Some(new), "environments/x.toml");
    recheck(old, new, &d);
    d
}

fn changed(d: &EnvDiff) -> Vec<&DocChange> {
    d.documents
        .iter()
        .filter(|c| c.verdict != Verdict::Equivalent && c.document != diff::BOUNDARY)
        .collect()
}

/// The boundary follows the execution policy: its lines (info, not counted) name the same role.
fn boundary_follows(d: &EnvDiff, role: &str) {
    let b = d
        .documents
        .iter()
        .find(|c| c.document == diff::BOUNDARY)
        .expect("boundary");
    for l in b.new_access.iter().chain(&b.removed_access) {
        assert_eq!(l.severity, Severity::Info);
        assert_eq!(l.example.resource, role);
    }
}

fn snapshot(name: &str, d: &EnvDiff) {
    let md = diff::report::markdown(std::slice::from_ref(d), "base", "head");
    insta::with_settings!({ snapshot_suffix => name, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("diff_access", md);
    });
}

const DEV: &str = "environments/dev.toml";
const DEV_ACCOUNTS: &str = r#"accounts = ["100000000002", "100000000003"]"#;

#[test]
fn no_change_is_clean() {
    let text = spec_text(DEV);
    let d = run(&base(&text), &head(&text, &keep, true));
    assert_eq!(d.documents, vec![], "{d:#?}");
    assert!(
        d.settings.is_empty() && d.stale.is_empty() && d.unreadable.is_empty(),
        "{d:#?}"
    );
    assert_eq!(d.worst(), None);
    assert_eq!(d.status, diff::EnvStatus::Unchanged);
}

#[test]
fn onboarding_grants_exactly_the_new_role() {
    let old = spec_text(DEV);
    let new = old.replace(
        DEV_ACCOUNTS,
        r#"accounts = ["100000000002", "100000000003", "100000000004"]"#,
    );
    assert_ne!(old, new);
    let d = run(&base(&old), &head(&new, &keep, true));
    let c = changed(&d);
    assert_eq!(c.len(), 1, "{d:#?}");
    assert_eq!(c[0].document, diff::LAMBDA_EXECUTION);
    assert_eq!(c[0].new_access.len(), 1, "{d:#?}");
    assert!(c[0].removed_access.is_empty());
    let l = &c[0].new_access[0];
    let role = "arn:aws:iam::100000000004:role/S3BucketManager";
    assert_eq!(l.example.action.to_lowercase(), "sts:assumerole");
    assert_eq!(l.example.resource, role);
    assert_eq!(
        l.example.principal,
        "arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution"
    );
    assert_eq!(l.resources.values, vec![role.to_owned()]);
    assert_eq!(l.severity, Severity::High);
    assert_eq!(d.capacity.accounts_added, vec!["100000000004".to_owned()]);
    assert_eq!(
        (d.capacity.total_before, d.capacity.total_after),
        (2000, 3000)
    );
    assert!(d.settings.is_empty(), "{:?}", d.settings);
    boundary_follows(&d, role);
    assert_eq!(d.counts().new_access, 1);
    // Nothing else: no other role, no other document.
    let exec = c[0];
    let again = diff::compare(Some(&base(&old)), Some(&head(&new, &keep, true)), "x");
    assert_eq!(changed(&again)[0], exec, "deterministic");
    snapshot("onboard", &d);
}

#[test]
fn offboarding_removes_the_role() {
    // Non-production needs two storage accounts: offboard from three.
    let new = spec_text(DEV);
    let old = new.replace(
        DEV_ACCOUNTS,
        r#"accounts = ["100000000002", "100000000003", "100000000004"]"#,
    );
    let d = run(&base(&old), &head(&new, &keep, true));
    offboarded(&d);
    boundary_follows(&d, "arn:aws:iam::100000000004:role/S3BucketManager");
    snapshot("offboard", &d);
}

fn offboarded(d: &EnvDiff) {
    let c = changed(d);
    assert_eq!(c.len(), 1, "{d:#?}");
    assert_eq!(c[0].document, diff::LAMBDA_EXECUTION);
    assert!(c[0].new_access.is_empty(), "{d:#?}");
    assert_eq!(c[0].removed_access.len(), 1);
    assert!(
        c[0].removed_access[0]
            .example
            .resource
            .ends_with(":role/S3BucketManager")
    );
    assert_eq!(d.capacity.accounts_removed.len(), 1);
    assert_eq!(d.worst(), None, "removing access is not a failure");
}

#[test]
fn a_foreign_reader_reads_every_customer_bucket() {
    let old = spec_text(DEV);
    let foreign = "arn:aws:iam::999999999999:role/analytics";
    let new = old.replace(
        r#"reader_principals = ["arn:aws:iam::100000000001:role/ambra-storage-dev"]"#,
        &format!(r#"reader_principals = ["arn:aws:iam::100000000001:role/ambra-storage-dev", "{foreign}"]"#),
    );
    assert_ne!(old, new);
    let d = run(&base(&old), &head(&new, &keep, true));
    let customer = d
        .documents
        .iter()
        .find(|c| c.document == diff::CUSTOMER_BUCKET)
        .unwrap_or_else(|| panic!("{d:#?}"));
    assert!(!customer.new_access.is_empty());
    for l in &customer.new_access {
        assert_eq!(l.example.principal, foreign);
        assert_eq!(
            l.severity,
            Severity::Critical,
            "a principal outside the setup's accounts"
        );
        assert_eq!(l.principals.values, vec![foreign.to_owned()]);
    }
    assert!(
        customer
            .new_access
            .iter()
            .any(|l| l.example.action.eq_ignore_ascii_case("s3:GetObject")),
        "{customer:#?}"
    );
    // The PHR bucket too.
    assert!(
        d.documents
            .iter()
            .any(|c| c.document == diff::PHR_BUCKET && !c.new_access.is_empty())
    );
    assert_eq!(d.worst(), Some(Severity::Critical));
    snapshot("foreign_reader", &d);
}

/// Edits the storage trust wherever it is committed (policies, Terraform, CloudFormation).
fn trust_edit(from: &'static str, to: &'static str) -> impl Fn(&str, String) -> String {
    move |p: &str, t: String| {
        if p.ends_with("s3-bucket-manager-trust.json")
            || p == "storage/terraform/policies.tf"
            || p.starts_with("storage/cloudformation/")
        {
            t.replace(from, to)
        } else {
            t
        }
    }
}

#[test]
fn arn_like_with_a_wildcard_widens_the_trust_without_it_changes_nothing() {
    let text = spec_text(DEV);
    // The same value under ArnLike: a rewrite that means the same.
    let d = run(
        &base(&text),
        &head(&text, &trust_edit("ArnEquals", "ArnLike"), false),
    );
    assert!(changed(&d).is_empty(), "{d:#?}");
    let trust = d
        .documents
        .iter()
        .find(|c| c.document == diff::STORAGE_TRUST)
        .unwrap_or_else(|| panic!("the rewrite shows as no access change: {d:#?}"));
    assert_eq!(trust.verdict, Verdict::Equivalent);
    assert_eq!(trust.accounts.len(), 2, "one entry for both accounts");
    // A wildcard: any role named s3-bucket-provisioning-* may assume S3BucketManager.
    let wide = |p: &str, t: String| {
        trust_edit("ArnEquals", "ArnLike")(p, t).replace(
            if p.ends_with(".json") || p.ends_with(".tf") || p.ends_with(".yaml") {
                "role/s3-bucket-provisioning-dev-execution\""
            } else {
                "\u{0}"
            },
            "role/s3-bucket-provisioning-*\"",
        )
    };
    let only_trust = |p: &str, t: String| {
        if p.ends_with("s3-bucket-manager-trust.json")
            || p == "storage/terraform/policies.tf"
            || p.starts_with("storage/cloudformation/")
        {
            wide(p, t)
        } else {
            t
        }
    };
    let d = run(&base(&text), &head(&text, &only_trust, false));
    let c = changed(&d);
    assert_eq!(c.len(), 1, "{d:#?}");
    assert_eq!(c[0].document, diff::STORAGE_TRUST);
    assert_eq!(c[0].accounts.len(), 2);
    let l = &c[0].new_access[0];
    assert_eq!(l.severity, Severity::Critical);
    assert!(
        l.example
            .principal
            .starts_with("arn:aws:iam::100000000001:role/s3-bucket-provisioning-")
    );
    assert_ne!(
        l.example.principal,
        "arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution"
    );
    assert!(
        l.conditions
            .iter()
            .any(|c| c.starts_with("ArnLike aws:PrincipalArn")),
        "{l:#?}"
    );
    snapshot("arn_like", &d);
}

#[test]
fn adding_the_kms_key_strengthens_settings_and_shows_the_key_policy() {
    let old = spec_text(DEV);
    let new = format!("{old}\n[security]\nkms_key = true\n");
    let d = run(&base(&old), &head(&new, &keep, true));
    let s: Vec<(&str, Change)> = d
        .settings
        .iter()
        .map(|s| (s.setting.as_str(), s.change))
        .collect();
    assert!(
        s.contains(&("security.kms_key", Change::Strengthened)),
        "{s:?}"
    );
    assert!(
        s.contains(&("PHR bucket: default encryption", Change::Strengthened)),
        "{s:?}"
    );
    assert!(!s.iter().any(|(_, c)| *c == Change::Weakened), "{s:?}");
    let key = d
        .documents
        .iter()
        .find(|c| c.document == diff::KMS_KEY)
        .expect("key policy");
    assert!(
        !key.new_access.is_empty(),
        "the new key's users are new access"
    );
    assert!(
        key.new_access
            .iter()
            .all(|l| l.severity != Severity::Critical),
        "{key:#?}"
    );
    snapshot("kms_key", &d);
}

#[test]
fn turning_a_setting_off_is_a_weakened_setting() {
    let old = spec_text("environments/prod.toml");
    let new = old.replace("cloudtrail = true ", "cloudtrail = false");
    assert_ne!(old, new);
    let d = run(&base(&old), &head(&new, &keep, true));
    let s = d
        .settings
        .iter()
        .find(|s| s.setting == "security.cloudtrail")
        .unwrap_or_else(|| panic!("{:#?}", d.settings));
    assert_eq!(s.change, Change::Weakened);
    assert_eq!(s.severity, Severity::High);
    assert_eq!(d.worst(), Some(Severity::High));
    assert!(
        d.documents.iter().all(|c| c.new_access.is_empty()),
        "{d:#?}"
    );
    snapshot("cloudtrail_off", &d);
    // A shorter log retention: weakened, medium.
    let dev = spec_text(DEV);
    let shorter = dev.replace("log_retention_days = 30", "log_retention_days = 7");
    let d = run(&base(&dev), &head(&shorter, &keep, true));
    assert_eq!(d.settings.len(), 1, "{:#?}", d.settings);
    assert_eq!(d.settings[0].setting, "lambda.log_retention_days");
    assert_eq!(d.settings[0].change, Change::Weakened);
    assert_eq!(d.worst(), Some(Severity::Medium));
}

/// A hand edit of the committed files, the spec unchanged: every attribute of
/// the audit's table that the edit weakens is a weakened setting, with the
/// table's severity, in Terraform and CloudFormation alike; the spec-level
/// lines stay quiet (the spec did not change).
#[test]
fn a_hand_edit_that_weakens_a_table_setting_is_a_weakened_setting() {
    let prod = spec_text("environments/prod.toml");
    let edit = |p: &str, t: String| match p {
        "primary/terraform/main.tf" => t
            .replace(
                "include_global_service_events = true",
                "include_global_service_events = false",
            )
            .replacen(
                "point_in_time_recovery {\n    enabled = true",
                "point_in_time_recovery {\n    enabled = false",
                1,
            ),
        "primary/cloudformation/primary.yaml" => {
            t.replace("IsMultiRegionTrail: true", "IsMultiRegionTrail: false")
        }
        _ => t,
    };
    let d = run(&base(&prod), &head(&prod, &edit, true));
    let weakened: Vec<&str> = d
        .settings
        .iter()
        .filter(|s| s.change == Change::Weakened && s.severity == Severity::High)
        .map(|s| s.setting.as_str())
        .collect();
    for what in [
        ": include_global_service_events",
        ": point_in_time_recovery",
        ": IsMultiRegionTrail",
    ] {
        assert!(
            weakened.iter().any(|s| s.ends_with(what)),
            "{what}: {:#?}",
            d.settings
        );
    }
    assert_eq!(weakened.len(), 3, "{:#?}", d.settings);
    assert_eq!(d.worst(), Some(Severity::High));
    // The same files unedited: nothing.
    let d = run(&base(&prod), &head(&prod, &keep, true));
    assert!(d.settings.is_empty(), "{:#?}", d.settings);
}

/// Reorders the statements, re-cases actions and condition keys, `:root` ->
/// account ID, splits a statement, adds a Deny nothing reaches.
fn rewrite(p: &str, t: String) -> String {
    if !(p.starts_with("policies/") && p.ends_with(".json")) {
        return t;
    }
    let mut doc = PolicyDocument::from_json(&t).unwrap();
    doc.statement.reverse();
    let mut text = serde_json::to_string(&doc).unwrap();
    for (a, b) in [
        ("\"s3:CreateBucket\"", "\"S3:createBUCKET\""),
        ("\"sts:AssumeRole\"", "\"STS:assumerole\""),
        ("arn:aws:iam::100000000001:root\"", "100000000001\""),
        ("\"aws:PrincipalArn\"", "\"AWS:PrincipalARN\""),
    ] {
        text = text.replace(a, b);
    }
    let mut doc = PolicyDocument::from_json(&text).unwrap();
    // Split the first statement with more than one action into two.
    if let Some(i) = doc
        .statement
        .iter()
        .position(|s| s.action.as_ref().is_some_and(|a| a.len() > 1))
    {
        let mut second = doc.statement[i].clone();
        let actions: Vec<String> = doc.statement[i]
            .action
            .as_ref()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        doc.statement[i].action = Some(xacct::iam::Values::many(actions[..1].to_vec()));
        second.action = Some(xacct::iam::Values::many(actions[1..].to_vec()));
        second.sid = None;
        doc.statement.push(second);
    }
    if p.ends_with("s3-bucket-management-policy.json") {
        doc.statement.push(
            serde_json::from_str(
                r#"{"Effect":"Deny","Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::not-ours-*"}"#,
            )
            .unwrap(),
        );
    }
    doc.to_canonical_json()
}

#[test]
fn reordering_and_recasing_is_no_access_change() {
    let text = spec_text(DEV);
    let d = run(&base(&text), &head(&text, &rewrite, false));
    assert!(changed(&d).is_empty(), "{d:#?}");
    assert!(
        d.documents.len() >= 5,
        "each rewritten document says so: {d:#?}"
    );
    assert!(d.documents.iter().all(|c| c.verdict == Verdict::Equivalent));
    assert_eq!(d.worst(), None);
    snapshot("rewrite", &d);
}

#[test]
fn a_template_change_that_alters_a_rendered_document_shows() {
    // templates/storage/terraform/policies.tf.tera embedding a wider trust
    // than the typed document: the committed Terraform (rendered by the changed
    // template) allows what the typed document does not.
    let text = spec_text(DEV);
    let env = env_of(&text);
    let tera = include_str!("../../templates/storage/terraform/policies.tf.tera");
    let changed_tera = tera.replace(
        "{{ policies.storage_trust.heredoc }}",
        "{{ policies.storage_trust.heredoc | replace(from=\"ArnEquals\", to=\"ArnLike\") | replace(from=\"-dev-execution\", to=\"-*\") }}",
    );
    assert_ne!(tera, changed_tera);
    let r =
        Renderer::with_templates(&[("storage/terraform/policies.tf.tera", &changed_tera)]).unwrap();
    let rendered = r.render(&env).unwrap();
    let files: Vec<(String, String)> = rendered
        .iter()
        .map(|f| {
            (
                f.path.to_string_lossy().replace('\\', "/"),
                f.contents.clone(),
            )
        })
        .collect();
    let new = Side::build(env, Some(&files), Some(&rendered));
    let old = base(&text);
    let d = run(&old, &new);
    let c = changed(&d);
    assert_eq!(c.len(), 1, "{d:#?}");
    assert_eq!(c[0].document, diff::STORAGE_TRUST);
    assert!(
        c[0].new_access[0].statement.contains("storage/terraform"),
        "{:#?}",
        c[0]
    );
    assert_eq!(c[0].new_access[0].severity, Severity::Critical);
    snapshot("template", &d);
}

#[test]
fn committed_files_that_disagree_with_the_render_are_named_and_both_compared() {
    let text = spec_text(DEV);
    // A hand-edited committed trust (the render is unchanged).
    let edit = |p: &str, t: String| {
        if p == "policies/s3-bucket-manager-trust.json" {
            t.replace("role/s3-bucket-provisioning-dev-execution\"", "role/*\"")
        } else {
            t
        }
    };
    let d = run(&base(&text), &head(&text, &edit, true));
    assert_eq!(
        d.stale,
        vec!["generated/dev/policies/s3-bucket-manager-trust.json".to_owned()]
    );
    let c = changed(&d);
    assert_eq!(c.len(), 1, "{d:#?}");
    assert_eq!(c[0].new_access[0].severity, Severity::Critical);
}

/// Replaces the committed `policies/<file>` with `doc`.
fn policy_file(target: &str) -> &'static str {
    match target {
        "trust" => "policies/s3-bucket-manager-trust.json",
        "mgmt" => "policies/s3-bucket-management-policy.json",
        "exec" => "policies/lambda-execution-policy.json",
        "ltrust" => "policies/lambda-execution-trust.json",
        "url" => "policies/function-url-policy.json",
        "phr" => "policies/phr-bucket-policy.json",
        "customer" => "policies/customer-bucket-policy.json",
        t => panic!("unknown target {t}"),
    }
}

fn mutated(tag: &str, target: &str, edit: &str) -> (Side, Side) {
    let spec = audit_tables::ENVS
        .iter()
        .find(|(t, _)| *t == tag)
        .unwrap()
        .1;
    let text = spec_text(spec);
    let (env, mut input, _) = audit_tables::load(tag);
    let doc = audit_tables::target(&mut input, target);
    audit_tables::apply(doc, &audit_tables::subst(edit, &env));
    let json = doc.to_canonical_json();
    let file = policy_file(target);
    let old = base(&text);
    let new = head(
        &text,
        &|p: &str, t: String| if p == file { json.clone() } else { t },
        false,
    );
    (old, new)
}

#[test]
fn every_insecure_mutation_of_the_audit_is_new_access_with_a_checked_example() {
    let mut failures = Vec::new();
    for (tag, target, edit, check) in MUTATIONS {
        let (old, new) = mutated(tag, target, edit);
        let d = run(&old, &new);
        // Checks of missing access: the change removes access (and may add some).
        let narrows = ["XA001", "XA004", "XA013", "XA017"].contains(check);
        let got_new = d.documents.iter().any(|c| !c.new_access.is_empty());
        let got_removed = d.documents.iter().any(|c| !c.removed_access.is_empty());
        let undecided = d.documents.iter().any(|c| c.verdict == Verdict::Undecided);
        let ok = match *check {
            "XA022" => undecided && d.worst() >= Some(Severity::High),
            // An action not in the catalog is never a witness: no access change.
            "XA026" => !undecided && !got_new,
            // The other sources (Terraform, CloudFormation) still grant what the
            // edited policy file no longer does: nothing is removed from the side.
            _ if narrows => !got_removed && !undecided,
            _ => got_new && d.worst() >= Some(Severity::High),
        };
        if !ok {
            failures.push(format!(
                "{tag} {target} {edit} ({check}): {:#?}",
                d.documents
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_equivalent_rewrite_of_the_audit_grants_nothing() {
    let mut failures = Vec::new();
    for (tag, target, edit) in EQUIVALENT {
        let (old, new) = mutated(tag, target, edit);
        let d = run(&old, &new);
        if d.documents
            .iter()
            .any(|c| !c.new_access.is_empty() || c.verdict == Verdict::Undecided)
        {
            failures.push(format!("{tag} {target} {edit}: {:#?}", d.documents));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// The binary against a throwaway git repository.

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn xacct(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(args)
        .current_dir(dir)
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

/// A repository with dev's spec and committed generated/dev on `main`.
fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::copy(crate::repo().join(DEV), dir.join(DEV)).unwrap();
    crate::support::fs::copy_tree(
        &crate::repo().join("generated/dev"),
        &dir.join("generated/dev"),
    );
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    t
}

#[test]
fn the_command_compares_the_working_tree_with_main() {
    let t = repo();
    let dir = t.path();
    // Nothing changed: exit 0.
    let out = xacct(dir, &["diff"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Grants new access: 0 · removes 0 · settings weakened 0"),
        "{}",
        out.stdout
    );
    // Onboard an account and render, on a branch.
    git(dir, &["checkout", "-q", "-b", "onboard"]);
    let spec = dir.join(DEV);
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace(
            DEV_ACCOUNTS,
            r#"accounts = ["100000000002", "100000000003", "100000000004"]"#,
        ),
    )
    .unwrap();
    let r = xacct(dir, &["render", "--env", DEV]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let md = xacct(dir, &["diff", "--base", "main", "--format", "markdown"]);
    assert_eq!(md.code, 1, "{}{}", md.stdout, md.stderr);
    assert!(
        md.stdout.starts_with(diff::report::COMMENT_MARKER),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("Grants new access: 1 · removes 0 · settings weakened 0"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("arn:aws:iam::100000000004:role/S3BucketManager")
    );
    assert!(md.stdout.contains("<details open>"));
    let js = xacct(dir, &["diff", "--base", "main", "--format", "json"]);
    assert_eq!(js.code, 1);
    let v: serde_json::Value = serde_json::from_str(&js.stdout).unwrap();
    assert_eq!(v["summary"]["new_access"], 1);
    assert_eq!(
        v["environments"][0]["capacity"]["accounts_added"][0],
        "100000000004"
    );
    // --fail-on critical: the new role is high, so exit 0.
    let c = xacct(
        dir,
        &[
            "diff",
            "--base",
            "main",
            "--fail-on",
            "critical",
            "--format",
            "json",
        ],
    );
    assert_eq!(c.code, 0, "{}", c.stdout);
    // The default base is the merge base with main.
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "onboard"]);
    let d = xacct(dir, &["diff", "--env", DEV]);
    assert_eq!(d.code, 1, "{}{}", d.stdout, d.stderr);
    // --base-dir: a checkout of the base.
    let b = repo();
    let bd = xacct(
        dir,
        &[
            "diff",
            "--base-dir",
            b.path().to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(bd.code, 1, "{}{}", bd.stdout, bd.stderr);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&bd.stdout).unwrap()["summary"]["new_access"],
        1
    );
}

#[test]
fn bad_input_is_exit_2_with_the_next_step() {
    let t = repo();
    let dir = t.path();
    let out = xacct(dir, &["diff", "--base", "no-such-ref"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("no-such-ref") && out.stderr.contains("--base origin/main"),
        "{}",
        out.stderr
    );
    let out = xacct(dir, &["diff", "--env", "environments/nope.toml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("environments/nope.toml"),
        "{}",
        out.stderr
    );
    let out = xacct(dir, &["diff", "--base-dir", "/nonexistent/xacct"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--base-dir"), "{}", out.stderr);
    // A broken spec in the working tree names the file and field.
    std::fs::write(
        dir.join(DEV),
        spec_text(DEV).replace(
            "max_buckets_per_account = 1000",
            "max_buckets_per_account = \"x\"",
        ),
    )
    .unwrap();
    let out = xacct(dir, &["diff", "--base", "main"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("environments/dev.toml"),
        "{}",
        out.stderr
    );
}
