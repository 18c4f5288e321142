//! The pack: a stream of zstd-compressed objects.
//!
//! ```text
//! pack  = magic entry* end
//! magic = "FERRYPK1"                      (8 bytes; the 1 is the version)
//! entry = 0x01 id:[u8; 32] len:u64 bytes:[u8; len]
//! end   = 0x00 count:u64
//! ```
//!
//! Integers are little-endian. `bytes` is the zstd form of the object's
//! canonical encoding, as object stores hold it, so neither side
//! recompresses. The end marker carries the entry count, so a pack cut
//! short at an entry boundary is still detected as truncated.
//!
//! Nothing in a pack is trusted. [`PackReader`] checks each length against
//! [`PackLimits`] before allocating, and [`verify_object`] streams the
//! decompressed bytes through the hasher, stopping at the length the object
//! header declares. A reader that spools entries with
//! [`PackReader::next_entry_to`] and checks them with
//! [`verify_object_from`] keeps only a decoded snap in memory, never a
//! blob, whatever the size of the pack.

use std::io::{self, BufReader, Read, Write};

use crate::compression::with_decoder;
use crate::id::ObjectId;
use crate::object::{self, DecodeError, ObjectKind, Snap, MAX_SNAP_BODY};
use crate::Object;

/// The first bytes of every pack.
pub const MAGIC: &[u8; 8] = b"FERRYPK1";

const TAG_END: u8 = 0;
const TAG_OBJECT: u8 = 1;

/// Media type of a pack in HTTP bodies.
pub const CONTENT_TYPE: &str = "application/x-ferry-pack";

/// Size limits a pack reader enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackLimits {
    /// Maximum size of one object's canonical encoding, and of its
    /// compressed form, in bytes.
    pub max_object_bytes: u64,
    /// Maximum size of the whole pack in bytes.
    pub max_pack_bytes: u64,
}

/// Failure to read a pack.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Reading the underlying stream failed.
    #[error("reading the pack failed")]
    Io(#[source] io::Error),
    /// The stream does not start with [`MAGIC`].
    #[error("not a ferry pack: the stream does not start with FERRYPK1")]
    BadMagic,
    /// An entry starts with an unknown tag byte.
    #[error("invalid pack entry tag {tag} after {entries} entries")]
    BadTag {
        /// The tag byte.
        tag: u8,
        /// Entries read before it.
        entries: u64,
    },
    /// The stream ended before the end marker.
    #[error("pack is truncated after {entries} entries")]
    Truncated {
        /// Entries read before the stream ended.
        entries: u64,
    },
    /// The end marker's count disagrees with the entries read.
    #[error("pack end marker counts {declared} entries but {actual} were read")]
    CountMismatch {
        /// Count in the end marker.
        declared: u64,
        /// Entries read.
        actual: u64,
    },
    /// An entry is larger than [`PackLimits::max_object_bytes`].
    #[error("object {id} is {size} bytes compressed, over the limit of {limit} bytes")]
    ObjectTooLarge {
        /// The entry's id.
        id: ObjectId,
        /// Its compressed size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The pack is larger than [`PackLimits::max_pack_bytes`].
    #[error("pack is larger than the limit of {limit} bytes")]
    PackTooLarge {
        /// The limit.
        limit: u64,
    },
}

/// Writes a pack to `W`.
pub struct PackWriter<W: Write> {
    inner: W,
    count: u64,
}

impl<W: Write> PackWriter<W> {
    /// Starts a pack by writing the magic bytes.
    pub fn new(mut inner: W) -> io::Result<Self> {
        inner.write_all(MAGIC)?;
        Ok(Self { inner, count: 0 })
    }

    /// Appends one object given in its stored, compressed form.
    pub fn write_compressed(&mut self, id: &ObjectId, compressed: &[u8]) -> io::Result<()> {
        self.inner.write_all(&[TAG_OBJECT])?;
        self.inner.write_all(id.as_bytes())?;
        self.inner
            .write_all(&(compressed.len() as u64).to_le_bytes())?;
        self.inner.write_all(compressed)?;
        self.count += 1;
        Ok(())
    }

    /// Returns the number of objects written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes the end marker and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.write_all(&[TAG_END])?;
        self.inner.write_all(&self.count.to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Reads a pack from `R`, one entry at a time.
pub struct PackReader<R: Read> {
    inner: R,
    limits: PackLimits,
    entries: u64,
    bytes: u64,
    finished: bool,
}

/// The destination [`PackReader::next_entry_or_spool`] chose for an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryPlace {
    /// In the buffer, replacing its contents.
    Buffer,
    /// Appended to the spool.
    Spool,
}

impl<R: Read> PackReader<R> {
    /// Checks the magic bytes and returns a reader positioned at the first
    /// entry.
    pub fn new(mut inner: R, limits: PackLimits) -> Result<Self, PackError> {
        let mut magic = [0u8; 8];
        read_exact(&mut inner, &mut magic, 0)?;
        if &magic != MAGIC {
            return Err(PackError::BadMagic);
        }
        Ok(Self {
            inner,
            limits,
            entries: 0,
            bytes: MAGIC.len() as u64,
            finished: false,
        })
    }

    /// Reads the next entry's compressed bytes into `buffer`, replacing its
    /// contents, and returns the id the entry claims. Returns `None` after
    /// the end marker. The id is not verified here: pass the entry to
    /// [`verify_object`].
    pub fn next_entry(&mut self, buffer: &mut Vec<u8>) -> Result<Option<ObjectId>, PackError> {
        if self.finished {
            return Ok(None);
        }
        let mut tag = [0u8; 1];
        self.read(&mut tag)?;
        match tag[0] {
            TAG_OBJECT => self.read_object(buffer).map(Some),
            TAG_END => self.read_end().map(|()| None),
            tag => Err(PackError::BadTag {
                tag,
                entries: self.entries,
            }),
        }
    }

    /// Copies the next entry's compressed bytes to `out` and returns the id
    /// the entry claims, so an entry never has to fit in memory. Returns
    /// `None` after the end marker.
    pub fn next_entry_to(&mut self, out: &mut impl Write) -> Result<Option<ObjectId>, PackError> {
        let Some((id, len)) = self.next_header()? else {
            return Ok(None);
        };
        self.copy_body(len, out)?;
        Ok(Some(id))
    }

    /// Reads the next entry's compressed bytes into `buffer` if they are at
    /// most `max_buffered` bytes long, else copies them to `spool`. Returns
    /// the id the entry claims and where its bytes went, or `None` after
    /// the end marker. Small entries thus cost no file writes, and large
    /// ones never have to fit in memory.
    pub fn next_entry_or_spool(
        &mut self,
        buffer: &mut Vec<u8>,
        max_buffered: u64,
        spool: &mut impl Write,
    ) -> Result<Option<(ObjectId, EntryPlace)>, PackError> {
        let Some((id, len)) = self.next_header()? else {
            return Ok(None);
        };
        if len <= max_buffered {
            buffer.clear();
            self.copy_body(len, buffer)?;
            Ok(Some((id, EntryPlace::Buffer)))
        } else {
            self.copy_body(len, spool)?;
            Ok(Some((id, EntryPlace::Spool)))
        }
    }

    /// Reads the next entry's tag, id and length. Returns `None` after the
    /// end marker.
    fn next_header(&mut self) -> Result<Option<(ObjectId, u64)>, PackError> {
        if self.finished {
            return Ok(None);
        }
        let mut tag = [0u8; 1];
        self.read(&mut tag)?;
        match tag[0] {
            TAG_OBJECT => self.read_entry_header().map(Some),
            TAG_END => self.read_end().map(|()| None),
            tag => Err(PackError::BadTag {
                tag,
                entries: self.entries,
            }),
        }
    }

    /// Copies the `len` bytes of the current entry to `out`.
    fn copy_body(&mut self, len: u64, out: &mut impl Write) -> Result<(), PackError> {
        let copied = io::copy(&mut (&mut self.inner).take(len), out).map_err(PackError::Io)?;
        if copied != len {
            return Err(PackError::Truncated {
                entries: self.entries,
            });
        }
        self.entries += 1;
        Ok(())
    }

    /// Returns the number of entries read so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn read_object(&mut self, buffer: &mut Vec<u8>) -> Result<ObjectId, PackError> {
        let (id, len) = self.read_entry_header()?;
        buffer.clear();
        let read = (&mut self.inner)
            .take(len)
            .read_to_end(buffer)
            .map_err(PackError::Io)?;
        if read as u64 != len {
            return Err(PackError::Truncated {
                entries: self.entries,
            });
        }
        self.entries += 1;
        Ok(id)
    }

    /// Reads an entry's id and length and checks the length against the
    /// limits before any of its bytes are read.
    fn read_entry_header(&mut self) -> Result<(ObjectId, u64), PackError> {
        let mut id = [0u8; 32];
        self.read(&mut id)?;
        let id = ObjectId::from_bytes(id);
        let mut len = [0u8; 8];
        self.read(&mut len)?;
        let len = u64::from_le_bytes(len);
        if len > self.limits.max_object_bytes {
            return Err(PackError::ObjectTooLarge {
                id,
                size: len,
                limit: self.limits.max_object_bytes,
            });
        }
        self.charge(len)?;
        Ok((id, len))
    }

    fn read_end(&mut self) -> Result<(), PackError> {
        let mut count = [0u8; 8];
        self.read(&mut count)?;
        let declared = u64::from_le_bytes(count);
        if declared != self.entries {
            return Err(PackError::CountMismatch {
                declared,
                actual: self.entries,
            });
        }
        self.finished = true;
        Ok(())
    }

    fn read(&mut self, buffer: &mut [u8]) -> Result<(), PackError> {
        self.charge(buffer.len() as u64)?;
        read_exact(&mut self.inner, buffer, self.entries)
    }

    /// Counts `len` more bytes against the pack limit before they are read.
    fn charge(&mut self, len: u64) -> Result<(), PackError> {
        self.bytes = self.bytes.saturating_add(len);
        if self.bytes > self.limits.max_pack_bytes {
            return Err(PackError::PackTooLarge {
                limit: self.limits.max_pack_bytes,
            });
        }
        Ok(())
    }
}

fn read_exact(inner: &mut impl Read, buffer: &mut [u8], entries: u64) -> Result<(), PackError> {
    inner.read_exact(buffer).map_err(|error| {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            PackError::Truncated { entries }
        } else {
            PackError::Io(error)
        }
    })
}

/// Failure to verify a pack entry as the object it claims to be.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The bytes are not valid zstd.
    #[error("object {id} is not valid zstd data")]
    Decompress {
        /// The id the entry claims.
        id: ObjectId,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// The decompressed object is larger than allowed.
    #[error("object {id} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The id the entry claims.
        id: ObjectId,
        /// The size its header declares.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The decompressed bytes are not a valid encoding.
    #[error("object {id} is not a valid object encoding")]
    Invalid {
        /// The id the entry claims.
        id: ObjectId,
        /// The decoding failure.
        #[source]
        source: DecodeError,
    },
    /// The bytes hash to another id.
    #[error("pack entry claims id {expected} but its content hashes to {actual}")]
    DigestMismatch {
        /// The id the entry claims.
        expected: ObjectId,
        /// The id the content hashes to.
        actual: ObjectId,
    },
}

/// An object whose digest matched its claimed id.
#[derive(Debug)]
pub struct VerifiedObject {
    /// The object's id.
    pub id: ObjectId,
    /// Its kind.
    pub kind: ObjectKind,
    /// Length of its canonical encoding in bytes.
    pub encoded_len: u64,
    /// The decoded snap, for snaps; blobs are hashed but not kept.
    pub snap: Option<Snap>,
}

/// Decompresses `compressed`, checks that it is a valid encoding of at most
/// `max_object_bytes` bytes whose digest is `id`, and decodes it if it is a
/// snap. Blob contents stream through the hasher and are never held whole.
pub fn verify_object(
    id: ObjectId,
    compressed: &[u8],
    max_object_bytes: u64,
) -> Result<VerifiedObject, VerifyError> {
    with_decoder(compressed, |decoder| {
        verify_decoded(id, decoder, max_object_bytes)
    })
}

/// Verifies like [`verify_object`], reading the compressed bytes from
/// `compressed`, such as a spool file, so no object is held whole.
pub fn verify_object_from(
    id: ObjectId,
    compressed: impl Read,
    max_object_bytes: u64,
) -> Result<VerifiedObject, VerifyError> {
    let buffered = BufReader::with_capacity(zstd::zstd_safe::DCtx::in_size(), compressed);
    with_decoder(buffered, |decoder| {
        verify_decoded(id, decoder, max_object_bytes)
    })
}

fn verify_decoded(
    id: ObjectId,
    mut decoder: impl Read,
    max_object_bytes: u64,
) -> Result<VerifiedObject, VerifyError> {
    let decompress = |source| VerifyError::Decompress { id, source };
    let invalid = |source| VerifyError::Invalid { id, source };

    let mut start = Vec::with_capacity(32);
    (&mut decoder)
        .take(32)
        .read_to_end(&mut start)
        .map_err(decompress)?;
    let (kind, body_len, header_len) = object::parse_header(&start).map_err(invalid)?;
    let size = header_len as u64 + body_len;
    if size > max_object_bytes || (kind == ObjectKind::Snap && body_len > MAX_SNAP_BODY) {
        let limit = match kind {
            ObjectKind::Snap => max_object_bytes.min(MAX_SNAP_BODY),
            ObjectKind::Blob => max_object_bytes,
        };
        return Err(VerifyError::TooLarge { id, size, limit });
    }

    let mut hasher = blake3::Hasher::new();
    hasher.update(&start);
    let mut kept = (kind == ObjectKind::Snap).then(|| start.clone());
    // Reads one byte past the declared size, so a longer stream is caught.
    let remaining = (size + 1).saturating_sub(start.len() as u64);
    let seen = start.len() as u64
        + stream_rest(&mut decoder, &mut hasher, kept.as_mut(), remaining).map_err(decompress)?;
    if seen != size {
        return Err(invalid(DecodeError::Length {
            declared: body_len,
            actual: seen.saturating_sub(header_len as u64),
        }));
    }
    let actual = ObjectId::from_bytes(*hasher.finalize().as_bytes());
    if actual != id {
        return Err(VerifyError::DigestMismatch {
            expected: id,
            actual,
        });
    }

    let snap = match kept {
        Some(encoded) => {
            let object = Object::decode(&encoded).map_err(invalid)?;
            Some(object.into_snap(id).map_err(invalid)?)
        }
        None => None,
    };
    Ok(VerifiedObject {
        id,
        kind,
        encoded_len: size,
        snap,
    })
}

/// Feeds at most `limit` more bytes from `reader` to `hasher` (and to
/// `kept`, when given) and returns how many there were.
fn stream_rest(
    reader: &mut impl Read,
    hasher: &mut blake3::Hasher,
    mut kept: Option<&mut Vec<u8>>,
    limit: u64,
) -> io::Result<u64> {
    let mut limited = reader.take(limit);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match limited.read(&mut chunk) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&chunk[..n]);
        if let Some(kept) = kept.as_deref_mut() {
            kept.extend_from_slice(&chunk[..n]);
        }
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Blob;

    const LIMITS: PackLimits = PackLimits {
        max_object_bytes: 1 << 20,
        max_pack_bytes: 1 << 22,
    };

    fn compressed(object: &Object) -> (ObjectId, Vec<u8>) {
        let encoded = object.encode();
        let bytes = zstd::bulk::compress(&encoded, 3).expect("compresses");
        (ObjectId::digest(&encoded), bytes)
    }

    fn blob(data: &[u8]) -> Object {
        Object::Blob(Blob {
            data: data.to_vec(),
        })
    }

    fn pack_of(objects: &[(ObjectId, Vec<u8>)]) -> Vec<u8> {
        let mut writer = PackWriter::new(Vec::new()).expect("vec write");
        for (id, bytes) in objects {
            writer.write_compressed(id, bytes).expect("vec write");
        }
        writer.finish().expect("vec write")
    }

    fn read_all(pack: &[u8], limits: PackLimits) -> Result<Vec<VerifiedObject>, String> {
        let mut reader = PackReader::new(pack, limits).map_err(|e| e.to_string())?;
        let mut buffer = Vec::new();
        let mut out = Vec::new();
        while let Some(id) = reader.next_entry(&mut buffer).map_err(|e| e.to_string())? {
            let verified =
                verify_object(id, &buffer, limits.max_object_bytes).map_err(|e| e.to_string())?;
            out.push(verified);
        }
        Ok(out)
    }

    #[test]
    fn round_trip_verifies_each_object() {
        let objects = [
            compressed(&blob(b"one")),
            compressed(&blob(&[7u8; 200_000])),
        ];
        let read = read_all(&pack_of(&objects), LIMITS).expect("valid pack");
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].id, objects[0].0);
        assert_eq!(
            read[1].encoded_len,
            200_000 + "blob 1 200000\0".len() as u64
        );
    }

    #[test]
    fn small_entries_buffer_and_large_spool() {
        let small = compressed(&blob(b"small"));
        let large = compressed(&blob(&(0..=255u8).cycle().take(50_000).collect::<Vec<_>>()));
        let max_buffered = small.1.len() as u64;
        assert!(large.1.len() as u64 > max_buffered);
        let pack = pack_of(&[small.clone(), large.clone(), small.clone()]);
        let mut reader = PackReader::new(&pack[..], LIMITS).expect("magic");
        let mut buffer = Vec::new();
        let mut spool = Vec::new();

        let mut next = || {
            reader
                .next_entry_or_spool(&mut buffer, max_buffered, &mut spool)
                .expect("entry")
        };
        assert_eq!(next(), Some((small.0, EntryPlace::Buffer)));
        assert_eq!(next(), Some((large.0, EntryPlace::Spool)));
        assert_eq!(next(), Some((small.0, EntryPlace::Buffer)));
        assert_eq!(next(), None);
        assert_eq!(buffer, small.1);
        assert_eq!(spool, large.1);
    }

    #[test]
    fn wrong_digest_is_rejected() {
        let (_, bytes) = compressed(&blob(b"real"));
        let claimed = Blob::id_of(b"claimed");
        let error = read_all(&pack_of(&[(claimed, bytes)]), LIMITS).expect_err("mismatch");
        assert!(error.contains("hashes to"), "{error}");
    }

    #[test]
    fn truncation_is_detected_at_every_cut() {
        let pack = pack_of(&[compressed(&blob(b"a")), compressed(&blob(b"b"))]);
        for cut in 0..pack.len() {
            assert!(read_all(&pack[..cut], LIMITS).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn limits_are_enforced() {
        let big = compressed(&blob(&[1u8; 4096]));
        let small = PackLimits {
            max_object_bytes: 1000,
            max_pack_bytes: 1 << 20,
        };
        let error = read_all(&pack_of(std::slice::from_ref(&big)), small).expect_err("too big");
        assert!(error.contains("over the limit"), "{error}");

        let many: Vec<_> = (0..50u32)
            .map(|n| compressed(&blob(&n.to_le_bytes().repeat(100))))
            .collect();
        let tight = PackLimits {
            max_object_bytes: 1 << 20,
            max_pack_bytes: 500,
        };
        let error = read_all(&pack_of(&many), tight).expect_err("pack too big");
        assert!(error.contains("pack is larger"), "{error}");
    }

    #[test]
    fn forged_length_header_is_rejected() {
        // Header claims 3 bytes of body but 5 follow.
        let encoded = b"blob 1 3\0hello".to_vec();
        let id = ObjectId::digest(&encoded);
        let bytes = zstd::bulk::compress(&encoded, 3).expect("compresses");
        assert!(verify_object(id, &bytes, 1 << 20).is_err());
    }
}
