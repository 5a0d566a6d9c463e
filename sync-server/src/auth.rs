//! Tokens, enrollment codes and the per-device rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use rand::Rng;
use sha2::{Digest, Sha256};

/// Only hashes are stored: a copy of the database does not let anyone act as a device.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// 256 random bits.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("fst_{}", hex::encode(bytes))
}

/// 80 random bits in an alphabet without look-alike characters, grouped for reading aloud.
pub fn new_enrollment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> =
        (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Codes are typed by people: case and dashes do not matter.
pub fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A token bucket per device: `burst` requests at once, refilled at `per_second`.
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(burst: u32, per_second: u32) -> Self {
        RateLimiter {
            burst: burst as f64,
            per_second: per_second as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn allow(&self, device: &str) -> bool {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = b.entry(device.to_string()).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 4 + 64);
        assert_eq!(hash_secret("x"), hash_secret("x"));
        assert_ne!(hash_secret("x"), hash_secret("y"));
        let code = new_enrollment_code();
        assert_eq!(code.len(), 19);
        assert_eq!(normalize_code(&code.to_lowercase()), normalize_code(&code));
    }

    #[test]
    fn the_rate_limit_allows_a_burst_then_refuses() {
        let r = RateLimiter::new(3, 1);
        assert!(r.allow("d") && r.allow("d") && r.allow("d"));
        assert!(!r.allow("d"));
        assert!(r.allow("other"), "devices have separate buckets");
    }
}
