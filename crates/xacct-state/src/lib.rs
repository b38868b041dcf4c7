//! The provisioning-state table as both sides read it: the item codec
//! (`contract::state` names the keys and attributes), the typed [`Counter`] and
//! [`Record`], and a bounded, backing-off `BatchGetItem` ([`batch_get`]). The
//! Lambda (`lambda/src/state.rs`: every conditional write and transaction) and
//! the CLI (`src/aws/state.rs`: `capacity`, `verify`, `--reconcile`) use it, so an
//! item is encoded and decoded once.
//!
//! A crate of its own, not a module of `xacct-contract`: it needs the DynamoDB
//! SDK types and tokio's timer, and the contract stays free of I/O and SDKs.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use xacct_contract::state as s;

/// One item, as the SDK passes it.
pub type Item = HashMap<String, AttributeValue>;

/// Keys per `BatchGetItem` (DynamoDB's limit).
pub const BATCH_GET_MAX: usize = 100;

/// A storage account's counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub account_id: String,
    /// Customer buckets held or reserved.
    pub count: usize,
    /// When the counter was created from `ListBuckets` (epoch ms).
    pub listed_at: i64,
}

/// A customer's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The customer's key (`bucket#<key>`): its global name, a function of the
    /// customer ID alone (`contract::state`).
    pub key: String,
    /// The customer's bucket: the key in the global namespace, the name chosen
    /// in the account regional namespace otherwise.
    pub bucket: String,
    pub customer: String,
    pub account_id: String,
    /// `ready`: created and configured; else `creating`.
    pub ready: bool,
    /// The bucket is counted by the listing that created the counter, not by
    /// a reservation of this record.
    pub counted_by_listing: bool,
}

/// Now, in epoch milliseconds (the table's timestamps).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A string attribute.
pub fn sv(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn nv(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The key of an item (`pk`).
pub fn key(k: String) -> Item {
    HashMap::from([(s::PARTITION_KEY.to_owned(), AttributeValue::S(k))])
}

/// A string attribute of `item`.
pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// A number attribute of `item` (integers only).
pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// Parses a counter item; `None` when it is not one (or has no count).
pub fn counter_from(item: &Item) -> Option<Counter> {
    let account_id = get_s(item, s::PARTITION_KEY)?.strip_prefix(s::COUNTER_PREFIX)?;
    Some(Counter {
        account_id: account_id.to_owned(),
        count: usize::try_from(get_n(item, s::BUCKET_COUNT)?.max(0)).unwrap_or(0),
        listed_at: get_n(item, s::LISTED_AT).unwrap_or(0),
    })
}

/// Parses a record item; `None` when it is not one.
pub fn record_from(item: &Item) -> Option<Record> {
    let key = get_s(item, s::PARTITION_KEY)?.strip_prefix(s::RECORD_PREFIX)?;
    Some(Record {
        key: key.to_owned(),
        bucket: get_s(item, s::BUCKET).unwrap_or(key).to_owned(),
        customer: get_s(item, s::CUSTOMER).unwrap_or_default().to_owned(),
        account_id: get_s(item, s::ACCOUNT)?.to_owned(),
        ready: get_s(item, s::STATE) == Some(s::READY),
        counted_by_listing: get_s(item, s::COUNTED_BY) == Some(s::LISTING),
    })
}

/// How often and how patiently [`batch_get`] asks again for keys DynamoDB
/// left unprocessed (throttling): after `first`, doubling up to `max`, at most
/// `attempts` calls per chunk of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub attempts: u32,
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// 8 calls per chunk, waiting 20, 40, ... up to 1,280 ms (2.5 s in all).
    fn default() -> Backoff {
        Backoff {
            attempts: 8,
            first: Duration::from_millis(20),
            max: Duration::from_millis(1280),
        }
    }
}

impl Backoff {
    /// The wait before call `n` (1-based; the first call does not wait).
    pub fn delay(&self, n: u32) -> Duration {
        if n <= 1 {
            return Duration::ZERO;
        }
        self.first
            .saturating_mul(2u32.saturating_pow(n - 2))
            .min(self.max)
    }
}

/// Why a batch read failed.
#[derive(Debug, thiserror::Error)]
pub enum BatchGetError {
    /// The call itself failed (the SDK's own retries included).
    #[error("BatchGetItem on table {table} failed: {message}")]
    Call { table: String, message: String },
    /// DynamoDB kept answering with unprocessed keys.
    #[error(
        "BatchGetItem on table {table} left {left} key(s) unprocessed after {attempts} calls (throttled); retry later, or raise the table's read capacity"
    )]
    Unprocessed {
        table: String,
        left: usize,
        attempts: u32,
    },
}

/// One `BatchGetItem` call that failed, as the SDK describes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CallError(pub String);

/// One `BatchGetItem` call's answer: the items and the keys left unprocessed.
pub struct Page {
    pub items: Vec<Item>,
    pub unprocessed: Vec<Item>,
}

/// Reads `keys` of `table` (strongly consistent when `consistent`), 100 keys a
/// call; unprocessed keys are asked for again after `backoff`'s waits, and a
/// chunk still unprocessed after `backoff.attempts` calls is an error. Items
/// come back in no particular order; keys without an item are absent.
pub async fn batch_get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: Vec<Item>,
    consistent: bool,
    backoff: Backoff,
) -> Result<Vec<Item>, BatchGetError> {
    batch_get_with(table, keys, backoff, |chunk| async move {
        let ka = KeysAndAttributes::builder()
            .set_keys(Some(chunk))
            .consistent_read(consistent)
            .build()
            .map_err(|e| CallError(e.to_string()))?;
        let out = client
            .batch_get_item()
            .request_items(table, ka)
            .send()
            .await
            .map_err(|e| CallError(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()))?;
        Ok(Page {
            items: out
                .responses()
                .and_then(|r| r.get(table))
                .cloned()
                .unwrap_or_default(),
            unprocessed: out
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default(),
        })
    })
    .await
}

/// [`batch_get`] over any `call` (one `BatchGetItem` of at most 100 keys);
/// the retry policy without the SDK, so it is tested without DynamoDB.
pub async fn batch_get_with<F, Fut>(
    table: &str,
    mut keys: Vec<Item>,
    backoff: Backoff,
    mut call: F,
) -> Result<Vec<Item>, BatchGetError>
where
    F: FnMut(Vec<Item>) -> Fut,
    Fut: Future<Output = Result<Page, CallError>>,
{
    let mut out = Vec::new();
    while !keys.is_empty() {
        let rest = keys.split_off(keys.len().min(BATCH_GET_MAX));
        let mut pending = keys;
        let mut n = 0;
        while !pending.is_empty() {
            n += 1;
            if n > backoff.attempts.max(1) {
                return Err(BatchGetError::Unprocessed {
                    table: table.to_owned(),
                    left: pending.len(),
                    attempts: n - 1,
                });
            }
            let wait = backoff.delay(n);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let page = call(pending)
                .await
                .map_err(|CallError(message)| BatchGetError::Call {
                    table: table.to_owned(),
                    message,
                })?;
            out.extend(page.items);
            pending = page.unprocessed;
        }
        keys = rest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(k: &str) -> Item {
        key(k.to_owned())
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// The default policy without its waits (no clock in unit tests).
    fn no_wait() -> Backoff {
        Backoff {
            first: Duration::ZERO,
            max: Duration::ZERO,
            ..Backoff::default()
        }
    }

    #[test]
    fn codec_round_trips_counters_and_records() {
        let mut c = key(s::counter_key("111111111111"));
        c.insert(s::BUCKET_COUNT.into(), nv(7));
        c.insert(s::LISTED_AT.into(), nv(1234));
        assert_eq!(
            counter_from(&c),
            Some(Counter {
                account_id: "111111111111".into(),
                count: 7,
                listed_at: 1234
            })
        );
        assert_eq!(record_from(&c), None);
        let mut neg = c.clone();
        neg.insert(s::BUCKET_COUNT.into(), nv(-3));
        assert_eq!(counter_from(&neg).map(|c| c.count), Some(0));
        let mut r = key(s::record_key("ambra-dev-acme"));
        r.insert(s::ACCOUNT.into(), sv("222222222222"));
        r.insert(s::CUSTOMER.into(), sv("acme"));
        r.insert(s::STATE.into(), sv(s::READY));
        r.insert(s::COUNTED_BY.into(), sv(s::LISTING));
        let rec = record_from(&r).unwrap();
        assert!(rec.ready && rec.counted_by_listing && rec.bucket == "ambra-dev-acme");
        assert_eq!(counter_from(&r), None);
        r.remove(s::ACCOUNT);
        assert_eq!(record_from(&r), None, "a record names its account");
    }

    #[test]
    fn backoff_doubles_from_the_second_call_up_to_the_cap() {
        let b = Backoff::default();
        let waits: Vec<u64> = (1..=9).map(|n| b.delay(n).as_millis() as u64).collect();
        assert_eq!(waits, [0, 20, 40, 80, 160, 320, 640, 1280, 1280]);
    }

    #[test]
    fn unprocessed_keys_are_retried_then_reported() {
        // Each call processes one key and leaves the rest: 3 keys need 3 calls.
        let got = run(batch_get_with(
            "t",
            vec![item("a"), item("b"), item("c")],
            no_wait(),
            |mut keys| async move {
                let first = keys.remove(0);
                Ok(Page {
                    items: vec![first],
                    unprocessed: keys,
                })
            },
        ))
        .unwrap();
        assert_eq!(got.len(), 3);

        // Never processed: a bounded number of calls, then a clear error.
        let mut calls = 0;
        let err = run(batch_get_with(
            "state",
            vec![item("a"), item("b")],
            no_wait(),
            |keys| {
                calls += 1;
                async move {
                    Ok(Page {
                        items: vec![],
                        unprocessed: keys,
                    })
                }
            },
        ))
        .unwrap_err();
        assert_eq!(calls, 8);
        assert!(
            matches!(
                err,
                BatchGetError::Unprocessed {
                    left: 2,
                    attempts: 8,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("left 2 key(s) unprocessed after 8 calls")
        );
    }

    #[test]
    fn keys_are_read_100_a_call_and_a_failed_call_is_an_error() {
        let mut sizes = Vec::new();
        let got = run(batch_get_with(
            "t",
            (0..250).map(|i| item(&i.to_string())).collect(),
            no_wait(),
            |keys| {
                sizes.push(keys.len());
                async move {
                    Ok(Page {
                        items: keys,
                        unprocessed: vec![],
                    })
                }
            },
        ))
        .unwrap();
        assert_eq!((got.len(), sizes), (250, vec![100, 100, 50]));
        let err = run(batch_get_with("t", vec![item("a")], no_wait(), |_| async {
            Err::<Page, _>(CallError("AccessDenied: no".to_owned()))
        }))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "BatchGetItem on table t failed: AccessDenied: no"
        );
    }
}
