//! Reading a CSV file into a table: a UTF-8 BOM (or UTF-16 with its BOM) is accepted, the
//! delimiter is sniffed, quoted fields may span lines, and every row keeps its line number.

use crate::error::{Error, Result, ValidationError as V};

pub(super) struct Row {
    /// Line of the file where the row starts.
    pub(super) line: u64,
    /// `Err` for a cell that is not UTF-8.
    pub(super) cells: Vec<std::result::Result<String, ()>>,
}

pub(super) struct Table {
    pub(super) headers: Vec<String>,
    pub(super) rows: Vec<Row>,
    pub(super) delimiter: u8,
}

pub(super) fn bad_file(reason: impl Into<String>) -> Error {
    V::Invalid { field: "CSV file", reason: reason.into() }.into()
}

/// UTF-8 text of the input: a UTF-8 BOM is dropped, UTF-16 with a BOM is decoded.
pub(super) fn decode(input: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    let utf16 = |bytes: &[u8], le: bool| -> Result<Vec<u8>> {
        if !bytes.len().is_multiple_of(2) {
            return Err(bad_file("the UTF-16 text ends in the middle of a character"));
        }
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| {
                if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }
            })
            .collect();
        String::from_utf16(&units)
            .map(String::into_bytes)
            .map_err(|_| bad_file("the file is not valid UTF-16 text"))
    };
    Ok(match input {
        [0xEF, 0xBB, 0xBF, rest @ ..] => rest.into(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true)?.into(),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false)?.into(),
        _ => input.into(),
    })
}

/// The delimiter of the header line: the most frequent of `,` `;` and tab outside quotes
/// (`,` on a tie or when there is none).
pub(super) fn sniff_delimiter(text: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in text {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let mut best = (b',', counts[0]);
    for (d, n) in [(b';', counts[1]), (b'\t', counts[2])] {
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

pub(super) fn read_table(input: &[u8]) -> Result<Table> {
    let text = decode(input)?;
    let mut body: &[u8] = &text;
    let mut line_offset = 0;
    // Excel writes `sep=;` as a first line to name the delimiter.
    let first_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let first = body[..first_end].strip_suffix(b"\r").unwrap_or(&body[..first_end]);
    let declared = match first {
        [b's' | b'S', b'e' | b'E', b'p' | b'P', b'=', d] => Some(*d),
        _ => None,
    };
    if declared.is_some() {
        body = body.get(first_end + 1..).unwrap_or(&[]);
        line_offset = 1;
    }
    let delimiter = declared.unwrap_or_else(|| sniff_delimiter(body));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(body);
    let csv_err = |e: csv::Error| bad_file(format!("it cannot be read as CSV: {e}"));
    let mut records = reader.byte_records();
    let header = loop {
        match records.next() {
            None => return Err(bad_file("it is empty: the first line must name the columns")),
            Some(r) => {
                let r = r.map_err(csv_err)?;
                if r.iter().any(|c| !c.iter().all(u8::is_ascii_whitespace)) {
                    break r;
                }
            }
        }
    };
    let mut headers = Vec::with_capacity(header.len());
    for h in header.iter() {
        let h = std::str::from_utf8(h).map_err(|_| {
            bad_file("it is not UTF-8 text; save it as \"CSV UTF-8\" (in Excel: Save As → CSV UTF-8) and import it again")
        })?;
        headers.push(clean_header(h));
    }
    let mut rows = Vec::new();
    // The csv crate's own line numbers (and byte offsets) lag behind after CRLF line ends and
    // empty lines: its offset points at the terminator before the record. Skip those and count.
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    for r in records {
        let r = r.map_err(csv_err)?;
        let mut start = r
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(body.len());
        while matches!(body.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > counted_to {
            newlines += body[counted_to..start].iter().filter(|&&b| b == b'\n').count() as u64;
            counted_to = start;
        }
        let line = newlines + 1 + line_offset;
        let cells =
            r.iter().map(|c| std::str::from_utf8(c).map(str::to_string).map_err(|_| ())).collect();
        rows.push(Row { line, cells });
    }
    Ok(Table { headers, rows, delimiter })
}

pub(super) fn clean_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}').trim().to_string()
}
