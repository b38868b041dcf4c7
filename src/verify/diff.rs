//! Semantic comparison of a live policy document with the rendered one.
//!
//! Formatting, statement order, single-value-vs-list, `Sid`s, action case and
//! value order do not matter; anything else does. A bare account ID principal
//! is the same as its `:root` ARN (IAM rewrites one into the other).

use crate::iam::{ParseError, PolicyDocument, Principal, Statement, Values};

/// IAM returns policy documents URL-encoded (`GetRole`, `GetRolePolicy`,
/// `GetPolicyVersion`); Lambda and S3 return plain JSON. Accepts both.
pub fn parse_live(text: &str) -> Result<PolicyDocument, ParseError> {
    match PolicyDocument::from_json(text) {
        Ok(d) => Ok(d),
        Err(first) => {
            let decoded = percent_decode(text);
            PolicyDocument::from_json(&decoded).map_err(|_| first)
        }
    }
}

/// A Lambda resource policy (`GetPolicy`). AWS returns standard IAM JSON; some
/// emulators (moto) write the principal as a bare string and the URL auth type
/// as a top-level `FunctionUrlAuthType` key. Both are mapped to the standard
/// form (`{"AWS": ...}` / `{"Service": ...}` and a `StringEquals
/// lambda:FunctionUrlAuthType` condition) before parsing.
pub fn parse_lambda_policy(text: &str) -> Result<PolicyDocument, ParseError> {
    let mut v: serde_json::Value = serde_json::from_str(text)?;
    let statements = match v.get_mut("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter_mut().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for st in statements {
        let Some(obj) = st.as_object_mut() else {
            continue;
        };
        if let Some(serde_json::Value::String(p)) = obj.get("Principal").cloned()
            && p != "*"
        {
            let kind = if p.ends_with(".amazonaws.com") {
                "Service"
            } else {
                "AWS"
            };
            obj.insert("Principal".to_owned(), serde_json::json!({ kind: p }));
        }
        if let Some(auth) = obj.remove("FunctionUrlAuthType") {
            let cond = obj
                .entry("Condition")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(c) = cond.as_object_mut() {
                let eq = c
                    .entry("StringEquals")
                    .or_insert_with(|| serde_json::json!({}));
                if let Some(eq) = eq.as_object_mut() {
                    eq.insert("lambda:FunctionUrlAuthType".to_owned(), auth);
                }
            }
        }
        // moto keeps `AddPermission`'s InvokedViaFunctionUrl as a top-level
        // field too; AWS writes the `lambda:InvokedViaFunctionUrl` condition.
        if let Some(via) = obj.remove("InvokedViaFunctionUrl") {
            let on = via.as_bool() == Some(true)
                || via.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"));
            if on {
                let cond = obj
                    .entry("Condition")
                    .or_insert_with(|| serde_json::json!({}));
                if let Some(c) = cond.as_object_mut() {
                    let b = c.entry("Bool").or_insert_with(|| serde_json::json!({}));
                    if let Some(b) = b.as_object_mut() {
                        b.insert(
                            crate::iam::documents::INVOKED_VIA_URL_KEY.to_owned(),
                            serde_json::json!("true"),
                        );
                    }
                }
            }
        }
    }
    PolicyDocument::from_value(v)
}

/// `%XX` decoding (and `+` as space, as IAM's form encoding may produce).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn norm_values(v: &Option<Values>, lower: bool) -> Option<Values> {
    v.as_ref().map(|v| {
        let mut items: Vec<String> = v
            .iter()
            .map(|s| {
                if lower {
                    s.to_ascii_lowercase()
                } else {
                    s.to_owned()
                }
            })
            .collect();
        items.sort();
        items.dedup();
        Values(items)
    })
}

fn norm_principal(p: &Option<Principal>) -> Option<Principal> {
    p.as_ref().map(|p| match p {
        Principal::Any => Principal::Any,
        Principal::Map(m) => {
            // {"AWS": "*"} is the same as "*".
            if m.len() == 1 && m.get("AWS").is_some_and(|v| v.iter().all(|x| x == "*")) {
                return Principal::Any;
            }
            Principal::Map(
                m.iter()
                    .map(|(k, v)| {
                        let mut items: Vec<String> = v
                            .iter()
                            .map(|x| {
                                if k == "AWS"
                                    && x.len() == 12
                                    && x.bytes().all(|b| b.is_ascii_digit())
                                {
                                    format!("arn:aws:iam::{x}:root")
                                } else {
                                    x.to_owned()
                                }
                            })
                            .collect();
                        items.sort();
                        items.dedup();
                        (k.clone(), Values(items))
                    })
                    .collect(),
            )
        }
    })
}

/// The statement in a comparable form (no `Sid`, sorted values, lowercase actions).
pub fn normalize(st: &Statement) -> Statement {
    Statement {
        sid: None,
        effect: st.effect,
        principal: norm_principal(&st.principal),
        not_principal: norm_principal(&st.not_principal),
        action: norm_values(&st.action, true),
        not_action: norm_values(&st.not_action, true),
        resource: norm_values(&st.resource, false),
        not_resource: norm_values(&st.not_resource, false),
        condition: st
            .condition
            .iter()
            .map(|(op, keys)| {
                (
                    op.to_ascii_lowercase(),
                    keys.iter()
                        .map(|(k, v)| {
                            (
                                k.to_ascii_lowercase(),
                                norm_values(&Some(v.clone()), false).unwrap_or_default(),
                            )
                        })
                        .collect(),
                )
            })
            .collect(),
    }
}

/// How a live document differs from the rendered one.
#[derive(Debug, Clone, PartialEq)]
pub enum Difference {
    /// A live statement that the rendered document does not have (index into the live document).
    Extra(usize),
    /// A rendered statement that is missing live (index into the rendered document).
    Missing(usize),
}

/// Statement-level multiset difference; empty when the documents are equivalent.
pub fn diff(expected: &PolicyDocument, live: &PolicyDocument) -> Vec<Difference> {
    let exp: Vec<Statement> = expected.statement.iter().map(normalize).collect();
    let liv: Vec<Statement> = live.statement.iter().map(normalize).collect();
    let mut used = vec![false; exp.len()];
    let mut out = Vec::new();
    for (i, l) in liv.iter().enumerate() {
        match exp.iter().enumerate().position(|(j, e)| !used[j] && e == l) {
            Some(j) => used[j] = true,
            None => out.push(Difference::Extra(i)),
        }
    }
    for (j, u) in used.iter().enumerate() {
        if !u {
            out.push(Difference::Missing(j));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> PolicyDocument {
        parse_live(s).unwrap()
    }

    #[test]
    fn order_case_and_shape_do_not_matter() {
        let a = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b"},{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#,
        );
        let b = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":["STS:AssumeRole"]},{"Effect":"Allow","Action":["s3:listbucket","s3:GetObject"],"Resource":["arn:aws:s3:::b"]}]}"#,
        );
        assert!(diff(&a, &b).is_empty());
    }

    #[test]
    fn url_encoded_documents_parse() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let d = parse_live(enc).unwrap();
        assert_eq!(d.statement.len(), 1);
    }

    #[test]
    fn widening_is_a_difference() {
        let a = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        );
        let b = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        );
        assert_eq!(
            diff(&a, &b),
            vec![Difference::Extra(0), Difference::Missing(0)]
        );
    }

    #[test]
    fn emulator_lambda_policy_shape_is_normalized() {
        let moto = r#"{"Version":"2012-10-17","Id":"default","Statement":[{"Action":"lambda:InvokeFunctionUrl","Principal":"arn:aws:iam::1:role/x","FunctionUrlAuthType":"AWS_IAM","Effect":"Allow","Resource":"f","Sid":"A"}]}"#;
        let aws = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/x"},"Action":"lambda:InvokeFunctionUrl","Resource":"f","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}]}"#;
        let a = parse_lambda_policy(moto).unwrap();
        let b = parse_lambda_policy(aws).unwrap();
        assert!(diff(&a, &b).is_empty());
    }

    #[test]
    fn percent_decode_leaves_bad_escapes() {
        assert_eq!(percent_decode("a%zz%41"), "a%zzA");
        assert_eq!(percent_decode("%"), "%");
    }
}
