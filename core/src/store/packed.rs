//! Documents packed for the disk: an uncompressed Automerge chunk (a change's raw bytes or
//! `save_nocompress()`) in one zstd frame made with a dictionary of the documents' layout.
//!
//! Why: Automerge compresses a column only past 256 bytes, and a lead is mostly its layout
//! (keys, column headers, actor and object ids), which every lead repeats. A dictionary that
//! holds that layout shrinks a typical lead's 675-byte compressed change to about 420 bytes
//! (docs/benchmarks.md, "Issue 16: documents packed with a dictionary"). Only `documents`
//! stores packed bytes; what is sent or handed out is Automerge's own format, always.
//!
//! The dictionary (`documents.dict`) was trained by `core/examples/doc_dictionary.rs` on leads
//! and activities whose every text is random, so it holds the layout and none of the benches'
//! names. A frame names its dictionary by id: the shipped file must never change. A better
//! dictionary is a second file with its own id, added beside this one, so that documents
//! packed with the first still unpack.

use std::cell::RefCell;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// The first bytes of a zstd frame; an Automerge chunk starts with `85 6f 4a 83`.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Packing runs at compaction only, where loading each document costs ~250 µs: level 9 takes
/// ~17 µs a lead against ~4 µs at zstd's default 3, for 4 % fewer bytes; level 19 ~110 µs
/// for 2 % more (docs/benchmarks.md).
const LEVEL: i32 = 9;

/// A packed document unpacks to at most this many bytes; a frame that claims more is damaged.
/// (A larger document is never packed: compaction keeps it as it is when it does not unpack.)
const MAX_UNPACKED: usize = 64 << 20;

static DICTIONARY: &[u8] = include_bytes!("documents.dict");

fn encoder_dictionary() -> &'static EncoderDictionary<'static> {
    static D: std::sync::OnceLock<EncoderDictionary<'static>> = std::sync::OnceLock::new();
    D.get_or_init(|| EncoderDictionary::copy(DICTIONARY, LEVEL))
}

fn decoder_dictionary() -> &'static DecoderDictionary<'static> {
    static D: std::sync::OnceLock<DecoderDictionary<'static>> = std::sync::OnceLock::new();
    D.get_or_init(|| DecoderDictionary::copy(DICTIONARY))
}

thread_local! {
    // One context per thread, reused: a context set up per document would allocate each time.
    // Measured: the prepared encoder dictionary 736 KB (made at the first compaction), a
    // compression context 39 KB, both decoder sides together about 300 KB of resident memory.
    static PACKER: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static UNPACKER: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Whether `data` is a packed document rather than Automerge's own bytes.
pub(crate) fn is_packed(data: &[u8]) -> bool {
    data.starts_with(&ZSTD_MAGIC)
}

/// Packs an uncompressed Automerge chunk.
pub(crate) fn pack(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    PACKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let packer = match &mut *slot {
            Some(p) => p,
            None => {
                let mut p = Compressor::with_prepared_dictionary(encoder_dictionary())?;
                // The frame's own checksum would repeat the chunk's: Automerge checks that.
                p.include_checksum(false)?;
                p.include_contentsize(true)?;
                p.include_dictid(true)?;
                slot.insert(p)
            }
        };
        packer.compress(raw)
    })
}

/// The Automerge bytes of a packed document.
pub(crate) fn unpack(packed: &[u8]) -> std::io::Result<Vec<u8>> {
    let size = match zstd::zstd_safe::get_frame_content_size(packed) {
        Ok(Some(n)) if n <= MAX_UNPACKED as u64 => n as usize,
        _ => return Err(std::io::Error::other("not a packed document of a known size")),
    };
    UNPACKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let unpacker = match &mut *slot {
            Some(u) => u,
            None => slot.insert(Decompressor::with_prepared_dictionary(decoder_dictionary())?),
        };
        let raw = unpacker.decompress(packed, size)?;
        if raw.len() == size {
            Ok(raw)
        } else {
            Err(std::io::Error::other("a packed document unpacked to another size"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_chunk_unpacks_to_its_bytes_and_damage_is_an_error() {
        let raw: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        let packed = pack(&raw).unwrap();
        assert!(is_packed(&packed));
        assert!(!is_packed(&[0x85, 0x6f, 0x4a, 0x83]), "an Automerge chunk is not packed");
        assert_eq!(unpack(&packed).unwrap(), raw);
        assert!(unpack(&packed[..packed.len() - 3]).is_err(), "a cut frame");
        assert!(unpack(&ZSTD_MAGIC).is_err(), "a bare magic number");
    }
}
