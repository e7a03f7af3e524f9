//! The invoice as CSV, for spreadsheets and ERPs: one row per line, parcel and total, every
//! row carrying the invoice number so rows of several invoices can be pasted together.
//!
//! Japanese spreadsheets open UTF-8 only with a byte-order mark, and many ERPs read only
//! Shift_JIS, hence the two encodings.

use encoding_rs::SHIFT_JIS;

use super::{Invoice, InvoiceDocument, InvoiceError, Issue};

/// How the CSV bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark (what Excel needs to see UTF-8).
    #[default]
    Utf8Bom,
    /// Shift_JIS (Windows-31J), what older ERPs import.
    ShiftJis,
}

impl Encoding {
    /// `utf8` or `sjis` (also `utf-8`, `shift_jis`).
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Some(Encoding::Utf8Bom),
            "sjis" | "shift_jis" | "shift-jis" | "cp932" => Some(Encoding::ShiftJis),
            _ => None,
        }
    }

    /// The `charset` of an HTTP answer carrying these bytes.
    pub fn charset(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "utf-8",
            Encoding::ShiftJis => "Shift_JIS",
        }
    }
}

const HEADER: [&str; 14] = [
    "請求書番号",
    "発行日",
    "発行区分",
    "種別",
    "出荷日",
    "注文番号",
    "商品コード",
    "商品名",
    "数量",
    "単価(税込)",
    "金額(税込)",
    "税率",
    "消費税",
    "税抜金額",
];

/// The CSV text (before encoding).
pub fn text(doc: &InvoiceDocument) -> String {
    let (number, issued_on, kind) = match &doc.issue {
        Issue::Preview => (String::new(), String::new(), "プレビュー"),
        Issue::Issued { number, issued_on } => (number.clone(), issued_on.to_string(), "発行"),
        Issue::Reissued {
            number, issued_on, ..
        } => (number.clone(), issued_on.to_string(), "再発行"),
    };
    let inv = &doc.invoice;
    let mut rows: Vec<[String; 14]> = Vec::new();
    let row = |what: &str, cols: [String; 10]| -> [String; 14] {
        let [a, b, c, d, e, f, g, h, i, j] = cols;
        [
            number.clone(),
            issued_on.clone(),
            kind.to_string(),
            what.to_string(),
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            i,
            j,
        ]
    };
    for (what, cols) in detail_rows(inv) {
        rows.push(row(what, cols));
    }
    let amount_row = |what: &str, amount: i64| {
        let mut cols: [String; 10] = Default::default();
        cols[6] = amount.to_string();
        row(what, cols)
    };
    let mut total = amount_row("合計", inv.grand_total);
    total[12] = inv.tax_total.to_string();
    total[13] = inv.tax_excluded_total.to_string();
    rows.push(total);
    rows.push(amount_row("サービス料見込", -inv.service_fee));
    rows.push(amount_row("振込予定額", inv.expected_transfer));

    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; the error arms only exist for files and sockets.
    let _ = w.write_record(HEADER);
    for r in &rows {
        let _ = w.write_record(r.iter().map(|c| crate::spreadsheet::cell(c).into_owned()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The rows of each line, each parcel's shipping and each tax rate's total,
/// before the invoice's own columns.
fn detail_rows(inv: &Invoice) -> Vec<(&'static str, [String; 10])> {
    let mut rows = Vec::new();
    let empty = String::new;
    for o in &inv.orders {
        for l in &o.lines {
            rows.push((
                "明細",
                [
                    o.shipped_on.to_string(),
                    o.order_id.clone(),
                    l.item_code.clone(),
                    l.name.clone(),
                    l.qty.to_string(),
                    l.unit_price.to_string(),
                    l.amount.to_string(),
                    format!("{}%", l.tax_rate.percent()),
                    empty(),
                    empty(),
                ],
            ));
        }
    }
    for s in &inv.shipping {
        rows.push((
            "送料",
            [
                s.shipped_on.to_string(),
                s.order_id.clone(),
                s.carrier.clone(),
                format!("国内送料 {}", s.tracking_no),
                "1".into(),
                s.cost.to_string(),
                s.cost.to_string(),
                "10%".into(),
                empty(),
                empty(),
            ],
        ));
    }
    for r in &inv.by_rate {
        rows.push((
            "税率別合計",
            [
                empty(),
                empty(),
                empty(),
                empty(),
                empty(),
                empty(),
                r.total.to_string(),
                format!("{}%", r.rate.percent()),
                r.tax.to_string(),
                r.tax_excluded.to_string(),
            ],
        ));
    }
    rows
}

/// The CSV bytes in `encoding`. Shift_JIS refuses text it cannot represent rather than
/// writing a lossy substitute into an accounting document.
pub fn render(doc: &InvoiceDocument, encoding: Encoding) -> Result<Vec<u8>, InvoiceError> {
    let text = text(doc);
    match encoding {
        Encoding::Utf8Bom => {
            let mut out = Vec::with_capacity(text.len() + 3);
            out.extend_from_slice("\u{feff}".as_bytes());
            out.extend_from_slice(text.as_bytes());
            Ok(out)
        }
        Encoding::ShiftJis => {
            let (bytes, _, unmappable) = SHIFT_JIS.encode(&text);
            if unmappable {
                let bad = text
                    .chars()
                    .find(|c| SHIFT_JIS.encode(&c.to_string()).2)
                    .unwrap_or('?');
                return Err(InvoiceError::NotShiftJis(bad.to_string()));
            }
            Ok(bytes.into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    fn records(text: &str) -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn rows_carry_lines_shipping_and_totals() {
        let text = text(&fixture::document(fixture::issued()));
        let rows = records(&text);
        let kinds: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "明細",
                "明細",
                "送料",
                "税率別合計",
                "税率別合計",
                "合計",
                "サービス料見込",
                "振込予定額"
            ]
        );
        assert!(rows.iter().all(|r| r[0] == "INV-000007" && r[2] == "発行"));
        assert_eq!(
            rows[0][5..11],
            [
                "JG-1001",
                "SKU-001",
                "南部鉄器 急須 \"大\"",
                "3",
                "5500",
                "16500"
            ]
        );
        assert_eq!(rows[3][10..14], ["17700", "10%", "1609", "16091"]);
        assert_eq!(rows[4][10..14], ["2160", "8%", "160", "2000"]);
        assert_eq!(rows[5][10], "19860");
        assert_eq!(rows[6][10], "-1809");
        assert_eq!(rows[7][10], "18051");
        assert!(
            text.contains("\r\n"),
            "CRLF line ends, as Windows tools expect"
        );
    }

    #[test]
    fn utf8_starts_with_a_bom() {
        let bytes = render(&fixture::document(fixture::issued()), Encoding::Utf8Bom).unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        assert_eq!(
            &bytes[3..],
            text(&fixture::document(fixture::issued())).as_bytes()
        );
    }

    #[test]
    fn shift_jis_round_trips() {
        let doc = fixture::document(fixture::issued());
        let bytes = render(&doc, Encoding::ShiftJis).unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "really Shift_JIS, not UTF-8"
        );
        let (decoded, _, errors) = SHIFT_JIS.decode(&bytes);
        assert!(!errors);
        assert_eq!(decoded, text(&doc));
    }

    #[test]
    fn shift_jis_refuses_what_it_cannot_write() {
        let mut doc = fixture::document(fixture::issued());
        doc.invoice.orders[0].lines[0].name = "急須 🍵".into();
        assert_eq!(
            render(&doc, Encoding::ShiftJis),
            Err(InvoiceError::NotShiftJis("🍵".into()))
        );
        assert!(render(&doc, Encoding::Utf8Bom).is_ok());
    }

    #[test]
    fn a_preview_and_a_reissue_are_marked() {
        let rows = records(&text(&fixture::document(Issue::Preview)));
        assert!(rows.iter().all(|r| r[0].is_empty() && r[2] == "プレビュー"));
        let reissue = Issue::Reissued {
            number: "INV-000007".into(),
            issued_on: fixture::day(16),
            reissued_on: fixture::day(20),
        };
        let rows = records(&text(&fixture::document(reissue)));
        assert!(
            rows.iter()
                .all(|r| r[0] == "INV-000007" && r[1] == "2026-11-16" && r[2] == "再発行")
        );
    }

    #[test]
    fn encodings_by_name() {
        assert_eq!(Encoding::parse("sjis"), Some(Encoding::ShiftJis));
        assert_eq!(Encoding::parse("UTF8"), Some(Encoding::Utf8Bom));
        assert_eq!(Encoding::parse("latin1"), None);
    }
}
