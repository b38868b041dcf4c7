//! Local setup problems, found before any check runs: a profile that does not
//! exist, no credentials at all, an endpoint nobody answers on. They are the
//! operator's to fix, not findings about the environment, so commands answer
//! them with exit code 2 and the fix, in plain words.

use std::path::PathBuf;
use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;

use super::{Aws, Target};

/// A local setup problem and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}: {fix}")]
pub struct SetupError {
    pub problem: String,
    pub fix: String,
}

impl SetupError {
    fn new(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        SetupError {
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// How long the endpoint and credential checks may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks the endpoint (when given), the profile (when given) and that the
/// credential chain yields credentials, in that order.
pub async fn preflight(aws: &Aws, target: &Target) -> Result<(), SetupError> {
    if let Some(url) = &target.endpoint_url {
        check_endpoint(url).await?;
    }
    if let Some(profile) = &target.profile {
        check_profile(profile)?;
    }
    let Some(provider) = aws.config.credentials_provider() else {
        return Err(no_credentials("the SDK has no credential provider"));
    };
    match tokio::time::timeout(CHECK_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(no_credentials(&crate::aws::error::chain(&e))),
        Err(_) => Err(no_credentials(&format!(
            "the credential chain did not answer within {}s",
            CHECK_TIMEOUT.as_secs()
        ))),
    }
}

/// Whether a failed `sts:GetCallerIdentity` is a local setup problem (no
/// connection, rejected or expired credentials, an endpoint that does not
/// answer like STS) rather than something about the environment: then it is
/// answered like the preflight's problems (exit 2), never as a finding.
pub fn caller_identity_problem<E>(
    e: &aws_sdk_sts::error::SdkError<E>,
    target: &Target,
) -> Option<SetupError>
where
    E: std::error::Error + aws_sdk_sts::error::ProvideErrorMetadata + 'static,
{
    use aws_sdk_sts::error::SdkError;
    const CREDENTIAL_CODES: &[&str] = &[
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "UnrecognizedClientException",
        "MissingAuthenticationToken",
        "RequestExpired",
        "AuthFailure",
    ];
    let what = crate::aws::describe(e);
    let endpoint = target
        .endpoint_url
        .as_deref()
        .map(|u| format!(" at --endpoint-url {u}"))
        .unwrap_or_default();
    match e {
        SdkError::ServiceError(_) => {
            let code = aws_sdk_sts::error::ProvideErrorMetadata::code(e).unwrap_or_default();
            CREDENTIAL_CODES.contains(&code).then(|| {
                SetupError::new(
                    format!("the AWS credentials were rejected by sts:GetCallerIdentity{endpoint} ({what})"),
                    "refresh or replace them: run `aws sso login --profile NAME`, pass another --profile, or set AWS_PROFILE",
                )
            })
        }
        SdkError::ResponseError(_) => Some(SetupError::new(
            format!(
                "sts:GetCallerIdentity{endpoint} got an answer that is not from AWS STS ({what})"
            ),
            "check --endpoint-url (or leave it out to reach AWS) and any proxy in between",
        )),
        _ => Some(SetupError::new(
            format!("cannot reach AWS STS{endpoint} for sts:GetCallerIdentity ({what})"),
            "check the network, --region and --endpoint-url (or leave it out to reach AWS)",
        )),
    }
}

fn no_credentials(why: &str) -> SetupError {
    SetupError::new(
        format!("no AWS credentials found ({why})"),
        "pass --profile NAME, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login --profile NAME`",
    )
}

crate::message_error! {
    /// Why an `--endpoint-url` is not usable (the value, the rule, the form to write).
    EndpointError
}

/// `http(s)://host[:port][/path]`; the form `--endpoint-url` accepts (clap value parser).
pub fn parse_endpoint_url(s: &str) -> Result<String, EndpointError> {
    if !s.starts_with("http://") && !s.starts_with("https://") {
        return Err(EndpointError(format!(
            "{s:?} has no http:// or https:// scheme: write it as http://HOST:PORT"
        )));
    }
    host_port(s).map(|_| s.to_owned())
}

/// (host, port) of an `http(s)://` URL; the port defaults to 80/443.
fn host_port(url: &str) -> Result<(String, u16), EndpointError> {
    let (default, rest) = match url.strip_prefix("https://") {
        Some(r) => (443, r),
        None => (80, url.strip_prefix("http://").unwrap_or(url)),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{url:?}: unclosed [ in the host"))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains('@') {
        return Err(EndpointError(format!(
            "{url:?} has no host: write it as http://HOST:PORT"
        )));
    }
    let port = match port {
        None => default,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{url:?}: the port {p:?} is not a number 1-65535"))?,
    };
    Ok((host.to_owned(), port))
}

async fn check_endpoint(url: &str) -> Result<(), SetupError> {
    let (host, port) = host_port(url).map_err(|e| {
        SetupError::new(
            format!("--endpoint-url {e}"),
            "write it as http://HOST:PORT",
        )
    })?;
    let fix = "start the emulator or fix --endpoint-url (or leave it out to reach AWS)";
    match tokio::time::timeout(
        CHECK_TIMEOUT,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(SetupError::new(
            format!("cannot connect to --endpoint-url {url}: {}", io_reason(&e)),
            fix,
        )),
        Err(_) => Err(SetupError::new(
            format!(
                "cannot connect to --endpoint-url {url}: no answer within {}s",
                CHECK_TIMEOUT.as_secs()
            ),
            fix,
        )),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        _ => e.to_string(),
    }
}

/// The shared config and credentials files, as the SDK finds them.
fn aws_files() -> Vec<(PathBuf, bool)> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let config = std::env::var_os("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/config"));
    let creds = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/credentials"));
    vec![(config, true), (creds, false)]
}

/// Profile names declared in the config (`[profile x]`, `[default]`) and
/// credentials (`[x]`) files.
fn profiles() -> Vec<String> {
    let mut out = Vec::new();
    for (path, is_config) in aws_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines() {
            let Some(section) = line
                .trim()
                .strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
            else {
                continue;
            };
            let section = section.trim();
            let name = if is_config {
                match section.strip_prefix("profile ") {
                    Some(n) => n.trim(),
                    None if section == "default" => section,
                    None => continue, // [sso-session x], [services x]
                }
            } else {
                section
            };
            if !out.iter().any(|p| p == name) {
                out.push(name.to_owned());
            }
        }
    }
    out
}

fn check_profile(profile: &str) -> Result<(), SetupError> {
    let known = profiles();
    if known.iter().any(|p| p == profile) {
        return Ok(());
    }
    let files = aws_files()
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    let fix = if known.is_empty() {
        format!("run `aws configure --profile {profile}` (or `aws configure sso`) to create it")
    } else {
        format!(
            "use one of {} or run `aws configure --profile {profile}`",
            known.join(", ")
        )
    };
    Err(SetupError::new(
        format!("profile `{profile}` is not in {files}"),
        fix,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://s3.example.com",
            "http://localhost:4566/",
            "http://[::1]:5000",
        ] {
            assert_eq!(parse_endpoint_url(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "127.0.0.1:5000",
            "localhost",
            "ftp://x",
            "http://",
            "http://host:99999",
        ] {
            assert!(parse_endpoint_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            host_port("http://127.0.0.1:5000"),
            Ok(("127.0.0.1".into(), 5000))
        );
        assert_eq!(
            host_port("https://s3.example.com/x"),
            Ok(("s3.example.com".into(), 443))
        );
        assert_eq!(host_port("http://[::1]:5000"), Ok(("::1".into(), 5000)));
    }
}
