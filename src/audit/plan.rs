//! Reads the documents a Terraform plan would create (`terraform show -json`)
//! into an audit [`Input`]: what is reviewed is what will be applied.

use std::collections::BTreeMap;

use serde_json::Value;

use super::attributes::{self, Place};
use super::input::{BucketPolicy, Doc, Expect, Input};
use super::settings;
use crate::contract;
use crate::iam::{PolicyDocument, Principal, Statement};

/// Why a plan cannot be audited.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("not a Terraform plan JSON (`terraform show -json plan.out`): {0}")]
    Shape(String),
    #[error("{address}.{attribute} is not a valid IAM policy document: {source}")]
    Policy {
        address: String,
        attribute: String,
        #[source]
        source: crate::iam::ParseError,
    },
}

/// One planned resource.
#[derive(Debug, Clone)]
pub struct Planned {
    pub address: String,
    pub kind: String,
    pub values: Value,
    /// `after_unknown` of the resource's change (or the file reader's `xacct_unknown`):
    /// attributes that are set but known only after apply.
    pub unknown: Value,
    /// Read from committed files by `terraform.rs`, not planned by Terraform.
    pub from_files: bool,
}

/// Every resource in `planned_values` (all modules), or in `resource_changes[].change.after`.
/// The planned values are moved out of `plan`, not copied (a 1,000-account root's are large).
pub fn resources(plan: &mut Value) -> Result<Vec<Planned>, PlanError> {
    if !plan.is_object() || plan.get("format_version").is_none() {
        return Err(PlanError::Shape("missing `format_version`".into()));
    }
    let mut out = Vec::new();
    if let Some(root) = plan.pointer_mut("/planned_values/root_module") {
        walk_module(root, &mut out);
    }
    let plan: &Value = plan;
    let unknown: BTreeMap<&str, &Value> = plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rc| {
            Some((
                rc.get("address")?.as_str()?,
                rc.pointer("/change/after_unknown")?,
            ))
        })
        .collect();
    for p in &mut out {
        if let Some(u) = unknown.get(p.address.as_str()) {
            p.unknown = (*u).clone();
        }
    }
    if out.is_empty() {
        for rc in plan
            .get("resource_changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(address), Some(kind)) = (
                rc.get("address").and_then(Value::as_str),
                rc.get("type").and_then(Value::as_str),
            ) else {
                continue;
            };
            if let Some(after) = rc.pointer("/change/after").filter(|v| v.is_object()) {
                out.push(Planned {
                    address: address.to_owned(),
                    kind: kind.to_owned(),
                    values: after.clone(),
                    unknown: rc
                        .pointer("/change/after_unknown")
                        .cloned()
                        .unwrap_or(Value::Null),
                    from_files: false,
                });
            }
        }
    }
    Ok(out)
}

fn walk_module(m: &mut Value, out: &mut Vec<Planned>) {
    for r in m
        .get_mut("resources")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if r.get("mode").and_then(Value::as_str) == Some("data") {
            continue;
        }
        if let (Some(address), Some(kind)) = (
            r.get("address").and_then(Value::as_str),
            r.get("type").and_then(Value::as_str),
        ) {
            let (address, kind) = (address.to_owned(), kind.to_owned());
            let from_files = r.get("xacct_unknown").is_some();
            out.push(Planned {
                address,
                kind,
                values: r.get_mut("values").map(Value::take).unwrap_or(Value::Null),
                unknown: r
                    .get_mut("xacct_unknown")
                    .map(Value::take)
                    .unwrap_or(Value::Null),
                from_files,
            });
        }
    }
    for c in m
        .get_mut("child_modules")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        walk_module(c, out);
    }
}

/// The storage account of a resource under `module.account_<12 digits>`.
fn module_account(address: &str) -> Option<String> {
    address.split('.').find_map(|part| {
        let id = part.strip_prefix("account_")?;
        let id = id.split('[').next().unwrap_or(id);
        crate::model::is_account_id(id).then(|| id.to_owned())
    })
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The documents of a plan by their JSON text: 1,000 storage accounts hold
/// the same two texts, parsed once.
type Parsed<'p> = std::collections::HashMap<&'p str, PolicyDocument>;

fn policy<'p>(
    p: &'p Planned,
    attribute: &str,
    parsed: &mut Parsed<'p>,
) -> Result<Option<PolicyDocument>, PlanError> {
    match str_at(&p.values, attribute) {
        Some(text) if !text.trim().is_empty() => {
            if let Some(d) = parsed.get(text) {
                return Ok(Some(d.clone()));
            }
            let d = PolicyDocument::from_json(text).map_err(|source| PlanError::Policy {
                address: p.address.clone(),
                attribute: attribute.to_owned(),
                source,
            })?;
            parsed.insert(text, d.clone());
            Ok(Some(d))
        }
        _ => Ok(None),
    }
}

/// The Lambda environment variables of the first planned `aws_lambda_function`.
fn lambda_env(res: &[&Planned]) -> BTreeMap<String, String> {
    res.iter()
        .filter(|p| p.kind == "aws_lambda_function")
        .find_map(|p| p.values.pointer("/environment/0/variables"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Builds an audit input from one or more plans. `expect` states the intent
/// (from `--env`); without it the intent is read from the plan's Lambda
/// environment and permissions, and canary deletion counts as not allowed.
pub fn input_from_plans(
    plans: Vec<(String, Value)>,
    expect: Option<Expect>,
) -> Result<Input, PlanError> {
    let mut all: Vec<(String, Planned)> = Vec::new();
    for (file, mut plan) in plans {
        for p in resources(&mut plan)? {
            all.push((file.clone(), p));
        }
    }
    let just: Vec<&Planned> = all.iter().map(|(_, p)| p).collect();
    let env = lambda_env(&just);
    let function = just
        .iter()
        .find(|p| p.kind == "aws_lambda_function")
        .and_then(|p| str_at(&p.values, "function_name"))
        .map(str::to_owned);
    let lambda_role_name = just
        .iter()
        .filter(|p| p.kind == "aws_iam_role")
        .filter_map(|p| str_at(&p.values, "name"))
        .find(|n| n.ends_with("-execution"))
        .map(str::to_owned);
    let expect = expect.unwrap_or_else(|| {
        let primary = env
            .get(contract::env::PRIMARY_ACCOUNT)
            .cloned()
            .unwrap_or_default();
        let region = env
            .get(contract::env::BUCKET_REGION)
            .cloned()
            .unwrap_or_default();
        let fname = function.clone().unwrap_or_default();
        Expect {
            lambda_role_arn: format!(
                "arn:aws:iam::{primary}:role/{}",
                lambda_role_name
                    .clone()
                    .unwrap_or_else(|| format!("{fname}-execution"))
            ),
            function_arn: format!("arn:aws:lambda:{region}:{primary}:function:{fname}"),
            bucket_prefix: env
                .get(contract::env::BUCKET_PREFIX)
                .cloned()
                .unwrap_or_default(),
            bucket_namespace: env
                .get(contract::env::BUCKET_NAMESPACE)
                .and_then(|v| contract::BucketNamespace::parse(v))
                .unwrap_or_default(),
            allow_canary: false,
            external_id: env.get(contract::env::EXTERNAL_ID).cloned(),
            organization_id: None,
            invokers: just
                .iter()
                .filter(|p| p.kind == "aws_lambda_permission")
                .filter_map(|p| str_at(&p.values, "principal"))
                .map(str::to_owned)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
            readers: env
                .get(contract::env::READER_PRINCIPALS)
                .map(|v| contract::split_list(v))
                .unwrap_or_default(),
            verifiers: Vec::new(),
            phr_bucket: env
                .get(contract::env::PHR_BUCKET)
                .cloned()
                .unwrap_or_default(),
            storage_accounts: env
                .get(contract::env::STORAGE_ACCOUNTS)
                .map(|v| contract::split_list(v))
                .unwrap_or_default(),
            primary_account: primary,
            ..Expect::default()
        }
    });
    let primary = expect.primary_account.clone();
    let mut input = Input {
        expect,
        ..Input::default()
    };
    let mut url_statements = Vec::new();
    let mut parsed = Parsed::new();
    for (file, p) in &all {
        let name = format!("{file}:{}", p.address);
        let account = module_account(&p.address).unwrap_or_else(|| primary.clone());
        let mk = |doc: PolicyDocument| Doc {
            name: name.clone(),
            account: account.clone(),
            doc,
        };
        collect_values(&name, &p.values, &mut input.values);
        match p.kind.as_str() {
            "aws_iam_role" => {
                let Some(doc) = policy(p, "assume_role_policy", &mut parsed)? else {
                    continue;
                };
                let role_name = str_at(&p.values, "name").unwrap_or_default();
                if role_name == contract::STORAGE_ROLE_NAME {
                    let acct = account.clone();
                    input.storage_mut(&acct).trust = Some(mk(doc));
                } else if input
                    .expect
                    .lambda_role_arn
                    .ends_with(&format!("/{role_name}"))
                {
                    input.lambda_trust = Some(mk(doc));
                } else {
                    input.other_docs.push(mk(doc));
                }
            }
            "aws_iam_role_policy" | "aws_iam_policy" => {
                let Some(doc) = policy(p, "policy", &mut parsed)? else {
                    continue;
                };
                let pname = str_at(&p.values, "name").unwrap_or_default();
                if pname == contract::STORAGE_POLICY_NAME {
                    let acct = account.clone();
                    input.storage_mut(&acct).management = Some(mk(doc));
                } else if p.address.contains("lambda_execution") {
                    input.lambda_execution = Some(mk(doc));
                } else {
                    if pname == input.expect.boundary_policy_name() {
                        input.kinds.insert(
                            name.clone(),
                            crate::iam::documents::DocKind::ExecutionBoundary,
                        );
                    }
                    input.other_docs.push(mk(doc));
                }
            }
            "aws_s3_bucket_policy" => {
                let Some(doc) = policy(p, "policy", &mut parsed)? else {
                    continue;
                };
                // The bucket it is attached to, never one its statements name.
                let Some(bucket) = attached_bucket(&all, p) else {
                    input.undecided.push(attributes::Undecided {
                        place: Place {
                            name: name.clone(),
                            file: Some(file.clone()),
                            line: None,
                        },
                        account: account.clone(),
                        what: format!(
                            "{}: cannot tell which bucket the policy is attached to, so what it governs is not decided; review it by hand",
                            p.address
                        ),
                        check: None,
                    });
                    input.other_docs.push(mk(doc));
                    continue;
                };
                let readers_required = bucket == input.expect.phr_bucket;
                input.bucket_policies.push(BucketPolicy {
                    bucket,
                    doc: mk(doc),
                    readers_required,
                });
            }
            "aws_kms_key" => {
                if let Some(doc) = policy(p, "policy", &mut parsed)? {
                    input.kms_key_policy = Some(mk(doc));
                }
            }
            "aws_lambda_function_url" => {
                let auth = str_at(&p.values, "authorization_type").unwrap_or("(unknown)");
                input
                    .function_url_auth
                    .push((name.clone(), auth.to_owned()));
            }
            "aws_lambda_permission" => {
                url_statements.push(permission_statement(p, &input.expect.function_arn));
                if let Some(auth) = str_at(&p.values, "function_url_auth_type") {
                    input
                        .function_url_auth
                        .push((name.clone(), auth.to_owned()));
                }
            }
            _ => {}
        }
    }
    read_attributes(&all, &mut input);
    if !url_statements.is_empty() {
        input.function_url_policy = Some(Doc {
            name: "aws_lambda_permission (all)".to_owned(),
            account: primary,
            doc: PolicyDocument::new(url_statements),
        });
    }
    Ok(input)
}

/// Resource types that grant or hold access and that the audit does not read.
const UNAUDITED_TYPES: &[&str] = &[
    "aws_iam_user",
    "aws_iam_access_key",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_iam_user_login_profile",
    "aws_lambda_layer_version_permission",
    "aws_sns_topic_policy",
    "aws_sqs_queue_policy",
    "aws_kms_key_policy",
    "aws_s3_bucket_acl",
    "aws_s3_access_point",
    "aws_s3control_access_point_policy",
];

/// The module path of an address (`module.a.aws_s3_bucket.b` -> `module.a`).
/// The bucket an `aws_s3_bucket_policy` is attached to: its `bucket` when the
/// plan knows it, else the `aws_s3_bucket` it references, which is unknown in a
/// plan and unresolved in the files (`bucket = aws_s3_bucket.this.id`): the
/// bucket of the same module and resource name, else the module's only bucket.
fn attached_bucket(all: &[(String, Planned)], p: &Planned) -> Option<String> {
    if let Some(b) = str_at(&p.values, "bucket") {
        return Some(b.to_owned());
    }
    let module = module_of(&p.address);
    let buckets: Vec<&Planned> = all
        .iter()
        .map(|(_, b)| b)
        .filter(|b| b.kind == "aws_s3_bucket" && module_of(&b.address) == module)
        .collect();
    let named = buckets
        .iter()
        .find(|b| resource_name(&b.address) == resource_name(&p.address));
    let b = match (named, buckets.as_slice()) {
        (Some(b), _) => b,
        (None, [only]) => only,
        _ => return None,
    };
    str_at(&b.values, "bucket").map(str::to_owned)
}

fn module_of(address: &str) -> &str {
    let mut parts: Vec<usize> = address.match_indices('.').map(|(i, _)| i).collect();
    parts.pop();
    parts.pop().map_or("", |i| &address[..i])
}

fn bool_at(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Buckets and their settings, function URL CORS and invoke permissions.
fn read_attributes(all: &[(String, Planned)], input: &mut Input) {
    let primary = input.expect.primary_account.clone();
    let account = |p: &Planned| module_account(&p.address).unwrap_or_else(|| primary.clone());
    let place = |file: &str, p: &Planned| Place {
        name: format!("{file}:{}", p.address),
        file: Some(file.to_owned()),
        line: None,
    };
    // (module, resource name, bucket): a setting resource names its bucket by a
    // reference (`aws_s3_bucket.logs.id`) that is unknown in a plan and unresolved
    // in the files, so it is matched by name, then by module and resource name.
    let mut buckets: Vec<(String, String, attributes::Bucket)> = Vec::new();
    for (file, p) in all.iter().filter(|(_, p)| p.kind == "aws_s3_bucket") {
        let bucket = str_at(&p.values, "bucket").unwrap_or(&p.address).to_owned();
        let mut b = attributes::Bucket {
            place: place(file, p),
            account: account(p),
            bucket,
            ..Default::default()
        };
        // Inline (legacy) settings, overridden by the standalone resources below.
        b.encryption = p
            .values
            .pointer("/server_side_encryption_configuration/0/rule/0/apply_server_side_encryption_by_default/0/sse_algorithm")
            .and_then(Value::as_str)
            .map(str::to_owned);
        b.versioning = p
            .values
            .pointer("/versioning/0/enabled")
            .and_then(Value::as_bool)
            .map(|on| if on { "Enabled" } else { "Suspended" }.to_owned());
        buckets.push((
            module_of(&p.address).to_owned(),
            resource_name(&p.address).to_owned(),
            b,
        ));
    }
    for (file, p) in all {
        let target = str_at(&p.values, "bucket");
        let module = module_of(&p.address);
        let rname = resource_name(&p.address);
        let pick = |bs: &mut [(String, String, attributes::Bucket)]| -> Option<usize> {
            if let Some(name) = target
                && let Some(i) = bs.iter().position(|(_, _, b)| b.bucket == name)
            {
                return Some(i);
            }
            if let Some(i) = bs.iter().position(|(m, r, _)| m == module && r == rname) {
                return Some(i);
            }
            let same: Vec<usize> = (0..bs.len()).filter(|i| bs[*i].0 == module).collect();
            match same.as_slice() {
                [i] => Some(*i),
                _ if bs.len() == 1 => Some(0),
                _ => None,
            }
        };
        let v = &p.values;
        match p.kind.as_str() {
            "aws_s3_bucket_public_access_block" => {
                if let Some(i) = pick(&mut buckets) {
                    buckets[i]
                        .2
                        .settings_at
                        .push(("block_public", place(file, p)));
                    buckets[i].2.block_public = Some(attributes::BlockPublic {
                        block_public_acls: bool_at(v, "block_public_acls"),
                        block_public_policy: bool_at(v, "block_public_policy"),
                        ignore_public_acls: bool_at(v, "ignore_public_acls"),
                        restrict_public_buckets: bool_at(v, "restrict_public_buckets"),
                    });
                }
            }
            "aws_s3_bucket_ownership_controls" => {
                if let Some(i) = pick(&mut buckets) {
                    buckets[i].2.settings_at.push(("ownership", place(file, p)));
                    buckets[i].2.ownership = v
                        .pointer("/rule/0/object_ownership")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
            }
            "aws_s3_bucket_server_side_encryption_configuration" => {
                if let Some(i) = pick(&mut buckets) {
                    buckets[i]
                        .2
                        .settings_at
                        .push(("encryption", place(file, p)));
                    buckets[i].2.encryption = v
                        .pointer("/rule/0/apply_server_side_encryption_by_default/0/sse_algorithm")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
            }
            "aws_s3_bucket_versioning" => {
                if let Some(i) = pick(&mut buckets) {
                    buckets[i]
                        .2
                        .settings_at
                        .push(("versioning", place(file, p)));
                    buckets[i].2.versioning = v
                        .pointer("/versioning_configuration/0/status")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
            }
            _ => {}
        }
    }
    input.buckets.extend(buckets.into_iter().map(|(_, _, b)| b));
    for (file, p) in all {
        input.settings.extend(
            settings::observe(
                &p.kind,
                &p.address,
                &account(p),
                place(file, p),
                &p.values,
                Some(&p.unknown),
            )
            .map(|mut r| {
                // `terraform.rs` marks its resources; anything else is a real plan.
                r.computed = !p.from_files;
                r
            }),
        );
    }
    for (file, p) in all {
        let v = &p.values;
        match p.kind.as_str() {
            "aws_lambda_function_url" => {
                if let Some(c) = v.pointer("/cors/0") {
                    input.url_cors.push(attributes::Cors {
                        place: place(file, p),
                        account: account(p),
                        allow_origins: c
                            .get("allow_origins")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                        allow_credentials: bool_at(c, "allow_credentials"),
                    });
                }
            }
            "aws_iam_role_policy_attachment"
            | "aws_iam_policy_attachment"
            | "aws_iam_user_policy_attachment"
            | "aws_iam_group_policy_attachment" => {
                // Our own attachments reference a policy of the same plan (unknown
                // until apply); a known ARN is a policy the audit never sees.
                if let Some(arn) = str_at(v, "policy_arn") {
                    input.undecided.push(attributes::Undecided {
                        place: place(file, p),
                        account: account(p),
                        what: format!(
                            "{} attaches {arn}, a policy outside the plan: the audit cannot read what it allows",
                            p.address
                        ),
                        check: Some(attributes::TEMPLATE_UNAUDITED.id),
                    });
                }
            }
            "aws_iam_role" => {
                for arn in v
                    .get("managed_policy_arns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    input.undecided.push(attributes::Undecided {
                        place: place(file, p),
                        account: account(p),
                        what: format!(
                            "{} attaches {arn} (managed_policy_arns), a policy outside the plan: the audit cannot read what it allows",
                            p.address
                        ),
                        check: Some(attributes::TEMPLATE_UNAUDITED.id),
                    });
                }
            }
            k if UNAUDITED_TYPES.contains(&k) => {
                input.undecided.push(attributes::Undecided {
                    place: place(file, p),
                    account: account(p),
                    what: format!(
                        "{} is a {k}: xacct does not audit this resource type; review it by hand",
                        p.address
                    ),
                    check: Some(attributes::TEMPLATE_UNAUDITED.id),
                });
            }
            "aws_lambda_permission" => {
                let s = |k: &str| str_at(v, k).filter(|x| !x.is_empty()).map(str::to_owned);
                input.permissions.push(attributes::Permission {
                    place: place(file, p),
                    account: account(p),
                    action: s("action").unwrap_or_default(),
                    principal: s("principal").unwrap_or_default(),
                    source_arn: s("source_arn"),
                    source_account: s("source_account"),
                    principal_org_id: s("principal_org_id"),
                    function_url_auth_type: s("function_url_auth_type"),
                    invoked_via_function_url: v
                        .get("invoked_via_function_url")
                        .map(|b| b.as_bool() == Some(true)),
                });
                if v.get("invoked_via_function_url").is_none() {
                    input.url_condition_gap = true;
                }
            }
            _ => {}
        }
    }
}

/// The resource-policy statement an `aws_lambda_permission` adds.
fn permission_statement(p: &Planned, function_arn: &str) -> Statement {
    let principal = str_at(&p.values, "principal").unwrap_or_default();
    let action = str_at(&p.values, "action").unwrap_or_default();
    let sid = str_at(&p.values, "statement_id").unwrap_or(&p.address);
    let pr = if principal == "*" {
        Principal::Any
    } else if principal.ends_with(".amazonaws.com") {
        Principal::service(principal)
    } else {
        Principal::aws([principal])
    };
    let mut st = Statement::allow(sid)
        .principal(pr)
        .actions([action])
        .resources([function_arn]);
    if let Some(auth) = str_at(&p.values, "function_url_auth_type") {
        st = st.condition("StringEquals", "lambda:FunctionUrlAuthType", [auth]);
    }
    if p.values
        .get("invoked_via_function_url")
        .and_then(Value::as_bool)
        == Some(true)
    {
        st = st.condition("Bool", crate::iam::documents::INVOKED_VIA_URL_KEY, ["true"]);
    }
    if let Some(arn) = str_at(&p.values, "source_arn").filter(|s| !s.is_empty()) {
        st = st.condition("ArnLike", "aws:SourceArn", [arn]);
    }
    if let Some(acct) = str_at(&p.values, "source_account").filter(|s| !s.is_empty()) {
        st = st.condition("StringEquals", "aws:SourceAccount", [acct]);
    }
    if let Some(org) = str_at(&p.values, "principal_org_id").filter(|s| !s.is_empty()) {
        st = st.condition("StringEquals", "aws:PrincipalOrgID", [org]);
    }
    st
}

/// Every string value under a resource, with its key path, for the secret scan.
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

/// The resource's own name in an address: `this` of
/// `module.phr_bucket.aws_s3_bucket_versioning.this` (an index `[0]` dropped).
fn resource_name(address: &str) -> &str {
    let last = address.rsplit('.').next().unwrap_or(address);
    last.split('[').next().unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_account_parses_addresses() {
        assert_eq!(
            module_account("module.account_100000000002.aws_iam_role.s3_bucket_manager").as_deref(),
            Some("100000000002")
        );
        assert_eq!(module_account("aws_iam_role.lambda_execution"), None);
    }

    #[test]
    fn rejects_non_plans() {
        assert!(resources(&mut serde_json::json!({"a": 1})).is_err());
        assert!(resources(&mut serde_json::json!([1])).is_err());
    }
}
