//! Finding output: a table for people (SARIF: `crate::sarif::audit`; JSON:
//! `crate::envelope`, built in `cmd::audit`).

use super::Finding;

/// A plain-text table, one finding per line, plus a summary line.
pub fn table(findings: &[Finding]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("no findings\n");
        return out;
    }
    let w_acct = findings
        .iter()
        .map(|f| f.account.len())
        .max()
        .unwrap_or(7)
        .max(7);
    out.push_str(&format!(
        "{:<6} {:<8} {:<w_acct$} {}\n",
        "CHECK", "SEVERITY", "ACCOUNT", "MESSAGE"
    ));
    for f in findings {
        let st = f
            .statement
            .as_ref()
            .map(|s| match &s.sid {
                Some(sid) => format!(" [{}#{} {sid}]", s.document, s.index),
                None => format!(" [{}#{}]", s.document, s.index),
            })
            .unwrap_or_default();
        let at = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" ({file}:{line})"),
            (Some(file), None) => format!(" ({file})"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{:<6} {:<8} {:<w_acct$} {}{st}{at}\n",
            f.check_id,
            f.severity.to_string(),
            f.account,
            f.message
        ));
        if let Some(c) = &f.counterexample {
            out.push_str(&format!(
                "{:<6} {:<8} {:<w_acct$}   counterexample: principal={} action={} resource={}",
                "", "", "", c.principal, c.action, c.resource
            ));
            for (k, v) in &c.context {
                out.push_str(&format!(" {k}={}", v.join("|")));
            }
            out.push('\n');
        }
    }
    out.push_str(&format!("{} finding(s)\n", findings.len()));
    out
}
