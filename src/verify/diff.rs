//! Semantic comparison of a live policy document with the rendered one.
//!
//! Formatting, statement order, single-value-vs-list, `Sid`s, action case and
//! value order do not matter; anything else does. A bare account ID principal
//! is the same as its `:root` ARN (IAM rewrites one into the other).

use crate::iam::{PolicyDocument, Principal, Statement, Values};

pub use crate::iam::live::{parse_lambda_policy, parse_live, percent_decode};

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
