//! MECARD (NTT docomo's contact QR format, written by most QR generators), and two relatives
//! ZXing reads as well: BIZCARD (contacts) and MATMSG (e-mail).
//!
//! `MECARD:N:Kim,Minji;TEL:+821012345678;EMAIL:kim@acme.com;ORG:Acme;;` — fields separated by
//! `;`, ended by `;;`; `\;` `\:` `\,` `\\` escape those characters in values. In `N` a comma
//! separates the family name from the given name.

use super::{Builder, CaptureError, NameParts, PhoneKind, Slot};
use super::{clean, find_unescaped, split_unescaped, strip_ci, unescape};
use crate::validate::Validator;

/// `None` when the text is none of these formats.
pub(super) fn parse(t: &str, v: &Validator) -> Option<Result<Builder, CaptureError>> {
    if let Some(body) = strip_ci(t, "MECARD:") {
        Some(read("MECARD", body, |b, k, val| mecard_field(b, v, k, val)))
    } else if let Some(body) = strip_ci(t, "BIZCARD:") {
        Some(read("BIZCARD", body, |b, k, val| bizcard_field(b, v, k, val)))
    } else {
        strip_ci(t, "MATMSG:").map(|body| read("MATMSG", body, matmsg_field))
    }
}

fn read(
    format: &'static str,
    body: &str,
    mut field: impl FnMut(&mut Builder, &str, &str) -> bool,
) -> Result<Builder, CaptureError> {
    let mut b = Builder::default();
    let mut fields = 0;
    let mut bizcard_name = (String::new(), String::new());
    for item in split_unescaped(body, ';') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some(colon) = find_unescaped(item, ':') else {
            b.unparsed(unescape(item));
            continue;
        };
        let key = item[..colon].trim().to_ascii_uppercase();
        let value = &item[colon + 1..];
        fields += 1;
        // BIZCARD spreads the name over N (given) and X (family); gather both first.
        if format == "BIZCARD" && (key == "N" || key == "X") {
            let slot = if key == "N" { &mut bizcard_name.0 } else { &mut bizcard_name.1 };
            *slot = unescape(value);
            continue;
        }
        if !field(&mut b, &key, value) {
            b.unparsed(format!("{key}: {}", clean(&unescape(value))));
        }
    }
    if fields == 0 {
        return Err(CaptureError::Malformed {
            format,
            reason: format!("no fields after {format}:"),
        });
    }
    let (given, family) = bizcard_name;
    let name = NameParts { family: vec![family], given: vec![given], ..NameParts::default() };
    if let Some(n) = name.compose() {
        b.set(Slot::Name, &n, 1.0);
    }
    if !b.usable() {
        return Err(CaptureError::NoUsableField { format });
    }
    Ok(b)
}

fn mecard_field(b: &mut Builder, v: &Validator, key: &str, raw: &str) -> bool {
    let value = unescape(raw);
    match key {
        "N" => {
            let parts: Vec<String> = split_unescaped(raw, ',').into_iter().map(unescape).collect();
            let name = match parts.as_slice() {
                [family, given @ ..] if !given.is_empty() => NameParts {
                    family: vec![family.clone()],
                    given: given.to_vec(),
                    ..NameParts::default()
                }
                .compose(),
                _ => Some(clean(&value)),
            };
            if let Some(n) = name {
                b.set(Slot::Name, &n, 1.0);
            }
        }
        "SOUND" => b.custom("name_reading", &clean(&value.replace(',', " ")), 1.0),
        "TEL" | "TEL-AV" => b.phone(v, &value, PhoneKind::Voice, 1.0, 100),
        "EMAIL" => b.email(&value, 1.0, 100),
        "NOTE" | "MEMORY" => b.note(value),
        "ADR" => b.custom("address", &address(raw), 1.0),
        "URL" => b.custom("website", &clean(&value), 1.0),
        "NICKNAME" => b.custom("nickname", &clean(&value), 1.0),
        "ORG" => b.set(Slot::Company, &value, 1.0),
        "TITLE" => b.set(Slot::Title, &value, 1.0),
        _ => return false,
    }
    true
}

/// docomo's ADR has seven comma-separated parts like a vCard ADR (PO box, extended, street,
/// city, region, postal code, country); generators usually write one free-text line instead.
fn address(raw: &str) -> String {
    let parts: Vec<String> =
        split_unescaped(raw, ',').into_iter().map(|p| clean(&unescape(p))).collect();
    if parts.len() == 7 {
        let [pobox, ext, street, city, region, postal, country] = &parts[..] else {
            unreachable!()
        };
        let region_postal = clean(&format!("{region} {postal}"));
        [pobox, street, ext, city, &region_postal, country]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        clean(&unescape(raw))
    }
}

fn bizcard_field(b: &mut Builder, v: &Validator, key: &str, raw: &str) -> bool {
    let value = unescape(raw);
    match key {
        "T" => b.set(Slot::Title, &value, 1.0),
        "C" => b.set(Slot::Company, &value, 1.0),
        "A" => b.custom("address", &clean(&value), 1.0),
        "B" => b.phone(v, &value, PhoneKind::Voice, 1.0, 2),
        "M" => b.phone(v, &value, PhoneKind::Mobile, 1.0, 1),
        "F" => b.phone(v, &value, PhoneKind::Fax, 1.0, 100),
        "E" => b.email(&value, 1.0, 100),
        _ => return false,
    }
    true
}

fn matmsg_field(b: &mut Builder, key: &str, raw: &str) -> bool {
    let value = unescape(raw);
    match key {
        "TO" => b.email(&value, 1.0, 100),
        "SUB" => b.note(format!("Subject: {}", clean(&value))),
        "BODY" => b.note(value),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_sound, kr};
    use super::super::{CaptureError, parse_qr};

    struct Want {
        name: Option<&'static str>,
        company: Option<&'static str>,
        title: Option<&'static str>,
        emails: &'static [&'static str],
        phones: &'static [&'static str],
        custom: &'static [(&'static str, &'static str)],
        notes: Option<&'static str>,
    }

    const NONE: Want = Want {
        name: None,
        company: None,
        title: None,
        emails: &[],
        phones: &[],
        custom: &[],
        notes: None,
    };

    #[test]
    fn capture_mecard_samples() {
        let v = kr();
        let cases: &[(&str, &str, Want)] = &[
            (
                "the brief's example",
                "MECARD:N:Kim,Minji;TEL:+82-10-1234-5678;EMAIL:Minji.Kim@Acme.com;ORG:Acme;;",
                Want {
                    name: Some("Minji Kim"),
                    company: Some("Acme"),
                    emails: &["minji.kim@acme.com"],
                    phones: &["+821012345678"],
                    ..NONE
                },
            ),
            (
                "Korean name from a Korean generator, two phones, escaped separators",
                "MECARD:N:김,민지;SOUND:kim,minji;TEL:010-1234-5678;TEL:02-555-1234;EMAIL:minji@acme.co.kr;ORG:에이크미\\; 영업본부;TITLE:과장;NOTE:전시회 부스\\: A-12;;",
                Want {
                    name: Some("김민지"),
                    company: Some("에이크미; 영업본부"),
                    title: Some("과장"),
                    emails: &["minji@acme.co.kr"],
                    phones: &["+821012345678", "+8225551234"],
                    custom: &[("name_reading", "kim minji")],
                    notes: Some("전시회 부스: A-12"),
                },
            ),
            (
                "ZXing's documented MECARD with a free-text address and URL",
                "MECARD:N:Owen,Sean;ADR:76 9th Avenue, 4th Floor, New York, NY 10011;TEL:+12125551212;EMAIL:srowen@example.com;URL:http\\://example.com/sean;NICKNAME:Sean O;BDAY:19700310;;",
                Want {
                    name: Some("Sean Owen"),
                    emails: &["srowen@example.com"],
                    phones: &["+12125551212"],
                    custom: &[
                        ("address", "76 9th Avenue, 4th Floor, New York, NY 10011"),
                        ("nickname", "Sean O"),
                        ("website", "http://example.com/sean"),
                    ],
                    ..NONE
                },
            ),
            (
                "docomo structured address, lower-case prefix, no terminator, name without comma",
                "mecard:N:Minji Kim;ADR:,Suite 4,123 Main St,Springfield,IL,62701,USA;TEL:+1 (415) 555-2671",
                Want {
                    name: Some("Minji Kim"),
                    phones: &["+14155552671"],
                    custom: &[("address", "123 Main St, Suite 4, Springfield, IL 62701, USA")],
                    ..NONE
                },
            ),
            (
                "BIZCARD",
                "BIZCARD:N:Sean;X:Owen;T:Software Engineer;C:Google;A:76 9th Avenue, New York, NY 10011;B:+12125551212;M:+1 415 555 2671;F:+1 212 555 1213;E:srowen@example.com;;",
                Want {
                    name: Some("Sean Owen"),
                    company: Some("Google"),
                    title: Some("Software Engineer"),
                    emails: &["srowen@example.com"],
                    phones: &["+14155552671", "+12125551212"],
                    custom: &[
                        ("address", "76 9th Avenue, New York, NY 10011"),
                        ("fax", "+12125551213"),
                    ],
                    ..NONE
                },
            ),
            (
                "MATMSG e-mail code",
                "MATMSG:TO:Sales@Acme.com;SUB:Demo request;BODY:Please call me;;",
                Want {
                    emails: &["sales@acme.com"],
                    notes: Some("Subject: Demo request\nPlease call me"),
                    ..NONE
                },
            ),
        ];
        for (label, text, w) in cases {
            let d = parse_qr(text, &v).unwrap_or_else(|e| panic!("{label}: {e}"));
            let ctx = format!("{label}: {d:#?}");
            assert_eq!(d.draft.name.as_deref(), w.name, "{ctx}");
            assert_eq!(d.draft.company.as_deref(), w.company, "{ctx}");
            assert_eq!(d.draft.title.as_deref(), w.title, "{ctx}");
            assert_eq!(d.draft.emails, w.emails, "{ctx}");
            assert_eq!(d.draft.phones, w.phones, "{ctx}");
            let custom: Vec<(&str, &str)> =
                d.draft.custom_fields.iter().map(|f| (f.key.as_str(), f.value.as_str())).collect();
            assert_eq!(custom, w.custom, "{ctx}");
            assert_eq!(d.draft.notes.as_deref(), w.notes, "{ctx}");
            assert_sound(&d, &v);
        }
    }

    #[test]
    fn capture_mecard_keeps_unknown_fields_and_rejects_empty_ones() {
        let v = kr();
        let d = parse_qr("MECARD:N:Kim;BDAY:19900101;X-FOO:bar;junk;;", &v).unwrap();
        assert_eq!(d.unparsed, vec!["BDAY: 19900101", "X-FOO: bar", "junk"]);
        assert_eq!(
            parse_qr("MECARD:;;", &v),
            Err(CaptureError::Malformed {
                format: "MECARD",
                reason: "no fields after MECARD:".into()
            })
        );
        assert_eq!(
            parse_qr("MECARD:NOTE:hello;BDAY:19900101;;", &v),
            Err(CaptureError::NoUsableField { format: "MECARD" })
        );
        assert_eq!(
            parse_qr("BIZCARD:T:Engineer;;", &v),
            Err(CaptureError::NoUsableField { format: "BIZCARD" })
        );
        // A phone that does not validate is kept raw and still makes the code usable.
        let d = parse_qr("MECARD:TEL:123;;", &v).unwrap();
        assert_eq!(d.custom("unverified_phone"), Some("123"));
    }
}
