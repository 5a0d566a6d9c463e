//! Group commit: push requests that reach the writer while it is busy are written together in
//! its next transaction, one commit for all of them.
//!
//! Fifty devices syncing at once meant fifty small write transactions in a row, and each commit
//! rewrote the same right-hand pages of the feed's table and indexes (and, every few thousand
//! pages, paid for a checkpoint) while every other push waited for the writer. A request that
//! finds the writer busy queues; whoever gets the writer next takes every queued request of its
//! workspace and commits them in one transaction, each inside its own savepoint, so a request
//! that fails is undone alone and the others still commit. Responses go out only after the
//! commit, so a device is never told "accepted" for something a crash could still lose.
//!
//! A push parked here has given its worker back (waiting takes no CPU), but still holds what it
//! worked out: documents, loaded and saved. [`GroupCommit::park`] bounds that by a budget of
//! bytes ([`Prepared::bytes`]); a push that finds it spent keeps its worker while it waits, so
//! new requests wait at the door instead of piling up in memory. The request that writes takes every waiting
//! request, one transaction per workspace in arrival order, so no workspace waits behind a
//! busier one for more than a round.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use fieldsales_core::sync::protocol::PushResponse;

use crate::backend::{Backend, Principal};
use crate::docs::DocCache;
use crate::error::ApiError;

type Result<T, E = ApiError> = std::result::Result<T, E>;
use crate::push::{self as sync, Committed, Prepared};

struct Waiting {
    ticket: u64,
    p: Principal,
    prepared: Vec<Prepared>,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<Waiting>,
    /// A request is writing a group; the others wait for it to finish.
    writing: bool,
    /// Answers for requests committed by another request, by ticket.
    done: HashMap<u64, Result<PushResponse>>,
}

/// Bytes that parked pushes may hold at once (see [`GroupCommit::park`]): fifty devices pushing
/// a loop's worth of leads of a few KB each park a few MB.
pub const PARKED_BYTES: usize = 256 * 1024 * 1024;

pub struct GroupCommit {
    queue: Mutex<Queue>,
    /// Signalled whenever a group has been written.
    written: Condvar,
    parked: AtomicUsize,
    park_budget: usize,
    transactions: AtomicU64,
    requests: AtomicU64,
}

impl Default for GroupCommit {
    fn default() -> Self {
        GroupCommit::with_park_budget(PARKED_BYTES)
    }
}

/// A share of the parking budget, given back when dropped.
pub struct Parked<'a> {
    group: &'a GroupCommit,
    bytes: usize,
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.group.parked.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `waiting` in groups of one workspace each (never empty), ordered by each group's first
/// arrival, arrival order kept inside a group.
fn by_workspace(waiting: Vec<Waiting>) -> Vec<Vec<Waiting>> {
    let mut groups: Vec<Vec<Waiting>> = Vec::new();
    for w in waiting {
        match groups.iter_mut().find(|g| g[0].p.workspace_id == w.p.workspace_id) {
            Some(g) => g.push(w),
            None => groups.push(vec![w]),
        }
    }
    groups
}

/// Hands the writer back when a group is done, also if writing it panicked: its requests then
/// get an error instead of waiting forever.
struct Leading<'a> {
    group: &'a GroupCommit,
    tickets: Vec<u64>,
    answers: Vec<(u64, Result<PushResponse>)>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let mut q = lock(&self.group.queue);
        q.done.extend(self.answers.drain(..));
        for t in self.tickets.drain(..) {
            q.done.entry(t).or_insert_with(|| {
                Err(ApiError::internal("the push failed inside the server; retry it"))
            });
        }
        q.writing = false;
        self.group.written.notify_all();
    }
}

impl GroupCommit {
    pub fn new() -> Self {
        GroupCommit::default()
    }

    /// As [`GroupCommit::new`], with room for `bytes` of parked pushes.
    pub fn with_park_budget(bytes: usize) -> Self {
        GroupCommit {
            queue: Mutex::default(),
            written: Condvar::new(),
            parked: AtomicUsize::new(0),
            park_budget: bytes,
            transactions: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        }
    }

    /// Room to wait for the writer without a worker, for a push holding `bytes`; `None` when
    /// the budget is spent (a push bigger than the whole budget gets room only when nothing
    /// else is parked).
    pub fn park(&self, bytes: usize) -> Option<Parked<'_>> {
        let bytes = bytes.max(1);
        self.parked
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                (now == 0 || now + bytes <= self.park_budget).then_some(now + bytes)
            })
            .ok()
            .map(|_| Parked { group: self, bytes })
    }

    /// The last step of a push ([`push::commit_push`]), shared with whichever requests are
    /// waiting for the writer at the same time. Returns once the request is committed.
    pub fn commit<B: Backend>(
        &self,
        backend: &B,
        docs: &DocCache,
        p: &Principal,
        prepared: Vec<Prepared>,
    ) -> Result<PushResponse> {
        let mut q = lock(&self.queue);
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.waiting.push(Waiting { ticket, p: p.clone(), prepared });
        loop {
            // Committed by this request or, meanwhile, by another one with its own group.
            if let Some(answer) = q.done.remove(&ticket) {
                return answer;
            }
            if q.writing {
                q = self.written.wait(q).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // The writer is free and this request is still waiting: it writes every waiting
            // request (its own among them), one transaction per workspace, in arrival order.
            q.writing = true;
            let waiting = std::mem::take(&mut q.waiting);
            drop(q);
            let mut leading = Leading {
                group: self,
                tickets: waiting.iter().map(|w| w.ticket).collect(),
                answers: Vec::new(),
            };
            for batch in by_workspace(waiting) {
                let workspace = batch[0].p.workspace_id.clone();
                let answers = self.write(backend, docs, &workspace, batch);
                leading.answers.extend(answers);
            }
            drop(leading);
            q = lock(&self.queue);
        }
    }

    /// Write transactions and the requests they held since start: their ratio is the group size.
    pub fn transactions_and_requests(&self) -> (u64, u64) {
        (self.transactions.load(Ordering::Relaxed), self.requests.load(Ordering::Relaxed))
    }

    fn write<B: Backend>(
        &self,
        backend: &B,
        docs: &DocCache,
        workspace: &str,
        mut batch: Vec<Waiting>,
    ) -> Vec<(u64, Result<PushResponse>)> {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(batch.len() as u64, Ordering::Relaxed);
        if batch.len() == 1 {
            // Alone: no savepoint needed, an error rolls back the transaction.
            return batch
                .pop()
                .map(|w| (w.ticket, sync::commit_push(backend, docs, &w.p, w.prepared)))
                .into_iter()
                .collect();
        }
        let tickets: Vec<u64> = batch.iter().map(|w| w.ticket).collect();
        let written = backend.write(workspace, |tx| -> Result<Vec<Result<Committed>>> {
            let mut out: Vec<Result<Committed>> = Vec::with_capacity(batch.len());
            for w in batch {
                tx.savepoint()?;
                match sync::commit_request(tx, docs, &w.p, w.prepared) {
                    Ok(c) => {
                        tx.release_savepoint()?;
                        out.push(Ok(c));
                    }
                    Err(e) => {
                        tx.rollback_to_savepoint()?;
                        out.push(Err(e));
                    }
                }
            }
            Ok(out)
        });
        match written {
            Ok(results) => tickets
                .into_iter()
                .zip(results)
                .map(|(t, r)| (t, r.map(|c| c.publish(docs, workspace))))
                .collect(),
            Err(e) => tickets.into_iter().map(|t| (t, Err(e.clone()))).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::AdminStore;
    use crate::backend::Role;
    use crate::sqlite::SqliteBackend;
    use crate::testing::{device, new_lead, request, workspace};
    use automerge::{ActorId, AutoCommit, ROOT, ReadDoc, transaction::Transactable};
    use std::sync::Arc;

    /// Holds the writer while `n` requests queue, then lets them go: they must commit in one
    /// transaction.
    fn commit_together(
        group: &Arc<GroupCommit>,
        b: &Arc<SqliteBackend>,
        docs: &Arc<DocCache>,
        requests: Vec<(Principal, Vec<Prepared>)>,
    ) -> Vec<Result<PushResponse>> {
        let n = requests.len();
        lock(&group.queue).writing = true;
        let handles: Vec<_> = requests
            .into_iter()
            .map(|(p, prepared)| {
                let (group, b, docs) = (group.clone(), b.clone(), docs.clone());
                std::thread::spawn(move || group.commit(&*b, &docs, &p, prepared))
            })
            .collect();
        while lock(&group.queue).waiting.len() < n {
            std::thread::yield_now();
        }
        lock(&group.queue).writing = false;
        group.written.notify_all();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }

    #[test]
    fn requests_waiting_for_the_writer_commit_in_one_transaction_and_each_gets_its_answer() {
        let (_dir, b, ws) = workspace(&["ann", "bob"]);
        let b = Arc::new(b);
        let docs = Arc::new(DocCache::new(16));
        let group = Arc::new(GroupCommit::new());

        // Ann's phone and tablet edit the same lead; Bob captures his own; Bob also tries to
        // give himself a lead owned by Ann (refused: per document, not the whole group).
        let (phone, tablet, bobs) = (ActorId::random(), ActorId::random(), ActorId::random());
        let (shared, mut on_phone) = new_lead(&phone, "ann", "Kim");
        let created = on_phone.get_changes(&[]);
        let p_phone = device(&ws, "ann", &phone);
        sync::push(&*b, &docs, &p_phone, request(&shared, created)).unwrap();
        let heads = on_phone.get_heads();
        let mut on_tablet = on_phone.fork().with_actor(tablet.clone());
        on_phone.put(ROOT, "company", "Acme").unwrap();
        on_phone.commit();
        on_tablet.put(ROOT, "title", "CTO").unwrap();
        on_tablet.commit();
        let (own, mut bobs_lead) = new_lead(&bobs, "bob", "Lee");
        let (foreign, mut foreign_lead) = new_lead(&bobs, "ann", "Park");
        let p_tablet = device(&ws, "ann", &tablet);
        let p_bob = device(&ws, "bob", &bobs);
        let requests = vec![
            (
                p_phone.clone(),
                sync::prepare_push(
                    &*b,
                    &docs,
                    &p_phone,
                    request(&shared, on_phone.get_changes(&heads)),
                )
                .unwrap(),
            ),
            (
                p_tablet.clone(),
                sync::prepare_push(
                    &*b,
                    &docs,
                    &p_tablet,
                    request(&shared, on_tablet.get_changes(&heads)),
                )
                .unwrap(),
            ),
            (
                p_bob.clone(),
                sync::prepare_push(&*b, &docs, &p_bob, request(&own, bobs_lead.get_changes(&[])))
                    .unwrap(),
            ),
            (
                p_bob.clone(),
                sync::prepare_push(
                    &*b,
                    &docs,
                    &p_bob,
                    request(&foreign, foreign_lead.get_changes(&[])),
                )
                .unwrap(),
            ),
        ];
        let before = group.transactions_and_requests();
        let results = commit_together(&group, &b, &docs, requests);
        let (tx, reqs) = group.transactions_and_requests();
        assert_eq!(
            (tx - before.0, reqs - before.1),
            (1, 4),
            "one transaction for the four waiting requests"
        );

        let results: Vec<PushResponse> = results.into_iter().map(|r| r.unwrap()).collect();
        for r in &results[..3] {
            assert!(r.rejected.is_empty(), "{:?}", r.rejected);
            assert_eq!(r.accepted.len(), 1);
        }
        assert_eq!(results[3].accepted.len(), 0);
        assert_eq!(results[3].rejected.len(), 1);
        assert_eq!(results[3].rejected[0].code, "forbidden");

        let stored = b.read(&ws, |tx| tx.doc(&shared)).unwrap().expect("stored");
        let stored = AutoCommit::load(&stored.data).unwrap();
        let field = |k: &str| {
            stored
                .get(ROOT, k)
                .unwrap()
                .and_then(|(v, _)| v.into_scalar().ok())
                .and_then(|s| s.into_string().ok())
        };
        assert_eq!(
            field("company").as_deref(),
            Some("Acme"),
            "both devices' edits to one lead are kept"
        );
        assert_eq!(field("title").as_deref(), Some("CTO"));
        assert!(b.read(&ws, |tx| tx.doc(&own)).unwrap().is_some());
        assert!(
            b.read(&ws, |tx| tx.doc(&foreign)).unwrap().is_none(),
            "a refused document leaves no trace"
        );
        let feed = crate::testing::feed(&b, &ws);
        assert_eq!(feed.len(), 4, "the creation, two edits and Bob's lead, once each");
    }

    #[test]
    fn parked_pushes_are_bounded_by_their_bytes() {
        let group = GroupCommit::with_park_budget(10);
        let a = group.park(6).expect("room for 6 of 10");
        assert!(group.park(5).is_none(), "6 + 5 > 10");
        let b = group.park(4).expect("6 + 4 = 10");
        assert!(group.park(1).is_none());
        drop(a);
        let c = group.park(6).expect("room again once a push left");
        drop((b, c));
        let big = group.park(50).expect("a push bigger than the budget parks when it is alone");
        assert!(group.park(1).is_none());
        drop(big);
        assert_eq!(group.parked.load(Ordering::Acquire), 0);
    }

    #[test]
    fn a_writer_round_takes_every_workspace_in_arrival_order() {
        let w = |ticket: u64, ws: &str| Waiting {
            ticket,
            p: device(ws, "ann", &ActorId::random()),
            prepared: Vec::new(),
        };
        let groups = by_workspace(vec![w(0, "b"), w(1, "a"), w(2, "b"), w(3, "c"), w(4, "a")]);
        let tickets: Vec<Vec<u64>> =
            groups.iter().map(|g| g.iter().map(|w| w.ticket).collect()).collect();
        assert_eq!(tickets, vec![vec![0, 2], vec![1, 4], vec![3]]);
    }

    /// Pushes of two workspaces wait together: each is committed in its own workspace, one
    /// transaction per workspace.
    #[test]
    fn pushes_of_two_workspaces_waiting_together_commit_each_in_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let b = Arc::new(SqliteBackend::open(dir.path()).unwrap());
        let docs = Arc::new(DocCache::new(16));
        let group = Arc::new(GroupCommit::new());
        let mut requests = Vec::new();
        let mut expected = Vec::new();
        for name in ["north", "south"] {
            let ws = b.create_workspace(name).unwrap().id;
            b.add_user(&ws, "ann", Role::Rep, None).unwrap();
            for _ in 0..2 {
                let actor = ActorId::random();
                let p = device(&ws, "ann", &actor);
                let (id, mut doc) = new_lead(&actor, "ann", name);
                requests.push((
                    p.clone(),
                    sync::prepare_push(&*b, &docs, &p, request(&id, doc.get_changes(&[]))).unwrap(),
                ));
                expected.push((ws.clone(), id));
            }
        }
        // Arrival order north, south, north, south.
        requests.swap(1, 2);
        expected.swap(1, 2);
        let results = commit_together(&group, &b, &docs, requests);
        assert_eq!(group.transactions_and_requests(), (2, 4), "a transaction per workspace");
        for (r, (ws, id)) in results.into_iter().zip(&expected) {
            assert_eq!(r.unwrap().accepted.len(), 1);
            assert!(
                b.read(ws, |tx| tx.doc(id)).unwrap().is_some(),
                "{id} stored in its own workspace"
            );
        }
        assert!(
            b.read(&expected[0].0, |tx| tx.doc(&expected[1].1)).unwrap().is_none(),
            "nothing crosses workspaces"
        );
    }

    /// A request whose storage work fails inside a shared transaction is undone alone: the
    /// other requests commit, and nothing of the failed one is stored.
    #[test]
    fn a_request_that_fails_in_a_shared_transaction_fails_alone() {
        let (_dir, b, ws) = workspace(&["ann"]);
        let b = Arc::new(b);
        let docs = Arc::new(DocCache::new(0));
        let group = Arc::new(GroupCommit::new());
        let (phone, tablet) = (ActorId::random(), ActorId::random());
        let (p_phone, p_tablet) = (device(&ws, "ann", &phone), device(&ws, "ann", &tablet));

        let (broken, mut doc) = new_lead(&phone, "ann", "Kim");
        sync::push(&*b, &docs, &p_phone, request(&broken, doc.get_changes(&[]))).unwrap();
        let heads = doc.get_heads();
        doc.put(ROOT, "company", "Acme").unwrap();
        doc.commit();
        // The failing request first stores a new lead, then fails on the broken one: the lead
        // must go with it.
        let (first, mut first_doc) = new_lead(&phone, "ann", "Park");
        let mut both = request(&first, first_doc.get_changes(&[]));
        both.changes.extend(request(&broken, doc.get_changes(&heads)).changes);
        let edit = sync::prepare_push(&*b, &docs, &p_phone, both).unwrap();
        // Storing the edit fails (a trigger stands for a full disk).
        {
            let c = rusqlite::Connection::open(_dir.path().join("fieldsales-server.db")).unwrap();
            c.execute_batch(&format!(
                "CREATE TRIGGER fail BEFORE UPDATE ON documents WHEN NEW.id = '{broken}' BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
            ))
            .unwrap();
        }
        let (fine, mut fine_doc) = new_lead(&tablet, "ann", "Lee");
        let capture =
            sync::prepare_push(&*b, &docs, &p_tablet, request(&fine, fine_doc.get_changes(&[])))
                .unwrap();

        let results =
            commit_together(&group, &b, &docs, vec![(p_phone, edit), (p_tablet, capture)]);
        assert_eq!(group.transactions_and_requests(), (1, 2));
        let err = results[0].as_ref().unwrap_err();
        assert_eq!(err.code, "internal");
        let ok = results[1].as_ref().unwrap();
        assert_eq!(ok.accepted.len(), 1, "{:?}", ok.rejected);
        assert!(b.read(&ws, |tx| tx.doc(&fine)).unwrap().is_some());
        assert!(
            b.read(&ws, |tx| tx.doc(&first)).unwrap().is_none(),
            "the failed request is undone whole"
        );
        let feed = crate::testing::feed(&b, &ws);
        assert_eq!(
            feed.len(),
            2,
            "the first creation and the other request's lead; nothing of the failed request"
        );
    }
}
