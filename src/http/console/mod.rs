//! The operator's console on the admin listener: find an order, see why it
//! is stuck, act on it. Server-rendered pages (no script), in Japanese or
//! English (`[daemon] language`), behind the admin token: typed once on the
//! login page and exchanged for a session cookie ([`Sessions`]). Every
//! action is also an admin-API route and a CLI command, and is written as
//! an event.

mod actions;
mod chart;
mod forms;
mod home;
mod overview;
mod pages;
mod sellers;
mod session;
mod shipments;
mod style;
mod text;

pub use session::Sessions;

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::domain::{Channel, OrderState, PaymentState, time};
use crate::http::AppState;
use crate::store::order_search::{self, Search};
use crate::store::{events, inbox, orders, outbox};
use pages::Ctx;
use text::t;

/// Orders per page of the search.
const PAGE: u32 = 50;

/// The console's routes (the admin listener's guard and limits apply).
pub fn routes(state: &AppState) -> Router<AppState> {
    let forms = Router::new()
        .route("/console/login", post(login))
        .route("/console/logout", post(logout))
        .route(
            "/console/orders/{channel}/{id}/{action}",
            post(actions::order_action),
        )
        .route("/console/outbox/{id}/{action}", post(actions::call_action))
        .route(
            "/console/shipments/import",
            post(shipments::upload)
                .layer(axum::extract::DefaultBodyLimit::max(shipments::MAX_UPLOAD)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            before_body,
        ));
    Router::new()
        // Both spellings: the READMEs give `/console/`, a hand types `/console`.
        .route("/console", get(|| async { see_other("/console/") }))
        .route("/console/", get(home::page))
        .route("/console/login", get(login_page))
        .route("/console/orders", get(orders_page))
        .route("/console/problems", get(problems_page))
        .route("/console/stock", get(stock_page))
        .route("/console/shipments", get(shipments::page))
        .route("/console/sellers", get(sellers::page))
        .route("/console/shipments/export", get(shipments::download))
        .route("/console/orders/{channel}/{id}", get(order_page))
        .merge(forms)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            bearer_counted,
        ))
}

/// A script may present the admin token itself (`Authorization: Bearer`):
/// a wrong one counts against its source like any other wrong token, and a
/// source held off is refused here before the cookie is looked at.
async fn bearer_counted(
    State(app): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.headers().contains_key(header::AUTHORIZATION) {
        let source = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        // A wrong token is counted there and then sent to the login page,
        // as a browser would be; a source held off is answered 429.
        let refused =
            crate::http::admin::bearer_refusal(&app, source, req.headers(), req.uri().path());
        if let Some(refused) = refused.filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS) {
            return refused;
        }
    }
    next.run(req).await
}

/// What a form post must pass before its body is read, so that a client
/// holding a body back gains nothing without a credential: the login form
/// (whose body is the token) from a source held off for wrong tokens, any
/// other form without a session.
async fn before_body(
    State(app): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.uri().path() == "/console/login" {
        let source = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        if source.is_some_and(|ip| app.auth_limiter.blocked(ip, Instant::now()).is_some()) {
            return too_many_failures(&app);
        }
    } else if let Err(d) = session(&app, req.headers(), "/console/orders") {
        return d.answer(&app);
    }
    next.run(req).await
}

/// The answer to a source held off for wrong tokens.
fn too_many_failures(app: &AppState) -> Response {
    app.metrics.admin_auth_failed(true);
    refused(
        app,
        StatusCode::TOO_MANY_REQUESTS,
        t(
            app.language,
            "失敗が多すぎます。1分待ってください。",
            "Too many wrong tokens; wait a minute.",
        ),
    )
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A page a person reads when something is wrong with what they sent.
fn refused(app: &AppState, status: StatusCode, message: &str) -> Response {
    let c = Ctx {
        lang: app.language,
        now: time::now(),
        form_token: String::new(),
    };
    let body = format!(
        "<p class=\"warn\">{}</p>",
        crate::http::status_page::esc(message)
    );
    (
        status,
        Html(pages::layout(
            &c,
            t(app.language, "できませんでした", "Not done"),
            None,
            &body,
        )),
    )
        .into_response()
}

/// Why a request has no session to act in.
enum Denied {
    /// Not logged in: the login page, then back to this path.
    Login(String),
    /// The form's token is not the session's.
    Expired,
}

impl Denied {
    fn answer(self, app: &AppState) -> Response {
        match self {
            Denied::Login(here) => {
                see_other(&format!("/console/login?next={}", pages::urlencode(&here)))
            }
            Denied::Expired => refused(
                app,
                StatusCode::FORBIDDEN,
                t(
                    app.language,
                    "フォームの有効期限が切れました。ページを開き直してください。",
                    "This form has expired; open the page again.",
                ),
            ),
        }
    }
}

/// Whether the request carries the admin token itself (`Authorization: Bearer`).
fn bearer(app: &AppState, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|g| app.admin_token.is_some() && crate::http::admin::token_matches(app, g))
}

/// The page's context for a logged-in person, or the way to the login page.
fn session(app: &AppState, headers: &HeaderMap, here: &str) -> Result<Ctx, Denied> {
    let c = |form_token| Ctx {
        lang: app.language,
        now: time::now(),
        form_token,
    };
    if app.admin_token.is_none() || bearer(app, headers) {
        // Without a token (allowed on loopback only) the console is as open
        // as the admin API; the guard's same-origin check still applies. A
        // script or a benchmark may send the token itself, as to the API: a
        // browser never adds that header on its own, so no form token is needed.
        return Ok(c(String::new()));
    }
    match session::cookie_of(headers).and_then(|k| app.console_sessions.check(k, Instant::now())) {
        Some(form_token) => Ok(c(form_token)),
        None => Err(Denied::Login(here.to_string())),
    }
}

/// The session of a form post, whose form token must be the session's.
fn form_session(app: &AppState, headers: &HeaderMap, sent: &str) -> Result<Ctx, Denied> {
    let c = session(app, headers, "/console/orders")?;
    let same: bool = c.form_token.as_bytes().ct_eq(sent.as_bytes()).into();
    if !same {
        return Err(Denied::Expired);
    }
    Ok(c)
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    failed: Option<String>,
}

/// Only a path of the console itself may be the page after logging in.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/console/") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/console/",
    }
}

async fn login_page(State(app): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    Html(pages::login(
        app.language,
        safe_next(q.next.as_deref()),
        q.failed.is_some(),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    #[serde(default)]
    next: Option<String>,
}

/// The admin token for a session cookie; wrong tokens count against the
/// source like the API's.
async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let now = Instant::now();
    let next = safe_next(f.next.as_deref()).to_string();
    if app.auth_limiter.blocked(peer.ip(), now).is_some() {
        return too_many_failures(&app);
    }
    if !crate::http::admin::token_matches(&app, &f.token) {
        app.metrics.admin_auth_failed(false);
        app.auth_limiter.failed(peer.ip(), now);
        tracing::warn!(source = %peer.ip(), "console login with a wrong admin token");
        return see_other(&format!(
            "/console/login?failed=1&next={}",
            pages::urlencode(&next)
        ));
    }
    let (cookie, _) = app.console_sessions.open(now);
    let mut r = see_other(&next);
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&cookie)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    form_token: String,
}

async fn logout(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(d) = form_session(&app, &headers, &f.form_token) {
        return d.answer(&app);
    }
    if let Some(cookie) = session::cookie_of(&headers) {
        app.console_sessions.close(cookie);
    }
    let mut r = see_other("/console/login");
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie("")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// The search of the orders page, as its query string carries it.
#[derive(Deserialize, Default, Clone)]
pub struct OrdersQuery {
    pub channel: Option<String>,
    pub state: Option<String>,
    pub payment: Option<String>,
    pub attention: Option<String>,
    pub id: Option<String>,
    pub sku: Option<String>,
    /// The first and the last day of arrival (`2026-12-01` or `2026/12/01`), JST.
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i64>,
}

impl OrdersQuery {
    /// The same search, continued before `before`.
    pub fn href_before(&self, before: i64) -> String {
        let mut parts = vec![format!("before={before}")];
        for (k, v) in [
            ("channel", &self.channel),
            ("state", &self.state),
            ("payment", &self.payment),
            ("attention", &self.attention),
            ("id", &self.id),
            ("sku", &self.sku),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", pages::urlencode(v)));
            }
        }
        format!("/console/orders?{}", parts.join("&"))
    }

    fn search(&self) -> Result<Search, String> {
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let channel = match some(&self.channel) {
            Some(c) => Some(Channel::parse(&c).ok_or(format!("unknown channel {c}"))?),
            None => None,
        };
        let state = match some(&self.state) {
            Some(s) => Some(OrderState::parse(&s).ok_or(format!("unknown state {s}"))?),
            None => None,
        };
        let payment = match some(&self.payment) {
            Some(p) => Some(PaymentState::parse(&p).ok_or(format!("unknown payment state {p}"))?),
            None => None,
        };
        // A day is its midnight in Japan; `to` includes its whole day.
        let day = |v: &Option<String>, after: u64| -> Result<Option<String>, String> {
            let Some(typed) = some(v) else {
                return Ok(None);
            };
            let d = crate::domain::input::parse_date(&typed)?;
            let d = chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| e.to_string())?;
            let midnight = (d + chrono::Days::new(after))
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(time::jst()).single())
                .ok_or_else(|| format!("{typed} is not a day"))?;
            Ok(Some(time::rfc3339(midnight)))
        };
        Ok(Search {
            channel,
            state,
            payment,
            attention: some(&self.attention).is_some(),
            id: some(&self.id),
            sku: some(&self.sku),
            since: day(&self.from, 0)?,
            until: day(&self.to, 1)?,
            before: self.before,
            limit: PAGE,
        })
    }
}

async fn orders_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OrdersQuery>,
) -> Response {
    let c = match session(&app, &headers, "/console/orders") {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let search = match q.search() {
        Ok(s) => s,
        Err(e) => return refused(&app, StatusCode::BAD_REQUEST, &e),
    };
    match app
        .store
        .read(move |conn| order_search::search(conn, &search))
        .await
    {
        Ok((page, next)) => Html(pages::orders(&c, &q, &page, next)).into_response(),
        Err(e) => refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn order_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path((channel, id)): Path<(String, String)>,
) -> Response {
    let here = format!("/console/orders/{channel}/{}", pages::urlencode(&id));
    let c = match session(&app, &headers, &here) {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let Some(ch) = Channel::parse(&channel) else {
        return refused(
            &app,
            StatusCode::NOT_FOUND,
            &format!("unknown channel {channel}"),
        );
    };
    let loaded = app
        .store
        .read(move |conn| {
            let Some(o) = orders::load(conn, ch, &id)? else {
                return Ok(None);
            };
            let evs = events::recent_for_order(conn, ch.as_str(), &id, pages::ORDER_EVENTS_SHOWN)?;
            let calls = outbox::for_order(conn, ch.as_str(), &id)?;
            let received = inbox::for_order(conn, &id)?;
            let refund = crate::store::komoju_refund_requests::load(conn, ch.as_str(), &id)?;
            Ok(Some((o, evs, calls, received, refund)))
        })
        .await;
    match loaded {
        Ok(Some((o, evs, calls, received, refund))) => {
            let page = pages::order(&c, &o, &evs, &calls, &received, refund.as_ref());
            Html(page).into_response()
        }
        Ok(None) => refused(
            &app,
            StatusCode::NOT_FOUND,
            t(app.language, "その受注はありません。", "No such order."),
        ),
        Err(e) => refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn problems_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let c = match session(&app, &headers, "/console/problems") {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let read = app
        .store
        .read(|conn| {
            Ok(overview::Problems {
                status: crate::status::Status::read(
                    conn,
                    crate::status::Detail::Full { unknown_items: 100 },
                )?,
                attention: orders::list(
                    conn,
                    &orders::OrderFilter {
                        attention: true,
                        limit: 100,
                        ..Default::default()
                    },
                )?,
                dead: outbox::list(conn, Some("dead"), 100)?,
                behind: Vec::new(),
            })
        })
        .await;
    match read {
        Ok(mut p) => {
            p.behind = behind(&p.status.polls, &app.poll_intervals);
            Html(overview::problems(&c, &p)).into_response()
        }
        Err(e) => refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// The pollers of `polls` that fell behind their interval.
fn behind(
    polls: &[crate::status::Poll],
    intervals: &[(String, std::time::Duration)],
) -> Vec<crate::status::Poll> {
    let interval_of = |provider: &str| {
        intervals
            .iter()
            .find(|(p, _)| p == provider)
            .map(|(_, i)| *i)
    };
    polls
        .iter()
        .filter(|poll| crate::status::Status::is_behind_by(poll, interval_of(&poll.provider)))
        .cloned()
        .collect()
}

#[derive(Deserialize, Default)]
struct StockQuery {
    #[serde(default)]
    from: Option<String>,
}

async fn stock_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StockQuery>,
) -> Response {
    let c = match session(&app, &headers, "/console/stock") {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let from = q.from.unwrap_or_default().trim().to_string();
    let shown = from.clone();
    let read = app
        .store
        .read(move |conn| {
            let rows = crate::store::stock::page_from(conn, &from, 100)?;
            let low =
                crate::store::stock::low(conn, crate::http::status_page::DEFAULT_LOW_STOCK, 100)?;
            let status = crate::status::Status::read(conn, crate::status::Detail::Brief)?;
            Ok((rows, low, status))
        })
        .await;
    match read {
        Ok((rows, low, status)) => {
            Html(overview::stock(&c, &shown, &rows, &low, &status)).into_response()
        }
        Err(e) => refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}
