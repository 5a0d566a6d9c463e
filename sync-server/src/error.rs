//! Every error leaves the server as JSON: `{"error": {"code": "...", "message": "..."}}`.
//! Storage answers with its own `BackendError`; the HTTP status is chosen here, at the edge,
//! and every 500 is logged with its cause (the client sees only that the server failed).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fieldsales_core::sync::protocol::{ErrorBody, ErrorDetail};

use crate::backend::BackendError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For a 429: the `Retry-After` seconds.
    pub retry_after_s: u64,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after_s: 1 }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid device token is required (Authorization: Bearer …)",
        )
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// A 500; `cause` is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed; retry later")
    }

    pub fn too_many(code: &'static str, message: impl Into<String>, retry_after_s: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        e.retry_after_s = retry_after_s.max(1);
        e
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Storage(cause) => {
                tracing::error!("storage failed: {cause}");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server's storage failed; try again later",
                )
            }
            BackendError::InvalidCode => Self::new(
                StatusCode::FORBIDDEN,
                "invalid_code",
                "this enrollment code is unknown, used or expired; ask your admin for a new one",
            ),
            BackendError::ActorTaken => Self::new(
                StatusCode::CONFLICT,
                "actor_taken",
                "this store is enrolled for another user; it cannot be enrolled for this one",
            ),
            BackendError::WrongUser { code_user, store_user } => Self::new(
                StatusCode::CONFLICT,
                "wrong_user",
                format!(
                    "this code enrolls user '{code_user}', but this store belongs to \
                     '{store_user}'; ask your admin for a code for '{store_user}' (this one \
                     stays valid for '{code_user}')"
                ),
            ),
            BackendError::LockedOut { retry_after_s } => Self::too_many(
                "enroll_locked",
                "too many invalid enrollment codes from this address; wait, or ask your admin \
                 (`fieldsales-server admin lockouts`)",
                retry_after_s,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.to_string(), message: self.message } };
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, self.retry_after_s.max(1).into());
        }
        resp
    }
}
