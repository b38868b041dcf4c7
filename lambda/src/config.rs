//! Configuration from the Lambda environment variables the generator renders
//! (`contract::env`). Pure: the lookup is a closure so tests need no process env.

use crate::contract::{self, env};

/// Default of [`env::CAPACITY_WARN_PERCENT`].
pub use contract::DEFAULT_WARN_PERCENT;

/// Validated runtime configuration. It never holds secrets: the legacy PHR
/// access keys are not read at all (PHR requests are answered from names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub environment: String,
    pub bucket_region: String,
    pub primary_account: Option<String>,
    pub max_buckets_per_account: usize,
    /// Storage accounts in spec order; empty means discovery through Organizations.
    pub storage_accounts: Vec<String>,
    pub phr_account: Option<String>,
    pub phr_bucket: Option<String>,
    pub bucket_prefix: String,
    /// Where new customer buckets are created ([`env::BUCKET_NAMESPACE`],
    /// `global` when absent).
    pub bucket_namespace: contract::BucketNamespace,
    pub external_id: Option<String>,
    pub reader_principals: Vec<String>,
    pub warn_percent: u8,
    pub ops_topic_arn: Option<String>,
    /// The provisioning-state table (counters and customer records), in the
    /// function's own account and region.
    pub state_table: String,
}

/// A missing or malformed environment variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {var} is invalid: {why}")]
    Invalid { var: &'static str, why: String },
}

use contract::is_account_id;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (e.g. a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let opt = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let req = |k: &'static str| opt(k).ok_or(ConfigError::Missing(k));
        let invalid = |var: &'static str, why: String| ConfigError::Invalid { var, why };

        let environment = req(env::ENVIRONMENT)?;
        let bucket_region = req(env::BUCKET_REGION)?;
        if !contract::is_region(&bucket_region) {
            return Err(invalid(
                env::BUCKET_REGION,
                format!("{bucket_region:?} is not a region name"),
            ));
        }
        let max_raw = req(env::MAX_BUCKETS_PER_ACCOUNT)?;
        let max_buckets_per_account: usize =
            max_raw.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    env::MAX_BUCKETS_PER_ACCOUNT,
                    format!("{max_raw:?} is not a positive integer"),
                )
            })?;
        let bucket_prefix = req(env::BUCKET_PREFIX)?;
        contract::check_bucket_prefix(&bucket_prefix)
            .map_err(|e| invalid(env::BUCKET_PREFIX, format!("{bucket_prefix:?} {e}")))?;
        let bucket_namespace = match opt(env::BUCKET_NAMESPACE) {
            None => contract::BucketNamespace::Global,
            Some(v) => contract::BucketNamespace::parse(&v).ok_or_else(|| {
                invalid(
                    env::BUCKET_NAMESPACE,
                    format!(
                        "{v:?} is not {:?} or {:?}",
                        contract::ACCOUNT_REGIONAL,
                        contract::GLOBAL
                    ),
                )
            })?,
        };
        if bucket_namespace == contract::BucketNamespace::AccountRegional {
            contract::check_namespaced_prefix(&bucket_prefix, &bucket_region)
                .map_err(|e| invalid(env::BUCKET_PREFIX, format!("{bucket_prefix:?} {e}")))?;
        }

        let mut storage_accounts = Vec::new();
        for a in contract::split_list(&opt(env::STORAGE_ACCOUNTS).unwrap_or_default()) {
            if !is_account_id(&a) {
                return Err(invalid(
                    env::STORAGE_ACCOUNTS,
                    format!("{a:?} is not a 12-digit account ID"),
                ));
            }
            if !storage_accounts.contains(&a) {
                storage_accounts.push(a);
            }
        }
        let account = |var: &'static str| -> Result<Option<String>, ConfigError> {
            match opt(var) {
                Some(a) if !is_account_id(&a) => {
                    Err(invalid(var, format!("{a:?} is not a 12-digit account ID")))
                }
                other => Ok(other),
            }
        };
        let primary_account = account(env::PRIMARY_ACCOUNT)?;
        let phr_account = account(env::PHR_ACCOUNT)?;
        let phr_bucket = opt(env::PHR_BUCKET);
        if let Some(b) = &phr_bucket {
            contract::check_bucket_name(b)
                .map_err(|e| invalid(env::PHR_BUCKET, format!("{b:?} {e}")))?;
        }
        let warn_percent = match opt(env::CAPACITY_WARN_PERCENT) {
            None => DEFAULT_WARN_PERCENT,
            Some(v) => v
                .parse()
                .ok()
                .filter(|p| (1..=100).contains(p))
                .ok_or_else(|| {
                    invalid(
                        env::CAPACITY_WARN_PERCENT,
                        format!("{v:?} is not a percentage 1..=100"),
                    )
                })?,
        };
        let ops_topic_arn = opt(env::OPS_TOPIC_ARN);
        if let Some(t) = &ops_topic_arn
            && !contract::is_sns_topic_arn(t)
        {
            return Err(invalid(
                env::OPS_TOPIC_ARN,
                format!("{t:?} is not {}", contract::SNS_TOPIC_ARN_RULE),
            ));
        }
        let state_table = req(env::STATE_TABLE)?;
        // DynamoDB table names: 3-255 characters of [A-Za-z0-9_.-].
        if !(3..=255).contains(&state_table.len())
            || !state_table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            return Err(invalid(
                env::STATE_TABLE,
                format!(
                    "{state_table:?} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"
                ),
            ));
        }
        Ok(Config {
            environment,
            bucket_region,
            primary_account,
            max_buckets_per_account,
            storage_accounts,
            phr_account,
            phr_bucket,
            bucket_prefix,
            bucket_namespace,
            external_id: opt(env::EXTERNAL_ID),
            reader_principals: contract::split_list(
                &opt(env::READER_PRINCIPALS).unwrap_or_default(),
            ),
            warn_percent,
            ops_topic_arn,
            state_table,
        })
    }

    /// Bucket count at which an account crosses the warning threshold.
    pub fn warn_at(&self) -> usize {
        contract::warn_at(self.max_buckets_per_account as u64, self.warn_percent) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            (env::ENVIRONMENT, "development"),
            (env::BUCKET_REGION, "eu-west-1"),
            (env::MAX_BUCKETS_PER_ACCOUNT, "10"),
            (env::BUCKET_PREFIX, "ambra-dev"),
            (
                env::STORAGE_ACCOUNTS,
                "100000000002, 100000000003,100000000002",
            ),
            (env::STATE_TABLE, "s3-bucket-provisioning-dev-state"),
        ])
    }

    fn load(m: &HashMap<&'static str, &'static str>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| m.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn reads_and_deduplicates() {
        let c = load(&base()).unwrap();
        assert_eq!(c.storage_accounts, ["100000000002", "100000000003"]);
        assert_eq!(c.warn_percent, 80);
        assert_eq!(c.warn_at(), 8);
        assert_eq!(c.state_table, "s3-bucket-provisioning-dev-state");
    }

    #[test]
    fn names_the_bad_variable() {
        let mut m = base();
        m.insert(env::MAX_BUCKETS_PER_ACCOUNT, "0");
        assert!(
            load(&m)
                .unwrap_err()
                .to_string()
                .contains(env::MAX_BUCKETS_PER_ACCOUNT)
        );
        let mut m = base();
        m.remove(env::ENVIRONMENT);
        assert_eq!(load(&m), Err(ConfigError::Missing(env::ENVIRONMENT)));
        let mut m = base();
        m.insert(env::STORAGE_ACCOUNTS, "12");
        assert!(
            load(&m)
                .unwrap_err()
                .to_string()
                .contains(env::STORAGE_ACCOUNTS)
        );
        let mut m = base();
        m.remove(env::STATE_TABLE);
        assert_eq!(load(&m), Err(ConfigError::Missing(env::STATE_TABLE)));
        let mut m = base();
        m.insert(env::BUCKET_NAMESPACE, "regional");
        assert!(
            load(&m)
                .unwrap_err()
                .to_string()
                .contains(env::BUCKET_NAMESPACE)
        );
        let mut m = base();
        m.insert(env::BUCKET_NAMESPACE, "account-regional");
        m.insert(env::BUCKET_PREFIX, "ambra-development-customers");
        let e = load(&m).unwrap_err().to_string();
        assert!(e.contains(env::BUCKET_PREFIX) && e.contains("63"), "{e}");
        let mut m = base();
        m.insert(env::STATE_TABLE, "a b");
        assert!(load(&m).unwrap_err().to_string().contains(env::STATE_TABLE));
    }
}
