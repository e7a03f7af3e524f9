//! One order as `ordersync orders show` prints it for a person: Japanese
//! labels first, amounts as `5,500円`, times in Japan time.

use crate::domain::order::Order;
use crate::domain::time;

/// `1,234円`.
pub fn yen(amount: i64) -> String {
    format!(
        "{}円",
        crate::invoice::html::yen(amount).trim_start_matches('¥')
    )
}

/// The order's head, lines, payment, credit and shipments, a line each.
pub fn summary(o: &Order) -> Vec<String> {
    let mut out = vec![format!(
        "{} {}  受注状態 / state: {}  支払い / payment: {}",
        o.channel.as_str(),
        o.id,
        o.state.as_str(),
        o.payment_state.as_str()
    )];
    if let Some(reason) = &o.attention {
        out.push(format!("要対応 / attention: {reason}"));
    }
    out.push(format!(
        "受注日時 / created: {}  更新 / updated: {}",
        time::shown(&o.created_at),
        time::shown(&o.updated_at)
    ));
    out.push("明細 / lines:".to_string());
    for l in &o.lines {
        let price = l
            .unit_price
            .map(|p| format!("  単価 {}", yen(p)))
            .unwrap_or_default();
        let name = if l.name.is_empty() {
            String::new()
        } else {
            format!("  {}", l.name)
        };
        out.push(format!(
            "  {:>3}  {}{name}  数量 {}  引当 {}{price}",
            l.line_no, l.sku, l.qty, l.reserved_qty
        ));
    }
    if let Some(p) = &o.payment {
        out.push(format!(
            "決済 / payment method: {}{}",
            p.method.as_str(),
            p.reference
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        ));
    }
    if let Some(c) = &o.credit {
        out.push(format!(
            "与信 / credit: {}{}",
            c.result.as_str(),
            c.checked_at
                .as_deref()
                .map(|t| format!(" ({})", time::shown(t)))
                .unwrap_or_default()
        ));
    }
    if !o.shipments.is_empty() {
        out.push("出荷 / shipments:".to_string());
    }
    for s in &o.shipments {
        let cost = s
            .shipping_cost
            .map(|c| format!("  送料 {}", yen(c)))
            .unwrap_or_default();
        out.push(format!(
            "  {} {}  {}{cost}",
            s.carrier.as_str(),
            s.tracking_no,
            s.shipped_on.format("%Y/%m/%d")
        ));
    }
    out
}
