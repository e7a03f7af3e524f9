//! The printable qualified invoice (適格請求書) as one self-contained HTML page.
//!
//! A qualified invoice must state: the issuer's name and registration number, the date,
//! what was supplied, the amounts per tax rate with the rate, the consumption tax per rate,
//! and the addressee. Every text from the config or from orders is escaped.

use std::fmt::Write;

use chrono::NaiveDate;
use quick_xml::escape::escape;

use super::compute::{Invoice, TaxRate};
use super::{InvoiceDocument, Issue};

/// Renders the whole page.
pub fn render(doc: &InvoiceDocument) -> String {
    let inv = &doc.invoice;
    let who = &doc.issuer;
    let mut h = String::with_capacity(8 * 1024);
    let title = match doc.issue.number() {
        Some(n) => format!("請求書 {n}"),
        None => "請求書（プレビュー）".to_string(),
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style></head><body>\n",
        escape(title.as_str())
    );
    let _ = writeln!(h, "<h1>請求書<small>（適格請求書）</small></h1>");
    match &doc.issue {
        Issue::Preview => {
            let _ = writeln!(
                h,
                "<p class=\"mark\">プレビュー（未発行）: 番号のない控えです。送付しないでください。</p>"
            );
        }
        Issue::Reissued { reissued_on, .. } => {
            let _ = writeln!(h, "<p class=\"mark\">再発行（{}）</p>", date(*reissued_on));
        }
        Issue::Issued { .. } => {}
    }
    let _ = writeln!(h, "<p class=\"to\">{}</p>", escape(who.addressee.as_str()));
    let _ = writeln!(h, "<table class=\"head\">");
    let number = doc.issue.number().unwrap_or("（未発行）");
    let issued = match &doc.issue {
        Issue::Preview => "（未発行）".to_string(),
        Issue::Issued { issued_on, .. } | Issue::Reissued { issued_on, .. } => date(*issued_on),
    };
    for (label, value) in [
        ("請求書番号", number.to_string()),
        ("発行日", issued),
        (
            "対象期間",
            format!("{} 〜 {}", date(inv.period.from), date(inv.period.to)),
        ),
        ("発行者", who.issuer_name.clone()),
        ("登録番号", who.registration_number.clone()),
    ] {
        let _ = writeln!(
            h,
            "<tr><th>{label}</th><td>{}</td></tr>",
            escape(value.as_str())
        );
    }
    let _ = writeln!(h, "</table>");
    let _ = writeln!(
        h,
        "<p class=\"total\">ご請求金額（税込）<strong>{}</strong></p>",
        yen(inv.grand_total)
    );
    rate_table(&mut h, inv);
    lines_table(&mut h, inv);
    shipping_table(&mut h, inv);
    let _ = writeln!(
        h,
        "<h2>お振込先</h2>\n<p class=\"bank\">{}</p>",
        escape(who.bank_account.as_str())
    );
    let _ = writeln!(
        h,
        "<h2>お振込予定額（参考）</h2>\n<table class=\"sum\">\
         <tr><th>ご請求金額（税込）</th><td>{}</td></tr>\
         <tr><th>サービス料見込（税抜請求額 {} の10%）</th><td>−{}</td></tr>\
         <tr><th>お振込予定額</th><td>{}</td></tr></table>",
        yen(inv.grand_total),
        yen(inv.tax_excluded_total),
        yen(inv.service_fee),
        yen(inv.expected_transfer)
    );
    let _ = writeln!(
        h,
        "<p class=\"note\">※は軽減税率（8%）対象。消費税は税率ごとに一括して計算し、1円未満を切り捨てています。</p>\n</body></html>"
    );
    h
}

/// Per-rate totals and their tax: the heart of a qualified invoice.
fn rate_table(h: &mut String, inv: &Invoice) {
    let _ = writeln!(
        h,
        "<table class=\"rates\"><tr><th>税率</th><th>対象金額（税込）</th><th>うち消費税</th><th>税抜金額</th></tr>"
    );
    for r in &inv.by_rate {
        let _ = writeln!(
            h,
            "<tr><td>{}%対象</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.rate.percent(),
            yen(r.total),
            yen(r.tax),
            yen(r.tax_excluded)
        );
    }
    let _ = writeln!(
        h,
        "<tr class=\"sum\"><td>合計</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        yen(inv.grand_total),
        yen(inv.tax_total),
        yen(inv.tax_excluded_total)
    );
}

fn lines_table(h: &mut String, inv: &Invoice) {
    let _ = writeln!(
        h,
        "<h2>明細</h2>\n<table class=\"lines\"><tr><th>出荷日</th><th>注文番号</th><th>商品コード</th><th>商品名</th><th>数量</th><th>単価（税込）</th><th>金額（税込）</th></tr>"
    );
    if inv.orders.is_empty() {
        let _ = writeln!(
            h,
            "<tr><td colspan=\"7\">対象期間に出荷した注文はありません</td></tr>"
        );
    }
    for o in &inv.orders {
        for l in &o.lines {
            let reduced = if l.tax_rate == TaxRate::Reduced {
                " ※"
            } else {
                ""
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{reduced}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                date(o.shipped_on),
                escape(o.order_id.as_str()),
                escape(l.item_code.as_str()),
                escape(l.name.as_str()),
                l.qty,
                yen(l.unit_price),
                yen(l.amount)
            );
        }
    }
    let _ = writeln!(h, "</table>");
}

fn shipping_table(h: &mut String, inv: &Invoice) {
    if inv.shipping.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<h2>国内送料（10%対象）</h2>\n<table class=\"lines\"><tr><th>出荷日</th><th>注文番号</th><th>運送会社</th><th>伝票番号</th><th>送料（税込）</th></tr>"
    );
    for s in &inv.shipping {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            date(s.shipped_on),
            escape(s.order_id.as_str()),
            escape(s.carrier.as_str()),
            escape(s.tracking_no.as_str()),
            yen(s.cost)
        );
    }
    let _ = writeln!(h, "</table>");
}

/// `2026年11月30日`.
pub fn date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// `¥1,234,567` (and `−¥5` for a negative amount).
pub fn yen(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if amount < 0 {
        format!("−¥{out}")
    } else {
        format!("¥{out}")
    }
}

const STYLE: &str = "body{font-family:sans-serif;max-width:780px;margin:2em auto;color:#111}\
h1{text-align:center;letter-spacing:.3em}h1 small{font-size:.5em;letter-spacing:0}\
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #999;padding:3px 6px}\
td{text-align:right}td:nth-child(-n+4){text-align:left}.head td,.rates td:first-child{text-align:left}\
.head{width:60%;margin-left:auto}.to{font-size:1.3em;border-bottom:1px solid #111;display:inline-block}\
.total{font-size:1.3em}.total strong{margin-left:1em}.mark{color:#b00;font-weight:bold;border:2px solid #b00;padding:.3em;display:inline-block}\
.sum td{font-weight:bold}.note{font-size:.85em}@media print{body{margin:0}}";

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, day};
    use super::*;

    #[test]
    fn every_required_field_is_printed_and_escaped() {
        let page = render(&fixture::document(fixture::issued()));
        for expected in [
            "適格請求書",
            "株式会社サンプル商店 &lt;本店&gt;",
            "登録番号",
            "T1234567890123",
            "J-goods株式会社 御中 &amp; Co",
            "INV-000007",
            "発行日</th><td>2026年11月16日",
            "2026年11月1日 〜 2026年11月15日",
            "<td>10%対象</td><td>¥17,700</td><td>¥1,609</td><td>¥16,091</td>",
            "<td>8%対象</td><td>¥2,160</td><td>¥160</td><td>¥2,000</td>",
            "¥19,860",
            "−¥1,809",
            "¥18,051",
            "サンプル銀行 本店営業部 普通 1234567",
            "南部鉄器 急須 &quot;大&quot;",
            "煎茶 &lt;特上&gt; ※",
            "123456789012",
            "¥16,500",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in\n{page}");
        }
        assert!(!page.contains("<特上>") && !page.contains("<本店>"));
        assert!(!page.contains("再発行") && !page.contains("プレビュー"));
    }

    #[test]
    fn a_reissue_and_a_preview_say_so() {
        let page = render(&fixture::document(Issue::Reissued {
            number: "INV-000007".into(),
            issued_on: day(16),
            reissued_on: day(20),
        }));
        assert!(page.contains("再発行（2026年11月20日）"));
        assert!(page.contains("INV-000007") && page.contains("2026年11月16日"));
        let page = render(&fixture::document(Issue::Preview));
        assert!(page.contains("プレビュー（未発行）"));
        assert!(!page.contains("INV-"));
    }

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(0), "¥0");
        assert_eq!(yen(999), "¥999");
        assert_eq!(yen(1000), "¥1,000");
        assert_eq!(yen(1234567), "¥1,234,567");
        assert_eq!(yen(-1500), "−¥1,500");
    }
}
