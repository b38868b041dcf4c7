//! The AWS layer under every live command (`verify`, `capacity`, `onboard`,
//! `offboard`, `accounts`, `stackset`): one base configuration (standard
//! credential chain, timeouts, retries with backoff, optional endpoint), clients,
//! sessions obtained by `sts:AssumeRole` (named after the command that opens
//! them, so CloudTrail tells `xacct-verify` from `xacct-onboard`), the audit-role
//! session, paginated listings, and [`AwsError`], the one error type of a failed
//! AWS step (exit code 1). Nothing here prints.

mod audit;
pub(crate) mod error;
mod list;
mod preflight;
pub mod state;

pub use audit::{audit_role_in, audit_session, confirm_audit_role};
pub use error::{AwsError, describe};
pub use list::{bucket_names, buckets};
pub use preflight::{SetupError, caller_identity_problem, parse_endpoint_url, preflight};

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_sts::error::ProvideErrorMetadata;

/// Where and how to reach AWS, and which command is asking.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// The subcommand (`verify`, `onboard`, ...): sessions are named `xacct-<command>`.
    pub command: &'static str,
}

/// A configuration to build clients from, plus whether S3 needs path-style addressing.
#[derive(Clone)]
pub struct Aws {
    pub config: SdkConfig,
    pub path_style: bool,
    /// `RoleSessionName` of the sessions this configuration opens.
    pub session_name: String,
}

/// Removes the `<12 digits>.` host prefix S3 Control puts before an overridden
/// endpoint (see [`Aws::s3control`]).
#[derive(Debug)]
struct NoAccountHostPrefix;

impl aws_sdk_s3control::config::Intercept for NoAccountHostPrefix {
    fn name(&self) -> &'static str {
        "NoAccountHostPrefix"
    }

    fn modify_before_signing(
        &self,
        ctx: &mut aws_sdk_s3control::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _rc: &aws_sdk_s3control::config::RuntimeComponents,
        _cfg: &mut aws_sdk_s3control::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3control::error::BoxError> {
        let req = ctx.request_mut();
        let uri = req.uri().to_owned();
        if let Some((scheme, rest)) = uri.split_once("://")
            && let Some((label, host)) = rest.split_once('.')
            && crate::contract::is_account_id(label)
        {
            req.set_uri(format!("{scheme}://{host}"))?;
            req.headers_mut().remove("host");
        }
        Ok(())
    }
}

/// Per-attempt and per-operation timeouts of every call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts per call (standard retry mode: exponential backoff with jitter).
pub const MAX_ATTEMPTS: u32 = 4;

impl Aws {
    /// The standard chain (env, profile, SSO, IMDS), `default_region` when none is configured.
    pub async fn load(target: &Target, default_region: &str) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            );
        if let Some(p) = &target.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &target.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(e) = &target.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let mut config = loader.load().await;
        if config.region().is_none() {
            config = config
                .to_builder()
                .region(aws_config::Region::new(default_region.to_owned()))
                .build();
        }
        let path_style = target.endpoint_url.is_some()
            || std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let command = if target.command.is_empty() {
            "cli"
        } else {
            target.command
        };
        Aws {
            config,
            path_style,
            session_name: format!("xacct-{command}"),
        }
    }

    /// The same configuration with other credentials.
    pub fn with_credentials(&self, creds: Credentials) -> Aws {
        Aws {
            config: self
                .config
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(creds))
                .build(),
            path_style: self.path_style,
            session_name: self.session_name.clone(),
        }
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.config)
    }

    /// Service Quotas in us-east-1, where the account-wide S3 bucket quota is
    /// kept; two attempts only (the figure is informational, with fallbacks).
    pub fn servicequotas(&self) -> aws_sdk_servicequotas::Client {
        let conf = aws_sdk_servicequotas::config::Builder::from(&self.config)
            .region(aws_config::Region::new("us-east-1"))
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .build();
        aws_sdk_servicequotas::Client::from_conf(conf)
    }

    /// KMS: the customer-managed key's rotation and policy (verify XV027).
    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.config)
    }

    /// CloudTrail: the optional trail (verify XV028).
    pub fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.config)
    }

    /// CloudWatch Logs: the function's log group (its KMS key, verify XV027).
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.config)
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config)
    }

    /// Organizations in us-east-1, where its endpoint lives.
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config)
            .region(aws_config::Region::new(
                crate::contract::ORGANIZATIONS_REGION,
            ))
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .force_path_style(self.path_style)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// S3 Control (account-level Block Public Access). AWS addresses it as
    /// `<account>.s3-control.<region>.amazonaws.com`; against an endpoint override
    /// (a local emulator, like path-style S3) the account prefix is taken off again
    /// before signing, since `<account>.127.0.0.1` resolves nowhere.
    pub fn s3control(&self) -> aws_sdk_s3control::Client {
        let mut conf = aws_sdk_s3control::config::Builder::from(&self.config);
        if self.path_style {
            conf = conf.interceptor(NoAccountHostPrefix);
        }
        aws_sdk_s3control::Client::from_conf(conf.build())
    }

    /// `sts:AssumeRole` into `role_arn` (session [`Aws::session_name`]), returning a
    /// configuration with the role's credentials.
    pub async fn assume(&self, role_arn: &str, external_id: Option<&str>) -> Result<Aws, AwsError> {
        let mut req = self
            .sts()
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(&self.session_name)
            .duration_seconds(900);
        if let Some(x) = external_id {
            req = req.external_id(x);
        }
        let out = req
            .send()
            .await
            .map_err(|e| AwsError::sdk("sts:AssumeRole", role_arn, &e))?;
        let c = out.credentials().ok_or_else(|| {
            AwsError::new(
                "sts:AssumeRole",
                role_arn,
                "the answer carried no credentials",
            )
        })?;
        let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "xacct",
        );
        Ok(self.with_credentials(creds))
    }
}

/// The error code of an SDK error (`NoSuchEntity`, `AccessDenied`, ...).
pub fn code<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_are_named_after_the_command() {
        let target = Target {
            endpoint_url: Some("http://127.0.0.1:9".to_owned()),
            command: "capacity",
            ..Target::default()
        };
        let aws = Aws::load(&target, "us-east-1").await;
        assert_eq!(aws.session_name, "xacct-capacity");
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        assert_eq!(aws.with_credentials(creds).session_name, "xacct-capacity");
    }
}
