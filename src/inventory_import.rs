//! Parsing stock files from the ERP: CSV `sku,on_hand[,as_of]` or a JSON array.
//! A bad row rejects the whole file, naming its line.

use serde::Deserialize;

use crate::store::stock::StockLevel;
use crate::text_encoding::{self, TextEncoding};

pub mod columns;

/// Largest stock file accepted (a few hundred thousand SKUs).
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ImportError {
    /// 1-based line of the CSV file, or 1-based element of the JSON array.
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        message: message.into(),
    }
}

/// Parses `sku,on_hand[,as_of]` rows in UTF-8 or Shift_JIS (detected); a
/// first row naming the columns is read as a header (see [`parse_csv_as`]).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<StockLevel>, ImportError> {
    parse_csv_as(bytes, None)
}

/// Parses a stock CSV as a Japanese ERP exports it.
///
/// - Encoding: `None` detects (valid UTF-8, with or without BOM, is UTF-8;
///   anything else is read as Shift_JIS/CP932); `Some` forces one.
/// - Without a header, rows are `sku,on_hand[,as_of]`.
/// - With a header (a first row naming a known column, see
///   `columns::Column`), columns are found by name in any order and other
///   columns (商品名, JANコード, …) are ignored.
pub fn parse_csv_as(
    bytes: &[u8],
    encoding: Option<TextEncoding>,
) -> Result<Vec<StockLevel>, ImportError> {
    let text = text_encoding::decode(bytes, encoding).map_err(|e| err(e.line, e.message))?;
    let mut layout: Option<columns::Layout> = None;
    let mut out = Vec::new();
    for row in crate::spreadsheet::rows(&text) {
        let (line, record) =
            row.map_err(|e| err(e.line, format!("unreadable CSV: {}", e.message)))?;
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        if out.is_empty() && layout.is_none() {
            if let Some(header) = columns::Layout::from_header(&record).map_err(|m| err(line, m))? {
                layout = Some(header);
                continue;
            }
            layout = Some(columns::Layout::positional());
        }
        let Some(layout) = &layout else { continue };
        let row = layout.row(&record).map_err(|m| err(line, m))?;
        let on_hand = crate::domain::input::whole_number(row.on_hand).ok_or_else(|| {
            err(
                line,
                format!("on_hand {:?} is not a whole number", row.on_hand),
            )
        })?;
        let as_of = row
            .as_of
            .filter(|s| !s.is_empty())
            .map(columns::erp_date_time);
        out.push(level(line, row.sku, on_hand, as_of.as_deref())?);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLevel {
    sku: String,
    on_hand: i64,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    tax_rate: Option<i64>,
}

/// Parses `[{"sku": "...", "on_hand": 10, "as_of": "..."?}, ...]`.
pub fn parse_json(bytes: &[u8]) -> Result<Vec<StockLevel>, ImportError> {
    let items: Vec<serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| err(e.line(), format!("not a JSON array: {e}")))?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let j: JsonLevel = serde_json::from_value(v)
                .map_err(|e| err(i + 1, format!("element {}: {e}", i + 1)))?;
            let mut l = level(i + 1, &j.sku, j.on_hand, j.as_of.as_deref())?;
            l.tax_rate = validate_tax_rate(i + 1, j.tax_rate)?;
            Ok(l)
        })
        .collect()
}

/// Validates one level: SKU shape, a non-negative count, an RFC 3339 `as_of`.
pub fn level(
    line: usize,
    sku: &str,
    on_hand: i64,
    as_of: Option<&str>,
) -> Result<StockLevel, ImportError> {
    let sku = sku.trim();
    if !crate::domain::input::is_sku(sku) {
        return Err(err(line, "sku must be 1 to 128 printable characters"));
    }
    if !(0..=1_000_000_000).contains(&on_hand) {
        return Err(err(
            line,
            format!("on_hand {on_hand} must be between 0 and 1000000000"),
        ));
    }
    let as_of = as_of
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| crate::domain::time::rfc3339(t.with_timezone(&crate::domain::time::jst())))
                .map_err(|_| err(line, format!("as_of {s:?} is not an RFC 3339 date-time")))
        })
        .transpose()?;
    Ok(StockLevel {
        sku: sku.to_string(),
        on_hand,
        as_of,
        tax_rate: None,
    })
}

/// Accepts the two consumption-tax rates of Japan.
pub fn validate_tax_rate(line: usize, rate: Option<i64>) -> Result<Option<i64>, ImportError> {
    match rate {
        None | Some(8) | Some(10) => Ok(rate),
        Some(r) => Err(err(line, format!("tax_rate {r} must be 8 or 10"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn csv_with_and_without_header() {
        let a = parse_csv(b"sku,on_hand\nA,3\nB,0,2026-11-23T10:00:00+09:00\n").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].as_of.as_deref(), Some("2026-11-23T10:00:00+09:00"));
        let b = parse_csv(b"\xEF\xBB\xBFA,3\r\n\r\nB,4\r\n").unwrap();
        assert_eq!(b.iter().map(|l| l.on_hand).collect::<Vec<_>>(), [3, 4]);
    }

    #[test]
    fn a_bad_row_names_its_line() {
        assert_eq!(parse_csv(b"sku,on_hand\nA,3\nB,x\n").unwrap_err().line, 3);
        // Excel and Japanese ERPs write CRLF: the file's own line numbers.
        let crlf = "商品コード,実在庫数\r\nSKU-001,5\r\nSKU-002,abc\r\n";
        assert_eq!(parse_csv(crlf.as_bytes()).unwrap_err().line, 3);
        assert_eq!(parse_csv(b"A,1\r\n\r\nB,x\r\n").unwrap_err().line, 3);
        assert_eq!(parse_csv(b"A,-1\n").unwrap_err().line, 1);
        assert_eq!(parse_csv(b"A,1\nB\n").unwrap_err().line, 2);
        assert_eq!(parse_csv(b"A,1,yesterday\n").unwrap_err().line, 1);
        assert_eq!(
            parse_json(br#"[{"sku":"A","on_hand":1},{"sku":"B"}]"#)
                .unwrap_err()
                .line,
            2
        );
        assert!(parse_json(b"{}").is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_csv(&bytes);
            let _ = parse_json(&bytes);
        }
    }
}
