use serde::{Deserialize, Serialize};

pub use super::money::Money;
use super::{Millis, string_enum};

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
pub struct Source {
    pub event: Option<String>,
    pub channel: CaptureChannel,
}

/// One move in the pipeline. Reports (win rate, cycle, funnel) are computed from these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageChange {
    pub stage: Stage,
    pub at: Millis,
    pub by: String,
    pub lost_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CustomField {
    pub key: String,
    pub value: String,
}

/// Two or more values were written concurrently to one field. `values[0]` is the one every
/// replica shows (Automerge's deterministic winner); the others are kept so a UI can say "two
/// values were entered" and let the rep pick. Writing the field again resolves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    pub conflicts: Vec<FieldConflict>,
}

impl Lead {
    pub fn conflicts(&self) -> &[FieldConflict] {
        &self.conflicts
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

/// What a capture screen or an import row supplies. Everything but one identifying field is
/// optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

/// Optional fields a patch can clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// An edit: `Some` sets a field, `clear` removes optional ones, everything else is untouched, so
/// that an edit only writes what the rep changed and merges cleanly with other edits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

impl LeadPatch {
    pub fn is_empty(&self) -> bool {
        *self == LeadPatch::default()
    }
}
