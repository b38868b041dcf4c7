//! Finding output: a table for people and SARIF 2.1.0 for code-scanning UIs
//! (JSON: `crate::envelope`, built in `cmd::audit`).

use serde_json::json;

use super::{CHECKS, Check, Finding, Severity};

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

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// SARIF 2.1.0 with one rule per check and a logical location per finding.
pub fn sarif(findings: &[Finding], artifact: &str) -> String {
    let checks: Vec<Check> = CHECKS
        .iter()
        .chain(super::attributes::CHECKS)
        .copied()
        .collect();
    sarif_for("xacct audit", &checks, findings, artifact)
}

/// SARIF 2.1.0 for any tool of xacct: one rule per check in `checks`, one
/// result per finding, located in the statement's document when there is one.
pub fn sarif_for(tool: &str, checks: &[Check], findings: &[Finding], artifact: &str) -> String {
    let rules: Vec<_> = checks
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "shortDescription": {"text": c.title},
                "defaultConfiguration": {"level": level(c.severity)},
                "properties": {"severity": c.severity.to_string()}
            })
        })
        .collect();
    let results: Vec<_> = findings
        .iter()
        .map(|f| {
            let uri = f
                .file
                .clone()
                .or_else(|| f.statement.as_ref().map(|s| s.document.clone()))
                .unwrap_or_else(|| artifact.to_owned());
            let mut physical = json!({"artifactLocation": {"uri": uri}});
            if let Some(line) = f.line {
                physical["region"] = json!({"startLine": line});
            }
            json!({
                "ruleId": f.check_id,
                "ruleIndex": checks.iter().position(|c| c.id == f.check_id).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [{"name": f.resource, "kind": "resource",
                        "fullyQualifiedName": format!("{}/{}", f.account, f.resource)}]
                }],
                "properties": {"severity": f.severity.to_string(), "account": f.account,
                    "statement": f.statement, "counterexample": f.counterexample}
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool,
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
