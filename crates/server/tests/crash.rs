//! The server process killed with SIGKILL in the middle of exports and
//! restarted on the same data.

#[path = "../../client/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{ref_name, Local};
use ferry_client::{import, FetchRequest, NoProgress, RefSelection, RemoteClient, RetryPolicy};
use ferry_core::ancestry::{is_ancestor, SnapGraph, SnapNode};
use ferry_core::{ObjectId, RefName};
use ferry_store::{ObjectStore, ObjectStoreError};

/// A `ferry-test-server` child process, killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn spawn(data: &Path) -> Self {
        Self::spawn_with_failpoints(data, "")
    }

    /// Starts the server with `FERRY_FAILPOINTS` set to `failpoints`.
    fn spawn_with_failpoints(data: &Path, failpoints: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferry-test-server"))
            .arg(data)
            .env("FERRY_FAILPOINTS", failpoints)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server process starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server prints its address");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self {
            child,
            url: format!("http://{addr}"),
        }
    }

    /// Returns a client that gives up at the first connection failure, so
    /// a kill ends the exporter at once.
    fn client(&self) -> RemoteClient {
        let retry = RetryPolicy {
            attempts: 1,
            first_delay: Duration::from_millis(10),
        };
        RemoteClient::new(&self.url)
            .expect("client")
            .with_retry(retry)
    }

    /// Sends SIGKILL and waits for the process to end.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL delivered");
        self.child.wait().expect("process ended");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Snap ancestry in a local object store.
struct Graph<'a>(&'a dyn ObjectStore);

impl SnapGraph for Graph<'_> {
    type Error = ObjectStoreError;

    fn node(&self, id: &ObjectId) -> Result<SnapNode, ObjectStoreError> {
        let snap = self.0.read_snap(id)?;
        Ok(SnapNode {
            generation: snap.generation,
            parents: snap.parents,
        })
    }
}

/// What an exporter saw before the server died.
#[derive(Default)]
struct History {
    acknowledged: Vec<ObjectId>,
    in_flight: Option<ObjectId>,
}

/// Exports snaps one after another on top of `base` until a request fails.
fn run_exporter(
    local: &Local,
    client: &RemoteClient,
    main: &RefName,
    mut base: ObjectId,
    history: &Mutex<History>,
) {
    for n in 0..200u32 {
        // A large, poorly compressible file makes each upload take a while,
        // so kills land in every step of the protocol.
        let noise = noise(u64::from(n) + base.as_bytes()[0] as u64, 256 * 1024);
        let head = local.snap(
            "acme/button",
            &[base],
            &[("data.bin", &noise)],
            "crash test",
        );
        history.lock().expect("not poisoned").in_flight = Some(head);
        let request = ferry_client::ExportRequest {
            remote_name: "origin".into(),
            scope: "acme".parse().expect("valid"),
            updates: vec![ferry_client::RefPush {
                name: main.clone(),
                local: head,
                expected_remote: Some(base),
            }],
            idempotency_key: None,
        };
        let result = ferry_client::export(
            local.objects.as_ref(),
            local.refs.as_ref(),
            client,
            &request,
            &NoProgress,
        );
        match result {
            Ok(report) if report.is_committed() => {
                let mut history = history.lock().expect("not poisoned");
                history.acknowledged.push(head);
                history.in_flight = None;
                base = head;
            }
            Ok(report) => panic!("a lone exporter was rejected: {report:?}"),
            Err(_) => return,
        }
    }
}

fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn remote_head(client: &RemoteClient, main: &RefName) -> ObjectId {
    let refs = client
        .list_refs(&"acme".parse().expect("valid"))
        .expect("list refs after restart");
    refs.refs
        .iter()
        .find(|value| value.name == *main)
        .map(|value| value.id)
        .expect("main exists")
}

fn import_all(client: &RemoteClient) -> Local {
    let target = Local::in_memory();
    let request = FetchRequest {
        remote_name: "origin".into(),
        scope: "acme".parse().expect("valid"),
        selection: RefSelection::All,
    };
    import(
        target.objects.as_ref(),
        target.refs.as_ref(),
        client,
        &request,
        &NoProgress,
    )
    .expect("import after restart");
    target
}

#[test]
fn sigkill_mid_export_loses_nothing_acknowledged() {
    let data = tempfile::TempDir::new().expect("temporary directory");
    let main = ref_name("main:acme/button");
    let local = Arc::new(Local::on_disk());

    let server = ServerProcess::spawn(data.path());
    let client = server.client();
    client
        .create_scope(&"acme".parse().expect("valid"))
        .expect("create scope");
    let mut base = local.snap("acme/button", &[], &[("data.bin", b"seed")], "seed");
    let report = local.push(&client, "acme", &[(main.clone(), base, None)]);
    assert!(report.is_committed(), "{report:?}");
    let mut acknowledged = vec![base];
    let mut current = Some(server);

    for round in 0..6u64 {
        let server = current.take().expect("a server runs");
        let history = Arc::new(Mutex::new(History::default()));
        let exporter = {
            let (local, client, main, history) = (
                local.clone(),
                server.client(),
                main.clone(),
                history.clone(),
            );
            thread::spawn(move || run_exporter(&local, &client, &main, base, &history))
        };
        thread::sleep(Duration::from_millis(150 + 70 * round));
        server.kill();
        exporter.join().expect("exporter finished");

        let restarted = ServerProcess::spawn(data.path());
        let client = restarted.client();
        let head = remote_head(&client, &main);
        let history = history.lock().expect("not poisoned");
        let last_acknowledged = history.acknowledged.last().copied().unwrap_or(base);
        acknowledged.extend(&history.acknowledged);
        // The export in flight either committed or did not.
        let committed_in_flight = history.in_flight == Some(head);
        assert!(
            committed_in_flight || head == last_acknowledged,
            "round {round}: head {head} is neither the last acknowledged snap \
             {last_acknowledged} nor the one in flight {:?}",
            history.in_flight
        );
        if committed_in_flight {
            acknowledged.push(head);
        }
        eprintln!(
            "round {round}: {} acknowledged before the kill, in-flight export committed: \
             {committed_in_flight}",
            history.acknowledged.len()
        );

        let target = import_all(&client);
        let graph = Graph(target.objects.as_ref());
        for snap in &acknowledged {
            let reachable = is_ancestor(&graph, *snap, head).expect("closure complete");
            assert!(reachable, "round {round}: acknowledged snap {snap} is lost");
        }
        base = head;
        current = Some(restarted);
    }

    // The next export proceeds with no cleanup in between.
    let server = current.take().expect("a server runs");
    let client = server.client();
    let next = local.snap("acme/button", &[base], &[("data.bin", b"after")], "after");
    let report = local.push(&client, "acme", &[(main.clone(), next, Some(base))]);
    assert!(report.is_committed(), "{report:?}");
    assert_eq!(remote_head(&client, &main), next);
}

/// Starts an export of a new snap on top of the remote head in a thread
/// and returns the snap and the thread's result.
#[cfg(feature = "failpoints")]
fn export_in_background(
    local: &Arc<Local>,
    server: &ServerProcess,
    base: ObjectId,
) -> (ObjectId, thread::JoinHandle<bool>) {
    let head = local.snap("acme/button", &[base], &[("data.bin", b"paused")], "paused");
    let (local, client) = (local.clone(), server.client());
    let exporter = thread::spawn(move || {
        let main = ref_name("main:acme/button");
        let request = ferry_client::ExportRequest {
            remote_name: "origin".into(),
            scope: "acme".parse().expect("valid"),
            updates: vec![ferry_client::RefPush {
                name: main,
                local: head,
                expected_remote: Some(base),
            }],
            idempotency_key: None,
        };
        let result = ferry_client::export(
            local.objects.as_ref(),
            local.refs.as_ref(),
            &client,
            &request,
            &NoProgress,
        );
        matches!(result, Ok(report) if report.is_committed())
    });
    (head, exporter)
}

#[cfg(feature = "failpoints")]
#[test]
fn kill_at_commit_failpoints_is_all_or_nothing() {
    let data = tempfile::TempDir::new().expect("temporary directory");
    let main = ref_name("main:acme/button");
    let local = Arc::new(Local::on_disk());
    let server = ServerProcess::spawn(data.path());
    let client = server.client();
    client
        .create_scope(&"acme".parse().expect("valid"))
        .expect("create scope");
    let base = local.snap("acme/button", &[], &[("data.bin", b"seed")], "seed");
    assert!(local
        .push(&client, "acme", &[(main.clone(), base, None)])
        .is_committed());
    server.kill();

    // Killed before the transaction: nothing changed.
    let server =
        ServerProcess::spawn_with_failpoints(data.path(), "commit.before_transaction=pause");
    let (_, exporter) = export_in_background(&local, &server, base);
    thread::sleep(Duration::from_millis(500));
    server.kill();
    assert!(
        !exporter.join().expect("exporter finished"),
        "no acknowledgement"
    );
    let server = ServerProcess::spawn(data.path());
    assert_eq!(remote_head(&server.client(), &main), base);
    server.kill();

    // Killed after the transaction, before the response: the export
    // committed although the client never heard of it.
    let server =
        ServerProcess::spawn_with_failpoints(data.path(), "commit.after_transaction=pause");
    let (head, exporter) = export_in_background(&local, &server, base);
    let observer = server.client();
    let mut waited = 0;
    while remote_head(&observer, &main) != head {
        assert!(waited < 100, "the commit never became visible");
        thread::sleep(Duration::from_millis(50));
        waited += 1;
    }
    server.kill();
    assert!(
        !exporter.join().expect("exporter finished"),
        "no acknowledgement"
    );
    let server = ServerProcess::spawn(data.path());
    let client = server.client();
    assert_eq!(remote_head(&client, &main), head);
    let target = import_all(&client);
    let graph = Graph(target.objects.as_ref());
    assert!(is_ancestor(&graph, base, head).expect("closure complete"));
}
