//! Speed and size of the packaged Lambda against moto on loopback.
//!
//! ```text
//! cargo run --release -p xacct -- package          # builds the static bootstrap + zip
//! cargo run --release -p xacct-provisioner --example bench [-- <bootstrap> [<zip>]]
//! ```
//! Reports: init time (process start until the runtime first asks for an
//! event), cold start to first answer, warm latency for a new and for an
//! existing customer, AWS calls per request (the runtime's own counter, logged
//! as `aws_calls`), peak RSS (VmHWM) and the zip size.

#[path = "../tests/common/mod.rs"]
mod common;
use xacct_testkit::runtime_api;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use runtime_api::{Outcome, RuntimeApi};

const WARM: usize = 30;

fn event(customer: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&fixture("function_url_post_standard.json")).unwrap();
    v["body"] = serde_json::json!({"customer": customer}).to_string().into();
    v.to_string()
}

fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms (n={})",
        ms(v[v.len() / 2]),
        ms(v[v.len() * 9 / 10]),
        ms(v[v.len() - 1]),
        v.len()
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let binary = args.first().cloned().unwrap_or(format!(
        "{root}/target/x86_64-unknown-linux-gnu/release/bootstrap"
    ));
    let zip = args
        .get(1)
        .cloned()
        .unwrap_or(format!("{root}/target/lambda/bootstrap.zip"));
    assert!(
        std::path::Path::new(&binary).exists(),
        "{binary} missing: run `cargo run --release -p xacct -- package` first"
    );

    let moto = Moto::start();
    for a in [A1, A2] {
        create_manager_role(&moto, a, None).await;
    }
    let api = RuntimeApi::start();
    let started = Instant::now();
    let mut child = Command::new(&binary)
        .envs(moto.env())
        .envs([
            ("AMBRA_ENVIRONMENT", "development".to_owned()),
            ("AMBRA_BUCKET_REGION", "eu-west-1".to_owned()),
            ("AMBRA_PRIMARY_ACCOUNT", moto::DEFAULT_ACCOUNT.to_owned()),
            ("AMBRA_MAX_BUCKETS_PER_ACCOUNT", "1000".to_owned()),
            ("AMBRA_STORAGE_ACCOUNTS", format!("{A1},{A2}")),
            ("AMBRA_BUCKET_PREFIX", PREFIX.to_owned()),
            (
                "AMBRA_READER_PRINCIPALS",
                format!(
                    "arn:aws:iam::{}:role/ambra-storage-dev",
                    moto::DEFAULT_ACCOUNT
                ),
            ),
        ])
        .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run bootstrap");
    let pid = child.id();

    let wait = Duration::from_secs(60);
    let roundtrip = |id: &str, ev: String| -> Duration {
        let t = Instant::now();
        api.invoke(id, &ev);
        let (at, o) = api.outcome(wait).expect("answer");
        assert!(matches!(o, Outcome::Response { .. }), "{o:?}");
        at - t
    };
    // Cold: the first request also counts the buckets of every account.
    let cold_invoke = Instant::now();
    let cold = roundtrip("cold", event("cold-customer"));
    let init = api
        .first_next
        .lock()
        .unwrap()
        .expect("runtime asked for an event")
        - started;
    let cold_total = cold_invoke - started + cold;
    let create: Vec<Duration> = (0..WARM)
        .map(|i| roundtrip(&format!("create-{i}"), event(&format!("warm-{i}"))))
        .collect();
    let existing: Vec<Duration> = (0..WARM)
        .map(|i| roundtrip(&format!("existing-{i}"), event(&format!("warm-{i}"))))
        .collect();

    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?")
        .to_owned();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let mut calls: HashMap<String, u64> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["fields"]["event"] == "answered"
            && let (Some(id), Some(n)) = (
                v["span"]["request_id"].as_str(),
                v["fields"]["aws_calls"].as_u64(),
            )
        {
            calls.insert(id.to_owned(), n);
        }
    }
    let zip_size = std::fs::metadata(&zip)
        .map(|m| m.len().to_string())
        .unwrap_or_else(|_| "? (run xacct package)".into());
    let bin_size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    println!("binary                 {binary} ({bin_size} bytes)");
    println!("zip size               {zip_size} bytes");
    println!(
        "init (spawn -> /next)  {:.2} ms",
        init.as_secs_f64() * 1000.0
    );
    println!(
        "cold start -> answer   {:.2} ms (new customer, includes counting 2 accounts)",
        cold_total.as_secs_f64() * 1000.0
    );
    println!("warm, new customer     {}", stats(create));
    println!("warm, known customer   {}", stats(existing));
    println!(
        "AWS calls: cold {:?}, warm new {:?}, warm known {:?}",
        calls.get("cold"),
        calls.get("create-1"),
        calls.get("existing-1")
    );
    println!(
        "peak RSS               {}",
        hwm.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    );
}
