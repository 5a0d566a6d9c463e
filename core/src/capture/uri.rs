//! Single-value codes: a web address (kept as the lead's `website`), a `mailto:` link or a bare
//! e-mail address, and a `tel:` link (RFC 3966).

use super::{Builder, CaptureError, PhoneKind};
use super::{digit_count, percent_decode, preview, strip_ci};
use crate::validate::{self, Validator};

pub(super) fn parse(t: &str, v: &Validator) -> Result<Builder, CaptureError> {
    let mut b = Builder::default();
    if let Some(rest) = strip_ci(t, "tel:") {
        if digit_count(rest) < 3 {
            return Err(CaptureError::Malformed {
                format: "tel: link",
                reason: "no phone number after tel:".into(),
            });
        }
        b.phone(v, t, PhoneKind::Voice, 1.0, 100);
        return Ok(b);
    }
    if let Some(rest) = strip_ci(t, "mailto:") {
        let (to, query) = rest.split_once('?').unwrap_or((rest, ""));
        let addresses: Vec<String> = to
            .split(',')
            .map(|a| percent_decode(a).trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        let Some(first) = addresses.first() else {
            return Err(CaptureError::Malformed {
                format: "mailto: link",
                reason: "no e-mail address after mailto:".into(),
            });
        };
        if addresses.iter().all(|a| validate::email(a).is_err()) {
            return Err(CaptureError::InvalidEmail(first.clone()));
        }
        for a in &addresses {
            b.email(a, 1.0, 100);
        }
        if !query.is_empty() {
            b.unparsed(percent_decode(query));
        }
        return Ok(b);
    }
    let single = !t.contains(char::is_whitespace);
    let lower = t.to_ascii_lowercase();
    if single
        && (lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www."))
    {
        let host = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r);
        let host = host.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() {
            return Err(CaptureError::Malformed {
                format: "web address",
                reason: "no host after the scheme".into(),
            });
        }
        b.custom("website", t, 1.0);
        return Ok(b);
    }
    if single && t.contains('@') && !t.contains(':') {
        validate::email(t).map_err(|_| CaptureError::InvalidEmail(t.to_string()))?;
        b.email(t, 1.0, 100);
        return Ok(b);
    }
    Err(CaptureError::Unrecognised { start: preview(t, 40) })
}
