//! [`CreditProvider`] for Kuroneko Atobarai, on top of [`KuronekoClient`].

use std::time::Duration;

use super::client::KuronekoClient;
use super::{
    CreditRequest, CreditResult, InvoiceDelivery, Line, Party, TransactionStatus, order_no_for,
};
use crate::call::CallError;
use crate::domain::Carrier;
use crate::domain::credit::{
    CreditApplication, CreditVerdict, DeferredProvider, ShipmentReport, Transaction,
};
use crate::domain::direct;
use crate::providers::credit::{
    CallFuture, CancelOutcome, CreditAnswer, CreditProvider, ShipmentRegistration,
};

/// `errorCode` of KAARA when the orderNo was used before: after a lost
/// answer, our own earlier request.
const ORDER_NO_USED: &str = "kaara009E";

/// Kuroneko Atobarai as a deferred-payment provider.
pub struct KuronekoCredit {
    pub client: KuronekoClient,
    /// `[kuroneko] settle_delay`.
    pub settle_delay: Duration,
}

impl CreditProvider for KuronekoCredit {
    fn provider(&self) -> DeferredProvider {
        DeferredProvider::Kuroneko
    }

    fn settle_delay(&self) -> Duration {
        self.settle_delay
    }

    fn request_credit<'a>(
        &'a self,
        app: &'a CreditApplication,
        after_lost_answer: bool,
    ) -> CallFuture<'a, CreditAnswer> {
        Box::pin(async move {
            let req = credit_request(app);
            let answer =
                |result: CreditResult, recovered: bool, replaced: Vec<String>| CreditAnswer {
                    reference: req.order_no.clone(),
                    verdict: verdict(result),
                    recovered,
                    replaced,
                };
            match self.client.request_credit_noting(&req).await {
                Ok((result, replaced)) => Ok(answer(
                    result,
                    false,
                    replaced.iter().map(ToString::to_string).collect(),
                )),
                // The orderNo is deterministic per attempt: "already used"
                // after a lost answer means our request went through. Its
                // result is what KAARS says.
                Err(CallError::Rejected { code, .. }) if code == ORDER_NO_USED => {
                    let result = self.client.credit_result(&req.order_no).await?;
                    if !after_lost_answer {
                        tracing::warn!(order_no = %req.order_no, "orderNo already used at Yamato; took its result");
                    }
                    Ok(answer(result, true, Vec::new()))
                }
                Err(e) => Err(e),
            }
        })
    }

    fn credit_results<'a>(
        &'a self,
        references: &'a [String],
    ) -> CallFuture<'a, Vec<(String, CreditVerdict)>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(references.len());
            for r in references {
                out.push((r.clone(), verdict(self.client.credit_result(r).await?)));
            }
            Ok(out)
        })
    }

    fn register_shipment<'a>(
        &'a self,
        reference: &'a str,
        shipment: &'a ShipmentReport,
    ) -> CallFuture<'a, ShipmentRegistration> {
        Box::pin(async move {
            // No idempotency key at Yamato: read the transaction first. A
            // tracking number we have no record of sending but Yamato shows
            // was sent by an attempt whose answer was lost.
            let (status, _) = self.client.transaction_status(reference).await?;
            let registered = transaction(status).has_shipment();
            match (&shipment.replaces, shipment.carrier) {
                (Some(old), Carrier::Yamato) if registered && *old != shipment.tracking_no => {
                    self.client
                        .change_shipment(reference, old, &shipment.tracking_no, shipment.shipped_on)
                        .await?;
                    Ok(ShipmentRegistration::Registered)
                }
                _ if registered => Ok(ShipmentRegistration::AlreadyRegistered),
                _ => {
                    self.client
                        .register_shipment(
                            reference,
                            shipment.carrier,
                            &shipment.tracking_no,
                            shipment.shipped_on,
                        )
                        .await?;
                    Ok(ShipmentRegistration::Registered)
                }
            }
        })
    }

    fn find_request<'a>(&'a self, app: &'a CreditApplication) -> CallFuture<'a, Option<String>> {
        Box::pin(async move {
            // The orderNo is deterministic per attempt: KAARS knows it or not.
            let order_no = order_no_for(&app.order_id, app.attempt);
            match self.client.credit_result(&order_no).await {
                Ok(_) => Ok(Some(order_no)),
                Err(e) if super::client::is_unknown_order(&e) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn cancel<'a>(&'a self, reference: &'a str, _reason: &'a str) -> CallFuture<'a, CancelOutcome> {
        Box::pin(async move {
            match self.client.cancel(reference).await {
                Ok(()) => Ok(CancelOutcome::Cancelled),
                Err(e) if super::client::is_unknown_order(&e) => Ok(CancelOutcome::NotFound),
                Err(e) => {
                    // A cancel whose answer was lost leaves status 2: done.
                    match self.client.transaction_status(reference).await {
                        Ok((TransactionStatus::Cancelled, _)) => Ok(CancelOutcome::Cancelled),
                        _ => Err(e),
                    }
                }
            }
        })
    }

    fn transaction_status<'a>(&'a self, reference: &'a str) -> CallFuture<'a, Transaction> {
        Box::pin(async move {
            let (status, _) = self.client.transaction_status(reference).await?;
            Ok(transaction(status))
        })
    }

    fn reduce_amount<'a>(
        &'a self,
        reference: &'a str,
        app: &'a CreditApplication,
    ) -> CallFuture<'a, ()> {
        Box::pin(async move {
            let mut req = credit_request(app);
            req.order_no = reference.to_string();
            self.client.reduce_amount(&req).await
        })
    }
}

/// The neutral verdict of Yamato's scoring result.
pub fn verdict(r: CreditResult) -> CreditVerdict {
    match r {
        CreditResult::Ok => CreditVerdict::Ok,
        CreditResult::Ng => CreditVerdict::Ng,
        CreditResult::OverLimit => CreditVerdict::OverLimit,
        CreditResult::UnderReview => CreditVerdict::Pending,
    }
}

/// The neutral transaction status of KAAST's result.
pub fn transaction(s: TransactionStatus) -> Transaction {
    match s {
        TransactionStatus::Approved | TransactionStatus::WarningMailSent => Transaction::Approved,
        TransactionStatus::TrackingRegistered => Transaction::ShipmentRegistered,
        TransactionStatus::NeedsInvestigation => Transaction::NeedsInvestigation,
        TransactionStatus::SalesConfirmed => Transaction::SalesConfirmed,
        TransactionStatus::InvoiceIssued => Transaction::Invoiced,
        TransactionStatus::Paid => Transaction::Paid,
        TransactionStatus::Cancelled => Transaction::Cancelled,
        TransactionStatus::Unrecognised(_) => Transaction::Unknown,
    }
}

/// KAARA's request for an application: the orderNo of its attempt, today as
/// the planned ship date (never before the order date).
pub fn credit_request(app: &CreditApplication) -> CreditRequest {
    let today = crate::domain::time::now().date_naive();
    let party = |p: &direct::Party| Party {
        name: p.name.clone(),
        name_kana: p.name_kana.clone(),
        postal_code: p.postal_code.clone(),
        address: p.address.clone(),
        phone: p.phone.clone(),
        email: p.email.clone(),
    };
    CreditRequest {
        order_no: order_no_for(&app.order_id, app.attempt),
        ordered_on: app.ordered_on,
        ship_on: today.max(app.ordered_on),
        buyer: party(&app.buyer),
        ship_to: app.ship_to.as_ref().map(party),
        lines: app
            .lines
            .iter()
            .map(|l| Line {
                name: l.name.clone(),
                qty: l.qty,
                unit_price: l.unit_price,
            })
            .collect(),
        shipping_fee: app.shipping_fee,
        fee: app.fee,
        send_div: if app.ship_to.is_some() {
            InvoiceDelivery::Gift
        } else {
            InvoiceDelivery::MailToBuyer
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_maps() {
        for s in TransactionStatus::KNOWN {
            let t = transaction(s);
            assert_eq!(
                t.has_shipment(),
                matches!(
                    s,
                    TransactionStatus::TrackingRegistered
                        | TransactionStatus::NeedsInvestigation
                        | TransactionStatus::SalesConfirmed
                        | TransactionStatus::InvoiceIssued
                        | TransactionStatus::Paid
                ),
                "{s:?}"
            );
        }
        assert_eq!(
            transaction(TransactionStatus::Unrecognised(4)),
            Transaction::Unknown
        );
        for r in CreditResult::ALL {
            assert_eq!(verdict(r) == CreditVerdict::Pending, !r.is_settled());
        }
    }
}
