//! Exact decisions over sets of requests: "is there a request that every `must`
//! policy set allows and no `must_not` policy set allows?", with a concrete
//! witness [`Request`] when there is one.
//!
//! Method (see ARCHITECTURE.md, "Deciding instead of sampling"). Each statement
//! of [`evaluate`](super::evaluate) is a conjunction of atoms, each atom a test
//! of one request field (principal, action, resource, one condition key)
//! against glob patterns. The truth of every atom depends only on which of the
//! field's patterns the value matches, so each field is partitioned into the
//! finitely many cells of [`pattern::cells`]; multi-valued keys range over sets
//! of cells, and every key may also be absent. A depth-first search over the
//! cells of each field, with three-valued evaluation of the policy sets on the
//! partial assignment, visits every combination that is not already decided, so
//! "no witness" is a proof. Condition keys that AWS derives from the principal
//! (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalServiceName`) or
//! from the resource ARN (`aws:ResourceAccount`) are patterns on that field, so a
//! witness is always consistent. Anything this module does not model (an
//! operator, a policy variable) is an [`Answer::Unknown`], never a "no".

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use super::pattern::{self, Bits, Cell, Class, Pattern, Tok};
use super::{Caller, Kind, Named, Request, catalog, context};
use crate::iam::{Effect, Principal, Statement};

/// How many product states one field may explore before giving up.
const STATE_LIMIT: usize = 400_000;
/// How many search nodes one question may visit before giving up.
const NODE_LIMIT: usize = 2_000_000;
/// Largest number of cells of a multi-valued key (its subsets are enumerated).
const MULTI_LIMIT: usize = 10;

/// The set of values a field may take in a question.
#[derive(Debug, Clone)]
pub enum Values {
    /// Any value of the field's natural domain (for principals: IAM users,
    /// roles and account roots with a 12-digit account, services, anonymous).
    Any,
    /// Exactly this value.
    Fixed(String),
    /// Any value matching one of these IAM wildcard patterns.
    Like(Vec<String>),
    /// Any value matching one of these patterns.
    Patterns(Vec<Pattern>),
}

impl Values {
    /// IAM role ARNs (`arn:aws:iam::<12 digits>:role/<name>`).
    pub fn roles() -> Self {
        Values::Patterns(vec![principal_domain("role/", true)])
    }

    /// IAM principals: account roots, roles and users of a 12-digit account.
    pub fn iam_principals() -> Self {
        Values::Patterns(vec![
            principal_domain("root", false),
            principal_domain("role/", true),
            principal_domain("user/", true),
        ])
    }
}

/// The requests a question ranges over.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Principal: an ARN, `service:<name>` or `anonymous` ([`principal_text`]).
    pub principal: Values,
    /// Action, compared case-insensitively.
    pub action: Values,
    pub resource: Values,
    /// Condition keys with a fixed value (`None`: absent). Keys are case-insensitive.
    pub context: BTreeMap<String, Option<Vec<String>>>,
    /// Keys not in `context` are free (any value, or absent) when `true`, absent otherwise.
    pub free_context: bool,
}

impl Scope {
    /// Everything free: the "is anything outside the intent allowed?" scope.
    pub fn open() -> Self {
        Scope {
            principal: Values::Any,
            action: Values::Any,
            resource: Values::Any,
            context: BTreeMap::new(),
            free_context: true,
        }
    }

    pub fn principal(mut self, v: Values) -> Self {
        self.principal = v;
        self
    }
    pub fn action(mut self, v: Values) -> Self {
        self.action = v;
        self
    }
    pub fn resource(mut self, v: Values) -> Self {
        self.resource = v;
        self
    }
    /// Fixes a condition key.
    pub fn key(mut self, key: &str, values: Option<Vec<String>>) -> Self {
        self.context.insert(key.to_ascii_lowercase(), values);
        self
    }
}

/// The answer to a question.
#[derive(Debug, Clone)]
pub enum Answer {
    /// No request in the scope is allowed by every `must` set and by no `must_not` set.
    Empty,
    /// One such request.
    Witness(Request),
    /// The question uses something not decided here (named).
    Unknown(String),
}

/// The text a principal has in [`Scope::principal`].
pub fn principal_text(c: &Caller) -> String {
    match c {
        Caller::Aws(a) => a.clone(),
        Caller::Service(s) => format!("service:{s}"),
        Caller::Anonymous => "anonymous".to_owned(),
    }
}

fn caller_of(text: &str) -> Caller {
    if let Some(s) = text.strip_prefix("service:") {
        Caller::Service(s.to_owned())
    } else if text == "anonymous" {
        Caller::Anonymous
    } else {
        Caller::Aws(text.to_owned())
    }
}

/// One string field: its patterns and which of them are its domain.
#[derive(Default)]
struct Field {
    patterns: Vec<Pattern>,
    /// Pattern -> its index in `patterns` (a policy with 1,000 literal ARNs
    /// would otherwise cost a quadratic number of comparisons).
    ids: HashMap<Pattern, usize>,
    domain: Vec<usize>,
}

impl Field {
    fn id(&mut self, p: Pattern) -> usize {
        if let Some(&i) = self.ids.get(&p) {
            return i;
        }
        self.patterns.push(p.clone());
        self.ids.insert(p, self.patterns.len() - 1);
        self.patterns.len() - 1
    }
}

const PRINCIPAL: usize = 0;
const ACTION: usize = 1;
const RESOURCE: usize = 2;
const KEYS: usize = 3;

/// Where a condition key's values come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Key(usize),
    /// Derived from the principal; present when the principal matches `presence`.
    Principal {
        presence: usize,
    },
    /// `aws:ResourceAccount`: the resource ARN's account when it has one, else a free key.
    /// Free only for S3 ARNs (no account in them) and non-ARN resources; absent otherwise.
    ResourceOr {
        presence: usize,
        key: usize,
        s3: usize,
        arn: usize,
    },
}

#[derive(Debug, Clone, Copy)]
enum SetOp {
    Single,
    Any,
    All,
}

#[derive(Debug, Clone)]
struct Cond {
    source: Source,
    set: SetOp,
    if_exists: bool,
    negated: bool,
    /// `Null`: (true when absent, true when present).
    null: Option<(bool, bool)>,
    ids: Vec<usize>,
    alt_ids: Vec<usize>,
    mask: Bits,
    alt_mask: Bits,
}

#[derive(Debug, Clone)]
enum Atom {
    Const(bool),
    /// The field's value matches one of `ids` (`!=` negate).
    Match {
        field: usize,
        ids: Vec<usize>,
        negate: bool,
        mask: Bits,
    },
    Cond(Cond),
}

struct Stmt {
    deny: bool,
    atoms: Vec<Atom>,
}

/// A choice for one field: absent, or values (cell index, for each value).
type Choice = Option<Vec<usize>>;

struct Compiler {
    fields: Vec<Field>,
    keys: BTreeMap<String, usize>,
    multi: Vec<bool>,
    principal_aws: usize,
    principal_service: usize,
    resource_account_presence: usize,
}

fn derived(key: &str) -> bool {
    matches!(
        key,
        "aws:principalarn" | "aws:principalaccount" | "aws:principalservicename"
    )
}

fn toks_of(s: &str) -> Vec<Tok> {
    s.chars().map(|c| Tok::One(Class::Chars(vec![c]))).collect()
}

impl Compiler {
    fn new() -> Self {
        let mut fields: Vec<Field> = (0..KEYS).map(|_| Field::default()).collect();
        let principal_aws = fields[PRINCIPAL].id(Pattern::glob("arn:*", false));
        let principal_service = fields[PRINCIPAL].id(Pattern::glob("service:*", false));
        let nc = Tok::Run(Class::NotColon);
        let c = Tok::One(Class::Chars(vec![':']));
        let mut toks = toks_of("arn:");
        toks.extend([
            nc.clone(),
            c.clone(),
            nc.clone(),
            c.clone(),
            nc.clone(),
            c.clone(),
            Tok::One(Class::NotColon),
            nc,
            c,
            Tok::Run(Class::Any),
        ]);
        let resource_account_presence = fields[RESOURCE].id(Pattern::from_toks(toks));
        Compiler {
            fields,
            keys: BTreeMap::new(),
            multi: Vec::new(),
            principal_aws,
            principal_service,
            resource_account_presence,
        }
    }

    fn key(&mut self, name: &str) -> usize {
        if let Some(&k) = self.keys.get(name) {
            return k;
        }
        self.fields.push(Field::default());
        self.multi.push(false);
        let k = self.fields.len() - 1;
        self.keys.insert(name.to_owned(), k);
        k
    }

    fn principal_value(&mut self, kind: &str, v: &str) -> Option<usize> {
        let p = match kind {
            "AWS" if v == "*" => return None,
            "AWS" => {
                let acct = if crate::contract::is_account_id(v) {
                    Some(v)
                } else {
                    v.strip_prefix("arn:aws:iam::")
                        .and_then(|r| r.strip_suffix(":root"))
                };
                match acct {
                    Some(a) => {
                        // `arn:aws:iam::<account>:*`, built once.
                        let mut toks = toks_of("arn:aws:iam::");
                        toks.extend(toks_of(a));
                        toks.extend(toks_of(":"));
                        toks.push(Tok::Run(Class::Any));
                        Pattern::from_toks(toks)
                    }
                    None => Pattern::literal(v, false),
                }
            }
            "Service" => Pattern::literal("service:", false).then(&Pattern::literal(v, true)),
            other => Pattern::literal(&format!("{}:{v}", other.to_ascii_lowercase()), false),
        };
        Some(self.fields[PRINCIPAL].id(p))
    }

    /// Atom for `Principal` (or `NotPrincipal` when `negate`).
    fn principal(&mut self, p: &Principal, negate: bool) -> Atom {
        let mut ids = Vec::new();
        match p {
            Principal::Any => return Atom::Const(!negate),
            Principal::Map(m) => {
                for (kind, values) in m {
                    for v in values.iter() {
                        match self.principal_value(kind, v) {
                            Some(i) => ids.push(i),
                            None => return Atom::Const(!negate),
                        }
                    }
                }
            }
        }
        Atom::Match {
            field: PRINCIPAL,
            ids,
            negate,
            mask: Bits::default(),
        }
    }

    fn list(&mut self, field: usize, values: &[String], negate: bool) -> Result<Atom, Undecided> {
        let mut ids = Vec::new();
        for v in values {
            if v.contains("${") {
                return Err(Undecided(format!("policy variable in {v:?}")));
            }
            let p = if field == ACTION {
                Pattern::glob(&v.to_ascii_lowercase(), false)
            } else {
                Pattern::glob(v, false)
            };
            ids.push(self.fields[field].id(p));
        }
        Ok(Atom::Match {
            field,
            ids,
            negate,
            mask: Bits::default(),
        })
    }

    fn condition(
        &mut self,
        operator: &str,
        key: &str,
        values: &[String],
    ) -> Result<Atom, Undecided> {
        let (set, rest) = if let Some(r) = operator.strip_prefix("ForAnyValue:") {
            (SetOp::Any, r)
        } else if let Some(r) = operator.strip_prefix("ForAllValues:") {
            (SetOp::All, r)
        } else {
            (SetOp::Single, operator)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) if b != "Null" => (b, true),
            _ => (rest, false),
        };
        let key = key.to_ascii_lowercase();
        let source = match key.as_str() {
            "aws:principalarn" | "aws:principalaccount" => Source::Principal {
                presence: self.principal_aws,
            },
            "aws:principalservicename" => Source::Principal {
                presence: self.principal_service,
            },
            "aws:resourceaccount" => Source::ResourceOr {
                presence: self.resource_account_presence,
                key: self.key(&key),
                s3: self.fields[RESOURCE].id(Pattern::literal("arn:", false)
                    .then(&Pattern::glob("*", false).no_colon())
                    .then(&Pattern::glob(":s3:*", false))),
                arn: self.fields[RESOURCE].id(Pattern::glob("arn:*", false)),
            },
            k => Source::Key(self.key(k)),
        };
        if !matches!(set, SetOp::Single) {
            match source {
                Source::Key(k) => self.multi[k - KEYS] = true,
                _ => return Err(Undecided(format!("{operator} on single-valued key {key}"))),
            }
        }
        let mut cond = Cond {
            source,
            set,
            if_exists,
            negated: false,
            null: None,
            ids: Vec::new(),
            alt_ids: Vec::new(),
            mask: Bits::default(),
            alt_mask: Bits::default(),
        };
        if base == "Null" {
            cond.null = Some((
                values.iter().any(|v| v.eq_ignore_ascii_case("true")),
                values.iter().any(|v| v.eq_ignore_ascii_case("false")),
            ));
            return Ok(Atom::Cond(cond));
        }
        let (make, negated): (fn(&str) -> Pattern, bool) = match base {
            "StringEquals" => (|v| Pattern::literal(v, false), false),
            "StringNotEquals" => (|v| Pattern::literal(v, false), true),
            "StringEqualsIgnoreCase" => (|v| Pattern::literal(v, true), false),
            "StringNotEqualsIgnoreCase" => (|v| Pattern::literal(v, true), true),
            "StringLike" => (|v| Pattern::glob(v, false), false),
            "StringNotLike" => (|v| Pattern::glob(v, false), true),
            "ArnEquals" | "ArnLike" => (Pattern::arn, false),
            "ArnNotEquals" | "ArnNotLike" => (Pattern::arn, true),
            "Bool" => (|v| Pattern::literal(v, true), false),
            _ => {
                return Err(Undecided(format!(
                    "condition operator {operator} is not modelled"
                )));
            }
        };
        cond.negated = negated;
        let is_arn = base.starts_with("Arn");
        for v in values {
            if v.contains("${") {
                return Err(Undecided(format!(
                    "policy variable in condition value {v:?}"
                )));
            }
            if is_arn && v.splitn(6, ':').count() < 6 {
                return Err(Undecided(format!(
                    "{operator} value {v:?} on {key} has fewer than the six components of an ARN; \
                     AWS does not document how such a pattern matches"
                )));
            }
            let p = make(v);
            match (key.as_str(), source) {
                ("aws:principalarn", _) => cond.ids.push(self.fields[PRINCIPAL].id(p)),
                ("aws:principalaccount", _) => {
                    let q = if is_arn {
                        Pattern::never()
                    } else {
                        Pattern::literal("arn:aws:iam::", false)
                            .then(&p.no_colon())
                            .then(&Pattern::glob(":*", false))
                    };
                    cond.ids.push(self.fields[PRINCIPAL].id(q));
                }
                ("aws:principalservicename", _) => {
                    let q = if is_arn {
                        Pattern::never()
                    } else {
                        Pattern::literal("service:", false).then(&p)
                    };
                    cond.ids.push(self.fields[PRINCIPAL].id(q));
                }
                (_, Source::ResourceOr { key: k, .. }) => {
                    let q = if is_arn {
                        Pattern::never()
                    } else {
                        Pattern::from_toks(vec![])
                            .then(&arn_prefix4())
                            .then(&p.no_colon())
                            .then(&Pattern::from_toks(vec![
                                Tok::One(Class::Chars(vec![':'])),
                                Tok::Run(Class::Any),
                            ]))
                    };
                    cond.ids.push(self.fields[RESOURCE].id(q));
                    cond.alt_ids.push(self.fields[k].id(p));
                }
                (_, Source::Key(k)) => cond.ids.push(self.fields[k].id(p)),
                _ => unreachable!("derived keys handled above"),
            }
        }
        Ok(Atom::Cond(cond))
    }

    fn statement(&mut self, st: &Statement, kind: Kind) -> Result<Option<Stmt>, Undecided> {
        let deny = match st.effect {
            Some(Effect::Allow) => false,
            Some(Effect::Deny) => true,
            None => return Ok(None),
        };
        let mut atoms = Vec::new();
        atoms.push(match (kind, &st.principal, &st.not_principal) {
            (_, Some(p), _) => self.principal(p, false),
            (_, None, Some(np)) => self.principal(np, true),
            (Kind::Identity, None, None) => Atom::Const(true),
            (Kind::Resource, None, None) => Atom::Const(false),
        });
        atoms.push(match (&st.action, &st.not_action) {
            (Some(a), _) => self.list(ACTION, &a.0, false)?,
            (None, Some(na)) => self.list(ACTION, &na.0, true)?,
            (None, None) => Atom::Const(false),
        });
        atoms.push(match (&st.resource, &st.not_resource) {
            (Some(r), _) => self.list(RESOURCE, &r.0, false)?,
            (None, Some(nr)) => self.list(RESOURCE, &nr.0, true)?,
            (None, None) => Atom::Const(kind == Kind::Resource),
        });
        for (operator, keys) in &st.condition {
            for (key, values) in keys {
                atoms.push(self.condition(operator, key, &values.0)?);
            }
        }
        Ok(Some(Stmt { deny, atoms }))
    }

    fn side(&mut self, docs: &[Named<'_>]) -> Result<Vec<Stmt>, Undecided> {
        let mut out = Vec::new();
        for d in docs {
            for (i, st) in d.doc.statement.iter().enumerate() {
                match self.statement(st, d.kind) {
                    Ok(Some(s)) => out.push(s),
                    Ok(None) => {}
                    Err(e) => {
                        return Err(Undecided(format!("{}#{i}: {e}", d.name)));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The statements every real request meets: an action of a catalogued
    /// service on one of its service's resource shapes (`resource_shapes`), an
    /// action without a resource type on `*`, any other action on anything.
    /// `reach`: the action patterns of the `must` documents' Allow statements
    /// (`None`: any action, a `NotAction` or `*`); an action without a
    /// resource type that none of them matches can be no witness's action
    /// (every `must` set has to allow it), so it is left out of the field.
    fn real(&mut self, reach: Option<&[Pattern]>) -> Vec<Stmt> {
        let m = |field, ids, negate| Atom::Match {
            field,
            ids,
            negate,
            mask: Bits::default(),
        };
        let star = self.fields[RESOURCE].id(Pattern::literal("*", false));
        let nores: Vec<usize> = catalog::actions_without_resource()
            .filter(|a| reach.is_none_or(|ps| ps.iter().any(|p| p.matches(a))))
            .map(|a| self.fields[ACTION].id(Pattern::literal(a, false)))
            .collect();
        let mut out = vec![Stmt {
            deny: false,
            atoms: vec![
                m(ACTION, nores.clone(), false),
                m(RESOURCE, vec![star], false),
            ],
        }];
        let mut services = Vec::new();
        for (service, shapes) in resource_shapes() {
            let sid = self.fields[ACTION].id(Pattern::glob(&format!("{service}:*"), false));
            services.push(sid);
            let shapes = shapes
                .iter()
                .map(|p| self.fields[RESOURCE].id(p.clone()))
                .collect();
            out.push(Stmt {
                deny: false,
                atoms: vec![
                    m(ACTION, vec![sid], false),
                    m(ACTION, nores.clone(), true),
                    m(RESOURCE, shapes, false),
                ],
            });
        }
        out.push(Stmt {
            deny: false,
            atoms: vec![m(ACTION, services, true)],
        });
        out
    }

    fn scope_values(&mut self, field: usize, v: &Values) -> Vec<usize> {
        let pats: Vec<Pattern> = match v {
            Values::Any => match field {
                PRINCIPAL => vec![
                    principal_domain("root", false),
                    principal_domain("role/", true),
                    principal_domain("user/", true),
                    Pattern::literal("service:", false)
                        .then(&Pattern::glob("?*.amazonaws.com", false)),
                    Pattern::literal("anonymous", false),
                ],
                ACTION => vec![Pattern::from_toks(vec![
                    Tok::One(action_chars()),
                    Tok::Run(action_chars()),
                    Tok::One(Class::Chars(vec![':'])),
                    Tok::One(action_chars()),
                    Tok::Run(action_chars()),
                ])],
                _ => vec![Pattern::glob("?*", false)],
            },
            Values::Fixed(s) if field == ACTION => {
                vec![Pattern::literal(&s.to_ascii_lowercase(), false)]
            }
            Values::Fixed(s) => vec![Pattern::literal(s, false)],
            Values::Like(l) if field == ACTION => l
                .iter()
                .map(|s| {
                    Pattern::from_toks(
                        s.to_ascii_lowercase()
                            .chars()
                            .map(|c| match c {
                                '*' => Tok::Run(action_chars()),
                                '?' => Tok::One(action_chars()),
                                c => Tok::One(Class::Chars(vec![c])),
                            })
                            .collect(),
                    )
                })
                .collect(),
            Values::Like(l) => l.iter().map(|s| Pattern::glob(s, false)).collect(),
            Values::Patterns(p) => p.clone(),
        };
        pats.into_iter().map(|p| self.fields[field].id(p)).collect()
    }
}

/// Per catalogued service, the resources its actions are requested on: the ARN
/// formats of the catalog (`catalog::resource_formats`) as patterns, in the
/// `aws` partition (the accounts this audit is about live there).
fn resource_shapes() -> &'static [(&'static str, Vec<Pattern>)] {
    static SHAPES: std::sync::OnceLock<Vec<(&'static str, Vec<Pattern>)>> =
        std::sync::OnceLock::new();
    SHAPES.get_or_init(|| {
        catalog::SERVICES
            .iter()
            .map(|s| {
                let shapes = catalog::resource_formats(s)
                    .into_iter()
                    .map(arn_format)
                    .collect();
                (*s, shapes)
            })
            .collect()
    })
}

/// An ARN format of the catalog (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`)
/// as a pattern: `${Partition}` is `aws`, `${Account}` 12 digits, `${Region}`
/// `[a-z0-9-]+`, `${BucketName}` three or more of `[A-Za-z0-9._-]` (legacy names
/// included), `${ObjectName}` any non-empty string (object keys may hold `:`),
/// every other variable a non-empty run without `:`.
pub fn arn_format(format: &str) -> Pattern {
    let mut toks = Vec::new();
    let mut rest = format;
    while let Some(i) = rest.find("${") {
        toks.extend(toks_of(&rest[..i]));
        let Some(j) = rest[i..].find('}') else {
            break;
        };
        let var = &rest[i + 2..i + j];
        rest = &rest[i + j + 1..];
        let region = Class::Chars(('a'..='z').chain('0'..='9').chain(['-']).collect());
        let bucket = Class::Chars(
            ('a'..='z')
                .chain('A'..='Z')
                .chain('0'..='9')
                .chain(['.', '_', '-'])
                .collect(),
        );
        match var {
            "Partition" => toks.extend(toks_of("aws")),
            "Account" => toks.extend(std::iter::repeat_n(Tok::One(Class::Digit), 12)),
            "Region" => toks.extend([Tok::One(region.clone()), Tok::Run(region)]),
            "BucketName" => {
                toks.extend(std::iter::repeat_n(Tok::One(bucket.clone()), 3));
                toks.push(Tok::Run(bucket));
            }
            "ObjectName" => toks.extend([Tok::One(Class::Any), Tok::Run(Class::Any)]),
            _ => toks.extend([Tok::One(Class::NotColon), Tok::Run(Class::NotColon)]),
        }
    }
    toks.extend(toks_of(rest));
    Pattern::from_toks(toks)
}

/// Characters of a (lowercased) action name: `[a-z0-9-]`.
fn action_chars() -> Class {
    Class::Chars(('a'..='z').chain('0'..='9').chain(['-']).collect())
}

/// `arn:<p>:<s>:<r>:` with wildcard components (the prefix before an ARN's account).
fn arn_prefix4() -> Pattern {
    let nc = Tok::Run(Class::NotColon);
    let c = Tok::One(Class::Chars(vec![':']));
    let mut toks = toks_of("arn:");
    toks.extend([nc.clone(), c.clone(), nc.clone(), c.clone(), nc, c]);
    Pattern::from_toks(toks)
}

fn principal_domain(tail: &str, more: bool) -> Pattern {
    let mut toks = toks_of("arn:aws:iam::");
    toks.extend(std::iter::repeat_n(Tok::One(Class::Digit), 12));
    toks.push(Tok::One(Class::Chars(vec![':'])));
    toks.extend(toks_of(tail));
    if more {
        toks.push(Tok::One(Class::NotColon));
        toks.push(Tok::Run(Class::NotColon));
    }
    Pattern::from_toks(toks)
}

fn finish_mask(n: usize, ids: &[usize]) -> Bits {
    let mut b = Bits::new(n);
    for &i in ids {
        b.set(i);
    }
    b
}

struct Search<'a> {
    must: Vec<Vec<Stmt>>,
    must_not: Vec<Vec<Stmt>>,
    /// Per field: cells.
    cells: Vec<Vec<Cell>>,
    /// Per field: choices.
    choices: Vec<Vec<Choice>>,
    assign: Vec<Option<usize>>,
    order: Vec<usize>,
    nodes: usize,
    _p: std::marker::PhantomData<&'a ()>,
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}
fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}
fn not3(a: Option<bool>) -> Option<bool> {
    a.map(|b| !b)
}

impl Search<'_> {
    /// The values of a field under the current assignment: `None` unknown,
    /// `Some(None)` absent, `Some(Some(cells))`.
    fn values(&self, field: usize) -> Option<Option<Vec<&Bits>>> {
        let c = self.assign[field]?;
        Some(
            self.choices[field][c]
                .as_ref()
                .map(|v| v.iter().map(|&i| &self.cells[field][i].matched).collect()),
        )
    }

    fn single(&self, field: usize) -> Option<&Bits> {
        let c = self.assign[field]?;
        let v = self.choices[field][c].as_ref()?;
        Some(&self.cells[field][v[0]].matched)
    }

    fn atom(&self, a: &Atom) -> Option<bool> {
        match a {
            Atom::Const(b) => Some(*b),
            Atom::Match {
                field,
                negate,
                mask,
                ..
            } => Some(self.single(*field)?.intersects(mask) != *negate),
            Atom::Cond(c) => {
                let (vals, mask) = match c.source {
                    Source::Key(k) => (self.values(k)?, &c.mask),
                    Source::Principal { presence } => {
                        let p = self.single(PRINCIPAL)?;
                        (p.get(presence).then(|| vec![p]), &c.mask)
                    }
                    Source::ResourceOr {
                        presence,
                        key,
                        s3,
                        arn,
                    } => {
                        let r = self.single(RESOURCE)?;
                        if r.get(presence) {
                            (Some(vec![r]), &c.mask)
                        } else if r.get(s3) || !r.get(arn) {
                            (self.values(key)?, &c.alt_mask)
                        } else {
                            (None, &c.alt_mask)
                        }
                    }
                };
                Some(cond_value(c, vals.as_deref(), mask))
            }
        }
    }

    fn allows(&self, side: &[Stmt]) -> Option<bool> {
        let mut allow = Some(false);
        let mut deny = Some(false);
        for s in side {
            let mut v = Some(true);
            for a in &s.atoms {
                v = and3(v, self.atom(a));
                if v == Some(false) {
                    break;
                }
            }
            if s.deny {
                deny = or3(deny, v);
            } else {
                allow = or3(allow, v);
            }
        }
        and3(allow, not3(deny))
    }

    fn target(&self) -> Option<bool> {
        let mut t = Some(true);
        for s in &self.must {
            t = and3(t, self.allows(s));
            if t == Some(false) {
                return t;
            }
        }
        for s in &self.must_not {
            t = and3(t, not3(self.allows(s)));
            if t == Some(false) {
                return t;
            }
        }
        t
    }

    fn dfs(&mut self, depth: usize) -> Result<bool, Undecided> {
        self.nodes += 1;
        if self.nodes > NODE_LIMIT {
            return Err(Undecided(format!("search exceeded {NODE_LIMIT} nodes")));
        }
        match self.target() {
            Some(false) => return Ok(false),
            Some(true) if depth == self.order.len() => return Ok(true),
            _ => {}
        }
        if depth == self.order.len() {
            return Ok(false);
        }
        let f = self.order[depth];
        for c in 0..self.choices[f].len() {
            self.assign[f] = Some(c);
            if self.dfs(depth + 1)? {
                return Ok(true);
            }
        }
        self.assign[f] = None;
        Ok(false)
    }
}

/// Keeps, of the choices of single-valued field `f`, the first of each set
/// that the search cannot tell apart: cells that meet the same masks and the
/// same presence bits make every statement decide alike, so a later one fails
/// wherever an earlier one did (1,000 zone-of-trust accounts, each its own
/// cell, are one choice). The first satisfying choice, hence the witness, is
/// the same.
fn alike_once(
    f: usize,
    must: &[Vec<Stmt>],
    must_not: &[Vec<Stmt>],
    cells: &[Cell],
    choices: &mut Vec<Choice>,
) {
    if choices.len() < 2 {
        return;
    }
    let mut masks: Vec<&Bits> = Vec::new();
    let mut bits: Vec<usize> = Vec::new();
    for st in must.iter().chain(must_not).flatten() {
        for a in &st.atoms {
            match a {
                Atom::Const(_) => {}
                Atom::Match { field, mask, .. } => {
                    if *field == f {
                        masks.push(mask);
                    }
                }
                Atom::Cond(c) => match c.source {
                    Source::Key(k) => {
                        if k == f {
                            masks.push(&c.mask);
                        }
                    }
                    Source::Principal { presence } => {
                        if f == PRINCIPAL {
                            masks.push(&c.mask);
                            bits.push(presence);
                        }
                    }
                    Source::ResourceOr {
                        presence,
                        key,
                        s3,
                        arn,
                    } => {
                        if f == RESOURCE {
                            masks.push(&c.mask);
                            bits.extend([presence, s3, arn]);
                        }
                        if key == f {
                            masks.push(&c.alt_mask);
                        }
                    }
                },
            }
        }
    }
    let mut seen: rustc_hash::FxHashSet<Vec<bool>> = Default::default();
    choices.retain(|ch| {
        // Absent, or more than one value: not a single-valued choice, kept.
        let Some([i]) = ch.as_deref() else {
            return true;
        };
        let m = &cells[*i].matched;
        let sig: Vec<bool> = masks
            .iter()
            .map(|k| m.intersects(k))
            .chain(bits.iter().map(|&b| m.get(b)))
            .collect();
        seen.insert(sig)
    });
}

fn cond_value(c: &Cond, vals: Option<&[&Bits]>, mask: &Bits) -> bool {
    if let Some((when_absent, when_present)) = c.null {
        return if vals.is_some() {
            when_present
        } else {
            when_absent
        };
    }
    match vals {
        None => match c.set {
            _ if c.if_exists => true,
            SetOp::Single => c.negated,
            SetOp::Any => false,
            SetOp::All => true,
        },
        Some(vs) => {
            let m = |v: &&Bits| v.intersects(mask);
            match c.set {
                SetOp::Single => vs.iter().any(m) != c.negated,
                SetOp::Any => vs.iter().any(|v| m(v) != c.negated),
                SetOp::All => vs.iter().all(|v| m(v) != c.negated),
            }
        }
    }
}

/// Decides whether some request in `scope` is allowed (as by
/// [`evaluate`](super::evaluate)) by every set in `must` and by none in `must_not`.
/// What a free field's cells depend on (see [`field_cells`]).
#[derive(PartialEq, Eq, Hash)]
struct CellsKey {
    action: bool,
    patterns: Vec<Pattern>,
    domain: Vec<usize>,
    exclude: Vec<usize>,
}

/// Entries of the per-thread cells cache before it starts over.
const CELLS_CACHE_MAX: usize = 256;

thread_local! {
    /// The cells of free fields already partitioned by this thread: the audit
    /// asks many questions over the same field (1,000 role ARNs, the same
    /// actions), and the cells are a function of the key alone.
    static CELLS: std::cell::RefCell<HashMap<CellsKey, Vec<Cell>>> =
        std::cell::RefCell::new(HashMap::default());
}

/// Empties this thread's cells cache (benchmarks measure cold audits with it:
/// one `xacct audit` run starts with an empty cache).
pub fn forget_cells() {
    CELLS.with(|c| c.borrow_mut().clear());
}

/// Every cell of a free field whose strings are in its domain (and, for the
/// action field, in none of the `exclude`d patterns), each with a witness.
/// The action field also gets one cell per distinct region the catalog's
/// actions fall in, so witnesses name real actions.
fn field_cells(
    patterns: &[Pattern],
    domain: &[usize],
    exclude: &[usize],
    action: bool,
) -> Result<Vec<Cell>, Undecided> {
    let valid = |b: &Bits| domain.iter().any(|&d| b.get(d)) && !exclude.iter().any(|&i| b.get(i));
    let mut cs = pattern::cells(patterns, &valid, exclude, Some(domain), STATE_LIMIT)
        .map_err(|e| format!("too many states ({}) in one field", e.0))?;
    if action {
        let mut seen: std::collections::HashSet<Bits> =
            cs.iter().map(|c| c.matched.clone()).collect();
        // Literal patterns (most of them: the documents' actions, the catalog's
        // actions without a resource) are looked up, the others matched, each
        // only against the actions that start with its leading literal
        // (`s3:get` of `s3:Get*`).
        let (literals, others) = pattern::by_literal(patterns);
        let others = pattern::ByLead::new(patterns, &others);
        for a in super::catalog::actions() {
            let mut b = Bits::new(patterns.len());
            for &i in literals.get(a.lower.as_str()).into_iter().flatten() {
                b.set(i);
            }
            for i in others.matching(&a.lower) {
                b.set(i);
            }
            if domain.iter().any(|&d| b.get(d)) && seen.insert(b.clone()) {
                cs.push(Cell {
                    matched: b,
                    witness: a.lower.clone(),
                });
            }
        }
    }
    Ok(cs)
}

crate::message_error! {
    /// Why a question is outside the decided subset (reported as [`Answer::Unknown`],
    /// XA022): the operator, variable or limit that stopped it.
    Undecided
}

pub fn find(must: &[&[Named<'_>]], must_not: &[&[Named<'_>]], scope: &Scope) -> Answer {
    // The same question is asked once per source of a document (the spec, the
    // committed Terraform, CloudFormation and policy files hold the same
    // documents): answers are remembered by the question's content (documents,
    // kinds, scope; the names the answer never cites are left out). An
    // undecided answer is not remembered: its message names the document.
    // Documents that never look at the resource (no `Resource`, no
    // `NotResource`, no `aws:Resource*` key: trust policies) answer alike for
    // every account in the resource's ARN: the question is remembered with
    // the account left out, and a remembered witness gets this question's ARN.
    let accounts = resource_free(must, must_not, scope);
    let key = match &accounts {
        Some(pairs) => {
            let mut general = scope.clone();
            general.resource = Values::Like(pairs.iter().map(|(g, _)| g.clone()).collect());
            question_key(must, must_not, &general)
        }
        None => question_key(must, must_not, scope),
    };
    if let Some(a) = ANSWERS.lock().ok().and_then(|m| m.0.get(&key).cloned()) {
        return match (a, &accounts) {
            (Answer::Witness(mut r), Some(pairs)) => {
                let g = without_account(&r.resource);
                match pairs.iter().find(|(x, _)| *x == g) {
                    Some((_, own)) => {
                        r.resource = own.clone();
                        Answer::Witness(r)
                    }
                    // Not one of this question's ARNs: decide it afresh.
                    None => match find_inner(must, must_not, scope) {
                        Ok(Some(r)) => Answer::Witness(r),
                        Ok(None) => Answer::Empty,
                        Err(e) => Answer::Unknown(e.0),
                    },
                }
            }
            (a, _) => a,
        };
    }
    let answer = match find_inner(must, must_not, scope) {
        Ok(Some(r)) => Answer::Witness(r),
        Ok(None) => Answer::Empty,
        Err(e) => return Answer::Unknown(e.0),
    };
    if let Ok(mut m) = ANSWERS.lock() {
        if m.1 + key.len() > ANSWERS_MAX_BYTES {
            *m = Default::default();
        }
        m.1 += key.len();
        m.0.insert(key, answer.clone());
    }
    answer
}

/// The action patterns (lowercase) of every Allow statement of the `must`
/// documents, or `None` when one of them may allow any action (`NotAction`,
/// no `Action`, `*`).
fn action_reach(must: &[&[Named<'_>]]) -> Option<Vec<Pattern>> {
    let mut out = Vec::new();
    for n in must.iter().flat_map(|s| s.iter()) {
        for st in &n.doc.statement {
            if st.effect == Some(Effect::Deny) {
                continue;
            }
            if st.not_action.is_some() {
                return None;
            }
            let actions = st.action.as_ref()?;
            for a in actions.iter() {
                if a == "*" {
                    return None;
                }
                out.push(Pattern::glob(&a.to_ascii_lowercase(), false));
            }
        }
    }
    Some(out)
}

/// `(ARN without its account, ARN)` of every resource of `scope` when it is a
/// list of literal ARNs and no document looks at the resource; else `None`.
fn resource_free(
    must: &[&[Named<'_>]],
    must_not: &[&[Named<'_>]],
    scope: &Scope,
) -> Option<Vec<(String, String)>> {
    let Values::Like(arns) = &scope.resource else {
        return None;
    };
    if arns
        .iter()
        .any(|a| a.contains(['*', '?']) || !a.starts_with("arn:"))
    {
        return None;
    }
    let looks = must.iter().chain(must_not).flat_map(|s| s.iter()).any(|n| {
        n.doc.statement.iter().any(|st| {
            st.resource.is_some()
                || st.not_resource.is_some()
                || st.condition.values().any(|keys| {
                    keys.keys()
                        .any(|k| k.to_ascii_lowercase().starts_with("aws:resource"))
                })
        })
    });
    (!looks).then(|| {
        arns.iter()
            .map(|a| (without_account(a), a.clone()))
            .collect()
    })
}

/// An ARN with its account field emptied.
fn without_account(arn: &str) -> String {
    let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 {
        parts[4] = "";
    }
    parts.join(":")
}

/// Answers remembered by [`find`], and the bytes of their keys (bounded:
/// cleared when the keys would pass [`ANSWERS_MAX_BYTES`]).
#[allow(clippy::type_complexity)]
static ANSWERS: std::sync::LazyLock<std::sync::Mutex<(HashMap<String, Answer>, usize)>> =
    std::sync::LazyLock::new(Default::default);
const ANSWERS_MAX_BYTES: usize = 32 << 20;

/// The content of a question, exactly (no hash: two questions share an answer
/// only when they are the same question).
fn question_key(must: &[&[Named<'_>]], must_not: &[&[Named<'_>]], scope: &Scope) -> String {
    use std::fmt::Write;
    let mut k = String::new();
    for (tag, sides) in [("must", must), ("must_not", must_not)] {
        for side in sides {
            let _ = write!(k, "{tag}[");
            for n in *side {
                let _ = write!(
                    k,
                    "{:?}:{};",
                    n.kind,
                    serde_json::to_string(n.doc).unwrap_or_default()
                );
            }
            k.push(']');
        }
    }
    let _ = write!(k, "{scope:?}");
    k
}

fn find_inner(
    must: &[&[Named<'_>]],
    must_not: &[&[Named<'_>]],
    scope: &Scope,
) -> Result<Option<Request>, Undecided> {
    let mut cx = Compiler::new();
    let reach = action_reach(must);
    let must: Vec<Vec<Stmt>> = must.iter().map(|d| cx.side(d)).collect::<Result<_, _>>()?;
    let must_not: Vec<Vec<Stmt>> = must_not
        .iter()
        .map(|d| cx.side(d))
        .collect::<Result<_, _>>()?;
    for (field, v) in [
        (PRINCIPAL, &scope.principal),
        (ACTION, &scope.action),
        (RESOURCE, &scope.resource),
    ] {
        let d = cx.scope_values(field, v);
        cx.fields[field].domain = d;
    }
    // Keys in the documents; fixed ones get their value, free ones any value of
    // their domain (`context::domain`: booleans, AWS-set values that are never
    // empty, and caller-controlled values, the empty string included).
    let key_names: Vec<(String, usize)> = cx.keys.iter().map(|(k, v)| (k.clone(), *v)).collect();
    for (name, k) in &key_names {
        cx.fields[*k].domain = match context::domain(name) {
            context::Domain::Boolean => vec![
                cx.fields[*k].id(Pattern::literal("true", false)),
                cx.fields[*k].id(Pattern::literal("false", false)),
            ],
            context::Domain::NonEmpty => vec![cx.fields[*k].id(Pattern::glob("?*", false))],
            context::Domain::Any => vec![cx.fields[*k].id(Pattern::glob("*", false))],
        };
    }
    // Only real requests: each action on the resource shapes of its service, an
    // action without a resource type on `*` only.
    let real = cx.real(reach.as_deref());
    let always = |f: usize| {
        key_names
            .iter()
            .any(|(n, k)| *k == f && context::always_present(n))
    };
    // Actions of the services the catalog covers are exactly the catalog's
    // (their cells come from matching each catalog action); other services'
    // actions are any name (their cells come from the automata).
    let covered_ids: Vec<usize> = if matches!(scope.action, Values::Fixed(_)) {
        Vec::new()
    } else {
        super::catalog::SERVICES
            .iter()
            .map(|s| cx.fields[ACTION].id(Pattern::glob(&format!("{s}:*"), false)))
            .collect()
    };
    // Masks.
    let sizes: Vec<usize> = cx.fields.iter().map(|f| f.patterns.len()).collect();
    let fix = |stmts: &mut Vec<Vec<Stmt>>| {
        for side in stmts {
            for s in side {
                for a in &mut s.atoms {
                    match a {
                        Atom::Match {
                            field, ids, mask, ..
                        } => *mask = finish_mask(sizes[*field], ids),
                        Atom::Cond(c) => {
                            let (f, alt) = match c.source {
                                Source::Key(k) => (k, k),
                                Source::Principal { .. } => (PRINCIPAL, PRINCIPAL),
                                Source::ResourceOr { key, .. } => (RESOURCE, key),
                            };
                            c.mask = finish_mask(sizes[f], &c.ids);
                            c.alt_mask = finish_mask(sizes[alt], &c.alt_ids);
                        }
                        Atom::Const(_) => {}
                    }
                }
            }
        }
    };
    let (mut must, mut must_not) = (must, must_not);
    must.push(real);
    fix(&mut must);
    fix(&mut must_not);

    // Cells and choices per field.
    let n = cx.fields.len();
    let mut cells: Vec<Vec<Cell>> = Vec::with_capacity(n);
    let mut choices: Vec<Vec<Choice>> = Vec::with_capacity(n);
    for f in 0..n {
        let field = &cx.fields[f];
        let fixed: Option<Option<Vec<String>>> = match f {
            PRINCIPAL => fixed_of(&scope.principal),
            ACTION => fixed_of(&scope.action).map(|v| v.map(|v| lower(&v))),
            RESOURCE => fixed_of(&scope.resource),
            _ => {
                let name = key_names.iter().find(|(_, k)| *k == f).map(|(n, _)| n);
                match name.and_then(|n| scope.context.get(n)) {
                    Some(v) => Some(v.clone()),
                    None if scope.free_context => None,
                    None => Some(None),
                }
            }
        };
        match fixed {
            Some(vals) => {
                let mut cs = Vec::new();
                let choice = vals.map(|vals| {
                    vals.iter()
                        .map(|v| {
                            let mut b = Bits::new(field.patterns.len());
                            for (i, p) in field.patterns.iter().enumerate() {
                                if p.matches(v) {
                                    b.set(i);
                                }
                            }
                            cs.push(Cell {
                                matched: b,
                                witness: v.clone(),
                            });
                            cs.len() - 1
                        })
                        .collect::<Vec<_>>()
                });
                let choice = choice.filter(|v| !v.is_empty());
                cells.push(cs);
                choices.push(vec![choice]);
            }
            None => {
                let domain = &field.domain;
                let exclude: &[usize] = if f == ACTION { &covered_ids } else { &[] };
                let key = CellsKey {
                    action: f == ACTION,
                    patterns: field.patterns.clone(),
                    domain: domain.clone(),
                    exclude: exclude.to_vec(),
                };
                let cs = match CELLS.with(|c| c.borrow().get(&key).cloned()) {
                    Some(cs) => cs,
                    None => {
                        let cs = field_cells(&field.patterns, domain, exclude, f == ACTION)?;
                        CELLS.with(|c| {
                            let mut c = c.borrow_mut();
                            if c.len() >= CELLS_CACHE_MAX {
                                c.clear();
                            }
                            c.insert(key, cs.clone());
                        });
                        cs
                    }
                };
                let mut ch: Vec<Choice> = Vec::new();
                if f >= KEYS {
                    // A key AWS always sets is never absent.
                    if !always(f) {
                        ch.push(None);
                    }
                    if cx.multi[f - KEYS] {
                        if cs.len() > MULTI_LIMIT {
                            return Err(Undecided(format!(
                                "multi-valued key with {} regions (limit {MULTI_LIMIT})",
                                cs.len()
                            )));
                        }
                        for m in 1u32..(1 << cs.len()) {
                            ch.push(Some((0..cs.len()).filter(|i| m & (1 << i) != 0).collect()));
                        }
                    } else {
                        ch.extend((0..cs.len()).map(|i| Some(vec![i])));
                    }
                } else {
                    ch.extend((0..cs.len()).map(|i| Some(vec![i])));
                }
                cells.push(cs);
                choices.push(ch);
            }
        }
    }
    for f in [PRINCIPAL, ACTION, RESOURCE] {
        alike_once(f, &must, &must_not, &cells[f], &mut choices[f]);
    }
    let mut s = Search {
        must,
        must_not,
        cells,
        choices,
        assign: vec![None; n],
        order: (0..n)
            .map(|i| [ACTION, RESOURCE, PRINCIPAL].get(i).copied().unwrap_or(i))
            .collect(),
        nodes: 0,
        _p: std::marker::PhantomData,
    };
    if !s.dfs(0)? {
        return Ok(None);
    }
    // Build the witness.
    let text = |f: usize| -> String {
        let c = s.assign[f].expect("assigned");
        let v = s.choices[f][c]
            .as_ref()
            .expect("string fields always have a value");
        s.cells[f][v[0]].witness.clone()
    };
    let action = text(ACTION);
    let action = super::catalog::lookup(&action).map_or(action, |a| a.name.to_owned());
    let mut req = Request::new(caller_of(&text(PRINCIPAL)), &action, &text(RESOURCE));
    let resource_text = text(RESOURCE);
    let resource_acct = cx.fields[RESOURCE].patterns[cx.resource_account_presence]
        .matches(&resource_text)
        .then(|| {
            resource_text
                .split(':')
                .nth(4)
                .unwrap_or_default()
                .to_owned()
        });
    for (name, k) in &key_names {
        if derived(name) {
            continue;
        }
        if name == "aws:resourceaccount" {
            match &resource_acct {
                Some(a) => {
                    req = req.with(name, [a.clone()]);
                    continue;
                }
                None if resource_text.starts_with("arn:")
                    && resource_text.split(':').nth(2) != Some("s3") =>
                {
                    continue;
                }
                None => {}
            }
        }
        let c = s.assign[*k].expect("assigned");
        if let Some(v) = &s.choices[*k][c] {
            req = req.with(name, v.iter().map(|&i| s.cells[*k][i].witness.clone()));
        }
    }
    // Fixed keys no document mentions: part of the request as the scope says.
    for (name, v) in &scope.context {
        if !cx.keys.contains_key(name)
            && !derived(name)
            && let Some(v) = v
        {
            req = req.with(name, v.iter().cloned());
        }
    }
    // Keys AWS always sets that no document tests: their usual value, so the
    // witness is a request that can happen.
    for (name, value) in context::ALWAYS_PRESENT {
        if req.get(name).is_none() && !cx.keys.contains_key(*name) {
            let v = if *name == "aws:principalisawsservice"
                && matches!(req.caller, Caller::Service(_))
            {
                "true"
            } else {
                value
            };
            req = req.with(name, [v]);
        }
    }
    Ok(Some(req))
}

fn fixed_of(v: &Values) -> Option<Option<Vec<String>>> {
    match v {
        Values::Fixed(s) => Some(Some(vec![s.clone()])),
        _ => None,
    }
}

fn lower(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Named, evaluate};
    use crate::iam::PolicyDocument;

    fn doc(s: &str) -> PolicyDocument {
        let s = s.replacen('{', r#"{"Version":"2012-10-17","#, 1);
        PolicyDocument::from_json(&s).unwrap()
    }

    const ROLE: &str = "arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution";
    const TARGET: &str = "arn:aws:iam::100000000002:role/S3BucketManager";

    fn trust_scope() -> Scope {
        Scope::open()
            .action(Values::Fixed("sts:AssumeRole".into()))
            .resource(Values::Fixed(TARGET.into()))
    }

    fn intent() -> PolicyDocument {
        doc(&format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
    }

    fn check(cand: &PolicyDocument, int: &PolicyDocument, scope: &Scope) -> Option<Request> {
        let c = [Named::resource("cand", cand)];
        let i = [Named::resource("intent", int)];
        match find(&[&c], &[&i], scope) {
            Answer::Empty => None,
            Answer::Witness(r) => {
                assert!(evaluate(&c, &r).allowed(), "{r:?}");
                assert!(!evaluate(&i, &r).allowed(), "{r:?}");
                Some(r)
            }
            Answer::Unknown(e) => panic!("unknown: {e}"),
        }
    }

    #[test]
    fn rendered_trust_is_exactly_the_intent() {
        let t = doc(&format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::100000000001:root"}},"Action":"sts:AssumeRole","Condition":{{"ArnEquals":{{"aws:PrincipalArn":"{ROLE}"}}}}}}]}}"#
        ));
        assert!(check(&t, &intent(), &trust_scope()).is_none());
        // And the other way round: the intent allows nothing the rendered trust does not.
        assert!(check(&intent(), &t, &trust_scope()).is_none());
    }

    #[test]
    fn arnlike_widening_has_a_witness() {
        let t = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::100000000001:root"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::100000000001:role/s3-*"}}}]}"#,
        );
        let w = check(&t, &intent(), &trust_scope()).expect("witness");
        assert!(
            w.caller
                .describe()
                .starts_with("arn:aws:iam::100000000001:role/s3-")
        );
    }

    #[test]
    fn deny_and_not_principal_and_conditions() {
        let t = doc(r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"100000000001"}}},
            {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution"},"Action":"sts:*"}]}"#);
        assert!(check(&t, &intent(), &trust_scope()).is_none());
        let t2 = doc(r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringLike":{"aws:PrincipalAccount":"10000000000?"}}},
            {"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution"}}}]}"#);
        assert!(check(&t2, &intent(), &trust_scope()).is_none());
        let t3 = doc(r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringLike":{"aws:PrincipalAccount":"10000000000?"}}},
            {"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{"StringNotEqualsIfExists":{"sts:ExternalId":"x"}}}]}"#);
        let w = check(&t3, &intent(), &trust_scope()).expect("witness");
        assert_eq!(w.get("sts:ExternalId").map(|v| v[0].as_str()), Some("x"));
    }

    #[test]
    fn unmodelled_operator_is_unknown() {
        let t = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"1"}}}]}"#,
        );
        let c = [Named::resource("c", &t)];
        let i_doc = intent();
        let i = [Named::resource("i", &i_doc)];
        assert!(matches!(
            find(&[&c], &[&i], &trust_scope()),
            Answer::Unknown(_)
        ));
    }

    #[test]
    fn identity_resources_and_resource_account() {
        let intent = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":["arn:aws:iam::100000000002:role/S3BucketManager","arn:aws:iam::100000000003:role/S3BucketManager"]}]}"#,
        );
        let narrowed = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/S3BucketManager","Condition":{"StringEquals":{"aws:ResourceAccount":["100000000002","100000000003"]}}}]}"#,
        );
        let wide = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:Assume*","Resource":"arn:aws:iam::10000000000?:role/S3BucketManager"}]}"#,
        );
        let scope = Scope::open()
            .principal(Values::Fixed(ROLE.into()))
            .resource(Values::roles());
        let run = |c: &PolicyDocument| {
            let cn = [Named::identity("c", c)];
            let inn = [Named::identity("i", &intent)];
            match find(&[&cn], &[&inn], &scope) {
                Answer::Witness(r) => {
                    assert!(evaluate(&cn, &r).allowed());
                    assert!(!evaluate(&inn, &r).allowed());
                    Some(r)
                }
                Answer::Empty => None,
                Answer::Unknown(e) => panic!("{e}"),
            }
        };
        let n = run(&narrowed);
        assert!(n.is_none(), "{n:?}");
        let w = run(&wide).expect("witness");
        assert!(
            w.resource.starts_with("arn:aws:iam::10000000000") || w.action != "sts:assumerole",
            "{w:?}"
        );
    }
}
