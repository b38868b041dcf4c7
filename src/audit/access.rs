//! The decided checks: every "too open" question is answered exactly by
//! [`eval::decide`] against the intent of [`intent`], with a counterexample;
//! every "cannot" question evaluates the intended requests with the context AWS
//! sets on them (or, for sets of intended requests, decides the reverse gap).

use std::collections::HashMap;

use crate::contract;
use crate::eval::decide::{self, Answer, Scope, Values};
use crate::eval::{self, Caller, Named, Outcome, Request};
use crate::iam::{Effect, PolicyDocument, Statement};

use super::input::{Doc, Expect};
use super::{
    BUCKET_PUBLIC, BUCKET_READER, BUCKET_TLS, CREATE_OUTSIDE_NAMESPACE, Check, Counterexample, Ctx,
    DESTRUCTIVE, EXECUTION_EXTRA, FUNCTION_URL_AUTH, FUNCTION_URL_CALLER,
    FUNCTION_URL_INVOKER_DENIED, Finding, KMS_KEY_OPEN, KMS_KEY_USER_DENIED, LAMBDA_ASSUMES_OTHER,
    LAMBDA_CANNOT_ASSUME, LAMBDA_TRUST_OPEN, MANAGEMENT_EXTRA, MANAGEMENT_FOREIGN_BUCKET,
    MANAGEMENT_MISSING, MANAGEMENT_NON_S3, NEW_ACCESS, STORAGE_ROLE_OPEN, UNDECIDED, intent,
    statement_info,
};

fn with_ctx(mut r: Request, ctx: &[(String, Vec<String>)]) -> Request {
    for (k, v) in ctx {
        r = r.with(k, v.iter().cloned());
    }
    r
}

fn scope_ctx(mut s: Scope, ctx: &[(String, Vec<String>)]) -> Scope {
    for (k, v) in ctx {
        s = s.key(k, Some(v.clone()));
    }
    s
}

/// A statement a witness request meets in `doc` (the first allowing one).
fn cited_for(doc: &Doc, kind: eval::Kind, req: &Request) -> Option<usize> {
    let named = [Named {
        name: &doc.name,
        kind,
        doc: &doc.doc,
    }];
    let d = eval::evaluate(&named, req);
    d.statements
        .iter()
        .find(|s| s.document == doc.name)
        .map(|s| s.index)
}

/// The outcome of one decided question, ready to become a finding.
enum Gap {
    None,
    Witness(Request),
    Unknown(String),
}

fn gap(must: &[&[Named<'_>]], must_not: &[&[Named<'_>]], scope: &Scope) -> Gap {
    match decide::find(must, must_not, scope) {
        Answer::Empty => Gap::None,
        Answer::Witness(r) => Gap::Witness(r),
        Answer::Unknown(e) => Gap::Unknown(e),
    }
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn witness(
        &mut self,
        check: Check,
        doc: &Doc,
        kind: eval::Kind,
        resource: &str,
        what: &str,
        g: Gap,
    ) {
        match g {
            Gap::None => {}
            Gap::Unknown(why) => self.undecided(doc, resource, what, &why),
            Gap::Witness(req) => {
                let idx = cited_for(doc, kind, &req);
                let cx = Counterexample::of(&req);
                self.findings.push(Finding {
                    file: None,
                    line: None,
                    check_id: check.id,
                    severity: check.severity,
                    account: doc.account.clone(),
                    resource: resource.to_owned(),
                    message: format!("{what}: {}", cx.describe()),
                    statement: idx.and_then(|i| statement_info(doc, i)),
                    counterexample: Some(cx),
                });
            }
        }
    }

    fn undecided(&mut self, doc: &Doc, resource: &str, what: &str, why: &str) {
        self.findings.push(Finding {
            file: None,
            line: None,
            check_id: UNDECIDED.id,
            severity: UNDECIDED.severity,
            account: doc.account.clone(),
            resource: resource.to_owned(),
            message: format!("cannot decide {what}: {why}; review {} by hand", doc.name),
            statement: None,
            counterexample: None,
        });
    }

    /// An intended request that is not allowed: names the deny or the missing grant.
    fn cannot(&mut self, check: Check, doc: &Doc, resource: &str, who: &str, d: &eval::Decision) {
        let why = match d.outcome {
            Outcome::ExplicitDeny => format!(
                "denied by {}",
                d.statements
                    .iter()
                    .map(|s| s.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!("no statement of {} allows it", doc.name),
        };
        let idx = d
            .statements
            .iter()
            .find(|s| s.document == doc.name)
            .map(|s| s.index);
        self.findings.push(Finding {
            file: None,
            line: None,
            check_id: check.id,
            severity: check.severity,
            account: doc.account.clone(),
            resource: resource.to_owned(),
            message: format!("{who}: {why}"),
            statement: idx.and_then(|i| statement_info(doc, i)),
            counterexample: None,
        });
    }
}

pub(super) fn lambda_assume(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let caller = Caller::Aws(e.lambda_role_arn.clone());
    let Some(exec) = &input.lambda_execution else {
        // The storage side alone: its trust must still admit the execution role
        // (a trust that admits nobody is as broken as one missing). Only with
        // an intent that names the execution role (`--env`, or a Lambda read).
        if !crate::model::is_account_id(&e.primary_account) {
            return;
        }
        let mut json = JsonOfRun::default();
        for acct in &input.storage {
            let Some(trust) = &acct.trust else { continue };
            // An unresolved value is already "cannot decide" (XA041/XA022).
            if json.of(&trust.doc).contains("${xacct:unresolved") {
                continue;
            }
            let role = contract::storage_role_arn(&acct.account);
            let req = with_ctx(
                Request::new(caller.clone(), "sts:AssumeRole", &role),
                &intent::assume_context(e, &acct.account),
            );
            let td = eval::evaluate(&[Named::resource(&trust.name, &trust.doc)], &req);
            if !td.allowed() {
                cx.cannot(
                    LAMBDA_CANNOT_ASSUME,
                    trust,
                    &role,
                    &format!("{} cannot assume {role}", e.lambda_role_arn),
                    &td,
                );
            }
        }
        return;
    };
    let identity = [Named::identity(&exec.name, &exec.doc)];
    let per_role = ByResource::new(&exec.doc);
    if input.storage.is_empty() && !e.discover {
        // The primary side alone: its execution policy must still allow
        // assuming every storage role of the intent.
        for acct in &e.storage_accounts {
            let role = contract::storage_role_arn(acct);
            let req = with_ctx(
                Request::new(caller.clone(), "sts:AssumeRole", &role),
                &intent::assume_context(e, acct),
            );
            let own = per_role.on(&role);
            let d = eval::evaluate(&[Named::identity(&exec.name, &own)], &req);
            if !d.allowed() {
                cx.cannot(
                    LAMBDA_CANNOT_ASSUME,
                    exec,
                    &role,
                    &format!("{} cannot assume {role}", e.lambda_role_arn),
                    &d,
                );
            }
        }
    }
    for acct in &input.storage {
        let role = contract::storage_role_arn(&acct.account);
        let Some(trust) = &acct.trust else { continue };
        let req = with_ctx(
            Request::new(caller.clone(), "sts:AssumeRole", &role),
            &intent::assume_context(e, &acct.account),
        );
        let own = per_role.on(&role);
        let identity = [Named::identity(&exec.name, &own)];
        let d = eval::combine(
            &identity,
            &caller,
            Named::resource(&trust.name, &trust.doc),
            Some(&acct.account),
            &req,
        );
        if !d.allowed() {
            let idd = eval::evaluate(&identity, &req);
            let td = eval::evaluate(&[Named::resource(&trust.name, &trust.doc)], &req);
            let (doc, dec) = if idd.allowed() {
                (trust, td)
            } else {
                (exec, idd)
            };
            cx.cannot(
                LAMBDA_CANNOT_ASSUME,
                doc,
                &role,
                &format!("{} cannot assume {role}", e.lambda_role_arn),
                &dec,
            );
        }
    }
    // Which roles may it assume? Exactly the storage roles.
    let want = intent::lambda_assume(input);
    let want_n = [Named::identity("intent", &want)];
    let scope = Scope::open()
        .principal(Values::Fixed(e.lambda_role_arn.clone()))
        .action(Values::Fixed("sts:AssumeRole".into()))
        .resource(Values::roles());
    let g = gap(&[&identity], &[&want_n], &scope);
    cx.witness(
        LAMBDA_ASSUMES_OTHER,
        exec,
        eval::Kind::Identity,
        &exec.name,
        "the execution role may assume a role that is not a storage role",
        g,
    );
    // What else may it do?
    let all = intent::lambda_execution(input);
    let all_n = [Named::identity("intent", &all)];
    let assume = PolicyDocument::new(vec![
        Statement::allow("Assume")
            .actions(["sts:AssumeRole"])
            .resources(["*"]),
    ]);
    let assume_n = [Named::identity("assume", &assume)];
    let scope = Scope::open().principal(Values::Fixed(e.lambda_role_arn.clone()));
    let g = gap(&[&identity], &[&all_n, &assume_n], &scope);
    cx.witness(
        EXECUTION_EXTRA,
        exec,
        eval::Kind::Identity,
        &exec.name,
        "the execution role may do more than assume storage roles, write its logs, notify ops and discover accounts",
        g,
    );
}

/// A document evaluated on many requests that differ by their literal
/// resource (one storage role each, against an execution policy that lists
/// 1,000 role ARNs): [`ByResource::on`] is the document with each statement's
/// `Resource` cut to the entries that can match that resource (its literals
/// looked up, its wildcards kept), so every request on exactly that resource
/// is decided as by the whole document, statement indices included, without
/// matching every listed ARN per request.
struct ByResource<'d> {
    /// The document with each `Resource` list holding its wildcard entries only.
    wild: PolicyDocument,
    /// Per statement, its literal `Resource` entries.
    literals: Vec<std::collections::HashSet<&'d str>>,
}

impl<'d> ByResource<'d> {
    fn new(doc: &'d PolicyDocument) -> Self {
        let mut literals = Vec::new();
        let statement = doc
            .statement
            .iter()
            .map(|st| {
                let mut lit = std::collections::HashSet::new();
                let resource = st.resource.as_ref().map(|r| {
                    let (l, w): (Vec<&str>, Vec<&str>) =
                        r.iter().partition(|p| !p.contains(['*', '?']));
                    lit.extend(l);
                    crate::iam::Values(w.into_iter().map(str::to_owned).collect())
                });
                literals.push(lit);
                // Every field named: one added later must be thought about here.
                Statement {
                    sid: st.sid.clone(),
                    effect: st.effect,
                    principal: st.principal.clone(),
                    not_principal: st.not_principal.clone(),
                    action: st.action.clone(),
                    not_action: st.not_action.clone(),
                    resource,
                    not_resource: st.not_resource.clone(),
                    condition: st.condition.clone(),
                }
            })
            .collect();
        let wild = PolicyDocument {
            version: doc.version.clone(),
            id: doc.id.clone(),
            statement,
        };
        ByResource { wild, literals }
    }

    /// The document as far as requests on `resource` can tell.
    fn on(&self, resource: &str) -> PolicyDocument {
        let mut d = self.wild.clone();
        for (st, lit) in d.statement.iter_mut().zip(&self.literals) {
            if let Some(r) = &mut st.resource
                && lit.contains(resource)
            {
                r.0.push(resource.to_owned());
            }
        }
        d
    }
}

/// A document's compact JSON, serialized once per run of equal documents
/// (the storage accounts' documents are usually one document, in order).
#[derive(Default)]
struct JsonOfRun<'d> {
    last: Option<(&'d PolicyDocument, String)>,
}

impl<'d> JsonOfRun<'d> {
    fn of(&mut self, doc: &'d PolicyDocument) -> &str {
        match &mut self.last {
            Some((d, _)) if *d == doc => {}
            last => *last = Some((doc, doc.to_compact_json())),
        }
        self.last.as_ref().map_or("", |(_, j)| j.as_str())
    }
}

pub(super) fn storage_trust(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let want = intent::storage_trust(e);
    let want_n = [Named::resource("intent", &want)];
    let mut cache: HashMap<String, Option<Finding>> = HashMap::new();
    let mut json = JsonOfRun::default();
    for acct in &input.storage {
        let Some(trust) = &acct.trust else { continue };
        let role = contract::storage_role_arn(&acct.account);
        // The role ARN is the only thing that differs between accounts; a document
        // that never looks at the resource or its account decides alike everywhere.
        let key = json.of(&trust.doc).to_owned();
        let reusable = !key.to_ascii_lowercase().contains("resource");
        if reusable && let Some(hit) = cache.get(&key) {
            if let Some(f) = hit {
                let mut f = f.clone();
                f.account = acct.account.clone();
                f.resource = role.clone();
                if let Some(c) = &mut f.counterexample {
                    c.resource = role.clone();
                }
                cx.findings.push(f);
            }
            continue;
        }
        let named = [Named::resource(&trust.name, &trust.doc)];
        let scope = Scope::open()
            .action(Values::Like(vec!["sts:*".into()]))
            .resource(Values::Fixed(role.clone()));
        let g = gap(&[&named], &[&want_n], &scope);
        let before = cx.findings.len();
        cx.witness(
            STORAGE_ROLE_OPEN,
            trust,
            eval::Kind::Resource,
            &role,
            &format!("{role} may be assumed by a principal other than the execution role"),
            g,
        );
        if reusable {
            cache.insert(key, cx.findings.get(before).cloned());
        }
    }
}

/// The resources of the runtime's S3 requests: bucket ARNs (`[a-z0-9.-]` names)
/// and `*` for the account-level actions.
fn bucket_or_account() -> Values {
    use crate::eval::pattern::{Class, Pattern, Tok};
    let chars = Class::Chars(('a'..='z').chain('0'..='9').chain(['.', '-']).collect());
    Values::Patterns(vec![
        Pattern::literal("arn:aws:s3:::", false).then(&Pattern::from_toks(vec![
            Tok::One(chars.clone()),
            Tok::Run(chars),
        ])),
        Pattern::literal("*", false),
    ])
}

pub(super) fn storage_management(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let want = intent::storage_management(e);
    let want_n = [Named::identity("intent", &want)];
    let prefixed = intent::prefixed_s3(e);
    let prefixed_n = [Named::identity("prefixed", &prefixed)];
    let s3_all = PolicyDocument::new(vec![
        Statement::allow("S3").actions(["s3:*"]).resources(["*"]),
    ]);
    let s3_n = [Named::identity("s3", &s3_all)];
    let mut cache: HashMap<String, Vec<Finding>> = HashMap::new();
    let mut json = JsonOfRun::default();
    for acct in &input.storage {
        let Some(m) = &acct.management else { continue };
        let role = contract::storage_role_arn(&acct.account);
        let key = json.of(&m.doc).to_owned();
        let reusable = !key.to_ascii_lowercase().contains("aws:principal");
        if reusable && let Some(fs) = cache.get(&key) {
            for f in fs {
                let mut f = f.clone();
                f.account = acct.account.clone();
                if let Some(c) = &mut f.counterexample {
                    c.principal = role.clone();
                    c.context
                        .insert("aws:principalarn".into(), vec![role.clone()]);
                    c.context
                        .insert("aws:principalaccount".into(), vec![acct.account.clone()]);
                }
                cx.findings.push(f);
            }
            continue;
        }
        let before = cx.findings.len();
        let named = [Named::identity(&m.name, &m.doc)];
        let base = Scope::open().principal(Values::Fixed(role.clone()));
        // In the account regional namespace: CreateBucket only there. Decided
        // first and taken out of the questions below, so a dropped condition
        // is one finding, this one.
        let create = intent::create_bucket(e);
        let create_n = [Named::identity("create", &create)];
        let regional = e.bucket_namespace == contract::BucketNamespace::AccountRegional;
        if regional {
            let g = gap(
                &[&named],
                &[&create_n],
                &base
                    .clone()
                    .action(Values::Fixed("s3:CreateBucket".into()))
                    .resource(Values::Like(vec![contract::customer_bucket_pattern(
                        &e.bucket_prefix,
                    )])),
            );
            cx.witness(
                CREATE_OUTSIDE_NAMESPACE,
                m,
                eval::Kind::Identity,
                &m.name,
                &format!(
                    "S3BucketManagement allows s3:CreateBucket outside the account regional namespace (needs {} = {} on {})",
                    contract::NAMESPACE_CONDITION_KEY,
                    contract::ACCOUNT_REGIONAL,
                    contract::namespaced_bucket_pattern(&e.bucket_prefix, &intent::region(e))
                ),
                g,
            );
        }
        let any_create = PolicyDocument::new(vec![
            Statement::allow("Create")
                .actions(["s3:CreateBucket"])
                .resources([contract::customer_bucket_pattern(&e.bucket_prefix)]),
        ]);
        let reported: Vec<Named<'_>> = if regional {
            vec![Named::identity("any-create", &any_create)]
        } else {
            Vec::new()
        };
        // Outside S3.
        let g = gap(&[&named], &[&want_n, &s3_n], &base);
        cx.witness(
            MANAGEMENT_NON_S3,
            m,
            eval::Kind::Identity,
            &m.name,
            "S3BucketManagement allows an action outside S3",
            g,
        );
        // S3, outside the prefix.
        let g = gap(&[&named, &s3_n], &[&want_n, &prefixed_n], &base);
        cx.witness(
            MANAGEMENT_FOREIGN_BUCKET,
            m,
            eval::Kind::Identity,
            &m.name,
            &format!(
                "S3BucketManagement allows an S3 action outside prefix {}-",
                e.bucket_prefix
            ),
            g,
        );
        // Inside the prefix: destructive actions, then anything else not intended.
        let destructive_actions: Vec<String> = crate::eval::catalog::actions()
            .iter()
            .filter(|a| a.name.starts_with("s3:") && a.level.destructive())
            .map(|a| a.name.to_owned())
            .collect();
        let destructive = base
            .clone()
            .action(Values::Like(destructive_actions.clone()));
        let g = gap(&[&named, &prefixed_n], &[&want_n, &reported], &destructive);
        cx.witness(
            DESTRUCTIVE,
            m,
            eval::Kind::Identity,
            &m.name,
            &format!(
                "a destructive S3 action is allowed{}",
                if e.allow_canary {
                    " beyond canary deletion"
                } else {
                    " (allow_canary is off)"
                }
            ),
            g,
        );
        // Anything else (reads, listing, tagging): not the destructive ones again.
        let destructive_doc = PolicyDocument::new(vec![
            Statement::allow("Destructive")
                .actions(destructive_actions)
                .resources(["*"]),
        ]);
        let destructive_n = [Named::identity("destructive", &destructive_doc)];
        let g = gap(
            &[&named, &prefixed_n],
            &[&want_n, &destructive_n, &reported],
            &base,
        );
        cx.witness(
            MANAGEMENT_EXTRA,
            m,
            eval::Kind::Identity,
            &m.name,
            "S3BucketManagement allows an S3 action the runtime does not need on prefixed buckets (data access or configuration reads)",
            g,
        );
        // Every intended request allowed, with the runtime's context.
        let ctx = intent::role_context(e, &acct.account, true);
        let runtime = scope_ctx(
            Scope {
                free_context: false,
                ..Scope::open()
            }
            .principal(Values::Fixed(role.clone()))
            .resource(bucket_or_account()),
            &ctx,
        );
        match decide::find(&[&want_n], &[&named], &runtime) {
            Answer::Empty => {}
            Answer::Unknown(why) => cx.undecided(
                m,
                &m.name,
                "whether the runtime's requests are allowed",
                &why,
            ),
            Answer::Witness(req) => {
                let d = eval::evaluate(&named, &req);
                cx.cannot(
                    MANAGEMENT_MISSING,
                    m,
                    &req.resource,
                    &format!("{} on {} is not allowed", req.action, req.resource),
                    &d,
                );
                if let Some(f) = cx.findings.last_mut() {
                    f.counterexample = Some(Counterexample::of(&req));
                }
            }
        }
        if reusable {
            cache.insert(key, cx.findings[before..].to_vec());
        }
    }
}

pub(super) fn function_url(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let Some(doc) = &input.function_url_policy else {
        return;
    };
    let named = [Named::resource(&doc.name, &doc.doc)];
    let want = intent::function_url(e);
    let want_n = [Named::resource("intent", &want)];
    let scope = Scope::open()
        .action(Values::Like(vec!["lambda:*".into()]))
        .resource(Values::Like(vec![
            e.function_arn.clone(),
            format!("{}:*", e.function_arn),
        ]));
    // Calls without IAM auth first: the worst case.
    let none = scope
        .clone()
        .action(Values::Fixed("lambda:InvokeFunctionUrl".into()))
        .key("lambda:FunctionUrlAuthType", Some(vec!["NONE".into()]));
    let g = gap(&[&named], &[&want_n], &none);
    cx.witness(
        FUNCTION_URL_AUTH,
        doc,
        eval::Kind::Resource,
        &e.function_arn,
        "the function policy allows function URL calls with auth type NONE",
        g,
    );
    let g = gap(&[&named], &[&want_n], &scope);
    cx.witness(
        FUNCTION_URL_CALLER,
        doc,
        eval::Kind::Resource,
        &e.function_arn,
        "the function may be called or changed by a principal or in a way that is not an invoker's",
        g,
    );
    for inv in &e.invokers {
        let c = Caller::Aws(inv.clone());
        let acct = eval::arn_account(inv).unwrap_or_default().to_owned();
        for action in ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"] {
            let mut r = with_ctx(
                Request::new(c.clone(), action, &e.function_arn),
                &intent::role_context(e, &e.primary_account, acct == e.primary_account),
            );
            if action == "lambda:InvokeFunctionUrl" {
                r = r.with("lambda:FunctionUrlAuthType", ["AWS_IAM"]);
            } else {
                // The invoke behind a URL call (what the invokers need).
                r = r.with(crate::iam::documents::INVOKED_VIA_URL_KEY, ["true"]);
            }
            let d = eval::evaluate(&named, &r);
            if !d.allowed() {
                cx.cannot(
                    FUNCTION_URL_INVOKER_DENIED,
                    doc,
                    &e.function_arn,
                    &format!("invoker {inv} is not allowed {action}"),
                    &d,
                );
            }
        }
    }
}

pub(super) fn buckets(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    for b in &input.bucket_policies {
        let doc = &b.doc;
        let named = [Named::resource(&doc.name, &doc.doc)];
        let bucket = contract::bucket_arn(&b.bucket);
        let mut want = intent::bucket(e, &b.bucket);
        want.statement
            .extend(intent::log_delivery(e, &b.bucket, &doc.account));
        let want_n = [Named::resource("intent", &want)];
        let scope = Scope::open()
            .action(Values::Like(vec!["s3:*".into()]))
            .resource(Values::Like(vec![bucket.clone(), format!("{bucket}/*")]));
        let g = gap(&[&named], &[&want_n], &scope);
        cx.witness(
            BUCKET_PUBLIC,
            doc,
            eval::Kind::Resource,
            &bucket,
            "the bucket policy grants access beyond the readers",
            g,
        );
        // TLS: every request without TLS is explicitly denied.
        let denies = PolicyDocument::new(
            doc.doc
                .statement
                .iter()
                .filter(|s| s.effect == Some(Effect::Deny))
                .cloned()
                .map(|mut s| {
                    s.effect = Some(Effect::Allow);
                    s
                })
                .collect(),
        );
        let all = intent::bucket_all(&b.bucket);
        let denies_n = [Named::resource(&doc.name, &denies)];
        let all_n = [Named::resource("all", &all)];
        let tls = scope
            .clone()
            .key("aws:SecureTransport", Some(vec!["false".into()]));
        match gap(&[&all_n], &[&denies_n], &tls) {
            Gap::None => {}
            Gap::Unknown(why) => cx.undecided(doc, &bucket, "the TLS deny", &why),
            Gap::Witness(req) => {
                let cxm = Counterexample::of(&req);
                cx.findings.push(Finding {
                    file: None,
                    line: None,
                    check_id: BUCKET_TLS.id,
                    severity: BUCKET_TLS.severity,
                    account: doc.account.clone(),
                    resource: bucket.clone(),
                    message: format!("a request without TLS is not denied: {}", cxm.describe()),
                    statement: None,
                    counterexample: Some(cxm),
                });
            }
        }
        if b.readers_required {
            for r in &e.readers {
                let c = Caller::Aws(r.clone());
                let same = eval::arn_account(r) == Some(doc.account.as_str());
                for (action, res) in [
                    ("s3:GetObject", format!("{bucket}/key")),
                    ("s3:ListBucket", bucket.clone()),
                ] {
                    let req = with_ctx(
                        Request::new(c.clone(), action, &res),
                        &intent::role_context(e, &doc.account, same),
                    );
                    let d = eval::evaluate(&named, &req);
                    if !d.allowed() {
                        cx.cannot(
                            BUCKET_READER,
                            doc,
                            &bucket,
                            &format!("reader {r} is not allowed {action}"),
                            &d,
                        );
                    }
                }
            }
        }
    }
}

pub(super) fn lambda_trust(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let Some(trust) = &input.lambda_trust else {
        return;
    };
    let named = [Named::resource(&trust.name, &trust.doc)];
    let role = &e.lambda_role_arn;
    let ok = with_ctx(
        Request::new(
            Caller::Service("lambda.amazonaws.com".into()),
            "sts:AssumeRole",
            role,
        ),
        &intent::lambda_service_context(e),
    );
    let d = eval::evaluate(&named, &ok);
    if !d.allowed() {
        cx.cannot(
            LAMBDA_TRUST_OPEN,
            trust,
            role,
            "lambda.amazonaws.com in the primary account cannot assume the execution role",
            &d,
        );
    }
    let want = intent::lambda_trust(e);
    let want_n = [Named::resource("intent", &want)];
    let scope = Scope::open()
        .action(Values::Like(vec!["sts:*".into()]))
        .resource(Values::Fixed(role.clone()));
    let g = gap(&[&named], &[&want_n], &scope);
    cx.witness(
        LAMBDA_TRUST_OPEN,
        trust,
        eval::Kind::Resource,
        role,
        "the execution role may be assumed by something other than Lambda for the primary account",
        g,
    );
}

/// Offline CheckNoNewAccess: a request `candidate` allows that `rendered` does
/// not. `holder` is the principal an identity policy is attached to (`None`
/// for resource policies); `resources`, the wildcard patterns of the resources
/// a resource policy governs (a role ARN for trust policies, `bucket` and
/// `bucket/*` for bucket policies; empty: any).
pub fn no_new_access(
    candidate: &Doc,
    rendered: &PolicyDocument,
    kind: eval::Kind,
    holder: Option<&str>,
    resources: &[String],
) -> Option<Finding> {
    // A document allows nothing beyond itself (and its direct grants are the
    // rendered one's): a committed file that is the render is decided here.
    if candidate.doc == *rendered {
        return None;
    }
    let c = [Named {
        name: &candidate.name,
        kind,
        doc: &candidate.doc,
    }];
    let r = [Named {
        name: "rendered",
        kind,
        doc: rendered,
    }];
    let mut scope = Scope::open();
    if let Some(h) = holder {
        scope = scope.principal(Values::Fixed(h.to_owned()));
    }
    if !resources.is_empty() {
        scope = scope.resource(Values::Like(resources.to_vec()));
    }
    let mut answer = decide::find(&[&c], &[&r], &scope);
    let mut direct = false;
    if matches!(answer, Answer::Empty) && kind == eval::Kind::Resource && holder.is_none() {
        // A resource policy that names the account (`<acct>`, `:root`)
        // delegates to the caller's own IAM policies; one that names a role or
        // user of its own account grants it directly, with no identity policy
        // needed. So the same question again over the grants that need no
        // identity policy: the account's own roles and users, against the
        // documents without their account principals.
        let (cd, rd) = (direct_grants(&candidate.doc), direct_grants(rendered));
        let c = [Named {
            name: &candidate.name,
            kind,
            doc: &cd,
        }];
        let r = [Named {
            name: "rendered",
            kind,
            doc: &rd,
        }];
        let own = &candidate.account;
        let scope = scope.principal(Values::Like(vec![
            format!("arn:aws:iam::{own}:role/*"),
            format!("arn:aws:iam::{own}:user/*"),
        ]));
        answer = decide::find(&[&c], &[&r], &scope);
        direct = true;
    }
    let (check, msg, cx) = match answer {
        Answer::Empty => return None,
        Answer::Unknown(why) => (
            UNDECIDED,
            format!(
                "cannot decide whether {} grants more than the rendered document: {why}",
                candidate.name
            ),
            None,
        ),
        Answer::Witness(req) => {
            let cxm = Counterexample::of(&req);
            (
                NEW_ACCESS,
                if direct {
                    format!(
                        "{} grants a request directly that the rendered document grants only through the account (where the caller's own IAM policy must allow it too): {}",
                        candidate.name,
                        cxm.describe()
                    )
                } else {
                    format!(
                        "{} allows a request the rendered document does not: {}",
                        candidate.name,
                        cxm.describe()
                    )
                },
                Some((cxm, req)),
            )
        }
    };
    let idx = cx
        .as_ref()
        .and_then(|(_, req)| cited_for(candidate, kind, req));
    Some(Finding {
        file: None,
        line: None,
        check_id: check.id,
        severity: check.severity,
        account: candidate.account.clone(),
        resource: resources
            .first()
            .cloned()
            .unwrap_or_else(|| candidate.name.clone()),
        message: msg,
        statement: idx.and_then(|i| statement_info(candidate, i)),
        counterexample: cx.map(|(c, _)| c),
    })
}

/// `doc` without its account principals (`<acct>`, `arn:aws:iam::<acct>:root`)
/// in Allow statements: the grants that need no identity policy of a caller
/// in the resource's own account. Deny statements stay whole.
fn direct_grants(doc: &PolicyDocument) -> PolicyDocument {
    use crate::iam::{Effect, Principal};
    let is_account = |v: &str| {
        contract::is_account_id(v)
            || v.strip_prefix("arn:aws:iam::")
                .and_then(|r| r.strip_suffix(":root"))
                .is_some_and(contract::is_account_id)
    };
    let mut out = doc.clone();
    out.statement.retain_mut(|st| {
        if st.effect != Some(Effect::Allow) {
            return true;
        }
        let Some(Principal::Map(m)) = &mut st.principal else {
            return true;
        };
        if let Some(v) = m.get_mut("AWS") {
            v.0.retain(|x| !is_account(x));
            if v.0.is_empty() {
                m.remove("AWS");
            }
        }
        !m.is_empty()
    });
    out
}

/// [`no_new_access`] for every document of `input` against the rendered set:
/// each document is matched to the rendered one of its kind
/// ([`super::Input::kinds_of`], driven by [`Documents::all`]), and the scope of
/// the question (holder, governed resources) is one exhaustive `match` on the
/// kind, so a document kind added later cannot be left out.
///
/// [`Documents::all`]: crate::iam::documents::Documents::all
pub fn no_new_access_all(
    input: &super::Input,
    rendered: &crate::iam::documents::Documents,
) -> Vec<Finding> {
    use crate::iam::documents::DocKind;
    let e: &Expect = &input.expect;
    let mut out = Vec::new();
    let mut seen: Vec<(DocKind, &PolicyDocument, String)> = Vec::new();
    // A bucket policy governs the bucket it is attached to, never whatever its own
    // statements name (issue 24). Sources that attach it (plans, templates) give the bucket
    // in `input.bucket_policies`; a committed `policies/*.json` is the render's, for the
    // bucket its kind names (the example customer bucket for the customer policy).
    let governed = |kind: DocKind| match kind {
        DocKind::PhrBucketPolicy => e.phr_bucket.clone(),
        DocKind::LogBucketPolicy => crate::model::log_bucket_name(&e.phr_bucket),
        _ => contract::bucket_name(&e.bucket_prefix, crate::iam::documents::EXAMPLE_CUSTOMER)
            .unwrap_or_default(),
    };
    for (kind, d) in input.kinds_of() {
        let own;
        let r = match kind {
            // A provider-5 plan cannot hold the URL condition: the documented gap.
            DocKind::FunctionUrlPolicy if input.url_condition_gap => {
                own = crate::iam::documents::without_invoked_via_url(&rendered.function_url_policy);
                &own
            }
            DocKind::CustomerBucketPolicy => {
                // Customer bucket policies differ only by bucket name: render this one's.
                let bucket = input
                    .bucket_policies
                    .iter()
                    .find(|b| std::ptr::eq(&b.doc, d))
                    .map_or_else(|| governed(kind), |b| b.bucket.clone());
                own = crate::iam::documents::bucket_policy(&bucket, &e.readers);
                &own
            }
            k => match rendered.get(k) {
                Some(r) => r,
                None => {
                    // Not rendered for this environment (a key policy without
                    // security.kms_key): anything it allows is new.
                    own = PolicyDocument::new(Vec::new());
                    &own
                }
            },
        };
        let storage_role = contract::storage_role_arn(&d.account);
        let bucket_res = |bucket: Option<&str>| {
            let b = bucket.map_or_else(|| governed(kind), str::to_owned);
            let arn = contract::bucket_arn(&b);
            vec![arn.clone(), format!("{arn}/*")]
        };
        let bucket_of_doc = input
            .bucket_policies
            .iter()
            .find(|b| std::ptr::eq(&b.doc, d))
            .map(|b| b.bucket.as_str());
        let (ekind, holder, resources): (eval::Kind, Option<String>, Vec<String>) = match kind {
            DocKind::LambdaTrust => (eval::Kind::Resource, None, vec![e.lambda_role_arn.clone()]),
            DocKind::LambdaExecution | DocKind::ExecutionBoundary => (
                eval::Kind::Identity,
                Some(e.lambda_role_arn.clone()),
                vec![],
            ),
            DocKind::StorageTrust => (eval::Kind::Resource, None, vec![storage_role]),
            DocKind::StorageManagement => (eval::Kind::Identity, Some(storage_role), vec![]),
            DocKind::PhrBucketPolicy | DocKind::CustomerBucketPolicy | DocKind::LogBucketPolicy => {
                (eval::Kind::Resource, None, bucket_res(bucket_of_doc))
            }
            DocKind::FunctionUrlPolicy => (
                eval::Kind::Resource,
                None,
                vec![e.function_arn.clone(), format!("{}:*", e.function_arn)],
            ),
            // The deployer policy is attached to whoever applies the stack.
            DocKind::Deployer => (eval::Kind::Identity, None, vec![]),
            DocKind::KmsKeyPolicy => (
                eval::Kind::Resource,
                None,
                vec![format!("arn:aws:kms:*:{}:key/*", d.account)],
            ),
        };
        // Storage documents are usually identical: decide each distinct one once.
        let res_key = resources.join(",") + holder.as_deref().unwrap_or_default();
        let dedup_key = if matches!(kind, DocKind::StorageTrust | DocKind::StorageManagement) {
            String::new()
        } else {
            res_key
        };
        if seen
            .iter()
            .any(|(k, doc, key)| *k == kind && *doc == &d.doc && *key == dedup_key)
        {
            continue;
        }
        seen.push((kind, &d.doc, dedup_key));
        out.extend(no_new_access(d, r, ekind, holder.as_deref(), &resources));
    }
    out
}

/// The customer-managed key: nothing outside [`intent::kms_key`] may use or
/// manage it (decided over every principal, `kms:*` action and context), and
/// the readers (through S3, for a PHR object) and CloudWatch Logs (for the
/// function's log group) can use it.
pub(super) fn kms_key(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let Some(doc) = &input.kms_key_policy else {
        return;
    };
    let key = format!(
        "arn:aws:kms:{}:{}:key/customer-managed",
        intent::region(e),
        doc.account
    );
    let named = [Named::resource(&doc.name, &doc.doc)];
    let want = intent::kms_key(e);
    let want_n = [Named::resource("intent", &want)];
    let scope = Scope::open().action(Values::Like(vec!["kms:*".into()]));
    let g = gap(&[&named], &[&want_n], &scope);
    cx.witness(
        KMS_KEY_OPEN,
        doc,
        eval::Kind::Resource,
        &key,
        "the key policy lets someone outside the intent use or manage the key",
        g,
    );
    let region = intent::region(e);
    let bucket = contract::bucket_arn(&e.phr_bucket);
    for r in &e.readers {
        let acct = eval::arn_account(r).unwrap_or_default().to_owned();
        let req = Request::new(Caller::Aws(r.clone()), "kms:Decrypt", &key)
            .with("kms:ViaService", [format!("s3.{region}.amazonaws.com")])
            .with("kms:CallerAccount", [acct])
            .with("kms:EncryptionContext:aws:s3:arn", [bucket.clone()]);
        let d = eval::evaluate(&named, &req);
        if !d.allowed() {
            cx.cannot(
                KMS_KEY_USER_DENIED,
                doc,
                &key,
                &format!("reader {r} is not allowed kms:Decrypt through S3 for {bucket}"),
                &d,
            );
        }
    }
    let log_group = format!(
        "arn:aws:logs:{region}:{}:log-group:/aws/lambda/{}",
        e.primary_account,
        e.function_arn.rsplit(':').next().unwrap_or_default()
    );
    let logs = format!("logs.{region}.amazonaws.com");
    for action in ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"] {
        let req = Request::new(Caller::Service(logs.clone()), action, &key)
            .with("kms:EncryptionContext:aws:logs:arn", [log_group.clone()]);
        let d = eval::evaluate(&named, &req);
        if !d.allowed() {
            cx.cannot(
                KMS_KEY_USER_DENIED,
                doc,
                &key,
                &format!("{logs} is not allowed {action} for {log_group}"),
                &d,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cut document decides every request on its resource as the whole
    /// document does: outcome and cited statements, for listed, unlisted,
    /// wildcard-matched and `NotResource`-excluded roles.
    #[test]
    fn cut_document_decides_as_the_whole_one() {
        let roles: Vec<String> = (0..40)
            .map(|i| {
                format!(
                    "arn:aws:iam::{:012}:role/S3BucketManager",
                    200_000_000_000u64 + i
                )
            })
            .collect();
        let doc = PolicyDocument::new(vec![
            Statement::allow("Listed")
                .actions(["sts:AssumeRole"])
                .resources(roles.iter().take(30).map(String::as_str)),
            Statement::allow("Wild")
                .actions(["sts:AssumeRole"])
                .resources([
                    "arn:aws:iam::2000000000?5:role/*",
                    "arn:aws:iam::200000000002:role/S3BucketManager",
                ]),
            Statement {
                effect: Some(Effect::Deny),
                action: Some(crate::iam::Values(vec!["sts:*".into()])),
                resource: Some(crate::iam::Values(vec![
                    roles[3].clone(),
                    roles[33].clone(),
                ])),
                ..Statement::default()
            },
            Statement {
                effect: Some(Effect::Deny),
                action: Some(crate::iam::Values(vec!["sts:AssumeRole".into()])),
                not_resource: Some(crate::iam::Values(vec![
                    "arn:aws:iam::*:role/S3BucketManager".into(),
                ])),
                ..Statement::default()
            },
        ]);
        let cut = ByResource::new(&doc);
        let caller = Caller::Aws("arn:aws:iam::300000000001:role/x".into());
        let mut others = roles.clone();
        others.push("arn:aws:iam::200000000005:role/Other".into());
        let mut allowed = 0;
        for r in &others {
            let req = Request::new(caller.clone(), "sts:AssumeRole", r);
            let whole = eval::evaluate(&[Named::identity("d", &doc)], &req);
            let own = cut.on(r);
            let part = eval::evaluate(&[Named::identity("d", &own)], &req);
            assert_eq!(whole.outcome, part.outcome, "{r}");
            let cited = |d: &eval::Decision| -> Vec<usize> {
                d.statements.iter().map(|s| s.index).collect()
            };
            assert_eq!(cited(&whole), cited(&part), "{r}");
            allowed += usize::from(whole.allowed());
        }
        // Listed, wildcard-matched, denied and unlisted roles all occur.
        assert!((20..others.len()).contains(&allowed), "{allowed}");
    }
}
