//! Likely duplicates (two reps scanned the same visitor offline; a card was captured twice):
//! what makes two leads look like one person (the keys the store indexes in `lead_keys`), the
//! groups a search returns, and the edit that folds one lead into another without losing
//! anything (`Store::merge_leads`).

use serde::{Deserialize, Serialize};

use crate::model::{Lead, LeadPatch, LeadSummary};
use crate::validate::MAX_CONTACTS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum DuplicateReason {
    SameEmail,
    SamePhone,
    SameNameAndCompany,
}

/// Leads that share one e-mail, phone, or name at a company.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DuplicateGroup {
    pub reason: DuplicateReason,
    /// The shared value (an e-mail, an E.164 phone, or "name | company").
    pub value: String,
    /// Oldest first: the usual one to keep.
    pub leads: Vec<LeadSummary>,
}

/// What makes two leads likely the same person: a shared e-mail or phone, or the same name at
/// the same company (case and spacing ignored).
pub(crate) fn keys(l: &Lead) -> Vec<String> {
    keys_of(&l.name, &l.company, &l.emails, &l.phones)
}

/// `keys` from the parts, for a draft not yet saved (normalised e-mails and phones).
pub(crate) fn keys_of(
    name: &Option<String>,
    company: &Option<String>,
    emails: &[String],
    phones: &[String],
) -> Vec<String> {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let mut keys: Vec<String> = emails
        .iter()
        .map(|e| format!("e:{e}"))
        .chain(phones.iter().map(|p| format!("p:{p}")))
        .collect();
    if let (Some(n), Some(c)) = (name, company) {
        keys.push(format!("n:{}|{}", norm(n), norm(c)));
    }
    keys
}

/// Why leads sharing `key` look alike, and the shared value as a person reads it.
pub(crate) fn reason(key: &str) -> Option<(DuplicateReason, String)> {
    let (kind, value) = key.split_once(':')?;
    let r = match kind {
        "e" => DuplicateReason::SameEmail,
        "p" => DuplicateReason::SamePhone,
        "n" => DuplicateReason::SameNameAndCompany,
        _ => return None,
    };
    Some((r, value.replace('|', " | ")))
}

/// The edit of `keep` that takes in `other`: its empty fields filled from `other`, e-mails,
/// phones, tags and custom fields united, notes appended. Not yet validated.
pub(crate) fn merge_patch(keep: &Lead, other: &Lead) -> LeadPatch {
    let mut patch = LeadPatch::default();
    let fill = |mine: &Option<String>, theirs: &Option<String>| {
        if mine.is_none() { theirs.clone() } else { None }
    };
    patch.name = fill(&keep.name, &other.name);
    patch.company = fill(&keep.company, &other.company);
    patch.title = fill(&keep.title, &other.title);
    patch.event = fill(&keep.source.event, &other.source.event);
    if keep.potential.is_none() {
        patch.potential = other.potential;
    }
    if keep.deal_value.is_none() {
        patch.deal_value = other.deal_value.clone();
    }
    if keep.next_follow_up.is_none() {
        patch.next_follow_up = other.next_follow_up;
    }
    let union = |a: &[String], b: &[String], max: usize| -> Option<Vec<String>> {
        let mut v = a.to_vec();
        for x in b {
            if !v.contains(x) && v.len() < max {
                v.push(x.clone());
            }
        }
        (v.len() != a.len()).then_some(v)
    };
    patch.emails = union(&keep.emails, &other.emails, MAX_CONTACTS);
    patch.phones = union(&keep.phones, &other.phones, MAX_CONTACTS);
    patch.add_tags = other.tags.iter().filter(|t| !keep.tags.contains(t)).cloned().collect();
    patch.set_custom_fields = other
        .custom_fields
        .iter()
        .filter(|f| !keep.custom_fields.iter().any(|k| k.key == f.key))
        .cloned()
        .collect();
    if !other.notes.trim().is_empty() && !keep.notes.contains(other.notes.trim()) {
        patch.notes = Some(if keep.notes.trim().is_empty() {
            other.notes.clone()
        } else {
            format!("{}\n\n{}", keep.notes.trim_end(), other.notes)
        });
    }
    patch
}
