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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use fieldsales_core::sync::protocol::PushResponse;

use crate::backend::{Backend, Principal, Result};
use crate::docs::DocCache;
use crate::error::ApiError;
use crate::sync::{self, Committed, Prepared};

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

#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Queue>,
    /// Signalled whenever a group has been written.
    written: Condvar,
    transactions: AtomicU64,
    requests: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
            q.done.entry(t).or_insert_with(|| Err(ApiError::internal("the push failed inside the server; retry it")));
        }
        q.writing = false;
        self.group.written.notify_all();
    }
}

impl GroupCommit {
    pub fn new() -> Self {
        GroupCommit::default()
    }

    /// The last step of a push ([`sync::commit_push`]), shared with whichever requests are
    /// waiting for the writer at the same time. Returns once the request is committed.
    pub fn commit<B: Backend>(&self, backend: &B, docs: &DocCache, p: &Principal, prepared: Vec<Prepared>) -> Result<PushResponse> {
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
            // request of its workspace (its own among them).
            q.writing = true;
            let (batch, others): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut q.waiting).into_iter().partition(|w| w.p.workspace_id == p.workspace_id);
            q.waiting = others;
            drop(q);
            let mut leading = Leading { group: self, tickets: batch.iter().map(|w| w.ticket).collect(), answers: Vec::new() };
            leading.answers = self.write(backend, docs, &p.workspace_id, batch);
            drop(leading);
            q = lock(&self.queue);
        }
    }

    /// Write transactions and the requests they held since start: their ratio is the group size.
    pub fn transactions_and_requests(&self) -> (u64, u64) {
        (self.transactions.load(Ordering::Relaxed), self.requests.load(Ordering::Relaxed))
    }

    fn write<B: Backend>(&self, backend: &B, docs: &DocCache, workspace: &str, mut batch: Vec<Waiting>) -> Vec<(u64, Result<PushResponse>)> {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(batch.len() as u64, Ordering::Relaxed);
        if batch.len() == 1 {
            // Alone: no savepoint needed, an error rolls back the transaction.
            return batch.pop().map(|w| (w.ticket, sync::commit_push(backend, docs, &w.p, w.prepared))).into_iter().collect();
        }
        let tickets: Vec<u64> = batch.iter().map(|w| w.ticket).collect();
        let written = backend.write(workspace, |tx| {
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
            Ok(results) => tickets.into_iter().zip(results).map(|(t, r)| (t, r.map(|c| c.publish(docs, workspace)))).collect(),
            Err(e) => tickets.into_iter().map(|t| (t, Err(e.clone()))).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use crate::backend::{DocRow, FeedFilter, Role};
    use crate::sqlite::SqliteBackend;
    use automerge::{ActorId, AutoCommit, ROOT, ReadDoc, transaction::Transactable};
    use fieldsales_core::doc::DocKind;
    use fieldsales_core::sync::protocol::{PushChange, PushRequest};

    fn device(ws: &str, user: &str, actor: &ActorId) -> Principal {
        Principal { device_id: actor.to_hex_string(), user_id: user.into(), workspace_id: ws.into(), role: Role::Rep, team_id: None, actor: actor.to_hex_string() }
    }

    fn request(id: &str, changes: Vec<automerge::Change>) -> PushRequest {
        PushRequest { changes: changes.into_iter().map(|c| PushChange { doc_id: id.into(), kind: DocKind::Lead, change: c.raw_bytes().to_vec() }).collect() }
    }

    fn new_lead(actor: &ActorId, owner: &str, name: &str) -> (String, AutoCommit) {
        let id = fieldsales_core::model::new_id();
        let draft = fieldsales_core::LeadDraft { name: Some(name.into()), ..Default::default() };
        let doc = fieldsales_core::doc::lead::create(actor.clone(), &id, &draft, owner, 1).unwrap();
        (id, doc)
    }

    /// Holds the writer while `n` requests queue, then lets them go: they must commit in one
    /// transaction.
    fn commit_together(group: &Arc<GroupCommit>, b: &Arc<SqliteBackend>, docs: &Arc<DocCache>, requests: Vec<(Principal, Vec<Prepared>)>) -> Vec<Result<PushResponse>> {
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
        let dir = tempfile::tempdir().unwrap();
        let b = Arc::new(SqliteBackend::open(dir.path()).unwrap());
        let ws = b.create_workspace("w").unwrap().id;
        b.add_user(&ws, "ann", Role::Rep, None).unwrap();
        b.add_user(&ws, "bob", Role::Rep, None).unwrap();
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
            (p_phone.clone(), sync::prepare_push(&*b, &docs, &p_phone, request(&shared, on_phone.get_changes(&heads))).unwrap()),
            (p_tablet.clone(), sync::prepare_push(&*b, &docs, &p_tablet, request(&shared, on_tablet.get_changes(&heads))).unwrap()),
            (p_bob.clone(), sync::prepare_push(&*b, &docs, &p_bob, request(&own, bobs_lead.get_changes(&[]))).unwrap()),
            (p_bob.clone(), sync::prepare_push(&*b, &docs, &p_bob, request(&foreign, foreign_lead.get_changes(&[]))).unwrap()),
        ];
        let before = group.transactions_and_requests();
        let results = commit_together(&group, &b, &docs, requests);
        let (tx, reqs) = group.transactions_and_requests();
        assert_eq!((tx - before.0, reqs - before.1), (1, 4), "one transaction for the four waiting requests");

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
        let field = |k: &str| stored.get(ROOT, k).unwrap().and_then(|(v, _)| v.into_scalar().ok()).and_then(|s| s.into_string().ok());
        assert_eq!(field("company").as_deref(), Some("Acme"), "both devices' edits to one lead are kept");
        assert_eq!(field("title").as_deref(), Some("CTO"));
        assert!(b.read(&ws, |tx| tx.doc(&own)).unwrap().is_some());
        assert!(b.read(&ws, |tx| tx.doc(&foreign)).unwrap().is_none(), "a refused document leaves no trace");
        let feed = b.read(&ws, |tx| tx.feed_after(0, 100, &FeedFilter { skip_actor: String::new(), owners: None })).unwrap();
        assert_eq!(feed.len(), 4, "the creation, two edits and Bob's lead, once each");
    }

    /// A request whose storage work fails inside a shared transaction is undone alone: the
    /// other requests commit, and nothing of the failed one is stored.
    #[test]
    fn a_request_that_fails_in_a_shared_transaction_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let b = Arc::new(SqliteBackend::open(dir.path()).unwrap());
        let ws = b.create_workspace("w").unwrap().id;
        b.add_user(&ws, "ann", Role::Rep, None).unwrap();
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
        // The stored document turns unreadable after the edit was worked out: committing it
        // must load it again, and fails.
        b.write(&ws, |tx| tx.put_doc(&broken, &DocRow { kind: DocKind::Lead, owner: "ann".into(), lead_id: None, data: b"not automerge".to_vec() })).unwrap();
        let (fine, mut fine_doc) = new_lead(&tablet, "ann", "Lee");
        let capture = sync::prepare_push(&*b, &docs, &p_tablet, request(&fine, fine_doc.get_changes(&[]))).unwrap();

        let results = commit_together(&group, &b, &docs, vec![(p_phone, edit), (p_tablet, capture)]);
        assert_eq!(group.transactions_and_requests(), (1, 2));
        let err = results[0].as_ref().unwrap_err();
        assert_eq!(err.code, "internal");
        let ok = results[1].as_ref().unwrap();
        assert_eq!(ok.accepted.len(), 1, "{:?}", ok.rejected);
        assert!(b.read(&ws, |tx| tx.doc(&fine)).unwrap().is_some());
        assert!(b.read(&ws, |tx| tx.doc(&first)).unwrap().is_none(), "the failed request is undone whole");
        let feed = b.read(&ws, |tx| tx.feed_after(0, 100, &FeedFilter { skip_actor: String::new(), owners: None })).unwrap();
        assert_eq!(feed.len(), 2, "the first creation and the other request's lead; nothing of the failed request");
    }
}
