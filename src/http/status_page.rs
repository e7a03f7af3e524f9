//! `GET /` on the admin listener: a small server-rendered status page.

use std::fmt::Write;

use crate::domain::Order;
use crate::store::outbox::OutboxRow;
use crate::store::stock::StockRow;

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
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

pub struct StatusView {
    pub counts: Vec<(String, i64)>,
    pub attention: Vec<Order>,
    pub dead: Vec<OutboxRow>,
    pub pending: i64,
    pub low_stock: Vec<StockRow>,
}

pub fn render(v: &StatusView) -> String {
    let mut h = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ordersync</title>\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:4px 8px}h2{margin-top:1.5em}</style></head><body><h1>ordersync</h1>",
    );
    h.push_str("<h2>Orders</h2><table><tr><th>state</th><th>count</th></tr>");
    for (state, n) in &v.counts {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(state));
    }
    let _ = write!(h, "</table><p>Provider calls waiting: {}</p>", v.pending);
    h.push_str("<h2>Needs attention</h2>");
    if v.attention.is_empty() {
        h.push_str("<p>Nothing needs a person.</p>");
    } else {
        h.push_str("<table><tr><th>channel</th><th>order</th><th>state</th><th>reason</th></tr>");
        for o in &v.attention {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                o.channel.as_str(),
                esc(&o.id),
                o.state.as_str(),
                esc(o.attention.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Dead calls</h2>");
    if v.dead.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str(
            "<table><tr><th>id</th><th>kind</th><th>order</th><th>last error</th><th></th></tr>",
        );
        for r in &v.dead {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td><button onclick=\"fetch('/api/v1/outbox/{}/retry',{{method:'POST'}}).then(()=>location.reload())\">retry</button></td></tr>",
                r.id,
                esc(&r.kind),
                esc(r.order_id.as_deref().unwrap_or("")),
                esc(r.last_error.as_deref().unwrap_or("")),
                r.id
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Low stock</h2>");
    if v.low_stock.is_empty() {
        h.push_str("<p>No SKU is running out.</p>");
    } else {
        h.push_str(
            "<table><tr><th>sku</th><th>on hand</th><th>reserved</th><th>available</th></tr>",
        );
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
    h.push_str("</body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_it_prints() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let page = render(&StatusView {
            counts: vec![("<new>".into(), 1)],
            attention: vec![],
            dead: vec![],
            pending: 0,
            low_stock: vec![],
        });
        assert!(page.contains("&lt;new&gt;"));
        assert!(!page.contains("<new>"));
    }
}
