//! Human-readable output: compact tables and detail views. Everything here writes to a `Write`
//! and returns its error, so that `fieldsales lead list | head` ends quietly instead of panicking
//! on a closed pipe.

use std::io::{self, Write};

use fieldsales_core::{
    Activity, FieldConflict, FollowUp, FollowUps, Lead, LeadSummary, VerifyReport,
};
use fieldsales_core::{Zone, calendar};

/// Widest a table cell may be before it is cut with "…".
const MAX_CELL: usize = 32;

/// Terminal columns a string takes. A small approximation of Unicode East Asian Width (Hangul,
/// CJK, full-width forms and emoji count 2; combining marks and joiners 0), enough to keep
/// Korean names aligned without another dependency.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    match c as u32 {
        0x0300..=0x036F
        | 0x200B..=0x200F
        | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F
        | 0xE0100..=0xE01EF => 0,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xA960..=0xA97F
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F680..=0x1F6FF
        | 0x1F900..=0x1F9FF
        | 0x1FA70..=0x1FAFF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// One line of text safe to show in a terminal: control characters (newlines, escape sequences
/// that a synced record could carry) become spaces.
pub fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Cuts `s` to at most `max` columns, marking the cut with "…".
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Table { headers: headers.to_vec(), rows: Vec::new() }
    }

    /// Adds a row, cutting long cells, except in id columns ("ID", "LEAD ID"): an id is what
    /// the user copies into the next command.
    pub fn row(&mut self, cells: Vec<String>) {
        let is_id =
            |i: usize| self.headers.get(i).is_some_and(|h| *h == "ID" || h.ends_with(" ID"));
        let row = cells
            .iter()
            .enumerate()
            .map(|(i, c)| if is_id(i) { clean(c) } else { truncate(&clean(c), MAX_CELL) })
            .collect();
        self.rows.push(row);
    }

    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(wd) = widths.get_mut(i) {
                    *wd = (*wd).max(width(c));
                }
            }
        }
        let line = |w: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
            let mut out = String::new();
            for (i, c) in cells.enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                out.push_str(c);
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(width(c));
                out.extend(std::iter::repeat_n(' ', pad));
            }
            writeln!(w, "{}", out.trim_end())
        };
        line(w, &mut self.headers.iter().copied())?;
        for r in &self.rows {
            line(w, &mut r.iter().map(String::as_str))?;
        }
        Ok(())
    }
}

fn opt_time(t: Option<i64>, tz: &Zone) -> String {
    t.map(|t| tz.format_short(t)).unwrap_or_default()
}

fn or_dash(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

pub fn lead_table(w: &mut dyn Write, items: &[LeadSummary], tz: &Zone) -> io::Result<()> {
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "COMPANY",
        "STAGE",
        "POTENTIAL",
        "VALUE",
        "OWNER",
        "FOLLOW-UP",
        "UPDATED",
    ]);
    for l in items {
        let mut name = l.display_name.clone();
        if l.has_conflicts {
            name.push_str(" (!)");
        }
        t.row(vec![
            l.id.clone(),
            name,
            or_dash(l.company.as_deref()),
            l.stage.to_string(),
            l.potential.map_or("-".into(), |p| p.to_string()),
            l.deal_value.as_ref().map_or("-".into(), |m| m.to_string()),
            l.owner.clone(),
            opt_time(l.next_follow_up, tz),
            tz.format_short(l.updated_at),
        ]);
    }
    t.write(w)
}

/// "company: 2 values were entered: Acme | ACME Corp", each value shown as its field is.
pub fn conflict_line(c: &FieldConflict, tz: &Zone) -> String {
    let values: Vec<String> = c
        .values
        .iter()
        .map(|v| clean(&fieldsales_core::conflicts::shown(&c.field, v, tz)))
        .collect();
    format!("{}: {} values were entered: {}", clean(&c.field), c.values.len(), values.join(" | "))
}

/// A lead as a detail view; the id alone on the first line so that scripts can `head -1`.
pub fn lead_detail(
    w: &mut dyn Write,
    l: &Lead,
    activities: Option<&[Activity]>,
    tz: &Zone,
) -> io::Result<()> {
    writeln!(w, "{}", l.id)?;
    let field = |w: &mut dyn Write, k: &str, v: &str| -> io::Result<()> {
        if v.is_empty() { Ok(()) } else { writeln!(w, "  {k:<11} {}", clean(v)) }
    };
    field(w, "name", l.name.as_deref().unwrap_or(""))?;
    field(w, "company", l.company.as_deref().unwrap_or(""))?;
    field(w, "title", l.title.as_deref().unwrap_or(""))?;
    field(w, "e-mail", &l.emails.join(", "))?;
    field(w, "phone", &l.phones.join(", "))?;
    let stage = match &l.lost_reason {
        Some(r) => format!("{} (reason: {r})", l.stage),
        None => l.stage.to_string(),
    };
    field(w, "stage", &stage)?;
    field(w, "potential", &l.potential.map(|p| p.to_string()).unwrap_or_default())?;
    field(w, "value", &l.deal_value.as_ref().map(|m| m.to_string()).unwrap_or_default())?;
    field(w, "owner", &l.owner)?;
    field(w, "tags", &l.tags.join(", "))?;
    let source = match &l.source.event {
        Some(e) => format!("{e} ({})", l.source.channel),
        None => l.source.channel.to_string(),
    };
    field(w, "source", &source)?;
    field(w, "follow-up", &l.next_follow_up.map(|t| tz.format_full(t)).unwrap_or_default())?;
    for c in &l.custom_fields {
        field(w, "custom", &format!("{} = {}", c.key, c.value))?;
    }
    field(w, "created", &format!("{} by {}", tz.format_full(l.created_at), l.created_by))?;
    field(w, "updated", &format!("{} by {}", tz.format_full(l.updated_at), l.updated_by))?;
    if l.deleted {
        field(w, "deleted", "yes (restore with `fieldsales lead restore ID`)")?;
    }
    if !l.notes.trim().is_empty() {
        writeln!(w, "  notes:")?;
        for line in l.notes.lines() {
            writeln!(w, "    {}", clean(line))?;
        }
    }
    if !l.conflicts.is_empty() {
        writeln!(w, "  conflicts (edit the field to resolve):")?;
        for c in &l.conflicts {
            writeln!(w, "    {}", conflict_line(c, tz))?;
        }
    }
    if l.stage_history.len() > 1 {
        writeln!(w, "  stage history:")?;
        for h in &l.stage_history {
            let reason =
                h.lost_reason.as_deref().map(|r| format!(" ({})", clean(r))).unwrap_or_default();
            writeln!(w, "    {}  {}{reason}  by {}", tz.format_short(h.at), h.stage, clean(&h.by))?;
        }
    }
    if let Some(acts) = activities {
        if acts.is_empty() {
            writeln!(w, "  activities: none")?;
        } else {
            writeln!(w, "  activities:")?;
            let mut buf = Vec::new();
            activity_table(&mut buf, acts, tz)?;
            for line in String::from_utf8_lossy(&buf).lines() {
                writeln!(w, "    {line}")?;
            }
        }
    }
    Ok(())
}

fn activity_status(a: &Activity) -> &'static str {
    match (a.done, a.due_at) {
        (true, _) => "done",
        (false, Some(_)) => "open",
        (false, None) => "",
    }
}

pub fn activity_table(w: &mut dyn Write, acts: &[Activity], tz: &Zone) -> io::Result<()> {
    let mut t = Table::new(&["WHEN", "KIND", "STATUS", "SUBJECT", "DURATION", "OUTCOME", "ID"]);
    for a in acts {
        let when = match (a.occurred_at, a.due_at) {
            (Some(t), _) => tz.format_short(t),
            (None, Some(d)) => format!("due {}", tz.format_short(d)),
            (None, None) => tz.format_short(a.created_at),
        };
        let mut subject = a.subject.clone();
        if !a.conflicts.is_empty() {
            subject.push_str(" (!)");
        }
        t.row(vec![
            when,
            a.kind.to_string(),
            activity_status(a).into(),
            subject,
            a.duration_s.map(calendar::format_duration).unwrap_or_default(),
            a.outcome.clone().unwrap_or_default(),
            a.id.clone(),
        ]);
    }
    t.write(w)
}

pub fn activity_detail(w: &mut dyn Write, a: &Activity, tz: &Zone) -> io::Result<()> {
    writeln!(w, "{}", a.id)?;
    let field = |w: &mut dyn Write, k: &str, v: &str| -> io::Result<()> {
        if v.is_empty() { Ok(()) } else { writeln!(w, "  {k:<11} {}", clean(v)) }
    };
    field(w, "lead", &a.lead_id)?;
    field(w, "kind", a.kind.as_str())?;
    field(w, "subject", &a.subject)?;
    field(w, "status", activity_status(a))?;
    field(w, "at", &a.occurred_at.map(|t| tz.format_full(t)).unwrap_or_default())?;
    field(w, "due", &a.due_at.map(|t| tz.format_full(t)).unwrap_or_default())?;
    field(w, "duration", &a.duration_s.map(calendar::format_duration).unwrap_or_default())?;
    field(w, "outcome", a.outcome.as_deref().unwrap_or(""))?;
    if let Some(l) = &a.location {
        let acc = l.accuracy_m.map(|m| format!(" (±{m} m)")).unwrap_or_default();
        field(w, "location", &format!("{}, {}{acc}", l.lat, l.lon))?;
    }
    field(w, "created", &format!("{} by {}", tz.format_full(a.created_at), a.created_by))?;
    if !a.notes.trim().is_empty() {
        writeln!(w, "  notes:")?;
        for line in a.notes.lines() {
            writeln!(w, "    {}", clean(line))?;
        }
    }
    for c in &a.conflicts {
        writeln!(w, "  conflict: {}", conflict_line(c, tz))?;
    }
    Ok(())
}

pub fn follow_ups(w: &mut dyn Write, f: &FollowUps, tz: &Zone) -> io::Result<()> {
    if f.overdue.is_empty() && f.today.is_empty() && f.upcoming.is_empty() {
        return writeln!(w, "nothing overdue, due today or in the next seven days");
    }
    let table = |w: &mut dyn Write, title: &str, list: &[FollowUp]| -> io::Result<()> {
        writeln!(w, "{title} ({}):", list.len())?;
        if list.is_empty() {
            return Ok(());
        }
        let mut t = Table::new(&["DUE", "LEAD", "WHAT", "LEAD ID"]);
        for x in list {
            let what = x.subject.clone().unwrap_or_else(|| "follow-up".into());
            t.row(vec![tz.format_short(x.due_at), x.lead_name.clone(), what, x.lead_id.clone()]);
        }
        t.write(w)
    };
    table(w, "overdue", &f.overdue)?;
    table(w, "today", &f.today)?;
    table(w, "next 7 days", &f.upcoming)
}

pub fn verify(w: &mut dyn Write, r: &VerifyReport) -> io::Result<()> {
    writeln!(w, "documents checked: {}", r.documents)?;
    writeln!(w, "projection mismatches: {}", r.projection_mismatches.len())?;
    for id in &r.projection_mismatches {
        writeln!(w, "  {id}")?;
    }
    writeln!(w, "outbox problems: {}", r.problems.len())?;
    for p in &r.problems {
        writeln!(w, "  {}", clean(p))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_and_emoji_take_two_columns() {
        assert_eq!(width("Kim"), 3);
        assert_eq!(width("김민지"), 6);
        assert_eq!(width("🚀ok"), 4);
        assert_eq!(width("e\u{301}"), 1);
    }

    #[test]
    fn cells_are_cut_by_columns_not_bytes() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("김민지김민지", 7), "김민지…");
        assert_eq!(truncate("short", 10), "short");
        assert!(width(&truncate(&"가".repeat(100), MAX_CELL)) <= MAX_CELL);
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(clean("a\nb\x1b[31mc\u{9b}"), "a b [31mc ");
    }

    #[test]
    fn tables_align_wide_characters() {
        let mut t = Table::new(&["NAME", "X"]);
        t.row(vec!["김민지".into(), "1".into()]);
        t.row(vec!["Bob".into(), "2".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("NAME    X\n"), "{s}");
        let cols: Vec<usize> = s.lines().map(|l| width(&l[..l.rfind(' ').unwrap()]) + 1).collect();
        assert_eq!(cols, vec![8, 8, 8], "{s}");
    }

    #[test]
    fn ids_are_never_cut() {
        let id = "01a2241a-8faa-740a-93ad-54d36d994cd7-and-more-than-32-columns";
        let mut t = Table::new(&["ID", "NAME", "LEAD ID"]);
        t.row(vec![id.into(), "x".repeat(40), id.into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.matches(id).count(), 2, "{s}");
        assert!(!s.contains(&"x".repeat(40)), "{s}");
    }

    #[test]
    fn conflicts_read_as_a_sentence() {
        let c = FieldConflict {
            field: "company".into(),
            values: vec!["Acme".into(), "ACME Corp".into()],
        };
        assert_eq!(
            conflict_line(&c, &Zone::utc()),
            "company: 2 values were entered: Acme | ACME Corp"
        );
    }

    /// Issue 14: money and times in a conflict read as their fields do, not in stored units.
    #[test]
    fn conflict_values_are_formatted_as_their_fields() {
        let deal = FieldConflict {
            field: "deal".into(),
            values: vec!["2500000 USD".into(), "30000000 KRW".into()],
        };
        assert_eq!(
            conflict_line(&deal, &Zone::utc()),
            "deal: 2 values were entered: 25,000.00 USD | 30,000,000 KRW"
        );
        let due = FieldConflict {
            field: "next_follow_up".into(),
            values: vec!["1793610000000".into(), "1793613600000".into()],
        };
        let line = conflict_line(&due, &Zone::parse("Asia/Seoul").unwrap());
        assert!(line.contains("2026-11-02T18:00:00+09:00 | 2026-11-02T19:00:00+09:00"), "{line}");
    }

    #[test]
    fn lead_detail_shows_conflicts_and_the_id_first() {
        use fieldsales_core::{CaptureChannel, Source, Stage};
        let lead = Lead {
            id: "01a2241a-8faa-740a-93ad-54d36d994cd7".into(),
            name: Some("김민지".into()),
            company: Some("Acme".into()),
            title: None,
            emails: vec![],
            phones: vec![],
            source: Source { event: None, channel: CaptureChannel::Manual },
            stage: Stage::New,
            lost_reason: None,
            stage_history: vec![],
            potential: None,
            deal_value: None,
            owner: "kim".into(),
            tags: vec![],
            notes: "line one\n\x1b[2Jline two".into(),
            custom_fields: vec![],
            next_follow_up: None,
            created_at: 0,
            created_by: "kim".into(),
            updated_at: 0,
            updated_by: "lee".into(),
            deleted: false,
            merged_into: None,
            merged_from: vec![],
            conflicts: vec![FieldConflict {
                field: "company".into(),
                values: vec!["Acme".into(), "ACME Corp".into()],
            }],
        };
        let mut out = Vec::new();
        lead_detail(&mut out, &lead, Some(&[]), &Zone::parse("Asia/Seoul").unwrap()).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.lines().next(), Some(lead.id.as_str()));
        assert!(s.contains("    company: 2 values were entered: Acme | ACME Corp"), "{s}");
        assert!(s.contains("1970-01-01T09:00:00+09:00 by lee"), "{s}");
        assert!(s.contains("    line one\n     [2Jline two") && !s.contains('\x1b'), "{s}");
        assert!(s.contains("activities: none"), "{s}");
    }
}
