//! Handler tests: real function-URL events through `handler::handle`, against
//! a moto server with storage accounts reached by `sts:AssumeRole`.

use std::collections::HashSet;

use crate::support::*;
use aws_sdk_s3::types::{ObjectOwnership, ServerSideEncryption};
use xacct_provisioner::contract;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_call_creates_second_returns_same_bucket_with_every_setting() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    let p = provisioner(&moto, config(&[A1, A2], 10, "eu-west-1", &[])).await;

    let (status, first) = call(&p, event_file("function_url_post_standard.json")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["bucket"], "ambra-dev-acme");
    assert_eq!(
        first["account_id"], A1,
        "ties go to the first account in spec order"
    );
    assert_eq!(first["region"], "eu-west-1");
    assert_eq!(first["arn"], "arn:aws:s3:::ambra-dev-acme");
    assert_eq!(first["created"], true);
    assert_eq!(first["api_version"], contract::API_VERSION);

    let calls = p.clients().counter.get();
    let (status, second) = call(&p, event_file("function_url_post_standard.json")).await;
    assert_eq!(status, 200);
    assert_eq!(second["created"], false);
    assert_eq!(
        (&second["bucket"], &second["account_id"]),
        (&first["bucket"], &first["account_id"])
    );
    assert_eq!(
        p.clients().counter.get(),
        calls,
        "a warm container answers a known customer without AWS calls"
    );

    // Every setting, read back in the owning account.
    let s3 = s3_in(&moto, A1, "eu-west-1").await;
    let b = "ambra-dev-acme";
    let loc = s3.get_bucket_location().bucket(b).send().await.unwrap();
    assert_eq!(
        loc.location_constraint().map(|l| l.as_str()),
        Some("eu-west-1")
    );
    // Block Public Access is not written any more (S3's default for new buckets,
    // the account's covers every bucket, and the role may not change it); moto
    // has no such default, so nothing is there.
    let pab = s3
        .get_public_access_block()
        .bucket(b)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&pab),
        Some("NoSuchPublicAccessBlockConfiguration")
    );
    let own = s3
        .get_bucket_ownership_controls()
        .bucket(b)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.ownership_controls().unwrap().rules()[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
    let enc = s3.get_bucket_encryption().bucket(b).send().await.unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm(),
        &ServerSideEncryption::Aes256
    );
    let tags = s3.get_bucket_tagging().bucket(b).send().await.unwrap();
    let mut tags: Vec<(String, String)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("customer".into(), "acme".into()),
            ("environment".into(), "development".into()),
            ("managed-by".into(), "xacct".into())
        ]
    );
    let policy = s3.get_bucket_policy().bucket(b).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let readers = vec![format!(
        "arn:aws:iam::{}:role/ambra-storage-dev",
        moto::DEFAULT_ACCOUNT
    )];
    assert_eq!(policy, contract::customer_bucket_policy(b, &readers));

    assert_eq!(buckets_in(&moto, A1).await, [b]);
    assert!(
        buckets_in(&moto, A2).await.is_empty(),
        "bucket must not land in the other account"
    );

    // Another customer goes to the account with the most headroom.
    let (_, other) = provision(&p, "Acme").await;
    assert_eq!(other["account_id"], A2);
    assert_ne!(
        other["bucket"], first["bucket"],
        "case-distinct IDs get distinct buckets"
    );

    // A base64-encoded body (as function URLs send binary content types).
    let (status, b64) = call(&p, event_file("function_url_post_base64.json")).await;
    assert_eq!(status, 200, "{b64}");
    assert_eq!(b64["customer"], "Base64 Corp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_finishes_a_partial_configuration_and_new_containers_agree() {
    let moto = Moto::start();
    let p = provisioner(&moto, config(&[A1, A2], 10, "eu-west-1", &[])).await;
    let (_, first) = provision(&p, "partial-co").await;
    let bucket = first["bucket"].as_str().unwrap().to_owned();

    // Simulate a crash before the last step: the marker tags are missing and
    // the record is still `creating`.
    let table = xacct_provisioner::state::Table::new(dynamodb(&moto).await, STATE_TABLE);
    assert!(
        table
            .set_state(&bucket, A1, contract::state::CREATING)
            .await
            .unwrap()
    );
    let s3 = s3_in(&moto, A1, "eu-west-1").await;
    s3.delete_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    s3.delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();

    // A new container (cold start) resumes the record and finishes the job.
    let q = provisioner(&moto, config(&[A1, A2], 10, "eu-west-1", &[])).await;
    let (status, again) = provision(&q, "partial-co").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["created"].as_bool(), again["account_id"].as_str()),
        (Some(false), Some(A1))
    );
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set().len(), 3);
    s3.get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .expect("policy re-applied");
    assert_eq!(
        buckets_in(&moto, A1).await.len() + buckets_in(&moto, A2).await.len(),
        1
    );
    assert!(record(&moto, &bucket).await.unwrap().ready);
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 0)].into()
    );
}

/// Customer buckets made in `account` (eu-west-1) by hand, as the previous
/// runtime did before the state table existed.
pub(crate) async fn buckets_before_the_table(moto: &Moto, account: &str, names: &[&str]) {
    let s3 = s3_in(moto, account, "eu-west-1").await;
    for name in names {
        s3.create_bucket()
            .bucket(*name)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_older_than_the_table_are_counted_once_and_adopted() {
    let moto = Moto::start();
    // Two buckets the previous runtime made before the table existed, in A2.
    buckets_before_the_table(&moto, A2, &["ambra-dev-old-a", "ambra-dev-old-b"]).await;
    let s3 = s3_in(&moto, A2, "eu-west-1").await;
    // The container that lists them runs on a clock ahead by more than the
    // listing margin (S3 creation times are to the second): the buckets are
    // clearly older than its listing, without waiting for that to be true.
    let cfg = config(&[A1, A2], 10, "eu-west-1", &[]);
    let a = provisioner_at(
        &moto,
        cfg.clone(),
        xacct_provisioner::core::LISTING_MARGIN_MS + 1100,
    )
    .await;
    // The first new customer creates the counters from one listing each.
    let (status, r) = provision(&a, "new-co").await;
    assert_eq!((status, r["account_id"].as_str()), (200, Some(A1)), "{r}");
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 2)].into()
    );

    // An old customer: the reservation goes to A1 (most headroom), S3 says the
    // name exists, the owner is A2, whose listing already counted it.
    let b = provisioner(&moto, cfg.clone()).await;
    let (status, r) = provision(&b, "old-a").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["account_id"].as_str(), r["created"].as_bool()),
        (Some(A2), Some(false))
    );
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 2)].into()
    );
    let rec = record(&moto, "ambra-dev-old-a").await.unwrap();
    assert!(
        rec.ready && rec.counted_by_listing && rec.account_id == A2,
        "{rec:?}"
    );
    // Adopted buckets are configured like new ones.
    let tags = s3
        .get_bucket_tagging()
        .bucket("ambra-dev-old-a")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set().len(), 3);
}

/// The warm shortcut on the provisioner's clock: a new customer right after
/// a read reserves from the counts it holds (no read); once they are
/// `COUNTS_MAX_AGE_MS` old, the next one reads the counters again (one call
/// more), with no wall-clock wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_reused_for_their_age_and_read_again_after_it() {
    let moto = Moto::start();
    let clock = std::sync::Arc::new(xacct_provisioner::core::OffsetClock::new(0));
    let a = provisioner(&moto, config(&[A1, A2], 10, "eu-west-1", &[]))
        .await
        .with_clock(clock.clone());
    let calls = || a.clients().counter.get();
    assert_eq!(provision(&a, "first").await.0, 200);
    let before = calls();
    assert_eq!(provision(&a, "warm").await.0, 200);
    let warm = calls() - before;
    clock.advance(xacct_provisioner::core::COUNTS_MAX_AGE_MS);
    let before = calls();
    assert_eq!(provision(&a, "stale").await.0, 200);
    let stale = calls() - before;
    assert_eq!(stale, warm + 1, "warm {warm} calls, stale {stale}");
    let before = calls();
    assert_eq!(provision(&a, "fresh-again").await.0, 200);
    assert_eq!(calls() - before, warm, "counts just read are fresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_made_by_hand_after_the_listing_is_counted_when_adopted() {
    let moto = Moto::start();
    let s3 = s3_in(&moto, A2, "eu-west-1").await;
    // The listing container's clock is behind by more than the margin: a
    // bucket S3 dates to this second is clearly newer than its listing.
    let cfg = config(&[A1, A2], 10, "eu-west-1", &[]);
    let a = provisioner_at(
        &moto,
        cfg.clone(),
        -(xacct_provisioner::core::LISTING_MARGIN_MS + 1100),
    )
    .await;
    let (status, r) = provision(&a, "new-co").await;
    assert_eq!((status, r["account_id"].as_str()), (200, Some(A1)), "{r}");
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 0)].into()
    );

    // A bucket made by hand after the counters exist is not in any count:
    // adopting it adds it to its owner's counter, once.
    s3.create_bucket()
        .bucket("ambra-dev-by-hand")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (status, r) = provision(&a, "by-hand").await;
    assert_eq!((status, r["account_id"].as_str()), (200, Some(A2)), "{r}");
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 1)].into()
    );
    assert!(
        !record(&moto, "ambra-dev-by-hand")
            .await
            .unwrap()
            .counted_by_listing
    );
    assert_eq!(buckets_in(&moto, A1).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_containers_share_the_counters_and_never_overfill() {
    let moto = Moto::start();
    let cfg = config(
        &[A1, A2],
        3,
        "eu-west-1",
        &[(contract::env::CAPACITY_WARN_PERCENT, "100")],
    );
    let a = provisioner(&moto, cfg.clone()).await;
    let b = provisioner(&moto, cfg).await;
    let mut ok = 0;
    let mut full = 0;
    for i in 0..5 {
        // a and b interleave; each reads the shared counters, not its own view.
        for p in [&a, &b] {
            let (status, r) = provision(p, &format!("c-{i}-{}", ok + full)).await;
            match status {
                200 => ok += 1,
                503 => {
                    assert_eq!(r["error"], "capacity_exhausted", "{r}");
                    full += 1
                }
                _ => panic!("{status} {r}"),
            }
        }
    }
    assert_eq!((ok, full), (6, 4));
    assert_eq!(buckets_in(&moto, A1).await.len(), 3);
    assert_eq!(buckets_in(&moto, A2).await.len(), 3);
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 3), (A2.into(), 3)].into()
    );
    // b answers a customer a created from the record: one call.
    let (status, r) = provision(&b, "c-0-0").await;
    assert_eq!((status, r["created"].as_bool()), (200, Some(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_exhaustion_and_threshold_warning_with_sns() {
    let moto = Moto::start();
    let (topic, rx) = ops_topic(&moto).await;

    let cfg = config(
        &[A1, A2],
        4,
        "eu-west-1",
        &[
            (contract::env::CAPACITY_WARN_PERCENT, "50"),
            (contract::env::OPS_TOPIC_ARN, &topic),
        ],
    );
    let p = provisioner(&moto, cfg).await;
    let mut accounts = Vec::new();
    for i in 0..8 {
        let (status, r) = provision(&p, &format!("cust-{i}")).await;
        assert_eq!(status, 200, "{r}");
        accounts.push(r["account_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        accounts,
        [A1, A2, A1, A2, A1, A2, A1, A2],
        "most headroom first, ties in spec order"
    );
    let (status, full) = provision(&p, "one-too-many").await;
    assert_eq!(status, 503, "{full}");
    assert_eq!(full["error"], "capacity_exhausted");
    assert!(
        full["message"]
            .as_str()
            .unwrap()
            .contains("every storage account holds 4 buckets"),
        "{full}"
    );
    assert_eq!(buckets_in(&moto, A1).await.len(), 4);
    assert_eq!(buckets_in(&moto, A2).await.len(), 4);
    // Known customers are still answered when full.
    assert_eq!(provision(&p, "cust-0").await.0, 200);

    // Exactly one notification per account, when it reached 2 of 4 (50 %),
    // and one when every account was full.
    let mut seen = Vec::new();
    let mut exhausted = 0;
    for msg in notifications(&moto, &topic, &rx).await {
        if msg["event"] == "capacity_exhausted" {
            assert_eq!(msg["max_buckets_per_account"], 4);
            exhausted += 1;
            continue;
        }
        assert_eq!(msg["event"], "capacity_threshold");
        assert_eq!(msg["bucket_count"], 2);
        seen.push(msg["account_id"].as_str().unwrap().to_owned());
    }
    seen.sort();
    assert_eq!(seen, [A1, A2]);
    assert_eq!(exhausted, 1, "one capacity_exhausted notification");
}

/// An account already past the warning threshold when its counter is created
/// (buckets older than the table) notifies ops on the first reservation, and
/// only once across containers; a warm container reserves from the counts it
/// knows, without reading the table first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threshold_notifies_once_across_containers_and_warm_requests_skip_the_read() {
    let moto = Moto::start();
    let (topic, rx) = ops_topic(&moto).await;
    buckets_before_the_table(
        &moto,
        A1,
        &["ambra-dev-old-a", "ambra-dev-old-b", "ambra-dev-old-c"],
    )
    .await;
    // A1 holds 3 of 10 before the table, the warning is at 20 % (2): the
    // count is past the threshold from the first listing, never equal to it.
    let cfg = config(
        &[A1],
        10,
        "eu-west-1",
        &[
            (contract::env::CAPACITY_WARN_PERCENT, "20"),
            (contract::env::OPS_TOPIC_ARN, &topic),
        ],
    );
    let a = provisioner(&moto, cfg.clone()).await;
    let b = provisioner(&moto, cfg).await;
    let calls = |p: &xacct_provisioner::service::Provisioner| p.clients().counter.get();

    // Container a: cold, reads, lists A1 once (3 buckets, already past 20 %).
    let (status, r) = provision(&a, "first").await;
    assert_eq!(status, 200, "{r}");
    // Container b: cold as well; the account is still past the threshold but
    // a already notified.
    let (status, r) = provision(&b, "second").await;
    assert_eq!(status, 200, "{r}");
    // Both containers warm now: the same calls each.
    let (before_b, before_a) = (calls(&b), calls(&a));
    let (status, r) = provision(&b, "third").await;
    assert_eq!(status, 200, "{r}");
    let (status, r) = provision(&a, "fourth").await;
    assert_eq!(status, 200, "{r}");
    let (warm_b, warm_a) = (calls(&b) - before_b, calls(&a) - before_a);
    assert_eq!(warm_a, warm_b, "both warm: the same calls");
    // The same request in a cold container costs three calls more: the read,
    // its first `sts:AssumeRole` into A1, and its one (refused) try to mark
    // the threshold.
    let c = provisioner(&moto, config(&[A1], 10, "eu-west-1", &[])).await;
    let before_c = calls(&c);
    assert_eq!(provision(&c, "fifth").await.0, 200);
    assert_eq!(
        calls(&c) - before_c,
        warm_a + 3,
        "a cold request: the read, sts:AssumeRole and the threshold mark more than a warm one"
    );
    // A known customer in a warm container: one call (the cancelled reservation).
    let before_a = calls(&a);
    let (status, r) = provision(&a, "second").await;
    assert_eq!((status, r["created"].as_bool()), (200, Some(false)), "{r}");
    assert_eq!(calls(&a) - before_a, 1, "known elsewhere: one call");
    assert_eq!(counters(&moto, &[A1]).await, [(A1.into(), 8)].into());

    let warned: Vec<_> = notifications(&moto, &topic, &rx)
        .await
        .into_iter()
        .filter(|m| m["event"] == "capacity_threshold")
        .collect();
    assert_eq!(
        warned.len(),
        1,
        "one notification across containers: {warned:?}"
    );
    assert_eq!(warned[0]["account_id"], A1);
    assert_eq!(warned[0]["bucket_count"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phr_requests_are_answered_from_configuration() {
    let moto = Moto::start();
    let cfg = config(
        &[A1, A2],
        10,
        "eu-west-1",
        &[
            (contract::env::PHR_ACCOUNT, "100000000009"),
            (contract::env::PHR_BUCKET, "ambra-dev-phr"),
        ],
    );
    let p = provisioner(&moto, cfg).await;
    let (status, r) = call(&p, event_file("function_url_post_phr.json")).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["kind"], "phr");
    assert_eq!(r["bucket"], "ambra-dev-phr");
    assert_eq!(r["account_id"], "100000000009");
    assert_eq!(r["arn"], "arn:aws:s3:::ambra-dev-phr");
    assert_eq!(r["created"], false);
    assert_eq!(p.clients().counter.get(), 0, "PHR answers cost no AWS call");
    assert!(buckets_in(&moto, A1).await.is_empty() && buckets_in(&moto, A2).await.is_empty());

    let q = provisioner(&moto, config(&[A1], 10, "eu-west-1", &[])).await;
    let (status, r) = call(&q, event_file("function_url_post_phr.json")).await;
    assert_eq!(
        (status, r["error"].as_str()),
        (503, Some("phr_not_configured"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_through_organizations_and_self_test() {
    let moto = Moto::start();
    let org = aws_sdk_organizations::Client::new(&default_sdk(&moto).await);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut tagged = Vec::new();
    for (name, tag) in [
        ("storage-1", true),
        ("workloads", false),
        ("storage-2", true),
    ] {
        let mut req = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"));
        if tag {
            req = req.tags(
                aws_sdk_organizations::types::Tag::builder()
                    .key("ambra-storage")
                    .value("true")
                    .build()
                    .unwrap(),
            );
        }
        let status = req.send().await.unwrap();
        let id = status
            .create_account_status()
            .and_then(|s| s.account_id())
            .unwrap()
            .to_owned();
        if tag {
            tagged.push(id);
        }
    }
    tagged.sort();

    let p = provisioner(&moto, config(&[], 10, "us-east-1", &[])).await;
    assert!(p.config().storage_accounts.is_empty());
    let (status, r) = provision(&p, "discovered-co").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["account_id"], tagged[0].as_str());
    assert_eq!(r["region"], "us-east-1");
    assert_eq!(
        buckets_in(&moto, &tagged[0]).await,
        ["ambra-dev-discovered-co"]
    );

    let (status, st) = call(&p, event_file("function_url_post_self_test.json")).await;
    assert_eq!(status, 200, "{st}");
    assert_eq!(st["ok"], true, "{st}");
    let accounts: Vec<(&str, bool, u64, u64)> = st["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account_id"].as_str().unwrap(),
                a["trust_ok"].as_bool().unwrap(),
                a["bucket_count"].as_u64().unwrap(),
                a["headroom"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        accounts,
        [
            (tagged[0].as_str(), true, 1, 9),
            (tagged[1].as_str(), true, 0, 10)
        ]
    );
    let drift = |st: &serde_json::Value| -> Vec<(u64, i64)> {
        st["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["counter"].as_u64().unwrap(), a["drift"].as_i64().unwrap()))
            .collect()
    };
    assert_eq!(drift(&st), [(1, 0), (0, 0)], "{st}");
    // A bucket deleted by hand: the self-test reports the drift.
    s3_in(&moto, &tagged[0], "us-east-1")
        .await
        .delete_bucket()
        .bucket("ambra-dev-discovered-co")
        .send()
        .await
        .unwrap();
    let (_, st) = call(&p, event_file("function_url_post_self_test.json")).await;
    assert_eq!(drift(&st), [(1, 1), (0, 0)], "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_for_25_customers_give_25_buckets() {
    let moto = Moto::start();
    // 2 x 13 = 26 slots for 25 customers: any over-allocation would fail.
    let p = std::sync::Arc::new(provisioner(&moto, config(&[A1, A2], 13, "eu-west-1", &[])).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let p = p.clone();
        tasks.spawn(async move {
            let customer = format!("Customer {}", i % 25);
            let (status, r) = provision(&p, &customer).await;
            (customer, status, r)
        });
    }
    let mut answers: std::collections::HashMap<String, Vec<serde_json::Value>> = Default::default();
    while let Some(done) = tasks.join_next().await {
        let (customer, status, r) = done.unwrap();
        assert_eq!(status, 200, "{customer}: {r}");
        answers.entry(customer).or_default().push(r);
    }
    assert_eq!(answers.len(), 25);
    for (customer, rs) in &answers {
        assert_eq!(rs.len(), 2);
        assert_eq!(
            (&rs[0]["bucket"], &rs[0]["account_id"]),
            (&rs[1]["bucket"], &rs[1]["account_id"]),
            "{customer}"
        );
        let created = rs.iter().filter(|r| r["created"] == true).count();
        assert_eq!(created, 1, "{customer}: exactly one call creates");
    }
    let (in1, in2) = (buckets_in(&moto, A1).await, buckets_in(&moto, A2).await);
    assert!(
        in1.len() <= 13 && in2.len() <= 13,
        "{} / {}",
        in1.len(),
        in2.len()
    );
    let all: HashSet<&String> = in1.iter().chain(&in2).collect();
    assert_eq!(all.len(), 25);
    assert_eq!(in1.len() + in2.len(), 25, "no duplicates");
}

/// Ownership on every call (issue 15): every S3 request about a bucket the
/// runtime manages carries `x-amz-expected-bucket-owner` = the storage account
/// (moto's recorder, on the wire), and no step writes Block Public Access. A
/// customer name owned outside the storage accounts answers 409 and publishes
/// the `bucket_name_squatted` notification on the ops topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bucket_call_names_the_owner_and_a_squatted_name_is_reported() {
    let dir = tempfile_dir();
    let rec = dir.join("recording.jsonl");
    let moto = Moto::start_with_recorder(&rec);
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    let sns = aws_sdk_sns::Client::new(&default_sdk(&moto).await);
    let topic = sns
        .create_topic()
        .name("xacct-ops")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let (url, rx) = http_sink();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("http")
        .endpoint(&url)
        .send()
        .await
        .unwrap();
    while rx.try_recv().is_ok() {}
    // A foreign account (not a storage account) owns the name of customer "taken".
    s3_in(&moto, A3, "us-east-1")
        .await
        .create_bucket()
        .bucket("ambra-dev-taken")
        .send()
        .await
        .unwrap();
    let cfg = config(
        &[A1, A2],
        10,
        "eu-west-1",
        &[(contract::env::OPS_TOPIC_ARN, &topic)],
    );
    let p = provisioner(&moto, cfg).await;

    moto.record(true);
    let (status, r) = provision(&p, "acme").await;
    assert_eq!(status, 200, "{r}");
    // A second container answers from the state table's record (no S3 call).
    let q = provisioner(&moto, config(&[A1, A2], 10, "eu-west-1", &[])).await;
    assert_eq!(provision(&q, "acme").await.0, 200);
    moto.record(false);
    let recording = std::fs::read_to_string(&rec).unwrap();
    let mut checked = 0;
    let mut puts: Vec<String> = Vec::new();
    for req in recorded_requests(&recording, "ambra-dev-acme") {
        let (url, query) = (&req.url, &req.query);
        assert!(
            !query.starts_with("publicAccessBlock"),
            "Block Public Access written: {url}"
        );
        if req.method == "PUT" && query.is_empty() {
            continue; // CreateBucket has no owner parameter: the bucket is new.
        }
        assert_eq!(
            req.header("x-amz-expected-bucket-owner"),
            Some(A1),
            "{} {url}",
            req.method
        );
        if req.method == "PUT" {
            puts.push(
                query
                    .split(['&', '='])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        checked += 1;
    }
    // The Lambda sends the tags with CreateBucket (the contract's first step),
    // then the other steps at once, in any order: the same list the verifier's
    // canary follows. No PutBucketTagging: S3 took the tags at creation.
    let mut got: Vec<&str> = puts.iter().map(String::as_str).collect();
    got.sort_unstable();
    let mut want: Vec<&str> = contract::steps_after_create()
        .map(|s| s.subresource())
        .collect();
    want.sort_unstable();
    assert_eq!(got, want, "configuration steps on the wire: {puts:?}");
    assert_eq!(
        contract::BUCKET_STEPS.first(),
        Some(&contract::BucketStep::Tags)
    );
    // Ownership, encryption and policy: every S3 call about the bucket after
    // its creation.
    assert!(
        checked >= 3,
        "only {checked} bucket requests recorded:\n{recording}"
    );

    let (status, r) = provision(&p, "taken").await;
    assert_eq!(
        (status, r["error"].as_str()),
        (409, Some("bucket_name_taken")),
        "{r}"
    );
    let mut squatted = None;
    while let Ok(body) = rx.recv_timeout(std::time::Duration::from_secs(5)) {
        let envelope: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if envelope["Type"] == "Notification" {
            squatted = Some(
                serde_json::from_str::<serde_json::Value>(envelope["Message"].as_str().unwrap())
                    .unwrap(),
            );
            break;
        }
    }
    let msg = squatted.expect("an ops notification for the squatted name");
    assert_eq!(msg["event"], "bucket_name_squatted");
    assert_eq!(msg["bucket"], "ambra-dev-taken");
    assert_eq!(msg["environment"], "development");
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(
        format!(
            "xacct-ownership-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        )
        .replace([' ', ':', '{', '}', ','], "_"),
    );
    std::fs::create_dir_all(&d).unwrap();
    d
}
