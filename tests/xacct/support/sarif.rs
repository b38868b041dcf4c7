//! Checks a SARIF log against the official SARIF 2.1.0 JSON schema (OASIS,
//! `tests/inputs/sarif/`, source and date in its README) and against what
//! GitHub code scanning needs to place and track an alert.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = crate::input("sarif/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(&crate::read(&path)).expect("schema is JSON");
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF 2.1.0 schema compiles")
    })
}

/// The schema's errors for `doc`, one line each (empty when valid).
pub fn schema_errors(doc: &Value) -> Vec<String> {
    validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// What code scanning needs, beyond the schema; empty when all is met.
pub fn github_errors(doc: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let mut err = |s: String| errs.push(s);
    let Some(runs) = doc["runs"].as_array() else {
        return vec!["no runs".into()];
    };
    for (r, run) in runs.iter().enumerate() {
        let driver = &run["tool"]["driver"];
        for key in ["name", "version"] {
            if driver[key].as_str().is_none_or(str::is_empty) {
                err(format!("run {r}: tool.driver.{key} missing"));
            }
        }
        let bases = run["originalUriBaseIds"].as_object();
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        let mut ids = BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            let id = rule["id"].as_str().unwrap_or_default();
            let at = format!("run {r} rule {i} ({id})");
            if id.is_empty() || !ids.insert(id.to_owned()) {
                err(format!("{at}: id missing or repeated"));
            }
            for p in [
                "/name",
                "/shortDescription/text",
                "/fullDescription/text",
                "/help/text",
                "/help/markdown",
            ] {
                if rule
                    .pointer(p)
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.trim().is_empty())
                {
                    err(format!("{at}: {p} missing or empty"));
                }
            }
            let uri = rule["helpUri"].as_str().unwrap_or_default();
            if !uri.starts_with("https://") || !uri.contains("docs/checks.md#") {
                err(format!(
                    "{at}: helpUri {uri:?} is not an anchor of docs/checks.md"
                ));
            }
            let tags: Vec<&str> = rule["properties"]["tags"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !tags.contains(&"security") {
                err(format!("{at}: tags {tags:?} lack \"security\""));
            }
            match rule["properties"]["security-severity"]
                .as_str()
                .map(str::parse::<f64>)
            {
                Some(Ok(v)) if (0.0..=10.0).contains(&v) => {}
                other => err(format!(
                    "{at}: security-severity is not a string number 0..10: {other:?}"
                )),
            }
            if !["error", "warning", "note"].contains(
                &rule["defaultConfiguration"]["level"]
                    .as_str()
                    .unwrap_or_default(),
            ) {
                err(format!("{at}: defaultConfiguration.level"));
            }
        }
        let mut prints: BTreeMap<String, usize> = BTreeMap::new();
        for (i, res) in run["results"].as_array().into_iter().flatten().enumerate() {
            let id = res["ruleId"].as_str().unwrap_or_default();
            let at = format!("run {r} result {i} ({id})");
            match res["ruleIndex"]
                .as_u64()
                .and_then(|n| rules.get(n as usize))
            {
                Some(rule) if rule["id"] == id => {}
                _ => err(format!("{at}: ruleId/ruleIndex do not name a rule")),
            }
            if !["error", "warning", "note"].contains(&res["level"].as_str().unwrap_or_default()) {
                err(format!("{at}: level"));
            }
            if res["message"]["text"].as_str().is_none_or(str::is_empty) {
                err(format!("{at}: message.text"));
            }
            let loc = &res["locations"][0]["physicalLocation"];
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap_or_default();
            if uri.is_empty() || uri.starts_with('/') || uri.contains("://") || uri.contains("..") {
                err(format!(
                    "{at}: uri {uri:?} is not relative to the repository"
                ));
            }
            let base = loc["artifactLocation"]["uriBaseId"]
                .as_str()
                .unwrap_or_default();
            if !bases.is_some_and(|b| b.contains_key(base)) {
                err(format!(
                    "{at}: uriBaseId {base:?} not in run.originalUriBaseIds"
                ));
            }
            let start = loc["region"]["startLine"].as_u64().unwrap_or(0);
            if start < 1 {
                err(format!("{at}: region.startLine {start}"));
            }
            if let Some(end) = loc["region"]["endLine"].as_u64()
                && end < start
            {
                err(format!("{at}: endLine {end} < startLine {start}"));
            }
            match res["partialFingerprints"].as_object() {
                Some(p)
                    if !p.is_empty()
                        && p.values()
                            .all(|v| v.as_str().is_some_and(|s| !s.is_empty())) =>
                {
                    let key = serde_json::to_string(p).unwrap();
                    if let Some(j) = prints.insert(key, i) {
                        err(format!("{at}: same partialFingerprints as result {j}"));
                    }
                }
                _ => err(format!("{at}: partialFingerprints missing")),
            }
        }
    }
    errs
}

/// Parses `text` as SARIF, asserts the schema and GitHub's requirements, and
/// returns the log.
pub fn check(text: &[u8]) -> Value {
    let doc: Value = serde_json::from_slice(text).unwrap_or_else(|e| {
        panic!(
            "SARIF is not JSON ({e}):\n{}",
            String::from_utf8_lossy(text)
        )
    });
    let schema = schema_errors(&doc);
    assert!(
        schema.is_empty(),
        "SARIF 2.1.0 schema:\n{}",
        schema.join("\n")
    );
    let github = github_errors(&doc);
    assert!(
        github.is_empty(),
        "code scanning requirements:\n{}",
        github.join("\n")
    );
    doc
}

/// `(ruleId, uri, startLine)` of every result.
pub fn placed(doc: &Value) -> Vec<(String, String, u64)> {
    doc["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap_or_default().to_owned(),
                loc["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                loc["region"]["startLine"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The fingerprints of every result, in order.
pub fn fingerprints(doc: &Value) -> Vec<String> {
    doc["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["partialFingerprints"].to_string())
        .collect()
}
