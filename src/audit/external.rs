//! External access (issue 20): may a principal outside the zone of trust read
//! or write a customer or PHR bucket, use the KMS key, invoke the function or
//! assume a storage or execution role? Decided exactly with [`decide::find`]:
//! "some IAM principal the document allows, and the zone does not contain".
//!
//! The zone of trust is the organization (every account a snapshot lists, and
//! any principal whose `aws:PrincipalOrgID` is the organization) when one is
//! known, plus the environment's accounts; principals accepted in
//! `access.external_principals` are left out of the finding and reported as
//! accepted (info), with their reason.

use crate::eval::decide::{self, Answer, Scope, Values};
use crate::eval::{self, Named};
use crate::iam::{PolicyDocument, Principal, Statement};

use super::input::{Doc, Expect, Input};
use super::{
    Counterexample, EXTERNAL_ACCEPTED, EXTERNAL_ACCESS, Finding, UNDECIDED, statement_info,
};

/// How many distinct foreign accounts one document's finding lists at most.
const MAX_WITNESSES: usize = 10;

/// One resource whose resource policy decides who reaches it.
struct Target<'a> {
    doc: &'a Doc,
    what: String,
    actions: &'static [&'static str],
    resources: Vec<String>,
}

/// The accounts of the zone: the intent's, the storage documents', the spec's.
fn zone_accounts(input: &Input) -> Vec<String> {
    let e = &input.expect;
    let mut v = e.zone_accounts.clone();
    if !e.primary_account.is_empty() {
        v.push(e.primary_account.clone());
    }
    v.extend(e.storage_accounts.iter().cloned());
    v.extend(input.storage.iter().map(|s| s.account.clone()));
    v.retain(|a| crate::contract::is_account_id(a));
    v.sort();
    v.dedup();
    v
}

/// The zone as a resource policy: whatever it allows is inside.
fn zone_doc(accounts: &[String], org: Option<&str>, extra: &[String]) -> PolicyDocument {
    let mut who: Vec<String> = accounts
        .iter()
        .map(|a| format!("arn:aws:iam::{a}:root"))
        .collect();
    who.extend(extra.iter().cloned());
    let mut st = Vec::new();
    if !who.is_empty() {
        st.push(
            Statement::allow("Zone")
                .principal(Principal::aws(who))
                .actions(["*"])
                .resources(["*"]),
        );
    }
    if let Some(o) = org {
        st.push(
            Statement::allow("Organization")
                .principal(Principal::Any)
                .actions(["*"])
                .resources(["*"])
                .condition("StringEquals", "aws:PrincipalOrgID", [o]),
        );
    }
    PolicyDocument::new(st)
}

/// Where the zone of trust comes from, for messages.
pub fn zone_text(e: &Expect) -> String {
    match (&e.zone_org, e.org_snapshot) {
        (Some(o), true) => format!("organization {o} (snapshot) and the environment's accounts"),
        (Some(o), false) => format!(
            "organization {o} (no snapshot: only the environment's accounts are known members) and the environment's accounts"
        ),
        (None, _) => "the environment's accounts".to_owned(),
    }
}

fn targets(input: &Input) -> Vec<Target<'_>> {
    let e = &input.expect;
    let mut t = Vec::new();
    for b in &input.bucket_policies {
        let arn = crate::contract::bucket_arn(&b.bucket);
        let what = if b.bucket == e.phr_bucket {
            format!("the PHR bucket {}", b.bucket)
        } else {
            format!("customer bucket {}", b.bucket)
        };
        t.push(Target {
            doc: &b.doc,
            what,
            actions: &["s3:*"],
            resources: vec![arn.clone(), format!("{arn}/*")],
        });
    }
    let mut seen_trust: Vec<&PolicyDocument> = Vec::new();
    for s in &input.storage {
        if let Some(trust) = &s.trust {
            // Identical trusts (every account gets the same document) are asked once.
            if seen_trust.contains(&&trust.doc) {
                continue;
            }
            seen_trust.push(&trust.doc);
            t.push(Target {
                doc: trust,
                what: format!(
                    "storage role {}",
                    crate::contract::storage_role_arn(&s.account)
                ),
                actions: &["sts:*"],
                resources: vec![crate::contract::storage_role_arn(&s.account)],
            });
        }
    }
    if let Some(trust) = &input.lambda_trust {
        t.push(Target {
            doc: trust,
            what: format!("execution role {}", e.lambda_role_arn),
            actions: &["sts:*"],
            resources: vec![e.lambda_role_arn.clone()],
        });
    }
    if let Some(p) = &input.function_url_policy {
        t.push(Target {
            doc: p,
            what: format!("function {}", e.function_arn),
            actions: &["lambda:InvokeFunction*"],
            resources: vec![e.function_arn.clone(), format!("{}:*", e.function_arn)],
        });
    }
    if let Some(k) = &input.kms_key_policy {
        t.push(Target {
            doc: k,
            what: "the customer-managed KMS key".to_owned(),
            actions: &["kms:*"],
            resources: Vec::new(),
        });
    }
    t
}

/// The principal patterns an accepted entry covers: a root covers its account.
fn accepted_patterns(principal: &str) -> Values {
    match principal.strip_suffix(":root") {
        Some(acct) => Values::Like(vec![format!("{acct}:*")]),
        None => Values::Fixed(principal.to_owned()),
    }
}

/// Every external-access finding of an input (XA062), the accepted ones (XA063)
/// and the questions that could not be decided (XA022).
pub fn check(input: &Input) -> Vec<Finding> {
    let e = &input.expect;
    let accounts = zone_accounts(input);
    if accounts.is_empty() && e.zone_org.is_none() {
        return Vec::new();
    }
    let accepted: Vec<String> = e.accepted_external.iter().map(|(p, _)| p.clone()).collect();
    let zone = zone_text(e);
    let mut out = Vec::new();
    for t in targets(input) {
        let scope = |principal: Values| {
            let s = Scope::open().principal(principal).action(Values::Like(
                t.actions.iter().map(|a| (*a).to_owned()).collect(),
            ));
            if t.resources.is_empty() {
                s
            } else {
                s.resource(Values::Like(t.resources.clone()))
            }
        };
        let doc = [Named::resource(&t.doc.name, &t.doc.doc)];
        // Not accepted: one finding per foreign account, up to MAX_WITNESSES.
        let mut excluded: Vec<String> = accepted.clone();
        for _ in 0..MAX_WITNESSES {
            let z = zone_doc(&accounts, e.zone_org.as_deref(), &excluded);
            let zn = [Named::resource("zone of trust", &z)];
            match decide::find(&[&doc], &[&zn], &scope(Values::iam_principals())) {
                Answer::Empty => break,
                Answer::Unknown(why) => {
                    out.push(undecided(t.doc, &t.what, &why));
                    break;
                }
                Answer::Witness(req) => {
                    let acct = req.caller.account().unwrap_or_default().to_owned();
                    out.push(finding(
                        EXTERNAL_ACCESS,
                        t.doc,
                        &req,
                        format!(
                            "{} is reachable from outside the zone of trust ({zone})",
                            t.what
                        ),
                        format!(
                            "; account {acct} is {}; remove the grant, or accept the principal in access.external_principals with a reason",
                            if e.org_snapshot {
                                "not in the organization"
                            } else {
                                "not an environment account (without an organization snapshot its membership is unknown: run `xacct org snapshot`)"
                            }
                        ),
                    ));
                    excluded.push(format!("arn:aws:iam::{acct}:root"));
                }
            }
        }
        // Accepted: shown with their reason when the document does grant them.
        for (p, reason) in &e.accepted_external {
            let z = zone_doc(&accounts, e.zone_org.as_deref(), &[]);
            let zn = [Named::resource("zone of trust", &z)];
            if let Answer::Witness(req) =
                decide::find(&[&doc], &[&zn], &scope(accepted_patterns(p)))
            {
                out.push(finding(
                    EXTERNAL_ACCEPTED,
                    t.doc,
                    &req,
                    format!(
                        "{} is reachable from outside the zone of trust ({zone})",
                        t.what
                    ),
                    format!("; accepted in access.external_principals ({p}): {reason}"),
                ));
            }
        }
    }
    out
}

fn finding(
    check: super::Check,
    doc: &Doc,
    req: &eval::Request,
    what: String,
    tail: String,
) -> Finding {
    let named = [Named::resource(&doc.name, &doc.doc)];
    let idx = eval::evaluate(&named, req)
        .statements
        .iter()
        .find(|s| s.document == doc.name)
        .map(|s| s.index);
    let cx = Counterexample::of(req);
    Finding {
        check_id: check.id,
        severity: check.severity,
        account: doc.account.clone(),
        resource: doc.name.clone(),
        message: format!("{what}: {}{tail}", cx.describe()),
        statement: idx.and_then(|i| statement_info(doc, i)),
        file: None,
        line: None,
        counterexample: Some(cx),
    }
}

fn undecided(doc: &Doc, what: &str, why: &str) -> Finding {
    Finding {
        check_id: UNDECIDED.id,
        severity: UNDECIDED.severity,
        account: doc.account.clone(),
        resource: doc.name.clone(),
        message: format!(
            "cannot decide whether {what} is reachable from outside the zone of trust: {why}; review {} by hand",
            doc.name
        ),
        statement: None,
        file: None,
        line: None,
        counterexample: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Environment, LoadOptions};

    fn env_with(readers: &str, extra: &str) -> Environment {
        let text = std::fs::read_to_string("environments/dev.toml")
            .unwrap()
            .replace(
                r#"reader_principals = ["arn:aws:iam::100000000001:role/ambra-storage-dev"]"#,
                &format!("reader_principals = [{readers}]\n{extra}"),
            );
        Environment::from_str(
            std::path::Path::new("dev.toml"),
            &text,
            LoadOptions::default(),
        )
        .unwrap()
        .env
    }

    #[test]
    fn a_foreign_reader_is_external_access_with_a_counterexample() {
        let env = env_with(
            r#""arn:aws:iam::100000000001:role/ambra-storage-dev", "arn:aws:iam::999999999999:root""#,
            "",
        );
        let f = check(&Input::from_env(&env));
        let ext: Vec<_> = f.iter().filter(|f| f.check_id == "XA062").collect();
        assert!(!ext.is_empty(), "{f:#?}");
        for x in &ext {
            let cx = x.counterexample.as_ref().unwrap();
            assert!(
                cx.principal.starts_with("arn:aws:iam::999999999999:"),
                "{cx:?}"
            );
        }
    }
}
