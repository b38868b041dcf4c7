//! A loopback TCP proxy that adds a fixed latency to every request, so
//! benchmarks against moto are latency-bound like real AWS (moto answers one
//! request at a time, in microseconds to milliseconds).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Starts a proxy on 127.0.0.1 to the server on `port` and returns its
/// endpoint (`http://127.0.0.1:<port>`). The first chunk of every request is
/// held for `delay`: the first chunk on a connection, and the first after the
/// server answered on it (later chunks of one request pass at once). Answers
/// pass straight through. Threads: one accepting, two per connection.
pub fn proxy(port: u16, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
                continue;
            };
            let new_request = Arc::new(AtomicBool::new(true));
            let (cr, sw) = (client.try_clone(), server.try_clone());
            let (Ok(cr), Ok(sw)) = (cr, sw) else { continue };
            let up_flag = Arc::clone(&new_request);
            std::thread::spawn(move || {
                pipe(cr, sw, |_| {
                    if up_flag.swap(false, Ordering::SeqCst) {
                        std::thread::sleep(delay);
                    }
                })
            });
            std::thread::spawn(move || {
                pipe(server, client, |_| {
                    new_request.store(true, Ordering::SeqCst)
                })
            });
        }
    });
    endpoint
}

/// Copies `from` to `to` until either side closes, calling `before` ahead of
/// every chunk; then shuts the writing side.
fn pipe(mut from: TcpStream, mut to: TcpStream, mut before: impl FnMut(usize)) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        before(n);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
