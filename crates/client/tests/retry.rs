//! A commit whose response is lost is retried and returns the original
//! outcome.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use common::{ref_name, Local, Remote};
use ferry_client::{export, ExportRequest, NoProgress, RefPush, RefStatus, RemoteClient};
use ferry_core::protocol::{ExportState, IdempotencyKey};

/// A TCP proxy that forwards each connection to `target`, except that it
/// swallows the response of the first `drops` commit requests and closes
/// the client's connection, as a network failure after the server
/// committed would.
struct DroppingProxy {
    addr: SocketAddr,
    dropped: Arc<AtomicUsize>,
}

impl DroppingProxy {
    fn start(target: SocketAddr, drops: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let dropped = Arc::new(AtomicUsize::new(0));
        let counter = dropped.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let counter = counter.clone();
                thread::spawn(move || {
                    // Errors only end this one connection.
                    let _ = relay(client, target, &counter, drops);
                });
            }
        });
        Self { addr, dropped }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Reads one request head and body from `client`.
fn read_request(client: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        request.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&request).to_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    client.read_exact(&mut body)?;
    request.extend_from_slice(&body);
    Ok(request)
}

fn relay(
    mut client: TcpStream,
    target: SocketAddr,
    dropped: &AtomicUsize,
    drops: usize,
) -> io::Result<()> {
    let request = read_request(&mut client)?;
    let mut server = TcpStream::connect(target)?;
    server.write_all(&request)?;
    let is_commit = request.starts_with(b"POST ")
        && String::from_utf8_lossy(&request[..request.len().min(200)]).contains("/commit ");
    if is_commit && dropped.fetch_add(1, Ordering::SeqCst) < drops {
        // Wait for the server's complete response, then lose it.
        let mut response = [0u8; 4096];
        let _ = server.read(&mut response)?;
        client.shutdown(Shutdown::Both)?;
        return Ok(());
    }
    let mut server_out = server.try_clone()?;
    let mut client_in = client.try_clone()?;
    let upstream = thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    io::copy(&mut server, &mut client)?;
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.join();
    Ok(())
}

#[test]
fn lost_commit_response_is_retried() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let proxy = DroppingProxy::start(remote.server.addr(), 1);
    // One connection per request, so every request line reaches the proxy.
    let http = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client");
    let client = RemoteClient::with_http_client(&proxy.url(), http);

    let local = Local::in_memory();
    let head = local.snap("acme/button", &[], &[("index.js", b"one")], "one");
    let key: IdempotencyKey = "ci-run-7".parse().expect("valid key");
    let request = ExportRequest {
        remote_name: "origin".into(),
        scope: "acme".parse().expect("valid"),
        updates: vec![RefPush {
            name: ref_name("main:acme/button"),
            local: head,
            expected_remote: None,
        }],
        idempotency_key: Some(key.clone()),
    };
    let report = export(
        local.objects.as_ref(),
        local.refs.as_ref(),
        &client,
        &request,
        &NoProgress,
    )
    .expect("export decided");

    assert_eq!(
        proxy.dropped.load(Ordering::SeqCst),
        2,
        "one lost, one retried"
    );
    assert!(report.is_committed(), "{report:?}");
    assert_eq!(report.refs[0].status, RefStatus::Created);

    // The same key names the same, committed export: nothing ran twice.
    let again = remote
        .client
        .open_export(&"acme".parse().expect("valid"), Some(&key))
        .expect("open again");
    assert_eq!(again.id, report.export_id);
    assert_eq!(again.state, ExportState::Committed);

    // Running the whole export again with the key returns the original
    // outcome, not a rejection of a ref that now exists.
    let rerun = export(
        local.objects.as_ref(),
        local.refs.as_ref(),
        &remote.client,
        &request,
        &NoProgress,
    )
    .expect("export decided");
    assert!(rerun.is_committed(), "{rerun:?}");
    assert_eq!(rerun.export_id, report.export_id);
    assert_eq!(rerun.refs[0].status, RefStatus::Created);
}
