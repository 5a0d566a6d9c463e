//! Normalisation and limits for everything a rep types. Every write goes through here before any
//! byte is written, so a rejected input leaves the store untouched.

use std::str::FromStr;
use std::sync::OnceLock;

use crate::error::ValidationError as V;
use crate::model::{
    ActivityDraft, ActivityPatch, CompPlanDraft, CustomField, FULL_BP, LeadDraft, LeadPatch, Money,
    StagePatch, TargetDraft, TargetMetric, currency_exponent,
};

pub const MAX_SHORT_TEXT: usize = 200;
pub const MAX_NOTES: usize = 100_000;
pub const MAX_SUBJECT: usize = 500;
pub const MAX_CONTACTS: usize = 10;
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG: usize = 50;
pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_CUSTOM_KEY: usize = 64;
pub const MAX_CUSTOM_VALUE: usize = 1_000;
pub const MAX_TIERS: usize = 10;
/// Tiers start at most at 1000 % of quota.
pub const MAX_TIER_FROM_BP: u32 = 100_000;

/// The stacks of a regex-automata `Pool` (the meta regex's default `pool_capacity` and the
/// pool's `MAX_POOL_STACKS`, both 8 in regex-automata 0.4).
const CACHE_STACKS: usize = 8;
/// Threads the warm-up may start: more than `CACHE_STACKS` only when other threads drew ids in
/// between, so that some warm-up threads landed on a stack already filled.
const MAX_WARM_THREADS: usize = 4 * CACHE_STACKS;

/// A pool built like each pattern's cache pool (same crate, same thread ids, same stacks), in
/// which a thread can see whether its stack already held a value: the warm-up's gauge of
/// which stacks it has filled.
struct CacheStacks(regex_automata::util::pool::Pool<bool, fn() -> bool>);

impl CacheStacks {
    fn new() -> Self {
        CacheStacks(regex_automata::util::pool::Pool::with_capacity(CACHE_STACKS, || false))
    }

    /// Whether this is the first draw from the calling thread's stack (or from the owner's
    /// own slot); either way that place then holds a value.
    fn first_draw(&self) -> bool {
        let mut drawn = self.0.get();
        !std::mem::replace(&mut *drawn, true)
    }
}

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

    /// Starts, once per process, a thread that reads an example number of this region as a
    /// capture would, so that the first capture does not wait for libphonenumber to load its
    /// metadata (95–290 ms) and compile the region's patterns, and then warms the patterns'
    /// matching caches for every thread (`warm_every_thread`). A later region's patterns are
    /// compiled on its first number (the metadata is shared). Without a thread to spare, the
    /// first capture pays as before.
    pub fn warm_in_background(&self) {
        static WARMING: OnceLock<()> = OnceLock::new();
        WARMING.get_or_init(|| {
            let v = self.clone();
            let _ = std::thread::Builder::new()
                .name("fieldsales-warm".into())
                .spawn(move || v.warm_every_thread(&CacheStacks::new()));
        });
    }

    /// Reads the example number on this thread and then on short-lived threads, one after
    /// another, until each of the `CACHE_STACKS` stacks holds a warmed cache of every pattern
    /// a capture matches; returns how many stacks it filled. Why: the `regex` crate keeps a
    /// pattern's matching caches (lazy DFA states) in a regex-automata `Pool`. The first
    /// thread to match owns one cache; any other thread pops one from stack `id % 8` (`id`
    /// from a process-wide counter, drawn at a thread's first match of any pattern), makes a
    /// cold one when that stack is empty, and pushes it back there. A warm-up on one other
    /// thread thus left the rep's first capture with cold caches (≈ 0.5 ms); new threads in
    /// sequence draw consecutive ids and so fill every stack, whichever thread captures.
    fn warm_every_thread(&self, stacks: &CacheStacks) -> usize {
        // Owning the probe like the patterns keeps this thread's draws off the stacks.
        stacks.first_draw();
        if !self.warm() {
            return 0;
        }
        let mut filled = 0;
        for _ in 0..MAX_WARM_THREADS {
            if filled == CACHE_STACKS {
                break;
            }
            let warmed = std::thread::scope(|s| {
                let thread = std::thread::Builder::new().name("fieldsales-warm-cache".into());
                let handle = thread.spawn_scoped(s, || stacks.first_draw() && self.warm()).ok()?;
                handle.join().ok()
            });
            match warmed {
                Some(true) => filled += 1,
                Some(false) => {}
                None => break,
            }
        }
        filled
    }

    /// Whether the region's example number read as valid, also spelled as a rep types it
    /// (national prefix, separators): then parsing, validation and both formats have run on
    /// this thread.
    fn warm(&self) -> bool {
        let Ok(e164) = self.phone(self.example_number()) else { return false };
        let typed = self.national(&e164).unwrap_or_default();
        self.phone(&typed).is_ok() && !self.national_digits(&e164).is_empty()
    }

    /// libphonenumber's example mobile (or fixed-line) number of the region, "0" if it has none.
    pub(crate) fn example_number(&self) -> &'static str {
        phonenumber::metadata::DATABASE
            .by_id(self.region_code.as_str())
            .map(|m| m.descriptors())
            .and_then(|d| d.mobile().or(d.fixed_line()))
            .and_then(|d| d.example())
            .unwrap_or("0")
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
        self.national(e164)
            .as_deref()
            .unwrap_or(e164)
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    }

    /// The national spelling of an E.164 number, as a rep of the region writes it.
    fn national(&self, e164: &str) -> Option<String> {
        let n = phonenumber::parse(Some(self.region), e164).ok()?;
        Some(n.format().mode(phonenumber::Mode::National).to_string())
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

/// Normalises a target draft; refuses what a target document must never hold.
pub fn target_draft(d: &mut TargetDraft) -> Result<(), V> {
    d.subject = d.subject.trim().to_string();
    if d.subject.is_empty() {
        return Err(V::Empty { field: "target subject" });
    }
    check_len("target subject", &d.subject, MAX_SHORT_TEXT)?;
    if d.period_end <= d.period_start {
        return Err(V::Invalid {
            field: "period",
            reason: "the end must be after the start".into(),
        });
    }
    if d.value < 0 {
        return Err(V::Invalid { field: "target value", reason: "must not be negative".into() });
    }
    match (d.metric, &d.currency) {
        (TargetMetric::WonValue, Some(c)) => d.currency = Some(currency(c)?),
        (TargetMetric::WonValue, None) => {
            return Err(V::Invalid {
                field: "target",
                reason: "a won value target needs a currency".into(),
            });
        }
        (_, Some(_)) => {
            return Err(V::Invalid {
                field: "target",
                reason: format!("a {} target is a count and has no currency", d.metric),
            });
        }
        (_, None) => {}
    }
    Ok(())
}

/// Normalises a compensation plan draft; refuses what a plan document must never hold.
pub fn plan_draft(d: &mut CompPlanDraft) -> Result<(), V> {
    d.rep = d.rep.trim().to_string();
    if d.rep.is_empty() {
        return Err(V::Empty { field: "rep" });
    }
    check_len("rep", &d.rep, MAX_SHORT_TEXT)?;
    d.base.currency = currency(&d.base.currency)?;
    if d.base.amount_minor < 0 {
        return Err(V::Invalid { field: "base pay", reason: "must not be negative".into() });
    }
    if d.rate_bp > FULL_BP {
        return Err(V::Invalid { field: "commission rate", reason: "at most 100%".into() });
    }
    if d.tiers.len() > MAX_TIERS {
        return Err(V::TooMany { field: "tiers", count: d.tiers.len(), max: MAX_TIERS });
    }
    d.tiers.sort();
    for (i, t) in d.tiers.iter().enumerate() {
        if t.rate_bp > FULL_BP {
            return Err(V::Invalid { field: "tier rate", reason: "at most 100%".into() });
        }
        if t.from_bp > MAX_TIER_FROM_BP {
            return Err(V::Invalid {
                field: "tier",
                reason: "a tier starts at most at 1000% of quota".into(),
            });
        }
        if i > 0 && d.tiers[i - 1].from_bp == t.from_bp {
            return Err(V::Invalid {
                field: "tier",
                reason: format!("two tiers start at {}% of quota", t.from_bp as f64 / 100.0),
            });
        }
    }
    Ok(())
}

/// Normalises a change to one stage's settings: a name trimmed and not empty, a probability of
/// at most 100 %, required fields sorted once each.
pub fn stage_patch(p: &mut StagePatch) -> Result<(), V> {
    if let Some(n) = &mut p.name {
        *n = n.trim().to_string();
        if n.is_empty() {
            return Err(V::Empty { field: "stage name" });
        }
        check_len("stage name", n, MAX_SHORT_TEXT)?;
    }
    if p.probability_bp.is_some_and(|bp| bp > FULL_BP) {
        return Err(V::Invalid { field: "win probability", reason: "at most 100%".into() });
    }
    if let Some(r) = &mut p.required {
        r.sort();
        r.dedup();
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

/// Reads an amount typed in major units ("1500000", "1,500.50") of `currency` into minor
/// units. A negative amount is returned as is, for the draft's check to refuse with its own
/// message.
pub fn parse_money(amount: &str, currency: &str) -> Result<Money, V> {
    let code = self::currency(currency)?;
    let exp = currency_exponent(&code);
    let err = || {
        let places = match exp {
            0 => format!("{code} has no decimal places"),
            n => format!("{code} has at most {n} decimal places"),
        };
        V::Invalid {
            field: "deal value",
            reason: format!(
                "'{amount}' is not an amount of money; use digits such as 1500000 or 1500.50 ({places})"
            ),
        }
    };
    let s = amount.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    // Thousands separators are accepted only as grouping, never as a decimal point.
    let whole: String = whole.chars().filter(|c| *c != ',' && *c != '_').collect();
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err());
    }
    if s.contains('.') && frac.is_empty() || frac.len() > exp as usize {
        return Err(err());
    }
    let padded = format!("{whole}{frac:0<width$}", width = exp as usize);
    let minor: i64 = padded.parse().map_err(|_| err())?;
    Ok(Money { amount_minor: if neg { -minor } else { minor }, currency: code })
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
    use crate::model::{SubjectKind, Tier};

    #[test]
    fn warming_reads_a_valid_example_number_of_each_region() {
        for region in ["KR", "US", "GB", "JP", "DE"] {
            assert!(Validator::new(region).unwrap().warm(), "{region}");
        }
    }

    #[test]
    fn warming_fills_the_cache_stack_of_any_thread_started_after_it() {
        let kr = Validator::new("KR").unwrap();
        let stacks = CacheStacks::new();
        assert_eq!(kr.warm_every_thread(&stacks), CACHE_STACKS);
        // New threads draw new ids, so between them they use every stack; each finds its stack
        // filled, and reads a number there as this thread does.
        for _ in 0..2 * CACHE_STACKS {
            let (first, read) = std::thread::scope(|s| {
                s.spawn(|| (stacks.first_draw(), kr.phone("010-2345-6789"))).join().unwrap()
            });
            assert!(!first, "a thread started after the warm-up drew from an unfilled stack");
            assert_eq!(read.unwrap(), "+821023456789");
        }
    }

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
    fn minor(a: &str, c: &str) -> Result<i64, String> {
        parse_money(a, c).map(|m| m.amount_minor).map_err(|e| e.to_string())
    }

    #[test]
    fn amounts_become_minor_units_of_their_currency() {
        assert_eq!(minor("1500000", "KRW"), Ok(1_500_000));
        assert_eq!(minor("1,500,000", "krw"), Ok(1_500_000));
        assert_eq!(minor("1500.5", "USD"), Ok(150_050));
        assert_eq!(minor("1500", "USD"), Ok(150_000));
        assert_eq!(minor("0.001", "KWD"), Ok(1));
        assert_eq!(minor("-5", "USD"), Ok(-500));
        assert_eq!(parse_money("1", "eur").map(|m| m.currency), Ok("EUR".into()));
    }

    #[test]
    fn bad_amounts_say_why() {
        assert!(minor("1500.5", "KRW").unwrap_err().contains("KRW has no decimal places"));
        assert!(minor("1.505", "USD").unwrap_err().contains("at most 2"));
        for bad in ["", "abc", "1.", ".5", "1e6", "1.2.3", "99999999999999999999", "１０"] {
            assert!(minor(bad, "USD").is_err(), "{bad}");
        }
        assert!(minor("1", "dollars").unwrap_err().contains("ISO 4217"));
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
        target_draft(&mut ok).unwrap();
        assert_eq!((ok.subject.as_str(), ok.currency.as_deref()), ("kim", Some("KRW")));
        assert!(target_draft(&mut t(TargetMetric::WonValue, None, 5)).is_err());
        assert!(target_draft(&mut t(TargetMetric::DealsWon, Some("KRW"), 5)).is_err());
        assert!(target_draft(&mut t(TargetMetric::DealsWon, None, -1)).is_err());
        let mut bad_period = t(TargetMetric::DealsWon, None, 1);
        bad_period.period_end = 0;
        assert!(target_draft(&mut bad_period).is_err());

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
        plan_draft(&mut ok).unwrap();
        assert_eq!(ok.tiers[0].from_bp, 10_000, "sorted");
        assert_eq!(ok.base.currency, "USD");
        assert!(plan_draft(&mut p(10_001, vec![])).is_err());
        assert!(
            plan_draft(&mut p(
                1000,
                vec![Tier { from_bp: 1, rate_bp: 1 }, Tier { from_bp: 1, rate_bp: 2 }]
            ))
            .is_err()
        );
    }
}
