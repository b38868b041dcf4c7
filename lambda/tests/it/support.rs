//! Shared test support: a moto server, storage accounts reached through
//! `sts:AssumeRole`, function-URL events from `tests/data`, and a provisioner
//! wired to moto exactly as `main` wires it to AWS.
#![allow(dead_code)]

pub use xacct_testkit::moto;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use lambda_http::Request;
use xacct_provisioner::aws::Clients;
use xacct_provisioner::contract::env;
use xacct_provisioner::{Config, Provisioner, handler};

pub use moto::Moto;

/// Storage accounts used by the tests (moto creates an account on first use).
pub const A1: &str = "100000000002";
pub const A2: &str = "100000000003";
pub const A3: &str = "100000000004";
/// Prefix of the dev environment, the one the generated policy is scoped to.
pub const PREFIX: &str = "ambra-dev";
/// The dev environment's provisioning-state table (`<function>-state`).
pub const STATE_TABLE: &str = "s3-bucket-provisioning-dev-state";

pub fn static_creds(ak: &str, sk: &str, token: Option<String>) -> Credentials {
    Credentials::new(ak, sk, token, None, "xacct-test")
}

/// An SDK config pointed at moto with the given credentials.
pub async fn sdk(endpoint: &str, creds: Credentials, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(creds)
        .load()
        .await
}

/// moto's default account (the test access key).
pub async fn default_sdk(moto: &Moto) -> SdkConfig {
    sdk(
        &moto.endpoint,
        static_creds(moto::ACCESS_KEY, moto::SECRET_KEY, None),
        "us-east-1",
    )
    .await
}

/// Credentials inside `account`: moto's `AssumeRole` into a role ARN of another
/// account returns credentials of that account.
pub async fn creds_in(moto: &Moto, account: &str) -> Credentials {
    let sts = aws_sdk_sts::Client::new(&default_sdk(moto).await);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/xacct-test-setup"))
        .role_session_name("xacct-test-setup")
        .send()
        .await
        .expect("assume a setup role in the storage account");
    let c = out.credentials().expect("credentials");
    static_creds(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
    )
}

/// An S3 client inside `account` for reading back what the Lambda did.
pub async fn s3_in(moto: &Moto, account: &str, region: &str) -> aws_sdk_s3::Client {
    let conf = sdk(&moto.endpoint, creds_in(moto, account).await, region).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    )
}

/// The generated `S3BucketManagement` policy of the dev environment.
pub fn generated_policy() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../generated/dev/policies/s3-bucket-management-policy.json"
    );
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {path}: {e}; run `cargo run -- render --all`"))
}

/// Creates `S3BucketManager` in `account` (trusting the primary account) and,
/// when given, attaches `policy` as the managed policy `S3BucketManagement`.
pub async fn create_manager_role(moto: &Moto, account: &str, policy: Option<&str>) {
    let conf = sdk(&moto.endpoint, creds_in(moto, account).await, "us-east-1").await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", moto::DEFAULT_ACCOUNT)}, "Action": "sts:AssumeRole"}]
    });
    iam.create_role()
        .role_name("S3BucketManager")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("create S3BucketManager");
    if let Some(doc) = policy {
        let created = iam
            .create_policy()
            .policy_name("S3BucketManagement")
            .policy_document(doc)
            .send()
            .await
            .expect("create S3BucketManagement");
        iam.attach_role_policy()
            .role_name("S3BucketManager")
            .policy_arn(created.policy().and_then(|p| p.arn()).expect("policy arn"))
            .send()
            .await
            .expect("attach S3BucketManagement");
    }
}

/// Configuration as the generated Terraform sets it, with overrides.
pub fn config(accounts: &[&str], max: usize, region: &str, extra: &[(&str, &str)]) -> Config {
    let mut m: HashMap<String, String> = HashMap::from([
        (env::ENVIRONMENT.into(), "development".into()),
        (env::BUCKET_REGION.into(), region.into()),
        (env::MAX_BUCKETS_PER_ACCOUNT.into(), max.to_string()),
        (env::STORAGE_ACCOUNTS.into(), accounts.join(",")),
        (env::BUCKET_PREFIX.into(), PREFIX.into()),
        (env::PRIMARY_ACCOUNT.into(), moto::DEFAULT_ACCOUNT.into()),
        (env::STATE_TABLE.into(), STATE_TABLE.into()),
        (
            env::READER_PRINCIPALS.into(),
            format!(
                "arn:aws:iam::{}:role/ambra-storage-dev",
                moto::DEFAULT_ACCOUNT
            ),
        ),
    ]);
    for (k, v) in extra {
        m.insert((*k).into(), (*v).into());
    }
    Config::from_lookup(|k| m.get(k).cloned()).expect("valid test configuration")
}

/// A DynamoDB client of moto's default account (the primary account), us-east-1.
pub async fn dynamodb(moto: &Moto) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&default_sdk(moto).await)
}

/// Creates the provisioning-state table as the generated templates do (key
/// `pk`, on demand) in moto's default account, us-east-1; idempotent.
pub async fn create_state_table(moto: &Moto) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let pk = xacct_provisioner::contract::state::PARTITION_KEY;
    let out = dynamodb(moto)
        .await
        .create_table()
        .table_name(STATE_TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(pk)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(pk)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await;
    if let Err(e) = out
        && !e
            .as_service_error()
            .is_some_and(|s| s.is_resource_in_use_exception())
    {
        panic!("create the state table: {e:?}");
    }
}

/// The counters in the state table: account -> bucket_count.
pub async fn counters(moto: &Moto, accounts: &[&str]) -> HashMap<String, usize> {
    let t = xacct_provisioner::state::Table::new(dynamodb(moto).await, STATE_TABLE);
    let ids: Vec<String> = accounts.iter().map(|a| (*a).to_owned()).collect();
    t.read(None, &ids)
        .await
        .expect("read the counters")
        .1
        .into_iter()
        .map(|(k, c)| (k, c.count))
        .collect()
}

/// The record of a bucket in the state table.
pub async fn record(moto: &Moto, bucket: &str) -> Option<xacct_provisioner::state::Record> {
    xacct_provisioner::state::Table::new(dynamodb(moto).await, STATE_TABLE)
        .record(bucket)
        .await
        .expect("read the record")
}

/// A provisioner ("container") whose base identity is moto's default account;
/// creates the state table if needed. DynamoDB goes through [`serial_dynamodb`].
pub async fn provisioner(moto: &Moto, cfg: Config) -> Provisioner {
    create_state_table(moto).await;
    let base = default_sdk(moto).await;
    let mut clients = Clients::new(base.clone(), &cfg);
    clients.dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&base)
            .endpoint_url(serial_dynamodb(moto.port))
            .interceptor(clients.counter.clone())
            .build(),
    );
    Provisioner::new(cfg.clone(), clients)
}

/// [`provisioner`] deciding on a clock `offset_ms` from the system clock
/// (earlier or later without waiting).
pub async fn provisioner_at(moto: &Moto, cfg: Config, offset_ms: i64) -> Provisioner {
    provisioner(moto, cfg).await.with_clock(std::sync::Arc::new(
        xacct_provisioner::core::OffsetClock::new(offset_ms),
    ))
}

/// A provisioner with the given base credentials.
/// (The state table must exist: create it before IAM enforcement starts.)
pub async fn provisioner_as(moto: &Moto, cfg: Config, creds: Credentials) -> Provisioner {
    let base = sdk(&moto.endpoint, creds, "us-east-1").await;
    Provisioner::new(cfg.clone(), Clients::new(base, &cfg))
}

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// The real function-URL event of `tests/data/function_url_post_standard.json`
/// with another body.
pub fn event(body: &str) -> Request {
    let mut v: serde_json::Value =
        serde_json::from_str(&fixture("function_url_post_standard.json")).unwrap();
    v["body"] = serde_json::Value::String(body.to_owned());
    lambda_http::request::from_str(&v.to_string()).expect("parse function URL event")
}

pub fn event_file(name: &str) -> Request {
    lambda_http::request::from_str(&fixture(name)).expect("parse function URL event")
}

/// Sends one event through the handler; returns status and JSON body.
pub async fn call(p: &Provisioner, req: Request) -> (u16, serde_json::Value) {
    let resp = handler::handle(p, req)
        .await
        .expect("handler never returns Err");
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body = match resp.body() {
        lambda_http::Body::Text(t) => t.clone(),
        other => panic!("expected a text body, got {other:?}"),
    };
    (status, serde_json::from_str(&body).expect("JSON body"))
}

pub async fn provision(p: &Provisioner, customer: &str) -> (u16, serde_json::Value) {
    call(
        p,
        event(&serde_json::json!({"customer": customer}).to_string()),
    )
    .await
}

/// Customer buckets of one account, listed by the account itself.
pub async fn buckets_in(moto: &Moto, account: &str) -> Vec<String> {
    let s3 = s3_in(moto, account, "us-east-1").await;
    let out = s3.list_buckets().send().await.expect("ListBuckets");
    out.buckets()
        .iter()
        .filter_map(|b| b.name())
        .filter(|n| n.starts_with(PREFIX))
        .map(str::to_owned)
        .collect()
}

/// A loopback proxy in front of moto's DynamoDB that handles one request at a
/// time. DynamoDB transactions are serializable; moto's are not under
/// concurrent requests (a cancelled `TransactWriteItems` restores a snapshot of
/// the whole table taken when it started, undoing writes that other threads
/// committed meanwhile, moto 5.2.1 `transact_write_items`). Serialising the
/// table's requests restores the guarantee the runtime relies on. The
/// processes reach it through `AWS_ENDPOINT_URL_DYNAMODB`.
/// One proxy per moto server, shared by every process of a test.
pub fn serial_dynamodb(moto_port: u16) -> String {
    static PROXIES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<u16, String>>> =
        std::sync::OnceLock::new();
    let mut map = PROXIES.get_or_init(Default::default).lock().unwrap();
    map.entry(moto_port)
        .or_insert_with(|| start_serial_proxy(moto_port))
        .clone()
}

fn start_serial_proxy(moto_port: u16) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};
    fn read_message(r: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
        let mut head = Vec::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().ok()?;
            }
            head.extend_from_slice(line.as_bytes());
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).ok()?;
        head.extend_from_slice(&body);
        Some(head)
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let one_at_a_time = Arc::new(Mutex::new(()));
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let lock = one_at_a_time.clone();
            std::thread::spawn(move || {
                let mut writer = client.try_clone().unwrap();
                let mut reader = BufReader::new(client);
                while let Some(request) = read_message(&mut reader) {
                    let _serial = lock.lock().unwrap();
                    let Ok(up) = TcpStream::connect(("127.0.0.1", moto_port)) else {
                        return;
                    };
                    let mut up_w = up.try_clone().unwrap();
                    if up_w.write_all(&request).is_err() {
                        return;
                    }
                    let Some(response) = read_message(&mut BufReader::new(up)) else {
                        return;
                    };
                    if writer.write_all(&response).is_err() {
                        return;
                    }
                }
            });
        }
    });
    endpoint
}

// ------------------------------------------------ the ops topic (SNS)

/// Collects the bodies SNS POSTs to an HTTP subscription.
pub fn http_sink() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/ops",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read headers, then Content-Length bytes of body.
            let body = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break String::new();
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                    }
                }
            };
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send(body);
        }
    });
    (url, rx)
}

/// The ops topic, with an HTTP subscription whose deliveries arrive on the
/// receiver (the subscription confirmation already drained).
pub async fn ops_topic(moto: &Moto) -> (String, mpsc::Receiver<String>) {
    let sns = aws_sdk_sns::Client::new(&default_sdk(moto).await);
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
    (topic, rx)
}

/// The event of the marker [`notifications`] publishes.
const QUIET_MARKER: &str = "xacct-test-quiet";

/// The `Message` of every SNS notification published to `topic` before this
/// call, once the system is quiet. Call it after every request was answered (the
/// Lambda publishes before it answers). It then publishes a marker to the topic:
/// moto delivers HTTP notifications synchronously and in publish order, and the
/// sink forwards each body before it accepts the next delivery, so the marker's
/// arrival is the signal that the sink is drained. No timeout decides what is
/// counted; a marker that never arrives fails the test (after 60 s).
pub async fn notifications(
    moto: &Moto,
    topic: &str,
    rx: &mpsc::Receiver<String>,
) -> Vec<serde_json::Value> {
    let sns = aws_sdk_sns::Client::new(&default_sdk(moto).await);
    sns.publish()
        .topic_arn(topic)
        .message(serde_json::json!({ "event": QUIET_MARKER }).to_string())
        .send()
        .await
        .expect("publish the quiet marker");
    let mut out = Vec::new();
    loop {
        let body = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the quiet marker never reached the sink: is the HTTP subscription alive?");
        let envelope: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if envelope["Type"] != "Notification" {
            continue;
        }
        let msg: serde_json::Value =
            serde_json::from_str(envelope["Message"].as_str().unwrap_or_default())
                .unwrap_or_default();
        if msg["event"] == QUIET_MARKER {
            return out;
        }
        out.push(msg);
    }
}

/// One request of a moto recording about a bucket (path-style URL).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    /// The query after `?` (`tagging`, `policy`, ...; empty for `CreateBucket`).
    pub query: String,
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// The body, base64-decoded (moto's recorder stores it encoded).
    pub body: String,
}

impl Recorded {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }
}

/// The recorded requests about `bucket`, in the order moto received them.
pub fn recorded_requests(recording: &str, bucket: &str) -> Vec<Recorded> {
    use base64::Engine;
    let mut out = Vec::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let req: serde_json::Value = serde_json::from_str(line).unwrap();
        let url = req["url"].as_str().unwrap_or_default();
        let Some(path) = url
            .split_once("://")
            .and_then(|(_, r)| r.split_once('/'))
            .map(|(_, p)| p)
        else {
            continue;
        };
        let (b, query) = path.split_once('?').unwrap_or((path, ""));
        if b.trim_end_matches('/') != bucket {
            continue;
        }
        let body = match &req["body"] {
            serde_json::Value::String(s) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| s.clone()),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        out.push(Recorded {
            method: req["method"].as_str().unwrap_or_default().to_owned(),
            url: url.to_owned(),
            query: query.to_owned(),
            headers: req["headers"].as_object().cloned().unwrap_or_default(),
            body,
        });
    }
    out
}
