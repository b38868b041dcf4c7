//! The provisioning-state table (DynamoDB), shared by every container: one
//! counter item per storage account and one record per customer
//! (`contract::state` names the keys and attributes).
//!
//! Every write that changes a count is conditional, and the ones that must
//! happen together (a record and its reservation) are one transaction, so the
//! table never holds a record counted twice or a count above the maximum.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem, Update};

use crate::contract::state as s;

pub use xacct_state::{BATCH_GET_MAX, Counter, Record, counter_from, now_ms, record_from};
use xacct_state::{Item, key, nv, sv};

/// A failed table call, with the SDK's full error context.
#[derive(Debug, thiserror::Error)]
#[error("{step} on table {table} failed: {message}")]
pub struct StateError {
    pub step: &'static str,
    pub table: String,
    pub message: String,
}

/// Outcome of [`Table::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserve {
    /// The record now exists with this account, whose counter was incremented.
    Reserved,
    /// The customer already has a record (returned with the cancellation,
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD`): nothing was written.
    Claimed(Option<Record>),
    /// The account is at its maximum (or has no counter): nothing was written.
    Full,
}

fn condition_failed<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// Which items of a cancelled transaction failed their condition.
fn cancelled(e: &SdkError<TransactWriteItemsError>) -> Option<Vec<bool>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => Some(
            t.cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

/// The old item of the first cancelled action, when the action asked for it.
fn cancelled_item(e: &SdkError<TransactWriteItemsError>) -> Option<Record> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => t
            .cancellation_reasons()
            .first()
            .and_then(|r| r.item())
            .and_then(record_from),
        _ => None,
    }
}

/// The table, through the execution role's DynamoDB client.
#[derive(Debug, Clone)]
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
}

impl Table {
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Table {
        Table {
            client,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn fail(&self, step: &'static str, e: &dyn std::error::Error) -> StateError {
        StateError {
            step,
            table: self.name.clone(),
            message: DisplayErrorContext(e).to_string(),
        }
    }

    /// The customer's record (strongly consistent `GetItem`) under its key.
    pub async fn record(&self, record_key: &str) -> Result<Option<Record>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key(s::record_key(record_key))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fail("GetItem", &e))?;
        Ok(out.item().and_then(record_from))
    }

    /// One strongly consistent `BatchGetItem` (per 100 keys): the record under
    /// `record_key` (when given) and the counters of `accounts` that exist.
    pub async fn read(
        &self,
        record_key: Option<&str>,
        accounts: &[String],
    ) -> Result<(Option<Record>, HashMap<String, Counter>), StateError> {
        let keys: Vec<Item> = record_key
            .map(|b| key(s::record_key(b)))
            .into_iter()
            .chain(accounts.iter().map(|a| key(s::counter_key(a))))
            .collect();
        let items = xacct_state::batch_get(
            &self.client,
            &self.name,
            keys,
            true,
            xacct_state::Backoff::default(),
        )
        .await
        .map_err(|e| StateError {
            step: "BatchGetItem",
            table: self.name.clone(),
            message: match e {
                xacct_state::BatchGetError::Call { message, .. } => message,
                unprocessed => unprocessed.to_string(),
            },
        })?;
        let (mut record, mut counters) = (None, HashMap::new());
        for item in &items {
            if let Some(c) = counter_from(item) {
                counters.insert(c.account_id.clone(), c);
            } else if let Some(r) = record_from(item) {
                record = Some(r);
            }
        }
        Ok((record, counters))
    }

    /// One account's counter (strongly consistent `GetItem`), if it exists.
    pub async fn counter(&self, account: &str) -> Result<Option<Counter>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key(s::counter_key(account))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fail("GetItem (counter)", &e))?;
        Ok(out.item().and_then(counter_from))
    }

    /// Marks `account`'s counter as past the warning threshold, once for the
    /// life of the counter (`attribute_not_exists(warned_at)`): `true` only
    /// for the one request, in any container, whose write set it.
    pub async fn mark_warned(&self, account: &str) -> Result<bool, StateError> {
        match self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key(s::counter_key(account))))
            .update_expression("SET #w = :now")
            .condition_expression("attribute_exists(#c) AND attribute_not_exists(#w)")
            .expression_attribute_names("#w", s::WARNED_AT)
            .expression_attribute_names("#c", s::BUCKET_COUNT)
            .expression_attribute_values(":now", nv(now_ms()))
            .return_values(ReturnValue::None)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.fail("UpdateItem (counter warned)", &e)),
        }
    }

    /// Creates an account's counter from a listing, unless another request
    /// already did (`attribute_not_exists`); returns the counter that holds.
    pub async fn init_counter(
        &self,
        account: &str,
        count: usize,
        listed_at: i64,
    ) -> Result<Counter, StateError> {
        let item = HashMap::from([
            (s::PARTITION_KEY.to_owned(), sv(s::counter_key(account))),
            (s::BUCKET_COUNT.to_owned(), nv(count)),
            (s::LISTED_AT.to_owned(), nv(listed_at)),
            (s::UPDATED_AT.to_owned(), nv(now_ms())),
        ]);
        match self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", s::PARTITION_KEY)
            .send()
            .await
        {
            Ok(_) => Ok(Counter {
                account_id: account.to_owned(),
                count,
                listed_at,
            }),
            Err(e) if condition_failed(&e) => {
                let (_, mut got) = self.read(None, &[account.to_owned()]).await?;
                got.remove(account).ok_or_else(|| StateError {
                    step: "PutItem (counter)",
                    table: self.name.clone(),
                    message: format!("the counter of {account} exists but cannot be read"),
                })
            }
            Err(e) => Err(self.fail("PutItem (counter)", &e)),
        }
    }

    fn counter_add(&self, account: &str, delta: i64, max: Option<usize>) -> TransactWriteItem {
        let mut u = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key(s::counter_key(account))))
            .update_expression("SET #c = #c + :d, #u = :now")
            .expression_attribute_names("#c", s::BUCKET_COUNT)
            .expression_attribute_names("#u", s::UPDATED_AT)
            .expression_attribute_values(":d", nv(delta))
            .expression_attribute_values(":now", nv(now_ms()));
        u = match max {
            Some(max) => u
                .condition_expression("#c < :max")
                .expression_attribute_values(":max", nv(max)),
            // A decrement never goes below zero; an increment needs the counter.
            None if delta < 0 => u
                .condition_expression("#c >= :one")
                .expression_attribute_values(":one", nv(-delta)),
            None => u.condition_expression("attribute_exists(#c)"),
        };
        TransactWriteItem::builder()
            .update(u.build().expect("key, table and expression are set"))
            .build()
    }

    /// Claims the customer and reserves one slot in `account` in one
    /// transaction: the record is put only if absent, the counter incremented
    /// only while `bucket_count < max`.
    pub async fn reserve(
        &self,
        record_key: &str,
        bucket: &str,
        customer: &str,
        account: &str,
        max: usize,
    ) -> Result<Reserve, StateError> {
        let now = now_ms();
        let record = HashMap::from([
            (s::PARTITION_KEY.to_owned(), sv(s::record_key(record_key))),
            (s::BUCKET.to_owned(), sv(bucket)),
            (s::CUSTOMER.to_owned(), sv(customer)),
            (s::ACCOUNT.to_owned(), sv(account)),
            (s::STATE.to_owned(), sv(s::CREATING)),
            (s::COUNTED_BY.to_owned(), sv(s::RESERVATION)),
            (s::CREATED_AT.to_owned(), nv(now)),
            (s::UPDATED_AT.to_owned(), nv(now)),
        ]);
        let put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(record))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", s::PARTITION_KEY)
            // A customer that already has a record costs no second read.
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .build()
            .expect("table and item are set");
        match self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(self.counter_add(account, 1, Some(max)))
            .send()
            .await
        {
            Ok(_) => Ok(Reserve::Reserved),
            Err(e) => match cancelled(&e) {
                Some(r) if r.first() == Some(&true) => Ok(Reserve::Claimed(cancelled_item(&e))),
                Some(r) if r.get(1) == Some(&true) => Ok(Reserve::Full),
                _ => Err(self.fail("TransactWriteItems (reserve)", &e)),
            },
        }
    }

    /// Sets the record's state (`ready` or back to `creating`) if it still
    /// names `account`; `false` when it does not.
    pub async fn set_state(
        &self,
        record_key: &str,
        account: &str,
        state: &str,
    ) -> Result<bool, StateError> {
        match self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key(s::record_key(record_key))))
            .update_expression("SET #s = :s, #u = :now")
            .condition_expression("#a = :a")
            .expression_attribute_names("#s", s::STATE)
            .expression_attribute_names("#u", s::UPDATED_AT)
            .expression_attribute_names("#a", s::ACCOUNT)
            .expression_attribute_values(":s", sv(state))
            .expression_attribute_values(":now", nv(now_ms()))
            .expression_attribute_values(":a", sv(account))
            .return_values(ReturnValue::None)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.fail("UpdateItem (record state)", &e)),
        }
    }

    /// Deletes a `creating` record and gives its reservation back, in one
    /// transaction; `false` when the record changed meanwhile (nothing written).
    pub async fn release(&self, rec: &Record) -> Result<bool, StateError> {
        let delete = Delete::builder()
            .table_name(&self.name)
            .set_key(Some(key(s::record_key(&rec.key))))
            .condition_expression("#a = :a AND #s = :creating AND #cb = :cb")
            .expression_attribute_names("#a", s::ACCOUNT)
            .expression_attribute_names("#s", s::STATE)
            .expression_attribute_names("#cb", s::COUNTED_BY)
            .expression_attribute_values(":a", sv(&rec.account_id))
            .expression_attribute_values(":creating", sv(s::CREATING))
            .expression_attribute_values(":cb", sv(counted_by(rec.counted_by_listing)))
            .build()
            .expect("table, key and condition are set");
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build());
        if !rec.counted_by_listing {
            tx = tx.transact_items(self.counter_add(&rec.account_id, -1, None));
        }
        match tx.send().await {
            Ok(_) => Ok(true),
            Err(e) if cancelled(&e).is_some() => Ok(false),
            Err(e) => Err(self.fail("TransactWriteItems (release)", &e)),
        }
    }

    /// Points the record at the account that really owns `bucket` (the
    /// record's own bucket, or the customer's legacy global name found by an
    /// account regional request) and moves the count with it, in one
    /// transaction: the reservation leaves `rec.account_id`, and `owner` gains
    /// one unless its listing already counted the bucket. `false` when the
    /// record changed meanwhile.
    pub async fn adopt(
        &self,
        rec: &Record,
        bucket: &str,
        owner: &str,
        owner_listed: bool,
    ) -> Result<bool, StateError> {
        let mut delta: HashMap<&str, i64> = HashMap::new();
        if !rec.counted_by_listing {
            *delta.entry(rec.account_id.as_str()).or_default() -= 1;
        }
        if !owner_listed {
            *delta.entry(owner).or_default() += 1;
        }
        let update = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key(s::record_key(&rec.key))))
            .update_expression("SET #a = :owner, #cb = :cb, #b = :bucket, #u = :now")
            .condition_expression("#a = :a AND #cb = :oldcb")
            .expression_attribute_names("#a", s::ACCOUNT)
            .expression_attribute_names("#cb", s::COUNTED_BY)
            .expression_attribute_names("#u", s::UPDATED_AT)
            .expression_attribute_names("#b", s::BUCKET)
            .expression_attribute_values(":bucket", sv(bucket))
            .expression_attribute_values(":owner", sv(owner))
            .expression_attribute_values(":cb", sv(counted_by(owner_listed)))
            .expression_attribute_values(":now", nv(now_ms()))
            .expression_attribute_values(":a", sv(&rec.account_id))
            .expression_attribute_values(":oldcb", sv(counted_by(rec.counted_by_listing)))
            .build()
            .expect("table, key and expressions are set");
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build());
        let mut accounts: Vec<_> = delta.into_iter().filter(|(_, d)| *d != 0).collect();
        accounts.sort();
        for (account, d) in accounts {
            tx = tx.transact_items(self.counter_add(account, d, None));
        }
        match tx.send().await {
            Ok(_) => Ok(true),
            Err(e) if cancelled(&e).is_some() => Ok(false),
            Err(e) => Err(self.fail("TransactWriteItems (adopt)", &e)),
        }
    }
}

fn counted_by(listing: bool) -> &'static str {
    if listing { s::LISTING } else { s::RESERVATION }
}
