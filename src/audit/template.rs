//! Reads CloudFormation templates (YAML or JSON, short-form tags such as
//! `!Sub`, `!Ref`, `!GetAtt`) into an audit [`Input`]: IAM roles (trust and
//! inline policies), managed policies, bucket policies, Lambda permissions,
//! function URLs and S3 buckets. `Ref`/`Fn::Sub`/`Fn::GetAtt`/`Fn::Join` of
//! parameters, pseudo-parameters and resources of the template are resolved;
//! a value that cannot be resolved stays a marker that matches nothing, and
//! the statement that holds it is reported as "cannot decide" (XA041).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::attributes::{self, CANNOT_DECIDE, Place, TEMPLATE_UNAUDITED, Undecided};
use super::input::{BucketPolicy, Doc, DocLocation, Expect, Input, Lines};
use crate::contract;
use crate::iam::{PolicyDocument, Principal, Statement};

/// Why a template cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{file}: not a CloudFormation template (YAML or JSON): {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {message}")]
    Shape { file: String, message: String },
    #[error(
        "{file}: {resource}.{property} is not a valid IAM policy document: {source}; fix the template"
    )]
    Policy {
        file: String,
        resource: String,
        property: String,
        #[source]
        source: crate::iam::ParseError,
    },
}

/// One template to read, with its parameter values and the pseudo-parameters
/// of the stack it is deployed as.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub file: String,
    /// Shared: a storage template is one text read once per account.
    pub text: std::sync::Arc<str>,
    /// `--parameters` values; parameters without one use their `Default`.
    pub parameters: BTreeMap<String, String>,
    /// `AWS::AccountId`; `None`: the intent's primary account, or each storage
    /// account for a template that creates `S3BucketManager`.
    pub account: Option<String>,
    /// `AWS::Region`; `None`: the intent's region (from the function ARN) or unresolved.
    pub region: Option<String>,
}

/// Marks a value that could not be resolved: it matches no ARN, action or value.
const UNRESOLVED: &str = "${xacct:unresolved ";

fn unresolved(what: &str) -> Value {
    Value::String(format!("{UNRESOLVED}{what}}}"))
}

/// The unresolved references inside a value.
fn unresolved_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(i) = rest.find(UNRESOLVED) {
                let tail = &rest[i + UNRESOLVED.len()..];
                let end = tail.find('}').unwrap_or(tail.len());
                out.push(tail[..end].to_owned());
                rest = &tail[end..];
            }
        }
        Value::Array(a) => a.iter().for_each(|x| unresolved_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| unresolved_in(x, out)),
        _ => {}
    }
}

/// Template parameter values by name.
pub type Parameters = BTreeMap<String, String>;

/// Parses a parameters file: the CloudFormation CLI list
/// (`[{"ParameterKey": .., "ParameterValue": ..}]`) or a plain `{"Key": "value"}` object.
pub fn parse_parameters(file: &str, text: &str) -> Result<Parameters, TemplateError> {
    let shape = |message: String| TemplateError::Shape {
        file: file.to_owned(),
        message,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| {
        shape(format!(
            "parameters must be JSON ([{{\"ParameterKey\": .., \"ParameterValue\": ..}}] or {{\"Key\": \"value\"}}): {e}"
        ))
    })?;
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned).or(Some(x.to_string())))
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    let mut out = BTreeMap::new();
    match &v {
        Value::Array(items) => {
            for (i, it) in items.iter().enumerate() {
                let k = it.get("ParameterKey").and_then(Value::as_str);
                let val = it.get("ParameterValue").and_then(scalar);
                match (k, val) {
                    (Some(k), Some(val)) => {
                        out.insert(k.to_owned(), val);
                    }
                    _ => {
                        return Err(shape(format!(
                            "parameter #{i} needs a ParameterKey and a ParameterValue"
                        )));
                    }
                }
            }
        }
        Value::Object(m) => {
            for (k, val) in m {
                let val = scalar(val).ok_or_else(|| {
                    shape(format!("parameter {k} is not a string, number or list"))
                })?;
                out.insert(k.clone(), val);
            }
        }
        _ => return Err(shape("parameters must be a list or an object".to_owned())),
    }
    Ok(out)
}

/// YAML (with CloudFormation short-form tags) to the long-form JSON of the template.
fn to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .or_else(|| n.as_f64().map(Value::from))
            .unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let k = match to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = to_json(t.value);
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            let inner = match (name, inner) {
                ("GetAtt", Value::String(s)) => {
                    let (a, b) = s.split_once('.').unwrap_or((s.as_str(), ""));
                    Value::Array(vec![Value::from(a), Value::from(b)])
                }
                (_, v) => v,
            };
            let mut m = Map::new();
            m.insert(key, inner);
            Value::Object(m)
        }
    }
}

/// What `Ref` and `Fn::GetAtt` of the template's names resolve to.
struct Scope {
    params: BTreeMap<String, String>,
    /// `Ref` of a resource: its physical name or ARN, when known.
    refs: BTreeMap<String, String>,
    /// `Fn::GetAtt` `<Resource>.<Attr>`.
    atts: BTreeMap<String, String>,
    mappings: Value,
    conditions: Map<String, Value>,
}

impl Scope {
    fn lookup(&self, name: &str) -> Option<String> {
        if let Some((r, a)) = name.split_once('.') {
            return self.atts.get(&format!("{r}.{a}")).cloned();
        }
        self.params
            .get(name)
            .or_else(|| self.refs.get(name))
            .cloned()
    }

    /// The value of condition `name`; `None` when it cannot be decided offline.
    fn condition(&self, name: &str, depth: usize) -> Option<bool> {
        let c = self.conditions.get(name)?;
        self.truth(c, depth + 1)
    }

    fn truth(&self, v: &Value, depth: usize) -> Option<bool> {
        if depth > 32 {
            return None;
        }
        let m = v.as_object().filter(|m| m.len() == 1)?;
        let (k, arg) = m.iter().next()?;
        let args = || arg.as_array().cloned().unwrap_or_default();
        match k.as_str() {
            "Condition" => self.condition(arg.as_str()?, depth),
            "Fn::Equals" => {
                let a = args();
                let side = |x: &Value| match self.resolve(x)? {
                    Value::String(s) if !s.contains(UNRESOLVED) => Some(s),
                    Value::String(_) => None,
                    other => Some(other.to_string().trim_matches('"').to_owned()),
                };
                Some(side(a.first()?)? == side(a.get(1)?)?)
            }
            "Fn::Not" => Some(!self.truth(args().first()?, depth + 1)?),
            "Fn::And" => {
                let vals: Vec<Option<bool>> =
                    args().iter().map(|x| self.truth(x, depth + 1)).collect();
                if vals.contains(&Some(false)) {
                    Some(false)
                } else {
                    vals.into_iter().collect::<Option<Vec<_>>>().map(|_| true)
                }
            }
            "Fn::Or" => {
                let vals: Vec<Option<bool>> =
                    args().iter().map(|x| self.truth(x, depth + 1)).collect();
                if vals.contains(&Some(true)) {
                    Some(true)
                } else {
                    vals.into_iter().collect::<Option<Vec<_>>>().map(|_| false)
                }
            }
            _ => None,
        }
    }

    /// Resolves intrinsic functions; `None` for `AWS::NoValue`.
    fn resolve(&self, v: &Value) -> Option<Value> {
        match v {
            Value::Array(a) => Some(Value::Array(
                a.iter().filter_map(|x| self.resolve(x)).collect(),
            )),
            Value::Object(m) if m.len() == 1 => {
                let (k, arg) = m.iter().next().expect("one key");
                match k.as_str() {
                    "Ref" => {
                        let name = arg.as_str().unwrap_or_default();
                        if name == "AWS::NoValue" {
                            return None;
                        }
                        Some(
                            self.lookup(name)
                                .map(Value::String)
                                .unwrap_or_else(|| unresolved(&format!("Ref {name}"))),
                        )
                    }
                    "Fn::GetAtt" => {
                        let parts: Vec<String> = match arg {
                            Value::Array(a) => a
                                .iter()
                                .map(|x| match self.resolve(x) {
                                    Some(Value::String(s)) => s,
                                    _ => String::new(),
                                })
                                .collect(),
                            Value::String(s) => s.splitn(2, '.').map(str::to_owned).collect(),
                            _ => Vec::new(),
                        };
                        let name = parts.join(".");
                        Some(
                            self.atts
                                .get(&name)
                                .cloned()
                                .map(Value::String)
                                .unwrap_or_else(|| unresolved(&format!("GetAtt {name}"))),
                        )
                    }
                    "Fn::Sub" => {
                        let (template, vars) = match arg {
                            Value::String(s) => (s.clone(), Map::new()),
                            Value::Array(a) => (
                                a.first()
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                                a.get(1)
                                    .and_then(Value::as_object)
                                    .cloned()
                                    .unwrap_or_default(),
                            ),
                            _ => return Some(unresolved("Fn::Sub")),
                        };
                        Some(Value::String(self.sub(&template, &vars)))
                    }
                    "Fn::Join" => {
                        let (Some(sep), Some(items)) = (
                            arg.get(0).and_then(Value::as_str),
                            arg.get(1).and_then(|x| self.resolve(x)),
                        ) else {
                            return Some(unresolved("Fn::Join"));
                        };
                        let items: Vec<String> = items
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                            .collect();
                        Some(Value::String(items.join(sep)))
                    }
                    "Fn::Select" => {
                        let idx = arg
                            .get(0)
                            .and_then(|x| self.resolve(x))
                            .and_then(|x| x.as_u64().or_else(|| x.as_str()?.parse().ok()));
                        let list = arg.get(1).and_then(|x| self.resolve(x));
                        Some(
                            match (idx, list) {
                                (Some(i), Some(Value::Array(l))) => l.get(i as usize).cloned(),
                                _ => None,
                            }
                            .unwrap_or_else(|| unresolved("Fn::Select")),
                        )
                    }
                    "Fn::FindInMap" => {
                        let keys: Vec<String> = arg
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|x| self.resolve(x)?.as_str().map(str::to_owned))
                            .collect();
                        let hit = (keys.len() == 3)
                            .then(|| self.mappings.get(&keys[0])?.get(&keys[1])?.get(&keys[2]))
                            .flatten()
                            .cloned();
                        Some(hit.unwrap_or_else(|| unresolved("Fn::FindInMap")))
                    }
                    "Fn::If" => {
                        let a = arg.as_array().cloned().unwrap_or_default();
                        match (a.first().and_then(Value::as_str), a.len()) {
                            (Some(c), 3) => match self.condition(c, 0) {
                                Some(true) => self.resolve(&a[1]),
                                Some(false) => self.resolve(&a[2]),
                                None => Some(unresolved(&format!("Fn::If {c}"))),
                            },
                            _ => Some(unresolved("Fn::If")),
                        }
                    }
                    k if k.starts_with("Fn::") || k == "Condition" => {
                        Some(unresolved(&format!("{k} (not evaluated offline)")))
                    }
                    _ => Some(Value::Object(
                        m.iter()
                            .filter_map(|(k, v)| Some((k.clone(), self.resolve(v)?)))
                            .collect(),
                    )),
                }
            }
            Value::Object(m) => Some(Value::Object(
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), self.resolve(v)?)))
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }

    fn sub(&self, template: &str, vars: &Map<String, Value>) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 2..];
            let Some(end) = tail.find('}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let name = tail[..end].trim();
            if let Some(lit) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                match self.resolve(v) {
                    Some(Value::String(s)) => out.push_str(&s),
                    Some(other) => out.push_str(&other.to_string()),
                    None => {}
                }
            } else {
                match self.lookup(name) {
                    Some(s) => out.push_str(&s),
                    None => {
                        if let Value::String(s) = unresolved(name) {
                            out.push_str(&s)
                        }
                    }
                }
            }
            rest = &tail[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// A template parsed into long form.
struct Parsed {
    resources: Vec<(String, String, Value)>,
    /// Resource logical ID -> the condition it is created under.
    resource_conditions: BTreeMap<String, String>,
    parameters: Map<String, Value>,
    mappings: Value,
    conditions: Map<String, Value>,
}

fn parse(src: &Source) -> Result<Parsed, TemplateError> {
    let y: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&src.text).map_err(|e| TemplateError::Syntax {
            file: src.file.clone(),
            message: e.to_string(),
        })?;
    let v = to_json(y);
    let shape = |message: &str| TemplateError::Shape {
        file: src.file.clone(),
        message: message.to_owned(),
    };
    let res = v
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or_else(|| shape("no `Resources` mapping: not a CloudFormation template"))?;
    let mut resources = Vec::new();
    let mut resource_conditions = BTreeMap::new();
    for (id, r) in res {
        if let Some(c) = r.get("Condition").and_then(Value::as_str) {
            resource_conditions.insert(id.clone(), c.to_owned());
        }
        let kind = r
            .get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| shape(&format!("resource {id} has no `Type`")))?;
        let props = r.get("Properties").cloned().unwrap_or(Value::Null);
        resources.push((id.clone(), kind.to_owned(), props));
    }
    Ok(Parsed {
        resources,
        resource_conditions,
        conditions: v
            .get("Conditions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        parameters: v
            .get("Parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        mappings: v.get("Mappings").cloned().unwrap_or(Value::Null),
    })
}

/// Does the template create `S3BucketManager` (a storage account template)?
fn is_storage_template(p: &Parsed) -> bool {
    p.resources.iter().any(|(id, kind, props)| {
        kind == "AWS::IAM::Role"
            && (props.get("RoleName").and_then(Value::as_str) == Some(contract::STORAGE_ROLE_NAME)
                || id == contract::STORAGE_ROLE_NAME)
    })
}

fn scope(p: &Parsed, src: &Source, account: &str, region: Option<&str>) -> Scope {
    let mut params = BTreeMap::new();
    params.insert("AWS::AccountId".to_owned(), account.to_owned());
    params.insert("AWS::Partition".to_owned(), "aws".to_owned());
    params.insert("AWS::URLSuffix".to_owned(), "amazonaws.com".to_owned());
    if let Some(r) = region {
        params.insert("AWS::Region".to_owned(), r.to_owned());
    }
    for (k, decl) in &p.parameters {
        let v = src
            .parameters
            .get(k)
            .cloned()
            .or_else(|| match decl.get("Default") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            });
        if let Some(v) = v {
            params.insert(k.clone(), v);
        }
    }
    let mut s = Scope {
        params,
        refs: BTreeMap::new(),
        atts: BTreeMap::new(),
        mappings: p.mappings.clone(),
        conditions: p.conditions.clone(),
    };
    // Physical names, resolved against parameters only.
    let region = region.unwrap_or("${xacct:unresolved AWS::Region}");
    let mut refs = BTreeMap::new();
    let mut atts = BTreeMap::new();
    for (id, kind, props) in &p.resources {
        let name = |key: &str| -> Option<String> {
            s.resolve(props.get(key)?)?
                .as_str()
                .filter(|v| !v.contains(UNRESOLVED))
                .map(str::to_owned)
        };
        match kind.as_str() {
            "AWS::IAM::Role" => {
                if let Some(n) = name("RoleName") {
                    atts.insert(
                        format!("{id}.Arn"),
                        format!("arn:aws:iam::{account}:role/{n}"),
                    );
                    refs.insert(id.clone(), n);
                }
            }
            "AWS::S3::Bucket" => {
                if let Some(n) = name("BucketName") {
                    atts.insert(format!("{id}.Arn"), contract::bucket_arn(&n));
                    refs.insert(id.clone(), n);
                }
            }
            "AWS::Lambda::Function" => {
                if let Some(n) = name("FunctionName") {
                    atts.insert(
                        format!("{id}.Arn"),
                        format!("arn:aws:lambda:{region}:{account}:function:{n}"),
                    );
                    refs.insert(id.clone(), n);
                }
            }
            "AWS::IAM::ManagedPolicy" => {
                if let Some(n) = name("ManagedPolicyName") {
                    refs.insert(id.clone(), format!("arn:aws:iam::{account}:policy/{n}"));
                }
            }
            _ => {}
        }
    }
    s.refs = refs;
    s.atts = atts;
    s
}

/// Resource types that grant or hold access which the audit reads.
const READ_TYPES: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::RolePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::S3::Bucket",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Url",
    "AWS::Lambda::Function",
    "AWS::KMS::Key",
];

fn grants_access(kind: &str) -> bool {
    !READ_TYPES.contains(&kind)
        && (kind.starts_with("AWS::IAM::")
            || kind.ends_with("Policy")
            || kind.ends_with("Permission")
            || kind == "AWS::KMS::Key"
            || kind.starts_with("AWS::SSO::"))
}

/// One template instantiated for one account.
struct Instance<'a> {
    src: &'a Source,
    /// The template's lines, split once for all its instances.
    lines: &'a Lines<'a>,
    account: String,
    resolved: Vec<(String, String, Value)>,
    /// Logical IDs created only under a `Condition` (their absence elsewhere is not a removal).
    conditional: std::collections::BTreeSet<String>,
}

/// Builds an audit input from templates. `expect` states the intent (from
/// `--env`); without it the intent is read from the templates' Lambda function
/// (its environment, name and role), as for plans.
pub fn input_from_templates(
    sources: &[Source],
    expect: Option<Expect>,
) -> Result<Input, TemplateError> {
    // A template read once per account (one text, many parameter sets) is parsed once.
    let mut unique: Vec<(Parsed, Lines<'_>)> = Vec::new();
    let mut of_source: Vec<usize> = Vec::with_capacity(sources.len());
    for (k, src) in sources.iter().enumerate() {
        let same = k > 0
            && std::sync::Arc::ptr_eq(&sources[k - 1].text, &src.text)
            && sources[k - 1].file == src.file;
        if !same {
            unique.push((parse(src)?, Lines::new(&src.text)));
        }
        of_source.push(unique.len() - 1);
    }
    let parsed: Vec<&Parsed> = of_source.iter().map(|&i| &unique[i].0).collect();
    // First pass without intent: find the Lambda function for inference.
    let intent_region = expect
        .as_ref()
        .and_then(|e| e.function_arn.split(':').nth(3).map(str::to_owned));
    let mut expect = expect;
    if expect.is_none() {
        expect = Some(infer(sources, &parsed));
    }
    let expect = expect.unwrap_or_default();
    let region = intent_region
        .or_else(|| expect.function_arn.split(':').nth(3).map(str::to_owned))
        .filter(|r| !r.is_empty());
    let mut input = Input {
        expect,
        ..Input::default()
    };
    let mut url_statements: Vec<Statement> = Vec::new();
    // Each instance is read as soon as it is resolved (1,000 resolved copies
    // of a storage template are never held at once).
    for ((src, &p), &u) in sources.iter().zip(&parsed).zip(&of_source) {
        let accounts: Vec<String> = match &src.account {
            Some(a) => vec![a.clone()],
            None if is_storage_template(p) => {
                if input.expect.storage_accounts.is_empty() {
                    vec![PLACEHOLDER_ACCOUNT.to_owned()]
                } else {
                    input.expect.storage_accounts.clone()
                }
            }
            None => vec![input.expect.primary_account.clone()],
        };
        for account in accounts {
            let s = scope(
                p,
                src,
                &account,
                src.region.as_deref().or(region.as_deref()),
            );
            let resolved = p
                .resources
                .iter()
                // A resource whose condition is false offline is not created;
                // one whose condition cannot be decided is audited.
                .filter(|(id, _, _)| {
                    p.resource_conditions
                        .get(id)
                        .is_none_or(|c| s.condition(c, 0) != Some(false))
                })
                .map(|(id, k, props)| {
                    (
                        id.clone(),
                        k.clone(),
                        s.resolve(props).unwrap_or(Value::Null),
                    )
                })
                .collect();
            let inst = Instance {
                src,
                lines: &unique[u].1,
                account,
                resolved,
                conditional: p.resource_conditions.keys().cloned().collect(),
            };
            read_instance(&inst, &mut input, &mut url_statements)?;
        }
    }
    if !url_statements.is_empty() {
        input.function_url_policy = Some(Doc {
            name: "AWS::Lambda::Permission (all)".to_owned(),
            account: input.expect.primary_account.clone(),
            doc: PolicyDocument::new(url_statements),
        });
    }
    Ok(input)
}

/// `AWS::AccountId` of a storage template when neither `--env` nor the
/// template says which accounts it is deployed to.
pub const PLACEHOLDER_ACCOUNT: &str = "000000000000";

fn lambda_env(p: &Parsed) -> Option<(String, Value)> {
    p.resources
        .iter()
        .find(|(_, k, _)| k == "AWS::Lambda::Function")
        .map(|(id, _, props)| (id.clone(), props.clone()))
}

/// The intent of templates without `--env`: the Lambda's environment variables,
/// function name and execution role.
fn infer(sources: &[Source], parsed: &[&Parsed]) -> Expect {
    let mut e = Expect::default();
    for (src, p) in sources.iter().zip(parsed) {
        let Some((_, props)) = lambda_env(p) else {
            continue;
        };
        let s0 = scope(
            p,
            src,
            src.account.as_deref().unwrap_or(""),
            src.region.as_deref(),
        );
        let props = s0.resolve(&props).unwrap_or(Value::Null);
        let var = |k: &str| {
            props
                .pointer(&format!("/Environment/Variables/{k}"))
                .and_then(Value::as_str)
                .filter(|v| !v.contains(UNRESOLVED))
                .map(str::to_owned)
        };
        let primary = var(contract::env::PRIMARY_ACCOUNT)
            .or_else(|| src.account.clone())
            .unwrap_or_default();
        let region = var(contract::env::BUCKET_REGION)
            .or_else(|| src.region.clone())
            .unwrap_or_default();
        let s = scope(p, src, &primary, Some(&region));
        let props = lambda_env(p)
            .and_then(|(_, pr)| s.resolve(&pr))
            .unwrap_or(Value::Null);
        let fname = props
            .get("FunctionName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        e.lambda_role_arn = props
            .get("Role")
            .and_then(Value::as_str)
            .filter(|v| !v.contains(UNRESOLVED))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("arn:aws:iam::{primary}:role/{fname}-execution"));
        e.function_arn = format!("arn:aws:lambda:{region}:{primary}:function:{fname}");
        e.bucket_prefix = var(contract::env::BUCKET_PREFIX).unwrap_or_default();
        e.bucket_namespace = var(contract::env::BUCKET_NAMESPACE)
            .and_then(|v| contract::BucketNamespace::parse(&v))
            .unwrap_or_default();
        e.external_id = var(contract::env::EXTERNAL_ID);
        e.readers = var(contract::env::READER_PRINCIPALS)
            .map(|v| contract::split_list(&v))
            .unwrap_or_default();
        e.phr_bucket = var(contract::env::PHR_BUCKET).unwrap_or_default();
        e.storage_accounts = var(contract::env::STORAGE_ACCOUNTS)
            .map(|v| contract::split_list(&v))
            .unwrap_or_default();
        e.invokers = p
            .resources
            .iter()
            .filter(|(_, k, _)| k == "AWS::Lambda::Permission")
            .filter_map(|(_, _, pr)| s.resolve(pr)?.get("Principal")?.as_str().map(str::to_owned))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        e.primary_account = primary;
        break;
    }
    e
}

/// 1-based line of resource `id` in the template text.
fn resource_line(text: &Lines<'_>, id: &str) -> Option<usize> {
    let from = text
        .starting(1, "Resources:")
        .or_else(|| text.starting(1, "\"Resources\""))
        .unwrap_or(1);
    text.starting(from, &format!("{id}:"))
        .or_else(|| text.starting(from, &format!("\"{id}\"")))
}

/// 1-based line of the next resource (same indentation as the one at `from - 1`).
fn next_resource_line(text: &Lines<'_>, from: usize) -> Option<usize> {
    let head = text.get(from.checked_sub(1)?)?;
    let indent = head.len() - head.trim_start().len();
    text.from(from)
        .find(|(_, l)| {
            !l.trim().is_empty()
                && !l.trim_start().starts_with('#')
                && l.len() - l.trim_start().len() <= indent
        })
        .map(|(n, _)| n)
}

/// 1-based line of property `key` of the resource at `res_line`.
fn props_line(text: &Lines<'_>, res_line: Option<usize>, key: &str) -> Option<usize> {
    let from = res_line? + 1;
    let next = next_resource_line(text, from);
    text.starting(from, &format!("{key}:"))
        .or_else(|| text.starting(from, &format!("\"{key}\"")))
        .filter(|l| next.is_none_or(|n| *l < n))
}

fn read_instance(
    inst: &Instance<'_>,
    input: &mut Input,
    url_statements: &mut Vec<Statement>,
) -> Result<(), TemplateError> {
    let file = &inst.src.file;
    let text = inst.lines;
    let account = inst.account.clone();
    let role_names: BTreeMap<&str, String> = inst
        .resolved
        .iter()
        .filter(|(_, k, _)| k == "AWS::IAM::Role")
        .map(|(id, _, p)| {
            (
                id.as_str(),
                p.get("RoleName")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_owned(),
            )
        })
        .collect();
    // Managed policies attached from the role side (`ManagedPolicyArns`):
    // role name -> the ARNs (or unresolved references) it lists.
    let role_arns: Vec<(String, String, Vec<String>)> = inst
        .resolved
        .iter()
        .filter(|(_, k, _)| k == "AWS::IAM::Role")
        .map(|(id, _, p)| {
            (
                id.clone(),
                role_names.get(id.as_str()).cloned().unwrap_or_default(),
                p.get("ManagedPolicyArns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            )
        })
        .collect();
    // What each template policy's `Ref` gives (its ARN, or the unresolved marker).
    let policy_refs: Vec<(String, String)> = inst
        .resolved
        .iter()
        .filter(|(_, k, _)| k == "AWS::IAM::ManagedPolicy")
        .map(|(id, _, p)| {
            let name = p.get("ManagedPolicyName").and_then(Value::as_str);
            (
                id.clone(),
                name.map_or_else(
                    || format!("{UNRESOLVED}Ref {id}}}"),
                    |n| format!("arn:aws:iam::{}:policy/{n}", inst.account),
                ),
            )
        })
        .collect();
    let is_template_policy = |arn: &str| policy_refs.iter().any(|(_, r)| r == arn);
    for (id, role, arns) in &role_arns {
        for arn in arns.iter().filter(|a| !is_template_policy(a)) {
            let line = props_line(text, resource_line(text, id), "ManagedPolicyArns");
            input.undecided.push(Undecided {
                place: Place::at(format!("{file}#{id}"), file, line),
                account: account.clone(),
                what: format!(
                    "role {role} attaches {arn}, a managed policy outside the template: the audit cannot read what it allows"
                ),
                check: Some(TEMPLATE_UNAUDITED.id),
            });
        }
    }
    let lambda_role_name = input
        .expect
        .lambda_role_arn
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    for (id, kind, props) in &inst.resolved {
        let res_line = resource_line(text, id);
        let place = Place::at(format!("{file}#{id}"), file, res_line);
        if let Some(mut r) =
            super::settings::observe(kind, id, &account, place.clone(), props, None)
        {
            r.lines = super::settings::entry(kind)
                .map(|e| e.attrs)
                .unwrap_or_default()
                .iter()
                .filter_map(|a| {
                    let leaf = a.path.rsplit('/').find(|p| p.parse::<usize>().is_err())?;
                    let top = a.path.split('/').nth(1)?;
                    let top_line = props_line(text, res_line, top)?;
                    let next = next_resource_line(text, res_line? + 1);
                    let line = text
                        .starting(top_line, &format!("{leaf}:"))
                        .filter(|l| next.is_none_or(|n| *l < n))
                        .unwrap_or(top_line);
                    Some((a.name, line))
                })
                .collect();
            r.conditional = inst.conditional.contains(id);
            input.settings.push(r);
        }
        // Reads the policy document under `key` (the `nth` one after the resource line).
        let read_doc = |props: &Value,
                        key: &str,
                        nth: usize,
                        name: String,
                        input: &mut Input|
         -> Result<Option<Doc>, TemplateError> {
            let Some(raw) = props.get(key) else {
                return Ok(None);
            };
            let doc_json = match raw {
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
                other => other.clone(),
            };
            let doc = PolicyDocument::from_json(&doc_json.to_string()).map_err(|source| {
                TemplateError::Policy {
                    file: file.clone(),
                    resource: id.clone(),
                    property: key.to_owned(),
                    source,
                }
            })?;
            let mut line = res_line.unwrap_or(1);
            for _ in 0..=nth {
                line = text
                    .starting(line + 1, &format!("{key}:"))
                    .or_else(|| text.starting(line + 1, &format!("\"{key}\"")))
                    .unwrap_or(line);
            }
            let loc = DocLocation::in_lines(file, text, line, doc.statement.len());
            for (i, st) in doc_json
                .get("Statement")
                .map(|s| match s {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                })
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let mut missing = Vec::new();
                unresolved_in(st, &mut missing);
                missing.sort();
                missing.dedup();
                if !missing.is_empty() {
                    input.undecided.push(Undecided {
                        place: Place::at(
                            name.clone(),
                            file,
                            loc.statements.get(i).copied().or(Some(line)),
                        ),
                        account: account.clone(),
                        what: format!(
                            "{id}.{key} statement #{i}: cannot resolve {} offline: cannot decide what it allows (pass --parameters, or review by hand)",
                            missing.join(", ")
                        ),
                        check: Some(CANNOT_DECIDE.id),
                    });
                }
            }
            input.locations.insert(name.clone(), loc);
            Ok(Some(Doc {
                name,
                account: account.clone(),
                doc,
            }))
        };
        match kind.as_str() {
            "AWS::IAM::Role" => {
                let mut role_name = role_names.get(id.as_str()).cloned().unwrap_or_default();
                // The role a function of this template runs as is the execution role,
                // named or not.
                let runs_function = inst.resolved.iter().any(|(_, k, p)| {
                    k == "AWS::Lambda::Function"
                        && p.get("Role").and_then(Value::as_str).is_some_and(|r| {
                            r.contains(&format!("GetAtt {id}.Arn"))
                                || r.ends_with(&format!(":role/{role_name}"))
                        })
                });
                if runs_function && role_name != contract::STORAGE_ROLE_NAME {
                    role_name = lambda_role_name.clone();
                }
                if let Some(trust) = read_doc(
                    props,
                    "AssumeRolePolicyDocument",
                    0,
                    format!("{file}#{id}"),
                    input,
                )? {
                    if role_name == contract::STORAGE_ROLE_NAME {
                        input.storage_mut(&account).trust = Some(trust);
                    } else if role_name == lambda_role_name {
                        input.lambda_trust = Some(trust);
                    } else {
                        input.other_docs.push(trust);
                    }
                }
                let policies = props
                    .get("Policies")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (n, pol) in policies.iter().enumerate() {
                    let pname = pol
                        .get("PolicyName")
                        .and_then(Value::as_str)
                        .unwrap_or("policy");
                    if let Some(d) = read_doc(
                        pol,
                        "PolicyDocument",
                        n,
                        format!("{file}#{id}.Policies.{pname}"),
                        input,
                    )? {
                        attach(input, &account, &role_name, &lambda_role_name, pname, d);
                    }
                }
            }
            "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" | "AWS::IAM::RolePolicy" => {
                let pname = props
                    .get("ManagedPolicyName")
                    .or_else(|| props.get("PolicyName"))
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_owned();
                let Some(d) = read_doc(props, "PolicyDocument", 0, format!("{file}#{id}"), input)?
                else {
                    continue;
                };
                let mut roles: Vec<String> = props
                    .get("Roles")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                roles.extend(
                    props
                        .get("RoleName")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                );
                if let Some((_, r)) = policy_refs.iter().find(|(pid, _)| pid == id) {
                    roles.extend(
                        role_arns
                            .iter()
                            .filter(|(_, _, arns)| arns.contains(r))
                            .map(|(_, role, _)| role.clone()),
                    );
                }
                roles.sort();
                roles.dedup();
                if pname == input.expect.boundary_policy_name() {
                    input.kinds.insert(
                        d.name.clone(),
                        crate::iam::documents::DocKind::ExecutionBoundary,
                    );
                }
                if roles.is_empty() {
                    input.other_docs.push(d);
                    continue;
                }
                for r in roles {
                    attach(input, &account, &r, &lambda_role_name, &pname, d.clone());
                }
            }
            "AWS::KMS::Key" => {
                if let Some(d) = read_doc(props, "KeyPolicy", 0, format!("{file}#{id}"), input)? {
                    input.kms_key_policy = Some(d);
                }
            }
            "AWS::S3::BucketPolicy" => {
                let Some(d) = read_doc(props, "PolicyDocument", 0, format!("{file}#{id}"), input)?
                else {
                    continue;
                };
                // The bucket it is attached to, never one its statements name.
                let Some(bucket) = props
                    .get("Bucket")
                    .and_then(Value::as_str)
                    .filter(|b| !b.contains(UNRESOLVED))
                    .map(str::to_owned)
                else {
                    input.undecided.push(Undecided {
                        place: Place::at(format!("{file}#{id}"), file, None),
                        account: account.clone(),
                        what: format!(
                            "{id}.Bucket cannot be resolved offline: which bucket the policy governs is not decided (pass --parameters, or review by hand)"
                        ),
                        check: Some(CANNOT_DECIDE.id),
                    });
                    input.other_docs.push(d);
                    continue;
                };
                let readers_required = bucket == input.expect.phr_bucket;
                input.bucket_policies.push(BucketPolicy {
                    bucket,
                    doc: d,
                    readers_required,
                });
            }
            "AWS::S3::Bucket" => {
                let b = |ptr: &str| props.pointer(ptr);
                let flag = |k: &str| {
                    b(&format!("/PublicAccessBlockConfiguration/{k}"))
                        .is_some_and(|v| v == &Value::Bool(true) || v == "true")
                };
                input.buckets.push(attributes::Bucket {
                    place: place.clone(),
                    account: account.clone(),
                    bucket: props
                        .get("BucketName")
                        .and_then(Value::as_str)
                        .unwrap_or(id)
                        .to_owned(),
                    block_public: b("/PublicAccessBlockConfiguration").map(|_| {
                        attributes::BlockPublic {
                            block_public_acls: flag("BlockPublicAcls"),
                            block_public_policy: flag("BlockPublicPolicy"),
                            ignore_public_acls: flag("IgnorePublicAcls"),
                            restrict_public_buckets: flag("RestrictPublicBuckets"),
                        }
                    }),
                    ownership: b("/OwnershipControls/Rules/0/ObjectOwnership")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    encryption: b("/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/SSEAlgorithm")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    versioning: b("/VersioningConfiguration/Status")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    settings_at: [
                        ("block_public", "PublicAccessBlockConfiguration"),
                        ("ownership", "OwnershipControls"),
                        ("encryption", "BucketEncryption"),
                        ("versioning", "VersioningConfiguration"),
                    ]
                    .into_iter()
                    .filter_map(|(what, key)| {
                        let from = res_line? + 1;
                        let next = next_resource_line(text, from);
                        let line = text.starting(from, &format!("{key}:"))
                            .or_else(|| text.starting(from, &format!("\"{key}\"")))
                            .filter(|l| next.is_none_or(|n| *l < n))?;
                        Some((what, Place::at(format!("{file}#{id}.{key}"), file, Some(line))))
                    })
                    .collect(),
                });
            }
            "AWS::Lambda::Url" => {
                let auth = props
                    .get("AuthType")
                    .and_then(Value::as_str)
                    .unwrap_or("(not set)");
                let at = props_line(text, res_line, "AuthType").or(res_line);
                let source = format!("{file}:{}", at.unwrap_or(0));
                input.sources.insert(source.clone(), (file.clone(), at));
                input.function_url_auth.push((source, auth.to_owned()));
                if let Some(c) = props.get("Cors") {
                    input.url_cors.push(attributes::Cors {
                        place: place.clone(),
                        account: account.clone(),
                        allow_origins: c
                            .get("AllowOrigins")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                        allow_credentials: c
                            .get("AllowCredentials")
                            .is_some_and(|v| v == &Value::Bool(true) || v == "true"),
                    });
                }
            }
            "AWS::Lambda::Permission" => {
                let s = |k: &str| {
                    props
                        .get(k)
                        .and_then(Value::as_str)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned)
                };
                let perm = attributes::Permission {
                    place: place.clone(),
                    account: account.clone(),
                    action: s("Action").unwrap_or_default(),
                    principal: s("Principal").unwrap_or_default(),
                    source_arn: s("SourceArn"),
                    source_account: s("SourceAccount"),
                    principal_org_id: s("PrincipalOrgID"),
                    function_url_auth_type: s("FunctionUrlAuthType"),
                    invoked_via_function_url: Some(props.get("InvokedViaFunctionUrl").is_some_and(
                        |v| {
                            v.as_bool() == Some(true)
                                || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
                        },
                    )),
                };
                if let Some(auth) = &perm.function_url_auth_type {
                    let at = props_line(text, res_line, "FunctionUrlAuthType").or(res_line);
                    let source = format!("{file}:{}", at.unwrap_or(0));
                    input.sources.insert(source.clone(), (file.clone(), at));
                    input.function_url_auth.push((source, auth.clone()));
                }
                let mut missing = Vec::new();
                for k in [
                    "Principal",
                    "Action",
                    "SourceArn",
                    "SourceAccount",
                    "PrincipalOrgID",
                    "FunctionUrlAuthType",
                ] {
                    if let Some(v) = props.get(k) {
                        unresolved_in(v, &mut missing);
                    }
                }
                if !missing.is_empty() {
                    input.undecided.push(Undecided {
                        place: place.clone(),
                        account: account.clone(),
                        what: format!(
                            "{id}: cannot resolve {} offline: cannot decide who may invoke (pass --parameters, or review by hand)",
                            missing.join(", ")
                        ),
                        check: Some(CANNOT_DECIDE.id),
                    });
                }
                url_statements.push(permission_statement(&perm, &input.expect.function_arn, id));
                input.permissions.push(perm);
            }
            "AWS::Lambda::Function" => {
                let mut vals = Vec::new();
                collect_values(&format!("{file}#{id}"), props, &mut vals);
                input.values.extend(vals);
            }
            k if grants_access(k) => input.undecided.push(Undecided {
                place: place.clone(),
                account: account.clone(),
                what: format!(
                    "{id} is a {k}: xacct does not audit this resource type; review it by hand"
                ),
                check: Some(TEMPLATE_UNAUDITED.id),
            }),
            _ => {}
        }
    }
    Ok(())
}

/// Attaches an identity policy to the role it belongs to.
fn attach(input: &mut Input, account: &str, role: &str, lambda_role: &str, pname: &str, d: Doc) {
    if role == contract::STORAGE_ROLE_NAME || pname == contract::STORAGE_POLICY_NAME {
        let s = input.storage_mut(account);
        match &mut s.management {
            Some(m) => m.doc.statement.extend(d.doc.statement),
            None => s.management = Some(d),
        }
    } else if role == lambda_role {
        match &mut input.lambda_execution {
            Some(m) => m.doc.statement.extend(d.doc.statement),
            None => input.lambda_execution = Some(d),
        }
    } else {
        input.other_docs.push(d);
    }
}

/// The resource-policy statement an `AWS::Lambda::Permission` adds.
fn permission_statement(p: &attributes::Permission, function_arn: &str, sid: &str) -> Statement {
    let pr = if p.principal == "*" {
        Principal::Any
    } else if p.principal.ends_with(".amazonaws.com") {
        Principal::service(&p.principal)
    } else {
        Principal::aws([p.principal.as_str()])
    };
    let mut st = Statement::allow(sid)
        .principal(pr)
        .actions([p.action.as_str()])
        .resources([function_arn]);
    if let Some(a) = &p.function_url_auth_type {
        st = st.condition("StringEquals", "lambda:FunctionUrlAuthType", [a.as_str()]);
    }
    if p.invoked_via_function_url == Some(true) {
        st = st.condition("Bool", crate::iam::documents::INVOKED_VIA_URL_KEY, ["true"]);
    }
    if let Some(a) = &p.source_arn {
        st = st.condition("ArnLike", "aws:SourceArn", [a.as_str()]);
    }
    if let Some(a) = &p.source_account {
        st = st.condition("StringEquals", "aws:SourceAccount", [a.as_str()]);
    }
    if let Some(a) = &p.principal_org_id {
        st = st.condition("StringEquals", "aws:PrincipalOrgID", [a.as_str()]);
    }
    st
}

fn collect_values(place: &str, v: &Value, out: &mut Vec<(String, String, String)>) {
    fn walk(place: &str, key: &str, v: &Value, out: &mut Vec<(String, String, String)>) {
        match v {
            Value::String(s) => out.push((place.to_owned(), key.to_owned(), s.clone())),
            Value::Array(a) => a.iter().for_each(|x| walk(place, key, x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| walk(place, k, x, out)),
            _ => {}
        }
    }
    walk(place, "", v, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source {
            file: "t.yaml".into(),
            text: text.into(),
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            ..Source::default()
        }
    }

    #[test]
    fn short_form_tags_resolve() {
        let t = "Parameters:\n  Env:\n    Type: String\n    Default: dev\nResources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Sub 'app-${Env}'\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'}\n            Action: sts:AssumeRole\n            Resource: !GetAtt R.Arn\n";
        let input = input_from_templates(&[src(t)], None).unwrap();
        let d = &input.other_docs[0].doc;
        let j = serde_json::to_value(d).unwrap();
        assert_eq!(
            j["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::111122223333:root"
        );
        assert_eq!(
            j["Statement"][0]["Resource"],
            "arn:aws:iam::111122223333:role/app-dev"
        );
        assert!(input.undecided.is_empty());
        assert_eq!(input.locations["t.yaml#R"].statements, vec![13]);
    }

    #[test]
    fn unresolved_values_make_the_statement_undecided() {
        let t = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: x\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {AWS: !ImportValue Other}\n            Action: sts:AssumeRole\n";
        let input = input_from_templates(&[src(t)], None).unwrap();
        assert_eq!(input.undecided.len(), 1, "{:?}", input.undecided);
        assert_eq!(input.undecided[0].place.line, Some(9));
    }

    #[test]
    fn conditions_decide_conditional_resources_and_if() {
        let t = "Parameters:\n  Make:\n    Type: String\n    Default: 'true'\nConditions:\n  Here: !And\n    - !Equals [!Ref Make, 'true']\n    - !Equals [!Ref AWS::AccountId, '111122223333']\n  Elsewhere: !Not [!Condition Here]\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Condition: Elsewhere\n    Properties:\n      BucketName: never\n  C:\n    Type: AWS::S3::Bucket\n    Condition: Here\n    Properties:\n      BucketName: !If [Here, yes, no]\n";
        let input = input_from_templates(&[src(t)], None).unwrap();
        let names: Vec<&str> = input.buckets.iter().map(|b| b.bucket.as_str()).collect();
        assert_eq!(names, vec!["yes"]);
        // Undecidable: an unknown parameter; the resource is audited.
        let t2 = t.replace("    Default: 'true'\n", "");
        let input = input_from_templates(&[src(&t2)], None).unwrap();
        assert_eq!(input.buckets.len(), 2);
    }

    #[test]
    fn managed_policy_arns_attach_template_policies_and_flag_others() {
        let t = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: S3BucketManager\n      ManagedPolicyArns:\n        - !Ref P\n        - arn:aws:iam::aws:policy/AdministratorAccess\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement: []\n  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Action: 's3:*'\n            Resource: '*'\n";
        let input = input_from_templates(&[src(t)], None).unwrap();
        let m = input.storage[0].management.as_ref().expect("attached");
        assert_eq!(m.doc.statement.len(), 1);
        assert_eq!(input.undecided.len(), 1, "{:?}", input.undecided);
        assert!(input.undecided[0].what.contains("AdministratorAccess"));
    }

    #[test]
    fn the_role_a_function_runs_as_is_the_execution_role() {
        let t = "Resources:\n  Exec:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement: []\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      FunctionName: f\n      Role: !GetAtt Exec.Arn\n";
        let input = input_from_templates(&[src(t)], None).unwrap();
        assert!(input.lambda_trust.is_some(), "{:?}", input.other_docs);
        assert!(input.other_docs.is_empty());
    }

    #[test]
    fn parameters_files_in_both_shapes() {
        let a = parse_parameters("p", r#"[{"ParameterKey":"A","ParameterValue":"1"}]"#).unwrap();
        let b = parse_parameters("p", r#"{"A":"1"}"#).unwrap();
        assert_eq!(a, b);
        assert!(parse_parameters("p", "[{}]").is_err());
    }
}
