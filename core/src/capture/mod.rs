//! Capture helpers: turn what a phone reads from a badge or a business card into a lead draft.
//!
//! - [`parse_qr`] reads the text of a QR code: a vCard (2.1, 3.0 or 4.0), a MECARD (and the
//!   related BIZCARD and MATMSG forms), a web address, an e-mail address (`mailto:` or bare) or a
//!   `tel:` link. Anything else fails with a [`CaptureError`] that says what was expected.
//! - [`parse_card_text`] reads the free text a phone's OCR returns from a business card, in Korean
//!   or English, and makes a best-effort draft. It never fails.
//!
//! Both return a [`CaptureDraft`]: the draft for the rep to review (then saved through
//! [`Validator::lead_draft`] as usual), a confidence per filled field so the app can highlight
//! guesses, and the pieces of input that found no place in the draft.
//!
//! Nothing is dropped silently. Phone numbers are normalised to E.164 with the validator's
//! default region; one that does not validate is kept as typed in the custom field
//! `unverified_phone` (an e-mail address that does not validate in `unverified_email`). Fax
//! numbers are not the lead's phone and go to `fax`; addresses to `address`; web addresses to
//! `website`; unknown vCard `X-` properties to a custom field named after them. A custom key that
//! is already taken gets a suffix (`website_2`). The draft always fits the validator's limits:
//! whatever would not fit (an eleventh phone, an over-long name) is moved to the notes.

mod card;
mod mecard;
mod uri;
mod vcard;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{CaptureChannel, CustomField, LeadDraft};
use crate::validate::{self, Validator};
use crate::validate::{
    MAX_CONTACTS, MAX_CUSTOM_FIELDS, MAX_CUSTOM_KEY, MAX_CUSTOM_VALUE, MAX_NOTES, MAX_SHORT_TEXT,
};

/// The largest input read, in bytes. A QR code holds at most about 3 KB; a business card's text
/// far less.
pub const MAX_INPUT: usize = 64 * 1024;

/// At most this many entries are kept in [`CaptureDraft::unparsed`], each cut to
/// [`MAX_UNPARSED_LEN`] characters.
pub const MAX_UNPARSED: usize = 50;
pub const MAX_UNPARSED_LEN: usize = 200;

const EXPECTED: &str = "a vCard (BEGIN:VCARD … END:VCARD), a MECARD (MECARD:…;;), a web address \
    (https://…), an e-mail address (mailto:… or plain) or a phone link (tel:…)";

/// How sure the parser is of one filled field of the draft.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldConfidence {
    /// `name`, `company`, `title`, `emails[i]`, `phones[i]` or `custom_fields.<key>`, naming the
    /// value in [`CaptureDraft::draft`].
    pub field: String,
    /// 1.0 for a value read from a structured field (vCard, MECARD); lower for a guess from free
    /// text. The app highlights anything below about 0.8.
    pub confidence: f32,
}

/// A lead draft read from a badge or a card, for the rep to review before saving.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CaptureDraft {
    /// `channel` is [`CaptureChannel::BadgeScan`] for a QR code and
    /// [`CaptureChannel::BusinessCard`] for card text. Not yet validated, but within the
    /// validator's limits.
    pub draft: LeadDraft,
    /// One entry per filled field, in the order name, company, title, e-mails, phones, custom
    /// fields.
    pub confidence: Vec<FieldConfidence>,
    /// Input that was read but found no place in the draft (a birthday, an unrecognised line),
    /// for the app to show; at most [`MAX_UNPARSED`] entries.
    pub unparsed: Vec<String>,
}

impl CaptureDraft {
    /// The confidence of one field, named as in [`FieldConfidence::field`].
    pub fn confidence_of(&self, field: &str) -> Option<f32> {
        self.confidence.iter().find(|c| c.field == field).map(|c| c.confidence)
    }

    /// The value of a custom field of the draft.
    pub fn custom(&self, key: &str) -> Option<&str> {
        self.draft.custom_fields.iter().find(|f| f.key == key).map(|f| f.value.as_str())
    }
}

/// Why a scanned code could not be read as a contact. The messages are written for the rep.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum CaptureError {
    #[error("the code is empty; expected {}", EXPECTED)]
    Empty,
    #[error(
        "the code is too long ({len} bytes, at most {max}); a contact code is a few hundred bytes"
    )]
    TooLong { len: usize, max: usize },
    #[error("the code holds binary data, not text; expected {}", EXPECTED)]
    Binary,
    #[error("the code is not a contact (it starts with \"{start}\"); expected {}", EXPECTED)]
    Unrecognised { start: String },
    #[error("the vCard has BEGIN:VCARD but no END:VCARD; the code may be cut off, scan it again")]
    Unterminated,
    #[error("the {format} is malformed: {reason}")]
    Malformed { format: &'static str, reason: String },
    #[error("vCard version '{0}' is not supported; expected 2.1, 3.0 or 4.0")]
    UnsupportedVersion(String),
    #[error(
        "the {format} has no name, company, e-mail address, phone number or web address to make a lead from"
    )]
    NoUsableField { format: &'static str },
    #[error("'{0}' is not a valid e-mail address")]
    InvalidEmail(String),
}

/// Reads the text of a badge or business-card QR code into a draft with the
/// [`CaptureChannel::BadgeScan`] channel. Structured fields get confidence 1.0.
pub fn parse_qr(text: &str, v: &Validator) -> Result<CaptureDraft, CaptureError> {
    if text.len() > MAX_INPUT {
        return Err(CaptureError::TooLong { len: text.len(), max: MAX_INPUT });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.chars().any(is_binary) {
        return Err(CaptureError::Binary);
    }
    let t = text.trim();
    if t.is_empty() {
        return Err(CaptureError::Empty);
    }
    let b = if vcard::detect(t)? {
        vcard::parse(t, v)?
    } else if let Some(b) = mecard::parse(t, v) {
        b?
    } else {
        uri::parse(t, v)?
    };
    Ok(b.finish(CaptureChannel::BadgeScan))
}

/// Reads the text a phone's OCR returns from a business card (Korean or English) into a
/// best-effort draft with the [`CaptureChannel::BusinessCard`] channel and a confidence per field.
/// Never fails: lines that fit nowhere are listed in [`CaptureDraft::unparsed`].
pub fn parse_card_text(text: &str, v: &Validator) -> CaptureDraft {
    card::parse(text, v).finish(CaptureChannel::BusinessCard)
}

fn is_binary(c: char) -> bool {
    c == '\u{fffd}' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

// ---------------------------------------------------------------------------------------------
// The draft under construction, shared by the parsers.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    Name,
    Company,
    Title,
}

impl Slot {
    fn key(self) -> &'static str {
        match self {
            Slot::Name => "name",
            Slot::Company => "company",
            Slot::Title => "title",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PhoneKind {
    Voice,
    Mobile,
    Fax,
    Pager,
}

#[derive(Debug)]
struct Item {
    value: String,
    conf: f32,
    /// Lower comes first (a vCard PREF, or mobile before office on a card).
    rank: u32,
}

#[derive(Debug, Default)]
pub(super) struct Builder {
    name: Option<(String, f32)>,
    company: Option<(String, f32)>,
    title: Option<(String, f32)>,
    emails: Vec<Item>,
    phones: Vec<Item>,
    custom: Vec<(String, String, f32)>,
    notes: Vec<String>,
    unparsed: Vec<String>,
}

impl Builder {
    fn slot(&mut self, slot: Slot) -> &mut Option<(String, f32)> {
        match slot {
            Slot::Name => &mut self.name,
            Slot::Company => &mut self.company,
            Slot::Title => &mut self.title,
        }
    }

    pub(super) fn has(&self, slot: Slot) -> bool {
        match slot {
            Slot::Name => self.name.is_some(),
            Slot::Company => self.company.is_some(),
            Slot::Title => self.title.is_some(),
        }
    }

    /// Fills a text field if it is empty; a different second value goes to `<field>_alt`.
    pub(super) fn set(&mut self, slot: Slot, value: &str, conf: f32) {
        let value = clean(value);
        if value.is_empty() {
            return;
        }
        match self.slot(slot) {
            None => *self.slot(slot) = Some((value, conf)),
            Some((cur, c)) if cur.to_lowercase() == value.to_lowercase() => *c = c.max(conf),
            Some(_) => self.custom(&format!("{}_alt", slot.key()), &value, conf),
        }
    }

    pub(super) fn email(&mut self, raw: &str, conf: f32, rank: u32) {
        let raw = raw.trim();
        let raw = strip_ci(raw, "mailto:").unwrap_or(raw).trim();
        if raw.is_empty() {
            return;
        }
        match validate::email(raw) {
            Ok(e) => push_item(&mut self.emails, e, conf, rank),
            Err(_) => self.custom("unverified_email", raw, conf.min(0.5)),
        }
    }

    /// Adds a phone number as written (a `tel:` URI, with an extension or not): normalised when
    /// it validates, kept raw in `unverified_phone` when it does not; a fax or pager goes to a
    /// custom field of that name.
    pub(super) fn phone(
        &mut self,
        v: &Validator,
        raw: &str,
        kind: PhoneKind,
        conf: f32,
        rank: u32,
    ) {
        let raw = clean(raw);
        if raw.is_empty() {
            return;
        }
        let (number, ext) = split_phone(&raw);
        let normal =
            if number.chars().any(|c| c.is_ascii_digit()) { v.phone(&number).ok() } else { None };
        let shown = normal.clone().unwrap_or_else(|| raw.clone());
        match (kind, &normal) {
            (PhoneKind::Fax, Some(n)) => self.custom("fax", n, conf),
            (PhoneKind::Fax, None) => self.custom("fax", &raw, conf * 0.6),
            (PhoneKind::Pager, _) => self.custom("pager", &shown, conf),
            (_, Some(n)) => push_item(&mut self.phones, n.clone(), conf, rank),
            (_, None) => self.custom(
                "unverified_phone",
                strip_ci(&raw, "tel:").unwrap_or(&raw),
                conf.min(0.5),
            ),
        }
        if let (Some(ext), Some(n)) = (ext, normal) {
            self.note(format!("Extension {ext} for {n}"));
        }
    }

    /// Adds a custom field; the same value under the same key is kept once, another value gets
    /// a numbered key.
    pub(super) fn custom(&mut self, key: &str, value: &str, conf: f32) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let base = custom_key(key);
        if self.custom.iter().any(|(k, v, _)| same_base(k, &base) && v == value) {
            return;
        }
        if self.custom.len() >= MAX_CUSTOM_FIELDS || value.chars().count() > MAX_CUSTOM_VALUE {
            self.notes.push(format!("{base}: {value}"));
            return;
        }
        let mut key = base.clone();
        let mut n = 2;
        while self.custom.iter().any(|(k, _, _)| *k == key) {
            key = format!("{base}_{n}");
            n += 1;
        }
        self.custom.push((key, value.to_string(), conf));
    }

    pub(super) fn note(&mut self, s: impl Into<String>) {
        let s = s.into();
        if !s.trim().is_empty() {
            self.notes.push(s.trim().to_string());
        }
    }

    pub(super) fn unparsed(&mut self, s: impl AsRef<str>) {
        let s = s.as_ref().trim();
        if s.is_empty() {
            return;
        }
        if self.unparsed.len() < MAX_UNPARSED {
            self.unparsed.push(preview(s, MAX_UNPARSED_LEN));
        } else if self.unparsed.len() == MAX_UNPARSED {
            self.unparsed.push("… more input was not read".into());
        }
    }

    /// Whether the draft has something to make a lead from: a name, company, e-mail address,
    /// phone number (even unverified) or web address.
    pub(super) fn usable(&self) -> bool {
        self.name.is_some()
            || self.company.is_some()
            || !self.emails.is_empty()
            || !self.phones.is_empty()
            || self.custom.iter().any(|(k, _, _)| {
                ["website", "unverified_phone", "unverified_email"].iter().any(|b| same_base(k, b))
            })
    }

    pub(super) fn finish(mut self, channel: CaptureChannel) -> CaptureDraft {
        let mut draft = LeadDraft { channel: Some(channel), ..LeadDraft::default() };
        let mut confidence = Vec::new();
        let mut conf = |field: String, c: f32| {
            confidence.push(FieldConfidence { field, confidence: c.clamp(0.0, 1.0) })
        };

        for (slot, label) in
            [(Slot::Name, "Name"), (Slot::Company, "Company"), (Slot::Title, "Title")]
        {
            let Some((value, c)) = self.slot(slot).take() else { continue };
            if value.chars().count() > MAX_SHORT_TEXT {
                self.notes.push(format!("{label}: {value}"));
                continue;
            }
            conf(slot.key().to_string(), c);
            match slot {
                Slot::Name => draft.name = Some(value),
                Slot::Company => draft.company = Some(value),
                Slot::Title => draft.title = Some(value),
            }
        }
        for (items, out, field, label) in [
            (&mut self.emails, &mut draft.emails, "emails", "E-mail"),
            (&mut self.phones, &mut draft.phones, "phones", "Phone"),
        ] {
            items.sort_by_key(|i| i.rank);
            for item in items.drain(..) {
                if out.len() < MAX_CONTACTS {
                    conf(format!("{field}[{}]", out.len()), item.conf);
                    out.push(item.value);
                } else {
                    self.notes.push(format!("{label}: {}", item.value));
                }
            }
        }
        self.custom.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, value, c) in self.custom.drain(..) {
            conf(format!("custom_fields.{key}"), c);
            draft.custom_fields.push(CustomField { key, value });
        }

        let mut notes = self.notes.join("\n");
        if notes.chars().count() > MAX_NOTES {
            notes = notes.chars().take(MAX_NOTES - 1).collect::<String>() + "…";
            self.unparsed.push(format!("the notes were cut to {MAX_NOTES} characters"));
        }
        draft.notes = (!notes.is_empty()).then_some(notes);
        CaptureDraft { draft, confidence, unparsed: self.unparsed }
    }
}

fn push_item(items: &mut Vec<Item>, value: String, conf: f32, rank: u32) {
    match items.iter_mut().find(|i| i.value == value) {
        Some(i) => {
            i.conf = i.conf.max(conf);
            i.rank = i.rank.min(rank);
        }
        None => items.push(Item { value, conf, rank }),
    }
}

fn custom_key(key: &str) -> String {
    let k = key.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("_");
    // Room for a "_50" suffix.
    let k: String = k.chars().take(MAX_CUSTOM_KEY - 4).collect();
    if k.is_empty() { "field".into() } else { k }
}

fn same_base(key: &str, base: &str) -> bool {
    key == base
        || key
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix('_'))
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------------
// Text helpers shared by the parsers. All of them are safe on any input.

/// Collapses runs of whitespace (newlines included) to one space and trims.
pub(super) fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` without `prefix`, compared ignoring ASCII case.
pub(super) fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// The first `n` characters of `s` on one line, with "…" when cut.
pub(super) fn preview(s: &str, n: usize) -> String {
    let one_line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let one_line = clean(&one_line);
    if one_line.chars().count() > n {
        one_line.chars().take(n).collect::<String>() + "…"
    } else {
        one_line
    }
}

/// Splits on `sep` where it is not escaped with a backslash.
pub(super) fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// Byte index of the first `sep` not escaped with a backslash.
pub(super) fn find_unescaped(s: &str, sep: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            return Some(i);
        }
    }
    None
}

/// Undoes vCard and MECARD escapes: `\n` `\N` (newline), `\,` `\;` `\:` `\\`. Any other
/// backslash is kept as written.
pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(e @ (',' | ';' | ':' | '\\')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Decodes `%XX` escapes (as in `mailto:` and `tel:` URIs); invalid UTF-8 becomes U+FFFD.
pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) =
                (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c)))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

pub(super) fn digit_count(s: &str) -> usize {
    s.chars().filter(char::is_ascii_digit).count()
}

pub(super) fn is_hangul(c: char) -> bool {
    matches!(c, '\u{ac00}'..='\u{d7a3}' | '\u{1100}'..='\u{11ff}' | '\u{3130}'..='\u{318f}')
}

/// Scripts whose names are written family name first without a space.
pub(super) fn is_cjk(c: char) -> bool {
    is_hangul(c)
        || matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{3040}'..='\u{30ff}')
}

/// A vCard/MECARD structured name.
#[derive(Debug, Default)]
pub(super) struct NameParts {
    pub family: Vec<String>,
    pub given: Vec<String>,
    pub additional: Vec<String>,
    pub prefix: Vec<String>,
    pub suffix: Vec<String>,
}

impl NameParts {
    /// "김민지" for 김;민지 (CJK names: family name first, no space); "Dr. John Philip Stevenson,
    /// Jr." for Latin ones.
    pub(super) fn compose(&self) -> Option<String> {
        let join = |v: &[String]| clean(&v.join(" "));
        let (family, given, additional) =
            (join(&self.family), join(&self.given), join(&self.additional));
        if [&family, &given, &additional].iter().any(|s| s.chars().any(is_cjk)) {
            let s: String = [family, given, additional].concat().split_whitespace().collect();
            return (!s.is_empty()).then_some(s);
        }
        let mut s = [join(&self.prefix), given, additional, family]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let suffix = self
            .suffix
            .iter()
            .map(|s| clean(s))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        if !s.is_empty() && !suffix.is_empty() {
            s = format!("{s}, {suffix}");
        }
        (!s.is_empty()).then_some(s)
    }
}

/// Splits a phone as written into the number and an extension: `tel:` URIs (RFC 3966, with
/// `;ext=` and `;phone-context=`), and "… ext. 102", "… x102", "… 내선 102".
pub(super) fn split_phone(raw: &str) -> (String, Option<String>) {
    let s = raw.trim();
    let s = strip_ci(s, "tel:").unwrap_or(s);
    let s = percent_decode(s);
    let (num, params) = s.split_once(';').unwrap_or((&s, ""));
    let mut ext = None;
    let mut context = None;
    for p in params.split(';') {
        if let Some((k, val)) = p.split_once('=') {
            match k.trim().to_ascii_lowercase().as_str() {
                "ext" => ext = Some(val.chars().filter(char::is_ascii_digit).collect::<String>()),
                "phone-context" => context = Some(val.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut number = num.trim().to_string();
    if ext.is_none()
        && let Some((n, e)) = text_extension(&number)
    {
        number = n;
        ext = Some(e);
    }
    if !number.starts_with('+')
        && let Some(ctx) = context.filter(|c| c.starts_with('+'))
    {
        number = format!("{ctx}{number}");
    }
    (number, ext.filter(|e| !e.is_empty()))
}

fn text_extension(s: &str) -> Option<(String, String)> {
    let lower = s.to_ascii_lowercase(); // same byte offsets as `s`
    for marker in ["extension", "ext.", "ext", "내선", "x", "#"] {
        for (i, _) in lower.match_indices(marker) {
            let before = &s[..i];
            if digit_count(before) < 7 {
                continue;
            }
            let after = s[i + marker.len()..].trim_start_matches([' ', '.', ':', '(']);
            let ext: String = after.chars().take_while(char::is_ascii_digit).take(6).collect();
            if !ext.is_empty() {
                return Some((before.trim_end_matches([' ', ',', '(', '-', ';']).to_string(), ext));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ValidationError;
    use proptest::prelude::*;

    pub(crate) fn kr() -> Validator {
        Validator::new("KR").unwrap()
    }

    /// What every result must satisfy: the draft fits the validator (or only lacks an
    /// identifying field), and every confidence names a filled field and lies in 0..=1.
    pub(crate) fn assert_sound(d: &CaptureDraft, v: &Validator) {
        let mut draft = d.draft.clone();
        match v.lead_draft(&mut draft) {
            Ok(()) | Err(ValidationError::EmptyLead) => {}
            Err(e) => panic!("draft does not validate: {e}\n{d:#?}"),
        }
        for c in &d.confidence {
            assert!((0.0..=1.0).contains(&c.confidence), "{c:?}");
            let f = c.field.as_str();
            let present = match f {
                "name" => d.draft.name.is_some(),
                "company" => d.draft.company.is_some(),
                "title" => d.draft.title.is_some(),
                _ => {
                    if let Some(k) = f.strip_prefix("custom_fields.") {
                        d.custom(k).is_some()
                    } else if let Some(i) =
                        f.strip_prefix("emails[").and_then(|r| r.strip_suffix(']'))
                    {
                        i.parse::<usize>().is_ok_and(|i| i < d.draft.emails.len())
                    } else if let Some(i) =
                        f.strip_prefix("phones[").and_then(|r| r.strip_suffix(']'))
                    {
                        i.parse::<usize>().is_ok_and(|i| i < d.draft.phones.len())
                    } else {
                        false
                    }
                }
            };
            assert!(present, "confidence for a missing field {f}: {d:#?}");
        }
        let filled = d.draft.name.is_some() as usize
            + d.draft.company.is_some() as usize
            + d.draft.title.is_some() as usize
            + d.draft.emails.len()
            + d.draft.phones.len()
            + d.draft.custom_fields.len();
        assert_eq!(d.confidence.len(), filled, "one confidence per filled field: {d:#?}");
        assert!(d.unparsed.len() <= MAX_UNPARSED + 1);
    }

    #[test]
    fn capture_helpers_split_and_unescape() {
        assert_eq!(split_unescaped(r"a\;b;c;", ';'), vec![r"a\;b", "c", ""]);
        assert_eq!(unescape(r"ABC\, Inc.\nline\;x\:y\\z\q"), "ABC, Inc.\nline;x:y\\z\\q");
        assert_eq!(percent_decode("%2B82%2010%zz%"), "+82 10%zz%");
        assert_eq!(strip_ci("TEL:+1", "tel:"), Some("+1"));
        assert_eq!(strip_ci("김", "tel:"), None);
        assert_eq!(find_unescaped(r"a\:b:c", ':'), Some(4));
    }

    #[test]
    fn capture_phone_extensions_and_contexts() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("tel:+1-418-656-9254;ext=102", "+1-418-656-9254", Some("102")),
            ("tel:863-1234;phone-context=+1-914-555", "+1-914-555863-1234", None),
            ("+1 415 555 2671 ext. 12", "+1 415 555 2671", Some("12")),
            ("+1 415 555 2671 x7", "+1 415 555 2671", Some("7")),
            ("02-555-1234 (내선 301)", "02-555-1234", Some("301")),
            ("010-1234-5678", "010-1234-5678", None),
            ("tel:%2B82-10-1234-5678", "+82-10-1234-5678", None),
        ];
        for (raw, number, ext) in cases {
            let (n, e) = split_phone(raw);
            assert_eq!((n.as_str(), e.as_deref()), (*number, *ext), "{raw}");
        }
    }

    #[test]
    fn capture_names_follow_their_script() {
        let p = |f: &[&str], g: &[&str]| NameParts {
            family: f.iter().map(|s| s.to_string()).collect(),
            given: g.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert_eq!(p(&["김"], &["민지"]).compose().as_deref(), Some("김민지"));
        assert_eq!(p(&["남궁"], &["민 지"]).compose().as_deref(), Some("남궁민지"));
        assert_eq!(p(&["Kim"], &["Minji"]).compose().as_deref(), Some("Minji Kim"));
        assert_eq!(p(&["山田"], &["太郎"]).compose().as_deref(), Some("山田太郎"));
        assert_eq!(p(&[], &[]).compose(), None);
        let full = NameParts {
            family: vec!["Stevenson".into()],
            given: vec!["John".into()],
            additional: vec!["Philip".into(), "Paul".into()],
            prefix: vec!["Dr.".into()],
            suffix: vec!["Jr.".into(), "M.D.".into(), "A.C.P.".into()],
        };
        assert_eq!(
            full.compose().as_deref(),
            Some("Dr. John Philip Paul Stevenson, Jr., M.D., A.C.P.")
        );
    }

    #[test]
    fn capture_builder_keeps_limits_and_never_drops() {
        let v = kr();
        let mut b = Builder::default();
        b.set(Slot::Name, &"가".repeat(MAX_SHORT_TEXT + 1), 1.0);
        b.set(Slot::Company, "Acme", 1.0);
        b.set(Slot::Company, "ACME", 0.5);
        b.set(Slot::Company, "에이크미", 0.9);
        for i in 0..12 {
            b.phone(&v, &format!("010-1234-{:04}", 5600 + i), PhoneKind::Mobile, 1.0, 100);
        }
        b.phone(&v, "12345", PhoneKind::Voice, 1.0, 100);
        b.phone(&v, "02-555-1235", PhoneKind::Fax, 1.0, 100);
        b.email("Kim@Acme.COM", 1.0, 100);
        b.email("kim@acme.com", 1.0, 1);
        b.email("not-an-address", 1.0, 100);
        for i in 0..60 {
            b.custom("x", &format!("v{i}"), 1.0);
        }
        let d = b.finish(CaptureChannel::BadgeScan);
        assert_sound(&d, &v);
        assert_eq!(d.draft.channel, Some(CaptureChannel::BadgeScan));
        assert_eq!(d.draft.name, None);
        assert_eq!(d.draft.company.as_deref(), Some("Acme"));
        assert_eq!(d.custom("company_alt"), Some("에이크미"));
        assert_eq!(d.draft.phones.len(), MAX_CONTACTS);
        assert_eq!(d.draft.phones[0], "+821012345600");
        assert_eq!(d.draft.emails, vec!["kim@acme.com"]);
        assert_eq!(d.custom("unverified_phone"), Some("12345"));
        assert_eq!(d.custom("unverified_email"), Some("not-an-address"));
        assert_eq!(d.custom("fax"), Some("+8225551235"));
        assert_eq!(d.draft.custom_fields.len(), MAX_CUSTOM_FIELDS);
        let notes = d.draft.notes.unwrap();
        assert!(notes.contains(&format!("Name: {}", "가".repeat(MAX_SHORT_TEXT + 1))));
        assert!(notes.contains("Phone: +821012345611"), "{notes}");
        assert!(notes.contains("x: v59"), "{notes}");
    }

    #[test]
    fn capture_rejects_what_is_not_a_contact() {
        let v = kr();
        let long = format!("BEGIN:VCARD\nVERSION:3.0\nNOTE:{}\nEND:VCARD", "x".repeat(MAX_INPUT));
        let cases: Vec<(String, CaptureError)> = vec![
            (String::new(), CaptureError::Empty),
            (" \r\n\t ".into(), CaptureError::Empty),
            ("\u{feff}".into(), CaptureError::Empty),
            (long.clone(), CaptureError::TooLong { len: long.len(), max: MAX_INPUT }),
            ("\u{0}\u{1}PNG\u{1a}\u{0}".into(), CaptureError::Binary),
            (
                String::from_utf8_lossy(&[0x89, b'P', b'N', b'G', 0xff, 0xfe]).into_owned(),
                CaptureError::Binary,
            ),
            (
                "WIFI:S:guest;T:WPA;P:secret;;".into(),
                CaptureError::Unrecognised { start: "WIFI:S:guest;T:WPA;P:secret;;".into() },
            ),
            ("hello world".into(), CaptureError::Unrecognised { start: "hello world".into() }),
            ("kim@acme".into(), CaptureError::InvalidEmail("kim@acme".into())),
            (
                "mailto:".into(),
                CaptureError::Malformed {
                    format: "mailto: link",
                    reason: "no e-mail address after mailto:".into(),
                },
            ),
            (
                "tel:call-me".into(),
                CaptureError::Malformed {
                    format: "tel: link",
                    reason: "no phone number after tel:".into(),
                },
            ),
            (
                "https://".into(),
                CaptureError::Malformed {
                    format: "web address",
                    reason: "no host after the scheme".into(),
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_qr(&input, &v), Err(want), "{input:?}");
        }
        let start = match parse_qr(&format!("{}!", "y".repeat(100)), &v) {
            Err(CaptureError::Unrecognised { start }) => start,
            other => panic!("{other:?}"),
        };
        assert_eq!(start.chars().count(), 41, "a preview, not the whole input");
        // The messages tell the rep what was expected.
        let msg = CaptureError::Unrecognised { start: "x".into() }.to_string();
        assert!(msg.contains("vCard") && msg.contains("MECARD") && msg.contains("tel:"), "{msg}");
        assert!(CaptureError::Unterminated.to_string().contains("END:VCARD"));
    }

    #[test]
    fn capture_reads_links_and_addresses() {
        let v = kr();
        let ok = |s: &str| parse_qr(s, &v).unwrap_or_else(|e| panic!("{s}: {e}"));
        let d = ok("https://acme.example.com/booth/12?ref=qr");
        assert_eq!(d.custom("website"), Some("https://acme.example.com/booth/12?ref=qr"));
        assert_eq!(d.confidence_of("custom_fields.website"), Some(1.0));
        assert_eq!(d.draft.channel, Some(CaptureChannel::BadgeScan));
        assert_eq!(ok("  www.acme.co.kr ").custom("website"), Some("www.acme.co.kr"));

        let d = ok("mailto:Minji.Kim@Acme.com?subject=Hello%20there");
        assert_eq!(d.draft.emails, vec!["minji.kim@acme.com"]);
        assert_eq!(d.unparsed, vec!["subject=Hello there"]);
        assert_eq!(
            ok("MAILTO:a@acme.com,b%40acme.com").draft.emails,
            vec!["a@acme.com", "b@acme.com"]
        );
        assert_eq!(ok("Kim@Acme.com").draft.emails, vec!["kim@acme.com"]);

        let d = ok("tel:+82-10-1234-5678");
        assert_eq!(d.draft.phones, vec!["+821012345678"]);
        assert_eq!(d.confidence_of("phones[0]"), Some(1.0));
        let d = ok("TEL:010 1234 5678");
        assert_eq!(d.draft.phones, vec!["+821012345678"]);
        let d = ok("tel:+1-418-656-9254;ext=102");
        assert_eq!(d.draft.phones, vec!["+14186569254"]);
        assert_eq!(d.draft.notes.as_deref(), Some("Extension 102 for +14186569254"));
        // A number that does not validate is kept, not dropped.
        let d = ok("tel:0000-1234");
        assert!(d.draft.phones.is_empty());
        assert_eq!(d.custom("unverified_phone"), Some("0000-1234"));
        assert_eq!(d.confidence_of("custom_fields.unverified_phone"), Some(0.5));
        for s in ["https://acme.example.com", "mailto:a@acme.com", "tel:+82-10-1234-5678"] {
            assert_sound(&ok(s), &v);
        }
    }

    fn vcard_line() -> impl Strategy<Value = String> {
        let names = prop::sample::select(vec![
            "FN",
            "N",
            "TEL",
            "EMAIL",
            "ORG",
            "ADR",
            "TITLE",
            "URL",
            "NOTE",
            "item1.EMAIL",
            "item1.X-ABLabel",
            "X-SOCIALPROFILE",
            "PHOTO",
            "VERSION",
            "BEGIN",
            "END",
            "BDAY",
            "",
            "A.B.C",
            "LABEL",
            "KIND",
        ]);
        let params = prop::sample::select(vec![
            "",
            ";TYPE=work",
            ";type=INTERNET;type=pref",
            ";TYPE=\"work,fax\"",
            ";PREF=1",
            ";CELL;PREF",
            ";CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE",
            ";ENCODING=QUOTED-PRINTABLE",
            ";ENCODING=b",
            ";ENCODING=BASE64",
            ";CHARSET=EUC-KR;ENCODING=QUOTED-PRINTABLE",
            ";X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,=ED=8C",
            ";LABEL=\"a:b;c\"",
            ";VALUE=uri",
            ";\"",
            ";=;=",
        ]);
        let value = "[ -~가-힣=;:,\\\\]{0,30}";
        let sep =
            prop::sample::select(vec!["\r\n", "\n", "\r\n ", "=\r\n", "\r", "\r\n\t", "\n\n"]);
        (names, params, value, sep).prop_map(|(n, p, v, s)| format!("{n}{p}:{v}{s}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn capture_qr_never_panics_on_any_string(s in "\\PC{0,200}|.{0,200}") {
            let v = kr();
            if let Ok(d) = parse_qr(&s, &v) {
                assert_sound(&d, &v);
            }
        }

        #[test]
        fn capture_qr_never_panics_on_vcard_like_text(lines in prop::collection::vec(vcard_line(), 0..25), end in any::<bool>()) {
            let v = kr();
            let text = format!("BEGIN:VCARD\r\n{}{}", lines.concat(), if end { "END:VCARD\r\n" } else { "" });
            match parse_qr(&text, &v) {
                Ok(d) => assert_sound(&d, &v),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }

        #[test]
        fn capture_qr_never_panics_on_mecard_like_text(
            fields in prop::collection::vec(("(N|TEL|EMAIL|ORG|ADR|URL|NOTE|X|T|C|B|F|TO|SUB|)", "[ -~김민지:\\\\,]{0,20}"), 0..10),
            prefix in prop::sample::select(vec!["MECARD:", "BIZCARD:", "MATMSG:", "mecard:"]),
        ) {
            let v = kr();
            let body: String = fields.iter().map(|(k, val)| format!("{k}:{val};")).collect();
            if let Ok(d) = parse_qr(&format!("{prefix}{body};"), &v) {
                assert_sound(&d, &v);
            }
        }

        #[test]
        fn capture_card_text_never_panics(s in "\\PC{0,300}|.{0,300}|([A-Za-z김민지과장()@.:+ 0-9-]{0,30}\n){0,12}") {
            let v = kr();
            let d = parse_card_text(&s, &v);
            assert_sound(&d, &v);
            prop_assert_eq!(d.draft.channel, Some(CaptureChannel::BusinessCard));
        }
    }
}
