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
