//! The sellers page (出品者): each KOMOJU Platform Model seller with its
//! review state, whether payments may be split to it, and its fee.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::pages;
use super::text::t;
use super::{refused, session};
use crate::http::AppState;
use crate::http::status_page::esc;
use crate::store::sellers;

pub(super) async fn page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let c = match session(&app, &headers, "/console/sellers") {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let all = match app.store.read(|conn| sellers::list(conn)).await {
        Ok(all) => all,
        Err(e) => return refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let lang = c.lang;
    let mut h = format!(
        "<p>{}</p>",
        t(
            lang,
            "KOMOJU の審査が完了した出品者にだけ売上を分配します。審査中の出品者の商品を含む受注は、売上確定(キャプチャ)を保留します。出品者の登録は ordersync sellers add で行います。",
            "Payments are split only to sellers KOMOJU accepted; an order with a seller under review keeps its capture on hold. Enter sellers with ordersync sellers add."
        )
    );
    if all.is_empty() {
        let _ = write!(
            h,
            "<p>{}</p>",
            t(lang, "出品者はまだいません。", "No sellers yet.")
        );
        return Html(pages::layout(&c, t(lang, "出品者", "Sellers"), None, &h)).into_response();
    }
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(lang, "出品者コード", "Code"),
        t(lang, "名前", "Name"),
        t(lang, "審査", "Review"),
        t(lang, "手数料", "Fee"),
        t(lang, "KOMOJU 出品者ID", "KOMOJU id"),
    );
    for s in &all {
        let review = crate::wording::seller_review(lang, &s.review_status);
        let live = if s.is_live() {
            t(lang, "(分配可)", " (live)")
        } else {
            ""
        };
        let min = match s.fee_min_per_line {
            Some(m) => match lang {
                crate::config::Language::Ja => format!(" (1行 最低{m}円)"),
                crate::config::Language::En => format!(" (min {m} yen a line)"),
            },
            None => String::new(),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}.{:02}%{}</td><td>{}</td></tr>",
            esc(&s.code),
            esc(&s.name),
            esc(&review),
            live,
            s.fee_bps / 100,
            s.fee_bps % 100,
            esc(&min),
            esc(s
                .submerchant_id
                .as_deref()
                .unwrap_or(t(lang, "登録待ち", "not created yet"))),
        );
    }
    h.push_str("</table>");
    Html(pages::layout(&c, t(lang, "出品者", "Sellers"), None, &h)).into_response()
}
