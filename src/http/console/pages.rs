//! The console's pages, rendered on the server (no script): the orders
//! search and one order with its history, calls and webhooks, and the
//! forms of a person's actions. Everything printed is escaped: order ids,
//! names and attention texts come from outside.

use std::fmt::Write;

use chrono::{DateTime, FixedOffset};

use super::text::{self, t};
use crate::config::Language;
use crate::domain::Order;
use crate::http::status_page::esc;
use crate::store::events::OrderHistory;
use crate::store::inbox::{OrderDeliveries, Received};
use crate::store::outbox::OutboxRow;

/// What every page needs: the language, the time, the session's form token.
pub struct Ctx {
    pub lang: Language,
    pub now: DateTime<FixedOffset>,
    pub form_token: String,
}

/// The page around `body`, with the console's menu.
pub fn layout(c: &Ctx, title: &str, refresh: Option<u32>, body: &str) -> String {
    let lang = match c.lang {
        Language::Ja => "ja",
        Language::En => "en",
    };
    let meta = refresh
        .map(|s| format!("<meta http-equiv=\"refresh\" content=\"{s}\">"))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{meta}\
         <title>{} — ordersync</title><style>{}</style></head><body>\
         <nav class=\"top\"><a class=\"brand\" href=\"/console/\">ordersync</a>\
         <a href=\"/console/\">{}</a><a href=\"/console/orders\">{}</a>\
         <a href=\"/console/orders?attention=1\">{}</a>\
         <a href=\"/console/problems\">{}</a><a href=\"/console/stock\">{}</a>\
         <a href=\"/console/shipments\">{}</a><a href=\"/console/sellers\">{}</a>\
         <a href=\"/\">{}</a>{}</nav><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        super::style::STYLE,
        t(c.lang, "ホーム", "Home"),
        t(c.lang, "受注", "Orders"),
        t(c.lang, "要対応", "Needs attention"),
        t(c.lang, "問題", "Problems"),
        t(c.lang, "在庫", "Stock"),
        t(c.lang, "出荷ファイル", "Shipping files"),
        t(c.lang, "出品者", "Sellers"),
        t(c.lang, "状態", "Status"),
        logout_form(c),
        esc(title),
    )
}

fn logout_form(c: &Ctx) -> String {
    if c.form_token.is_empty() {
        return String::new();
    }
    format!(
        "<form method=\"post\" action=\"/console/logout\">\
         <input type=\"hidden\" name=\"form_token\" value=\"{}\">\
         <button>{}</button></form>",
        esc(&c.form_token),
        t(c.lang, "ログアウト", "Log out")
    )
}

/// The login page (the admin token, once).
pub fn login(lang: Language, next: &str, failed: bool) -> String {
    let c = Ctx {
        lang,
        now: crate::domain::time::now(),
        form_token: String::new(),
    };
    let warn = if failed {
        format!(
            "<p class=\"warn\">{}</p>",
            t(
                lang,
                "管理トークンが違います。",
                "That is not the admin token."
            )
        )
    } else {
        String::new()
    };
    let body = format!(
        "{warn}<form method=\"post\" action=\"/console/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label>{} <input type=\"password\" name=\"token\" autocomplete=\"current-password\" autofocus></label> \
         <button>{}</button></form><p>{}</p>",
        esc(next),
        t(lang, "管理トークン", "Admin token"),
        t(lang, "ログイン", "Log in"),
        t(
            lang,
            "管理トークンは /etc/ordersync/credentials/admin-token にあります(sudo cat で表示)。",
            "The admin token is in /etc/ordersync/credentials/admin-token (sudo cat it)."
        ),
    );
    layout(&c, t(lang, "ログイン", "Log in"), None, &body)
}

/// The search form, filled with what was searched.
pub fn search_form(c: &Ctx, q: &super::OrdersQuery) -> String {
    let lang = c.lang;
    let select = |name: &str, options: &[(&str, &str)], chosen: &str| {
        let mut s = format!("<select name=\"{name}\"><option value=\"\">—</option>");
        for (value, label) in options {
            let sel = if *value == chosen { " selected" } else { "" };
            let _ = write!(s, "<option value=\"{value}\"{sel}>{}</option>", esc(label));
        }
        s.push_str("</select>");
        s
    };
    use crate::domain::{Channel, OrderState, PaymentState};
    let states: Vec<(&str, &str)> = OrderState::ALL
        .iter()
        .map(|s| (s.as_str(), crate::wording::order_state(lang, *s)))
        .collect();
    let channels: Vec<(&str, &str)> = Channel::ALL
        .iter()
        .map(|ch| (ch.as_str(), crate::wording::channel(lang, *ch)))
        .collect();
    let payments: Vec<(&str, &str)> = PaymentState::ALL
        .iter()
        .map(|p| (p.as_str(), crate::wording::payment_state(lang, *p)))
        .collect();
    format!(
        "<form method=\"get\" action=\"/console/orders\">\
         <label>{} {}</label> <label>{} {}</label> <label>{} {}</label> \
         <label>{} <input name=\"id\" value=\"{}\" size=\"24\"></label> \
         <label>SKU <input name=\"sku\" value=\"{}\" size=\"14\"></label> \
         <label>{} <input name=\"from\" value=\"{}\" size=\"10\" placeholder=\"2026-12-01\"></label> \
         <label>〜 <input name=\"to\" value=\"{}\" size=\"10\" placeholder=\"2026-12-31\"></label> \
         <label><input type=\"checkbox\" name=\"attention\" value=\"1\"{}> {}</label> \
         <button>{}</button></form>",
        t(lang, "販売先", "Channel"),
        select("channel", &channels, q.channel.as_deref().unwrap_or("")),
        t(lang, "状態", "State"),
        select("state", &states, q.state.as_deref().unwrap_or("")),
        t(lang, "支払い", "Payment"),
        select("payment", &payments, q.payment.as_deref().unwrap_or("")),
        t(lang, "受注番号", "Order id"),
        esc(q.id.as_deref().unwrap_or("")),
        esc(q.sku.as_deref().unwrap_or("")),
        t(lang, "受注日", "Received"),
        esc(q.from.as_deref().unwrap_or("")),
        esc(q.to.as_deref().unwrap_or("")),
        if q.attention.is_some() {
            " checked"
        } else {
            ""
        },
        t(lang, "要対応のみ", "Needs attention only"),
        t(lang, "検索", "Search"),
    )
}

/// The orders page: the form, one page of orders, a link to the next.
pub fn orders(c: &Ctx, q: &super::OrdersQuery, page: &[Order], next: Option<i64>) -> String {
    let lang = c.lang;
    let mut h = search_form(c, q);
    if page.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            t(lang, "該当する受注はありません。", "No order matches.")
        );
    } else {
        let _ = write!(
            h,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t(lang, "受注番号", "Order"),
            t(lang, "販売先", "Channel"),
            t(lang, "状態", "State"),
            t(lang, "支払い", "Payment"),
            t(lang, "受注日時", "Received"),
            t(lang, "要対応", "Attention"),
        );
        for o in page {
            let _ = write!(
                h,
                "<tr{}><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if o.attention.is_some() {
                    " class=\"warn\""
                } else {
                    ""
                },
                esc(&order_href(o)),
                esc(&o.id),
                crate::wording::channel(lang, o.channel),
                esc(crate::wording::order_state_of(lang, o)),
                esc(&text::payment(lang, o.payment_state.as_str())),
                esc(&text::when(lang, &o.created_at, c.now)),
                esc(crate::wording::pick(
                    lang,
                    o.attention.as_deref().unwrap_or("")
                )),
            );
        }
        h.push_str("</table>");
    }
    if let Some(before) = next {
        let _ = write!(
            h,
            "<p><a href=\"{}\">{}</a></p>",
            esc(&q.href_before(before)),
            t(lang, "さらに古い受注 →", "Older orders →")
        );
    }
    layout(c, t(lang, "受注", "Orders"), Some(60), &h)
}

/// Where an order's page is (ids are URL-encoded: they come from outside).
pub fn order_href(o: &Order) -> String {
    format!(
        "/console/orders/{}/{}",
        o.channel.as_str(),
        urlencode(&o.id)
    )
}

/// Percent-encoding of a path segment.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// One order: head, lines, shipments, actions, history, calls, webhooks.
pub fn order(
    c: &Ctx,
    o: &Order,
    events: &OrderHistory,
    calls: &[OutboxRow],
    received: &OrderDeliveries,
    refund: Option<&crate::store::komoju_refund_requests::RefundRequest>,
) -> String {
    let lang = c.lang;
    let mut h = String::new();
    let _ = write!(
        h,
        "<p>{} · {} · {} {}</p>",
        crate::wording::channel(lang, o.channel),
        esc(crate::wording::order_state_of(lang, o)),
        t(lang, "支払い", "payment"),
        esc(&text::payment(lang, o.payment_state.as_str()))
    );
    if let Some(a) = &o.attention {
        let _ = write!(
            h,
            "<p class=\"warn\" id=\"attention\">{}: {}</p>",
            t(lang, "要対応", "Needs attention"),
            esc(crate::wording::pick(lang, a))
        );
    }
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>#</th><th>SKU</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(lang, "明細と引当", "Lines and reservations"),
        t(lang, "品名", "Name"),
        t(lang, "数量", "Qty"),
        t(lang, "引当", "Reserved")
    );
    for l in &o.lines {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            l.line_no,
            esc(&l.sku),
            esc(&l.name),
            l.qty,
            l.reserved_qty
        );
    }
    h.push_str("</table>");
    for s in &o.shipments {
        let _ = write!(
            h,
            "<p>{}: {} {} ({})</p>",
            t(lang, "出荷", "Shipped"),
            crate::wording::carrier(lang, s.carrier),
            esc(&s.tracking_no),
            s.shipped_on.format("%Y-%m-%d")
        );
    }
    if let Some(r) = refund {
        super::forms::refund_request(&mut h, c, o, r);
    }
    super::forms::order_actions(&mut h, c, o);
    history(&mut h, c, events);
    calls_table(&mut h, c, o, calls);
    received_table(&mut h, c, &received.verified);
    refused_table(&mut h, c, received);
    layout(
        c,
        &format!("{} {}", t(lang, "受注", "Order"), o.id),
        None,
        &h,
    )
}

/// Newest events an order's page shows; the older ones are counted.
pub const ORDER_EVENTS_SHOWN: u32 = 200;

fn history(h: &mut String, c: &Ctx, history: &OrderHistory) {
    let _ = write!(
        h,
        "<h2 id=\"history\">{}</h2>",
        t(c.lang, "経緯", "History")
    );
    if history.earlier > 0 {
        let _ = write!(
            h,
            "<p id=\"earlier-events\">{} {} {}</p>",
            t(c.lang, "これより前の経緯", "Earlier events not shown:"),
            history.earlier,
            t(c.lang, "件は表示していません。", "")
        );
    }
    h.push_str("<ul>");
    for e in &history.events {
        let event = serde_json::json!({"kind": e.kind, "channel": e.channel, "detail": e.detail});
        let _ = write!(
            h,
            "<li>{} — {}</li>",
            esc(&text::when(c.lang, &e.at, c.now)),
            esc(&crate::engine::sentences::describe_in(c.lang, &event))
        );
    }
    h.push_str("</ul>");
}

fn calls_table(h: &mut String, c: &Ctx, o: &Order, calls: &[OutboxRow]) {
    let lang = c.lang;
    let _ = write!(
        h,
        "<h2 id=\"calls\">{}</h2>",
        t(lang, "外部への送信", "Calls to providers")
    );
    if calls.is_empty() {
        let _ = write!(h, "<p>{}</p>", t(lang, "ありません。", "None."));
        return;
    }
    let _ = write!(
        h,
        "<table><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        t(lang, "種類", "Kind"),
        t(lang, "状態", "State"),
        t(lang, "試行", "Attempts"),
        t(lang, "次の試行", "Next attempt"),
        t(lang, "最後のエラー", "Last error"),
    );
    for r in calls {
        let next = if r.state == "pending" {
            text::when(lang, &r.next_attempt_at, c.now)
        } else {
            String::new()
        };
        let _ = write!(
            h,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>",
            if r.state == "dead" {
                " class=\"warn\""
            } else {
                ""
            },
            r.id,
            esc(&crate::wording::call_kind(lang, &r.kind)),
            esc(&text::call_state(lang, &r.state)),
            r.attempts,
            esc(&next),
            esc(crate::wording::pick(
                lang,
                r.last_error.as_deref().unwrap_or("")
            )),
        );
        if r.state == "dead" {
            super::forms::call_actions(h, c, o, r.id);
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</table>");
}

/// Refused deliveries that named the order: a count and the newest few,
/// each marked unverified (its order id is the sender's claim only).
fn refused_table(h: &mut String, c: &Ctx, d: &OrderDeliveries) {
    if d.refused == 0 {
        return;
    }
    let _ = write!(
        h,
        "<h2 id=\"refused-webhooks\">{}</h2><p>{} {} {}</p>",
        t(
            c.lang,
            "拒否した Webhook（未検証）",
            "Refused webhooks (unverified)"
        ),
        t(
            c.lang,
            "この受注を名乗る未検証の Webhook を",
            "Unverified webhooks naming this order:"
        ),
        d.refused,
        t(
            c.lang,
            "件拒否しました（新しい順に一部を表示）。",
            "refused (the newest shown)."
        ),
    );
    rows(h, c, &d.refused_sample, t(c.lang, "未検証", "unverified"));
}

fn received_table(h: &mut String, c: &Ctx, received: &[Received]) {
    let lang = c.lang;
    let _ = write!(
        h,
        "<h2 id=\"webhooks\">{}</h2>",
        t(lang, "受信した Webhook", "Webhooks received")
    );
    if received.is_empty() {
        let _ = write!(h, "<p>{}</p>", t(lang, "ありません。", "None."));
        return;
    }
    rows(h, c, received, "");
}

/// A table of deliveries; `mark` (when not empty) heads each row.
fn rows(h: &mut String, c: &Ctx, received: &[Received], mark: &str) {
    h.push_str("<table>");
    for r in received {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(mark),
            esc(&text::when(c.lang, &r.received_at, c.now)),
            esc(&crate::wording::provider_named(c.lang, &r.provider)),
            esc(r.delivery_id.as_deref().unwrap_or("")),
            esc(&text::call_state(c.lang, &r.state)),
            esc(r.reason.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</table>");
}
