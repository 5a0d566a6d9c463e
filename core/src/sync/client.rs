//! The sync client: push the outbox, then pull until caught up.
//!
//! Resumable by construction: a push is idempotent (the server keys changes by hash and the
//! outbox row goes only when its hash is acknowledged), and each pulled page is applied in one
//! SQLite transaction together with the cursor that covers it. Cut anywhere, the next `sync`
//! converges with nothing lost and nothing applied twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::protocol::*;
use crate::store::{META_ROLE, PullApply, SYNC_CURSOR, Store};

pub(super) const META_SERVER: &str = "sync.server";
pub(super) const META_TOKEN: &str = "sync.token";
const META_DEVICE: &str = "sync.device_id";
/// Set when the server turned out to have been restored from an older backup: how many more
/// pushes may leave a change the server cannot take yet (it builds on another device's change
/// the restore lost, or its lead is not back yet) in the outbox instead of quarantine.
const META_RECOVERING: &str = "sync.recovering";
/// Pushes after a restore that wait for other devices to send what the restore lost; then a
/// change still refused goes to quarantine as usual (kept, readable, re-appliable).
const RECOVERY_PUSHES: u32 = 20;
const PUSH_BATCH: u32 = 500;
const PULL_LIMIT: u32 = 1_000;
/// The largest push or pull response read. The server bounds a pull page by bytes (4 MiB,
/// plus the one document that crosses it, at most 1 MiB saved: docs/protocol.md) and a push
/// response holds hashes and the server's versions of refused documents; 16 MiB leaves
/// headroom. A page over it is asked for again with fewer items; a single item over it, or a
/// body without end, is refused.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// Enrollment answers and error bodies are a few hundred bytes of JSON.
const MAX_SMALL_RESPONSE_BYTES: u64 = 64 * 1024;
/// The server's cursors are a few dozen characters; this device stores them in its `meta`.
const MAX_CURSOR_CHARS: usize = 1_024;
/// Consecutive pages with no item but `more: true` after which a pull stops: a server that
/// keeps issuing fresh cursors and sends nothing would otherwise keep it busy for ever.
const MAX_EMPTY_PAGES: u32 = 100;
/// Tries after a 429 before the sync gives up with the server's error.
const RATE_LIMIT_RETRIES: u32 = 5;

/// How long to wait after a 429: what the server asked for (seconds), else 0.5 s doubling;
/// never more than 30 s.
fn retry_delay(asked_secs: Option<f64>, attempt: u32) -> std::time::Duration {
    let secs = match asked_secs {
        Some(s) if s.is_finite() && s >= 0.0 => s,
        _ => 0.5 * f64::from(1u32 << attempt.min(6)),
    };
    std::time::Duration::from_secs_f64(secs.clamp(0.05, 30.0))
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "this device is not enrolled with a sync server; enroll it with a code from your admin"
    )]
    NotEnrolled,
    #[error("the server no longer accepts this device (revoked or unknown); enroll it again")]
    Unauthorized,
    #[error("cannot reach the sync server: {0}")]
    Network(String),
    #[error("the server refused the request: {message} ({code}, HTTP {status})")]
    Server { status: u16, code: String, message: String },
    #[error("the server sent something this app cannot read: {0}")]
    Protocol(String),
    #[error("sync was cancelled")]
    Cancelled,
    /// A body over `limit` bytes (a page that stays too large even one item at a time, or a
    /// body without end). Nothing of it was applied.
    #[error("the server sent a response of more than {limit} bytes; it was refused")]
    ResponseTooLarge { limit: u64 },
    /// The server asked to pull again (`more: true`) without moving on: it sent back a cursor
    /// it had sent before, or page after page of nothing. Pages before it are applied; that
    /// page was not.
    #[error("the server keeps asking to pull again without moving on (cursor {cursor:?}); stopped")]
    CursorStuck { cursor: String },
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

/// What enrollment gives a device, and what `sync` needs to talk to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Credentials {
    pub server: String,
    pub device_id: String,
    pub token: String,
    pub user_id: String,
    pub workspace_id: String,
    /// `rep`, `manager` or `admin`.
    pub role: String,
    /// The server's clock when its answer arrived (ms), if it told it: `save_credentials`
    /// records this device's clock offset from it.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub server_time: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SyncPhase {
    /// Sending local changes.
    Push,
    /// Receiving everyone else's.
    Pull,
}

/// Progress of a running sync: `done` of `total` items in the current phase (`total` grows
/// while the server reports more).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncProgress {
    pub phase: SyncPhase,
    pub done: u64,
    pub total: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncSummary {
    /// Local changes the server stored.
    pub sent: u64,
    /// Documents updated from the server.
    pub received: u64,
    /// Local changes the server refused (now in quarantine).
    pub rejected: u64,
    /// Documents removed because the user lost access to them.
    pub dropped: u64,
    /// Leads that now show concurrent values ("two values were entered").
    pub conflicts: u64,
    /// Records the server sent damaged (unloadable, of another kind or id, unreadable): kept
    /// aside in quarantine, not merged; the rest of the sync went on.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub set_aside: u64,
    /// After the server was restored from an older backup: local changes it cannot take until
    /// another device has sent what the restore lost. They stay in the outbox, sent again on
    /// the next syncs.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub held: u64,
}

/// The next, smaller batch or page size after a response that was too large.
fn smaller(n: u32) -> u32 {
    (n / 8).max(1)
}

fn http_client() -> Result<reqwest::Client, SyncError> {
    // reqwest is built without a default TLS provider; ring is the one compiled in. A second
    // install attempt (another client) returns Err, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| SyncError::Network(e.to_string()))
}

fn base(server: &str) -> String {
    server.trim_end_matches('/').to_string()
}

/// Reads a response body of at most `limit` bytes, as it streams in: a server that announces
/// or sends more is refused before it can fill this device's memory.
async fn read_capped(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, SyncError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(SyncError::ResponseTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| SyncError::Network(e.to_string()))? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(SyncError::ResponseTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) async fn error_from(resp: reqwest::Response) -> SyncError {
    let status = resp.status().as_u16();
    if status == 401 {
        return SyncError::Unauthorized;
    }
    let body = read_capped(resp, MAX_SMALL_RESPONSE_BYTES).await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(b) => SyncError::Server { status, code: b.error.code, message: b.error.message },
        Err(_) => {
            SyncError::Server { status, code: "unknown".into(), message: "no error details".into() }
        }
    }
}

/// The server's time a response tells ([`SERVER_TIME_HEADER`]), if any.
fn server_time(resp: &reqwest::Response) -> Option<i64> {
    resp.headers().get(SERVER_TIME_HEADER)?.to_str().ok()?.trim().parse().ok()
}

/// Exchanges a one-time enrollment code for this device's credentials. `actor_id` is the hex
/// actor the device's store writes with (an existing store's `actor_id()`, or a new one).
pub async fn enroll(
    server: &str,
    code: &str,
    device_name: &str,
    actor_id: &str,
) -> Result<Credentials, SyncError> {
    enroll_as(server, code, device_name, actor_id, None).await
}

/// [`enroll`] for an existing store of `user_id`: a code for anyone else is refused
/// (`wrong_user`) before the server uses it up. Enrolling a store again (its device revoked,
/// or its token lost) gives it its device back with a new token; what waits in its outbox is
/// sent at the next sync.
pub async fn enroll_as(
    server: &str,
    code: &str,
    device_name: &str,
    actor_id: &str,
    user_id: Option<&str>,
) -> Result<Credentials, SyncError> {
    let req = EnrollRequest {
        code: code.trim().to_string(),
        device_name: device_name.to_string(),
        actor_id: actor_id.to_string(),
        user_id: user_id.map(str::to_string),
    };
    let sent = std::time::Instant::now();
    let resp = http_client()?
        .post(format!("{}/v1/devices", base(server)))
        .json(&req)
        .send()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    // Half the round trip after the server read its clock, roughly.
    let half_trip = i64::try_from(sent.elapsed().as_millis() / 2).unwrap_or(0);
    let server_time = server_time(&resp).map(|t| t.saturating_add(half_trip));
    if !resp.status().is_success() {
        return Err(error_from(resp).await);
    }
    let body = read_capped(resp, MAX_SMALL_RESPONSE_BYTES).await?;
    let r: EnrollResponse =
        serde_json::from_slice(&body).map_err(|e| SyncError::Protocol(e.to_string()))?;
    Ok(Credentials {
        server: base(server),
        device_id: r.device_id,
        token: r.token,
        user_id: r.user_id,
        workspace_id: r.workspace_id,
        role: r.role,
        server_time,
    })
}

/// A sync session over one store.
pub struct SyncClient {
    http: reqwest::Client,
    server: String,
    token: String,
    cancel: Arc<AtomicBool>,
    /// The server's clock minus this device's, as the last answer measured it.
    clock_offset: std::sync::Mutex<Option<i64>>,
}

impl SyncClient {
    /// Saves credentials from `enroll` into the store, so later syncs need nothing else.
    pub fn save_credentials(store: &Store, c: &Credentials) -> Result<(), SyncError> {
        store.set_meta(META_SERVER, Some(&c.server))?;
        store.set_meta(META_TOKEN, Some(&c.token))?;
        store.set_meta(META_DEVICE, Some(&c.device_id))?;
        // The store refuses a rep what the server would refuse (targets, plans, settings).
        store.set_meta(META_ROLE, Some(&c.role))?;
        SyncClient::record_enrollment_time(store, c)
    }

    /// This device's clock offset from the server's time in the enrollment answer, so that
    /// what the rep captures before the first sync is stamped with the server's clock too.
    fn record_enrollment_time(store: &Store, c: &Credentials) -> Result<(), SyncError> {
        if let Some(t) = c.server_time {
            store.record_clock_offset(t.saturating_sub(store.device_now()))?;
        }
        Ok(())
    }

    /// Saves credentials from `enroll` except the token, which the app keeps in the platform
    /// keystore and passes to `with_token`. A token this store held before is erased from the
    /// file (`Store::erase_meta`).
    pub fn save_credentials_except_token(store: &Store, c: &Credentials) -> Result<(), SyncError> {
        store.set_meta(META_SERVER, Some(&c.server))?;
        store.set_meta(META_DEVICE, Some(&c.device_id))?;
        store.set_meta(META_ROLE, Some(&c.role))?;
        SyncClient::record_enrollment_time(store, c)?;
        SyncClient::erase_stored_token(store)
    }

    /// The device id this store was enrolled as, if any.
    pub fn device_id(store: &Store) -> Result<Option<String>, SyncError> {
        Ok(store.meta(META_DEVICE)?)
    }

    /// The server this store is enrolled with, if any.
    pub fn enrolled_server(store: &Store) -> Result<Option<String>, SyncError> {
        Ok(store.meta(META_SERVER)?)
    }

    /// The token `save_credentials` put in the store, for moving it to a keystore.
    pub fn stored_token(store: &Store) -> Result<Option<String>, SyncError> {
        Ok(store.meta(META_TOKEN)?)
    }

    /// Removes the token from the store file (overwritten, not just unlinked).
    pub fn erase_stored_token(store: &Store) -> Result<(), SyncError> {
        Ok(store.erase_meta(META_TOKEN)?)
    }

    pub fn for_store(store: &Store) -> Result<SyncClient, SyncError> {
        let token = store.meta(META_TOKEN)?.ok_or(SyncError::NotEnrolled)?;
        SyncClient::with_token(store, token)
    }

    /// A session with a token kept outside the store (the platform keystore); the server's
    /// address comes from the store.
    pub fn with_token(store: &Store, token: String) -> Result<SyncClient, SyncError> {
        let server = store.meta(META_SERVER)?.ok_or(SyncError::NotEnrolled)?;
        Ok(SyncClient {
            http: http_client()?,
            server,
            token,
            cancel: Arc::new(AtomicBool::new(false)),
            clock_offset: std::sync::Mutex::new(None),
        })
    }

    /// A flag that stops the sync at the next step boundary; what was done stays done.
    pub fn cancel_handle(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    fn check_cancel(&self) -> Result<(), SyncError> {
        if self.cancel.load(Ordering::SeqCst) { Err(SyncError::Cancelled) } else { Ok(()) }
    }

    /// Posts `body`; when the server says this device sent too many requests (429), waits as
    /// long as it asks (`Retry-After`, else a doubling backoff) and tries again, a few times.
    ///
    /// Each answer that tells the server's time measures this device's clock offset against
    /// `store`'s clock: the server's time minus the middle of the round trip.
    async fn post_cbor<Req: serde::Serialize, Resp: for<'de> serde::Deserialize<'de>>(
        &self,
        store: &Store,
        path: &str,
        body: &Req,
    ) -> Result<Resp, SyncError> {
        let body = to_cbor(body);
        // A push says what this device has pulled: an activity it logged on a lead given to
        // someone else before it learned of that is decided on as it saw the lead.
        let pulled = match path {
            "/v1/push" => store
                .meta(SYNC_CURSOR)?
                .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_graphic())),
            _ => None,
        };
        let mut attempt = 0u32;
        let resp = loop {
            let before = store.device_now();
            let mut req = self
                .http
                .post(format!("{}{path}", self.server))
                .bearer_auth(&self.token)
                .header(reqwest::header::CONTENT_TYPE, CBOR);
            if let Some(c) = &pulled {
                req = req.header(PULL_CURSOR_HEADER, c.as_str());
            }
            let resp = req
                .body(body.clone())
                .send()
                .await
                .map_err(|e| SyncError::Network(e.to_string()))?;
            if let Some(t) = server_time(&resp) {
                let middle = before + (store.device_now() - before) / 2;
                *self.clock_offset.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(t.saturating_sub(middle));
            }
            if resp.status() != reqwest::StatusCode::TOO_MANY_REQUESTS
                || attempt >= RATE_LIMIT_RETRIES
            {
                break resp;
            }
            let asked = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok());
            tokio::time::sleep(retry_delay(asked, attempt)).await;
            attempt += 1;
            self.check_cancel()?;
        };
        if !resp.status().is_success() {
            return Err(error_from(resp).await);
        }
        let bytes = read_capped(resp, MAX_RESPONSE_BYTES).await?;
        from_cbor(&bytes).map_err(SyncError::Protocol)
    }

    /// Pushes the outbox, then pulls until caught up.
    pub async fn sync(
        &self,
        store: &Store,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncSummary, SyncError> {
        let mut summary = SyncSummary::default();
        let result = async {
            self.push(store, progress, &mut summary).await?;
            if self.pull(store, progress, &mut summary).await? {
                // The server lost what it had acknowledged: send it again now.
                self.push(store, progress, &mut summary).await?;
            }
            Ok::<(), SyncError>(())
        }
        .await;
        // Also after a failed sync: the server answered, so its time is known.
        let offset = *self.clock_offset.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(off) = offset {
            store.record_clock_offset(off)?;
        }
        result?;
        summary.conflicts = store.conflicted_leads()?;
        Ok(summary)
    }

    async fn push(
        &self,
        store: &Store,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        summary: &mut SyncSummary,
    ) -> Result<(), SyncError> {
        let total = store.outbox_len()? as u64;
        let recovering =
            store.meta(META_RECOVERING)?.and_then(|v| v.parse::<u32>().ok()).filter(|n| *n > 0);
        let mut held = 0u64;
        let mut done = 0u64;
        let mut after = 0i64;
        let mut batch_size = PUSH_BATCH;
        progress(SyncProgress { phase: SyncPhase::Push, done, total });
        loop {
            self.check_cancel()?;
            let batch = store.outbox(after, batch_size)?;
            let Some(last) = batch.last() else { break };
            let req = PushRequest {
                changes: batch
                    .iter()
                    .map(|e| PushChange {
                        doc_id: e.doc_id.clone(),
                        kind: e.kind,
                        change: e.change.clone(),
                    })
                    .collect(),
            };
            // The answer carries the server's version of each refused document: a batch whose
            // answer is too large is sent again in smaller ones (pushing is idempotent).
            let resp: PushResponse = match self.post_cbor(store, "/v1/push", &req).await {
                Err(SyncError::ResponseTooLarge { .. }) if batch_size > 1 => {
                    batch_size = smaller(batch_size);
                    continue;
                }
                r => r?,
            };
            after = last.seq;
            summary.sent += store.ack_outbox(&resp.accepted)? as u64;
            for r in &resp.rejected {
                if recovering.is_some()
                    && matches!(r.code.as_str(), "missing_dependencies" | "unknown_lead")
                {
                    held += 1;
                    continue;
                }
                summary.rejected += store.quarantine_rejected(
                    &r.doc_id,
                    r.kind,
                    &r.code,
                    &r.message,
                    r.server_version.as_deref(),
                )? as u64;
            }
            done += batch.len() as u64;
            progress(SyncProgress { phase: SyncPhase::Push, done, total: total.max(done) });
        }
        if let Some(left) = recovering {
            summary.held = held;
            // Over when nothing waited, or when the pushes it allows are used up.
            let left = (held > 0 && left > 1).then(|| (left - 1).to_string());
            store.set_meta(META_RECOVERING, left.as_deref())?;
        }
        Ok(())
    }

    /// Pulls until caught up. `true` when the server turned out to have been restored from an
    /// older backup (it refused the cursor): every change of this device is in the outbox again.
    async fn pull(
        &self,
        store: &Store,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        summary: &mut SyncSummary,
    ) -> Result<bool, SyncError> {
        let mut done = 0u64;
        let mut restarted = false;
        let mut limit = PULL_LIMIT;
        // Cursors seen in this pull (fingerprints): one coming back with `more: true` would
        // make the loop go round for ever.
        let mut seen = std::collections::HashSet::new();
        let mut empty_pages = 0u32;
        loop {
            self.check_cancel()?;
            let cursor = store.meta(SYNC_CURSOR)?.unwrap_or_default();
            seen.insert(crate::fingerprint::fingerprint([cursor.as_bytes()]));
            let resp: PullResponse = match self
                .post_cbor(store, "/v1/pull", &PullRequest { cursor: cursor.clone(), limit })
                .await
            {
                // The server does not know our cursor: it was restored from an older backup.
                // Pull everything again from the start (merging what we already hold is
                // harmless), and give it back what it lost of ours: every change this device
                // wrote goes into the outbox again, sent after this pull.
                Err(SyncError::Server { code, .. })
                    if code == "bad_cursor" && !cursor.is_empty() && !restarted =>
                {
                    restarted = true;
                    seen.clear();
                    store.set_meta(SYNC_CURSOR, None)?;
                    store.requeue_own_changes()?;
                    store.set_meta(META_RECOVERING, Some(&RECOVERY_PUSHES.to_string()))?;
                    continue;
                }
                // A page too large to read: ask for fewer items (a server from before pages
                // were bounded by bytes sends up to `limit` whole documents).
                Err(SyncError::ResponseTooLarge { .. }) if limit > 1 => {
                    limit = smaller(limit);
                    continue;
                }
                r => r?,
            };
            if resp.cursor.chars().count() > MAX_CURSOR_CHARS {
                return Err(SyncError::Protocol(format!(
                    "a cursor of {} characters (at most {MAX_CURSOR_CHARS} expected)",
                    resp.cursor.chars().count()
                )));
            }
            if resp.more {
                empty_pages = if resp.items.is_empty() { empty_pages + 1 } else { 0 };
                if !seen.insert(crate::fingerprint::fingerprint([resp.cursor.as_bytes()]))
                    || empty_pages >= MAX_EMPTY_PAGES
                {
                    return Err(SyncError::CursorStuck { cursor: resp.cursor });
                }
            }
            let n = resp.items.len() as u64;
            let items = resp.items.into_iter().map(PullApply::from).collect();
            let report = store.apply_pull(items, Some(&resp.cursor))?;
            let changed = &report.changed;
            summary.received +=
                (changed.leads.len() + changed.activities.len() + changed.sales.len()) as u64;
            summary.dropped += report.dropped.len() as u64;
            summary.set_aside += report.set_aside.len() as u64;
            done += n;
            progress(SyncProgress { phase: SyncPhase::Pull, done, total: done + resp.remaining });
            if !resp.more {
                break;
            }
        }
        Ok(restarted)
    }
}
