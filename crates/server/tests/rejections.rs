//! Requests the server must reject with a typed JSON error, changing
//! nothing.

#[path = "../../client/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{ref_name, Local, Remote};
use ferry_client::RemoteError;
use ferry_core::object::Blob;
use ferry_core::protocol::pack::PackWriter;
use ferry_core::protocol::{ExportId, ExportInfo, ExportState, RefUpdate, RejectionCode};
use ferry_core::{Object, ObjectId, ScopeName};
use ferry_store::objects::compress;

fn acme() -> ScopeName {
    "acme".parse().expect("valid scope")
}

fn pack_of(entries: &[(ObjectId, Vec<u8>)]) -> Vec<u8> {
    let mut pack = PackWriter::new(Vec::new()).expect("vec write");
    for (id, compressed) in entries {
        pack.write_compressed(id, compressed).expect("vec write");
    }
    pack.finish().expect("vec write")
}

fn rejection_code(error: &RemoteError) -> RejectionCode {
    error
        .code()
        .unwrap_or_else(|| panic!("not a rejection: {error:?}"))
}

fn rejection_message(error: &RemoteError) -> String {
    error
        .rejection()
        .map(|rejection| rejection.message.clone())
        .unwrap_or_default()
}

fn open(remote: &Remote) -> ExportInfo {
    remote
        .client
        .open_export(&acme(), None)
        .expect("open export")
}

fn upload(remote: &Remote, export: &ExportId, pack: Vec<u8>) -> Result<(), RemoteError> {
    let cursor = std::io::Cursor::new(pack);
    remote.client.upload_reader(export, cursor).map(drop)
}

#[test]
fn wrong_digest_pack_is_rejected() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let export = open(&remote);
    let claimed = Blob::id_of(b"claimed");
    remote
        .client
        .negotiate(&export.id, &[claimed])
        .expect("negotiate");

    let real = Object::Blob(Blob {
        data: b"real".to_vec(),
    });
    let pack = pack_of(&[(claimed, compress(&real.encode()))]);
    let error = upload(&remote, &export.id, pack).expect_err("digest mismatch");
    assert_eq!(rejection_code(&error), RejectionCode::DigestMismatch);
    let message = rejection_message(&error);
    assert!(message.contains(&claimed.to_string()), "{message}");
    assert!(message.contains(&real.id().to_string()), "{message}");
    assert_eq!(remote.object_count(), 0);
    let state = remote.client.get_export(&export.id).expect("get").state;
    assert_eq!(state, ExportState::Open);
}

/// Returns a blob of `len` bytes that zstd cannot shrink much.
fn noisy_blob(seed: u64, len: usize) -> Object {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let data = (0..len)
        .map(|_| {
            // xorshift64: cheap bytes without patterns zstd could exploit.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    Object::Blob(Blob { data })
}

#[test]
fn oversized_pack_and_object_are_rejected() {
    let remote = Remote::start_with(|config| {
        config.limits.max_pack_bytes = 4096;
        config.limits.max_object_bytes = 2048;
    });
    remote.create_scope("acme");
    let export = open(&remote);

    let objects: Vec<Object> = (0..8).map(|n| noisy_blob(n * 7919, 1000)).collect();
    let ids: Vec<_> = objects.iter().map(Object::id).collect();
    remote
        .client
        .negotiate(&export.id, &ids)
        .expect("negotiate");
    let entries: Vec<_> = objects
        .iter()
        .map(|object| (object.id(), compress(&object.encode())))
        .collect();
    let error = upload(&remote, &export.id, pack_of(&entries)).expect_err("pack too large");
    assert_eq!(rejection_code(&error), RejectionCode::PackTooLarge);
    assert!(matches!(error, RemoteError::Rejected { status: 413, .. }));

    let big = noisy_blob(1, 3000);
    remote
        .client
        .negotiate(&export.id, &[big.id()])
        .expect("negotiate");
    let pack = pack_of(&[(big.id(), compress(&big.encode()))]);
    let error = upload(&remote, &export.id, pack).expect_err("object too large");
    assert_eq!(rejection_code(&error), RejectionCode::ObjectTooLarge);
    assert_eq!(remote.object_count(), 0);
}

#[test]
fn escaping_path_in_snap_is_rejected() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let local = Local::in_memory();
    let snap = local.build_snap("acme/button", &[], &[("zz/abc", b"x")], "forged");
    let encoded = Object::Snap(snap).encode();
    // Same length as "zz/abc", so only the path rules can catch it.
    let forged = replace(&encoded, b"zz/abc", b"../abc");
    let id = ObjectId::digest(&forged);

    let export = open(&remote);
    remote
        .client
        .negotiate(&export.id, &[id])
        .expect("negotiate");
    let pack = pack_of(&[(id, compress(&forged))]);
    let error = upload(&remote, &export.id, pack).expect_err("escaping path");
    assert_eq!(rejection_code(&error), RejectionCode::InvalidObject);
    let message = rejection_message(&error);
    assert!(message.contains("../abc"), "{message}");
    assert_eq!(remote.object_count(), 0);
}

#[test]
fn component_name_with_dots_is_rejected() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let export = open(&remote);
    let http = reqwest::blocking::Client::new();
    let base = remote.server.url();
    let head = Blob::id_of(b"x");

    let body =
        format!(r#"{{"updates":[{{"name":"main:acme/a..b","expected":null,"new":"{head}"}}]}}"#);
    let response = http
        .post(format!("{base}/v1/exports/{}/prepare", export.id))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .expect("server responds");
    assert_eq!(response.status().as_u16(), 400);
    let json: serde_json::Value = response.json().expect("JSON rejection");
    assert_eq!(json["code"], "invalid_request");
    let message = json["message"].as_str().unwrap_or_default();
    assert!(message.contains("'..'"), "{message}");

    let response = http
        .post(format!("{base}/v1/exports"))
        .header("content-type", "application/json")
        .body(r#"{"scope":"acme..x"}"#)
        .send()
        .expect("server responds");
    assert_eq!(response.status().as_u16(), 400);

    let response = http
        .get(format!("{base}/v1/scopes/acme..x/refs"))
        .send()
        .expect("server responds");
    assert_eq!(response.status().as_u16(), 400);

    let refs = remote.client.list_refs(&acme()).expect("list refs");
    assert!(refs.refs.is_empty());
    let state = remote.client.get_export(&export.id).expect("get").state;
    assert_eq!(state, ExportState::Open);
}

#[test]
fn unminted_export_id_is_rejected() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let never_minted = ExportId::mint();
    let error = remote
        .client
        .get_export(&never_minted)
        .expect_err("unknown");
    assert_eq!(rejection_code(&error), RejectionCode::UnknownExport);
    assert!(matches!(error, RemoteError::Rejected { status: 404, .. }));
    let error = remote.client.commit(&never_minted).expect_err("unknown");
    assert_eq!(rejection_code(&error), RejectionCode::UnknownExport);

    let http = reqwest::blocking::Client::new();
    for path in ["not-an-id", "..%2F..%2Fetc%2Fpasswd"] {
        let response = http
            .post(format!("{}/v1/exports/{path}/commit", remote.server.url()))
            .send()
            .expect("server responds");
        assert_eq!(response.status().as_u16(), 404, "{path}");
        let json: serde_json::Value = response.json().expect("JSON rejection");
        assert_eq!(json["code"], "unknown_export", "{path}");
    }
    let refs = remote.client.list_refs(&acme()).expect("list");
    assert!(refs.refs.is_empty());
}

#[test]
fn incomplete_closure_is_rejected() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let local = Local::in_memory();
    let head = local.snap("acme/button", &[], &[("index.js", b"body")], "one");
    let snap = local.objects.read_compressed(&head).expect("stored");

    let export = open(&remote);
    remote
        .client
        .negotiate(&export.id, &[head])
        .expect("negotiate");
    upload(&remote, &export.id, pack_of(&[(head, snap)])).expect("upload");
    let update = RefUpdate {
        name: ref_name("main:acme/button"),
        expected: None,
        new: head,
    };
    let error = remote
        .client
        .prepare(&export.id, &[update])
        .expect_err("blob missing");
    assert_eq!(rejection_code(&error), RejectionCode::IncompleteClosure);
    let message = rejection_message(&error);
    assert!(message.contains("index.js"), "{message}");
    let refs = remote.client.list_refs(&acme()).expect("list");
    assert!(refs.refs.is_empty());
}

#[test]
fn wrong_scope_ref_is_rejected() {
    let remote = Remote::start();
    remote.create_scope("acme");
    remote.create_scope("other");
    let local = Local::in_memory();
    let head = local.snap("other/button", &[], &[("index.js", b"body")], "one");
    let report = local.push(
        &remote.client,
        "acme",
        &[(ref_name("main:other/button"), head, None)],
    );
    let rejection = report.rejection.expect("rejected");
    assert_eq!(rejection.code, RejectionCode::WrongScope);
    let other: ScopeName = "other".parse().expect("valid");
    let refs = remote.client.list_refs(&other).expect("list");
    assert!(refs.refs.is_empty());
}

#[test]
fn expired_export_objects_are_collected() {
    let remote = Remote::start_with(|config| {
        config.lease = Duration::from_millis(300);
        config.grace = Duration::ZERO;
    });
    remote.create_scope("acme");
    let local = Local::in_memory();
    let kept = local.snap("acme/kept", &[], &[("index.js", b"kept")], "kept");
    let report = local.push(
        &remote.client,
        "acme",
        &[(ref_name("main:acme/kept"), kept, None)],
    );
    assert!(report.is_committed(), "{report:?}");
    let committed_objects = remote.object_count();

    let abandoned = noisy_blob(42, 100);
    let export = open(&remote);
    remote
        .client
        .negotiate(&export.id, &[abandoned.id(), kept])
        .expect("negotiate");
    let pack = pack_of(&[(abandoned.id(), compress(&abandoned.encode()))]);
    upload(&remote, &export.id, pack).expect("upload");
    assert_eq!(remote.object_count(), committed_objects + 1);

    // A live export's objects survive a collection.
    let report = remote.client.collect().expect("collect");
    assert_eq!(report.removed, 0);

    std::thread::sleep(Duration::from_millis(400));
    let report = remote.client.collect().expect("collect");
    assert_eq!(report.expired, 1);
    // Collection takes exports that ended strictly before now.
    std::thread::sleep(Duration::from_millis(5));
    let report = remote.client.collect().expect("collect");
    assert_eq!(report.removed, 1);
    assert_eq!(remote.object_count(), committed_objects);
    let state = remote.client.get_export(&export.id).expect("get").state;
    assert_eq!(state, ExportState::Aborted);

    let error = remote
        .client
        .negotiate(&export.id, &[abandoned.id()])
        .expect_err("aborted export accepts nothing");
    assert_eq!(rejection_code(&error), RejectionCode::InvalidState);
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(from.len())
        .position(|window| window == from)
        .expect("pattern present");
    let mut out = haystack.to_vec();
    out[at..at + from.len()].copy_from_slice(to);
    out
}

#[test]
fn wrong_generation_is_rejected() {
    let remote = Remote::start();
    remote.create_scope("acme");
    let local = Local::in_memory();
    let base = local.snap("acme/button", &[], &[("index.js", b"one")], "one");
    let mut snap = local.build_snap("acme/button", &[base], &[("index.js", b"two")], "two");
    snap.generation = 7;
    let head = local
        .objects
        .write(&Object::Snap(snap))
        .expect("write snap");
    let report = local.push(
        &remote.client,
        "acme",
        &[(ref_name("main:acme/button"), head, None)],
    );
    let rejection = report.rejection.expect("rejected");
    assert_eq!(rejection.code, RejectionCode::InvalidSnap);
    assert!(
        rejection.message.contains("generation 7"),
        "{}",
        rejection.message
    );
    let refs = remote.client.list_refs(&acme()).expect("list");
    assert!(refs.refs.is_empty());
}
