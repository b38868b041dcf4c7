//! Long-lived secrets in rendered files and plan values (check XA018):
//! AWS access key IDs (`AKIA…`, `ASIA…`), 40-character secret-looking values
//! assigned to secret-ish keys, and PEM private keys. Findings never repeat the
//! secret: they name the file, line and the first four characters only.

use super::{Finding, Input, SECRET};

/// Secret-ish key names (matched case-insensitively as substrings).
const SECRET_KEYS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "private_key",
    "secret_key",
    "secret_access_key",
    "session_token",
    "api_key",
    "token",
];

/// Looks for secrets in text; returns `(line number, what)` per hit.
pub fn find_in_text(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.contains("-----BEGIN") && line.contains("PRIVATE KEY-----") {
            out.push((line_no, "a PEM private key".to_owned()));
        }
        if let Some(id) = access_key_id(line) {
            out.push((line_no, format!("an AWS access key ID ({}…)", &id[..4])));
        }
        if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':'))
            && let Some(what) = secret_assignment(k, v)
        {
            out.push((line_no, what));
        }
    }
    out
}

/// `AKIA`/`ASIA` followed by 16 uppercase letters or digits, on a word boundary.
pub fn access_key_id(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 20 <= b.len() {
        let pre = &b[i..i + 4];
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if boundary && (pre == b"AKIA" || pre == b"ASIA") {
            let body = &b[i + 4..i + 20];
            let after_ok = b.get(i + 20).is_none_or(|c| !c.is_ascii_alphanumeric());
            if after_ok
                && body
                    .iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                return s.get(i..i + 20);
            }
        }
        i += 1;
    }
    None
}

/// A secret-ish key assigned a 40-character base64-looking value.
pub fn secret_assignment(key: &str, value: &str) -> Option<String> {
    let k = key
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    if !SECRET_KEYS.iter().any(|s| k.contains(s)) {
        return None;
    }
    let v = value
        .trim()
        .trim_end_matches(',')
        .trim_matches(|c| c == '"' || c == '\'');
    secret_looking(v).then(|| format!("a secret-looking value for `{k}`"))
}

/// 40 characters of `[A-Za-z0-9/+=]`, mixing cases and digits (AWS secret access key shape).
pub fn secret_looking(v: &str) -> bool {
    v.len() == 40
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+' || c == b'=')
        && v.bytes().any(|c| c.is_ascii_uppercase())
        && v.bytes().any(|c| c.is_ascii_lowercase())
        && v.bytes().any(|c| c.is_ascii_digit())
}

pub(super) fn scan(input: &Input, findings: &mut Vec<Finding>) {
    let account = input.expect.primary_account.clone();
    for (path, text) in &input.texts {
        for (line, what) in find_in_text(text) {
            findings.push(Finding {
                check_id: SECRET.id,
                severity: SECRET.severity,
                account: account.clone(),
                resource: format!("{path}:{line}"),
                message: format!("{path}:{line} contains {what}"),
                statement: None,
                file: Some(path.clone()),
                line: Some(line),
            });
        }
    }
    for (place, key, value) in &input.values {
        let hit = access_key_id(value)
            .map(|id| format!("an AWS access key ID ({}…)", &id[..4]))
            .or_else(|| secret_assignment(key, value))
            .or_else(|| {
                (value.contains("-----BEGIN") && value.contains("PRIVATE KEY-----"))
                    .then(|| "a PEM private key".to_owned())
            });
        if let Some(what) = hit {
            findings.push(Finding {
                check_id: SECRET.id,
                severity: SECRET.severity,
                account: account.clone(),
                resource: place.clone(),
                message: format!("{place}: `{key}` holds {what}"),
                statement: None,
                file: None,
                line: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_access_key_ids_on_boundaries_only() {
        let key = format!("AKIA{}", "IOSFODNN7EXAMPLE");
        assert_eq!(access_key_id(&format!("x = \"{key}\"")), Some(key.as_str()));
        assert_eq!(access_key_id(&format!("X{key}")), None);
        assert_eq!(access_key_id("AKIAshort"), None);
    }

    #[test]
    fn finds_secret_assignments() {
        let v = format!("wJalrXUtnFEMI/K7MDENG/{}", "bPxRfiCYEXAMPLEKEY");
        assert!(secret_assignment("aws_secret_access_key ", &format!(" \"{v}\"")).is_some());
        assert!(secret_assignment("description", &format!("\"{v}\"")).is_none());
        assert!(secret_assignment("secret_name", "\"ambra-dev\"").is_none());
    }
}
