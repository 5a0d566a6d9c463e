//! The sales process a manager configures (stage names, win probabilities, required fields),
//! targets and quotas, and compensation plans. Plain types; the documents are in `doc/`.

use serde::{Deserialize, Serialize};

use super::{Lead, Millis, Money, Stage, optional_fields, string_enum};
use crate::error::ValidationError;

string_enum!(
    /// Lead fields a stage can require. A fixed set, so a rule can always be checked and
    /// explained ("stage 'proposal' needs a deal value").
    RequiredField, "required field" {
        DealValue = "deal_value",
        Email = "email",
        Phone = "phone",
        Company = "company",
        Title = "title",
        NextFollowUp = "next_follow_up",
        LostReason = "lost_reason",
        Potential = "potential",
    }
);

impl RequiredField {
    /// How the field reads in a sentence: "needs a deal value".
    pub fn phrase(self) -> &'static str {
        match self {
            RequiredField::DealValue => "a deal value",
            RequiredField::Email => "an e-mail address",
            RequiredField::Phone => "a phone number",
            RequiredField::Company => "a company",
            RequiredField::Title => "a job title",
            RequiredField::NextFollowUp => "a follow-up date",
            RequiredField::LostReason => "a lost reason",
            RequiredField::Potential => "a potential (hot, warm or cold)",
        }
    }

    /// Whether the lead has the field filled in.
    pub fn is_set(self, l: &Lead) -> bool {
        match self {
            RequiredField::DealValue => l.deal_value.is_some(),
            RequiredField::Email => !l.emails.is_empty(),
            RequiredField::Phone => !l.phones.is_empty(),
            RequiredField::Company => l.company.is_some(),
            RequiredField::Title => l.title.is_some(),
            RequiredField::NextFollowUp => l.next_follow_up.is_some(),
            RequiredField::LostReason => l.lost_reason.is_some(),
            RequiredField::Potential => l.potential.is_some(),
        }
    }
}

/// Largest basis-point value: 100 %.
pub const FULL_BP: u32 = 10_000;

/// One stage of the workspace's sales process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StageSetting {
    pub stage: Stage,
    /// What reports and screens call the stage ("Quote sent"); the stored stage keeps its
    /// fixed spelling, so a rename never touches a lead.
    pub name: String,
    /// Win probability in basis points (0–10,000), used for the weighted pipeline.
    pub probability_bp: u32,
    /// Fields a lead must have to be moved to (or created in) this stage; sorted.
    pub required: Vec<RequiredField>,
}

/// The workspace's sales process, every stage resolved (defaults filled in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SalesSettings {
    pub stages: Vec<StageSetting>,
}

impl SalesSettings {
    /// Default win probability of a stage when no manager has set one.
    pub fn default_probability(stage: Stage) -> u32 {
        match stage {
            Stage::New => 1_000,
            Stage::Contacted => 2_000,
            Stage::Qualified => 4_000,
            Stage::Proposal => 6_000,
            Stage::Negotiation => 8_000,
            Stage::Won => FULL_BP,
            Stage::Lost => 0,
        }
    }

    pub fn stage(&self, s: Stage) -> Option<&StageSetting> {
        self.stages.iter().find(|x| x.stage == s)
    }

    /// The display name of a stage.
    pub fn name(&self, s: Stage) -> String {
        self.stage(s).map_or_else(|| s.as_str().to_string(), |x| x.name.clone())
    }

    pub fn has_rules(&self) -> bool {
        self.stages.iter().any(|s| !s.required.is_empty())
    }

    /// The rules the lead breaks in its current stage, in field order.
    pub fn violations(&self, l: &Lead) -> Vec<RequiredField> {
        self.stage(l.stage)
            .map(|s| s.required.iter().copied().filter(|f| !f.is_set(l)).collect())
            .unwrap_or_default()
    }

    /// The first rule broken by `after` that `before` did not break already (`None` for a new
    /// lead). Pre-existing breaks, e.g. from a rule added later or a merged edit, never block
    /// an unrelated edit.
    pub fn check(&self, before: Option<&Lead>, after: &Lead) -> Result<(), ValidationError> {
        let old = match before {
            Some(b) if b.stage == after.stage => self.violations(b),
            _ => Vec::new(),
        };
        match self.violations(after).into_iter().find(|f| !old.contains(f)) {
            Some(field) => Err(ValidationError::StageRequires {
                stage: self.name(after.stage),
                field: field.as_str(),
                what: field.phrase(),
            }),
            None => Ok(()),
        }
    }
}

impl Default for SalesSettings {
    fn default() -> Self {
        SalesSettings {
            stages: Stage::ALL
                .iter()
                .map(|s| StageSetting {
                    stage: *s,
                    name: s.as_str().to_string(),
                    probability_bp: Self::default_probability(*s),
                    required: Vec::new(),
                })
                .collect(),
        }
    }
}

optional_fields! {
    /// A change to one stage's settings; `None` leaves a value as it is.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
    pub struct StagePatch {
        pub name: Option<String>,
        pub probability_bp: Option<u32>,
        /// Replaces the stage's required fields.
        pub required: Option<Vec<RequiredField>>,
    }
}

string_enum!(
    /// What a target counts.
    TargetMetric, "target metric" {
        LeadsCaptured = "leads_captured",
        ActivitiesDone = "activities_done",
        DealsWon = "deals_won",
        WonValue = "won_value",
    }
);

string_enum!(
    /// Whose target: one rep's, or a whole team's.
    SubjectKind, "target subject" { Rep = "rep", Team = "team" }
);

/// A target (or quota) for a rep or a team over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SalesTarget {
    pub id: String,
    pub subject_kind: SubjectKind,
    /// A user id, or a team id or name as the sync server knows it.
    pub subject: String,
    pub metric: TargetMetric,
    /// `[period_start, period_end)`, UTC milliseconds.
    pub period_start: Millis,
    pub period_end: Millis,
    /// A count, or minor units of `currency` for `won_value`.
    pub value: i64,
    /// Set for `won_value` only.
    pub currency: Option<String>,
    pub deleted: bool,
    pub created_at: Millis,
    pub created_by: String,
    pub updated_at: Millis,
    pub updated_by: String,
}

impl SalesTarget {
    /// The target as money, for `won_value`.
    pub fn money(&self) -> Option<Money> {
        self.currency.as_ref().map(|c| Money { amount_minor: self.value, currency: c.clone() })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TargetDraft {
    /// `Some` changes that target's value (and currency); its subject, metric and period stay.
    /// `None` updates the live target with the same subject, metric and period, or creates one.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub id: Option<String>,
    pub subject_kind: SubjectKind,
    pub subject: String,
    pub metric: TargetMetric,
    pub period_start: Millis,
    pub period_end: Millis,
    pub value: i64,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub currency: Option<String>,
}

/// A commission rate that applies to won value above `from_bp` of the quota (10,000 = 100 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Tier {
    pub from_bp: u32,
    pub rate_bp: u32,
}

/// A rep's compensation plan: base pay and commission on won value, with optional
/// accelerators above quota (the rep's `won_value` target for the period).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CompPlan {
    pub id: String,
    pub rep: String,
    pub base: Money,
    /// Commission on won value below the first tier, in basis points.
    pub rate_bp: u32,
    /// Sorted by `from_bp`; each rate applies from its threshold up to the next one.
    pub tiers: Vec<Tier>,
    pub deleted: bool,
    pub created_at: Millis,
    pub created_by: String,
    pub updated_at: Millis,
    pub updated_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CompPlanDraft {
    pub rep: String,
    pub base: Money,
    pub rate_bp: u32,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub tiers: Vec<Tier>,
}

/// Reads a percentage as people type it ("12.5", "12.5%") into basis points.
pub fn parse_percent(s: &str) -> Result<u32, ValidationError> {
    let err = || ValidationError::Invalid {
        field: "percentage",
        reason: format!("'{s}' is not a percentage such as 10 or 12.5"),
    };
    let t = s.trim().trim_end_matches('%').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || (t.contains('.') && frac.is_empty())
    {
        return Err(err());
    }
    let bp: u64 = format!("{whole}{frac:0<2}").parse().map_err(|_| err())?;
    u32::try_from(bp).map_err(|_| err())
}

/// Basis points as a percentage: 1250 → "12.5%".
pub fn format_bp(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let a = bp.unsigned_abs();
    match a % 100 {
        0 => format!("{sign}{}%", a / 100),
        f if f % 10 == 0 => format!("{sign}{}.{}%", a / 100, f / 10),
        f => format!("{sign}{}.{f:02}%", a / 100),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_and_print_in_basis_points() {
        for (s, bp) in [
            ("10", 1000),
            ("12.5", 1250),
            ("12.5%", 1250),
            ("0", 0),
            ("100", 10_000),
            ("0.01", 1),
            ("150", 15_000),
        ] {
            assert_eq!(parse_percent(s), Ok(bp), "{s}");
        }
        for bad in ["", "x", "1.234", "-5", "1.", ".5", "1e3"] {
            assert!(parse_percent(bad).is_err(), "{bad}");
        }
        assert_eq!(format_bp(1250), "12.5%");
        assert_eq!(format_bp(10_000), "100%");
        assert_eq!(format_bp(1), "0.01%");
        assert_eq!(format_bp(-50), "-0.5%");
    }
}
