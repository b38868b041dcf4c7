//! The map checks itself (in the style of rust-analyzer's `tidy.rs`): reads every
//! `crate::...` and `super::...` path of `src/` and fails on an import
//! ARCHITECTURE.md ("Dependency rules") forbids, on any import cycle between
//! top-level modules or between the submodules of one module, and on printing
//! outside `cmd` and `main`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules of `src/lib.rs` and the modules each may import
/// (`contract`, the shared crate, may be imported by every module). Keep in step
/// with ARCHITECTURE.md's "Dependency rules"; a module missing here fails the test.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    // The pure base: no I/O, no AWS.
    ("spec", &[]),
    ("capacity", &[]),
    ("progress", &[]),
    ("checks", &[]),
    ("model", &["spec", "capacity"]),
    ("iam", &["model"]),
    ("eval", &["iam"]),
    ("render", &["iam", "model"]),
    ("audit", &["checks", "eval", "iam", "model", "render"]),
    // The AWS layer: SDK plumbing and the state table.
    ("aws", &[]),
    // Live commands: each on `aws` and the pure base, never on each other
    // (`adopt` takes over what `onboard` would create and uses its waits).
    (
        "verify",
        &[
            "audit", "aws", "checks", "iam", "model", "org", "progress", "render",
        ],
    ),
    ("onboard", &["aws", "iam", "model", "progress", "render"]),
    (
        "adopt",
        &[
            "audit", "aws", "eval", "iam", "model", "onboard", "progress", "render",
        ],
    ),
    // Output formats over findings and reports.
    ("envelope", &["audit"]),
    ("sarif", &["audit", "checks", "verify"]),
    // The organization around the setup: the pure model and guardrail judge, and
    // `org::live`, the fetcher of a snapshot (issue 20).
    ("org", &["audit", "aws", "eval", "iam"]),
    // The access review of a change: pure over two sides (issue 21).
    (
        "diff",
        &["audit", "capacity", "eval", "iam", "model", "render"],
    ),
    // The CLI: everything.
    (
        "cmd",
        &[
            "adopt", "audit", "aws", "capacity", "checks", "diff", "envelope", "eval", "iam",
            "model", "onboard", "org", "progress", "render", "sarif", "spec", "verify",
        ],
    ),
];

/// Modules every module may import.
const EVERYONE_MAY_IMPORT: &[&str] = &["contract"];

/// Submodules that must not import each other in either direction (beyond
/// the general rule that submodules of one module form no cycle).
const NEVER_BETWEEN: &[(&str, &str)] = &[
    // Fetchers of the two sides: what both read lives in `verify::shared`.
    ("verify::primary", "verify::storage"),
];

/// Modules that may print (`println!`, `eprintln!`, `print!`, `eprint!`).
const MAY_PRINT: &[&str] = &["cmd", "main"];

/// One source file: its module path (`verify::storage::iam`) and text.
struct File {
    path: PathBuf,
    module: Vec<String>,
    text: String,
}

fn files(dir: &Path, out: &mut Vec<File>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(crate::repo().join("src")).unwrap();
            let mut module: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            out.push(File {
                text: strip_comments(&crate::read(&p)),
                path: p,
                module,
            });
        }
    }
}

/// The text without `//` comments and string literals (so a path in a doc
/// comment or a message is not an import).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let ident = |i: usize| i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    let mut i = 0;
    while i < b.len() {
        // A raw string `r"..."`, `r#"..."#`: skip to its closing quote and hashes.
        if b[i] == b'r' && !ident(i) {
            let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
            if b.get(i + 1 + hashes) == Some(&b'"') {
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let body = i + 2 + hashes;
                let end = b[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(b.len(), |p| body + p + close.len());
                out.push_str("\"\"");
                out.extend(b[i..end].iter().filter(|c| **c == b'\n').map(|_| '\n'));
                i = end;
                continue;
            }
        }
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            // A character literal: `'"'`, `'\''`.
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                let end = b[i + 1..]
                    .iter()
                    .skip(2)
                    .position(|c| *c == b'\'')
                    .map_or(b.len(), |p| i + 1 + 2 + p + 1);
                let end = if b.get(i + 1) == Some(&b'\\') {
                    end
                } else {
                    i + 3
                };
                out.push_str("' '");
                i = end;
            }
            b'"' => {
                out.push('"');
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'\n') {
                        out.push('\n');
                    }
                    i += 1;
                }
                out.push('"');
                i += 1;
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = segments(&tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut base = prefix.to_vec();
        base.extend(head);
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&base, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&base, &inner[start..], out);
    } else {
        let mut p = prefix.to_vec();
        p.extend(segments(tree.split(" as ").next().unwrap_or("")));
        out.push(p);
    }
}

fn segments(s: &str) -> Vec<String> {
    s.split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every path a file names, absolute (`crate::...` and `super::...` resolved).
fn paths(f: &File) -> Vec<Vec<String>> {
    let mut raw: Vec<Vec<String>> = Vec::new();
    // `use` declarations, with their trees.
    let t = &f.text;
    let mut at = 0;
    while let Some(i) = t[at..].find("use ") {
        let start = at + i;
        at = start + 4;
        let before = t[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = t[at..].find(';') else { break };
        let tree = &t[at..at + end];
        if tree.starts_with("crate::") || tree.starts_with("super::") || tree.starts_with("self::")
        {
            expand(&[], tree, &mut raw);
        }
    }
    // Inline paths: `crate::a::b` and `super::a` outside `use`.
    for key in ["crate::", "super::"] {
        let mut at = 0;
        while let Some(i) = t[at..].find(key) {
            let start = at + i;
            at = start + key.len();
            let before = t[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = t[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            raw.push(segments(&path));
        }
    }
    raw.into_iter()
        .filter_map(|p| resolve(&f.module, &p))
        .collect()
}

/// `crate::a::b` -> `[a, b]`; `super::x` from `verify::storage::iam` -> `[verify, storage, x]`.
fn resolve(module: &[String], p: &[String]) -> Option<Vec<String>> {
    let first = p.first()?;
    match first.as_str() {
        "crate" => Some(p[1..].to_vec()),
        "self" => {
            let mut m = module.to_vec();
            m.extend(p[1..].iter().cloned());
            Some(m)
        }
        "super" => {
            let mut m = module.to_vec();
            // `module` of `a/b/mod.rs` is `a::b`, like `a/b.rs`: `super` is `a`.
            let mut rest = p;
            while rest.first().is_some_and(|s| s == "super") {
                m.pop()?;
                rest = &rest[1..];
            }
            m.extend(rest.iter().cloned());
            Some(m)
        }
        _ => None,
    }
}

/// The module a path lands in, cut at `depth` segments, if it is a module
/// (a file or directory under `src/`) rather than an item.
fn module_of(modules: &BTreeSet<Vec<String>>, p: &[String], depth: usize) -> Option<Vec<String>> {
    (1..=depth.min(p.len()))
        .rev()
        .map(|n| p[..n].to_vec())
        .find(|m| modules.contains(m))
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_owned(), 1);
        stack.push(n.to_owned());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if !state.contains_key(n.as_str())
            && let Some(c) = visit(n, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// Every import between modules: (from, to, file) at `depth` segments.
fn edges(files: &[File], depth: usize) -> Vec<(Vec<String>, Vec<String>, PathBuf)> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut out = Vec::new();
    for f in files {
        let Some(from) = module_of(&modules, &f.module, depth) else {
            continue;
        };
        for p in paths(f) {
            if let Some(to) = module_of(&modules, &p, depth).or_else(|| {
                // `crate::contract::...`: the shared crate, re-exported by lib.rs.
                (p.first().map(String::as_str) == Some("contract")).then(|| vec!["contract".into()])
            }) && to != from
            {
                out.push((from.clone(), to, f.path.clone()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn sources() -> Vec<File> {
    let mut out = Vec::new();
    files(&crate::repo().join("src"), &mut out);
    out
}

#[test]
fn imports_follow_the_map() {
    let files = sources();
    let table: BTreeMap<&str, &[&str]> = MAY_IMPORT.iter().copied().collect();
    let lib = crate::read(&crate::repo().join("src/lib.rs"));
    let mut problems = Vec::new();
    for line in lib.lines() {
        if let Some(m) = line
            .trim()
            .strip_prefix("pub mod ")
            .and_then(|m| m.strip_suffix(';'))
            && !table.contains_key(m)
        {
            problems.push(format!(
                "src/lib.rs: module `{m}` is not in tests/xacct/tidy.rs MAY_IMPORT; add it with the modules it may import, and to ARCHITECTURE.md's dependency rules"
            ));
        }
    }
    for (from, to, file) in edges(&files, 1) {
        let (from, to) = (from.join("::"), to.join("::"));
        if from.is_empty() || from == "main" || EVERYONE_MAY_IMPORT.contains(&to.as_str()) {
            continue;
        }
        let allowed = table
            .get(from.as_str())
            .is_some_and(|a| a.contains(&to.as_str()));
        if !allowed {
            problems.push(format!(
                "{}: `{from}` imports `{to}`, which ARCHITECTURE.md's dependency rules do not allow; move the shared piece down to a module both may import (or change the map and MAY_IMPORT together)",
                file.strip_prefix(crate::repo()).unwrap_or(&file).display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_map_itself_has_no_cycle_and_names_only_modules() {
    let graph: BTreeMap<String, BTreeSet<String>> = MAY_IMPORT
        .iter()
        .map(|(m, deps)| (m.to_string(), deps.iter().map(|d| d.to_string()).collect()))
        .collect();
    for deps in graph.values() {
        for d in deps {
            assert!(graph.contains_key(d), "MAY_IMPORT names `{d}`, not a row");
        }
    }
    assert_eq!(find_cycle(&graph), None, "MAY_IMPORT has a cycle");
}

#[test]
fn no_import_cycle_between_modules_or_submodules() {
    let files = sources();
    let mut problems = Vec::new();
    for depth in [1, 2] {
        // At depth 2, only siblings: `verify::primary` -> `verify::storage`, not
        // a child -> its parent (`super::finding`), which the parent declares.
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut files_of: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
        for (from, to, file) in edges(&files, depth) {
            if depth == 2 && (from.len() != 2 || to.len() != 2 || from[0] != to[0]) {
                continue;
            }
            let (a, b) = (from.join("::"), to.join("::"));
            files_of.entry((a.clone(), b.clone())).or_insert(file);
            graph.entry(a).or_default().insert(b);
        }
        if let Some(cycle) = find_cycle(&graph) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let f = &files_of[&(w[0].clone(), w[1].clone())];
                    format!(
                        "{} -> {} ({})",
                        w[0],
                        w[1],
                        f.strip_prefix(crate::repo()).unwrap_or(f).display()
                    )
                })
                .collect();
            problems.push(format!(
                "import cycle: {}; move what both need to a module both may import",
                steps.join(", ")
            ));
        }
        if depth == 2 {
            for (a, b) in NEVER_BETWEEN {
                for (x, y) in [(a, b), (b, a)] {
                    if let Some(f) = files_of.get(&(x.to_string(), y.to_string())) {
                        problems.push(format!(
                            "{}: `{x}` imports `{y}`; the map keeps them apart",
                            f.strip_prefix(crate::repo()).unwrap_or(f).display()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_cmd_and_main_print() {
    let mut problems = Vec::new();
    for f in sources() {
        let top = f.module.first().map(String::as_str).unwrap_or("");
        if MAY_PRINT.contains(&top) {
            continue;
        }
        for (n, line) in f.text.lines().enumerate() {
            if ["println!", "eprintln!", "print!", "eprint!"]
                .iter()
                .any(|m| line.contains(m))
            {
                problems.push(format!(
                    "{}:{}: prints; library modules return values and `cmd` prints",
                    f.path
                        .strip_prefix(crate::repo())
                        .unwrap_or(&f.path)
                        .display(),
                    n + 1
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reader_sees_grouped_uses_super_and_inline_paths() {
    // The parser itself, on forms the source uses.
    let f = File {
        path: PathBuf::from("src/verify/storage/iam.rs"),
        module: vec!["verify".into(), "storage".into(), "iam".into()],
        text: strip_comments(
            "use crate::{audit::{self, Finding}, model as m};\nuse super::super::primary::X;\n// crate::sarif::log\nlet s = \"crate::render\";\nfn f() { crate::eval::evaluate(); super::shared::phr(); self::x(); }\nlet q = r#\"crate::adopt \"x\"\"#; let c = '\"';\n\n",
        ),
    };
    let got: BTreeSet<String> = paths(&f).into_iter().map(|p| p.join("::")).collect();
    for want in [
        "audit::self",
        "audit::Finding",
        "model",
        "verify::primary::X",
        "eval::evaluate",
        "verify::storage::shared::phr",
    ] {
        assert!(got.contains(want), "{want} not in {got:?}");
    }
    assert!(
        !got.iter()
            .any(|p| p.starts_with("sarif") || p.starts_with("render"))
    );
}
