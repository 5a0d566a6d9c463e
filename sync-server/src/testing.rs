//! What the unit tests of the push path share: a workspace on a fresh store, rep devices, new
//! leads and the push requests that carry them.

use automerge::{ActorId, AutoCommit, Change};
use fieldsales_core::doc::DocKind;
use fieldsales_core::sync::protocol::{PushChange, PushRequest};

use crate::admin::AdminStore;
use crate::backend::{Backend, FeedEntry, FeedFilter, Principal, Role};
use crate::sqlite::SqliteBackend;

/// A store in a temporary directory (kept while the `TempDir` lives) with workspace "w" and
/// these users as reps.
pub fn workspace(reps: &[&str]) -> (tempfile::TempDir, SqliteBackend, String) {
    let dir = tempfile::tempdir().unwrap();
    let b = SqliteBackend::open(dir.path()).unwrap();
    let ws = b.create_workspace("w").unwrap().id;
    for user in reps {
        b.add_user(&ws, user, Role::Rep, None).unwrap();
    }
    (dir, b, ws)
}

/// A device of rep `user`, writing as `actor`.
pub fn device(ws: &str, user: &str, actor: &ActorId) -> Principal {
    Principal {
        device_id: actor.to_hex_string(),
        user_id: user.into(),
        workspace_id: ws.into(),
        role: Role::Rep,
        team_id: None,
        actor: actor.to_hex_string(),
    }
}

/// A push of `changes` to lead `id`.
pub fn request(id: &str, changes: Vec<Change>) -> PushRequest {
    PushRequest {
        changes: changes
            .into_iter()
            .map(|c| PushChange {
                doc_id: id.into(),
                kind: DocKind::Lead,
                change: c.raw_bytes().to_vec(),
            })
            .collect(),
    }
}

/// A new lead named `name`, owned by `owner`, written by `actor`.
pub fn new_lead(actor: &ActorId, owner: &str, name: &str) -> (String, AutoCommit) {
    let id = fieldsales_core::model::new_id();
    let draft = fieldsales_core::LeadDraft { name: Some(name.into()), ..Default::default() };
    let doc = fieldsales_core::doc::lead::create(actor.clone(), &id, &draft, owner, 1).unwrap();
    (id, doc)
}

/// Every row of a workspace's feed, in order.
pub fn feed(b: &SqliteBackend, ws: &str) -> Vec<FeedEntry> {
    let all = FeedFilter { skip_actor: String::new(), owners: None };
    b.read(ws, |tx| tx.feed_after(0, 10_000, usize::MAX, &all)).unwrap().rows
}
