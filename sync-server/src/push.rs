//! Push: what a device may write. Automerge has no authorization of its own, so every pushed
//! change is applied to a scratch copy of the server's document, the result is checked (shape,
//! actor, who it says wrote it, permissions in `authz.rs`) and saved, the saved bytes are loaded
//! back, and only then is it stored. Automerge's work on a document runs under
//! `catch_unwind`: a change that makes it panic is a rejection of that document, not a 500.

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{ActorId, AutoCommit, Change, ObjId, ROOT, ReadDoc};
use axum::http::StatusCode;
use fieldsales_core::doc::{DocKind, check};
use fieldsales_core::sync::protocol::*;

use crate::authz::{self, EVERYONE, Refusal, Visibility, team_owner};
use crate::backend::*;
use crate::docs::DocCache;
use crate::error::ApiError;

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// A root string as this app's reader reads it: a scalar string, or a text another
/// implementation wrote.
fn root_str(doc: &AutoCommit, key: &str) -> Option<String> {
    fieldsales_core::doc::get_str(doc, &ROOT, key)
}

/// Decodes the whole request first: a malformed change rejects the request and stores nothing.
pub fn decode_push(req: PushRequest) -> Result<Vec<(String, DocKind, Vec<Change>)>, ApiError> {
    if req.changes.len() > MAX_CHANGES_PER_PUSH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_changes",
            format!("at most {MAX_CHANGES_PER_PUSH} changes per push"),
        ));
    }
    let mut groups: Vec<(String, DocKind, Vec<Change>)> = Vec::new();
    // Each document's place in `groups`, instead of a search along it for every change (a
    // request of 1,000 new documents made half a million comparisons).
    let mut place: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, c) in req.changes.into_iter().enumerate() {
        let id = uuid::Uuid::parse_str(&c.doc_id)
            .map_err(|_| {
                ApiError::bad_request(
                    "bad_document_id",
                    format!("change {i}: '{}' is not a document id", c.doc_id),
                )
            })?
            .to_string();
        if id != c.doc_id {
            return Err(ApiError::bad_request(
                "bad_document_id",
                format!("change {i}: document ids are lower-case hyphenated UUIDs"),
            ));
        }
        // Byte 8 of an Automerge chunk is its type. Clients send raw change chunks (type 1,
        // `Change::raw_bytes()`). Automerge inflates a compressed change (type 2), or the
        // compressed columns of a document chunk, with no bound while parsing: a few hundred
        // kilobytes could make the server allocate gigabytes. Refuse them unparsed.
        if c.change.get(8).is_some_and(|&t| t != 1) {
            return Err(ApiError::bad_request(
                "bad_change",
                format!("change {i} is not a raw Automerge change chunk; send Change::raw_bytes()"),
            ));
        }
        // Parsing can panic too (automerge 0.12, on some checksummed garbage: found by fuzzing).
        let bytes = c.change;
        let parsed = catch_unwind(move || Change::from_bytes(bytes).map_err(|e| e.to_string()))
            .unwrap_or_else(|_| Err("Automerge failed on it".to_string()));
        let change = parsed.map_err(|e| {
            ApiError::bad_request(
                "bad_change",
                format!("change {i} is not an Automerge change: {e}"),
            )
        })?;
        match place.get(&id).map(|&at| &mut groups[at]) {
            Some((_, kind, list)) if *kind == c.kind => list.push(change),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "bad_change",
                    format!("change {i}: document {id} is pushed with two kinds"),
                ));
            }
            None => {
                place.insert(id.clone(), groups.len());
                groups.push((id, c.kind, vec![change]));
            }
        }
    }
    Ok(groups)
}

/// A document's pushed changes, accepted.
pub struct Accepted {
    pub hashes: Vec<String>,
    /// The push created the document.
    pub created: bool,
    /// The document as now stored (bytes and loaded form), for [`DocCache`] once the write
    /// commits; `None` for a retry that stored nothing.
    pub stored: Option<(Vec<u8>, AutoCommit)>,
}

fn invalid(message: impl Into<String>) -> Refusal {
    Refusal { code: "invalid_document", message: message.into() }
}

/// The Automerge half of a push to one document, worked out against the version stored when
/// the request began (`base`) without holding the writer: applying, checking and saving are
/// most of a push's CPU, and outside the writer they run on every core at once. [`commit_doc`]
/// uses it only if the document is still stored as `base`, and works it out again otherwise.
pub struct Prepared {
    doc_id: String,
    kind: DocKind,
    hashes: Vec<String>,
    /// The changes the server does not have yet.
    fresh: Vec<Change>,
    /// The stored bytes the changes were applied to; `None`: no such document then.
    base: Option<Vec<u8>>,
    /// The new document and its bytes, or why the changes cannot make one; `None` where there
    /// was nothing to work out (nothing new, changes refused before their content matters, or
    /// a stored document that must be rebuilt under the writer).
    merged: Option<std::result::Result<(AutoCommit, Vec<u8>), Refusal>>,
    /// The feed number the pushing device's pull cursor stands at (what it has received), if
    /// it sent one ([`PULL_CURSOR_HEADER`]).
    seen: Option<i64>,
}

impl Prepared {
    /// Bytes it holds: the stored version and the new one, loaded (as [`crate::docs::cost`]
    /// counts them), and the changes.
    pub fn bytes(&self) -> usize {
        let merged = match &self.merged {
            Some(Ok((_, data))) => crate::docs::cost(data.len()),
            _ => 0,
        };
        let fresh: usize = self.fresh.iter().map(|c| c.raw_bytes().len()).sum();
        self.base.as_ref().map_or(0, Vec::len) + merged + fresh
    }
}

/// The changes not stored yet; a change repeated in one push counts once (a second feed row
/// would break the unique hash index and fail the whole push with a storage error).
fn fresh_changes(tx: &mut dyn DocTx, changes: Vec<Change>) -> Result<Vec<Change>> {
    let mut fresh: Vec<Change> = Vec::new();
    for c in changes {
        if !fresh.iter().any(|f| f.hash() == c.hash()) && !tx.has_change(&c.hash().to_string())? {
            fresh.push(c);
        }
    }
    Ok(fresh)
}

/// Whether `commit_doc` will refuse these changes before their content matters (another
/// device's actor, a document of another kind), so there is no Automerge work to do for them.
fn refused_unread(
    p: &Principal,
    kind: DocKind,
    existing: Option<&DocRow>,
    fresh: &[Change],
) -> bool {
    fresh.iter().any(|c| c.actor_id().to_hex_string() != p.actor)
        || existing.is_some_and(|r| r.kind != kind)
}

/// Runs Automerge work on one document; a panic inside it becomes a rejection of that
/// document. (automerge 0.12 panics on some malformed changes that it parses fine: fuzzing
/// found them in apply and in load.)
fn guarded<T>(
    doc_id: &str,
    f: impl FnOnce() -> std::result::Result<T, Refusal>,
) -> std::result::Result<T, Refusal> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::warn!(doc_id, "Automerge panicked on a pushed change: {why}");
            Err(invalid("the changes break the document (Automerge failed on them)"))
        }
    }
}

/// Saved bytes loaded, or `None` if they do not load (an error or a panic).
fn load_saved(data: &[u8]) -> Option<AutoCommit> {
    catch_unwind(|| AutoCommit::load(data).ok()).ok().flatten()
}

fn sorted_heads(doc: &mut AutoCommit) -> Vec<automerge::ChangeHash> {
    let mut h = doc.get_heads();
    h.sort();
    h
}

/// `doc` saved, and loaded back from those bytes: what storage will hold, and proof that it
/// loads to the same heads. Some changes apply, yet leave a document whose saved bytes no
/// longer load ("mismatching heads" in automerge 0.12, found by fuzzing); storing one would
/// make the record unreadable for every device.
fn save_checked(doc: &mut AutoCommit) -> std::result::Result<(AutoCommit, Vec<u8>), Refusal> {
    // Uncompressed: DEFLATE set up its tables for every column of every save, a seventh of a
    // push in the profile, to shrink documents of a few kilobytes by a little.
    let data = doc.save_nocompress();
    if data.len() > MAX_DOCUMENT_BYTES {
        return Err(Refusal {
            code: "document_too_large",
            message: format!(
                "the document would be {} bytes; at most {MAX_DOCUMENT_BYTES}",
                data.len()
            ),
        });
    }
    let Some(mut again) = load_saved(&data) else {
        return Err(invalid("the changes leave a document that does not load again"));
    };
    if sorted_heads(&mut again) != sorted_heads(doc) {
        return Err(invalid("the changes leave a document that loads to other heads"));
    }
    Ok((again, data))
}

/// A stored document whose saved bytes do not load (stored before this server checked that,
/// or damaged on disk), rebuilt from its changes in the feed: each change is kept only if the
/// document still saves and loads back with it, so a change that broke it is left out (its
/// bytes stay in the feed). `None` if nothing loadable comes of it.
fn rebuild(doc_id: &str, changes: Vec<Vec<u8>>) -> Option<AutoCommit> {
    let mut doc = AutoCommit::new();
    let mut dropped = 0usize;
    for bytes in changes {
        let step = guarded(doc_id, || {
            let c = Change::from_bytes(bytes).map_err(|e| invalid(e.to_string()))?;
            let mut next = doc.clone();
            next.apply_changes([c]).map_err(|e| invalid(e.to_string()))?;
            if !next.get_missing_deps(&[]).is_empty() {
                return Err(invalid("builds on a change left out"));
            }
            save_checked(&mut next).map(|(loaded, _)| loaded)
        });
        match step {
            Ok(next) => doc = next,
            Err(_) => dropped += 1,
        }
    }
    tracing::error!(
        doc_id,
        dropped,
        "rebuilt a stored document that did not load from its changes in the feed"
    );
    (!doc.get_heads().is_empty()).then_some(doc)
}

/// The stored document, loaded: the cached copy, else its saved bytes, else [`rebuild`]. `None`:
/// damaged beyond that.
fn load_stored(
    tx: &mut dyn DocTx,
    docs: &DocCache,
    ws: &str,
    doc_id: &str,
    row: &DocRow,
) -> Result<Option<AutoCommit>> {
    if let Some(doc) = docs.take(ws, doc_id, &row.data) {
        return Ok(Some(doc));
    }
    if let Some(doc) = load_saved(&row.data) {
        return Ok(Some(doc));
    }
    tracing::error!(doc_id, workspace = ws, "a stored document does not load");
    let changes = tx.doc_changes(doc_id)?;
    Ok(rebuild(doc_id, changes))
}

/// Applies `fresh` to the stored document (`None`: a new one) and checks the result. Pure
/// Automerge: no storage.
fn merge(
    p: &Principal,
    doc_id: &str,
    kind: DocKind,
    base: Option<AutoCommit>,
    fresh: &[Change],
) -> std::result::Result<(AutoCommit, Vec<u8>), Refusal> {
    guarded(doc_id, || {
        let mut doc = base.unwrap_or_default();
        let before = doc.get_heads();
        doc.apply_changes(fresh.iter().cloned())
            .map_err(|e| invalid(format!("the changes do not apply: {e}")))?;
        // A change whose dependencies are missing waits in the document's queue instead of
        // applying. (Asking for each change by hash instead rebuilt it from the columns: 5% of
        // a push.)
        if !doc.get_missing_deps(&[]).is_empty() {
            return Err(Refusal {
                code: "missing_dependencies",
                message: "the changes build on changes the server does not have".into(),
            });
        }
        check::check(&doc, doc_id, kind).map_err(invalid)?;
        // What these changes write into `created_by`, `updated_by` and `by` must be this user:
        // the values whose op ids fall in the changes' op ranges (the device's actor only).
        let actor = ActorId::try_from(p.actor.as_str()).ok();
        let ranges: Vec<(u64, u64)> =
            fresh.iter().map(|c| (c.start_op().get(), c.max_op())).collect();
        let written_now = |id: &ObjId| match id {
            ObjId::Id(counter, a, _) => {
                Some(a) == actor.as_ref()
                    && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(counter))
            }
            ObjId::Root => false,
        };
        check::audit(&doc, &p.user_id, written_now, &before)
            .map_err(|m| Refusal { code: "forbidden", message: m })?;
        save_checked(&mut doc)
    })
}

/// The lead's owners (each concurrent value) as the device that wrote `fresh` had the lead:
/// at the changes' dependencies outside this push. `None` when that is not a version of the
/// stored document (a dependency it lacks, or none: a new record).
fn owners_seen(doc: &AutoCommit, fresh: &[Change]) -> Option<Vec<String>> {
    let own: std::collections::HashSet<automerge::ChangeHash> =
        fresh.iter().map(|c| c.hash()).collect();
    let mut deps: Vec<automerge::ChangeHash> =
        fresh.iter().flat_map(|c| c.deps().iter().copied()).filter(|h| !own.contains(h)).collect();
    deps.sort();
    deps.dedup();
    if deps.is_empty() || !doc.get_missing_deps(&deps).is_empty() {
        return None;
    }
    let values = doc.get_all_at(&ROOT, "owner", &deps).ok()?;
    let owners: Vec<String> = values
        .iter()
        .filter_map(|(v, id)| match v {
            automerge::Value::Object(automerge::ObjType::Text) => doc.text_at(id, &deps).ok(),
            v => fieldsales_core::doc::scalar_str(v),
        })
        .collect();
    (owners.len() == values.len()).then_some(owners)
}

/// The ops that hold a lead's `owner` now: equal before and after a push that did not write it.
fn owner_ops(doc: &AutoCommit) -> Vec<ObjId> {
    doc.get_all(&ROOT, "owner").unwrap_or_default().into_iter().map(|(_, id)| id).collect()
}

/// The owner a target or plan is recorded under (a user id, or `team:<id>` for a team's
/// target), or why it has none; with how the document names it, for messages.
fn subject_owner(
    tx: &mut dyn DocTx,
    kind: DocKind,
    doc: &AutoCommit,
) -> Result<(std::result::Result<String, Refusal>, String)> {
    let (subject_kind, subject) = match kind {
        DocKind::Target => (
            root_str(doc, "subject_kind").unwrap_or_default(),
            root_str(doc, "subject").unwrap_or_default(),
        ),
        _ => ("rep".to_string(), root_str(doc, "rep").unwrap_or_default()),
    };
    let owner = if subject_kind == "team" {
        tx.team_id(&subject)?
            .map(|t| team_owner(&t))
            .ok_or_else(|| invalid(format!("'{subject}' is not a team of this workspace")))
    } else if tx.user_exists(&subject)? {
        Ok(subject.clone())
    } else {
        Err(invalid(format!("'{subject}' is not a user of this workspace")))
    };
    Ok((owner, subject))
}

/// Decides on one document's pushed changes and stores them, inside the request's write
/// transaction; must not write anything before it has decided to accept (see `push`).
///
/// A document the user may not see is worked out as if it did not exist (a new document),
/// and refused at the end with the answer a record that is not theirs gets: so someone else's
/// record and a missing one answer alike, whatever the pushed changes hold.
pub fn commit_doc(
    tx: &mut dyn DocTx,
    p: &Principal,
    vis: &Visibility,
    docs: &DocCache,
    prepared: Prepared,
) -> Result<std::result::Result<Accepted, Rejection>> {
    let Prepared { doc_id, kind, hashes, mut fresh, base, mut merged, seen: pulled } = prepared;
    let doc_id = doc_id.as_str();
    let stored = tx.doc(doc_id)?;
    if !fresh.is_empty() && stored.as_ref().map(|r| &r.data) != base.as_ref() {
        // Another push stored this document since the request began: start from it.
        fresh = fresh_changes(tx, fresh)?;
        merged = None;
    }
    // A retried push: everything is stored already.
    if fresh.is_empty() {
        return Ok(Ok(Accepted { hashes, created: false, stored: None }));
    }
    let hidden = stored.as_ref().is_some_and(|r| !vis.sees(&r.owner));
    // A lead the user may not see any more, edited as her device saw it when she could: decided
    // on the owners she saw (`authz::lead_as_seen`), not as a record that does not exist. Only
    // then: an edit built on a version she could not see answers as before, like a missing
    // record (she learns nothing of a record that is not hers).
    let seen = match (&stored, kind) {
        (Some(row), DocKind::Lead) if hidden && row.kind == kind => load_saved(&row.data)
            .and_then(|d| owners_seen(&d, &fresh))
            .filter(|o| !o.is_empty() && o.iter().all(|o| vis.sees(o))),
        _ => None,
    };
    // An activity of such a lead, edited offline: its lead's owner as the device last pulled.
    let activity_then = match (&stored, kind, pulled) {
        (Some(row), DocKind::Activity, Some(seq)) if hidden && row.kind == kind => {
            match row.lead_id.as_deref() {
                Some(lead) => tx.owner_after(lead, seq)?.filter(|o| vis.sees(o)),
                None => None,
            }
        }
        _ => None,
    };
    let seen_then = seen.is_some() || activity_then.is_some();
    let existing = if hidden && !seen_then {
        merged = None;
        None
    } else {
        stored
    };
    // Never the bytes of a record the user may not see now.
    let visible_version = existing.as_ref().filter(|_| !hidden).map(|r| r.data.clone());
    let reject = |r: Refusal| Rejection {
        doc_id: doc_id.to_string(),
        kind,
        hashes: hashes.clone(),
        code: r.code.to_string(),
        message: r.message,
        server_version: visible_version.clone(),
    };
    if let Some(c) = fresh.iter().find(|c| c.actor_id().to_hex_string() != p.actor) {
        return Ok(Err(reject(Refusal {
            code: "actor_mismatch",
            message: format!("change {} was not written by this device", c.hash()),
        })));
    }
    if let Some(row) = existing.as_ref().filter(|r| r.kind != kind) {
        return Ok(Err(reject(invalid(format!(
            "document is a {}, not a {}",
            row.kind.as_str(),
            kind.as_str()
        )))));
    }
    let merged = match merged {
        Some(m) => m,
        None => {
            let base = match &existing {
                None => None,
                Some(row) => match load_stored(tx, docs, &p.workspace_id, doc_id, row)? {
                    Some(doc) => Some(doc),
                    None => {
                        return Ok(Err(reject(invalid(
                            "the server's copy of this document is damaged; ask your admin",
                        ))));
                    }
                },
            };
            merge(p, doc_id, kind, base, &fresh)
        }
    };
    let (doc, data) = match merged {
        Ok(m) => m,
        Err(r) => return Ok(Err(reject(r))),
    };
    let old = existing.as_ref().map(|r| r.owner.as_str());
    let (decision, row) = match kind {
        DocKind::Lead => {
            let owner = root_str(&doc, "owner").unwrap_or_default();
            if !tx.user_exists(&owner)? {
                return Ok(Err(reject(invalid(format!(
                    "owner '{owner}' is not a user of this workspace"
                )))));
            }
            let decision = match (&seen, &existing) {
                (Some(seen), Some(row)) => {
                    let untouched = match load_saved(&row.data) {
                        Some(before) => owner_ops(&before) == owner_ops(&doc),
                        None => false,
                    };
                    authz::lead_as_seen(vis, seen, &row.owner, &owner, untouched)
                }
                _ => authz::lead(p, vis, old, &owner),
            };
            (decision, DocRow { kind, owner, lead_id: None, data })
        }
        DocKind::Activity => {
            let lead_id = root_str(&doc, "lead_id").unwrap_or_default();
            let lead_owner = tx.doc(&lead_id)?.filter(|l| l.kind == DocKind::Lead).map(|l| l.owner);
            let mut decision = authz::activity(vis, old, &lead_id, lead_owner.as_deref());
            // Logged offline on a lead given to someone else before the device pulled that:
            // decided on the lead's owner as of its last pull (`authz::activity_as_seen`).
            if decision.is_err()
                && let Some(seq) = pulled
            {
                let then = tx.owner_after(&lead_id, seq)?;
                let same_lead = existing
                    .as_ref()
                    .is_none_or(|r| r.lead_id.as_deref() == Some(lead_id.as_str()));
                if authz::activity_as_seen(vis, then.as_deref(), lead_owner.is_some(), same_lead) {
                    decision = Ok(());
                }
            }
            let owner = lead_owner.unwrap_or_default();
            (decision, DocRow { kind, owner, lead_id: Some(lead_id), data })
        }
        DocKind::Settings => {
            (authz::settings(p), DocRow { kind, owner: EVERYONE.to_string(), lead_id: None, data })
        }
        DocKind::Target | DocKind::CompPlan => {
            let (owner, subject) = subject_owner(tx, kind, &doc)?;
            // A rep is refused whatever the document names; anyone else only for a subject
            // the workspace has.
            let owner = match owner {
                Ok(o) => o,
                Err(_) if p.role == Role::Rep => String::new(),
                Err(r) => return Ok(Err(reject(r))),
            };
            let decision = if kind == DocKind::Target {
                authz::target(p, vis, old, &owner, &subject)
            } else {
                authz::comp_plan(p, vis, old, &owner, &subject)
            };
            (decision, DocRow { kind, owner, lead_id: None, data })
        }
    };
    if let Err(r) = decision {
        return Ok(Err(reject(r)));
    }
    if hidden && !seen_then {
        return Ok(Err(reject(authz::not_yours())));
    }
    tx.put_doc(doc_id, &row)?;
    for c in &fresh {
        tx.append_change(
            doc_id,
            kind,
            &row.owner,
            &c.hash().to_string(),
            &c.actor_id().to_hex_string(),
            c.raw_bytes(),
        )?;
    }
    let created = existing.is_none();
    // A change of hands (a reassigned lead, or an activity moved to another owner's lead): the
    // feed records it so that pulls hand the record to those who gain it and drop it for those
    // who lose it.
    if let Some(old) = existing
        && old.owner != row.owner
    {
        tx.append_owner_event(doc_id, &old.owner, &row.owner)?;
        if kind == DocKind::Lead {
            tx.set_activities_owner(doc_id, &row.owner)?;
        }
    }
    Ok(Ok(Accepted { hashes, created, stored: Some((row.data, doc)) }))
}

/// A push in three steps: one read transaction finds which changes are new and the stored
/// documents they apply to; the Automerge work follows with no transaction open; then one
/// write transaction decides and stores the whole request (one commit for a device's 100 edited
/// leads, not 100: the commits dominated a push once). Sharing it is safe because
/// `commit_doc` decides to reject before it writes anything, so a rejected document leaves no
/// trace; a storage error rolls back the whole request, which the device retries (pushes are
/// idempotent). The server itself ends with [`crate::group::GroupCommit`] instead of
/// [`commit_push`], which shares the write transaction with other waiting pushes.
#[cfg(test)]
pub fn push<B: Backend>(
    backend: &B,
    docs: &DocCache,
    p: &Principal,
    req: PushRequest,
) -> Result<PushResponse> {
    let prepared = prepare_push(backend, docs, p, req)?;
    commit_push(backend, docs, p, prepared)
}

/// Documents whose Automerge work a request does before it waits for the writer, by the bytes
/// they hold: the rest is worked out one at a time under the writer, so a request of a
/// thousand large documents never holds them all loaded at once.
pub const PREPARED_BYTES: usize = 64 * 1024 * 1024;

/// The first two steps of a push: no write transaction, no lock held.
pub fn prepare_push<B: Backend>(
    backend: &B,
    docs: &DocCache,
    p: &Principal,
    req: PushRequest,
) -> Result<Vec<Prepared>> {
    prepare_push_seen(backend, docs, p, req, None, 1)
}

/// Documents a thread works out at least when a request's Automerge work is spread over
/// threads: fewer are not worth starting a thread for.
pub const DOCS_PER_THREAD: usize = 32;

/// What the read transaction found for one document of a push: its id, kind, the hashes of
/// its pushed changes, the changes the server does not have yet, and the stored document they
/// apply to (only when there are some).
type Found = (String, DocKind, Vec<String>, Vec<Change>, Option<DocRow>);

/// [`prepare_push`] of a device that said what it has pulled (`seen`, the feed number its pull
/// cursor stands at, [`PULL_CURSOR_HEADER`]), with the Automerge work spread over up to
/// `threads` threads: a device's first sync pushes its leads 500 at a time, one request after
/// another, and one thread working out 500 new documents left the other cores idle while the
/// device waited. Each thread takes a run of the documents in order and an equal share of
/// [`PREPARED_BYTES`]; the result is in the request's order, as with one thread.
pub fn prepare_push_seen<B: Backend>(
    backend: &B,
    docs: &DocCache,
    p: &Principal,
    req: PushRequest,
    seen: Option<i64>,
    threads: usize,
) -> Result<Vec<Prepared>> {
    let groups = decode_push(req)?;
    let found = backend.read(&p.workspace_id, |tx| -> Result<Vec<Found>> {
        let mut out = Vec::with_capacity(groups.len());
        for (doc_id, kind, changes) in groups {
            let hashes: Vec<String> = changes.iter().map(|c| c.hash().to_string()).collect();
            let fresh = fresh_changes(tx, changes)?;
            let existing = if fresh.is_empty() { None } else { tx.doc(&doc_id)? };
            out.push((doc_id, kind, hashes, fresh, existing));
        }
        Ok(out)
    })?;
    let threads = threads.clamp(1, (found.len() / DOCS_PER_THREAD).max(1));
    if threads == 1 {
        return Ok(work_out(docs, p, found, seen, PREPARED_BYTES));
    }
    let per_thread = found.len().div_ceil(threads);
    let mut runs: Vec<Vec<Found>> = Vec::with_capacity(threads);
    let mut rest = found.into_iter();
    loop {
        let run: Vec<Found> = rest.by_ref().take(per_thread).collect();
        if run.is_empty() {
            break;
        }
        runs.push(run);
    }
    let budget = PREPARED_BYTES / runs.len();
    let span = tracing::Span::current();
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| {
                let span = span.clone();
                scope.spawn(move || span.in_scope(|| work_out(docs, p, run, seen, budget)))
            })
            .collect();
        let mut prepared = Vec::new();
        for h in handles {
            // Automerge's panics are caught inside (`guarded`); this is anything else.
            let run = h.join().map_err(|_| ApiError::internal("a push's worker thread failed"))?;
            prepared.extend(run);
        }
        Ok(prepared)
    })
}

/// The Automerge half of a push for `found`, in order, while the documents worked out hold
/// at most about `budget` bytes: the rest are left to [`commit_doc`], one at a time.
fn work_out(
    docs: &DocCache,
    p: &Principal,
    found: Vec<Found>,
    seen: Option<i64>,
    budget: usize,
) -> Vec<Prepared> {
    let mut prepared = Vec::with_capacity(found.len());
    let mut held = 0usize;
    for (doc_id, kind, hashes, fresh, existing) in found {
        let worked_out = held <= budget
            && !fresh.is_empty()
            && !refused_unread(p, kind, existing.as_ref(), &fresh);
        let merged = if !worked_out {
            None
        } else {
            match &existing {
                None => Some(merge(p, &doc_id, kind, None, &fresh)),
                Some(row) => docs
                    .take(&p.workspace_id, &doc_id, &row.data)
                    .or_else(|| load_saved(&row.data))
                    .map(|base| merge(p, &doc_id, kind, Some(base), &fresh)),
            }
        };
        let base = existing.map(|r| r.data);
        let pr = Prepared { doc_id, kind, hashes, fresh, base, merged, seen };
        held += pr.bytes();
        prepared.push(pr);
    }
    prepared
}

/// The last step of a push, alone in a write transaction.
pub fn commit_push<B: Backend>(
    backend: &B,
    docs: &DocCache,
    p: &Principal,
    prepared: Vec<Prepared>,
) -> Result<PushResponse> {
    let committed = backend.write(&p.workspace_id, |tx| commit_request(tx, docs, p, prepared))?;
    Ok(committed.publish(docs, &p.workspace_id))
}

/// A request decided and written, not yet committed.
pub struct Committed {
    pub response: PushResponse,
    /// The documents it stored, for [`DocCache`] once the transaction has committed.
    stored: Vec<(String, (Vec<u8>, AutoCommit))>,
}

impl Committed {
    /// After the commit: keeps the stored documents loaded and returns the response.
    pub fn publish(self, docs: &DocCache, workspace: &str) -> PushResponse {
        for (doc_id, (saved, doc)) in self.stored {
            docs.put(workspace, &doc_id, saved, doc);
        }
        self.response
    }
}

/// Documents a request may hold for the documents it creates to be kept loaded ([`DocCache`]).
/// A larger one (a device's first sync, an import: 500 new documents a request) keeps none of
/// them: they would push out of the cache the documents reps are editing now, for records
/// nobody edits soon, and filling the cache with them took a tenth of such a push's CPU
/// (docs/benchmarks.md). A captured lead, pushed alone or with a few others, is kept: its
/// rep's next edit finds it loaded.
pub const CACHED_REQUEST_DOCS: usize = 64;

/// Decides on and writes one push request inside a write transaction.
pub fn commit_request(
    tx: &mut dyn DocTx,
    docs: &DocCache,
    p: &Principal,
    prepared: Vec<Prepared>,
) -> Result<Committed> {
    let vis = Visibility::of(tx, p)?;
    let mut response = PushResponse::default();
    let mut stored = Vec::new();
    // Loaded documents kept for the cache, by bytes: the rest are dropped as they are decided.
    let mut kept = 0usize;
    let bulk = prepared.len() > CACHED_REQUEST_DOCS;
    for pr in prepared {
        let doc_id = pr.doc_id.clone();
        match commit_doc(tx, p, &vis, docs, pr)? {
            Ok(a) => {
                response.accepted.extend(a.hashes);
                let keep = !(bulk && a.created);
                if let Some((saved, doc)) = a.stored.filter(|_| keep) {
                    kept += crate::docs::cost(saved.len());
                    if kept <= PREPARED_BYTES {
                        stored.push((doc_id, (saved, doc)));
                    }
                }
            }
            Err(r) => response.rejected.push(r),
        }
    }
    Ok(Committed { response, stored })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{new_lead, request, workspace};
    use automerge::transaction::Transactable;

    fn device(ws: &str, actor: &ActorId) -> Principal {
        crate::testing::device(ws, "ann", actor)
    }

    /// A stored document whose saved bytes no longer load (stored by a server before it checked
    /// that; or damaged on disk) does not turn every later push to it into a 500: the push
    /// rebuilds it from its changes in the feed, and the repaired document is stored.
    #[test]
    fn a_stored_document_that_does_not_load_is_rebuilt_from_the_feed() {
        let (dir, b, ws) = workspace(&["ann"]);
        let docs = DocCache::new(0);
        let phone = ActorId::random();
        let (id, mut doc) = new_lead(&phone, "ann", "Kim");
        let r = push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&[]))).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        let heads = doc.get_heads();
        doc.put(ROOT, "company", "Acme").unwrap();
        doc.commit();
        {
            let c = rusqlite::Connection::open(dir.path().join("fieldsales-server.db")).unwrap();
            c.execute("UPDATE documents SET data = x'856f4a83deadbeef' WHERE id = ?1", [&id])
                .unwrap();
        }
        let r =
            push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&heads))).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(r.accepted.len(), 1);
        let stored = b.read(&ws, |tx| tx.doc(&id)).unwrap().expect("stored");
        let stored = AutoCommit::load(&stored.data).expect("the repaired document loads");
        assert_eq!(root_str(&stored, "company").as_deref(), Some("Acme"));
        assert_eq!(root_str(&stored, "name").as_deref(), Some("Kim"));
    }

    /// Nothing to rebuild from: the push is a rejection of that document, not a 500.
    #[test]
    fn a_damaged_document_with_nothing_to_rebuild_from_is_a_rejection() {
        let (dir, b, ws) = workspace(&["ann"]);
        let docs = DocCache::new(0);
        let phone = ActorId::random();
        let (id, mut doc) = new_lead(&phone, "ann", "Kim");
        push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&[]))).unwrap();
        let heads = doc.get_heads();
        doc.put(ROOT, "company", "Acme").unwrap();
        doc.commit();
        {
            let c = rusqlite::Connection::open(dir.path().join("fieldsales-server.db")).unwrap();
            c.execute_batch(&format!(
                "UPDATE documents SET data = x'00' WHERE id = '{id}'; UPDATE feed SET data = x'00' WHERE doc_id = '{id}';"
            ))
            .unwrap();
        }
        let r =
            push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&heads))).unwrap();
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].code, "invalid_document");
        assert!(r.rejected[0].message.contains("damaged"), "{}", r.rejected[0].message);
        assert_eq!(crate::testing::feed(&b, &ws).len(), 1, "nothing stored");
    }

    #[test]
    fn a_panic_inside_automerge_is_a_rejection_of_that_document() {
        let r = guarded("doc", || -> std::result::Result<(), Refusal> {
            panic!("assertion inside automerge")
        });
        assert_eq!(r.unwrap_err().code, "invalid_document");
    }

    #[test]
    fn a_push_that_would_make_a_document_too_large_is_refused_and_stores_nothing() {
        let (_dir, b, ws) = workspace(&["ann"]);
        let docs = DocCache::new(16);
        let phone = ActorId::random();
        let (id, mut doc) = new_lead(&phone, "ann", "Kim");
        let resp =
            push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&[]))).unwrap();
        assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
        let heads = doc.get_heads();
        let custom = match doc.get(ROOT, "custom").unwrap() {
            Some((automerge::Value::Object(automerge::ObjType::Map), obj)) => obj,
            _ => doc.put_object(ROOT, "custom", automerge::ObjType::Map).unwrap(),
        };
        // Custom fields rewritten again and again, each value within its 1,000 characters: the
        // history they leave is over 1 MiB.
        let mut seed = 1u32;
        for _ in 0..22 {
            for k in 0..50 {
                let value: String = (0..1_000)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        char::from(b'a' + (seed >> 16) as u8 % 26)
                    })
                    .collect();
                doc.put(&custom, format!("field{k}"), value).unwrap();
            }
            doc.commit();
        }
        assert!(doc.save_nocompress().len() > MAX_DOCUMENT_BYTES);
        let resp =
            push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&heads))).unwrap();
        assert!(resp.accepted.is_empty());
        assert_eq!(resp.rejected.len(), 1);
        assert_eq!(resp.rejected[0].code, "document_too_large", "{}", resp.rejected[0].message);
        let feed = crate::testing::feed(&b, &ws);
        assert_eq!(feed.len(), 1, "only the creation is stored");
        let stored = b.read(&ws, |tx| tx.doc(&id)).unwrap().expect("stored");
        assert!(stored.data.len() < 10_000, "the stored lead is still the small one");
    }

    /// A request's Automerge work spread over threads: every document of it is worked out
    /// before the writer, in runs on three threads, and the answer and what is stored are those
    /// of the same request on one thread: accepted in order, each refusal on its document.
    #[test]
    fn a_push_worked_out_on_several_threads_is_answered_and_stored_as_on_one() {
        let (phone, stranger) = (ActorId::random(), ActorId::random());
        let mut edited = new_lead(&phone, "ann", "Edited");
        let first = request(&edited.0, edited.1.get_changes(&[]));
        let heads = edited.1.get_heads();
        edited.1.put(ROOT, "company", "Acme").unwrap();
        edited.1.commit();
        let mut changes = Vec::new();
        for i in 0..120 {
            let (id, mut doc) = match i {
                30 => new_lead(&phone, "bob", "Not hers"),
                70 => new_lead(&stranger, "ann", "Another device's"),
                _ => new_lead(&phone, "ann", &format!("lead {i}")),
            };
            changes.extend(request(&id, doc.get_changes(&[])).changes);
            if i == 50 {
                changes.extend(request(&edited.0, edited.1.get_changes(&heads)).changes);
            }
        }
        let req = PushRequest { changes };
        let run = |threads: usize| {
            let (_dir, b, ws) = workspace(&["ann", "bob"]);
            let docs = DocCache::new(16);
            let ann = device(&ws, &phone);
            let r = push(&b, &docs, &ann, first.clone()).unwrap();
            assert!(r.rejected.is_empty(), "{:?}", r.rejected);
            let prepared = prepare_push_seen(&b, &docs, &ann, req.clone(), None, threads).unwrap();
            let worked_out = prepared.iter().filter(|p| p.merged.is_some()).count();
            let resp = commit_push(&b, &docs, &ann, prepared).unwrap();
            let stored = b.read(&ws, |tx| tx.docs_after("", 1_000, usize::MAX, None)).unwrap();
            (worked_out, resp, stored.rows)
        };
        let (one, three) = (run(1), run(3));
        assert_eq!(three.0, 120, "all but the other device's lead worked out before the writer");
        assert_eq!(one.0, three.0);
        assert_eq!(three.1.accepted.len(), 119, "{:?}", three.1.rejected);
        assert_eq!(one.1.accepted, three.1.accepted);
        let refusals = |r: &PushResponse| -> Vec<(String, String)> {
            r.rejected.iter().map(|r| (r.doc_id.clone(), r.code.clone())).collect()
        };
        assert_eq!(refusals(&three.1).len(), 2);
        assert_eq!(refusals(&one.1), refusals(&three.1));
        assert_eq!(
            three.1.rejected.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
            ["forbidden", "actor_mismatch"]
        );
        assert_eq!(three.2.len(), 119, "the edited lead and 118 new ones");
        assert_eq!(one.2, three.2);
    }

    /// A request that creates more than [`CACHED_REQUEST_DOCS`] documents (a first sync) keeps
    /// none of them loaded; the documents it edits, and those a small request creates, are.
    #[test]
    fn a_bulk_push_keeps_the_documents_it_edits_loaded_but_not_those_it_creates() {
        let (_dir, b, ws) = workspace(&["ann"]);
        let docs = DocCache::new(1_000);
        let phone = ActorId::random();
        let ann = device(&ws, &phone);
        let (captured, mut doc) = new_lead(&phone, "ann", "Captured");
        push(&b, &docs, &ann, request(&captured, doc.get_changes(&[]))).unwrap();
        assert_eq!(docs.len(), 1, "a captured lead is kept loaded");
        let heads = doc.get_heads();
        doc.put(ROOT, "company", "Acme").unwrap();
        doc.commit();
        let mut changes = request(&captured, doc.get_changes(&heads)).changes;
        for i in 0..CACHED_REQUEST_DOCS {
            let (id, mut d) = new_lead(&phone, "ann", &format!("lead {i}"));
            changes.extend(request(&id, d.get_changes(&[])).changes);
        }
        let r = push(&b, &docs, &ann, PushRequest { changes }).unwrap();
        assert_eq!(r.accepted.len(), CACHED_REQUEST_DOCS + 1, "{:?}", r.rejected);
        assert_eq!(docs.len(), 1, "the edited lead, none of the new ones");
        let stored = b.read(&ws, |tx| tx.doc(&captured)).unwrap().unwrap();
        assert!(docs.take(&ws, &captured, &stored.data).is_some(), "the edited lead as stored");
    }

    /// Two devices push edits to one lead at the same time. The second push was worked out
    /// against the version before the first one stored, so the writer works it out again from
    /// what is stored now: both edits are kept (storing the stale result would drop the first).
    #[test]
    fn a_push_worked_out_against_an_older_version_is_merged_again_when_it_commits() {
        let (_dir, b, ws) = workspace(&["ann"]);
        let docs = DocCache::new(16);
        let (phone, tablet) = (ActorId::random(), ActorId::random());
        let (id, mut on_phone) = new_lead(&phone, "ann", "Kim");
        let created = on_phone.get_changes(&[]);
        let resp = push(&b, &docs, &device(&ws, &phone), request(&id, created)).unwrap();
        assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);

        let mut on_tablet = on_phone.fork().with_actor(tablet.clone());
        let heads = on_phone.get_heads();
        on_phone.put(ROOT, "company", "Acme").unwrap();
        on_phone.commit();
        on_tablet.put(ROOT, "title", "CTO").unwrap();
        on_tablet.commit();
        let from_tablet = prepare_push(
            &b,
            &docs,
            &device(&ws, &tablet),
            request(&id, on_tablet.get_changes(&heads)),
        )
        .unwrap();
        let resp =
            push(&b, &docs, &device(&ws, &phone), request(&id, on_phone.get_changes(&heads)))
                .unwrap();
        assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
        let resp = commit_push(&b, &docs, &device(&ws, &tablet), from_tablet).unwrap();
        assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
        assert_eq!(resp.accepted.len(), 1);

        let stored = b.read(&ws, |tx| tx.doc(&id)).unwrap().expect("stored");
        let stored = AutoCommit::load(&stored.data).unwrap();
        assert_eq!(
            root_str(&stored, "company").as_deref(),
            Some("Acme"),
            "the first push's edit survived"
        );
        assert_eq!(root_str(&stored, "title").as_deref(), Some("CTO"));
        let feed = crate::testing::feed(&b, &ws);
        assert_eq!(feed.len(), 3, "creation and both edits, once each");
    }
}
