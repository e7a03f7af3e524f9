//! The home's chart of orders per hour: an SVG drawn on the server and put
//! inline in the page (the console's CSP loads nothing: no script, no font,
//! no image). Each bar carries its own `<title>` and the chart a `<title>`
//! and a description, so a screen reader reads the numbers; the same
//! numbers are also printed as a table under the chart.

use std::fmt::Write;

use chrono::{DateTime, Duration, FixedOffset, Timelike};

use super::text::t;
use crate::config::Language;
use crate::domain::time;

/// Hours the chart shows, the current (unfinished) one last.
pub const HOURS: usize = 24;

/// The key `order_hours` stores an hour under (`YYYY-MM-DDTHH`, Japan time).
pub fn hour_key(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&time::jst())
        .format("%Y-%m-%dT%H")
        .to_string()
}

/// The start of the first hour the chart shows at `now`.
pub fn first_hour(now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    let now = now.with_timezone(&time::jst());
    let this_hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    this_hour - Duration::hours(HOURS as i64 - 1)
}

/// One bar: the hour it starts (Japan time) and its orders.
pub struct Bar {
    pub hour: DateTime<FixedOffset>,
    pub orders: i64,
}

/// The chart's bars at `now` from the counts per hour key (hours without
/// orders are zero).
pub fn bars(now: DateTime<FixedOffset>, counts: &[(String, i64)]) -> Vec<Bar> {
    let first = first_hour(now);
    (0..HOURS)
        .map(|i| {
            let hour = first + Duration::hours(i as i64);
            let key = hour_key(hour);
            let orders = counts
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(0, |(_, n)| *n);
            Bar { hour, orders }
        })
        .collect()
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 180;
/// Room under the bars for the hour labels, and above for the peak's number.
const BOTTOM: i64 = 22;
const TOP: i64 = 16;
const SLOT: i64 = WIDTH / HOURS as i64;

/// The chart as inline SVG, followed by its numbers as a table.
pub fn svg(lang: Language, bars: &[Bar]) -> String {
    let title = t(
        lang,
        "直近24時間の受注（1時間ごと）",
        "Orders per hour, last 24 hours",
    );
    let total: i64 = bars.iter().map(|b| b.orders).sum();
    let peak = bars.iter().max_by_key(|b| b.orders);
    let desc = match (lang, peak) {
        (Language::Ja, Some(p)) if p.orders > 0 => format!(
            "合計 {total}件。最も多いのは {}時台の {}件です。",
            p.hour.hour(),
            p.orders
        ),
        (Language::En, Some(p)) if p.orders > 0 => format!(
            "{total} in all; the busiest hour is {}:00 with {}.",
            p.hour.hour(),
            p.orders
        ),
        (Language::Ja, _) => "この24時間の受注はありません。".to_string(),
        (Language::En, _) => "No orders in the last 24 hours.".to_string(),
    };
    let max = peak.map_or(0, |p| p.orders).max(1);
    let plot = HEIGHT - BOTTOM - TOP;
    let mut h = format!(
        "<figure class=\"chart\"><svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"chart-title chart-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-title\">{title}</title><desc id=\"chart-desc\">{desc}</desc>\
         <line class=\"axis\" x1=\"0\" y1=\"{base}\" x2=\"{WIDTH}\" y2=\"{base}\"/>",
        base = HEIGHT - BOTTOM,
    );
    for (i, b) in bars.iter().enumerate() {
        // Integer arithmetic: the counts are small and the heights whole pixels.
        let height = b.orders.saturating_mul(plot) / max;
        let x = i as i64 * SLOT + 3;
        let y = HEIGHT - BOTTOM - height;
        let label = match lang {
            Language::Ja => format!("{}時台: {}件", b.hour.hour(), b.orders),
            Language::En => format!("{}:00: {}", b.hour.hour(), b.orders),
        };
        let _ = write!(
            h,
            "<rect class=\"bar\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{height}\"><title>{label}</title></rect>",
            w = SLOT - 6,
        );
        if b.orders > 0 && peak.is_some_and(|p| p.orders == b.orders) {
            let _ = write!(
                h,
                "<text class=\"peak\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + (SLOT - 6) / 2,
                (y - 4).max(11),
                b.orders
            );
        }
        if b.hour.hour() % 3 == 0 {
            let _ = write!(
                h,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + (SLOT - 6) / 2,
                HEIGHT - 6,
                b.hour.hour()
            );
        }
    }
    let _ = write!(
        h,
        "</svg><figcaption>{title}: {desc}</figcaption></figure>\
         <details class=\"chart-data\"><summary>{}</summary><table><tr><th>{}</th>",
        t(lang, "時間ごとの件数", "Counts per hour"),
        t(lang, "時台", "Hour")
    );
    for b in bars {
        let _ = write!(h, "<td>{}</td>", b.hour.hour());
    }
    let _ = write!(h, "</tr><tr><th>{}</th>", t(lang, "件数", "Orders"));
    for b in bars {
        let _ = write!(h, "<td>{}</td>", b.orders);
    }
    h.push_str("</tr></table></details>");
    h
}
