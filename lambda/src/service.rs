//! The provisioning logic over [`Clients`]. No HTTP here: typed request in,
//! typed answer or [`ApiError`] out.
//!
//! # Account choice rule
//! Per container, the first standard request discovers the storage accounts
//! (configuration, else Organizations) and counts each account's customer
//! buckets (names starting `<prefix>-`, canaries excluded) with paginated
//! `ListBuckets`, all accounts in parallel. Those counts (and the bucket→account
//! map the listing yields) are then kept current in memory. A new customer goes
//! to the account with the **most headroom** (`max_buckets_per_account - count`),
//! ties broken by spec order (discovered accounts: ascending account ID). A
//! slot is reserved under a lock before `CreateBucket`, so concurrent requests
//! never push an account above its maximum; a failed create releases it.
//! When no account has headroom the request fails with 503 `capacity_exhausted`.
//!
//! Other containers create buckets too. Before a reserved slot is used, the
//! account is listed again when this container's count of it is older than
//! `recount_after` (default 60 s) or the reservation reaches the warning
//! threshold; the fresh count (plus this container's creates in flight)
//! replaces the old one, and a full account is skipped. Across containers the
//! maximum can then only be exceeded by creates that race within one listing,
//! never by a long-lived container's stale view.
//!
//! # Idempotency
//! The bucket name is `contract::bucket_name(prefix, customer)`. Requests for
//! one bucket are serialised in-process. A bucket known from the listing is
//! checked for the configured marker (tags, written last); a bucket unknown to
//! this container is created in the chosen account and, if S3 says it already
//! exists (another container won), found with `ListBuckets` across the storage
//! accounts. In every case missing configuration is (re)applied, so a retry
//! after a partial failure finishes the job.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_s3::types::{
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};
use tracing::{error, info, warn};

use crate::api::{AccountReport, ApiError, BucketResponse, Kind, Request, SelfTestResponse};
use crate::aws::{Clients, Storage};
use crate::config::Config;
use crate::contract;

/// Page size of the capacity listing.
pub const LIST_PAGE: i32 = 1000;

/// One answer of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Bucket(BucketResponse),
    SelfTest(SelfTestResponse),
}

#[derive(Debug, Default)]
struct Ledger {
    /// Customer buckets per account, reservations included.
    counts: HashMap<String, usize>,
    /// Bucket name -> (account, configuration confirmed by this container).
    known: HashMap<String, (String, bool)>,
    /// Accounts already reported above the warning threshold.
    warned: HashSet<String>,
    /// Reservations whose `CreateBucket` has not answered yet, per account.
    pending: HashMap<String, usize>,
    /// When each account was last listed.
    counted_at: HashMap<String, Instant>,
}

/// The provisioning service; one per container, shared by all requests.
pub struct Provisioner {
    cfg: Config,
    clients: Clients,
    fleet: tokio::sync::OnceCell<Vec<Storage>>,
    ledger: Mutex<Ledger>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

fn step_failed(step: &str, bucket: &str, account: &str, err: impl std::error::Error) -> ApiError {
    let msg = format!(
        "{step} on {bucket} in account {account} failed: {}",
        DisplayErrorContext(&err)
    );
    error!(event = "aws_step_failed", step, bucket, account_id = account, error = %msg);
    ApiError::new(502, "aws_step_failed", msg)
}

fn internal(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(500, "internal", format!("internal error: {what}"))
}

/// Tag values allow letters, digits, whitespace and `+ - = . _ : / @`; anything
/// else becomes `_`, and the value is cut at 256 characters.
pub fn tag_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

impl Provisioner {
    pub fn new(cfg: Config, clients: Clients) -> Provisioner {
        Provisioner {
            cfg,
            clients,
            fleet: tokio::sync::OnceCell::new(),
            ledger: Mutex::new(Ledger::default()),
            locks: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// Current in-memory count per account (reservations included).
    pub fn counts(&self) -> HashMap<String, usize> {
        self.ledger
            .lock()
            .map(|l| l.counts.clone())
            .unwrap_or_default()
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
                503,
                "phr_not_configured",
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

    async fn fleet(&self) -> Result<&[Storage], ApiError> {
        self.fleet
            .get_or_try_init(|| self.init_fleet())
            .await
            .map(Vec::as_slice)
    }

    async fn init_fleet(&self) -> Result<Vec<Storage>, ApiError> {
        let accounts = if self.cfg.storage_accounts.is_empty() {
            self.discover().await?
        } else {
            self.cfg.storage_accounts.clone()
        };
        if accounts.is_empty() {
            return Err(ApiError::new(
                503,
                "no_storage_accounts",
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
        let mut tasks = tokio::task::JoinSet::new();
        for (i, st) in fleet.iter().enumerate() {
            let (s3, prefix) = (st.s3.clone(), self.cfg.bucket_prefix.clone());
            tasks.spawn(async move { (i, list_customer_buckets(&s3, &prefix).await) });
        }
        let mut listed = vec![Vec::new(); fleet.len()];
        while let Some(joined) = tasks.join_next().await {
            let (i, res) = joined.map_err(internal)?;
            let account = &fleet[i].account_id;
            listed[i] =
                res.map_err(|e| step_failed("ListBuckets (capacity count)", "*", account, e))?;
        }
        let warn_at = self.cfg.warn_at();
        let mut l = self.ledger.lock().map_err(internal)?;
        for (st, names) in fleet.iter().zip(listed) {
            let n = names.len();
            info!(event = "capacity_count", account_id = %st.account_id, bucket_count = n, max = self.cfg.max_buckets_per_account);
            if n >= warn_at {
                l.warned.insert(st.account_id.clone());
                warn!(event = "capacity_threshold", account_id = %st.account_id, bucket_count = n,
                      max = self.cfg.max_buckets_per_account, warn_percent = self.cfg.warn_percent,
                      "storage account is at or above the capacity warning threshold");
            }
            l.counts.insert(st.account_id.clone(), n);
            l.counted_at.insert(st.account_id.clone(), Instant::now());
            for b in names {
                l.known.entry(b).or_insert((st.account_id.clone(), false));
            }
        }
        Ok(fleet)
    }

    async fn discover(&self) -> Result<Vec<String>, ApiError> {
        let org = &self.clients.organizations;
        let fail = |step: &str, e: &dyn std::error::Error| {
            let msg = format!(
                "storage account discovery: {step} failed: {}",
                DisplayErrorContext(e)
            );
            error!(event = "discovery_failed", error = %msg);
            ApiError::new(502, "discovery_failed", msg)
        };
        let mut ids = Vec::new();
        let mut token = None;
        loop {
            let out = org
                .list_accounts()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| fail("organizations:ListAccounts", &e))?;
            for acct in out.accounts() {
                let active = acct.status().is_none_or(|s| s.as_str() == "ACTIVE");
                if let (Some(id), true) = (acct.id(), active) {
                    ids.push(id.to_owned());
                }
            }
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let mut found = Vec::new();
        for id in ids {
            let mut token = None;
            loop {
                let out = org
                    .list_tags_for_resource()
                    .resource_id(&id)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| fail("organizations:ListTagsForResource", &e))?;
                if out.tags().iter().any(|t| {
                    t.key() == contract::STORAGE_ACCOUNT_TAG
                        && !t.value().eq_ignore_ascii_case("false")
                }) {
                    found.push(id.clone());
                    break;
                }
                token = out.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        }
        found.sort();
        info!(event = "discovery", accounts = ?found, "storage accounts discovered through AWS Organizations");
        Ok(found)
    }

    // ---- standard requests ----

    fn lock_for(&self, bucket: &str) -> Result<Arc<tokio::sync::Mutex<()>>, ApiError> {
        let mut locks = self.locks.lock().map_err(internal)?;
        Ok(locks.entry(bucket.to_owned()).or_default().clone())
    }

    async fn standard(&self, customer: String) -> Result<BucketResponse, ApiError> {
        let bucket = contract::bucket_name(&self.cfg.bucket_prefix, &customer).map_err(|e| {
            ApiError::bad_request("invalid_customer", format!("field `customer`: {e}"))
        })?;
        if contract::is_canary_bucket(&self.cfg.bucket_prefix, &bucket) {
            return Err(ApiError::bad_request(
                "invalid_customer",
                format!("field `customer`: the name {bucket:?} is reserved for verifier canaries"),
            ));
        }
        let fleet = self.fleet().await?;
        let lock = self.lock_for(&bucket)?;
        let _guard = lock.lock().await;

        let known = self
            .ledger
            .lock()
            .map_err(internal)?
            .known
            .get(&bucket)
            .cloned();
        if let Some((account, configured)) = known {
            if !configured {
                let st = storage_of(fleet, &account)?;
                if !self.is_configured(st, &bucket).await? {
                    self.configure(st, &bucket, &customer).await?;
                }
                self.mark_configured(&bucket, &account)?;
            }
            info!(event = "bucket_existing", bucket, account_id = %account);
            return Ok(self.response(Kind::Standard, customer, bucket, account, false));
        }

        let account = self.reserve_fresh(fleet).await?;
        let st = storage_of(fleet, &account)?;
        let mut create = st.s3.create_bucket().bucket(&bucket);
        if self.cfg.bucket_region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(
                        self.cfg.bucket_region.as_str(),
                    ))
                    .build(),
            );
        }
        let (owner, created) = match create.send().await {
            Ok(_) => {
                self.settle(&account)?;
                (st, true)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
            {
                self.settle(&account)?;
                (st, false)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_exists()) =>
            {
                self.release(&account)?;
                let owner = self.find_owner(fleet, &bucket).await?;
                if let Ok(mut l) = self.ledger.lock() {
                    *l.counts.entry(owner.account_id.clone()).or_default() += 1;
                }
                (owner, false)
            }
            Err(e) => {
                self.release(&account)?;
                return Err(step_failed("CreateBucket", &bucket, &account, e));
            }
        };
        let account = owner.account_id.clone();
        if created || !self.is_configured(owner, &bucket).await? {
            self.configure(owner, &bucket, &customer).await?;
        }
        self.mark_configured(&bucket, &account)?;
        info!(event = if created { "bucket_created" } else { "bucket_existing" }, bucket, account_id = %account);
        if created {
            self.check_threshold(&account).await;
        }
        Ok(self.response(Kind::Standard, customer, bucket, account, created))
    }

    /// Reserves one slot in the account with the most headroom (ties: spec order).
    fn reserve(&self, fleet: &[Storage]) -> Result<String, ApiError> {
        let max = self.cfg.max_buckets_per_account;
        let mut l = self.ledger.lock().map_err(internal)?;
        let mut best: Option<(&str, usize)> = None;
        for st in fleet {
            let room = max.saturating_sub(l.counts.get(&st.account_id).copied().unwrap_or(0));
            if room > 0 && best.is_none_or(|(_, r)| room > r) {
                best = Some((&st.account_id, room));
            }
        }
        let Some((account, _)) = best else {
            let msg = format!(
                "every storage account holds {max} buckets (max_buckets_per_account); add a storage account or raise the limit"
            );
            error!(
                event = "capacity_exhausted",
                accounts = fleet.len(),
                max,
                "{msg}"
            );
            return Err(ApiError::new(503, "capacity_exhausted", msg));
        };
        let account = account.to_owned();
        *l.counts.entry(account.clone()).or_default() += 1;
        *l.pending.entry(account.clone()).or_default() += 1;
        Ok(account)
    }

    /// [`Self::reserve`], then, when this container's count of the chosen
    /// account is old or the reservation reaches the warning threshold, lists
    /// the account again and keeps the slot only if the fresh count leaves
    /// room; otherwise the next account is tried. Each account is listed at
    /// most once per request.
    async fn reserve_fresh(&self, fleet: &[Storage]) -> Result<String, ApiError> {
        let mut listed = HashSet::new();
        loop {
            let account = self.reserve(fleet)?;
            let due = {
                let l = self.ledger.lock().map_err(internal)?;
                l.counts.get(&account).copied().unwrap_or(0) >= self.cfg.warn_at()
                    || l.counted_at
                        .get(&account)
                        .is_none_or(|t| t.elapsed() >= self.cfg.recount_after)
            };
            if !due || !listed.insert(account.clone()) {
                return Ok(account);
            }
            let st = storage_of(fleet, &account)?;
            let names = match list_customer_buckets(&st.s3, &self.cfg.bucket_prefix).await {
                Ok(names) => names,
                Err(e) => {
                    self.release(&account)?;
                    return Err(step_failed("ListBuckets (recount)", "*", &account, e));
                }
            };
            let fits = {
                let mut l = self.ledger.lock().map_err(internal)?;
                // Creates in flight (this one included) may not be listed yet.
                let count = names.len() + l.pending.get(&account).copied().unwrap_or(0);
                let before = l.counts.insert(account.clone(), count).unwrap_or(0);
                l.counted_at.insert(account.clone(), Instant::now());
                for b in names {
                    l.known.entry(b).or_insert((account.clone(), false));
                }
                info!(event = "capacity_recount", account_id = %account, before, bucket_count = count);
                count <= self.cfg.max_buckets_per_account
            };
            if fits {
                return Ok(account);
            }
            self.release(&account)?;
        }
    }

    /// A reservation whose `CreateBucket` answered: the bucket now shows in listings.
    fn settle(&self, account: &str) -> Result<(), ApiError> {
        let mut l = self.ledger.lock().map_err(internal)?;
        if let Some(p) = l.pending.get_mut(account) {
            *p = p.saturating_sub(1);
        }
        Ok(())
    }

    /// A reservation that did not become a bucket in `account`.
    fn release(&self, account: &str) -> Result<(), ApiError> {
        let mut guard = self.ledger.lock().map_err(internal)?;
        let l = &mut *guard;
        for n in [&mut l.counts, &mut l.pending] {
            if let Some(c) = n.get_mut(account) {
                *c = c.saturating_sub(1);
            }
        }
        Ok(())
    }

    fn mark_configured(&self, bucket: &str, account: &str) -> Result<(), ApiError> {
        let mut l = self.ledger.lock().map_err(internal)?;
        l.known
            .insert(bucket.to_owned(), (account.to_owned(), true));
        Ok(())
    }

    /// Finds which storage account owns `bucket` with `ListBuckets` (prefix =
    /// the name) in each account: account-scoped and exact, unlike `HeadBucket`,
    /// which succeeds for any bucket the caller may read. Only on the rare
    /// cross-container race path.
    async fn find_owner<'f>(
        &self,
        fleet: &'f [Storage],
        bucket: &str,
    ) -> Result<&'f Storage, ApiError> {
        for st in fleet {
            let out = st
                .s3
                .list_buckets()
                .prefix(bucket)
                .max_buckets(LIST_PAGE)
                .send()
                .await
                .map_err(|e| step_failed("ListBuckets (find owner)", bucket, &st.account_id, e))?;
            if out.buckets().iter().any(|b| b.name() == Some(bucket)) {
                return Ok(st);
            }
        }
        let msg =
            format!("bucket name {bucket} is taken by an account outside the storage accounts");
        error!(event = "bucket_name_taken", bucket, "{msg}");
        self.notify_squatted(bucket).await;
        Err(ApiError::new(409, "bucket_name_taken", msg))
    }

    /// A customer's predictable name is owned outside the storage accounts:
    /// log `bucket_name_squatted` and tell the operators (ops topic), who decide
    /// (README "Bucket name squatting"). A failed publish is logged, never fatal.
    async fn notify_squatted(&self, bucket: &str) {
        error!(
            event = "bucket_name_squatted",
            bucket,
            environment = %self.cfg.environment,
            "a customer bucket name is owned by an account outside the storage accounts"
        );
        if let (Some(sns), Some(topic)) = (&self.clients.sns, &self.cfg.ops_topic_arn) {
            let message = serde_json::json!({
                "event": "bucket_name_squatted",
                "environment": self.cfg.environment,
                "bucket": bucket,
            });
            if let Err(e) = sns
                .publish()
                .topic_arn(topic)
                .subject(format!(
                    "xacct: bucket name {bucket} is taken outside the storage accounts ({})",
                    self.cfg.environment
                ))
                .message(message.to_string())
                .send()
                .await
            {
                warn!(event = "ops_notify_failed", topic, error = %DisplayErrorContext(&e), "could not publish the squatting notification");
            }
        }
    }

    /// The tags are written last: their presence means every step before succeeded.
    async fn is_configured(&self, st: &Storage, bucket: &str) -> Result<bool, ApiError> {
        match st
            .s3
            .get_bucket_tagging()
            .bucket(bucket)
            .expected_bucket_owner(&st.account_id)
            .send()
            .await
        {
            Ok(out) => Ok(out.tag_set().iter().any(|t| {
                t.key() == contract::TAG_MANAGED_BY && t.value() == contract::MANAGED_BY_VALUE
            }) && out.tag_set().iter().any(|t| {
                t.key() == contract::TAG_ENVIRONMENT && t.value() == self.cfg.environment
            })),
            Err(e) if e.code() == Some("NoSuchTagSet") => Ok(false),
            Err(e) => Err(step_failed("GetBucketTagging", bucket, &st.account_id, e)),
        }
    }

    async fn configure(&self, st: &Storage, bucket: &str, customer: &str) -> Result<(), ApiError> {
        let a = st.account_id.as_str();
        let s3 = &st.s3;
        // No Block Public Access step: new buckets have it on and the role may
        // not change it (contract::DENIED_ACTIONS). ExpectedBucketOwner on every
        // call: S3 refuses (403) a request about a bucket another account owns.
        s3.put_bucket_ownership_controls()
            .bucket(bucket)
            .expected_bucket_owner(a)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                            .build()
                            .map_err(internal)?,
                    )
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(|e| step_failed("PutBucketOwnershipControls", bucket, a, e))?;
        let sse = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(internal)?;
        s3.put_bucket_encryption()
            .bucket(bucket)
            .expected_bucket_owner(a)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(sse)
                            .build(),
                    )
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(|e| step_failed("PutBucketEncryption", bucket, a, e))?;
        let policy = contract::customer_bucket_policy(bucket, &self.cfg.reader_principals);
        s3.put_bucket_policy()
            .bucket(bucket)
            .expected_bucket_owner(a)
            .policy(policy.to_string())
            .send()
            .await
            .map_err(|e| step_failed("PutBucketPolicy", bucket, a, e))?;
        let tag = |k: &str, v: &str| {
            Tag::builder()
                .key(k)
                .value(tag_value(v))
                .build()
                .map_err(internal)
        };
        s3.put_bucket_tagging()
            .bucket(bucket)
            .expected_bucket_owner(a)
            .tagging(
                Tagging::builder()
                    .tag_set(tag(contract::TAG_ENVIRONMENT, &self.cfg.environment)?)
                    .tag_set(tag(contract::TAG_CUSTOMER, customer)?)
                    .tag_set(tag(contract::TAG_MANAGED_BY, contract::MANAGED_BY_VALUE)?)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(|e| step_failed("PutBucketTagging", bucket, a, e))?;
        Ok(())
    }

    async fn check_threshold(&self, account: &str) {
        let warn_at = self.cfg.warn_at();
        let count = {
            let Ok(mut l) = self.ledger.lock() else {
                return;
            };
            let count = l.counts.get(account).copied().unwrap_or(0);
            if count < warn_at || !l.warned.insert(account.to_owned()) {
                return;
            }
            count
        };
        let max = self.cfg.max_buckets_per_account;
        warn!(
            event = "capacity_threshold",
            account_id = account,
            bucket_count = count,
            max,
            warn_percent = self.cfg.warn_percent,
            "storage account crossed the capacity warning threshold"
        );
        if let (Some(sns), Some(topic)) = (&self.clients.sns, &self.cfg.ops_topic_arn) {
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
            if let Err(e) = sns
                .publish()
                .topic_arn(topic)
                .subject(subject)
                .message(message.to_string())
                .send()
                .await
            {
                warn!(event = "ops_notify_failed", topic, error = %DisplayErrorContext(&e), "could not publish the capacity warning");
            }
        }
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
            tasks.spawn(async move {
                let report = match st.provider.provide_credentials().await {
                    Err(e) => AccountReport {
                        account_id: st.account_id.clone(),
                        trust_ok: false,
                        bucket_count: None,
                        headroom: None,
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
                            headroom: Some(max.saturating_sub(names.len())),
                            error: None,
                        },
                        Err(e) => AccountReport {
                            account_id: st.account_id.clone(),
                            trust_ok: true,
                            bucket_count: None,
                            headroom: None,
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
        let ok = !accounts.is_empty() && accounts.iter().all(|a| a.trust_ok && a.error.is_none());
        info!(event = "self_test", ok, accounts = accounts.len());
        Ok(SelfTestResponse {
            api_version: contract::API_VERSION.to_owned(),
            kind: Kind::SelfTest,
            ok,
            environment: self.cfg.environment.clone(),
            region: self.cfg.bucket_region.clone(),
            max_buckets_per_account: self.cfg.max_buckets_per_account,
            accounts,
        })
    }
}

fn storage_of<'f>(fleet: &'f [Storage], account: &str) -> Result<&'f Storage, ApiError> {
    fleet
        .iter()
        .find(|s| s.account_id == account)
        .ok_or_else(|| internal(format!("account {account} is not in the fleet")))
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
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let out = s3
            .list_buckets()
            .max_buckets(LIST_PAGE)
            .prefix(&start)
            .set_continuation_token(token)
            .send()
            .await?;
        names.extend(
            out.buckets()
                .iter()
                .filter_map(|b| b.name())
                .filter(|n| contract::is_customer_bucket(prefix, n))
                .map(str::to_owned),
        );
        token = out.continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(names)
}
