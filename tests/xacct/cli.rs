use std::process::Command;

use crate::support::cli;

fn xacct() -> Command {
    cli::command(&[], Some(&crate::repo()), cli::Env::Inherit)
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = cli::output(c);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_ok_exits_zero() {
    let (code, out, _) = run(xacct().args(["validate", "--env", "environments/dev.toml"]));
    assert_eq!(code, 0);
    assert!(out.contains("environments/dev.toml: ok"), "{out}");
}

#[test]
fn invalid_spec_exits_two_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.toml");
    let text =
        crate::read(&crate::input("two_accounts.toml")).replace("\"333333333333\"]", "\"33\"]");
    std::fs::write(&spec, text).unwrap();
    let (code, _, err) = run(xacct().arg("validate").arg("--env").arg(&spec));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.toml")
            && err.contains("storage.accounts[1]")
            && err.contains("12 digits"),
        "{err}"
    );
    // render refuses the same spec with the same exit code and writes nothing.
    let out = dir.path().join("out");
    let (code, _, _) = run(xacct()
        .arg("render")
        .arg("--env")
        .arg(&spec)
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 2);
    assert!(!out.exists());
}

#[test]
fn missing_spec_and_usage_errors_exit_two() {
    let (code, _, err) = run(xacct().args(["validate", "--env", "environments/nope.toml"]));
    assert_eq!(code, 2);
    assert!(err.contains("nope.toml"), "{err}");
    let (code, _, _) = run(xacct().args(["render"]));
    assert_eq!(code, 2, "render needs --env or --all");
    let (code, _, _) = run(xacct().args(["frobnicate"]));
    assert_eq!(code, 2);
}

#[test]
fn render_check_without_env_checks_every_environment() {
    let (code, out, err) = run(xacct().args(["render", "--check"]));
    assert_eq!(code, 0, "{out}{err}");
    for env in ["dev", "uat", "prod"] {
        assert!(
            out.contains(&format!("generated/{env}: up to date")),
            "{out}"
        );
    }
}

/// A failed write is a failed step (exit 1) that names the path, not a usage error.
#[test]
fn render_into_an_unwritable_directory_exits_one_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where the output folder should be").unwrap();
    let (code, _, err) = run(xacct()
        .args(["render", "--env", "environments/dev.toml", "--out"])
        .arg(&blocker));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&blocker.display().to_string()), "{err}");
    assert_eq!(
        std::fs::read_to_string(&blocker).unwrap(),
        "a file where the output folder should be"
    );
}

#[test]
fn render_check_lists_stale_and_missing_files_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let spec = crate::input("two_accounts.toml");
    let (code, _, err) = run(xacct()
        .arg("render")
        .arg("--env")
        .arg(&spec)
        .arg("--out")
        .arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(xacct()
        .arg("render")
        .arg("--check")
        .arg("--env")
        .arg(&spec)
        .arg("--out")
        .arg(dir.path()));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("up to date"), "{out}");

    std::fs::remove_file(dir.path().join("two/policies/deployer-policy.json")).unwrap();
    std::fs::write(
        dir.path().join("two/storage/terraform/main.tf"),
        "# hand edit\n",
    )
    .unwrap();
    let (code, out, _) = run(xacct()
        .arg("render")
        .arg("--check")
        .arg("--env")
        .arg(&spec)
        .arg("--out")
        .arg(dir.path()));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("missing: ") && out.contains("deployer-policy.json"),
        "{out}"
    );
    assert!(
        out.contains("stale:   ") && out.contains("storage/terraform/main.tf"),
        "{out}"
    );
    assert!(out.contains("2 file(s) differ"), "{out}");
}

#[test]
fn render_all_check_passes_on_the_committed_tree() {
    let (code, out, err) = run(xacct().args(["render", "--all", "--check"]));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn duplicate_short_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let envs = dir.path().join("envs");
    std::fs::create_dir(&envs).unwrap();
    let text = crate::read(&crate::input("two_accounts.toml"));
    std::fs::write(envs.join("a.toml"), &text).unwrap();
    std::fs::write(envs.join("b.toml"), &text).unwrap();
    let (code, _, err) = run(xacct()
        .args(["render", "--all", "--environments"])
        .arg(&envs)
        .arg("--out")
        .arg(dir.path().join("out")));
    assert_eq!(code, 2);
    assert!(err.contains("short_name"), "{err}");
}

#[test]
fn completions_name_every_subcommand() {
    use clap::CommandFactory;
    let subcommands: Vec<String> = xacct::cmd::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|n| n != "help")
        .collect();
    assert!(subcommands.len() >= 12, "{subcommands:?}");
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = run(xacct().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.len() > 500, "{shell}: {out}");
        for sub in &subcommands {
            assert!(out.contains(sub.as_str()), "{shell} completion lacks {sub}");
        }
    }
    let (code, _, _) = run(xacct().args(["completions", "tcsh"]));
    assert_eq!(code, 2);
}

#[test]
fn quiet_prints_results_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("short.toml");
    // Too few accounts for [capacity]: a warning, not an error.
    let text = crate::read(&crate::input("two_accounts.toml"));
    std::fs::write(
        &spec,
        format!("{text}\n[capacity]\nexpected_customers = 100000\n"),
    )
    .unwrap();
    let (code, out, err) = run(xacct().arg("validate").arg("--env").arg(&spec));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning"),
        "the spec has a capacity warning: {err}"
    );
    let (code, out_q, err_q) = run(xacct().arg("validate").arg("-q").arg("--env").arg(&spec));
    assert_eq!(code, 0, "{err_q}");
    assert_eq!(out_q, out);
    assert!(err_q.is_empty(), "{err_q}");
}
