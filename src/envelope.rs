//! The one JSON envelope of every `--format json`: built from typed structs
//! (serde), never from hand-formatted strings. Schema: `docs/schema/xacct-output-v1.json`,
//! documented in docs/output.md ("JSON output").
//!
//! ```text
//! {"schema_version": 1, "command": "<subcommand>", "environment": "<name>" | null,
//!  "summary": {"exit_code": 0|1, "findings"?: n, "by_severity"?: {...}, <counts>...},
//!  <command-specific fields>...}
//! ```
//!
//! Invariants: `summary.exit_code` is the code the process exits with (the
//! command computes it once and passes it to both); an account is always
//! `account`, a 12-digit string (or null when the source does not name one);
//! findings are always arrays of [`Finding`]; every optional field is present
//! (null) rather than left out, so each field has one type.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audit::{self, Counterexample, Severity, StatementInfo};

/// Bumped on any incompatible change of a field's name, type or meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// The envelope: common header, a summary, then the command's own fields.
#[derive(Debug, Serialize)]
pub struct Envelope<B> {
    pub schema_version: u32,
    /// The subcommand (`audit`, `verify`, ...).
    pub command: &'static str,
    /// The environment's name (`environment.name` of the spec), or null when
    /// the command ran over several environments or none.
    pub environment: Option<String>,
    pub summary: Summary,
    #[serde(flatten)]
    pub body: B,
}

impl<B: Serialize> Envelope<B> {
    pub fn new(
        command: &'static str,
        environment: Option<&str>,
        summary: Summary,
        body: B,
    ) -> Self {
        Envelope {
            schema_version: SCHEMA_VERSION,
            command,
            environment: environment.map(str::to_owned),
            summary,
            body,
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the envelope serializes");
        s.push('\n');
        s
    }

    /// Writes the JSON to stdout (nothing else may go there in `--format json`).
    pub fn print(&self) -> std::io::Result<()> {
        std::io::stdout()
            .lock()
            .write_all(self.to_json().as_bytes())
    }
}

/// Counts a script needs without reading the rest, and the exit code.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// The exit code the command returns (0 clean, 1 findings or a failed step).
    pub exit_code: u8,
    /// Number of findings (commands that report findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<usize>,
    /// Findings per severity (commands that report findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_severity: Option<BySeverity>,
    /// Command-specific counts (non-negative integers), e.g. `stale`, `written`.
    #[serde(flatten)]
    pub counts: BTreeMap<&'static str, u64>,
}

impl Summary {
    pub fn new(exit_code: u8) -> Self {
        Summary {
            exit_code,
            ..Summary::default()
        }
    }

    /// Sets `findings` and `by_severity`.
    pub fn findings(mut self, findings: &[audit::Finding]) -> Self {
        self.findings = Some(findings.len());
        self.by_severity = Some(BySeverity::of(findings));
        self
    }

    /// Adds one command-specific count.
    pub fn count(mut self, name: &'static str, n: impl TryInto<u64>) -> Self {
        self.counts.insert(name, n.try_into().unwrap_or(u64::MAX));
        self
    }
}

/// Findings per severity; every severity is present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BySeverity {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl BySeverity {
    pub fn of(findings: &[audit::Finding]) -> Self {
        let mut b = BySeverity::default();
        for f in findings {
            *match f.severity {
                Severity::Critical => &mut b.critical,
                Severity::High => &mut b.high,
                Severity::Medium => &mut b.medium,
                Severity::Low => &mut b.low,
                Severity::Info => &mut b.info,
            } += 1;
        }
        b
    }
}

/// One finding, the same shape for audit, verify and onboard --apply.
#[derive(Debug, Clone, Serialize)]
pub struct Finding<'a> {
    pub check_id: &'a str,
    /// Lowercase: `critical`, `high`, `medium`, `low`, `info`.
    pub severity: Severity,
    /// The 12-digit account the finding concerns, or null when unknown.
    pub account: Option<&'a str>,
    pub resource: &'a str,
    pub message: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<usize>,
    pub statement: Option<&'a StatementInfo>,
    pub counterexample: Option<&'a Counterexample>,
}

impl<'a> From<&'a audit::Finding> for Finding<'a> {
    fn from(f: &'a audit::Finding) -> Self {
        Finding {
            check_id: f.check_id,
            severity: f.severity,
            account: account(&f.account),
            resource: &f.resource,
            message: &f.message,
            file: f.file.as_deref(),
            line: f.line,
            statement: f.statement.as_ref(),
            counterexample: f.counterexample.as_ref(),
        }
    }
}

/// The envelope form of a list of findings.
pub fn findings(f: &[audit::Finding]) -> Vec<Finding<'_>> {
    f.iter().map(Finding::from).collect()
}

/// `#[serde(serialize_with = ...)]` for a field holding `audit::Finding`s.
pub fn serialize_findings<S: serde::Serializer>(
    f: &[audit::Finding],
    s: S,
) -> Result<S::Ok, S::Error> {
    findings(f).serialize(s)
}

/// A 12-digit account ID, or `None` for anything else (empty, a placeholder).
pub fn account(a: &str) -> Option<&str> {
    crate::contract::is_account_id(a).then_some(a)
}

/// A path as the user would type it (forward slashes).
pub fn path(p: &Path) -> String {
    p.display().to_string().replace('\\', "/")
}

/// Paths as strings.
pub fn paths(p: &[PathBuf]) -> Vec<String> {
    p.iter().map(|p| path(p)).collect()
}

/// `ExitCode` from the code written into the summary.
pub fn exit(code: u8) -> std::process::ExitCode {
    std::process::ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(sev: Severity, account: &str) -> audit::Finding {
        audit::Finding {
            check_id: "XA001",
            severity: sev,
            account: account.to_owned(),
            resource: "r".into(),
            message: "m".into(),
            statement: None,
            file: None,
            line: None,
            counterexample: None,
        }
    }

    #[test]
    fn the_envelope_has_the_header_the_summary_and_the_body_flat() {
        #[derive(Serialize)]
        struct Body<'a> {
            findings: Vec<Finding<'a>>,
        }
        let f = [
            finding(Severity::High, "100000000002"),
            finding(Severity::High, ""),
            finding(Severity::Low, "primary"),
        ];
        let e = Envelope::new(
            "audit",
            Some("dev"),
            Summary::new(1).findings(&f).count("files", 3u32),
            Body {
                findings: findings(&f),
            },
        );
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["command"], "audit");
        assert_eq!(v["environment"], "dev");
        assert_eq!(v["summary"]["exit_code"], 1);
        assert_eq!(v["summary"]["findings"], 3);
        assert_eq!(v["summary"]["files"], 3);
        assert_eq!(
            v["summary"]["by_severity"],
            serde_json::json!({"critical": 0, "high": 2, "medium": 0, "low": 1, "info": 0})
        );
        assert_eq!(v["findings"][0]["account"], "100000000002");
        assert_eq!(v["findings"][0]["severity"], "high");
        // Anything but 12 digits is null, and optional fields are present as null.
        assert!(v["findings"][1]["account"].is_null());
        assert!(v["findings"][2]["account"].is_null());
        assert!(v["findings"][0]["file"].is_null());
        assert!(v["findings"][0].get("line").is_some());
    }
}
