//! `GET /` on the admin listener: a small server-rendered status page for the
//! operator (no script, no build step), and the form route behind its retry
//! buttons.
//!
//! Every value that comes from outside (order ids, reasons, SKUs, provider
//! errors) is escaped. The retry button is a plain POST form that carries the
//! admin token in a password field: the page itself is readable without the
//! token (like `/metrics`, the listener is loopback), but changing anything
//! needs it, which also makes a cross-site forged POST useless.

use std::fmt::Write;

use crate::domain::Order;
use crate::status::Status;
use crate::store::outbox::OutboxRow;
use crate::store::stock::StockRow;

/// SKUs with this many available or fewer are listed, unless `?low_stock=N` says otherwise.
pub const DEFAULT_LOW_STOCK: u32 = 3;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Everything the page shows, read in one store snapshot.
pub struct StatusView {
    /// The summary every status surface shows.
    pub status: Status,
    pub attention: Vec<Order>,
    pub dead: Vec<OutboxRow>,
    pub low_stock: Vec<StockRow>,
    pub low_stock_threshold: u32,
    /// The retry form asks for the admin token (one is configured).
    pub token_required: bool,
    /// A one-line notice after an action (e.g. "call 7 queued again").
    pub notice: Option<String>,
    /// What to configure first (see [`crate::http::AppState::setup_hint`]).
    pub setup_hint: Option<String>,
}

pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
    table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
    th{background:#f3f3f3}h2{margin-top:1.5em}.warn{color:#b00020;font-weight:bold}\
    .notice{background:#e7f5e7;border:1px solid #7c7;padding:.5em 1em}form{margin:0}";

pub fn render(v: &StatusView) -> String {
    let mut h = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ordersync</title>\
         <style>{STYLE}</style></head><body><h1>ordersync</h1>\
         <p><a href=\"/console/\">コンソール(受注・在庫・要対応) / Console</a></p>"
    );
    if let Some(hint) = &v.setup_hint {
        let _ = write!(h, "<p class=\"notice\" id=\"setup\">{}</p>", esc(hint));
    }
    if let Some(notice) = &v.notice {
        let _ = write!(h, "<p class=\"notice\">{}</p>", esc(notice));
    }
    orders_section(&mut h, v);
    attention_section(&mut h, v);
    dead_calls_section(&mut h, v);
    stock_section(&mut h, v);
    catalog_section(&mut h, v);
    providers_section(&mut h, v);
    rejected_section(&mut h, v);
    h.push_str("</body></html>");
    h
}

fn table(h: &mut String, headers: &[&str]) {
    h.push_str("<table><tr>");
    for th in headers {
        let _ = write!(h, "<th>{}</th>", esc(th));
    }
    h.push_str("</tr>");
}

fn orders_section(h: &mut String, v: &StatusView) {
    h.push_str("<h2 id=\"orders\">Orders</h2>");
    table(h, &["state", "count"]);
    for (state, n) in &v.status.per_state {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(state));
    }
    let _ = write!(
        h,
        "</table><p>Provider calls waiting: {}</p>",
        v.status.calls_pending
    );
}

fn attention_section(h: &mut String, v: &StatusView) {
    h.push_str("<h2 id=\"attention\">Needs attention</h2>");
    if v.attention.is_empty() && v.status.problems.is_empty() {
        h.push_str("<p>Nothing needs a person.</p>");
        return;
    }
    for (what, reason) in &v.status.problems {
        let _ = write!(h, "<p class=\"warn\">{}: {}</p>", esc(what), esc(reason));
    }
    if !v.attention.is_empty() {
        table(h, &["channel", "order", "state", "reason"]);
        for o in &v.attention {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(o.channel.as_str()),
                esc(&o.id),
                esc(o.state.as_str()),
                esc(o.attention.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>");
    }
}

fn dead_calls_section(h: &mut String, v: &StatusView) {
    h.push_str("<h2 id=\"dead\">Dead calls</h2>");
    if v.dead.is_empty() {
        h.push_str("<p>None.</p>");
        return;
    }
    table(
        h,
        &["id", "kind", "order", "attempts", "last error", "retry"],
    );
    let token_field = if v.token_required {
        "<input type=\"password\" name=\"token\" required autocomplete=\"current-password\" \
         placeholder=\"admin token\" aria-label=\"admin token\"> "
    } else {
        ""
    };
    for r in &v.dead {
        let _ = write!(
            h,
            "<tr><td>{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><form method=\"post\" action=\"/outbox/{id}/retry\">{token_field}\
             <button type=\"submit\">retry</button></form></td></tr>",
            esc(&r.kind),
            esc(r.order_id.as_deref().unwrap_or("")),
            r.attempts,
            esc(r.last_error.as_deref().unwrap_or("")),
            id = r.id,
        );
    }
    h.push_str("</table>");
}

fn stock_section(h: &mut String, v: &StatusView) {
    let _ = write!(
        h,
        "<h2 id=\"low-stock\">Low stock</h2><p>SKUs with {} or fewer available \
         (change with <code>?low_stock=N</code>).</p>",
        v.low_stock_threshold
    );
    if v.low_stock.is_empty() {
        h.push_str("<p>No SKU is running out.</p>");
    } else {
        table(h, &["sku", "on hand", "reserved", "available"]);
        for s in &v.low_stock {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.sku),
                s.on_hand,
                s.reserved,
                s.available
            );
        }
        h.push_str("</table>");
    }
    for push in &v.status.stock_push {
        let name = push.channel_name();
        let _ = write!(
            h,
            "<p>Stock changes not yet pushed to {name}: {}</p>",
            push.owed
        );
        if !push.unknown.is_empty() {
            let reason = push.unknown_reason();
            let _ = write!(h, "<p>{name} has no item for these SKUs ({reason}):</p>");
            table(h, &["sku", "since"]);
            for (sku, since) in &push.unknown {
                let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(sku), esc(since));
            }
            h.push_str("</table>");
        }
    }
    if let Some(map) = &v.status.rakuten_skus {
        rakuten_map(h, map);
    }
}

/// The product master: what J-goods refused, what it sells that the master lacks.
fn catalog_section(h: &mut String, v: &StatusView) {
    let Some(c) = &v.status.catalog else { return };
    let _ = write!(
        h,
        "<h2 id=\"catalog\">商品マスタ / Product master</h2><p>{} items.</p>",
        c.items
    );
    if c.refused_count > 0 {
        let _ = write!(
            h,
            "<p class=\"warn\">J-goods が受け付けなかった商品 / items J-goods refused: {}</p>",
            c.refused_count
        );
        table(h, &["sku", "what to fix"]);
        for (sku, why) in &c.refused {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(sku), esc(why));
        }
        h.push_str("</table>");
    }
    if !c.not_in_master.is_empty() {
        h.push_str(
            "<p>J-goods で注文されたが商品マスタにない SKU / SKUs ordered on J-goods that the master lacks:</p><ul>",
        );
        for sku in &c.not_in_master {
            let _ = write!(h, "<li>{}</li>", esc(sku));
        }
        h.push_str("</ul>");
    }
}

/// Rakuten's SKU map: what a merchant fixes in RMS or in the mirror.
fn rakuten_map(h: &mut String, map: &crate::store::rakuten_skus::MapReport) {
    let _ = write!(
        h,
        "<h2 id=\"rakuten-skus\">Rakuten SKU map</h2><p>{} Rakuten variants are mapped to mirror SKUs \
         (<code>ordersync rakuten skus</code>). Mirror SKUs not sold at Rakuten: {}.</p>",
        map.pairs, map.not_at_rakuten_total
    );
    if !map.not_in_mirror.is_empty() {
        let _ = write!(
            h,
            "<p>Rakuten variants whose SKU the mirror does not know ({}):</p>",
            map.not_in_mirror_total
        );
        table(h, &["sku", "manageNumber", "variantId"]);
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
        h.push_str(
            "<p>Pairs Rakuten does not hold (accepted by bulk-upsert, absent from bulk-get):</p>",
        );
        table(h, &["sku", "manageNumber", "variantId", "since"]);
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
        h.push_str(
            "<p class=\"warn\">楽天が在庫の更新を拒否した組(商品が変わるまで送りません) / \
             Entries Rakuten refused, set aside until their item changes:</p>",
        );
        table(
            h,
            &[
                "sku",
                "manageNumber",
                "variantId",
                "code",
                "what to fix",
                "since",
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
                esc(&r.fix),
                esc(&r.since)
            );
        }
        h.push_str("</table>");
    }
    if !map.not_pushed.is_empty() {
        h.push_str("<p>在庫を送らない楽天の商品 / Rakuten items whose stock is not pushed:</p>");
        table(h, &["sku", "manageNumber", "variantId", "why"]);
        for (p, item_type) in &map.not_pushed {
            let why = crate::providers::rakuten_pay::refusals::not_pushed_reason(item_type)
                .unwrap_or(item_type.as_str());
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.sku),
                esc(&p.manage_number),
                esc(&p.variant_id),
                esc(why)
            );
        }
        h.push_str("</table>");
    }
}

fn providers_section(h: &mut String, v: &StatusView) {
    h.push_str("<h2 id=\"providers\">Providers</h2>");
    let u = &v.status.rakuten_unconfirmed;
    if let Some(line) = crate::providers::rakuten_pay::rules::unconfirmed_summary(
        u.orders,
        u.short,
        u.oldest_ordered_at.as_deref(),
    ) {
        let _ = write!(
            h,
            "<p id=\"rakuten-unconfirmed\"{}>{}</p>",
            if u.short > 0 { " class=\"warn\"" } else { "" },
            esc(&line)
        );
    }
    if v.status.polls.is_empty() {
        h.push_str("<p>No poll has finished yet.</p>");
    } else {
        table(h, &["provider", "last successful poll"]);
        for poll in &v.status.polls {
            let (provider, at) = (esc(&poll.provider), esc(&poll.at));
            let _ = write!(h, "<tr><td>{provider}</td><td>{at}</td></tr>");
        }
        h.push_str("</table>");
    }
    let l = &v.status.licence;
    match &l.expires_at {
        None => h.push_str("<p>Rakuten licence key: expiry not known yet.</p>"),
        Some(at) => {
            let days = l
                .days_left
                .map(|d| format!(" ({d} days left)"))
                .unwrap_or_default();
            let warn = l.expiring();
            let _ = write!(
                h,
                "<p{}>Rakuten licence key expires {}{}{}</p>",
                if warn { " class=\"warn\"" } else { "" },
                esc(at),
                esc(&days),
                if warn { ": issue a new key in RMS" } else { "" }
            );
        }
    }
    if let Some(fix) = &l.check_refused {
        let _ = write!(h, "<p id=\"licence-check\">{}</p>", esc(fix));
    }
}

/// Webhooks refused in the last day, grouped by provider and reason, with
/// what a burst most likely means.
fn rejected_section(h: &mut String, v: &StatusView) {
    if v.status.rejected.is_empty() {
        return;
    }
    h.push_str("<h2 id=\"rejected\">Rejected webhooks (24 h)</h2>");
    table(
        h,
        &["provider", "reason", "count", "last hour", "last", "likely"],
    );
    for r in &v.status.rejected {
        let warn = r.code == "unauthorized" && r.last_hour >= crate::status::UNAUTHORIZED_BURST;
        let _ = write!(
            h,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if warn { " class=\"warn\"" } else { "" },
            esc(&r.provider),
            esc(&r.code),
            r.count,
            r.last_hour,
            esc(&crate::domain::time::shown(&r.last_at)),
            esc(crate::status::rejected_hint(r))
        );
    }
    h.push_str("</table>");
}

/// The page a browser gets for an address the admin listener does not have.
pub fn not_found_page() -> String {
    format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>ordersync: 404</title>\
         <style>{STYLE}</style></head><body><h1>ページが見つかりません / Page not found</h1>\
         <p><a href=\"/\">状態ページへ / Status page</a> · <a href=\"/console/\">コンソールへ / Console</a></p>\
         </body></html>"
    )
}

/// A small page for the answer of a form action that failed.
pub fn message_page(title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ordersync: {t}</title>\
         <style>{STYLE}</style></head><body><h1>{t}</h1><p>{}</p><p><a href=\"/\">Back to the status page</a></p></body></html>",
        esc(message),
        t = esc(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::rakuten_pay::licence::Licence;
    use crate::store::stock_push::PushSummary;

    #[test]
    fn escapes_everything_it_prints() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let page = render(&StatusView {
            status: Status {
                per_state: vec![("<new>".into(), 1)],
                polls: vec![crate::status::Poll {
                    provider: "<prov>".into(),
                    at: "<t>".into(),
                    age_seconds: None,
                }],
                licence: Licence {
                    expires_at: Some("<x>".into()),
                    days_left: Some(3),
                    check_refused: Some("<i>".into()),
                },
                problems: vec![("rakuten".into(), "<script>alert(1)</script>".into())],
                stock_push: vec![PushSummary {
                    channel: crate::domain::Channel::Jgoods,
                    owed: 0,
                    unknown: vec![("<sku>".into(), "t".into())],
                }],
                ..Default::default()
            },
            attention: vec![],
            dead: vec![],
            low_stock: vec![],
            low_stock_threshold: DEFAULT_LOW_STOCK,
            token_required: true,
            notice: Some("<b>".into()),
            setup_hint: Some("<i>".into()),
        });
        for raw in [
            "<new>", "<prov>", "<t>", "<x>", "<script>", "<sku>", "<b>", "<i>",
        ] {
            assert!(!page.contains(raw), "{raw} unescaped");
        }
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("issue a new key"));
    }
}
