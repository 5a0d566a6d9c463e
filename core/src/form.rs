//! Which input of a form a validation error is about, so that a screen shows the core's message
//! under that field (the e-mail field, the deal value) instead of at the top of the form.

use crate::ValidationError;
use crate::ValidationError as V;
use crate::model::RequiredField;

/// An input of the lead or activity forms. Platform-neutral: the shells map it to their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum FormField {
    Name,
    Company,
    Title,
    Email,
    Phone,
    Event,
    Owner,
    Stage,
    LostReason,
    Potential,
    DealValue,
    Tags,
    Notes,
    CustomFields,
    NextFollowUp,
    Subject,
    Outcome,
    Duration,
    Location,
    Period,
}

impl From<RequiredField> for FormField {
    fn from(f: RequiredField) -> Self {
        match f {
            RequiredField::DealValue => FormField::DealValue,
            RequiredField::Email => FormField::Email,
            RequiredField::Phone => FormField::Phone,
            RequiredField::Company => FormField::Company,
            RequiredField::Title => FormField::Title,
            RequiredField::NextFollowUp => FormField::NextFollowUp,
            RequiredField::LostReason => FormField::LostReason,
            RequiredField::Potential => FormField::Potential,
        }
    }
}

impl ValidationError {
    /// The input the error belongs to; `None` for errors about no single input (an unknown
    /// region). A lead with nothing to identify it is put on the name, the first field.
    pub fn field(&self) -> Option<FormField> {
        let named = match self {
            V::EmptyLead => return Some(FormField::Name),
            V::Email(_) => return Some(FormField::Email),
            V::Phone { .. } => return Some(FormField::Phone),
            V::Currency(_) | V::NegativeAmount => return Some(FormField::DealValue),
            V::LostReasonWithoutLost => return Some(FormField::LostReason),
            V::Region(_) => return None,
            // The rule says which field the stage needs: that is where the rep types it.
            V::StageRequires { field, .. } => {
                return RequiredField::parse(field).ok().map(FormField::from);
            }
            V::TooLong { field, .. }
            | V::TooMany { field, .. }
            | V::Empty { field }
            | V::UnknownValue { field, .. }
            | V::Invalid { field, .. } => *field,
        };
        Some(match named {
            "name" => FormField::Name,
            "company" => FormField::Company,
            "job title" => FormField::Title,
            "e-mail addresses" => FormField::Email,
            "phone numbers" => FormField::Phone,
            "event" => FormField::Event,
            "owner" => FormField::Owner,
            "stage" => FormField::Stage,
            "lost reason" => FormField::LostReason,
            "potential" => FormField::Potential,
            "deal value" => FormField::DealValue,
            "tag" | "tags" => FormField::Tags,
            "notes" => FormField::Notes,
            "custom field name" | "custom field value" | "custom fields" => FormField::CustomFields,
            "next follow-up" => FormField::NextFollowUp,
            "subject" => FormField::Subject,
            "outcome" => FormField::Outcome,
            "duration" => FormField::Duration,
            "location" => FormField::Location,
            "period" => FormField::Period,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LeadDraft, Money};
    use crate::validate::Validator;

    fn field_of(d: LeadDraft) -> Option<FormField> {
        Validator::new("KR").unwrap().lead_draft(&mut d.clone()).unwrap_err().field()
    }

    #[test]
    fn each_draft_error_names_the_input_it_belongs_to() {
        let named = |name: &str| LeadDraft { name: Some(name.into()), ..Default::default() };
        assert_eq!(
            field_of(LeadDraft { emails: vec!["kim@".into()], ..named("김민지") }),
            Some(FormField::Email)
        );
        assert_eq!(
            field_of(LeadDraft { phones: vec!["12".into()], ..named("김민지") }),
            Some(FormField::Phone)
        );
        assert_eq!(field_of(named(&"가".repeat(201))), Some(FormField::Name));
        assert_eq!(
            field_of(LeadDraft { title: Some("x".repeat(201)), ..named("a") }),
            Some(FormField::Title)
        );
        assert_eq!(
            field_of(LeadDraft {
                deal_value: Some(Money { amount_minor: 1, currency: "XYZ".into() }),
                ..named("a")
            }),
            Some(FormField::DealValue)
        );
        assert_eq!(
            field_of(LeadDraft { tags: (0..51).map(|i| i.to_string()).collect(), ..named("a") }),
            Some(FormField::Tags)
        );
        assert_eq!(field_of(LeadDraft::default()), Some(FormField::Name));
        assert_eq!(V::Region("XX".into()).field(), None);
    }

    #[test]
    fn a_stage_rule_points_at_the_field_it_requires() {
        let e = V::StageRequires {
            stage: "Quote sent".into(),
            field: RequiredField::DealValue.as_str(),
            what: RequiredField::DealValue.phrase(),
        };
        assert_eq!(e.field(), Some(FormField::DealValue));
        for f in RequiredField::ALL {
            let e = V::StageRequires { stage: "s".into(), field: f.as_str(), what: f.phrase() };
            assert_eq!(e.field(), Some(FormField::from(*f)));
        }
    }
}
