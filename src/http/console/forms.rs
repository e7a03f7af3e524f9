//! The forms of a person's actions on the order page. Each carries the
//! session's form token; the guard refuses a post from another site.

use std::fmt::Write;

use super::pages::{Ctx, urlencode};
use super::text::t;
use crate::domain::{Carrier, Order, OrderState};
use crate::http::status_page::esc;

fn hidden(c: &Ctx) -> String {
    format!(
        "<input type=\"hidden\" name=\"form_token\" value=\"{}\">",
        esc(&c.form_token)
    )
}

fn action(o: &Order, what: &str) -> String {
    format!(
        "/console/orders/{}/{}/{what}",
        o.channel.as_str(),
        urlencode(&o.id)
    )
}

/// Acknowledge, cancel and ship, where they apply.
pub fn order_actions(h: &mut String, c: &Ctx, o: &Order) {
    let lang = c.lang;
    let _ = write!(h, "<h2 id=\"actions\">{}</h2>", t(lang, "操作", "Actions"));
    if o.attention.is_some() {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"{}\" id=\"ack\">{}\
             <label>{} <input name=\"note\" size=\"40\" maxlength=\"500\"></label> <button>{}</button></form>",
            esc(&action(o, "ack")),
            hidden(c),
            t(lang, "メモ", "Note"),
            t(lang, "確認済みにする", "Acknowledge the attention"),
        );
    }
    // Only a confirmed order can ship (the engine's rule); any open one can be cancelled.
    if o.state == OrderState::Confirmed {
        let carriers: String = Carrier::ALL
            .iter()
            .map(|k| {
                format!(
                    "<option value=\"{}\">{}</option>",
                    k.as_str(),
                    crate::wording::carrier(lang, *k)
                )
            })
            .collect();
        let _ = write!(
            h,
            "<form method=\"post\" action=\"{}\" id=\"ship\">{}\
             <label>{} <select name=\"carrier\">{carriers}</select></label> \
             <label>{} <input name=\"tracking\" size=\"20\" maxlength=\"64\" required></label> \
             <label>{} <input name=\"date\" size=\"10\" placeholder=\"2026-12-03\"></label> \
             <button>{}</button></form>",
            esc(&action(o, "ship")),
            hidden(c),
            t(lang, "配送会社", "Carrier"),
            t(lang, "送り状番号", "Tracking number"),
            t(lang, "出荷日", "Ship date"),
            t(lang, "出荷を記録(出荷報告)", "Record the shipment"),
        );
    }
    // J-goods cancels its own orders (注文取消); the button is offered only
    // where the cancel would be taken.
    if crate::engine::erp::merchant_can_cancel(o) {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"{}\" id=\"cancel\">{}\
             <label>{} <input name=\"reason\" size=\"30\" maxlength=\"500\"></label> <button>{}</button></form>",
            esc(&action(o, "cancel")),
            hidden(c),
            t(lang, "理由", "Reason"),
            t(lang, "キャンセル(在庫を戻す)", "Cancel (stock goes back)"),
        );
    }
}

/// Retry or drop a dead call.
pub fn call_actions(h: &mut String, c: &Ctx, o: &Order, id: i64) {
    let lang = c.lang;
    let back = format!("{}/{}", o.channel.as_str(), urlencode(&o.id));
    let _ = write!(
        h,
        "<form method=\"post\" action=\"/console/outbox/{id}/retry?back={}\" class=\"retry\">{}\
         <button>{}</button></form>\
         <form method=\"post\" action=\"/console/outbox/{id}/drop?back={}\" class=\"drop\">{}\
         <input name=\"reason\" size=\"24\" maxlength=\"500\" required placeholder=\"{}\"> <button>{}</button></form>",
        esc(&back),
        hidden(c),
        t(lang, "再試行", "Retry"),
        esc(&back),
        hidden(c),
        t(lang, "取り下げる理由", "Why drop it"),
        t(lang, "取り下げ(送らない)", "Drop (never send)"),
    );
}
