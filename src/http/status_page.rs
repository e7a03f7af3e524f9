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

use crate::config::Language;
use crate::domain::{Order, OrderState};
use crate::status::Status;
use crate::store::outbox::OutboxRow;
use crate::store::stock::StockRow;
use crate::wording::{self, pick, say};

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
    /// `[daemon] language`.
    pub lang: Language,
}

pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
    table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
    th{background:#f3f3f3}h2{margin-top:1.5em}.warn{color:#b00020;font-weight:bold}\
    .notice{background:#e7f5e7;border:1px solid #7c7;padding:.5em 1em}form{margin:0}";

pub fn render(v: &StatusView) -> String {
    let l = v.lang;
    let mut h = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>ordersync</title>\
         <style>{STYLE}</style></head><body><h1>ordersync</h1>\
         <p><a href=\"/console/\">{}</a></p>",
        say(l, "ja", "en"),
        say(
            l,
            "コンソール(受注・在庫・要対応)",
            "Console (orders, stock, attention)"
        )
    );
    if let Some(hint) = &v.setup_hint {
        let _ = write!(
            h,
            "<p class=\"notice\" id=\"setup\">{}</p>",
            esc(pick(l, hint))
        );
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
    let l = v.lang;
    let _ = write!(h, "<h2 id=\"orders\">{}</h2>", say(l, "受注", "Orders"));
    table(h, &[say(l, "状態", "state"), say(l, "件数", "count")]);
    for (state, n) in &v.status.per_state {
        let shown = OrderState::parse(state).map_or(state.as_str(), |s| wording::order_state(l, s));
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(shown));
    }
    let _ = write!(
        h,
        "</table><p>{}: {}</p>",
        say(l, "送信待ち", "Provider calls waiting"),
        v.status.calls_pending
    );
}

fn attention_section(h: &mut String, v: &StatusView) {
    let l = v.lang;
    let _ = write!(
        h,
        "<h2 id=\"attention\">{}</h2>",
        say(l, "要対応", "Needs attention")
    );
    if v.attention.is_empty() && v.status.problems.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            say(
                l,
                "対応が必要なものはありません。",
                "Nothing needs a person."
            )
        );
        return;
    }
    for (what, reason) in &v.status.problems {
        let _ = write!(
            h,
            "<p class=\"warn\">{}: {}</p>",
            esc(&wording::provider_named(l, what)),
            esc(pick(l, reason))
        );
    }
    if !v.attention.is_empty() {
        table(
            h,
            &[
                say(l, "販売先", "channel"),
                say(l, "受注番号", "order"),
                say(l, "状態", "state"),
                say(l, "理由", "reason"),
            ],
        );
        for o in &v.attention {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(wording::channel(l, o.channel)),
                esc(&o.id),
                esc(wording::order_state_of(l, o)),
                esc(pick(l, o.attention.as_deref().unwrap_or("")))
            );
        }
        h.push_str("</table>");
    }
}

fn dead_calls_section(h: &mut String, v: &StatusView) {
    let l = v.lang;
    let _ = write!(
        h,
        "<h2 id=\"dead\">{}</h2>",
        say(l, "失敗した送信", "Failed calls")
    );
    if v.dead.is_empty() {
        let _ = write!(h, "<p>{}</p>", say(l, "ありません。", "None."));
        return;
    }
    table(
        h,
        &[
            "id",
            say(l, "内容", "kind"),
            say(l, "受注番号", "order"),
            say(l, "試行回数", "attempts"),
            say(l, "最後のエラー", "last error"),
            say(l, "再送", "retry"),
        ],
    );
    let token_label = say(l, "管理トークン", "admin token");
    let token_field = if v.token_required {
        format!(
            "<input type=\"password\" name=\"token\" required autocomplete=\"current-password\" \
             placeholder=\"{token_label}\" aria-label=\"{token_label}\"> "
        )
    } else {
        String::new()
    };
    for r in &v.dead {
        let _ = write!(
            h,
            "<tr><td>{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><form method=\"post\" action=\"/outbox/{id}/retry\">{token_field}\
             <button type=\"submit\">{}</button></form></td></tr>",
            esc(&wording::call_kind(l, &r.kind)),
            esc(r.order_id.as_deref().unwrap_or("")),
            r.attempts,
            esc(pick(l, r.last_error.as_deref().unwrap_or(""))),
            say(l, "再送する", "retry"),
            id = r.id,
        );
    }
    h.push_str("</table>");
}

fn stock_section(h: &mut String, v: &StatusView) {
    let l = v.lang;
    let n = v.low_stock_threshold;
    match l {
        Language::Ja => {
            let _ = write!(
                h,
                "<h2 id=\"low-stock\">在庫僅少</h2><p>有効在庫が {n} 以下の SKU \
                 (<code>?low_stock=N</code> で変更できます)。</p>"
            );
        }
        Language::En => {
            let _ = write!(
                h,
                "<h2 id=\"low-stock\">Low stock</h2><p>SKUs with {n} or fewer available \
                 (change with <code>?low_stock=N</code>).</p>"
            );
        }
    }
    if v.low_stock.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            say(
                l,
                "在庫切れが近い SKU はありません。",
                "No SKU is running out."
            )
        );
    } else {
        table(
            h,
            &[
                "SKU",
                say(l, "実在庫", "on hand"),
                say(l, "引当済み", "reserved"),
                say(l, "有効在庫", "available"),
            ],
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
    for push in &v.status.stock_push {
        let name = wording::channel(l, push.channel);
        let _ = match l {
            Language::Ja => write!(h, "<p>{name} へ未送信の在庫変更: {}</p>", push.owed),
            Language::En => write!(
                h,
                "<p>Stock changes not yet pushed to {name}: {}</p>",
                push.owed
            ),
        };
        if !push.unknown.is_empty() {
            let reason = push.unknown_reason(l);
            let _ = match l {
                Language::Ja => write!(h, "<p>{name} に商品がない SKU({reason}):</p>"),
                Language::En => write!(h, "<p>{name} has no item for these SKUs ({reason}):</p>"),
            };
            table(h, &["SKU", say(l, "いつから", "since")]);
            for (sku, since) in &push.unknown {
                let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(sku), esc(since));
            }
            h.push_str("</table>");
        }
    }
    if let Some(map) = &v.status.rakuten_skus {
        rakuten::rakuten_map(h, l, map);
    }
}

/// The product master: what J-goods refused, what it sells that the master lacks.
fn catalog_section(h: &mut String, v: &StatusView) {
    let l = v.lang;
    let Some(c) = &v.status.catalog else { return };
    let _ = match l {
        Language::Ja => write!(
            h,
            "<h2 id=\"catalog\">商品マスタ</h2><p>{} 件。</p>",
            c.items
        ),
        Language::En => write!(
            h,
            "<h2 id=\"catalog\">Product master</h2><p>{} items.</p>",
            c.items
        ),
    };
    if c.refused_count > 0 {
        let _ = write!(
            h,
            "<p class=\"warn\">{}: {}</p>",
            say(l, "J-goods が受け付けなかった商品", "Items J-goods refused"),
            c.refused_count
        );
        table(h, &["SKU", say(l, "直すこと", "what to fix")]);
        for (sku, why) in &c.refused {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(sku),
                esc(pick(l, why))
            );
        }
        h.push_str("</table>");
    }
    if !c.not_in_master.is_empty() {
        let _ = write!(
            h,
            "<p>{}:</p><ul>",
            say(
                l,
                "J-goods で注文されたが商品マスタにない SKU",
                "SKUs ordered on J-goods that the master lacks"
            )
        );
        for sku in &c.not_in_master {
            let _ = write!(h, "<li>{}</li>", esc(sku));
        }
        h.push_str("</ul>");
    }
}

fn providers_section(h: &mut String, v: &StatusView) {
    let l = v.lang;
    let _ = write!(
        h,
        "<h2 id=\"providers\">{}</h2>",
        say(l, "連携先", "Providers")
    );
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
            esc(pick(l, &line))
        );
    }
    if v.status.polls.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            say(
                l,
                "まだ一度も取得が終わっていません。",
                "No poll has finished yet."
            )
        );
    } else {
        table(
            h,
            &[
                say(l, "連携先", "provider"),
                say(l, "最後に取得できた時刻", "last successful poll"),
            ],
        );
        for poll in &v.status.polls {
            let provider = esc(&wording::provider_named(l, &poll.provider));
            let at = esc(&crate::domain::time::shown(&poll.at));
            let _ = write!(h, "<tr><td>{provider}</td><td>{at}</td></tr>");
        }
        h.push_str("</table>");
    }
    licence_line(h, l, &v.status.licence);
}

/// The Rakuten licence key's expiry, and what to do when it is near.
fn licence_line(
    h: &mut String,
    l: Language,
    licence: &crate::providers::rakuten_pay::licence::Licence,
) {
    match &licence.expires_at {
        None => {
            let _ = write!(
                h,
                "<p>{}</p>",
                say(
                    l,
                    "楽天のライセンスキー: 期限はまだわかりません。",
                    "Rakuten licence key: expiry not known yet."
                )
            );
        }
        Some(at) => {
            let at = esc(&crate::domain::time::shown(at));
            let warn = licence.expiring();
            let class = if warn { " class=\"warn\"" } else { "" };
            let _ = match (l, licence.days_left) {
                (Language::Ja, Some(d)) => write!(
                    h,
                    "<p{class}>楽天のライセンスキーの期限: {at}(あと {d} 日){}</p>",
                    if warn {
                        "。RMS で新しいキーを発行してください"
                    } else {
                        ""
                    }
                ),
                (Language::Ja, None) => write!(h, "<p{class}>楽天のライセンスキーの期限: {at}</p>"),
                (Language::En, Some(d)) => write!(
                    h,
                    "<p{class}>Rakuten licence key expires {at} ({d} days left){}</p>",
                    if warn { ": issue a new key in RMS" } else { "" }
                ),
                (Language::En, None) => write!(h, "<p{class}>Rakuten licence key expires {at}</p>"),
            };
        }
    }
    if let Some(fix) = &licence.check_refused {
        let _ = write!(h, "<p id=\"licence-check\">{}</p>", esc(pick(l, fix)));
    }
}

/// Webhooks refused in the last day, grouped by provider and reason, with
/// what a burst most likely means.
fn rejected_section(h: &mut String, v: &StatusView) {
    let l = v.lang;
    if v.status.rejected.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h2 id=\"rejected\">{}</h2>",
        say(l, "拒否した Webhook(24 時間)", "Rejected webhooks (24 h)")
    );
    table(
        h,
        &[
            say(l, "連携先", "provider"),
            say(l, "理由", "reason"),
            say(l, "件数", "count"),
            say(l, "直近 1 時間", "last hour"),
            say(l, "最後", "last"),
            say(l, "考えられる原因", "likely"),
        ],
    );
    for r in &v.status.rejected {
        let warn = r.code == "unauthorized" && r.last_hour >= crate::status::UNAUTHORIZED_BURST;
        let _ = write!(
            h,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if warn { " class=\"warn\"" } else { "" },
            esc(&wording::provider_named(l, &r.provider)),
            esc(&r.code),
            r.count,
            r.last_hour,
            esc(&crate::domain::time::shown(&r.last_at)),
            esc(pick(l, crate::status::rejected_hint(r)))
        );
    }
    h.push_str("</table>");
}

/// The page a browser gets for an address the admin listener does not have.
pub fn not_found_page(l: Language) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>ordersync: 404</title>\
         <style>{STYLE}</style></head><body><h1>{}</h1>\
         <p><a href=\"/\">{}</a> · <a href=\"/console/\">{}</a></p>\
         </body></html>",
        say(l, "ja", "en"),
        say(l, "ページが見つかりません", "Page not found"),
        say(l, "状態ページへ", "Status page"),
        say(l, "コンソールへ", "Console"),
    )
}

/// A small page for the answer of a form action that failed.
pub fn message_page(l: Language, title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>ordersync: {t}</title>\
         <style>{STYLE}</style></head><body><h1>{t}</h1><p>{}</p><p><a href=\"/\">{}</a></p></body></html>",
        say(l, "ja", "en"),
        esc(message),
        say(l, "状態ページへ戻る", "Back to the status page"),
        t = esc(title),
    )
}

mod rakuten;

#[cfg(test)]
mod tests;
