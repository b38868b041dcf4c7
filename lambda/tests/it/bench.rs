//! Speed and size of the packaged Lambda against moto on loopback.
//!
//! ```text
//! cargo run --release -p xacct -- package          # builds the static bootstrap + zip
//! cargo run --release -p xacct-provisioner --example bench [-- <bootstrap> [<zip>]]
//! XACCT_BENCH_ACCOUNTS=2,10 XACCT_BENCH_LATENCY_MS=0,30 XACCT_BENCH_N=40 \
//!   cargo run --release -p xacct-provisioner --example bench -- target/release/bootstrap
//! ```
//! For each number of storage accounts (`XACCT_BENCH_ACCOUNTS`, default `2,10`)
//! and each latency (`XACCT_BENCH_LATENCY_MS`, default `0,30`: every AWS call
//! held that long by a loopback proxy in front of moto, as `verify_bench`
//! does), reports: init time, the cold first answer (a new customer, counters
//! already in the table), warm new-customer and warm/cold known-customer
//! latencies, AWS calls per request (the runtime's own counter, logged as
//! `aws_calls`) and the sequential round trips on the critical path, measured
//! as `(p50 at L ms − p50 at 0 ms) / L`. Also peak RSS and the zip size.

mod support;
use xacct_testkit::runtime_api;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runtime_api::{Outcome, RuntimeApi};
use support::*;

fn event(customer: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&fixture("function_url_post_standard.json")).unwrap();
    v["body"] = serde_json::json!({"customer": customer}).to_string().into();
    v.to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn list(var: &str, default: &str) -> Vec<u64> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

struct Proc {
    api: RuntimeApi,
    child: Child,
    started: Instant,
}

impl Proc {
    fn start(binary: &str, moto: &Moto, endpoint: &str, accounts: &[String]) -> Proc {
        let api = RuntimeApi::start();
        let started = Instant::now();
        let child = Command::new(binary)
            .envs(moto.env())
            .env("AWS_ENDPOINT_URL", endpoint)
            .envs([
                ("AMBRA_ENVIRONMENT", "development".to_owned()),
                ("AMBRA_BUCKET_REGION", "eu-west-1".to_owned()),
                ("AMBRA_PRIMARY_ACCOUNT", moto::DEFAULT_ACCOUNT.to_owned()),
                ("AMBRA_MAX_BUCKETS_PER_ACCOUNT", "1000".to_owned()),
                ("AMBRA_STORAGE_ACCOUNTS", accounts.join(",")),
                ("AMBRA_BUCKET_PREFIX", PREFIX.to_owned()),
                // The bundled environments' namespace unless told otherwise
                // (`XACCT_BENCH_NAMESPACE=global` for the legacy path).
                (
                    "AMBRA_BUCKET_NAMESPACE",
                    std::env::var("XACCT_BENCH_NAMESPACE")
                        .unwrap_or_else(|_| "account-regional".to_owned()),
                ),
                ("AMBRA_STATE_TABLE", STATE_TABLE.to_owned()),
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
        Proc {
            api,
            child,
            started,
        }
    }

    fn roundtrip(&self, id: &str, customer: &str) -> Duration {
        let t = Instant::now();
        self.api.invoke(id, &event(customer));
        let (at, o) = self.api.outcome(Duration::from_secs(120)).expect("answer");
        match &o {
            Outcome::Response { body, .. } => {
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                assert_eq!(v["statusCode"], 200, "{v}");
            }
            other => panic!("{other:?}"),
        }
        at - t
    }

    fn init(&self) -> Duration {
        self.api
            .first_next
            .lock()
            .unwrap()
            .expect("asked for an event")
            - self.started
    }

    fn hwm(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "?".into())
    }

    /// Stops the process; `aws_calls` of each `answered` line by request ID.
    fn calls(mut self) -> HashMap<String, u64> {
        let _ = self.child.kill();
        let out = self.child.wait_with_output().unwrap();
        let mut calls = HashMap::new();
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
        calls
    }
}

#[derive(Default, Clone)]
struct Row {
    init: Duration,
    cold_new: Duration,
    warm_new: Duration,
    warm_known: Duration,
    cold_known: Duration,
    calls: [u64; 4],
    rss: String,
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
    let n = list("XACCT_BENCH_N", "40")[0] as usize;
    let cold_n = 5;
    let fleets = list("XACCT_BENCH_ACCOUNTS", "2,10");
    let latencies = list("XACCT_BENCH_LATENCY_MS", "0,30");

    let mut rows: Vec<(u64, u64, Row)> = Vec::new();
    for &fleet in &fleets {
        let moto = Moto::start();
        let accounts: Vec<String> = (0..fleet)
            .map(|i| format!("{}", 100_000_000_002 + i))
            .collect();
        for a in &accounts {
            create_manager_role(&moto, a, None).await;
        }
        create_state_table(&moto).await;
        // The table's first new customer creates every counter (once per
        // account for the life of the table): not part of a cold start.
        let first = Proc::start(&binary, &moto, &moto.endpoint, &accounts);
        let t = first.roundtrip("first", "first-ever");
        println!(
            "{fleet} accounts: first customer of a new table {:.1} ms ({} calls, counts every account once)",
            ms(t),
            first.calls().get("first").copied().unwrap_or(0)
        );
        for &latency in &latencies {
            let endpoint = if latency == 0 {
                moto.endpoint.clone()
            } else {
                xacct_testkit::latency::proxy(moto.port, Duration::from_millis(latency))
            };
            let tag = format!("{fleet}-{latency}");
            let p = Proc::start(&binary, &moto, &endpoint, &accounts);
            let cold_new = p.roundtrip("cold", &format!("cold-{tag}"));
            let warm_new: Vec<Duration> = (0..n)
                .map(|i| p.roundtrip(&format!("new-{i}"), &format!("w-{tag}-{i}")))
                .collect();
            let warm_known: Vec<Duration> = (0..n)
                .map(|i| p.roundtrip(&format!("known-{i}"), &format!("w-{tag}-{i}")))
                .collect();
            let (init, rss) = (p.init(), p.hwm());
            let calls = p.calls();
            let mut cold_known = Vec::new();
            let mut cold_known_calls = 0;
            for i in 0..cold_n {
                let q = Proc::start(&binary, &moto, &endpoint, &accounts);
                cold_known.push(q.roundtrip("cold-known", &format!("w-{tag}-{i}")));
                cold_known_calls = q.calls().get("cold-known").copied().unwrap_or(0);
            }
            rows.push((
                fleet,
                latency,
                Row {
                    init,
                    cold_new,
                    warm_new: p50(warm_new),
                    warm_known: p50(warm_known),
                    cold_known: p50(cold_known),
                    calls: [
                        calls.get("cold").copied().unwrap_or(0),
                        // The last one: every account's role is assumed by then
                        // (one sts:AssumeRole per account and container, on first use).
                        calls.get(&format!("new-{}", n - 1)).copied().unwrap_or(0),
                        calls.get(&format!("known-{}", n - 1)).copied().unwrap_or(0),
                        cold_known_calls,
                    ],
                    rss,
                },
            ));
        }
    }

    println!(
        "\naccounts | latency/call | init | cold first answer (new) | warm new p50 | warm known p50 | cold known p50 | calls: cold new / warm new / warm known / cold known | round trips: warm new / cold known | peak RSS"
    );
    for (fleet, latency, r) in &rows {
        let base = rows
            .iter()
            .find(|(f, l, _)| f == fleet && *l == 0)
            .map(|(_, _, b)| b.clone());
        let trips = |now: Duration, at0: Option<Duration>| match (latency, at0) {
            (0, _) | (_, None) => "-".to_owned(),
            (l, Some(b)) => format!("{:.1}", (ms(now) - ms(b)) / *l as f64),
        };
        println!(
            "{fleet} | {latency} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} ms | {:.1} ms | {} / {} / {} / {} | {} / {} | {}",
            ms(r.init),
            ms(r.cold_new),
            ms(r.warm_new),
            ms(r.warm_known),
            ms(r.cold_known),
            r.calls[0],
            r.calls[1],
            r.calls[2],
            r.calls[3],
            trips(r.warm_new, base.as_ref().map(|b| b.warm_new)),
            trips(r.cold_known, base.as_ref().map(|b| b.cold_known)),
            r.rss
        );
    }
    let zip_size = std::fs::metadata(&zip)
        .map(|m| m.len().to_string())
        .unwrap_or_else(|_| "? (run xacct package)".into());
    let bin_size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    println!("binary {binary} ({bin_size} bytes), zip {zip_size} bytes");
}
