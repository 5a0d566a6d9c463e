//! A lead (a person met, with their company, stage, deal and follow-up), its draft and patch,
//! and the enums it is made of.

use serde::{Deserialize, Serialize};

pub use super::money::Money;
use super::{Millis, optional_fields, string_enum};

string_enum!(
    /// The shared sales process every rep follows. `Won` and `Lost` close a lead; a closed lead
    /// can be reopened by moving it back to an open stage, and the history keeps both moves.
    Stage, "stage" {
        New = "new",
        Contacted = "contacted",
        Qualified = "qualified",
        Proposal = "proposal",
        Negotiation = "negotiation",
        Won = "won",
        Lost = "lost",
    }
);

impl Stage {
    pub fn is_closed(self) -> bool {
        matches!(self, Stage::Won | Stage::Lost)
    }

    /// Position in the funnel (new 0 … won 5); `lost` is off the funnel.
    pub fn rank(self) -> Option<u8> {
        match self {
            Stage::New => Some(0),
            Stage::Contacted => Some(1),
            Stage::Qualified => Some(2),
            Stage::Proposal => Some(3),
            Stage::Negotiation => Some(4),
            Stage::Won => Some(5),
            Stage::Lost => None,
        }
    }

    /// The funnel's stages in order.
    pub const FUNNEL: [Stage; 6] = [
        Stage::New,
        Stage::Contacted,
        Stage::Qualified,
        Stage::Proposal,
        Stage::Negotiation,
        Stage::Won,
    ];
}

string_enum!(Potential, "potential" { Hot = "hot", Warm = "warm", Cold = "cold" });

string_enum!(
    /// How the lead reached the phone.
    CaptureChannel, "capture channel" {
        Manual = "manual",
        BadgeScan = "badge_scan",
        BusinessCard = "business_card",
        Import = "import",
        WebForm = "web_form",
    }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Source {
    pub event: Option<String>,
    pub channel: CaptureChannel,
}

/// One move in the pipeline. Reports (win rate, cycle, funnel) are computed from these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StageChange {
    pub stage: Stage,
    pub at: Millis,
    pub by: String,
    pub lost_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CustomField {
    pub key: String,
    pub value: String,
}

/// Two or more values were written concurrently to one field. `values[0]` is the one every
/// replica shows (Automerge's deterministic winner); the others are kept so a UI can say "two
/// values were entered" and let the rep pick. Writing the field again resolves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldConflict {
    pub field: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Lead {
    pub id: String,
    pub name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub source: Source,
    pub stage: Stage,
    pub lost_reason: Option<String>,
    pub stage_history: Vec<StageChange>,
    pub potential: Option<Potential>,
    pub deal_value: Option<Money>,
    pub owner: String,
    /// Sorted; a set in the document.
    pub tags: Vec<String>,
    pub notes: String,
    /// Sorted by key.
    pub custom_fields: Vec<CustomField>,
    pub next_follow_up: Option<Millis>,
    pub created_at: Millis,
    pub created_by: String,
    pub updated_at: Millis,
    pub updated_by: String,
    pub deleted: bool,
    /// Set on a lead folded into another by `merge_leads` (it is also soft-deleted).
    pub merged_into: Option<String>,
    /// Leads folded into this one.
    pub merged_from: Vec<String>,
    pub conflicts: Vec<FieldConflict>,
}

impl Lead {
    pub fn conflicts(&self) -> &[FieldConflict] {
        &self.conflicts
    }

    /// When the lead was closed, if it is now won or lost: the time of the last move to its
    /// current stage (in history order, which does not depend on device clocks).
    pub fn closed_at(&self) -> Option<Millis> {
        if !self.stage.is_closed() {
            return None;
        }
        self.stage_history.iter().rev().find(|h| h.stage == self.stage).map(|h| h.at)
    }

    /// The furthest funnel stage the lead ever reached; skipped stages count as passed.
    pub fn reached_rank(&self) -> u8 {
        self.stage_history
            .iter()
            .map(|h| h.stage)
            .chain([self.stage])
            .filter_map(Stage::rank)
            .max()
            .unwrap_or(0)
    }

    /// What a list shows for the lead: its name, else company, e-mail or phone.
    pub fn display_name(&self) -> &str {
        display_name(&self.name, &self.company, &self.emails, &self.phones)
    }
}

pub(crate) fn display_name<'a>(
    name: &'a Option<String>,
    company: &'a Option<String>,
    emails: &'a [String],
    phones: &'a [String],
) -> &'a str {
    name.as_deref()
        .or(company.as_deref())
        .or(emails.first().map(String::as_str))
        .or(phones.first().map(String::as_str))
        .unwrap_or("")
}

optional_fields! {
    /// What a capture screen or an import row supplies. Everything but one identifying field is
    /// optional.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
    #[serde(default)]
    pub struct LeadDraft {
        /// Set only when the id was made elsewhere (an import that is retried); otherwise a new
        /// UUIDv7 is made.
        pub id: Option<String>,
        pub name: Option<String>,
        pub company: Option<String>,
        pub title: Option<String>,
        pub emails: Vec<String>,
        pub phones: Vec<String>,
        pub event: Option<String>,
        pub channel: Option<CaptureChannel>,
        pub stage: Option<Stage>,
        pub lost_reason: Option<String>,
        pub potential: Option<Potential>,
        pub deal_value: Option<Money>,
        /// Defaults to the store's user.
        pub owner: Option<String>,
        pub tags: Vec<String>,
        pub notes: Option<String>,
        pub custom_fields: Vec<CustomField>,
        pub next_follow_up: Option<Millis>,
    }
}

/// Optional fields a patch can clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum LeadField {
    Name,
    Company,
    Title,
    Event,
    Potential,
    DealValue,
    NextFollowUp,
}

optional_fields! {
    /// An edit: `Some` sets a field, `clear` removes optional ones, everything else is
    /// untouched, so that an edit only writes what the rep changed and merges cleanly with other
    /// edits.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
    #[serde(default)]
    pub struct LeadPatch {
        pub name: Option<String>,
        pub company: Option<String>,
        pub title: Option<String>,
        pub emails: Option<Vec<String>>,
        pub phones: Option<Vec<String>>,
        pub event: Option<String>,
        pub channel: Option<CaptureChannel>,
        pub stage: Option<Stage>,
        pub lost_reason: Option<String>,
        pub potential: Option<Potential>,
        pub deal_value: Option<Money>,
        pub owner: Option<String>,
        pub add_tags: Vec<String>,
        pub remove_tags: Vec<String>,
        pub notes: Option<String>,
        pub set_custom_fields: Vec<CustomField>,
        pub remove_custom_fields: Vec<String>,
        pub next_follow_up: Option<Millis>,
        pub clear: Vec<LeadField>,
    }
}

impl LeadPatch {
    pub fn is_empty(&self) -> bool {
        *self == LeadPatch::default()
    }
}
