//! The naming and environment-variable contract shared by the `xacct` CLI and
//! the provisioning Lambda.
//!
//! Both sides depend on this crate as an ordinary workspace dependency
//! (`xacct::contract` and `xacct_provisioner::contract` re-export it).
//!
//! Invariants:
//! - It depends on nothing but `std`, `serde`, `serde_json` and `sha2`, does no I/O and
//!   knows nothing about tera, clap or the AWS SDK, so the Lambda links none of them.
//! - Every rule the CLI and the Lambda both apply (names, IDs, ARNs, environment
//!   variables, actions, thresholds, the order of the bucket configuration steps)
//!   is written here once; neither side keeps a copy.

use sha2::{Digest, Sha256};

/// Version of the request/response contract of the function URL.
pub const API_VERSION: &str = "1";

/// The function-URL wire types and error codes.
pub mod api;

/// Role every storage account carries, assumed by the Lambda's execution role.
pub const STORAGE_ROLE_NAME: &str = "S3BucketManager";
/// Managed policy attached to [`STORAGE_ROLE_NAME`].
pub const STORAGE_POLICY_NAME: &str = "S3BucketManagement";
/// AWS Organizations tag key that marks a storage account (seed 000).
pub const STORAGE_ACCOUNT_TAG: &str = "ambra-storage";

/// Whether an account tag marks a storage account for discovery: the key
/// [`STORAGE_ACCOUNT_TAG`] with any value but `false` (in any case). The Lambda's
/// discovery, `xacct accounts` and `onboard` read tags through this one rule.
pub fn is_storage_account_tag(key: &str, value: &str) -> bool {
    key == STORAGE_ACCOUNT_TAG && !value.eq_ignore_ascii_case("false")
}
/// Region of the AWS Organizations endpoint.
pub const ORGANIZATIONS_REGION: &str = "us-east-1";
/// Default role used to reach a storage account for bootstrap and audit reads.
pub const DEFAULT_BOOTSTRAP_ROLE: &str = "OrganizationAccountAccessRole";

/// Tags written on every customer bucket.
pub const TAG_ENVIRONMENT: &str = "environment";
pub const TAG_CUSTOMER: &str = "customer";
pub const TAG_MANAGED_BY: &str = "managed-by";
pub const MANAGED_BY_VALUE: &str = "xacct";

/// Infix of the verifier's canary buckets: `<prefix>-xacct-canary-<hex>`.
pub const CANARY_INFIX: &str = "xacct-canary";

/// Lambda environment variables. The seed's runtime variable each one carries is
/// named in the comment; `aws_region` is renamed because Lambda reserves `AWS_REGION`.
pub mod env {
    /// seed `environment`: tag value, e.g. `development`.
    pub const ENVIRONMENT: &str = "AMBRA_ENVIRONMENT";
    /// seed `aws_region`: region where buckets are created.
    pub const BUCKET_REGION: &str = "AMBRA_BUCKET_REGION";
    /// seed `max_buckets_per_account`.
    pub const MAX_BUCKETS_PER_ACCOUNT: &str = "AMBRA_MAX_BUCKETS_PER_ACCOUNT";
    /// seed `ambra_storage_accounts`: comma-separated account IDs. Absent or empty
    /// means discovery through AWS Organizations by tag [`super::STORAGE_ACCOUNT_TAG`].
    pub const STORAGE_ACCOUNTS: &str = "AMBRA_STORAGE_ACCOUNTS";
    /// seed `ambra_phr_account`.
    pub const PHR_ACCOUNT: &str = "AMBRA_PHR_ACCOUNT";
    /// seed `ambra_phr_bucket`.
    pub const PHR_BUCKET: &str = "AMBRA_PHR_BUCKET";
    /// seed `ambra_phr_cred_access_key` (legacy, only set when the spec opts in).
    pub const PHR_ACCESS_KEY: &str = "AMBRA_PHR_CRED_ACCESS_KEY";
    /// seed `ambra_phr_cred_secret_key` (legacy, only set when the spec opts in).
    pub const PHR_SECRET_KEY: &str = "AMBRA_PHR_CRED_SECRET_KEY";
    /// Bucket name prefix; every customer bucket is `<prefix>-...`.
    pub const BUCKET_PREFIX: &str = "AMBRA_BUCKET_PREFIX";
    /// `account-regional` or `global` ([`super::BucketNamespace`]): where new
    /// customer buckets are created. Absent means `global` (older deployments).
    pub const BUCKET_NAMESPACE: &str = "AMBRA_BUCKET_NAMESPACE";
    /// Account of the provisioning service (the primary account).
    pub const PRIMARY_ACCOUNT: &str = "AMBRA_PRIMARY_ACCOUNT";
    /// Optional `sts:ExternalId` presented when assuming the storage roles.
    pub const EXTERNAL_ID: &str = "AMBRA_STORAGE_EXTERNAL_ID";
    /// Comma-separated principal ARNs granted read access by each bucket policy.
    pub const READER_PRINCIPALS: &str = "AMBRA_READER_PRINCIPALS";
    /// Percentage of `max_buckets_per_account` at which a warning is emitted.
    pub const CAPACITY_WARN_PERCENT: &str = "AMBRA_CAPACITY_WARN_PERCENT";
    /// Optional SNS topic ARN notified when an account crosses the warning threshold.
    pub const OPS_TOPIC_ARN: &str = "AMBRA_OPS_TOPIC_ARN";
    /// Name of the environment's provisioning-state table (DynamoDB, primary
    /// account, the function's region): see [`super::state`].
    pub const STATE_TABLE: &str = "AMBRA_STATE_TABLE";
}

/// Every environment variable the generator may set, in rendering order.
pub const ALL_ENV_VARS: &[&str] = &[
    env::ENVIRONMENT,
    env::BUCKET_REGION,
    env::PRIMARY_ACCOUNT,
    env::MAX_BUCKETS_PER_ACCOUNT,
    env::STORAGE_ACCOUNTS,
    env::PHR_ACCOUNT,
    env::PHR_BUCKET,
    env::BUCKET_PREFIX,
    env::BUCKET_NAMESPACE,
    env::EXTERNAL_ID,
    env::READER_PRINCIPALS,
    env::CAPACITY_WARN_PERCENT,
    env::OPS_TOPIC_ARN,
    env::STATE_TABLE,
    env::PHR_ACCESS_KEY,
    env::PHR_SECRET_KEY,
];

/// S3 actions the runtime performs on a customer bucket, scoped to
/// `arn:aws:s3:::<prefix>-*` by `S3BucketManagement`. Why each one is needed
/// (S3 defaults since 2023: new buckets have Block Public Access on, ACLs
/// disabled and SSE-S3, so the runtime writes only what it must and reads the
/// rest back):
/// - `s3:CreateBucket`: the one thing the service exists for.
/// - `s3:PutBucketPolicy`: the TLS-only statement and the reader principals
///   ([`customer_bucket_policy`]) differ per bucket; no default gives them.
///   It cannot make a bucket public: the bucket's and the account's Block
///   Public Access (`BlockPublicPolicy`, `RestrictPublicBuckets`) reject or
///   neutralise a public policy, and [`DENIED_ACTIONS`] keeps the role from
///   turning either off.
/// - `s3:TagResource`: the tags sent with `CreateBucket`
///   (`CreateBucketConfiguration.Tags`, since November 2025), so a bucket is
///   tagged from its first second; S3 authorises them with this action.
/// - `s3:PutBucketTagging`: the fallback when S3 refuses tags at creation, and
///   the repair of a bucket created before tags at creation.
/// - `s3:PutBucketOwnershipControls`, `s3:PutEncryptionConfiguration`: pin
///   `BucketOwnerEnforced` and SSE-S3 explicitly, so a bucket does not depend
///   on a region's or partition's default. Neither can expose data: with ACLs
///   denied ([`DENIED_ACTIONS`]) and Block Public Access on, an ownership
///   setting grants nobody anything, and encryption only changes the key.
/// - `s3:ListBucket` (what `HeadBucket` needs) and the `Get*` actions: a retry
///   and the verifier's canary read back what was configured, including the
///   Block Public Access that the runtime may no longer write.
///
/// Not granted any more: `s3:PutBucketPublicAccessBlock` (it also authorises
/// `DeletePublicAccessBlock`, i.e. turning the block off).
pub const BUCKET_ACTIONS: &[&str] = &[
    "s3:CreateBucket",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketTagging",
    "s3:GetEncryptionConfiguration",
    "s3:ListBucket",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketTagging",
    "s3:PutEncryptionConfiguration",
    "s3:TagResource",
];

/// Actions `S3BucketManagement` denies explicitly on every resource, so no
/// later Allow (a broadened statement, an attached policy) can hand them to the
/// runtime: the ways to make a bucket or object public besides a policy.
/// `s3:PutBucketPublicAccessBlock` authorises both `PutPublicAccessBlock` and
/// `DeletePublicAccessBlock` on a bucket, `s3:PutAccountPublicAccessBlock` both
/// on the account (there is no separate `Delete...` IAM action).
pub const DENIED_ACTIONS: &[&str] = &[
    "s3:PutAccountPublicAccessBlock",
    "s3:PutBucketAcl",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutObjectAcl",
];

/// Account-level S3 actions that cannot be scoped to a bucket ARN
/// (`ListBuckets` for capacity counts).
pub const ACCOUNT_ACTIONS: &[&str] = &["s3:ListAllMyBuckets"];

/// The one destructive action, granted only on canary buckets and only when the
/// environment enables the verifier's canary.
pub const CANARY_ACTIONS: &[&str] = &["s3:DeleteBucket"];

/// Organizations calls discovery needs (us-east-1, resource `*` for
/// `ListAccounts`; tags are read per account).
pub const DISCOVERY_ACTIONS: &[&str] = &[
    "organizations:ListAccounts",
    "organizations:ListTagsForResource",
];

/// The provisioning-state table: one per environment, in the primary account,
/// shared by every Lambda container and read by `xacct capacity`/`verify`.
///
/// One partition key ([`state::PARTITION_KEY`], a string), no sort key, two
/// kinds of items:
/// - **counter** `account#<account-id>`: [`state::BUCKET_COUNT`] (number:
///   customer buckets held or reserved in the account), [`state::LISTED_AT`]
///   (when the counter was first counted from `ListBuckets`) and
///   [`state::UPDATED_AT`]. A reservation increments it only under the
///   condition `bucket_count < max_buckets_per_account`.
/// - **record** `bucket#<customer key>` (one per customer): the key is the
///   customer's global name [`bucket_name`]`(prefix, customer)`, a function of
///   the customer ID alone, so a record written before the account regional
///   namespace is found under the same key. [`state::BUCKET`] is the bucket the
///   customer has: the key itself in the global namespace, the name chosen in
///   the reserved account's regional namespace otherwise ([`namespaced_bucket_name`]);
///   a record without it (older items) means the key. [`state::CUSTOMER`],
///   [`state::ACCOUNT`], [`state::STATE`] (`creating` or `ready`),
///   [`state::COUNTED_BY`], [`state::CREATED_AT`] and [`state::UPDATED_AT`].
///
/// Timestamps are Unix epoch milliseconds (numbers).
pub mod state {
    /// Partition key attribute (string).
    pub const PARTITION_KEY: &str = "pk";
    /// Key prefix of a storage account's counter item.
    pub const COUNTER_PREFIX: &str = "account#";
    /// Key prefix of a customer's record.
    pub const RECORD_PREFIX: &str = "bucket#";

    pub const BUCKET_COUNT: &str = "bucket_count";
    pub const LISTED_AT: &str = "listed_at";
    pub const UPDATED_AT: &str = "updated_at";
    /// Set on a counter, once, by the request whose reservation found the
    /// account at or above the warning threshold (that request notifies ops).
    pub const WARNED_AT: &str = "warned_at";
    pub const CREATED_AT: &str = "created_at";
    pub const CUSTOMER: &str = "customer";
    pub const BUCKET: &str = "bucket";
    pub const ACCOUNT: &str = "account_id";
    pub const STATE: &str = "state";
    /// Who counted the record's bucket in its account's counter:
    /// [`RESERVATION`] (this record's conditional reservation) or [`LISTING`]
    /// (the `ListBuckets` that created the counter: a bucket older than the table).
    pub const COUNTED_BY: &str = "counted_by";
    pub const RESERVATION: &str = "reservation";
    pub const LISTING: &str = "listing";
    /// Record states: reserved (bucket maybe not created or not configured yet)...
    pub const CREATING: &str = "creating";
    /// ...and created and configured.
    pub const READY: &str = "ready";

    /// DynamoDB actions the Lambda's execution role needs on the table (and
    /// nothing else). `TransactWriteItems` is authorised per item action
    /// (`PutItem`, `UpdateItem`, `DeleteItem`), so it has no action of its own.
    pub const RUNTIME_ACTIONS: &[&str] = &[
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ];

    /// DynamoDB actions `xacct capacity --reconcile` uses (the operator's identity).
    pub const RECONCILE_ACTIONS: &[&str] = &[
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ];

    /// Key of the counter item of a storage account.
    pub fn counter_key(account: &str) -> String {
        format!("{COUNTER_PREFIX}{account}")
    }

    /// Key of the record of the customer whose bucket is `bucket`.
    pub fn record_key(bucket: &str) -> String {
        format!("{RECORD_PREFIX}{bucket}")
    }

    /// `<function>-state`: the table's name, derived from the function name.
    pub fn table_name(function_name: &str) -> String {
        format!("{function_name}-state")
    }

    /// `arn:aws:dynamodb:<region>:<account>:table/<name>`.
    pub fn table_arn(region: &str, account: &str, name: &str) -> String {
        format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
    }
}

/// S3's hard limits on bucket names.
pub const BUCKET_NAME_MAX: usize = 63;
pub const BUCKET_NAME_MIN: usize = 3;
/// Hex digits of the SHA-256 suffix added when a customer ID is not already a
/// bucket-safe slug (48 bits: collisions are negligible for millions of customers).
pub const HASH_HEX_LEN: usize = 12;
/// Longest prefix that still leaves room for `-<one slug char>-<hash>`.
pub const PREFIX_MAX: usize = BUCKET_NAME_MAX - HASH_HEX_LEN - 3;
/// Longest customer identifier the runtime accepts.
pub const CUSTOMER_ID_MAX: usize = 256;

const RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Why a bucket name (or a customer identifier) is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Length(usize),
    Charset(char),
    Edge,
    DoubleDot,
    IpAddress,
    ReservedPrefix(&'static str),
    ReservedSuffix(&'static str),
    EmptyCustomer,
    CustomerTooLong(usize),
    CustomerControlChar,
    /// The prefix leaves no room for `-<12 hex>-<account>-<region>-an`.
    NamespacedPrefixTooLong {
        len: usize,
        max: usize,
    },
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameError::Length(n) => write!(
                f,
                "must be {BUCKET_NAME_MIN} to {BUCKET_NAME_MAX} characters long (is {n})"
            ),
            NameError::Charset(c) => write!(
                f,
                "may contain only lowercase letters, digits, '-' and '.' (found {c:?})"
            ),
            NameError::Edge => f.write_str("must begin and end with a letter or digit"),
            NameError::DoubleDot => f.write_str("must not contain two adjacent periods"),
            NameError::IpAddress => {
                f.write_str("must not be formatted as an IP address (e.g. 192.168.5.4)")
            }
            NameError::ReservedPrefix(p) => {
                write!(f, "must not start with the reserved prefix {p:?}")
            }
            NameError::ReservedSuffix(s) => {
                write!(f, "must not end with the reserved suffix {s:?}")
            }
            NameError::EmptyCustomer => f.write_str("customer identifier must not be empty"),
            NameError::CustomerTooLong(n) => write!(
                f,
                "customer identifier must be at most {CUSTOMER_ID_MAX} characters (is {n})"
            ),
            NameError::CustomerControlChar => {
                f.write_str("customer identifier must not contain control characters")
            }
            NameError::NamespacedPrefixTooLong { len, max } => write!(
                f,
                "must be at most {max} characters in the account regional namespace (is {len}): \
                 names end in -<account>-<region>-an and S3 allows {BUCKET_NAME_MAX}"
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Checks a full bucket name against S3's general-purpose bucket naming rules.
pub fn check_bucket_name(name: &str) -> Result<(), NameError> {
    let len = name.chars().count();
    if !(BUCKET_NAME_MIN..=BUCKET_NAME_MAX).contains(&len) {
        return Err(NameError::Length(len));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(NameError::Charset(c));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err(NameError::Edge);
    }
    if name.contains("..") {
        return Err(NameError::DoubleDot);
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(NameError::IpAddress);
    }
    check_reserved(name)
}

/// Checks a bucket name prefix: the same charset rules as a name, no periods
/// (virtual-hosted TLS), no `--`, and short enough for the longest generated name.
pub fn check_bucket_prefix(prefix: &str) -> Result<(), NameError> {
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(NameError::Charset(c));
    }
    if prefix.contains("--") {
        return Err(NameError::Charset('-'));
    }
    let len = prefix.chars().count();
    if !(1..=PREFIX_MAX).contains(&len) {
        return Err(NameError::Length(len));
    }
    check_bucket_name(&longest_bucket_name(prefix))
}

fn check_reserved(name: &str) -> Result<(), NameError> {
    if let Some(p) = RESERVED_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        return Err(NameError::ReservedPrefix(p));
    }
    if let Some(s) = RESERVED_SUFFIXES.iter().find(|s| name.ends_with(**s)) {
        return Err(NameError::ReservedSuffix(s));
    }
    Ok(())
}

/// Checks a customer identifier as the runtime receives it.
pub fn check_customer_id(customer: &str) -> Result<(), NameError> {
    if customer.trim().is_empty() {
        return Err(NameError::EmptyCustomer);
    }
    let len = customer.chars().count();
    if len > CUSTOMER_ID_MAX {
        return Err(NameError::CustomerTooLong(len));
    }
    if customer.chars().any(char::is_control) {
        return Err(NameError::CustomerControlChar);
    }
    Ok(())
}

fn hash_hex(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(HASH_HEX_LEN);
    for b in digest.iter().take(HASH_HEX_LEN / 2) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn slug(customer: &str) -> String {
    let mut out = String::with_capacity(customer.len());
    for c in customer.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The deterministic bucket name of a customer.
///
/// `<prefix>-<customer>` when the customer ID is already a lowercase slug of
/// letters, digits and single hyphens and the result fits; otherwise
/// `<prefix>-<slug, truncated>-<first 12 hex of sha256(customer)>`, which keeps
/// distinct IDs distinct (`Acme` and `acme` get different buckets).
pub fn bucket_name(prefix: &str, customer: &str) -> Result<String, NameError> {
    check_customer_id(customer)?;
    let s = slug(customer);
    let plain = format!("{prefix}-{s}");
    if s == customer && plain.len() <= BUCKET_NAME_MAX && check_bucket_name(&plain).is_ok() {
        return Ok(plain);
    }
    hashed_name(prefix, &s, customer, "")
}

/// `<prefix>-<slug, cut to fit>-<first 12 hex of sha256(customer)><suffix>`
/// within [`BUCKET_NAME_MAX`] (`<prefix>-<hash><suffix>` when no slug fits).
fn hashed_name(prefix: &str, s: &str, customer: &str, suffix: &str) -> Result<String, NameError> {
    let room = BUCKET_NAME_MAX.saturating_sub(prefix.len() + 2 + HASH_HEX_LEN + suffix.len());
    let mut cut: String = s.chars().take(room).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    let name = if cut.is_empty() {
        format!("{prefix}-{}{suffix}", hash_hex(customer))
    } else {
        format!("{prefix}-{cut}-{}{suffix}", hash_hex(customer))
    };
    check_bucket_name(&name)?;
    Ok(name)
}

/// Where customer bucket names live (`storage.bucket_namespace`, Lambda variable
/// [`env::BUCKET_NAMESPACE`]).
///
/// - [`BucketNamespace::AccountRegional`]: S3's account regional namespace
///   (March 2026). A new customer's bucket is
///   `<prefix>-<customer part>-<account>-<region>-an` ([`namespaced_bucket_name`]),
///   created with `CreateBucket`'s `BucketNamespace = account-regional` (header
///   `x-amz-bucket-namespace`); only that account can create a name with its
///   suffix, so no other account can squat it.
/// - [`BucketNamespace::Global`]: the legacy global namespace, `<prefix>-<customer>`
///   ([`bucket_name`]); anyone can create the next customer's name first.
///
/// Customers that already have a bucket keep it in either mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BucketNamespace {
    AccountRegional,
    /// The default when nothing says otherwise (setups older than the field).
    #[default]
    Global,
}

/// The `s3:x-amz-bucket-namespace` value (and the header value) of the account
/// regional namespace.
pub const ACCOUNT_REGIONAL: &str = "account-regional";
/// The value of [`BucketNamespace::Global`].
pub const GLOBAL: &str = "global";
/// IAM condition key a policy or an SCP uses to require the namespace.
pub const NAMESPACE_CONDITION_KEY: &str = "s3:x-amz-bucket-namespace";
/// Last segment of every account regional bucket name.
pub const NAMESPACE_SUFFIX_END: &str = "-an";

impl BucketNamespace {
    /// `account-regional` or `global`.
    pub fn as_str(self) -> &'static str {
        match self {
            BucketNamespace::AccountRegional => ACCOUNT_REGIONAL,
            BucketNamespace::Global => GLOBAL,
        }
    }

    /// Parses `account-regional` or `global` (exactly; no other spelling).
    pub fn parse(s: &str) -> Option<BucketNamespace> {
        match s {
            ACCOUNT_REGIONAL => Some(BucketNamespace::AccountRegional),
            GLOBAL => Some(BucketNamespace::Global),
            _ => None,
        }
    }
}

impl std::fmt::Display for BucketNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `-<account>-<region>-an`: the suffix S3 requires of a bucket in `account`'s
/// regional namespace.
pub fn namespace_suffix(account: &str, region: &str) -> String {
    format!("-{account}-{region}{NAMESPACE_SUFFIX_END}")
}

/// `true` when `name` is in `account`'s regional namespace of `region`.
pub fn is_namespaced_bucket(name: &str, account: &str, region: &str) -> bool {
    name.len() > namespace_suffix(account, region).len()
        && name.ends_with(&namespace_suffix(account, region))
}

/// `true` when `name` ends like an account regional bucket of `region` of any
/// account (`-<12 digits>-<region>-an`).
pub fn looks_namespaced(name: &str, region: &str) -> bool {
    let end = format!("-{region}{NAMESPACE_SUFFIX_END}");
    name.strip_suffix(&end)
        .and_then(|r| r.get(r.len().checked_sub(13)?..))
        .is_some_and(|t| t.starts_with('-') && is_account_id(&t[1..]))
}

/// Longest prefix that leaves room for `-<12 hex>` and the namespace suffix of
/// `region` within [`BUCKET_NAME_MAX`].
pub fn namespaced_prefix_max(region: &str) -> usize {
    BUCKET_NAME_MAX
        .saturating_sub(namespace_suffix("000000000000", region).len() + 1 + HASH_HEX_LEN)
}

/// Checks that `prefix` leaves room for every namespaced name of `region`.
pub fn check_namespaced_prefix(prefix: &str, region: &str) -> Result<(), NameError> {
    let max = namespaced_prefix_max(region);
    let len = prefix.chars().count();
    if len > max {
        return Err(NameError::NamespacedPrefixTooLong { len, max });
    }
    Ok(())
}

/// `true` when the slug ends in a segment shaped like the hash suffix
/// (`-<12 lowercase hex>`, or is one): such an ID is always hashed in the
/// namespace, so a plain name can never equal another customer's hashed one.
fn hash_shaped_tail(slug: &str) -> bool {
    let tail = slug.rsplit('-').next().unwrap_or_default();
    tail.len() == HASH_HEX_LEN
        && tail
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The bucket name of a new customer in `account`'s regional namespace:
/// `<prefix>-<customer part>-<account>-<region>-an`, at most 63 characters.
///
/// The customer part is the customer ID itself when it is a lowercase slug
/// (letters, digits, single hyphens) that fits and does not end in a
/// 12-hex-digit segment; otherwise `<slug, cut to fit>-<first 12 hex of
/// sha256(customer)>`. Documented, collision-free shortening: a plain part
/// never ends in a hash-shaped segment and a hashed one always does, so two
/// customer IDs get the same name only if their SHA-256 digests share 48 bits.
/// Nothing is ever refused for length below [`CUSTOMER_ID_MAX`].
pub fn namespaced_bucket_name(
    prefix: &str,
    customer: &str,
    account: &str,
    region: &str,
) -> Result<String, NameError> {
    check_customer_id(customer)?;
    check_namespaced_prefix(prefix, region)?;
    let suffix = namespace_suffix(account, region);
    let s = slug(customer);
    let plain = format!("{prefix}-{s}{suffix}");
    if s == customer
        && !hash_shaped_tail(&s)
        && plain.len() <= BUCKET_NAME_MAX
        && check_bucket_name(&plain).is_ok()
    {
        return Ok(plain);
    }
    hashed_name(prefix, &s, customer, &suffix)
}

/// The name of a new customer's bucket in `namespace` (the account and region
/// matter only in the account regional namespace).
pub fn new_bucket_name(
    namespace: BucketNamespace,
    prefix: &str,
    customer: &str,
    account: &str,
    region: &str,
) -> Result<String, NameError> {
    match namespace {
        BucketNamespace::AccountRegional => {
            namespaced_bucket_name(prefix, customer, account, region)
        }
        BucketNamespace::Global => bucket_name(prefix, customer),
    }
}

/// Resource pattern of the names `s3:CreateBucket` may create in the account
/// regional namespace: `arn:aws:s3:::<prefix>-*-<region>-an` (the account part
/// is enforced by S3 itself: only the account can create its own suffix).
pub fn namespaced_bucket_pattern(prefix: &str, region: &str) -> String {
    format!("arn:aws:s3:::{prefix}-*-{region}{NAMESPACE_SUFFIX_END}")
}

/// The longest name [`bucket_name`] can produce for this prefix (always
/// [`BUCKET_NAME_MAX`] characters when the prefix is valid).
pub fn longest_bucket_name(prefix: &str) -> String {
    let room = BUCKET_NAME_MAX.saturating_sub(prefix.len() + 2 + HASH_HEX_LEN);
    format!(
        "{prefix}-{}-{}",
        "a".repeat(room.max(1)),
        "0".repeat(HASH_HEX_LEN)
    )
}

/// Name of a verifier canary bucket for a random token.
pub fn canary_bucket_name(prefix: &str, token: &str) -> String {
    format!("{prefix}-{CANARY_INFIX}-{}", hash_hex(token))
}

/// Name of a verifier canary bucket in `namespace` (in the account regional
/// namespace, `<prefix>-xacct-canary-<hex>-<account>-<region>-an`).
pub fn canary_bucket_name_in(
    namespace: BucketNamespace,
    prefix: &str,
    token: &str,
    account: &str,
    region: &str,
) -> String {
    match namespace {
        BucketNamespace::AccountRegional => {
            let suffix = namespace_suffix(account, region);
            let room = BUCKET_NAME_MAX
                .saturating_sub(prefix.len() + CANARY_INFIX.len() + 2 + suffix.len())
                .clamp(1, HASH_HEX_LEN);
            let hex = hash_hex(token);
            format!("{prefix}-{CANARY_INFIX}-{}{suffix}", &hex[..room])
        }
        BucketNamespace::Global => canary_bucket_name(prefix, token),
    }
}

/// Hex digits of a canary's random part below which the account regional
/// canary name is too short to be safely random ([`canary_prefix_max`]).
pub const CANARY_HEX_MIN: usize = 6;

/// Longest prefix that leaves a canary name in the account regional namespace
/// of `region` [`CANARY_HEX_MIN`] random hex digits.
pub fn canary_prefix_max(region: &str) -> usize {
    BUCKET_NAME_MAX.saturating_sub(
        CANARY_INFIX.len() + 2 + CANARY_HEX_MIN + namespace_suffix("000000000000", region).len(),
    )
}

/// `arn:aws:iam::<account>:role/S3BucketManager`.
pub fn storage_role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{STORAGE_ROLE_NAME}")
}

/// `arn:aws:s3:::<bucket>`.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// Resource pattern every customer bucket matches.
pub fn customer_bucket_pattern(prefix: &str) -> String {
    format!("arn:aws:s3:::{prefix}-*")
}

/// Resource pattern of the verifier's canary buckets.
pub fn canary_bucket_pattern(prefix: &str) -> String {
    format!("arn:aws:s3:::{prefix}-{CANARY_INFIX}-*")
}

/// `true` for a customer bucket of `prefix`: `<prefix>-*`, verifier canaries excluded.
/// This is what counts toward `max_buckets_per_account`, for the Lambda, `xacct capacity`,
/// `xacct verify` and `xacct offboard` alike.
pub fn is_customer_bucket(prefix: &str, name: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|rest| !rest.is_empty() && !is_canary_rest(rest))
}

/// `true` for a verifier canary bucket of `prefix`: `<prefix>-xacct-canary-*`.
pub fn is_canary_bucket(prefix: &str, name: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(is_canary_rest)
}

fn is_canary_rest(rest: &str) -> bool {
    rest.strip_prefix(CANARY_INFIX)
        .is_some_and(|r| r.starts_with('-'))
}

/// The account part of an ARN (`arn:partition:service:region:account:...`);
/// `None` when it is empty (S3 ARNs) or the text has fewer parts.
pub fn arn_account(arn: &str) -> Option<&str> {
    let acct = arn.split(':').nth(4)?;
    (!acct.is_empty()).then_some(acct)
}

/// `true` for exactly 12 ASCII digits (an AWS account ID).
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What [`is_role_name`] accepts, for messages.
pub const ROLE_NAME_RULE: &str = "1-64 characters of [A-Za-z0-9+=,.@_-]";

/// `true` for an IAM role or user name: 1-64 characters of `[A-Za-z0-9+=,.@_-]`.
pub fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// `true` for an AWS region name such as `us-east-1` or `us-gov-west-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let n = parts.len();
    (3..=4).contains(&n)
        && parts[0].len() == 2
        && parts[..n - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !parts[n - 1].is_empty()
        && parts[n - 1].bytes().all(|b| b.is_ascii_digit())
}

/// What [`is_sns_topic_arn`] accepts, for messages.
pub const SNS_TOPIC_ARN_RULE: &str = "an SNS topic ARN arn:aws:sns:<region>:<account>:<name>";

/// `true` for `arn:aws:sns:<region>:<12-digit account>:<name>` with no wildcard.
pub fn is_sns_topic_arn(s: &str) -> bool {
    s.strip_prefix("arn:aws:sns:")
        .and_then(|r| {
            let mut it = r.splitn(3, ':');
            Some((it.next()?, it.next()?, it.next()?))
        })
        .is_some_and(|(region, acct, name)| {
            is_region(region)
                && is_account_id(acct)
                && !name.is_empty()
                && !name.contains(['*', '?', ':'])
        })
}

/// Default capacity warning threshold, in percent of `max_buckets_per_account`.
pub const DEFAULT_WARN_PERCENT: u8 = 80;

/// Bucket count at which an account crosses the warning threshold:
/// `ceil(max × percent / 100)`.
pub fn warn_at(max_buckets_per_account: u64, warn_percent: u8) -> u64 {
    (max_buckets_per_account * u64::from(warn_percent)).div_ceil(100)
}

/// One step of configuring a new bucket, after `CreateBucket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketStep {
    /// `PutBucketOwnershipControls` = `BucketOwnerEnforced` (ACLs off).
    OwnershipControls,
    /// `PutBucketEncryption`, SSE-S3 (AES256).
    Encryption,
    /// `PutBucketPolicy` with [`customer_bucket_policy`].
    Policy,
    /// The tags `environment`, `customer`, `managed-by`: sent with `CreateBucket`
    /// (`CreateBucketConfiguration.Tags`, action `s3:TagResource`), so they come
    /// first; `PutBucketTagging` only when S3 refuses tags at creation (the
    /// fallback, run with the other steps). They no longer mark a bucket as
    /// configured: the record's `ready` state does.
    Tags,
}

impl BucketStep {
    /// The IAM action the step needs (and names in an error).
    pub fn action(self) -> &'static str {
        match self {
            BucketStep::OwnershipControls => "s3:PutBucketOwnershipControls",
            BucketStep::Encryption => "s3:PutEncryptionConfiguration",
            BucketStep::Policy => "s3:PutBucketPolicy",
            BucketStep::Tags => "s3:PutBucketTagging",
        }
    }

    /// The S3 subresource the step's `PUT` request names on the wire (`?tagging`).
    pub fn subresource(self) -> &'static str {
        match self {
            BucketStep::OwnershipControls => "ownershipControls",
            BucketStep::Encryption => "encryption",
            BucketStep::Policy => "policy",
            BucketStep::Tags => "tagging",
        }
    }
}

/// The configuration steps of a new bucket, in order. [`BucketStep::Tags`]
/// comes first because the tags travel with `CreateBucket`; the steps after it
/// are independent of each other and run at once after the creation (with
/// `PutBucketTagging` when the tags could not be sent at creation). No step
/// marks completion: the state table's `ready` record is the proof that a
/// bucket is complete. The Lambda, the verifier's canary and the tests all
/// follow this list.
///
/// There is no Block Public Access step: new buckets have it on (S3 default
/// since April 2023), the storage account's Block Public Access covers every
/// bucket, and the runtime may not change either ([`DENIED_ACTIONS`]).
pub const BUCKET_STEPS: &[BucketStep] = &[
    BucketStep::Tags,
    BucketStep::OwnershipControls,
    BucketStep::Encryption,
    BucketStep::Policy,
];

/// The action `CreateBucket` needs for tags sent at creation.
pub const CREATE_TAGS_ACTION: &str = "s3:TagResource";

/// The steps after `CreateBucket`, when the tags went with it.
pub fn steps_after_create() -> impl Iterator<Item = BucketStep> {
    BUCKET_STEPS
        .iter()
        .copied()
        .filter(|s| *s != BucketStep::Tags)
}

/// Splits a comma-separated environment value into trimmed, non-empty items.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The bucket policy every customer bucket gets: deny any request without TLS,
/// and let the reader principals read objects and list the bucket.
/// Built here, once, so the Lambda applies exactly what `xacct audit` evaluates.
pub fn customer_bucket_policy(bucket: &str, readers: &[String]) -> serde_json::Value {
    let arn = bucket_arn(bucket);
    let objects = format!("{arn}/*");
    let mut statements = vec![serde_json::json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [arn, objects],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })];
    if !readers.is_empty() {
        statements.push(serde_json::json!({
            "Sid": "ReaderPrincipalsList",
            "Effect": "Allow",
            "Principal": {"AWS": readers},
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": arn
        }));
        statements.push(serde_json::json!({
            "Sid": "ReaderPrincipalsRead",
            "Effect": "Allow",
            "Principal": {"AWS": readers},
            "Action": "s3:GetObject",
            "Resource": objects
        }));
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_account_tag_is_the_key_with_any_value_but_false() {
        assert!(is_storage_account_tag(STORAGE_ACCOUNT_TAG, "true"));
        assert!(is_storage_account_tag(STORAGE_ACCOUNT_TAG, ""));
        assert!(is_storage_account_tag(STORAGE_ACCOUNT_TAG, "yes"));
        assert!(!is_storage_account_tag(STORAGE_ACCOUNT_TAG, "false"));
        assert!(!is_storage_account_tag(STORAGE_ACCOUNT_TAG, "FALSE"));
        assert!(!is_storage_account_tag("Ambra-Storage", "true"));
        assert!(!is_storage_account_tag("other", "true"));
    }

    #[test]
    fn customer_and_canary_buckets_are_told_apart() {
        let p = "ambra-dev";
        assert!(is_customer_bucket(p, "ambra-dev-acme"));
        assert!(is_customer_bucket(p, "ambra-dev-xacct-canaryx"));
        assert!(!is_customer_bucket(p, &canary_bucket_name(p, "t")));
        assert!(is_canary_bucket(p, &canary_bucket_name(p, "t")));
        for other in [
            "ambra-dev",
            "ambra-dev-",
            "ambra-devx-acme",
            "other-acme",
            "ambra-de",
        ] {
            assert!(!is_customer_bucket(p, other), "{other}");
            assert!(!is_canary_bucket(p, other), "{other}");
        }
    }

    #[test]
    fn shared_syntax_rules() {
        assert!(is_account_id("123456789012"));
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(!is_account_id(bad), "{bad}");
        }
        assert!(is_role_name("S3BucketManager") && is_role_name("a+=,.@_-"));
        assert!(!is_role_name("") && !is_role_name(&"a".repeat(65)) && !is_role_name("a/b"));
        assert!(is_region("us-east-1") && is_region("us-gov-west-1"));
        assert!(!is_region("us-east") && !is_region("US-EAST-1") && !is_region("useast1"));
        assert!(is_sns_topic_arn("arn:aws:sns:us-east-1:123456789012:ops"));
        for bad in [
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:12345678901:ops",
            "arn:aws:sns:useast1:123456789012:ops",
            "arn:aws:sns:us-east-1:123456789012:*",
            "arn:aws:sqs:us-east-1:123456789012:ops",
        ] {
            assert!(!is_sns_topic_arn(bad), "{bad}");
        }
        assert_eq!(warn_at(10, 80), 8);
        assert_eq!(warn_at(1000, 80), 800);
        assert_eq!(warn_at(3, 80), 3);
    }

    #[test]
    fn every_bucket_step_is_a_granted_action_and_tags_come_first() {
        assert_eq!(BUCKET_STEPS.first(), Some(&BucketStep::Tags));
        assert!(BUCKET_ACTIONS.contains(&CREATE_TAGS_ACTION));
        assert_eq!(steps_after_create().count(), BUCKET_STEPS.len() - 1);
        assert_eq!(
            BUCKET_STEPS
                .iter()
                .filter(|s| **s == BucketStep::Tags)
                .count(),
            1
        );
        for step in BUCKET_STEPS {
            assert!(BUCKET_ACTIONS.contains(&step.action()), "{step:?}");
            assert!(!DENIED_ACTIONS.contains(&step.action()), "{step:?}");
        }
        for denied in DENIED_ACTIONS {
            assert!(!BUCKET_ACTIONS.contains(denied), "{denied}");
        }
    }

    const ACCT: &str = "123456789012";
    const REGION: &str = "us-east-1";

    #[test]
    fn namespaced_names_end_in_the_account_regional_suffix() {
        let n = namespaced_bucket_name("ambra-dev", "acme-42", ACCT, REGION).unwrap();
        assert_eq!(n, "ambra-dev-acme-42-123456789012-us-east-1-an");
        assert!(is_namespaced_bucket(&n, ACCT, REGION));
        assert!(!is_namespaced_bucket(&n, "123456789013", REGION));
        assert!(looks_namespaced(&n, REGION));
        assert!(!looks_namespaced("ambra-dev-acme-42", REGION));
        assert!(is_customer_bucket("ambra-dev", &n));
        let pattern = namespaced_bucket_pattern("ambra-dev", REGION);
        assert_eq!(pattern, "arn:aws:s3:::ambra-dev-*-us-east-1-an");
        for c in [
            "acme",
            "Acme",
            "Ünïcödé / customer #1",
            "!!!",
            &"x".repeat(256),
        ] {
            let n = namespaced_bucket_name("ambra-dev", c, ACCT, REGION).unwrap();
            check_bucket_name(&n).unwrap();
            assert!(n.ends_with("-123456789012-us-east-1-an"), "{n}");
            assert!(n.starts_with("ambra-dev-"), "{n}");
        }
    }

    #[test]
    fn namespaced_names_at_the_63_character_edge() {
        let prefix = "ambra-dev";
        let suffix = namespace_suffix(ACCT, REGION);
        let room = BUCKET_NAME_MAX - prefix.len() - 1 - suffix.len();
        // Exact fit: kept as is.
        let fit = "a".repeat(room);
        let n = namespaced_bucket_name(prefix, &fit, ACCT, REGION).unwrap();
        assert_eq!(n.len(), BUCKET_NAME_MAX);
        assert_eq!(n, format!("{prefix}-{fit}{suffix}"));
        // One over: shortened with the hash, still 63, still the namespace.
        let over = "a".repeat(room + 1);
        let m = namespaced_bucket_name(prefix, &over, ACCT, REGION).unwrap();
        assert_eq!(m.len(), BUCKET_NAME_MAX);
        assert!(m.ends_with(&suffix));
        assert_ne!(m, n);
        // Two IDs that share the shortened part differ by the hash.
        let over2 = format!("{}b", "a".repeat(room));
        let m2 = namespaced_bucket_name(prefix, &over2, ACCT, REGION).unwrap();
        assert_ne!(m, m2);
        // Too long, empty or with control characters: refused, never cut.
        assert!(matches!(
            namespaced_bucket_name(prefix, &"a".repeat(CUSTOMER_ID_MAX + 1), ACCT, REGION),
            Err(NameError::CustomerTooLong(_))
        ));
        assert_eq!(
            namespaced_bucket_name(prefix, " ", ACCT, REGION),
            Err(NameError::EmptyCustomer)
        );
        assert_eq!(
            namespaced_bucket_name(prefix, "a\u{7}", ACCT, REGION),
            Err(NameError::CustomerControlChar)
        );
    }

    #[test]
    fn a_plain_id_cannot_take_another_customers_hashed_name() {
        let prefix = "ambra-dev";
        for victim in ["Acme", "acme corp", &"long-customer-".repeat(5)] {
            let hashed = namespaced_bucket_name(prefix, victim, ACCT, REGION).unwrap();
            // The attacker asks for the customer part of the victim's name, verbatim.
            let part = hashed
                .strip_prefix("ambra-dev-")
                .and_then(|r| r.strip_suffix(&namespace_suffix(ACCT, REGION)))
                .unwrap();
            let other = namespaced_bucket_name(prefix, part, ACCT, REGION).unwrap();
            assert_ne!(other, hashed, "{victim:?} vs {part:?}");
        }
        // A hash-shaped tail is hashed itself.
        let n = namespaced_bucket_name(prefix, "acme-0123456789ab", ACCT, REGION).unwrap();
        assert_ne!(
            n,
            format!(
                "ambra-dev-acme-0123456789ab{}",
                namespace_suffix(ACCT, REGION)
            )
        );
    }

    #[test]
    fn namespaced_prefix_and_canary_room() {
        let max = namespaced_prefix_max(REGION);
        assert_eq!(max, BUCKET_NAME_MAX - 26 - 1 - HASH_HEX_LEN);
        check_namespaced_prefix(&"p".repeat(max), REGION).unwrap();
        assert!(matches!(
            check_namespaced_prefix(&"p".repeat(max + 1), REGION),
            Err(NameError::NamespacedPrefixTooLong { .. })
        ));
        let longest =
            namespaced_bucket_name(&"p".repeat(max), &"z".repeat(200), ACCT, REGION).unwrap();
        assert!(longest.len() <= BUCKET_NAME_MAX);
        let c = canary_bucket_name_in(
            BucketNamespace::AccountRegional,
            "ambra-prod",
            "t",
            ACCT,
            REGION,
        );
        check_bucket_name(&c).unwrap();
        assert!(is_canary_bucket("ambra-prod", &c) && is_namespaced_bucket(&c, ACCT, REGION));
        let cmax = canary_prefix_max(REGION);
        let c = canary_bucket_name_in(
            BucketNamespace::AccountRegional,
            &"p".repeat(cmax),
            "t",
            ACCT,
            REGION,
        );
        assert!(c.len() <= BUCKET_NAME_MAX, "{c}");
        assert_eq!(
            BucketNamespace::parse("account-regional"),
            Some(BucketNamespace::AccountRegional)
        );
        assert_eq!(BucketNamespace::parse("Account-Regional"), None);
    }

    #[test]
    fn plain_slug_customer_keeps_its_name() {
        assert_eq!(
            bucket_name("ambra-dev", "acme-42").unwrap(),
            "ambra-dev-acme-42"
        );
    }

    #[test]
    fn case_and_punctuation_get_a_hash_suffix() {
        let upper = bucket_name("ambra-dev", "Acme").unwrap();
        let lower = bucket_name("ambra-dev", "acme").unwrap();
        assert_ne!(upper, lower);
        assert!(upper.starts_with("ambra-dev-acme-"), "{upper}");
        assert_eq!(upper.len(), "ambra-dev-acme-".len() + HASH_HEX_LEN);
        let odd = bucket_name("ambra-dev", "Ünïcödé / customer #1").unwrap();
        check_bucket_name(&odd).unwrap();
    }

    #[test]
    fn long_customer_is_truncated_to_63() {
        let long = "x".repeat(200);
        let name = bucket_name("ambra-production", &long).unwrap();
        assert_eq!(name.len(), BUCKET_NAME_MAX);
        check_bucket_name(&name).unwrap();
    }

    #[test]
    fn symbols_only_customer_is_hash_only() {
        let name = bucket_name("ambra-dev", "!!!").unwrap();
        assert_eq!(name.len(), "ambra-dev-".len() + HASH_HEX_LEN);
    }

    #[test]
    fn bad_customers_are_rejected() {
        assert_eq!(bucket_name("p", "  "), Err(NameError::EmptyCustomer));
        assert_eq!(
            bucket_name("p", "a\u{0}b"),
            Err(NameError::CustomerControlChar)
        );
        assert!(matches!(
            bucket_name("p", &"a".repeat(300)),
            Err(NameError::CustomerTooLong(300))
        ));
    }

    #[test]
    fn bucket_name_rules() {
        assert!(check_bucket_name("ab").is_err());
        assert_eq!(check_bucket_name("192.168.5.4"), Err(NameError::IpAddress));
        assert_eq!(check_bucket_name("Abc"), Err(NameError::Charset('A')));
        assert_eq!(check_bucket_name("-abc"), Err(NameError::Edge));
        assert_eq!(check_bucket_name("a..b"), Err(NameError::DoubleDot));
        assert_eq!(
            check_bucket_name("xn--abc"),
            Err(NameError::ReservedPrefix("xn--"))
        );
        assert_eq!(
            check_bucket_name("abc-s3alias"),
            Err(NameError::ReservedSuffix("-s3alias"))
        );
        check_bucket_name("ambra-phr.example").unwrap();
    }

    #[test]
    fn prefix_rules() {
        check_bucket_prefix("ambra-dev").unwrap();
        assert!(check_bucket_prefix(&"a".repeat(PREFIX_MAX + 1)).is_err());
        assert!(check_bucket_prefix("amb.ra").is_err());
        assert!(check_bucket_prefix("sthree-x").is_err());
        assert_eq!(
            longest_bucket_name(&"a".repeat(PREFIX_MAX)).len(),
            BUCKET_NAME_MAX
        );
    }
}
