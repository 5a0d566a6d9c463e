//! The one error type of the bindings. Kotlin sees `FieldsalesException` subclasses, Swift a
//! `FieldsalesError` enum; either way each case carries the core's message, written for people,
//! and `Validation` also the input it concerns, so a form shows it under that field.
//!
//! Every case names its text `message`, as Swift has always seen it. Kotlin's `Throwable`
//! already has a `message`, so bindgen.toml renames the field to `reason` in Kotlin, and
//! bindings/kotlin-fixup.sh makes the generated `message` return it unchanged (uniffi
//! 0.32 would print `reason=…, field=…`).

use fieldsales_core::Error as CoreError;
use fieldsales_core::form::FormField;
use fieldsales_core::sync::SyncError;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldsalesError {
    /// Input the rep typed that cannot be saved; nothing was written. Show `message` on `field`
    /// (on the form as a whole when it is `None`).
    #[error("{message}")]
    Validation { message: String, field: Option<FormField> },
    /// No lead or activity with that id (or of that kind) in this store.
    #[error("{message}")]
    NotFound { message: String },
    /// A record with that id exists already (a retried create or import).
    #[error("{message}")]
    AlreadyExists { message: String },
    /// The store file belongs to another user.
    #[error("{message}")]
    WrongUser { message: String },
    /// The store file does not open with the key given: encrypted with another key, encrypted
    /// and opened without one (or plain and opened with one), or not a store file.
    #[error("{message}")]
    WrongKey { message: String },
    /// The user's role does not allow it (a rep changing the sales process, targets or plans).
    #[error("{message}")]
    Forbidden { message: String },
    /// Bytes from elsewhere (a merge, a paging cursor) that could not be read; nothing was written.
    #[error("{message}")]
    InvalidData { message: String },
    /// The local database or file system failed, or the file is from a newer app version.
    #[error("{message}")]
    Storage { message: String },
    /// A scanned code that is not a contact (or is cut off); the message says what was expected.
    #[error("{message}")]
    UnreadableCode { message: String },
    /// Sync needs an enrollment first.
    #[error("{message}")]
    NotEnrolled { message: String },
    /// The server no longer accepts this device: enroll again.
    #[error("{message}")]
    Unauthorized { message: String },
    /// The server could not be reached; retry later.
    #[error("{message}")]
    Network { message: String },
    /// The server refused the request: its machine `code` (`invalid_code`, `locked_out`,
    /// `forbidden`, …, docs/protocol.md "Errors") and HTTP `status`, so a screen can tell an
    /// expired enrollment code from other refusals without reading the message.
    #[error("{message}")]
    Server { message: String, code: String, status: u16 },
    /// The sync was cancelled through its `CancelHandle`; what it had done stays done.
    #[error("{message}")]
    Cancelled { message: String },
    /// The server sent something this app cannot read.
    #[error("{message}")]
    Sync { message: String },
}

impl From<CoreError> for FieldsalesError {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        match e {
            CoreError::Validation(v) => v.into(),
            CoreError::NotFound { .. } => FieldsalesError::NotFound { message },
            CoreError::Exists { .. } => FieldsalesError::AlreadyExists { message },
            CoreError::WrongUser { .. } => FieldsalesError::WrongUser { message },
            CoreError::WrongKey { .. } => FieldsalesError::WrongKey { message },
            CoreError::Forbidden(_) => FieldsalesError::Forbidden { message },
            CoreError::BadChange { .. } | CoreError::BadCursor => {
                FieldsalesError::InvalidData { message }
            }
            CoreError::Storage(_)
            | CoreError::Document(_)
            | CoreError::Corrupt { .. }
            | CoreError::FutureSchema { .. }
            | CoreError::Io(_) => FieldsalesError::Storage { message },
        }
    }
}

impl From<fieldsales_core::ValidationError> for FieldsalesError {
    fn from(e: fieldsales_core::ValidationError) -> Self {
        FieldsalesError::Validation { message: e.to_string(), field: e.field() }
    }
}

impl From<fieldsales_core::capture::CaptureError> for FieldsalesError {
    fn from(e: fieldsales_core::capture::CaptureError) -> Self {
        FieldsalesError::UnreadableCode { message: e.to_string() }
    }
}

impl From<SyncError> for FieldsalesError {
    fn from(e: SyncError) -> Self {
        let message = e.to_string();
        match e {
            SyncError::NotEnrolled => FieldsalesError::NotEnrolled { message },
            SyncError::Unauthorized => FieldsalesError::Unauthorized { message },
            SyncError::Network(_) => FieldsalesError::Network { message },
            // Enrolling a store with a code for someone else: the same case as opening it as
            // someone else.
            SyncError::Server { code, .. } if code == "wrong_user" => {
                FieldsalesError::WrongUser { message }
            }
            SyncError::Server { code, status, .. } => {
                FieldsalesError::Server { message, code, status }
            }
            SyncError::Protocol(_)
            | SyncError::ResponseTooLarge { .. }
            | SyncError::CursorStuck { .. } => FieldsalesError::Sync { message },
            SyncError::Cancelled => FieldsalesError::Cancelled { message },
            SyncError::Store(e) => e.into(),
        }
    }
}
