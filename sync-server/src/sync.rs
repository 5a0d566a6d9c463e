//! Push and pull: what a device may write and read. Automerge has no authorization of its own,
//! so every pushed change is applied to a scratch copy of the server's document, the result is
//! checked (shape, actor, permissions), and only then stored.

use std::collections::HashSet;

use automerge::{AutoCommit, Change, ROOT, ReadDoc, ScalarValue, Value};
use axum::http::StatusCode;
use fieldsales_core::doc::{DocKind, check};
use fieldsales_core::fingerprint::fingerprint;
use fieldsales_core::sync::protocol::*;

use crate::backend::*;
use crate::docs::DocCache;
use crate::error::ApiError;

/// Which owners' records a user may see and change.
pub enum Visibility {
    All,
    Owners(HashSet<String>),
}

/// The owner recorded for the workspace's settings document: everyone sees it.
pub const EVERYONE: &str = "*";

/// The owner recorded for a team's target.
pub fn team_owner(team_id: &str) -> String {
    format!("team:{team_id}")
}

impl Visibility {
    /// A rep sees their own records and their team's targets; a manager those of the members
    /// of every team they manage and those teams' targets, and their own; an admin everything.
    /// Everyone sees the settings document.
    pub fn of(tx: &mut dyn DocTx, p: &Principal) -> Result<Visibility> {
        Ok(match p.role {
            Role::Admin => Visibility::All,
            Role::Rep => {
                let mut s = HashSet::from([p.user_id.clone()]);
                s.extend(p.team_id.as_deref().map(team_owner));
                Visibility::Owners(s)
            }
            Role::Manager => {
                let mut s = HashSet::from([p.user_id.clone()]);
                for t in tx.managed_teams(&p.user_id)? {
                    s.extend(tx.team_members(&t)?);
                    s.insert(team_owner(&t));
                }
                Visibility::Owners(s)
            }
        })
    }

    /// The owners a backend filters on; `None` for everyone.
    pub fn owners(&self) -> Option<Vec<String>> {
        match self {
            Visibility::All => None,
            Visibility::Owners(s) => Some(s.iter().cloned().collect()),
        }
    }

    /// A short fingerprint of the teams this visibility covers, carried in pull cursors: when it
    /// changes (a manager was given another team), the device's cursor no longer covers what it
    /// may now see, and its pull starts over from snapshots. Members alone do not count: users
    /// never change teams, and a user who was just added owns nothing yet, so a new member
    /// brings no older records along (and so no manager device starts over for one).
    pub fn stamp(&self) -> String {
        match self {
            Visibility::All => "all".to_string(),
            Visibility::Owners(s) => {
                let mut teams: Vec<&String> = s.iter().filter(|o| o.starts_with("team:")).collect();
                teams.sort();
                format!("{:016x}", fingerprint(teams.into_iter().map(|t| t.as_bytes())))
            }
        }
    }

    pub fn sees(&self, owner: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Owners(s) => owner == EVERYONE || s.contains(owner),
        }
    }
}

fn root_str(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(&ROOT, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(v) => Some(v.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Decodes the whole request first: a malformed change rejects the request and stores nothing.
pub fn decode_push(req: PushRequest) -> Result<Vec<(String, DocKind, Vec<Change>)>> {
    if req.changes.len() > MAX_CHANGES_PER_PUSH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_changes",
            format!("at most {MAX_CHANGES_PER_PUSH} changes per push"),
        ));
    }
    let mut groups: Vec<(String, DocKind, Vec<Change>)> = Vec::new();
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
        let change = Change::from_bytes(c.change).map_err(|e| {
            ApiError::bad_request(
                "bad_change",
                format!("change {i} is not an Automerge change: {e}"),
            )
        })?;
        match groups.iter_mut().find(|(d, _, _)| *d == id) {
            Some((_, kind, list)) if *kind == c.kind => list.push(change),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "bad_change",
                    format!("change {i}: document {id} is pushed with two kinds"),
                ));
            }
            None => groups.push((id, c.kind, vec![change])),
        }
    }
    Ok(groups)
}

/// A document's pushed changes, accepted.
pub struct Accepted {
    pub hashes: Vec<String>,
    /// The document as now stored (bytes and loaded form), for [`DocCache`] once the write
    /// commits; `None` for a retry that stored nothing.
    pub stored: Option<(Vec<u8>, AutoCommit)>,
}

/// Why pushed changes cannot make a valid document: a rejection's code and message.
type Invalid = (&'static str, String);

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
    /// was nothing to work out (nothing new, or changes refused before their content matters).
    merged: Option<std::result::Result<(AutoCommit, Vec<u8>), Invalid>>,
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

/// Applies `fresh` to the stored document and checks the result. Pure Automerge: no storage.
fn merge(
    docs: &DocCache,
    p: &Principal,
    doc_id: &str,
    kind: DocKind,
    existing: Option<&DocRow>,
    fresh: &[Change],
) -> Result<std::result::Result<(AutoCommit, Vec<u8>), Invalid>> {
    let mut doc = match existing {
        Some(row) => match docs.take(&p.workspace_id, doc_id, &row.data) {
            Some(doc) => doc,
            None => AutoCommit::load(&row.data).map_err(|e| {
                ApiError::internal(format!("stored document {doc_id} is unreadable: {e}"))
            })?,
        },
        None => AutoCommit::new(),
    };
    if let Err(e) = doc.apply_changes(fresh.iter().cloned()) {
        return Ok(Err(("invalid_document", format!("the changes do not apply: {e}"))));
    }
    // A change whose dependencies are missing waits in the document's queue instead of
    // applying. (Asking for each change by hash instead rebuilt it from the columns: 5% of a
    // push.)
    if !doc.get_missing_deps(&[]).is_empty() {
        return Ok(Err((
            "missing_dependencies",
            "the changes build on changes the server does not have".into(),
        )));
    }
    if let Err(e) = check::check(&doc, doc_id, kind) {
        return Ok(Err(("invalid_document", e)));
    }
    // Uncompressed: DEFLATE set up its tables for every column of every save, a seventh of a
    // push in the profile, to shrink documents of a few kilobytes by a little.
    let data = doc.save_nocompress();
    if data.len() > MAX_DOCUMENT_BYTES {
        return Ok(Err((
            "document_too_large",
            format!("the document would be {} bytes; at most {MAX_DOCUMENT_BYTES}", data.len()),
        )));
    }
    Ok(Ok((doc, data)))
}

/// Decides on one document's pushed changes and stores them, inside the request's write
/// transaction; must not write anything before it has decided to accept (see `push`).
pub fn commit_doc(
    tx: &mut dyn DocTx,
    p: &Principal,
    vis: &Visibility,
    docs: &DocCache,
    prepared: Prepared,
) -> Result<std::result::Result<Accepted, Rejection>> {
    let Prepared { doc_id, kind, hashes, mut fresh, base, mut merged } = prepared;
    let doc_id = doc_id.as_str();
    let existing = tx.doc(doc_id)?;
    if !fresh.is_empty() && existing.as_ref().map(|r| &r.data) != base.as_ref() {
        // Another push stored this document since the request began: start from it.
        fresh = fresh_changes(tx, fresh)?;
        merged = None;
    }
    // A retried push: everything is stored already.
    if fresh.is_empty() {
        return Ok(Ok(Accepted { hashes, stored: None }));
    }
    let visible_version = existing.as_ref().filter(|r| vis.sees(&r.owner)).map(|r| r.data.clone());
    let reject = |code: &str, message: String| Rejection {
        doc_id: doc_id.to_string(),
        kind,
        hashes: hashes.clone(),
        code: code.to_string(),
        message,
        server_version: visible_version.clone(),
    };
    if let Some(c) = fresh.iter().find(|c| c.actor_id().to_hex_string() != p.actor) {
        return Ok(Err(reject(
            "actor_mismatch",
            format!("change {} was not written by this device", c.hash()),
        )));
    }
    match &existing {
        Some(row) if row.kind != kind => {
            return Ok(Err(reject(
                "invalid_document",
                format!("document is a {}, not a {}", row.kind.as_str(), kind.as_str()),
            )));
        }
        Some(row) if !vis.sees(&row.owner) => {
            return Ok(Err(reject("forbidden", "you may not change this record".into())));
        }
        _ => {}
    }
    let merged = match merged {
        Some(m) => m,
        None => merge(docs, p, doc_id, kind, existing.as_ref(), &fresh)?,
    };
    let (doc, data) = match merged {
        Ok(m) => m,
        Err((code, message)) => return Ok(Err(reject(code, message))),
    };
    let row = match kind {
        DocKind::Lead => {
            let owner = root_str(&doc, "owner").unwrap_or_default();
            let old_owner = existing.as_ref().map(|r| r.owner.clone());
            if !tx.user_exists(&owner)? {
                return Ok(Err(reject(
                    "invalid_document",
                    format!("owner '{owner}' is not a user of this workspace"),
                )));
            }
            let allowed = match p.role {
                Role::Admin => true,
                Role::Manager => vis.sees(&owner),
                Role::Rep => owner == p.user_id,
            };
            if !allowed {
                let why = match (p.role, old_owner.as_deref()) {
                    (Role::Rep, Some(o)) if o == p.user_id => {
                        "only managers and admins may give a lead to someone else".to_string()
                    }
                    (Role::Rep, _) => "reps can only create leads they own".to_string(),
                    _ => format!("'{owner}' is not in a team you manage"),
                };
                return Ok(Err(reject("forbidden", why)));
            }
            DocRow { kind, owner, lead_id: None, data }
        }
        DocKind::Activity => {
            // An activity may move to another lead (when two leads are merged), but only between
            // leads the writer may see: the old one was checked above, the new one here.
            let lead_id = root_str(&doc, "lead_id").unwrap_or_default();
            let lead = match tx.doc(&lead_id)? {
                Some(l) if l.kind == DocKind::Lead => l,
                _ => {
                    return Ok(Err(reject(
                        "unknown_lead",
                        format!("lead {lead_id} is not on the server"),
                    )));
                }
            };
            if !vis.sees(&lead.owner) {
                return Ok(Err(reject("forbidden", "you may not add to this lead".into())));
            }
            DocRow { kind, owner: lead.owner, lead_id: Some(lead_id), data }
        }
        // Settings, targets and plans are the managers' and admins' to write: a rep's change is
        // refused (and lands in the rep's quarantine), whatever it says.
        DocKind::Settings => {
            if p.role == Role::Rep {
                return Ok(Err(reject(
                    "forbidden",
                    "only managers and admins may change the sales process settings".into(),
                )));
            }
            DocRow { kind, owner: EVERYONE.to_string(), lead_id: None, data }
        }
        DocKind::Target | DocKind::CompPlan => {
            if p.role == Role::Rep {
                let what =
                    if kind == DocKind::Target { "set targets" } else { "set compensation plans" };
                return Ok(Err(reject(
                    "forbidden",
                    format!("only managers and admins may {what}"),
                )));
            }
            let (subject_kind, subject) = match kind {
                DocKind::Target => (
                    root_str(&doc, "subject_kind").unwrap_or_default(),
                    root_str(&doc, "subject").unwrap_or_default(),
                ),
                _ => ("rep".to_string(), root_str(&doc, "rep").unwrap_or_default()),
            };
            let owner = if subject_kind == "team" {
                match tx.team_id(&subject)? {
                    Some(t) => team_owner(&t),
                    None => {
                        return Ok(Err(reject(
                            "invalid_document",
                            format!("'{subject}' is not a team of this workspace"),
                        )));
                    }
                }
            } else {
                if !tx.user_exists(&subject)? {
                    return Ok(Err(reject(
                        "invalid_document",
                        format!("'{subject}' is not a user of this workspace"),
                    )));
                }
                subject.clone()
            };
            if !vis.sees(&owner) {
                return Ok(Err(reject(
                    "forbidden",
                    format!("'{subject}' is not you, your team or a member of a team you manage"),
                )));
            }
            // Nobody sets their own pay: a manager's plan is an admin's to write.
            if kind == DocKind::CompPlan && p.role == Role::Manager && owner == p.user_id {
                return Ok(Err(reject(
                    "forbidden",
                    "a manager's own compensation plan is set by an admin".into(),
                )));
            }
            DocRow { kind, owner, lead_id: None, data }
        }
    };
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
    Ok(Ok(Accepted { hashes, stored: Some((row.data, doc)) }))
}

/// A push in three steps: one read transaction finds which changes are new and the stored
/// documents they apply to; the Automerge work follows with no transaction open; then one
/// write transaction decides and stores the whole request (one commit for a device's 100 edited
/// leads, not 100: the commits dominated a push once). Sharing it is safe because
/// `commit_doc` decides to reject before it writes anything, so a rejected document leaves no
/// trace; a storage error rolls back the whole request, which the device retries (pushes are
/// idempotent).
///
/// The documents it stored go into `docs` once the transaction has committed, so that the
/// next push to them skips loading. The server itself ends with [`crate::group::GroupCommit`]
/// instead of [`commit_push`], which shares the write transaction with other waiting pushes.
pub fn push<B: Backend>(
    backend: &B,
    docs: &DocCache,
    p: &Principal,
    req: PushRequest,
) -> Result<PushResponse> {
    let prepared = prepare_push(backend, docs, p, req)?;
    commit_push(backend, docs, p, prepared)
}

/// The first two steps of [`push`]: no write transaction, no lock held.
pub fn prepare_push<B: Backend>(
    backend: &B,
    docs: &DocCache,
    p: &Principal,
    req: PushRequest,
) -> Result<Vec<Prepared>> {
    let groups = decode_push(req)?;
    let read = backend.read(&p.workspace_id, |tx| {
        let mut out = Vec::with_capacity(groups.len());
        for (doc_id, kind, changes) in groups {
            let hashes: Vec<String> = changes.iter().map(|c| c.hash().to_string()).collect();
            let fresh = fresh_changes(tx, changes)?;
            let existing = if fresh.is_empty() { None } else { tx.doc(&doc_id)? };
            out.push((doc_id, kind, hashes, fresh, existing));
        }
        Ok(out)
    })?;
    let mut prepared = Vec::with_capacity(read.len());
    for (doc_id, kind, hashes, fresh, existing) in read {
        let merged = if fresh.is_empty() || refused_unread(p, kind, existing.as_ref(), &fresh) {
            None
        } else {
            Some(merge(docs, p, &doc_id, kind, existing.as_ref(), &fresh)?)
        };
        let base = existing.map(|r| r.data);
        prepared.push(Prepared { doc_id, kind, hashes, fresh, base, merged });
    }
    Ok(prepared)
}

/// The last step of [`push`]: one write transaction.
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
    for pr in prepared {
        let doc_id = pr.doc_id.clone();
        match commit_doc(tx, p, &vis, docs, pr)? {
            Ok(a) => {
                response.accepted.extend(a.hashes);
                stored.extend(a.stored.map(|s| (doc_id, s)));
            }
            Err(r) => response.rejected.push(r),
        }
    }
    Ok(Committed { response, stored })
}

/// Pull cursors: `b<mark>:<last id>` while bootstrapping from snapshots, `f<mark>` on the change
/// feed. A mark is `<seq>~<stamp>~<check>`: the feed number the cursor stands at (for a
/// bootstrap, the watermark), [`Visibility::stamp`] when it was issued, and a fingerprint of
/// the feed row at that number ([`feed_check`]). Opaque to clients. Cursors from before stamps
/// and checks (`f<seq>`, `f<seq>~<stamp>`, the same after `b`) are still taken.
enum Cursor {
    Boot { watermark: i64, after: String },
    Feed(i64),
}

struct ParsedCursor {
    cursor: Cursor,
    stamp: Option<String>,
    check: Option<String>,
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request(
        "bad_cursor",
        "the cursor is not one this server issued; start again with an empty cursor",
    )
}

/// What a cursor at `seq` remembers of the feed row there, so that a server restored from an
/// older backup, whose feed numbers the rows after the backup again for other changes, refuses
/// the cursor instead of letting the device skip those changes. `None`: no such row.
fn feed_check(tx: &mut dyn DocTx, seq: i64) -> Result<Option<String>> {
    if seq == 0 {
        return Ok(Some("0".to_string()));
    }
    Ok(tx.feed_row_key(seq)?.map(|key| format!("{:08x}", fingerprint([key.as_bytes()]) >> 32)))
}

/// The `<seq>~<stamp>~<check>` part of a cursor that stands at `seq`.
fn mark(tx: &mut dyn DocTx, seq: i64, stamp: &str) -> Result<String> {
    let check = feed_check(tx, seq)?
        .ok_or_else(|| ApiError::internal(format!("feed row {seq} vanished while it was read")))?;
    Ok(format!("{seq}~{stamp}~{check}"))
}

fn parse_cursor(s: &str) -> Result<Option<ParsedCursor>> {
    let bad = bad_cursor;
    if s.is_empty() {
        return Ok(None);
    }
    let parse_mark = |m: &str| -> Result<(i64, Option<String>, Option<String>)> {
        let mut parts = m.split('~');
        let seq = parts.next().unwrap_or_default().parse().map_err(|_| bad())?;
        let stamp = parts.next().map(str::to_string);
        let check = parts.next().map(str::to_string);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok((seq, stamp, check))
    };
    if let Some(rest) = s.strip_prefix('f') {
        let (seq, stamp, check) = parse_mark(rest)?;
        return Ok(Some(ParsedCursor { cursor: Cursor::Feed(seq), stamp, check }));
    }
    if let Some(rest) = s.strip_prefix('b') {
        let (m, after) = rest.split_once(':').ok_or_else(bad)?;
        let (watermark, stamp, check) = parse_mark(m)?;
        return Ok(Some(ParsedCursor {
            cursor: Cursor::Boot { watermark, after: after.to_string() },
            stamp,
            check,
        }));
    }
    Err(bad())
}

pub fn pull<B: Backend>(backend: &B, p: &Principal, req: &PullRequest) -> Result<PullResponse> {
    let limit = req.limit.clamp(1, MAX_PULL_LIMIT);
    let cursor = parse_cursor(&req.cursor)?;
    backend.read(&p.workspace_id, |tx| {
        let vis = Visibility::of(tx, p)?;
        let stamp = vis.stamp();
        let max = tx.max_seq()?;
        let Some(ParsedCursor { cursor, stamp: issued, check }) = cursor else {
            return bootstrap(tx, &vis, &stamp, max, "", limit);
        };
        let at = match &cursor {
            Cursor::Boot { watermark, .. } => *watermark,
            Cursor::Feed(seq) => *seq,
        };
        // Every cursor this server issues stands at a row of its feed, the row it remembers.
        // One past the end, or at a row that is not the one it remembers (the server was
        // restored from an older backup, or the cursor was made up), would make the device skip
        // changes silently: refuse it instead, and the device starts over.
        if !(0..=max).contains(&at) {
            return Err(bad_cursor());
        }
        if let Some(check) = check
            && feed_check(tx, at)?.as_ref() != Some(&check)
        {
            return Err(bad_cursor());
        }
        // The user may see more than when the cursor was issued: the feed behind the cursor
        // holds changes of records new to them, so start over from snapshots (merging what the
        // device holds already is harmless).
        if issued.is_some_and(|issued| issued != stamp) {
            return bootstrap(tx, &vis, &stamp, max, "", limit);
        }
        match cursor {
            Cursor::Boot { watermark, after } => {
                bootstrap(tx, &vis, &stamp, watermark, &after, limit)
            }
            Cursor::Feed(seq) => feed(tx, p, &vis, &stamp, seq, limit, max),
        }
    })
}

/// A new device gets the saved documents it may see, then the feed from the watermark taken
/// when it started: anything that changed meanwhile comes again from the feed (harmless).
fn bootstrap(
    tx: &mut dyn DocTx,
    vis: &Visibility,
    stamp: &str,
    watermark: i64,
    after: &str,
    limit: u32,
) -> Result<PullResponse> {
    let owners = vis.owners();
    let rows = tx.docs_after(after, limit, owners.as_deref())?;
    let scanned = rows.len();
    let last = rows.last().map(|(id, _)| id.clone());
    let items: Vec<PullItem> = rows
        .into_iter()
        .filter(|(_, r)| vis.sees(&r.owner))
        .map(|(doc_id, r)| PullItem::Snapshot { doc_id, kind: r.kind, data: r.data })
        .collect();
    if scanned < limit as usize {
        let remaining = tx.feed_len_after(watermark)?;
        return Ok(PullResponse {
            items,
            cursor: format!("f{}", mark(tx, watermark, stamp)?),
            more: remaining > 0,
            remaining,
        });
    }
    let last = last.unwrap_or_default();
    let remaining = tx.docs_len_after(&last)?;
    Ok(PullResponse {
        items,
        cursor: format!("b{}:{last}", mark(tx, watermark, stamp)?),
        more: true,
        remaining,
    })
}

/// The feed after `seq`, filtered by the backend (see [`FeedFilter`]); `max` is the last feed
/// number this read transaction sees, so a page that ends the feed moves the cursor past the
/// rows the filter skipped too.
fn feed(
    tx: &mut dyn DocTx,
    p: &Principal,
    vis: &Visibility,
    stamp: &str,
    seq: i64,
    limit: u32,
    max: i64,
) -> Result<PullResponse> {
    let filter = FeedFilter { skip_actor: p.actor.clone(), owners: vis.owners() };
    let entries = tx.feed_after(seq, limit, &filter)?;
    let more = entries.len() == limit as usize;
    let last = if more { entries.last().map_or(seq, FeedEntry::seq) } else { max.max(seq) };
    let mut items: Vec<PullItem> = Vec::new();
    for e in entries {
        match e {
            FeedEntry::Change { doc_id, kind, owner, actor, data, .. } => {
                // The backend's filter already left these out; checked again here because a
                // backend that filtered less must still never leak a record (cheap: in memory).
                if actor == p.actor || !vis.sees(&owner) {
                    continue;
                }
                match items.last_mut() {
                    Some(PullItem::Changes { doc_id: d, changes, .. }) if *d == doc_id => {
                        changes.push(serde_bytes::ByteBuf::from(data))
                    }
                    _ => items.push(PullItem::Changes {
                        doc_id,
                        kind,
                        changes: vec![serde_bytes::ByteBuf::from(data)],
                    }),
                }
            }
            FeedEntry::Owner { doc_id, old_owner, new_owner, .. } => {
                let (was, is) = (vis.sees(&old_owner), vis.sees(&new_owner));
                if is && !was {
                    if let Some(lead) = tx.doc(&doc_id)? {
                        items.push(PullItem::Snapshot {
                            doc_id: doc_id.clone(),
                            kind: lead.kind,
                            data: lead.data,
                        });
                        for (id, a) in tx.activities_of(&doc_id)? {
                            items.push(PullItem::Snapshot {
                                doc_id: id,
                                kind: a.kind,
                                data: a.data,
                            });
                        }
                    }
                } else if was && !is {
                    for (id, _) in tx.activities_of(&doc_id)? {
                        items.push(PullItem::Drop { doc_id: id });
                    }
                    items.push(PullItem::Drop { doc_id });
                }
            }
        }
    }
    let remaining = if more { tx.feed_len_after(last)? } else { 0 };
    Ok(PullResponse { items, cursor: format!("f{}", mark(tx, last, stamp)?), more, remaining })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{new_lead, request, workspace};
    use automerge::{ActorId, transaction::Transactable};

    fn device(ws: &str, actor: &ActorId) -> Principal {
        crate::testing::device(ws, "ann", actor)
    }

    #[test]
    fn cursors_carry_a_visibility_stamp_and_older_ones_without_it_still_parse() {
        let parse = |s: &str| parse_cursor(s).unwrap().unwrap();
        assert!(
            matches!(parse("f12~00ff~1a2b"), ParsedCursor { cursor: Cursor::Feed(12), stamp: Some(st), check: Some(c) } if st == "00ff" && c == "1a2b")
        );
        assert!(
            matches!(parse("f12~00ff"), ParsedCursor { cursor: Cursor::Feed(12), stamp: Some(st), check: None } if st == "00ff")
        );
        assert!(matches!(
            parse("f12"),
            ParsedCursor { cursor: Cursor::Feed(12), stamp: None, check: None }
        ));
        assert!(
            matches!(parse("b3~all~0:lead-1"), ParsedCursor { cursor: Cursor::Boot { watermark: 3, after }, stamp: Some(st), check: Some(_) } if after == "lead-1" && st == "all")
        );
        assert!(
            matches!(parse("b3:"), ParsedCursor { cursor: Cursor::Boot { watermark: 3, after }, stamp: None, .. } if after.is_empty())
        );
        assert!(parse_cursor("").unwrap().is_none());
        for bad in ["x1", "f", "f~ab", "fab", "b3", "b~x:y", "f1.5", "f1~a~b~c"] {
            assert_eq!(parse_cursor(bad).err().map(|e| e.code), Some("bad_cursor"), "{bad}");
        }
        let owners = |o: &[&str]| Visibility::Owners(o.iter().map(|s| s.to_string()).collect());
        let a = owners(&["park", "ann", team_owner("t1").as_str()]);
        assert_eq!(
            a.stamp(),
            owners(&[team_owner("t1").as_str(), "ann", "park"]).stamp(),
            "independent of order"
        );
        assert_eq!(
            a.stamp(),
            owners(&["park", "ann", "new-rep", team_owner("t1").as_str()]).stamp(),
            "a new member changes nothing"
        );
        assert_ne!(
            a.stamp(),
            owners(&["park", "ann", team_owner("t1").as_str(), team_owner("t2").as_str()]).stamp(),
            "a new team does"
        );
        assert_eq!(Visibility::All.stamp(), "all");
    }

    /// The server is restored from a backup taken after its first change, and new pushes then
    /// get the feed numbers the lost changes had. A device's cursor from before the restore
    /// stands at such a number: it is refused (the device starts over) instead of silently
    /// skipping the new changes numbered up to it.
    #[test]
    fn a_cursor_from_before_a_restore_from_backup_is_refused_not_followed() {
        let (dir, b, ws) = workspace(&["ann"]);
        let docs = DocCache::new(0);
        let (phone, tablet) = (ActorId::random(), ActorId::random());
        let capture = |name: &str| {
            let (id, mut doc) = new_lead(&phone, "ann", name);
            let resp =
                push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&[]))).unwrap();
            assert_eq!(resp.accepted.len(), 1);
            id
        };
        let first = capture("one");
        capture("two");
        capture("three");
        let pull_from = |cursor: &str| {
            pull(&b, &device(&ws, &tablet), &PullRequest { cursor: cursor.into(), limit: 100 })
        };
        let before = pull_from("").unwrap();
        assert_eq!(before.items.len(), 3);
        assert!(!before.more);

        // The restore: the backup holds only the first change.
        {
            let c = rusqlite::Connection::open(dir.path().join("fieldsales-server.db")).unwrap();
            c.execute_batch(&format!(
                "DELETE FROM feed WHERE seq > 1; DELETE FROM documents WHERE id <> '{first}'; UPDATE sqlite_sequence SET seq = 1 WHERE name = 'feed';"
            ))
            .unwrap();
        }
        let four = capture("four");
        let five = capture("five");
        let max = b.read(&ws, |tx| tx.max_seq()).unwrap();
        assert_eq!(max, 3, "the new changes took the lost changes' numbers");

        assert_eq!(
            pull_from(&before.cursor).err().map(|e| e.code),
            Some("bad_cursor"),
            "cursor {}",
            before.cursor
        );
        // Starting over gets what the server holds now.
        let again = pull_from("").unwrap();
        let ids: HashSet<String> = again
            .items
            .iter()
            .filter_map(|i| match i {
                PullItem::Snapshot { doc_id, .. } => Some(doc_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, HashSet::from([first, four, five]));
    }

    /// A push that would grow a document past MAX_DOCUMENT_BYTES is refused for that document
    /// and stores nothing of it, even though every change and the current value are valid.
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
        let feed = b
            .read(&ws, |tx| {
                tx.feed_after(0, 100, &FeedFilter { skip_actor: String::new(), owners: None })
            })
            .unwrap();
        assert_eq!(feed.len(), 1, "only the creation is stored");
        let stored = b.read(&ws, |tx| tx.doc(&id)).unwrap().expect("stored");
        assert!(stored.data.len() < 10_000, "the stored lead is still the small one");
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
        let feed = b
            .read(&ws, |tx| {
                tx.feed_after(0, 100, &FeedFilter { skip_actor: String::new(), owners: None })
            })
            .unwrap();
        assert_eq!(feed.len(), 3, "creation and both edits, once each");
    }
}
