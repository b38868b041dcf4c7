//! Issue 22: customer buckets in the account regional namespace, tags at
//! creation (and the fallback when S3 refuses them), legacy customers keeping
//! their global buckets, squatted global names no longer blocking anyone.

use crate::support::*;
use xacct_provisioner::contract::{self, env};

const REGION: &str = "eu-west-1";

fn regional(accounts: &[&str], max: usize) -> xacct_provisioner::Config {
    config(
        accounts,
        max,
        REGION,
        &[(env::BUCKET_NAMESPACE, contract::ACCOUNT_REGIONAL)],
    )
}

fn namespaced(customer: &str, account: &str) -> String {
    contract::namespaced_bucket_name(PREFIX, customer, account, REGION).unwrap()
}

async fn tags_of(moto: &Moto, account: &str, bucket: &str) -> Vec<(String, String)> {
    let out = s3_in(moto, account, REGION)
        .await
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("tags of {bucket}: {e:?}"));
    let mut tags: Vec<(String, String)> = out
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    tags.sort();
    tags
}

fn expected_tags(customer: &str) -> Vec<(String, String)> {
    vec![
        ("customer".into(), customer.into()),
        ("environment".into(), "development".into()),
        ("managed-by".into(), "xacct".into()),
    ]
}

/// A moto with a request recorder (refusing tags at creation when asked), two
/// storage accounts and an account regional provisioner; the first request
/// for `customer` is recorded and must succeed. Returns the recording too.
async fn recorded_first_request(
    tag: &str,
    customer: &str,
    refuse_create_tags: bool,
) -> (
    Moto,
    xacct_provisioner::Provisioner,
    serde_json::Value,
    String,
) {
    let rec = temp_dir(tag).join("recording.jsonl");
    let moto = if refuse_create_tags {
        Moto::start_refusing_create_tags(Some(&rec))
    } else {
        Moto::start_with_recorder(&rec)
    };
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    let p = provisioner(&moto, regional(&[A1, A2], 10)).await;
    moto.record(true);
    let (status, r) = provision(&p, customer).await;
    moto.record(false);
    assert_eq!(status, 200, "{r}");
    let recording = std::fs::read_to_string(&rec).unwrap();
    (moto, p, r, recording)
}

/// The bodies of the `CreateBucket` requests about `bucket` (PUT without a query).
fn creates(reqs: &[Recorded]) -> Vec<&Recorded> {
    reqs.iter()
        .filter(|r| r.method == "PUT" && r.query.is_empty())
        .collect()
}

/// Whether a `PutBucketTagging` was recorded.
fn tagged_after(reqs: &[Recorded]) -> bool {
    reqs.iter()
        .any(|r| r.method == "PUT" && r.query.starts_with("tagging"))
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "xacct-ns-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// On the wire: `CreateBucket` carries `x-amz-bucket-namespace: account-regional`
/// and the three tags in `CreateBucketConfiguration`; no `PutBucketTagging`
/// follows; the record stores the chosen name; S3 (moto through the harness,
/// which keeps tags sent at creation as S3 does) has the tags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bucket_carries_the_namespace_header_and_the_tags() {
    let (moto, p, r, recording) = recorded_first_request("wire", "acme", false).await;
    let bucket = namespaced("acme", A1);
    assert_eq!(bucket, format!("ambra-dev-acme-{A1}-eu-west-1-an"));
    assert_eq!(r["bucket"], bucket.as_str());
    assert_eq!(r["account_id"], A1);
    assert_eq!(r["created"], true);

    let reqs = recorded_requests(&recording, &bucket);
    let created = creates(&reqs);
    assert_eq!(created.len(), 1, "one CreateBucket: {reqs:?}");
    let body = &created[0].body;
    assert_eq!(
        created[0].header("x-amz-bucket-namespace"),
        Some(contract::ACCOUNT_REGIONAL),
        "{:?}",
        created[0].headers
    );
    for (k, v) in expected_tags("acme") {
        assert!(
            body.contains(&format!("<Key>{k}</Key>"))
                && body.contains(&format!("<Value>{v}</Value>")),
            "tag {k}={v} not in the CreateBucket body: {body}"
        );
    }
    assert!(
        body.contains("<LocationConstraint>eu-west-1</LocationConstraint>"),
        "{body}"
    );
    assert!(
        !tagged_after(&reqs),
        "no PutBucketTagging when the tags went with CreateBucket: {reqs:?}"
    );
    assert_eq!(tags_of(&moto, A1, &bucket).await, expected_tags("acme"));

    // The record is under the customer's key and names the chosen bucket.
    let stored = record(&moto, "ambra-dev-acme").await.expect("record");
    assert_eq!(
        (stored.bucket.as_str(), stored.ready),
        (bucket.as_str(), true)
    );
    // A second container answers from the record.
    let q = provisioner(&moto, regional(&[A1, A2], 10)).await;
    let (status, again) = provision(&q, "acme").await;
    assert_eq!(
        (status, &again["bucket"], &again["created"]),
        (200, &r["bucket"], &serde_json::json!(false))
    );
    // The next customer goes to the other account, in that account's namespace.
    let (_, other) = provision(&p, "Other Co").await;
    assert_eq!(other["account_id"], A2);
    let other_bucket = other["bucket"].as_str().unwrap();
    assert!(
        contract::is_namespaced_bucket(other_bucket, A2, REGION),
        "{other_bucket}"
    );
    assert_eq!(buckets_in(&moto, A1).await, std::slice::from_ref(&bucket));
    assert_eq!(buckets_in(&moto, A2).await, [other_bucket.to_owned()]);
}

/// Fault injection: S3 refuses tags at creation (403 naming `s3:TagResource`).
/// The runtime creates the bucket without them, tags it with
/// `PutBucketTagging`, and the bucket ends tagged and `ready`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tags_at_creation_fall_back_to_put_bucket_tagging() {
    let (moto, _p, r, recording) = recorded_first_request("fallback", "fallback-co", true).await;
    let bucket = namespaced("fallback-co", A1);
    assert_eq!(r["bucket"], bucket.as_str());
    assert_eq!(
        tags_of(&moto, A1, &bucket).await,
        expected_tags("fallback-co")
    );
    assert!(record(&moto, "ambra-dev-fallback-co").await.unwrap().ready);

    let reqs = recorded_requests(&recording, &bucket);
    let created = creates(&reqs);
    assert_eq!(
        created.len(),
        2,
        "refused with tags, then without: {reqs:?}"
    );
    assert!(created[0].body.contains("<Tags>"), "{}", created[0].body);
    assert!(!created[1].body.contains("<Tags>"), "{}", created[1].body);
    assert!(
        tagged_after(&reqs),
        "PutBucketTagging after the refusal: {reqs:?}"
    );
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 0)].into(),
        "one reservation, not released by the refusal"
    );
}

/// A customer that has a bucket keeps it after the switch: one with a record
/// written in the global namespace, and one whose bucket predates the state
/// table (no record, found by its legacy global name).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_legacy_customer_keeps_its_global_bucket() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    // Before the switch: the global namespace.
    let old = provisioner(&moto, config(&[A1, A2], 10, REGION, &[])).await;
    let (status, first) = provision(&old, "old-co").await;
    assert_eq!(
        (status, first["bucket"].as_str()),
        (200, Some("ambra-dev-old-co"))
    );
    // A bucket made by hand before the table, in A2, untagged.
    crate::handler::buckets_before_the_table(&moto, A2, &["ambra-dev-older-co"]).await;

    // After the switch (a new container with account-regional).
    let p = provisioner(&moto, regional(&[A1, A2], 10)).await;
    let (status, r) = provision(&p, "old-co").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (
            r["bucket"].as_str(),
            r["account_id"].as_str(),
            r["created"].as_bool()
        ),
        (Some("ambra-dev-old-co"), Some(A1), Some(false))
    );
    let (status, r) = provision(&p, "older-co").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (
            r["bucket"].as_str(),
            r["account_id"].as_str(),
            r["created"].as_bool()
        ),
        (Some("ambra-dev-older-co"), Some(A2), Some(false))
    );
    assert_eq!(
        tags_of(&moto, A2, "ambra-dev-older-co").await,
        expected_tags("older-co")
    );
    let stored = record(&moto, "ambra-dev-older-co").await.unwrap();
    assert_eq!(
        (
            stored.bucket.as_str(),
            stored.account_id.as_str(),
            stored.ready
        ),
        ("ambra-dev-older-co", A2, true)
    );
    // No second bucket for either customer; each counted once.
    let mut all = buckets_in(&moto, A1).await;
    all.extend(buckets_in(&moto, A2).await);
    all.sort();
    assert_eq!(all, ["ambra-dev-old-co", "ambra-dev-older-co"]);
    let counts = counters(&moto, &[A1, A2]).await;
    assert_eq!(counts.values().sum::<usize>(), 2, "{counts:?}");
    // A new customer gets a namespaced bucket.
    let (_, new) = provision(&p, "new-co").await;
    let b = new["bucket"].as_str().unwrap();
    assert!(contract::looks_namespaced(b, REGION), "{b}");
}

/// Another account pre-created a customer's global name: in the global
/// namespace that blocks the customer (409); in the account regional
/// namespace it no longer matters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatted_global_name_no_longer_blocks_a_new_customer() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    // A foreign account (not a storage account) owns the global name.
    crate::handler::buckets_before_the_table(&moto, A3, &["ambra-dev-taken"]).await;
    let global = provisioner(&moto, config(&[A1, A2], 10, REGION, &[])).await;
    let (status, r) = provision(&global, "taken").await;
    assert_eq!(
        (status, r["error"].as_str()),
        (409, Some("bucket_name_taken")),
        "{r}"
    );

    let p = provisioner(&moto, regional(&[A1, A2], 10)).await;
    let (status, r) = provision(&p, "taken").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["bucket"], namespaced("taken", A1).as_str());
    assert_eq!(r["created"], true);
    assert_eq!(
        tags_of(&moto, A1, &namespaced("taken", A1)).await,
        expected_tags("taken")
    );
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 0)].into()
    );
}

/// Two customer IDs whose global names coincide (`Acme` is hashed to
/// `acme-<hash>`; a customer may literally be called that) never share a bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_ids_with_one_global_name_never_share_a_bucket() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    let p = provisioner(&moto, regional(&[A1, A2], 10)).await;
    let (status, first) = provision(&p, "Acme").await;
    assert_eq!(status, 200, "{first}");
    let key = contract::bucket_name(PREFIX, "Acme").unwrap();
    let lookalike = key.strip_prefix("ambra-dev-").unwrap();
    for q in [&p, &provisioner(&moto, regional(&[A1, A2], 10)).await] {
        let (status, r) = provision(q, lookalike).await;
        assert_eq!(
            (status, r["error"].as_str()),
            (409, Some("customer_name_collision")),
            "{r}"
        );
    }
    assert_eq!(
        buckets_in(&moto, A1).await.len() + buckets_in(&moto, A2).await.len(),
        1
    );
}

/// The 63-character limit at the edges, end to end: an ID that exactly fits
/// keeps its name, one more character is shortened with the hash, unicode is
/// hashed, and every name is in the namespace and at most 63 characters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_at_the_length_limit() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    let p = provisioner(&moto, regional(&[A1], 10)).await;
    let room =
        contract::BUCKET_NAME_MAX - PREFIX.len() - 1 - contract::namespace_suffix(A1, REGION).len();
    let fit = "f".repeat(room);
    let over = "f".repeat(room + 1);
    let mut names = Vec::new();
    for c in [
        fit.as_str(),
        over.as_str(),
        "Ünïcödé Klinik",
        &"x".repeat(256),
    ] {
        let (status, r) = provision(&p, c).await;
        assert_eq!(status, 200, "{c}: {r}");
        let b = r["bucket"].as_str().unwrap().to_owned();
        assert!(b.len() <= contract::BUCKET_NAME_MAX, "{b}");
        assert!(contract::is_namespaced_bucket(&b, A1, REGION), "{b}");
        names.push(b);
    }
    assert_eq!(names[0], format!("ambra-dev-{fit}-{A1}-eu-west-1-an"));
    assert_eq!(names[0].len(), 63);
    assert_ne!(names[1], names[0]);
    let (status, r) = provision(&p, &"x".repeat(257)).await;
    assert_eq!(
        (status, r["error"].as_str()),
        (400, Some("invalid_customer")),
        "{r}"
    );
    assert!(r["message"].as_str().unwrap().contains("256"), "{r}");
}
