//! [`AwsError`]: a failed AWS step, and [`describe`]: an SDK error in words.

use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// A failed AWS step: which API, on what, what AWS said, and (when known) what
/// to do next. Commands map it to exit code 1: the input was fine, AWS was not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{api} on {target}: {message}{}", next.as_deref().map(|n| format!("; {n}")).unwrap_or_default())]
pub struct AwsError {
    /// The API call, `service:Action` (`sts:AssumeRole`).
    pub api: String,
    /// What it was called on: an ARN, an account, a bucket, a stack.
    pub target: String,
    /// What AWS (or the connection) said, never cut.
    pub message: String,
    /// The next step for the operator, when one is known.
    pub next: Option<String>,
}

impl AwsError {
    pub fn new(
        api: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            api: api.into(),
            target: target.into(),
            message: message.into(),
            next: None,
        }
    }

    /// From an SDK error, described by [`describe`].
    pub fn sdk<E>(api: impl Into<String>, target: impl Into<String>, e: &SdkError<E>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        Self::new(api, target, describe(e))
    }

    /// The same error with a next step.
    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }

    /// The AWS error code, when the message starts with one (`AccessDenied: ...`).
    pub fn code(&self) -> Option<&str> {
        let (code, _) = self.message.split_once(':')?;
        (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
            .then_some(code)
    }
}

/// An SDK error in one line: `Code: message` when the service answered with a
/// modelled error; for an answer the SDK could not parse (an XML or HTML error
/// body where a JSON-protocol service was expected, from a proxy or an
/// emulator) the body's `<Code>`/`<Message>`, or its text, and the HTTP status;
/// otherwise the whole error chain (connection refused, timeout, credentials).
/// Never cut, never a `Debug` dump, never a request ID or a secret.
pub fn describe<E>(e: &SdkError<E>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => return format!("{code}: {msg}"),
        (Some(code), None) => return code.to_owned(),
        _ => {}
    }
    let Some(raw) = e.raw_response() else {
        return DisplayErrorContext(e).to_string();
    };
    let status = raw.status().as_u16();
    let body = raw
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let tag = |t: &str| {
        let (open, close) = (format!("<{t}>"), format!("</{t}>"));
        let start = body.find(&open)? + open.len();
        let len = body[start..].find(&close)?;
        Some(body[start..start + len].trim().to_owned())
    };
    match (tag("Code"), tag("Message")) {
        (Some(code), Some(msg)) => format!("{code}: {msg} (HTTP {status})"),
        _ => {
            let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                format!("HTTP {status}: {flat}")
            }
        }
    }
}

/// An error and its sources, `: `-separated (what `{:#}` prints for anyhow).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_api_target_message_and_next_step() {
        let e = AwsError::new(
            "sts:AssumeRole",
            "arn:aws:iam::123456789012:role/x",
            "AccessDenied: no",
        )
        .next("add the verifier to access.verifier_principals");
        assert_eq!(
            e.to_string(),
            "sts:AssumeRole on arn:aws:iam::123456789012:role/x: AccessDenied: no; add the verifier to access.verifier_principals"
        );
        assert_eq!(e.code(), Some("AccessDenied"));
        assert_eq!(AwsError::new("a", "b", "dispatch failure: io").code(), None);
    }
}
