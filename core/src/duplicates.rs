//! Likely duplicates (two reps scanned the same visitor offline; a card was captured twice) and
//! merging them without losing anything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::doc::{self, DocKind};
use crate::model::{LeadDraft, LeadPatch, parse_id};
use crate::query::LeadSummary;
use crate::store::projection::{LEAD_COLUMNS, keys_of};
use crate::store::{Changed, Store};
use crate::{Error, Lead, Result, ValidationError};

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

fn reason(key: &str) -> Option<(DuplicateReason, String)> {
    let (kind, value) = key.split_once(':')?;
    let r = match kind {
        "e" => DuplicateReason::SameEmail,
        "p" => DuplicateReason::SamePhone,
        "n" => DuplicateReason::SameNameAndCompany,
        _ => return None,
    };
    Some((r, value.replace('|', " | ")))
}

/// The lead columns qualified with the `l.` alias of the queries here.
fn prefixed_columns() -> String {
    LEAD_COLUMNS.split(", ").map(|c| format!("l.{c}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Every group of live leads that look like the same person.
    pub fn duplicates(&self) -> Result<Vec<DuplicateGroup>> {
        self.duplicate_groups(None)
    }

    /// Live leads that look like `lead_id` (call it after a capture or a sync).
    pub fn duplicates_of(&self, lead_id: &str) -> Result<Vec<DuplicateGroup>> {
        let id = parse_id("lead id", lead_id)?;
        self.duplicate_groups(Some(&id))
    }

    /// Stored live leads that look like the same person as `draft`, before it is saved: what a
    /// capture form warns about ("김민지, Acme Korea — captured by lee"). Each group holds the
    /// stored leads sharing one key with the draft. Works on a half-typed form: an e-mail or
    /// phone that is not valid yet is left out rather than refused.
    pub fn duplicates_of_draft(&self, draft: &LeadDraft) -> Result<Vec<DuplicateGroup>> {
        let v = self.validator();
        let trimmed = |s: &Option<String>| {
            s.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
        };
        let emails: Vec<String> =
            draft.emails.iter().filter_map(|e| crate::validate::email(e).ok()).collect();
        let phones: Vec<String> = draft.phones.iter().filter_map(|p| v.phone(p).ok()).collect();
        let keys = keys_of(&trimmed(&draft.name), &trimmed(&draft.company), &emails, &phones);
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT k.key, {} FROM lead_keys k JOIN leads l ON l.id = k.lead_id
             WHERE l.deleted = 0 AND k.key IN ({})
             ORDER BY k.key, l.created_at, l.id",
            prefixed_columns(),
            vec!["?"; keys.len()].join(",")
        );
        self.groups_of(&sql, rusqlite::params_from_iter(keys))
    }

    fn duplicate_groups(&self, of: Option<&str>) -> Result<Vec<DuplicateGroup>> {
        let filter = if of.is_some() {
            "AND k.key IN (SELECT key FROM lead_keys WHERE lead_id = ?1)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT k.key, {} FROM lead_keys k JOIN leads l ON l.id = k.lead_id
             WHERE l.deleted = 0 {filter} AND k.key IN (
                 SELECT k2.key FROM lead_keys k2 JOIN leads l2 ON l2.id = k2.lead_id WHERE l2.deleted = 0 GROUP BY k2.key HAVING count(*) > 1)
             ORDER BY k.key, l.created_at, l.id",
            prefixed_columns()
        );
        match of {
            Some(id) => self.groups_of(&sql, [id]),
            None => self.groups_of(&sql, []),
        }
    }

    /// Runs a query of `(key, lead columns…)` rows ordered by key and gathers one group per key.
    fn groups_of(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<DuplicateGroup>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(sql)?;
        let mut rows = stmt.query(args)?;
        let mut groups: BTreeMap<String, Vec<LeadSummary>> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            let key: String = r.get(0)?;
            let lead = LeadSummary::from_row_at(r, 1)?;
            groups.entry(key).or_default().push(lead);
        }
        let mut out: Vec<DuplicateGroup> = groups
            .into_iter()
            .filter_map(|(k, leads)| {
                reason(&k).map(|(reason, value)| DuplicateGroup { reason, value, leads })
            })
            .collect();
        out.sort_by(|a, b| (a.reason, &a.value).cmp(&(b.reason, &b.value)));
        Ok(out)
    }

    /// Folds `other` into `keep` in one transaction: empty fields of `keep` are filled from
    /// `other`, e-mails, phones, tags and custom fields are united, notes appended, every
    /// activity of `other` moves to `keep`, the merge is recorded on both, and `other` is
    /// soft-deleted (restorable, its document intact). Nothing is lost.
    pub fn merge_leads(&self, keep_id: &str, other_id: &str) -> Result<Lead> {
        let keep_id = parse_id("lead id", keep_id)?;
        let other_id = parse_id("lead id", other_id)?;
        if keep_id == other_id {
            return Err(ValidationError::Invalid {
                field: "merge",
                reason: "a lead cannot be merged with itself".into(),
            }
            .into());
        }
        let (keep, other) = (self.lead(&keep_id)?, self.lead(&other_id)?);
        if other.deleted || keep.deleted {
            return Err(ValidationError::Invalid {
                field: "merge",
                reason: "restore a deleted lead before merging it".into(),
            }
            .into());
        }
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
        patch.emails = union(&keep.emails, &other.emails, crate::validate::MAX_CONTACTS);
        patch.phones = union(&keep.phones, &other.phones, crate::validate::MAX_CONTACTS);
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
        self.validator().lead_patch(&mut patch)?;
        let activities: Vec<String> =
            self.activities_for_lead(&other_id)?.into_iter().map(|a| a.id).collect();
        let user = self.user_id().to_string();
        let now = self.now();
        self.write(|tx| {
            let mut keep_doc = self.edit_begin(tx, &keep_id, DocKind::Lead)?;
            let mut other_doc = self.edit_begin(tx, &other_id, DocKind::Lead)?;
            doc::lead::apply_patch(&mut keep_doc.0, &patch, &user, now)?;
            doc::lead::record_merge(
                &mut keep_doc.0,
                &mut other_doc.0,
                &keep_id,
                &other_id,
                &user,
                now,
            )?;
            self.edit_finish(tx, &keep_id, DocKind::Lead, keep_doc, now)?;
            self.edit_finish(tx, &other_id, DocKind::Lead, other_doc, now)?;
            for a in &activities {
                let mut d = self.edit_begin(tx, a, DocKind::Activity)?;
                doc::activity::move_to_lead(&mut d.0, &keep_id, &user, now)?;
                self.edit_finish(tx, a, DocKind::Activity, d, now)?;
            }
            Ok(())
        })?;
        self.notify(Changed {
            leads: vec![keep_id.clone(), other_id.clone()],
            activities,
            ..Default::default()
        });
        self.lead(&keep_id).map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::corrupt(&keep_id, "the kept lead vanished during the merge")
            }
            e => e,
        })
    }
}
