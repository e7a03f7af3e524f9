//! The status page's section on Rakuten's SKU map: what a merchant fixes
//! in RMS or in the mirror.

use std::fmt::Write;

use super::{esc, table};
use crate::config::Language;
use crate::wording::{pick, say};

/// Rakuten's SKU map: what a merchant fixes in RMS or in the mirror.
pub(super) fn rakuten_map(
    h: &mut String,
    l: Language,
    map: &crate::store::rakuten_skus::MapReport,
) {
    let _ = match l {
        Language::Ja => write!(
            h,
            "<h2 id=\"rakuten-skus\">楽天の SKU 対応</h2><p>楽天の SKU {} 件がミラーの SKU に対応しています\
             (<code>ordersync rakuten skus</code>)。楽天で販売していないミラーの SKU: {} 件。</p>",
            map.pairs, map.not_at_rakuten_total
        ),
        Language::En => write!(
            h,
            "<h2 id=\"rakuten-skus\">Rakuten SKU map</h2><p>{} Rakuten variants are mapped to mirror SKUs \
             (<code>ordersync rakuten skus</code>). Mirror SKUs not sold at Rakuten: {}.</p>",
            map.pairs, map.not_at_rakuten_total
        ),
    };
    let head = |h: &mut String, extra: &[&str]| {
        let mut cols = vec![
            "SKU",
            say(l, "商品管理番号", "manageNumber"),
            say(l, "SKU管理番号", "variantId"),
        ];
        cols.extend_from_slice(extra);
        table(h, &cols);
    };
    if !map.not_in_mirror.is_empty() {
        let _ = write!(
            h,
            "<p>{} ({}):</p>",
            say(
                l,
                "ミラーが知らない SKU の楽天の商品",
                "Rakuten variants whose SKU the mirror does not know"
            ),
            map.not_in_mirror_total
        );
        head(h, &[]);
        for p in &map.not_in_mirror {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.sku),
                esc(&p.manage_number),
                esc(&p.variant_id)
            );
        }
        h.push_str("</table>");
    }
    if !map.not_held.is_empty() {
        let _ = write!(
            h,
            "<p>{}:</p>",
            say(
                l,
                "楽天が持っていない組(一括更新で受け付けられ、一括取得に含まれません)",
                "Pairs Rakuten does not hold (accepted by bulk-upsert, absent from bulk-get)"
            )
        );
        head(h, &[say(l, "いつから", "since")]);
        for (p, since) in &map.not_held {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.sku),
                esc(&p.manage_number),
                esc(&p.variant_id),
                esc(since)
            );
        }
        h.push_str("</table>");
    }
    if !map.refused.is_empty() {
        let _ = write!(
            h,
            "<p class=\"warn\">{}:</p>",
            say(
                l,
                "楽天が在庫の更新を拒否した組(商品が変わるまで送りません)",
                "Entries Rakuten refused, set aside until their item changes"
            )
        );
        head(
            h,
            &[
                say(l, "コード", "code"),
                say(l, "直すこと", "what to fix"),
                say(l, "いつから", "since"),
            ],
        );
        for r in &map.refused {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.pair.sku),
                esc(&r.pair.manage_number),
                esc(&r.pair.variant_id),
                esc(&r.code),
                esc(pick(l, &r.fix)),
                esc(&r.since)
            );
        }
        h.push_str("</table>");
    }
    if !map.not_pushed.is_empty() {
        let _ = write!(
            h,
            "<p>{}:</p>",
            say(
                l,
                "在庫を送らない楽天の商品",
                "Rakuten items whose stock is not pushed"
            )
        );
        head(h, &[say(l, "理由", "why")]);
        for (p, item_type) in &map.not_pushed {
            let why = crate::providers::rakuten_pay::refusals::not_pushed_reason(item_type)
                .unwrap_or(item_type.as_str());
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.sku),
                esc(&p.manage_number),
                esc(&p.variant_id),
                esc(pick(l, why))
            );
        }
        h.push_str("</table>");
    }
}
