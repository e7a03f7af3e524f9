//! The console's actions: each a form post checked against the session's
//! form token, done through the same flow as its admin-API route and CLI
//! command, then back to the order's page.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{form_session, pages, refused, see_other};
use crate::domain::{Channel, time};
use crate::flows::attention;
use crate::http::AppState;

/// Who acted, for the history: the console and the address it was used from.
fn by(peer: &SocketAddr) -> String {
    format!("console ({})", peer.ip())
}

#[derive(Deserialize)]
pub(super) struct ActionForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking: String,
    #[serde(default)]
    date: String,
    /// The refund account form (返金口座), with KOMOJU's field names.
    #[serde(flatten)]
    bank: BankForm,
}

/// The customer's bank account as the refund account form posts it.
#[derive(Deserialize, Default)]
pub(super) struct BankForm {
    customer_name: Option<String>,
    bank_name: Option<String>,
    bank_code: Option<String>,
    branch_name: Option<String>,
    branch_number: Option<String>,
    account_type: Option<String>,
    account_number: Option<String>,
    /// A checkbox: present when ticked.
    include_payment_method_fee: Option<String>,
}

/// Files the refund request with the account entered (the cancel again,
/// with the account: the same flow as the admin API and the CLI).
async fn refund_account(
    app: &AppState,
    ch: Channel,
    id: String,
    f: ActionForm,
) -> Result<(), String> {
    use crate::providers::komoju::refund_request::{Digits, RawBankAccount};
    let b = f.bank;
    let raw = RawBankAccount {
        customer_name: b.customer_name,
        bank_name: b.bank_name,
        bank_code: b.bank_code.map(Digits::Text),
        branch_name: b.branch_name,
        branch_number: b.branch_number.map(Digits::Text),
        account_type: b.account_type,
        account_number: b.account_number.map(Digits::Text),
        include_payment_method_fee: Some(b.include_payment_method_fee.is_some()),
    };
    let account = raw.validate().map_err(|e| e.message)?;
    crate::flows::erp::cancel_with_account(&app.store, ch, id, f.reason, Some(account))
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

pub(super) async fn order_action(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((channel, id, action)): Path<(String, String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Err(d) = form_session(&app, &headers, &f.form_token) {
        return d.answer(&app);
    }
    let Some(ch) = Channel::parse(&channel) else {
        return refused(
            &app,
            StatusCode::NOT_FOUND,
            &format!("unknown channel {channel}"),
        );
    };
    let back = format!("/console/orders/{}/{}", ch.as_str(), pages::urlencode(&id));
    let done: Result<(), String> = match action.as_str() {
        "ack" => attention::acknowledge(&app.store, ch, id, &by(&peer), &f.note)
            .await
            .map_err(|e| e.to_string()),
        "refund_account" => refund_account(&app, ch, id, f).await,
        "cancel" => crate::flows::erp::cancel(&app.store, ch, id, f.reason)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        "ship" => ship(&app, ch, id, &f).await,
        _ => return refused(&app, StatusCode::NOT_FOUND, "no such action"),
    };
    match done {
        Ok(()) => {
            app.dispatcher_wake.notify_one();
            see_other(&back)
        }
        Err(e) => refused(&app, StatusCode::CONFLICT, &e),
    }
}

async fn ship(app: &AppState, ch: Channel, id: String, f: &ActionForm) -> Result<(), String> {
    let date = match f.date.trim() {
        "" => time::now().format("%Y-%m-%d").to_string(),
        typed => crate::domain::input::parse_date(typed)?,
    };
    let req = crate::http::admin::parse_shipment(&f.carrier, f.tracking.trim(), &date, None)
        .map_err(|e| e.message)?;
    crate::flows::erp::ship(&app.store, ch, id, req, app.payment_policy)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
pub(super) struct Back {
    #[serde(default)]
    back: Option<String>,
}

pub(super) async fn call_action(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    Query(b): Query<Back>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Err(d) = form_session(&app, &headers, &f.form_token) {
        return d.answer(&app);
    }
    let done: Result<(), String> = match action.as_str() {
        "drop" => attention::drop_call(&app.store, id, &by(&peer), &f.reason)
            .await
            .map_err(|e| e.to_string()),
        "retry" => match crate::http::admin::retry_call_by_hand(&app, id).await {
            Ok(()) => Ok(()),
            Err(e) => Err(e.message),
        },
        _ => return refused(&app, StatusCode::NOT_FOUND, "no such action"),
    };
    // Back to the order the form was on: its channel and id (decoded from
    // the query), encoded again; anything else goes to the orders page.
    let back = b
        .back
        .as_deref()
        .and_then(|p| p.split_once('/'))
        .and_then(|(ch, id)| Some((Channel::parse(ch)?, id)))
        .map(|(ch, id)| format!("/console/orders/{}/{}", ch.as_str(), pages::urlencode(id)))
        .unwrap_or_else(|| "/console/orders".into());
    match done {
        Ok(()) => see_other(&back),
        Err(e) => refused(&app, StatusCode::CONFLICT, &e),
    }
}
