//! Offline IAM policy evaluation over [`crate::iam::PolicyDocument`].
//!
//! Pure: no AWS calls, no I/O, no clocks. Implements the parts of the AWS
//! evaluation logic that identity policies, role trust policies and bucket
//! policies of this project use: default deny, explicit deny wins,
//! `Action`/`NotAction` (case-insensitive, `*` and `?`), `Resource`/`NotResource`
//! (case-sensitive wildcard match), `Principal`/`NotPrincipal` (ARNs, account IDs
//! and `:root`, services, `*`) and the `String*`, `Arn*`, `Bool` and `Null`
//! condition operators with the `IfExists` suffix and the `ForAnyValue:` /
//! `ForAllValues:` prefixes. Any other operator makes its condition false and is
//! reported in [`Decision::unsupported`], so an audit never silently trusts it.
//!
//! Every [`Decision`] names the statements (document, index, `Sid`) that produced it.

pub mod catalog;
pub mod context;
pub mod decide;
pub mod pattern;

use std::collections::BTreeMap;

use crate::iam::{Effect, PolicyDocument, Principal, Statement};

/// Who makes a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An IAM principal ARN: `arn:aws:iam::<acct>:root`, `...:role/<name>`, `...:user/<name>`.
    Aws(String),
    /// An AWS service principal such as `lambda.amazonaws.com`.
    Service(String),
    /// An unauthenticated request.
    Anonymous,
}

impl Caller {
    /// The account of an IAM principal ARN.
    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Aws(arn) => arn_account(arn),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Caller::Aws(a) => a.clone(),
            Caller::Service(s) => format!("service {s}"),
            Caller::Anonymous => "anonymous".to_owned(),
        }
    }
}

pub use crate::contract::arn_account;

/// One request: principal, action, resource and the request context.
#[derive(Debug, Clone)]
pub struct Request {
    pub caller: Caller,
    pub action: String,
    pub resource: String,
    /// Condition keys, lowercased (IAM condition keys are case-insensitive), each multi-valued.
    context: BTreeMap<String, Vec<String>>,
}

impl Request {
    /// A request; `aws:PrincipalArn`, `aws:PrincipalAccount` (IAM principals) and
    /// `aws:PrincipalServiceName` (services) are set as AWS sets them.
    pub fn new(caller: Caller, action: &str, resource: &str) -> Self {
        let mut r = Request {
            caller: caller.clone(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            context: BTreeMap::new(),
        };
        match &caller {
            Caller::Aws(arn) => {
                r = r.with("aws:PrincipalArn", [arn.as_str()]);
                if let Some(a) = arn_account(arn) {
                    r = r.with("aws:PrincipalAccount", [a]);
                }
            }
            Caller::Service(s) => r = r.with("aws:PrincipalServiceName", [s.as_str()]),
            Caller::Anonymous => {}
        }
        r
    }

    /// Sets a (multi-valued) condition key; replaces an earlier value.
    pub fn with<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.context.insert(
            key.to_ascii_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Removes a condition key.
    pub fn without(mut self, key: &str) -> Self {
        self.context.remove(&key.to_ascii_lowercase());
        self
    }

    /// Every condition key (lowercased) and its values.
    pub fn context(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.context.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.context
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }
}

/// Whether a document is attached to the principal (no `Principal` element) or
/// to the resource (must name principals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Identity,
    Resource,
}

/// A document with the name decisions cite.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    pub name: &'a str,
    pub kind: Kind,
    pub doc: &'a PolicyDocument,
}

impl<'a> Named<'a> {
    pub fn identity(name: &'a str, doc: &'a PolicyDocument) -> Self {
        Named {
            name,
            kind: Kind::Identity,
            doc,
        }
    }

    pub fn resource(name: &'a str, doc: &'a PolicyDocument) -> Self {
        Named {
            name,
            kind: Kind::Resource,
            doc,
        }
    }
}

/// A statement that contributed to a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub document: String,
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// The statement matched the caller only through its account
    /// (`<acct>`, `arn:aws:iam::<acct>:root`), which delegates to identity policies.
    pub via_account: bool,
}

impl StatementRef {
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) => format!("{}#{} ({s})", self.document, self.index),
            None => format!("{}#{}", self.document, self.index),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// The result of an evaluation and the statements behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// Deny statements for `ExplicitDeny`, allow statements for `Allow`, empty otherwise.
    pub statements: Vec<StatementRef>,
    /// Condition operators this evaluator does not implement (treated as false).
    pub unsupported: Vec<String>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    fn implicit() -> Self {
        Decision {
            outcome: Outcome::ImplicitDeny,
            statements: Vec::new(),
            unsupported: Vec::new(),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Allow => "ALLOW",
            Outcome::ExplicitDeny => "DENY (explicit)",
            Outcome::ImplicitDeny => "DENY (implicit: no statement allows)",
        })
    }
}

/// Evaluates one set of documents (all of one kind of authority) for a request.
pub fn evaluate(docs: &[Named<'_>], req: &Request) -> Decision {
    let mut allows = Vec::new();
    let mut denies = Vec::new();
    let mut unsupported = Vec::new();
    let resource = requested_resource(req);
    for d in docs {
        for (index, st) in d.doc.statement.iter().enumerate() {
            if let Some(via_account) =
                statement_applies(st, d.kind, req, resource, &mut unsupported)
            {
                let r = StatementRef {
                    document: d.name.to_owned(),
                    index,
                    sid: st.sid.clone(),
                    effect: st.effect.unwrap_or(Effect::Allow),
                    via_account,
                };
                match st.effect {
                    Some(Effect::Deny) => denies.push(r),
                    Some(Effect::Allow) => allows.push(r),
                    None => {}
                }
            }
        }
    }
    let (outcome, statements) = if !denies.is_empty() {
        (Outcome::ExplicitDeny, denies)
    } else if !allows.is_empty() {
        (Outcome::Allow, allows)
    } else {
        (Outcome::ImplicitDeny, Vec::new())
    };
    unsupported.sort();
    unsupported.dedup();
    Decision {
        outcome,
        statements,
        unsupported,
    }
}

/// The resource a request is evaluated on: `*` for an action the catalog lists
/// without a resource type (`s3:ListAllMyBuckets`: a statement on
/// `arn:aws:s3:::x-*` neither grants nor denies it), else its resource.
pub fn requested_resource(req: &Request) -> &str {
    if catalog::without_resource(&req.action) {
        "*"
    } else {
        &req.resource
    }
}

/// `Some(via_account)` when the statement applies to the request (on `resource`).
fn statement_applies(
    st: &Statement,
    kind: Kind,
    req: &Request,
    resource: &str,
    unsupported: &mut Vec<String>,
) -> Option<bool> {
    let via_account = match (kind, &st.principal, &st.not_principal) {
        (_, Some(p), _) => match principal_match(p, &req.caller)? {
            PrincipalMatch::Direct => false,
            PrincipalMatch::Account => true,
        },
        (_, None, Some(np)) => {
            if principal_match(np, &req.caller).is_some() {
                return None;
            }
            false
        }
        (Kind::Identity, None, None) => false,
        // A resource policy statement without a principal grants nobody.
        (Kind::Resource, None, None) => return None,
    };
    let action_ok = match (&st.action, &st.not_action) {
        (Some(a), _) => a.iter().any(|p| glob(p, &req.action, true)),
        (None, Some(na)) => !na.iter().any(|p| glob(p, &req.action, true)),
        (None, None) => false,
    };
    if !action_ok {
        return None;
    }
    let resource_ok = match (&st.resource, &st.not_resource) {
        (Some(r), _) => r.iter().any(|p| glob(p, resource, false)),
        (None, Some(nr)) => !nr.iter().any(|p| glob(p, resource, false)),
        // Trust policies have no Resource element: the role itself is the resource.
        (None, None) => kind == Kind::Resource,
    };
    if !resource_ok {
        return None;
    }
    for (operator, keys) in &st.condition {
        for (key, values) in keys {
            match condition(operator, req.get(key), &values.0) {
                Some(true) => {}
                Some(false) => return None,
                None => {
                    unsupported.push(operator.clone());
                    return None;
                }
            }
        }
    }
    Some(via_account)
}

enum PrincipalMatch {
    Direct,
    Account,
}

fn principal_match(p: &Principal, caller: &Caller) -> Option<PrincipalMatch> {
    match p {
        Principal::Any => Some(PrincipalMatch::Direct),
        Principal::Map(m) => {
            let mut best = None;
            for (kind, values) in m {
                for v in values.iter() {
                    let hit = match (kind.as_str(), caller) {
                        (_, _) if v == "*" && kind == "AWS" => Some(PrincipalMatch::Direct),
                        ("AWS", Caller::Aws(arn)) => aws_principal_match(v, arn),
                        ("Service", Caller::Service(s)) => {
                            v.eq_ignore_ascii_case(s).then_some(PrincipalMatch::Direct)
                        }
                        _ => None,
                    };
                    match hit {
                        Some(PrincipalMatch::Direct) => return Some(PrincipalMatch::Direct),
                        Some(PrincipalMatch::Account) => best = Some(PrincipalMatch::Account),
                        None => {}
                    }
                }
            }
            best
        }
    }
}

/// A policy-side AWS principal value against a caller ARN. Unique IDs
/// (`AROA…`, `AIDA…`) never match an ARN: they name a deleted principal.
fn aws_principal_match(value: &str, caller: &str) -> Option<PrincipalMatch> {
    let caller_account = arn_account(caller)?;
    if crate::contract::is_account_id(value) {
        return (value == caller_account).then_some(PrincipalMatch::Account);
    }
    if let Some(acct) = value
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
    {
        if acct == caller_account {
            return Some(if caller.ends_with(":root") {
                PrincipalMatch::Direct
            } else {
                PrincipalMatch::Account
            });
        }
        return None;
    }
    (value == caller).then_some(PrincipalMatch::Direct)
}

/// Wildcard match: `*` any run, `?` one character. Allocation-free on ASCII
/// (what policies hold); falls back to `char`s otherwise.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // No wildcard (a policy's literal ARNs, the common case): equality.
    // (`str::contains(char)` searches with memchr.)
    if pattern == text {
        return true;
    }
    if !pattern.contains('*') && !pattern.contains('?') {
        // Folding ASCII only, like the character comparison below.
        return if ignore_case {
            pattern.eq_ignore_ascii_case(text)
        } else {
            pattern == text
        };
    }
    if pattern.is_ascii() && text.is_ascii() {
        glob_items(
            pattern.as_bytes(),
            text.as_bytes(),
            |a, b| {
                if ignore_case {
                    a.eq_ignore_ascii_case(b)
                } else {
                    a == b
                }
            },
            b'*',
            b'?',
        )
    } else {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        glob_items(
            &p,
            &t,
            |a, b| {
                if ignore_case {
                    a.eq_ignore_ascii_case(b)
                } else {
                    a == b
                }
            },
            '*',
            '?',
        )
    }
}

fn glob_items<T: Copy + PartialEq>(
    p: &[T],
    t: &[T],
    eq: impl Fn(&T, &T) -> bool,
    star_c: T,
    any_c: T,
) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any_c || (p[pi] != star_c && eq(&p[pi], &t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star_c {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == star_c)
}

/// ARN matching of the `Arn*` operators: each of the six colon-separated
/// components is matched separately (the last one may contain colons).
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    let pp: Vec<&str> = pattern.splitn(6, ':').collect();
    let ap: Vec<&str> = arn.splitn(6, ':').collect();
    if pp.len() != 6 || ap.len() != 6 {
        return false;
    }
    pp.iter().zip(&ap).all(|(p, a)| glob(p, a, false))
}

/// `true` when this evaluator implements the condition operator.
pub fn operator_supported(operator: &str) -> bool {
    condition(operator, None, &[]).is_some()
}

#[derive(Clone, Copy)]
enum Set {
    Single,
    Any,
    All,
}

/// Evaluates one `operator: {key: values}` entry. `None`: operator not implemented.
fn condition(operator: &str, ctx: Option<&[String]>, policy: &[String]) -> Option<bool> {
    let (set, rest) = if let Some(r) = operator.strip_prefix("ForAnyValue:") {
        (Set::Any, r)
    } else if let Some(r) = operator.strip_prefix("ForAllValues:") {
        (Set::All, r)
    } else {
        (Set::Single, operator)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) if b != "Null" => (b, true),
        _ => (rest, false),
    };
    let ctx = ctx.filter(|v| !v.is_empty());
    if base == "Null" {
        let want_missing = policy.iter().any(|v| v.eq_ignore_ascii_case("true"));
        let want_present = policy.iter().any(|v| v.eq_ignore_ascii_case("false"));
        return Some(if ctx.is_none() {
            want_missing
        } else {
            want_present
        });
    }
    // An `Arn*` pattern with fewer than six components: AWS documents only the
    // six-component match, so this is not decided (reported, never "no match").
    if base.starts_with("Arn") && policy.iter().any(|p| p.splitn(6, ':').count() < 6) {
        return None;
    }
    let (matcher, negated): (fn(&str, &str) -> bool, bool) = match base {
        "StringEquals" => (|p, v| p == v, false),
        "StringNotEquals" => (|p, v| p == v, true),
        "StringEqualsIgnoreCase" => (|p, v| p.eq_ignore_ascii_case(v), false),
        "StringNotEqualsIgnoreCase" => (|p, v| p.eq_ignore_ascii_case(v), true),
        "StringLike" => (|p, v| glob(p, v, false), false),
        "StringNotLike" => (|p, v| glob(p, v, false), true),
        "ArnEquals" | "ArnLike" => (arn_like, false),
        "ArnNotEquals" | "ArnNotLike" => (arn_like, true),
        "Bool" => (|p, v| p.eq_ignore_ascii_case(v), false),
        _ => return None,
    };
    // One request value against the policy values (values are OR-ed; a negated
    // operator means "matches none of them").
    let one = |v: &str| policy.iter().any(|p| matcher(p, v)) != negated;
    Some(match (ctx, set) {
        (None, _) if if_exists => true,
        (None, Set::Single) => negated,
        (None, Set::Any) => false,
        (None, Set::All) => true,
        (Some(vals), Set::Single) => {
            let any_match = vals.iter().any(|v| policy.iter().any(|p| matcher(p, v)));
            any_match != negated
        }
        (Some(vals), Set::Any) => vals.iter().any(|v| one(v)),
        (Some(vals), Set::All) => vals.iter().all(|v| one(v)),
    })
}

/// `sts:AssumeRole` of `role_arn` by `caller`.
///
/// The trust policy must always allow. Across accounts the caller's identity
/// policies must allow too; in the same account they must when the trust
/// names only the account (root), which delegates to identity policies.
/// An explicit deny in either wins.
pub fn can_assume(
    caller_identity: &[Named<'_>],
    caller: &Caller,
    trust: Named<'_>,
    role_arn: &str,
    context: &[(&str, &[&str])],
) -> Decision {
    let mut req = Request::new(caller.clone(), "sts:AssumeRole", role_arn);
    for (k, v) in context {
        req = req.with(k, v.iter().copied());
    }
    let target_account = arn_account(role_arn);
    combine(caller_identity, caller, trust, target_account, &req)
}

/// Resource policy + identity policies, AWS-style, for any request.
pub fn combine(
    caller_identity: &[Named<'_>],
    caller: &Caller,
    resource_policy: Named<'_>,
    resource_account: Option<&str>,
    req: &Request,
) -> Decision {
    let resource = Named {
        kind: Kind::Resource,
        ..resource_policy
    };
    let rd = evaluate(&[resource], req);
    let identity = if matches!(caller, Caller::Aws(_)) {
        evaluate(caller_identity, req)
    } else {
        Decision::implicit()
    };
    let mut unsupported = rd.unsupported.clone();
    unsupported.extend(identity.unsupported.iter().cloned());
    let deny: Vec<_> = rd
        .statements
        .iter()
        .chain(&identity.statements)
        .filter(|s| s.effect == Effect::Deny)
        .cloned()
        .collect();
    if rd.outcome == Outcome::ExplicitDeny || identity.outcome == Outcome::ExplicitDeny {
        return Decision {
            outcome: Outcome::ExplicitDeny,
            statements: deny,
            unsupported,
        };
    }
    let same_account = caller.account().is_some() && caller.account() == resource_account;
    let resource_direct = rd.allowed() && rd.statements.iter().any(|s| !s.via_account);
    let is_trust = req.action.eq_ignore_ascii_case("sts:AssumeRole");
    let allowed = if !matches!(caller, Caller::Aws(_)) {
        rd.allowed()
    } else if same_account {
        if is_trust {
            rd.allowed() && (resource_direct || identity.allowed())
        } else {
            resource_direct || identity.allowed()
        }
    } else {
        rd.allowed() && identity.allowed()
    };
    if allowed {
        let mut statements = rd.statements;
        statements.extend(identity.statements);
        Decision {
            outcome: Outcome::Allow,
            statements,
            unsupported,
        }
    } else {
        Decision {
            outcome: Outcome::ImplicitDeny,
            statements: Vec::new(),
            unsupported,
        }
    }
}

#[cfg(test)]
mod tests;
