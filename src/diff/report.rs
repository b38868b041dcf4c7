//! The text (terminal) and markdown (pull-request comment) forms of a diff.
//! JSON is the envelope, built in `cmd/diff.rs`.

use super::{Counts, DocChange, EnvDiff, EnvStatus, Line, Verdict, settings::Change};

/// The marker the CI job finds its sticky comment by (first line of the markdown).
pub const COMMENT_MARKER: &str = "<!-- xacct-diff -->";

/// Environments, most severe first (then by name).
pub fn ordered(envs: &[EnvDiff]) -> Vec<&EnvDiff> {
    let mut v: Vec<&EnvDiff> = envs.iter().collect();
    v.sort_by(|a, b| {
        let key = |e: &EnvDiff| {
            let c = e.counts();
            (
                e.worst(),
                c.new_access,
                c.settings_weakened,
                c.removed_access,
            )
        };
        key(b).cmp(&key(a)).then(a.environment.cmp(&b.environment))
    });
    v
}

/// Totals over every environment.
pub fn totals(envs: &[EnvDiff]) -> Counts {
    let mut c = Counts::default();
    for e in envs {
        c.add(e.counts());
    }
    c
}

fn accounts(d: &DocChange) -> String {
    match d.accounts.as_slice() {
        [] => String::new(),
        [a] => format!(" (account {a})"),
        [a, rest @ ..] => format!(
            " (accounts {a} and {} more with the same documents)",
            rest.len()
        ),
    }
}

fn status(e: &EnvDiff) -> String {
    let c = e.counts();
    let mut s = format!(
        "{} new ({} critical), {} removed, {} setting(s) weakened",
        c.new_access, c.critical, c.removed_access, c.settings_weakened
    );
    match e.status {
        EnvStatus::Added => s.push_str(", environment added"),
        EnvStatus::Removed => s.push_str(", environment removed"),
        EnvStatus::Unchanged => s = "no change".to_owned(),
        EnvStatus::Changed => {}
    }
    if c.undecided > 0 {
        s.push_str(&format!(", {} cannot be decided", c.undecided));
    }
    s
}

fn line_text(l: &Line, md: bool) -> Vec<String> {
    let code = |s: &str| if md { format!("`{s}`") } else { s.to_owned() };
    let mut v = vec![format!(
        "who: {}; actions: {}; resources: {}",
        code(&l.principals.text()),
        code(&l.actions.text()),
        code(&if l.resources.values.is_empty() {
            "(any)".to_owned()
        } else {
            l.resources.text()
        })
    )];
    if !l.conditions.is_empty() {
        v.push(format!("while: {}", code(&l.conditions.join("; "))));
    }
    v.push(format!("example: {}", code(&l.example.describe())));
    v.push(format!("granted by {}", code(&l.statement)));
    v
}

fn capacity_lines(e: &EnvDiff) -> Vec<String> {
    let c = &e.capacity;
    if !c.changed() {
        return Vec::new();
    }
    let mut v = Vec::new();
    if !c.accounts_added.is_empty() {
        v.push(format!("accounts added: {}", c.accounts_added.join(", ")));
    }
    if !c.accounts_removed.is_empty() {
        v.push(format!(
            "accounts removed: {}",
            c.accounts_removed.join(", ")
        ));
    }
    let side = |discover: bool, n: usize, total: u64| {
        if discover {
            "discovered at runtime".to_owned()
        } else {
            format!("{n} account(s), {total} buckets")
        }
    };
    v.push(format!(
        "storage: {} -> {}",
        side(c.discover_before, c.accounts_before, c.total_before),
        side(c.discover_after, c.accounts_after, c.total_after)
    ));
    v.push(format!(
        "max buckets per account: {} -> {}",
        c.max_per_account_before, c.max_per_account_after
    ));
    if let Some(n) = c.needed_after {
        v.push(format!(
            "expected customers need {n} buckets{}",
            if c.short() {
                ": NOT ENOUGH (xacct onboard another account)"
            } else {
                ": enough"
            }
        ));
    }
    v
}

fn documents_text(e: &EnvDiff, out: &mut String) {
    let mut push = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    for d in &e.documents {
        let head = format!("  {}{}", d.document, accounts(d));
        match d.verdict {
            Verdict::Equivalent => push(format!("{head}: rewritten, no access change")),
            Verdict::Undecided => push(format!(
                "{head}: CANNOT DECIDE ({})",
                d.note.as_deref().unwrap_or("")
            )),
            _ => {
                push(format!("{head}:"));
                for (title, lines, more) in [
                    ("new access", &d.new_access, d.more_new),
                    ("removed access", &d.removed_access, d.more_removed),
                ] {
                    for l in lines {
                        let sev = if title == "new access" {
                            format!(" [{}]", l.severity)
                        } else {
                            String::new()
                        };
                        let mut it = line_text(l, false).into_iter();
                        push(format!(
                            "    {title}{sev}: {}",
                            it.next().unwrap_or_default()
                        ));
                        for rest in it {
                            push(format!("      {rest}"));
                        }
                    }
                    if more {
                        push(format!("    ... more {title} (not listed)"));
                    }
                }
                if let Some(n) = &d.note {
                    push(format!("    note: {n}"));
                }
            }
        }
    }
}

/// The terminal form.
pub fn text(envs: &[EnvDiff], base: &str, head: &str) -> String {
    let mut out = format!("xacct diff {base} -> {head}\n{}\n", totals(envs).verdict());
    for e in ordered(envs) {
        out.push_str(&format!(
            "\n{} ({}): {}\n",
            e.environment,
            e.spec,
            status(e)
        ));
        documents_text(e, &mut out);
        for s in &e.settings {
            out.push_str(&format!(
                "  setting {} {}: {} -> {}{}\n",
                s.setting,
                change_word(s.change),
                s.before.as_deref().unwrap_or("(not set)"),
                s.after.as_deref().unwrap_or("(not set)"),
                if s.change == Change::Weakened {
                    format!(" [{}]", s.severity)
                } else {
                    String::new()
                }
            ));
        }
        for l in capacity_lines(e) {
            out.push_str(&format!("  capacity: {l}\n"));
        }
        for f in &e.stale {
            out.push_str(&format!(
                "  {f}: the committed file differs from the render (both are compared; run `xacct render`)\n"
            ));
        }
        for u in &e.unreadable {
            out.push_str(&format!("  cannot read: {u}\n"));
        }
        for n in &e.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
    }
    out
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Weakened => "weakened",
        Change::Strengthened => "strengthened",
        Change::Changed => "changed",
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The pull-request comment: a marker, one verdict line, one collapsible
/// section per environment (most severe first), a footer naming both revisions.
pub fn markdown(envs: &[EnvDiff], base: &str, head: &str) -> String {
    let t = totals(envs);
    let mut out = format!("{COMMENT_MARKER}\n### xacct diff: {}\n\n", t.verdict());
    if envs.is_empty() {
        out.push_str("No environment spec on either side.\n\n");
    }
    for e in ordered(envs) {
        let open = e.worst().is_some();
        out.push_str(&format!(
            "<details{}>\n<summary><b>{}</b> (<code>{}</code>): {}</summary>\n\n",
            if open { " open" } else { "" },
            md_escape(&e.environment),
            md_escape(&e.spec),
            md_escape(&status(e))
        ));
        let changed: Vec<&DocChange> = e
            .documents
            .iter()
            .filter(|d| d.verdict != Verdict::Equivalent)
            .collect();
        for (title, new) in [("New access", true), ("Removed access", false)] {
            let items: Vec<(&DocChange, &Line)> = changed
                .iter()
                .flat_map(|d| {
                    let ls = if new {
                        &d.new_access
                    } else {
                        &d.removed_access
                    };
                    ls.iter().map(move |l| (*d, l))
                })
                .collect();
            if items.is_empty() {
                continue;
            }
            out.push_str(&format!("**{title}**\n\n"));
            for (d, l) in items {
                let sev = if new {
                    format!("**{}** · ", l.severity)
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "- {sev}{}{}\n",
                    md_escape(&d.document),
                    accounts(d)
                ));
                for s in line_text(l, true) {
                    out.push_str(&format!("  - {s}\n"));
                }
            }
            if changed
                .iter()
                .any(|d| if new { d.more_new } else { d.more_removed })
            {
                out.push_str("- … more, not listed (run `xacct diff` locally)\n");
            }
            out.push('\n');
        }
        let undecided: Vec<&&DocChange> = changed
            .iter()
            .filter(|d| d.verdict == Verdict::Undecided)
            .collect();
        if !undecided.is_empty() {
            out.push_str("**Cannot decide (review by hand)**\n\n");
            for d in undecided {
                out.push_str(&format!(
                    "- {}{}: {}\n",
                    md_escape(&d.document),
                    accounts(d),
                    md_escape(d.note.as_deref().unwrap_or(""))
                ));
            }
            out.push('\n');
        }
        if !e.settings.is_empty() {
            out.push_str(
                "**Settings**\n\n| setting | before | after | change |\n|---|---|---|---|\n",
            );
            for s in &e.settings {
                let change = match s.change {
                    Change::Weakened => format!("**weakened** ({})", s.severity),
                    c => change_word(c).to_owned(),
                };
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    md_escape(&s.setting),
                    md_escape(s.before.as_deref().unwrap_or("(not set)")),
                    md_escape(s.after.as_deref().unwrap_or("(not set)")),
                    change
                ));
            }
            out.push('\n');
        }
        let cap = capacity_lines(e);
        if !cap.is_empty() {
            out.push_str("**Capacity**\n\n");
            for l in cap {
                out.push_str(&format!("- {}\n", md_escape(&l)));
            }
            out.push('\n');
        }
        let same: Vec<&DocChange> = e
            .documents
            .iter()
            .filter(|d| d.verdict == Verdict::Equivalent)
            .collect();
        if !same.is_empty() {
            out.push_str("**Rewritten, no access change**\n\n");
            for d in same {
                out.push_str(&format!("- {}{}\n", md_escape(&d.document), accounts(d)));
            }
            out.push('\n');
        }
        for f in &e.stale {
            out.push_str(&format!(
                "- ⚠ `{}` differs from the render (both are compared; run `xacct render`)\n",
                md_escape(f)
            ));
        }
        for u in &e.unreadable {
            out.push_str(&format!("- ⚠ cannot read: {}\n", md_escape(u)));
        }
        for n in &e.notes {
            out.push_str(&format!("- note: {}\n", md_escape(n)));
        }
        if e.status == EnvStatus::Unchanged {
            out.push_str("No access, setting or capacity change.\n");
        }
        out.push_str("\n</details>\n\n");
    }
    out.push_str(&format!(
        "<sub>xacct diff · base {} → head {} · decided by xacct's exact IAM decision procedure, offline</sub>\n",
        md_escape(base),
        md_escape(head)
    ));
    out
}
