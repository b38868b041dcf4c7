//! The CI recipe README points to (examples/ci/github-actions.yml and
//! .pre-commit-hooks.yaml) runs commands that exist, with flags the CLI accepts.

use std::process::Command;

/// Every `xacct ...` command line in `text` (a line's `xacct` up to a shell
/// operator), with shell variables replaced by a real spec or file.
fn xacct_lines(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line
            .trim()
            .trim_start_matches("run:")
            .trim_start_matches("entry:")
            .trim();
        let Some(start) = line.find("xacct ") else {
            continue;
        };
        if line.starts_with('#')
            || line[..start].contains("name:")
            || line.contains("cargo install")
        {
            continue;
        }
        let cmd = line[start..]
            .split(['>', '|'])
            .next()
            .unwrap_or_default()
            .replace("\"$env\"", "environments/dev.toml");
        let words: Vec<String> = cmd.split_whitespace().skip(1).map(str::to_owned).collect();
        if !words.is_empty() {
            out.push(words);
        }
    }
    out
}

#[test]
fn the_ci_recipe_runs_commands_that_exist_with_those_flags() {
    let repo = crate::repo();
    let workflow = crate::read(&repo.join("examples/ci/github-actions.yml"));
    let hooks = crate::read(&repo.join(".pre-commit-hooks.yaml"));
    let mut lines = xacct_lines(&workflow);
    lines.extend(xacct_lines(&hooks));
    assert!(lines.len() >= 4, "{lines:?}");
    let mut seen = std::collections::BTreeSet::new();
    for mut words in lines {
        seen.insert(words[0].clone());
        if words.last().is_some_and(|w| w == "--env") {
            words.push("environments/dev.toml".to_owned()); // pre-commit passes the file
        }
        // Parse only: `--help` after the flags makes clap validate every flag and
        // value before printing help, and never runs the command.
        let mut args = words.clone();
        args.push("--help".to_owned());
        let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(&repo)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "`xacct {}` is not accepted: {}",
            words.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for sub in ["render", "audit"] {
        assert!(seen.contains(sub), "{seen:?}");
    }
    // The real run of the first two steps on this repository: clean.
    let check = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .current_dir(&repo)
        .args(["render", "--check"])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
}

/// The workflow installs the released binary (the installer dist publishes, from the
/// repository in Cargo.toml) and builds the same tag with a cached `cargo install` only
/// when that step failed.
#[test]
fn the_ci_recipe_installs_the_release_and_falls_back_to_a_cached_build() {
    let repo = crate::repo();
    let workflow = crate::read(&repo.join("examples/ci/github-actions.yml"));
    let manifest: toml::Table = crate::read(&repo.join("Cargo.toml")).parse().unwrap();
    let repository = manifest["package"]["repository"].as_str().unwrap();
    let version = manifest["package"]["version"].as_str().unwrap();
    assert!(
        workflow.contains(&format!("XACCT_REPO: {repository}\n")),
        "XACCT_REPO is the repository the release is published from ({repository})"
    );
    assert!(
        workflow.contains(&format!("XACCT_VERSION: \"{version}\"")),
        "XACCT_VERSION is the current release ({version})"
    );
    // The installer dist builds (tests/xacct/release.rs checks dist plans it).
    let installs = workflow
        .matches("$XACCT_REPO/releases/download/v$XACCT_VERSION/xacct-installer.sh")
        .count();
    let fallbacks = workflow
        .matches(r#"cargo install --locked --git "$XACCT_REPO" --tag "v$XACCT_VERSION" xacct"#)
        .count();
    let caches = workflow.matches("uses: Swatinem/rust-cache@v2").count();
    let jobs = workflow.matches("runs-on:").count();
    assert_eq!(
        (installs, fallbacks, caches),
        (jobs, jobs, jobs),
        "every job installs the release, else a cached cargo install"
    );
    assert!(
        !workflow.contains("cargo install --locked --path ."),
        "no uncached source build"
    );
    // The fallback steps run only when the release step failed.
    let jobs_at = workflow.find("\njobs:").expect("jobs:");
    for step in [
        "uses: dtolnay/rust-toolchain",
        "uses: Swatinem/rust-cache",
        "run: cargo install",
    ] {
        for (i, _) in workflow.match_indices(step) {
            assert!(i > jobs_at, "`{step}` outside the jobs");
            let before = &workflow[..i];
            let step_start = before.rfind("\n      - ").expect("a step");
            let step_text = &workflow[step_start..i];
            assert!(
                step_text.contains("if: steps.release.outcome == 'failure'"),
                "`{step}` must run only without a release:{step_text}"
            );
        }
    }
    assert!(workflow.contains("continue-on-error: true"));
}

// ------------------------------------------------------------------ docs

/// README.md and every page under docs/.
fn doc_files() -> Vec<std::path::PathBuf> {
    let repo = crate::repo();
    let mut files = vec![repo.join("README.md")];
    let mut dirs = vec![repo.join("docs")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Lines outside fenced code blocks, with inline code spans removed: (line number, text).
fn prose(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let mut kept = String::new();
        for (j, part) in line.split('`').enumerate() {
            if j % 2 == 0 {
                kept.push_str(part);
            }
        }
        out.push((i + 1, kept));
    }
    out
}

/// The targets of `[text](target)` and `[label]: target` in one line of prose.
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let t = line.trim_start();
    if t.starts_with('[')
        && let Some(end) = t.find("]:")
        && !t[1..end].contains(']')
    {
        if let Some(target) = t[end + 2..].split_whitespace().next() {
            out.push(target.to_owned());
        }
        return out;
    }
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(close) = after.find(')') else { break };
        let inner = after[..close].trim();
        let target = inner.split_whitespace().next().unwrap_or_default();
        out.push(target.trim_matches(['<', '>']).to_owned());
        rest = &after[close..];
    }
    out
}

/// GitHub's anchors for the headings of a Markdown file (duplicates get -1, -2, ...).
fn anchors(text: &str) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let mut out = std::collections::BTreeSet::new();
    let mut fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if fence || hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        // The rendered text: link targets dropped, then GitHub's slug rule.
        let mut heading = line[hashes..].trim().to_owned();
        while let (Some(a), Some(b)) = (heading.find("]("), heading.find(')')) {
            if b < a {
                break;
            }
            heading.replace_range(a + 1..=b, "");
        }
        let slug: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let repo = crate::repo();
    let files = doc_files();
    assert!(files.len() > 10, "README.md and docs/*.md: {files:?}");
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = crate::read(file);
        let rel = file.strip_prefix(&repo).unwrap().display().to_string();
        for (n, line) in prose(&text) {
            for target in link_targets(&line) {
                if target.is_empty()
                    || ["http://", "https://", "mailto:"]
                        .iter()
                        .any(|s| target.starts_with(s))
                {
                    continue;
                }
                checked += 1;
                let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
                let dest = if path.is_empty() {
                    file.clone()
                } else {
                    file.parent().unwrap().join(path)
                };
                if !dest.exists() {
                    broken.push(format!("{rel}:{n}: {target}: no such file"));
                    continue;
                }
                if anchor.is_empty() {
                    continue;
                }
                if dest.extension().is_none_or(|x| x != "md") {
                    broken.push(format!(
                        "{rel}:{n}: {target}: an anchor into a file that is not Markdown"
                    ));
                } else if !anchors(&crate::read(&dest)).contains(anchor) {
                    broken.push(format!(
                        "{rel}:{n}: {target}: no heading with anchor #{anchor}"
                    ));
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} relative links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Shell words of a command line up to its first operator, comment or redirection,
/// with leading `VAR=value` assignments dropped; one list per command of a pipeline.
fn shell_commands(line: &str) -> Vec<Vec<String>> {
    let mut commands = vec![Vec::new()];
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut redirect = false;
    let mut chars = line.chars().peekable();
    let finish = |word: &mut Option<String>, commands: &mut Vec<Vec<String>>, redirect: bool| {
        if let Some(w) = word.take()
            && !redirect
        {
            commands.last_mut().unwrap().push(w);
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') if quote == Some('"') => {
                word.get_or_insert_default().extend(chars.next());
            }
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, '\\') => word.get_or_insert_default().extend(chars.next()),
            (None, '#') if word.is_none() => break,
            (None, c) if c.is_whitespace() => finish(&mut word, &mut commands, redirect),
            (None, '|' | ';' | '&') => {
                finish(&mut word, &mut commands, redirect);
                redirect = false;
                commands.push(Vec::new());
            }
            (None, '>' | '<') => {
                // `2>` and `>file`: the digit was a descriptor, the rest a file name.
                if word
                    .as_deref()
                    .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()))
                {
                    word = None;
                }
                finish(&mut word, &mut commands, redirect);
                redirect = true;
            }
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    finish(&mut word, &mut commands, redirect);
    commands
        .into_iter()
        .map(|words| {
            words
                .into_iter()
                .skip_while(|w| {
                    w.split_once('=').is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                })
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The xacct arguments of a shell command: `xacct ARGS` or `cargo run [OPTS] -- ARGS`.
fn xacct_args(words: &[String]) -> Option<Vec<String>> {
    match words.first().map(String::as_str) {
        Some("xacct") => Some(words[1..].to_vec()),
        Some("cargo") if words.get(1).is_some_and(|w| w == "run") => {
            let dash = words.iter().position(|w| w == "--");
            let opts = &words[2..dash.unwrap_or(words.len())];
            // `cargo run -p other` or `--example` runs something else.
            if opts
                .iter()
                .any(|o| ["-p", "--package", "--example", "--bin"].contains(&o.as_str()))
            {
                return None;
            }
            Some(dash.map(|d| words[d + 1..].to_vec()).unwrap_or_default())
        }
        _ => None,
    }
}

/// Every command line in the shell code blocks of README.md and docs/: (file:line, args).
fn documented_commands() -> Vec<(String, Vec<String>)> {
    let repo = crate::repo();
    let mut out = Vec::new();
    for file in doc_files() {
        let rel = file.strip_prefix(&repo).unwrap().display().to_string();
        let text = crate::read(&file);
        let mut shell = None;
        let mut pending = String::new();
        let mut start = 0;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            if let Some(lang) = t.strip_prefix("```") {
                shell = match shell {
                    Some(_) => None,
                    None => Some(matches!(
                        lang.trim(),
                        "" | "sh" | "bash" | "shell" | "console"
                    )),
                };
                continue;
            }
            if shell != Some(true) {
                continue;
            }
            if pending.is_empty() {
                start = i + 1;
            }
            let t = t.strip_prefix("$ ").unwrap_or(t);
            match t.strip_suffix('\\') {
                Some(head) => {
                    pending.push_str(head);
                    pending.push(' ');
                    continue;
                }
                None => pending.push_str(t),
            }
            for words in shell_commands(&std::mem::take(&mut pending)) {
                if let Some(args) = xacct_args(&words) {
                    out.push((format!("{rel}:{start}"), args));
                }
            }
        }
    }
    out
}

#[test]
fn the_shell_word_splitter_sees_what_a_shell_sees() {
    let words = |s: &str| shell_commands(s);
    assert_eq!(
        words(
            r#"AWS_REGION=x xacct audit --env "a b.toml" --format sarif > out.sarif || echo no # c"#
        ),
        vec![
            vec!["xacct", "audit", "--env", "a b.toml", "--format", "sarif"],
            vec!["echo", "no"]
        ]
    );
    assert_eq!(
        words("xacct render --check 2>/dev/null | jq '.x | .y'"),
        vec![vec!["xacct", "render", "--check"], vec!["jq", ".x | .y"]]
    );
    assert_eq!(
        xacct_args(&words("cargo run --release -- package --out x.zip")[0]),
        Some(vec![
            "package".to_owned(),
            "--out".to_owned(),
            "x.zip".to_owned()
        ])
    );
    assert_eq!(
        xacct_args(&words("cargo run -p xacct-provisioner --example bench")[0]),
        None
    );
    assert!(
        anchors("# `xacct audit`\n## JSON output (`--format json`)\n## A\n## A").is_superset(
            &["xacct-audit", "json-output---format-json", "a", "a-1"]
                .map(String::from)
                .into()
        )
    );
}

/// What the docs tell people to type is what the CLI accepts: every xacct command line
/// in a shell block of README.md or docs/ parses (clap validates subcommands, flags and
/// their values before `--help` prints), and none uses a placeholder where a real
/// value belongs.
#[test]
fn every_command_line_in_the_readme_and_docs_parses() {
    let commands = documented_commands();
    assert!(commands.len() > 30, "{commands:?}");
    let mut subcommands = std::collections::BTreeSet::new();
    let mut refused = Vec::new();
    for (at, args) in &commands {
        if let Some(w) = args
            .iter()
            .find(|w| w.contains("...") || w.starts_with('['))
        {
            refused.push(format!(
                "{at}: `xacct {}`: placeholder {w:?}: show a real value",
                args.join(" ")
            ));
            continue;
        }
        subcommands.extend(args.first().cloned());
        let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(crate::repo())
            .args(args)
            .arg("--help")
            .output()
            .unwrap();
        if out.status.code() != Some(0) {
            refused.push(format!(
                "{at}: `xacct {}`: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or_default()
            ));
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
    for sub in ["render", "audit", "verify", "package", "explain"] {
        assert!(
            subcommands.contains(sub),
            "no `xacct {sub}` shown: {subcommands:?}"
        );
    }
    // The README starts with the two commands that work on a fresh machine.
    let readme = crate::read(&crate::repo().join("README.md"));
    let first_block: Vec<&str> = readme
        .split("```")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|l| l.split('#').next().map(str::trim))
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        first_block,
        ["cargo run -- render --all", "cargo test --workspace"]
    );
    assert!(
        readme.lines().count() < 200,
        "README.md is a front door: under 200 lines"
    );
}
