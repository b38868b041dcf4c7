//! The one way the tests run the real binary: arguments, an optional working
//! directory, and the environment it sees (inherited, cleared, or cleared with
//! credentials and an endpoint for moto). Every run with `--format json` is
//! checked against the schema (`support::schema::check_run`).

use std::path::Path;
use std::process::{Command, Output};

/// What a run returns.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The environment of a run.
pub enum Env<'a> {
    /// The test process's environment (offline commands).
    Inherit,
    /// A cleared environment: `PATH`, region us-east-1, no profile files, no
    /// instance metadata; so nothing of the machine's AWS setup leaks in.
    Clean,
    /// [`Env::Clean`] plus these credentials, and `--endpoint-url` after the arguments.
    Aws {
        endpoint: &'a str,
        key: &'a str,
        secret: &'a str,
        token: Option<&'a str>,
    },
}

/// `xacct <args>` in `cwd` (the test's cwd when `None`) with `env`, ready to run
/// with [`output`] (a caller may add arguments first).
pub fn command(args: &[&str], cwd: Option<&Path>, env: Env<'_>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
    cmd.args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    if !matches!(env, Env::Inherit) {
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    }
    if let Env::Aws {
        endpoint,
        key,
        secret,
        token,
    } = env
    {
        cmd.args(["--endpoint-url", endpoint])
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            cmd.env("AWS_SESSION_TOKEN", t);
        }
    }
    cmd
}

/// Runs a prepared command; a `--format json` run must print one valid envelope
/// whose `summary.exit_code` is the exit code.
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run the xacct binary");
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::support::schema::check_run(
        &args,
        out.status.code().unwrap_or(-1),
        &String::from_utf8_lossy(&out.stdout),
    );
    out
}

/// Runs `xacct <args>` in `cwd` with `env`.
pub fn run(args: &[&str], cwd: Option<&Path>, env: Env<'_>) -> Out {
    let out = output(&mut command(args, cwd, env));
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An offline run in the test's environment and working directory.
pub fn offline(args: &[&str]) -> Output {
    output(&mut command(args, None, Env::Inherit))
}

/// A run against moto as `creds`.
pub fn xacct_as(
    m: &xacct_testkit::moto::Moto,
    creds: &aws_sdk_sts::config::Credentials,
    args: &[&str],
) -> Out {
    run(
        args,
        None,
        Env::Aws {
            endpoint: &m.endpoint,
            key: creds.access_key_id(),
            secret: creds.secret_access_key(),
            token: creds.session_token(),
        },
    )
}
