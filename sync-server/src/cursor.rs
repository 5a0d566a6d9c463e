//! Pull cursors: `b<mark>:<last id>` while bootstrapping from snapshots, `f<mark>` on the change
//! feed, and `f<mark>:<activity id>` when a page ended inside the activities of a lead the user
//! gained (the owner event right after the mark, sent up to that activity). A mark is
//! `<seq>~<stamp>~<check>`: the feed number the cursor stands at (for a bootstrap, the
//! watermark), the visibility stamp when it was issued (`Visibility::stamp`), and a fingerprint
//! of the feed row at that number ([`feed_check`]); the mark of a page with more to come ends
//! with `~<remaining>`, the `remaining` its page answered, so that the next page need not count
//! what comes after it again (`pull.rs`). Opaque to clients. Cursors from before stamps, checks and counts
//! (`f<seq>`, `f<seq>~<stamp>`, the same after `b`) are still taken.
//!
//! A cursor is client-controlled data: nothing here grants anything. What a pull returns is
//! checked against what the user may see when it is served (`pull.rs`).

use fieldsales_core::fingerprint::fingerprint;

use crate::backend::DocTx;
use crate::error::ApiError;

pub enum Cursor {
    Boot {
        watermark: i64,
        after: String,
    },
    /// The feed after `seq`; `resume`: the owner event at `seq + 1` was sent up to this
    /// activity.
    Feed {
        seq: i64,
        resume: Option<String>,
    },
}

pub struct ParsedCursor {
    pub cursor: Cursor,
    pub stamp: Option<String>,
    pub check: Option<String>,
    /// The `remaining` answered with the cursor (a bootstrap's or the feed's): a figure for
    /// progress bars, the client's to make up like the rest, so it is never more than that.
    pub remaining: Option<u64>,
}

pub fn bad_cursor() -> ApiError {
    ApiError::bad_request(
        "bad_cursor",
        "the cursor is not one this server issued; start again with an empty cursor",
    )
}

/// What a cursor at `seq` remembers of the feed row there, so that a server restored from an
/// older backup, whose feed numbers the rows after the backup again for other changes, refuses
/// the cursor instead of letting the device skip those changes. `None`: no such row.
pub fn feed_check(tx: &mut dyn DocTx, seq: i64) -> Result<Option<String>, ApiError> {
    if seq == 0 {
        return Ok(Some("0".to_string()));
    }
    Ok(tx.feed_row_key(seq)?.map(|key| format!("{:08x}", fingerprint([key.as_bytes()]) >> 32)))
}

/// The `<seq>~<stamp>~<check>` part of a cursor that stands at `seq`.
pub fn mark(tx: &mut dyn DocTx, seq: i64, stamp: &str) -> Result<String, ApiError> {
    let check = feed_check(tx, seq)?
        .ok_or_else(|| ApiError::internal(format!("feed row {seq} vanished while it was read")))?;
    Ok(format!("{seq}~{stamp}~{check}"))
}

pub fn parse_cursor(s: &str) -> Result<Option<ParsedCursor>, ApiError> {
    let bad = bad_cursor;
    if s.is_empty() {
        return Ok(None);
    }
    type Mark = (i64, Option<String>, Option<String>, Option<u64>);
    let parse_mark = |m: &str| -> Result<Mark, ApiError> {
        let mut parts = m.split('~');
        let seq = parts.next().unwrap_or_default().parse().map_err(|_| bad())?;
        let stamp = parts.next().map(str::to_string);
        let check = parts.next().map(str::to_string);
        let remaining = parts.next().map(|n| n.parse().map_err(|_| bad())).transpose()?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok((seq, stamp, check, remaining))
    };
    if let Some(rest) = s.strip_prefix('f') {
        let (m, resume) = match rest.split_once(':') {
            Some((m, id)) if !id.is_empty() => (m, Some(id.to_string())),
            Some(_) => return Err(bad()),
            None => (rest, None),
        };
        let (seq, stamp, check, remaining) = parse_mark(m)?;
        return Ok(Some(ParsedCursor {
            cursor: Cursor::Feed { seq, resume },
            stamp,
            check,
            remaining,
        }));
    }
    if let Some(rest) = s.strip_prefix('b') {
        let (m, after) = rest.split_once(':').ok_or_else(bad)?;
        let (watermark, stamp, check, remaining) = parse_mark(m)?;
        return Ok(Some(ParsedCursor {
            cursor: Cursor::Boot { watermark, after: after.to_string() },
            stamp,
            check,
            remaining,
        }));
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_carry_a_visibility_stamp_and_older_ones_without_it_still_parse() {
        let parse = |s: &str| parse_cursor(s).unwrap().unwrap();
        assert!(
            matches!(parse("f12~00ff~1a2b"), ParsedCursor { cursor: Cursor::Feed { seq: 12, resume: None }, stamp: Some(st), check: Some(c), remaining: None } if st == "00ff" && c == "1a2b")
        );
        assert!(
            matches!(parse("f12~00ff~1a2b:act-1"), ParsedCursor { cursor: Cursor::Feed { seq: 12, resume: Some(a) }, .. } if a == "act-1")
        );
        assert!(
            matches!(parse("f12~00ff~1a2b~7:act-1"), ParsedCursor { cursor: Cursor::Feed { seq: 12, resume: Some(a) }, remaining: Some(7), .. } if a == "act-1")
        );
        assert!(matches!(parse("f12~00ff~1a2b~7"), ParsedCursor { remaining: Some(7), .. }));
        assert!(
            matches!(parse("f12~00ff"), ParsedCursor { cursor: Cursor::Feed { seq: 12, .. }, stamp: Some(st), check: None, remaining: None } if st == "00ff")
        );
        assert!(matches!(
            parse("f12"),
            ParsedCursor {
                cursor: Cursor::Feed { seq: 12, resume: None },
                stamp: None,
                check: None,
                remaining: None
            }
        ));
        assert!(
            matches!(parse("b3~all~0:lead-1"), ParsedCursor { cursor: Cursor::Boot { watermark: 3, after }, stamp: Some(st), check: Some(_), remaining: None } if after == "lead-1" && st == "all")
        );
        assert!(
            matches!(parse("b3:"), ParsedCursor { cursor: Cursor::Boot { watermark: 3, after }, stamp: None, .. } if after.is_empty())
        );
        assert!(
            matches!(parse("b3~all~0~41:lead-1"), ParsedCursor { cursor: Cursor::Boot { watermark: 3, after }, remaining: Some(41), .. } if after == "lead-1")
        );
        assert!(matches!(parse("b3~all~0:lead-1"), ParsedCursor { remaining: None, .. }));
        assert!(parse_cursor("").unwrap().is_none());
        for bad in [
            "x1",
            "f",
            "f~ab",
            "fab",
            "b3",
            "b~x:y",
            "f1.5",
            "f1~a~b~c",
            "f1~a~b~4~5",
            "f1~a~b:",
            "b1~a~b~-1:x",
            "b1~a~b~4~5:x",
        ] {
            assert_eq!(parse_cursor(bad).err().map(|e| e.code), Some("bad_cursor"), "{bad}");
        }
    }
}
