//! The provisioning-state table as `xacct capacity` and `xacct verify` see it:
//! the capacity counters, the customer records still `creating` (creates in
//! flight), drift against a listing, and the conditional writes of
//! `capacity --reconcile`. Names and shapes come from `contract::state`; the
//! Lambda writes the same items (`lambda/src/state.rs`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Aws, AwsError};
use crate::contract::state as s;

use xacct_state::{Item, get_s, key, now_ms};

pub use xacct_state::Counter;

/// What the table says about the storage accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Counter per account (absent: the account has had no new customer yet).
    pub counters: HashMap<String, Counter>,
    /// Buckets of `creating` records, per account (creates in flight or interrupted).
    pub creating: HashMap<String, Vec<String>>,
}

/// A counter compared with a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drift {
    pub counter: u64,
    pub listed: u64,
    /// `creating` records of the account: a counter may exceed the listing by
    /// up to this many while their buckets are being created.
    pub in_flight: u64,
}

impl Drift {
    /// `counter - listed`, zero when the difference is explained by creates in flight.
    pub fn excess(&self) -> i64 {
        let d = self.counter as i64 - self.listed as i64;
        if (0..=self.in_flight as i64).contains(&d) {
            0
        } else {
            d
        }
    }
}

impl State {
    /// The drift of `account` against `listed` customer buckets; `None`
    /// without a counter.
    pub fn drift(&self, account: &str, listed: u64) -> Option<Drift> {
        let c = self.counters.get(account)?;
        Some(Drift {
            counter: c.count as u64,
            listed,
            in_flight: self.creating.get(account).map_or(0, |v| v.len() as u64),
        })
    }
}

/// The state table of an environment, reached with the caller's credentials
/// (the primary account) in the table's region.
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
}

impl Table {
    pub fn new(aws: &Aws, region: &str, name: &str) -> Table {
        let conf = aws_sdk_dynamodb::config::Builder::from(&aws.config)
            .region(aws_config::Region::new(region.to_owned()))
            .build();
        Table {
            client: aws_sdk_dynamodb::Client::from_conf(conf),
            name: name.to_owned(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table's security settings (`DescribeTable` and
    /// `DescribeContinuousBackups` at once), in the Terraform shape of
    /// `aws_dynamodb_table` (`audit::settings::TABLE`), and its ARN.
    pub async fn settings(&self) -> Result<(String, serde_json::Value), AwsError> {
        let (table, backups) = tokio::join!(
            self.client.describe_table().table_name(&self.name).send(),
            self.client
                .describe_continuous_backups()
                .table_name(&self.name)
                .send(),
        );
        let table = table.map_err(|e| AwsError::sdk("dynamodb:DescribeTable", &self.name, &e))?;
        let backups = backups
            .map_err(|e| AwsError::sdk("dynamodb:DescribeContinuousBackups", &self.name, &e))?;
        let t = table.table();
        let pitr = backups
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            .is_some_and(|s| s.as_str() == "ENABLED");
        // No SSE description: the AWS owned key (Terraform's `enabled = false`).
        // The key's ARN is not read: live it is an ARN both for AWS's managed
        // key (`enabled = true` without `kms_key_arn`) and for a customer
        // key, which the render holds as a reference; XV027 checks the
        // customer key's use where the spec renders one.
        let sse = t.and_then(|t| t.sse_description()).map(|d| {
            serde_json::json!({
                "enabled": d.status().is_some_and(|s| matches!(s.as_str(), "ENABLED" | "ENABLING" | "UPDATING")),
            })
        });
        Ok((
            t.and_then(|t| t.table_arn())
                .unwrap_or(&self.name)
                .to_owned(),
            serde_json::json!({
                "name": self.name,
                "deletion_protection_enabled": t.and_then(|t| t.deletion_protection_enabled()).unwrap_or(false),
                "point_in_time_recovery": [{"enabled": pitr}],
                "server_side_encryption": [sse.unwrap_or(serde_json::json!({"enabled": false}))],
            }),
        ))
    }

    /// Counters (strongly consistent `BatchGetItem`, 100 keys a call) and the
    /// `creating` records (paginated `Scan` with a filter).
    pub async fn read(&self, accounts: &[String]) -> Result<State, AwsError> {
        let mut state = State::default();
        let keys: Vec<Item> = accounts.iter().map(|a| key(s::counter_key(a))).collect();
        let items = xacct_state::batch_get(
            &self.client,
            &self.name,
            keys,
            true,
            xacct_state::Backoff::default(),
        )
        .await
        .map_err(|e| AwsError::new("dynamodb:BatchGetItem", &self.name, e.to_string()))?;
        for c in items.iter().filter_map(xacct_state::counter_from) {
            state.counters.insert(c.account_id.clone(), c);
        }
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.name)
                .consistent_read(true)
                .filter_expression("#s = :creating")
                .expression_attribute_names("#s", s::STATE)
                .expression_attribute_values(":creating", AttributeValue::S(s::CREATING.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| AwsError::sdk("dynamodb:Scan", &self.name, &e))?;
            for item in out.items() {
                if let (Some(a), Some(b)) = (get_s(item, s::ACCOUNT), get_s(item, s::BUCKET)) {
                    state
                        .creating
                        .entry(a.to_owned())
                        .or_default()
                        .push(b.to_owned());
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(state)
    }

    /// Sets `account`'s counter to its listing plus the `creating` records
    /// whose bucket is not listed yet. A missing counter is created with
    /// `attribute_not_exists`; an existing one is changed only if it still
    /// holds the value read (compare-and-set), re-read and retried on a
    /// conflict with a running Lambda. `listed_at` is kept (the Lambda uses it
    /// to tell buckets older than the counter). Returns `(before, after)`.
    pub async fn reconcile(
        &self,
        account: &str,
        listed: &[String],
    ) -> Result<(Option<u64>, u64), AwsError> {
        let target = |state: &State| {
            listed.len() as u64
                + state.creating.get(account).map_or(0, |v| {
                    v.iter().filter(|b| !listed.contains(b)).count() as u64
                })
        };
        for _ in 0..5 {
            let state = self.read(&[account.to_owned()]).await?;
            let want = target(&state);
            let now = AttributeValue::N(now_ms().to_string());
            let result = match state.counters.get(account) {
                Some(c) if c.count as u64 == want => return Ok((Some(want), want)),
                Some(c) => self
                    .client
                    .update_item()
                    .table_name(&self.name)
                    .set_key(Some(key(s::counter_key(account))))
                    .update_expression("SET #c = :want, #u = :now")
                    .condition_expression("#c = :old")
                    .expression_attribute_names("#c", s::BUCKET_COUNT)
                    .expression_attribute_names("#u", s::UPDATED_AT)
                    .expression_attribute_values(":want", AttributeValue::N(want.to_string()))
                    .expression_attribute_values(":old", AttributeValue::N(c.count.to_string()))
                    .expression_attribute_values(":now", now)
                    .send()
                    .await
                    .map(|_| Some(c.count as u64))
                    .map_err(|e| {
                        (
                            e.as_service_error()
                                .is_some_and(|s| s.is_conditional_check_failed_exception()),
                            AwsError::sdk("dynamodb:UpdateItem", &self.name, &e),
                        )
                    }),
                None => {
                    let item = HashMap::from([
                        (
                            s::PARTITION_KEY.to_owned(),
                            AttributeValue::S(s::counter_key(account)),
                        ),
                        (
                            s::BUCKET_COUNT.to_owned(),
                            AttributeValue::N(want.to_string()),
                        ),
                        (s::LISTED_AT.to_owned(), now.clone()),
                        (s::UPDATED_AT.to_owned(), now),
                    ]);
                    self.client
                        .put_item()
                        .table_name(&self.name)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", s::PARTITION_KEY)
                        .send()
                        .await
                        .map(|_| None)
                        .map_err(|e| {
                            (
                                e.as_service_error()
                                    .is_some_and(|s| s.is_conditional_check_failed_exception()),
                                AwsError::sdk("dynamodb:PutItem", &self.name, &e),
                            )
                        })
                }
            };
            match result {
                Ok(before) => return Ok((before, want)),
                Err((true, _)) => continue,
                Err((false, e)) => return Err(e),
            }
        }
        Err(AwsError::new(
            "dynamodb:UpdateItem",
            &self.name,
            format!("the counter of {account} kept changing (5 tries); run the reconcile again"),
        ))
    }
}
