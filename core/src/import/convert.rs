//! A row to a validated lead draft: names joined, lists split, amounts, stages, channels and
//! dates read as people and CRMs write them.

use super::mapping::{Column, Plan};
use super::mapping::{col_of, custom_key};
use crate::calendar::Zone;
use crate::error::ValidationError as V;
use crate::model::{
    CaptureChannel, CustomField, LeadDraft, Millis, Money, Potential, Stage, currency_exponent,
    parse_id,
};
use crate::validate::{self, MAX_CUSTOM_VALUE, Validator};

pub(super) struct Converter<'a> {
    pub(super) plan: &'a Plan,
    pub(super) validator: &'a Validator,
    pub(super) default_currency: Option<&'a str>,
    pub(super) native: bool,
}

pub(super) type CellErrors = Vec<(Option<String>, String)>;

impl Converter<'_> {
    /// The draft of one row, validated; or every problem found in it.
    pub(super) fn draft(&self, cells: &[&str]) -> std::result::Result<LeadDraft, CellErrors> {
        let mut errs: CellErrors = Vec::new();
        let mut d = LeadDraft::default();
        let (mut first, mut middle, mut last) = (None, None, None);
        // (header, cell) of the deal value's columns.
        let mut amount: Option<(&str, &str)> = None;
        let mut amount_minor: Option<(&str, &str)> = None;
        let mut currency: Option<&str> = None;
        let mut sources: Vec<(&str, &str)> = Vec::new();
        let mut notes: Vec<&str> = Vec::new();
        let text = |s: &str| Some(s.trim().to_string());
        for (i, (target, header)) in self.plan.iter().enumerate() {
            let raw = cells.get(i).copied().unwrap_or("");
            let v = raw.trim();
            if v.is_empty() {
                continue;
            }
            let mut fail = |e: V| errs.push((Some(header.clone()), e.to_string()));
            match target {
                Column::Id => match parse_id("lead id", v) {
                    Ok(id) => d.id = Some(id),
                    Err(e) => fail(e),
                },
                Column::Name => d.name = text(v),
                Column::FirstName => first = Some(v),
                Column::MiddleName => middle = Some(v),
                Column::LastName => last = Some(v),
                Column::Company => d.company = text(v),
                Column::Title => d.title = text(v),
                Column::Email => {
                    // "a@x.com, b@y.com" and "a@x.com b@y.com" are lists; "not an email" is one bad value.
                    let pieces = v.split([';', ',']).map(str::trim).filter(|s| !s.is_empty()).flat_map(|p| {
                        let words: Vec<&str> = p.split_whitespace().collect();
                        if words.iter().all(|w| w.contains('@')) { words } else { vec![p] }
                    });
                    for e in pieces {
                        match validate::email(e) {
                            Ok(e) => d.emails.push(e),
                            Err(e) => fail(e),
                        }
                    }
                }
                Column::Phone => {
                    let list: Vec<&str> = if self.native { v.split(';').collect() } else { v.split([';', ',', '\n']).flat_map(|s| s.split(":::")).collect() };
                    for p in list.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
                        match self.validator.phone(p) {
                            Ok(p) => d.phones.push(p),
                            Err(e) => fail(e),
                        }
                    }
                }
                Column::Event => d.event = text(v),
                Column::Channel => match parse_channel(v) {
                    Ok(c) => d.channel = Some(c),
                    Err(e) => fail(e),
                },
                Column::Source => sources.push((header, v)),
                Column::Stage => match parse_stage(v) {
                    Ok(s) => d.stage = Some(s),
                    Err(e) => fail(e),
                },
                Column::LostReason => d.lost_reason = text(v),
                Column::Potential => match parse_potential(v) {
                    Ok(p) => d.potential = Some(p),
                    Err(e) => fail(e),
                },
                Column::Amount => amount = Some((header, v)),
                Column::AmountMinor => amount_minor = Some((header, v)),
                Column::Currency => currency = Some(v),
                Column::Owner => d.owner = text(v),
                Column::Tags => {
                    let list: Vec<&str> = if self.native || v.contains(';') { v.split(';').collect() } else { v.split(',').flat_map(|s| s.split(":::")).collect() };
                    d.tags.extend(list.into_iter().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
                }
                // Kept as written: notes are the rep's text, line breaks and all.
                Column::Notes => notes.push(raw),
                Column::NextFollowUp => match parse_time(v) {
                    Ok(t) => d.next_follow_up = Some(t),
                    Err(e) => fail(e),
                },
                Column::Deleted => match v.to_ascii_lowercase().as_str() {
                    "false" | "0" | "no" => {}
                    "true" | "1" | "yes" => fail(V::Invalid {
                        field: "deleted",
                        reason: "the lead was in the bin when it was exported; leave the row out, or ignore the column to import it as a live lead".into(),
                    }),
                    _ => fail(V::UnknownValue { field: "deleted flag", value: v.to_string(), expected: "true false" }),
                },
                Column::Custom(key) => d.custom_fields.push(CustomField { key: key.clone(), value: raw.to_string() }),
                Column::Ignore => {}
            }
        }
        if d.name.is_none() {
            d.name = join_name(first, middle, last);
        }
        if !notes.is_empty() {
            d.notes = Some(notes.join("\n\n"));
        }
        // A source names the channel when it can, else the event; a second meaning is kept as a
        // custom field rather than overwriting a column that says it outright.
        for (header, v) in sources {
            match parse_channel(v) {
                Ok(c) if d.channel.is_none() => d.channel = Some(c),
                Err(_) if d.event.is_none() => d.event = Some(v.to_string()),
                _ => d
                    .custom_fields
                    .push(CustomField { key: custom_key(header, 0), value: v.to_string() }),
            }
        }
        d.channel.get_or_insert(CaptureChannel::Import);
        let amount_col = amount.or(amount_minor).map(|(h, _)| h.to_string());
        match self.deal_value(amount, amount_minor, currency) {
            Ok(m) => d.deal_value = m,
            Err(e) => errs.push((amount_col.clone(), e.to_string())),
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut checked = d.clone();
        match self.validator.lead_draft(&mut checked) {
            Ok(()) => Ok(checked),
            Err(e) => {
                let column = self.column_of(&e, cells, amount_col);
                Err(vec![(column, e.to_string())])
            }
        }
    }

    fn deal_value(
        &self,
        amount: Option<(&str, &str)>,
        minor: Option<(&str, &str)>,
        currency: Option<&str>,
    ) -> std::result::Result<Option<Money>, V> {
        let no_currency = |v: &str| V::Invalid {
            field: "deal value",
            reason: format!(
                "'{v}' has no currency: add a currency column, write the code in the cell (1500 USD) or give a default currency"
            ),
        };
        if let Some((_, v)) = minor {
            let code = currency.or(self.default_currency).ok_or_else(|| no_currency(v))?;
            let amount_minor = v.parse::<i64>().map_err(|_| V::Invalid {
                field: "deal value",
                reason: format!("'{v}' is not a whole number of minor units"),
            })?;
            return Ok(Some(Money { amount_minor, currency: validate::currency(code)? }));
        }
        let Some((_, v)) = amount else { return Ok(None) };
        let (number, code_in_cell) = split_amount(v);
        let code = match (code_in_cell, currency) {
            (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b.trim()) => {
                return Err(V::Invalid {
                    field: "deal value",
                    reason: format!("'{v}' is in {a} but the currency column says {b}"),
                });
            }
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => self.default_currency.ok_or_else(|| no_currency(v))?,
        };
        let code = validate::currency(code)?;
        let exp = currency_exponent(&code) as usize;
        validate::parse_money(&trim_zero_decimals(&number, exp), &code).map(Some)
    }

    /// The column(s) a validation error is about.
    fn column_of(&self, e: &V, cells: &[&str], amount_col: Option<String>) -> Option<String> {
        let plan = self.plan;
        let field = match e {
            V::EmptyLead => return None,
            V::Email(_) => "e-mail addresses",
            V::Phone { .. } => "phone numbers",
            V::Currency(_) => return col_of(plan, |t| *t == Column::Currency).or(amount_col),
            V::NegativeAmount => return amount_col,
            V::LostReasonWithoutLost => return col_of(plan, |t| *t == Column::LostReason),
            V::TooLong { field, .. }
            | V::TooMany { field, .. }
            | V::Empty { field }
            | V::UnknownValue { field, .. }
            | V::Invalid { field, .. } => field,
            V::Region(_) => return None,
            V::StageRequires { .. } => return col_of(plan, |t| *t == Column::Stage),
        };
        let is = |targets: &[Column]| col_of(plan, |t| targets.contains(t));
        match field {
            "name" => is(&[Column::Name, Column::FirstName, Column::MiddleName, Column::LastName]),
            "company" => is(&[Column::Company]),
            "job title" => is(&[Column::Title]),
            "event" => is(&[Column::Event, Column::Source]),
            "owner" => is(&[Column::Owner]),
            "lost reason" => is(&[Column::LostReason]),
            "notes" => is(&[Column::Notes]),
            "tag" | "tags" => is(&[Column::Tags]),
            "e-mail addresses" => is(&[Column::Email]),
            "phone numbers" => is(&[Column::Phone]),
            "lead id" => is(&[Column::Id]),
            "custom field value" => {
                let long = plan.iter().enumerate().find(|(i, (t, _))| {
                    matches!(t, Column::Custom(_))
                        && cells.get(*i).is_some_and(|c| c.chars().count() > MAX_CUSTOM_VALUE)
                });
                long.map(|(_, (_, h))| h.clone())
            }
            _ => col_of(plan, |t| matches!(t, Column::Custom(_))),
        }
    }
}

/// "Jane" + "Doe" → "Jane Doe"; Korean names ("김" + "철수") are written family name first and
/// without a space.
pub(super) fn join_name(
    first: Option<&str>,
    middle: Option<&str>,
    last: Option<&str>,
) -> Option<String> {
    let hangul = |s: &str| {
        s.chars().all(|c| matches!(c as u32, 0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F))
    };
    let parts: Vec<&str> = [first, middle, last].into_iter().flatten().collect();
    if parts.is_empty() {
        return None;
    }
    if parts.iter().all(|p| hangul(p)) {
        let ordered: Vec<&str> = [last, first, middle].into_iter().flatten().collect();
        return Some(ordered.concat());
    }
    Some(parts.join(" "))
}

/// An amount cell without currency symbols and spaces, and a currency code written in it.
pub(super) fn split_amount(v: &str) -> (String, Option<&str>) {
    let mut code = None;
    let mut rest = v.trim();
    let is_code = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic());
    if let Some((a, b)) = rest.rsplit_once(char::is_whitespace)
        && is_code(b.trim())
    {
        code = Some(b.trim());
        rest = a;
    } else if let Some((a, b)) = rest.split_once(char::is_whitespace)
        && is_code(a.trim())
    {
        code = Some(a.trim());
        rest = b;
    }
    let number = rest
        .trim()
        .trim_start_matches(['$', '€', '£', '₩', '¥', '￦'])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    (number, code)
}

/// "1500000.00" in a currency without decimals is 1500000: spreadsheets pad amounts with zeros.
pub(super) fn trim_zero_decimals(s: &str, exp: usize) -> String {
    match s.split_once('.') {
        Some((whole, frac))
            if frac.len() > exp
                && frac.bytes().all(|b| b.is_ascii_digit())
                && frac[exp..].bytes().all(|b| b == b'0') =>
        {
            if exp == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{}", &frac[..exp])
            }
        }
        _ => s.to_string(),
    }
}

pub(super) fn squash(v: &str) -> String {
    v.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A stage as other CRMs spell it (Salesforce lead statuses, HubSpot, Pipedrive and Zoho stages,
/// Korean terms), or this app's own names.
pub fn parse_stage(v: &str) -> Result<Stage, V> {
    if let Ok(s) = Stage::parse(v) {
        return Ok(s);
    }
    let s = squash(v);
    Ok(match s.as_str() {
        "open" | "opennotcontacted" | "notcontacted" | "leadin" | "lead" | "incoming"
        | "unassigned" | "newlead" | "신규" | "신규리드" | "미접촉" | "접수" => {
            Stage::New
        }
        "working"
        | "workingcontacted"
        | "attemptedtocontact"
        | "attempted"
        | "inprogress"
        | "connected"
        | "contactmade"
        | "contactinfuture"
        | "appointmentscheduled"
        | "meetingscheduled"
        | "연락"
        | "연락함"
        | "연락완료"
        | "접촉"
        | "진행중"
        | "상담"
        | "상담중" => Stage::Contacted,
        "prequalified"
        | "qualification"
        | "qualifiedtobuy"
        | "salesqualifiedlead"
        | "sql"
        | "marketingqualifiedlead"
        | "mql"
        | "needsanalysis"
        | "valueproposition"
        | "iddecisionmakers"
        | "perceptionanalysis"
        | "closedconverted"
        | "converted"
        | "opportunity"
        | "opendeal"
        | "demoscheduled"
        | "검증"
        | "자격확인"
        | "적격"
        | "검토" => Stage::Qualified,
        "quote"
        | "quoted"
        | "proposalmade"
        | "proposalquote"
        | "proposalpricequote"
        | "pricequote"
        | "presentationscheduled"
        | "제안"
        | "제안서"
        | "제안서발송"
        | "견적"
        | "견적발송" => Stage::Proposal,
        "negotiations"
        | "negotiationreview"
        | "negotiationsstarted"
        | "innegotiation"
        | "contractsent"
        | "decisionmakerboughtin"
        | "협상"
        | "협상중"
        | "계약협의" => Stage::Negotiation,
        "closedwon" | "win" | "customer" | "성사" | "수주" | "계약" | "계약완료" | "성공" => {
            Stage::Won
        }
        "closedlost"
        | "closednotconverted"
        | "unqualified"
        | "notqualified"
        | "disqualified"
        | "junk"
        | "junklead"
        | "lostlead"
        | "closedlosttocompetition"
        | "실패"
        | "실주"
        | "무산" => Stage::Lost,
        _ => {
            return Err(V::UnknownValue {
                field: "stage",
                value: v.to_string(),
                expected: "new contacted qualified proposal negotiation won lost (or Open, Working, Quote, Closed Won, Closed Lost…)",
            });
        }
    })
}

/// Hot/warm/cold, also as high/medium/low and in Korean.
pub fn parse_potential(v: &str) -> Result<Potential, V> {
    if let Ok(p) = Potential::parse(v) {
        return Ok(p);
    }
    Ok(match squash(v).as_str() {
        "high" | "상" | "높음" | "핫" => Potential::Hot,
        "medium" | "med" | "mid" | "중" | "보통" | "웜" => Potential::Warm,
        "low" | "하" | "낮음" | "콜드" => Potential::Cold,
        _ => {
            return Err(V::UnknownValue {
                field: "potential",
                value: v.to_string(),
                expected: "hot warm cold (or high, medium, low)",
            });
        }
    })
}

/// A capture channel, also as other apps name the source of a lead ("Web", "Business card").
pub fn parse_channel(v: &str) -> Result<CaptureChannel, V> {
    if let Ok(c) = CaptureChannel::parse(v) {
        return Ok(c);
    }
    Ok(match squash(v).as_str() {
        "badge" | "badgescan" | "badgescanner" | "qr" | "qrcode" | "qrscan" | "배지"
        | "배지스캔" => CaptureChannel::BadgeScan,
        "card" | "businesscard" | "businesscardscan" | "cardscan" | "namecard" | "명함"
        | "명함스캔" => CaptureChannel::BusinessCard,
        "web" | "webform" | "website" | "form" | "webtolead" | "웹" | "웹폼" | "홈페이지" => {
            CaptureChannel::WebForm
        }
        "manual" | "manualentry" | "직접입력" | "수기" => CaptureChannel::Manual,
        "import" | "csv" | "csvimport" | "가져오기" => CaptureChannel::Import,
        _ => {
            return Err(V::UnknownValue {
                field: "capture channel",
                value: v.to_string(),
                expected: "manual badge_scan business_card import web_form",
            });
        }
    })
}

/// A follow-up time: RFC 3339 (a time without a zone is UTC), a date YYYY-MM-DD (also with `/`
/// or `.`; midnight UTC), or milliseconds since 1970 as this app's export writes them.
pub fn parse_time(v: &str) -> Result<Millis, V> {
    let err = || V::Invalid {
        field: "next follow-up",
        reason: format!(
            "'{v}' is not a date; use RFC 3339 (2026-11-28T15:00:00+09:00) or YYYY-MM-DD"
        ),
    };
    let s = v.trim();
    if !s.is_empty() && s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) && s.len() > 8
    {
        return s.parse().map_err(|_| err());
    }
    let sep = s.as_bytes().get(4).copied().filter(|c| matches!(c, b'/' | b'.')).unwrap_or(b'-');
    Zone::utc().parse_date_time(s, sep).ok_or_else(err)
}
