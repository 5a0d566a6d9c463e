//! The Fieldsales sync server: merges everyone's documents and decides who may see and change
//! what. `app()` builds the router, apart from `main`, so tests can drive it in process or over
//! a real socket.

pub mod admin;
pub mod auth;
pub mod backend;
pub mod docs;
pub mod error;
pub mod group;
pub mod sqlite;
pub mod sync;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fieldsales_core::sync::protocol::*;
use tokio::sync::OwnedSemaphorePermit;

use crate::auth::RateLimiter;
use crate::backend::{Backend, Principal};
use crate::docs::DocCache;
use crate::error::ApiError;
use crate::group::GroupCommit;

pub struct AppState<B> {
    pub backend: Arc<B>,
    pub limiter: Arc<RateLimiter>,
    pub docs: Arc<DocCache>,
    /// Requests doing storage and Automerge work at once. More than the cores can run only
    /// share them: every request then takes longer, and threads wait on each other's locks.
    pub workers: Arc<tokio::sync::Semaphore>,
    /// Pushes waiting for the writer are committed together.
    pub commits: Arc<GroupCommit>,
}

impl<B> Clone for AppState<B> {
    fn clone(&self) -> Self {
        AppState {
            backend: self.backend.clone(),
            limiter: self.limiter.clone(),
            docs: self.docs.clone(),
            workers: self.workers.clone(),
            commits: self.commits.clone(),
        }
    }
}

impl<B: Backend> AppState<B> {
    /// Default limits: bursts of 200 requests per device, 100 per second sustained; the
    /// default document cache.
    pub fn new(backend: B) -> Self {
        AppState::with_doc_cache(backend, docs::DEFAULT_CAPACITY)
    }

    /// As [`AppState::new`], keeping up to `documents` loaded documents (0: none).
    pub fn with_doc_cache(backend: B, documents: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            backend: Arc::new(backend),
            limiter: Arc::new(RateLimiter::new(200, 100)),
            docs: Arc::new(DocCache::new(documents)),
            workers: Arc::new(tokio::sync::Semaphore::new(2 * cores)),
            commits: Arc::new(GroupCommit::new()),
        }
    }
}

pub fn app<B: Backend>(state: AppState<B>) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/devices", post(enroll::<B>))
        .route("/v1/push", post(push::<B>))
        .route("/v1/pull", post(pull::<B>))
        .fallback(|| async { ApiError::not_found("no such endpoint; see docs/protocol.md") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "wrong method: POST, or GET for /v1/health",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves `app` on a bound listener until `shutdown` resolves.
pub async fn serve<B: Backend>(
    listener: tokio::net::TcpListener,
    state: AppState<B>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}

fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
        )
    } else {
        ApiError::bad_request("bad_body", format!("the request body could not be read: {e}"))
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

fn principal<B: Backend>(s: &AppState<B>, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?;
    let p =
        s.backend.authenticate(&auth::hash_secret(token))?.ok_or_else(ApiError::unauthorized)?;
    if !s.limiter.allow(&p.device_id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from this device; retry shortly",
        ));
    }
    Ok(p)
}

fn cbor_response<T: serde::Serialize>(v: &T) -> Response {
    ([(header::CONTENT_TYPE, CBOR)], to_cbor(v)).into_response()
}

/// Runs blocking storage work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal("the request failed inside the server"))?
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
        .map_err(|_| ApiError::internal("the server is shutting down"))?;
    blocking(move || f(permit)).await
}

async fn enroll<B: Backend>(
    State(s): State<AppState<B>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_type(&headers, JSON)?;
    let body = body.map_err(body_error)?;
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let e = blocking(move || {
        backend.enroll(&code_hash, &name, &actor.to_hex_string(), &token_hash, now)
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

// Push and pull do all their work, the token check included, in one blocking task: a hand-off
// to the blocking pool and back costs two thread wake-ups, which showed in the profile.

/// Who is calling and what they ask (`what` names the message in errors), checked in order:
/// token, content type, body.
fn cbor_request<B: Backend, T: for<'de> serde::Deserialize<'de>>(
    s: &AppState<B>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<(Principal, T), ApiError> {
    let p = principal(s, headers)?;
    require_type(headers, CBOR)?;
    let body = body.map_err(body_error)?;
    let req = from_cbor(&body)
        .map_err(|e| ApiError::bad_request("bad_body", format!("not a {what} request: {e}")))?;
    Ok((p, req))
}

async fn push<B: Backend>(
    State(s): State<AppState<B>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let state = s.clone();
    let resp = work(&state, move |worker| {
        let (p, req): (Principal, PushRequest) = cbor_request(&s, &headers, body, "push")?;
        let prepared = sync::prepare_push(&*s.backend, &s.docs, &p, req)?;
        // Waiting for the writer takes no CPU: the next request may work meanwhile, and pushes
        // that queue up here are committed together. Unless too many wait already: then this
        // one keeps its worker, and new requests wait before they hold anything.
        let parked = s.commits.park(prepared.len());
        let _worker = parked.is_none().then_some(worker);
        s.commits.commit(&*s.backend, &s.docs, &p, prepared)
    })
    .await?;
    Ok(cbor_response(&resp))
}

async fn pull<B: Backend>(
    State(s): State<AppState<B>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let state = s.clone();
    let resp = work(&state, move |_worker| {
        let (p, req): (Principal, PullRequest) = cbor_request(&s, &headers, body, "pull")?;
        sync::pull(&*s.backend, &p, &req)
    })
    .await?;
    Ok(cbor_response(&resp))
}
