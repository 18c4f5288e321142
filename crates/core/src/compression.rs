//! zstd decompression with one reusable context per thread.
//!
//! A new zstd decompression context allocates and sets up its tables on
//! every call of [`zstd::decode_all`] or [`zstd::Decoder::new`], which
//! costs more than decompressing a typical source file. Objects are read
//! one after another, so each thread keeps one context and resets it per
//! object. A decoder created from a reset context yields exactly what a
//! fresh one would.

use std::cell::RefCell;
use std::io::{BufRead, Read};

use zstd::stream::read::Decoder;
use zstd::zstd_safe::DCtx;

thread_local! {
    static CONTEXT: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Runs `read` on a decoder of the zstd frames in `compressed`, built on
/// this thread's context. Like [`zstd::decode_all`], the decoder reads
/// frames until the input ends. A call made from inside `read` gets a
/// fresh context.
pub fn with_decoder<R: BufRead, T>(compressed: R, read: impl FnOnce(&mut dyn Read) -> T) -> T {
    CONTEXT.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let context = slot.get_or_insert_with(DCtx::create);
            read(&mut Decoder::with_context(compressed, context))
        }
        Err(_) => read(&mut Decoder::with_context(compressed, &mut DCtx::create())),
    })
}

/// Returns the decompressed bytes of the zstd frames in `compressed`.
pub fn decompress(compressed: &[u8]) -> std::io::Result<Vec<u8>> {
    // The frame header usually states the size; a false one only costs
    // a reallocation, so the hint is capped.
    let hint = zstd::zstd_safe::get_frame_content_size(compressed)
        .ok()
        .flatten()
        .unwrap_or(0)
        .min(1 << 26);
    with_decoder(compressed, |decoder| {
        let mut decompressed = Vec::with_capacity(hint as usize);
        decoder.read_to_end(&mut decompressed)?;
        Ok(decompressed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_context_decodes_each_input() {
        let inputs = [b"first object".repeat(50), Vec::new(), vec![9u8; 100_000]];
        for input in &inputs {
            let compressed = zstd::bulk::compress(input, 3).expect("compress");
            assert_eq!(&decompress(&compressed).expect("decompress"), input);
        }
    }

    #[test]
    fn concatenated_frames_decode_as_one() {
        let mut compressed = zstd::bulk::compress(b"first ", 3).expect("compress");
        compressed.extend(zstd::bulk::compress(b"second", 3).expect("compress"));
        assert_eq!(
            decompress(&compressed).expect("decompress"),
            b"first second"
        );
    }

    #[test]
    fn truncated_frame_fails_and_context_recovers() {
        let compressed = zstd::bulk::compress(&b"some text".repeat(100), 3).expect("compress");
        assert!(decompress(&compressed[..compressed.len() - 3]).is_err());
        let whole = zstd::bulk::compress(b"after", 3).expect("compress");
        assert_eq!(decompress(&whole).expect("decompress"), b"after");
    }

    #[test]
    fn nested_call_gets_own_context() {
        let outer = zstd::bulk::compress(b"outer", 3).expect("compress");
        let inner = zstd::bulk::compress(b"inner", 3).expect("compress");
        let (outer_bytes, inner_bytes) = with_decoder(&outer[..], |decoder| {
            let inner_bytes = decompress(&inner).expect("inner");
            let mut outer_bytes = Vec::new();
            decoder.read_to_end(&mut outer_bytes).expect("outer");
            (outer_bytes, inner_bytes)
        });
        assert_eq!(outer_bytes, b"outer");
        assert_eq!(inner_bytes, b"inner");
    }
}
