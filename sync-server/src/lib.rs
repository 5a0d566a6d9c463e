//! The Fieldsales sync server: merges everyone's documents and decides who may see and change
//! what. `app()` builds the router, apart from `main`, so tests can drive it in process or over
//! a real socket; `serve()` runs it behind the deadlines and connection bounds of `net.rs`.
//!
//! Modules: `authz` (who may see and change what), `push` and `pull` (the sync endpoints'
//! work), `cursor` (pull cursors), `group` (group commit), `docs` (the document cache),
//! `backend` (the storage traits) and `sqlite` (their embedded implementation), `auth` (tokens,
//! codes, rate limit), `net` (the accept loop), `error` (HTTP errors, made at this edge),
//! `admin` (the admin commands).

pub mod admin;
pub mod auth;
pub mod authz;
pub mod backend;
pub mod backup;
pub mod clock;
pub mod cursor;
pub mod database;
pub mod docs;
pub mod error;
pub mod events;
pub mod group;
pub mod hub;
pub mod metrics;
pub mod net;
pub mod postgres;
pub mod principal;
pub mod pull;
pub mod push;
pub mod sqlite;
#[cfg(test)]
mod testing;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fieldsales_core::sync::protocol::*;
use tokio::sync::OwnedSemaphorePermit;

use crate::auth::RateLimiter;
use crate::backend::{Backend, Enrollment, Principal};
use crate::docs::DocCache;
use crate::error::ApiError;
use crate::group::GroupCommit;
pub use crate::net::NetLimits;
use crate::net::Peer;

/// Largest pull request body: a cursor and a limit.
pub const MAX_PULL_BODY_BYTES: usize = 64 * 1024;

pub struct AppState<B> {
    pub backend: Arc<B>,
    pub limiter: Arc<RateLimiter>,
    pub docs: Arc<DocCache>,
    /// Requests doing storage and Automerge work at once. More than the cores can run only
    /// share them: every request then takes longer, and threads wait on each other's locks.
    pub workers: Arc<tokio::sync::Semaphore>,
    /// Pushes waiting for the writer are committed together.
    pub commits: Arc<GroupCommit>,
    /// Deadlines and connection bounds (`net.rs`).
    pub net: NetLimits,
    /// A pull page's byte budget ([`PULL_PAGE_BYTES`]).
    pub page_bytes: usize,
    /// Counts for `GET /metrics` (`metrics.rs`).
    pub metrics: Arc<metrics::Metrics>,
    /// Lets `/metrics` answer other addresses than loopback ones.
    pub metrics_token: Option<String>,
    /// Serve https with this (`tls.rs`); plain http when `None`.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// The time every answer tells devices (`clock.rs`).
    pub clock: clock::ServerClock,
}

impl<B> Clone for AppState<B> {
    fn clone(&self) -> Self {
        AppState {
            backend: self.backend.clone(),
            limiter: self.limiter.clone(),
            docs: self.docs.clone(),
            workers: self.workers.clone(),
            commits: self.commits.clone(),
            net: self.net,
            page_bytes: self.page_bytes,
            metrics: self.metrics.clone(),
            metrics_token: self.metrics_token.clone(),
            tls: self.tls.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<B: Backend> AppState<B> {
    /// Default limits: bursts of 200 requests per device, 100 per second sustained; the
    /// default document cache; [`NetLimits::default`].
    pub fn new(backend: B) -> Self {
        AppState::with_doc_cache(backend, docs::DEFAULT_CAPACITY)
    }

    /// As [`AppState::new`], keeping up to `documents` loaded documents (0: none).
    pub fn with_doc_cache(backend: B, documents: usize) -> Self {
        AppState::with_doc_cache_bytes(backend, documents, docs::DEFAULT_BYTES)
    }

    /// As [`AppState::new`], keeping up to `documents` loaded documents and `bytes` of them.
    pub fn with_doc_cache_bytes(backend: B, documents: usize, bytes: usize) -> Self {
        let cores = cores();
        AppState {
            backend: Arc::new(backend),
            limiter: Arc::new(RateLimiter::new(200, 100)),
            docs: Arc::new(DocCache::with_bytes(documents, bytes)),
            workers: Arc::new(tokio::sync::Semaphore::new(2 * cores)),
            commits: Arc::new(GroupCommit::new()),
            net: NetLimits::default(),
            page_bytes: PULL_PAGE_BYTES,
            metrics: Arc::default(),
            metrics_token: None,
            tls: None,
            clock: clock::system(),
        }
    }
}

pub fn app<B: Backend>(state: AppState<B>) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/devices", post(enroll::<B>))
        .route("/v1/push", post(push::<B>))
        .route("/v1/pull", post(pull::<B>))
        .route("/v1/events", get(events::stream::<B>))
        .route("/metrics", get(metrics::scrape::<B>))
        .fallback(|| async { ApiError::not_found("no such endpoint; see docs/protocol.md") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "wrong method: POST, or GET for /v1/health, /v1/events and /metrics",
            )
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), clock::stamp::<B>))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track::<B>))
        .with_state(state)
}

/// Serves `app` on a bound listener until `shutdown` resolves, with the state's deadlines and
/// connection bounds.
pub async fn serve<B: Backend>(
    listener: tokio::net::TcpListener,
    state: AppState<B>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.net;
    let tls = state.tls.clone();
    // Live-update streams never end by themselves: they end at shutdown, so that the open
    // connections can finish their requests and close.
    let hub = state.backend.hub().clone();
    let shutdown = async move {
        shutdown.await;
        hub.close();
    };
    net::serve(listener, app(state), limits, tls, shutdown).await
}

/// Reads a body of at most `limit` bytes within `timeout`. Called only once the request's
/// headers passed every check (the token first): a stranger's body is never read.
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("this request's body is limited to {limit} bytes"),
        )
    };
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body did not arrive within {} s", timeout.as_secs()),
        )),
        Ok(Err(e)) => {
            let e = e.into_inner();
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                Err(too_large())
            } else {
                Err(ApiError::bad_request(
                    "bad_body",
                    format!("the request body could not be read: {e}"),
                ))
            }
        }
        Ok(Ok(b)) => Ok(b),
    }
}

fn require_type(headers: &HeaderMap, want: &str) -> Result<(), ApiError> {
    let got = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if got.split(';').next().map(str::trim) != Some(want) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the body as {want}"),
        ));
    }
    Ok(())
}

/// A body declared larger than `limit` is refused from its headers, before any of it is read.
fn declared_size(headers: &HeaderMap, limit: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("this request's body is limited to {limit} bytes"),
        ));
    }
    Ok(())
}

/// The caller, from the token in the headers alone; then the device's rate limit.
pub(crate) async fn principal<B: Backend>(
    s: &AppState<B>,
    headers: &HeaderMap,
    peer: Option<&Peer>,
) -> Result<Principal, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?;
    let hash = auth::hash_secret(token);
    let backend = s.backend.clone();
    let p = blocking(move || Ok(backend.authenticate(&hash)?))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if let Some(peer) = peer {
        peer.authenticated();
    }
    if !s.limiter.allow(&p.device_id) {
        return Err(ApiError::too_many(
            "rate_limited",
            "too many requests from this device; retry shortly",
            1,
        ));
    }
    Ok(p)
}

fn cbor_response<T: serde::Serialize>(v: &T) -> Response {
    ([(header::CONTENT_TYPE, CBOR)], to_cbor(v)).into_response()
}

/// Runs blocking storage work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    // The request's log span (its id) goes along.
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| ApiError::internal(format!("a request's work failed: {e}")))?
}

/// As [`blocking`], once one of `s.workers` is free (in arrival order). `f` holds the worker
/// until it drops the permit it is given.
async fn work<B, T: Send + 'static>(
    s: &AppState<B>,
    f: impl FnOnce(OwnedSemaphorePermit) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = s
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::internal("the worker pool is closed: shutting down"))?;
    blocking(move || f(permit)).await
}

/// The cores this process may use.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn enroll<B: Backend>(
    State(s): State<AppState<B>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_type(&headers, JSON)?;
    declared_size(&headers, MAX_ENROLL_BYTES)?;
    let body = read_body(body, MAX_ENROLL_BYTES, s.net.body_timeout).await?;
    let req: EnrollRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("bad_body", format!("expected {{code, device_name, actor_id}}: {e}"))
    })?;
    let actor = automerge::ActorId::try_from(req.actor_id.as_str())
        .ok()
        .filter(|a| (8..=64).contains(&a.to_bytes().len()))
        .ok_or_else(|| {
            ApiError::bad_request("bad_actor", "actor_id must be 8 to 64 bytes of hex")
        })?;
    let name = req.device_name.trim().chars().take(100).collect::<String>();
    let token = auth::new_token();
    let backend = s.backend.clone();
    let token_hash = auth::hash_secret(&token);
    let code_hash = auth::hash_secret(&auth::normalize_code(&req.code));
    let address = peer.map_or_else(|| Peer::local().ip, |Extension(p)| p.ip).to_string();
    let e = blocking(move || {
        Ok(backend.enroll(&Enrollment {
            code_hash: &code_hash,
            device_name: &name,
            actor: &actor.to_hex_string(),
            token_hash: &token_hash,
            address: &address,
            now: now_ms(),
            user_id: req.user_id.as_deref(),
        })?)
    })
    .await?;
    let resp = EnrollResponse {
        device_id: e.device_id,
        token,
        user_id: e.user_id,
        workspace_id: e.workspace_id,
        role: e.role.as_str().to_string(),
    };
    Ok((StatusCode::CREATED, axum::Json(resp)).into_response())
}

/// Who is calling and what they ask (`what` names the message in errors), checked in order:
/// the token (before any of the body is read), the content type, the declared size, then the
/// body within its deadline and size.
async fn cbor_request<B: Backend, T: for<'de> serde::Deserialize<'de>>(
    s: &AppState<B>,
    peer: Option<Extension<Peer>>,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<(Principal, T), ApiError> {
    let p = principal(s, headers, peer.as_ref().map(|Extension(p)| p)).await?;
    require_type(headers, CBOR)?;
    declared_size(headers, limit)?;
    let body = read_body(body, limit, s.net.body_timeout).await?;
    let req = from_cbor(&body)
        .map_err(|e| ApiError::bad_request("bad_body", format!("not a {what} request: {e}")))?;
    Ok((p, req))
}

async fn push<B: Backend>(
    State(s): State<AppState<B>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (p, req): (Principal, PushRequest) =
        cbor_request(&s, peer, &headers, body, MAX_BODY_BYTES, "push").await?;
    // What the device has pulled, if it says: a cursor it cannot parse counts as not said.
    let seen = headers
        .get(PULL_CURSOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| cursor::parse_cursor(c).ok().flatten())
        .map(|c| match c.cursor {
            cursor::Cursor::Feed { seq, .. } => seq,
            cursor::Cursor::Boot { watermark, .. } => watermark,
        });
    let state = s.clone();
    let resp = work(&state, move |worker| {
        // Workers nobody is using lend their cores to this push's Automerge work (a device's
        // first sync pushes 500 new documents a request, one request at a time); under load
        // there are none to spare and it works alone, as every request does.
        let helpers: Vec<OwnedSemaphorePermit> =
            (1..cores()).map_while(|_| s.workers.clone().try_acquire_owned().ok()).collect();
        let threads = 1 + helpers.len();
        let prepared = push::prepare_push_seen(&*s.backend, &s.docs, &p, req, seen, threads)?;
        drop(helpers);
        // Waiting for the writer takes no CPU: the next request may work meanwhile, and pushes
        // that queue up here are committed together. Unless too many wait already: then this
        // one keeps its worker, and new requests wait before they hold anything.
        let parked = s.commits.park(prepared.iter().map(push::Prepared::bytes).sum());
        let _worker = parked.is_none().then_some(worker);
        s.commits.commit(&*s.backend, &s.docs, &p, prepared)
    })
    .await?;
    state.metrics.pushed(&resp);
    Ok(cbor_response(&resp))
}

async fn pull<B: Backend>(
    State(s): State<AppState<B>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (p, req): (Principal, PullRequest) =
        cbor_request(&s, peer, &headers, body, MAX_PULL_BODY_BYTES, "pull").await?;
    let state = s.clone();
    let resp =
        work(&state, move |_worker| pull::pull_with_budget(&*s.backend, &p, &req, s.page_bytes))
            .await?;
    Ok(cbor_response(&resp))
}
