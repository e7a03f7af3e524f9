//! Invoices to J-goods: load what shipped, compute, and (when issuing) decide the number and
//! record it — in one transaction, so two issuers racing cannot take the same number or
//! both claim one period.

use chrono::NaiveDate;

use crate::config::InvoiceConfig;
use crate::domain::time;
use crate::invoice::compute;
use crate::invoice::issue::{self, IssueDecision, IssuedHead};
use crate::invoice::{InvoiceDocument, InvoiceError, Issue, Issuer, Period};
use crate::store::{Store, StoreError, invoices};

#[derive(Debug, thiserror::Error)]
pub enum InvoiceFlowError {
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    #[error(
        "the period overlaps invoice{} {}; an invoice never claims a shipment twice (use --force to issue it anyway)",
        if .0.len() > 1 { "s" } else { "" },
        describe(.0)
    )]
    Overlaps(Vec<IssuedHead>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(heads: &[IssuedHead]) -> String {
    heads
        .iter()
        .map(|h| format!("{} ({} to {})", h.number, h.period.from, h.period.to))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A document ready to render, with what the caller should tell the person.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub doc: InvoiceDocument,
    /// A re-issue whose orders or tax rates changed since it was issued: the document shows
    /// the invoice as issued, but the store now says otherwise (a shipment recorded late,
    /// say); a person must decide whether to issue a corrected invoice (`--force`).
    pub changed_since_issue: bool,
    /// Preview only: recorded invoices the period overlaps (issuing it would be refused).
    pub overlaps: Vec<String>,
}

/// What the period's invoice would be, without recording anything. A period that was issued
/// shows the recorded invoice (marked as a re-issue), so a preview never disagrees with what
/// was sent.
pub async fn preview(
    store: &Store,
    config: &InvoiceConfig,
    period: Period,
) -> Result<Prepared, InvoiceFlowError> {
    let issuer = Issuer::from(config);
    let today = time::now().date_naive();
    store
        .read(move |conn| Ok(prepare(conn, issuer, period, None, "", today).map(|(p, _)| p)))
        .await?
}

/// Issues the period's invoice: a new number, or a re-issue of the recorded one; refused
/// when it overlaps another recorded invoice unless `force`.
pub async fn issue(
    store: &Store,
    config: &InvoiceConfig,
    period: Period,
    force: bool,
) -> Result<Prepared, InvoiceFlowError> {
    let issuer = Issuer::from(config);
    let prefix = config.number_prefix.clone();
    let now = time::now();
    store
        .write(move |tx| {
            let prepared = prepare(tx, issuer, period, Some(force), &prefix, now.date_naive());
            if let Ok((p, Some(head))) = &prepared {
                invoices::record(tx, head, &p.doc.invoice, &time::rfc3339(now))?;
            }
            Ok(prepared.map(|(p, _)| p))
        })
        .await?
}

/// Loads, computes and decides. `force: None` is a preview. Answers the invoice to record
/// when a new one is issued.
fn prepare(
    conn: &rusqlite::Connection,
    issuer: Issuer,
    period: Period,
    force: Option<bool>,
    prefix: &str,
    today: NaiveDate,
) -> Result<(Prepared, Option<IssuedHead>), InvoiceFlowError> {
    let current = compute::compute(
        period,
        &invoices::shipped_orders(conn, period)?,
        &invoices::shipping_charges(conn, period)?,
    )?;
    let recorded = invoices::issued(conn)?;
    let decision = issue::decide(period, force.unwrap_or(false), prefix, &recorded);
    let mut record = None;
    let (issue, invoice, changed, overlaps) = match (decision, force) {
        (IssueDecision::Reissue { number }, _) => {
            let head = recorded.iter().find(|h| h.number == number);
            let stored = invoices::body(conn, &number)?;
            let (Some(head), Some(stored)) = (head, stored) else {
                return Err(StoreError::Corrupt(format!("invoice {number} vanished")).into());
            };
            let changed = stored != current;
            let issue = Issue::Reissued {
                number,
                issued_on: head.issued_on,
                reissued_on: today,
            };
            (issue, stored, changed, vec![])
        }
        (IssueDecision::Refused { overlapping }, None) => {
            let names = overlapping.into_iter().map(|h| h.number).collect();
            (Issue::Preview, current, false, names)
        }
        (IssueDecision::Refused { overlapping }, Some(_)) => {
            return Err(InvoiceFlowError::Overlaps(overlapping));
        }
        (IssueDecision::New { .. }, None) => (Issue::Preview, current, false, vec![]),
        (IssueDecision::New { seq, number }, Some(_)) => {
            record = Some(IssuedHead {
                seq,
                number: number.clone(),
                period,
                issued_on: today,
            });
            let issue = Issue::Issued {
                number,
                issued_on: today,
            };
            (issue, current, false, vec![])
        }
    };
    let doc = InvoiceDocument {
        issue,
        issuer,
        invoice,
    };
    let prepared = Prepared {
        doc,
        changed_since_issue: changed,
        overlaps,
    };
    Ok((prepared, record))
}
