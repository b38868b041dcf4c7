//! Structural checks on every document: wildcard principals and actions,
//! NotAction/NotResource allows, `Resource: *`, unique-ID principals,
//! unmodelled operators, and the function URL's auth type in files and plans.

use super::{
    Ctx, FUNCTION_URL_AUTH, Finding, NOT_ACTION_ALLOW, UNIQUE_ID_PRINCIPAL, UNKNOWN_ACTION,
    UNSCOPABLE_ACTIONS, UNSUPPORTED, WILDCARD_ACTION, WILDCARD_PRINCIPAL, WILDCARD_RESOURCE, input,
    label,
};
use crate::eval;
use crate::iam::{Effect, Principal};

/// Condition keys that identify the caller: a wildcard principal narrowed by
/// one of them is no XA008 (whether it is open is decided exactly elsewhere).
pub const PRINCIPAL_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:userid",
    "aws:username",
];

/// Structural checks on every document.
pub(super) fn hygiene(cx: &mut Ctx<'_>) {
    let input = cx.input;
    for doc in input.all_docs() {
        for (i, st) in doc.doc.statement.iter().enumerate() {
            for p in [&st.principal, &st.not_principal].into_iter().flatten() {
                for v in principal_values(p) {
                    if is_unique_id(v) {
                        cx.push(
                            UNIQUE_ID_PRINCIPAL,
                            doc,
                            v,
                            format!("principal {v} is a unique ID: the principal was deleted (a recreated one does not match); use its ARN"),
                            Some(i),
                        );
                    }
                }
            }
            for a in [&st.action, &st.not_action]
                .into_iter()
                .flatten()
                .flat_map(|a| a.iter())
            {
                if eval::catalog::unknown(a) {
                    cx.push(
                        UNKNOWN_ACTION,
                        doc,
                        a,
                        format!("action {a} is not in the action catalog (data/iam-actions): a typo, or newer than the catalog; statement {}", label(st, i)),
                        Some(i),
                    );
                }
            }
            for op in st.condition.keys() {
                if !eval::operator_supported(op) {
                    cx.push(
                        UNSUPPORTED,
                        doc,
                        &doc.name,
                        format!("condition operator {op} is not evaluated offline (treated as false); review statement {} by hand", label(st, i)),
                        Some(i),
                    );
                }
            }
            if st.effect != Some(Effect::Allow) {
                continue;
            }
            // A wildcard principal narrowed by a key that names the caller is decided
            // by the access checks instead (checkov#7209, #6839, #1582).
            let narrowed = st
                .condition
                .values()
                .flat_map(|k| k.keys())
                .any(|k| PRINCIPAL_KEYS.iter().any(|p| p.eq_ignore_ascii_case(k)));
            if (st.principal.as_ref().is_some_and(Principal::is_wildcard)
                || st.not_principal.is_some())
                && !narrowed
            {
                cx.push(
                    WILDCARD_PRINCIPAL,
                    doc,
                    &doc.name,
                    format!("statement {} allows any principal", label(st, i)),
                    Some(i),
                );
            }
            let actions: Vec<&str> = st.action.iter().flat_map(|a| a.iter()).collect();
            if actions.iter().any(|a| *a == "*" || *a == "*:*") {
                cx.push(
                    WILDCARD_ACTION,
                    doc,
                    &doc.name,
                    format!("statement {} allows every action", label(st, i)),
                    Some(i),
                );
            }
            if st.not_action.is_some() || st.not_resource.is_some() {
                cx.push(
                    NOT_ACTION_ALLOW,
                    doc,
                    &doc.name,
                    format!(
                        "statement {} allows with {}: everything not listed is granted",
                        label(st, i),
                        if st.not_action.is_some() {
                            "NotAction"
                        } else {
                            "NotResource"
                        }
                    ),
                    Some(i),
                );
            }
            let star_resource = st
                .resource
                .as_ref()
                .is_some_and(|r| r.iter().any(|v| v == "*"));
            // In a key policy `Resource: "*"` is the key itself.
            let key_policy = input
                .kms_key_policy
                .as_ref()
                .is_some_and(|k| k.name == doc.name);
            if star_resource && !key_policy {
                let scoped: Vec<&str> = actions
                    .iter()
                    .copied()
                    .filter(|a| !UNSCOPABLE_ACTIONS.iter().any(|u| u.eq_ignore_ascii_case(a)))
                    .collect();
                if !scoped.is_empty() || st.not_action.is_some() {
                    cx.push(
                        WILDCARD_RESOURCE,
                        doc,
                        "*",
                        format!(
                            "statement {} grants {} on Resource \"*\"; only {} may use it",
                            label(st, i),
                            if scoped.is_empty() {
                                "NotAction".to_owned()
                            } else {
                                scoped.join(", ")
                            },
                            UNSCOPABLE_ACTIONS.join(", ")
                        ),
                        Some(i),
                    );
                }
            }
        }
    }
}

pub(super) fn principal_values(p: &Principal) -> Vec<&str> {
    match p {
        Principal::Any => vec!["*"],
        Principal::Map(m) => m.values().flat_map(|v| v.iter()).collect(),
    }
}

/// `AROA…` (role), `AIDA…` (user) and the other IAM unique-ID prefixes.
pub fn is_unique_id(v: &str) -> bool {
    ["AROA", "AIDA", "AGPA", "AIPA", "ANPA", "ANVA", "ASCA"]
        .iter()
        .any(|p| v.starts_with(p))
        && v.len() >= 16
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

pub(super) fn function_url_auth(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let e = &input.expect;
    let from_texts = input.texts.iter().flat_map(|(path, text)| {
        input::function_url_auth_in_text(text)
            .into_iter()
            .map(move |a| (path.clone(), a))
    });
    let auths: Vec<(String, String)> = input
        .function_url_auth
        .iter()
        .cloned()
        .chain(from_texts)
        .collect();
    for (source, auth) in &auths {
        if !auth.eq_ignore_ascii_case("AWS_IAM") {
            cx.findings.push(Finding {
                file: None,
                line: None,
                check_id: FUNCTION_URL_AUTH.id,
                severity: FUNCTION_URL_AUTH.severity,
                account: e.primary_account.clone(),
                resource: e.function_arn.clone(),
                message: format!("{source}: function URL auth type is {auth}, must be AWS_IAM"),
                statement: None,
                counterexample: None,
            });
        }
    }
    let Some(doc) = &input.function_url_policy else {
        return;
    };
    for (i, st) in doc.doc.statement.iter().enumerate() {
        if st.effect != Some(Effect::Allow) {
            continue;
        }
        for (op, keys) in &st.condition {
            for (k, vals) in keys {
                if k.eq_ignore_ascii_case("lambda:FunctionUrlAuthType")
                    && vals.iter().any(|v| v.eq_ignore_ascii_case("NONE"))
                {
                    cx.push(
                        FUNCTION_URL_AUTH,
                        doc,
                        &e.function_arn,
                        format!(
                            "statement {} grants with {op} lambda:FunctionUrlAuthType NONE",
                            label(st, i)
                        ),
                        Some(i),
                    );
                }
            }
        }
    }
}
