//! The console's home (`/console/`): what a merchant looks at first. Today's
//! 受注 per channel (the Japanese day), what needs a person (each linking to
//! where it is handled), calls waiting and the oldest one's age, stock
//! pushes owed per channel and the oldest's age, the last successful
//! contact with each provider, and a chart of orders per hour for the last
//! day. Everything is read in one transaction from the status summary (the
//! same reads as `ordersync status`) and a few kept counts, so the page
//! costs the same at any number of orders.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::chart;
use super::pages::{Ctx, layout, urlencode};
use super::text::{t, when};
use crate::config::Language;
use crate::domain::{Channel, Provider, time};
use crate::http::AppState;
use crate::http::status_page::esc;
use crate::status::{Detail, Poll, Status};
use crate::store::home::{self, Contact};
use crate::store::orders;

/// What the home shows, read in one transaction.
pub struct Home {
    /// The status summary (its brief form: no count of every order).
    pub status: Status,
    /// Orders short of stock.
    pub short: i64,
    /// Today's orders per channel (stored name, count), busiest first.
    pub today: Vec<(String, i64)>,
    /// Orders per hour key over the chart's hours.
    pub hours: Vec<(String, i64)>,
    /// Per pushing channel, since when (ms) its oldest owed push is owed.
    pub owed_since: Vec<(String, Option<i64>)>,
    /// The last successful contact per provider.
    pub contacts: Vec<Contact>,
    /// Pollers behind their schedule.
    pub behind: Vec<Poll>,
}

/// `GET /console/` (and `/console`).
pub(super) async fn page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let c = match super::session(&app, &headers, "/console/") {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let now = c.now;
    let read = app
        .store
        .read(move |conn| {
            let status = Status::read(conn, Detail::Brief)?;
            let (per_state, _) = orders::counts(conn)?;
            let short = per_state
                .iter()
                .find(|(s, _)| s == "short")
                .map_or(0, |(_, n)| *n);
            let today = now.with_timezone(&time::jst()).format("%Y-%m-%dT00");
            let polls: Vec<(&str, &str)> = status
                .polls
                .iter()
                .map(|p| (p.provider.as_str(), p.at.as_str()))
                .collect();
            let contacts = home::last_contacts(conn, &polls)?;
            Ok(Home {
                short,
                today: home::orders_per_channel_since(conn, &today.to_string())?,
                hours: home::orders_per_hour_since(conn, &chart::hour_key(chart::first_hour(now)))?,
                owed_since: home::push_owed_since(conn)?,
                contacts,
                behind: Vec::new(),
                status,
            })
        })
        .await;
    match read {
        Ok(mut h) => {
            h.behind = super::behind(&h.status.polls, &app.poll_intervals);
            Html(render(&c, &h)).into_response()
        }
        Err(e) => super::refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// A channel as merchants name it.
fn channel_name(lang: Language, stored: &str) -> String {
    match Channel::parse(stored) {
        Some(Channel::Jgoods) => "J-goods".into(),
        Some(Channel::Rakuten) => t(lang, "楽天市場", "Rakuten").into(),
        Some(Channel::Direct) => t(lang, "自社サイト", "Own shop").into(),
        Some(Channel::Yahoo) => t(lang, "Yahoo!ショッピング", "Yahoo! Shopping").into(),
        None => stored.to_string(),
    }
}

/// A provider as merchants name it.
fn provider_name(lang: Language, p: Provider) -> &'static str {
    match p {
        Provider::Jgoods => "J-goods",
        Provider::RakutenPay => t(lang, "楽天市場（RMS）", "Rakuten (RMS)"),
        Provider::Komoju => "KOMOJU",
        Provider::Kuroneko => t(lang, "クロネコ代金後払い", "Kuroneko deferred payment"),
        Provider::AtobaraiCom => t(lang, "後払い.com", "Atobarai.com"),
        Provider::YahooShopping => t(lang, "Yahoo!ショッピング", "Yahoo! Shopping"),
    }
}

/// How long, as people say it: "3分", "2時間5分", "4日3時間".
pub fn age(lang: Language, seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (lang, d, h) {
        (Language::Ja, 0, 0) if m == 0 => "1分未満".into(),
        (Language::Ja, 0, 0) => format!("{m}分"),
        (Language::Ja, 0, _) => format!("{h}時間{m}分"),
        (Language::Ja, _, _) => format!("{d}日{h}時間"),
        (Language::En, 0, 0) if m == 0 => "under a minute".into(),
        (Language::En, 0, 0) => format!("{m} min"),
        (Language::En, 0, _) => format!("{h} h {m} min"),
        (Language::En, _, _) => format!("{d} d {h} h"),
    }
}

/// The home page.
pub fn render(c: &Ctx, home: &Home) -> String {
    let mut h = String::from("<div class=\"cards\">");
    today(&mut h, c, home);
    needs_a_person(&mut h, c, home);
    calls(&mut h, c, home);
    stock_pushes(&mut h, c, home);
    contacts(&mut h, c, home);
    let _ = write!(
        h,
        "<section class=\"card wide\" id=\"chart\"><h2>{}</h2>{}</section></div>",
        t(
            c.lang,
            "直近24時間の受注（1時間ごと）",
            "Orders per hour, last 24 hours"
        ),
        chart::svg(c.lang, &chart::bars(c.now, &home.hours))
    );
    layout(c, t(c.lang, "ホーム", "Home"), Some(60), &h)
}

fn today(h: &mut String, c: &Ctx, home: &Home) {
    let lang = c.lang;
    let day = c.now.with_timezone(&time::jst()).format("%Y-%m-%d");
    let total: i64 = home.today.iter().map(|(_, n)| *n).sum();
    let _ = write!(
        h,
        "<section class=\"card\" id=\"today\"><h2>{} <span class=\"muted\">{day}</span></h2>\
         <p><a class=\"big\" href=\"/console/orders?from={day}&amp;to={day}\">{total}</a> {}</p>\
         <ul class=\"plain\">",
        t(lang, "本日の受注", "Today's orders"),
        t(lang, "件", "orders"),
    );
    if home.today.is_empty() {
        let _ = write!(
            h,
            "<li class=\"muted\">{}</li>",
            t(lang, "本日の受注はまだありません。", "No orders yet today.")
        );
    }
    for (channel, n) in &home.today {
        let _ = write!(
            h,
            "<li data-channel=\"{ch}\"><a href=\"/console/orders?channel={ch}&amp;from={day}&amp;to={day}\">{}</a>: \
             <span class=\"count\">{n}</span>{}</li>",
            esc(&channel_name(lang, channel)),
            t(lang, "件", ""),
            ch = esc(&urlencode(channel)),
        );
    }
    h.push_str("</ul></section>");
}

fn needs_a_person(h: &mut String, c: &Ctx, home: &Home) {
    let lang = c.lang;
    let s = &home.status;
    let mut items: Vec<(String, String)> = Vec::new();
    let counted = [
        (
            s.attention,
            "/console/orders?attention=1",
            t(lang, "要対応の受注", "Orders needing attention:"),
        ),
        (
            home.short,
            "/console/orders?state=short",
            t(lang, "在庫不足で引当できない受注", "Orders short of stock:"),
        ),
        (
            s.calls_dead,
            "/console/problems#dead",
            t(lang, "失敗した送信", "Failed calls:"),
        ),
    ];
    for (n, href, what) in counted.into_iter().filter(|(n, _, _)| *n > 0) {
        items.push((href.into(), format!("{what} {n}{}", t(lang, "件", ""))));
    }
    let mut item = |href: &str, text: String| items.push((href.to_string(), text));
    for (provider, fix) in &s.problems {
        item("/console/problems#providers", format!("{provider}: {fix}"));
    }
    for poll in &home.behind {
        item(
            "/console/problems#pollers",
            format!(
                "{}: {}",
                poll.provider,
                t(lang, "取り込みが遅れています", "polling is behind")
            ),
        );
    }
    if s.rejected_burst() {
        item(
            "/console/problems#rejected",
            t(
                lang,
                "署名の合わない Webhook が続いています",
                "A burst of webhooks with a wrong signature",
            )
            .to_string(),
        );
    }
    if s.licence.expiring() {
        item(
            "/console/problems",
            t(
                lang,
                "楽天ライセンスキーの期限が近づいています",
                "The Rakuten licence key expires soon",
            )
            .to_string(),
        );
    }
    let _ = write!(
        h,
        "<section class=\"card\" id=\"needs\"><h2>{}</h2>",
        t(lang, "要対応", "Needs a person")
    );
    if items.is_empty() {
        let _ = write!(
            h,
            "<p class=\"notice\">{}</p>",
            t(
                lang,
                "対応が必要なものはありません。",
                "Nothing needs a person."
            )
        );
    } else {
        h.push_str("<ul class=\"plain\">");
        for (href, text) in &items {
            let _ = write!(
                h,
                "<li class=\"warn\"><a href=\"{}\">{}</a></li>",
                esc(href),
                esc(text)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
}

fn calls(h: &mut String, c: &Ctx, home: &Home) {
    let lang = c.lang;
    let s = &home.status;
    let _ = write!(
        h,
        "<section class=\"card\" id=\"calls\"><h2>{}</h2><p><span class=\"big\">{}</span> {}</p>",
        t(lang, "送信待ち", "Calls waiting"),
        s.calls_pending,
        t(lang, "件", "calls"),
    );
    match s.oldest_call_seconds.filter(|_| s.calls_pending > 0) {
        Some(secs) => {
            let _ = write!(
                h,
                "<p id=\"oldest-call\">{} <strong>{}</strong>{}</p>",
                t(lang, "最も古いものは", "The oldest has waited"),
                age(lang, secs),
                t(lang, "待っています。", ".")
            );
        }
        None => {
            let _ = write!(
                h,
                "<p class=\"muted\">{}</p>",
                t(lang, "すべて送信済みです。", "Everything has been sent.")
            );
        }
    }
    h.push_str("</section>");
}

fn stock_pushes(h: &mut String, c: &Ctx, home: &Home) {
    let lang = c.lang;
    let now_ms = time::unix_ms(c.now);
    let _ = write!(
        h,
        "<section class=\"card\" id=\"stock-push\"><h2>{}</h2>",
        t(lang, "在庫の送信待ち", "Stock changes not yet pushed")
    );
    if home.status.stock_push.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">{}</p>",
            t(
                lang,
                "在庫を送る販売チャネルはありません。",
                "No channel is sent stock."
            )
        );
    }
    h.push_str("<ul class=\"plain\">");
    for push in &home.status.stock_push {
        let ch = push.channel.as_str();
        let since = home
            .owed_since
            .iter()
            .find(|(c, _)| c == ch)
            .and_then(|(_, s)| *s);
        let oldest = match since.filter(|_| push.owed > 0) {
            Some(ms) => format!(
                " ({} {})",
                t(lang, "最も古いもの", "oldest"),
                age(lang, (now_ms - ms) / 1000)
            ),
            None => String::new(),
        };
        let _ = write!(
            h,
            "<li data-channel=\"{}\"><a href=\"/console/stock\">{}</a>: {} {}{}</li>",
            esc(ch),
            esc(&channel_name(lang, ch)),
            push.owed,
            t(lang, "SKU", "SKUs"),
            esc(&oldest),
        );
    }
    h.push_str("</ul></section>");
}

fn contacts(h: &mut String, c: &Ctx, home: &Home) {
    let lang = c.lang;
    let _ = write!(
        h,
        "<section class=\"card\" id=\"contacts\"><h2>{}</h2>",
        t(lang, "各社との最終連絡", "Last contact with each provider")
    );
    if home.contacts.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">{}</p></section>",
            t(
                lang,
                "まだ連絡の記録がありません。",
                "No contact recorded yet."
            )
        );
        return;
    }
    h.push_str("<ul class=\"plain\">");
    for contact in &home.contacts {
        let Some(last) = contact.last() else { continue };
        let how = if contact.poll.as_deref() == Some(last) {
            t(lang, "取得", "poll")
        } else if contact.call.as_deref() == Some(last) {
            t(lang, "送信", "call")
        } else {
            t(lang, "受信", "webhook")
        };
        let behind = home
            .behind
            .iter()
            .any(|p| p.provider == contact.provider.as_str());
        let _ = write!(
            h,
            "<li{} data-provider=\"{}\">{}: {} <span class=\"muted\">({how})</span></li>",
            if behind { " class=\"warn\"" } else { "" },
            contact.provider.as_str(),
            provider_name(lang, contact.provider),
            esc(&when(lang, last, c.now)),
        );
    }
    h.push_str("</ul></section>");
}

#[cfg(test)]
mod tests;
