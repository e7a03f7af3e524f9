//! Which CSV column is which: positional `sku,on_hand[,as_of]`, or found by a
//! header row in English or in the Japanese an ERP export uses.

use csv::StringRecord;

use crate::domain::input::{header_name, whole_number};

/// A column ordersync reads, and the header names accepted for it
/// (compared after trimming, dropping spaces, folding full-width letters and
/// ASCII case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `sku`, `item_code`, `商品コード`, `SKUコード`, `品番`.
    Sku,
    /// `on_hand`, `在庫数`, `在庫数量`, `実在庫数`, `現在庫数`.
    OnHand,
    /// `as_of`, `在庫日時`, `棚卸日時`, `基準日時`.
    AsOf,
}

const NAMES: &[(&str, Column)] = &[
    ("sku", Column::Sku),
    ("item_code", Column::Sku),
    ("商品コード", Column::Sku),
    ("skuコード", Column::Sku),
    ("品番", Column::Sku),
    ("on_hand", Column::OnHand),
    ("在庫数", Column::OnHand),
    ("在庫数量", Column::OnHand),
    ("実在庫数", Column::OnHand),
    ("現在庫数", Column::OnHand),
    ("as_of", Column::AsOf),
    ("在庫日時", Column::AsOf),
    ("棚卸日時", Column::AsOf),
    ("基準日時", Column::AsOf),
];

/// Stock already net of orders. ordersync needs the physical count: it
/// subtracts its own reservations, so importing a net figure would subtract
/// them twice and undersell. Named so the error can say why.
const NET_STOCK_NAMES: &[&str] = &["available", "有効在庫数", "引当可能数", "販売可能数"];

fn column_named(name: &str) -> Option<Column> {
    let name = header_name(name);
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// Where the columns are in each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    sku: usize,
    on_hand: usize,
    as_of: Option<usize>,
    /// Positional rows must have exactly 2 or 3 fields; a header allows extra columns.
    positional: bool,
}

/// The fields of one data row.
pub struct Row<'a> {
    pub sku: &'a str,
    pub on_hand: &'a str,
    pub as_of: Option<&'a str>,
}

impl Layout {
    pub fn positional() -> Layout {
        Layout {
            sku: 0,
            on_hand: 1,
            as_of: Some(2),
            positional: true,
        }
    }

    /// Reads a first row: `Ok(Some)` for a header, `Ok(None)` for a data row,
    /// `Err` for a header ordersync cannot use (saying why).
    pub fn from_header(record: &StringRecord) -> Result<Option<Layout>, String> {
        let named: Vec<(usize, Column)> = record
            .iter()
            .enumerate()
            .filter_map(|(i, f)| column_named(f).map(|c| (i, c)))
            .collect();
        let net = record
            .iter()
            .find(|f| NET_STOCK_NAMES.contains(&header_name(f).as_str()));
        if named.is_empty() && net.is_none() {
            // A data row has a number second; anything else is a header in
            // words we do not know.
            if record.len() >= 2 && whole_number(&record[1]).is_none() && !record[1].is_empty() {
                return Err(format!(
                    "the first row looks like a header but names no known column; \
                     name them sku (or 商品コード) and on_hand (or 在庫数): found {:?}",
                    record.iter().collect::<Vec<_>>()
                ));
            }
            return Ok(None);
        }
        let find = |wanted: Column| -> Result<Option<usize>, String> {
            let mut at = named.iter().filter(|(_, c)| *c == wanted).map(|(i, _)| *i);
            match (at.next(), at.next()) {
                (Some(_), Some(_)) => Err(format!(
                    "the header names the {wanted:?} column twice; keep one"
                )),
                (first, _) => Ok(first),
            }
        };
        let sku = find(Column::Sku)?.ok_or("the header has no sku column (sku or 商品コード)")?;
        let on_hand = match (find(Column::OnHand)?, net) {
            (Some(i), _) => i,
            (None, Some(net)) => {
                return Err(format!(
                    "column {net:?} is stock net of orders; import the physical count \
                     (on_hand or 在庫数): ordersync subtracts its own reservations"
                ));
            }
            (None, None) => {
                return Err("the header has no on_hand column (on_hand or 在庫数)".into());
            }
        };
        // The documented `sku,on_hand` header keeps its optional third column.
        let as_of = match find(Column::AsOf)? {
            None if (sku, on_hand, record.len()) == (0, 1, 2) => Some(2),
            found => found,
        };
        Ok(Some(Layout {
            sku,
            on_hand,
            as_of,
            positional: false,
        }))
    }

    pub fn row<'a>(&self, record: &'a StringRecord) -> Result<Row<'a>, String> {
        if self.positional && !(2..=3).contains(&record.len()) {
            return Err(format!(
                "expected sku,on_hand[,as_of], found {} fields",
                record.len()
            ));
        }
        let field = |i: usize| {
            record.get(i).ok_or_else(|| {
                format!(
                    "the row has {} fields; column {} is missing",
                    record.len(),
                    i + 1
                )
            })
        };
        Ok(Row {
            sku: field(self.sku)?,
            on_hand: field(self.on_hand)?,
            as_of: self.as_of.and_then(|i| record.get(i)),
        })
    }
}

/// An `as_of` as ERPs write it: RFC 3339, or `YYYY/MM/DD HH:MM[:SS]` (also
/// with `-`) meaning Japan time. Anything else is returned unchanged for the
/// caller to refuse.
pub fn erp_date_time(s: &str) -> String {
    const LOCAL: &[&str] = &[
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%d %H:%M",
    ];
    if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
        return s.to_string();
    }
    LOCAL
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .and_then(|t| t.and_local_timezone(crate::domain::time::jst()).single())
        .map(crate::domain::time::rfc3339)
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[&str]) -> StringRecord {
        StringRecord::from(fields.to_vec())
    }

    #[test]
    fn headers_in_japanese_any_order_with_extra_columns() {
        let layout = Layout::from_header(&rec(&["商品名", "在庫数", "ＳＫＵ", "JANコード"]))
            .unwrap()
            .unwrap();
        let data = rec(&["急須", "7", "SKU-1", "4900000000000"]);
        let row = layout.row(&data).unwrap();
        assert_eq!((row.sku, row.on_hand, row.as_of), ("SKU-1", "7", None));
        assert_eq!(Layout::from_header(&rec(&["A", "3"])).unwrap(), None);
    }

    #[test]
    fn unusable_headers_say_why() {
        let net = Layout::from_header(&rec(&["商品コード", "有効在庫数"])).unwrap_err();
        assert!(net.contains("physical count"), "{net}");
        let twice = Layout::from_header(&rec(&["sku", "在庫数", "実在庫数"])).unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
        let unknown = Layout::from_header(&rec(&["品目", "数"])).unwrap_err();
        assert!(unknown.contains("no known column"), "{unknown}");
        assert!(
            Layout::from_header(&rec(&["在庫数"])).is_err(),
            "no sku column"
        );
    }

    #[test]
    fn dates_as_erps_write_them() {
        assert_eq!(
            erp_date_time("2026/11/23 10:00"),
            "2026-11-23T10:00:00+09:00"
        );
        assert_eq!(erp_date_time("yesterday"), "yesterday");
    }
}
