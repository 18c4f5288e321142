//! Objects and their canonical encoding.
//!
//! An object's encoding is a header, `<kind> <version> <body length>\0`,
//! followed by the body. Its id is the BLAKE3-256 digest of the whole
//! encoding, so the kind and the format version are part of what is hashed
//! and a blob can never collide with a snap. Version 1 is the only version.
//!
//! A blob's body is the file's bytes. A snap's body is a fixed sequence of
//! fields; integers are little-endian, a string is a `u32` byte length and
//! UTF-8 bytes, a list is a `u32` count and its items:
//!
//! ```text
//! component: string      generation: u64      parents: list of 32-byte ids
//! files: list of (path: string, mode: u32, blob: 32-byte id, size: u64)
//! author: string         timestamp: i64 (milliseconds since the Unix epoch)
//! message: string        dependencies: list of (component: string, version: string)
//! ```
//!
//! Decoding rejects anything a correct encoder cannot produce: unknown
//! kinds or versions, a length that disagrees with the body, trailing
//! bytes, invalid names or paths, unsorted or duplicate files, duplicate
//! parents, and a generation that is impossible for the parent count. The
//! golden-hash tests below pin the format so that it never changes by
//! accident.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::ObjectId;
use crate::name::ComponentId;
use crate::path::FilePath;

/// The encoding version written into every header.
pub const ENCODING_VERSION: u32 = 1;

/// Maximum body size of a snap; a larger one is rejected when decoding.
pub const MAX_SNAP_BODY: u64 = 64 << 20;

/// Maximum number of parents of one snap.
pub const MAX_PARENTS: usize = 16;

const MAX_AUTHOR_LEN: usize = 1024;
const MAX_MESSAGE_LEN: usize = 1 << 20;

/// The kinds of object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// File contents.
    Blob,
    /// One version of a component.
    Snap,
}

impl ObjectKind {
    /// Returns the name written into the encoding header.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Blob => "blob",
            ObjectKind::Snap => "snap",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why bytes are not a valid object encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The header is missing, malformed or names an unknown kind or version.
    #[error("invalid object header: {0}")]
    Header(&'static str),
    /// The body does not match the length in the header.
    #[error("object body is {actual} bytes but the header says {declared}")]
    Length {
        /// Length stated in the header.
        declared: u64,
        /// Length of the bytes that followed.
        actual: u64,
    },
    /// The snap body is malformed.
    #[error("invalid snap: {0}")]
    Snap(String),
    /// The bytes decode, but hash to a different id than expected.
    #[error("object content hashes to {actual}, not to the expected {expected}")]
    DigestMismatch {
        /// The id the object was requested or offered as.
        expected: ObjectId,
        /// The id its bytes hash to.
        actual: ObjectId,
    },
    /// The object has a different kind than the caller required.
    #[error("object {id} is a {actual}, expected a {expected}")]
    WrongKind {
        /// The object's id.
        id: ObjectId,
        /// The kind the caller required.
        expected: ObjectKind,
        /// The kind the object has.
        actual: ObjectKind,
    },
}

/// File contents.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    /// The bytes of the file.
    pub data: Vec<u8>,
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.data.len())
    }
}

/// Permission of a file in a snap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileMode {
    /// An ordinary file, `0o100644`.
    Regular,
    /// An executable file, `0o100755`.
    Executable,
}

impl FileMode {
    /// Returns the numeric mode stored in the encoding.
    pub fn bits(self) -> u32 {
        match self {
            FileMode::Regular => 0o100644,
            FileMode::Executable => 0o100755,
        }
    }

    fn from_bits(bits: u32) -> Option<Self> {
        match bits {
            0o100644 => Some(FileMode::Regular),
            0o100755 => Some(FileMode::Executable),
            _ => None,
        }
    }
}

/// One file of a snap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the component directory.
    pub path: FilePath,
    /// Permission bits.
    pub mode: FileMode,
    /// Id of the blob holding the contents.
    pub blob: ObjectId,
    /// Length of the contents in bytes.
    pub size: u64,
}

/// A dependency of a component on another component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The component depended upon.
    pub component: ComponentId,
    /// The version requirement, as written by the author (`^1.2.0`).
    pub version: String,
}

/// One immutable version of a component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snap {
    /// The component this is a version of.
    pub component: ComponentId,
    /// One more than the largest parent generation, or 1 for a root snap.
    /// Ancestry queries use it to stop walking early.
    pub generation: u64,
    /// Parent snaps: none for the first snap, two or more for a merge.
    pub parents: Vec<ObjectId>,
    /// Files sorted by path, each path at most once.
    pub files: Vec<FileEntry>,
    /// Who made the snap, free text such as `Ada <ada@example.com>`.
    pub author: String,
    /// When the snap was made, in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The snap message.
    pub message: String,
    /// Components this version depends on.
    pub dependencies: Vec<Dependency>,
}

/// Any object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// File contents.
    Blob(Blob),
    /// A component version.
    Snap(Snap),
}

/// Returns the header of an object of `kind` whose body is `body_len` bytes.
pub fn header(kind: ObjectKind, body_len: u64) -> Vec<u8> {
    format!("{} {ENCODING_VERSION} {body_len}\0", kind.as_str()).into_bytes()
}

/// Computes an object id from a header and a body fed in pieces, so a large
/// file can be hashed without holding it in memory.
pub struct ObjectHasher {
    hasher: blake3::Hasher,
}

impl ObjectHasher {
    /// Starts hashing an object of `kind` whose body is `body_len` bytes.
    pub fn new(kind: ObjectKind, body_len: u64) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&header(kind, body_len));
        Self { hasher }
    }

    /// Feeds the next piece of the body.
    pub fn update(&mut self, body: &[u8]) {
        self.hasher.update(body);
    }

    /// Returns the id of the object.
    pub fn finish(&self) -> ObjectId {
        ObjectId::from_bytes(*self.hasher.finalize().as_bytes())
    }
}

/// Parses a header at the start of `encoded`, returning the kind, the body
/// length it declares and the header's own length.
pub fn parse_header(encoded: &[u8]) -> Result<(ObjectKind, u64, usize), DecodeError> {
    // The longest valid header is "blob 1 18446744073709551615\0".
    let search = &encoded[..encoded.len().min(32)];
    let end = search
        .iter()
        .position(|&b| b == 0)
        .ok_or(DecodeError::Header(
            "no NUL terminator in the first 32 bytes",
        ))?;
    let text = std::str::from_utf8(&search[..end])
        .map_err(|_| DecodeError::Header("header is not ASCII"))?;
    let mut parts = text.split(' ');
    let kind = match parts.next() {
        Some("blob") => ObjectKind::Blob,
        Some("snap") => ObjectKind::Snap,
        _ => return Err(DecodeError::Header("unknown object kind")),
    };
    if parts.next() != Some("1") {
        return Err(DecodeError::Header("unsupported encoding version"));
    }
    let length = parts
        .next()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .filter(|n| n.len() == 1 || !n.starts_with('0'))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or(DecodeError::Header("invalid body length"))?;
    if parts.next().is_some() {
        return Err(DecodeError::Header("trailing header fields"));
    }
    Ok((kind, length, end + 1))
}

impl Object {
    /// Returns the kind of this object.
    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::Blob(_) => ObjectKind::Blob,
            Object::Snap(_) => ObjectKind::Snap,
        }
    }

    /// Returns the canonical encoding: header followed by body.
    pub fn encode(&self) -> Vec<u8> {
        let body = match self {
            Object::Blob(blob) => return encode_with_header(ObjectKind::Blob, &blob.data),
            Object::Snap(snap) => snap.encode_body(),
        };
        encode_with_header(ObjectKind::Snap, &body)
    }

    /// Returns the id of this object.
    pub fn id(&self) -> ObjectId {
        match self {
            Object::Blob(blob) => Blob::id_of(&blob.data),
            Object::Snap(snap) => snap.id(),
        }
    }

    /// Decodes a canonical encoding, checking every field.
    pub fn decode(encoded: &[u8]) -> Result<Object, DecodeError> {
        let (kind, declared, header_len) = parse_header(encoded)?;
        let body = &encoded[header_len..];
        if body.len() as u64 != declared {
            return Err(DecodeError::Length {
                declared,
                actual: body.len() as u64,
            });
        }
        match kind {
            ObjectKind::Blob => Ok(Object::Blob(Blob {
                data: body.to_vec(),
            })),
            ObjectKind::Snap => Snap::decode_body(body).map(Object::Snap),
        }
    }

    /// Decodes `encoded` and checks that it hashes to `expected`.
    pub fn decode_verified(expected: ObjectId, encoded: &[u8]) -> Result<Object, DecodeError> {
        let actual = ObjectId::digest(encoded);
        if actual != expected {
            return Err(DecodeError::DigestMismatch { expected, actual });
        }
        Self::decode(encoded)
    }

    /// Returns the snap inside, or an error naming `id` if this is a blob.
    pub fn into_snap(self, id: ObjectId) -> Result<Snap, DecodeError> {
        match self {
            Object::Snap(snap) => Ok(snap),
            Object::Blob(_) => Err(DecodeError::WrongKind {
                id,
                expected: ObjectKind::Snap,
                actual: ObjectKind::Blob,
            }),
        }
    }

    /// Returns the blob inside, or an error naming `id` if this is a snap.
    pub fn into_blob(self, id: ObjectId) -> Result<Blob, DecodeError> {
        match self {
            Object::Blob(blob) => Ok(blob),
            Object::Snap(_) => Err(DecodeError::WrongKind {
                id,
                expected: ObjectKind::Blob,
                actual: ObjectKind::Snap,
            }),
        }
    }
}

fn encode_with_header(kind: ObjectKind, body: &[u8]) -> Vec<u8> {
    let mut encoded = header(kind, body.len() as u64);
    encoded.extend_from_slice(body);
    encoded
}

impl Blob {
    /// Returns the id a blob with contents `data` has.
    pub fn id_of(data: &[u8]) -> ObjectId {
        let mut hasher = ObjectHasher::new(ObjectKind::Blob, data.len() as u64);
        hasher.update(data);
        hasher.finish()
    }
}

impl Snap {
    /// Returns the id of this snap.
    pub fn id(&self) -> ObjectId {
        ObjectId::digest(&Object::Snap(self.clone()).encode())
    }

    /// Returns the generation a snap whose parents have `parent_generations`
    /// must carry.
    pub fn generation_after(parent_generations: impl IntoIterator<Item = u64>) -> u64 {
        parent_generations.into_iter().max().unwrap_or(0) + 1
    }

    /// Looks up a file by path.
    pub fn file(&self, path: &FilePath) -> Option<&FileEntry> {
        self.files
            .binary_search_by(|entry| entry.path.cmp(path))
            .ok()
            .map(|index| &self.files[index])
    }

    /// Checks the invariants that decoding enforces, so a snap built in
    /// memory can be checked before it is stored.
    pub fn validate(&self) -> Result<(), DecodeError> {
        let invalid = |reason: String| Err(DecodeError::Snap(reason));
        if self.generation == 0 {
            return invalid("generation must be at least 1".into());
        }
        if self.parents.is_empty() && self.generation != 1 {
            return invalid("a snap without parents must have generation 1".into());
        }
        if self.parents.len() > MAX_PARENTS {
            return invalid(format!("more than {MAX_PARENTS} parents"));
        }
        let unique: HashSet<_> = self.parents.iter().collect();
        if unique.len() != self.parents.len() {
            return invalid("a parent is listed twice".into());
        }
        if self.author.len() > MAX_AUTHOR_LEN {
            return invalid(format!("author is longer than {MAX_AUTHOR_LEN} bytes"));
        }
        if self.message.len() > MAX_MESSAGE_LEN {
            return invalid(format!("message is longer than {MAX_MESSAGE_LEN} bytes"));
        }
        check_file_list(&self.files).map_err(DecodeError::Snap)
    }

    fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.files.len() * 80);
        put_str(&mut out, self.component.as_str());
        out.extend_from_slice(&self.generation.to_le_bytes());
        put_len(&mut out, self.parents.len());
        for parent in &self.parents {
            out.extend_from_slice(parent.as_bytes());
        }
        put_len(&mut out, self.files.len());
        for file in &self.files {
            put_str(&mut out, file.path.as_str());
            out.extend_from_slice(&file.mode.bits().to_le_bytes());
            out.extend_from_slice(file.blob.as_bytes());
            out.extend_from_slice(&file.size.to_le_bytes());
        }
        put_str(&mut out, &self.author);
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        put_str(&mut out, &self.message);
        put_len(&mut out, self.dependencies.len());
        for dependency in &self.dependencies {
            put_str(&mut out, dependency.component.as_str());
            put_str(&mut out, &dependency.version);
        }
        out
    }

    fn decode_body(body: &[u8]) -> Result<Snap, DecodeError> {
        if body.len() as u64 > MAX_SNAP_BODY {
            return Err(DecodeError::Snap(format!(
                "body is larger than {MAX_SNAP_BODY} bytes"
            )));
        }
        let mut reader = Reader { rest: body };
        let component = reader.string()?.parse().map_err(snap_error)?;
        let generation = reader.u64()?;
        let parent_count = reader.count(32)?;
        let mut parents = Vec::with_capacity(parent_count);
        for _ in 0..parent_count {
            parents.push(reader.id()?);
        }
        // A file entry takes at least 4 + 1 + 4 + 32 + 8 bytes.
        let file_count = reader.count(49)?;
        let mut files = Vec::with_capacity(file_count);
        for _ in 0..file_count {
            let path = reader.string()?.parse().map_err(snap_error)?;
            let bits = reader.u32()?;
            let mode = FileMode::from_bits(bits)
                .ok_or_else(|| DecodeError::Snap(format!("unknown file mode {bits:o}")))?;
            let blob = reader.id()?;
            let size = reader.u64()?;
            files.push(FileEntry {
                path,
                mode,
                blob,
                size,
            });
        }
        let author = reader.string()?;
        let timestamp = reader.u64()? as i64;
        let message = reader.string()?;
        let dependency_count = reader.count(8)?;
        let mut dependencies = Vec::with_capacity(dependency_count);
        for _ in 0..dependency_count {
            let component = reader.string()?.parse().map_err(snap_error)?;
            let version = reader.string()?;
            dependencies.push(Dependency { component, version });
        }
        if !reader.rest.is_empty() {
            return Err(DecodeError::Snap(
                "trailing bytes after the last field".into(),
            ));
        }
        let snap = Snap {
            component,
            generation,
            parents,
            files,
            author,
            timestamp,
            message,
            dependencies,
        };
        snap.validate()?;
        Ok(snap)
    }
}

/// Checks that files are sorted, unique, and that no file path is also used
/// as a directory by another file.
fn check_file_list(files: &[FileEntry]) -> Result<(), String> {
    for pair in files.windows(2) {
        if pair[0].path >= pair[1].path {
            return Err(format!(
                "files are not sorted and unique at {:?}",
                pair[1].path.as_str()
            ));
        }
    }
    let paths: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for file in files {
        let text = file.path.as_str();
        for (index, _) in text.match_indices('/') {
            if paths.contains(&text[..index]) {
                return Err(format!(
                    "{:?} is a file and also the directory of {text:?}",
                    &text[..index]
                ));
            }
        }
    }
    Ok(())
}

fn snap_error(error: impl fmt::Display) -> DecodeError {
    DecodeError::Snap(error.to_string())
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("lengths are bounded far below u32::MAX by validation");
    out.extend_from_slice(&len.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Snap(
                "body ends in the middle of a field".into(),
            ));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N)?;
        Ok(bytes.try_into().expect("take returned exactly N bytes"))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn id(&mut self) -> Result<ObjectId, DecodeError> {
        Ok(ObjectId::from_bytes(self.array()?))
    }

    /// Reads a list count and rejects one that the remaining bytes cannot
    /// hold, so a forged count never causes a huge allocation.
    fn count(&mut self, min_item_len: usize) -> Result<usize, DecodeError> {
        let count = self.u32()? as usize;
        if count.saturating_mul(min_item_len) > self.rest.len() {
            return Err(DecodeError::Snap(format!(
                "list of {count} items does not fit in the remaining body"
            )));
        }
        Ok(count)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| DecodeError::Snap("a string field is not valid UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_snap() -> Snap {
        let blob = Blob::id_of(b"export const x = 1;\n");
        Snap {
            component: "acme.ui/button".parse().expect("valid"),
            generation: 1,
            parents: vec![],
            files: vec![
                FileEntry {
                    path: "index.js".parse().expect("valid"),
                    mode: FileMode::Regular,
                    blob,
                    size: 20,
                },
                FileEntry {
                    path: "src/run.sh".parse().expect("valid"),
                    mode: FileMode::Executable,
                    blob,
                    size: 20,
                },
            ],
            author: "Ada <ada@example.com>".into(),
            timestamp: 1_767_225_600_000,
            message: "first snap".into(),
            dependencies: vec![Dependency {
                component: "acme.core/theme".parse().expect("valid"),
                version: "^1.0.0".into(),
            }],
        }
    }

    #[test]
    fn golden_blob_id() {
        assert_eq!(header(ObjectKind::Blob, 5), b"blob 1 5\0");
        assert_eq!(
            Blob::id_of(b"hello").to_hex(),
            "be3b397fa22e77a6cafe268323808b00f6474611da1aa0c70aec81385c60597c"
        );
    }

    #[test]
    fn golden_snap_id() {
        assert_eq!(
            sample_snap().id().to_hex(),
            "db42b9da8a1f77be5854514694b70fe7ed94795947ab2248e3f409aea0dc3902"
        );
    }

    #[test]
    fn snap_round_trips() {
        let snap = sample_snap();
        let encoded = Object::Snap(snap.clone()).encode();
        let decoded = Object::decode_verified(snap.id(), &encoded).expect("decodes");
        assert_eq!(decoded, Object::Snap(snap));
    }

    #[test]
    fn streamed_hash_equals_whole_hash() {
        let data = vec![7u8; 100_000];
        let mut hasher = ObjectHasher::new(ObjectKind::Blob, data.len() as u64);
        for chunk in data.chunks(4096) {
            hasher.update(chunk);
        }
        let whole = Object::Blob(Blob { data }).encode();
        assert_eq!(hasher.finish(), ObjectId::digest(&whole));
    }

    #[test]
    fn decode_rejects_digest_mismatch() {
        let encoded = Object::Blob(Blob {
            data: b"a".to_vec(),
        })
        .encode();
        let wrong = Blob::id_of(b"b");
        let error = Object::decode_verified(wrong, &encoded).expect_err("mismatch");
        assert!(matches!(error, DecodeError::DigestMismatch { .. }));
    }

    #[test]
    fn decode_rejects_bad_headers() {
        for bad in [
            &b"blob 1 5hello"[..],
            b"tree 1 0\0",
            b"blob 2 0\0",
            b"blob 1 05\0hello",
            b"blob 1 6\0hello",
            b"blob 1 4\0hello",
            b"blob 1  5\0hello",
        ] {
            assert!(
                Object::decode(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn decode_rejects_escaping_path() {
        let mut snap = sample_snap();
        let encoded = Object::Snap(snap.clone()).encode();
        // Same length as "index.js", so only the path check can catch it.
        let forged = replace(&encoded, b"index.js", b"../../.x");
        assert!(matches!(Object::decode(&forged), Err(DecodeError::Snap(_))));
        snap.files.swap(0, 1);
        assert!(snap.validate().is_err());
    }

    #[test]
    fn validate_rejects_file_used_as_directory() {
        let mut snap = sample_snap();
        snap.files[0].path = "src".parse().expect("valid");
        assert!(snap.validate().is_err());
    }

    #[test]
    fn decode_rejects_trailing_bytes_and_huge_counts() {
        let snap = sample_snap();
        let mut body = snap.encode_body();
        body.push(0);
        assert!(Snap::decode_body(&body).is_err());
        let mut forged = Vec::new();
        put_str(&mut forged, "acme/x");
        forged.extend_from_slice(&1u64.to_le_bytes());
        forged.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(Snap::decode_body(&forged).is_err());
    }

    #[test]
    fn generation_after_parents() {
        assert_eq!(Snap::generation_after([]), 1);
        assert_eq!(Snap::generation_after([3, 7, 2]), 8);
    }

    fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = haystack
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern present");
        let mut out = haystack.to_vec();
        out[at..at + from.len()].copy_from_slice(to);
        out
    }
}
