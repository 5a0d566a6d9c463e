//! What the sync screen and the list's marks show about local changes: when the device last
//! synced, how many changes wait, which leads on a page have unsynced changes.

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::model::Millis;
use crate::store::{Store, outbox};

/// The `meta` key of the last finished sync's time.
const LAST_SYNC: &str = "last_sync_at";

/// The device's sync state at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncStatus {
    /// When a sync last finished (ms since the Unix epoch, this device's clock); `None` before
    /// the first.
    pub last_synced_at: Option<Millis>,
    /// Local changes no server has acknowledged yet.
    pub waiting: u64,
    /// Live leads showing concurrent values.
    pub conflicted_leads: u64,
    /// Changes the server refused, kept aside.
    pub quarantined: u64,
}

impl Store {
    /// Records that a sync finished now; `sync_status` reports it.
    pub fn mark_synced(&self) -> Result<()> {
        self.set_meta(LAST_SYNC, Some(&self.now().to_string()))
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let last_synced_at = self.meta(LAST_SYNC)?.and_then(|v| v.parse().ok());
        Ok(SyncStatus {
            last_synced_at,
            waiting: self.outbox_len()?.max(0) as u64,
            conflicted_leads: self.conflicted_leads()?,
            quarantined: self.quarantine()?.len() as u64,
        })
    }

    /// Which of `lead_ids` (a page of the list) have local changes no server has yet, in the
    /// lead or in one of its activities: the list's "not synced" mark.
    pub fn unsynced_leads(&self, lead_ids: &[String]) -> Result<Vec<String>> {
        self.read(|c| outbox::leads_waiting(c, lead_ids))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ActivityDraft, ActivityKind, LeadDraft};
    use crate::store::{OpenOptions, Store};

    #[test]
    fn marks_follow_the_outbox_of_a_lead_and_its_activities() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("s.db"), OpenOptions::new("kim")).unwrap();
        let a = s.create_lead(LeadDraft { name: Some("a".into()), ..Default::default() }).unwrap();
        let b = s.create_lead(LeadDraft { name: Some("b".into()), ..Default::default() }).unwrap();
        let ids = vec![a.id.clone(), b.id.clone()];
        let mut marked = s.unsynced_leads(&ids).unwrap();
        marked.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(marked, want);
        // The server acknowledges everything: no marks, nothing waiting.
        let hashes: Vec<String> = s.outbox(0, 1000).unwrap().into_iter().map(|e| e.hash).collect();
        s.ack_outbox(&hashes).unwrap();
        assert!(s.unsynced_leads(&ids).unwrap().is_empty());
        assert_eq!(s.sync_status().unwrap().waiting, 0);
        // A new activity marks its lead only.
        s.add_activity(ActivityDraft::new(b.id.clone(), ActivityKind::Call, "call")).unwrap();
        assert_eq!(s.unsynced_leads(&ids).unwrap(), vec![b.id.clone()]);
        assert_eq!(s.sync_status().unwrap().waiting, 1);
        assert!(s.unsynced_leads(&[]).unwrap().is_empty());
    }

    #[test]
    fn last_synced_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let s = Store::open(&path, OpenOptions::new("kim")).unwrap();
        assert_eq!(s.sync_status().unwrap().last_synced_at, None);
        s.mark_synced().unwrap();
        let at = s.sync_status().unwrap().last_synced_at.unwrap();
        assert!(at > 0);
        drop(s);
        let s = Store::open(&path, OpenOptions::new("kim")).unwrap();
        assert_eq!(s.sync_status().unwrap().last_synced_at, Some(at));
    }
}
