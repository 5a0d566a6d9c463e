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
use crate::store::{PullApply, RemoteDoc, RemotePayload, SYNC_CURSOR, Store};

pub(super) const META_SERVER: &str = "sync.server";
pub(super) const META_TOKEN: &str = "sync.token";
const META_DEVICE: &str = "sync.device_id";
const PUSH_BATCH: u32 = 500;
const PULL_LIMIT: u32 = 1_000;
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
    #[error(transparent)]
    Store(#[from] crate::Error),
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

pub(super) async fn error_from(resp: reqwest::Response) -> SyncError {
    let status = resp.status().as_u16();
    if status == 401 {
        return SyncError::Unauthorized;
    }
    match resp.json::<ErrorBody>().await {
        Ok(b) => SyncError::Server { status, code: b.error.code, message: b.error.message },
        Err(_) => {
            SyncError::Server { status, code: "unknown".into(), message: "no error details".into() }
        }
    }
}

/// Exchanges a one-time enrollment code for this device's credentials. `actor_id` is the hex
/// actor the device's store writes with (an existing store's `actor_id()`, or a new one).
pub async fn enroll(
    server: &str,
    code: &str,
    device_name: &str,
    actor_id: &str,
) -> Result<Credentials, SyncError> {
    let req = EnrollRequest {
        code: code.trim().to_string(),
        device_name: device_name.to_string(),
        actor_id: actor_id.to_string(),
    };
    let resp = http_client()?
        .post(format!("{}/v1/devices", base(server)))
        .json(&req)
        .send()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(error_from(resp).await);
    }
    let r: EnrollResponse = resp.json().await.map_err(|e| SyncError::Protocol(e.to_string()))?;
    Ok(Credentials {
        server: base(server),
        device_id: r.device_id,
        token: r.token,
        user_id: r.user_id,
        workspace_id: r.workspace_id,
        role: r.role,
    })
}

/// A sync session over one store.
pub struct SyncClient {
    http: reqwest::Client,
    server: String,
    token: String,
    cancel: Arc<AtomicBool>,
}

impl SyncClient {
    /// Saves credentials from `enroll` into the store, so later syncs need nothing else.
    pub fn save_credentials(store: &Store, c: &Credentials) -> Result<(), SyncError> {
        store.set_meta(META_SERVER, Some(&c.server))?;
        store.set_meta(META_TOKEN, Some(&c.token))?;
        store.set_meta(META_DEVICE, Some(&c.device_id))?;
        // The store refuses a rep what the server would refuse (targets, plans, settings).
        store.set_meta(crate::store::sales::META_ROLE, Some(&c.role))?;
        Ok(())
    }

    pub fn for_store(store: &Store) -> Result<SyncClient, SyncError> {
        let server = store.meta(META_SERVER)?.ok_or(SyncError::NotEnrolled)?;
        let token = store.meta(META_TOKEN)?.ok_or(SyncError::NotEnrolled)?;
        Ok(SyncClient {
            http: http_client()?,
            server,
            token,
            cancel: Arc::new(AtomicBool::new(false)),
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
    async fn post_cbor<Req: serde::Serialize, Resp: for<'de> serde::Deserialize<'de>>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<Resp, SyncError> {
        let body = to_cbor(body);
        let mut attempt = 0u32;
        let resp = loop {
            let resp = self
                .http
                .post(format!("{}{path}", self.server))
                .bearer_auth(&self.token)
                .header(reqwest::header::CONTENT_TYPE, CBOR)
                .body(body.clone())
                .send()
                .await
                .map_err(|e| SyncError::Network(e.to_string()))?;
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
        let bytes = resp.bytes().await.map_err(|e| SyncError::Network(e.to_string()))?;
        from_cbor(&bytes).map_err(SyncError::Protocol)
    }

    /// Pushes the outbox, then pulls until caught up.
    pub async fn sync(
        &self,
        store: &Store,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncSummary, SyncError> {
        let mut summary = SyncSummary::default();
        self.push(store, progress, &mut summary).await?;
        self.pull(store, progress, &mut summary).await?;
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
        let mut done = 0u64;
        let mut after = 0i64;
        progress(SyncProgress { phase: SyncPhase::Push, done, total });
        loop {
            self.check_cancel()?;
            let batch = store.outbox(after, PUSH_BATCH)?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
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
            let resp: PushResponse = self.post_cbor("/v1/push", &req).await?;
            summary.sent += store.ack_outbox(&resp.accepted)? as u64;
            for r in &resp.rejected {
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
        Ok(())
    }

    async fn pull(
        &self,
        store: &Store,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        summary: &mut SyncSummary,
    ) -> Result<(), SyncError> {
        let mut done = 0u64;
        let mut restarted = false;
        loop {
            self.check_cancel()?;
            let cursor = store.meta(SYNC_CURSOR)?.unwrap_or_default();
            let resp: PullResponse = match self
                .post_cbor("/v1/pull", &PullRequest { cursor: cursor.clone(), limit: PULL_LIMIT })
                .await
            {
                // The server does not know our cursor (e.g. it was restored from a backup): pull
                // everything again from the start; merging what we already hold is harmless.
                Err(SyncError::Server { code, .. })
                    if code == "bad_cursor" && !cursor.is_empty() && !restarted =>
                {
                    restarted = true;
                    store.set_meta(SYNC_CURSOR, None)?;
                    continue;
                }
                r => r?,
            };
            let n = resp.items.len() as u64;
            let items = resp
                .items
                .into_iter()
                .map(|i| match i {
                    PullItem::Changes { doc_id, kind, changes } => PullApply::Merge(RemoteDoc {
                        doc_id,
                        kind,
                        payload: RemotePayload::Changes(
                            changes.into_iter().map(|b| b.into_vec()).collect(),
                        ),
                    }),
                    PullItem::Snapshot { doc_id, kind, data } => PullApply::Merge(RemoteDoc {
                        doc_id,
                        kind,
                        payload: RemotePayload::Snapshot(data),
                    }),
                    PullItem::Drop { doc_id } => PullApply::Drop(doc_id),
                })
                .collect();
            let report = store.apply_pull(items, Some(&resp.cursor))?;
            summary.received += (report.changed_leads.len()
                + report.changed_activities.len()
                + report.changed_other.len()) as u64;
            summary.dropped += report.dropped.len() as u64;
            done += n;
            progress(SyncProgress { phase: SyncPhase::Pull, done, total: done + resp.remaining });
            if !resp.more {
                break;
            }
        }
        Ok(())
    }
}
