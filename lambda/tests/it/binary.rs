//! The real `bootstrap` binary against the Runtime API emulator and moto, with
//! the environment variables the generated Terraform sets.

use xacct_testkit::runtime_api;

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;
use runtime_api::{Outcome, RuntimeApi};

/// The `AMBRA_*` names the generated dev Terraform puts in the Lambda environment.
fn terraform_env_names() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../generated/dev/primary/terraform/main.tf"
    );
    let tf = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    tf.lines()
        .filter_map(|l| l.trim().split_once('=').map(|(k, _)| k.trim().to_owned()))
        .filter(|k| k.starts_with("AMBRA_"))
        .collect()
}

fn response_json(o: &Outcome) -> serde_json::Value {
    let Outcome::Response { body, .. } = o else {
        panic!("expected a response, got {o:?}")
    };
    serde_json::from_str(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_binary_answers_function_url_events() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    create_state_table(&moto).await;
    let api = RuntimeApi::start();
    let values = [
        ("AMBRA_ENVIRONMENT", "development".to_owned()),
        ("AMBRA_BUCKET_REGION", "eu-west-1".to_owned()),
        ("AMBRA_PRIMARY_ACCOUNT", moto::DEFAULT_ACCOUNT.to_owned()),
        ("AMBRA_MAX_BUCKETS_PER_ACCOUNT", "10".to_owned()),
        ("AMBRA_STORAGE_ACCOUNTS", format!("{A1},{A2}")),
        ("AMBRA_PHR_ACCOUNT", moto::DEFAULT_ACCOUNT.to_owned()),
        ("AMBRA_PHR_BUCKET", "ambra-dev-phr".to_owned()),
        ("AMBRA_BUCKET_PREFIX", PREFIX.to_owned()),
        // The legacy global namespace here (the squatted name below is a 409);
        // the account regional one: `four_processes_racing_in_the_account_regional_namespace`.
        ("AMBRA_BUCKET_NAMESPACE", "global".to_owned()),
        (
            "AMBRA_READER_PRINCIPALS",
            format!(
                "arn:aws:iam::{}:role/ambra-storage-dev",
                moto::DEFAULT_ACCOUNT
            ),
        ),
        ("AMBRA_CAPACITY_WARN_PERCENT", "80".to_owned()),
        ("AMBRA_STATE_TABLE", STATE_TABLE.to_owned()),
    ];
    for name in terraform_env_names() {
        assert!(
            values.iter().any(|(k, _)| *k == name),
            "the test must set {name}, which the generated Terraform sets"
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .envs(moto.env())
        .envs(values.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "s3-bucket-provisioning-dev")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the bootstrap binary");

    let wait = Duration::from_secs(60);
    api.invoke("req-1", &fixture("function_url_post_standard.json"));
    let (_, first) = api.outcome(wait).expect("first answer");
    let first = response_json(&first);
    assert_eq!(first["statusCode"], 200, "{first}");
    let body: serde_json::Value = serde_json::from_str(first["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            body["bucket"].as_str(),
            body["account_id"].as_str(),
            body["created"].as_bool()
        ),
        (Some("ambra-dev-acme"), Some(A1), Some(true))
    );

    api.invoke("req-2", &fixture("function_url_post_standard.json"));
    let body = response_json(&api.outcome(wait).unwrap().1);
    let body: serde_json::Value = serde_json::from_str(body["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["created"], false);

    api.invoke("req-3", &fixture("function_url_post_phr.json"));
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert!(
        body["body"].as_str().unwrap().contains("ambra-dev-phr"),
        "{body}"
    );

    api.invoke("req-4", &fixture("function_url_get.json"));
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert_eq!(body["statusCode"], 405, "{body}");

    // A direct Invoke whose event claims a base64 body that is not base64:
    // lambda_http alone panics here; the runtime answers 400 and stays up.
    let mut bad: serde_json::Value =
        serde_json::from_str(&fixture("function_url_post_base64.json")).unwrap();
    bad["body"] = serde_json::json!("not base64 at all!");
    api.invoke("req-5", &bad.to_string());
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert_eq!(body["statusCode"], 400, "{body}");
    assert!(
        body["body"].as_str().unwrap().contains("invalid_body"),
        "{body}"
    );

    // A customer name owned by a foreign account: 409 and a bucket_name_squatted log event.
    s3_in(&moto, A3, "us-east-1")
        .await
        .create_bucket()
        .bucket("ambra-dev-taken")
        .send()
        .await
        .unwrap();
    let mut taken: serde_json::Value =
        serde_json::from_str(&fixture("function_url_post_standard.json")).unwrap();
    taken["body"] = serde_json::json!(r#"{"customer":"taken"}"#);
    api.invoke("req-6", &taken.to_string());
    let body = response_json(&api.outcome(wait).unwrap().1);
    assert_eq!(body["statusCode"], 409, "{body}");

    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        !lines.is_empty(),
        "structured JSON logs expected on stdout:\n{logs}"
    );
    assert!(lines.iter().any(|l| l["fields"]["event"] == "bucket_created" && l["span"]["request_id"] == "req-1"), "{logs}");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["event"] == "bucket_name_squatted"
                && l["span"]["request_id"] == "req-6"),
        "{logs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["event"] == "rejected" && l["fields"]["error"] == "invalid_body"),
        "{logs}"
    );
    assert!(!logs.contains(moto::SECRET_KEY), "no secrets in logs");
}

// ------------------------------------------------ several processes (containers)

/// The environment the generated Terraform sets, for `accounts` and `max`.
pub(crate) fn lambda_env(accounts: &[&str], max: usize) -> Vec<(&'static str, String)> {
    vec![
        ("AMBRA_ENVIRONMENT", "development".to_owned()),
        ("AMBRA_BUCKET_REGION", "eu-west-1".to_owned()),
        ("AMBRA_PRIMARY_ACCOUNT", moto::DEFAULT_ACCOUNT.to_owned()),
        ("AMBRA_MAX_BUCKETS_PER_ACCOUNT", max.to_string()),
        ("AMBRA_STORAGE_ACCOUNTS", accounts.join(",")),
        ("AMBRA_BUCKET_PREFIX", PREFIX.to_owned()),
        ("AMBRA_CAPACITY_WARN_PERCENT", "80".to_owned()),
        ("AMBRA_STATE_TABLE", STATE_TABLE.to_owned()),
    ]
}

/// One warm container: a `bootstrap` process behind its own Runtime API emulator.
struct Container {
    api: RuntimeApi,
    child: std::process::Child,
}

impl Container {
    fn start(moto: &Moto, env: &[(&'static str, String)], extra: &[(&str, &str)]) -> Container {
        let api = RuntimeApi::start();
        let child = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .envs(moto.env())
            .env("AWS_ENDPOINT_URL_DYNAMODB", serial_dynamodb(moto.port))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .envs(extra.iter().copied())
            .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", "s3-bucket-provisioning-dev")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run the bootstrap binary");
        Container { api, child }
    }

    fn send(&self, request_id: &str, customer: &str) {
        let mut v: serde_json::Value =
            serde_json::from_str(&fixture("function_url_post_standard.json")).unwrap();
        v["body"] = serde_json::json!({"customer": customer}).to_string().into();
        self.api.invoke(request_id, &v.to_string());
    }

    /// The next answer: (status, body).
    fn answer(&self) -> (u64, serde_json::Value) {
        let (_, o) = self
            .api
            .outcome(Duration::from_secs(120))
            .expect("an answer within 120 s");
        let r = response_json(&o);
        let body = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        (r["statusCode"].as_u64().unwrap(), body)
    }

    /// Stops the process; its JSON log lines.
    fn logs(mut self) -> Vec<serde_json::Value> {
        let _ = self.child.kill();
        let out = self.child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

fn answered(logs: &[serde_json::Value], request_id: &str) -> serde_json::Value {
    logs.iter()
        .find(|l| l["fields"]["event"] == "answered" && l["span"]["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no `answered` line for {request_id}: {logs:?}"))["fields"]
        .clone()
}

/// Four warm containers (processes), each sent `per_process` new customers at
/// once, two accounts of `max`: every account ends at exactly `max`, every
/// extra request is a 503 `capacity_exhausted`, the counters agree, and ops is
/// told once per account that it passed the warning threshold (80 %), however
/// many containers saw it.
async fn burst(max: usize, per_process: usize) {
    burst_in(max, per_process, None).await;
}

/// [`burst`] with `AMBRA_BUCKET_NAMESPACE` set when given; in the account
/// regional namespace every bucket must carry its own account's suffix.
async fn burst_in(max: usize, per_process: usize, namespace: Option<&str>) {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    create_state_table(&moto).await;
    let (topic, rx) = ops_topic(&moto).await;
    let mut env = lambda_env(&[A1, A2], max);
    env.push(("AMBRA_OPS_TOPIC_ARN", topic.clone()));
    if let Some(ns) = namespace {
        env.push(("AMBRA_BUCKET_NAMESPACE", ns.to_owned()));
    }
    let fleet: Vec<Container> = (0..4).map(|_| Container::start(&moto, &env, &[])).collect();
    // Warm every container first (a GET is answered 405 without AWS), so all
    // of them race from the same moment.
    for c in &fleet {
        c.api.invoke("warm", &fixture("function_url_get.json"));
    }
    for c in &fleet {
        c.api
            .outcome(Duration::from_secs(60))
            .expect("warm-up answer");
    }
    for (i, c) in fleet.iter().enumerate() {
        for j in 0..per_process {
            c.send(&format!("r-{i}-{j}"), &format!("burst-{i}-{j}"));
        }
    }
    let (mut ok, mut full) = (0, 0);
    for c in &fleet {
        for _ in 0..per_process {
            match c.answer() {
                (200, b) => {
                    assert_eq!(b["created"], true, "{b}");
                    if namespace.is_some() {
                        let (name, acct) = (
                            b["bucket"].as_str().unwrap(),
                            b["account_id"].as_str().unwrap(),
                        );
                        assert!(
                            xacct_provisioner::contract::is_namespaced_bucket(
                                name,
                                acct,
                                "eu-west-1"
                            ),
                            "{b}"
                        );
                    }
                    ok += 1
                }
                (503, b) => {
                    assert_eq!(b["error"], "capacity_exhausted", "{b}");
                    full += 1
                }
                other => panic!("unexpected answer {other:?}"),
            }
        }
    }
    for c in fleet {
        c.logs();
    }
    if namespace.is_some() {
        for a in [A1, A2] {
            for name in buckets_in(&moto, a).await {
                assert!(
                    xacct_provisioner::contract::is_namespaced_bucket(&name, a, "eu-west-1"),
                    "{name} in {a}"
                );
            }
        }
    }
    let counts = counters(&moto, &[A1, A2]).await;
    assert_eq!(
        (
            buckets_in(&moto, A1).await.len(),
            buckets_in(&moto, A2).await.len()
        ),
        (max, max),
        "every account at exactly its maximum; counters {counts:?}"
    );
    assert_eq!(
        (ok, full),
        (2 * max, 4 * per_process - 2 * max),
        "every extra request is a 503"
    );
    assert_eq!(counts, [(A1.into(), max), (A2.into(), max)].into());
    let mut warned: Vec<String> = notifications(&moto, &topic, &rx)
        .await
        .into_iter()
        .filter(|m| m["event"] == "capacity_threshold")
        .map(|m| m["account_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    warned.sort();
    assert_eq!(warned, [A1, A2], "one threshold notification per account");
}

/// The issue's reproduction: four warm containers, each sent eight new
/// customers at once, two accounts of ten. Exactly 10 + 10 buckets, 12 × 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_never_exceed_the_maximum_of_any_account() {
    burst(10, 8).await;
}

/// Issue 22: the same race in the account regional namespace. Only namespaced
/// names (each in the account that holds it), exactly up to the maximum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_racing_in_the_account_regional_namespace() {
    burst_in(3, 4, Some(xacct_provisioner::contract::ACCOUNT_REGIONAL)).await;
}

/// A maximum below the number of containers: the first wave of simultaneous
/// reads sees the same counts, so without the conditional reservation one
/// account would overfill at once (this is the case that fails when the
/// `bucket_count < max` condition is removed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_racing_for_three_slots_per_account() {
    burst(3, 6).await;
}

/// Four containers asked for the same new customer at once agree on one
/// bucket in one account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_customer_in_four_processes_gets_one_bucket() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    create_state_table(&moto).await;
    let env = lambda_env(&[A1, A2], 10);
    let fleet: Vec<Container> = (0..4).map(|_| Container::start(&moto, &env, &[])).collect();
    for c in &fleet {
        c.api.invoke("warm", &fixture("function_url_get.json"));
    }
    for c in &fleet {
        c.api
            .outcome(Duration::from_secs(60))
            .expect("warm-up answer");
    }
    for (i, c) in fleet.iter().enumerate() {
        c.send(&format!("same-{i}"), "same-co");
    }
    let answers: Vec<(u64, serde_json::Value)> = fleet.iter().map(Container::answer).collect();
    for c in fleet {
        c.logs();
    }
    let named: std::collections::HashSet<(String, String)> = answers
        .iter()
        .map(|(status, b)| {
            assert_eq!(*status, 200, "{b}");
            (
                b["bucket"].as_str().unwrap().to_owned(),
                b["account_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        named.len(),
        1,
        "every answer names the same bucket: {answers:?}"
    );
    let in_a1 = buckets_in(&moto, A1).await;
    let in_a2 = buckets_in(&moto, A2).await;
    assert_eq!(in_a1.len() + in_a2.len(), 1, "{in_a1:?} {in_a2:?}");
    let counts = counters(&moto, &[A1, A2]).await;
    assert_eq!(
        counts.values().sum::<usize>(),
        1,
        "counted once: {counts:?}"
    );
    assert!(record(&moto, "ambra-dev-same-co").await.unwrap().ready);
}

/// A container killed between its reservation and `CreateBucket` (the debug
/// build's `XACCT_TEST_ABORT_AFTER_RESERVE` hook aborts the process there)
/// leaves a `creating` record; the next request, in another container,
/// finishes the job with the right count. Then a cold container answers the
/// known customer with one AWS call, and a warm one with none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_container_is_resumed_and_a_cold_one_answers_with_one_call() {
    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    create_state_table(&moto).await;
    let env = lambda_env(&[A1, A2], 10);

    let doomed = Container::start(&moto, &env, &[("XACCT_TEST_ABORT_AFTER_RESERVE", "1")]);
    doomed.send("doomed-1", "crash-co");
    let mut child = doomed.child;
    let status = child.wait().expect("the process ends");
    assert!(
        !status.success(),
        "aborted after the reservation: {status:?}"
    );
    let rec = record(&moto, "ambra-dev-crash-co")
        .await
        .expect("the reservation was written");
    assert!(!rec.ready, "{rec:?}");
    assert_eq!(rec.account_id, A1);
    assert!(
        buckets_in(&moto, A1).await.is_empty(),
        "killed before CreateBucket"
    );
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 0)].into()
    );

    let next = Container::start(&moto, &env, &[]);
    next.send("resume-1", "crash-co");
    let (status, b) = next.answer();
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["account_id"], A1);
    let logs = next.logs();
    assert!(
        logs.iter()
            .any(|l| l["fields"]["event"] == "record_resumed"),
        "{logs:?}"
    );
    assert_eq!(buckets_in(&moto, A1).await, ["ambra-dev-crash-co"]);
    assert_eq!(
        counters(&moto, &[A1, A2]).await,
        [(A1.into(), 1), (A2.into(), 0)].into(),
        "counted once"
    );
    assert!(record(&moto, "ambra-dev-crash-co").await.unwrap().ready);

    let cold = Container::start(&moto, &env, &[]);
    cold.send("cold-1", "crash-co");
    assert_eq!(cold.answer().0, 200);
    cold.send("warm-1", "crash-co");
    assert_eq!(cold.answer().0, 200);
    let logs = cold.logs();
    assert_eq!(answered(&logs, "cold-1")["aws_calls"], 1, "cold: one read");
    assert_eq!(answered(&logs, "warm-1")["aws_calls"], 0, "warm: no call");
}
