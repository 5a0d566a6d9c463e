//! The one error type of the bindings. Kotlin sees `FieldsalesException` subclasses, Swift a
//! `FieldsalesError` enum; either way each case carries the core's message, written for people.

use fieldsales_core::Error as CoreError;
use fieldsales_core::sync::SyncError;

/// A flat error: each case crosses the FFI as its message (the `Display` of the core error),
/// which Kotlin puts in `Exception.message` and Swift in `message:`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum FieldsalesError {
    /// Input the rep typed that cannot be saved; nothing was written. Show the message.
    #[error("{0}")]
    Validation(String),
    /// No lead or activity with that id (or of that kind) in this store.
    #[error("{0}")]
    NotFound(String),
    /// A record with that id exists already (a retried create or import).
    #[error("{0}")]
    AlreadyExists(String),
    /// The store file belongs to another user.
    #[error("{0}")]
    WrongUser(String),
    /// The store file does not open with the key given: encrypted with another key, encrypted
    /// and opened without one (or plain and opened with one), or not a store file.
    #[error("{0}")]
    WrongKey(String),
    /// The user's role does not allow it (a rep changing the sales process, targets or plans).
    #[error("{0}")]
    Forbidden(String),
    /// Bytes from elsewhere (a merge, a paging cursor) that could not be read; nothing was written.
    #[error("{0}")]
    InvalidData(String),
    /// The local database or file system failed, or the file is from a newer app version.
    #[error("{0}")]
    Storage(String),
    /// A scanned code that is not a contact (or is cut off); the message says what was expected.
    #[error("{0}")]
    UnreadableCode(String),
    /// Sync needs an enrollment first.
    #[error("{0}")]
    NotEnrolled(String),
    /// The server no longer accepts this device: enroll again.
    #[error("{0}")]
    Unauthorized(String),
    /// The server could not be reached; retry later.
    #[error("{0}")]
    Network(String),
    /// The server refused the request (code and HTTP status are in the message).
    #[error("{0}")]
    Server(String),
    /// The sync was cancelled through its `CancelHandle`; what it had done stays done.
    #[error("{0}")]
    Cancelled(String),
    /// The server sent something this app cannot read.
    #[error("{0}")]
    Sync(String),
}

impl From<CoreError> for FieldsalesError {
    fn from(e: CoreError) -> Self {
        let m = e.to_string();
        match e {
            CoreError::Validation(_) => FieldsalesError::Validation(m),
            CoreError::NotFound { .. } => FieldsalesError::NotFound(m),
            CoreError::Exists { .. } => FieldsalesError::AlreadyExists(m),
            CoreError::WrongUser { .. } => FieldsalesError::WrongUser(m),
            CoreError::WrongKey { .. } => FieldsalesError::WrongKey(m),
            CoreError::Forbidden(_) => FieldsalesError::Forbidden(m),
            CoreError::BadChange { .. } | CoreError::BadCursor => FieldsalesError::InvalidData(m),
            CoreError::Storage(_)
            | CoreError::Document(_)
            | CoreError::Corrupt { .. }
            | CoreError::FutureSchema { .. }
            | CoreError::Io(_) => FieldsalesError::Storage(m),
        }
    }
}

impl From<fieldsales_core::ValidationError> for FieldsalesError {
    fn from(e: fieldsales_core::ValidationError) -> Self {
        FieldsalesError::Validation(e.to_string())
    }
}

impl From<SyncError> for FieldsalesError {
    fn from(e: SyncError) -> Self {
        let m = e.to_string();
        match e {
            SyncError::NotEnrolled => FieldsalesError::NotEnrolled(m),
            SyncError::Unauthorized => FieldsalesError::Unauthorized(m),
            SyncError::Network(_) => FieldsalesError::Network(m),
            SyncError::Server { .. } => FieldsalesError::Server(m),
            SyncError::Protocol(_)
            | SyncError::ResponseTooLarge { .. }
            | SyncError::CursorStuck { .. } => FieldsalesError::Sync(m),
            SyncError::Cancelled => FieldsalesError::Cancelled(m),
            SyncError::Store(e) => e.into(),
        }
    }
}
