//! A minimal Lambda Runtime API emulator on 127.0.0.1 (std only), enough for
//! `lambda_runtime`: `GET /2018-06-01/runtime/invocation/next`,
//! `POST .../invocation/<id>/response`, `POST .../invocation/<id>/error` and
//! `POST /2018-06-01/runtime/init/error`. Keep-alive connections are served.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the function posted back.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response { request_id: String, body: String },
    Error { request_id: String, body: String },
    InitError { body: String },
}

pub struct RuntimeApi {
    pub addr: String,
    events: Sender<(String, String)>,
    outcomes: Receiver<(Instant, Outcome)>,
    /// When the runtime first asked for an event.
    pub first_next: Arc<Mutex<Option<Instant>>>,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the runtime API emulator");
        let addr = listener.local_addr().unwrap().to_string();
        let (etx, erx) = channel::<(String, String)>();
        let (otx, orx) = channel();
        let erx = Arc::new(Mutex::new(erx));
        let first_next = Arc::new(Mutex::new(None));
        let fnext = first_next.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (erx, otx, fnext) = (erx.clone(), otx.clone(), fnext.clone());
                std::thread::spawn(move || serve(stream, erx, otx, fnext));
            }
        });
        RuntimeApi {
            addr,
            events: etx,
            outcomes: orx,
            first_next,
        }
    }

    /// Queues one invocation event.
    pub fn invoke(&self, request_id: &str, event: &str) {
        self.events
            .send((request_id.to_owned(), event.to_owned()))
            .unwrap();
    }

    /// Waits for the next outcome.
    pub fn outcome(&self, timeout: Duration) -> Option<(Instant, Outcome)> {
        self.outcomes.recv_timeout(timeout).ok()
    }
}

fn serve(
    stream: TcpStream,
    events: Arc<Mutex<Receiver<(String, String)>>>,
    outcomes: Sender<(Instant, Outcome)>,
    first_next: Arc<Mutex<Option<Instant>>>,
) {
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).to_string();
        let now = Instant::now();
        let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            first_next.lock().unwrap().get_or_insert(now);
            let next = events.lock().unwrap().recv();
            let Ok((id, event)) = next else { return };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 60_000;
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:s3-bucket-provisioning-dev\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\nContent-Length: {}\r\n\r\n{event}",
                event.len()
            )
        } else {
            let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let outcome = match segs.as_slice() {
                [_, "runtime", "invocation", id, "response"] => Outcome::Response {
                    request_id: id.to_string(),
                    body,
                },
                [_, "runtime", "invocation", id, "error"] => Outcome::Error {
                    request_id: id.to_string(),
                    body,
                },
                [_, "runtime", "init", "error"] => Outcome::InitError { body },
                _ => {
                    let _ =
                        writer.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    continue;
                }
            };
            let _ = outcomes.send((now, outcome));
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}".to_owned()
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
