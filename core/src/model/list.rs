//! What lists and searches return and take: list rows, filters and order, pages, reminders,
//! facets, an opened lead. Plain values; the store fills them from its projections.

use serde::{Deserialize, Serialize};

use super::{Activity, CaptureChannel, Lead, Millis, Money, Potential, Stage};
use crate::error::ValidationError;

/// A lead as a list row shows it, straight from the projection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LeadSummary {
    pub id: String,
    pub name: Option<String>,
    pub display_name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub event: Option<String>,
    pub channel: CaptureChannel,
    pub stage: Stage,
    pub potential: Option<Potential>,
    pub deal_value: Option<Money>,
    pub owner: String,
    pub next_follow_up: Option<Millis>,
    pub created_at: Millis,
    pub created_by: String,
    pub updated_at: Millis,
    pub updated_by: String,
    pub deleted: bool,
    pub tags: Vec<String>,
    pub has_conflicts: bool,
}

/// The list row of a lead: what its projection row holds.
impl From<&Lead> for LeadSummary {
    fn from(l: &Lead) -> LeadSummary {
        LeadSummary {
            id: l.id.clone(),
            name: l.name.clone(),
            display_name: l.display_name().to_string(),
            company: l.company.clone(),
            title: l.title.clone(),
            email: l.emails.first().cloned(),
            phone: l.phones.first().cloned(),
            event: l.source.event.clone(),
            channel: l.source.channel,
            stage: l.stage,
            potential: l.potential,
            deal_value: l.deal_value.clone(),
            owner: l.owner.clone(),
            next_follow_up: l.next_follow_up,
            created_at: l.created_at,
            created_by: l.created_by.clone(),
            updated_at: l.updated_at,
            updated_by: l.updated_by.clone(),
            deleted: l.deleted,
            tags: l.tags.clone(),
            has_conflicts: !l.conflicts.is_empty(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum LeadSort {
    #[default]
    Updated,
    Created,
    Name,
    Value,
}

impl LeadSort {
    pub fn parse(s: &str) -> Result<LeadSort, ValidationError> {
        match s {
            "updated" => Ok(LeadSort::Updated),
            "created" => Ok(LeadSort::Created),
            "name" => Ok(LeadSort::Name),
            "value" => Ok(LeadSort::Value),
            _ => Err(ValidationError::UnknownValue {
                field: "sort",
                value: s.into(),
                expected: "updated created name value",
            }),
        }
    }
}

/// Filters and order for the lead list. Every filter is optional; `after` is the `next` cursor
/// of the previous page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct LeadQuery {
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub stages: Vec<Stage>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub potential: Option<Potential>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub owner: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub tag: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub event: Option<String>,
    /// Leads whose next follow-up is at or before this time.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub follow_up_due_before: Option<Millis>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub updated_since: Option<Millis>,
    /// List the deleted leads (the bin) instead of the live ones.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub deleted: bool,
    pub sort: LeadSort,
    /// Defaults to newest/largest first, and A→Z for names.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub ascending: Option<bool>,
    /// 1 to 500; 0 means 50.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub limit: u32,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A reminder: a lead's next follow-up, or an open task on one of the user's leads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FollowUp {
    pub due_at: Millis,
    pub lead_id: String,
    pub lead_name: String,
    pub activity_id: Option<String>,
    pub subject: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FollowUps {
    pub overdue: Vec<FollowUp>,
    pub today: Vec<FollowUp>,
    /// Due after today, within the next seven days.
    pub upcoming: Vec<FollowUp>,
}

/// A value to filter the list by and how many live leads have it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Facet {
    pub value: String,
    pub leads: u32,
}

/// The events and tags of the live leads, most used first: the choices of the list's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LeadFacets {
    pub events: Vec<Facet>,
    pub tags: Vec<Facet>,
}

/// A lead with its activity timeline, newest first. `lead.conflicts` lists fields that two
/// devices wrote concurrently ("two values were entered").
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LeadDetail {
    pub lead: Lead,
    pub activities: Vec<Activity>,
}
