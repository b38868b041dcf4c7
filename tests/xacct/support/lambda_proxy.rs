//! A test endpoint on 127.0.0.1 that stands in for the AWS endpoint of
//! `xacct verify --endpoint-url`: `lambda:Invoke` of the provisioning function
//! runs the REAL provisioner handler (`xacct_provisioner::handler::handle`)
//! in-process, configured from the environment variables the generator renders
//! and signed with the Lambda execution role's credentials; every other request
//! is forwarded byte-for-byte to moto (which cannot run a Lambda without docker).
//!
//! std threads for the sockets; the handler runs on the proxy's own tokio
//! runtime, where its SDK clients live. Uses the moto harness of `xacct-testkit`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::Credentials;
use xacct_provisioner::aws::Clients;
use xacct_provisioner::{Config, Provisioner, handler};

/// The running endpoint; it stops accepting when dropped (threads are detached).
pub struct LambdaProxy {
    pub endpoint: String,
    /// Invocations answered by the in-process handler.
    pub invocations: Arc<AtomicU64>,
    /// Requests forwarded to moto.
    pub forwarded: Arc<AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    port: u16,
}

struct Shared {
    function_name: String,
    moto_port: u16,
    rt: tokio::runtime::Runtime,
    provisioner: Provisioner,
    invocations: Arc<AtomicU64>,
    forwarded: Arc<AtomicU64>,
}

impl LambdaProxy {
    /// Serves `function_name` with a provisioner configured from `lambda_env`
    /// (the rendered environment variables) whose own credentials are
    /// `execution` (the Lambda execution role's session), talking to moto directly.
    pub fn start(
        moto: &xacct_testkit::moto::Moto,
        function_name: &str,
        lambda_env: &HashMap<String, String>,
        execution: Credentials,
    ) -> LambdaProxy {
        let cfg = Config::from_lookup(|k| lambda_env.get(k).cloned())
            .expect("the rendered Lambda environment is a valid provisioner configuration");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        // Built inside the runtime its clients' connections will live on; the
        // standard loader also supplies the time source and sleep the SDK needs.
        let provisioner = rt.block_on(async {
            let base = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(cfg.bucket_region.clone()))
                .endpoint_url(&moto.endpoint)
                .credentials_provider(execution)
                .load()
                .await;
            Provisioner::new(cfg.clone(), Clients::new(base, &cfg))
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let invocations = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let shared = Arc::new(Shared {
            function_name: function_name.to_owned(),
            moto_port: moto.port,
            rt,
            provisioner,
            invocations: invocations.clone(),
            forwarded: forwarded.clone(),
        });
        {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let shared = shared.clone();
                    std::thread::spawn(move || {
                        if let Err(e) = serve(&shared, conn) {
                            eprintln!("lambda proxy: {e}");
                        }
                    });
                }
            });
        }
        LambdaProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            invocations,
            forwarded,
            stop,
            port,
        }
    }
}

impl Drop for LambdaProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One HTTP/1.1 message head and body (Content-Length framing only).
struct Message {
    /// The head exactly as received (request or status line, headers, blank line).
    head: Vec<u8>,
    start_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a head; `None` at a clean end of stream before a message starts.
fn read_head(r: &mut impl BufRead) -> std::io::Result<Option<Message>> {
    let mut head = Vec::new();
    let mut start_line = String::new();
    let mut headers = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? == 0 {
            if head.is_empty() {
                return Ok(None);
            }
            return Err(std::io::Error::other(
                "connection closed inside a message head",
            ));
        }
        head.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if text.is_empty() {
            if start_line.is_empty() {
                continue; // stray CRLF between messages
            }
            break;
        }
        if start_line.is_empty() {
            start_line = text;
        } else if let Some((k, v)) = text.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(Some(Message {
        head,
        start_line,
        headers,
        body: Vec::new(),
    }))
}

fn read_body(r: &mut impl BufRead, m: &mut Message, no_body: bool) -> std::io::Result<()> {
    if no_body {
        return Ok(());
    }
    if m.header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        // Keep the chunked framing as is: it is forwarded byte-for-byte.
        loop {
            let mut size_line = Vec::new();
            r.read_until(b'\n', &mut size_line)?;
            m.body.extend_from_slice(&size_line);
            let hex = String::from_utf8_lossy(&size_line);
            let hex = hex.trim().split(';').next().unwrap_or("").to_owned();
            let size = usize::from_str_radix(&hex, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {hex:?}")))?;
            if size == 0 {
                // Trailers up to the blank line.
                loop {
                    let mut l = Vec::new();
                    r.read_until(b'\n', &mut l)?;
                    m.body.extend_from_slice(&l);
                    if l == b"\r\n" || l == b"\n" || l.is_empty() {
                        return Ok(());
                    }
                }
            }
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            m.body.extend_from_slice(&chunk);
        }
    }
    let len: usize = m
        .header("content-length")
        .map(|v| {
            v.parse()
                .map_err(|_| std::io::Error::other("bad Content-Length"))
        })
        .transpose()?
        .unwrap_or(0);
    m.body = vec![0; len];
    r.read_exact(&mut m.body)
}

/// Serves one client connection (keep-alive: many requests).
fn serve(shared: &Shared, client: TcpStream) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut writer = client;
    while let Some(mut req) = read_head(&mut reader)? {
        read_body(&mut reader, &mut req, false)?;
        let mut parts = req.start_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = target.split('?').next().unwrap_or("");
        let invoke_path = format!("/2015-03-31/functions/{}/invocations", shared.function_name);
        let response = if method == "POST" && path == invoke_path {
            shared.invocations.fetch_add(1, Ordering::Relaxed);
            invoke(shared, &req.body)
        } else {
            shared.forwarded.fetch_add(1, Ordering::Relaxed);
            forward(shared.moto_port, &req, method == "HEAD")?
        };
        writer.write_all(&response)?;
        writer.flush()?;
    }
    Ok(())
}

/// Sends the request to moto unchanged and returns its response, re-framed
/// only in its connection header (the proxy's moto connections are one-shot).
fn forward(moto_port: u16, req: &Message, head_only: bool) -> std::io::Result<Vec<u8>> {
    let mut upstream = TcpStream::connect(("127.0.0.1", moto_port))?;
    upstream.set_read_timeout(Some(Duration::from_secs(120)))?;
    upstream.write_all(&req.head)?;
    upstream.write_all(&req.body)?;
    upstream.flush()?;
    let mut r = BufReader::new(upstream);
    loop {
        let mut resp = read_head(&mut r)?
            .ok_or_else(|| std::io::Error::other("moto closed the connection without answering"))?;
        let status: u16 = resp
            .start_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if (100..200).contains(&status) {
            continue; // 100 Continue: the body was sent already
        }
        let no_body = head_only || status == 204 || status == 304;
        if !no_body
            && resp.header("content-length").is_none()
            && resp.header("transfer-encoding").is_none()
        {
            // Close-delimited body: read to the end, then frame it with a length.
            r.read_to_end(&mut resp.body)?;
            let mut out = format!("{}\r\n", resp.start_line).into_bytes();
            for (k, v) in &resp.headers {
                if !k.eq_ignore_ascii_case("connection") {
                    out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
                }
            }
            out.extend_from_slice(
                format!("Content-Length: {}\r\n\r\n", resp.body.len()).as_bytes(),
            );
            out.extend_from_slice(&resp.body);
            return Ok(out);
        }
        read_body(&mut r, &mut resp, no_body)?;
        let mut out = resp.head;
        out.extend_from_slice(&resp.body);
        return Ok(out);
    }
}

/// The Invoke API's answer: the handler's function-URL (API Gateway v2) response as payload.
fn invoke(shared: &Shared, payload: &[u8]) -> Vec<u8> {
    let answer = std::str::from_utf8(payload)
        .map_err(|e| e.to_string())
        .and_then(|text| lambda_http::request::from_str(text).map_err(|e| e.to_string()))
        .map(|req| {
            shared
                .rt
                .block_on(handler::handle(&shared.provisioner, req))
        });
    let (status, body, function_error) = match answer {
        Ok(Ok(resp)) => {
            let headers: serde_json::Map<String, serde_json::Value> = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        serde_json::Value::String(v.to_str().unwrap_or_default().to_owned()),
                    )
                })
                .collect();
            let text = match resp.body() {
                lambda_http::Body::Text(t) => t.clone(),
                lambda_http::Body::Empty => String::new(),
                other => format!("unexpected body {other:?}"),
            };
            let v = serde_json::json!({
                "statusCode": resp.status().as_u16(),
                "headers": headers,
                "body": text,
                "isBase64Encoded": false,
            });
            (200, v.to_string(), None)
        }
        Ok(Err(e)) => (
            200,
            serde_json::json!({"errorType": "HandlerError", "errorMessage": e.to_string()})
                .to_string(),
            Some("Unhandled"),
        ),
        // The Lambda runtime could not turn the payload into a request.
        Err(e) => (
            200,
            serde_json::json!({"errorType": "InvalidEvent", "errorMessage": e}).to_string(),
            Some("Unhandled"),
        ),
    };
    let mut out = format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nX-Amz-Executed-Version: $LATEST\r\nx-amzn-RequestId: xacct-test-invoke\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(fe) = function_error {
        out.push_str(&format!("X-Amz-Function-Error: {fe}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}
