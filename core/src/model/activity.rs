//! An activity on a lead (a call, meeting, visit, e-mail, note or task), its draft and patch.

use serde::{Deserialize, Serialize};

use super::{FieldConflict, Millis, optional_fields, string_enum};

string_enum!(
    ActivityKind, "activity kind" {
        Call = "call",
        Meeting = "meeting",
        Visit = "visit",
        Email = "email",
        Note = "note",
        Task = "task",
    }
);

impl ActivityKind {
    /// Kinds that count as contacting the lead (lead response time, "going cold").
    pub fn is_contact(self) -> bool {
        matches!(
            self,
            ActivityKind::Call | ActivityKind::Meeting | ActivityKind::Visit | ActivityKind::Email
        )
    }
}

/// Where a field visit happened, as the phone's location service reported it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Activity {
    pub id: String,
    pub lead_id: String,
    pub kind: ActivityKind,
    pub subject: String,
    pub notes: String,
    pub occurred_at: Option<Millis>,
    pub due_at: Option<Millis>,
    pub done: bool,
    pub duration_s: Option<i64>,
    pub outcome: Option<String>,
    pub location: Option<Location>,
    pub created_at: Millis,
    pub created_by: String,
    pub updated_at: Millis,
    pub updated_by: String,
    pub deleted: bool,
    pub conflicts: Vec<FieldConflict>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ActivityDraft {
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub id: Option<String>,
    pub lead_id: String,
    pub kind: ActivityKind,
    pub subject: String,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub notes: Option<String>,
    /// Defaults to now for everything but tasks, which are due rather than done.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub occurred_at: Option<Millis>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub due_at: Option<Millis>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub done: Option<bool>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub duration_s: Option<i64>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub outcome: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub location: Option<Location>,
}

impl ActivityDraft {
    pub fn new(lead_id: impl Into<String>, kind: ActivityKind, subject: impl Into<String>) -> Self {
        ActivityDraft {
            id: None,
            lead_id: lead_id.into(),
            kind,
            subject: subject.into(),
            notes: None,
            occurred_at: None,
            due_at: None,
            done: None,
            duration_s: None,
            outcome: None,
            location: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ActivityField {
    OccurredAt,
    DueAt,
    DurationS,
    Outcome,
    Location,
}

optional_fields! {
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
    #[serde(default)]
    pub struct ActivityPatch {
        pub kind: Option<ActivityKind>,
        pub subject: Option<String>,
        pub notes: Option<String>,
        pub occurred_at: Option<Millis>,
        pub due_at: Option<Millis>,
        pub done: Option<bool>,
        pub duration_s: Option<i64>,
        pub outcome: Option<String>,
        pub location: Option<Location>,
        pub clear: Vec<ActivityField>,
    }
}
