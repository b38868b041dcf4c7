//! Audits what ships: the committed files under `generated/<env>/` that get
//! applied, not only the documents xacct builds in memory.
//!
//! Each family of files becomes one [`Input`] with the spec's intent, so every
//! check runs on it unchanged:
//! - `policies/*.json` (the in-memory input with each document replaced by its file),
//! - the Terraform roots (`*/terraform/`, following `modules/`), read from the
//!   files by [`super::terraform`] and interpreted like a plan by [`super::plan`],
//! - the CloudFormation templates (`*/cloudformation/*.yaml`, with their
//!   per-account `parameters/<account>.json`), read by [`super::template`].
//!
//! Documents keep the file and line they were read from, so findings name them.
//! A file that cannot be read is a "cannot decide" finding (XA041); a file
//! that differs from the render is XA040 ([`drift`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::attributes::{CANNOT_DECIDE, COMMITTED_DRIFT, Place, Undecided};
use super::input::{Doc, DocLocation, Expect, Input, Lines};
use super::{Finding, plan, template, terraform};
use crate::iam::PolicyDocument;
use crate::model::Environment;
use crate::render::RenderedFile;
use crate::render::output::{self, Drift};

/// The inputs read from the committed files, and the findings about the files themselves.
#[derive(Debug, Clone, Default)]
pub struct Shipped {
    pub inputs: Vec<Input>,
    pub findings: Vec<Finding>,
}

fn cannot(account: &str, file: &str, line: Option<usize>, what: String) -> Finding {
    Finding {
        counterexample: None,
        check_id: CANNOT_DECIDE.id,
        severity: CANNOT_DECIDE.severity,
        account: account.to_owned(),
        resource: file.to_owned(),
        message: what,
        statement: None,
        file: Some(file.to_owned()),
        line,
    }
}

/// Reads the committed files of `env`: `files` are `(path, text)` of every
/// file under `dir` (paths start with `dir`).
pub fn read(dir: &str, files: &[(String, String)], env: &Environment) -> Shipped {
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    let rel: BTreeMap<String, (String, String)> = files
        .iter()
        .filter_map(|(p, t)| {
            let r = p.strip_prefix(&prefix)?.replace('\\', "/");
            Some((r, (p.clone(), t.clone())))
        })
        .collect();
    let mut out = Shipped::default();
    let primary = env.primary_account.clone();
    // The Terraform roots are read on a second thread while the policy files
    // and the templates are read on this one (independent readers, the same
    // inputs in the same order).
    let (terraform, policies, cloudformation) = std::thread::scope(|s| {
        let terraform = super::spawn(s, || terraform_input(&rel, Expect::from_env(env)));
        let policies = policies(&rel, env, &mut out.findings);
        let cloudformation = cloudformation_input(&rel, Expect::from_env(env));
        let terraform = super::joined(terraform);
        (terraform, policies, cloudformation)
    });
    out.inputs.push(policies);
    match terraform {
        Ok(Some(i)) => out.inputs.push(i),
        Ok(None) => {}
        Err((file, line, msg)) => out.findings.push(cannot(&primary, &file, line, msg)),
    }
    match cloudformation {
        Ok(Some(i)) => out.inputs.push(i),
        Ok(None) => {}
        Err((file, msg)) => out.findings.push(cannot(&primary, &file, None, msg)),
    }
    out
}

/// Every document of an input with its name, mutable.
fn docs_mut(input: &mut Input) -> Vec<&mut Doc> {
    let mut v: Vec<&mut Doc> = Vec::new();
    v.extend(input.lambda_trust.iter_mut());
    v.extend(input.lambda_execution.iter_mut());
    for s in &mut input.storage {
        v.extend(s.trust.iter_mut());
        v.extend(s.management.iter_mut());
    }
    v.extend(input.bucket_policies.iter_mut().map(|b| &mut b.doc));
    v.extend(input.function_url_policy.iter_mut());
    v.extend(input.other_docs.iter_mut());
    v
}

/// `policies/*.json`: the spec's documents, each replaced by its committed file.
fn policies(
    rel: &BTreeMap<String, (String, String)>,
    env: &Environment,
    findings: &mut Vec<Finding>,
) -> Input {
    let mut input = Input::from_env(env);
    let known: Vec<String> = docs_mut(&mut input)
        .iter()
        .map(|d| d.name.clone())
        .collect();
    for (r, (display, text)) in rel.range("policies/".to_owned()..) {
        if !r.starts_with("policies/") {
            break;
        }
        if !r.ends_with(".json") {
            continue;
        }
        let doc = match PolicyDocument::from_json(text) {
            Ok(d) => d,
            Err(e) => {
                findings.push(cannot(
                    &env.primary_account,
                    display,
                    None,
                    format!("{display} is not a valid IAM policy document ({e}): cannot decide what it allows"),
                ));
                continue;
            }
        };
        input.locations.insert(
            r.clone(),
            DocLocation::in_text(display, text, 1, doc.statement.len()),
        );
        if known.contains(r) {
            for d in docs_mut(&mut input).into_iter().filter(|d| &d.name == r) {
                d.doc = doc.clone();
            }
        } else {
            input.other_docs.push(Doc {
                name: r.clone(),
                account: env.primary_account.clone(),
                doc,
            });
        }
    }
    input
}

/// The Terraform roots: every folder with `.tf` files outside `modules/`.
fn terraform_input(
    rel: &BTreeMap<String, (String, String)>,
    expect: Expect,
) -> Result<Option<Input>, (String, Option<usize>, String)> {
    let mut roots: Vec<String> = rel
        .keys()
        .filter(|r| r.ends_with(".tf") && !r.split('/').any(|p| p == "modules"))
        .filter_map(|r| r.rsplit_once('/').map(|(d, _)| d.to_owned()))
        .collect();
    roots.dedup();
    if roots.is_empty() {
        return Ok(None);
    }
    let texts: BTreeMap<&str, &str> = rel
        .values()
        .map(|(d, t)| (d.as_str(), t.as_str()))
        .collect();
    let mut plans = Vec::new();
    let mut read = Vec::new();
    for root in &roots {
        let label = rel
            .iter()
            .find(|(r, _)| r.starts_with(&format!("{root}/")))
            .and_then(|(_, (d, _))| d.rsplit_once('/').map(|(dir, _)| dir.to_owned()))
            .unwrap_or_else(|| root.clone());
        let mut r = terraform::read_root(rel, root).map_err(|e| {
            (
                e.file.clone(),
                None,
                format!("{e}: cannot decide what it allows"),
            )
        })?;
        // The plan is only read once, by `input_from_plans`: moved, not copied.
        plans.push((label.clone(), std::mem::take(&mut r.plan)));
        read.push((label, r));
    }
    let mut input = plan::input_from_plans(plans, Some(expect)).map_err(|e| {
        (
            roots.join(", "),
            None,
            format!("{e}: cannot decide what it allows"),
        )
    })?;
    // Where each document and resource is written.
    let mut by_name: BTreeMap<String, (&terraform::Origin, &str)> = BTreeMap::new();
    for (label, r) in &read {
        for (addr, o) in &r.origins {
            by_name.insert(format!("{label}:{addr}"), (o, addr.as_str()));
        }
    }
    let mut locations = BTreeMap::new();
    for d in docs_mut(&mut input) {
        let Some((o, _)) = by_name.get(&d.name) else {
            continue;
        };
        let attr = o
            .attributes
            .get("assume_role_policy")
            .or_else(|| o.attributes.get("policy"));
        if let Some((file, line)) = attr {
            let text = texts.get(file.as_str()).copied().unwrap_or_default();
            locations.insert(
                d.name.clone(),
                DocLocation::in_text(file, text, *line, d.doc.statement.len()),
            );
        }
    }
    input.locations.extend(locations);
    let place_of = |p: &mut Place| {
        if let Some((o, _)) = by_name.get(&p.name) {
            p.file = Some(o.file.clone());
            p.line = Some(o.line);
        }
    };
    for b in &mut input.buckets {
        place_of(&mut b.place);
        b.settings_at.iter_mut().for_each(|(_, p)| place_of(p));
    }
    // Each file split into lines once (a module's file holds the settings of
    // every storage account's instance).
    let mut split: BTreeMap<String, Lines<'_>> = BTreeMap::new();
    for r in &mut input.settings {
        place_of(&mut r.place);
        let (Some(file), Some(line)) = (r.place.file.clone(), r.place.line) else {
            continue;
        };
        let text = split
            .entry(file)
            .or_insert_with_key(|f| Lines::new(texts.get(f.as_str()).copied().unwrap_or_default()));
        r.lines = super::settings::entry(&r.resource_type)
            .map(|e| e.attrs)
            .unwrap_or_default()
            .iter()
            .filter_map(|a| Some((a.name, block_line_of(text, line, a.path)?)))
            .collect();
    }
    input
        .url_cors
        .iter_mut()
        .for_each(|c| place_of(&mut c.place));
    input
        .permissions
        .iter_mut()
        .for_each(|p| place_of(&mut p.place));
    input
        .undecided
        .iter_mut()
        .for_each(|u| place_of(&mut u.place));
    let sources: Vec<String> = input
        .function_url_auth
        .iter()
        .map(|(src, _)| src.clone())
        .collect();
    for src in sources {
        if let Some((o, _)) = by_name.get(&src) {
            let line = o.attributes.get("authorization_type").map(|(_, l)| *l);
            input
                .sources
                .insert(src, (o.file.clone(), line.or(Some(o.line))));
        }
    }
    let primary = input.expect.primary_account.clone();
    for (label, r) in &read {
        for (addr, attr, file, line) in &r.unknown_policies {
            input.undecided.push(Undecided {
                place: Place::at(format!("{label}:{addr}"), file, Some(*line)),
                account: primary.clone(),
                what: format!(
                    "{addr}.{attr} is computed (not a literal, local or variable xacct can read): cannot decide what it allows; review by hand or audit a plan"
                ),
                check: Some(CANNOT_DECIDE.id),
            });
        }
    }
    Ok(Some(input))
}

/// The CloudFormation templates: `*/cloudformation/*.{yaml,yml,json,template}`;
/// a template with `parameters/<account>.json` beside it is read once per account.
fn cloudformation_input(
    rel: &BTreeMap<String, (String, String)>,
    expect: Expect,
) -> Result<Option<Input>, (String, String)> {
    let mut sources = Vec::new();
    for (r, (display, text)) in rel {
        let Some((dir, name)) = r.rsplit_once('/') else {
            continue;
        };
        let is_template = dir.split('/').next_back() == Some("cloudformation")
            && [".yaml", ".yml", ".json", ".template"]
                .iter()
                .any(|e| name.ends_with(e));
        if !is_template {
            continue;
        }
        let mut per_account = Vec::new();
        for acct in &expect.storage_accounts {
            if let Some((pd, pt)) = rel.get(&format!("{dir}/parameters/{acct}.json")) {
                let params =
                    template::parse_parameters(pd, pt).map_err(|e| (pd.clone(), e.to_string()))?;
                per_account.push((acct.clone(), params));
            }
        }
        let base = template::Source {
            file: display.clone(),
            text: text.as_str().into(),
            ..template::Source::default()
        };
        if per_account.is_empty() {
            sources.push(base);
        } else {
            for (acct, params) in per_account {
                sources.push(template::Source {
                    account: Some(acct),
                    parameters: params,
                    ..base.clone()
                });
            }
        }
    }
    if sources.is_empty() {
        return Ok(None);
    }
    template::input_from_templates(&sources, Some(expect))
        .map(Some)
        .map_err(|e| {
            let file = match &e {
                template::TemplateError::Syntax { file, .. }
                | template::TemplateError::Shape { file, .. }
                | template::TemplateError::Policy { file, .. } => file.clone(),
            };
            (file, format!("{e}: cannot decide what it allows"))
        })
}

/// XA040 for every committed file that differs from the render of the spec.
pub fn drift(dir: &Path, rendered: &[RenderedFile], account: &str, spec: &str) -> Vec<Finding> {
    output::check(dir, rendered)
        .into_iter()
        .map(|d| {
            let file = d.path().display().to_string();
            let (line, what) = match &d {
                Drift::Missing(_) => (None, "is missing: nothing of it is audited or applied as rendered".to_owned()),
                Drift::Orphan(_) => (None, "is no longer rendered but still committed (orphan)".to_owned()),
                Drift::Stale { path, .. } => {
                    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
                    let want = rendered
                        .iter()
                        .find(|f| dir.join(&f.path) == *path)
                        .map(|f| f.contents.as_str())
                        .unwrap_or_default();
                    let line = first_difference(&on_disk, want);
                    (
                        Some(line),
                        format!("differs from what xacct renders from the spec (first difference at line {line}): hand-edited or stale"),
                    )
                }
            };
            Finding {
counterexample: None,
                check_id: COMMITTED_DRIFT.id,
                severity: COMMITTED_DRIFT.severity,
                account: account.to_owned(),
                resource: file.clone(),
                message: format!(
                    "{file} {what}; run `xacct render --env {spec}` and review the diff (`xacct render --check`)"
                ),
                statement: None,
                file: Some(file),
                line,
            }
        })
        .collect()
}

/// 1-based number of the first line where `a` and `b` differ.
pub fn first_difference(a: &str, b: &str) -> usize {
    let mut al = a.lines();
    let mut bl = b.lines();
    let mut n = 1;
    loop {
        match (al.next(), bl.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => return n,
            _ => return n,
        }
    }
}

/// 1-based line of the attribute at JSON pointer `path` inside the Terraform
/// block that starts at `line` (each non-index part of the path is searched
/// in turn, within the block), else the deepest part found.
fn block_line_of(text: &Lines<'_>, line: usize, path: &str) -> Option<usize> {
    let lines = text.all();
    let end = (line..lines.len())
        .find(|&i| lines[i] == "}")
        .map_or(lines.len(), |i| i + 1);
    let mut at = line;
    let mut found = None;
    for part in path
        .split('/')
        .filter(|p| !p.is_empty() && p.parse::<usize>().is_err())
    {
        let hit = (at..end).find(|&i| {
            let t = lines[i].trim_start();
            t.strip_prefix(part)
                .is_some_and(|rest| rest.starts_with([' ', '=', '{']))
        });
        match hit {
            Some(i) => {
                at = i + 1;
                found = Some(i + 1);
            }
            None => break,
        }
    }
    found
}

/// Every check of each committed-file input, merged with the spec input's
/// findings `spec` (decided by [`super::run_with_rendered`] against
/// `floor.documents`, on another thread while the committed files were read).
/// A finding of the spec's input that a file input also has (same check,
/// account, resource and message) is reported once, with the file's location.
pub fn merge(spec: Vec<Finding>, shipped: &Shipped, floor: &super::Floor) -> Vec<Finding> {
    let mut files: Vec<Finding> = shipped.findings.clone();
    // Each source on a thread of its own (their questions are mostly answered
    // already; what is left is per-account work), joined in order.
    std::thread::scope(|s| {
        let audits: Vec<_> = shipped
            .inputs
            .iter()
            .map(|i| super::spawn(s, || super::run_with_floor(i, floor)))
            .collect();
        for a in audits {
            files.extend(super::joined(a));
        }
    });
    let key = |f: &Finding| {
        (
            f.check_id,
            f.account.clone(),
            f.resource.clone(),
            f.message.clone(),
        )
    };
    let seen: std::collections::BTreeSet<_> = files.iter().map(key).collect();
    let mut all: Vec<Finding> = spec
        .into_iter()
        .filter(|f| !seen.contains(&key(f)))
        .collect();
    all.extend(files);
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.check_id.cmp(b.check_id))
            .then(a.account.cmp(&b.account))
            .then(a.file.cmp(&b.file))
            .then(a.line.cmp(&b.line))
    });
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_counts_lines() {
        assert_eq!(first_difference("a\nb\nc\n", "a\nx\nc\n"), 2);
        assert_eq!(first_difference("a\n", "a\nb\n"), 2);
        assert_eq!(first_difference("a\n", "a\n"), 2);
    }
}
