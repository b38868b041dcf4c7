//! The decided audit: insecure mutations (each caught by its check ID, with a
//! counterexample that the plain evaluator confirms), equivalent or narrowing
//! rewrites (always clean, also for "no new access"), the misses reported
//! against other tools, and every environment and fixture clean.

use crate::support::audit_tables as tables;

use tables::{ENVS, EQUIVALENT, MUTATIONS, apply, load, subst, target};
use xacct::audit::{self, Doc, Finding, Input, intent};
use xacct::eval::{self, Kind, Named};
use xacct::iam::PolicyDocument;
use xacct::iam::documents::Documents;

/// Every finding that counts: accepted external principals (XA063, info) are
/// reported but never make an audit unclean (issue 20).
fn audit_all(input: &Input, docs: &Documents) -> Vec<Finding> {
    let mut f = audit::run_with_rendered(input, docs);
    f.retain(|f| f.severity > audit::Severity::Info);
    f
}

fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.check_id).collect()
}

/// The document a finding cites, with its kind.
fn find_doc<'a>(input: &'a Input, name: &str, account: &str) -> Option<(&'a Doc, Kind)> {
    let mut all: Vec<(&Doc, Kind)> = Vec::new();
    all.extend(input.lambda_trust.iter().map(|d| (d, Kind::Resource)));
    all.extend(input.lambda_execution.iter().map(|d| (d, Kind::Identity)));
    for s in &input.storage {
        all.extend(s.trust.iter().map(|d| (d, Kind::Resource)));
        all.extend(s.management.iter().map(|d| (d, Kind::Identity)));
    }
    all.extend(
        input
            .bucket_policies
            .iter()
            .map(|b| (&b.doc, Kind::Resource)),
    );
    all.extend(
        input
            .function_url_policy
            .iter()
            .map(|d| (d, Kind::Resource)),
    );
    all.into_iter()
        .find(|(d, _)| d.name == name && d.account == account)
}

/// Every counterexample is allowed by the document it is about and denied by the intent.
fn check_counterexamples(input: &Input, docs: &Documents, findings: &[Finding]) -> usize {
    let e = &input.expect;
    let mut n = 0;
    for f in findings {
        let Some(c) = &f.counterexample else { continue };
        let req = c.request();
        let st = f.statement.as_ref();
        let doc_name = st.map(|s| s.document.clone());
        // The candidate side.
        let cand = doc_name
            .as_deref()
            .and_then(|name| find_doc(input, name, &f.account));
        let (intent_doc, kind): (PolicyDocument, Kind) = match f.check_id {
            "XA002" | "XA024" => (intent::lambda_execution(input), Kind::Identity),
            "XA003" => (intent::storage_trust(e), Kind::Resource),
            "XA005" | "XA006" | "XA007" | "XA025" => {
                (intent::storage_management(e), Kind::Identity)
            }
            "XA012" | "XA014" => (intent::function_url(e), Kind::Resource),
            "XA015" => {
                let b = f.resource.trim_start_matches("arn:aws:s3:::");
                (intent::bucket(e, b), Kind::Resource)
            }
            "XA020" => (intent::lambda_trust(e), Kind::Resource),
            // A CreateBucket the management policy allows outside the namespace (issue 22).
            "XA070" => (intent::create_bucket(e), Kind::Identity),
            "XA004" => continue,
            "XA016" => {
                // Not explicitly denied by the bucket policy.
                let b = input
                    .bucket_policies
                    .iter()
                    .find(|b| f.resource.ends_with(&b.bucket))
                    .expect("bucket");
                let d = eval::evaluate(&[Named::resource(&b.doc.name, &b.doc.doc)], &req);
                assert_ne!(d.outcome, eval::Outcome::ExplicitDeny, "{f:?}");
                n += 1;
                continue;
            }
            "XA023" => {
                let name = f.message.split(' ').next().unwrap_or_default();
                let (d, k) = find_doc(input, name, &f.account).expect("candidate document");
                let rendered = rendered_for(docs, name, input, d);
                assert!(
                    eval::evaluate(
                        &[Named {
                            name,
                            kind: k,
                            doc: &d.doc
                        }],
                        &req
                    )
                    .allowed(),
                    "{f:?}"
                );
                assert!(
                    !eval::evaluate(
                        &[Named {
                            name: "r",
                            kind: k,
                            doc: &rendered
                        }],
                        &req
                    )
                    .allowed(),
                    "{f:?}"
                );
                n += 1;
                continue;
            }
            "XA062" | "XA063" => {
                // Allowed by the cited document, from outside the zone of trust.
                let (d, k) = find_doc(input, &f.resource, &f.account).expect("cited document");
                assert!(
                    eval::evaluate(
                        &[Named {
                            name: &d.name,
                            kind: k,
                            doc: &d.doc
                        }],
                        &req
                    )
                    .allowed(),
                    "{f:?}"
                );
                let acct = req.caller.account().expect("an IAM principal");
                assert!(
                    !input.expect.zone_accounts.iter().any(|a| a == acct),
                    "{f:?}"
                );
                n += 1;
                continue;
            }
            other => panic!("unexpected counterexample on {other}"),
        };
        if let Some((d, k)) = cand {
            assert!(
                eval::evaluate(
                    &[Named {
                        name: &d.name,
                        kind: k,
                        doc: &d.doc
                    }],
                    &req
                )
                .allowed(),
                "counterexample not allowed by {}: {f:?}",
                d.name
            );
        }
        assert!(
            !eval::evaluate(
                &[Named {
                    name: "intent",
                    kind,
                    doc: &intent_doc
                }],
                &req
            )
            .allowed(),
            "counterexample allowed by the intent: {f:?}"
        );
        n += 1;
    }
    n
}

fn rendered_for(docs: &Documents, name: &str, input: &Input, d: &Doc) -> PolicyDocument {
    let file = name.trim_start_matches("policies/");
    if file == "customer-bucket-policy.json" {
        let b = input
            .bucket_policies
            .iter()
            .find(|b| b.doc.name == d.name)
            .expect("bucket");
        return xacct::iam::documents::bucket_policy(&b.bucket, &input.expect.readers);
    }
    docs.files()
        .into_iter()
        .find(|(f, _)| *f == file)
        .map(|(_, d)| d.clone())
        .expect("rendered file")
}

#[test]
fn every_environment_and_fixture_audits_clean_including_no_new_access() {
    for (tag, _) in ENVS {
        let (_, input, docs) = load(tag);
        let f = audit_all(&input, &docs);
        assert!(f.is_empty(), "{tag}:\n{}", audit::report::table(&f));
    }
}

/// The role ARNs of the execution policy's `AssumeStorageRoles` statement.
fn exec_roles(i: &mut Input) -> &mut Vec<String> {
    let st = target(i, "exec")
        .statement
        .iter_mut()
        .find(|s| s.sid.as_deref() == Some("AssumeStorageRoles"))
        .expect("AssumeStorageRoles");
    &mut st.resource.as_mut().expect("Resource").0
}

/// Fields of many literals take `pattern::literal_split`, not the whole
/// exploration: dev with 40 storage accounts puts 40 role ARNs in the execution
/// policy's resource field. Through the audit (not the partition alone), the
/// environment is clean, a reordered list is clean, and each widening of that
/// list, a new literal among the others included, is caught with a counterexample
/// the plain evaluator confirms.
/// dev with 40 storage accounts, 200000000000 to 200000000039: the environment,
/// its input and its rendered documents.
fn dev_with_40_accounts() -> (xacct::model::Environment, Input, Documents) {
    let dev = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/environments/dev.toml"
    ))
    .unwrap();
    let accounts: Vec<String> = (0..40)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i))
        .collect();
    let quoted: Vec<String> = accounts.iter().map(|a| format!("\"{a}\"")).collect();
    let spec = dev.replace(
        r#"accounts = ["100000000002", "100000000003"]"#,
        &format!("accounts = [{}]", quoted.join(", ")),
    );
    assert!(spec.contains(&accounts[39]), "dev.toml layout changed");
    let env = xacct::model::Environment::from_str(
        std::path::Path::new("dev-40.toml"),
        &spec,
        xacct::model::LoadOptions::default(),
    )
    .unwrap()
    .env;
    let docs = Documents::build(&env);
    let input = Input::from_env(&env);
    (env, input, docs)
}

#[test]
fn fields_of_many_literals_are_decided_exactly_through_the_audit() {
    let (env, clean, docs) = dev_with_40_accounts();
    assert!(env.storage_accounts.len() > xacct::eval::pattern::LITERAL_SPLIT);
    let f = audit_all(&clean, &docs);
    assert!(f.is_empty(), "{}", audit::report::table(&f));
    let one = |a: &str| format!("arn:aws:iam::{a}:role/S3BucketManager");
    // Equivalent: the same ARNs in another order.
    let mut same = clean.clone();
    exec_roles(&mut same).reverse();
    let f = audit_all(&same, &docs);
    assert!(f.is_empty(), "reordered:\n{}", audit::report::table(&f));
    // Equivalent: a wildcard that reaches only environment accounts (10-19).
    let mut same = clean.clone();
    exec_roles(&mut same)[17] = one("20000000001?");
    let f = audit_all(&same, &docs);
    assert!(
        f.is_empty(),
        "accounts 10-19:\n{}",
        audit::report::table(&f)
    );
    // (what, the entry it replaces or `None` for a new one, the ARN)
    let widenings = [
        ("an outside literal", None, one("999999999999")),
        ("any account", Some(17), one("*")),
        (
            "any role",
            Some(17),
            "arn:aws:iam::200000000017:role/*".to_owned(),
        ),
        ("a digit reaching 47-97", Some(17), one("2000000000?7")),
    ];
    for (what, at, arn) in &widenings {
        let mut input = clean.clone();
        let roles = exec_roles(&mut input);
        match at {
            Some(k) => roles[*k] = arn.clone(),
            None => roles.push(arn.clone()),
        }
        let f = audit_all(&input, &docs);
        assert!(!f.is_empty(), "{what}: not caught");
        assert!(
            check_counterexamples(&input, &docs, &f) >= 1,
            "{what}: no checked counterexample:\n{}",
            audit::report::table(&f)
        );
    }
}

/// The zone of trust of a large environment takes `pattern::prefix_split`:
/// with 40 storage accounts, every external-access question has 41
/// `arn:aws:iam::<account>:*` prefixes (and `arn:*`) in its principal field.
/// A customer bucket grant to a zone account is no external access; one to the
/// account right after the zone's last, to a foreign role, or to anyone is,
/// and its counterexample is a principal of an account outside the zone.
#[test]
fn the_zone_of_a_large_environment_is_decided_exactly() {
    let (env, clean, docs) = dev_with_40_accounts();
    assert!(env.storage_accounts.len() + 1 >= xacct::eval::pattern::PREFIX_SPLIT);
    let bucket = xacct::iam::documents::example_bucket(&env);
    let zone: Vec<&str> = env
        .storage_accounts
        .iter()
        .chain([&env.primary_account])
        .map(String::as_str)
        .collect();
    let external = |principal: &str| -> Vec<String> {
        let mut input = clean.clone();
        apply(
            target(&mut input, "customer"),
            &format!(
                r#"+{{"Sid":"Extra","Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#
            ),
        );
        audit_all(&input, &docs)
            .into_iter()
            .filter(|f| f.check_id == "XA062")
            .map(|f| {
                f.counterexample
                    .expect("XA062 has a counterexample")
                    .principal
            })
            .collect()
    };
    assert!(external("arn:aws:iam::200000000039:root").is_empty());
    assert!(external("arn:aws:iam::200000000017:role/Reader").is_empty());
    for (principal, account) in [
        ("arn:aws:iam::200000000040:root", Some("200000000040")),
        (
            "arn:aws:iam::999999999999:role/Reader",
            Some("999999999999"),
        ),
        ("*", None),
    ] {
        let found = external(principal);
        assert!(!found.is_empty(), "{principal}: no external access");
        for p in &found {
            let acct = p.split(':').nth(4).unwrap_or_default();
            assert!(
                !zone.contains(&acct) && acct.len() == 12,
                "{principal}: counterexample {p} is inside the zone"
            );
            if let Some(a) = account {
                assert_eq!(acct, a, "{principal}: {found:?}");
            }
        }
    }
}

#[test]
fn insecure_mutations_are_caught_with_checked_counterexamples() {
    assert!(MUTATIONS.len() >= 100, "{}", MUTATIONS.len());
    let mut missed = Vec::new();
    let mut checked = 0;
    for (tag, t, edit, id) in MUTATIONS {
        let (env, mut input, docs) = load(tag);
        apply(target(&mut input, t), &subst(edit, &env));
        let f = audit_all(&input, &docs);
        if !ids(&f).contains(id) {
            missed.push(format!(
                "{tag} {t} {edit}: expected {id}, got {:?}",
                ids(&f)
            ));
        }
        checked += check_counterexamples(&input, &docs, &f);
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
    assert!(checked >= 100, "only {checked} counterexamples checked");
}

#[test]
fn equivalent_and_narrowing_rewrites_audit_clean() {
    assert!(EQUIVALENT.len() >= 30);
    let mut wrong = Vec::new();
    for (tag, t, edit) in EQUIVALENT {
        let (env, mut input, docs) = load(tag);
        apply(target(&mut input, t), &subst(edit, &env));
        let f = audit_all(&input, &docs);
        if !f.is_empty() {
            wrong.push(format!("{tag} {t} {edit}:\n{}", audit::report::table(&f)));
        }
    }
    assert!(wrong.is_empty(), "not clean:\n{}", wrong.join("\n"));
}

/// Misses reported against other tools, and the misses listed in issue 10.
#[rustfmt::skip]
const KNOWN_MISSES: &[(&str, &str, &str, &str, &str)] = &[
    // checkov#7209 / #6839: a `:root` or `*` principal narrowed by aws:PrincipalArn is not open ...
    ("checkov#7209 root narrowed by PrincipalArn is clean", "dev", "trust", r#"s|"ArnEquals"|"ArnEquals"|"#, ""),
    ("checkov#6839 * narrowed by PrincipalArn is clean", "dev", "trust", r#"s|"arn:aws:iam::100000000001:root"|"*"|"#, ""),
    // ... but the same narrowing with a wildcard is.
    ("checkov#6839 * narrowed by a PrincipalArn wildcard is open", "dev", "trust", r#"0={"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/s3-bucket-provisioning-dev-execution"}}}"#, "XA003"),
    // checkov#1582: aws:PrincipalOrgID alone still admits every account of the organization.
    ("checkov#1582 PrincipalOrgID", "dev", "phr", r#"+{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{PHR}/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}}"#, "XA015"),
    // aws-cloudformation-iam-policy-validator#48: PrincipalArn wildcard plus PrincipalOrgID.
    ("iam-policy-validator#48 PrincipalArn wildcard with PrincipalOrgID", "dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/s3-bucket-provisioning-*"}}}"#, "XA003"),
    // ScoutSuite#466: cross-account trust without ExternalId restricted by PrincipalArn is not open.
    ("ScoutSuite#466 cross-account trust restricted by PrincipalArn", "dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ArnEquals":{"aws:PrincipalArn":"{R}"},"Null":{"sts:ExternalId":"true"}|"#, ""),
    // terraform-aws-lambda PR#771: statements are ORed; an appended conditioned Allow widens trust.
    ("terraform-aws-lambda#771 appended conditioned allow", "dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::100000000001:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalTag/team":"storage"}}}"#, "XA003"),
    // Issue 10: the misses of the sampling audit.
    ("issue10 ArnLike PrincipalArn admits other primary roles", "dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::{P}:role/s3-bucket-provisioning-dev-*"}|"#, "XA003"),
    ("issue10 second trust statement for the invoker role", "dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:role/ambra-v3services-dev"},"Action":"sts:AssumeRole"}"#, "XA003"),
    ("issue10 AssumeRole resource pattern covers non-storage accounts", "dev", "exec", r#"s|arn:aws:iam::100000000003:role/S3BucketManager|arn:aws:iam::1000000000*:role/S3BucketManager|"#, "XA002"),
    ("issue10 s3:GetObject on customer objects", "dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{X}-*/*"}"#, "XA025"),
    ("issue10 aws:RequestedRegion on the bucket statement is no XA004", "dev", "mgmt", r#"s|"Resource":"arn:aws:s3:::ambra-dev-*"|"Resource":"arn:aws:s3:::ambra-dev-*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}|"#, ""),
    ("issue10 aws:ResourceAccount on the Lambda's AssumeRole is no XA001", "dev", "exec", r#"s|"Action":"sts:AssumeRole"|"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:ResourceAccount":["100000000002","100000000003"]}}|"#, ""),
];

#[test]
fn known_misses_of_other_tools_and_of_the_sampling_audit() {
    let mut wrong = Vec::new();
    for (name, tag, t, edit, id) in KNOWN_MISSES {
        let (env, mut input, docs) = load(tag);
        apply(target(&mut input, t), &subst(edit, &env));
        let f = audit::run(&input);
        check_counterexamples(&input, &docs, &f);
        let got = ids(&f);
        let ok = if id.is_empty() {
            got.is_empty()
        } else {
            got.contains(id)
        };
        if !ok {
            wrong.push(format!(
                "{name}: expected {id:?}, got {got:?}\n{}",
                audit::report::table(&f)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn counterexample_is_in_json_and_sarif() {
    let (env, mut input, _) = load("dev");
    apply(
        target(&mut input, "trust"),
        &subst(r#"s|{R}"|arn:aws:iam::{P}:role/*"|"#, &env),
    );
    let f = audit::run(&input);
    let json = serde_json::to_value(xacct::envelope::findings(&f)).unwrap();
    let c = &json[0]["counterexample"];
    assert!(
        c["principal"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:iam::100000000001:role/")
    );
    assert_eq!(
        c["action"].as_str().unwrap().to_ascii_lowercase(),
        "sts:assumerole"
    );
    assert!(c["context"].is_object());
    let sarif: serde_json::Value =
        serde_json::from_str(&xacct::sarif::audit(&f, Default::default())).unwrap();
    assert!(sarif["runs"][0]["results"][0]["properties"]["counterexample"]["resource"].is_string());
    assert!(audit::report::table(&f).contains("counterexample: principal="));
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use xacct::iam::Statement;

    /// The documents the property tests rewrite.
    const TARGETS: &[&str] = &["trust", "mgmt", "exec", "ltrust", "url", "phr", "customer"];

    /// One equivalence-preserving rewrite, chosen by `kind` and `n`.
    fn rewrite(doc: &mut PolicyDocument, kind: u8, n: usize) {
        let len = doc.statement.len();
        match kind % 6 {
            // Statement order.
            0 if len > 0 => doc.statement.rotate_left(n % len),
            // Sids.
            1 => doc.statement.iter_mut().for_each(|s| s.sid = None),
            // Case of actions.
            2 => {
                for s in &mut doc.statement {
                    for a in s.action.iter_mut().flat_map(|a| a.0.iter_mut()) {
                        *a = if n.is_multiple_of(2) {
                            a.to_ascii_uppercase()
                        } else {
                            a.to_ascii_lowercase()
                        };
                    }
                }
            }
            // Split one statement into one statement per action.
            3 if len > 0 => {
                let i = n % len;
                let st = doc.statement[i].clone();
                if let Some(actions) = &st.action
                    && actions.0.len() > 1
                {
                    doc.statement.remove(i);
                    for a in &actions.0 {
                        let mut one: Statement = st.clone();
                        one.action = Some(xacct::iam::Values::one(a.clone()));
                        doc.statement.push(one);
                    }
                }
            }
            // Case of condition keys.
            4 => {
                for s in &mut doc.statement {
                    for keys in s.condition.values_mut() {
                        let old = std::mem::take(keys);
                        *keys = old
                            .into_iter()
                            .map(|(k, v)| (k.to_ascii_uppercase(), v))
                            .collect();
                    }
                }
            }
            // An added Deny of something nobody needs.
            _ => {
                let deny = ["iam:*", "s3:DeleteObject", "kms:*", "ec2:*"][n % 4];
                let principal = if doc.statement.iter().any(|s| s.principal.is_some()) {
                    r#""Principal":"*","#
                } else {
                    ""
                };
                doc.statement.push(
                    serde_json::from_str(&format!(
                        r#"{{"Effect":"Deny",{principal}"Action":"{deny}","Resource":"*"}}"#
                    ))
                    .unwrap(),
                );
            }
        }
    }

    /// Widens one literal value (identity-policy resource, caller condition value) of an Allow
    /// statement: its tail from `cut` becomes `*`, or `?` replaces one character.
    fn widen(doc: &mut PolicyDocument, pick: usize, cut: usize, question: bool) -> bool {
        // (value, the first ARN component it may widen): identity resources from
        // the region on (partition and service are fixed by the action), caller
        // ARNs from the resource part on (the Principal fixes their account).
        let mut values: Vec<(&mut String, usize)> = Vec::new();
        for s in &mut doc.statement {
            if s.effect != Some(xacct::iam::Effect::Allow) {
                continue;
            }
            // A resource policy governs only its own resource: widening its
            // Resource grants nothing, so only identity policies' resources count.
            if s.principal.is_none() && s.not_principal.is_none() {
                values.extend(
                    s.resource
                        .iter_mut()
                        .flat_map(|r| r.0.iter_mut())
                        .map(|v| (v, 3)),
                );
            }
            for keys in s.condition.values_mut() {
                for (k, v) in keys.iter_mut() {
                    if k.eq_ignore_ascii_case("aws:PrincipalArn")
                        || k.eq_ignore_ascii_case("aws:SourceAccount")
                    {
                        values.extend(v.0.iter_mut().map(|v| (v, 5)));
                    }
                }
            }
        }
        values.retain(|(v, _)| v.len() > 2 && v.as_str() != "*");
        if values.is_empty() {
            return false;
        }
        let n = values.len();
        let (v, comp) = &mut values[pick % n];
        let body = v.trim_end_matches('*').len();
        if body == 0 {
            return false;
        }
        let start = if v.starts_with("arn:") {
            let c = v
                .match_indices(':')
                .nth(*comp - 1)
                .map_or(0, |(i, _)| i + 1);
            // A principal's type (`role/`, `user/`) is fixed too: widen its name.
            if *comp == 5 {
                v[c..].find('/').map_or(c, |i| c + i + 1)
            } else {
                c
            }
        } else {
            0
        };
        if body <= start {
            return false;
        }
        let at = start + cut % (body - start);
        if question {
            // `?` for a literal character that is not a wildcard already, nor an
            // ARN's `:` (real ARNs have a `:` there, so that `?` widens nothing).
            let c = v.as_bytes()[at];
            if c == b'*' || c == b'?' || c == b':' {
                return false;
            }
            // Nor a resource type with its `/` (`role/`, `table/`): requests are made
            // on real ARN shapes (issue 24), where that part is fixed, so a `?` there
            // widens nothing (`role?S3BucketManager` matches only
            // `role/S3BucketManager` among them). S3 ARNs have no type: the bucket
            // name starts there.
            if v.starts_with("arn:")
                && !v.starts_with("arn:aws:s3:")
                && let Some((five, _)) = v.match_indices(':').nth(4)
            {
                let end = v[five..].find('/').map_or(v.len(), |i| five + i);
                if (five..=end).contains(&at) {
                    return false;
                }
            }
            v.replace_range(at..at + 1, "?");
        } else {
            v.truncate(at);
            v.push('*');
        }
        true
    }

    fn env_tag() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["dev", "uat", "disc", "xid"])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn equivalent_rewrites_never_change_the_verdict(
            tag in env_tag(),
            steps in prop::collection::vec((0usize..7, any::<u8>(), 0usize..16), 1..4),
        ) {
            let (_, mut input, docs) = load(tag);
            for (t, kind, n) in &steps {
                rewrite(target(&mut input, TARGETS[*t]), *kind, *n);
            }
            let f = audit_all(&input, &docs);
            prop_assert!(f.is_empty(), "{steps:?}\n{}", audit::report::table(&f));
        }

        #[test]
        fn widenings_are_always_caught(
            tag in env_tag(),
            t in 0usize..7,
            pick in 0usize..64,
            cut in 0usize..128,
            question in any::<bool>(),
        ) {
            let (_, mut input, docs) = load(tag);
            let d = target(&mut input, TARGETS[t]);
            let before = d.clone();
            prop_assume!(widen(d, pick, cut, question));
            prop_assume!(*d != before);
            let f = audit_all(&input, &docs);
            prop_assert!(!f.is_empty(), "not caught: {}", serde_json::to_string(&input_doc(&input, TARGETS[t])).unwrap());
            check_counterexamples(&input, &docs, &f);
        }
    }

    fn input_doc(i: &Input, t: &str) -> PolicyDocument {
        let mut i = i.clone();
        target(&mut i, t).clone()
    }
}
