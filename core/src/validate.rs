//! Normalisation and limits for everything a rep types. Every write goes through here before any
//! byte is written, so a rejected input leaves the store untouched.

use std::str::FromStr;

use crate::error::ValidationError as V;
use crate::model::{ActivityDraft, ActivityPatch, CustomField, LeadDraft, LeadPatch, Money};

pub const MAX_SHORT_TEXT: usize = 200;
pub const MAX_NOTES: usize = 100_000;
pub const MAX_SUBJECT: usize = 500;
pub const MAX_CONTACTS: usize = 10;
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG: usize = 50;
pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_CUSTOM_KEY: usize = 64;
pub const MAX_CUSTOM_VALUE: usize = 1_000;

/// Phone numbers are read relative to a default region (the rep's country), since people write
/// "010-1234-5678" rather than "+82 10 1234 5678".
#[derive(Clone, Debug)]
pub struct Validator {
    region: phonenumber::country::Id,
    region_code: String,
}

impl Validator {
    pub fn new(region: &str) -> Result<Self, V> {
        let code = region.trim().to_ascii_uppercase();
        let id =
            phonenumber::country::Id::from_str(&code).map_err(|_| V::Region(region.to_string()))?;
        Ok(Validator { region: id, region_code: code })
    }

    pub fn region(&self) -> &str {
        &self.region_code
    }

    pub fn phone(&self, raw: &str) -> Result<String, V> {
        let err = || V::Phone { value: raw.to_string(), region: self.region_code.clone() };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 40 {
            return Err(err());
        }
        let number = phonenumber::parse(Some(self.region), trimmed).map_err(|_| err())?;
        if !phonenumber::is_valid(&number) {
            return Err(err());
        }
        Ok(number.format().mode(phonenumber::Mode::E164).to_string())
    }

    /// The national spelling of an E.164 number, digits only, so that search finds "0101234"
    /// as well as "+82101234".
    pub fn national_digits(&self, e164: &str) -> String {
        match phonenumber::parse(Some(self.region), e164) {
            Ok(n) => n
                .format()
                .mode(phonenumber::Mode::National)
                .to_string()
                .chars()
                .filter(char::is_ascii_digit)
                .collect(),
            Err(_) => e164.chars().filter(char::is_ascii_digit).collect(),
        }
    }

    pub fn lead_draft(&self, d: &mut LeadDraft) -> Result<(), V> {
        d.name = opt_text("name", d.name.take(), MAX_SHORT_TEXT)?;
        d.company = opt_text("company", d.company.take(), MAX_SHORT_TEXT)?;
        d.title = opt_text("job title", d.title.take(), MAX_SHORT_TEXT)?;
        d.event = opt_text("event", d.event.take(), MAX_SHORT_TEXT)?;
        d.owner = opt_text("owner", d.owner.take(), MAX_SHORT_TEXT)?;
        d.lost_reason = opt_text("lost reason", d.lost_reason.take(), MAX_SHORT_TEXT)?;
        if d.lost_reason.is_some() && d.stage != Some(crate::model::Stage::Lost) {
            return Err(V::LostReasonWithoutLost);
        }
        d.emails = self.emails(std::mem::take(&mut d.emails))?;
        d.phones = self.phones(std::mem::take(&mut d.phones))?;
        d.tags = tags(std::mem::take(&mut d.tags))?;
        d.custom_fields = custom_fields(std::mem::take(&mut d.custom_fields))?;
        if let Some(n) = &d.notes {
            check_len("notes", n, MAX_NOTES)?;
        }
        if let Some(m) = &mut d.deal_value {
            money(m)?;
        }
        if d.name.is_none() && d.company.is_none() && d.emails.is_empty() && d.phones.is_empty() {
            return Err(V::EmptyLead);
        }
        if let Some(id) = &d.id {
            d.id = Some(crate::model::parse_id("lead id", id)?);
        }
        Ok(())
    }

    /// Normalises a patch in place. Whether the patched lead still has an identifying field is
    /// checked against the merged result by the caller.
    pub fn lead_patch(&self, p: &mut LeadPatch) -> Result<(), V> {
        // In a patch an empty string means "clear", so trim but keep it.
        for (field, v) in [
            ("name", &mut p.name),
            ("company", &mut p.company),
            ("job title", &mut p.title),
            ("event", &mut p.event),
        ] {
            if let Some(s) = v {
                *s = s.trim().to_string();
                check_len(field, s, MAX_SHORT_TEXT)?;
            }
        }
        if let Some(o) = &mut p.owner {
            *o = o.trim().to_string();
            if o.is_empty() {
                return Err(V::Empty { field: "owner" });
            }
            check_len("owner", o, MAX_SHORT_TEXT)?;
        }
        p.lost_reason = opt_text("lost reason", p.lost_reason.take(), MAX_SHORT_TEXT)?;
        if p.lost_reason.is_some() && p.stage != Some(crate::model::Stage::Lost) {
            return Err(V::LostReasonWithoutLost);
        }
        if let Some(e) = p.emails.take() {
            p.emails = Some(self.emails(e)?);
        }
        if let Some(ph) = p.phones.take() {
            p.phones = Some(self.phones(ph)?);
        }
        p.add_tags = tags(std::mem::take(&mut p.add_tags))?;
        p.remove_tags =
            p.remove_tags.iter().map(|t| normalize_tag(t)).filter(|t| !t.is_empty()).collect();
        p.set_custom_fields = custom_fields(std::mem::take(&mut p.set_custom_fields))?;
        if let Some(n) = &p.notes {
            check_len("notes", n, MAX_NOTES)?;
        }
        if let Some(m) = &mut p.deal_value {
            money(m)?;
        }
        Ok(())
    }

    fn emails(&self, list: Vec<String>) -> Result<Vec<String>, V> {
        let mut out: Vec<String> = Vec::new();
        for e in list {
            let e = email(&e)?;
            if !out.contains(&e) {
                out.push(e);
            }
        }
        check_count("e-mail addresses", out.len(), MAX_CONTACTS)?;
        Ok(out)
    }

    fn phones(&self, list: Vec<String>) -> Result<Vec<String>, V> {
        let mut out: Vec<String> = Vec::new();
        for p in list {
            let p = self.phone(&p)?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        check_count("phone numbers", out.len(), MAX_CONTACTS)?;
        Ok(out)
    }
}

pub fn activity_draft(d: &mut ActivityDraft) -> Result<(), V> {
    d.lead_id = crate::model::parse_id("lead id", &d.lead_id)?;
    if let Some(id) = &d.id {
        d.id = Some(crate::model::parse_id("activity id", id)?);
    }
    d.subject = d.subject.trim().to_string();
    check_len("subject", &d.subject, MAX_SUBJECT)?;
    if let Some(n) = &d.notes {
        check_len("notes", n, MAX_NOTES)?;
    }
    d.outcome = opt_text("outcome", d.outcome.take(), MAX_SHORT_TEXT)?;
    if let Some(s) = d.duration_s {
        duration(s)?;
    }
    if let Some(l) = &d.location {
        location(l)?;
    }
    Ok(())
}

pub fn activity_patch(p: &mut ActivityPatch) -> Result<(), V> {
    if let Some(s) = &mut p.subject {
        *s = s.trim().to_string();
        check_len("subject", s, MAX_SUBJECT)?;
    }
    if let Some(n) = &p.notes {
        check_len("notes", n, MAX_NOTES)?;
    }
    p.outcome = opt_text("outcome", p.outcome.take(), MAX_SHORT_TEXT)?;
    if let Some(s) = p.duration_s {
        duration(s)?;
    }
    if let Some(l) = &p.location {
        location(l)?;
    }
    Ok(())
}

pub fn email(raw: &str) -> Result<String, V> {
    let e = raw.trim().to_lowercase();
    if e.chars().count() > 254 || !email_address::EmailAddress::is_valid(&e) || !e.contains('@') {
        return Err(V::Email(raw.to_string()));
    }
    // email_address accepts "user@host" without a dot and quoted/IP forms; leads need a domain
    // that mail can reach.
    let domain = e.rsplit('@').next().unwrap_or("");
    if !domain.contains('.') || domain.starts_with('[') || domain.ends_with('.') {
        return Err(V::Email(raw.to_string()));
    }
    Ok(e)
}

pub fn currency(code: &str) -> Result<String, V> {
    let c = code.trim().to_ascii_uppercase();
    match iso_currency::Currency::from_code(&c) {
        Some(_) => Ok(c),
        None => Err(V::Currency(code.to_string())),
    }
}

fn money(m: &mut Money) -> Result<(), V> {
    m.currency = currency(&m.currency)?;
    if m.amount_minor < 0 {
        return Err(V::NegativeAmount);
    }
    Ok(())
}

pub fn normalize_tag(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn tags(list: Vec<String>) -> Result<Vec<String>, V> {
    let mut out: Vec<String> = Vec::new();
    for t in list {
        let t = normalize_tag(&t);
        if t.is_empty() {
            continue;
        }
        check_len("tag", &t, MAX_TAG)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    check_count("tags", out.len(), MAX_TAGS)?;
    Ok(out)
}

fn custom_fields(list: Vec<CustomField>) -> Result<Vec<CustomField>, V> {
    let mut out: Vec<CustomField> = Vec::new();
    for CustomField { key, value } in list {
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(V::Empty { field: "custom field name" });
        }
        check_len("custom field name", &key, MAX_CUSTOM_KEY)?;
        check_len("custom field value", &value, MAX_CUSTOM_VALUE)?;
        out.retain(|f| f.key != key);
        out.push(CustomField { key, value });
    }
    check_count("custom fields", out.len(), MAX_CUSTOM_FIELDS)?;
    out.sort();
    Ok(out)
}

fn duration(s: i64) -> Result<(), V> {
    if !(0..=7 * 24 * 3600).contains(&s) {
        return Err(V::Invalid {
            field: "duration",
            reason: format!("{s} seconds is outside 0 to 7 days"),
        });
    }
    Ok(())
}

fn location(l: &crate::model::Location) -> Result<(), V> {
    let ok = l.lat.is_finite()
        && l.lon.is_finite()
        && (-90.0..=90.0).contains(&l.lat)
        && (-180.0..=180.0).contains(&l.lon)
        && l.accuracy_m.is_none_or(|a| a.is_finite() && a >= 0.0);
    if !ok {
        return Err(V::Invalid {
            field: "location",
            reason: format!("({}, {}) is not a place on Earth", l.lat, l.lon),
        });
    }
    Ok(())
}

fn opt_text(field: &'static str, v: Option<String>, max: usize) -> Result<Option<String>, V> {
    match v.map(|s| s.trim().to_string()) {
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => {
            check_len(field, &s, max)?;
            Ok(Some(s))
        }
        None => Ok(None),
    }
}

pub(crate) fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), V> {
    let len = s.chars().count();
    if len > max {
        return Err(V::TooLong { field, len, max });
    }
    Ok(())
}

fn check_count(field: &'static str, count: usize, max: usize) -> Result<(), V> {
    if count > max {
        return Err(V::TooMany { field, count, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_become_e164_with_the_default_region() {
        let kr = Validator::new("kr").unwrap();
        assert_eq!(kr.phone("010-1234-5678").unwrap(), "+821012345678");
        assert_eq!(kr.phone("+1 (415) 555-2671").unwrap(), "+14155552671");
        assert_eq!(kr.national_digits("+821012345678"), "01012345678");
        assert!(matches!(kr.phone("12"), Err(V::Phone { .. })));
        assert!(matches!(kr.phone("call me"), Err(V::Phone { .. })));
        let us = Validator::new("US").unwrap();
        assert_eq!(us.phone("(415) 555-2671").unwrap(), "+14155552671");
        assert!(matches!(Validator::new("XX"), Err(V::Region(_))));
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(email(" Kim@Acme.COM ").unwrap(), "kim@acme.com");
        for bad in ["", "kim", "kim@", "@acme.com", "kim@acme", "kim acme@x.com", "kim@@acme.com"] {
            assert!(matches!(email(bad), Err(V::Email(_))), "{bad} accepted");
        }
    }

    #[test]
    fn currencies_must_be_iso_4217() {
        assert_eq!(currency("krw").unwrap(), "KRW");
        assert!(matches!(currency("XYZ"), Err(V::Currency(_))));
        assert!(matches!(currency("dollars"), Err(V::Currency(_))));
    }

    #[test]
    fn a_draft_needs_something_to_identify_the_lead() {
        let v = Validator::new("KR").unwrap();
        let mut d =
            LeadDraft { name: Some("  ".into()), tags: vec!["  ".into()], ..Default::default() };
        assert_eq!(v.lead_draft(&mut d), Err(V::EmptyLead));
        let mut d = LeadDraft {
            phones: vec!["010 1234 5678".into(), "01012345678".into()],
            ..Default::default()
        };
        v.lead_draft(&mut d).unwrap();
        assert_eq!(d.phones, vec!["+821012345678"]);
    }

    #[test]
    fn limits_are_enforced_with_the_field_named() {
        let v = Validator::new("KR").unwrap();
        let mut d = LeadDraft { name: Some("가".repeat(201)), ..Default::default() };
        assert_eq!(v.lead_draft(&mut d), Err(V::TooLong { field: "name", len: 201, max: 200 }));
        let mut d = LeadDraft {
            name: Some("x".into()),
            tags: (0..51).map(|i| i.to_string()).collect(),
            ..Default::default()
        };
        assert_eq!(v.lead_draft(&mut d), Err(V::TooMany { field: "tags", count: 51, max: 50 }));
        let mut d = LeadDraft {
            name: Some("x".into()),
            deal_value: Some(Money { amount_minor: -1, currency: "USD".into() }),
            ..Default::default()
        };
        assert_eq!(v.lead_draft(&mut d), Err(V::NegativeAmount));
        let mut d = LeadDraft {
            name: Some("x".into()),
            lost_reason: Some("price".into()),
            ..Default::default()
        };
        assert_eq!(v.lead_draft(&mut d), Err(V::LostReasonWithoutLost));
    }
}
