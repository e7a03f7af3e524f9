//! The forms of a person's actions on the order page. Each carries the
//! session's form token; the guard refuses a post from another site.

use std::fmt::Write;

use super::pages::{Ctx, urlencode};
use super::text::t;
use crate::domain::{Carrier, Order, OrderState};
use crate::http::status_page::esc;
use crate::store::komoju_refund_requests::RefundRequest;

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

/// Where the order's KOMOJU refund request stands and, while it waits for
/// the customer's bank account (none yet, or KOMOJU rejected it), the form
/// that files it.
pub fn refund_request(h: &mut String, c: &Ctx, o: &Order, r: &RefundRequest) {
    let lang = c.lang;
    let said = crate::providers::komoju::refund_flow::describe(r);
    let said = match (said.split_once(" / "), lang) {
        (Some((_, en)), crate::config::Language::En) => en.to_string(),
        (Some((ja, _)), _) => ja.to_string(),
        (None, _) => said.clone(),
    };
    let _ = write!(
        h,
        "<h2 id=\"refund-request\">{}</h2><p>{}</p>",
        t(lang, "返金申請(KOMOJU)", "Refund request (KOMOJU)"),
        esc(&said)
    );
    if !r.state.takes_account() {
        return;
    }
    let field = |name: &str, ja: &'static str, en: &'static str, size: u32, extra: &str| {
        format!(
            "<label>{} <input name=\"{name}\" size=\"{size}\" {extra}></label> ",
            t(lang, ja, en)
        )
    };
    let _ = write!(
        h,
        "<form method=\"post\" action=\"{}\" id=\"refund-account\" autocomplete=\"off\">{}{}{}{}{}{}\
         <label>{} <select name=\"account_type\"><option value=\"normal\">{}</option></select></label> {}\
         <label><input type=\"checkbox\" name=\"include_payment_method_fee\"> {}</label> \
         <button>{}</button><br><small>{}</small></form>",
        esc(&action(o, "refund_account")),
        hidden(c),
        field(
            "customer_name",
            "口座名義(カナ)",
            "Account holder (katakana)",
            24,
            "maxlength=\"100\" required"
        ),
        field(
            "bank_name",
            "銀行名",
            "Bank",
            16,
            "maxlength=\"100\" required"
        ),
        field(
            "bank_code",
            "銀行コード(4 桁)",
            "Bank code (4 digits)",
            4,
            "maxlength=\"4\" inputmode=\"numeric\""
        ),
        field("branch_name", "支店名", "Branch", 12, "maxlength=\"100\""),
        field(
            "branch_number",
            "支店番号(3 桁)",
            "Branch number (3 digits)",
            3,
            "maxlength=\"3\" inputmode=\"numeric\" required"
        ),
        t(lang, "預金種目", "Account type"),
        t(lang, "普通", "Ordinary (normal)"),
        field(
            "account_number",
            "口座番号(7 桁)",
            "Account number (7 digits)",
            7,
            "maxlength=\"7\" inputmode=\"numeric\" required"
        ),
        t(
            lang,
            "お客様の支払手数料も返金する",
            "Also refund the customer's payment fee"
        ),
        t(
            lang,
            "KOMOJU に返金申請する",
            "File the refund request with KOMOJU"
        ),
        t(
            lang,
            "KOMOJU の返金申請には手数料がかかります。口座情報は申請が終わるまでだけ保存します。",
            "KOMOJU charges a fee per refund request. The account is kept only until the request ends.",
        ),
    );
}
