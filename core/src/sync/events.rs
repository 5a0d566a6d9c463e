//! Live updates on the device: while online, keep the server's `GET /v1/events` stream open and
//! sync whenever it says the feed moved, so that a colleague's new lead shows up without anyone
//! pressing "sync".
//!
//! The stream carries no data, only "something you may see changed" (docs/protocol.md): the
//! device then syncs as always, so nothing here can make it skip or double anything. On connect
//! it syncs once (it may have missed moves while away). Moves that arrive during a sync are
//! taken together by one more sync. A dropped connection is retried with a doubling backoff
//! (0.5 s to 30 s, with jitter, reset once connected); a token the server refuses (401) or a
//! `revoked` event ends the loop: this device must enroll again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::client::{META_SERVER, META_TOKEN, SyncClient, SyncError, SyncSummary, error_from};
use crate::store::Store;

/// What the live loop tells its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// The stream is open: the server will say when the feed moves.
    Connected,
    /// A sync ran because the feed moved (or on connect); what it did.
    Synced(SyncSummary),
    /// A sync failed; the loop goes on (the next move, or reconnect, tries again).
    SyncFailed(String),
    /// The stream dropped or could not open; the next try is in `retry_in_ms`.
    Disconnected { retry_in_ms: u64, reason: String },
}

/// Backoff and keep-alive of the live loop.
#[derive(Clone, Copy, Debug)]
pub struct LiveOptions {
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// A stream silent for this long is taken for dead (the server sends a comment line every
    /// 25 s).
    pub idle_timeout: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
        }
    }
}

/// The wait before try `attempt` (0-based): doubling from `min` up to `max`, each wait between
/// half and all of that (so that devices cut off together do not come back together).
pub fn backoff(o: &LiveOptions, attempt: u32, jitter: f64) -> Duration {
    let full = o.min_backoff.saturating_mul(1u32 << attempt.min(16)).min(o.max_backoff);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Server-Sent Events read from a byte stream: complete events' names as they arrive.
#[derive(Default)]
pub struct SseParser {
    buf: String,
}

impl SseParser {
    /// Feeds bytes; returns the names of the events completed by them (`message` when an event
    /// has data but no name). Comment lines (keep-alives) produce nothing.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.push_str(&String::from_utf8_lossy(bytes));
        let mut out = Vec::new();
        loop {
            let normalized = self.buf.replace("\r\n", "\n");
            let Some(end) = normalized.find("\n\n") else {
                self.buf = normalized;
                break;
            };
            let block = normalized[..end].to_string();
            self.buf = normalized[end + 2..].to_string();
            let mut name = None;
            let mut data = false;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = Some(v.trim().to_string());
                } else if line.starts_with("data:") {
                    data = true;
                }
            }
            match name {
                Some(n) => out.push(n),
                None if data => out.push("message".into()),
                None => {}
            }
        }
        out
    }
}

/// Waits `d`, or less if `stop` is set meanwhile; false if stopped.
async fn wait(d: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(100);
    let mut left = d;
    while !left.is_zero() {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = left.min(step);
        tokio::time::sleep(now).await;
        left -= now;
    }
    !stop.load(Ordering::SeqCst)
}

fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1_000) / 1_000.0
}

/// Keeps the live stream of `store`'s server open until `stop` is set, syncing `store` whenever
/// the feed moves and telling `on_event` what happens. Returns `Ok` when stopped;
/// `Err(Unauthorized)` when the server no longer accepts this device; `Err(NotEnrolled)` when
/// the store has no credentials.
pub async fn follow(
    store: &Store,
    options: LiveOptions,
    stop: &AtomicBool,
    on_event: &(dyn Fn(LiveEvent) + Send + Sync),
) -> Result<(), SyncError> {
    let server = store.meta(META_SERVER)?.ok_or(SyncError::NotEnrolled)?;
    let token = store.meta(META_TOKEN)?.ok_or(SyncError::NotEnrolled)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(options.idle_timeout)
        .build()
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let mut attempt = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let reason = match stream(store, &http, &server, &token, stop, on_event, &mut attempt).await
        {
            Ok(()) => return Ok(()),
            Err(SyncError::Unauthorized) => return Err(SyncError::Unauthorized),
            Err(e) => e.to_string(),
        };
        let delay = backoff(&options, attempt, jitter());
        attempt = attempt.saturating_add(1);
        on_event(LiveEvent::Disconnected { retry_in_ms: delay.as_millis() as u64, reason });
        if !wait(delay, stop).await {
            break;
        }
    }
    Ok(())
}

/// One connection: `Ok` when stopped, an error when it ended otherwise.
async fn stream(
    store: &Store,
    http: &reqwest::Client,
    server: &str,
    token: &str,
    stop: &AtomicBool,
    on_event: &(dyn Fn(LiveEvent) + Send + Sync),
    attempt: &mut u32,
) -> Result<(), SyncError> {
    let mut resp = http
        .get(format!("{}/v1/events", server.trim_end_matches('/')))
        .bearer_auth(token)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(error_from(resp).await);
    }
    *attempt = 0;
    on_event(LiveEvent::Connected);
    let mut parser = SseParser::default();
    loop {
        let chunk = tokio::select! {
            c = resp.chunk() => c.map_err(|e| SyncError::Network(e.to_string()))?,
            _ = stopped(stop) => return Ok(()),
        };
        let Some(chunk) = chunk else {
            return Err(SyncError::Network("the server closed the live stream".into()));
        };
        let names = parser.feed(&chunk);
        if names.iter().any(|n| n == "revoked") {
            return Err(SyncError::Unauthorized);
        }
        if names.iter().any(|n| n == "ready" || n == "feed") {
            let synced = match SyncClient::for_store(store) {
                Ok(c) => c.sync(store, &|_| {}).await,
                Err(e) => Err(e),
            };
            match synced {
                Ok(s) => on_event(LiveEvent::Synced(s)),
                Err(SyncError::Unauthorized) => return Err(SyncError::Unauthorized),
                Err(e) => on_event(LiveEvent::SyncFailed(e.to_string())),
            }
        }
    }
}

/// Resolves once `stop` is set.
async fn stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_across_chunk_boundaries_and_comments_ignored() {
        let mut p = SseParser::default();
        assert!(p.feed(b": keep-alive\n\nevent: rea").is_empty());
        assert_eq!(p.feed(b"dy\ndata: {}\n\nevent: feed\r\ndata: {}\r\n\r\n"), ["ready", "feed"]);
        assert_eq!(p.feed(b"data: x\n\n"), ["message"]);
        assert!(p.feed(b"event: feed\n").is_empty(), "not complete yet");
        assert_eq!(p.feed(b"\n"), ["feed"]);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let o = LiveOptions::default();
        assert_eq!(backoff(&o, 0, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(&o, 0, 0.0), Duration::from_millis(250));
        assert_eq!(backoff(&o, 3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(&o, 30, 1.0), Duration::from_secs(30));
    }
}
