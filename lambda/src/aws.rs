//! The small client set built once per container: the base SDK config (the
//! execution role's credentials), DynamoDB (the provisioning-state table, in
//! the function's region), Organizations (us-east-1, discovery only),
//! SNS (ops notifications) and, per storage account, an S3 client signed with
//! the account's assumed `S3BucketManager` credentials.
//!
//! Every client honours `AWS_ENDPOINT_URL` (aws-config), so tests point them
//! at moto; S3 then switches to path-style addressing. Throttling and 5xx are
//! retried by the SDK's standard retry mode with exponential backoff and jitter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{
    ConfigBag, Intercept, ProvideCredentials, RuntimeComponents, SharedCredentialsProvider,
    interceptors::BeforeTransmitInterceptorContextRef,
};
use aws_sdk_s3::error::BoxError;

use crate::config::Config;
use crate::contract;

/// Attempts per AWS call (1 + 4 retries) for throttling, 5xx and transient errors.
pub const MAX_ATTEMPTS: u32 = 5;
/// Session name shown in CloudTrail for the assumed storage roles.
pub const SESSION_NAME: &str = "xacct-provisioner";

/// Counts AWS HTTP requests (every attempt, every service, STS included).
/// Used by the benchmark and tests; costs one atomic add per call.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }
    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.add();
        Ok(())
    }
}

/// An `AssumeRoleProvider` that counts its `sts:AssumeRole` calls.
#[derive(Debug)]
struct CountingProvider {
    inner: AssumeRoleProvider,
    counter: CallCounter,
}

impl ProvideCredentials for CountingProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.counter.add();
            self.inner.provide_credentials().await
        })
    }
}

/// Clients for one storage account.
#[derive(Debug, Clone)]
pub struct Storage {
    pub account_id: String,
    /// The raw assume-role provider (no cache): the self-test calls it to prove trust.
    pub provider: SharedCredentialsProvider,
    /// S3 in the bucket region, with a credentials cache that refreshes before expiry.
    pub s3: aws_sdk_s3::Client,
}

/// Everything the service talks to, built once in `main` (or by a test).
#[derive(Debug, Clone)]
pub struct Clients {
    pub base: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub organizations: aws_sdk_organizations::Client,
    pub sns: Option<aws_sdk_sns::Client>,
    pub counter: CallCounter,
}

/// Loads the base SDK config from the environment with the retry policy.
pub async fn load_base() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

impl Clients {
    /// Builds the client set from a base config (the execution role's credentials).
    pub fn new(base: SdkConfig, cfg: &Config) -> Clients {
        let counter = CallCounter::default();
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&base)
                .interceptor(counter.clone())
                .build(),
        );
        let organizations = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&base)
                .region(Region::new(contract::ORGANIZATIONS_REGION))
                .interceptor(counter.clone())
                .build(),
        );
        let sns = cfg.ops_topic_arn.as_ref().map(|arn| {
            // arn:aws:sns:<region>:<account>:<name>: publish in the topic's region.
            let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
            aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(&base)
                    .region(Region::new(region))
                    .interceptor(counter.clone())
                    .build(),
            )
        });
        Clients {
            base,
            dynamodb,
            organizations,
            sns,
            counter,
        }
    }

    /// Loads the environment's SDK config and builds the client set.
    pub async fn from_env(cfg: &Config) -> Clients {
        Clients::new(load_base().await, cfg)
    }

    /// Clients for one storage account: S3 through `sts:AssumeRole` of
    /// `arn:aws:iam::<account>:role/S3BucketManager` (with the optional ExternalId).
    pub async fn storage(&self, account_id: &str, cfg: &Config) -> Storage {
        let mut builder = AssumeRoleProvider::builder(contract::storage_role_arn(account_id))
            .session_name(SESSION_NAME)
            .configure(&self.base);
        if let Some(id) = &cfg.external_id {
            builder = builder.external_id(id);
        }
        let provider = SharedCredentialsProvider::new(CountingProvider {
            inner: builder.build().await,
            counter: self.counter.clone(),
        });
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.base)
                .credentials_provider(provider.clone())
                .region(Region::new(cfg.bucket_region.clone()))
                .force_path_style(self.base.endpoint_url().is_some())
                .interceptor(self.counter.clone())
                .build(),
        );
        Storage {
            account_id: account_id.to_owned(),
            provider,
            s3,
        }
    }
}
