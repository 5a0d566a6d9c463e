//! Plain domain types: leads, activities, money, the sales process, and what lists take and
//! return. No storage, CRDT or validation concerns: every other module builds on these.

mod activity;
mod lead;
mod list;
mod money;
mod sales;

pub use activity::{Activity, ActivityDraft, ActivityField, ActivityKind, ActivityPatch, Location};
pub use lead::{
    CaptureChannel, CustomField, FieldConflict, Lead, LeadDraft, LeadField, LeadPatch, Money,
    Potential, Source, Stage, StageChange,
};
pub use list::{
    Facet, FollowUp, FollowUps, LeadDetail, LeadFacets, LeadQuery, LeadSort, LeadSummary, Page,
};
pub use money::currency_exponent;
pub use sales::{
    CompPlan, CompPlanDraft, FULL_BP, RequiredField, SalesSettings, SalesTarget, StagePatch,
    StageSetting, SubjectKind, TargetDraft, TargetMetric, Tier, format_bp, parse_percent,
};

/// A new record id, made on the device so that a create retried after a lost response, or made
/// offline on two phones, never collides. UUIDv7 sorts by creation time, which keeps the
/// SQLite primary-key index append-mostly.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Accepts any UUID spelling and returns the canonical lower-case hyphenated form.
pub fn parse_id(kind: &'static str, s: &str) -> Result<String, crate::error::ValidationError> {
    uuid::Uuid::parse_str(s.trim()).map(|u| u.to_string()).map_err(|_| {
        crate::error::ValidationError::Invalid {
            field: kind,
            reason: format!("'{s}' is not a record id"),
        }
    })
}

/// Milliseconds since the Unix epoch, UTC. All stored times use this unit.
pub type Millis = i64;

/// Declares a string-backed enum with `as_str`, `parse` and serde in snake_case, so that the
/// spelling in documents, SQL, JSON and the CLI is one and the same.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            const EXPECTED: &'static str = concat!($($s, " "),+);

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Result<Self, crate::error::ValidationError> {
                let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                match t.as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(crate::error::ValidationError::UnknownValue {
                        field: $field,
                        value: s.to_string(),
                        expected: Self::EXPECTED.trim_end(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::error::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse(s) }
        }
    };
}
pub(crate) use string_enum;

/// Declares a record that foreign code builds naming only what it sets
/// (`LeadDraft(name = "김민지")`): with the `uniffi` feature, every field gets
/// `#[uniffi(default)]`, its type's default. Drafts, patches and the like.
macro_rules! optional_fields {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* #[cfg_attr(feature = "uniffi", uniffi(default))] pub $field: $ty,)*
        }
    };
}
pub(crate) use optional_fields;
