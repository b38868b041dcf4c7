//! A real moto server for tests: one per test, on 127.0.0.1, on a free port.
//!
//! Used by the `xacct` and `lambda` crates' tests; depends on `std` and
//! `serde_json` only. The server runs through `moto_server.py`, a few lines
//! around `moto.server` that store the tags sent with `CreateBucket` and give
//! identity policies the `s3:x-amz-bucket-namespace` condition key, as S3 does. If moto is missing the test fails and says how to install
//! it; it never passes silently.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Credentials moto accepts; the access key's account is moto's default.
pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// moto's default account (the account of [`ACCESS_KEY`]).
pub const DEFAULT_ACCOUNT: &str = "123456789012";

pub struct Moto {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port on 127.0.0.1")
}

/// The wrapper around `moto.server` (run with `python3 -c`).
const SERVER_PY: &str = include_str!("moto_server.py");

const INSTALL_HINT: &str =
    "moto is required for this test: install it with `pip install 'moto[server]'` (see .ci/run)";

/// The interpreter moto runs on: `XACCT_PYTHON`, else the one `python3` runs,
/// asked once per process (`sys.executable`). A version manager's `python3`
/// (pyenv's shim) is a shell script that forks a dozen times per start; the
/// suite starts about a hundred servers.
fn python() -> String {
    static PYTHON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Ok(p) = std::env::var("XACCT_PYTHON") {
                return p;
            }
            Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .filter(|p| !p.is_empty())
                // No answer: start `python3` itself, whose failure says what is missing.
                .unwrap_or_else(|| "python3".to_owned())
        })
        .clone()
}

impl Moto {
    /// Starts a server with IAM enforcement off.
    pub fn start() -> Moto {
        Self::start_with(None)
    }

    /// Starts a server that lets the first `n` calls through unauthenticated
    /// (`INITIAL_NO_AUTH_ACTION_COUNT`); call [`Moto::enforce_iam`] after setup.
    pub fn start_with_auth(n: u32) -> Moto {
        Self::start_with(Some(n))
    }

    /// Starts a server whose request recorder writes to `file`
    /// (`MOTO_RECORDER_FILEPATH`); recording starts with [`Moto::record`].
    pub fn start_with_recorder(file: &std::path::Path) -> Moto {
        Self::start_inner(None, Some(file), false)
    }

    /// Starts a server whose `CreateBucket` refuses tags sent at creation
    /// (403 `AccessDenied` naming `s3:TagResource`), with a request recorder
    /// when `recorder` is given.
    pub fn start_refusing_create_tags(recorder: Option<&std::path::Path>) -> Moto {
        Self::start_inner(None, recorder, true)
    }

    /// Starts (`true`) or stops moto's request recorder.
    pub fn record(&self, on: bool) {
        let path = if on {
            "start-recording"
        } else {
            "stop-recording"
        };
        let resp = http(
            self.port,
            "POST",
            &format!("/moto-api/recorder/{path}"),
            None,
        )
        .expect("moto recorder");
        assert!(resp.contains(" 200 "), "{path} failed: {resp}");
    }

    fn start_with(no_auth_count: Option<u32>) -> Moto {
        Self::start_inner(no_auth_count, None, false)
    }

    fn start_inner(
        no_auth_count: Option<u32>,
        recorder: Option<&std::path::Path>,
        refuse_create_tags: bool,
    ) -> Moto {
        let python = python();
        for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(&python);
            cmd.args(["-c", SERVER_PY, "-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .env("MOTO_ALLOW_NONEXISTENT_REGION", "false");
            if let Some(n) = no_auth_count {
                cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
            }
            if let Some(file) = recorder {
                cmd.env("MOTO_RECORDER_FILEPATH", file);
            }
            if refuse_create_tags {
                cmd.env("XACCT_MOTO_REFUSE_CREATE_TAGS", "1");
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!("cannot start `{python}` with moto's server: {e}. {INSTALL_HINT}")
            });
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut s) = child.stderr.take() {
                        let _ = s.read_to_string(&mut err);
                    }
                    if err.contains("No module named") {
                        panic!("{INSTALL_HINT}\n{err}");
                    }
                    if err.contains("Address already in use") {
                        break;
                    }
                    panic!("moto server exited with {status}: {err}");
                }
                if let Ok(body) = http(port, "GET", "/moto-api/data.json", None)
                    && (body.starts_with("HTTP/1.1 200") || body.starts_with("HTTP/1.0 200"))
                {
                    // stderr is no longer needed; drop it so the pipe never fills up.
                    drop(child.stderr.take());
                    return Moto {
                        child,
                        port,
                        endpoint: format!("http://127.0.0.1:{port}"),
                    };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!(
                        "moto server did not answer on 127.0.0.1:{port} within 60 s. {INSTALL_HINT}"
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("could not find a free port for moto after 3 attempts");
    }

    /// Turns IAM enforcement on from now (`POST /moto-api/reset-auth`, body `0`).
    pub fn enforce_iam(&self) {
        let resp = http(
            self.port,
            "POST",
            "/moto-api/reset-auth",
            Some(("text/plain", "0")),
        )
        .expect("POST /moto-api/reset-auth");
        assert!(resp.contains(" 200 "), "reset-auth failed: {resp}");
    }

    /// Environment for child processes (terraform, the `bootstrap` binary, the CLI).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 request on loopback; returns the whole response text.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> std::io::Result<String> {
    http_within(port, method, path, body, Duration::from_secs(10))
}

/// [`http`], waiting up to `timeout` for the response.
pub fn http_within(
    port: u16,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
    timeout: Duration,
) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(timeout))?;
    let (ctype, body) = body.unwrap_or(("text/plain", ""));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// The S3 subresources (`tagging`, `policy`, ...) of the path-style `PUT` requests on
/// `bucket` in a moto recording (one JSON object a line), in the order moto received them.
pub fn recorded_bucket_puts(recording: &str, bucket: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(req) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if req["method"] != "PUT" {
            continue;
        }
        let url = req["url"].as_str().unwrap_or_default();
        let Some((_, path)) = url.split_once("://").and_then(|(_, r)| r.split_once('/')) else {
            continue;
        };
        if let Some((b, query)) = path.split_once('?')
            && b.trim_end_matches('/') == bucket
        {
            out.push(
                query
                    .split(['&', '='])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    out
}
