//! The pack file format: many stored objects in one immutable file.
//!
//! A pack file is [`MAGIC`], then the zstd forms of its objects back to
//! back, then an index, then a trailer. The index is 48-byte records of
//! id, offset and length, sorted by id, with little-endian integers. The
//! 56-byte trailer is the index's offset and record count, the BLAKE3
//! digest of the index, and [`MAGIC`] again.
//! The index comes last so that a writer streams objects without knowing
//! their count, and a reader finds it from the end of the file. The
//! digest and the bounds checks catch a damaged index; each object's own
//! id still guards its bytes when it is read.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use ferry_core::ObjectId;
use tempfile::NamedTempFile;

/// First and last eight bytes of every pack file; the digit is the format
/// version.
pub const MAGIC: &[u8; 8] = b"FRYPACK1";

/// Length of one index record.
const RECORD_LEN: u64 = 48;

/// Length of the trailer.
const TRAILER_LEN: u64 = 56;

/// Largest piece [`PackBuilder::copy_entry`] reads at once.
const COPY_BUFFER_LEN: usize = 1 << 20;

/// The location of one object's bytes in a pack file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The object.
    pub id: ObjectId,
    /// Offset of its zstd form from the start of the file.
    pub offset: u64,
    /// Length of its zstd form.
    pub length: u64,
}

/// A pack file being written to a temporary file.
///
/// Entries are appended in any order; [`PackBuilder::finish`] sorts the
/// index and makes the file durable. A failed append is cut off again, so
/// the builder stays usable. If even that fails, every later call fails.
pub struct PackBuilder {
    writer: BufWriter<NamedTempFile>,
    position: u64,
    entries: Vec<IndexEntry>,
    broken: bool,
}

impl PackBuilder {
    /// Starts a pack in a new temporary file in `dir`.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let temp = NamedTempFile::new_in(dir)?;
        let mut writer = BufWriter::with_capacity(1 << 18, temp);
        writer.write_all(MAGIC)?;
        Ok(Self {
            writer,
            position: MAGIC.len() as u64,
            entries: Vec::new(),
            broken: false,
        })
    }

    /// Returns the path of the temporary file.
    pub fn path(&self) -> &Path {
        self.writer.get_ref().path()
    }

    /// Returns the entries appended so far, in the order they came.
    pub fn entries(&self) -> &[IndexEntry] {
        &self.entries
    }

    /// Appends the zstd form `compressed` of object `id`.
    pub fn append(&mut self, id: ObjectId, compressed: &[u8]) -> io::Result<()> {
        self.append_reader(id, &mut &compressed[..])
    }

    /// Appends the zstd form of object `id` read from `compressed` until
    /// its end. When reading or writing fails, the bytes written for this
    /// entry are cut off again before the error is returned.
    pub fn append_reader(&mut self, id: ObjectId, compressed: &mut dyn Read) -> io::Result<()> {
        self.check_usable()?;
        let start = self.position;
        match io::copy(compressed, &mut self.writer) {
            Ok(length) => {
                self.position += length;
                self.entries.push(IndexEntry {
                    id,
                    offset: start,
                    length,
                });
                Ok(())
            }
            Err(error) => {
                if self.cut_back(start).is_err() {
                    self.broken = true;
                }
                Err(error)
            }
        }
    }

    /// Copies the bytes of `entry`, which this builder appended, to `out`
    /// in pieces, so that a large object is never held in memory whole.
    pub fn copy_entry(&mut self, entry: &IndexEntry, out: &mut dyn Write) -> io::Result<()> {
        self.check_usable()?;
        self.writer.flush()?;
        let file = self.writer.get_ref().as_file();
        let mut buffer = vec![0; COPY_BUFFER_LEN.min(entry.length as usize)];
        let mut copied = 0;
        while copied < entry.length {
            let piece = (entry.length - copied).min(buffer.len() as u64) as usize;
            file.read_exact_at(&mut buffer[..piece], entry.offset + copied)?;
            out.write_all(&buffer[..piece])?;
            copied += piece as u64;
        }
        Ok(())
    }

    /// Writes the index and the trailer, syncs the file to disk, and
    /// returns it with its index sorted by id. The caller appended no id
    /// twice.
    pub fn finish(mut self) -> io::Result<(NamedTempFile, Vec<IndexEntry>)> {
        self.check_usable()?;
        let mut entries = std::mem::take(&mut self.entries);
        entries.sort_unstable_by_key(|entry| entry.id);
        let index = encode_index(&entries);
        let index_offset = self.position;
        self.writer.write_all(&index)?;
        self.writer.write_all(&index_offset.to_le_bytes())?;
        self.writer
            .write_all(&(entries.len() as u64).to_le_bytes())?;
        self.writer.write_all(blake3::hash(&index).as_bytes())?;
        self.writer.write_all(MAGIC)?;
        let temp = self
            .writer
            .into_inner()
            .map_err(|error| error.into_error())?;
        temp.as_file().sync_all()?;
        Ok((temp, entries))
    }

    fn check_usable(&self) -> io::Result<()> {
        if self.broken {
            return Err(io::Error::other(
                "an earlier failed write left the pack unusable",
            ));
        }
        Ok(())
    }

    fn cut_back(&mut self, length: u64) -> io::Result<()> {
        self.writer.flush()?;
        let temp = self.writer.get_mut();
        temp.as_file().set_len(length)?;
        temp.seek(SeekFrom::Start(length))?;
        Ok(())
    }
}

fn encode_index(entries: &[IndexEntry]) -> Vec<u8> {
    let mut index = Vec::with_capacity(entries.len() * RECORD_LEN as usize);
    for entry in entries {
        index.extend_from_slice(entry.id.as_bytes());
        index.extend_from_slice(&entry.offset.to_le_bytes());
        index.extend_from_slice(&entry.length.to_le_bytes());
    }
    index
}

/// Reads and checks the index of the pack file `file`, `file_len` bytes
/// long. Returns the entries sorted by id, or the reason the file is not a
/// valid pack.
pub fn read_index(file: &File, file_len: u64) -> Result<Vec<IndexEntry>, String> {
    let magic_len = MAGIC.len() as u64;
    if file_len < magic_len + TRAILER_LEN {
        return Err(format!("{file_len} bytes is too short for a pack"));
    }
    let mut head = [0; 8];
    read_at(file, &mut head, 0)?;
    let mut trailer = [0; TRAILER_LEN as usize];
    read_at(file, &mut trailer, file_len - TRAILER_LEN)?;
    if &head != MAGIC || &trailer[48..] != MAGIC {
        return Err("the file does not start and end with the pack magic".to_owned());
    }

    let index_offset = u64_at(&trailer, 0);
    let count = u64_at(&trailer, 8);
    let index_len = count
        .checked_mul(RECORD_LEN)
        .filter(|len| index_offset.checked_add(*len) == Some(file_len - TRAILER_LEN))
        .filter(|_| index_offset >= magic_len)
        .ok_or_else(|| format!("an index of {count} records at {index_offset} does not fit"))?;
    let mut index = vec![0; usize::try_from(index_len).map_err(|e| e.to_string())?];
    read_at(file, &mut index, index_offset)?;
    if blake3::hash(&index).as_bytes() != &trailer[16..48] {
        return Err("the index does not match its digest".to_owned());
    }
    decode_index(&index, index_offset)
}

fn decode_index(index: &[u8], data_end: u64) -> Result<Vec<IndexEntry>, String> {
    let mut entries: Vec<IndexEntry> = Vec::with_capacity(index.len() / RECORD_LEN as usize);
    for record in index.chunks_exact(RECORD_LEN as usize) {
        let bytes: [u8; 32] = record[..32]
            .try_into()
            .expect("a record starts with 32 bytes");
        let entry = IndexEntry {
            id: ObjectId::from_bytes(bytes),
            offset: u64_at(record, 32),
            length: u64_at(record, 40),
        };
        let end = entry.offset.checked_add(entry.length);
        if entry.offset < MAGIC.len() as u64 || end.is_none_or(|end| end > data_end) {
            return Err(format!("the entry of {} lies outside the data", entry.id));
        }
        if entries.last().is_some_and(|last| last.id >= entry.id) {
            return Err("the index is not sorted by id".to_owned());
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> Result<(), String> {
    file.read_exact_at(buffer, offset)
        .map_err(|error| format!("reading at {offset} failed: {error}"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let word: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
    u64::from_le_bytes(word)
}

/// Looks `id` up in `entries`, which are sorted by id.
pub fn search(entries: &[IndexEntry], id: &ObjectId) -> Option<IndexEntry> {
    entries
        .binary_search_by(|entry| entry.id.cmp(id))
        .ok()
        .map(|at| entries[at])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(objects: &[(&[u8], &[u8])]) -> (tempfile::TempDir, NamedTempFile, Vec<IndexEntry>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut builder = PackBuilder::create(dir.path()).expect("create");
        for (key, bytes) in objects {
            builder
                .append(ObjectId::digest(key), bytes)
                .expect("append");
        }
        let (file, entries) = builder.finish().expect("finish");
        (dir, file, entries)
    }

    fn index_of(file: &NamedTempFile) -> Result<Vec<IndexEntry>, String> {
        let len = file.as_file().metadata().expect("metadata").len();
        read_index(file.as_file(), len)
    }

    #[test]
    fn index_round_trips_sorted() {
        let (_dir, file, entries) = built(&[(b"b", b"second"), (b"a", b"first!"), (b"c", b"")]);
        let read = index_of(&file).expect("valid pack");
        assert_eq!(read, entries);
        assert!(read.windows(2).all(|pair| pair[0].id < pair[1].id));

        let found = search(&read, &ObjectId::digest(b"a")).expect("a is packed");
        let mut bytes = vec![0; found.length as usize];
        file.as_file()
            .read_exact_at(&mut bytes, found.offset)
            .expect("read");
        assert_eq!(bytes, b"first!");
        assert_eq!(search(&read, &ObjectId::digest(b"z")), None);
    }

    #[test]
    fn empty_pack_is_valid() {
        let (_dir, file, _) = built(&[]);
        assert_eq!(index_of(&file).expect("valid pack"), Vec::new());
    }

    #[test]
    fn damaged_index_is_rejected() {
        let (_dir, file, entries) = built(&[(b"a", b"first"), (b"b", b"second")]);
        let len = file.as_file().metadata().expect("metadata").len();
        let index_offset = len - TRAILER_LEN - 2 * RECORD_LEN;
        // Moves the second entry's offset; the digest no longer matches.
        file.as_file()
            .write_all_at(&[0xff], index_offset + RECORD_LEN + 32)
            .expect("damage");
        let error = index_of(&file).expect_err("damaged index");
        assert!(error.contains("digest"), "{error}");
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn truncated_pack_is_rejected() {
        let (_dir, file, _) = built(&[(b"a", b"first")]);
        let len = file.as_file().metadata().expect("metadata").len();
        file.as_file().set_len(len - 1).expect("truncate");
        assert!(index_of(&file).is_err());
    }

    #[test]
    fn failed_append_is_cut_off() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
                if buffer.is_empty() {
                    return Ok(0);
                }
                Err(io::Error::other("broken reader"))
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let mut builder = PackBuilder::create(dir.path()).expect("create");
        builder
            .append(ObjectId::digest(b"a"), b"kept")
            .expect("append");
        let mut reader = (&b"partial bytes"[..]).chain(Failing);
        assert!(builder
            .append_reader(ObjectId::digest(b"b"), &mut reader)
            .is_err());
        builder
            .append(ObjectId::digest(b"c"), b"after")
            .expect("append");

        let (file, entries) = builder.finish().expect("finish");
        assert_eq!(entries.len(), 2);
        let after = search(&entries, &ObjectId::digest(b"c")).expect("c is packed");
        assert_eq!(after.offset, MAGIC.len() as u64 + 4);
        assert_eq!(index_of(&file).expect("valid pack"), entries);
    }
}
