//! Where each column of a file goes: detected from the headers that common CRMs and address
//! books write (and this app's own export), overridable by the caller.

use std::collections::{HashMap, HashSet};

use serde::{Serialize, Serializer};

use super::read::{Row, clean_header, read_table};
use crate::error::{Result, ValidationError as V};
use crate::model::parse_id;
use crate::validate::{self, MAX_CUSTOM_KEY};

/// Where the values of one column go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// The lead's id (this app's export); kept, so that a retried import is recognised.
    Id,
    /// The full name.
    Name,
    /// Combined with [`Column::MiddleName`] and [`Column::LastName`] into the name when no
    /// full name is given ("김" + "철수" → "김철수", "Jane" + "Doe" → "Jane Doe").
    FirstName,
    MiddleName,
    LastName,
    Company,
    /// Job title.
    Title,
    /// One or more e-mail addresses (separated by `;`, `,` or spaces); several columns add up.
    Email,
    /// One or more phone numbers (separated by `;`, `,` or `:::`); several columns add up.
    Phone,
    Event,
    Channel,
    /// A "lead source": the capture channel when it names one ("Web", "badge scan"), otherwise
    /// the event (or, when an event column exists too, a custom field named after the header).
    Source,
    Stage,
    LostReason,
    Potential,
    /// A deal value in major units ("1,500.50"), in the currency of the [`Column::Currency`]
    /// column, of a code written in the cell ("1500 USD"), or the import's default currency.
    Amount,
    /// A deal value in minor units (this app's `deal_amount_minor`).
    AmountMinor,
    Currency,
    Owner,
    /// Tags separated by `;` (also `,` and `:::` in other apps' files); several columns add up.
    Tags,
    /// Several notes columns are joined with a blank line.
    Notes,
    /// RFC 3339, a date (YYYY-MM-DD, UTC midnight) or milliseconds since 1970 (this app's export).
    NextFollowUp,
    /// This app's `deleted` flag: a row of a deleted lead is refused rather than brought back.
    Deleted,
    /// A custom field with this key.
    Custom(String),
    /// The column is not read.
    Ignore,
}

const COLUMN_NAMES: &str = "id, name, first_name, middle_name, last_name, company, title, email, phone, event, channel, \
source, stage, lost_reason, potential, amount, amount_minor, currency, owner, tags, notes, next_follow_up, deleted, \
custom, custom.<key>, ignore";

impl Column {
    /// Parses a field name as a user types it (`--map "Header=field"`): the names of
    /// [`Column`]'s `Display`, this app's export columns, and `custom` (a custom field named
    /// after the header, filled in by [`ColumnMapping::set`]) or `custom.<key>`.
    pub fn parse(s: &str) -> Result<Column, V> {
        let t = s.trim();
        if let Some(key) = t.strip_prefix("custom.").or_else(|| t.strip_prefix("custom:")) {
            let key = key.trim();
            if key.is_empty() {
                return Err(V::Empty { field: "custom field name" });
            }
            validate::check_len("custom field name", key, MAX_CUSTOM_KEY)?;
            return Ok(Column::Custom(key.to_string()));
        }
        let n = t.to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match n.as_str() {
            "id" => Column::Id,
            "name" | "full_name" => Column::Name,
            "first_name" | "given_name" => Column::FirstName,
            "middle_name" => Column::MiddleName,
            "last_name" | "family_name" | "surname" => Column::LastName,
            "company" | "organization" | "organisation" => Column::Company,
            "title" | "job_title" => Column::Title,
            "email" | "emails" | "e_mail" => Column::Email,
            "phone" | "phones" | "mobile" => Column::Phone,
            "event" => Column::Event,
            "channel" => Column::Channel,
            "source" | "lead_source" => Column::Source,
            "stage" | "status" => Column::Stage,
            "lost_reason" => Column::LostReason,
            "potential" | "rating" => Column::Potential,
            "amount" | "deal_value" | "value" => Column::Amount,
            "amount_minor" | "deal_amount_minor" => Column::AmountMinor,
            "currency" | "deal_currency" => Column::Currency,
            "owner" => Column::Owner,
            "tags" | "tag" | "labels" => Column::Tags,
            "notes" | "note" | "description" => Column::Notes,
            "next_follow_up" | "follow_up" => Column::NextFollowUp,
            "deleted" => Column::Deleted,
            "custom" => Column::Custom(String::new()),
            "ignore" | "skip" | "none" => Column::Ignore,
            _ => {
                return Err(V::UnknownValue {
                    field: "import field",
                    value: s.to_string(),
                    expected: COLUMN_NAMES,
                });
            }
        })
    }

    /// Fields that take one value per lead; a second column for one of them is not merged.
    /// The amount in major and in minor units are one slot (the deal value).
    fn slot(&self) -> Option<&'static str> {
        Some(match self {
            Column::Email
            | Column::Phone
            | Column::Tags
            | Column::Notes
            | Column::Custom(_)
            | Column::Ignore => return None,
            Column::Amount | Column::AmountMinor => "deal value",
            Column::Id => "id",
            Column::Name => "name",
            Column::FirstName => "first_name",
            Column::MiddleName => "middle_name",
            Column::LastName => "last_name",
            Column::Company => "company",
            Column::Title => "title",
            Column::Event => "event",
            Column::Channel => "channel",
            Column::Source => "source",
            Column::Stage => "stage",
            Column::LostReason => "lost_reason",
            Column::Potential => "potential",
            Column::Currency => "currency",
            Column::Owner => "owner",
            Column::NextFollowUp => "next_follow_up",
            Column::Deleted => "deleted",
        })
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Column::Id => "id",
            Column::Name => "name",
            Column::FirstName => "first_name",
            Column::MiddleName => "middle_name",
            Column::LastName => "last_name",
            Column::Company => "company",
            Column::Title => "title",
            Column::Email => "email",
            Column::Phone => "phone",
            Column::Event => "event",
            Column::Channel => "channel",
            Column::Source => "source",
            Column::Stage => "stage",
            Column::LostReason => "lost_reason",
            Column::Potential => "potential",
            Column::Amount => "amount",
            Column::AmountMinor => "amount_minor",
            Column::Currency => "currency",
            Column::Owner => "owner",
            Column::Tags => "tags",
            Column::Notes => "notes",
            Column::NextFollowUp => "next_follow_up",
            Column::Deleted => "deleted",
            Column::Custom(k) => return write!(f, "custom.{k}"),
            Column::Ignore => "ignore",
        };
        f.write_str(s)
    }
}

impl std::str::FromStr for Column {
    type Err = V;
    fn from_str(s: &str) -> Result<Self, V> {
        Column::parse(s)
    }
}

impl Serialize for Column {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a column's target was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedBy {
    /// Recognised from the header (and, for `id`, the values).
    Detected,
    /// Set by the caller ([`ColumnMapping::set`], [`ColumnMapping::ignore`]).
    Caller,
    /// The header was not recognised: the column became a custom field named after it.
    Unknown,
    /// Another column already fills this one-value field: the column became a custom field.
    Duplicate,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappedColumn {
    /// The header as written in the file (without a BOM, trimmed).
    pub header: String,
    pub target: Column,
    pub by: MappedBy,
    /// Why a detected column was mapped as it was, when that is not obvious.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Header → field, one entry per column in file order.
///
/// [`ColumnMapping::detect`] (or [`ColumnMapping::from_csv`]) gives the automatic mapping, which
/// [`ColumnMapping::set`] and [`ColumnMapping::ignore`] override; [`ColumnMapping::new`] is an
/// empty mapping to which only overrides are added. When an import is given a mapping, only the
/// caller's entries are taken from it: every other column is detected again from the file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ColumnMapping {
    columns: Vec<MappedColumn>,
}

impl ColumnMapping {
    /// No overrides: every column of the file is detected.
    pub fn new() -> Self {
        Self::default()
    }

    /// The automatic mapping of a header row (without looking at any values).
    pub fn detect<S: AsRef<str>>(headers: &[S]) -> Self {
        let headers: Vec<String> = headers.iter().map(|h| clean_header(h.as_ref())).collect();
        resolve(&headers, &[], &[]).map(|(m, _)| m).unwrap_or_default()
    }

    /// The automatic mapping of a CSV file, as an import of it would use it (the values of an
    /// `id` column are checked to be record ids).
    pub fn from_csv(input: &[u8]) -> Result<Self> {
        let table = read_table(input)?;
        let (m, _) = resolve(&table.headers, &[], &table.rows)?;
        Ok(m)
    }

    /// Maps the column(s) with this header (compared without case, spacing and punctuation) to
    /// `target`. `Column::Custom("")` names the custom field after the header. A header that is
    /// not in the mapping is added, and an import of a file without it fails.
    pub fn set(&mut self, header: &str, target: Column) -> &mut Self {
        let header = clean_header(header);
        let target = match target {
            Column::Custom(k) if k.trim().is_empty() => Column::Custom(custom_key(&header, 0)),
            t => t,
        };
        let key = norm(&header);
        let mut found = false;
        for c in self.columns.iter_mut().filter(|c| norm(&c.header) == key) {
            c.target = target.clone();
            c.by = MappedBy::Caller;
            c.note = None;
            found = true;
        }
        if !found {
            self.columns.push(MappedColumn { header, target, by: MappedBy::Caller, note: None });
        }
        self
    }

    /// The column(s) with this header are not read.
    pub fn ignore(&mut self, header: &str) -> &mut Self {
        self.set(header, Column::Ignore)
    }

    pub fn columns(&self) -> &[MappedColumn] {
        &self.columns
    }

    /// The target of the first column with this header.
    pub fn target(&self, header: &str) -> Option<&Column> {
        let key = norm(&clean_header(header));
        self.columns.iter().find(|c| norm(&c.header) == key).map(|c| &c.target)
    }

    pub(super) fn overrides(&self) -> Vec<(String, Column)> {
        self.columns
            .iter()
            .filter(|c| c.by == MappedBy::Caller)
            .map(|c| (c.header.clone(), c.target.clone()))
            .collect()
    }
}

/// The header row is this app's export: its own column names are read exactly, and lists are
/// split on ";" only.
pub(super) fn is_native(headers: &[String]) -> bool {
    let lower: HashSet<String> = headers.iter().map(|h| h.to_lowercase()).collect();
    ["id", "deal_amount_minor", "created_by"].iter().all(|h| lower.contains(*h))
}

/// A header compared without case, spacing or punctuation.
pub(super) fn norm(h: &str) -> String {
    h.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The custom field key for a column: its header (at most 64 characters), or "column N".
pub(super) fn custom_key(header: &str, index: usize) -> String {
    let h = header.trim();
    if h.is_empty() {
        format!("column {}", index + 1)
    } else {
        h.chars().take(MAX_CUSTOM_KEY).collect()
    }
}

/// What a header means, with a rank: when two columns claim one field, the lower rank wins
/// ("Job Title" 1 over Outlook's "Title" 2, "Amount" 1 over "Annual Revenue" 3).
pub(super) fn detect_header(header: &str, native: bool) -> Option<(Column, u8)> {
    if native {
        let h = header.to_lowercase();
        if let Some(key) = header.strip_prefix("custom.") {
            return Some((Column::Custom(key.to_string()), 0));
        }
        let t = match h.as_str() {
            "id" => Column::Id,
            "emails" => Column::Email,
            "phones" => Column::Phone,
            "deal_amount_minor" => Column::AmountMinor,
            "deal_currency" => Column::Currency,
            "deleted" => Column::Deleted,
            // Set by the store on import; the lead's history starts here.
            "created_at" | "created_by" | "updated_at" | "updated_by" => Column::Ignore,
            _ => return detect_key(&norm(header)),
        };
        return Some((t, 0));
    }
    if let Some(key) = header.strip_prefix("custom.").filter(|k| !k.trim().is_empty()) {
        return Some((Column::Custom(key.trim().to_string()), 0));
    }
    let key = norm(header);
    if key == "id" {
        return Some((Column::Id, 1));
    }
    if let Some(t) = detect_key(&key) {
        return Some(t);
    }
    // Numbered columns: "Email 2", "E-mail 2 Address", "Phone 1 - Value", "Organization 1 - Name".
    let plain: String = key.chars().filter(|c| !c.is_ascii_digit()).collect();
    if plain != key
        && !plain.is_empty()
        && let Some((t, rank)) = detect_key(&plain)
    {
        return Some((t, rank.max(2)));
    }
    // Pipedrive-style "Person - Email", "Deal - Value": an entity prefix before the field.
    for prefix in ["person", "contact", "lead", "deal", "opportunity"] {
        if let Some(rest) = plain.strip_prefix(prefix).filter(|r| !r.is_empty()) {
            // A deal's or lead's "title"/"name" names the deal, not the person.
            if prefix != "person" && prefix != "contact" && matches!(rest, "title" | "name") {
                return None;
            }
            if let Some((t, rank)) = detect_key(rest) {
                return Some((t, rank.max(2)));
            }
        }
    }
    None
}

/// Normalised header → target and rank. Kept as one table so that adding a CRM's spelling is a
/// one-line change.
pub(super) fn detect_key(key: &str) -> Option<(Column, u8)> {
    use Column as T;
    let (t, rank) = match key {
        "name" | "fullname" | "contactname" | "personname" | "leadname" | "customername"
        | "이름" | "성명" | "고객명" | "성함" => (T::Name, 1),
        "displayname" | "fileas" => (T::Name, 3),
        "firstname" | "givenname" | "first" | "forename" => (T::FirstName, 1),
        "middlename" | "additionalname" | "middle" => (T::MiddleName, 1),
        "lastname" | "familyname" | "surname" | "last" | "성" => (T::LastName, 1),
        "company" | "companyname" | "accountname" | "account" | "organization"
        | "organizationname" | "organisation" | "organisationname" | "org" | "orgname"
        | "businessname" | "employer" | "회사" | "회사명" | "업체" | "업체명" | "기업"
        | "기업명" | "소속" | "상호" => (T::Company, 1),
        "jobtitle" | "position" | "designation" | "organizationtitle" | "organisationtitle"
        | "직함" | "직책" | "직위" | "직급" => (T::Title, 1),
        "title" => (T::Title, 2),
        "email" | "emails" | "mail" | "emailaddress" | "emailaddresses" | "emailvalue"
        | "primaryemail" | "workemail" | "businessemail" | "이메일" | "메일" | "전자우편"
        | "이메일주소" => (T::Email, 1),
        "emailwork" | "emailhome" | "emailother" | "homeemail" | "otheremail" | "personalemail"
        | "secondaryemail" | "additionalemail" | "alternateemail" => (T::Email, 2),
        "phone" | "phones" | "phonenumber" | "phonevalue" | "telephone" | "tel" | "mobile"
        | "mobilephone" | "mobilephonenumber" | "mobilenumber" | "cellphone" | "cell"
        | "businessphone" | "workphone" | "officephone" | "directphone" | "primaryphone"
        | "전화" | "전화번호" | "휴대폰" | "휴대전화" | "핸드폰" | "휴대폰번호" | "핸드폰번호"
        | "연락처" | "직통전화" | "회사전화" => (T::Phone, 1),
        "homephone" | "otherphone" | "phonework" | "phonemobile" | "phonehome" | "phoneother"
        | "mobilephone2" | "companymainphone" => (T::Phone, 2),
        // Google Contacts writes a label column next to each value column.
        "emaillabel" | "emailtype" | "phonelabel" | "phonetype" => (T::Ignore, 1),
        "event" | "eventname" | "tradeshow" | "이벤트" | "행사" | "행사명" | "전시회"
        | "박람회" => (T::Event, 1),
        "campaign" | "campaignname" | "listname" | "leadlist" | "eventlist" | "캠페인" => {
            (T::Event, 2)
        }
        "channel" | "capturechannel" => (T::Channel, 1),
        "leadsource" | "source" | "originalsource" | "contactsource" | "sourcename" | "출처"
        | "유입경로" | "리드소스" => (T::Source, 1),
        "stage" | "dealstage" | "pipelinestage" | "salesstage" | "opportunitystage" | "단계"
        | "영업단계" | "진행단계" => (T::Stage, 1),
        "leadstatus" | "contactstatus" => (T::Stage, 2),
        "status" | "dealstatus" | "상태" => (T::Stage, 3),
        "lostreason" | "reasonlost" | "lossreason" | "closedlostreason" | "실패사유"
        | "실주사유" => (T::LostReason, 1),
        "rating" | "leadrating" | "potential" | "temperature" | "leadtemperature" | "등급"
        | "잠재력" | "가망도" => (T::Potential, 1),
        "amount" | "dealvalue" | "dealamount" | "dealsize" | "value" | "opportunityamount"
        | "expectedrevenue" | "금액" | "거래금액" | "예상금액" | "계약금액" => {
            (T::Amount, 1)
        }
        "annualrevenue" | "revenue" | "매출" | "연매출" => (T::Amount, 3),
        "amountminor" | "dealamountminor" => (T::AmountMinor, 0),
        "currency" | "dealcurrency" | "currencycode" | "currencyisocode" | "통화" => {
            (T::Currency, 1)
        }
        "owner" | "leadowner" | "contactowner" | "dealowner" | "accountowner" | "recordowner"
        | "ownername" | "담당자" | "영업담당자" => (T::Owner, 1),
        "assignedto" | "salesrep" | "salesperson" => (T::Owner, 2),
        "tags" | "tag" | "labels" | "label" | "categories" | "groupmembership" | "태그"
        | "라벨" => (T::Tags, 1),
        "notes" | "note" | "description" | "comments" | "comment" | "remarks" | "memo" | "메모"
        | "비고" | "노트" | "설명" => (T::Notes, 1),
        "nextfollowup" | "followup" | "followupdate" | "nextfollowupdate" | "nextfollowupat"
        | "다음연락일" | "후속조치일" | "팔로업" => (T::NextFollowUp, 1),
        "nextactivitydate" | "nextstepdate" => (T::NextFollowUp, 2),
        _ => return None,
    };
    Some((t, rank))
}

/// What each column is read as: its target, and the column index.
pub(super) type Plan = Vec<(Column, String)>;

/// The effective mapping of a file's columns: the caller's overrides first, every other column
/// detected; a one-value field claimed by two detected columns goes to the better-ranked one and
/// the other becomes a custom field. Also returns the plan (target and header per column).
pub(super) fn resolve(
    headers: &[String],
    overrides: &[(String, Column)],
    rows: &[Row],
) -> Result<(ColumnMapping, Plan)> {
    let native = is_native(headers);
    let mut used = vec![false; overrides.len()];
    let mut cols: Vec<(MappedColumn, u8)> = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let key = norm(h);
        if let Some(j) = overrides.iter().position(|(oh, _)| norm(oh) == key) {
            used[j] = true;
            let target = match &overrides[j].1 {
                Column::Custom(k) if k.is_empty() => Column::Custom(custom_key(h, i)),
                t => t.clone(),
            };
            cols.push((
                MappedColumn { header: h.clone(), target, by: MappedBy::Caller, note: None },
                0,
            ));
            continue;
        }
        let mut col = match detect_header(h, native) {
            Some((target, rank)) => (
                MappedColumn { header: h.clone(), target, by: MappedBy::Detected, note: None },
                rank,
            ),
            None => (
                MappedColumn {
                    header: h.clone(),
                    target: Column::Custom(custom_key(h, i)),
                    by: MappedBy::Unknown,
                    note: None,
                },
                u8::MAX,
            ),
        };
        // An `id` column of another CRM (Salesforce's 18-character ids) is kept as a custom field.
        if col.0.target == Column::Id {
            let foreign = rows
                .iter()
                .filter_map(|r| r.cells.get(i))
                .filter_map(|c| c.as_deref().ok())
                .map(str::trim)
                .any(|v| !v.is_empty() && parse_id("lead id", v).is_err());
            if foreign {
                col.0.target = Column::Custom(custom_key(h, i));
                col.0.note = Some("the values are not this app's record ids".into());
            }
        }
        cols.push(col);
    }
    if let Some(j) = used.iter().position(|u| !u) {
        let list: Vec<&str> = headers.iter().map(String::as_str).collect();
        return Err(V::Invalid {
            field: "column mapping",
            reason: format!(
                "the file has no column '{}' (its columns: {})",
                overrides[j].0,
                list.join(", ")
            ),
        }
        .into());
    }
    // The caller's targets must not claim one field twice.
    let mut caller_slots: HashMap<&'static str, &str> = HashMap::new();
    for (c, _) in cols.iter().filter(|(c, _)| c.by == MappedBy::Caller) {
        if let Some(slot) = c.target.slot()
            && let Some(other) = caller_slots.insert(slot, &c.header)
        {
            return Err(V::Invalid {
                field: "column mapping",
                reason: format!("both '{other}' and '{}' are mapped to {slot}", c.header),
            }
            .into());
        }
    }
    // Korean exports with 성 and 이름: 이름 is then the given name.
    if cols.iter().any(|(c, _)| c.target == Column::LastName) {
        for (c, _) in cols.iter_mut().filter(|(c, _)| {
            c.by == MappedBy::Detected && c.target == Column::Name && norm(&c.header) == "이름"
        }) {
            c.target = Column::FirstName;
        }
    }
    // One column per one-value field: the caller's, else the best rank, else the first.
    let mut winner: HashMap<&'static str, usize> = HashMap::new();
    for (i, (c, rank)) in cols.iter().enumerate() {
        let Some(slot) = c.target.slot() else { continue };
        match winner.get(slot) {
            Some(&w)
                if cols[w].0.by == MappedBy::Caller
                    || cols[w].1 <= *rank && c.by != MappedBy::Caller => {}
            _ => {
                winner.insert(slot, i);
            }
        }
    }
    let demoted: Vec<(usize, &'static str)> = cols
        .iter()
        .enumerate()
        .filter_map(|(i, (c, _))| {
            c.target.slot().filter(|s| winner.get(s) != Some(&i)).map(|s| (i, s))
        })
        .collect();
    for (i, slot) in demoted {
        let other = winner.get(slot).map(|&w| cols[w].0.header.clone()).unwrap_or_default();
        let c = &mut cols[i].0;
        c.note = Some(format!("'{other}' is read as {slot}"));
        c.target = Column::Custom(custom_key(&c.header, i));
        c.by = MappedBy::Duplicate;
    }
    let columns: Vec<MappedColumn> = cols.into_iter().map(|(c, _)| c).collect();
    let plan = columns.iter().map(|c| (c.target.clone(), c.header.clone())).collect();
    Ok((ColumnMapping { columns }, plan))
}

pub(super) fn col_of(plan: &Plan, f: impl Fn(&Column) -> bool) -> Option<String> {
    let names: Vec<&str> = plan.iter().filter(|(t, _)| f(t)).map(|(_, h)| h.as_str()).collect();
    (!names.is_empty()).then(|| names.join(", "))
}
