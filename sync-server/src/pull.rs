//! Pull: what a device may read. Everything a page returns is checked against what the user may
//! see when it is served, not when the cursor was issued: a cursor is the client's to keep and
//! can be rewound or made up, so each change, snapshot and activity is sent only if the user may
//! see its record's owner now. Pages are bounded by count and by bytes ([`PULL_PAGE_BYTES`]),
//! and always carry at least one item, so a pull moves.

use std::collections::HashMap;

use fieldsales_core::sync::protocol::*;

use crate::authz::Visibility;
use crate::backend::*;
use crate::cursor::{Cursor, ParsedCursor, bad_cursor, feed_check, mark, parse_cursor};
use crate::error::ApiError;

type Result<T, E = ApiError> = std::result::Result<T, E>;

pub fn pull<B: Backend>(backend: &B, p: &Principal, req: &PullRequest) -> Result<PullResponse> {
    pull_with_budget(backend, p, req, PULL_PAGE_BYTES)
}

/// As [`pull`], with pages of up to `budget` bytes.
pub fn pull_with_budget<B: Backend>(
    backend: &B,
    p: &Principal,
    req: &PullRequest,
    budget: usize,
) -> Result<PullResponse> {
    let limit = req.limit.clamp(1, MAX_PULL_LIMIT);
    let cursor = parse_cursor(&req.cursor)?;
    backend.read(&p.workspace_id, |tx| {
        let vis = Visibility::of(tx, p)?;
        let page = Page { p, vis: &vis, stamp: vis.stamp(), limit, budget };
        let max = tx.max_seq()?;
        let Some(ParsedCursor { cursor, stamp: issued, check, remaining }) = cursor else {
            return page.bootstrap(tx, max, "", None);
        };
        let at = match &cursor {
            Cursor::Boot { watermark, .. } => *watermark,
            Cursor::Feed { seq, .. } => *seq,
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
        if issued.is_some_and(|issued| issued != page.stamp) {
            return page.bootstrap(tx, max, "", None);
        }
        match cursor {
            Cursor::Boot { watermark, after } => page.bootstrap(tx, watermark, &after, remaining),
            Cursor::Feed { seq, resume } => page.feed(tx, seq, resume, max, remaining),
        }
    })
}

/// One page being served.
struct Page<'a> {
    p: &'a Principal,
    vis: &'a Visibility,
    stamp: String,
    limit: u32,
    budget: usize,
}

impl Page<'_> {
    fn filter(&self) -> FeedFilter {
        FeedFilter { skip_actor: self.p.actor.clone(), owners: self.vis.owners() }
    }

    /// A new device gets the saved documents it may see, then the feed from the watermark taken
    /// when it started: anything that changed meanwhile comes again from the feed (harmless).
    /// `counted`: the `remaining` the previous page answered, carried in its cursor.
    fn bootstrap(
        &self,
        tx: &mut dyn DocTx,
        watermark: i64,
        after: &str,
        counted: Option<u64>,
    ) -> Result<PullResponse> {
        let owners = self.vis.owners();
        let rows = tx.docs_after(after, self.limit, self.budget, owners.as_deref())?;
        let last = rows.rows.last().map(|(id, _)| id.clone());
        let items: Vec<PullItem> = rows
            .rows
            .into_iter()
            .filter(|(_, r)| self.vis.sees(&r.owner))
            .map(|(doc_id, r)| PullItem::Snapshot { doc_id, kind: r.kind, data: r.data })
            .collect();
        let Some(last) = last.filter(|_| rows.full) else {
            let remaining = tx.feed_len_after(watermark, &self.filter())?;
            let figure = if remaining > 0 { format!("~{remaining}") } else { String::new() };
            return Ok(PullResponse {
                items,
                cursor: format!("f{}{figure}", mark(tx, watermark, &self.stamp)?),
                more: remaining > 0,
                remaining,
            });
        };
        // The documents after this page: counted at the bootstrap's first page, then what the
        // previous page counted less what this one sends (it sends every visible document
        // between the two cursors). Counting at every page read the rest of the workspace each
        // time: N²/2 rows over a bootstrap of N. Documents written meanwhile are not in it (the
        // figure is for progress bars); once it runs out while pages still come, count again.
        let remaining = match counted.and_then(|n| n.checked_sub(items.len() as u64)) {
            Some(n) if n > 0 => n,
            _ => tx.docs_len_after(&last, owners.as_deref())?,
        };
        Ok(PullResponse {
            items,
            cursor: format!("b{}~{remaining}:{last}", mark(tx, watermark, &self.stamp)?),
            more: true,
            remaining,
        })
    }

    /// The feed after `seq`, filtered by the backend (see [`FeedFilter`]) and again here by
    /// what the user may see now; `max` is the last feed number this read transaction sees, so
    /// a page that ends the feed moves the cursor past the rows the filter skipped too.
    /// `resume`: the owner event at `seq + 1` was sent up to this activity. `counted`: the
    /// `remaining` the previous page answered, carried in its cursor (see [`Page::bootstrap`]).
    fn feed(
        &self,
        tx: &mut dyn DocTx,
        seq: i64,
        resume: Option<String>,
        max: i64,
        counted: Option<u64>,
    ) -> Result<PullResponse> {
        let filter = self.filter();
        // The rows after `stand`, given that `passed` counted rows went by since the cursor.
        let left_after = |tx: &mut dyn DocTx, stand: i64, passed: u64| -> Result<u64> {
            match counted.and_then(|n| n.checked_sub(passed)) {
                Some(n) if n > 0 => Ok(n),
                _ => Ok(tx.feed_len_after(stand, &filter)?),
            }
        };
        let page = tx.feed_after(seq, self.limit, self.budget, &filter)?;
        if resume.is_some()
            && !matches!(page.rows.first(), Some(FeedEntry::Owner { seq: s, .. }) if *s == seq + 1)
        {
            return Err(bad_cursor());
        }
        let mut resume = resume;
        let mut items: Vec<PullItem> = Vec::new();
        let mut bytes = 0usize;
        let mut last = seq;
        // Counted rows up to `last`.
        let mut passed = 0u64;
        // A page cut inside an owner event's activities: (the event's seq, the last activity sent).
        let mut cut: Option<(i64, String)> = None;
        let mut stopped = false;
        // Each record's owner now, read once per page.
        let mut owners: HashMap<String, Option<String>> = HashMap::new();
        let mut sees_now = |tx: &mut dyn DocTx, id: &str| -> Result<bool> {
            if !owners.contains_key(id) {
                owners.insert(id.to_string(), tx.doc_owner(id)?);
            }
            Ok(owners[id].as_deref().is_some_and(|o| self.vis.sees(o)))
        };
        for e in page.rows {
            if bytes >= self.budget && !items.is_empty() {
                stopped = true;
                break;
            }
            match &e {
                FeedEntry::Change { doc_id, kind, owner, actor, data, .. } => {
                    // The backend's filter already left out other owners' rows; checked again
                    // here because a backend that filtered less must still never leak a record.
                    if *actor != self.p.actor && self.vis.sees(owner) && sees_now(tx, doc_id)? {
                        bytes += data.len();
                        let data = serde_bytes::ByteBuf::from(data.clone());
                        match items.last_mut() {
                            Some(PullItem::Changes { doc_id: d, changes, .. }) if d == doc_id => {
                                changes.push(data)
                            }
                            _ => items.push(PullItem::Changes {
                                doc_id: doc_id.clone(),
                                kind: *kind,
                                changes: vec![data],
                            }),
                        }
                    }
                }
                FeedEntry::Owner { seq: at, doc_id, old_owner, new_owner } => {
                    let (was, is) = (self.vis.sees(old_owner), self.vis.sees(new_owner));
                    let now = sees_now(tx, doc_id)?;
                    if is && !was && now {
                        // Resuming inside this event: the lead went out already.
                        let mut after = match resume.take() {
                            Some(a) => a,
                            None => {
                                if let Some(lead) = tx.doc(doc_id)? {
                                    bytes += lead.data.len();
                                    items.push(PullItem::Snapshot {
                                        doc_id: doc_id.clone(),
                                        kind: lead.kind,
                                        data: lead.data,
                                    });
                                }
                                String::new()
                            }
                        };
                        loop {
                            let room = self.budget.saturating_sub(bytes).max(1);
                            let acts = tx.activities_of(doc_id, &after, room)?;
                            for (id, a) in acts.rows {
                                // An activity's owner is its lead's: the lead is visible now.
                                bytes += a.data.len();
                                after = id.clone();
                                items.push(PullItem::Snapshot {
                                    doc_id: id,
                                    kind: a.kind,
                                    data: a.data,
                                });
                            }
                            if !acts.full {
                                break;
                            }
                            if bytes >= self.budget {
                                cut = Some((*at, after.clone()));
                                break;
                            }
                        }
                        if cut.is_some() {
                            break;
                        }
                    } else if was && !is && !now {
                        for id in tx.activity_ids_of(doc_id)? {
                            items.push(PullItem::Drop { doc_id: id });
                        }
                        items.push(PullItem::Drop { doc_id: doc_id.clone() });
                    }
                }
            }
            last = e.seq();
            passed += u64::from(filter.counts(&e));
        }
        if let Some((at, after)) = cut {
            // The cursor stands just before the event, remembering the last activity sent.
            let stand = at - 1;
            let remaining = left_after(tx, stand, passed)?;
            return Ok(PullResponse {
                items,
                cursor: format!("f{}~{remaining}:{after}", mark(tx, stand, &self.stamp)?),
                more: true,
                remaining,
            });
        }
        let more = page.full || stopped;
        if !more {
            // Caught up: the cursor the device keeps until its next sync carries no figure,
            // which would be stale by then.
            last = max.max(seq);
            return Ok(PullResponse {
                items,
                cursor: format!("f{}", mark(tx, last, &self.stamp)?),
                more,
                remaining: 0,
            });
        }
        let remaining = left_after(tx, last, passed)?;
        Ok(PullResponse {
            items,
            cursor: format!("f{}~{remaining}", mark(tx, last, &self.stamp)?),
            more,
            remaining,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::AdminStore;
    use crate::docs::DocCache;
    use crate::push::push;
    use crate::testing::{new_lead, request, workspace};
    use automerge::{ActorId, AutoCommit};
    use std::collections::HashSet;

    fn device(ws: &str, actor: &ActorId) -> Principal {
        crate::testing::device(ws, "ann", actor)
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

    /// A lead with activities changes hands: the user who gains it gets it and every activity
    /// once, even when the page budget ends inside them (the cursor then remembers the last
    /// activity sent); and a rewound cursor does not bring them to the user who lost it.
    #[test]
    fn a_gained_lead_with_many_activities_spans_pages_and_the_loser_gets_none() {
        let (_dir, b, ws) = workspace(&["ann", "bob"]);
        let docs = DocCache::new(0);
        let (anns, bobs, admins) = (ActorId::random(), ActorId::random(), ActorId::random());
        let ann = crate::testing::device(&ws, "ann", &anns);
        let bob = crate::testing::device(&ws, "bob", &bobs);
        b.add_user(&ws, "root", crate::backend::Role::Admin, None).unwrap();
        let mut admin = crate::testing::device(&ws, "root", &admins);
        admin.role = crate::backend::Role::Admin;
        let (lead, mut doc) = new_lead(&anns, "ann", "Kim");
        push(&b, &docs, &ann, request(&lead, doc.get_changes(&[]))).unwrap();
        let mut activities = HashSet::new();
        for i in 0..5 {
            let id = fieldsales_core::model::new_id();
            let draft = fieldsales_core::ActivityDraft::new(
                &lead,
                fieldsales_core::ActivityKind::Call,
                format!("call {i}"),
            );
            let mut a = fieldsales_core::doc::activity::create(anns.clone(), &id, &draft, "ann", 1)
                .unwrap();
            let mut req = request(&id, a.get_changes(&[]));
            req.changes[0].kind = fieldsales_core::doc::DocKind::Activity;
            let r = push(&b, &docs, &ann, req).unwrap();
            assert!(r.rejected.is_empty(), "{:?}", r.rejected);
            activities.insert(id);
        }
        let start = |p: &Principal| pull(&b, p, &PullRequest { cursor: String::new(), limit: 100 });
        let bobs_cursor = start(&bob).unwrap().cursor;
        let anns_cursor = start(&ann).unwrap().cursor;
        // The admin gives the lead to bob.
        let mut moved = doc.fork().with_actor(admins.clone());
        let heads = doc.get_heads();
        fieldsales_core::doc::lead::apply_patch(
            &mut moved,
            &fieldsales_core::LeadPatch { owner: Some("bob".into()), ..Default::default() },
            "root",
            2,
        )
        .unwrap();
        moved.commit();
        let r = push(&b, &docs, &admin, request(&lead, moved.get_changes(&heads))).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);

        let mut cursor = bobs_cursor;
        let mut got = Vec::new();
        let mut resumed = 0;
        loop {
            let page =
                pull_with_budget(&b, &bob, &PullRequest { cursor: cursor.clone(), limit: 100 }, 1)
                    .unwrap();
            for i in &page.items {
                if let PullItem::Snapshot { doc_id, .. } = i {
                    got.push(doc_id.clone());
                }
            }
            assert!(!page.more || page.cursor != cursor, "the cursor moves");
            resumed += usize::from(page.cursor.contains(':'));
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        assert_eq!(got.len(), 6, "the lead and five activities, once each: {got:?}");
        assert_eq!(got[0], lead);
        assert_eq!(got[1..].iter().cloned().collect::<HashSet<_>>(), activities);
        assert!(resumed >= 4, "pages ended inside the event: {resumed}");

        // Ann lost it: from her cursor before, or rewound to the start, nothing but drops.
        for from in [anns_cursor, "f0".to_string()] {
            let page = pull(&b, &ann, &PullRequest { cursor: from, limit: 100 }).unwrap();
            assert!(
                page.items.iter().all(|i| matches!(i, PullItem::Drop { .. })),
                "{:?}",
                page.items
            );
        }
    }

    /// Leads numbered `range`, one in three ann's (written by `actors[0]`), the rest bob's
    /// (`actors[1]`), each pushed by its owner's device: (owner, id, document).
    fn push_leads(
        b: &crate::sqlite::SqliteBackend,
        docs: &DocCache,
        ws: &str,
        actors: &[ActorId; 2],
        range: std::ops::Range<usize>,
    ) -> Vec<(&'static str, String, AutoCommit)> {
        range
            .map(|i| {
                let (owner, actor) =
                    if i % 3 == 0 { ("ann", &actors[0]) } else { ("bob", &actors[1]) };
                let (id, mut doc) = new_lead(actor, owner, &format!("lead {i}"));
                let dev = crate::testing::device(ws, owner, actor);
                let r = push(b, docs, &dev, request(&id, doc.get_changes(&[]))).unwrap();
                assert!(r.rejected.is_empty(), "{:?}", r.rejected);
                (owner, id, doc)
            })
            .collect()
    }

    /// `remaining` at every page of a bootstrap is the number of documents still to come that
    /// the user may see, for an admin and for a rep who sees part of the workspace; each page's
    /// cursor carries it, and the next page goes on from that figure instead of counting the
    /// rest of the workspace again. A cursor without it (issued before) is counted as before.
    #[test]
    fn remaining_is_exact_at_every_page_of_a_bootstrap_and_carried_in_the_cursor() {
        let (_dir, b, ws) = workspace(&["ann", "bob"]);
        b.add_user(&ws, "root", crate::backend::Role::Admin, None).unwrap();
        let docs = DocCache::new(0);
        let leads = push_leads(&b, &docs, &ws, &[ActorId::random(), ActorId::random()], 0..23);
        let all: HashSet<String> = leads.iter().map(|(_, id, _)| id.clone()).collect();
        let ann_ids: HashSet<String> =
            leads.iter().filter(|l| l.0 == "ann").map(|(_, id, _)| id.clone()).collect();
        let ann_tablet = device(&ws, &ActorId::random());
        let mut admin = crate::testing::device(&ws, "root", &ActorId::random());
        admin.role = crate::backend::Role::Admin;
        for (who, sees) in [(&ann_tablet, &ann_ids), (&admin, &all)] {
            let mut cursor = String::new();
            let mut left = sees.clone();
            let mut pages = 0;
            loop {
                let page =
                    pull(&b, who, &PullRequest { cursor: cursor.clone(), limit: 4 }).unwrap();
                for i in &page.items {
                    if let PullItem::Snapshot { doc_id, .. } = i {
                        assert!(left.remove(doc_id), "{doc_id}: not to be sent, or sent twice");
                    }
                }
                assert_eq!(page.remaining, left.len() as u64, "{}: page {pages}", who.user_id);
                cursor = page.cursor;
                pages += 1;
                if !page.more {
                    break;
                }
                assert!(
                    cursor.contains(&format!("~{}:", page.remaining)),
                    "the cursor carries it: {cursor}"
                );
            }
            assert!(left.is_empty());
            assert!(pages >= sees.len() / 4, "{pages} pages");
        }

        let first = pull(&b, &admin, &PullRequest { cursor: String::new(), limit: 4 }).unwrap();
        assert_eq!(first.remaining, 19);
        let (mark, last) = first.cursor.split_once(':').unwrap();
        let (mark, _) = mark.rsplit_once('~').unwrap();
        // The next page goes on from the cursor's figure: it does not count again.
        let carried = format!("{mark}~1000:{last}");
        let next = pull(&b, &admin, &PullRequest { cursor: carried, limit: 4 }).unwrap();
        assert_eq!(next.remaining, 996);
        // A cursor issued before the figure was in it: counted.
        let older = format!("{mark}:{last}");
        let next = pull(&b, &admin, &PullRequest { cursor: older, limit: 4 }).unwrap();
        assert_eq!(next.remaining, 15);
        // A figure that runs out while documents remain: counted again.
        let short = format!("{mark}~2:{last}");
        let next = pull(&b, &admin, &PullRequest { cursor: short, limit: 4 }).unwrap();
        assert_eq!(next.remaining, 15);
    }

    /// On the feed too: at every page with more to come, `remaining` is what counting the rows
    /// after the cursor gives (the user's, an owner event that gives her a lead), though only
    /// the first page counted; the cursor a caught-up device keeps carries no figure.
    #[test]
    fn remaining_is_exact_at_every_page_of_the_feed_and_carried_in_the_cursor() {
        let (_dir, b, ws) = workspace(&["ann", "bob", "cy"]);
        b.add_user(&ws, "root", crate::backend::Role::Admin, None).unwrap();
        let docs = DocCache::new(0);
        let (anns, bobs, admins) = (ActorId::random(), ActorId::random(), ActorId::random());
        let ann_tablet = device(&ws, &ActorId::random());
        let mut admin = crate::testing::device(&ws, "root", &admins);
        admin.role = crate::backend::Role::Admin;
        let start = |p: &Principal| {
            let page = pull(&b, p, &PullRequest { cursor: String::new(), limit: 4 }).unwrap();
            assert!(!page.more);
            page.cursor
        };
        let starts = [(ann_tablet.clone(), start(&ann_tablet)), (admin.clone(), start(&admin))];
        // The admin gives one of bob's leads to cy half way, an owner event ann does not
        // count, and one to ann at the end, one she counts.
        let give = |lead: &str, doc: &mut AutoCommit, to: &str| {
            let mut moved = doc.fork().with_actor(admins.clone());
            let patch = fieldsales_core::LeadPatch { owner: Some(to.into()), ..Default::default() };
            fieldsales_core::doc::lead::apply_patch(&mut moved, &patch, "root", 2).unwrap();
            moved.commit();
            let r = push(&b, &docs, &admin, request(lead, moved.get_changes(&doc.get_heads())))
                .unwrap();
            assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        };
        let actors = [anns, bobs];
        let mut first = push_leads(&b, &docs, &ws, &actors, 0..12);
        let (_, lead, doc) = first.iter_mut().find(|l| l.0 == "bob").unwrap();
        give(lead, doc, "cy");
        let mut then = push_leads(&b, &docs, &ws, &actors, 12..23);
        let (_, lead, doc) = then.iter_mut().rfind(|l| l.0 == "bob").unwrap();
        give(lead, doc, "ann");

        for (who, from) in starts {
            let counted = |cursor: &str| {
                let Some(ParsedCursor { cursor: Cursor::Feed { seq, .. }, .. }) =
                    parse_cursor(cursor).unwrap()
                else {
                    panic!("not a feed cursor: {cursor}")
                };
                b.read(&ws, |tx| {
                    let vis = Visibility::of(tx, &who)?;
                    let filter = FeedFilter { skip_actor: who.actor.clone(), owners: vis.owners() };
                    tx.feed_len_after(seq, &filter)
                })
                .unwrap()
            };
            let first = counted(&from);
            assert!(first >= 9, "{}: {first}", who.user_id);
            let (mut cursor, mut pages) = (from, 0);
            loop {
                let page =
                    pull(&b, &who, &PullRequest { cursor: cursor.clone(), limit: 4 }).unwrap();
                cursor = page.cursor;
                pages += 1;
                if !page.more {
                    assert_eq!(page.remaining, 0);
                    assert_eq!(cursor.matches('~').count(), 2, "no figure kept: {cursor}");
                    break;
                }
                assert_eq!(page.remaining, counted(&cursor), "{}: page {pages}", who.user_id);
                assert!(cursor.ends_with(&format!("~{}", page.remaining)), "{cursor}");
            }
            assert!(pages >= 3, "{}: {pages} pages", who.user_id);
        }
    }

    /// Pages stop at the byte budget and always carry one item; followed to the end, they
    /// deliver everything once.
    #[test]
    fn pages_stop_at_the_byte_budget_and_always_move() {
        let (_dir, b, ws) = workspace(&["ann"]);
        let docs = DocCache::new(0);
        let (phone, tablet) = (ActorId::random(), ActorId::random());
        let mut ids = HashSet::new();
        for i in 0..10 {
            let (id, mut doc) = new_lead(&phone, "ann", &format!("lead {i}"));
            push(&b, &docs, &device(&ws, &phone), request(&id, doc.get_changes(&[]))).unwrap();
            ids.insert(id);
        }
        // A budget smaller than one document: one item a page.
        for (budget, per_page) in [(1, 1), (usize::MAX, 10)] {
            let mut cursor = String::new();
            let mut seen = HashSet::new();
            loop {
                let page = pull_with_budget(
                    &b,
                    &device(&ws, &tablet),
                    &PullRequest { cursor: cursor.clone(), limit: 100 },
                    budget,
                )
                .unwrap();
                assert!(page.items.len() <= per_page, "budget {budget}: {}", page.items.len());
                for i in &page.items {
                    if let PullItem::Snapshot { doc_id, .. } = i {
                        assert!(seen.insert(doc_id.clone()), "{doc_id} twice");
                    }
                }
                assert!(!page.more || page.cursor != cursor, "the cursor moves");
                cursor = page.cursor;
                if !page.more {
                    break;
                }
            }
            assert_eq!(seen, ids, "budget {budget}");
        }
    }
}
