//! The provisioning logic over [`Clients`]. No HTTP here: typed request in,
//! typed answer or [`ApiError`] out.
//!
//! # Shared state
//! Every container shares the provisioning-state table ([`crate::state`]): one
//! counter per storage account, one record per customer. The capacity limit
//! holds across containers because a slot is only ever taken by a conditional
//! write (`bucket_count < max`), in the same transaction that claims the
//! customer (`attribute_not_exists`).
//!
//! # Known customer
//! A bucket this container answered costs 0 AWS calls. Otherwise one strongly
//! consistent read (`BatchGetItem` of the record and the counters, or a
//! `GetItem` of the record while a discovering container does not know its
//! accounts yet) answers a `ready` record.
//!
//! # New customer
//! 1. A warm container that read the fleet's counters less than
//!    [`core::COUNTS_MAX_AGE_MS`] ago reserves straight away from the counts it knows
//!    (step 2 without a read); a customer that already has a record comes back
//!    with the transaction's cancellation (`ALL_OLD`), so that costs no second
//!    call either. Otherwise the read above yields the counters. A storage
//!    account without a counter is counted once with a paginated `ListBuckets`
//!    and its counter created with `attribute_not_exists` (so buckets older
//!    than the table count).
//! 2. Accounts are tried by **most headroom** (`max - bucket_count`), ties in
//!    spec order (discovered accounts: ascending ID). Each try is one
//!    `TransactWriteItems`: put the record (`creating`, the account) if absent
//!    and increment the counter if `bucket_count < max`. A full account sends
//!    the request to the next; a record that appeared meanwhile is followed.
//!    When every account is full (by the known counts, then by a fresh read):
//!    503 `capacity_exhausted`, an error log line and the ops notification;
//!    nothing was written, so nothing is released.
//! 3. `CreateBucket` in the record's account, with the tags
//!    (`CreateBucketConfiguration.Tags`) and, in the account regional
//!    namespace, `BucketNamespace = account-regional` (with, concurrently, a
//!    read of the account's counter for the warning threshold), then the
//!    configuration calls concurrently (`PutBucketTagging` too when S3 refused
//!    the tags at creation), then the record's `ready`: two sequential S3
//!    round trips and the table's, four in all with the reservation on a warm
//!    container. In the account regional
//!    namespace the bucket name is built for the account being reserved and
//!    stored in the record (keyed by the customer's global name), and a
//!    `HeadBucket` of the global name runs beside the reservation: a customer
//!    whose bucket predates the switch keeps it (docs/runtime.md).
//!
//! # Warning threshold
//! The counter read after a reservation tells whether the account is at or
//! above `capacity_warn_percent`; the first request (in any container) whose
//! conditional write sets the counter's `warned_at` notifies ops, once per
//! account. Each container logs `capacity_threshold` once per account.
//!
//! # Failures
//! A `creating` record is resumed by the next request for the customer (the
//! steps are idempotent). A `CreateBucket` refused with a 4xx releases the
//! record and its reservation in one transaction. A name S3 says exists is
//! found with `ListBuckets(Prefix=<name>)`; its record then names the owner and
//! the count moves there (once, conditionally), unless the owner's counter
//! already counted it from its first listing (bucket older than the counter).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::types::Tag;
use tracing::{error, info, warn};

use crate::api::{
    AccountReport, ApiError, BucketResponse, ErrorCode, Kind, Request, SelfTestResponse,
};
use crate::aws::{Clients, Storage};
use crate::config::Config;
use crate::contract;
use crate::core::{self, Clock, SystemClock};
use crate::state::{Counter, Record, Reserve, StateError, Table};

/// Page size of the capacity listing.
pub const LIST_PAGE: i32 = 1000;

/// Accounts whose tags discovery reads at the same time.
pub const DISCOVERY_CONCURRENCY: usize = 8;

pub use crate::core::{COUNTS_MAX_AGE_MS, LISTING_MARGIN_MS};

/// Test hook, compiled into debug builds only: when this variable is set, the
/// process aborts right after a reservation is written (before `CreateBucket`),
/// as a container killed at that moment would.
#[cfg(debug_assertions)]
pub const TEST_ABORT_AFTER_RESERVE: &str = "XACCT_TEST_ABORT_AFTER_RESERVE";

/// One answer of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Bucket(BucketResponse),
    SelfTest(SelfTestResponse),
}

#[derive(Debug, Clone)]
struct Known {
    customer: String,
    bucket: String,
    account: String,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Record key -> (customer, bucket, account), for buckets this container
    /// answered `ready`.
    known: HashMap<String, Known>,
    /// Accounts already reported above the warning threshold by this container.
    warned: HashSet<String>,
    /// Buckets per storage account as last seen (read, or learnt from this
    /// container's own reservations), and when the fleet's counters were read.
    counts: HashMap<String, usize>,
    /// When (epoch ms, the provisioner's clock) the fleet's counters were read.
    counts_read_at: Option<i64>,
}

/// The provisioning service; one per container, shared by all requests.
pub struct Provisioner {
    cfg: Config,
    clients: Clients,
    table: Table,
    fleet: tokio::sync::OnceCell<Vec<Storage>>,
    ledger: Mutex<Ledger>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    clock: Arc<dyn Clock>,
}

fn step_failed(step: &str, bucket: &str, account: &str, err: impl std::error::Error) -> ApiError {
    let msg = format!(
        "{step} on {bucket} in account {account} failed: {}",
        DisplayErrorContext(&err)
    );
    error!(event = "aws_step_failed", step, bucket, account_id = account, error = %msg);
    ApiError::new(ErrorCode::AwsStepFailed, msg)
}

fn internal(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("internal error: {what}"))
}

pub use xacct_bucket::tag_value;

/// The name a failed configuration step has in the runtime's errors and logs.
fn step_label(step: contract::BucketStep) -> &'static str {
    match step {
        contract::BucketStep::OwnershipControls => "PutBucketOwnershipControls",
        contract::BucketStep::Encryption => "PutBucketEncryption",
        contract::BucketStep::Policy => "PutBucketPolicy",
        contract::BucketStep::Tags => "PutBucketTagging",
    }
}

fn state_failed(e: StateError) -> ApiError {
    let msg = e.to_string();
    error!(event = "state_failed", step = e.step, table = %e.table, error = %msg);
    ApiError::new(ErrorCode::StateFailed, msg)
}

/// Whether S3 definitely refused `CreateBucket` (a 4xx answer): the bucket was
/// not created, so the reservation can be given back.
fn refused<E>(e: &SdkError<E>) -> bool {
    matches!(e, SdkError::ServiceError(s) if (400..500).contains(&s.raw().status().as_u16()))
}

impl Provisioner {
    pub fn new(cfg: Config, clients: Clients) -> Provisioner {
        let table = Table::new(clients.dynamodb.clone(), cfg.state_table.clone());
        Provisioner {
            cfg,
            clients,
            table,
            fleet: tokio::sync::OnceCell::new(),
            ledger: Mutex::new(Ledger::default()),
            locks: Mutex::new(HashMap::new()),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same provisioner deciding with `clock` (tests: time without sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Provisioner {
        self.clock = clock;
        self
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The provisioning-state table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Answers one parsed request.
    pub async fn answer(&self, req: Request) -> Result<Answer, ApiError> {
        match req {
            Request::Phr { customer } => self.phr(customer).map(Answer::Bucket),
            Request::SelfTest => self.self_test().await.map(Answer::SelfTest),
            Request::Standard { customer } => self.standard(customer).await.map(Answer::Bucket),
        }
    }

    fn phr(&self, customer: String) -> Result<BucketResponse, ApiError> {
        let (Some(bucket), Some(account)) = (&self.cfg.phr_bucket, &self.cfg.phr_account) else {
            return Err(ApiError::new(
                ErrorCode::PhrNotConfigured,
                format!(
                    "PHR requests need {} and {} to be set",
                    contract::env::PHR_BUCKET,
                    contract::env::PHR_ACCOUNT
                ),
            ));
        };
        Ok(self.response(Kind::Phr, customer, bucket.clone(), account.clone(), false))
    }

    fn response(
        &self,
        kind: Kind,
        customer: String,
        bucket: String,
        account_id: String,
        created: bool,
    ) -> BucketResponse {
        BucketResponse {
            api_version: contract::API_VERSION.to_owned(),
            kind,
            customer,
            arn: contract::bucket_arn(&bucket),
            bucket,
            account_id,
            region: self.cfg.bucket_region.clone(),
            created,
        }
    }

    // ---- fleet: discovery and counts, once per container ----

    // ---- fleet: the storage accounts and their clients, once per container ----

    async fn fleet(&self) -> Result<&[Storage], ApiError> {
        self.fleet
            .get_or_try_init(|| self.init_fleet())
            .await
            .map(Vec::as_slice)
    }

    /// The storage accounts and their clients. Configured accounts cost no
    /// call; discovery costs the Organizations calls. No bucket listing.
    async fn init_fleet(&self) -> Result<Vec<Storage>, ApiError> {
        let accounts = if self.cfg.storage_accounts.is_empty() {
            self.discover().await?
        } else {
            self.cfg.storage_accounts.clone()
        };
        if accounts.is_empty() {
            return Err(ApiError::new(
                ErrorCode::NoStorageAccounts,
                format!(
                    "no storage accounts: {} is empty and no account in the organization carries the tag {:?}",
                    contract::env::STORAGE_ACCOUNTS,
                    contract::STORAGE_ACCOUNT_TAG
                ),
            ));
        }
        let mut fleet = Vec::with_capacity(accounts.len());
        for a in &accounts {
            fleet.push(self.clients.storage(a, &self.cfg).await);
        }
        Ok(fleet)
    }

    /// The storage accounts, when they are known without an AWS call.
    fn accounts_known(&self) -> Option<Vec<String>> {
        if let Some(f) = self.fleet.get() {
            return Some(f.iter().map(|s| s.account_id.clone()).collect());
        }
        (!self.cfg.storage_accounts.is_empty()).then(|| self.cfg.storage_accounts.clone())
    }

    /// The counter of every account of the fleet. An account without one is
    /// counted with a paginated `ListBuckets` and its counter created with
    /// `attribute_not_exists` (all such accounts in parallel; once per account
    /// for the life of the table).
    async fn complete_counters(
        &self,
        fleet: &[Storage],
        mut counters: HashMap<String, Counter>,
    ) -> Result<HashMap<String, Counter>, ApiError> {
        let mut tasks = tokio::task::JoinSet::new();
        for st in fleet
            .iter()
            .filter(|s| !counters.contains_key(&s.account_id))
        {
            let (s3, prefix) = (st.s3.clone(), self.cfg.bucket_prefix.clone());
            let (table, account) = (self.table.clone(), st.account_id.clone());
            let listed_at = self.clock.now_ms();
            tasks.spawn(async move {
                let names = list_customer_buckets(&s3, &prefix)
                    .await
                    .map_err(|e| step_failed("ListBuckets (first count)", "*", &account, e))?;
                let c = table
                    .init_counter(&account, names.len(), listed_at)
                    .await
                    .map_err(state_failed)?;
                info!(event = "capacity_counter_created", account_id = %account, bucket_count = c.count, listed = names.len());
                Ok::<_, ApiError>(c)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let c = joined.map_err(internal)??;
            counters.insert(c.account_id.clone(), c);
        }
        Ok(counters)
    }

    // ---- standard requests ----

    fn lock_for(&self, bucket: &str) -> Result<Arc<tokio::sync::Mutex<()>>, ApiError> {
        let mut locks = self.locks.lock().map_err(internal)?;
        Ok(locks.entry(bucket.to_owned()).or_default().clone())
    }

    fn cached(&self, key: &str, customer: &str) -> Result<Option<Known>, ApiError> {
        Ok(self
            .ledger
            .lock()
            .map_err(internal)?
            .known
            .get(key)
            .filter(|k| k.customer == customer)
            .cloned())
    }

    fn remember(&self, rec: &Record, customer: &str) -> Result<(), ApiError> {
        self.ledger.lock().map_err(internal)?.known.insert(
            rec.key.clone(),
            Known {
                customer: customer.to_owned(),
                bucket: rec.bucket.clone(),
                account: rec.account_id.clone(),
            },
        );
        Ok(())
    }

    fn existing(&self, customer: String, rec: Record) -> Result<BucketResponse, ApiError> {
        owned_by(&rec, &customer)?;
        self.remember(&rec, &customer)?;
        info!(event = "bucket_existing", bucket = %rec.bucket, account_id = %rec.account_id);
        Ok(self.response(Kind::Standard, customer, rec.bucket, rec.account_id, false))
    }

    async fn standard(&self, customer: String) -> Result<BucketResponse, ApiError> {
        // The customer's key: its global name, whatever the namespace (a record
        // written before the switch is found under it).
        let bucket = contract::bucket_name(&self.cfg.bucket_prefix, &customer).map_err(|e| {
            ApiError::new(ErrorCode::InvalidCustomer, format!("field `customer`: {e}"))
        })?;
        if contract::is_canary_bucket(&self.cfg.bucket_prefix, &bucket) {
            return Err(ApiError::new(
                ErrorCode::InvalidCustomer,
                format!("field `customer`: the name {bucket:?} is reserved for verifier canaries"),
            ));
        }
        // The namespaced name must be buildable too (checked again per account).
        if self.cfg.bucket_namespace == contract::BucketNamespace::AccountRegional {
            self.new_name(&customer, "000000000000")?;
        }
        // Requests for one customer are serialised inside the container.
        let lock = self.lock_for(&bucket)?;
        let _guard = lock.lock().await;
        if let Some(k) = self.cached(&bucket, &customer)? {
            info!(event = "bucket_existing", bucket = %k.bucket, account_id = %k.account);
            return Ok(self.response(Kind::Standard, customer, k.bucket, k.account, false));
        }

        // A warm container reserves straight from the counts it saw last:
        // the transaction's conditions keep the limit, and a customer that
        // already has a record comes back with the cancellation.
        if let Some((fleet, counts)) = self.recent_counts()?
            && let Some(answer) = self
                .reserve_in_order(fleet, counts, &bucket, &customer)
                .await?
        {
            return Ok(answer);
        }

        // One read: the record, plus the counters when the accounts are known.
        let (record, counters) = match self.accounts_known() {
            Some(accounts) => self.table.read(Some(&bucket), &accounts).await,
            None => self
                .table
                .record(&bucket)
                .await
                .map(|r| (r, HashMap::new())),
        }
        .map_err(state_failed)?;
        match record {
            Some(rec) if rec.ready => return self.existing(customer, rec),
            Some(rec) => return self.resume(rec, customer).await,
            None => {}
        }

        let fleet = self.fleet().await?;
        let counters = if fleet.iter().all(|s| counters.contains_key(&s.account_id)) {
            counters
        } else {
            let ids: Vec<String> = fleet.iter().map(|s| s.account_id.clone()).collect();
            // Only a discovering container's first new customer reads again.
            let known = if counters.is_empty() && self.cfg.storage_accounts.is_empty() {
                self.table.read(None, &ids).await.map_err(state_failed)?.1
            } else {
                counters
            };
            self.complete_counters(fleet, known).await?
        };
        let counts: HashMap<String, usize> = counters
            .into_values()
            .map(|c| (c.account_id, c.count))
            .collect();
        self.remember_counts(&counts, true)?;
        match self
            .reserve_in_order(fleet, counts, &bucket, &customer)
            .await?
        {
            Some(answer) => Ok(answer),
            None => Err(self.exhausted(fleet.len()).await),
        }
    }

    /// The counts this container saw last, when they cover the fleet and were
    /// read from the table less than [`COUNTS_MAX_AGE_MS`] ago.
    #[allow(clippy::type_complexity)]
    fn recent_counts(&self) -> Result<Option<(&[Storage], HashMap<String, usize>)>, ApiError> {
        let Some(fleet) = self.fleet.get() else {
            return Ok(None);
        };
        let ledger = self.ledger.lock().map_err(internal)?;
        let fresh = core::counts_fresh(ledger.counts_read_at, self.clock.now_ms());
        let covered = fleet
            .iter()
            .all(|s| ledger.counts.contains_key(&s.account_id));
        Ok((fresh && covered).then(|| (fleet.as_slice(), ledger.counts.clone())))
    }

    /// Records counts seen in the table (`read`: a full read of the fleet's
    /// counters, which restarts their age).
    fn remember_counts(&self, counts: &HashMap<String, usize>, read: bool) -> Result<(), ApiError> {
        let mut ledger = self.ledger.lock().map_err(internal)?;
        for (a, c) in counts {
            ledger.counts.insert(a.clone(), *c);
        }
        if read {
            ledger.counts_read_at = Some(self.clock.now_ms());
        }
        Ok(())
    }

    /// The name of `customer`'s new bucket in `account` (the account matters
    /// in the account regional namespace only). 400 when it cannot be built.
    fn new_name(&self, customer: &str, account: &str) -> Result<String, ApiError> {
        contract::new_bucket_name(
            self.cfg.bucket_namespace,
            &self.cfg.bucket_prefix,
            customer,
            account,
            &self.cfg.bucket_region,
        )
        .map_err(|e| ApiError::new(ErrorCode::InvalidCustomer, format!("field `customer`: {e}")))
    }

    /// Tries the accounts by most headroom (ties in spec order), one
    /// conditional reservation each; the record stores the bucket name chosen
    /// for the account it reserves. `None` when every one was full.
    ///
    /// In the account regional namespace a `HeadBucket` of the customer's
    /// legacy global name runs at the same time as the first reservation (no
    /// extra round trip): a customer whose bucket predates the switch keeps it.
    async fn reserve_in_order(
        &self,
        fleet: &[Storage],
        counts: HashMap<String, usize>,
        key: &str,
        customer: &str,
    ) -> Result<Option<BucketResponse>, ApiError> {
        let ids: Vec<&str> = fleet.iter().map(|s| s.account_id.as_str()).collect();
        let order: Vec<(&Storage, usize)> =
            core::reservation_order(&ids, &counts, self.cfg.max_buckets_per_account)
                .into_iter()
                .map(|(i, count)| (&fleet[i], count))
                .collect();
        let mut legacy = match (self.cfg.bucket_namespace, order.first()) {
            (contract::BucketNamespace::AccountRegional, Some((st, _))) => {
                let (s3, name) = (st.s3.clone(), key.to_owned());
                Some(tokio::spawn(
                    async move { global_name_exists(&s3, &name).await },
                ))
            }
            _ => None,
        };
        let result = self
            .reserve_first(fleet, order, key, customer, &mut legacy)
            .await;
        if let Some(h) = legacy {
            h.abort();
        }
        result
    }

    async fn reserve_first(
        &self,
        fleet: &[Storage],
        order: Vec<(&Storage, usize)>,
        key: &str,
        customer: &str,
        legacy: &mut Option<tokio::task::JoinHandle<bool>>,
    ) -> Result<Option<BucketResponse>, ApiError> {
        let max = self.cfg.max_buckets_per_account;
        for (st, count) in order {
            let account = st.account_id.as_str();
            let bucket = self.new_name(customer, account)?;
            match self
                .table
                .reserve(key, &bucket, customer, account, max)
                .await
                .map_err(state_failed)?
            {
                Reserve::Reserved => {
                    let legacy = match legacy.take() {
                        Some(h) => h.await.unwrap_or(true),
                        None => false,
                    };
                    let rec = Record {
                        key: key.to_owned(),
                        bucket,
                        customer: customer.to_owned(),
                        account_id: account.to_owned(),
                        ready: false,
                        counted_by_listing: false,
                    };
                    return self.reserved(fleet, st, count, rec, legacy).await.map(Some);
                }
                Reserve::Claimed(rec) => {
                    // Another request claimed the customer before this one.
                    let rec = match rec {
                        Some(rec) => Some(rec),
                        None => self.table.record(key).await.map_err(state_failed)?,
                    };
                    let customer = customer.to_owned();
                    return match rec {
                        Some(rec) if rec.ready => self.existing(customer, rec),
                        Some(rec) => self.resume(rec, customer).await,
                        None => Err(ApiError::new(
                            ErrorCode::ProvisioningConflict,
                            format!(
                                "the record of {key} changed while this request read it; retry"
                            ),
                        )),
                    }
                    .map(Some);
                }
                Reserve::Full => {
                    self.remember_counts(&HashMap::from([(account.to_owned(), max)]), false)?;
                    info!(
                        event = "capacity_full",
                        bucket,
                        account_id = account,
                        "account filled up since the counters were read; trying the next"
                    );
                }
            }
        }
        Ok(None)
    }

    /// A reservation was written: create and configure the bucket (or take
    /// over the customer's legacy global bucket), while the account's counter
    /// is read back (off the critical path) for the warning threshold and this
    /// container's counts.
    async fn reserved(
        &self,
        fleet: &[Storage],
        st: &Storage,
        count: usize,
        rec: Record,
        legacy: bool,
    ) -> Result<BucketResponse, ApiError> {
        let account = st.account_id.as_str();
        info!(
            event = "capacity_reserved",
            bucket = %rec.bucket,
            account_id = account,
            bucket_count_seen = count + 1
        );
        #[cfg(debug_assertions)]
        if std::env::var_os(TEST_ABORT_AFTER_RESERVE).is_some() {
            std::process::abort();
        }
        let customer = rec.customer.clone();
        // Boxed: the creation path's state machine is large, and a request's
        // future must stay small on a 2 MiB worker stack.
        let (answer, ()) = tokio::join!(
            Box::pin(self.finish_new(fleet, rec, customer, legacy)),
            self.after_reservation(account, count + 1)
        );
        answer
    }

    /// A new reservation in the account regional namespace whose customer's
    /// global name exists: when a storage account owns it, the customer keeps
    /// that bucket (the record is pointed at it); otherwise the name belongs to
    /// someone else and no longer matters, the namespaced bucket is created.
    async fn finish_new(
        &self,
        fleet: &[Storage],
        mut rec: Record,
        customer: String,
        legacy: bool,
    ) -> Result<BucketResponse, ApiError> {
        if legacy {
            let global = rec.key.clone();
            match self.find_owner(fleet, &global, &rec.account_id).await? {
                Some((owner, created_ms)) => {
                    let owner = self
                        .move_record(&mut rec, owner, created_ms, &global)
                        .await?;
                    info!(event = "legacy_bucket_kept", bucket = %rec.bucket, account_id = %rec.account_id,
                          "the customer's bucket predates the account regional namespace; it keeps it");
                    Box::pin(self.configure(owner, &rec, &customer, true)).await?;
                    self.remember(&rec, &customer)?;
                    return Ok(self.response(
                        Kind::Standard,
                        customer,
                        rec.bucket,
                        rec.account_id,
                        false,
                    ));
                }
                None => {
                    info!(event = "global_name_ignored", name = %global, bucket = %rec.bucket,
                          "the customer's global name is owned outside the storage accounts; the account regional name is used");
                }
            }
        }
        Box::pin(self.finish(fleet, rec, customer, false)).await
    }

    /// Reads the account's counter after a reservation (at least `seen`, the
    /// count this request's reservation made of the counts it knew) and checks
    /// the warning threshold with it.
    async fn after_reservation(&self, account: &str, seen: usize) {
        let count = match self.table.counter(account).await {
            Ok(Some(c)) => c.count,
            Ok(None) => seen,
            Err(e) => {
                state_failed(e);
                seen
            }
        };
        let count = count.max(seen);
        if let Err(e) = self.remember_counts(&HashMap::from([(account.to_owned(), count)]), false) {
            error!(event = "internal", error = %e.message);
        }
        self.check_threshold(account, count).await;
    }

    /// Continues a `creating` record (a failed or concurrent earlier request).
    async fn resume(&self, rec: Record, customer: String) -> Result<BucketResponse, ApiError> {
        owned_by(&rec, &customer)?;
        info!(event = "record_resumed", bucket = %rec.bucket, account_id = %rec.account_id);
        let fleet = self.fleet().await?;
        Box::pin(self.finish(fleet, rec, customer, true)).await
    }

    /// `CreateBucket` in the record's account (in the account regional
    /// namespace when the name is, with the tags), configuration, `ready`.
    /// `resumed`: an earlier request may have created the bucket without its
    /// tags (fallback cut short), so the tags are written again.
    async fn finish(
        &self,
        fleet: &[Storage],
        mut rec: Record,
        customer: String,
        resumed: bool,
    ) -> Result<BucketResponse, ApiError> {
        let bucket = rec.bucket.clone();
        let Some(mut st) = fleet.iter().find(|s| s.account_id == rec.account_id) else {
            let msg = format!(
                "the record of {bucket} names account {}, which is not a storage account of this environment",
                rec.account_id
            );
            error!(event = "record_account_unknown", bucket, account_id = %rec.account_id, "{msg}");
            return Err(ApiError::new(ErrorCode::RecordAccountUnknown, msg));
        };
        let tags = self.tags(&customer);
        let mut tag_after = resumed;
        let sent = match self.create(st, &bucket, Some(&tags)).await {
            Err(e) if tags_refused(&e) => {
                warn!(event = "tags_at_creation_refused", bucket, account_id = %rec.account_id,
                      error = %DisplayErrorContext(&e),
                      "S3 refused the tags at creation; creating the bucket without them and tagging it afterwards (PutBucketTagging)");
                tag_after = true;
                self.create(st, &bucket, None).await
            }
            other => other,
        };
        let created = match sent {
            Ok(_) => true,
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) =>
            {
                st = self.adopt(fleet, &mut rec).await?;
                tag_after = true;
                false
            }
            Err(e) if refused(&e) => {
                let err = step_failed("CreateBucket", &bucket, &rec.account_id, e);
                match self.table.release(&rec).await {
                    Ok(true) => {
                        info!(event = "reservation_released", bucket, account_id = %rec.account_id)
                    }
                    Ok(false) => {}
                    Err(e) => {
                        state_failed(e);
                    }
                }
                return Err(err);
            }
            // Unknown outcome (5xx after retries, timeout): the record stays
            // `creating` and the next request for the customer resumes it.
            Err(e) => return Err(step_failed("CreateBucket", &bucket, &rec.account_id, e)),
        };
        self.configure(st, &rec, &customer, tag_after).await?;
        self.remember(&rec, &customer)?;
        info!(event = if created { "bucket_created" } else { "bucket_existing" }, bucket, account_id = %rec.account_id);
        Ok(self.response(Kind::Standard, customer, bucket, rec.account_id, created))
    }

    /// The customer bucket's tags: `environment`, `customer`, `managed-by`.
    fn tags(&self, customer: &str) -> Vec<Tag> {
        xacct_bucket::tags(&self.cfg.environment, customer)
    }

    /// One `CreateBucket`: the location outside us-east-1, the tags when given
    /// (`CreateBucketConfiguration.Tags`), and `BucketNamespace =
    /// account-regional` when the name is in the account's regional namespace.
    async fn create(
        &self,
        st: &Storage,
        bucket: &str,
        tags: Option<&[Tag]>,
    ) -> Result<
        aws_sdk_s3::operation::create_bucket::CreateBucketOutput,
        SdkError<aws_sdk_s3::operation::create_bucket::CreateBucketError>,
    > {
        let b = xacct_bucket::Bucket {
            name: bucket,
            owner: &st.account_id,
            region: &self.cfg.bucket_region,
        };
        xacct_bucket::create(&st.s3, b, tags).await
    }

    /// S3 says the name exists: find the storage account that owns it
    /// (`ListBuckets(Prefix=<name>)`, the record's account first), then point
    /// the record at it and move the count, once, conditionally. A bucket older
    /// than its account's counter was counted by that counter's listing.
    pub(crate) async fn adopt<'f>(
        &self,
        fleet: &'f [Storage],
        rec: &mut Record,
    ) -> Result<&'f Storage, ApiError> {
        let bucket = rec.bucket.clone();
        let Some((owner, created_ms)) = self.find_owner(fleet, &bucket, &rec.account_id).await?
        else {
            let msg =
                format!("bucket name {bucket} is taken by an account outside the storage accounts");
            error!(event = "bucket_name_taken", bucket, "{msg}");
            self.notify_squatted(&bucket).await;
            if let Err(e) = self.table.release(rec).await {
                state_failed(e);
            }
            return Err(ApiError::new(ErrorCode::BucketNameTaken, msg));
        };
        self.move_record(rec, owner, created_ms, &bucket).await
    }

    /// The storage account that owns `bucket` and the bucket's creation time
    /// (epoch ms): `ListBuckets(Prefix=<name>)` per account, `first` first.
    async fn find_owner<'f>(
        &self,
        fleet: &'f [Storage],
        bucket: &str,
        first: &str,
    ) -> Result<Option<(&'f Storage, i64)>, ApiError> {
        let head = fleet.iter().filter(|s| s.account_id == first);
        let rest = fleet.iter().filter(|s| s.account_id != first);
        for st in head.chain(rest) {
            let out = st
                .s3
                .list_buckets()
                .prefix(bucket)
                .max_buckets(LIST_PAGE)
                .send()
                .await
                .map_err(|e| step_failed("ListBuckets (find owner)", bucket, &st.account_id, e))?;
            if let Some(b) = out.buckets().iter().find(|b| b.name() == Some(bucket)) {
                let created_ms = b.creation_date().map_or(i64::MAX, |d| {
                    d.secs() * 1000 + i64::from(d.subsec_nanos() / 1_000_000)
                });
                return Ok(Some((st, created_ms)));
            }
        }
        Ok(None)
    }

    /// Points the record at `bucket` in `owner` and moves the count there
    /// (once, conditionally). S3 reports creation times to the second, and
    /// clocks differ a little: only a bucket clearly older than the owner's
    /// listing counts as listed. In doubt it counts as new (one too many,
    /// never one too few).
    async fn move_record<'f>(
        &self,
        rec: &mut Record,
        owner: &'f Storage,
        created_ms: i64,
        bucket: &str,
    ) -> Result<&'f Storage, ApiError> {
        let (_, counters) = self
            .table
            .read(None, std::slice::from_ref(&owner.account_id))
            .await
            .map_err(state_failed)?;
        let listed = counters
            .get(&owner.account_id)
            .is_some_and(|c| core::counted_by_listing(created_ms, c.listed_at));
        if owner.account_id != rec.account_id
            || listed != rec.counted_by_listing
            || bucket != rec.bucket
        {
            if !self
                .table
                .adopt(rec, bucket, &owner.account_id, listed)
                .await
                .map_err(state_failed)?
            {
                return Err(ApiError::new(
                    ErrorCode::ProvisioningConflict,
                    format!(
                        "the record of {bucket} changed while this request adopted the bucket; retry"
                    ),
                ));
            }
            info!(event = "bucket_adopted", bucket, from = %rec.account_id, account_id = %owner.account_id, counted_by_listing = listed);
            rec.account_id = owner.account_id.clone();
            rec.counted_by_listing = listed;
            rec.bucket = bucket.to_owned();
        }
        Ok(owner)
    }

    /// Every capacity slot is taken: log, notify ops, answer 503.
    async fn exhausted(&self, accounts: usize) -> ApiError {
        let max = self.cfg.max_buckets_per_account;
        let msg = format!(
            "every storage account holds {max} buckets (max_buckets_per_account); add a storage account or raise the limit"
        );
        error!(event = "capacity_exhausted", accounts, max, "{msg}");
        let message = serde_json::json!({
            "event": "capacity_exhausted",
            "environment": self.cfg.environment,
            "accounts": accounts,
            "max_buckets_per_account": max,
        });
        let subject = format!(
            "xacct: every storage account is full ({}, {max} buckets each)",
            self.cfg.environment
        );
        self.notify(&subject, message).await;
        ApiError::new(ErrorCode::CapacityExhausted, msg)
    }

    /// A customer's predictable name is owned outside the storage accounts:
    /// log `bucket_name_squatted` and tell the operators (ops topic), who decide
    /// (docs/security.md, "Bucket name squatting"). A failed publish is logged, never fatal.
    async fn notify_squatted(&self, bucket: &str) {
        error!(
            event = "bucket_name_squatted",
            bucket,
            environment = %self.cfg.environment,
            "a customer bucket name is owned by an account outside the storage accounts"
        );
        let message = serde_json::json!({
            "event": "bucket_name_squatted",
            "environment": self.cfg.environment,
            "bucket": bucket,
        });
        let subject = format!(
            "xacct: bucket name {bucket} is taken outside the storage accounts ({})",
            self.cfg.environment
        );
        self.notify(&subject, message).await;
    }

    async fn notify(&self, subject: &str, message: serde_json::Value) {
        if let (Some(sns), Some(topic)) = (&self.clients.sns, &self.cfg.ops_topic_arn)
            && let Err(e) = sns
                .publish()
                .topic_arn(topic)
                .subject(subject)
                .message(message.to_string())
                .send()
                .await
        {
            warn!(event = "ops_notify_failed", topic, error = %DisplayErrorContext(&e), "could not publish the ops notification");
        }
    }

    /// The steps of `contract::BUCKET_STEPS` after `CreateBucket` (ownership,
    /// encryption, policy, and `PutBucketTagging` when `tag` is set: the tags
    /// were refused at creation, or the bucket existed before) concurrently,
    /// then the record's `ready`, the proof that the bucket is complete. No
    /// Block Public Access step: new buckets have it on and the role may not
    /// change it (`contract::DENIED_ACTIONS`). `ExpectedBucketOwner` on every
    /// call: S3 refuses (403) a request about a bucket another account owns.
    async fn configure(
        &self,
        st: &Storage,
        rec: &Record,
        customer: &str,
        tag: bool,
    ) -> Result<(), ApiError> {
        let a = st.account_id.as_str();
        let bucket = rec.bucket.as_str();
        let b = xacct_bucket::Bucket {
            name: bucket,
            owner: a,
            region: &self.cfg.bucket_region,
        };
        let tags = if tag { self.tags(customer) } else { Vec::new() };
        let step = |step: contract::BucketStep| {
            let (s3, readers, tags) = (&st.s3, &self.cfg.reader_principals, &tags);
            async move {
                if step == contract::BucketStep::Tags && !tag {
                    return Ok(());
                }
                xacct_bucket::put(s3, b, step, readers, tags)
                    .await
                    .map_err(|e| step_failed(step_label(step), bucket, a, e))?;
                if step == contract::BucketStep::Tags {
                    info!(event = "bucket_tagged", bucket, account_id = a);
                }
                Ok::<_, ApiError>(())
            }
        };
        // The steps after CreateBucket are independent: at once.
        tokio::try_join!(
            step(contract::BucketStep::OwnershipControls),
            step(contract::BucketStep::Encryption),
            step(contract::BucketStep::Policy),
            step(contract::BucketStep::Tags),
        )?;
        match self
            .table
            .set_state(&rec.key, a, contract::state::READY)
            .await
            .map_err(state_failed)?
        {
            true => Ok(()),
            false => Err(ApiError::new(
                ErrorCode::ProvisioningConflict,
                format!("the record of {bucket} no longer names account {a}; retry"),
            )),
        }
    }

    /// One `capacity_threshold` warning per account and container once a
    /// reservation finds the count at or above the threshold; the one request
    /// that marks the counter `warned_at` (across containers) notifies ops.
    async fn check_threshold(&self, account: &str, count: usize) {
        let warn_at = self.cfg.warn_at();
        if count < warn_at {
            return;
        }
        let first = self
            .ledger
            .lock()
            .map(|mut l| l.warned.insert(account.to_owned()))
            .unwrap_or(false);
        if !first {
            return;
        }
        let max = self.cfg.max_buckets_per_account;
        warn!(
            event = "capacity_threshold",
            account_id = account,
            bucket_count = count,
            max,
            warn_percent = self.cfg.warn_percent,
            "storage account is at or above the capacity warning threshold"
        );
        // One notification per account across all containers: the request
        // whose conditional write marks the counter sends it.
        let notify = match self.table.mark_warned(account).await {
            Ok(first) => first,
            Err(e) => {
                state_failed(e);
                false
            }
        };
        if notify {
            let message = serde_json::json!({
                "event": "capacity_threshold",
                "environment": self.cfg.environment,
                "account_id": account,
                "bucket_count": count,
                "max_buckets_per_account": max,
                "warn_percent": self.cfg.warn_percent,
            });
            let subject = format!(
                "xacct: storage account {account} at {count}/{max} buckets ({})",
                self.cfg.environment
            );
            self.notify(&subject, message).await;
        }
    }

    async fn discover(&self) -> Result<Vec<String>, ApiError> {
        let org = &self.clients.organizations;
        let fail = |step: &str, e: &dyn std::error::Error| {
            let msg = format!(
                "storage account discovery: {step} failed: {}",
                DisplayErrorContext(e)
            );
            error!(event = "discovery_failed", error = %msg);
            ApiError::new(ErrorCode::DiscoveryFailed, msg)
        };
        // Active accounts (the SDK's paginator), then each account's tags,
        // DISCOVERY_CONCURRENCY at a time (Organizations throttles bursts).
        let pages: Vec<_> = org
            .list_accounts()
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| fail("organizations:ListAccounts", &e))?;
        let ids: Vec<String> = pages
            .iter()
            .flat_map(|p| p.accounts())
            .filter(|a| a.status().is_none_or(|s| s.as_str() == "ACTIVE"))
            .filter_map(|a| a.id().map(str::to_owned))
            .collect();
        let limit = Arc::new(tokio::sync::Semaphore::new(DISCOVERY_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for id in ids {
            let (org, limit) = (org.clone(), limit.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let tags = org
                    .list_tags_for_resource()
                    .resource_id(&id)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await?;
                let storage = tags
                    .iter()
                    .any(|t| contract::is_storage_account_tag(t.key(), t.value()));
                Ok::<_, aws_sdk_organizations::error::SdkError<_>>(storage.then_some(id))
            });
        }
        let mut found = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined.map_err(internal)? {
                Ok(Some(id)) => found.push(id),
                Ok(None) => {}
                Err(e) => return Err(fail("organizations:ListTagsForResource", &e)),
            }
        }
        found.sort();
        info!(event = "discovery", accounts = ?found, "storage accounts discovered through AWS Organizations");
        Ok(found)
    }

    // ---- self-test ----

    async fn self_test(&self) -> Result<SelfTestResponse, ApiError> {
        let accounts = if self.cfg.storage_accounts.is_empty() {
            match self.fleet.get() {
                Some(f) => f.iter().map(|s| s.account_id.clone()).collect(),
                None => self.discover().await?,
            }
        } else {
            self.cfg.storage_accounts.clone()
        };
        // The counters, in one read, to compare with each account's listing.
        let (counters, counter_error) = match self.table.read(None, &accounts).await {
            Ok((_, c)) => (c, None),
            Err(e) => (HashMap::new(), Some(e.to_string())),
        };
        let mut tasks = tokio::task::JoinSet::new();
        for (i, a) in accounts.iter().enumerate() {
            let st = match self
                .fleet
                .get()
                .and_then(|f| f.iter().find(|s| &s.account_id == a))
            {
                Some(st) => st.clone(),
                None => self.clients.storage(a, &self.cfg).await,
            };
            let (prefix, max) = (
                self.cfg.bucket_prefix.clone(),
                self.cfg.max_buckets_per_account,
            );
            let counter = counters.get(a).map(|c| c.count);
            tasks.spawn(async move {
                let report = match st.provider.provide_credentials().await {
                    Err(e) => AccountReport {
                        account_id: st.account_id.clone(),
                        trust_ok: false,
                        bucket_count: None,
                        headroom: None,
                        counter: None,
                        drift: None,
                        error: Some(format!(
                            "sts:AssumeRole of {} failed: {}",
                            contract::storage_role_arn(&st.account_id),
                            DisplayErrorContext(&e)
                        )),
                    },
                    Ok(_) => match list_customer_buckets(&st.s3, &prefix).await {
                        Ok(names) => AccountReport {
                            account_id: st.account_id.clone(),
                            trust_ok: true,
                            bucket_count: Some(names.len()),
                            headroom: Some(
                                max.saturating_sub(counter.unwrap_or(names.len())) as i64
                            ),
                            counter,
                            drift: counter.map(|c| c as i64 - names.len() as i64),
                            error: None,
                        },
                        Err(e) => AccountReport {
                            account_id: st.account_id.clone(),
                            trust_ok: true,
                            bucket_count: None,
                            headroom: None,
                            counter,
                            drift: None,
                            error: Some(format!("ListBuckets failed: {}", DisplayErrorContext(&e))),
                        },
                    },
                };
                (i, report)
            });
        }
        let mut reports: Vec<Option<AccountReport>> = vec![None; accounts.len()];
        while let Some(joined) = tasks.join_next().await {
            let (i, r) = joined.map_err(internal)?;
            reports[i] = Some(r);
        }
        let accounts: Vec<AccountReport> = reports.into_iter().flatten().collect();
        let ok = counter_error.is_none()
            && !accounts.is_empty()
            && accounts.iter().all(|a| a.trust_ok && a.error.is_none());
        if let Some(e) = &counter_error {
            error!(event = "state_failed", error = %e, "self-test could not read the capacity counters");
        }
        for a in accounts.iter().filter(|a| a.drift.is_some_and(|d| d != 0)) {
            warn!(event = "capacity_drift", account_id = %a.account_id, counter = a.counter, bucket_count = a.bucket_count, drift = a.drift,
                  "the account's counter differs from its listing: run `xacct capacity --reconcile`");
        }
        info!(event = "self_test", ok, accounts = accounts.len());
        Ok(SelfTestResponse {
            api_version: contract::API_VERSION.to_owned(),
            kind: Kind::SelfTest,
            ok,
            environment: self.cfg.environment.clone(),
            region: self.cfg.bucket_region.clone(),
            max_buckets_per_account: self.cfg.max_buckets_per_account,
            state_error: counter_error,
            accounts,
        })
    }
}

/// A record found under the customer's key must be the customer's: two
/// customer IDs whose global names coincide (`Acme` and `acme-<its hash>`)
/// never share a bucket. Records without a customer (older items) pass.
fn owned_by(rec: &Record, customer: &str) -> Result<(), ApiError> {
    if rec.customer.is_empty() || rec.customer == customer {
        return Ok(());
    }
    warn!(event = "customer_name_collision", key = %rec.key, "two customer IDs map to one name");
    Err(ApiError::new(
        ErrorCode::CustomerNameCollision,
        format!(
            "field `customer`: {customer:?} maps to the name {} that another customer already has; use a different customer ID",
            rec.key
        ),
    ))
}

/// Whether S3 refused the tags sent with `CreateBucket` (an access or
/// validation error about tagging, e.g. no `s3:TagResource`, or a region or
/// partition without tags at creation): the bucket was not created.
fn tags_refused<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    let Some(s) = e.as_service_error() else {
        return false;
    };
    let (code, message) = (
        s.code().unwrap_or_default(),
        s.message().unwrap_or_default(),
    );
    let about_tags = message.to_ascii_lowercase().contains("tag");
    code == "InvalidTag"
        || (about_tags
            && matches!(
                code,
                "AccessDenied"
                    | "InvalidArgument"
                    | "InvalidRequest"
                    | "MalformedXML"
                    | "NotImplemented"
            ))
}

/// `HeadBucket` of a customer's global name: `false` only when S3 says it does
/// not exist (404); any other answer (ours, another account's 403, a
/// redirect, an error) means "look for its owner".
async fn global_name_exists(s3: &aws_sdk_s3::Client, name: &str) -> bool {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => true,
        Err(SdkError::ServiceError(e)) => e.raw().status().as_u16() != 404,
        Err(_) => true,
    }
}

/// Customer buckets of one account: paginated `ListBuckets`, names starting
/// `<prefix>-`, verifier canaries excluded.
pub async fn list_customer_buckets(
    s3: &aws_sdk_s3::Client,
    prefix: &str,
) -> Result<
    Vec<String>,
    aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::list_buckets::ListBucketsError>,
> {
    let start = format!("{prefix}-");
    let buckets: Vec<_> = s3
        .list_buckets()
        .max_buckets(LIST_PAGE)
        .prefix(&start)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await?;
    let names = buckets
        .iter()
        .filter_map(|b| b.name())
        .filter(|n| contract::is_customer_bucket(prefix, n))
        .map(str::to_owned)
        .collect();
    Ok(names)
}
