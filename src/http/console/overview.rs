//! The console's Problems and Stock pages: what needs a person across the
//! shop, and the stock mirror with what each channel is still owed.

use std::fmt::Write;

use super::pages::{Ctx, layout, order_href};
use super::text::{t, when};
use crate::domain::Order;
use crate::http::status_page::esc;
use crate::status::{Status, rejected_hint};
use crate::store::outbox::OutboxRow;
use crate::store::stock::StockRow;

/// What the Problems page shows, read in one transaction.
pub struct Problems {
    pub status: Status,
    pub attention: Vec<Order>,
    pub dead: Vec<OutboxRow>,
    /// Pollers whose last success is older than their schedule allows.
    pub behind: Vec<crate::status::Poll>,
}

/// The Problems page: orders needing attention, dead calls, refused
/// webhooks by reason, channel-wide problems, the Rakuten licence, SKUs a
/// channel does not know. Refreshes every minute.
pub fn problems(c: &Ctx, p: &Problems) -> String {
    let lang = c.lang;
    let mut h = String::new();
    let nothing = p.attention.is_empty()
        && p.dead.is_empty()
        && p.status.rejected.is_empty()
        && p.status.problems.is_empty()
        && p.behind.is_empty()
        && p.status
            .catalog
            .as_ref()
            .is_none_or(|c| c.refused_count == 0);
    if nothing {
        let _ = write!(
            h,
            "<p class=\"notice\">{}</p>",
            t(
                lang,
                "対応が必要なものはありません。",
                "Nothing needs a person."
            )
        );
    }
    let _ = write!(
        h,
        "<h2 id=\"attention\">{} ({})</h2><ul>",
        t(lang, "要対応の受注", "Orders needing attention"),
        p.status.attention
    );
    for o in &p.attention {
        let _ = write!(
            h,
            "<li><a href=\"{}\">{} {}</a>: {}</li>",
            esc(&order_href(o)),
            o.channel.as_str(),
            esc(&o.id),
            esc(o.attention.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</ul>");
    let _ = write!(
        h,
        "<h2 id=\"dead\">{} ({})</h2><ul>",
        t(lang, "失敗した送信", "Failed calls"),
        p.status.calls_dead
    );
    for r in &p.dead {
        let order = match (&r.channel, &r.order_id) {
            (Some(ch), Some(id)) => format!(
                " — <a href=\"/console/orders/{}/{}\">{}</a>",
                esc(ch),
                esc(&super::pages::urlencode(id)),
                esc(id)
            ),
            _ => String::new(),
        };
        let _ = write!(
            h,
            "<li>#{} {}{order}: {}</li>",
            r.id,
            esc(&r.kind),
            esc(r.last_error.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</ul>");
    if !p.status.rejected.is_empty() {
        let _ = write!(
            h,
            "<h2 id=\"rejected\">{}</h2><ul>",
            t(lang, "拒否した Webhook(24時間)", "Refused webhooks (24 h)")
        );
        for r in &p.status.rejected {
            let _ = write!(
                h,
                "<li>{} {} × {} ({} {}, {}) {}</li>",
                esc(&r.provider),
                r.count,
                esc(&r.code),
                r.last_hour,
                t(lang, "件/直近1時間", "in the last hour"),
                esc(&when(lang, &r.last_at, c.now)),
                esc(rejected_hint(r))
            );
        }
        h.push_str("</ul>");
    }
    if !p.status.problems.is_empty() {
        let _ = write!(
            h,
            "<h2 id=\"providers\">{}</h2><ul>",
            t(lang, "連携の問題", "Provider problems")
        );
        for (provider, fix) in &p.status.problems {
            let _ = write!(h, "<li class=\"warn\">{}: {}</li>", esc(provider), esc(fix));
        }
        h.push_str("</ul>");
    }
    if !p.behind.is_empty() {
        let _ = write!(
            h,
            "<h2 id=\"pollers\">{}</h2><ul>",
            t(lang, "取り込みの遅れ", "Pollers behind")
        );
        for poll in &p.behind {
            let _ = write!(
                h,
                "<li class=\"warn\">{}: {} {}</li>",
                esc(&poll.provider),
                t(lang, "最後に成功した取得", "last success"),
                esc(&when(lang, &poll.at, c.now))
            );
        }
        h.push_str("</ul>");
    }
    if let Some(cat) = p.status.catalog.as_ref().filter(|c| c.refused_count > 0) {
        let _ = write!(
            h,
            "<h2 id=\"catalog\">{} ({})</h2><ul>",
            t(lang, "J-goods が受け付けない商品", "Items J-goods refuses"),
            cat.refused_count
        );
        for (sku, why) in &cat.refused {
            let _ = write!(h, "<li class=\"warn\">{}: {}</li>", esc(sku), esc(why));
        }
        h.push_str("</ul>");
    }
    if let Some(cat) = p
        .status
        .catalog
        .as_ref()
        .filter(|c| !c.not_in_master.is_empty())
    {
        let _ = write!(
            h,
            "<p>{} {}</p>",
            t(
                lang,
                "J-goods で注文されたが商品マスタにない SKU:",
                "SKUs ordered on J-goods that the master lacks:"
            ),
            esc(&cat.not_in_master.join(", "))
        );
    }
    let l = &p.status.licence;
    if let Some(at) = &l.expires_at {
        let _ = write!(
            h,
            "<p{}>{} {}</p>",
            if l.expiring() { " class=\"warn\"" } else { "" },
            t(
                lang,
                "楽天ライセンスキーの期限:",
                "Rakuten licence key expires"
            ),
            esc(&when(lang, at, c.now))
        );
    }
    for push in &p.status.stock_push {
        for (sku, since) in &push.unknown {
            let _ = write!(
                h,
                "<p>{} {}: {} ({})</p>",
                crate::wording::channel(lang, push.channel),
                t(lang, "が知らない SKU", "does not know SKU"),
                esc(sku),
                esc(&when(lang, since, c.now))
            );
        }
    }
    layout(c, t(lang, "問題", "Problems"), Some(60), &h)
}

/// The Stock page: a page of SKUs from `from`, the low ones, and what each
/// channel is still owed.
pub fn stock(c: &Ctx, from: &str, rows: &[StockRow], low: &[StockRow], status: &Status) -> String {
    let lang = c.lang;
    let mut h = format!(
        "<form method=\"get\" action=\"/console/stock\"><label>SKU <input name=\"from\" value=\"{}\"></label> \
         <button>{}</button></form>",
        esc(from),
        t(lang, "表示", "Show")
    );
    for push in &status.stock_push {
        let _ = write!(
            h,
            "<p>{} {}: {}</p>",
            crate::wording::channel(lang, push.channel),
            t(lang, "へ未送信の在庫変更", "stock changes not yet pushed"),
            push.owed
        );
    }
    let table = |h: &mut String, title: &str, id: &str, rows: &[StockRow]| {
        let _ = write!(
            h,
            "<h2 id=\"{id}\">{}</h2><table><tr><th>SKU</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(title),
            t(lang, "実在庫", "On hand"),
            t(lang, "引当", "Reserved"),
            t(lang, "有効在庫", "Available"),
            t(lang, "更新", "Updated"),
        );
        for r in rows {
            let _ = write!(
                h,
                "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if r.available == 0 {
                    " class=\"warn\""
                } else {
                    ""
                },
                esc(&r.sku),
                r.on_hand,
                r.reserved,
                r.available,
                esc(&when(lang, &r.updated_at, c.now))
            );
        }
        h.push_str("</table>");
    };
    table(&mut h, t(lang, "在庫が少ない SKU", "Low stock"), "low", low);
    table(&mut h, t(lang, "在庫", "Stock"), "stock", rows);
    layout(c, t(lang, "在庫", "Stock"), None, &h)
}
