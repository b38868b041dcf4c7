//! SARIF 2.1.0 for GitHub code scanning, shared by `xacct audit` and
//! `xacct verify`: every result is placed in the file that governs it,
//! relative to the repository root, on a line, with a stable fingerprint; every
//! rule says what it checks, how severe it is and what to do.
//!
//! - **Repository root**: the nearest ancestor of the first input file (the
//!   spec, else the first plan or template) that contains `.git` (a directory,
//!   or the file of a worktree or submodule), i.e. git's toplevel; else the
//!   current directory. Paths are made absolute (against the current directory)
//!   and canonical before they are made relative, so absolute arguments and runs
//!   from a subdirectory give the same URIs. A file outside the root keeps an
//!   absolute `file://` URI without `uriBaseId` (code scanning cannot place it).
//! - **Where**: a finding's own file and line (rendered files, templates, the
//!   committed tree, plans); a plan resource in the generated `.tf` that
//!   declares it when that file is found, else the plan file at the line of
//!   its address, else line 1; a template value at its resource; verify's live
//!   findings at the spec field (or the generated policy) that governs them.
//! - **Fingerprint**: SHA-256 of check ID, account, resource and message with
//!   paths made relative and line numbers removed, plus an ordinal for
//!   otherwise identical findings.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::audit::Finding;
use crate::checks::{self, Check, Kind, Severity, SpecAt};

/// The `uriBaseId` of every relative URI.
pub const SRCROOT: &str = "%SRCROOT%";

/// The key of [`fingerprint`] in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "xacctFinding/v1";

/// The page the rules' `helpUri` point into (anchors of the check-ID tables).
/// `package.repository` in Cargo.toml, when set, takes precedence.
const CHECKS_URL: &str = "https://github.com/xacct/xacct/blob/main/docs/checks.md";

/// The repository (`package.repository`), where the README introduces xacct.
fn home_url() -> String {
    let repo = env!("CARGO_PKG_REPOSITORY");
    if repo.is_empty() {
        CHECKS_URL
            .trim_end_matches("/blob/main/docs/checks.md")
            .to_owned()
    } else {
        repo.trim_end_matches('/').to_owned()
    }
}

fn checks_url() -> String {
    let repo = env!("CARGO_PKG_REPOSITORY");
    if repo.is_empty() {
        CHECKS_URL.to_owned()
    } else {
        format!("{}/blob/main/docs/checks.md", repo.trim_end_matches('/'))
    }
}

/// GitHub's `security-severity` (0.0-10.0; >= 9 critical, >= 7 high, >= 4 medium).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// SARIF `level`: critical and high are errors, medium warnings, the rest notes.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The files a run read: they locate findings that carry no file of their own.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The environment spec (`--env`).
    pub spec: Option<PathBuf>,
    /// The rendered files of the environment (`<generated>/<short_name>`).
    pub generated: Option<PathBuf>,
    /// Terraform plan JSON files (`--plan`).
    pub plans: Vec<PathBuf>,
    /// CloudFormation templates (`--template`).
    pub templates: Vec<PathBuf>,
    /// Findings about deployed resources (`xacct verify`).
    pub live: bool,
    /// `run.automationDetails.id` (`xacct/audit/dev/`): code scanning's category,
    /// so the SARIF files of several environments can be uploaded together.
    pub category: Option<String>,
}

/// The repository root for `start` (a file or directory): the nearest ancestor
/// holding `.git`, else the current directory. Canonical.
pub fn repo_root(start: Option<&Path>) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    if let Some(start) = start {
        let abs = absolute(&cwd, start);
        for dir in abs.ancestors() {
            if dir.join(".git").exists() {
                return dir.to_owned();
            }
        }
    }
    absolute(&cwd, &cwd)
}

/// `path` made absolute against `cwd`, canonical when it exists, else normalized.
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    if let Ok(c) = joined.canonicalize() {
        return c;
    }
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Percent-encodes a path for a URI (RFC 3986 unreserved characters and `/` kept).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 1-based line of byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A place in a file: absolute path, 1-based lines.
#[derive(Debug, Clone, PartialEq)]
struct Place {
    path: PathBuf,
    start: usize,
    end: Option<usize>,
}

/// A plan's Terraform root directory and its module directories by module path.
type PlanRoot = Option<(PathBuf, BTreeMap<String, PathBuf>)>;

/// Finds where each finding goes; caches the files it reads.
struct Locator {
    cwd: PathBuf,
    root: PathBuf,
    sources: Sources,
    texts: BTreeMap<PathBuf, Option<String>>,
    /// Per plan file: its Terraform root directory and the module directories by module path.
    plan_roots: BTreeMap<PathBuf, PlanRoot>,
}

impl Locator {
    fn new(sources: Sources) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let first = sources
            .spec
            .clone()
            .or_else(|| sources.plans.first().cloned())
            .or_else(|| sources.templates.first().cloned());
        let root = repo_root(first.as_deref());
        Locator {
            cwd,
            root,
            sources,
            texts: BTreeMap::new(),
            plan_roots: BTreeMap::new(),
        }
    }

    fn abs(&self, p: &Path) -> PathBuf {
        absolute(&self.cwd, p)
    }

    fn text(&mut self, p: &Path) -> Option<&str> {
        self.texts
            .entry(p.to_owned())
            .or_insert_with(|| std::fs::read_to_string(p).ok())
            .as_deref()
    }

    /// `(uri, uriBaseId)`: relative to the root when inside it, else a `file://` URI.
    fn uri(&self, abs: &Path) -> (String, Option<&'static str>) {
        match abs.strip_prefix(&self.root) {
            Ok(rel) => {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                (encode(&parts.join("/")), Some(SRCROOT))
            }
            Err(_) => (
                format!(
                    "file://{}",
                    encode(&abs.to_string_lossy().replace('\\', "/"))
                ),
                None,
            ),
        }
    }

    fn root_uri(&self) -> String {
        let mut s = format!(
            "file://{}",
            encode(&self.root.to_string_lossy().replace('\\', "/"))
        );
        if !s.ends_with('/') {
            s.push('/');
        }
        s
    }

    /// The 1-based line of the first line of `path` containing `needle`.
    fn find_line(&mut self, path: &Path, needle: &str) -> Option<usize> {
        if needle.is_empty() {
            return None;
        }
        let text = self.text(path)?;
        text.lines().position(|l| l.contains(needle)).map(|n| n + 1)
    }

    fn locate(&mut self, f: &Finding) -> Place {
        if let Some(file) = &f.file {
            let path = self.abs(Path::new(file));
            if self.is_plan(&path) {
                let address = plan_address(file, &f.resource).or_else(|| {
                    f.message
                        .strip_prefix(&format!("{file}:"))
                        .map(|r| r.split([':', ' ']).next().unwrap_or_default().to_owned())
                });
                if let Some(p) = address.and_then(|a| self.plan_place(&path, &a)) {
                    return p;
                }
            }
            let start = match f.line {
                Some(l) => Some(l),
                None => self.find_line(&path, &f.resource),
            };
            return Place {
                path,
                start: start.unwrap_or(1).max(1),
                end: None,
            };
        }
        // A value of a plan (`<plan>:<address>`) or a template (`<template>#<id>`).
        for plan in self.sources.plans.clone() {
            let display = plan.display().to_string();
            if let Some(address) = plan_address(&display, &f.resource) {
                let path = self.abs(&plan);
                return self.plan_place(&path, &address).unwrap_or(Place {
                    path,
                    start: 1,
                    end: None,
                });
            }
        }
        for template in self.sources.templates.clone() {
            let display = template.display().to_string();
            let id = [&f.resource, &f.message]
                .iter()
                .find_map(|s| s.strip_prefix(&format!("{display}#")))
                .map(|r| {
                    r.split(|c: char| !c.is_ascii_alphanumeric())
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                });
            if let Some(id) = id {
                let path = self.abs(&template);
                let start = self
                    .text(&path)
                    .and_then(|t| template_resource_line(t, &id))
                    .unwrap_or(1);
                return Place {
                    path,
                    start,
                    end: None,
                };
            }
        }
        if let Some(p) = self.live_place(f) {
            return p;
        }
        if let Some(p) = self.prefixed_place(f) {
            return p;
        }
        if let Some(spec) = self.sources.spec.clone() {
            let path = self.abs(&spec);
            let (start, end) = self
                .text(&path)
                .and_then(Spec::parse)
                .and_then(|s| s.account(&f.account))
                .map_or((1, None), |(s, e)| (s, Some(e)));
            return Place { path, start, end };
        }
        let any = self
            .sources
            .plans
            .first()
            .or(self.sources.templates.first())
            .cloned()
            .unwrap_or_default();
        let path = self.abs(&any);
        let start = self.find_line(&path, &f.resource).unwrap_or(1);
        Place {
            path,
            start,
            end: None,
        }
    }

    /// A place named `<file>:<address>` or `<file>#<id>` (values read from the
    /// committed Terraform or templates): the file, at the resource.
    fn prefixed_place(&mut self, f: &Finding) -> Option<Place> {
        for text in [&f.resource, &f.message] {
            for (i, _) in text.match_indices([':', '#']) {
                let prefix = &text[..i];
                let rest = &text[i + 1..];
                if prefix.is_empty() || prefix.contains(' ') {
                    break;
                }
                let path = self.abs(Path::new(prefix));
                let item = rest
                    .split([' ', ':', '#', '`'])
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(['.', ',']);
                if path.is_dir() {
                    let (_, kind, name) = split_address(item)?;
                    return self.tf_resource(&path, &kind, &name);
                }
                if !path.is_file() {
                    continue;
                }
                if self.is_plan(&path)
                    && let Some(p) = self.plan_place(&path, item)
                {
                    return Some(p);
                }
                if path.extension().is_some_and(|e| e == "tf")
                    && let Some((_, kind, name)) = split_address(item)
                    && let Some(p) = path
                        .parent()
                        .map(Path::to_owned)
                        .and_then(|d| self.tf_resource(&d, &kind, &name))
                {
                    return Some(p);
                }
                let start = if item.is_empty() {
                    None
                } else {
                    self.text(&path)
                        .and_then(|t| template_resource_line(t, item))
                };
                return Some(Place {
                    path,
                    start: start.unwrap_or(1),
                    end: None,
                });
            }
        }
        None
    }

    fn is_plan(&self, abs: &Path) -> bool {
        self.sources.plans.iter().any(|p| self.abs(p) == abs)
    }

    /// A plan resource: the `resource` block of the generated `.tf` that declares
    /// it, else the line of its address in the plan file.
    fn plan_place(&mut self, plan: &Path, address: &str) -> Option<Place> {
        let (modules, kind, name) = split_address(address)?;
        if let Some((root, dirs)) = self.plan_root(plan) {
            let dir = if modules.is_empty() {
                Some(root)
            } else {
                dirs.get(&modules.join(".")).cloned()
            };
            if let Some(p) = dir.and_then(|d| self.tf_resource(&d, &kind, &name)) {
                return Some(p);
            }
        }
        let start = self.find_line(plan, &format!("\"address\":\"{address}\""))?;
        Some(Place {
            path: plan.to_owned(),
            start,
            end: None,
        })
    }

    /// The `resource "kind" "name"` block in the `.tf` files of `dir`.
    fn tf_resource(&mut self, dir: &Path, kind: &str, name: &str) -> Option<Place> {
        let head = format!("resource \"{kind}\" \"{name}\"");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        files.sort();
        for file in files {
            let Some(text) = self.text(&file) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            if let Some(i) = lines.iter().position(|l| l.trim_start().starts_with(&head)) {
                let end = lines[i..]
                    .iter()
                    .position(|l| l.trim_end() == "}")
                    .map(|n| i + n + 1);
                return Some(Place {
                    path: file,
                    start: i + 1,
                    end,
                });
            }
        }
        None
    }

    /// The Terraform root a plan was made from: among the generated roots of
    /// the environment and the plan file's directory, the one declaring the most
    /// of the plan's root-module resources; its module directories from the
    /// plan's `configuration` (`module_calls[].source`).
    fn plan_root(&mut self, plan: &Path) -> PlanRoot {
        if let Some(r) = self.plan_roots.get(plan) {
            return r.clone();
        }
        let found = self.find_plan_root(plan);
        self.plan_roots.insert(plan.to_owned(), found.clone());
        found
    }

    fn find_plan_root(&mut self, plan: &Path) -> PlanRoot {
        let value: Value = serde_json::from_str(self.text(plan)?).ok()?;
        let config = value.pointer("/configuration/root_module")?;
        let resources: Vec<(String, String)> = config
            .get("resources")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|r| r.get("mode").and_then(Value::as_str) != Some("data"))
                    .filter_map(|r| {
                        Some((
                            r.get("type")?.as_str()?.to_owned(),
                            r.get("name")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut candidates = Vec::new();
        if let Some(g) = &self.sources.generated {
            let g = self.abs(g);
            for side in ["primary", "storage"] {
                candidates.push(g.join(side).join("terraform"));
            }
        }
        if let Some(dir) = plan.parent() {
            candidates.push(dir.to_owned());
        }
        let mut best: Option<(usize, PathBuf)> = None;
        for dir in candidates.into_iter().filter(|d| d.is_dir()) {
            let score = resources
                .iter()
                .filter(|(k, n)| self.tf_resource(&dir, k, n).is_some())
                .count();
            if score > 0 && best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, dir));
            }
        }
        let (_, root) = best?;
        let mut modules = BTreeMap::new();
        walk_modules(config, &root, "", &mut modules);
        Some((root, modules))
    }

    /// Verify's live findings: the spec field, or the generated policy, that governs them.
    fn live_place(&mut self, f: &Finding) -> Option<Place> {
        if !self.sources.live {
            return None;
        }
        let check = crate::checks::by_id(f.check_id);
        if let (Some(name), Some(g)) =
            (check.and_then(|c| c.policy), self.sources.generated.clone())
        {
            let path = self.abs(&g.join("policies").join(name));
            if path.is_file() {
                return Some(Place {
                    path,
                    start: 1,
                    end: None,
                });
            }
        }
        let spec = self.abs(self.sources.spec.clone()?.as_path());
        let s = Spec::parse(self.text(&spec)?)?;
        let field = check
            .map_or(&[][..], |c| c.spec)
            .iter()
            .find_map(|at| match *at {
                SpecAt::Key(section, key) => s.key(section, key),
                SpecAt::Table(section) => s.table(section),
                SpecAt::Account => s.account(&f.account),
            });
        let (start, end) = field
            .or_else(|| s.account(&f.account))
            .map_or((1, None), |(a, b)| (a, Some(b)));
        Some(Place {
            path: spec,
            start,
            end,
        })
    }
}

/// The module directories of a plan's configuration, by module path (`a.b`).
fn walk_modules(module: &Value, dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) {
    let Some(calls) = module.get("module_calls").and_then(Value::as_object) else {
        return;
    };
    for (name, call) in calls {
        let Some(source) = call.get("source").and_then(Value::as_str) else {
            continue;
        };
        if !source.starts_with('.') {
            continue; // a registry or git module: not in the repository
        }
        let sub = absolute(dir, Path::new(source));
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if let Some(inner) = call.get("module") {
            walk_modules(inner, &sub, &path, out);
        }
        out.insert(path, sub);
    }
}

/// `(module names, type, name)` of `module.a["x"].module.b.aws_x.y[0]`.
fn split_address(address: &str) -> Option<(Vec<String>, String, String)> {
    let strip = |s: &str| s.split('[').next().unwrap_or(s).to_owned();
    let parts: Vec<&str> = address.split('.').collect();
    let mut modules = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == "module" {
        modules.push(strip(parts[i + 1]));
        i += 2;
    }
    if parts.get(i) == Some(&"data") {
        return None;
    }
    let kind = *parts.get(i)?;
    let name = *parts.get(i + 1)?;
    Some((modules, strip(kind), strip(name)))
}

/// The address in `<plan>:<address>` (a plan place name), when `s` starts with `plan:`.
fn plan_address(plan: &str, s: &str) -> Option<String> {
    let rest = s.strip_prefix(plan)?.strip_prefix(':')?;
    let address = rest
        .split([' ', ':'])
        .next()
        .unwrap_or_default()
        .trim_end_matches(['.', ',']);
    (!address.is_empty() && !address.bytes().all(|b| b.is_ascii_digit()))
        .then(|| address.to_owned())
}

/// The line of a template's logical resource `id` (`  Id:` in YAML, `"Id":` in JSON).
fn template_resource_line(text: &str, id: &str) -> Option<usize> {
    let yaml = format!("{id}:");
    let json = format!("\"{id}\"");
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(&yaml)
                || (t.starts_with(&json) && t[json.len()..].trim_start().starts_with(':'))
        })
        .map(|n| n + 1)
}

/// An environment spec with spans: the lines of its fields.
struct Spec<'a> {
    text: &'a str,
    doc: toml_edit::Document<&'a str>,
}

impl<'a> Spec<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        Some(Spec {
            text,
            doc: toml_edit::Document::parse(text).ok()?,
        })
    }

    fn lines(&self, span: std::ops::Range<usize>) -> (usize, usize) {
        (
            line_of(self.text, span.start),
            line_of(self.text, span.end.saturating_sub(1).max(span.start)),
        )
    }

    /// `[section] key = ...`: the key's first line to the value's last.
    fn key(&self, section: &str, key: &str) -> Option<(usize, usize)> {
        let table = self.doc.as_item().get(section)?.as_table_like()?;
        let (k, v) = table.get_key_value(key)?;
        let start = k.span()?.start;
        let end = v.span().map_or(start + 1, |s| s.end);
        Some(self.lines(start..end))
    }

    /// A `[section]` header.
    fn table(&self, section: &str) -> Option<(usize, usize)> {
        let span = self.doc.as_item().get(section)?.as_table()?.span()?;
        let (s, _) = self.lines(span);
        Some((s, s))
    }

    /// The entry naming `account`: in `storage.accounts`, else `primary_account`, else `phr.account`.
    fn account(&self, account: &str) -> Option<(usize, usize)> {
        if account.is_empty() {
            return None;
        }
        let storage = self
            .doc
            .as_item()
            .get("storage")
            .and_then(|s| s.get("accounts"))
            .and_then(|a| a.as_array());
        if let Some(a) = storage
            && let Some(v) = a.iter().find(|v| v.as_str() == Some(account))
            && let Some(span) = v.span()
        {
            return Some(self.lines(span));
        }
        let is = |sec: &str, key: &str| {
            self.doc
                .as_item()
                .get(sec)
                .and_then(|s| s.get(key))
                .and_then(|v| v.as_str())
                == Some(account)
        };
        if is("environment", "primary_account") {
            return self.key("environment", "primary_account");
        }
        if is("phr", "account") {
            return self.key("phr", "account");
        }
        None
    }
}

/// The stable text of a finding: paths as their URIs, no line numbers.
/// `text` with every path the run read written as its URI (`paths`: longest first).
fn relative(text: &str, paths: &[(String, String)]) -> String {
    let mut s = text.to_owned();
    for (display, uri) in paths {
        if display != uri && (display.contains('/') || display.contains('.')) {
            s = s.replace(display.as_str(), uri);
        }
    }
    s
}

fn stable(text: &str, paths: &[(String, String)]) -> String {
    let s = relative(text, paths);
    // `<uri>:<line>` -> `<uri>`; `line <n>` -> `line`.
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find(':') {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let digits = tail[1..].bytes().take_while(u8::is_ascii_digit).count();
        let after_path = paths.iter().any(|(_, uri)| out.ends_with(uri.as_str()));
        if digits > 0 && after_path {
            rest = &tail[1 + digits..];
        } else {
            out.push(':');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    let words: Vec<&str> = out.split(' ').collect();
    let mut kept: Vec<String> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let digits = w.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && i > 0 && words[i - 1] == "line" {
            kept.push(format!("N{}", &w[digits..]));
        } else {
            kept.push((*w).to_owned());
        }
    }
    kept.join(" ")
}

/// A finding's fingerprint: SHA-256 (hex) of its check ID, account, and stable resource and message.
pub fn fingerprint(check_id: &str, account: &str, resource: &str, message: &str) -> String {
    let mut h = Sha256::new();
    for part in [check_id, account, resource, message] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A rule's friendly name: the title's words in PascalCase (at most 8).
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rule(c: &Check, severity_note: &str) -> Value {
    let fix = c.remedy;
    let url = format!("{}#{}", checks_url(), c.anchor);
    json!({
        "id": c.id,
        "name": rule_name(c.title),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": format!(
            "{}. Severity {} (security-severity {}){severity_note}. {}",
            c.title.trim_end_matches('.'),
            c.severity,
            security_severity(c.severity),
            if c.kind == Kind::Verify {
                "Found by `xacct verify` in what is deployed, compared with what xacct renders."
            } else {
                "Found offline by `xacct audit` in the IAM documents, committed files, templates or plans (and by `xacct verify` on the live documents)."
            }
        )},
        "help": {
            "text": format!("{fix}\nSee {url}"),
            "markdown": format!("**{}** ({}): {}\n\n**What to do:** {fix}\n\nWhere the result points into `generated/`, change the spec or the templates and run `xacct render`: hand edits are XA040. See [{}]({url}).", c.id, c.severity, c.title, c.id),
        },
        "helpUri": url,
        "defaultConfiguration": {"level": level(c.severity)},
        "properties": {
            "tags": ["security", "iam", "aws"],
            "security-severity": security_severity(c.severity),
            "precision": "very-high",
            "severity": c.severity.to_string(),
        }
    })
}

/// SARIF 2.1.0 of `xacct audit`: one rule per audit check; `sources` are the
/// files the run read.
pub fn audit(findings: &[Finding], sources: Sources) -> String {
    let checks: Vec<Check> = checks::audit::CHECKS
        .iter()
        .chain(checks::attributes::CHECKS)
        .chain(checks::settings::CHECKS)
        .copied()
        .collect();
    log("xacct audit", &checks, findings, sources)
}

/// SARIF 2.1.0 of `xacct verify`: one rule per `XV` and `XA` policy check; live
/// findings are placed at the spec field or generated policy that governs them.
pub fn verify(r: &crate::verify::Report, spec: &Path, generated: Option<&Path>) -> String {
    let all: Vec<Check> = checks::verify::CHECKS
        .iter()
        .chain(checks::audit::CHECKS)
        .chain(checks::attributes::CHECKS)
        .chain(checks::settings::CHECKS)
        .copied()
        .collect();
    let sources = Sources {
        spec: Some(spec.to_owned()),
        generated: generated.map(Path::to_owned),
        live: true,
        category: Some(format!("xacct/verify/{}/", r.environment)),
        ..Default::default()
    };
    log("xacct verify", &all, &r.findings, sources)
}

/// A SARIF 2.1.0 log of one run of `tool` with one rule per check and one
/// result per finding, placed as the module documentation says.
pub fn log(tool: &str, checks: &[Check], findings: &[Finding], sources: Sources) -> String {
    let live = sources.live;
    let category = sources
        .category
        .clone()
        .unwrap_or_else(|| format!("{}/", tool.replace(' ', "/")));
    let mut loc = Locator::new(sources);
    let rules: Vec<Value> = checks
        .iter()
        .map(|c| {
            rule(
                c,
                if live && c.kind == Kind::Audit {
                    ", on the live documents"
                } else {
                    ""
                },
            )
        })
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut results = Vec::new();
    for f in findings {
        let place = loc.locate(f);
        let (uri, base) = loc.uri(&place.path);
        // Every path the texts may name, with the URI it stands for.
        let mut paths: Vec<(String, String)> = Vec::new();
        if let Some(file) = &f.file {
            paths.push((file.clone(), uri.clone()));
        }
        let src = loc.sources.clone();
        for p in src
            .plans
            .iter()
            .chain(&src.templates)
            .chain(&src.spec)
            .chain(&src.generated)
        {
            let (u, _) = loc.uri(&loc.abs(p));
            paths.push((p.display().to_string(), u));
        }
        paths.push((uri.clone(), uri.clone()));
        paths.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
        let base_print = fingerprint(
            f.check_id,
            &f.account,
            &stable(&f.resource, &paths),
            &stable(&f.message, &paths),
        );
        let n = seen.entry(base_print.clone()).or_insert(0);
        *n += 1;
        let print = if *n == 1 {
            base_print
        } else {
            fingerprint(&base_print, "", &n.to_string(), "")
        };
        let mut artifact = json!({"uri": uri});
        if let Some(b) = base {
            artifact["uriBaseId"] = json!(b);
        }
        let mut region = json!({"startLine": place.start});
        if let Some(end) = place.end.filter(|e| *e >= place.start) {
            region["endLine"] = json!(end);
        }
        let resource = relative(&f.resource, &paths);
        let mut properties = json!({"severity": f.severity.to_string(),
            "security-severity": security_severity(f.severity),
            "account": f.account});
        if let Some(st) = &f.statement {
            properties["statement"] = json!(st);
        }
        if let Some(c) = &f.counterexample {
            properties["counterexample"] = json!(c);
        }
        results.push(json!({
            "ruleId": f.check_id,
            "ruleIndex": checks.iter().position(|c| c.id == f.check_id).unwrap_or(0),
            "level": level(f.severity),
            "message": {"text": relative(&f.message, &paths)},
            "locations": [{
                "physicalLocation": {"artifactLocation": artifact, "region": region},
                "logicalLocations": [{"name": resource, "kind": "resource",
                    "fullyQualifiedName": format!("{}/{resource}", f.account)}]
            }],
            "partialFingerprints": {FINGERPRINT_KEY: print},
            "properties": properties
        }));
    }
    let doc = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool,
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": home_url(),
                "rules": rules
            }},
            "automationDetails": {"id": category},
            "originalUriBaseIds": {SRCROOT: {"uri": loc.root_uri(),
                "description": {"text": "The repository root: git's toplevel of the first input file, else the current directory"}}},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_modules_type_and_name() {
        assert_eq!(
            split_address("module.phr_bucket.aws_s3_bucket.this[0]"),
            Some((
                vec!["phr_bucket".into()],
                "aws_s3_bucket".into(),
                "this".into()
            ))
        );
        assert_eq!(
            split_address("aws_iam_role.lambda"),
            Some((vec![], "aws_iam_role".into(), "lambda".into()))
        );
        assert_eq!(split_address("data.aws_iam_policy_document.x"), None);
        assert_eq!(
            plan_address("p.json", "p.json:aws_iam_role.x: `k` holds"),
            Some("aws_iam_role.x".into())
        );
        assert_eq!(plan_address("p.json", "p.json:14"), None);
    }

    #[test]
    fn stable_text_drops_lines_and_absolute_paths() {
        let paths = vec![(
            "/tmp/a/generated/dev/x.tfvars".to_owned(),
            "generated/dev/x.tfvars".to_owned(),
        )];
        assert_eq!(
            stable("/tmp/a/generated/dev/x.tfvars:14 contains a key", &paths),
            "generated/dev/x.tfvars contains a key"
        );
        assert_eq!(
            stable("differs (first difference at line 12): stale", &paths),
            "differs (first difference at line N): stale",
        );
        assert_eq!(
            stable("arn:aws:iam::100000000001:role/x", &paths),
            "arn:aws:iam::100000000001:role/x"
        );
    }

    #[test]
    fn severities_map_to_github_bands() {
        for (s, lo, hi) in [
            (Severity::Critical, 9.0, 10.0),
            (Severity::High, 7.0, 8.9),
            (Severity::Medium, 4.0, 6.9),
            (Severity::Low, 0.1, 3.9),
        ] {
            let v: f64 = security_severity(s).parse().unwrap();
            assert!((lo..=hi).contains(&v), "{s}: {v}");
        }
    }
}
