//! Sync messages, shared by the client and the server. Bodies of push and pull are CBOR
//! (`application/cbor`) with change bytes as CBOR byte strings: compact, no base64. Enrollment
//! and every error are JSON. See docs/protocol.md.

use serde::{Deserialize, Serialize};

use crate::doc::DocKind;
use crate::store::PullApply;

pub const CBOR: &str = "application/cbor";
pub const JSON: &str = "application/json";

/// Response header of every server answer: the server's clock, in milliseconds since the Unix
/// epoch. A client measures its own clock's offset from it (docs/protocol.md, "Time"). Older
/// servers do not send it; older clients ignore it.
pub const SERVER_TIME_HEADER: &str = "x-server-time";

/// Request header of a push: the pull cursor the device stored last (what of the feed it has
/// received). The server decides on an activity logged offline on a lead given to someone
/// else before the device pulled that change of hands by the lead's owner as of that cursor
/// (docs/protocol.md, "Push"). Optional: older clients do not send it.
pub const PULL_CURSOR_HEADER: &str = "x-pull-cursor";

/// Limits the server enforces and the client respects when it batches.
pub const MAX_CHANGES_PER_PUSH: usize = 1_000;
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
pub const MAX_DOCUMENT_BYTES: usize = crate::doc::check::MAX_DOCUMENT_BYTES;
pub const MAX_PULL_LIMIT: u32 = 2_000;
/// A pull page stops once its items reach this many bytes (snapshot bytes and change bytes): it
/// carries at most this much plus the one item that crosses it (a saved document is at most
/// [`MAX_DOCUMENT_BYTES`]), and always at least one item, so that a pull moves.
pub const PULL_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest enrollment request body (a code, a device name, an actor id).
pub const MAX_ENROLL_BYTES: usize = 4 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    pub device_name: String,
    /// Hex of the Automerge actor id this device writes with; the server binds it to the device.
    pub actor_id: String,
    /// The user the device's store belongs to, when it has one: the server then refuses a
    /// code for anyone else (`wrong_user`) before using it up. Older clients leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub token: String,
    pub user_id: String,
    pub workspace_id: String,
    pub role: String,
}

/// One local change as pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushChange {
    pub doc_id: String,
    pub kind: DocKind,
    #[serde(with = "serde_bytes")]
    pub change: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub changes: Vec<PushChange>,
}

/// Why the server refused a document's changes. The client keeps them in quarantine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub doc_id: String,
    pub kind: DocKind,
    /// Hashes of this push's changes to the document that were not stored.
    pub hashes: Vec<String>,
    /// Stable machine code: `forbidden`, `invalid_document`, `missing_dependencies`,
    /// `actor_mismatch`, `document_too_large`, `unknown_lead`.
    pub code: String,
    pub message: String,
    /// The server's current version of the document, if it has one the user may see; the client
    /// resets its copy to it.
    #[serde(with = "serde_bytes", default)]
    pub server_version: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Hashes now stored on the server (including ones it already had).
    pub accepted: Vec<String>,
    pub rejected: Vec<Rejection>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Opaque; empty for a device that has nothing yet.
    pub cursor: String,
    pub limit: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum PullItem {
    /// New changes of a document, in the order the server stored them.
    Changes { doc_id: String, kind: DocKind, changes: Vec<serde_bytes::ByteBuf> },
    /// The whole document: on bootstrap, or when the user gains it.
    Snapshot {
        doc_id: String,
        kind: DocKind,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// The user may no longer see the document: drop it locally (unsent edits go to quarantine).
    Drop { doc_id: String },
}

/// A pulled item is merged as it came: the one path from the wire into the store.
impl From<PullItem> for PullApply {
    fn from(item: PullItem) -> PullApply {
        match item {
            PullItem::Changes { doc_id, kind, changes } => PullApply::Changes {
                doc_id,
                kind,
                changes: changes.into_iter().map(serde_bytes::ByteBuf::into_vec).collect(),
            },
            PullItem::Snapshot { doc_id, kind, data } => PullApply::Snapshot { doc_id, kind, data },
            PullItem::Drop { doc_id } => PullApply::Drop { doc_id },
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub items: Vec<PullItem>,
    /// Pass back on the next pull; store it in the same transaction as the items.
    pub cursor: String,
    /// More is waiting: pull again.
    pub more: bool,
    /// Rough number of items still to come after this page, for progress display.
    pub remaining: u64,
}

/// The body of every error response, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

pub fn to_cbor<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail for these plain types.
    let _ = ciborium::into_writer(v, &mut out);
    out
}

pub fn from_cbor<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    ciborium::from_reader(bytes).map_err(|e| e.to_string())
}
