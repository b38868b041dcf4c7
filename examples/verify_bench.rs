//! Benchmark of `xacct verify` against moto: 10, 100 and 500 storage accounts
//! (or the counts given as arguments), and the sequential
//! `aws sts assume-role` + `aws iam get-role` shell loop over the same accounts.
//!
//! Run: `cargo build && cargo run --example verify_bench -- 10 100 500`
//! (`XACCT_BIN` picks the binary, default `target/debug/xacct`;
//! `XACCT_BENCH_LOOP_MAX` caps the accounts the shell loop walks, default 500;
//! `XACCT_BENCH_CONCURRENCY` is passed as `--concurrency`, default: verify's
//! own default).
//!
//! After each verify run, the same moto server gets a "replay": verify's
//! storage-account requests (6 per account: audit-role `AssumeRole`, then
//! `GetAccountAuthorizationDetails` with `GetServiceQuota` and the account-level
//! Block Public Access (`s3control GetPublicAccessBlock`, XV036); chain
//! `AssumeRole` and `ListBuckets`) sent straight from the SDK with the same concurrency and
//! no checks. Its wall time is moto's server-bound floor for those requests,
//! and requests / replay time is moto's sustained throughput.
//!
//! `XACCT_BENCH_LATENCY_MS=N` puts a loopback proxy between verify (and the
//! shell loop) and moto that holds each request for N ms before forwarding it:
//! moto on loopback answers in a few ms and is throughput-bound, while an AWS
//! API round trip costs tens of ms, so this shows how verify's concurrency
//! behaves when latency, not the server, dominates. The replay floor still
//! talks to moto directly.
//!
//! Counting requests (slows moto down; do not time such a run): with
//! `MOTO_RECORDER_FILEPATH=/tmp/rec.jsonl` set, the moto child inherits it and
//! the bench records exactly verify's requests (moto's recorder, started just
//! before verify and stopped after), and prints their number to stderr.

#[path = "../tests/xacct/support/verify_deploy.rs"]
mod deploy;

use xacct_testkit::moto;

use std::process::Command;
use std::time::{Duration, Instant};

use deploy::*;
use moto::Moto;

fn spec(n: usize, dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join("environments/dev.toml")).unwrap();
    let accounts: Vec<String> = (0..n)
        .map(|i| format!("\"{}\"", 200_000_000_000u64 + i as u64))
        .collect();
    let text = text.replace(
        "accounts = [\"100000000002\", \"100000000003\"]",
        &format!("accounts = [{}]", accounts.join(", ")),
    );
    let text = text.replace("expected_customers = 50", "expected_customers = 1");
    let p = dir.join(format!("bench-{n}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![10, 100, 500]
    } else {
        counts
    };
    let bin = std::env::var("XACCT_BIN")
        .unwrap_or_else(|_| root().join("target/debug/xacct").display().to_string());
    let loop_max: usize = std::env::var("XACCT_BENCH_LOOP_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let concurrency = std::env::var("XACCT_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| xacct::verify::DEFAULT_CONCURRENCY.to_string());
    let in_flight: usize = concurrency.parse().unwrap_or(64);
    let latency = std::env::var("XACCT_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    if let Some(l) = latency {
        println!(
            "(every request held {} ms by a loopback proxy)",
            l.as_millis()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    println!(
        "| storage accounts | xacct verify (s) | replay floor (s) | moto req/s | verify / floor | shell loop (s) | loop / verify |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in counts {
        let m = Moto::start();
        let spec = spec(n, dir.path());
        let env = load(&spec);
        let rt = rt();
        let t = Instant::now();
        let verifier = rt.block_on(async {
            deploy(&m, &env).await;
            creds_in(&base(&m), &env.primary_account, VERIFIER_ROLE).await
        });
        eprintln!("deployed {n} accounts in {:.1}s", t.elapsed().as_secs_f64());
        let creds = [
            ("AWS_ACCESS_KEY_ID", verifier.access_key_id().to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY",
                verifier.secret_access_key().to_owned(),
            ),
            (
                "AWS_SESSION_TOKEN",
                verifier.session_token().unwrap_or_default().to_owned(),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ];
        let endpoint = match latency {
            Some(l) => xacct_testkit::latency::proxy(m.port, l),
            None => m.endpoint.clone(),
        };
        let recording = std::env::var("MOTO_RECORDER_FILEPATH").ok();
        if recording.is_some() {
            for path in ["reset-recording", "start-recording"] {
                moto::http(m.port, "POST", &format!("/moto-api/recorder/{path}"), None).unwrap();
            }
        }
        let t = Instant::now();
        let out = Command::new(&bin)
            .args(["verify", "--env"])
            .arg(&spec)
            .args(["--endpoint-url", &endpoint, "--format", "json"])
            .args(["--concurrency", &concurrency])
            .envs(creds.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        let verify_s = t.elapsed().as_secs_f64();
        if let Some(file) = &recording {
            moto::http(m.port, "POST", "/moto-api/recorder/stop-recording", None).unwrap();
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let requests = text.lines().filter(|l| !l.trim().is_empty()).count();
            eprintln!(
                "verify, {n} storage accounts: {requests} requests recorded by moto ({:.2} per storage account, all included)",
                requests as f64 / n as f64
            );
        }
        assert_eq!(
            out.status.code(),
            Some(0),
            "verify failed: {}",
            String::from_utf8_lossy(&out.stdout)
                .chars()
                .take(2000)
                .collect::<String>()
        );
        let loop_s = if n <= loop_max {
            let script = format!(
                "for a in {}; do aws --endpoint-url {ep} sts assume-role --role-arn arn:aws:iam::$a:role/OrganizationAccountAccessRole --role-session-name bench > /tmp/xacct-bench-creds.json || exit 1; \
                 (eval $(python3 -c 'import json;c=json.load(open(\"/tmp/xacct-bench-creds.json\"))[\"Credentials\"];print(\"export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s\" % (c[\"AccessKeyId\"],c[\"SecretAccessKey\"],c[\"SessionToken\"]))'); \
                 aws --endpoint-url {ep} iam get-role --role-name S3BucketManager > /dev/null) || exit 1; done",
                env.storage_accounts.join(" "),
                ep = endpoint,
            );
            let t = Instant::now();
            let st = Command::new("bash")
                .args(["-c", &script])
                .envs(creds.iter().map(|(k, v)| (*k, v.as_str())))
                .status()
                .expect("bash + awscli (pip install awscli)");
            assert!(st.success(), "shell loop failed");
            Some(t.elapsed().as_secs_f64())
        } else {
            None
        };
        let t = Instant::now();
        let requests = rt.block_on(replay(&m, &env, in_flight));
        let floor_s = t.elapsed().as_secs_f64();
        let rps = requests as f64 / floor_s;
        let loop_col = match loop_s {
            Some(l) => format!("{l:.1} | {:.0}x", l / verify_s),
            None => "(not run) | -".to_owned(),
        };
        println!(
            "| {n} | {verify_s:.2} | {floor_s:.2} | {rps:.0} | {:.2} | {loop_col} |",
            verify_s / floor_s
        );
    }
}

/// Verify's storage-account requests, without verify: per account the audit
/// role's `AssumeRole`, then `GetAccountAuthorizationDetails` and
/// `GetServiceQuota` together; at the same time `AssumeRole` into
/// `S3BucketManager` and `ListBuckets`. `in_flight` accounts at a time.
/// Answers are not checked (moto's `GetServiceQuota` for s3 is an error).
/// Returns the number of requests sent.
async fn replay(m: &Moto, env: &xacct::model::Environment, in_flight: usize) -> usize {
    use aws_sdk_sts::config::SharedCredentialsProvider;
    let base = base(m);
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for acct in env.storage_accounts.clone() {
        let base = base.clone();
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            let session = |c| {
                base.to_builder()
                    .credentials_provider(SharedCredentialsProvider::new(c))
                    .build()
            };
            let audit = async {
                let a = session(creds_in(&base, &acct, "OrganizationAccountAccessRole").await);
                let iam = aws_sdk_iam::Client::new(&a);
                let sq = aws_sdk_servicequotas::Client::new(&a);
                let xa = session_of(&a);
                let (d, _, bpa) = tokio::join!(
                    iam.get_account_authorization_details()
                        .filter(aws_sdk_iam::types::EntityType::Role)
                        .filter(aws_sdk_iam::types::EntityType::LocalManagedPolicy)
                        .send(),
                    sq.get_service_quota()
                        .service_code("s3")
                        .quota_code("L-DC2B2D3D")
                        .send(),
                    xacct::verify::storage::account_public_access_block(&xa, &acct),
                );
                assert!(d.is_ok(), "{d:?}");
                assert!(bpa.is_ok(), "{bpa:?}");
            };
            let chain = async {
                let mgr = session(creds_in(&base, &acct, "S3BucketManager").await);
                s3(&mgr).list_buckets().send().await.unwrap();
            };
            tokio::join!(audit, chain);
        });
    }
    let mut accounts = 0;
    while let Some(r) = set.join_next().await {
        r.unwrap();
        accounts += 1;
    }
    accounts * 6
}

/// xacct's client bundle over an SDK configuration (path-style S3, the S3
/// Control host fix for moto), as verify builds it.
fn session_of(c: &aws_config::SdkConfig) -> xacct::aws::Aws {
    deploy::session(c)
}
