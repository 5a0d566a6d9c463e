//! Documents from elsewhere (a server, another replica) are untrusted: Automerge has been seen to
//! panic on mutated bytes (docs/design: "Hostile input"), and a record can claim another id or
//! kind than it came under. Every Automerge call on foreign bytes goes through [`guarded`], and
//! what is wrong with a record is a typed [`Damage`], so that a pull sets that one record aside
//! (in quarantine) and merges the rest.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::doc::DocKind;

/// Why a record from elsewhere was set aside instead of merged. `code()` is what the
/// quarantine row carries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    #[error("'{0}' is not a document id")]
    BadId(String),
    #[error("its bytes are not a readable Automerge document or change: {0}")]
    Unloadable(String),
    #[error("Automerge failed on it: {0}")]
    Panicked(String),
    #[error("it was sent as a {expected} but holds a {found}")]
    WrongKind { expected: &'static str, found: &'static str },
    #[error("it was sent as document {expected} but holds record {found}")]
    IdMismatch { expected: String, found: String },
    #[error("its record cannot be read: {0}")]
    Unreadable(String),
    #[error("the merged document does not load back: {0}")]
    NoReload(String),
    #[error("this device's copy of the document is damaged: {0}")]
    LocalCopy(String),
}

impl Damage {
    /// Stable machine code, next to the server's rejection codes in the quarantine table.
    pub fn code(&self) -> &'static str {
        match self {
            Damage::BadId(_) => "bad_id",
            Damage::Unloadable(_) => "unloadable",
            Damage::Panicked(_) => "panicked",
            Damage::WrongKind { .. } => "wrong_kind",
            Damage::IdMismatch { .. } => "id_mismatch",
            Damage::Unreadable(_) => "unreadable",
            Damage::NoReload(_) => "no_reload",
            Damage::LocalCopy(_) => "local_copy_damaged",
        }
    }

    pub(crate) fn wrong_kind(expected: DocKind, found: DocKind) -> Damage {
        Damage::WrongKind { expected: expected.as_str(), found: found.as_str() }
    }

    /// A reader or projection error: storage failures are not the record's fault and go up.
    pub(crate) fn unreadable(e: crate::error::Error) -> crate::error::Result<Damage> {
        match e {
            crate::error::Error::Storage(_) | crate::error::Error::Io(_) => Err(e),
            e => Ok(Damage::Unreadable(e.to_string())),
        }
    }
}

/// Runs `f`, turning a panic into `Err` with its message. Automerge state touched by a
/// panicking call must be thrown away by the caller.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// The id a document says it has, when it says one that differs from `doc_id`. Every
/// concurrent value counts: a foreign document merged into this one puts its own `id` next to
/// ours, and the winner may be either.
pub(crate) fn claimed_other_id(d: &automerge::AutoCommit, doc_id: &str) -> Option<String> {
    use automerge::{ReadDoc, Value};
    let values = d.get_all(automerge::ROOT, "id").ok()?;
    // Another implementation may write the id as a text: it is the id it holds.
    values.into_iter().find_map(|(v, id)| match crate::doc::value_str(d, &v, &id) {
        Some(found) if found == doc_id => None,
        Some(found) => Some(found),
        None => match v {
            Value::Scalar(s) => Some(crate::doc::scalar_to_string(&s)),
            Value::Object(t) => Some(format!("({t:?})")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        assert_eq!(guarded(|| 7), Ok(7));
        let e = guarded(|| -> u8 { panic!("mismatching heads {}", 3) }).unwrap_err();
        assert_eq!(e, "mismatching heads 3");
        assert_eq!(guarded(|| -> u8 { panic!("static") }).unwrap_err(), "static");
    }
}
