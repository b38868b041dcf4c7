//! The shapes AWS (and emulators) return policy documents in, read into the
//! typed [`PolicyDocument`]: URL-encoded IAM answers and Lambda resource
//! policies. Used by `verify` and `adopt`, which both read live documents.

use super::{ParseError, PolicyDocument};

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
