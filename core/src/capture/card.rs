//! Business-card text as a phone's OCR returns it: one line per printed line, in Korean or
//! English, with labels ("Tel", "M.", "휴대폰", "팩스/Fax") in front of numbers.
//!
//! Two passes. The first cuts each line into segments (at `|`, `·`, tabs and " / ") and takes out
//! what has a recognisable shape: e-mail addresses, web addresses and phone numbers with their
//! labels. The second classifies what is left of each segment as a company, name, job title,
//! department or address from markers ("주식회사", "Inc.", "과장", "Manager", "테헤란로 123",
//! "Suite 400"), Korean surnames, and the e-mail address (its domain names the company, its
//! local part often the person). Each value gets a confidence: about 0.9 for a labelled or
//! clearly marked value, 0.6–0.8 for a value recognised by its shape, 0.3–0.4 for a guess.

use super::{Builder, MAX_INPUT, PhoneKind, Slot};
use super::{clean, digit_count, is_cjk, is_hangul};
use crate::validate::{self, Validator};

pub(super) fn parse(text: &str, v: &Validator) -> Builder {
    let mut b = Builder::default();
    let mut text = text;
    if text.len() > MAX_INPUT {
        let mut cut = MAX_INPUT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text = &text[..cut];
        b.unparsed(format!("only the first {MAX_INPUT} bytes of the text were read"));
    }

    // Pass 1: shapes.
    let mut segs: Vec<(usize, String)> = Vec::new();
    let mut found: Vec<Found> = Vec::new();
    let normal: String = text.chars().map(normal_char).collect();
    for (line, l) in normal.lines().enumerate() {
        for seg in segments(l) {
            let rest = scan(&seg, v, &mut found);
            if !rest.is_empty() {
                segs.push((line, rest));
            }
        }
    }
    let mut ctx = Ctx::default();
    for f in &found {
        match f {
            Found::Email(e) => {
                if let Some((local, domain)) = e.to_lowercase().rsplit_once('@') {
                    ctx.locals.push(alnum(local));
                    ctx.domains.push(domain_label(domain));
                }
            }
            Found::Web(w, _) => ctx.domains.push(domain_label(&host_of(w))),
            Found::Phone { .. } => {}
        }
    }
    ctx.domains.retain(|d| d.len() >= 3);

    for f in found {
        match f {
            Found::Email(e) => match validate::email(&e) {
                Ok(e) => b.email(&e, 0.95, 100),
                Err(_) => b.custom("unverified_email", &e, 0.3),
            },
            Found::Web(w, c) => b.custom("website", &w, c),
            Found::Phone { number, ext, label, valid } => {
                let raw = match ext {
                    Some(x) => format!("{number} ext {x}"),
                    None => number,
                };
                let conf = if valid { 0.9 } else { 0.3 };
                match label {
                    Some(Label::Fax) => {
                        b.phone(v, &raw, PhoneKind::Fax, if valid { 0.9 } else { 0.4 }, 100)
                    }
                    Some(Label::Mobile) => b.phone(v, &raw, PhoneKind::Mobile, conf, 1),
                    Some(_) => b.phone(v, &raw, PhoneKind::Voice, conf, 2),
                    None => {
                        let mobile = v.phone(&raw).is_ok_and(|n| n.starts_with("+8210"));
                        let (c, rank) = if mobile { (0.8, 1) } else { (0.7, 3) };
                        b.phone(
                            v,
                            &raw,
                            if mobile { PhoneKind::Mobile } else { PhoneKind::Voice },
                            c,
                            rank,
                        );
                    }
                }
            }
        }
    }

    // Pass 2: what the rest of each segment is.
    let mut names: Vec<(String, f32)> = Vec::new();
    let mut companies: Vec<(String, f32)> = Vec::new();
    let mut titles: Vec<(String, f32)> = Vec::new();
    let mut addresses: Vec<(String, f32, usize)> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (line, t) in segs {
        let near_address = addresses.last().is_some_and(|a| line <= a.2 + 1);
        let class = match classify(&t, &ctx) {
            Class::Unknown(t) if near_address && (has_digit(&t) || is_place(&t)) => {
                Class::Address(t, 0.7)
            }
            c => c,
        };
        match class {
            Class::Person { name, title, alt } => {
                names.extend(name);
                names.extend(alt);
                titles.extend(title);
            }
            Class::Company(c, conf) => companies.push((c, conf)),
            Class::Title(c, conf) => titles.push((c, conf)),
            Class::Department(d) => b.custom("department", &d, 0.7),
            Class::Address(a, conf) => match addresses.last_mut() {
                Some(last) if near_address => {
                    last.0 = format!("{}, {a}", last.0);
                    last.1 = last.1.max(conf);
                    last.2 = line;
                }
                _ => addresses.push((a, conf, line)),
            },
            Class::Unknown(t) => unknown.push(t),
        }
    }

    for (name, conf) in &mut names {
        if !name.chars().any(is_hangul) && matches_local(name, &ctx.locals) {
            *conf = conf.max(0.85);
        }
    }
    for (c, conf) in &mut companies {
        if domain_match(c, &ctx.domains) {
            *conf = conf.max(0.85);
        }
    }
    if names.is_empty()
        && let Some(i) = unknown.iter().position(|u| loose_name(u))
    {
        names.push((unknown.remove(i), 0.4));
    }
    pick(&mut b, Slot::Name, names);
    pick(&mut b, Slot::Company, companies);
    pick(&mut b, Slot::Title, titles);
    if !b.has(Slot::Company)
        && let Some(d) = ctx.domains.iter().find(|d| !FREE_MAIL.contains(&d.as_str()))
    {
        let mut guess: Vec<char> = d.chars().collect();
        guess[0] = guess[0].to_ascii_uppercase();
        b.set(Slot::Company, &guess.into_iter().collect::<String>(), 0.3);
    }
    for (a, conf, _) in addresses {
        b.custom("address", &a, conf);
    }
    for u in unknown {
        b.unparsed(u);
    }
    b
}

/// The most confident candidate fills the field (the first on a tie); the best one in the
/// other script (a bilingual card) becomes `<field>_alt`; the rest are listed as unparsed.
fn pick(b: &mut Builder, slot: Slot, mut cands: Vec<(String, f32)>) {
    if cands.is_empty() {
        return;
    }
    let best =
        (0..cands.len()).fold(0, |best, i| if cands[i].1 > cands[best].1 { i } else { best });
    let (value, conf) = cands.remove(best);
    let script = |s: &str| s.chars().any(is_cjk);
    let alt = (0..cands.len()).filter(|&i| script(&cands[i].0) != script(&value)).fold(
        None,
        |acc: Option<usize>, i| match acc {
            Some(a) if cands[a].1 >= cands[i].1 => Some(a),
            _ => Some(i),
        },
    );
    let key = match slot {
        Slot::Name => "name_alt",
        Slot::Company => "company_alt",
        Slot::Title => "title_alt",
    };
    let alt = alt.map(|i| cands.remove(i));
    b.set(slot, &value, conf);
    if let Some((a, c)) = alt {
        b.custom(key, &a, c);
    }
    for (rest, _) in cands {
        b.unparsed(rest);
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 1.

#[derive(Debug)]
enum Found {
    Email(String),
    Web(String, f32),
    Phone { number: String, ext: Option<String>, label: Option<Label>, valid: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    Phone,
    Mobile,
    Fax,
    Email,
    Web,
    Address,
}

const LABELS: &[(&str, Label)] = &[
    ("fax", Label::Fax),
    ("f", Label::Fax),
    ("fx", Label::Fax),
    ("팩스", Label::Fax),
    ("전송", Label::Fax),
    ("facsimile", Label::Fax),
    ("mobile", Label::Mobile),
    ("mob", Label::Mobile),
    ("m", Label::Mobile),
    ("cell", Label::Mobile),
    ("c", Label::Mobile),
    ("cellphone", Label::Mobile),
    ("hp", Label::Mobile),
    ("h.p", Label::Mobile),
    ("h/p", Label::Mobile),
    ("mp", Label::Mobile),
    ("m.p", Label::Mobile),
    ("handphone", Label::Mobile),
    ("휴대폰", Label::Mobile),
    ("휴대전화", Label::Mobile),
    ("핸드폰", Label::Mobile),
    ("모바일", Label::Mobile),
    ("휴대", Label::Mobile),
    ("mobile phone", Label::Mobile),
    ("tel", Label::Phone),
    ("t", Label::Phone),
    ("phone", Label::Phone),
    ("ph", Label::Phone),
    ("p", Label::Phone),
    ("o", Label::Phone),
    ("office", Label::Phone),
    ("direct", Label::Phone),
    ("d", Label::Phone),
    ("dir", Label::Phone),
    ("telephone", Label::Phone),
    ("main", Label::Phone),
    ("전화", Label::Phone),
    ("대표", Label::Phone),
    ("대표전화", Label::Phone),
    ("직통", Label::Phone),
    ("사무실", Label::Phone),
    ("전화번호", Label::Phone),
    ("e", Label::Email),
    ("email", Label::Email),
    ("e-mail", Label::Email),
    ("mail", Label::Email),
    ("이메일", Label::Email),
    ("메일", Label::Email),
    ("전자우편", Label::Email),
    ("w", Label::Web),
    ("web", Label::Web),
    ("website", Label::Web),
    ("homepage", Label::Web),
    ("url", Label::Web),
    ("site", Label::Web),
    ("홈페이지", Label::Web),
    ("웹", Label::Web),
    ("a", Label::Address),
    ("addr", Label::Address),
    ("address", Label::Address),
    ("add", Label::Address),
    ("주소", Label::Address),
    ("adr", Label::Address),
];

const LABEL_PUNCT: &[char] = &[':', '.', ')', '(', '-', '=', '#', '>', '[', ']', ','];

fn lookup(w: &str) -> Option<Label> {
    LABELS.iter().find(|(l, _)| *l == w).map(|(_, k)| *k)
}

/// A label word ("Tel.", "H.P", "팩스/Fax", "E-mail:"), or None.
fn label_word(w: &str) -> Option<Label> {
    let w = w.trim_matches(|c: char| LABEL_PUNCT.contains(&c)).to_lowercase();
    if w.is_empty() {
        return None;
    }
    if let Some(l) = lookup(&w) {
        return Some(l);
    }
    let kinds: Vec<Label> =
        w.split(['/', '.', '-']).filter(|p| !p.is_empty()).map(lookup).collect::<Option<_>>()?;
    match kinds.as_slice() {
        [] | [_] => None,
        [first, rest @ ..] if rest.iter().all(|k| k == first) => Some(*first),
        // "T/F 02-…": one number for both.
        ks if ks.iter().all(|k| matches!(k, Label::Phone | Label::Fax)) => Some(Label::Phone),
        ks => ks.iter().copied().max_by_key(|k| strength(*k)),
    }
}

fn strength(k: Label) -> u8 {
    match k {
        Label::Fax => 3,
        Label::Mobile => 2,
        Label::Phone => 1,
        _ => 0,
    }
}

/// Full-width forms (common in Korean OCR) to ASCII, dashes to '-', controls to spaces.
fn normal_char(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\n' | '\t' => c,
        c if c.is_control() => ' ',
        c => c,
    }
}

fn segments(line: &str) -> Vec<String> {
    line.split(['|', '\t', '•', '·', '∙'])
        .flat_map(|p| p.split(" / "))
        .flat_map(|p| p.split(" ㅣ "))
        .map(clean)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Takes e-mail addresses, web addresses and phone numbers (with their labels) out of a segment
/// and returns what is left.
fn scan(seg: &str, v: &Validator, found: &mut Vec<Found>) -> String {
    let mut kept: Vec<String> = Vec::new();
    let drop_labels = |kept: &mut Vec<String>, kind: Label| {
        while kept.last().is_some_and(|w| label_word(w) == Some(kind)) {
            kept.pop();
        }
    };
    for tok in seg.split_whitespace() {
        if tok.contains('@') {
            let (emails, pieces) = emails_in(tok);
            if !emails.is_empty() {
                drop_labels(&mut kept, Label::Email);
                for (i, p) in pieces.iter().enumerate() {
                    let p =
                        p.trim_matches(|c: char| LABEL_PUNCT.contains(&c) || c == ';' || c == '/');
                    let email_label = i == 0 && label_word(p) == Some(Label::Email);
                    if !p.is_empty() && !email_label {
                        kept.push(p.to_string());
                    }
                }
                found.extend(emails.into_iter().map(Found::Email));
                continue;
            }
        }
        if let Some((url, conf)) = web_in(tok) {
            drop_labels(&mut kept, Label::Web);
            found.push(Found::Web(url, conf));
            continue;
        }
        kept.push(tok.to_string());
    }
    let rest = kept.join(" ");

    let mut remainder = String::new();
    let mut pos = 0;
    for h in phone_hits(&rest, v) {
        let labelled = matches!(h.label, Some(Label::Phone | Label::Mobile | Label::Fax));
        // A labelled number is kept even when it does not validate; an unlabelled one only when
        // it validates and is not something else.
        let keep = if labelled {
            true
        } else {
            h.valid && digit_count(&h.number) >= 7 && !not_a_phone(&rest, &h)
        };
        if !keep || h.start < pos {
            continue;
        }
        let cut = if labelled { h.label_start.max(pos) } else { h.start };
        remainder.push_str(&rest[pos..cut]);
        remainder.push(' ');
        pos = h.end;
        found.push(Found::Phone {
            number: h.number,
            ext: h.ext,
            label: h.label.filter(|_| labelled),
            valid: h.valid,
        });
    }
    remainder.push_str(&rest[pos..]);

    let r = clean(&remainder);
    let r = r.trim_matches(|c: char| c.is_whitespace() || ",;:|/-".contains(c));
    let only_labels = r
        .split_whitespace()
        .all(|w| label_word(w).is_some() || !w.chars().any(char::is_alphanumeric));
    if only_labels { String::new() } else { r.to_string() }
}

/// Numbers that validate as phones but are something else: a Korean business registration
/// number (123-45-67890) or a number after "No.", "Reg.", "사업자등록번호", "계좌".
fn not_a_phone(s: &str, h: &Hit) -> bool {
    let groups: Vec<usize> = h.number.split('-').map(|g| g.trim().len()).collect();
    if groups == [3, 2, 5] {
        return true;
    }
    let before =
        s[..h.start].trim_end_matches(|c: char| c.is_whitespace() || LABEL_PUNCT.contains(&c));
    let word = before[last_word(before)..].trim_matches(|c: char| LABEL_PUNCT.contains(&c));
    [
        "no",
        "reg",
        "registration",
        "id",
        "vat",
        "tax",
        "account",
        "acct",
        "zip",
        "사업자등록번호",
        "사업자번호",
        "등록번호",
        "계좌",
        "계좌번호",
        "우편번호",
    ]
    .contains(&word.to_lowercase().as_str())
}

fn emails_in(tok: &str) -> (Vec<String>, Vec<String>) {
    let cs: Vec<(usize, char)> = tok.char_indices().collect();
    let byte = |k: usize| if k < cs.len() { cs[k].0 } else { tok.len() };
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let (mut emails, mut pieces) = (Vec::new(), Vec::new());
    let (mut last, mut i) = (0, 0);
    while i < cs.len() {
        if cs[i].1 != '@' {
            i += 1;
            continue;
        }
        let mut j = i;
        while j > 0 && local(cs[j - 1].1) && cs[j - 1].0 >= last {
            j -= 1;
        }
        while j < i && matches!(cs[j].1, '.' | '\'') {
            j += 1;
        }
        let mut k = i + 1;
        while k < cs.len() && domain(cs[k].1) {
            k += 1;
        }
        while k > i + 1 && matches!(cs[k - 1].1, '.' | '-') {
            k -= 1;
        }
        if j == i || k == i + 1 {
            i += 1;
            continue;
        }
        pieces.push(tok[last..byte(j)].to_string());
        emails.push(tok[byte(j)..byte(k)].to_string());
        last = byte(k);
        i = k;
    }
    pieces.push(tok[last..].to_string());
    (emails, pieces)
}

const TLDS: &[&str] = &[
    "com", "net", "org", "io", "ai", "co", "kr", "jp", "cn", "us", "uk", "de", "fr", "biz", "info",
    "dev", "app", "me", "tv", "gov", "edu", "ca", "au", "sg", "in", "eu", "tech", "store", "shop",
    "xyz", "asia", "global", "travel",
];

/// A web address token: "https://…", "www.…" (0.9) or a bare domain with a common TLD (0.75).
fn web_in(tok: &str) -> Option<(String, f32)> {
    let t = tok.trim_matches(|c: char| "()<>[]{},;\"'".contains(c)).trim_end_matches(['.', ':']);
    let lower = t.to_ascii_lowercase();
    if let Some(i) = ["https://", "http://", "www."].iter().filter_map(|p| lower.find(p)).min() {
        let url = &t[i..];
        let host = host_of(url);
        return (host.contains('.') && host.len() > 4).then(|| (url.to_string(), 0.9));
    }
    if lower.contains('@') || lower.contains("..") {
        return None;
    }
    let host = lower.split('/').next()?;
    let labels: Vec<&str> = host.split('.').collect();
    let ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && TLDS.contains(labels.last()?)
        && labels[0].len() >= 2
        && !labels[0].chars().all(|c| c.is_ascii_digit());
    ok.then(|| (t.to_string(), 0.75))
}

fn host_of(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let rest = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r);
    rest.split(['/', '?', '#', ':']).next().unwrap_or("").trim_start_matches("www.").to_string()
}

/// The name a domain is registered under: "acme" for mail.acme.co.kr.
fn domain_label(domain: &str) -> String {
    let labels: Vec<&str> =
        domain.trim_start_matches("www.").split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    let second_level =
        n >= 3 && ["co", "or", "ne", "ac", "go", "com", "org", "net"].contains(&labels[n - 2]);
    let i = if second_level { n.saturating_sub(3) } else { n.saturating_sub(2) };
    labels.get(i).map(|s| s.to_string()).unwrap_or_default()
}

struct Hit {
    start: usize,
    end: usize,
    number: String,
    ext: Option<String>,
    label: Option<Label>,
    label_start: usize,
    valid: bool,
}

/// Runs of digits and phone punctuation with at least 3 digits, each with the label before it
/// and an extension after it. A run holding several numbers ("02-555-1234 010-1234-5678") is
/// split where the pieces validate.
fn phone_hits(s: &str, v: &Validator) -> Vec<Hit> {
    let cs: Vec<(usize, char)> = s.char_indices().collect();
    let byte = |k: usize| if k < cs.len() { cs[k].0 } else { s.len() };
    let mut hits = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i].1;
        let next_digit = cs.get(i + 1).is_some_and(|(_, d)| d.is_ascii_digit());
        let glued = i > 0 && cs[i - 1].1.is_ascii_alphanumeric();
        if glued || !(c.is_ascii_digit() || (matches!(c, '+' | '(') && next_digit)) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < cs.len()
            && (cs[j].1.is_ascii_digit() || matches!(cs[j].1, ' ' | '+' | '-' | '.' | '(' | ')'))
        {
            j += 1;
        }
        let mut k = j;
        while k > i && !cs[k - 1].1.is_ascii_digit() {
            k -= 1;
        }
        let (a, b) = (byte(i), byte(k));
        let digits = digit_count(&s[a..b]);
        if (3..=30).contains(&digits) {
            for (ra, rb, valid) in split_run(&s[a..b], v) {
                let (start, end) = (a + ra, a + rb);
                let (ext, end) = ext_after(s, end).map_or((None, end), |(x, e)| (Some(x), e));
                let (label_start, label) =
                    label_before(s, start).map_or((start, None), |(ls, l)| (ls, Some(l)));
                hits.push(Hit {
                    start,
                    end,
                    number: fix_run(&s[start..a + rb]),
                    ext,
                    label,
                    label_start,
                    valid,
                });
            }
        }
        i = j.max(i + 1);
    }
    hits
}

/// "+82 (0)2 …": the national trunk 0 does not belong after a country code.
fn fix_run(run: &str) -> String {
    if run.trim_start().starts_with('+') { run.replace("(0)", "") } else { run.to_string() }
}

fn split_run(run: &str, v: &Validator) -> Vec<(usize, usize, bool)> {
    let whole = vec![(0, run.len(), false)];
    if digit_count(run) >= 7 && v.phone(&fix_run(run)).is_ok() {
        return vec![(0, run.len(), true)];
    }
    let mut chunks: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in run.char_indices().chain([(run.len(), ' ')]) {
        match (c == ' ', start) {
            (true, Some(s)) => {
                chunks.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if chunks.len() < 2 || chunks.len() > 6 {
        return whole;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < chunks.len() {
        let mut next = i + 1;
        for j in i..chunks.len() {
            let cand = &run[chunks[i].0..chunks[j].1];
            let d = digit_count(cand);
            if d > 15 {
                break;
            }
            if d >= 7 && v.phone(&fix_run(cand)).is_ok() {
                out.push((chunks[i].0, chunks[j].1, true));
                next = j + 1;
                break;
            }
        }
        i = next;
    }
    if out.is_empty() { whole } else { out }
}

fn ext_after(s: &str, end: usize) -> Option<(String, usize)> {
    let rest = &s[end..];
    let t = rest.trim_start_matches([' ', '(', ',']);
    let lower = t.to_ascii_lowercase();
    let marker = ["extension", "ext.", "ext", "내선", "x", "#"]
        .into_iter()
        .find(|m| lower.starts_with(m))?;
    let after = t[marker.len()..].trim_start_matches([' ', '.', ':']);
    let digits: String = after.chars().take_while(char::is_ascii_digit).take(6).collect();
    if digits.is_empty() {
        return None;
    }
    let mut stop = end + (rest.len() - after.len()) + digits.len();
    if s[stop..].starts_with(')') {
        stop += 1;
    }
    Some((digits, stop))
}

/// Where the last word of `s` starts, looking back at most 32 characters (labels are short, and
/// a long line without spaces must not be scanned again for every number in it).
fn last_word(s: &str) -> usize {
    s.char_indices().rev().take(32).find(|(_, c)| c.is_whitespace()).map_or_else(
        || s.char_indices().rev().nth(31).map_or(0, |(i, _)| i),
        |(i, c)| i + c.len_utf8(),
    )
}

/// The label words right before byte `end` ("Office Tel", "팩스/Fax:"), with where they start.
fn label_before(s: &str, end: usize) -> Option<(usize, Label)> {
    let mut end = end;
    let mut found: Option<(usize, Label)> = None;
    for _ in 0..3 {
        let head =
            s[..end].trim_end_matches(|c: char| c.is_whitespace() || LABEL_PUNCT.contains(&c));
        if head.is_empty() {
            break;
        }
        let start = last_word(head);
        let Some(kind) = label_word(&head[start..]) else { break };
        found = Some(match found {
            Some((_, k)) if strength(k) >= strength(kind) => (start, k),
            _ => (start, kind),
        });
        end = start;
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Pass 2.

#[derive(Default)]
struct Ctx {
    /// E-mail local parts, letters and digits only.
    locals: Vec<String>,
    /// Registered domain names of the e-mail and web addresses ("acme").
    domains: Vec<String>,
}

#[derive(Debug)]
enum Class {
    Person { name: Option<(String, f32)>, title: Option<(String, f32)>, alt: Option<(String, f32)> },
    Company(String, f32),
    Title(String, f32),
    Department(String),
    Address(String, f32),
    Unknown(String),
}

fn classify(t: &str, ctx: &Ctx) -> Class {
    if let Some(c) = labelled(t) {
        return c;
    }
    if strong_company(t) {
        return Class::Company(t.into(), 0.9);
    }
    if korean_address(t) || english_address(t) {
        return Class::Address(t.into(), 0.8);
    }
    if let Some(p) = korean_person(t) {
        return p;
    }
    if let Some(p) = comma_person(t) {
        return p;
    }
    if is_title(t) {
        return Class::Title(t.into(), 0.8);
    }
    if is_department(t) {
        return Class::Department(t.into());
    }
    if weak_company(t) {
        return Class::Company(t.into(), 0.7);
    }
    if !matches_local(t, &ctx.locals) && domain_match(t, &ctx.domains) {
        return Class::Company(t.into(), 0.8);
    }
    if let Some(n) = latin_name(t) {
        return Class::Person { name: Some((n, 0.6)), title: None, alt: None };
    }
    Class::Unknown(t.into())
}

/// "Address: …", "주소 …", "Company: …", "성명: …", "직위: …".
fn labelled(t: &str) -> Option<Class> {
    let (head, rest) = t.split_once(|c: char| c.is_whitespace() || c == ':')?;
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ':').trim();
    if rest.is_empty() {
        return None;
    }
    let head = head.trim_end_matches(['.', ':']).to_lowercase();
    let class = match head.as_str() {
        "address" | "addr" | "add" | "주소" => Class::Address(rest.into(), 0.9),
        "a" if has_digit(rest) && t[1..].starts_with(['.', ':']) => {
            Class::Address(rest.into(), 0.9)
        }
        "company" | "회사" | "회사명" | "상호" => Class::Company(rest.into(), 0.9),
        "name" | "이름" | "성명" => {
            Class::Person { name: Some((rest.into(), 0.9)), title: None, alt: None }
        }
        "title" | "position" | "직함" | "직위" | "직책" => Class::Title(rest.into(), 0.9),
        "dept" | "department" | "부서" => Class::Department(rest.into()),
        _ => return None,
    };
    Some(class)
}

fn has_digit(t: &str) -> bool {
    t.chars().any(|c| c.is_ascii_digit())
}

fn words(t: &str) -> Vec<String> {
    t.split(|c: char| !c.is_alphanumeric() && !matches!(c, '-' | '&' | '\''))
        .map(|w| w.trim_matches(['-', '\'']).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

fn alnum(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

// Korean.

const KO_SURNAMES: &str = "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형계피두감음빈동온호범좌팽승간상시갈단견당화창옹순빙묵";
const KO_COMPOUND: &[&str] = &["남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방"];
const KO_TITLES: &[&str] = &[
    "대표",
    "대표이사",
    "사장",
    "부사장",
    "회장",
    "부회장",
    "전무",
    "상무",
    "이사",
    "전무이사",
    "상무이사",
    "감사",
    "고문",
    "부장",
    "차장",
    "과장",
    "대리",
    "주임",
    "사원",
    "팀장",
    "실장",
    "본부장",
    "센터장",
    "소장",
    "원장",
    "국장",
    "지점장",
    "점장",
    "그룹장",
    "파트장",
    "연구원",
    "선임연구원",
    "책임연구원",
    "수석연구원",
    "주임연구원",
    "전임연구원",
    "책임",
    "선임",
    "수석",
    "매니저",
    "프로",
    "엔지니어",
    "디자이너",
    "개발자",
    "컨설턴트",
    "위원",
    "교수",
    "박사",
    "변호사",
    "세무사",
    "회계사",
    "변리사",
    "파트너",
    "리더",
    "팀원",
    "인턴",
    "대표원장",
    "이사장",
    "총괄",
    "책임매니저",
    "선임매니저",
    "수석매니저",
];
const KO_DEPT_SUFFIXES: &[&str] = &[
    "팀",
    "본부",
    "사업부",
    "부문",
    "실",
    "센터",
    "연구소",
    "연구실",
    "지사",
    "지점",
    "사업단",
    "파트",
    "부서",
    "담당",
];
const KO_DEPT_WORDS: &[&str] = &[
    "영업",
    "마케팅",
    "기획",
    "개발",
    "인사",
    "총무",
    "재무",
    "회계",
    "구매",
    "연구",
    "디자인",
    "홍보",
    "전략",
    "기술",
    "경영지원",
    "해외영업",
    "국내영업",
    "품질",
    "생산",
    "고객지원",
    "사업개발",
];
const KO_COMPANY_STRONG: &[&str] = &[
    "(주)",
    "㈜",
    "주식회사",
    "(유)",
    "유한회사",
    "(사)",
    "사단법인",
    "재단법인",
    "(재)",
    "합자회사",
    "유한책임회사",
    "협동조합",
];
const KO_COMPANY_SUFFIXES: &[&str] = &[
    "전자",
    "그룹",
    "은행",
    "증권",
    "보험",
    "건설",
    "물산",
    "산업",
    "화학",
    "제약",
    "통신",
    "코리아",
    "테크",
    "소프트",
    "솔루션",
    "솔루션즈",
    "시스템",
    "시스템즈",
    "네트웍스",
    "랩스",
    "컴퍼니",
    "엔터테인먼트",
    "홀딩스",
    "바이오",
    "에너지",
    "모터스",
    "자동차",
    "카드",
    "캐피탈",
    "생명",
    "화재",
    "중공업",
    "상사",
    "무역",
    "닷컴",
    "미디어",
    "벤처스",
    "파트너스",
    "인터내셔널",
    "글로벌",
    "컨설팅",
    "로지스틱스",
    "병원",
    "의원",
    "대학교",
    "재단",
    "협회",
];
const KO_NOT_NAMES: &[&str] = &[
    "주소",
    "전화",
    "팩스",
    "휴대폰",
    "이메일",
    "홈페이지",
    "명함",
    "본사",
    "공장",
    "서울",
    "부산",
    "대구",
    "인천",
    "광주",
    "대전",
    "울산",
    "세종",
    "제주",
    "대한민국",
    "한국",
    "고객",
    "사업",
    "지원",
    "정보",
    "사무실",
    "직통",
    "대표번호",
    "본점",
    "지사",
];
const KO_PROVINCES: &[&str] = &[
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원", "충북", "충남",
    "충청", "전북", "전남", "전라", "경북", "경남", "경상", "제주",
];

fn syllables(w: &str) -> Option<Vec<char>> {
    let cs: Vec<char> = w.chars().collect();
    cs.iter().all(|c| ('\u{ac00}'..='\u{d7a3}').contains(c)).then_some(cs)
}

fn ko_title(w: &str) -> bool {
    KO_TITLES.contains(&w)
        || (syllables(w).is_some_and(|s| (2..=5).contains(&s.len()))
            && (w.ends_with("연구원")
                || w.ends_with("매니저")
                || w.ends_with("이사")
                || (w.ends_with('장') && !ko_address_unit(w))))
}

fn ko_dept(w: &str) -> bool {
    KO_DEPT_WORDS.contains(&w)
        || (syllables(w).is_some_and(|s| s.len() >= 2)
            && KO_DEPT_SUFFIXES.iter().any(|s| w.ends_with(s))
            && !KO_NOT_NAMES.contains(&w))
}

fn ko_company_word(w: &str) -> bool {
    syllables(w).is_some_and(|s| s.len() >= 3) && KO_COMPANY_SUFFIXES.iter().any(|s| w.ends_with(s))
}

/// A Korean personal name: 2–4 syllables starting with a common surname (or a two-syllable
/// one), with its confidence.
fn ko_name(w: &str) -> Option<f32> {
    let s = syllables(w)?;
    if !(2..=4).contains(&s.len())
        || ko_title(w)
        || ko_dept(w)
        || ko_company_word(w)
        || KO_NOT_NAMES.contains(&w)
    {
        return None;
    }
    if s.len() >= 3 && KO_COMPOUND.iter().any(|c| w.starts_with(c)) {
        return Some(0.8);
    }
    KO_SURNAMES.contains(s[0]).then_some(if s.len() == 3 { 0.85 } else { 0.7 })
}

/// A line with a Korean name, optionally with a title ("김민지 과장", "대표이사 홍길동",
/// "김 민 지 과장") or the name in Latin letters ("김민지 Minji Kim").
fn korean_person(t: &str) -> Option<Class> {
    let toks: Vec<&str> = t
        .split_whitespace()
        .map(|w| w.trim_matches([',', '.']))
        .filter(|w| !w.is_empty())
        .collect();
    let mut name: Option<(String, f32)> = None;
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if name.is_none() {
            if let Some(c) = ko_name(toks[i]) {
                name = Some((toks[i].to_string(), c));
                i += 1;
                continue;
            }
            // Letter-spaced names: "김 민 지".
            let run =
                toks[i..].iter().take_while(|w| syllables(w).is_some_and(|s| s.len() == 1)).count();
            if (2..=4).contains(&run)
                && toks[i].chars().next().is_some_and(|c| KO_SURNAMES.contains(c))
            {
                name = Some((toks[i..i + run].concat(), 0.75));
                i += run;
                continue;
            }
        }
        rest.push(toks[i]);
        i += 1;
    }
    let (name, conf) = name?;
    if rest.is_empty() {
        return Some(Class::Person { name: Some((name, conf)), title: None, alt: None });
    }
    if rest.iter().all(|w| ko_title(w) || ko_dept(w) || en_title_word(w))
        && rest.iter().any(|w| ko_title(w) || en_title_word(w))
    {
        let title = rest.join(" ");
        return Some(Class::Person {
            name: Some((name, (conf + 0.05).min(0.9))),
            title: Some((title, 0.85)),
            alt: None,
        });
    }
    let latin = latin_name(&rest.join(" "))?;
    Some(Class::Person { name: Some((name, conf)), title: None, alt: Some((latin, 0.6)) })
}

fn ko_address_unit(w: &str) -> bool {
    let cs: Vec<char> = w.chars().collect();
    cs.len() >= 2
        && cs.iter().any(|c| is_hangul(*c))
        && cs.iter().all(|c| is_hangul(*c) || c.is_ascii_digit() || *c == '-')
        && matches!(
            cs.last(),
            Some('시' | '도' | '구' | '군' | '동' | '읍' | '면' | '리' | '로' | '길' | '가')
        )
}

fn korean_address(t: &str) -> bool {
    if !t.chars().any(is_hangul) {
        return false;
    }
    let toks: Vec<&str> = t.split_whitespace().map(|w| w.trim_matches([',', '(', ')'])).collect();
    let province = toks.iter().any(|w| {
        KO_PROVINCES.iter().any(|p| w.starts_with(p))
            && (KO_PROVINCES.contains(w) || w.ends_with('시') || w.ends_with('도'))
    });
    let units =
        toks.iter().filter(|w| ko_address_unit(w) && !ko_title(w) && ko_name(w).is_none()).count();
    let building = toks
        .iter()
        .any(|w| has_digit(w) && ["층", "호", "번지", "번길", "동"].iter().any(|s| w.ends_with(s)));
    let digit = has_digit(t);
    (province && (units >= 1 || digit))
        || (units >= 2 && (digit || units >= 3))
        || (units >= 1 && digit)
        || building
}

// English.

const EN_TITLES: &[&str] = &[
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "cio",
    "cpo",
    "cso",
    "vp",
    "svp",
    "evp",
    "avp",
    "president",
    "vice",
    "director",
    "manager",
    "engineer",
    "developer",
    "designer",
    "head",
    "lead",
    "leader",
    "senior",
    "sr",
    "junior",
    "associate",
    "consultant",
    "representative",
    "rep",
    "executive",
    "officer",
    "partner",
    "founder",
    "co-founder",
    "cofounder",
    "specialist",
    "analyst",
    "architect",
    "chief",
    "coordinator",
    "administrator",
    "professor",
    "researcher",
    "scientist",
    "intern",
    "owner",
    "chairman",
    "chairwoman",
    "chair",
    "principal",
    "advisor",
    "adviser",
    "supervisor",
    "assistant",
    "secretary",
    "accountant",
    "attorney",
    "lawyer",
    "counsel",
    "strategist",
    "producer",
    "editor",
    "planner",
    "buyer",
    "recruiter",
    "technician",
    "evangelist",
    "programmer",
    "fellow",
    "dean",
    "md",
    "gm",
    "managing",
    "general",
];
const EN_DEPT: &[&str] = &[
    "department",
    "dept",
    "division",
    "team",
    "sales",
    "marketing",
    "engineering",
    "operations",
    "finance",
    "hr",
    "r&d",
    "research",
    "development",
    "support",
    "procurement",
    "purchasing",
    "business",
    "unit",
    "customer",
    "success",
    "product",
    "strategy",
    "planning",
    "communications",
    "legal",
    "it",
    "of",
    "and",
    "&",
    "partnerships",
    "alliances",
    "global",
    "international",
    "overseas",
    "domestic",
    "account",
    "accounts",
    "enterprise",
];
const EN_COMPANY_STRONG: &[&str] = &[
    "inc",
    "corp",
    "corporation",
    "ltd",
    "llc",
    "llp",
    "gmbh",
    "plc",
    "limited",
    "incorporated",
    "pte",
    "pty",
    "company",
];
const EN_COMPANY_WEAK: &[&str] = &[
    "group",
    "holdings",
    "technologies",
    "technology",
    "tech",
    "labs",
    "lab",
    "systems",
    "solutions",
    "software",
    "partners",
    "bank",
    "consulting",
    "industries",
    "electronics",
    "ventures",
    "capital",
    "studio",
    "studios",
    "agency",
    "enterprises",
    "associates",
    "networks",
    "media",
    "pharmaceuticals",
    "pharma",
    "motors",
    "foundation",
    "institute",
    "university",
    "hospital",
    "logistics",
    "trading",
    "energy",
    "co",
];
const EN_STREET: &[&str] = &[
    "street",
    "st",
    "ave",
    "avenue",
    "road",
    "rd",
    "blvd",
    "boulevard",
    "drive",
    "dr",
    "lane",
    "ln",
    "way",
    "suite",
    "ste",
    "floor",
    "fl",
    "flr",
    "building",
    "bldg",
    "tower",
    "plaza",
    "square",
    "sq",
    "parkway",
    "pkwy",
    "highway",
    "hwy",
    "court",
    "ct",
    "place",
    "pl",
    "unit",
    "room",
    "rm",
    "box",
    "level",
    "apt",
    "ro",
    "gil",
    "gu",
    "dong",
];
const EN_PLACES: &[&str] = &[
    "seoul",
    "busan",
    "incheon",
    "daegu",
    "daejeon",
    "gwangju",
    "ulsan",
    "sejong",
    "gyeonggi",
    "gyeonggi-do",
    "seongnam",
    "seongnam-si",
    "suwon",
    "suwon-si",
    "pangyo",
    "gangnam",
    "gangnam-gu",
    "korea",
    "usa",
    "u.s.a",
    "canada",
    "japan",
    "china",
    "singapore",
    "germany",
    "france",
    "tokyo",
    "london",
    "paris",
    "berlin",
    "york",
    "francisco",
    "angeles",
    "boston",
    "chicago",
    "seattle",
];
const FREE_MAIL: &[&str] = &[
    "gmail",
    "naver",
    "daum",
    "hanmail",
    "kakao",
    "nate",
    "yahoo",
    "hotmail",
    "outlook",
    "live",
    "icloud",
    "me",
    "aol",
    "proton",
    "protonmail",
    "gmx",
    "mail",
    "korea",
    "qq",
    "163",
    "example",
];

fn en_title_word(w: &str) -> bool {
    EN_TITLES.contains(&w.to_lowercase().trim_end_matches('.'))
}

fn is_title(t: &str) -> bool {
    if has_digit(t) {
        return false;
    }
    let toks: Vec<&str> = t.split_whitespace().collect();
    if t.chars().any(is_hangul) {
        return toks.iter().all(|w| {
            ko_title(w)
                || ko_dept(w)
                || en_title_word(w)
                || EN_DEPT.contains(&w.to_lowercase().as_str())
        }) && toks.iter().any(|w| ko_title(w));
    }
    let ws = words(t);
    ws.len() <= 8 && ws.iter().any(|w| EN_TITLES.contains(&w.as_str()))
}

fn is_department(t: &str) -> bool {
    if has_digit(t) {
        return false;
    }
    if t.chars().any(is_hangul) {
        return t
            .split_whitespace()
            .all(|w| ko_dept(w) || EN_DEPT.contains(&w.to_lowercase().as_str()));
    }
    let ws = words(t);
    !ws.is_empty() && ws.len() <= 6 && ws.iter().all(|w| EN_DEPT.contains(&w.as_str()))
}

fn strong_company(t: &str) -> bool {
    if KO_COMPANY_STRONG.iter().any(|m| t.contains(m)) {
        return true;
    }
    let lower = t.to_lowercase();
    words(t).iter().any(|w| EN_COMPANY_STRONG.contains(&w.as_str()))
        || lower.contains("co.,")
        || lower.contains("co., ltd")
        || lower.ends_with(" co.")
}

fn weak_company(t: &str) -> bool {
    let toks: Vec<&str> = t.split_whitespace().collect();
    if toks.len() > 5 || has_digit(t) {
        return false;
    }
    toks.iter().any(|w| ko_company_word(w))
        || words(t).iter().any(|w| EN_COMPANY_WEAK.contains(&w.as_str()))
}

fn is_place(t: &str) -> bool {
    words(t).iter().any(|w| EN_PLACES.contains(&w.as_str()))
        || t.split_whitespace().any(|w| KO_PROVINCES.contains(&w) || w == "대한민국")
}

fn english_address(t: &str) -> bool {
    let ws = words(t);
    let digit = has_digit(t);
    let street = ws.iter().any(|w| {
        EN_STREET.contains(&w.trim_end_matches('.'))
            || ["-ro", "-gu", "-gil", "-dong", "-si", "-do"].iter().any(|s| w.ends_with(s))
    });
    let place = ws.iter().any(|w| EN_PLACES.contains(&w.as_str()));
    let toks: Vec<&str> = t.split_whitespace().map(|w| w.trim_matches(',')).collect();
    let postal = toks.windows(2).any(|p| {
        let state = p[0].len() == 2 && p[0].chars().all(|c| c.is_ascii_uppercase());
        let zip = p[1]
            .split('-')
            .next()
            .is_some_and(|z| z.len() == 5 && z.chars().all(|c| c.is_ascii_digit()));
        let ca = |s: &str, pat: [bool; 3]| {
            s.len() == 3
                && s.chars().zip(pat).all(|(c, letter)| {
                    if letter { c.is_ascii_uppercase() } else { c.is_ascii_digit() }
                })
        };
        (state && zip) || (ca(p[0], [true, false, true]) && ca(p[1], [false, true, false]))
    });
    (digit && (street || place)) || postal
}

/// "Minji Kim", "John O'Neil", "MINJI KIM" (returned as "Minji Kim"): two to four capitalised
/// words that are not titles, company words, places or labels.
fn latin_name(t: &str) -> Option<String> {
    let toks: Vec<&str> = t.split_whitespace().collect();
    if !(2..=4).contains(&toks.len()) || has_digit(t) {
        return None;
    }
    let mut out = Vec::new();
    for w in toks {
        let first = w.chars().next()?;
        let letters = w.chars().all(|c| (c.is_alphabetic() && !is_cjk(c)) || "-'.’".contains(c));
        let lower = w.to_lowercase();
        let core = lower.trim_end_matches('.');
        let known = EN_TITLES.contains(&core)
            || EN_DEPT.contains(&core)
            || EN_COMPANY_STRONG.contains(&core)
            || EN_COMPANY_WEAK.contains(&core)
            || EN_STREET.contains(&core)
            || EN_PLACES.contains(&core)
            || label_word(w).is_some();
        if !first.is_uppercase() || !letters || known || (w.contains('.') && w.chars().count() > 3)
        {
            return None;
        }
        let shouting = w.chars().count() > 1 && !w.chars().any(char::is_lowercase);
        out.push(if shouting {
            let mut cs = lower.chars();
            cs.next().map(|c| c.to_uppercase().chain(cs).collect()).unwrap_or_default()
        } else {
            w.to_string()
        });
    }
    Some(out.join(" "))
}

/// "Minji Kim, Sales Manager" or "Sales Manager, Minji Kim".
fn comma_person(t: &str) -> Option<Class> {
    if has_digit(t) {
        return None;
    }
    let (a, b) = t.split_once(',')?;
    let (a, b) = (a.trim(), b.trim());
    let (name, title) = match (latin_name(a), latin_name(b)) {
        (Some(n), _) if is_title(b) => (n, b),
        (_, Some(n)) if is_title(a) => (n, a),
        _ => return None,
    };
    Some(Class::Person { name: Some((name, 0.7)), title: Some((title.into(), 0.8)), alt: None })
}

/// Whether a line reads as the e-mail domain ("ACME" for kim@acme.com).
fn domain_match(t: &str, domains: &[String]) -> bool {
    let key = alnum(t);
    key.len() >= 3
        && t.split_whitespace().count() <= 5
        && domains
            .iter()
            .any(|d| key == *d || key.starts_with(d.as_str()) || d.starts_with(key.as_str()))
}

/// Whether a Latin name matches an e-mail local part: "minji.kim", "kim.minji", "mjkim".
fn matches_local(name: &str, locals: &[String]) -> bool {
    let ws: Vec<String> = name.split_whitespace().map(alnum).filter(|w| !w.is_empty()).collect();
    if ws.len() < 2 {
        return false;
    }
    locals.iter().any(|l| {
        ws.iter().all(|w| l.contains(w.as_str()))
            || (l.ends_with(ws[ws.len() - 1].as_str()) && l.starts_with(&ws[0][..1]))
            || (l.starts_with(ws[ws.len() - 1].as_str()) && l.ends_with(&ws[0][..1]))
    })
}

/// A last-resort name: two to four words of letters, or one Korean word of 2–4 syllables.
fn loose_name(t: &str) -> bool {
    let toks: Vec<&str> = t.split_whitespace().collect();
    if has_digit(t) || toks.is_empty() || toks.len() > 4 {
        return false;
    }
    if toks.len() == 1 {
        return syllables(toks[0]).is_some_and(|s| (2..=4).contains(&s.len()));
    }
    toks.iter().all(|w| w.chars().all(|c| c.is_alphabetic() || "-'.".contains(c)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_sound, kr};
    use super::super::{CaptureDraft, parse_card_text};
    use crate::model::CaptureChannel;
    use crate::validate::Validator;

    /// Expected fields with the least confidence each must have (and, for guesses, the most).
    #[derive(Default)]
    struct Want {
        name: Option<(&'static str, f32)>,
        company: Option<(&'static str, f32)>,
        title: Option<(&'static str, f32)>,
        emails: &'static [&'static str],
        phones: &'static [&'static str],
        custom: &'static [(&'static str, &'static str)],
        notes: Option<&'static str>,
        unparsed: &'static [&'static str],
    }

    fn check(label: &str, d: &CaptureDraft, w: &Want) {
        let ctx = || format!("{label}: {d:#?}");
        for (field, got, want) in [
            ("name", &d.draft.name, w.name),
            ("company", &d.draft.company, w.company),
            ("title", &d.draft.title, w.title),
        ] {
            assert_eq!(got.as_deref(), want.map(|x| x.0), "{field}, {}", ctx());
            if let Some((_, min)) = want {
                let c = d.confidence_of(field).unwrap();
                assert!(c >= min, "{field} confidence {c} < {min}, {}", ctx());
            }
        }
        assert_eq!(d.draft.emails, w.emails, "emails, {}", ctx());
        assert_eq!(d.draft.phones, w.phones, "phones, {}", ctx());
        let custom: Vec<(&str, &str)> =
            d.draft.custom_fields.iter().map(|f| (f.key.as_str(), f.value.as_str())).collect();
        let mut want: Vec<(&str, &str)> = w.custom.to_vec();
        want.sort();
        assert_eq!(custom, want, "custom fields, {}", ctx());
        assert_eq!(d.draft.notes.as_deref(), w.notes, "notes, {}", ctx());
        assert_eq!(d.unparsed, w.unparsed, "unparsed, {}", ctx());
        for i in 0..d.draft.emails.len() {
            assert!(
                d.confidence_of(&format!("emails[{i}]")).unwrap() >= 0.9,
                "e-mails have a clear shape, {}",
                ctx()
            );
        }
        assert_eq!(d.draft.channel, Some(CaptureChannel::BusinessCard));
    }

    fn cases() -> Vec<(&'static str, &'static str, &'static str, Want)> {
        vec![
            (
                "English card, one field a line, single-letter labels",
                "US",
                "ACME Corporation\nMinji Kim\nSenior Sales Manager\nT. +1 (415) 555-2671\nM. +1 415 555 2680\nF. +1 415 555 2672\nminji.kim@acme.com\nwww.acme.com\n123 Market Street, Suite 400\nSan Francisco, CA 94105\n",
                Want {
                    name: Some(("Minji Kim", 0.85)),
                    company: Some(("ACME Corporation", 0.85)),
                    title: Some(("Senior Sales Manager", 0.75)),
                    emails: &["minji.kim@acme.com"],
                    phones: &["+14155552680", "+14155552671"],
                    custom: &[
                        ("address", "123 Market Street, Suite 400, San Francisco, CA 94105"),
                        ("fax", "+14155552672"),
                        ("website", "www.acme.com"),
                    ],
                    ..Want::default()
                },
            ),
            (
                "Korean card: 주식회사, department and title split by |, Korean labels",
                "KR",
                "주식회사 에이크미\n영업본부 | 과장\n김민지\n휴대폰 010-1234-5678\n전화 02-555-1234  팩스 02-555-1235\nminji@acme.co.kr\n서울특별시 강남구 테헤란로 123, 4층 (06234)\n",
                Want {
                    name: Some(("김민지", 0.8)),
                    company: Some(("주식회사 에이크미", 0.85)),
                    title: Some(("과장", 0.75)),
                    emails: &["minji@acme.co.kr"],
                    phones: &["+821012345678", "+8225551234"],
                    custom: &[
                        ("address", "서울특별시 강남구 테헤란로 123, 4층 (06234)"),
                        ("department", "영업본부"),
                        ("fax", "+8225551235"),
                    ],
                    ..Want::default()
                },
            ),
            (
                "Korean card: letter-spaced name with title, Tel / Fax on one line, full-width colon",
                "KR",
                "삼성전자\n김 민 지 과장\nTel 02-2345-6789 / Fax 02-2345-6790\nMobile 010 9876 5432\nE-mail： MJ.Kim@Samsung.com\nwww.samsung.com\n경기도 수원시 영통구 삼성로 129\n",
                Want {
                    name: Some(("김민지", 0.75)),
                    company: Some(("삼성전자", 0.65)),
                    title: Some(("과장", 0.8)),
                    emails: &["mj.kim@samsung.com"],
                    phones: &["+821098765432", "+82223456789"],
                    custom: &[
                        ("address", "경기도 수원시 영통구 삼성로 129"),
                        ("fax", "+82223456790"),
                        ("website", "www.samsung.com"),
                    ],
                    ..Want::default()
                },
            ),
            (
                "English card: name and title with a comma, extension, bare domain, two-line address",
                "US",
                "Globex Technologies\nJohn O'Neil, VP of Business Development\nTel: +1 212 555 2671 ext. 204\nMobile: +1 (646) 555-2672\nEmail: john.oneil@globex.io\nglobex.io\n350 Fifth Avenue, Floor 21\nNew York, NY 10118\n",
                Want {
                    name: Some(("John O'Neil", 0.85)),
                    company: Some(("Globex Technologies", 0.85)),
                    title: Some(("VP of Business Development", 0.75)),
                    emails: &["john.oneil@globex.io"],
                    phones: &["+16465552672", "+12125552671"],
                    custom: &[
                        ("address", "350 Fifth Avenue, Floor 21, New York, NY 10118"),
                        ("website", "globex.io"),
                    ],
                    notes: Some("Extension 204 for +12125552671"),
                    ..Want::default()
                },
            ),
            (
                "bilingual card (both sides): Korean first, English kept as alternatives",
                "KR",
                "㈜한빛소프트\nHanbit Soft Inc.\n김민지 Minji Kim\n책임연구원 / Senior Researcher\nH.P 010-1111-2222\nT 031-8017-1234 F 031-8017-1235\nmjkim@hanbitsoft.co.kr\n경기도 성남시 분당구 판교로 256 7층\n",
                Want {
                    name: Some(("김민지", 0.8)),
                    company: Some(("㈜한빛소프트", 0.85)),
                    title: Some(("책임연구원", 0.75)),
                    emails: &["mjkim@hanbitsoft.co.kr"],
                    phones: &["+821011112222", "+823180171234"],
                    custom: &[
                        ("address", "경기도 성남시 분당구 판교로 256 7층"),
                        ("company_alt", "Hanbit Soft Inc."),
                        ("fax", "+823180171235"),
                        ("name_alt", "Minji Kim"),
                        ("title_alt", "Senior Researcher"),
                    ],
                    ..Want::default()
                },
            ),
            (
                "noisy OCR: junk, capitals, a short labelled number, an unlabelled mobile, a registration number",
                "KR",
                "~~ ## ~~\nPARK JUNHO\nDirector\nSales & Partnerships\nTel 02-123\n010.5555.6666\nJUNHO.PARK@EXAMPLE.COM\nReg. No. 123-45-67890\n",
                Want {
                    name: Some(("Park Junho", 0.85)),
                    company: None,
                    title: Some(("Director", 0.75)),
                    emails: &["junho.park@example.com"],
                    phones: &["+821055556666"],
                    custom: &[
                        ("department", "Sales & Partnerships"),
                        ("unverified_phone", "02-123"),
                    ],
                    unparsed: &["Reg. No. 123-45-67890"],
                    ..Want::default()
                },
            ),
            (
                "Korean card: title before the name, unlabelled landline, company from the e-mail domain",
                "KR",
                "대표이사 홍길동\n02 3456 7890\nceo@hongtrade.kr\n서울 중구 세종대로 110\n",
                Want {
                    name: Some(("홍길동", 0.85)),
                    company: Some(("Hongtrade", 0.0)),
                    title: Some(("대표이사", 0.8)),
                    emails: &["ceo@hongtrade.kr"],
                    phones: &["+82234567890"],
                    custom: &[("address", "서울 중구 세종대로 110")],
                    ..Want::default()
                },
            ),
            (
                "minimal card with a free-mail address: no company guessed; a lower-case name is a weak guess",
                "KR",
                "jane doe\njane.doe@gmail.com\n",
                Want {
                    name: Some(("jane doe", 0.0)),
                    emails: &["jane.doe@gmail.com"],
                    ..Want::default()
                },
            ),
        ]
    }

    #[test]
    fn capture_business_card_texts() {
        for (label, region, text, want) in cases() {
            let v = Validator::new(region).unwrap();
            let d = parse_card_text(text, &v);
            check(label, &d, &want);
            assert_sound(&d, &v);
            // CRLF line ends read the same.
            assert_eq!(parse_card_text(&text.replace('\n', "\r\n"), &v), d, "{label} with CRLF");
        }
    }

    #[test]
    fn capture_card_confidences_mark_guesses() {
        let v = kr();
        // Guesses are marked low so the app highlights them.
        let d = parse_card_text("대표이사 홍길동\nceo@hongtrade.kr", &v);
        assert!(d.confidence_of("company").unwrap() <= 0.4, "{d:#?}");
        let d = parse_card_text("jane doe\njane.doe@gmail.com", &v);
        assert!(d.confidence_of("name").unwrap() <= 0.5, "{d:#?}");
        // A name alone scores below one confirmed by the e-mail address.
        let alone = parse_card_text("Minji Kim\nsales@acme.com", &v).confidence_of("name").unwrap();
        let confirmed =
            parse_card_text("Minji Kim\nminji.kim@acme.com", &v).confidence_of("name").unwrap();
        assert!(alone < confirmed && alone >= 0.5, "{alone} {confirmed}");
        // A labelled number beats an unlabelled landline; an invalid labelled one is kept but low.
        let d = parse_card_text("T. 02-555-1234\n02-555-1235\nTel 99", &v);
        assert!(
            d.confidence_of("phones[0]").unwrap() > d.confidence_of("phones[1]").unwrap(),
            "{d:#?}"
        );
        assert_eq!(d.draft.phones, vec!["+8225551234", "+8225551235"]);
        assert_eq!(d.unparsed, vec!["Tel 99"], "two digits are not a phone number");
        let d = parse_card_text("Mobile 010-12", &v);
        assert_eq!(d.custom("unverified_phone"), Some("010-12"));
        assert!(d.confidence_of("custom_fields.unverified_phone").unwrap() <= 0.3);
    }

    #[test]
    fn capture_card_edge_inputs() {
        let v = kr();
        for empty in ["", "\n\n  \n", "|||", "~~ ## ~~"] {
            let d = parse_card_text(empty, &v);
            assert_eq!(d.draft.name, None);
            assert!(d.confidence.is_empty() && d.unparsed.is_empty(), "{empty:?}: {d:#?}");
        }
        // Over-long text is cut (at a character boundary) and the rep is told.
        let long = format!("김민지\n{}", "가나다 ".repeat(20_000));
        let d = parse_card_text(&long, &v);
        assert_eq!(d.draft.name.as_deref(), Some("김민지"));
        assert_eq!(
            d.unparsed[0],
            format!("only the first {} bytes of the text were read", super::MAX_INPUT)
        );
        assert_sound(&d, &v);
        // Two numbers in one run, a number glued to a word, +82 (0)2.
        let d = parse_card_text(
            "Tel 02-555-1234 010-9999-8888\nSuiteA1234567\nT +82 (0)2 555 1236",
            &v,
        );
        assert_eq!(d.draft.phones, vec!["+821099998888", "+8225551234", "+8225551236"]);
        // Several e-mail addresses in one token, and an e-mail label glued to the address.
        let d = parse_card_text("E:kim@acme.com/lee@acme.com", &v);
        assert_eq!(d.draft.emails, vec!["kim@acme.com", "lee@acme.com"]);
        assert!(d.unparsed.is_empty(), "{d:#?}");
    }
}
