//! vCard 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350), as address books and badge printers write them.
//!
//! Read: line unfolding (a leading space or tab continues the line; 2.1 keeps the whitespace),
//! quoted-printable values with soft line breaks and `CHARSET` (2.1), backslash escapes, grouped
//! properties (`item1.EMAIL` with `item1.X-ABLabel`), `TYPE`/`PREF` parameters in every spelling
//! (`TYPE=a,b`, `type=a;type=b`, `TYPE="a,b"`, bare 2.1 `CELL;PREF`), Samsung's
//! `X-CUSTOM(…,label)` labels, and `tel:` URIs. Binary values (`ENCODING=b`, `BASE64`, `data:`)
//! are skipped, including unindented 2.1 base64 blocks. Only the first vCard of the text is read.

use super::{Builder, CaptureError, NameParts, PhoneKind, Slot};
use super::{clean, hex, is_cjk, is_hangul, preview, split_unescaped, unescape};
use crate::validate::Validator;

const FORMAT: &str = "vCard";

/// Properties read for the lead are handled by name; these carry nothing for it and are skipped
/// without a word. Anything else unknown is listed as unparsed (or kept, for `X-` properties).
const SKIPPED: &[&str] = &[
    "VERSION",
    "PRODID",
    "REV",
    "UID",
    "PHOTO",
    "LOGO",
    "SOUND",
    "KEY",
    "TZ",
    "GEO",
    "LANG",
    "GENDER",
    "SORT-STRING",
    "CLASS",
    "MAILER",
    "NAME",
    "PROFILE",
    "SOURCE",
    "CLIENTPIDMAP",
    "XML",
    "KIND",
    "LABEL",
    "X-ABUID",
    "X-ABLABEL",
    "X-ABSHOWAS",
    "X-ABADR",
    "X-ABDATE",
    "X-ABRELATEDNAMES",
    "X-ABPERSON",
    "X-IMAGETYPE",
    "X-IMAGEHASH",
    "X-SHARED-PHOTO-DISPLAY-PREF",
    "X-MS-CARDPICTURE",
    "X-ACTIVITY-ALERT",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V21,
    V30,
    V40,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Plain,
    QuotedPrintable,
    Base64,
}

/// Whether the text is a vCard; an `END:VCARD` without a `BEGIN:VCARD` is an error.
pub(super) fn detect(t: &str) -> Result<bool, CaptureError> {
    let mut end = false;
    for l in t.split(['\r', '\n']) {
        if is_marker(l, "BEGIN:VCARD") {
            return Ok(true);
        }
        end |= is_marker(l, "END:VCARD");
    }
    if end {
        return Err(CaptureError::Malformed {
            format: FORMAT,
            reason: "END:VCARD without BEGIN:VCARD".into(),
        });
    }
    Ok(false)
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.trim().eq_ignore_ascii_case(marker)
}

pub(super) fn parse(text: &str, v: &Validator) -> Result<Builder, CaptureError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut b = Builder::default();

    let begin = lines.iter().position(|l| is_marker(l, "BEGIN:VCARD")).unwrap_or(0);
    for l in &lines[..begin] {
        b.unparsed(l);
    }
    let mut depth = 1;
    let mut nested = 0;
    let mut end = None;
    let mut body = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(begin + 1) {
        if is_marker(l, "BEGIN:VCARD") {
            depth += 1;
            nested += (depth == 2) as usize;
        } else if is_marker(l, "END:VCARD") {
            depth -= 1;
            if depth == 0 {
                end = Some(i);
                break;
            }
        } else if depth == 1 {
            body.push(*l);
        }
    }
    let end = end.ok_or(CaptureError::Unterminated)?;
    if nested > 0 {
        b.unparsed(format!("{nested} embedded vCard(s) (AGENT) not read"));
    }
    let rest = &lines[end + 1..];
    let more = rest.iter().filter(|l| is_marker(l, "BEGIN:VCARD")).count();
    if more > 0 {
        b.unparsed(format!(
            "{more} more vCard(s) in the same code not read: only the first one is"
        ));
    } else {
        for l in rest {
            b.unparsed(l);
        }
    }

    let version = version(&body)?;
    let logical = unfold(&body, version);
    let props: Vec<Prop> = logical
        .iter()
        .filter_map(|l| {
            let p = Prop::parse(l, version);
            if p.is_none() {
                b.unparsed(l);
            }
            p
        })
        .collect();
    read(props, v, &mut b);
    if !b.usable() {
        return Err(CaptureError::NoUsableField { format: FORMAT });
    }
    Ok(b)
}

fn version(body: &[&str]) -> Result<Version, CaptureError> {
    let Some(value) = body.iter().find_map(|l| super::strip_ci(l.trim_start(), "VERSION:")) else {
        // Many generators leave VERSION out; read such a card leniently.
        return Ok(Version::V30);
    };
    match value.trim() {
        "2.1" | "2.0" | "2" => Ok(Version::V21),
        "3.0" | "3" => Ok(Version::V30),
        "4.0" | "4" => Ok(Version::V40),
        other => Err(CaptureError::UnsupportedVersion(preview(other, 20))),
    }
}

struct Logical {
    text: String,
    qp: bool,
    base64: bool,
}

/// Joins folded lines (and quoted-printable soft line breaks) into logical lines.
fn unfold(body: &[&str], version: Version) -> Vec<String> {
    let mut out: Vec<Logical> = Vec::new();
    for &line in body {
        if let Some(last) = out.last_mut() {
            if last.qp && last.text.ends_with('=') {
                last.text.pop();
                last.text.push_str(line);
                continue;
            }
            if let Some(rest) = line.strip_prefix([' ', '\t']) {
                last.text.push_str(if version == Version::V21 { line } else { rest });
                continue;
            }
            // 2.1 base64 blocks may run over unindented lines until a blank one.
            let t = line.trim();
            if last.base64
                && !t.is_empty()
                && t.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
            {
                continue;
            }
        }
        if line.trim().is_empty() {
            continue;
        }
        let (qp, base64) = match Prop::parse(line, version) {
            Some(p) => (p.encoding == Encoding::QuotedPrintable, p.encoding == Encoding::Base64),
            None => (false, false),
        };
        out.push(Logical { text: line.to_string(), qp, base64 });
    }
    out.into_iter().map(|l| l.text).collect()
}

#[derive(Debug)]
struct Prop<'a> {
    group: Option<String>,
    name: String,
    types: Vec<String>,
    /// 1 is most preferred; 100 when not said.
    pref: u32,
    encoding: Encoding,
    charset: Option<String>,
    /// A label from Samsung's `X-CUSTOM(…,label)` parameter.
    label: Option<String>,
    /// The `LABEL` parameter of a 4.0 ADR: the address as it is printed.
    adr_label: Option<String>,
    version: Version,
    raw: &'a str,
}

impl<'a> Prop<'a> {
    fn parse(line: &'a str, version: Version) -> Option<Prop<'a>> {
        let colon = find_outside_quotes(line, ':').or_else(|| line.find(':'))?;
        let (header, raw) = (&line[..colon], &line[colon + 1..]);
        let mut parts = split_outside_quotes(header, ';').into_iter();
        let full = parts.next()?.trim();
        let (group, name) = match full.rfind('.') {
            Some(i) => (Some(full[..i].to_ascii_lowercase()), &full[i + 1..]),
            None => (None, full),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let mut p = Prop {
            group,
            name: name.to_ascii_uppercase(),
            types: Vec::new(),
            pref: 100,
            encoding: Encoding::Plain,
            charset: None,
            label: None,
            adr_label: None,
            version,
            raw,
        };
        for param in parts {
            let param = param.trim();
            if let Some(inner) =
                super::strip_ci(param, "X-CUSTOM(").and_then(|r| r.strip_suffix(')'))
            {
                // Samsung: X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,<label>)
                let label = inner.rsplit(',').next().unwrap_or("");
                let label = if inner.to_ascii_uppercase().contains("QUOTED-PRINTABLE") {
                    String::from_utf8_lossy(&qp_decode(label)).into_owned()
                } else {
                    label.to_string()
                };
                p.label = Some(label);
                continue;
            }
            match param.split_once('=') {
                Some((k, val)) => {
                    let val = val.trim().trim_matches('"');
                    match k.trim().to_ascii_uppercase().as_str() {
                        "TYPE" => p.types.extend(
                            val.split(',').map(|t| t.trim().trim_matches('"').to_ascii_lowercase()),
                        ),
                        "PREF" => p.pref = p.pref.min(val.parse().unwrap_or(100)),
                        "ENCODING" => p.encoding = encoding(val).unwrap_or(Encoding::Plain),
                        "CHARSET" => p.charset = Some(val.to_ascii_uppercase()),
                        "LABEL" => p.adr_label = Some(unescape(val)),
                        _ => {}
                    }
                }
                None => match encoding(param) {
                    Some(e) => p.encoding = e,
                    None if param.eq_ignore_ascii_case("8BIT")
                        || param.eq_ignore_ascii_case("7BIT") => {}
                    None => p.types.push(param.to_ascii_lowercase()),
                },
            }
        }
        if p.types.iter().any(|t| t == "pref") {
            p.pref = p.pref.min(1);
        }
        Some(p)
    }

    fn has_type(&self, t: &str) -> bool {
        self.types.iter().any(|x| x == t)
    }

    /// Decodes one part of the raw value (quoted-printable and charset), then undoes escapes.
    fn decode(&self, part: &str) -> Result<String, String> {
        let text = match self.encoding {
            Encoding::Base64 => return Err("base64-encoded value not read".into()),
            Encoding::Plain => part.to_string(),
            Encoding::QuotedPrintable => {
                let bytes = qp_decode(part);
                match self.charset.as_deref() {
                    None | Some("UTF-8" | "UTF8" | "US-ASCII" | "ASCII") => {
                        match String::from_utf8(bytes) {
                            Ok(s) => s,
                            // 2.1 without a charset is often Windows Latin-1.
                            Err(e) if self.charset.is_none() => latin1(e.as_bytes()),
                            Err(_) => return Err("invalid UTF-8".into()),
                        }
                    }
                    Some("ISO-8859-1" | "LATIN1" | "WINDOWS-1252" | "CP1252") => latin1(&bytes),
                    Some(other) => match String::from_utf8(bytes) {
                        Ok(s) => s,
                        Err(_) => return Err(format!("charset {other} not supported")),
                    },
                }
            }
        };
        Ok(unescape(&text))
    }

    fn text(&self) -> Result<String, String> {
        self.decode(self.raw)
    }

    /// The `;`-separated components of a structured value, each split on `,` into its values
    /// (3.0 and 4.0; in 2.1 a comma is literal).
    fn components(&self, split_commas: bool) -> Result<Vec<Vec<String>>, String> {
        split_unescaped(self.raw, ';')
            .into_iter()
            .map(|c| {
                let values = if split_commas && self.version != Version::V21 {
                    split_unescaped(c, ',')
                } else {
                    vec![c]
                };
                values.into_iter().map(|v| self.decode(v)).collect()
            })
            .collect()
    }
}

fn encoding(s: &str) -> Option<Encoding> {
    match s.trim().to_ascii_uppercase().as_str() {
        "QUOTED-PRINTABLE" => Some(Encoding::QuotedPrintable),
        "B" | "BASE64" => Some(Encoding::Base64),
        _ => None,
    }
}

fn find_outside_quotes(s: &str, sep: char) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find_outside_quotes(rest, sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len_utf8()..];
    }
    out.push(rest);
    out
}

/// Quoted-printable: `=XX` is a byte; a lone `=` (a soft break left over) is dropped.
fn qp_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if let (Some(h), Some(l)) =
                (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c)))
            {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
            if i + 1 == b.len() {
                break;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// iOS labels: "_$!<WorkFax>!$_" → "WorkFax"; custom labels as written.
fn ab_label(s: &str) -> String {
    s.trim().trim_start_matches("_$!<").trim_end_matches(">!$_").to_string()
}

fn read(props: Vec<Prop>, v: &Validator, b: &mut Builder) {
    let labels: Vec<(String, String)> = props
        .iter()
        .filter(|p| p.name == "X-ABLABEL")
        .filter_map(|p| Some((p.group.clone()?, ab_label(&p.text().ok()?))))
        .collect();
    let label_of = |p: &Prop| -> Option<String> {
        p.label.clone().or_else(|| {
            let g = p.group.as_ref()?;
            labels.iter().find(|(lg, _)| lg == g).map(|(_, l)| l.clone())
        })
    };
    let is_org = props.iter().any(|p| {
        (p.name == "KIND" || p.name == "X-ABSHOWAS")
            && p.text()
                .is_ok_and(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "org" | "company"))
    });

    let mut formatted: Vec<String> = Vec::new();
    let mut structured: Option<String> = None;
    let mut address_labels: Vec<String> = Vec::new();
    let mut has_adr = false;

    for p in &props {
        let name = p.name.as_str();
        let text = || p.text();
        let failed = |b: &mut Builder, why: String| b.unparsed(format!("{name}: {why}"));
        match name {
            "FN" => match text() {
                Ok(t) if !clean(&t).is_empty() => formatted.push(clean(&t)),
                Ok(_) => {}
                Err(e) => failed(b, e),
            },
            "N" => match p.components(true) {
                Ok(c) => {
                    if structured.is_none() {
                        let get = |i: usize| c.get(i).cloned().unwrap_or_default();
                        structured = NameParts {
                            family: get(0),
                            given: get(1),
                            additional: get(2),
                            prefix: get(3),
                            suffix: get(4),
                        }
                        .compose();
                    }
                }
                Err(e) => failed(b, e),
            },
            "ORG" => match p.components(false) {
                Ok(c) => {
                    let mut parts =
                        c.into_iter().map(|v| clean(&v.concat())).filter(|s| !s.is_empty());
                    if let Some(org) = parts.next() {
                        b.set(Slot::Company, &org, 1.0);
                    }
                    let units: Vec<String> = parts.collect();
                    if !units.is_empty() {
                        b.custom("department", &units.join(" / "), 1.0);
                    }
                }
                Err(e) => failed(b, e),
            },
            "TITLE" => match text() {
                Ok(t) => b.set(Slot::Title, &t, 1.0),
                Err(e) => failed(b, e),
            },
            "ROLE" => match text() {
                Ok(t) => b.custom("role", &clean(&t), 1.0),
                Err(e) => failed(b, e),
            },
            "TEL" => match text() {
                Ok(t) => {
                    let label = label_of(p).unwrap_or_default().to_lowercase();
                    let kind =
                        if p.has_type("fax") || label.contains("fax") || label.contains("팩스") {
                            PhoneKind::Fax
                        } else if p.has_type("pager") || label.contains("pager") {
                            PhoneKind::Pager
                        } else if p.has_type("cell") || p.has_type("mobile") || p.has_type("iphone")
                        {
                            PhoneKind::Mobile
                        } else {
                            PhoneKind::Voice
                        };
                    b.phone(v, &t, kind, 1.0, p.pref);
                }
                Err(e) => failed(b, e),
            },
            "EMAIL" => match text() {
                Ok(t) => b.email(&t, 1.0, p.pref),
                Err(e) => failed(b, e),
            },
            "ADR" => match p.components(true) {
                Ok(c) => {
                    has_adr = true;
                    let a = format_address(&c);
                    let a = if a.is_empty() {
                        p.adr_label.as_deref().map(multiline).unwrap_or_default()
                    } else {
                        a
                    };
                    b.custom("address", &a, 1.0);
                }
                Err(e) => failed(b, e),
            },
            "LABEL" => {
                if let Ok(t) = text() {
                    address_labels.push(multiline(&t));
                }
            }
            "URL" => match text() {
                Ok(t) => b.custom("website", &clean(&t), 1.0),
                Err(e) => failed(b, e),
            },
            "NOTE" => match text() {
                Ok(t) => b.note(t),
                Err(e) => failed(b, e),
            },
            "NICKNAME" => match text() {
                Ok(t) => b.custom("nickname", &clean(&t), 1.0),
                Err(e) => failed(b, e),
            },
            _ if SKIPPED.contains(&name) => {}
            _ if name.starts_with("X-") => {
                if p.encoding == Encoding::Base64 || p.raw.trim_start().starts_with("data:") {
                    continue;
                }
                match text() {
                    Ok(t) => {
                        let key =
                            name.trim_start_matches("X-").to_ascii_lowercase().replace('-', "_");
                        let value = match p.types.first() {
                            Some(t0) if !t0.is_empty() && name == "X-SOCIALPROFILE" => {
                                format!("{t0}: {}", clean(&t))
                            }
                            _ => t,
                        };
                        b.custom(&key, &value, 1.0);
                    }
                    Err(e) => failed(b, e),
                }
            }
            _ => {
                if p.encoding == Encoding::Base64 {
                    continue;
                }
                match text() {
                    Ok(t) => b.unparsed(format!("{name}: {}", clean(&t))),
                    Err(e) => failed(b, e),
                }
            }
        }
    }
    if !has_adr {
        for a in address_labels {
            b.custom("address", &a, 1.0);
        }
    }

    // Names: a CJK structured name wins (family name first, no space); otherwise FN as written,
    // else the structured name. A name in the other script is kept as name_alt.
    if is_org {
        if let Some(f) = formatted.first().or(structured.as_ref()) {
            b.set(Slot::Company, f, 1.0);
        }
        return;
    }
    let company = b_company(b);
    let formatted: Vec<String> = formatted
        .into_iter()
        .filter(|f| {
            structured.is_some() || company.as_deref().is_none_or(|c| !c.eq_ignore_ascii_case(f))
        })
        .collect();
    let cjk = |s: &String| s.chars().any(is_cjk);
    let primary = match (&structured, formatted.first()) {
        (Some(s), _) if cjk(s) => Some(s.clone()),
        (_, Some(f)) => Some(f.clone()),
        (s, None) => s.clone(),
    };
    if let Some(primary) = primary {
        b.set(Slot::Name, &primary, 1.0);
        let others = structured.iter().chain(formatted.iter());
        if let Some(alt) = others.into_iter().find(|o| cjk(o) != cjk(&primary)) {
            b.custom("name_alt", alt, 1.0);
        }
    }
}

fn b_company(b: &Builder) -> Option<String> {
    b.company.as_ref().map(|(c, _)| c.clone())
}

/// Keeps the lines of a multi-line value, joined with ", ".
fn multiline(s: &str) -> String {
    s.lines().map(clean).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(", ")
}

/// One line for an ADR: "2875 Laurier, Suite D2-630, Quebec, QC G1V 2M2, Canada"; Korean
/// addresses from the largest unit down: "서울특별시 강남구 테헤란로 123, 4층 (06234)".
fn format_address(c: &[Vec<String>]) -> String {
    let get = |i: usize| -> String {
        c.get(i)
            .map(|vals| {
                vals.iter()
                    .map(|s| multiline(s))
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let (pobox, ext, street, city, region, postal, country) =
        (get(0), get(1), get(2), get(3), get(4), get(5), get(6));
    let extra: Vec<String> = (7..c.len()).map(get).filter(|s| !s.is_empty()).collect();
    let join = |v: Vec<&str>, sep: &str| {
        v.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(sep)
    };
    if [&street, &city, &region, &ext].iter().any(|s| s.chars().any(is_hangul)) {
        let mut a = join(vec![&country, &region, &city, &street], " ");
        for part in [&ext, &pobox] {
            if !part.is_empty() {
                a = join(vec![&a, part], ", ");
            }
        }
        if !postal.is_empty() {
            a = format!("{a} ({postal})").trim().to_string();
        }
        return join(vec![&a, &extra.join(", ")], ", ");
    }
    let region_postal = join(vec![&region, &postal], " ");
    join(vec![&pobox, &street, &ext, &city, &region_postal, &country, &extra.join(", ")], ", ")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_sound, kr};
    use super::super::{CaptureDraft, CaptureError, parse_qr};
    use crate::model::CaptureChannel;
    use crate::validate::Validator;

    fn crlf(lines: &[&str]) -> String {
        let mut s = lines.join("\r\n");
        s.push_str("\r\n");
        s
    }

    /// What a vCard should give. Lists are compared exactly; `notes`/`unparsed` by substring.
    #[derive(Default)]
    struct Want {
        name: Option<&'static str>,
        company: Option<&'static str>,
        title: Option<&'static str>,
        emails: &'static [&'static str],
        phones: &'static [&'static str],
        custom: &'static [(&'static str, &'static str)],
        notes: &'static [&'static str],
        unparsed: &'static [&'static str],
    }

    fn check(label: &str, d: &CaptureDraft, w: &Want) {
        let ctx = || format!("{label}: {d:#?}");
        assert_eq!(d.draft.name.as_deref(), w.name, "name, {}", ctx());
        assert_eq!(d.draft.company.as_deref(), w.company, "company, {}", ctx());
        assert_eq!(d.draft.title.as_deref(), w.title, "title, {}", ctx());
        assert_eq!(d.draft.emails, w.emails, "emails, {}", ctx());
        assert_eq!(d.draft.phones, w.phones, "phones, {}", ctx());
        let custom: Vec<(&str, &str)> =
            d.draft.custom_fields.iter().map(|f| (f.key.as_str(), f.value.as_str())).collect();
        let mut want: Vec<(&str, &str)> = w.custom.to_vec();
        want.sort();
        assert_eq!(custom, want, "custom fields, {}", ctx());
        let notes = d.draft.notes.clone().unwrap_or_default();
        for n in w.notes {
            assert!(notes.contains(n), "notes lack {n:?}, {}", ctx());
        }
        if w.notes.is_empty() {
            assert_eq!(d.draft.notes, None, "notes, {}", ctx());
        }
        for u in w.unparsed {
            assert!(d.unparsed.iter().any(|x| x.contains(u)), "unparsed lacks {u:?}, {}", ctx());
        }
        assert_eq!(d.draft.channel, Some(CaptureChannel::BadgeScan));
        for c in &d.confidence {
            let want = if c.field.contains("unverified") { 0.5 } else { 1.0 };
            assert_eq!(
                c.confidence,
                want,
                "structured fields are certain, raw ones are not: {}",
                ctx()
            );
        }
    }

    fn cases() -> Vec<(&'static str, &'static str, String, Want)> {
        vec![
            (
                "RFC 6350 section 8 (Simon Perreault)",
                "CA",
                crlf(&[
                    "BEGIN:VCARD",
                    "VERSION:4.0",
                    "FN:Simon Perreault",
                    "N:Perreault;Simon;;;ing. jr,M.Sc.",
                    "BDAY:--0203",
                    "ANNIVERSARY:20090808T1430-0500",
                    "GENDER:M",
                    "LANG;PREF=1:fr",
                    "LANG;PREF=2:en",
                    "ORG;TYPE=work:Viagenie",
                    "ADR;TYPE=work:;Suite D2-630;2875 Laurier;",
                    " Quebec;QC;G1V 2M2;Canada",
                    "TEL;VALUE=uri;TYPE=\"work,voice\";PREF=1:tel:+1-418-656-9254;ext=102",
                    "TEL;VALUE=uri;TYPE=\"work,cell,voice,video,text\":tel:+1-418-262-6501",
                    "EMAIL;TYPE=work:simon.perreault@viagenie.ca",
                    "GEO;TYPE=work:geo:46.772673,-71.282945",
                    "KEY;TYPE=work;VALUE=uri:",
                    " http://www.viagenie.ca/simon.perreault/simon.asc",
                    "TZ:-0500",
                    "URL;TYPE=home:http://nomis80.org",
                    "END:VCARD",
                ]),
                Want {
                    name: Some("Simon Perreault"),
                    company: Some("Viagenie"),
                    emails: &["simon.perreault@viagenie.ca"],
                    phones: &["+14186569254", "+14182626501"],
                    custom: &[
                        ("address", "2875 Laurier, Suite D2-630, Quebec, QC G1V 2M2, Canada"),
                        ("website", "http://nomis80.org"),
                    ],
                    notes: &["Extension 102 for +14186569254"],
                    unparsed: &["BDAY: --0203", "ANNIVERSARY: 20090808T1430-0500"],
                    ..Want::default()
                },
            ),
            (
                "RFC 6350 property examples: escapes, quoted LABEL parameter, multi-valued N, ORG units",
                "US",
                crlf(&[
                    "BEGIN:VCARD",
                    "VERSION:4.0",
                    "N:Stevenson;John;Philip,Paul;Dr.;Jr.,M.D.,A.C.P.",
                    "ORG:ABC\\, Inc.;North American Division;Marketing",
                    "ADR;GEO=\"geo:12.3457,78.910\";LABEL=\"Mr. John Q. Public, Esq.\\nMail Drop: TNE QB\\n123 Main Street\\nAny Town, CA  91921-1234\\nU.S.A.\":;;123 Main Street;Any Town;CA;91921-1234;U.S.A.",
                    "TEL;VALUE=uri;PREF=1;TYPE=\"voice,home\":tel:+1-555-555-5555;ext=5555",
                    "TEL;VALUE=uri;TYPE=home:tel:+33-01-23-45-67",
                    "EMAIL;TYPE=work:jqpublic@xyz.example.com",
                    "EMAIL;PREF=1:jane_doe@example.com",
                    "NOTE:This fax number is operational 0800 to 1715\\n EST\\, Mon-Fri.",
                    "PHOTO:data:image/jpeg;base64,MIICajCCAdOgAwIBAgICBEUwDQYJKoZIhvcN",
                    "END:VCARD",
                ]),
                Want {
                    name: Some("Dr. John Philip Paul Stevenson, Jr., M.D., A.C.P."),
                    company: Some("ABC, Inc."),
                    emails: &["jane_doe@example.com", "jqpublic@xyz.example.com"],
                    phones: &[],
                    custom: &[
                        ("address", "123 Main Street, Any Town, CA 91921-1234, U.S.A."),
                        ("department", "North American Division / Marketing"),
                        ("unverified_phone", "+1-555-555-5555;ext=5555"),
                        ("unverified_phone_2", "+33-01-23-45-67"),
                    ],
                    notes: &["This fax number is operational 0800 to 1715\n EST, Mon-Fri."],
                    ..Want::default()
                },
            ),
            (
                "RFC 2426 section 7 (Frank Dawson)",
                "US",
                crlf(&[
                    "BEGIN:vCard",
                    "VERSION:3.0",
                    "FN:Frank Dawson",
                    "ORG:Lotus Development Corporation",
                    "ADR;TYPE=WORK,POSTAL,PARCEL:;;6544 Battleford Drive",
                    " ;Raleigh;NC;27613-3502;U.S.A.",
                    "TEL;TYPE=VOICE,MSG,WORK:+1-919-676-9515",
                    "TEL;TYPE=FAX,WORK:+1-919-676-9564",
                    "EMAIL;TYPE=INTERNET,PREF:Frank_Dawson@Lotus.com",
                    "EMAIL;TYPE=INTERNET:fdawson@earthlink.net",
                    "URL:http://home.earthlink.net/~fdawson",
                    "END:vCard",
                ]),
                Want {
                    name: Some("Frank Dawson"),
                    company: Some("Lotus Development Corporation"),
                    emails: &["frank_dawson@lotus.com", "fdawson@earthlink.net"],
                    phones: &["+19196769515"],
                    custom: &[
                        ("address", "6544 Battleford Drive, Raleigh, NC 27613-3502, U.S.A."),
                        ("fax", "+19196769564"),
                        ("website", "http://home.earthlink.net/~fdawson"),
                    ],
                    ..Want::default()
                },
            ),
            (
                "RFC 2426 section 7 (Tim Howes) and RFC 2426 value examples",
                "US",
                crlf(&[
                    "BEGIN:vCard",
                    "VERSION:3.0",
                    "FN:Tim Howes",
                    "N:Howes;Tim;;;",
                    "ORG:Netscape Communications Corp.",
                    "ADR;TYPE=WORK:;;501 E. Middlefield Rd.;Mountain View;",
                    " CA; 94043;U.S.A.",
                    "TEL;TYPE=VOICE,MSG,WORK:+1-415-937-3419",
                    "TEL;TYPE=FAX,WORK:+1-415-528-4164",
                    "EMAIL;TYPE=INTERNET:howes@netscape.com",
                    "TITLE:Director\\, Research and Development",
                    "ROLE:Programmer",
                    "NICKNAME:Timbo",
                    "CATEGORIES:INTERNET,IETF,INDUSTRY",
                    "PHOTO;ENCODING=b;TYPE=JPEG:MIICajCCAdOgAwIBAgICBEUwDQYJKoZIhvcNAQEEBQAwdzELMAkGA1UEBhMCVVMxLDAqBgNV",
                    " BAoTI05ldHNjYXBlIENvbW11bmljYXRpb25zIENvcnBvcmF0aW9uMRwwGgYDVQQLExNJbmZvcm1h",
                    "END:vCard",
                ]),
                Want {
                    name: Some("Tim Howes"),
                    company: Some("Netscape Communications Corp."),
                    title: Some("Director, Research and Development"),
                    emails: &["howes@netscape.com"],
                    phones: &["+14159373419"],
                    custom: &[
                        ("address", "501 E. Middlefield Rd., Mountain View, CA 94043, U.S.A."),
                        ("fax", "+14155284164"),
                        ("nickname", "Timbo"),
                        ("role", "Programmer"),
                    ],
                    unparsed: &["CATEGORIES: INTERNET,IETF,INDUSTRY"],
                    ..Want::default()
                },
            ),
            (
                "iOS 3.0 export: item groups, X-ABLabel, type=pref, social profile, folded photo",
                "KR",
                crlf(&[
                    "BEGIN:VCARD",
                    "VERSION:3.0",
                    "PRODID:-//Apple Inc.//iPhone OS 17.4//EN",
                    "N:Kim;Minji;;;",
                    "FN:Minji Kim",
                    "ORG:Acme Corp.;Sales",
                    "TITLE:Account Executive",
                    "item1.EMAIL;type=INTERNET;type=pref:Minji.Kim@Acme.com",
                    "item1.X-ABLabel:_$!<Other>!$_",
                    "EMAIL;type=INTERNET;type=HOME:minji@example.org",
                    "TEL;type=CELL;type=VOICE;type=pref:+82 10-1234-5678",
                    "TEL;type=WORK;type=VOICE:02-555-1234",
                    "item2.TEL:02-555-1235",
                    "item2.X-ABLabel:Fax",
                    "item3.ADR;type=WORK;type=pref:;;123 Teheran-ro\\nFloor 4;Gangnam-gu;Seoul;06234;South Korea",
                    "item3.X-ABADR:kr",
                    "item4.URL;type=pref:https\\://acme.example.com",
                    "item4.X-ABLabel:_$!<HomePage>!$_",
                    "X-SOCIALPROFILE;type=linkedin;x-user=minjikim:http://www.linkedin.com/in/minjikim",
                    "NOTE:Met at booth 12\\nWants a demo",
                    "BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-14",
                    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/4gIoSUNDX1BST0ZJTEUAAQEAAAIY",
                    "  AAAAAAQwAABtbnRyUkdCIFhZWiAAAAAAAAAAAAAAAABhY3NwAAAAAAAAAAAAAAAA",
                    "X-ABUID:5AD380FD-B2DE-4261-BA99-DE1D1DB52FBE:ABPerson",
                    "END:VCARD",
                ]),
                Want {
                    name: Some("Minji Kim"),
                    company: Some("Acme Corp."),
                    title: Some("Account Executive"),
                    emails: &["minji.kim@acme.com", "minji@example.org"],
                    phones: &["+821012345678", "+8225551234"],
                    custom: &[
                        ("address", "123 Teheran-ro, Floor 4, Gangnam-gu, Seoul 06234, South Korea"),
                        ("department", "Sales"),
                        ("fax", "+8225551235"),
                        ("socialprofile", "linkedin: http://www.linkedin.com/in/minjikim"),
                        ("website", "https://acme.example.com"),
                    ],
                    notes: &["Met at booth 12\nWants a demo"],
                    unparsed: &["BDAY: 1604-03-14"],
                },
            ),
            (
                "iOS 3.0 export with a Korean name (N:김;민지, FN in given-family order)",
                "KR",
                crlf(&[
                    "BEGIN:VCARD",
                    "VERSION:3.0",
                    "N:김;민지;;;",
                    "FN:민지 김",
                    "ORG:에이크미 주식회사;영업본부",
                    "TITLE:과장",
                    "item1.EMAIL;type=INTERNET;type=pref:minji@acme.co.kr",
                    "TEL;type=CELL;type=VOICE;type=pref:010-1234-5678",
                    "item2.ADR;type=WORK;type=pref:;4층;테헤란로 123;강남구;서울특별시;06234;대한민국",
                    "END:VCARD",
                ]),
                Want {
                    name: Some("김민지"),
                    company: Some("에이크미 주식회사"),
                    title: Some("과장"),
                    emails: &["minji@acme.co.kr"],
                    phones: &["+821012345678"],
                    custom: &[("address", "대한민국 서울특별시 강남구 테헤란로 123, 4층 (06234)"), ("department", "영업본부")],
                    ..Want::default()
                },
            ),
            (
                "Android 2.1 export: quoted-printable UTF-8 Korean, soft line breaks, bare types, base64 photo",
                "KR",
                crlf(&[
                    "BEGIN:VCARD",
                    "VERSION:2.1",
                    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EA=B9=80;=EB=AF=BC=EC=A7=80;;;",
                    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EA=B9=80=EB=AF=BC=",
                    "=EC=A7=80",
                    "TEL;CELL;PREF:010-1234-5678",
                    "TEL;WORK:02-555-1234",
                    "TEL;WORK;FAX:02-555-1235",
                    "EMAIL;WORK:Minji@Acme.co.kr",
                    "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EC=97=90=EC=9D=B4=ED=81=AC=EB=AF=B8",
                    "TITLE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EA=B3=BC=EC=9E=A5",
                    "ADR;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;=ED=85=8C=ED=97=A4=EB=9E=80=EB=A1=9C 123;=EA=B0=95=EB=82=A8=EA=B5=AC;=EC=84=9C=EC=9A=B8=ED=8A=B9=EB=B3=84=EC=8B=9C;06234;",
                    "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=ED=9A=8C=EC=9D=98=EC=97=90=EC=84=9C =EB=A7=8C=EB=82=A8, =EB=8D=B0=",
                    "=EB=AA=A8 =EC=9A=94=EC=B2=AD=0D=0Ax=3Dy",
                    "X-ANDROID-CUSTOM:vnd.android.cursor.item/nickname;Minnie;1;;;;;;;;;;;;;",
                    "PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgK",
                    "DAwLDAoLCwwZEhMPFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU",
                    "",
                    "END:VCARD",
                ]),
                Want {
                    name: Some("김민지"),
                    company: Some("에이크미"),
                    title: Some("과장"),
                    emails: &["minji@acme.co.kr"],
                    phones: &["+821012345678", "+8225551234"],
                    custom: &[
                        ("address", "서울특별시 강남구 테헤란로 123 (06234)"),
                        ("android_custom", "vnd.android.cursor.item/nickname;Minnie;1;;;;;;;;;;;;;"),
                        ("fax", "+8225551235"),
                    ],
                    notes: &["회의에서 만남, 데모 요청\r\nx=y"],
                    ..Want::default()
                },
            ),
            (
                "Samsung 2.1 export: X-CUSTOM quoted-printable labels, Latin-1 fallback, several e-mails",
                "KR",
                crlf(&[
                    "BEGIN:VCARD",
                    "VERSION:2.1",
                    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EB=B0=95;=EC=A4=80=ED=98=B8;;;",
                    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EB=B0=95=EC=A4=80=ED=98=B8",
                    "TEL;CELL;PREF:+82-10-9876-5432",
                    "TEL;X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,=EC=A7=81=EC=9E=A5 =ED=8C=A9=EC=8A=A4):031-123-4567",
                    "TEL;X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,Direct):031-123-4568",
                    "EMAIL;HOME:junho.park@example.com",
                    "EMAIL;WORK;PREF:jh.park@samsung.example.com",
                    "EMAIL;X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,Old):jh.park@samsung.example.com",
                    "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EC=82=BC=EC=84=B1=EC=A0=84=EC=9E=90 =EC=A3=BC=EC=8B=9D=ED=9A=8C=EC=82=AC;=EC=98=81=EC=97=85=ED=8C=80",
                    "TITLE;ENCODING=QUOTED-PRINTABLE:Direct=E9ur",
                    "X-SAMSUNGADR;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=EC=88=98=EC=9B=90",
                    "END:VCARD",
                ]),
                Want {
                    name: Some("박준호"),
                    company: Some("삼성전자 주식회사"),
                    title: Some("Directéur"),
                    emails: &["jh.park@samsung.example.com", "junho.park@example.com"],
                    phones: &["+821098765432", "+82311234568"],
                    custom: &[("department", "영업팀"), ("fax", "+82311234567"), ("samsungadr", "수원")],
                    ..Want::default()
                },
            ),
            (
                "Korean name in 4.0 with a Latin FN kept as the alternative",
                "KR",
                crlf(&[
                    "BEGIN:VCARD",
                    "VERSION:4.0",
                    "N:남궁;민수;;;",
                    "FN:Minsu Namgung",
                    "EMAIL:minsu@example.kr",
                    "END:VCARD",
                ]),
                Want {
                    name: Some("남궁민수"),
                    emails: &["minsu@example.kr"],
                    custom: &[("name_alt", "Minsu Namgung")],
                    ..Want::default()
                },
            ),
            (
                "organisation card (iOS company contact) and LF line ends, no VERSION",
                "US",
                "BEGIN:VCARD\nN:;;;;\nFN:Acme Inc.\nORG:Acme Inc.;\nX-ABShowAs:COMPANY\nTEL;TYPE=WORK:(415) 555-2671\nLABEL;TYPE=WORK:1 Market St\\nSan Francisco\nEND:VCARD".into(),
                Want {
                    company: Some("Acme Inc."),
                    phones: &["+14155552671"],
                    custom: &[("address", "1 Market St, San Francisco")],
                    ..Want::default()
                },
            ),
            (
                "unknown X- properties kept; invalid phone and e-mail kept raw; text before and after the card",
                "KR",
                "scan me\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lee Jiwoo\r\nTEL:12-34\r\nEMAIL:jiwoo(at)example.com\r\nX-BADGE-ID:EXPO-2024-00172\r\nX-EVENT;TYPE=booth:Seoul Tech Expo\r\nIMPP:xmpp:jiwoo@example.com\r\nEND:VCARD\r\nthanks".into(),
                Want {
                    name: Some("Lee Jiwoo"),
                    custom: &[
                        ("badge_id", "EXPO-2024-00172"),
                        ("event", "Seoul Tech Expo"),
                        ("unverified_email", "jiwoo(at)example.com"),
                        ("unverified_phone", "12-34"),
                    ],
                    unparsed: &["scan me", "thanks", "IMPP: xmpp:jiwoo@example.com"],
                    ..Want::default()
                },
            ),
        ]
    }

    #[test]
    fn capture_vcard_samples() {
        for (label, region, text, want) in cases() {
            let v = Validator::new(region).unwrap();
            let d = parse_qr(&text, &v).unwrap_or_else(|e| panic!("{label}: {e}"));
            check(label, &d, &want);
            assert_sound(&d, &v);
            // The same card with LF line ends reads the same.
            let lf = parse_qr(&text.replace("\r\n", "\n"), &v).unwrap();
            assert_eq!(lf, d, "{label} with LF line ends");
        }
    }

    #[test]
    fn capture_vcard_malformed_inputs_give_clear_errors() {
        let v = kr();
        let cases: Vec<(&str, String, CaptureError)> = vec![
            ("BEGIN without END", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kim\r\nTEL:010-1234-5678\r\n".into(), CaptureError::Unterminated),
            ("END without BEGIN", "VERSION:3.0\nFN:Kim\nEND:VCARD".into(), CaptureError::Malformed { format: "vCard", reason: "END:VCARD without BEGIN:VCARD".into() }),
            ("nested END only", "BEGIN:VCARD\nAGENT:\nBEGIN:VCARD\nFN:Agent\nEND:VCARD\n".into(), CaptureError::Unterminated),
            ("no usable field", "BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;;;\r\nFN:\r\nTITLE:Manager\r\nNOTE:hello\r\nPHOTO;ENCODING=b:AAAA\r\nEND:VCARD\r\n".into(), CaptureError::NoUsableField { format: "vCard" }),
            ("only junk lines", "BEGIN:VCARD\n\u{3000}???\n::::\nno colon here\nEND:VCARD".into(), CaptureError::NoUsableField { format: "vCard" }),
            ("empty card", "BEGIN:VCARD\nEND:VCARD".into(), CaptureError::NoUsableField { format: "vCard" }),
            ("version 1.0", "BEGIN:VCARD\nVERSION:1.0\nFN:Kim\nEND:VCARD".into(), CaptureError::UnsupportedVersion("1.0".into())),
            ("version 5", "BEGIN:VCARD\nVERSION:5.0\nFN:Kim\nEND:VCARD".into(), CaptureError::UnsupportedVersion("5.0".into())),
            ("undecodable charset", "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=EUC-KR;ENCODING=QUOTED-PRINTABLE:=B1=E8;;;;\nEND:VCARD".into(), CaptureError::NoUsableField { format: "vCard" }),
        ];
        for (label, text, want) in cases {
            assert_eq!(parse_qr(&text, &v), Err(want), "{label}");
        }
        let msg = CaptureError::NoUsableField { format: "vCard" }.to_string();
        assert!(
            msg.contains("no name, company, e-mail address, phone number or web address"),
            "{msg}"
        );
    }

    #[test]
    fn capture_vcard_edge_cases_are_read_safely() {
        let v = kr();
        // An undecodable charset is reported, not guessed; the rest of the card still reads.
        let d = parse_qr("BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=EUC-KR;ENCODING=QUOTED-PRINTABLE:=B1=E8;;;;\nTEL:010-1234-5678\nEND:VCARD", &v).unwrap();
        assert_eq!(d.draft.name, None);
        assert!(
            d.unparsed.iter().any(|u| u.contains("N: charset EUC-KR not supported")),
            "{:?}",
            d.unparsed
        );
        assert_eq!(d.draft.phones, vec!["+821012345678"]);

        // A base64 text value is not guessed at either.
        let d = parse_qr(
            "BEGIN:VCARD\nVERSION:3.0\nFN;ENCODING=b:S2lt\nEMAIL:kim@acme.com\nEND:VCARD",
            &v,
        )
        .unwrap();
        assert_eq!(d.draft.name, None);
        assert!(
            d.unparsed.iter().any(|u| u == "FN: base64-encoded value not read"),
            "{:?}",
            d.unparsed
        );

        // Only the first of several cards is read, and the rep is told.
        let two = "BEGIN:VCARD\nVERSION:3.0\nFN:One\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:Two\nEND:VCARD";
        let d = parse_qr(two, &v).unwrap();
        assert_eq!(d.draft.name.as_deref(), Some("One"));
        assert!(d.unparsed.iter().any(|u| u.contains("1 more vCard(s)")), "{:?}", d.unparsed);

        // A 2.1 AGENT embeds a whole vCard: it is skipped, not mixed into the lead.
        let agent = "BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nAGENT:\nBEGIN:VCARD\nVERSION:2.1\nFN:Assistant\nTEL:010-9999-9999\nEND:VCARD\nEND:VCARD";
        let d = parse_qr(agent, &v).unwrap();
        assert_eq!(d.draft.name.as_deref(), Some("Boss"));
        assert!(d.draft.phones.is_empty());
        assert!(d.unparsed.iter().any(|u| u.contains("embedded vCard")), "{:?}", d.unparsed);

        // Lower-case property names, old-Mac CR line ends, a tab fold.
        let d = parse_qr("begin:vcard\rversion:3.0\rfn:Jane\r\t Doe\remail;type=pref:JANE@EXAMPLE.COM\rend:vcard", &v).unwrap();
        assert_eq!(d.draft.name.as_deref(), Some("Jane Doe"));
        assert_eq!(d.draft.emails, vec!["jane@example.com"]);

        // More than ten phones: the extras go to the notes, none is lost.
        let many: String = (0..12).map(|i| format!("TEL:010-2000-{:04}\n", i)).collect();
        let d =
            parse_qr(&format!("BEGIN:VCARD\nVERSION:3.0\nFN:Many\n{many}END:VCARD"), &v).unwrap();
        assert_eq!(d.draft.phones.len(), 10);
        let notes = d.draft.notes.as_deref().unwrap();
        assert!(notes.contains("+821020000010") && notes.contains("+821020000011"), "{notes}");
        assert_sound(&d, &v);
    }
}
