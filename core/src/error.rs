//! Errors of the core. `Error` is what every public call returns; `ValidationError` is the part a
//! person caused and can fix, with a message written for them.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Input a rep typed that cannot be saved. Nothing is written when one of these is returned.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ValidationError {
    #[error("a lead needs at least a name, a company, an e-mail address or a phone number")]
    EmptyLead,
    #[error("'{0}' is not a valid e-mail address")]
    Email(String),
    #[error("'{value}' is not a valid phone number (default region {region})")]
    Phone { value: String, region: String },
    #[error("'{0}' is not a known region code (use ISO 3166 codes such as KR or US)")]
    Region(String),
    #[error("'{0}' is not an ISO 4217 currency code (such as KRW, USD or EUR)")]
    Currency(String),
    #[error("a deal value must not be negative")]
    NegativeAmount,
    #[error("{field} is too long: {len} characters, at most {max} allowed")]
    TooLong { field: &'static str, len: usize, max: usize },
    #[error("too many {field}: {count}, at most {max} allowed")]
    TooMany { field: &'static str, count: usize, max: usize },
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("a lost reason can only be given when the stage is 'lost'")]
    LostReasonWithoutLost,
    #[error("'{value}' is not a valid {field}; expected one of: {expected}")]
    UnknownValue { field: &'static str, value: String, expected: &'static str },
    #[error("{field} has an invalid value: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A lead created in, or moved to, a stage whose required field it lacks (the workspace's
    /// sales process settings). `stage` is the stage's display name.
    #[error("stage '{stage}' needs {what}")]
    StageRequires { stage: String, field: &'static str, what: &'static str },
}

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("{kind} {id} was not found")]
    NotFound { kind: &'static str, id: String },
    #[error("database error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("document error: {0}")]
    Document(#[from] automerge::AutomergeError),
    #[error("document {id} is damaged: {reason}")]
    Corrupt { id: String, reason: String },
    #[error("rejected change for document {doc_id}: {reason}")]
    BadChange { doc_id: String, reason: String },
    #[error("this store belongs to user '{found}', not '{expected}'")]
    WrongUser { expected: String, found: String },
    /// The file does not read with the key given: it is encrypted with another key, it is
    /// encrypted and no key was given (or a key was given for a plain file), or it is not a
    /// store at all. Nothing was written to it.
    #[error(
        "cannot read the store at {path}: wrong or missing encryption key, or not a store file"
    )]
    WrongKey { path: String },
    #[error(
        "the store was written by a newer version of the app (schema {found}, this app knows up to {supported})"
    )]
    FutureSchema { found: u32, supported: u32 },
    #[error("{kind} {id} already exists")]
    Exists { kind: &'static str, id: String },
    /// The user's role does not allow this (a rep setting a target); the sync server would
    /// refuse it anyway, so the store refuses it before anything is written.
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("invalid paging cursor")]
    BadCursor,
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub(crate) fn corrupt(id: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Corrupt { id: id.into(), reason: reason.to_string() }
    }
}
