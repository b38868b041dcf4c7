//! Reads a Terraform root module from its files (no `terraform` binary): the
//! resources it declares, with the values that can be known without AWS
//! (literals, heredocs, `jsonencode`, `local.*`, `var.*` from
//! `terraform.tfvars` and defaults, local modules followed through their
//! `source`). The result has the shape of `terraform show -json`'s
//! `planned_values`, so [`super::plan::input_from_plans`] reads it like a
//! plan, and every resource keeps the file and line it is declared at.
//! A policy attribute whose value cannot be known here (a `data` source, an
//! interpolated reference to a resource) is reported as "cannot decide".

use std::collections::BTreeMap;

use hcl::expr::{
    BinaryOperator, Expression, ObjectKey, Operation, TemplateExpr, TraversalOperator,
    UnaryOperator,
};
use hcl::template::Element;
use hcl::{Block, BlockLabel, Body};
use serde_json::{Map, Value};

use super::input::line_starting;

/// Why a root module cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: not valid HCL: {message}")]
pub struct TfError {
    pub file: String,
    pub message: String,
}

/// Where a resource is declared, and where each of its policy attributes' text lives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    /// attribute -> (file, line) of the text the attribute's value comes from.
    pub attributes: BTreeMap<String, (String, usize)>,
}

/// A root module read from files.
#[derive(Debug, Clone, Default)]
pub struct Root {
    /// `{"format_version": .., "planned_values": {"root_module": {"resources": [..]}}}`.
    pub plan: Value,
    /// Resource address -> where it is declared.
    pub origins: BTreeMap<String, Origin>,
    /// `(address, attribute, file, line)` of policy attributes whose value cannot be known.
    pub unknown_policies: Vec<(String, String, String, usize)>,
}

/// Attributes that hold an IAM document (or a principal) the audit must read.
const POLICY_ATTRIBUTES: &[(&str, &str)] = &[
    ("aws_iam_role", "assume_role_policy"),
    ("aws_iam_role_policy", "policy"),
    ("aws_iam_policy", "policy"),
    ("aws_s3_bucket_policy", "policy"),
    ("aws_lambda_permission", "principal"),
    ("aws_lambda_permission", "source_arn"),
    ("aws_lambda_function_url", "authorization_type"),
];

/// A parsed `.tf` file.
struct File {
    display: String,
    text: String,
    body: Body,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
    /// Trimmed block headers (`resource "t" "n"`) -> 1-based line.
    headers: BTreeMap<String, usize>,
}

impl File {
    fn new(display: String, text: String, body: Body) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut headers = BTreeMap::new();
        for (n, l) in text.lines().enumerate() {
            if let Some(h) = l.trim().strip_suffix('{') {
                headers.entry(h.trim_end().to_owned()).or_insert(n + 1);
            }
        }
        File {
            display,
            text,
            body,
            starts,
            headers,
        }
    }

    /// [`attr_line`] without rescanning the lines before `from`.
    fn attr_line(&self, from: usize, key: &str) -> Option<usize> {
        let from = from.max(1);
        let off = *self.starts.get(from - 1)?;
        attr_line(&self.text[off..], 1, key).map(|l| l + from - 1)
    }

    fn block_line(&self, b: &Block) -> Option<usize> {
        let mut head = b.identifier.as_str().to_owned();
        for l in &b.labels {
            head.push_str(&format!(" \"{}\"", label(l)));
        }
        self.headers
            .get(&head)
            .copied()
            .or_else(|| block_line(&self.text, b))
    }
}

/// A value and where its text is written.
#[derive(Clone)]
struct Ev {
    v: Option<Value>,
    at: Option<(String, usize)>,
}

/// One module instance being evaluated.
struct Module<'a> {
    vars: BTreeMap<String, Ev>,
    locals: BTreeMap<String, (&'a Expression, String, usize)>,
    memo: std::cell::RefCell<BTreeMap<String, Ev>>,
    depth: std::cell::Cell<usize>,
}

fn label(l: &BlockLabel) -> &str {
    match l {
        BlockLabel::Identifier(i) => i.as_str(),
        BlockLabel::String(s) => s.as_str(),
    }
}

/// 1-based line of `key =` at or after `from`.
fn attr_line(text: &str, from: usize, key: &str) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start();
            t.strip_prefix(key).is_some_and(|rest| {
                rest.trim_start().starts_with('=') && !rest.trim_start().starts_with("==")
            })
        })
        .map(|(n, _)| n + 1)
}

/// 1-based line of a block header (`resource "t" "n"`, `module "m"`, `locals`).
fn block_line(text: &str, b: &Block) -> Option<usize> {
    let mut head = b.identifier.as_str().to_owned();
    for l in &b.labels {
        head.push_str(&format!(" \"{}\"", label(l)));
    }
    line_starting(text, 1, &head)
}

impl<'a> Module<'a> {
    fn new(files: Vec<&'a File>, vars: BTreeMap<String, Ev>) -> Self {
        let mut locals = BTreeMap::new();
        for f in &files {
            for b in f
                .body
                .blocks()
                .filter(|b| b.identifier.as_str() == "locals")
            {
                let from = f.block_line(b).unwrap_or(1);
                for a in b.body.attributes() {
                    let line = f.attr_line(from, a.key.as_str()).unwrap_or(from);
                    locals.insert(a.key.to_string(), (&a.expr, f.display.clone(), line));
                }
            }
        }
        Module {
            vars,
            locals,
            memo: Default::default(),
            depth: Default::default(),
        }
    }

    fn local(&self, name: &str) -> Ev {
        if let Some(v) = self.memo.borrow().get(name) {
            return v.clone();
        }
        let Some((expr, file, line)) = self.locals.get(name) else {
            return Ev { v: None, at: None };
        };
        if self.depth.get() > 64 {
            return Ev { v: None, at: None };
        }
        self.depth.set(self.depth.get() + 1);
        let inner = self.eval(expr);
        self.depth.set(self.depth.get() - 1);
        let ev = Ev {
            v: inner.v,
            at: inner.at.or_else(|| Some((file.clone(), *line))),
        };
        // A local written as a literal is located at its own definition.
        let ev = if is_literal(expr) {
            Ev {
                v: ev.v,
                at: Some((file.clone(), *line)),
            }
        } else {
            ev
        };
        self.memo.borrow_mut().insert(name.to_owned(), ev.clone());
        ev
    }

    fn known(&self, e: &Expression) -> Option<Value> {
        self.eval(e).v
    }

    fn eval(&self, e: &Expression) -> Ev {
        let plain = |v: Option<Value>| Ev { v, at: None };
        match e {
            Expression::Null => plain(Some(Value::Null)),
            Expression::Bool(b) => plain(Some(Value::Bool(*b))),
            Expression::Number(n) => plain(serde_json::to_value(n).ok()),
            Expression::String(s) => plain(Some(Value::String(s.clone()))),
            Expression::Array(a) => {
                let vals: Option<Vec<Value>> = a.iter().map(|x| self.known(x)).collect();
                plain(vals.map(Value::Array))
            }
            Expression::Object(o) => {
                let mut m = Map::new();
                for (k, v) in o {
                    let key = match k {
                        ObjectKey::Identifier(i) => i.to_string(),
                        ObjectKey::Expression(x) => match self.known(x) {
                            Some(Value::String(s)) => s,
                            _ => return plain(None),
                        },
                        _ => return plain(None),
                    };
                    // Unknown values are left out, as in a plan's planned_values.
                    if let Some(v) = self.known(v) {
                        m.insert(key, v);
                    }
                }
                plain(Some(Value::Object(m)))
            }
            Expression::TemplateExpr(t) => plain(self.template(t)),
            Expression::Variable(_) => plain(None),
            Expression::Traversal(t) => {
                let Expression::Variable(root) = &t.expr else {
                    return plain(None);
                };
                let mut ops = t.operators.iter();
                let Some(TraversalOperator::GetAttr(first)) = ops.next() else {
                    return plain(None);
                };
                let base = match root.as_str() {
                    "local" => self.local(first.as_str()),
                    "var" => self
                        .vars
                        .get(first.as_str())
                        .cloned()
                        .unwrap_or(Ev { v: None, at: None }),
                    _ => return plain(None),
                };
                let mut v = base.v;
                for op in ops {
                    v = match (v, op) {
                        (Some(Value::Object(m)), TraversalOperator::GetAttr(k)) => {
                            m.get(k.as_str()).cloned()
                        }
                        (Some(Value::Array(a)), TraversalOperator::Index(i)) => self
                            .known(i)
                            .and_then(|i| i.as_u64())
                            .and_then(|i| a.get(i as usize).cloned()),
                        (Some(Value::Object(m)), TraversalOperator::Index(i)) => {
                            match self.known(i) {
                                Some(Value::String(k)) => m.get(&k).cloned(),
                                _ => None,
                            }
                        }
                        (Some(Value::Array(a)), TraversalOperator::LegacyIndex(i)) => {
                            a.get(*i as usize).cloned()
                        }
                        _ => None,
                    };
                }
                Ev { v, at: base.at }
            }
            Expression::FuncCall(f) => {
                if !f.name.namespace.is_empty() {
                    return plain(None);
                }
                let args: Vec<Ev> = f.args.iter().map(|a| self.eval(a)).collect();
                let at = args.first().and_then(|a| a.at.clone());
                let vals: Option<Vec<Value>> = args.into_iter().map(|a| a.v).collect();
                let Some(vals) = vals else {
                    return plain(None);
                };
                Ev {
                    v: call(f.name.name.as_str(), vals),
                    at,
                }
            }
            Expression::Parenthesis(x) => self.eval(x),
            Expression::Conditional(c) => match self.known(&c.cond_expr) {
                Some(Value::Bool(true)) => self.eval(&c.true_expr),
                Some(Value::Bool(false)) => self.eval(&c.false_expr),
                _ => plain(None),
            },
            Expression::Operation(op) => plain(match op.as_ref() {
                Operation::Unary(u) => match (u.operator, self.known(&u.expr)) {
                    (UnaryOperator::Not, Some(Value::Bool(b))) => Some(Value::Bool(!b)),
                    (UnaryOperator::Neg, Some(Value::Number(n))) => {
                        n.as_f64().map(|f| Value::from(-f))
                    }
                    _ => None,
                },
                Operation::Binary(b) => {
                    let (l, r) = (self.known(&b.lhs_expr), self.known(&b.rhs_expr));
                    match (b.operator, l, r) {
                        (BinaryOperator::Eq, Some(l), Some(r)) => Some(Value::Bool(l == r)),
                        (BinaryOperator::NotEq, Some(l), Some(r)) => Some(Value::Bool(l != r)),
                        (BinaryOperator::And, Some(Value::Bool(l)), Some(Value::Bool(r))) => {
                            Some(Value::Bool(l && r))
                        }
                        (BinaryOperator::Or, Some(Value::Bool(l)), Some(Value::Bool(r))) => {
                            Some(Value::Bool(l || r))
                        }
                        _ => None,
                    }
                }
            }),
            _ => plain(None),
        }
    }

    fn template(&self, t: &TemplateExpr) -> Option<Value> {
        let tpl = hcl::Template::from_expr(t).ok()?;
        let mut out = String::new();
        for el in tpl.elements() {
            match el {
                Element::Literal(s) => out.push_str(s),
                Element::Interpolation(i) => match self.known(&i.expr)? {
                    Value::String(s) => out.push_str(&s),
                    Value::Null => return None,
                    other => out.push_str(&other.to_string()),
                },
                Element::Directive(_) => return None,
            }
        }
        Some(Value::String(out))
    }
}

fn is_literal(e: &Expression) -> bool {
    matches!(
        e,
        Expression::TemplateExpr(_)
            | Expression::String(_)
            | Expression::FuncCall(_)
            | Expression::Object(_)
            | Expression::Array(_)
    )
}

/// The few Terraform functions that matter for IAM documents.
fn call(name: &str, args: Vec<Value>) -> Option<Value> {
    let list = |v: &Value| v.as_array().cloned();
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match (name, args.as_slice()) {
        ("jsonencode", [v]) => Some(Value::String(serde_json::to_string(v).ok()?)),
        ("tostring", [v]) => text(v).map(Value::String),
        ("tolist" | "toset", [v]) => list(v).map(Value::Array),
        ("sort", [v]) => {
            let mut l: Vec<String> = list(v)?.iter().map(text).collect::<Option<_>>()?;
            l.sort();
            Some(Value::Array(l.into_iter().map(Value::String).collect()))
        }
        ("join", [sep, v]) => {
            let l: Vec<String> = list(v)?.iter().map(text).collect::<Option<_>>()?;
            Some(Value::String(l.join(sep.as_str()?)))
        }
        ("concat", lists) => Some(Value::Array(
            lists.iter().map(list).collect::<Option<Vec<_>>>()?.concat(),
        )),
        ("merge", objs) => {
            let mut m = Map::new();
            for o in objs {
                m.extend(o.as_object()?.clone());
            }
            Some(Value::Object(m))
        }
        ("lower", [v]) => Some(Value::String(v.as_str()?.to_lowercase())),
        ("upper", [v]) => Some(Value::String(v.as_str()?.to_uppercase())),
        ("trimspace", [v]) => Some(Value::String(v.as_str()?.trim().to_owned())),
        _ => None,
    }
}

/// Normalises `a/b/../c` (no filesystem access).
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

/// Reads the root module in directory `root` (relative, `/`-separated) from
/// `files` (relative path -> (display path, text)).
pub fn read_root(files: &BTreeMap<String, (String, String)>, root: &str) -> Result<Root, TfError> {
    // The root's files, then the local modules it reaches (`source` is a literal in Terraform).
    let mut parsed: BTreeMap<String, File> = BTreeMap::new();
    let mut dirs = vec![root.to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(dir) = dirs.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        for (rel, (display, text)) in files {
            let in_dir = rel.ends_with(".tf")
                && rel
                    .rsplit_once('/')
                    .map_or(dir.is_empty(), |(d, _)| d == dir);
            if !in_dir {
                continue;
            }
            let body = hcl::parse(text).map_err(|e| TfError {
                file: display.clone(),
                message: e.to_string(),
            })?;
            for b in body.blocks().filter(|b| b.identifier.as_str() == "module") {
                let source = b.body.attributes().find(|a| a.key.as_str() == "source");
                if let Some(Expression::String(src)) = source.map(|a| &a.expr)
                    && (src.starts_with("./") || src.starts_with("../"))
                {
                    dirs.push(normalize(&format!("{dir}/{src}")));
                }
            }
            parsed.insert(rel.clone(), File::new(display.clone(), text.clone(), body));
        }
    }
    // Root variables: defaults, then terraform.tfvars.
    let mut vars: BTreeMap<String, Ev> = BTreeMap::new();
    let tfvars = format!("{root}/terraform.tfvars");
    if let Some((display, text)) = files.get(&tfvars) {
        let body = hcl::parse(text).map_err(|e| TfError {
            file: display.clone(),
            message: e.to_string(),
        })?;
        let m = Module::new(Vec::new(), BTreeMap::new());
        for a in body.attributes() {
            let line = attr_line(text, 1, a.key.as_str()).unwrap_or(1);
            vars.insert(
                a.key.to_string(),
                Ev {
                    v: m.known(&a.expr),
                    at: Some((display.clone(), line)),
                },
            );
        }
    }
    let mut out = Root::default();
    let mut resources = Vec::new();
    instantiate(&parsed, root, "", vars, &mut resources, &mut out, 0);
    out.plan = serde_json::json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": resources}},
    });
    Ok(out)
}

fn instantiate(
    parsed: &BTreeMap<String, File>,
    dir: &str,
    prefix: &str,
    given: BTreeMap<String, Ev>,
    resources: &mut Vec<Value>,
    out: &mut Root,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    let files: Vec<&File> = parsed
        .iter()
        .filter(|(rel, _)| {
            rel.rsplit_once('/')
                .map_or(dir.is_empty(), |(d, _)| d == dir)
        })
        .map(|(_, f)| f)
        .collect();
    // Variable defaults, overridden by what the caller passes.
    let mut vars: BTreeMap<String, Ev> = BTreeMap::new();
    {
        let m = Module::new(Vec::new(), BTreeMap::new());
        for f in &files {
            for b in f
                .body
                .blocks()
                .filter(|b| b.identifier.as_str() == "variable")
            {
                let Some(name) = b.labels.first().map(label) else {
                    continue;
                };
                let default = b
                    .body
                    .attributes()
                    .find(|a| a.key.as_str() == "default")
                    .map(|a| m.known(&a.expr))
                    .unwrap_or(None);
                let line = f.block_line(b).unwrap_or(1);
                vars.insert(
                    name.to_owned(),
                    Ev {
                        v: default,
                        at: Some((f.display.clone(), line)),
                    },
                );
            }
        }
    }
    vars.extend(given);
    let m = Module::new(files.clone(), vars);
    for f in &files {
        for b in f.body.blocks() {
            let line = f.block_line(b).unwrap_or(1);
            match (b.identifier.as_str(), b.labels.as_slice()) {
                ("resource", [kind, name]) => {
                    if count_is_zero(&m, &b.body) {
                        continue;
                    }
                    let (kind, name) = (label(kind), label(name));
                    let address = format!("{prefix}{kind}.{name}");
                    let mut origin = Origin {
                        file: f.display.clone(),
                        line,
                        attributes: BTreeMap::new(),
                    };
                    let values = body_values(&m, &b.body);
                    let unknown = body_unknown(&m, &b.body);
                    for (k, attr) in POLICY_ATTRIBUTES {
                        if *k != kind {
                            continue;
                        }
                        let Some(a) = b.body.attributes().find(|a| a.key.as_str() == *attr) else {
                            continue;
                        };
                        let ev = m.eval(&a.expr);
                        let own = f.attr_line(line, attr).unwrap_or(line);
                        let at = if is_literal(&a.expr) {
                            (f.display.clone(), own)
                        } else {
                            ev.at.clone().unwrap_or((f.display.clone(), own))
                        };
                        if ev.v.is_none() {
                            out.unknown_policies.push((
                                address.clone(),
                                attr.to_string(),
                                f.display.clone(),
                                own,
                            ));
                        }
                        origin.attributes.insert(attr.to_string(), at);
                    }
                    out.origins.insert(address.clone(), origin);
                    resources.push(serde_json::json!({
                        "address": address,
                        "mode": "managed",
                        "type": kind,
                        "name": name,
                        "values": values,
                        "xacct_unknown": unknown,
                    }));
                }
                ("module", [name]) => {
                    if count_is_zero(&m, &b.body) {
                        continue;
                    }
                    let name = label(name);
                    let Some(Value::String(source)) = b
                        .body
                        .attributes()
                        .find(|a| a.key.as_str() == "source")
                        .and_then(|a| m.known(&a.expr))
                    else {
                        continue;
                    };
                    if !(source.starts_with("./") || source.starts_with("../")) {
                        continue;
                    }
                    let child = normalize(&format!("{dir}/{source}"));
                    let mut args = BTreeMap::new();
                    for a in b.body.attributes() {
                        if matches!(
                            a.key.as_str(),
                            "source"
                                | "count"
                                | "for_each"
                                | "providers"
                                | "depends_on"
                                | "version"
                        ) {
                            continue;
                        }
                        let mut ev = m.eval(&a.expr);
                        if ev.at.is_none() {
                            let l = f.attr_line(line, a.key.as_str()).unwrap_or(line);
                            ev.at = Some((f.display.clone(), l));
                        }
                        args.insert(a.key.to_string(), ev);
                    }
                    instantiate(
                        parsed,
                        &child,
                        &format!("{prefix}module.{name}."),
                        args,
                        resources,
                        out,
                        depth + 1,
                    );
                }
                _ => {}
            }
        }
    }
}

fn count_is_zero(m: &Module<'_>, body: &Body) -> bool {
    body.attributes()
        .find(|a| a.key.as_str() == "count")
        .and_then(|a| m.known(&a.expr))
        .and_then(|v| v.as_u64())
        == Some(0)
}

/// The attributes of a block body that are set but not known offline (a
/// reference to another resource), shaped like a plan's `after_unknown`.
fn body_unknown(m: &Module<'_>, body: &Body) -> Value {
    body_walk(m, body, &|v| match v {
        None => Some(Value::Bool(true)),
        Some(_) => None,
    })
}

/// A block body as plan values: attributes, and nested blocks as lists.
fn body_values(m: &Module<'_>, body: &Body) -> Value {
    body_walk(m, body, &|v| v)
}

/// Attributes (each known value, or `None`, mapped by `leaf`; `None` from
/// `leaf` leaves it out) and nested blocks as lists.
fn body_walk(m: &Module<'_>, body: &Body, leaf: &dyn Fn(Option<Value>) -> Option<Value>) -> Value {
    let mut out = Map::new();
    for a in body.attributes() {
        if matches!(
            a.key.as_str(),
            "count" | "for_each" | "depends_on" | "provider"
        ) {
            continue;
        }
        if let Some(v) = leaf(m.known(&a.expr)) {
            out.insert(a.key.to_string(), v);
        }
    }
    for b in body.blocks() {
        if matches!(
            b.identifier.as_str(),
            "lifecycle" | "provisioner" | "connection" | "dynamic"
        ) {
            continue;
        }
        let entry = out
            .entry(b.identifier.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(body_walk(m, &b.body, leaf));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, (String, String)> {
        list.iter()
            .map(|(p, t)| (p.to_string(), (format!("g/{p}"), t.to_string())))
            .collect()
    }

    #[test]
    fn locals_vars_modules_and_heredocs_resolve() {
        let fs = files(&[
            (
                "root/main.tf",
                "locals {\n  doc = <<-EOT\n    {\"Version\": \"2012-10-17\"}\n  EOT\n  enc = jsonencode({Version = \"2012-10-17\", Statement = []})\n}\nmodule \"account_111122223333\" {\n  source = \"../mod\"\n  trust = local.doc\n  name = var.role\n}\n",
            ),
            ("root/terraform.tfvars", "role = \"r1\"\n"),
            (
                "mod/main.tf",
                "variable \"trust\" {}\nvariable \"name\" {}\nvariable \"off\" {\n  default = null\n}\nresource \"aws_iam_role\" \"this\" {\n  name = \"${var.name}-x\"\n  assume_role_policy = var.trust\n  tags = {\n    a = \"b\"\n  }\n  rule {\n    x = 1\n  }\n}\nresource \"aws_iam_role\" \"skipped\" {\n  count = var.off == null ? 0 : 1\n  assume_role_policy = data.x.json\n}\n",
            ),
        ]);
        let r = read_root(&fs, "root").unwrap();
        let res = r
            .plan
            .pointer("/planned_values/root_module/resources")
            .unwrap();
        assert_eq!(res.as_array().unwrap().len(), 1, "{res}");
        let v = &res[0]["values"];
        assert_eq!(
            res[0]["address"],
            "module.account_111122223333.aws_iam_role.this"
        );
        assert_eq!(v["name"], "r1-x");
        assert!(
            v["assume_role_policy"]
                .as_str()
                .unwrap()
                .contains("2012-10-17")
        );
        assert_eq!(v["rule"][0]["x"], 1);
        let o = &r.origins["module.account_111122223333.aws_iam_role.this"];
        assert_eq!(o.file, "g/mod/main.tf");
        assert_eq!(
            o.attributes["assume_role_policy"],
            ("g/root/main.tf".to_owned(), 2)
        );
        assert!(r.unknown_policies.is_empty());
    }

    #[test]
    fn computed_policies_are_unknown() {
        let fs = files(&[(
            "r/main.tf",
            "resource \"aws_iam_role\" \"x\" {\n  name = \"x\"\n  assume_role_policy = data.aws_iam_policy_document.t.json\n}\n",
        )]);
        let r = read_root(&fs, "r").unwrap();
        assert_eq!(r.unknown_policies.len(), 1);
        assert_eq!(r.unknown_policies[0].3, 3);
    }
}
