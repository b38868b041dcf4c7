//! The Rust Lambda convention (issue 23): the `bootstrap` binary behind
//! `cargo lambda watch --only-lambda-apis`, cargo-lambda's Runtime API and
//! function-URL emulator, answering real HTTP requests sent to
//! `/lambda-url/<function>/`, with its AWS calls going to moto.
//!
//! The binary is the one cargo builds for these tests, or the `bootstrap` inside
//! the zip named by `XACCT_LAMBDA_ZIP` (what `xacct package` wrote):
//!   XACCT_LAMBDA_ZIP=target/lambda/bootstrap.zip cargo test -p xacct-provisioner --test it cargo_lambda
//! Skipped, with the install command, where cargo-lambda is not installed
//! (`.ci/run` installs it: `python3 -m pip install cargo-lambda`).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::binary::lambda_env;
use crate::support::*;

/// The function name cargo-lambda gives a function it does not start itself.
const FUNCTION: &str = "_";

/// Ends the process when the test ends, whatever happens in between.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary under test, and the directory that must outlive it.
fn bootstrap() -> (PathBuf, Option<tempfile::TempDir>) {
    let Some(zip) = std::env::var_os("XACCT_LAMBDA_ZIP") else {
        return (PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")), None);
    };
    let file = std::fs::File::open(&zip)
        .unwrap_or_else(|e| panic!("XACCT_LAMBDA_ZIP={}: {e}", PathBuf::from(&zip).display()));
    let dir = tempfile::tempdir().unwrap();
    zip::ZipArchive::new(file)
        .expect("XACCT_LAMBDA_ZIP is a zip")
        .extract(dir.path())
        .expect("extract the zip");
    let bin = dir.path().join("bootstrap");
    assert!(bin.is_file(), "the zip has no `bootstrap` at its root");
    (bin, Some(dir))
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().unwrap().port()
}

/// (status, JSON body) of one request to the emulated function URL.
fn call(port: u16, method: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    let path = format!("/lambda-url/{FUNCTION}/");
    // A function's first answer waits for its cold start and moto (~1 s here; busy machines more).
    let body = body.map(|b| ("application/json", b));
    let text = moto::http_within(port, method, &path, body, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{method} {path} on cargo-lambda: {e}"));
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let json = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_answers_function_url_requests_under_cargo_lambda_watch() {
    let installed = Command::new("cargo-lambda")
        .args(["lambda", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!(
            "SKIPPED: cargo-lambda is not installed; install it with `python3 -m pip install cargo-lambda` (or run .ci/run)"
        );
        return;
    }
    let moto = Moto::start();
    create_manager_role(&moto, A1, None).await;
    create_state_table(&moto).await;

    let port = free_port();
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    // cargo-lambda stops its emulator when its standard input closes: keep a pipe open.
    let mut watch = Kill(
        Command::new("cargo-lambda")
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args([
                "--invoke-port",
                &port.to_string(),
                "--manifest-path",
                manifest,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run cargo lambda watch"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = watch.0.try_wait() {
            let mut err = String::new();
            let _ = watch.0.stderr.take().unwrap().read_to_string(&mut err);
            panic!("cargo lambda watch exited ({status}): {err}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cargo lambda watch did not listen on 127.0.0.1:{port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let (binary, _dir) = bootstrap();
    let function = Kill(
        Command::new(&binary)
            .envs(moto.env())
            .envs(lambda_env(&[A1], 10).iter().map(|(k, v)| (*k, v.as_str())))
            // What cargo-lambda prints for a function it does not start.
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", binary.display())),
    );

    // The HTTP calls block; the runtime answers on tokio's other thread.
    let answers = tokio::task::spawn_blocking(move || {
        [
            call(port, "POST", Some(r#"{"customer":"acme"}"#)),
            call(port, "POST", Some(r#"{"customer":"acme"}"#)),
            call(port, "GET", None),
            call(port, "POST", Some(r#"{"customer":"acme","bucket":"x"}"#)),
            call(port, "POST", Some("not json")),
            call(port, "POST", Some(r#"{"customer":""}"#)),
        ]
    })
    .await
    .unwrap();
    let [created, again, get, unknown, not_json, empty] = answers;
    assert_eq!(created.0, 200, "{created:?}");
    assert_eq!(
        (
            created.1["bucket"].as_str(),
            created.1["account_id"].as_str(),
            created.1["created"].as_bool()
        ),
        (Some("ambra-dev-acme"), Some(A1), Some(true)),
        "{created:?}"
    );
    assert_eq!(
        (again.0, again.1["created"].as_bool()),
        (200, Some(false)),
        "{again:?}"
    );
    assert_eq!(
        (get.0, get.1["error"].as_str()),
        (405, Some("method_not_allowed")),
        "{get:?}"
    );
    assert_eq!(
        (unknown.0, unknown.1["error"].as_str()),
        (400, Some("unknown_field")),
        "{unknown:?}"
    );
    assert_eq!(not_json.0, 400, "{not_json:?}");
    assert_eq!(empty.0, 400, "{empty:?}");

    // The bucket is really there, in the storage account.
    s3_in(&moto, A1, "eu-west-1")
        .await
        .head_bucket()
        .bucket("ambra-dev-acme")
        .send()
        .await
        .expect("the bucket exists in the storage account");

    // The function stayed up through every answer, and logged as it does in Lambda.
    let mut function = function;
    assert!(function.0.try_wait().unwrap().is_none(), "bootstrap exited");
    let _ = function.0.kill();
    let _ = function.0.wait();
    let mut logs = String::new();
    let _ = function.0.stdout.take().unwrap().read_to_string(&mut logs);
    assert!(
        logs.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|l| l["fields"]["event"] == "bucket_created"),
        "{logs}"
    );
    let _ = watch.0.kill();
}
