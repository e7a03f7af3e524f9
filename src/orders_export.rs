//! Orders as a file for ERPs that import files instead of reading the change
//! feed: CSV with one row per order line, or JSON with the order resources.
//!
//! CSV columns (header row in English, stable; an order without lines still
//! gets one row with the line columns empty):
//! `channel, order_id, state, payment_state, attention, created_at, updated_at,
//! line_no, sku, name, qty, reserved_qty, unit_price, payment_method,
//! carrier, tracking_no, shipped_on`. `unit_price` is yen, tax included;
//! several shipments of one order are joined with a space in the last three
//! columns. UTF-8 with a BOM (so Excel reads it) or Shift_JIS.

use rusqlite::{Connection, params};

use crate::domain::{Channel, Order};
use crate::store::{self, orders, parse_enum};
use crate::text_encoding::{self, TextEncoding};

pub const CSV_HEADER: [&str; 17] = [
    "channel",
    "order_id",
    "state",
    "payment_state",
    "attention",
    "created_at",
    "updated_at",
    "line_no",
    "sku",
    "name",
    "qty",
    "reserved_qty",
    "unit_price",
    "payment_method",
    "carrier",
    "tracking_no",
    "shipped_on",
];

/// Most orders one export holds; an ERP continues with `since` = the last
/// `updated_at` it got.
pub const MAX_EXPORT: u32 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            _ => None,
        }
    }
}

/// Reads `since` as RFC 3339 or a date (`YYYY-MM-DD`, midnight in Japan) and
/// returns it in the form `updated_at` is stored in, so they compare as text.
pub fn parse_since(s: &str) -> Option<String> {
    let jst = crate::domain::time::jst();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(crate::domain::time::rfc3339(t.with_timezone(&jst)));
    }
    let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let t = day.and_hms_opt(0, 0, 0)?.and_local_timezone(jst).single()?;
    Some(crate::domain::time::rfc3339(t))
}

/// Orders updated at or after `since` (all when `None`), oldest update first.
pub fn load(conn: &Connection, since: Option<&str>, limit: u32) -> store::Result<Vec<Order>> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, id FROM orders WHERE (?1 IS NULL OR updated_at >= ?1)
         ORDER BY updated_at, rowid LIMIT ?2",
    )?;
    let keys: Vec<(String, String)> = stmt
        .query_map(params![since, limit.clamp(1, MAX_EXPORT)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(keys.len());
    for (channel, id) in keys {
        let channel = parse_enum(&channel, Channel::parse, "channel")?;
        out.extend(orders::load(conn, channel, &id)?);
    }
    Ok(out)
}

/// The CSV text (UTF-8, no BOM yet: see `encode`).
pub fn to_csv(orders: &[Order]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; a failed row would only drop that row.
    let _ = w.write_record(CSV_HEADER);
    for o in orders {
        let join = |f: fn(&crate::domain::Shipment) -> String| {
            o.shipments.iter().map(f).collect::<Vec<_>>().join(" ")
        };
        let head = [
            o.channel.as_str().to_string(),
            o.id.clone(),
            o.state.as_str().to_string(),
            o.payment_state.as_str().to_string(),
            o.attention.clone().unwrap_or_default(),
            o.created_at.clone(),
            o.updated_at.clone(),
        ];
        let tail = [
            o.payment
                .as_ref()
                .map(|p| p.method.as_str().to_string())
                .unwrap_or_default(),
            join(|s| s.carrier.as_str().to_string()),
            join(|s| s.tracking_no.clone()),
            join(|s| s.shipped_on.format("%Y-%m-%d").to_string()),
        ];
        let lines: Vec<[String; 6]> = if o.lines.is_empty() {
            vec![Default::default()]
        } else {
            o.lines
                .iter()
                .map(|l| {
                    [
                        l.line_no.to_string(),
                        l.sku.clone(),
                        l.name.clone(),
                        l.qty.to_string(),
                        l.reserved_qty.to_string(),
                        l.unit_price.map(|p| p.to_string()).unwrap_or_default(),
                    ]
                })
                .collect()
        };
        for line in lines {
            let cells = head.iter().chain(line.iter()).chain(tail.iter());
            let _ = w.write_record(cells.map(|c| crate::spreadsheet::cell(c).into_owned()));
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    // Every field came from a String, so the bytes are UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// `{"orders": [...]}` with the order resources of the admin API.
pub fn to_json(orders: &[Order]) -> String {
    serde_json::json!({ "orders": orders }).to_string()
}

/// The file's bytes: CSV in `encoding` (UTF-8 with a BOM, or Shift_JIS), JSON
/// always UTF-8. Returns how many characters Shift_JIS could not hold.
pub fn render(orders: &[Order], format: ExportFormat, encoding: TextEncoding) -> (Vec<u8>, usize) {
    match format {
        ExportFormat::Csv => text_encoding::encode(&to_csv(orders), encoding),
        ExportFormat::Json => (to_json(orders).into_bytes(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built from the resource JSON, so new fields of `Order` need no change here.
    fn order() -> Order {
        serde_json::from_value(serde_json::json!({
            "channel": "jgoods", "id": "JG1", "state": "shipped", "payment_state": "deferred",
            "attention": "a, \"quoted\" reason",
            "lines": [
                {"line_no": 1, "sku": "SKU-1", "name": "南部鉄器 急須", "qty": 2, "reserved_qty": 2, "unit_price": 5500},
                {"line_no": 2, "sku": "SKU-2", "qty": 1, "reserved_qty": 0}
            ],
            "shipments": [{"carrier": "yamato", "tracking_no": "123456789012", "shipped_on": "2026-11-24"}],
            "payment": {"method": "komoju", "reference": null},
            "created_at": "2026-11-23T10:00:00+09:00",
            "updated_at": "2026-11-24T10:00:00+09:00"
        }))
        .unwrap()
    }

    #[test]
    fn one_row_per_line_quoted_where_needed() {
        let csv = to_csv(&[order()]);
        let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
        assert_eq!(rows[0], CSV_HEADER.join(","));
        assert_eq!(
            rows[1],
            "jgoods,JG1,shipped,deferred,\"a, \"\"quoted\"\" reason\",2026-11-23T10:00:00+09:00,\
             2026-11-24T10:00:00+09:00,1,SKU-1,南部鉄器 急須,2,2,5500,komoju,yamato,123456789012,2026-11-24"
        );
        assert!(rows[2].contains(",2,SKU-2,,1,0,,komoju,"), "{}", rows[2]);
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn since_reads_dates_and_instants_in_japan_time() {
        assert_eq!(
            parse_since("2026-11-23").as_deref(),
            Some("2026-11-23T00:00:00+09:00")
        );
        assert_eq!(
            parse_since("2026-11-23T01:00:00Z").as_deref(),
            Some("2026-11-23T10:00:00+09:00")
        );
        assert_eq!(parse_since("yesterday"), None);
    }
}
