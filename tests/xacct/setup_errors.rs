//! Local setup problems (profile, credentials, endpoint) are answered before
//! any check runs, in plain words with the fix, and with exit code 2: they are
//! the operator's to fix, not findings.

use std::path::Path;
use std::process::Command;

/// The real binary with a clean environment: no credentials, no IMDS, AWS
/// config files as given.
fn xacct(config: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .current_dir(crate::repo())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", config.parent().unwrap())
        .env("AWS_CONFIG_FILE", config)
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            config.with_extension("credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run xacct");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn config_with_profiles(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[profile dev-admin]\nregion = us-east-1\n\n[sso-session corp]\nsso_region = us-east-1\n",
    )
    .unwrap();
    config
}

const LIVE: &[&[&str]] = &[
    &["verify", "--env", "environments/dev.toml"],
    &["capacity", "--env", "environments/dev.toml"],
    &["accounts", "--env", "environments/dev.toml"],
];

#[test]
fn an_unknown_profile_is_named_with_the_profiles_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_profiles(dir.path());
    for cmd in LIVE {
        let mut args = cmd.to_vec();
        args.extend(["--profile", "nope"]);
        let (code, err) = xacct(&config, &args);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains("profile `nope` is not in"), "{err}");
        assert!(
            err.contains("dev-admin"),
            "names the profiles that exist: {err}"
        );
        assert!(err.contains("aws configure --profile nope"), "{err}");
        assert!(
            !err.contains("corp"),
            "an sso-session is not a profile: {err}"
        );
    }
}

#[test]
fn no_credentials_says_how_to_configure_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_profiles(dir.path());
    for cmd in LIVE {
        let (code, err) = xacct(&config, cmd);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains("no AWS credentials found"), "{err}");
        assert!(
            err.contains("--profile")
                && err.contains("AWS_PROFILE")
                && err.contains("aws sso login"),
            "{err}"
        );
        assert!(!err.contains("Error {"), "no Debug dump: {err}");
    }
}

#[test]
fn a_closed_endpoint_is_named_before_any_retry() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_profiles(dir.path());
    // A port nobody listens on: bind, read it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    for cmd in LIVE {
        let mut args = cmd.to_vec();
        args.extend(["--endpoint-url", &url]);
        let (code, err) = xacct(&config, &args);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(
            err.contains(&format!(
                "cannot connect to --endpoint-url {url}: connection refused"
            )),
            "{err}"
        );
        assert!(
            err.contains("start the emulator or fix --endpoint-url"),
            "{err}"
        );
    }
}

#[test]
fn an_endpoint_without_a_scheme_is_refused_when_arguments_are_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_profiles(dir.path());
    for url in ["127.0.0.1:5000", "http://", "http://localhost:99999"] {
        let (code, err) = xacct(
            &config,
            &[
                "verify",
                "--env",
                "environments/dev.toml",
                "--endpoint-url",
                url,
            ],
        );
        assert_eq!(code, 2, "{url}: {err}");
        assert!(err.contains("--endpoint-url"), "{err}");
        assert!(
            err.contains("http://HOST:PORT") || err.contains("1-65535"),
            "{err}"
        );
    }
}
