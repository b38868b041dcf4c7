//! The existing function's configuration against the spec: the seed's
//! variable names (`ambra_phr_account`, ...) mapped to xacct's
//! (`contract::env::*`), values that disagree with the spec, and long-lived
//! PHR access keys in the function's environment (never printed).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::contract::env as e;
use crate::model::Environment;

/// The seed's variable names and xacct's, in the seed's order.
pub const SEED_VARIABLES: &[(&str, &str)] = &[
    ("environment", e::ENVIRONMENT),
    ("aws_region", e::BUCKET_REGION),
    ("max_buckets_per_account", e::MAX_BUCKETS_PER_ACCOUNT),
    ("ambra_storage_accounts", e::STORAGE_ACCOUNTS),
    ("ambra_phr_account", e::PHR_ACCOUNT),
    ("ambra_phr_bucket", e::PHR_BUCKET),
    ("ambra_phr_cred_access_key", e::PHR_ACCESS_KEY),
    ("ambra_phr_cred_secret_key", e::PHR_SECRET_KEY),
];

/// One variable of the existing function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    /// The name on the function today.
    pub name: String,
    /// xacct's name for it (`null`: xacct renders no such variable).
    pub xacct_name: Option<&'static str>,
    /// The value today; `null` for secrets (never printed).
    pub value: Option<String>,
    /// What the spec renders (`null`: nothing).
    pub spec: Option<String>,
    /// `agrees`, `differs`, `not_rendered` (applying removes it), `secret`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The function's configuration compared with the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Config {
    /// The function uses the seed's variable names.
    pub seed_names: bool,
    pub variables: Vec<Variable>,
    /// Values that disagree, secrets to remove (messages; in JSON `problems`,
    /// since `findings` is always an array of finding objects).
    #[serde(rename = "problems")]
    pub findings: Vec<String>,
}

/// `a,b`, `a b`, `["a","b"]` -> sorted IDs.
pub fn account_list(v: &str) -> Vec<String> {
    let mut out: Vec<String> = v
        .split(|c: char| {
            c == ',' || c.is_whitespace() || c == '[' || c == ']' || c == '"' || c == '\''
        })
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn is_secret(name: &str, value: &str) -> bool {
    name == e::PHR_ACCESS_KEY
        || name == e::PHR_SECRET_KEY
        || name.eq_ignore_ascii_case("ambra_phr_cred_access_key")
        || name.eq_ignore_ascii_case("ambra_phr_cred_secret_key")
        || crate::audit::secrets::access_key_id(value).is_some()
        || crate::audit::secrets::secret_assignment(name, value).is_some()
}

/// Compares the function's variables with the rendered ones.
pub fn compare(env: &Environment, vars: &BTreeMap<String, String>) -> Config {
    let rendered: BTreeMap<&str, Option<String>> =
        crate::render::lambda_env(env).into_iter().collect();
    let mut c = Config {
        seed_names: SEED_VARIABLES.iter().any(|(s, _)| vars.contains_key(*s)),
        ..Config::default()
    };
    for (name, value) in vars {
        let xacct = SEED_VARIABLES
            .iter()
            .find(|(s, _)| s == name)
            .map(|(_, x)| *x)
            .or_else(|| {
                rendered
                    .contains_key(name.as_str())
                    .then_some(name.as_str())
            })
            .and_then(|x| {
                crate::contract::ALL_ENV_VARS
                    .iter()
                    .copied()
                    .find(|a| *a == x)
            });
        let spec = xacct.and_then(|x| rendered.get(x).cloned().flatten());
        if is_secret(name, value) {
            c.findings.push(format!(
                "the function's environment holds a long-lived credential in `{name}` (value not shown): remove it; applying the rendered configuration drops the variable (the runtime needs no PHR keys), then deactivate and delete the IAM access key"
            ));
            c.variables.push(Variable {
                name: name.clone(),
                xacct_name: xacct,
                value: None,
                spec: None,
                status: "secret",
                note: Some("long-lived credential: remove".into()),
            });
            continue;
        }
        let agrees = match (xacct, &spec) {
            (Some(x), Some(s)) if x == e::STORAGE_ACCOUNTS => {
                account_list(value) == account_list(s)
            }
            (Some(_), Some(s)) => value.trim() == s,
            _ => false,
        };
        let status = match (&spec, agrees) {
            (None, _) => "not_rendered",
            (Some(_), true) => "agrees",
            (Some(_), false) => "differs",
        };
        let mut note = None;
        if status == "differs" {
            let s = spec.clone().unwrap_or_default();
            let msg = if xacct == Some(e::STORAGE_ACCOUNTS) {
                let have = account_list(value);
                let want = account_list(&s);
                let missing: Vec<&String> = have.iter().filter(|a| !want.contains(a)).collect();
                let added: Vec<&String> = want.iter().filter(|a| !have.contains(a)).collect();
                format!(
                    "`{name}` lists storage accounts {have:?}; the spec has {want:?} (missing from the spec: {missing:?}; only in the spec: {added:?})"
                )
            } else {
                format!("`{name}` is {value:?} today; the spec renders {s:?}")
            };
            c.findings.push(msg.clone());
            note = Some(msg);
        }
        c.variables.push(Variable {
            name: name.clone(),
            xacct_name: xacct,
            value: Some(value.clone()),
            spec,
            status,
            note,
        });
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_lists_parse_every_shape() {
        let want = vec!["100000000002".to_owned(), "100000000003".to_owned()];
        assert_eq!(account_list("100000000003,100000000002"), want);
        assert_eq!(account_list("[\"100000000002\", \"100000000003\"]"), want);
        assert_eq!(account_list("100000000002 100000000003"), want);
    }
}
