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

/// A loopback HTTP server that answers every request with `response` (raw
/// HTTP), or closes each connection unanswered when it is `None`. Lives as
/// long as the test process.
fn fake_sts(response: Option<&'static str>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let Some(response) = response else {
                drop(conn);
                continue;
            };
            // Read the head, then the body by Content-Length, then answer.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body_len = loop {
                let Ok(n) = conn.read(&mut chunk) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break Some((end + 4, len));
                }
            };
            if let Some((head, len)) = body_len {
                while buf.len() < head + len {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = conn.write_all(response.as_bytes());
            }
        }
    });
    url
}

fn sts_error(status: &str, code: &str, message: &str) -> &'static str {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
    );
    Box::leak(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    )
}

/// `xacct verify` with static keys against `endpoint`: (exit code, stdout, stderr).
fn verify_against(endpoint: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .current_dir(crate::repo())
        .args([
            "verify",
            "--env",
            "environments/dev.toml",
            "--endpoint-url",
            endpoint,
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLEVERIFY01")
        .env("AWS_SECRET_ACCESS_KEY", "verify-test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run xacct");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The endpoint accepts connections but GetCallerIdentity never gets an answer,
/// or the credentials are rejected: local setup, exit 2, no XV002 finding
/// (it would become a code-scanning alert).
#[test]
fn a_failing_caller_identity_for_setup_reasons_is_exit_2_not_a_finding() {
    let closed = fake_sts(None);
    let (code, out, err) = verify_against(&closed);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(!out.contains("XV002"), "{out}");
    assert!(err.contains("cannot reach AWS STS"), "{err}");
    assert!(err.contains(&closed), "names the endpoint: {err}");

    let rejected = fake_sts(Some(sts_error(
        "403 Forbidden",
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )));
    let (code, out, err) = verify_against(&rejected);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(!out.contains("XV002"), "{out}");
    assert!(
        err.contains("credentials were rejected") && err.contains("InvalidClientTokenId"),
        "{err}"
    );
    assert!(err.contains("aws sso login"), "says what to do: {err}");
}

/// A real read failure of the primary account (AccessDenied) stays the XV002 finding.
#[test]
fn an_access_denied_caller_identity_stays_an_xv002_finding() {
    let denied = fake_sts(Some(sts_error(
        "403 Forbidden",
        "AccessDenied",
        "not authorized to perform sts:GetCallerIdentity",
    )));
    let (code, out, err) = verify_against(&denied);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("XV002") && out.contains("AccessDenied"),
        "{out}"
    );
}
