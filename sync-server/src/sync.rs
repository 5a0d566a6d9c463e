//! Push and pull: what a device may write and read. Automerge has no authorization of its own,
//! so every pushed change is applied to a scratch copy of the server's document, the result is
//! checked (shape, actor, permissions), and only then stored.

use std::collections::HashSet;

use automerge::{AutoCommit, Change, ROOT, ReadDoc, ScalarValue, Value};
use axum::http::StatusCode;
use fieldsales_core::doc::{DocKind, check};
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
    /// A rep sees their own records and their team's targets; a manager those of the team's
    /// members and the team's targets, and their own; an admin everything. Everyone sees the
    /// settings document.
    pub fn of(tx: &mut dyn DocTx, p: &Principal) -> Result<Visibility> {
        Ok(match p.role {
            Role::Admin => Visibility::All,
            Role::Rep => {
                let mut s = HashSet::from([p.user_id.clone()]);
                s.extend(p.team_id.as_deref().map(team_owner));
                Visibility::Owners(s)
            }
            Role::Manager => {
                let mut s: HashSet<String> = match &p.team_id {
                    Some(t) => tx.team_members(t)?.into_iter().chain([team_owner(t)]).collect(),
                    None => HashSet::new(),
                };
                s.insert(p.user_id.clone());
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
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_many_changes", format!("at most {MAX_CHANGES_PER_PUSH} changes per push")));
    }
    let mut groups: Vec<(String, DocKind, Vec<Change>)> = Vec::new();
    for (i, c) in req.changes.into_iter().enumerate() {
        let id = uuid::Uuid::parse_str(&c.doc_id)
            .map_err(|_| ApiError::bad_request("bad_document_id", format!("change {i}: '{}' is not a document id", c.doc_id)))?
            .to_string();
        if id != c.doc_id {
            return Err(ApiError::bad_request("bad_document_id", format!("change {i}: document ids are lower-case hyphenated UUIDs")));
        }
        // Byte 8 of an Automerge chunk is its type. Clients send raw change chunks (type 1,
        // `Change::raw_bytes()`). Automerge inflates a compressed change (type 2), or the
        // compressed columns of a document chunk, with no bound while parsing: a few hundred
        // kilobytes could make the server allocate gigabytes. Refuse them unparsed.
        if c.change.get(8).is_some_and(|&t| t != 1) {
            return Err(ApiError::bad_request("bad_change", format!("change {i} is not a raw Automerge change chunk; send Change::raw_bytes()")));
        }
        let change = Change::from_bytes(c.change).map_err(|e| ApiError::bad_request("bad_change", format!("change {i} is not an Automerge change: {e}")))?;
        match groups.iter_mut().find(|(d, _, _)| *d == id) {
            Some((_, kind, list)) if *kind == c.kind => list.push(change),
            Some(_) => return Err(ApiError::bad_request("bad_change", format!("change {i}: document {id} is pushed with two kinds"))),
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

/// Applies one document's pushed changes, or explains why not. Runs inside the request's write
/// transaction, and must not write anything before it has decided to accept (see `push`).
pub fn push_doc(
    tx: &mut dyn DocTx,
    p: &Principal,
    vis: &Visibility,
    docs: &DocCache,
    doc_id: &str,
    kind: DocKind,
    changes: Vec<Change>,
) -> Result<std::result::Result<Accepted, Rejection>> {
    let hashes: Vec<String> = changes.iter().map(|c| c.hash().to_string()).collect();
    let mut fresh: Vec<Change> = Vec::new();
    for c in changes {
        // A change repeated in one push is stored once (a second feed row would break the
        // unique hash index and fail the whole push with a storage error).
        if !fresh.iter().any(|f| f.hash() == c.hash()) && !tx.has_change(&c.hash().to_string())? {
            fresh.push(c);
        }
    }
    // A retried push: everything is stored already.
    if fresh.is_empty() {
        return Ok(Ok(Accepted { hashes, stored: None }));
    }
    let existing = tx.doc(doc_id)?;
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
        return Ok(Err(reject("actor_mismatch", format!("change {} was not written by this device", c.hash()))));
    }
    let mut doc = match &existing {
        Some(row) if row.kind != kind => return Ok(Err(reject("invalid_document", format!("document is a {}, not a {}", row.kind.as_str(), kind.as_str())))),
        Some(row) if !vis.sees(&row.owner) => return Ok(Err(reject("forbidden", "you may not change this record".into()))),
        Some(row) => match docs.take(&p.workspace_id, doc_id, &row.data) {
            Some(doc) => doc,
            None => AutoCommit::load(&row.data).map_err(|e| ApiError::internal(format!("stored document {doc_id} is unreadable: {e}")))?,
        },
        None => AutoCommit::new(),
    };
    if let Err(e) = doc.apply_changes(fresh.clone()) {
        return Ok(Err(reject("invalid_document", format!("the changes do not apply: {e}"))));
    }
    // A change whose dependencies are missing waits in the document's queue instead of
    // applying. (Asking for each change by hash instead rebuilt it from the columns: 5% of a
    // push.)
    if !doc.get_missing_deps(&[]).is_empty() {
        return Ok(Err(reject("missing_dependencies", "the changes build on changes the server does not have".into())));
    }
    if let Err(e) = check::check(&doc, doc_id, kind) {
        return Ok(Err(reject("invalid_document", e)));
    }
    // Uncompressed: DEFLATE set up its tables for every column of every save, a seventh of a
    // push in the profile, to shrink documents of a few kilobytes by a little.
    let data = doc.save_nocompress();
    if data.len() > MAX_DOCUMENT_BYTES {
        return Ok(Err(reject("document_too_large", format!("the document would be {} bytes; at most {MAX_DOCUMENT_BYTES}", data.len()))));
    }
    let row = match kind {
        DocKind::Lead => {
            let owner = root_str(&doc, "owner").unwrap_or_default();
            let old_owner = existing.as_ref().map(|r| r.owner.clone());
            if !tx.user_exists(&owner)? {
                return Ok(Err(reject("invalid_document", format!("owner '{owner}' is not a user of this workspace"))));
            }
            let allowed = match p.role {
                Role::Admin => true,
                Role::Manager => vis.sees(&owner),
                Role::Rep => owner == p.user_id,
            };
            if !allowed {
                let why = match (p.role, old_owner.as_deref()) {
                    (Role::Rep, Some(o)) if o == p.user_id => "only managers and admins may give a lead to someone else".to_string(),
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
                _ => return Ok(Err(reject("unknown_lead", format!("lead {lead_id} is not on the server")))),
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
                return Ok(Err(reject("forbidden", "only managers and admins may change the sales process settings".into())));
            }
            DocRow { kind, owner: EVERYONE.to_string(), lead_id: None, data }
        }
        DocKind::Target | DocKind::CompPlan => {
            if p.role == Role::Rep {
                let what = if kind == DocKind::Target { "set targets" } else { "set compensation plans" };
                return Ok(Err(reject("forbidden", format!("only managers and admins may {what}"))));
            }
            let (subject_kind, subject) = match kind {
                DocKind::Target => (root_str(&doc, "subject_kind").unwrap_or_default(), root_str(&doc, "subject").unwrap_or_default()),
                _ => ("rep".to_string(), root_str(&doc, "rep").unwrap_or_default()),
            };
            let owner = if subject_kind == "team" {
                match tx.team_id(&subject)? {
                    Some(t) => team_owner(&t),
                    None => return Ok(Err(reject("invalid_document", format!("'{subject}' is not a team of this workspace")))),
                }
            } else {
                if !tx.user_exists(&subject)? {
                    return Ok(Err(reject("invalid_document", format!("'{subject}' is not a user of this workspace"))));
                }
                subject.clone()
            };
            if !vis.sees(&owner) {
                return Ok(Err(reject("forbidden", format!("'{subject}' is not you, your team or a member of the team you manage"))));
            }
            // Nobody sets their own pay: a manager's plan is an admin's to write.
            if kind == DocKind::CompPlan && p.role == Role::Manager && owner == p.user_id {
                return Ok(Err(reject("forbidden", "a manager's own compensation plan is set by an admin".into())));
            }
            DocRow { kind, owner, lead_id: None, data }
        }
    };
    tx.put_doc(doc_id, &row)?;
    for c in &fresh {
        tx.append_change(doc_id, kind, &c.hash().to_string(), &c.actor_id().to_hex_string(), c.raw_bytes())?;
    }
    // A change of hands (a reassigned lead, or an activity moved to another owner's lead): the
    // feed records it so that pulls hand the record to those who gain it and drop it for those
    // who lose it.
    if let Some(old) = existing {
        if old.owner != row.owner {
            tx.append_owner_event(doc_id, &old.owner, &row.owner)?;
            if kind == DocKind::Lead {
                tx.set_activities_owner(doc_id, &row.owner)?;
            }
        }
    }
    Ok(Ok(Accepted { hashes, stored: Some((row.data, doc)) }))
}

/// One write transaction for the whole request: a device's push of 100 edited leads costs one
/// commit, not 100 (the commits, not Automerge, dominated a push before). This is safe because
/// `push_doc` decides to reject before it writes anything, so a rejected document leaves no
/// trace in the shared transaction; a storage error rolls back the whole request, which the
/// device retries (pushes are idempotent).
///
/// The documents it stored go into `docs` once the transaction has committed, so that the
/// next push to them skips loading.
pub fn push<B: Backend>(backend: &B, docs: &DocCache, p: &Principal, req: PushRequest) -> Result<PushResponse> {
    let groups = decode_push(req)?;
    let (resp, stored) = backend.write(&p.workspace_id, |tx| {
        let vis = Visibility::of(tx, p)?;
        let mut resp = PushResponse::default();
        let mut stored = Vec::new();
        for (doc_id, kind, changes) in groups {
            match push_doc(tx, p, &vis, docs, &doc_id, kind, changes)? {
                Ok(a) => {
                    resp.accepted.extend(a.hashes);
                    stored.extend(a.stored.map(|s| (doc_id, s)));
                }
                Err(r) => resp.rejected.push(r),
            }
        }
        Ok((resp, stored))
    })?;
    for (doc_id, (saved, doc)) in stored {
        docs.put(&p.workspace_id, &doc_id, saved, doc);
    }
    Ok(resp)
}

/// Pull cursors: `b<watermark>:<last id>` while bootstrapping from snapshots, `f<seq>` on the
/// change feed. Opaque to clients.
enum Cursor {
    Boot { watermark: i64, after: String },
    Feed(i64),
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("bad_cursor", "the cursor is not one this server issued; start again with an empty cursor")
}

fn parse_cursor(s: &str) -> Result<Option<Cursor>> {
    let bad = bad_cursor;
    if s.is_empty() {
        return Ok(None);
    }
    if let Some(rest) = s.strip_prefix('f') {
        return rest.parse().map(|n| Some(Cursor::Feed(n))).map_err(|_| bad());
    }
    if let Some(rest) = s.strip_prefix('b') {
        let (w, after) = rest.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Cursor::Boot { watermark: w.parse().map_err(|_| bad())?, after: after.to_string() }));
    }
    Err(bad())
}

pub fn pull<B: Backend>(backend: &B, p: &Principal, req: &PullRequest) -> Result<PullResponse> {
    let limit = req.limit.clamp(1, MAX_PULL_LIMIT);
    let cursor = parse_cursor(&req.cursor)?;
    backend.read(&p.workspace_id, |tx| {
        let vis = Visibility::of(tx, p)?;
        // Every cursor this server issues lies within its feed. One past the end (the server
        // was restored from an older backup, or the cursor was made up) would make the device
        // skip every change numbered up to it, silently: refuse it instead.
        let max = tx.max_seq()?;
        match cursor {
            None => bootstrap(tx, &vis, max, "", limit),
            Some(Cursor::Boot { watermark, after }) if (0..=max).contains(&watermark) => bootstrap(tx, &vis, watermark, &after, limit),
            Some(Cursor::Feed(seq)) if (0..=max).contains(&seq) => feed(tx, p, &vis, seq, limit, max),
            Some(_) => Err(bad_cursor()),
        }
    })
}

/// A new device gets the saved documents it may see, then the feed from the watermark taken
/// when it started: anything that changed meanwhile comes again from the feed (harmless).
fn bootstrap(tx: &mut dyn DocTx, vis: &Visibility, watermark: i64, after: &str, limit: u32) -> Result<PullResponse> {
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
        return Ok(PullResponse { items, cursor: format!("f{watermark}"), more: remaining > 0, remaining });
    }
    let last = last.unwrap_or_default();
    let remaining = tx.docs_len_after(&last)?;
    Ok(PullResponse { items, cursor: format!("b{watermark}:{last}"), more: true, remaining })
}

/// The feed after `seq`, filtered by the backend (see [`FeedFilter`]); `max` is the last feed
/// number this read transaction sees, so a page that ends the feed moves the cursor past the
/// rows the filter skipped too.
fn feed(tx: &mut dyn DocTx, p: &Principal, vis: &Visibility, seq: i64, limit: u32, max: i64) -> Result<PullResponse> {
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
                    Some(PullItem::Changes { doc_id: d, changes, .. }) if *d == doc_id => changes.push(serde_bytes::ByteBuf::from(data)),
                    _ => items.push(PullItem::Changes { doc_id, kind, changes: vec![serde_bytes::ByteBuf::from(data)] }),
                }
            }
            FeedEntry::Owner { doc_id, old_owner, new_owner, .. } => {
                let (was, is) = (vis.sees(&old_owner), vis.sees(&new_owner));
                if is && !was {
                    if let Some(lead) = tx.doc(&doc_id)? {
                        items.push(PullItem::Snapshot { doc_id: doc_id.clone(), kind: lead.kind, data: lead.data });
                        for (id, a) in tx.activities_of(&doc_id)? {
                            items.push(PullItem::Snapshot { doc_id: id, kind: a.kind, data: a.data });
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
    Ok(PullResponse { items, cursor: format!("f{last}"), more, remaining })
}
