//! One order as `ordersync orders show` prints it for a person, in
//! `[daemon] language`: amounts as `5,500円`, times in Japan time.

use crate::config::Language;
use crate::domain::order::Order;
use crate::domain::time;
use crate::wording::{self, pick, say};

/// `1,234円`.
pub fn yen(amount: i64) -> String {
    format!(
        "{}円",
        crate::invoice::html::yen(amount).trim_start_matches('¥')
    )
}

/// The order's head, lines, payment, credit and shipments, a line each.
pub fn summary(l: Language, o: &Order) -> Vec<String> {
    let mut out = vec![format!(
        "{} {}  {}: {}  {}: {}",
        wording::channel(l, o.channel),
        o.id,
        say(l, "受注状態", "state"),
        wording::order_state_of(l, o),
        say(l, "支払い", "payment"),
        wording::payment_state(l, o.payment_state)
    )];
    if let Some(reason) = &o.attention {
        out.push(format!(
            "{}: {}",
            say(l, "要対応", "attention"),
            pick(l, reason)
        ));
    }
    out.push(format!(
        "{}: {}  {}: {}",
        say(l, "受注日時", "created"),
        time::shown(&o.created_at),
        say(l, "更新", "updated"),
        time::shown(&o.updated_at)
    ));
    out.push(format!("{}:", say(l, "明細", "lines")));
    for line in &o.lines {
        let price = line
            .unit_price
            .map(|p| format!("  {} {}", say(l, "単価", "unit price"), yen(p)))
            .unwrap_or_default();
        let name = if line.name.is_empty() {
            String::new()
        } else {
            format!("  {}", line.name)
        };
        out.push(format!(
            "  {:>3}  {}{name}  {} {}  {} {}{price}",
            line.line_no,
            line.sku,
            say(l, "数量", "qty"),
            line.qty,
            say(l, "引当", "reserved"),
            line.reserved_qty
        ));
    }
    if let Some(p) = &o.payment {
        out.push(format!(
            "{}: {}{}",
            say(l, "決済", "payment method"),
            payment_method(l, p.method),
            p.reference
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        ));
    }
    if let Some(c) = &o.credit {
        out.push(format!(
            "{}: {}{}",
            say(l, "与信", "credit"),
            credit_verdict(l, c.result),
            c.checked_at
                .as_deref()
                .map(|t| format!(" ({})", time::shown(t)))
                .unwrap_or_default()
        ));
    }
    if !o.shipments.is_empty() {
        out.push(format!("{}:", say(l, "出荷", "shipments")));
    }
    for s in &o.shipments {
        let cost = s
            .shipping_cost
            .map(|c| format!("  {} {}", say(l, "送料", "shipping"), yen(c)))
            .unwrap_or_default();
        out.push(format!(
            "  {} {}  {}{cost}",
            wording::carrier(l, s.carrier),
            s.tracking_no,
            s.shipped_on.format("%Y/%m/%d")
        ));
    }
    out
}

/// How the order is paid.
fn payment_method(l: Language, m: crate::domain::order::PaymentMethod) -> &'static str {
    use crate::domain::order::PaymentMethod;
    match m {
        PaymentMethod::None => say(l, "なし", "none"),
        PaymentMethod::Kuroneko => say(l, "クロネコ代金後払い", "Kuroneko Atobarai"),
        PaymentMethod::AtobaraiCom => say(l, "後払い.com", "Atobarai.com"),
        PaymentMethod::Komoju => "KOMOJU",
    }
}

/// The credit check's answer.
fn credit_verdict(l: Language, v: crate::domain::credit::CreditVerdict) -> &'static str {
    use crate::domain::credit::CreditVerdict;
    match v {
        CreditVerdict::Pending => say(l, "審査中", "pending"),
        CreditVerdict::Ok => say(l, "与信OK", "OK"),
        CreditVerdict::Ng => say(l, "与信NG", "refused"),
        CreditVerdict::OverLimit => say(l, "限度額超過", "over the limit"),
    }
}
