//! The key of a store encrypted at rest (SQLCipher, the core's `encryption` feature).
//!
//! A raw 256-bit key, not a passphrase: an app keeps it in the platform keystore (Android
//! Keystore, iOS Keychain), so there is nothing to stretch, and opening skips SQLCipher's
//! PBKDF2 (256,000 rounds by default), which would cost every app start a noticeable pause.

use crate::{Result, ValidationError};

/// Bytes of a store key.
pub const KEY_BYTES: usize = 32;

/// A store's encryption key. Its bytes are overwritten when it is dropped and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; KEY_BYTES]);

impl StoreKey {
    /// Exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<StoreKey> {
        let k: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| ValidationError::Invalid {
            field: "encryption key",
            reason: format!("{} bytes; a key is {KEY_BYTES} bytes", bytes.len()),
        })?;
        Ok(StoreKey(k))
    }

    /// 64 hex digits (a key file's contents); surrounding white space is ignored.
    pub fn from_hex(text: &str) -> Result<StoreKey> {
        let t = text.trim();
        let bad = || ValidationError::Invalid {
            field: "encryption key",
            reason: format!("expected {} hex digits", KEY_BYTES * 2),
        };
        if t.len() != KEY_BYTES * 2 || !t.is_ascii() {
            return Err(bad().into());
        }
        let mut k = [0u8; KEY_BYTES];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(StoreKey(k))
    }

    /// A new random key, from the operating system's generator (through `rand`'s thread RNG).
    pub fn generate() -> StoreKey {
        use rand::RngCore;
        let mut k = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut k);
        StoreKey(k)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// SQLCipher's raw-key form, `x'…'`, which `PRAGMA key` takes without key derivation.
    #[cfg_attr(not(feature = "encryption"), allow(dead_code))]
    pub(crate) fn sql_literal(&self) -> String {
        format!("\"x'{}'\"", self.to_hex())
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // Volatile, so that the compiler does not drop the write as dead.
            // SAFETY: `b` is a valid, aligned, exclusive reference to a byte of this key.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_bytes_of_hex_and_never_printed() {
        let k = StoreKey::generate();
        assert_eq!(StoreKey::from_hex(&format!(" {}\n", k.to_hex())).unwrap(), k);
        assert_ne!(StoreKey::generate(), k);
        assert!(StoreKey::from_hex("abcd").is_err());
        assert!(StoreKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(StoreKey::from_hex(&"é".repeat(32)).is_err());
        assert!(StoreKey::from_bytes(&[1; 31]).is_err());
        assert_eq!(StoreKey::from_bytes(&[0xab; 32]).unwrap().to_hex(), "ab".repeat(32));
        assert_eq!(format!("{k:?}"), "StoreKey(..)");
        assert_eq!(
            StoreKey::from_bytes(&[1; 32]).unwrap().sql_literal(),
            format!("\"x'{}'\"", "01".repeat(32))
        );
    }
}
