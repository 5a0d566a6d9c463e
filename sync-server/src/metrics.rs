//! Operations: `GET /metrics` in the Prometheus text format, and a request id with one log line
//! per request.
//!
//! Counted here: requests by endpoint and status, their latency (a histogram per endpoint),
//! changes accepted and rejected (by rejection code). Read from where they are kept at scrape
//! time: pushes per commit (group commit's transactions and requests), live connections and
//! moves (the hub), document cache hits and misses.
//!
//! `/metrics` answers requests from a loopback address, or carrying
//! `Authorization: Bearer <metrics token>` when the server was given one
//! (`serve --metrics-token`): counts of requests are the operator's, not the world's.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use axum::extract::{Extension, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fieldsales_core::sync::protocol::PushResponse;

use crate::AppState;
use crate::backend::Backend;
use crate::error::ApiError;
use crate::net::Peer;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    accepted: AtomicU64,
    rejected: Mutex<BTreeMap<String, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A label value in quotes, escaped as the text format wants.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn request(&self, endpoint: &str, status: u16, secs: f64) {
        *lock(&self.requests).entry((endpoint.to_string(), status)).or_default() += 1;
        lock(&self.latency).entry(endpoint.to_string()).or_default().observe(secs);
    }

    pub fn pushed(&self, resp: &PushResponse) {
        self.accepted.fetch_add(resp.accepted.len() as u64, Ordering::Relaxed);
        let mut rejected = lock(&self.rejected);
        for r in &resp.rejected {
            *rejected.entry(r.code.clone()).or_default() += r.hashes.len() as u64;
        }
    }

    /// The text exposition, with the gauges and counters read from `s`.
    pub fn render<B: Backend>(&self, s: &AppState<B>) -> String {
        let mut o = String::new();
        let n = head(
            &mut o,
            "fieldsales_http_requests_total",
            "counter",
            "HTTP requests answered, by endpoint and status.",
        );
        for ((e, status), v) in lock(&self.requests).iter() {
            let _ = writeln!(o, "{n}{{endpoint=\"{}\",status=\"{status}\"}} {v}", label(e));
        }
        let n = head(
            &mut o,
            "fieldsales_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its response's headers, by endpoint.",
        );
        for (e, h) in lock(&self.latency).iter() {
            let e = label(e);
            for (b, c) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(o, "{n}_bucket{{endpoint=\"{e}\",le=\"{b}\"}} {c}");
            }
            let _ = writeln!(o, "{n}_bucket{{endpoint=\"{e}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(o, "{n}_sum{{endpoint=\"{e}\"}} {}", h.sum);
            let _ = writeln!(o, "{n}_count{{endpoint=\"{e}\"}} {}", h.count);
        }
        let n = head(
            &mut o,
            "fieldsales_changes_accepted_total",
            "counter",
            "Pushed changes acknowledged (stored now or before).",
        );
        let _ = writeln!(o, "{n} {}", self.accepted.load(Ordering::Relaxed));
        let n = head(
            &mut o,
            "fieldsales_changes_rejected_total",
            "counter",
            "Pushed changes rejected, by rejection code.",
        );
        for (code, v) in lock(&self.rejected).iter() {
            let _ = writeln!(o, "{n}{{code=\"{}\"}} {v}", label(code));
        }
        let (transactions, pushes) = s.commits.transactions_and_requests();
        let n = head(
            &mut o,
            "fieldsales_commits_total",
            "counter",
            "Write transactions that committed pushes (group commit); pushes per commit is fieldsales_committed_pushes_total over this.",
        );
        let _ = writeln!(o, "{n} {transactions}");
        let n = head(
            &mut o,
            "fieldsales_committed_pushes_total",
            "counter",
            "Push requests written by those transactions.",
        );
        let _ = writeln!(o, "{n} {pushes}");
        let hub = s.backend.hub();
        let n = head(
            &mut o,
            "fieldsales_live_connections",
            "gauge",
            "Open live-update streams (GET /v1/events).",
        );
        let _ = writeln!(o, "{n} {}", hub.connections());
        let (published, woken) = hub.published_and_woken();
        let n = head(
            &mut o,
            "fieldsales_live_moves_total",
            "counter",
            "Committed writes announced to this instance's live streams.",
        );
        let _ = writeln!(o, "{n} {published}");
        let n = head(
            &mut o,
            "fieldsales_live_wakeups_total",
            "counter",
            "Live streams told that the feed moved.",
        );
        let _ = writeln!(o, "{n} {woken}");
        let (hits, misses) = s.docs.hits_and_misses();
        let n = head(
            &mut o,
            "fieldsales_doc_cache_hits_total",
            "counter",
            "Pushes that found their stored document loaded in memory.",
        );
        let _ = writeln!(o, "{n} {hits}");
        let n = head(
            &mut o,
            "fieldsales_doc_cache_misses_total",
            "counter",
            "Pushes that loaded their stored document.",
        );
        let _ = writeln!(o, "{n} {misses}");
        let n = head(&mut o, "fieldsales_doc_cache_documents", "gauge", "Documents kept loaded.");
        let _ = writeln!(o, "{n} {}", s.docs.len());
        o
    }
}

/// A metric family's help and type lines; its name.
fn head<'a>(o: &mut String, name: &'a str, kind: &str, help: &str) -> &'a str {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
    name
}

/// `GET /metrics`.
pub async fn scrape<B: Backend>(
    State(s): State<AppState<B>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let by_token = match (&s.metrics_token, bearer) {
        (Some(want), Some(got)) => crate::auth::hash_secret(want) == crate::auth::hash_secret(got),
        _ => false,
    };
    let local = peer.is_none_or(|Extension(p)| p.ip.is_loopback());
    if !by_token && !local {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "metrics are served to loopback addresses, or with the metrics token",
        ));
    }
    let body = s.metrics.render(&s);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

/// A request id: the caller's `X-Request-Id` when it is short and plain, else a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string())
}

/// Middleware: a request id (in the log span of everything the request logs, and in the
/// response's `X-Request-Id`), one log line per request, and the request's counts.
pub async fn track<B: Backend>(State(s): State<AppState<B>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let endpoint =
        req.extensions().get::<MatchedPath>().map_or("other", |m| m.as_str()).to_string();
    let id = request_id(req.headers());
    let method = req.method().clone();
    let span = tracing::info_span!("request", id = %id, method = %method, endpoint = %endpoint);
    let mut resp = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let secs = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    s.metrics.request(&endpoint, status, secs);
    span.in_scope(|| {
        tracing::info!(status, ms = (secs * 1000.0).round() as u64, "answered");
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_count_into_every_bucket_at_or_above_the_value() {
        let m = Metrics::default();
        m.request("/v1/push", 200, 0.003);
        m.request("/v1/push", 200, 0.2);
        m.request("/v1/push", 500, 40.0);
        let lat = lock(&m.latency);
        let h = &lat["/v1/push"];
        assert_eq!(h.count, 3);
        assert_eq!(h.counts[0], 0, "le 0.001");
        assert_eq!(h.counts[2], 1, "le 0.005");
        assert_eq!(h.counts[7], 2, "le 0.25");
        assert_eq!(h.counts[BUCKETS.len() - 1], 2, "40 s is only in +Inf");
        assert_eq!(lock(&m.requests)[&("/v1/push".to_string(), 500)], 1);
    }

    #[test]
    fn request_ids_are_taken_only_when_plain() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("lb-1234_a.b"));
        assert_eq!(request_id(&h), "lb-1234_a.b");
        h.insert("x-request-id", HeaderValue::from_static("bad id\" injected"));
        let made = request_id(&h);
        assert_eq!(made.len(), 32, "{made}");
        assert_eq!(label("a\"b\\c"), "a\\\"b\\\\c");
    }
}
