//! `xacct init --from-function NAME`: a starting spec from a deployed
//! function. Every inferred value carries a comment naming its source; what
//! cannot be inferred is a commented placeholder, listed in [`Draft::todo`].

use std::collections::BTreeMap;

use crate::aws::{self, Aws, AwsError};
use crate::contract::{self, env as e};
use crate::iam::PolicyDocument;

use super::read;

/// What was read for the draft.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub caller_account: String,
    pub caller_region: String,
    pub function: Option<read::FunctionState>,
    pub memory_mb: Option<i32>,
    pub timeout_seconds: Option<i32>,
    /// Retention of the function's log group, when it has one.
    pub log_retention_days: Option<i32>,
    /// Bucket names per storage account (absent: not readable).
    pub buckets: BTreeMap<String, Result<Vec<String>, crate::aws::AwsError>>,
    /// The PHR bucket's policy, when readable.
    pub phr_policy: Option<PolicyDocument>,
}

/// The spec text and what needs a human.
#[derive(Debug, Clone)]
pub struct Draft {
    pub short_name: String,
    pub text: String,
    /// `(field, why)` of every placeholder.
    pub todo: Vec<(String, String)>,
}

/// Reads what the draft needs: the caller, the function, its log group, the
/// buckets of each storage account (audit role) and the PHR bucket policy.
pub async fn read(aws: &Aws, function: &str, audit_role: &str) -> Result<Facts, AwsError> {
    let who = aws
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::sdk("sts:GetCallerIdentity", "the caller", &e))?;
    let mut f = Facts {
        caller_account: who.account().unwrap_or_default().to_owned(),
        caller_region: aws
            .config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default(),
        ..Facts::default()
    };
    let Some(state) = read::function(aws, function).await? else {
        return Err(AwsError::new(
            "lambda:GetFunctionConfiguration",
            function,
            "no such function in this account and region",
        )
        .next("check the name, --profile and --region"));
    };
    let c = aws
        .lambda()
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| AwsError::sdk("lambda:GetFunctionConfiguration", function, &e))?;
    f.memory_mb = c.memory_size();
    f.timeout_seconds = c.timeout();
    let group = format!("/aws/lambda/{function}");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&aws.config);
    if let Ok(out) = logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
    {
        f.log_retention_days = out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(group.as_str()))
            .and_then(|g| g.retention_in_days());
    }
    let var = |k: &str, seed: &str| {
        state
            .variables
            .get(k)
            .or_else(|| state.variables.get(seed))
            .cloned()
    };
    let accounts = var(e::STORAGE_ACCOUNTS, "ambra_storage_accounts")
        .map(|v| super::seed::account_list(&v))
        .unwrap_or_default();
    for acct in accounts.iter().filter(|a| contract::is_account_id(a)) {
        let arn = format!("arn:aws:iam::{acct}:role/{audit_role}");
        let names = match aws::audit_session(aws, &arn, acct).await {
            Ok(s) => aws::bucket_names(&s.s3()).await,
            Err(e) => Err(e),
        };
        f.buckets.insert(acct.clone(), names);
    }
    if let (Some(pa), Some(pb)) = (
        var(e::PHR_ACCOUNT, "ambra_phr_account"),
        var(e::PHR_BUCKET, "ambra_phr_bucket"),
    ) {
        let session = if pa == f.caller_account {
            Ok(aws.clone())
        } else {
            aws::audit_session(aws, &format!("arn:aws:iam::{pa}:role/{audit_role}"), &pa).await
        };
        if let Ok(s) = session
            && let Ok(Some(b)) = read::bucket(&s, &pb).await
        {
            f.phr_policy = b.policy;
        }
    }
    f.function = Some(state);
    Ok(f)
}

/// The longest common prefix of the customer bucket names, cut at a `-`
/// (`ambra-dev-acme`, `ambra-dev-beta` -> `ambra-dev`); needs two buckets.
pub fn infer_prefix(names: &[String]) -> Option<String> {
    if names.len() < 2 {
        return None;
    }
    let first = names[0].as_str();
    let mut len = first.len();
    for n in &names[1..] {
        len = len.min(
            first
                .bytes()
                .zip(n.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    let common = &first[..len];
    let cut = common.rfind('-')?;
    let prefix = &common[..cut];
    contract::check_bucket_prefix(prefix).ok()?;
    Some(prefix.to_owned())
}

fn short_name_of(name: &str, function: &str) -> String {
    match name {
        "development" => "dev".into(),
        "production" => "prod".into(),
        "staging" => "stg".into(),
        n if n.len() <= 8
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) =>
        {
            n.to_owned()
        }
        _ => function
            .rsplit('-')
            .next()
            .filter(|s| !s.is_empty() && s.len() <= 8)
            .unwrap_or("env")
            .to_ascii_lowercase(),
    }
}

fn q(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_owned()
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// Principals of Allow statements that grant `action` (exact role/user ARNs).
fn principals_for(doc: &PolicyDocument, action: &str) -> Vec<String> {
    let mut out = Vec::new();
    for st in &doc.statement {
        if st.effect != Some(crate::iam::Effect::Allow) {
            continue;
        }
        let grants = st
            .action
            .as_ref()
            .is_some_and(|a| a.iter().any(|x| x.eq_ignore_ascii_case(action) || x == "*"));
        if !grants {
            continue;
        }
        if let Some(p) = &st.principal {
            for arn in p.of_type("AWS") {
                if (arn.contains(":role/") || arn.contains(":user/"))
                    && !out.iter().any(|o| o == arn)
                {
                    out.push(arn.to_owned());
                }
            }
        }
    }
    out
}

/// The spec text for `function_name` from `facts`.
pub fn draft(function_name: &str, f: &Facts, short_override: Option<&str>) -> Draft {
    let empty = BTreeMap::new();
    let vars = f.function.as_ref().map(|s| &s.variables).unwrap_or(&empty);
    let var = |k: &str, seed: &str| -> Option<(String, String)> {
        vars.get(k)
            .map(|v| (v.clone(), k.to_owned()))
            .or_else(|| vars.get(seed).map(|v| (v.clone(), seed.to_owned())))
    };
    let from_var = |name: &str| format!("from the function's variable `{name}`");
    let mut todo: Vec<(String, String)> = Vec::new();
    let mut t = format!(
        "# Starting spec written by `xacct init --from-function {function_name}`: every value\n\
         # says where it came from; commented placeholders (TODO) need a human. Review it,\n\
         # then `xacct validate --env <this file>` and `xacct adopt --env <this file>`.\n"
    );
    let mut line =
        |t: &mut String, key: &str, value: Option<(String, String)>, field: &str, hint: &str| {
            match value {
                Some((v, src)) => t.push_str(&format!("{key} = {v}  # {src}\n")),
                None => {
                    t.push_str(&format!("# {key} = ...  # TODO: {hint}\n"));
                    todo.push((field.to_owned(), hint.to_owned()));
                }
            }
        };

    // [environment]
    t.push_str("\n[environment]\n");
    let name = var(e::ENVIRONMENT, "environment");
    let short = short_override.map(str::to_owned).unwrap_or_else(|| {
        short_name_of(
            name.as_ref().map(|(v, _)| v.as_str()).unwrap_or_default(),
            function_name,
        )
    });
    line(
        &mut t,
        "name",
        name.as_ref().map(|(v, k)| (q(v), from_var(k))),
        "environment.name",
        "the environment's name (the `environment` tag value)",
    );
    line(
        &mut t,
        "short_name",
        Some((
            q(&short),
            if short_override.is_some() {
                "from --short-name".to_owned()
            } else {
                "derived from the environment name (output folder and stack names)".to_owned()
            },
        )),
        "",
        "",
    );
    let prod = name.as_ref().is_some_and(|(v, _)| v.starts_with("prod"));
    line(
        &mut t,
        "production",
        Some((prod.to_string(), "derived from the environment name".into())),
        "",
        "",
    );
    let region = var(e::BUCKET_REGION, "aws_region")
        .map(|(v, k)| (q(&v), from_var(&k)))
        .or_else(|| {
            (!f.caller_region.is_empty())
                .then(|| (q(&f.caller_region), "from the caller's region".into()))
        });
    line(
        &mut t,
        "region",
        region,
        "environment.region",
        "the region of the function and buckets",
    );
    line(
        &mut t,
        "primary_account",
        (!f.caller_account.is_empty()).then(|| {
            (
                q(&f.caller_account),
                "from the caller (sts:GetCallerIdentity), the function's account".into(),
            )
        }),
        "environment.primary_account",
        "the account of the function",
    );

    // [storage]
    t.push_str("\n[storage]\n");
    let accounts = var(e::STORAGE_ACCOUNTS, "ambra_storage_accounts")
        .map(|(v, k)| (super::seed::account_list(&v), k))
        .filter(|(a, _)| !a.is_empty());
    line(
        &mut t,
        "accounts",
        accounts.as_ref().map(|(a, k)| (list(a), from_var(k))),
        "storage.accounts",
        "the storage account IDs (or `discover = true` with `organization_id`)",
    );
    line(
        &mut t,
        "max_buckets_per_account",
        var(e::MAX_BUCKETS_PER_ACCOUNT, "max_buckets_per_account")
            .filter(|(v, _)| v.trim().parse::<u32>().is_ok())
            .map(|(v, k)| (v.trim().to_owned(), from_var(&k))),
        "storage.max_buckets_per_account",
        "the per-account bucket maximum",
    );
    let phr_bucket = var(e::PHR_BUCKET, "ambra_phr_bucket");
    let prefix = var(e::BUCKET_PREFIX, "")
        .map(|(v, k)| (q(&v), from_var(&k)))
        .or_else(|| {
            let names: Vec<String> = f
                .buckets
                .values()
                .filter_map(|r| r.as_ref().ok())
                .flatten()
                .filter(|n| phr_bucket.as_ref().is_none_or(|(b, _)| b != *n))
                .cloned()
                .collect();
            infer_prefix(&names).map(|p| {
                (
                    q(&p),
                    format!(
                        "inferred from {} existing bucket names in the storage accounts",
                        names.len()
                    ),
                )
            })
        });
    line(
        &mut t,
        "bucket_prefix",
        prefix,
        "storage.bucket_prefix",
        "the customer bucket prefix (every customer bucket is <prefix>-<customer>); not inferable from fewer than 2 existing buckets",
    );
    // What exists keeps its global names (issue 22); say how to switch.
    let ns = var(e::BUCKET_NAMESPACE, "")
        .and_then(|(v, k)| contract::BucketNamespace::parse(&v).map(|n| (n, from_var(&k))))
        .unwrap_or((
            contract::BucketNamespace::Global,
            "the existing buckets are in the global namespace".to_owned(),
        ));
    t.push_str(&format!(
        "bucket_namespace = {}  # {}\n",
        q(ns.0.as_str()),
        ns.1
    ));
    if ns.0 == contract::BucketNamespace::Global {
        t.push_str(&format!(
            "# To stop name squatting, switch to {:?} (docs/runtime.md, \"Switching an existing setup\"):\n# existing customers keep their buckets, new ones get <prefix>-<customer>-<account>-<region>-an.\n",
            contract::ACCOUNT_REGIONAL
        ));
    }
    if let Some((x, k)) = var(e::EXTERNAL_ID, "") {
        t.push_str(&format!("external_id = {}  # {}\n", q(&x), from_var(&k)));
    }
    for (acct, r) in &f.buckets {
        if let Err(err) = r {
            t.push_str(&format!(
                "# note: the buckets of {acct} could not be read: {err}\n"
            ));
        }
    }

    // [phr]
    t.push_str("\n[phr]\n");
    line(
        &mut t,
        "account",
        var(e::PHR_ACCOUNT, "ambra_phr_account").map(|(v, k)| (q(&v), from_var(&k))),
        "phr.account",
        "the account of the PHR bucket",
    );
    line(
        &mut t,
        "bucket",
        phr_bucket.as_ref().map(|(v, k)| (q(v), from_var(k))),
        "phr.bucket",
        "the PHR bucket",
    );
    if vars.keys().any(|k| {
        k == e::PHR_ACCESS_KEY || k == e::PHR_SECRET_KEY || k.starts_with("ambra_phr_cred_")
    }) {
        t.push_str("# The function holds long-lived PHR access keys today (values not copied). xacct's\n# design is key-less: keep `legacy_access_keys` off and remove the keys (see `xacct adopt`).\n");
    }

    // [lambda]
    t.push_str("\n[lambda]\n");
    line(
        &mut t,
        "function_name",
        Some((q(function_name), "from --from-function".into())),
        "",
        "",
    );
    line(
        &mut t,
        "memory_mb",
        f.memory_mb
            .map(|m| (m.to_string(), "from the function's configuration".into())),
        "lambda.memory_mb",
        "memory in MB",
    );
    line(
        &mut t,
        "timeout_seconds",
        f.timeout_seconds
            .map(|m| (m.to_string(), "from the function's configuration".into())),
        "lambda.timeout_seconds",
        "timeout in seconds",
    );
    line(
        &mut t,
        "log_retention_days",
        f.log_retention_days
            .map(|d| (d.to_string(), "from the function's log group".into())),
        "lambda.log_retention_days",
        "log retention in days (the log group has none, or none exists)",
    );

    // [access]
    t.push_str("\n[access]\n");
    let invokers = f
        .function
        .as_ref()
        .and_then(|s| s.policy.as_ref())
        .map(|p| principals_for(p, "lambda:InvokeFunctionUrl"))
        .filter(|v| !v.is_empty());
    line(
        &mut t,
        "invoker_principals",
        invokers.map(|v| {
            (
                list(&v),
                "from the function's resource policy (lambda:InvokeFunctionUrl)".into(),
            )
        }),
        "access.invoker_principals",
        "who may call the function URL (role ARNs)",
    );
    let readers = f
        .phr_policy
        .as_ref()
        .map(|p| principals_for(p, "s3:GetObject"))
        .filter(|v| !v.is_empty());
    line(
        &mut t,
        "reader_principals",
        readers.map(|v| (list(&v), "from the PHR bucket policy (s3:GetObject)".into())),
        "access.reader_principals",
        "who may read the buckets (role ARNs)",
    );
    Draft {
        short_name: short,
        text: t,
        todo,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_needs_two_buckets_and_cuts_at_a_dash() {
        let n = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            infer_prefix(&n(&["ambra-dev-acme", "ambra-dev-beta"])),
            Some("ambra-dev".into())
        );
        assert_eq!(
            infer_prefix(&n(&["ambra-dev-acme", "ambra-dev-acmf"])),
            Some("ambra-dev".into())
        );
        assert_eq!(infer_prefix(&n(&["ambra-dev-acme"])), None);
        assert_eq!(infer_prefix(&n(&["a-x", "b-y"])), None);
    }
}
