//! The store's API for the sales process: the settings (stage names, probabilities, rules),
//! targets and compensation plans, with the local role check.
//!
//! Stage rules are enforced on local lead writes only (`Store::create_leads`,
//! `Store::update_lead`): a merged remote change is never refused, since refusing it would
//! lose a rep's work that another device has already accepted.

use super::leads::New;
use super::record::ChangedRecords;
use super::{Store, documents, meta, projection, read};
use crate::doc::{self, DocKind, settings::SETTINGS_ID};
use crate::error::{Error, Result};
use crate::model::{
    CompPlan, CompPlanDraft, SalesSettings, SalesTarget, Stage, StagePatch, TargetDraft, new_id,
    parse_id,
};
use crate::validate;

impl Store {
    /// The user's role as enrolled (`rep`, `manager`, `admin`), if this store was enrolled.
    pub fn role(&self) -> Result<Option<String>> {
        self.meta(meta::META_ROLE)
    }

    /// Refuses a rep what only managers and admins may do; the sync server would refuse it too,
    /// and a refused push would only land in quarantine.
    fn require_manager(&self, what: &str) -> Result<()> {
        match self.role()?.as_deref() {
            Some("rep") => Err(Error::Forbidden(format!("only managers and admins may {what}"))),
            _ => Ok(()),
        }
    }

    /// The workspace's sales process: every stage with its display name, win probability and
    /// required fields (defaults for whatever no manager has set).
    pub fn sales_settings(&self) -> Result<SalesSettings> {
        self.read(projection::sales::settings)
    }

    /// Changes one stage's settings (managers and admins).
    pub fn set_stage(&self, stage: Stage, mut patch: StagePatch) -> Result<SalesSettings> {
        self.require_manager("change the sales process")?;
        validate::stage_patch(&mut patch)?;
        let now = self.now();
        let exists = self.read(|c| documents::exists(c, SETTINGS_ID))?;
        if !exists {
            let d = doc::settings::create(self.actor.clone(), stage, &patch, &self.user, now)?;
            let new = New::of(d, SETTINGS_ID, DocKind::Settings)?;
            let created = self.write(|tx| {
                // Merged in from the server meanwhile: edit that one instead.
                if documents::exists(tx, SETTINGS_ID)? {
                    return Ok(false);
                }
                self.insert_new(tx, &new).map(|_| true)
            })?;
            if created {
                self.notify(ChangedRecords::one(DocKind::Settings, SETTINGS_ID));
                return new.record.into_settings(SETTINGS_ID);
            }
        }
        let user = self.user.clone();
        self.edit(
            SETTINGS_ID,
            DocKind::Settings,
            |d| doc::settings::patch(d, stage, &patch, &user, now),
            |_| Ok(()),
        )?
        .into_settings(SETTINGS_ID)
    }

    /// Sets a target: the existing live one for the same subject, metric and period gets the
    /// new value; otherwise a new target is created (managers and admins).
    pub fn set_target(&self, mut draft: TargetDraft) -> Result<SalesTarget> {
        self.require_manager("set targets")?;
        validate::target_draft(&mut draft)?;
        let now = self.now();
        let existing = self.read(|c| read::sales::target_id_for(c, &draft))?;
        if let Some(id) =
            draft.id.clone().map(|i| parse_id("target id", &i)).transpose()?.or(existing)
        {
            let user = self.user.clone();
            let rec = self.edit(
                &id,
                DocKind::Target,
                |d| doc::target::set_value(d, draft.value, draft.currency.as_deref(), &user, now),
                |_| Ok(()),
            )?;
            return rec.into_target(&id);
        }
        let id = new_id();
        let d = doc::target::create(self.actor.clone(), &id, &draft, &self.user, now)?;
        self.insert_one(New::of(d, &id, DocKind::Target)?, |_| Ok(()))?.into_target(&id)
    }

    /// Moves a target to the bin (managers and admins).
    pub fn delete_target(&self, id: &str) -> Result<SalesTarget> {
        self.require_manager("delete targets")?;
        let id = parse_id("target id", id)?;
        self.set_deleted(DocKind::Target, &id, true)?.into_target(&id)
    }

    /// Live targets whose period overlaps `[from, to)`.
    pub fn targets(&self, from: i64, to: i64) -> Result<Vec<SalesTarget>> {
        self.read(|c| read::sales::targets_overlapping(c, from, to))
    }

    /// Sets a rep's compensation plan: edits the rep's current plan, or creates one (managers
    /// and admins).
    pub fn set_plan(&self, mut draft: CompPlanDraft) -> Result<CompPlan> {
        self.require_manager("set compensation plans")?;
        validate::plan_draft(&mut draft)?;
        if self.role()?.as_deref() == Some("manager") && draft.rep == self.user {
            return Err(Error::Forbidden(
                "a manager's own compensation plan is set by an admin".into(),
            ));
        }
        let now = self.now();
        let existing =
            self.read(read::sales::current_plans)?.into_iter().find(|p| p.rep == draft.rep);
        if let Some(p) = existing {
            let user = self.user.clone();
            let id = p.id.clone();
            let rec = self.edit(
                &id,
                DocKind::CompPlan,
                |d| doc::plan::update(d, &id, &draft, &user, now),
                |_| Ok(()),
            )?;
            return rec.into_plan(&p.id);
        }
        let id = new_id();
        let d = doc::plan::create(self.actor.clone(), &id, &draft, &self.user, now)?;
        self.insert_one(New::of(d, &id, DocKind::CompPlan)?, |_| Ok(()))?.into_plan(&id)
    }

    /// The plans this device holds (a rep's device holds only the rep's own), one per rep.
    pub fn plans(&self) -> Result<Vec<CompPlan>> {
        self.read(read::sales::current_plans)
    }
}
