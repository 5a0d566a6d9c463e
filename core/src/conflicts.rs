//! Resolving a conflict in one tap: the rep picks one of the values two devices wrote at once
//! (`Lead.conflicts`), and `Store::resolve_conflict` writes it again with the edit made here,
//! which supersedes both on every replica.

use crate::calendar::Zone;
use crate::error::ValidationError;
use crate::model::{CaptureChannel, CustomField, Lead, LeadPatch, Money, Potential, Stage};

fn unreadable(field: &str, value: &str) -> ValidationError {
    ValidationError::Invalid {
        field: "conflict",
        reason: format!("'{value}' cannot be written back to {field}"),
    }
}

/// The edit that writes `value` (as `FieldConflict.values` renders it) to `field` of `lead`.
pub(crate) fn patch_for(
    lead: &Lead,
    field: &str,
    value: &str,
) -> Result<LeadPatch, ValidationError> {
    let mut p = LeadPatch::default();
    let text = Some(value.to_string());
    match field {
        "name" => p.name = text,
        "company" => p.company = text,
        "title" => p.title = text,
        "owner" => p.owner = text,
        "source.event" => p.event = text,
        "source.channel" => p.channel = Some(CaptureChannel::parse(value)?),
        "stage" => {
            let stage = Stage::parse(value)?;
            p.stage = Some(stage);
            if stage == Stage::Lost {
                p.lost_reason = lead.lost_reason.clone();
            }
        }
        "lost_reason" => {
            // A lost reason is written with its stage.
            p.stage = Some(Stage::Lost);
            p.lost_reason = text;
        }
        "potential" => p.potential = Some(Potential::parse(value)?),
        "deal" => {
            let (amount, currency) =
                value.split_once(' ').ok_or_else(|| unreadable(field, value))?;
            let amount_minor = amount.parse().map_err(|_| unreadable(field, value))?;
            p.deal_value = Some(Money { amount_minor, currency: currency.to_string() });
        }
        "next_follow_up" => {
            p.next_follow_up = Some(value.parse().map_err(|_| unreadable(field, value))?)
        }
        f => match f.strip_prefix("custom.") {
            Some(key) => {
                p.set_custom_fields =
                    vec![CustomField { key: key.to_string(), value: value.to_string() }]
            }
            None => return Err(unreadable(field, value)),
        },
    }
    Ok(p)
}

/// A conflict's value as a person reads the field itself: money with its decimals and
/// grouping ("25,000.00 USD", never the stored "2500000 USD"), times in `tz`, a duration as one,
/// a task's `done` as done or open. `FieldConflict.values` stay in the stored form, which
/// `Store::resolve_conflict` writes back; enum values (stage, potential, channel) read as
/// their fields do.
pub fn shown(field: &str, raw: &str, tz: &Zone) -> String {
    let time = |s: &str| s.parse::<i64>().map(|t| tz.format_full(t));
    let shown = match field {
        "deal" => raw.split_once(' ').and_then(|(amount, currency)| {
            Some(
                Money { amount_minor: amount.parse().ok()?, currency: currency.into() }.to_string(),
            )
        }),
        "next_follow_up" | "occurred_at" | "due_at" => time(raw).ok(),
        "duration_s" => raw.parse().ok().map(crate::calendar::format_duration),
        "done" => Some(if raw == "true" { "done" } else { "open" }.to_string()),
        "deleted" => Some(if raw == "true" { "deleted" } else { "not deleted" }.to_string()),
        _ if raw.is_empty() => Some("(empty)".to_string()),
        _ => None,
    };
    shown.unwrap_or_else(|| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rendered_value_reads_back_into_an_edit() {
        let lead = Lead {
            lost_reason: Some("price".into()),
            ..serde_json::from_value(serde_json::json!({
                "id": "x", "name": null, "company": null, "title": null, "emails": [], "phones": [],
                "source": {"event": null, "channel": "manual"}, "stage": "new", "lost_reason": null,
                "stage_history": [], "potential": null, "deal_value": null, "owner": "kim",
                "tags": [], "notes": "", "custom_fields": [], "next_follow_up": null,
                "created_at": 0, "created_by": "kim", "updated_at": 0, "updated_by": "kim",
                "deleted": false, "merged_into": null, "merged_from": [], "conflicts": []
            }))
            .unwrap()
        };
        let p = patch_for(&lead, "deal", "1500000 KRW").unwrap();
        assert_eq!(p.deal_value, Some(Money { amount_minor: 1_500_000, currency: "KRW".into() }));
        assert_eq!(
            patch_for(&lead, "stage", "lost").unwrap().lost_reason.as_deref(),
            Some("price")
        );
        assert_eq!(patch_for(&lead, "potential", "hot").unwrap().potential, Some(Potential::Hot));
        assert_eq!(
            patch_for(&lead, "next_follow_up", "1700000000000").unwrap().next_follow_up,
            Some(1_700_000_000_000)
        );
        assert_eq!(
            patch_for(&lead, "source.event", "Seoul Expo").unwrap().event.as_deref(),
            Some("Seoul Expo")
        );
        assert_eq!(patch_for(&lead, "custom.size", "L").unwrap().set_custom_fields[0].key, "size");
        assert!(patch_for(&lead, "deal", "lots").is_err());
        assert!(patch_for(&lead, "emails", "x").is_err());
    }
}
