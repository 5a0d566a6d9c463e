//! What each kind of document is to the store, in one place: the record it reads as, the
//! projection that writes, checks and removes its rows, and the list of [`ChangedRecords`] that
//! names it. Writes, merges, resets, drops and `verify` all go through here.

use automerge::AutoCommit;
use rusqlite::Connection;

use super::projection::{activity, lead, sales};
use crate::doc::{self, DocKind};
use crate::error::{Error, Result};
use crate::model::{Activity, CompPlan, Lead, SalesSettings, SalesTarget};
use crate::validate::Validator;

/// A record read from its document.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Record {
    /// Boxed: a lead is several times the size of the other records.
    Lead(Box<Lead>),
    Activity(Activity),
    Settings(SalesSettings),
    Target(SalesTarget),
    Plan(CompPlan),
}

impl Record {
    pub(crate) fn kind(&self) -> DocKind {
        match self {
            Record::Lead(_) => DocKind::Lead,
            Record::Activity(_) => DocKind::Activity,
            Record::Settings(_) => DocKind::Settings,
            Record::Target(_) => DocKind::Target,
            Record::Plan(_) => DocKind::CompPlan,
        }
    }

    pub(crate) fn read(d: &AutoCommit, id: &str, kind: DocKind) -> Result<Record> {
        Ok(match kind {
            DocKind::Lead => Record::Lead(Box::new(doc::lead::read(d, id)?)),
            DocKind::Activity => Record::Activity(doc::activity::read(d, id)?),
            DocKind::Settings => Record::Settings(doc::settings::read(d, id)?),
            DocKind::Target => Record::Target(doc::target::read(d, id)?),
            DocKind::CompPlan => Record::Plan(doc::plan::read(d, id)?),
        })
    }

    /// Writes the record's projection rows. `fresh`: the record has none yet (a document new
    /// to this store), so there are no old rows to look up or clear.
    pub(crate) fn project(&self, conn: &Connection, v: &Validator, fresh: bool) -> Result<()> {
        match self {
            Record::Lead(l) => lead::upsert(conn, l, v, fresh),
            Record::Activity(a) => activity::upsert(conn, a, fresh),
            Record::Settings(s) => sales::upsert_settings(conn, s),
            Record::Target(t) => sales::upsert_target(conn, t),
            Record::Plan(p) => sales::upsert_plan(conn, p),
        }
    }

    /// Whether the projection rows say what the record says (`Store::verify`).
    pub(crate) fn matches(&self, conn: &Connection) -> Result<bool> {
        match self {
            Record::Lead(l) => lead::matches(conn, l),
            Record::Activity(a) => activity::matches(conn, a),
            Record::Settings(s) => sales::settings_match(conn, s),
            Record::Target(t) => sales::target_matches(conn, t),
            Record::Plan(p) => sales::plan_matches(conn, p),
        }
    }

    pub(crate) fn into_lead(self, id: &str) -> Result<Lead> {
        if let Record::Lead(l) = self { Ok(*l) } else { Err(not_found("lead", id)) }
    }

    pub(crate) fn into_activity(self, id: &str) -> Result<Activity> {
        if let Record::Activity(a) = self { Ok(a) } else { Err(not_found("activity", id)) }
    }

    pub(crate) fn into_settings(self, id: &str) -> Result<SalesSettings> {
        if let Record::Settings(s) = self { Ok(s) } else { Err(not_found("settings", id)) }
    }

    pub(crate) fn into_target(self, id: &str) -> Result<SalesTarget> {
        if let Record::Target(t) = self { Ok(t) } else { Err(not_found("target", id)) }
    }

    pub(crate) fn into_plan(self, id: &str) -> Result<CompPlan> {
        if let Record::Plan(p) = self { Ok(p) } else { Err(not_found("plan", id)) }
    }
}

fn not_found(kind: &'static str, id: &str) -> Error {
    Error::NotFound { kind, id: id.to_string() }
}

/// Removes every projection row of a document of `kind` (it was reset or dropped).
pub(crate) fn delete(conn: &Connection, id: &str, kind: DocKind) -> Result<()> {
    match kind {
        DocKind::Lead => lead::delete(conn, id),
        DocKind::Activity => activity::delete(conn, id),
        DocKind::Settings => sales::delete_settings(conn),
        DocKind::Target => sales::delete_target(conn, id),
        DocKind::CompPlan => sales::delete_plan(conn, id),
    }
}

/// Which records a write or a merge changed, so a list on screen refreshes without polling.
/// Dropped leads (the user lost access) are listed under `leads` too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ChangedRecords {
    pub leads: Vec<String>,
    pub activities: Vec<String>,
    /// The sales-process settings, targets and compensation plans among them (document ids), so
    /// a targets or commission screen refreshes after a manager's change syncs in.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub sales: Vec<String>,
}

impl ChangedRecords {
    /// One record of `kind`.
    pub(crate) fn one(kind: DocKind, id: &str) -> ChangedRecords {
        let mut c = ChangedRecords::default();
        c.add(kind, id.to_string());
        c
    }

    /// Adds a record of `kind` to its list.
    pub(crate) fn add(&mut self, kind: DocKind, id: String) {
        match kind {
            DocKind::Lead => self.leads.push(id),
            DocKind::Activity => self.activities.push(id),
            DocKind::Settings | DocKind::Target | DocKind::CompPlan => self.sales.push(id),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.leads.is_empty() && self.activities.is_empty() && self.sales.is_empty()
    }
}
