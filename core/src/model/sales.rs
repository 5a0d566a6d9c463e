//! The sales process a manager configures (stage names, win probabilities, required fields),
//! targets and quotas, and compensation plans. Plain types; the documents are in `doc/`.

use serde::{Deserialize, Serialize};

use super::{Lead, Millis, Money, Stage, string_enum};
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

/// A change to one stage's settings; `None` leaves a value as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StagePatch {
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub name: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub probability_bp: Option<u32>,
    /// Replaces the stage's required fields.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub required: Option<Vec<RequiredField>>,
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "SalesTarget"))]
pub struct Target {
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

impl Target {
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

/// Rejects what a document must never hold; shared by the store (before writing) and so by
/// every client.
pub(crate) fn validate_target(d: &mut TargetDraft) -> Result<(), ValidationError> {
    d.subject = d.subject.trim().to_string();
    if d.subject.is_empty() {
        return Err(ValidationError::Empty { field: "target subject" });
    }
    crate::validate::check_len("target subject", &d.subject, crate::validate::MAX_SHORT_TEXT)?;
    if d.period_end <= d.period_start {
        return Err(ValidationError::Invalid {
            field: "period",
            reason: "the end must be after the start".into(),
        });
    }
    if d.value < 0 {
        return Err(ValidationError::Invalid {
            field: "target value",
            reason: "must not be negative".into(),
        });
    }
    match (d.metric, &d.currency) {
        (TargetMetric::WonValue, Some(c)) => d.currency = Some(crate::validate::currency(c)?),
        (TargetMetric::WonValue, None) => {
            return Err(ValidationError::Invalid {
                field: "target",
                reason: "a won value target needs a currency".into(),
            });
        }
        (_, Some(_)) => {
            return Err(ValidationError::Invalid {
                field: "target",
                reason: format!("a {} target is a count and has no currency", d.metric),
            });
        }
        (_, None) => {}
    }
    Ok(())
}

pub(crate) fn validate_plan(d: &mut CompPlanDraft) -> Result<(), ValidationError> {
    d.rep = d.rep.trim().to_string();
    if d.rep.is_empty() {
        return Err(ValidationError::Empty { field: "rep" });
    }
    crate::validate::check_len("rep", &d.rep, crate::validate::MAX_SHORT_TEXT)?;
    d.base.currency = crate::validate::currency(&d.base.currency)?;
    if d.base.amount_minor < 0 {
        return Err(ValidationError::Invalid {
            field: "base pay",
            reason: "must not be negative".into(),
        });
    }
    if d.rate_bp > FULL_BP {
        return Err(ValidationError::Invalid {
            field: "commission rate",
            reason: "at most 100%".into(),
        });
    }
    if d.tiers.len() > MAX_TIERS {
        return Err(ValidationError::TooMany {
            field: "tiers",
            count: d.tiers.len(),
            max: MAX_TIERS,
        });
    }
    d.tiers.sort();
    for (i, t) in d.tiers.iter().enumerate() {
        if t.rate_bp > FULL_BP {
            return Err(ValidationError::Invalid {
                field: "tier rate",
                reason: "at most 100%".into(),
            });
        }
        if t.from_bp > MAX_TIER_FROM_BP {
            return Err(ValidationError::Invalid {
                field: "tier",
                reason: "a tier starts at most at 1000% of quota".into(),
            });
        }
        if i > 0 && d.tiers[i - 1].from_bp == t.from_bp {
            return Err(ValidationError::Invalid {
                field: "tier",
                reason: format!("two tiers start at {}% of quota", t.from_bp as f64 / 100.0),
            });
        }
    }
    Ok(())
}

pub const MAX_TIERS: usize = 10;
/// Tiers start at most at 1000 % of quota.
pub const MAX_TIER_FROM_BP: u32 = 100_000;

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

    #[test]
    fn targets_and_plans_are_validated() {
        let t = |metric, currency: Option<&str>, value| TargetDraft {
            id: None,
            subject_kind: SubjectKind::Rep,
            subject: " kim ".into(),
            metric,
            period_start: 0,
            period_end: 10,
            value,
            currency: currency.map(str::to_string),
        };
        let mut ok = t(TargetMetric::WonValue, Some("krw"), 5);
        validate_target(&mut ok).unwrap();
        assert_eq!((ok.subject.as_str(), ok.currency.as_deref()), ("kim", Some("KRW")));
        assert!(validate_target(&mut t(TargetMetric::WonValue, None, 5)).is_err());
        assert!(validate_target(&mut t(TargetMetric::DealsWon, Some("KRW"), 5)).is_err());
        assert!(validate_target(&mut t(TargetMetric::DealsWon, None, -1)).is_err());
        let mut bad_period = t(TargetMetric::DealsWon, None, 1);
        bad_period.period_end = 0;
        assert!(validate_target(&mut bad_period).is_err());

        let p = |rate_bp, tiers: Vec<Tier>| CompPlanDraft {
            rep: "kim".into(),
            base: Money { amount_minor: 1, currency: "usd".into() },
            rate_bp,
            tiers,
        };
        let mut ok = p(
            1000,
            vec![Tier { from_bp: 15_000, rate_bp: 2000 }, Tier { from_bp: 10_000, rate_bp: 1500 }],
        );
        validate_plan(&mut ok).unwrap();
        assert_eq!(ok.tiers[0].from_bp, 10_000, "sorted");
        assert_eq!(ok.base.currency, "USD");
        assert!(validate_plan(&mut p(10_001, vec![])).is_err());
        assert!(
            validate_plan(&mut p(
                1000,
                vec![Tier { from_bp: 1, rate_bp: 1 }, Tier { from_bp: 1, rate_bp: 2 }]
            ))
            .is_err()
        );
    }
}
