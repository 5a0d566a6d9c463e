//! Where committed writes meet live-update streams. A write transaction records what it appended
//! ([`Moved`]: the owners the changes were written under, who wrote them, whether a record
//! changed hands). After the commit the backend hands it to the [`Hub`]: the SQLite backend
//! directly, the PostgreSQL backend through `NOTIFY` inside the transaction, which every instance
//! `LISTEN`s to (`postgres/listen.rs`), so that a device connected to instance B hears of a push
//! to instance A. The hub wakes the subscribers of that workspace whose user may see one of
//! those owners; a subscriber's wake-ups coalesce (a [`tokio::sync::Notify`] permit), so a busy
//! workspace costs each device one event per pull it can make, not one per push. The HTTP
//! stream over it is `events.rs`.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::principal::{Principal, Visibility};

/// What one committed write transaction appended to a workspace's feed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    /// Owners the new feed rows were written under (both owners of a hand-over).
    #[serde(rename = "o", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub owners: BTreeSet<String>,
    /// Actors that wrote the changes: a device is not told of its own pushes.
    #[serde(rename = "a", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub actors: BTreeSet<String>,
    /// A record changed hands: everyone who sees either owner is told, whoever wrote it.
    #[serde(rename = "h", default, skip_serializing_if = "std::ops::Not::not")]
    pub handover: bool,
    /// Everyone in the workspace is told (the details did not fit a notification).
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    pub everyone: bool,
}

impl Moved {
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty() && !self.everyone
    }

    /// Whether a device writing as `actor`, whose user sees `vis`, should be told.
    pub fn concerns(&self, vis: &Visibility, actor: &str) -> bool {
        if self.everyone {
            return true;
        }
        let own = !self.handover && self.actors.len() == 1 && self.actors.contains(actor);
        !own && self.owners.iter().any(|o| vis.sees(o))
    }
}

/// [`Moved`] as a write transaction builds it, with the savepoints of group commit: a request
/// rolled back to its savepoint takes back what it recorded.
#[derive(Default)]
pub struct MovedLog {
    now: Moved,
    mark: Option<Moved>,
}

impl MovedLog {
    pub fn change(&mut self, owner: &str, actor: &str) {
        self.now.owners.insert(owner.to_string());
        self.now.actors.insert(actor.to_string());
    }

    pub fn handover(&mut self, old: &str, new: &str) {
        self.now.owners.insert(old.to_string());
        self.now.owners.insert(new.to_string());
        self.now.handover = true;
    }

    pub fn savepoint(&mut self) {
        self.mark = Some(self.now.clone());
    }

    pub fn release(&mut self) {
        self.mark = None;
    }

    pub fn rollback(&mut self) {
        if let Some(m) = self.mark.take() {
            self.now = m;
        }
    }

    pub fn into_moved(self) -> Moved {
        self.now
    }
}

/// A workspace's moves as one `NOTIFY` payload (PostgreSQL allows 8,000 bytes): too many owners
/// become "everyone".
pub fn payload(workspace: &str, moved: &Moved) -> String {
    #[derive(Serialize)]
    struct P<'a> {
        w: &'a str,
        m: &'a Moved,
    }
    let full = serde_json::to_string(&P { w: workspace, m: moved }).unwrap_or_default();
    if full.len() <= 7_000 && !full.is_empty() {
        return full;
    }
    let everyone = Moved { everyone: true, ..Moved::default() };
    serde_json::to_string(&P { w: workspace, m: &everyone }).unwrap_or_default()
}

/// The workspace and moves of a `NOTIFY` payload; `None` if it is not one.
pub fn parse_payload(s: &str) -> Option<(String, Moved)> {
    #[derive(Deserialize)]
    struct P {
        w: String,
        m: Moved,
    }
    serde_json::from_str::<P>(s).ok().map(|p| (p.w, p.m))
}

/// One connected device.
pub struct Subscriber {
    id: u64,
    pub device_id: String,
    pub actor: String,
    pub workspace: String,
    vis: Mutex<Visibility>,
    wake: Notify,
    revoked: AtomicBool,
    closed: AtomicBool,
}

/// Why a stream ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Revoked,
    ShuttingDown,
}

impl Subscriber {
    /// Waits for the next wake-up (coalesced): `Ok` when the feed moved, `Err` when the stream
    /// must end.
    pub async fn next(&self) -> Result<(), End> {
        self.wake.notified().await;
        self.ended().map_or(Ok(()), Err)
    }

    pub fn ended(&self) -> Option<End> {
        if self.revoked.load(Ordering::Acquire) {
            Some(End::Revoked)
        } else if self.closed.load(Ordering::Acquire) {
            Some(End::ShuttingDown)
        } else {
            None
        }
    }

    pub fn set_visibility(&self, vis: Visibility) {
        *lock(&self.vis) = vis;
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Connected devices by workspace, and what moved.
#[derive(Default)]
pub struct Hub {
    subs: Mutex<HashMap<String, HashMap<u64, Arc<Subscriber>>>>,
    next_id: AtomicU64,
    closed: AtomicBool,
    published: AtomicU64,
    woken: AtomicU64,
    /// The revocation sweep runs.
    sweeping: AtomicBool,
}

/// A device's place in the hub, given back when the stream is dropped.
pub struct Subscription {
    hub: Arc<Hub>,
    pub sub: Arc<Subscriber>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut subs = lock(&self.hub.subs);
        if let Some(ws) = subs.get_mut(&self.sub.workspace) {
            ws.remove(&self.sub.id);
            if ws.is_empty() {
                subs.remove(&self.sub.workspace);
            }
        }
    }
}

impl Hub {
    /// Whether the caller is the first to start the revocation sweep (`events.rs`), which runs
    /// once per hub.
    pub fn claim_sweep(&self) -> bool {
        !self.sweeping.swap(true, Ordering::AcqRel)
    }

    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    pub fn subscribe(self: &Arc<Self>, p: &Principal, vis: Visibility) -> Subscription {
        let sub = Arc::new(Subscriber {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            device_id: p.device_id.clone(),
            actor: p.actor.clone(),
            workspace: p.workspace_id.clone(),
            vis: Mutex::new(vis),
            wake: Notify::new(),
            revoked: AtomicBool::new(false),
            closed: AtomicBool::new(self.closed.load(Ordering::Acquire)),
        });
        lock(&self.subs).entry(p.workspace_id.clone()).or_default().insert(sub.id, sub.clone());
        Subscription { hub: self.clone(), sub }
    }

    /// Wakes the workspace's subscribers that `moved` concerns.
    pub fn publish(&self, workspace: &str, moved: &Moved) {
        if moved.is_empty() {
            return;
        }
        self.published.fetch_add(1, Ordering::Relaxed);
        let subs = lock(&self.subs);
        let Some(ws) = subs.get(workspace) else { return };
        for s in ws.values() {
            if moved.concerns(&lock(&s.vis), &s.actor) {
                s.wake.notify_one();
                self.woken.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Wakes every subscriber: notifications may have been lost (the listening connection to
    /// PostgreSQL dropped), and a spurious pull is harmless.
    pub fn publish_everywhere(&self) {
        for ws in lock(&self.subs).values() {
            for s in ws.values() {
                s.wake.notify_one();
            }
        }
    }

    /// Connected devices, for the revocation sweep.
    pub fn device_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = lock(&self.subs)
            .values()
            .flat_map(|ws| ws.values().map(|s| s.device_id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Ends the streams of these devices.
    pub fn revoke(&self, device_ids: &[String]) {
        for ws in lock(&self.subs).values() {
            for s in ws.values().filter(|s| device_ids.contains(&s.device_id)) {
                s.revoked.store(true, Ordering::Release);
                s.wake.notify_one();
            }
        }
    }

    /// Ends every stream (shutdown) and refuses new ones from now on.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for ws in lock(&self.subs).values() {
            for s in ws.values() {
                s.closed.store(true, Ordering::Release);
                s.wake.notify_one();
            }
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Open streams.
    pub fn connections(&self) -> usize {
        lock(&self.subs).values().map(HashMap::len).sum()
    }

    /// Moves published, and subscribers woken by them, since start.
    pub fn published_and_woken(&self) -> (u64, u64) {
        (self.published.load(Ordering::Relaxed), self.woken.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Role;
    use std::collections::HashSet;

    fn principal(device: &str, ws: &str) -> Principal {
        Principal {
            device_id: device.into(),
            user_id: "u".into(),
            workspace_id: ws.into(),
            role: Role::Rep,
            team_id: None,
            actor: format!("actor-{device}"),
        }
    }

    fn sees(owners: &[&str]) -> Visibility {
        Visibility::Owners(owners.iter().map(|o| o.to_string()).collect::<HashSet<_>>())
    }

    fn woken(s: &Subscription) -> bool {
        futures_util::FutureExt::now_or_never(s.sub.next()).is_some()
    }

    #[test]
    fn only_devices_that_may_see_a_move_are_woken_and_not_for_their_own_pushes() {
        let hub = Hub::new();
        let ann = hub.subscribe(&principal("ann-phone", "w"), sees(&["ann"]));
        let bob = hub.subscribe(&principal("bob-phone", "w"), sees(&["bob"]));
        let boss = hub.subscribe(&principal("boss", "w"), Visibility::All);
        let elsewhere = hub.subscribe(&principal("other", "w2"), Visibility::All);
        let mut log = MovedLog::default();
        log.change("ann", "actor-ann-phone");
        hub.publish("w", &log.into_moved());
        assert!(!woken(&ann), "ann's own push");
        assert!(!woken(&bob), "bob may not see ann's lead");
        assert!(woken(&boss));
        assert!(!woken(&elsewhere), "another workspace");

        // A hand-over from ann to bob: both are told, also ann's own device.
        let mut log = MovedLog::default();
        log.handover("ann", "bob");
        log.change("bob", "actor-ann-phone");
        hub.publish("w", &log.into_moved());
        assert!(woken(&ann) && woken(&bob) && woken(&boss));
        // Wake-ups coalesce: one permit, however many moves.
        for _ in 0..5 {
            hub.publish("w", &Moved { everyone: true, ..Moved::default() });
        }
        assert!(woken(&ann));
        assert!(!woken(&ann), "five moves, one wake-up");
        assert_eq!(hub.connections(), 4);
        drop(elsewhere);
        assert_eq!(hub.connections(), 3);
    }

    #[test]
    fn a_rolled_back_request_takes_back_what_it_recorded() {
        let mut log = MovedLog::default();
        log.change("ann", "a1");
        log.savepoint();
        log.change("bob", "a2");
        log.rollback();
        log.savepoint();
        log.change("cho", "a3");
        log.release();
        let m = log.into_moved();
        assert_eq!(m.owners.into_iter().collect::<Vec<_>>(), vec!["ann", "cho"]);
    }

    #[test]
    fn revoked_and_closed_streams_end() {
        let hub = Hub::new();
        let a = hub.subscribe(&principal("a", "w"), Visibility::All);
        let b = hub.subscribe(&principal("b", "w"), Visibility::All);
        assert_eq!(hub.device_ids(), vec!["a".to_string(), "b".to_string()]);
        hub.revoke(&["a".to_string()]);
        assert_eq!(futures_util::FutureExt::now_or_never(a.sub.next()), Some(Err(End::Revoked)));
        assert!(!woken(&b));
        hub.close();
        assert_eq!(
            futures_util::FutureExt::now_or_never(b.sub.next()),
            Some(Err(End::ShuttingDown))
        );
    }

    #[test]
    fn a_payload_too_large_for_notify_says_everyone() {
        let mut m = Moved::default();
        m.owners.insert("ann".into());
        let p = payload("w", &m);
        assert_eq!(parse_payload(&p), Some(("w".to_string(), m.clone())));
        for i in 0..2_000 {
            m.owners.insert(format!("user-{i}"));
        }
        let (ws, big) = parse_payload(&payload("w", &m)).unwrap();
        assert_eq!(ws, "w");
        assert!(big.everyone && big.owners.is_empty());
    }
}
