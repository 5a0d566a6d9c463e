//! Live updates: `GET /v1/events` keeps a Server-Sent Events stream open per online device and
//! says "the feed moved" when a change the device's user may see was committed; the device then
//! pulls as usual. Nothing travels on the stream but that signal: what a pull returns is still
//! decided by the pull (`pull.rs`). Which committed writes concern which device is the
//! [`Hub`]'s business (`hub.rs`).
//!
//! Revocation: every [`REVOCATION_SWEEP`] the server asks storage which of the connected devices
//! are revoked (one query for all of them) and ends their streams. Visibility (a manager given
//! another team) is read again every [`VISIBILITY_REFRESH`].

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::backend::{Backend, Principal};
use crate::error::ApiError;
use crate::hub::{End, Hub, Subscription};
use crate::net::Peer;
use crate::principal::Visibility;

/// How often connected devices are checked for revocation.
pub const REVOCATION_SWEEP: Duration = Duration::from_secs(2);
/// How often a connected device's visibility is read again.
pub const VISIBILITY_REFRESH: Duration = Duration::from_secs(60);
/// A comment line on an idle stream this often keeps proxies from closing it, and lets both
/// ends notice a dead connection.
pub const KEEP_ALIVE: Duration = Duration::from_secs(25);

/// `GET /v1/events`: the token is checked before anything else, the user's visibility read, and
/// the stream opens with `event: ready` (the device pulls once: it may have missed moves while
/// it was away), then carries `event: feed` whenever the feed moved for this user, and a comment
/// line every [`KEEP_ALIVE`]. A revoked device gets `event: revoked` and the stream ends; at
/// shutdown streams end and the devices reconnect to another instance or later.
pub async fn stream<B: Backend>(
    State(s): State<AppState<B>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let hub = s.backend.hub().clone();
    if hub.is_closed() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "this server is shutting down; reconnect in a moment",
        ));
    }
    let p = crate::principal(&s, &headers, peer.as_ref().map(|Extension(p)| p)).await?;
    let vis = visibility(&s.backend, &p).await?;
    let sub = hub.subscribe(&p, vis);
    start_sweep(&s.backend, &hub);
    let live =
        Live { sub, backend: s.backend.clone(), p, step: Step::Ready, refresh: VISIBILITY_REFRESH };
    let events = futures_util::stream::unfold(live, |mut live| async move {
        let event = live.next().await?;
        Some((Ok::<_, std::convert::Infallible>(event), live))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response())
}

async fn visibility<B: Backend>(backend: &Arc<B>, p: &Principal) -> Result<Visibility, ApiError> {
    let (backend, p) = (backend.clone(), p.clone());
    crate::blocking(move || Ok(backend.read(&p.workspace_id, |tx| Visibility::of(tx, &p))?)).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Ready,
    Live,
    Done,
}

/// One open stream.
struct Live<B> {
    sub: Subscription,
    backend: Arc<B>,
    p: Principal,
    step: Step,
    refresh: Duration,
}

impl<B: Backend> Live<B> {
    async fn next(&mut self) -> Option<Event> {
        match self.step {
            Step::Done => return None,
            Step::Ready => {
                self.step = Step::Live;
                return Some(Event::default().event("ready").data("{}"));
            }
            Step::Live => {}
        }
        loop {
            tokio::select! {
                woken = self.sub.sub.next() => return match woken {
                    Ok(()) => Some(Event::default().event("feed").data("{}")),
                    Err(End::Revoked) => {
                        self.step = Step::Done;
                        Some(Event::default().event("revoked").data("{}"))
                    }
                    Err(End::ShuttingDown) => None,
                },
                _ = tokio::time::sleep(self.refresh) => {
                    // A manager given another team hears of its moves from now on.
                    if let Ok(vis) = visibility(&self.backend, &self.p).await {
                        self.sub.sub.set_visibility(vis);
                    }
                }
            }
        }
    }
}

/// Starts the hub's revocation sweep (once): every [`REVOCATION_SWEEP`], one query asks which
/// connected devices were revoked, and their streams end. Stops when the hub closes.
fn start_sweep<B: Backend>(backend: &Arc<B>, hub: &Arc<Hub>) {
    if !hub.claim_sweep() {
        return;
    }
    let (backend, hub) = (backend.clone(), hub.clone());
    tokio::spawn(async move {
        while !hub.is_closed() {
            tokio::time::sleep(REVOCATION_SWEEP).await;
            let ids = hub.device_ids();
            if ids.is_empty() {
                continue;
            }
            let b = backend.clone();
            match tokio::task::spawn_blocking(move || b.revoked(&ids)).await {
                Ok(Ok(revoked)) if !revoked.is_empty() => {
                    tracing::info!(
                        devices = revoked.len(),
                        "live streams of revoked devices ended"
                    );
                    hub.revoke(&revoked);
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!("revocation sweep failed: {e}"),
                Err(e) => tracing::warn!("revocation sweep failed: {e}"),
            }
        }
    });
}
