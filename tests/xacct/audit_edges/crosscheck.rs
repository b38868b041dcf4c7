//! The brute-force cross-check of issue 24. Random mutations (one to three
//! stacked edits) of the rendered documents are decided by `eval::decide`
//! against the rendered document ("no new access"), and every request of a
//! finite universe built from the documents' literals is evaluated by the plain
//! evaluator. The universe takes each literal, the literal with its wildcards
//! filled in, with one character changed, the empty string, absent and present
//! for every condition key, and values no pattern mentions; it knows nothing of
//! cells or automata. Checked:
//! 1. the decider says "no request outside the rendered document": no request
//!    of the universe is allowed by the mutation and denied by the render;
//! 2. the decider gives a counterexample: it is a real request (a principal of
//!    the domain, the ARN shape of its action's service, every always-present
//!    key set) that the mutation allows and the render denies;
//! 3. `audit::no_new_access` agrees: a finding (XA023, or XA022) whenever the
//!    universe holds such a request, none when the decider says none.
//!
//! `cargo test` runs a few cases; `XACCT_CROSSCHECK_CASES=20000` the long run.

use proptest::prelude::*;
use serde_json::Value;

use crate::support::audit_tables::load;
use xacct::audit::{self, Doc};
use xacct::eval::decide::{self, Answer, Scope, Values};
use xacct::eval::{self, Caller, Kind, Named, Request, catalog, context};
use xacct::iam::PolicyDocument;

/// One document under test and how "no new access" scopes it.
#[derive(Clone)]
struct Target {
    kind: Kind,
    holder: Option<String>,
    resources: Vec<String>,
    rendered: PolicyDocument,
    /// The account that holds the document (its own principals may use a
    /// direct grant without any identity policy).
    account: String,
}

const TARGETS: &[&str] = &["trust", "mgmt", "exec", "ltrust", "url", "phr"];

/// [`load_target`], once per environment and document.
fn target(tag: &str, t: &str) -> Target {
    static CACHE: std::sync::Mutex<Vec<(String, Target)>> = std::sync::Mutex::new(Vec::new());
    let key = format!("{tag} {t}");
    let mut c = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, hit)) = c.iter().find(|(k, _)| *k == key) {
        return hit.clone();
    }
    let tg = load_target(tag, t);
    c.push((key, tg.clone()));
    tg
}

fn load_target(tag: &str, t: &str) -> Target {
    let (env, _, docs) = load(tag);
    let role = xacct::contract::storage_role_arn(&env.storage_accounts[0]);
    let phr = xacct::contract::bucket_arn(&env.phr.bucket);
    let f = env.function_arn();
    let account = match t {
        "trust" | "mgmt" => env.storage_accounts[0].clone(),
        "phr" => env.phr.account.clone(),
        _ => env.primary_account.clone(),
    };
    let (kind, holder, resources, rendered) = match t {
        "trust" => (Kind::Resource, None, vec![role], docs.storage_trust),
        "mgmt" => (Kind::Identity, Some(role), vec![], docs.storage_management),
        "exec" => (
            Kind::Identity,
            Some(env.lambda_role_arn()),
            vec![],
            docs.lambda_execution,
        ),
        "ltrust" => (
            Kind::Resource,
            None,
            vec![env.lambda_role_arn()],
            docs.lambda_trust,
        ),
        "url" => (
            Kind::Resource,
            None,
            vec![f.clone(), format!("{f}:*")],
            docs.function_url_policy,
        ),
        _ => (
            Kind::Resource,
            None,
            vec![phr.clone(), format!("{phr}/*")],
            docs.phr_bucket_policy,
        ),
    };
    Target {
        kind,
        holder,
        resources,
        rendered,
        account,
    }
}

// ---- mutations -------------------------------------------------------------

/// Every string leaf of a statement (not `Effect`, `Sid`), as JSON pointers.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if k != "Effect" && k != "Sid" {
                    leaves(
                        x,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
        }
        _ => {}
    }
}

/// One character of `s` changed (at `at`), or `s` with a character inserted when empty.
fn one_char(s: &str, at: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return "x".to_owned();
    }
    let i = at % chars.len();
    let mut c = chars.clone();
    c[i] = if c[i] == 'x' { 'y' } else { 'x' };
    c.into_iter().collect()
}

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIfExists",
    "StringNotEqualsIfExists",
    "StringEqualsIgnoreCase",
    "ArnLike",
    "ArnNotLike",
    "ArnEquals",
    "Bool",
    "BoolIfExists",
    "Null",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
];

const KEYS: &[&str] = &[
    "aws:SecureTransport",
    "aws:PrincipalTag/team",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:SourceAccount",
    "aws:ResourceAccount",
    "aws:RequestedRegion",
    "sts:ExternalId",
    "s3:prefix",
];

/// Applies mutation `(kind, a, b)` to `doc`; `literals` feed new values.
fn mutate(doc: &mut Value, (kind, a, b): (u8, usize, usize), literals: &[String]) {
    let Some(sts) = doc.get_mut("Statement").and_then(Value::as_array_mut) else {
        return;
    };
    if sts.is_empty() {
        return;
    }
    let i = a % sts.len();
    match kind % 8 {
        // A literal: one character, a wildcard tail, `?`, empty, `*`, another literal.
        0 | 1 => {
            let mut ls = Vec::new();
            leaves(&sts[i], String::new(), &mut ls);
            if ls.is_empty() {
                return;
            }
            let p = &ls[b % ls.len()];
            if let Some(Value::String(s)) = sts[i].pointer_mut(p) {
                let n = s.chars().count().max(1);
                *s = match (b / 7) % 6 {
                    0 => one_char(s, b / 3),
                    1 => s.chars().take(b % n).chain(['*']).collect(),
                    2 => s
                        .chars()
                        .enumerate()
                        .map(|(j, c)| if j == b % n { '?' } else { c })
                        .collect(),
                    3 => String::new(),
                    4 => "*".to_owned(),
                    _ => literals[b % literals.len()].clone(),
                };
            }
        }
        // Resource <-> NotResource, Action <-> NotAction, Principal <-> NotPrincipal.
        2 => {
            let st = sts[i].as_object_mut().unwrap();
            let pairs = [
                ("Resource", "NotResource"),
                ("Action", "NotAction"),
                ("Principal", "NotPrincipal"),
            ];
            let (x, y) = pairs[b % 3];
            if let Some(v) = st.remove(x) {
                st.insert(y.to_owned(), v);
            } else if let Some(v) = st.remove(y) {
                st.insert(x.to_owned(), v);
            }
        }
        // Effect.
        3 => {
            let st = sts[i].as_object_mut().unwrap();
            let deny = st.get("Effect").and_then(Value::as_str) == Some("Deny");
            st.insert(
                "Effect".into(),
                Value::String(if deny { "Allow" } else { "Deny" }.into()),
            );
        }
        // A new condition.
        4 | 5 => {
            let op = OPERATORS[b % OPERATORS.len()];
            let key = KEYS[(b / OPERATORS.len()) % KEYS.len()];
            let value = match (a / 3) % 5 {
                0 => String::new(),
                1 => "true".to_owned(),
                2 => "false".to_owned(),
                3 => one_char(&literals[b % literals.len()], a),
                _ => literals[(a + b) % literals.len()].clone(),
            };
            let st = sts[i].as_object_mut().unwrap();
            let cond = st
                .entry("Condition")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(c) = cond.as_object_mut() {
                let block = c
                    .entry(op)
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Some(bl) = block.as_object_mut() {
                    bl.insert(key.to_owned(), Value::Array(vec![Value::String(value)]));
                }
            }
        }
        // A copy of the statement with one literal changed.
        6 => {
            let mut copy = sts[i].clone();
            let mut ls = Vec::new();
            leaves(&copy, String::new(), &mut ls);
            if let Some(p) = ls.get(b % ls.len().max(1))
                && let Some(Value::String(s)) = copy.pointer_mut(p)
            {
                *s = one_char(s, a);
            }
            sts.push(copy);
        }
        // Remove a statement.
        _ => {
            if sts.len() > 1 {
                sts.remove(i);
            }
        }
    }
}

// ---- the universe ----------------------------------------------------------

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| *k != "Effect" && *k != "Sid" && *k != "Version")
            .for_each(|(_, x)| strings(x, out)),
        _ => {}
    }
}

/// A literal, its wildcards filled in two ways, and one character changed.
fn variants(s: &str) -> Vec<String> {
    let mut v = vec![
        s.to_owned(),
        s.replace('*', "").replace('?', "y"),
        s.replace('*', "zq").replace('?', "y"),
    ];
    let n = s.chars().count();
    if n > 0 {
        v.push(one_char(s, n - 1));
        v.push(one_char(s, n / 2));
    }
    v
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Independent of the decider: does `s` have the shape of catalog ARN `format`?
fn shape(format: &str, s: &str) -> bool {
    fn go(f: &[char], s: &[char]) -> bool {
        if f.is_empty() {
            return s.is_empty();
        }
        if f.len() > 1 && f[0] == '$' && f[1] == '{' {
            let end = f.iter().position(|c| *c == '}').unwrap();
            let var: String = f[2..end].iter().collect();
            let rest = &f[end + 1..];
            let ok = |c: char| match var.as_str() {
                "Account" => c.is_ascii_digit(),
                "Region" => c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
                "BucketName" => c.is_ascii_alphanumeric() || ".-_".contains(c),
                "ObjectName" => true,
                _ => c != ':',
            };
            if var == "Partition" {
                return s.starts_with(&['a', 'w', 's']) && go(rest, &s[3..]);
            }
            let (min, max) = match var.as_str() {
                "Account" => (12, 12),
                "BucketName" => (3, usize::MAX),
                _ => (1, usize::MAX),
            };
            let mut n = 0;
            while n < s.len() && n < max && ok(s[n]) {
                n += 1;
            }
            return (min..=n).rev().any(|k| go(rest, &s[k..]));
        }
        !s.is_empty() && f[0] == s[0] && go(&f[1..], &s[1..])
    }
    let f: Vec<char> = format.chars().collect();
    let s: Vec<char> = s.chars().collect();
    go(&f, &s)
}

/// A request the decider may answer with: principal, action and resource as AWS makes them.
fn real(r: &Request) -> Result<(), String> {
    let principal_ok = match &r.caller {
        Caller::Aws(a) => {
            let rest = a.strip_prefix("arn:aws:iam::").unwrap_or("");
            let (acct, name) = rest.split_once(':').unwrap_or(("", ""));
            acct.len() == 12
                && acct.bytes().all(|b| b.is_ascii_digit())
                && (name == "root"
                    || (name.starts_with("role/") || name.starts_with("user/"))
                        && name.len() > 5
                        && !name.contains(':'))
        }
        Caller::Service(s) => s.ends_with(".amazonaws.com") && s.len() > 14,
        Caller::Anonymous => true,
    };
    if !principal_ok {
        return Err(format!("principal {:?}", r.caller));
    }
    let service = r.action.split(':').next().unwrap_or_default();
    let resource_ok = if !catalog::covers(&r.action) {
        !r.resource.is_empty()
    } else if catalog::without_resource(&r.action) {
        r.resource == "*"
    } else {
        formats(service).iter().any(|f| shape(f, &r.resource))
    };
    if !resource_ok {
        return Err(format!("{} on {}", r.action, r.resource));
    }
    for (k, _) in context::ALWAYS_PRESENT {
        if r.get(k).is_none() {
            return Err(format!("{k} absent"));
        }
    }
    Ok(())
}

/// `catalog::resource_formats`, once per service.
fn formats(service: &str) -> &'static [&'static str] {
    static F: std::sync::OnceLock<Vec<(&'static str, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    F.get_or_init(|| {
        catalog::SERVICES
            .iter()
            .map(|s| (*s, catalog::resource_formats(s)))
            .collect()
    })
    .iter()
    .find(|(s, _)| s.eq_ignore_ascii_case(service))
    .map_or(&[], |(_, f)| f.as_slice())
}

struct Universe {
    principals: Vec<Caller>,
    actions: Vec<String>,
    resources: Vec<String>,
    /// Condition key (lowercased) and the values it takes (`None`: absent).
    keys: Vec<(String, Vec<Option<Vec<String>>>)>,
}

const DERIVED: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalservicename",
];

fn universe(t: &Target, cand: &Value, rend: &Value) -> Universe {
    let mut lits = Vec::new();
    strings(cand, &mut lits);
    strings(rend, &mut lits);
    lits.extend(t.resources.iter().cloned());
    lits.extend(t.holder.iter().cloned());
    let mut vars = Vec::new();
    for l in &lits {
        for v in variants(l) {
            push_unique(&mut vars, v);
        }
    }
    // Principals.
    let mut principals: Vec<Caller> = Vec::new();
    match &t.holder {
        Some(h) => principals.push(Caller::Aws(h.clone())),
        None => {
            let mut ps = Vec::new();
            for v in &vars {
                if v.starts_with("arn:aws:iam::") {
                    push_unique(&mut ps, v.clone());
                } else if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
                    push_unique(&mut ps, format!("arn:aws:iam::{v}:root"));
                    push_unique(&mut ps, format!("arn:aws:iam::{v}:role/zq"));
                }
            }
            push_unique(&mut ps, "arn:aws:iam::999999999999:role/zq".into());
            principals.extend(ps.into_iter().map(Caller::Aws));
            for v in &vars {
                if v.ends_with(".amazonaws.com") {
                    principals.push(Caller::Service(v.clone()));
                }
            }
            principals.push(Caller::Service("ec2.amazonaws.com".into()));
            principals.push(Caller::Anonymous);
        }
    }
    principals.retain(|c| real(&Request::new(c.clone(), "ec2:x", "x").with_always()).is_ok());
    principals.truncate(8);
    // Actions: what each action pattern expands to (first and last), and a few more.
    let mut actions = Vec::new();
    for l in &lits {
        if l.contains(':') && !l.starts_with("arn:") && !l.contains('/') {
            let e = catalog::expand(&l.to_ascii_lowercase());
            for a in e.iter().take(2).chain(e.iter().rev().take(1)) {
                push_unique(&mut actions, a.name.to_owned());
            }
        }
    }
    for a in [
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListAllMyBuckets",
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
        "lambda:InvokeFunctionUrl",
        "iam:PassRole",
        "ec2:RunInstances",
    ] {
        push_unique(&mut actions, a.to_owned());
    }
    // Resources: ARN-like variants, `*`, an object under each bucket.
    let mut resources = vec!["*".to_owned()];
    for v in &vars {
        if v.starts_with("arn:") {
            push_unique(&mut resources, v.clone());
            if v.starts_with("arn:aws:s3:::") && !v.contains('/') {
                push_unique(&mut resources, format!("{v}/k"));
            }
        }
    }
    // Keys: every condition key of either document.
    let mut names: Vec<String> = Vec::new();
    // Keys used with a set operator take several values at once.
    let mut multi: Vec<String> = Vec::new();
    for d in [cand, rend] {
        for st in d["Statement"].as_array().into_iter().flatten() {
            for ops in st.get("Condition").and_then(Value::as_object).into_iter() {
                for (op, keys) in ops {
                    for k in keys.as_object().into_iter().flat_map(|m| m.keys()) {
                        push_unique(&mut names, k.to_ascii_lowercase());
                        if op.starts_with("For") {
                            push_unique(&mut multi, k.to_ascii_lowercase());
                        }
                    }
                }
            }
        }
    }
    names.retain(|k| !DERIVED.contains(&k.as_str()));
    let keys = names
        .into_iter()
        .map(|k| {
            let mut vals: Vec<Option<Vec<String>>> = Vec::new();
            let mut singles: Vec<String> = vec![String::new(), "true".into(), "false".into()];
            singles.push("unmentioned-value".into());
            for v in &vars {
                if singles.len() > 16 {
                    break;
                }
                push_unique(&mut singles, v.clone());
            }
            singles.retain(|v| match context::domain(&k) {
                context::Domain::Boolean => v == "true" || v == "false",
                context::Domain::NonEmpty => !v.is_empty(),
                context::Domain::Any => true,
            });
            if !context::always_present(&k) {
                vals.push(None);
            }
            let pair = (multi.contains(&k) && singles.len() > 1)
                .then(|| vec![singles[0].clone(), singles[1].clone()]);
            vals.extend(singles.into_iter().map(|v| Some(vec![v])));
            vals.extend(pair.map(Some));
            (k, vals)
        })
        .collect();
    Universe {
        principals,
        actions,
        resources,
        keys,
    }
}

trait WithAlways {
    fn with_always(self) -> Self;
}

impl WithAlways for Request {
    /// The always-present keys at their usual values (a document's key overrides them).
    fn with_always(mut self) -> Self {
        for (k, v) in context::ALWAYS_PRESENT {
            if self.get(k).is_none() {
                self = self.with(k, [*v]);
            }
        }
        self
    }
}

/// Every request of the universe inside the question's scope, each real. Keys
/// vary one at a time from "all absent" (always-present keys at each of their
/// values), and all together when there are few.
fn requests(u: &Universe, t: &Target) -> Vec<Request> {
    let in_scope =
        |r: &str| t.resources.is_empty() || t.resources.iter().any(|p| eval::glob(p, r, false));
    let mut assignments: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    for (k, (_, vals)) in u.keys.iter().enumerate() {
        for v in 0..vals.len() {
            assignments.push(vec![(k, v)]);
        }
    }
    if u.keys.len() == 2 {
        for a in 0..u.keys[0].1.len() {
            for b in 0..u.keys[1].1.len() {
                assignments.push(vec![(0, a), (1, b)]);
            }
        }
    }
    let mut out = Vec::new();
    for c in &u.principals {
        for a in &u.actions {
            for res in u.resources.iter().filter(|r| in_scope(r)) {
                let base = Request::new(c.clone(), a, res);
                for asg in &assignments {
                    let mut r = base.clone();
                    // Keys not in the assignment: absent, or their first value when always present.
                    for (k, (name, vals)) in u.keys.iter().enumerate() {
                        let pick = asg.iter().find(|(kk, _)| *kk == k).map_or(0, |(_, v)| *v);
                        if let Some(v) = &vals[pick] {
                            r = r.with(name, v.iter().cloned());
                        }
                    }
                    if name_is_resource_account(u) {
                        r = resource_account(r);
                    }
                    let r = r.with_always();
                    if real(&r).is_ok() {
                        out.push(r);
                    }
                }
            }
        }
    }
    out
}

fn name_is_resource_account(u: &Universe) -> bool {
    u.keys.iter().any(|(k, _)| k == "aws:resourceaccount")
}

/// `aws:ResourceAccount` is the resource ARN's account when it has one.
fn resource_account(r: Request) -> Request {
    match r.resource.split(':').nth(4).filter(|a| !a.is_empty()) {
        Some(a) => {
            let a = a.to_owned();
            r.with("aws:ResourceAccount", [a])
        }
        None => r,
    }
}

#[derive(Default, Debug)]
pub struct Stats {
    pub calls: usize,
    pub cases: usize,
    pub empty: usize,
    pub witness: usize,
    pub unknown: usize,
    pub requests: usize,
    pub gaps: usize,
    /// Cases whose universe holds a request granted directly by the mutation only.
    pub direct_gaps: usize,
}

/// Runs one case; `Err` describes a disagreement.
fn check(
    tag: &str,
    t: &str,
    steps: &[(u8, usize, usize)],
    stats: &mut Stats,
) -> Result<(), String> {
    let tg = target(tag, t);
    let rend = serde_json::to_value(&tg.rendered).unwrap();
    let mut literals = Vec::new();
    strings(&rend, &mut literals);
    let mut cand = rend.clone();
    for s in steps {
        mutate(&mut cand, *s, &literals);
    }
    let Ok(doc) = PolicyDocument::from_json(&cand.to_string()) else {
        return Ok(());
    };
    let cand = serde_json::to_value(&doc).unwrap();
    let cn = [Named {
        name: "candidate",
        kind: tg.kind,
        doc: &doc,
    }];
    let rn = [Named {
        name: "rendered",
        kind: tg.kind,
        doc: &tg.rendered,
    }];
    let mut scope = Scope::open();
    if let Some(h) = &tg.holder {
        scope = scope.principal(Values::Fixed(h.clone()));
    }
    if !tg.resources.is_empty() {
        scope = scope.resource(Values::Like(tg.resources.clone()));
    }
    let answer = decide::find(&[&cn], &[&rn], &scope);
    let u = universe(&tg, &cand, &rend);
    let reqs = requests(&u, &tg);
    stats.cases += 1;
    stats.requests += reqs.len();
    let gap = reqs
        .iter()
        .find(|r| eval::evaluate(&cn, r).allowed() && !eval::evaluate(&rn, r).allowed());
    let show = || {
        format!(
            "{tag} {t} {steps:?}\n{}",
            serde_json::to_string(&doc).unwrap()
        )
    };
    match &answer {
        Answer::Empty => {
            stats.empty += 1;
            if let Some(r) = gap {
                return Err(format!(
                    "decided empty, but the universe allows {r:?}\n{}",
                    show()
                ));
            }
        }
        Answer::Witness(w) => {
            stats.witness += 1;
            real(w).map_err(|e| {
                format!("counterexample is no real request ({e}): {w:?}\n{}", show())
            })?;
            if !eval::evaluate(&cn, w).allowed() || eval::evaluate(&rn, w).allowed() {
                return Err(format!("counterexample not confirmed: {w:?}\n{}", show()));
            }
        }
        Answer::Unknown(_) => stats.unknown += 1,
    }
    if gap.is_some() {
        stats.gaps += 1;
    }
    // A resource policy's grant that names a principal of its own account (or
    // `*`) needs no identity policy; one through the account (`:root`) does.
    // A request the mutation grants directly and the render only through the
    // account (or not at all) is new access too (`no_new_access`'s second
    // question), decided here by the plain evaluator's `via_account`.
    let direct = |docs: &[Named], r: &Request| {
        let d = eval::evaluate(docs, r);
        d.allowed() && d.statements.iter().any(|s| !s.via_account)
    };
    let own = format!("arn:aws:iam::{}:", tg.account);
    let gap_direct = (tg.kind == Kind::Resource && tg.holder.is_none())
        .then(|| {
            reqs.iter().find(|r| {
                matches!(&r.caller, Caller::Aws(a) if a.starts_with(&own) && !a.ends_with(":root"))
                    && direct(&cn, r)
                    && !direct(&rn, r)
            })
        })
        .flatten();
    // The audit's own "no new access" agrees.
    let d = Doc {
        name: "candidate".into(),
        account: tg.account.clone(),
        doc: doc.clone(),
    };
    let f = audit::no_new_access(
        &d,
        &tg.rendered,
        tg.kind,
        tg.holder.as_deref(),
        &tg.resources,
    );
    match (&f, gap.or(gap_direct), &answer) {
        (None, Some(r), _) => {
            return Err(format!(
                "no_new_access is clean, but the universe allows {r:?}\n{}",
                show()
            ));
        }
        // Found beyond the first question: only by the direct-grant question.
        (Some(f), None, Answer::Empty) if !f.message.contains("grants a request directly") => {
            return Err(format!(
                "no_new_access found {f:?} where the decider found nothing\n{}",
                show()
            ));
        }
        _ => {}
    }
    if gap_direct.is_some() {
        stats.direct_gaps += 1;
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("XACCT_CROSSCHECK_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

static STATS: std::sync::Mutex<Stats> = std::sync::Mutex::new(Stats {
    calls: 0,
    cases: 0,
    empty: 0,
    witness: 0,
    unknown: 0,
    requests: 0,
    gaps: 0,
    direct_gaps: 0,
});

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decider_agrees_with_the_plain_evaluator_on_a_brute_force_universe(
        tag in prop::sample::select(vec!["dev", "uat", "disc", "xid", "prod"]),
        t in 0usize..TARGETS.len(),
        steps in prop::collection::vec((any::<u8>(), 0usize..64, 0usize..4096), 1..4),
    ) {
        let mut stats = STATS.lock().unwrap_or_else(|e| e.into_inner());
        stats.calls += 1;
        let r = check(tag, TARGETS[t], &steps, &mut stats);
        if stats.calls.is_multiple_of(250) || stats.calls as u32 == cases() {
            eprintln!("crosscheck: {stats:?}");
        }
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}
