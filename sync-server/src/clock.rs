//! The server's clock, told in every answer (`x-server-time`, docs/protocol.md "Time"), so that
//! devices learn how far their own clocks are off and stamp what they write with the server's
//! time instead. Replaceable, so that tests can set "now" for the server as for devices.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use fieldsales_core::sync::protocol::SERVER_TIME_HEADER;

use crate::AppState;

/// Milliseconds since the Unix epoch.
pub type ServerClock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system() -> ServerClock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    })
}

/// Adds the server's time to an answer, read as it leaves.
pub async fn stamp<B>(State(s): State<AppState<B>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(SERVER_TIME_HEADER, HeaderValue::from((s.clock)()));
    resp
}
