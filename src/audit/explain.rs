//! `xacct explain`: which documents answer one request and how.

use super::{Doc, Input, StatementInfo, statement_info};
use crate::contract;
use crate::eval::{self, Caller, Named, Outcome, Request};

/// `xacct explain`: which documents answer a request and how.
///
/// An action the catalog lists without a resource type (`s3:ListAllMyBuckets`)
/// is requested on `*`, whatever `resource` says: the explanation evaluates and
/// shows that request.
pub fn explain(input: &Input, caller: &Caller, action: &str, resource: &str) -> Explanation {
    let e = &input.expect;
    let resource = if eval::catalog::without_resource(action) {
        "*"
    } else {
        resource
    };
    let mut req = Request::new(caller.clone(), action, resource);
    // `CreateBucket` of a name in an account regional namespace carries the
    // header the runtime sends (`s3:x-amz-bucket-namespace = account-regional`).
    if action.eq_ignore_ascii_case("s3:CreateBucket")
        && resource
            .strip_prefix("arn:aws:s3:::")
            .is_some_and(|b| contract::looks_namespaced(b, &super::intent::region(e)))
    {
        req = req.with(
            contract::NAMESPACE_CONDITION_KEY,
            [contract::ACCOUNT_REGIONAL],
        );
    }
    let caller_arn = match caller {
        Caller::Aws(a) => a.as_str(),
        _ => "",
    };
    // Identity policies of the caller, when the caller is one of ours.
    let mut identity: Vec<&Doc> = Vec::new();
    if caller_arn == e.lambda_role_arn {
        identity.extend(input.lambda_execution.iter());
    }
    for acct in &input.storage {
        if caller_arn == contract::storage_role_arn(&acct.account) {
            identity.extend(acct.management.iter());
        }
    }
    let id_named: Vec<Named<'_>> = identity
        .iter()
        .map(|d| Named::identity(&d.name, &d.doc))
        .collect();
    // The resource policy governing the resource, if we have one.
    let mut resource_doc: Option<&Doc> = None;
    for acct in &input.storage {
        if resource == contract::storage_role_arn(&acct.account) {
            resource_doc = acct.trust.as_ref();
        }
    }
    if resource == e.lambda_role_arn {
        resource_doc = input.lambda_trust.as_ref();
    }
    if resource == e.function_arn || resource.starts_with(&format!("{}:", e.function_arn)) {
        resource_doc = input.function_url_policy.as_ref();
    }
    for b in &input.bucket_policies {
        let arn = contract::bucket_arn(&b.bucket);
        if resource == arn || resource.starts_with(&format!("{arn}/")) {
            resource_doc = Some(&b.doc);
        }
    }
    let decision = match resource_doc {
        Some(rd) => eval::combine(
            &id_named,
            caller,
            Named::resource(&rd.name, &rd.doc),
            Some(rd.account.as_str()).filter(|a| !a.is_empty()),
            &req,
        ),
        None => eval::evaluate(&id_named, &req),
    };
    let statements = decision
        .statements
        .iter()
        .filter_map(|s| {
            let doc = input
                .all_docs()
                .into_iter()
                .find(|d| d.name == s.document)?;
            statement_info(doc, s.index)
        })
        .collect();
    let statements: Vec<StatementInfo> = statements;
    let condition_keys = condition_keys(&statements, &req);
    Explanation {
        resource: resource.to_owned(),
        context: req
            .context()
            .map(|(k, v)| (k.to_owned(), v.to_vec()))
            .collect(),
        condition_keys,
        outcome: decision.outcome,
        identity_documents: identity.iter().map(|d| d.name.clone()).collect(),
        resource_document: resource_doc.map(|d| d.name.clone()),
        statements,
        unsupported: decision.unsupported,
    }
}

/// The condition keys the deciding statements test, with the request's
/// values (`None`: the request does not carry the key).
fn condition_keys(
    statements: &[StatementInfo],
    req: &Request,
) -> Vec<(String, Option<Vec<String>>)> {
    let mut keys = std::collections::BTreeSet::new();
    for s in statements {
        if let Some(ops) = s.json.get("Condition").and_then(|c| c.as_object()) {
            for block in ops.values() {
                if let Some(block) = block.as_object() {
                    keys.extend(block.keys().map(|k| k.to_ascii_lowercase()));
                }
            }
        }
    }
    keys.into_iter()
        .map(|k| {
            let v = req.get(&k).map(<[String]>::to_vec);
            (k, v)
        })
        .collect()
}

/// The answer of [`explain`].
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The resource evaluated: `*` for an action without a resource type.
    pub resource: String,
    /// The request context evaluated (condition keys, lowercased, and values).
    pub context: std::collections::BTreeMap<String, Vec<String>>,
    /// The condition keys the deciding statements test, with the values used.
    pub condition_keys: Vec<(String, Option<Vec<String>>)>,
    pub outcome: Outcome,
    pub identity_documents: Vec<String>,
    pub resource_document: Option<String>,
    pub statements: Vec<StatementInfo>,
    pub unsupported: Vec<String>,
}

/// A malformed `explain` argument: which one, the rule it breaks and a valid
/// example. `xacct explain` exits 2 with it before evaluating anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{arg} {value:?}: {rule} (e.g. {example})")]
pub struct InputError {
    /// The argument (`--principal`, `--action`, `--resource`).
    pub arg: &'static str,
    pub value: String,
    pub rule: String,
    pub example: &'static str,
}

const PRINCIPAL_EXAMPLE: &str =
    "arn:aws:iam::100000000002:role/S3BucketManager, lambda.amazonaws.com or anonymous";
const ROLE_EXAMPLE: &str = "arn:aws:iam::100000000002:role/S3BucketManager";
const ACTION_EXAMPLE: &str = "s3:CreateBucket";
const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

fn input_error(
    arg: &'static str,
    value: &str,
    rule: impl Into<String>,
    example: &'static str,
) -> InputError {
    InputError {
        arg,
        value: value.to_owned(),
        rule: rule.into(),
        example,
    }
}

/// The account part of an ARN or a bare account: exactly 12 digits.
fn check_account(
    arg: &'static str,
    value: &str,
    account: &str,
    example: &'static str,
) -> Result<(), InputError> {
    if contract::is_account_id(account) {
        return Ok(());
    }
    let rule = if !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "the account `{account}` has {} digits; an account ID is exactly 12 digits",
            account.len()
        )
    } else if account.is_empty() {
        "the ARN has no account; an account ID is exactly 12 digits".to_owned()
    } else {
        format!("the account `{account}` is not 12 digits")
    };
    Err(input_error(arg, value, rule, example))
}

/// An IAM name (role, user): 1-64 (users) or 1-64 (roles) characters of
/// `[A-Za-z0-9+=,.@_-]`, after an optional `/path/`.
fn check_iam_path_name(
    arg: &'static str,
    value: &str,
    kind: &str,
    rest: &str,
    example: &'static str,
) -> Result<(), InputError> {
    let name = rest.rsplit('/').next().unwrap_or_default();
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) {
        return Err(input_error(
            arg,
            value,
            format!(
                "the {kind} name `{name}` must be 1-64 characters of letters, digits and +=,.@_-"
            ),
            example,
        ));
    }
    let path = &rest[..rest.len() - name.len()];
    if path.contains("//") || !path.chars().all(|c| c == '/' || ok_char(c)) {
        return Err(input_error(
            arg,
            value,
            format!("the {kind} path `{path}` is not an IAM path (`/` or `/division/`)"),
            example,
        ));
    }
    Ok(())
}

/// Splits `arn:partition:service:region:account:resource`, checking the
/// prefix and the partition.
fn split_arn<'a>(
    arg: &'static str,
    value: &'a str,
    example: &'static str,
) -> Result<[&'a str; 5], InputError> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(input_error(
            arg,
            value,
            "not an ARN: expected arn:<partition>:<service>:<region>:<account>:<resource>",
            example,
        ));
    }
    if !PARTITIONS.contains(&parts[1]) {
        return Err(input_error(
            arg,
            value,
            format!(
                "unknown partition `{}`; expected one of {}",
                parts[1],
                PARTITIONS.join(", ")
            ),
            example,
        ));
    }
    Ok([parts[1], parts[2], parts[3], parts[4], parts[5]])
}

/// `--principal`: an IAM principal ARN (`:root`, `:role/...`, `:user/...`),
/// a bare 12-digit account (its root), a service principal
/// (`<name>.amazonaws.com`), or `anonymous` (also `*`).
pub fn parse_principal(value: &str) -> Result<Caller, InputError> {
    const ARG: &str = "--principal";
    if value == "anonymous" || value == "*" {
        return Ok(Caller::Anonymous);
    }
    if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        check_account(ARG, value, value, "100000000002")?;
        return Ok(Caller::Aws(format!("arn:aws:iam::{value}:root")));
    }
    if !value.starts_with("arn:") {
        if let Some(name) = value.strip_suffix(".amazonaws.com") {
            let ok = !name.is_empty()
                && name.split('.').all(|l| {
                    !l.is_empty()
                        && l.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                });
            if ok {
                return Ok(Caller::Service(value.to_owned()));
            }
            return Err(input_error(
                ARG,
                value,
                "a service principal is `<service>.amazonaws.com` in lowercase letters, digits, `-` and `.`",
                "lambda.amazonaws.com",
            ));
        }
        return Err(input_error(
            ARG,
            value,
            "must be an IAM principal ARN, a 12-digit account, a service principal or `anonymous`",
            PRINCIPAL_EXAMPLE,
        ));
    }
    let [_, service, region, account, resource] = split_arn(ARG, value, ROLE_EXAMPLE)?;
    if service != "iam" {
        return Err(input_error(
            ARG,
            value,
            format!(
                "a principal ARN is an IAM ARN (`arn:aws:iam::...`), not `{service}`; for an assumed-role session pass the role's ARN"
            ),
            ROLE_EXAMPLE,
        ));
    }
    if !region.is_empty() {
        return Err(input_error(
            ARG,
            value,
            format!("IAM ARNs have no region (got `{region}`): arn:aws:iam::<account>:..."),
            ROLE_EXAMPLE,
        ));
    }
    check_account(ARG, value, account, ROLE_EXAMPLE)?;
    if resource == "root" {
        return Ok(Caller::Aws(value.to_owned()));
    }
    for kind in ["role", "user"] {
        if let Some(rest) = resource
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('/'))
        {
            check_iam_path_name(ARG, value, kind, rest, ROLE_EXAMPLE)?;
            return Ok(Caller::Aws(value.to_owned()));
        }
    }
    Err(input_error(
        ARG,
        value,
        format!("the principal `{resource}` must be `root`, `role/<name>` or `user/<name>`"),
        ROLE_EXAMPLE,
    ))
}

/// `--action`: `service:Action` of a service in the shipped catalog, naming
/// an action the catalog lists (no wildcards: explain answers one request).
pub fn check_action(value: &str) -> Result<&'static str, InputError> {
    const ARG: &str = "--action";
    let Some((service, name)) = value.split_once(':') else {
        return Err(input_error(
            ARG,
            value,
            "an action is `<service>:<Action>` with the service prefix",
            ACTION_EXAMPLE,
        ));
    };
    if !eval::catalog::SERVICES.contains(&service.to_ascii_lowercase().as_str()) {
        return Err(input_error(
            ARG,
            value,
            format!(
                "unknown service prefix `{service}`: the action catalog (data/iam-actions/) covers {}",
                eval::catalog::SERVICES.join(", ")
            ),
            ACTION_EXAMPLE,
        ));
    }
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !name.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(input_error(
            ARG,
            value,
            format!(
                "the action name `{name}` must be letters and digits (no wildcards: explain evaluates one request)"
            ),
            ACTION_EXAMPLE,
        ));
    }
    match eval::catalog::lookup(value) {
        Some(a) => Ok(a.name),
        None => {
            let near = nearest(value);
            Err(input_error(
                ARG,
                value,
                format!(
                    "`{name}` is not an action of {service} in the action catalog (data/iam-actions/){}",
                    near.map(|n| format!("; did you mean {n}?"))
                        .unwrap_or_default()
                ),
                ACTION_EXAMPLE,
            ))
        }
    }
}

/// The catalog action of the same service closest to `action` (edit distance <= 3).
fn nearest(action: &str) -> Option<&'static str> {
    let l = action.to_ascii_lowercase();
    let service = l.split(':').next().unwrap_or_default().to_owned() + ":";
    eval::catalog::actions()
        .iter()
        .filter(|a| a.lower.starts_with(&service))
        .map(|a| (edit_distance(&a.lower, &l), a.name))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A valid S3 bucket name: 3-63 characters of lowercase letters, digits, `.`
/// and `-`, starting and ending with a letter or digit.
fn bucket_name_ok(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && b.starts_with(|c: char| c.is_ascii_alphanumeric())
        && b.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `--resource`: an ARN of a catalog service with the shape that service's
/// ARNs have (S3 bucket and object, IAM role/user/policy/root, Lambda
/// function, ...), or `*` for actions without resource-level permissions.
pub fn check_resource(value: &str) -> Result<(), InputError> {
    const ARG: &str = "--resource";
    const EX: &str = "arn:aws:s3:::ambra-dev-acme";
    if value == "*" {
        return Ok(());
    }
    let [_, service, region, account, resource] = split_arn(ARG, value, EX)?;
    let no_region = |ex: &'static str| -> Result<(), InputError> {
        if region.is_empty() {
            Ok(())
        } else {
            Err(input_error(
                ARG,
                value,
                format!("{service} ARNs have no region (got `{region}`)"),
                ex,
            ))
        }
    };
    let with_region = |ex: &'static str| -> Result<(), InputError> {
        let ok = !region.is_empty()
            && region.split('-').count() >= 3
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(())
        } else {
            Err(input_error(
                ARG,
                value,
                format!("{service} ARNs name a region such as us-east-1 (got `{region}`)"),
                ex,
            ))
        }
    };
    let bad = |rule: String, ex: &'static str| Err(input_error(ARG, value, rule, ex));
    match service {
        "s3" => {
            no_region(EX)?;
            if !account.is_empty() {
                return bad(
                    format!(
                        "S3 bucket and object ARNs have no account (got `{account}`): arn:aws:s3:::<bucket>[/<key>]"
                    ),
                    EX,
                );
            }
            let (bucket, key) = match resource.split_once('/') {
                Some((b, k)) => (b, Some(k)),
                None => (resource, None),
            };
            if !bucket_name_ok(bucket) {
                return bad(
                    format!(
                        "`{bucket}` is not an S3 bucket name (3-63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit)"
                    ),
                    EX,
                );
            }
            if key == Some("") {
                return bad(
                    "an object ARN needs a key after the `/` (arn:aws:s3:::<bucket>/<key>)"
                        .to_owned(),
                    "arn:aws:s3:::ambra-dev-acme/reports/2026.csv",
                );
            }
            Ok(())
        }
        "iam" | "sts" => {
            const IAM_EX: &str = "arn:aws:iam::100000000002:role/S3BucketManager";
            no_region(IAM_EX)?;
            check_account(ARG, value, account, IAM_EX)?;
            if service == "iam" && resource == "root" {
                return Ok(());
            }
            let kinds: &[&str] = if service == "iam" {
                &[
                    "role",
                    "user",
                    "policy",
                    "group",
                    "instance-profile",
                    "oidc-provider",
                    "saml-provider",
                ]
            } else {
                &["assumed-role", "federated-user"]
            };
            for kind in kinds {
                if let Some(rest) = resource
                    .strip_prefix(kind)
                    .and_then(|r| r.strip_prefix('/'))
                {
                    return match *kind {
                        "role" | "user" | "group" | "instance-profile" | "policy" => {
                            check_iam_path_name(ARG, value, kind, rest, IAM_EX)
                        }
                        _ if rest.is_empty() => bad(format!("`{kind}/` needs a name"), IAM_EX),
                        _ => Ok(()),
                    };
                }
            }
            bad(
                format!(
                    "the {service} resource `{resource}` must start with {}",
                    kinds
                        .iter()
                        .map(|k| format!("`{k}/`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                IAM_EX,
            )
        }
        "lambda" => {
            const L_EX: &str =
                "arn:aws:lambda:us-east-1:100000000001:function:s3-bucket-provisioning";
            with_region(L_EX)?;
            check_account(ARG, value, account, L_EX)?;
            let mut parts = resource.split(':');
            let kind = parts.next().unwrap_or_default();
            let name = parts.next().unwrap_or_default();
            let qualifier = parts.next();
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !matches!(kind, "function" | "layer" | "event-source-mapping")
                || !name_ok
                || qualifier == Some("")
                || parts.next().is_some()
            {
                return bad(
                    format!(
                        "the Lambda resource `{resource}` must be `function:<name>[:<version or alias>]` (name: 1-64 letters, digits, - and _)"
                    ),
                    L_EX,
                );
            }
            Ok(())
        }
        "organizations" => {
            no_region("arn:aws:organizations::111111111111:account/o-abc123defg/100000000002")?;
            check_account(
                ARG,
                value,
                account,
                "arn:aws:organizations::111111111111:account/o-abc123defg/100000000002",
            )
        }
        s if eval::catalog::SERVICES.contains(&s) => {
            // logs, sns, dynamodb, kms: regional, in an account, a non-empty resource.
            const R_EX: &str =
                "arn:aws:logs:us-east-1:100000000001:log-group:/aws/lambda/s3-bucket-provisioning";
            with_region(R_EX)?;
            check_account(ARG, value, account, R_EX)?;
            if resource.is_empty() {
                return bad(format!("the {s} ARN has no resource part"), R_EX);
            }
            Ok(())
        }
        other => bad(
            format!(
                "unknown service `{other}` in the ARN: explain knows {}",
                eval::catalog::SERVICES.join(", ")
            ),
            EX,
        ),
    }
}

#[cfg(test)]
mod input_tests {
    use super::*;

    #[test]
    fn principals() {
        for ok in [
            "arn:aws:iam::100000000002:role/S3BucketManager",
            "arn:aws:iam::100000000002:role/service-role/x.y@z",
            "arn:aws:iam::100000000002:user/alice",
            "arn:aws:iam::100000000002:root",
            "100000000002",
            "lambda.amazonaws.com",
            "anonymous",
        ] {
            assert!(parse_principal(ok).is_ok(), "{ok}");
        }
        let e = parse_principal("arn:aws:iam::10000000002:role/S3BucketManager").unwrap_err();
        assert_eq!(e.arg, "--principal");
        assert!(e.rule.contains("11 digits"), "{e}");
        assert!(
            e.to_string()
                .contains("e.g. arn:aws:iam::100000000002:role/"),
            "{e}"
        );
        for bad in [
            "arn:aws:iam::1000000000021:root",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:100000000002:role/x",
            "arn:aws:iam::100000000002:group/x",
            "arn:aws:iam::100000000002:role/",
            "arn:aws:iam::100000000002:role/a b",
            "arn:foo:iam::100000000002:root",
            "S3BucketManager",
            "Lambda.amazonaws.com",
            "1000000000",
        ] {
            assert!(parse_principal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn actions() {
        assert_eq!(check_action("s3:createbucket").unwrap(), "s3:CreateBucket");
        let e = check_action("CreateBucket").unwrap_err();
        assert!(e.rule.contains("<service>:<Action>"), "{e}");
        let e = check_action("ec2:RunInstances").unwrap_err();
        assert!(e.rule.contains("unknown service prefix `ec2`"), "{e}");
        let e = check_action("s3:CreateBuckett").unwrap_err();
        assert!(e.rule.contains("not an action of s3"), "{e}");
        assert!(e.rule.contains("did you mean s3:CreateBucket?"), "{e}");
        assert!(check_action("s3:Put*").is_err());
        assert!(check_action("s3:").is_err());
    }

    #[test]
    fn resources() {
        for ok in [
            "arn:aws:s3:::ambra-dev-acme",
            "arn:aws:s3:::ambra-dev-acme/a/b.txt",
            "arn:aws:iam::100000000002:role/S3BucketManager",
            "arn:aws:lambda:us-east-1:100000000001:function:s3-bucket-provisioning",
            "arn:aws:lambda:us-east-1:100000000001:function:f:live",
            "arn:aws:logs:us-east-1:100000000001:log-group:/aws/lambda/f",
            "arn:aws:sts::100000000001:assumed-role/r/s",
            "*",
        ] {
            assert!(check_resource(ok).is_ok(), "{ok}: {:?}", check_resource(ok));
        }
        let e = check_resource("ambra-dev-acme").unwrap_err();
        assert_eq!(e.arg, "--resource");
        assert!(e.rule.starts_with("not an ARN"), "{e}");
        for bad in [
            "arn:aws:s3:::Ambra_Dev",
            "arn:aws:s3:us-east-1::ambra-dev-acme",
            "arn:aws:s3::100000000002:ambra-dev-acme",
            "arn:aws:s3:::ambra-dev-acme/",
            "arn:aws:iam::10000000002:role/S3BucketManager",
            "arn:aws:iam::100000000002:bucket/x",
            "arn:aws:lambda::100000000001:function:f",
            "arn:aws:lambda:us-east-1:100000000001:f",
            "arn:aws:ec2:us-east-1:100000000001:instance/i-1",
            "arn:aws:s3:::",
        ] {
            assert!(check_resource(bad).is_err(), "{bad}");
        }
    }
}
