//! [`CreditProvider`] for Atobarai.com, on top of [`AtobaraiClient`].

use tokio::sync::OnceCell;

use super::client::{AtobaraiClient, MAX_ORDERS_PER_CALL};
use super::{
    CarrierMaster, CreditStatus, DetailStatus, Line, OrderRegistration, Party, ShippingOutcome,
    deliv_id_for, wire,
};
use crate::call::CallError;
use crate::domain::credit::{
    CreditApplication, CreditVerdict, DeferredProvider, ShipmentReport, Transaction,
};
use crate::domain::direct;
use crate::providers::credit::atobarai_com::config::{FeeBand, FeeMode};
use crate::providers::credit::{
    CallFuture, CancelOutcome, CreditAnswer, CreditProvider, ShipmentRegistration,
};

/// Atobarai.com as a deferred-payment provider.
pub struct AtobaraiCredit {
    pub client: AtobaraiClient,
    /// `[atobarai_com] fee_mode` and `fee_bands`.
    pub fee_mode: FeeMode,
    pub fee_bands: Vec<FeeBand>,
    /// The carrier master (`delivlist`): ids are the service's own, so they
    /// are fetched once (at start-up, or at the first shipment).
    carriers: OnceCell<CarrierMaster>,
}

impl AtobaraiCredit {
    pub fn new(client: AtobaraiClient, fee_mode: FeeMode, fee_bands: Vec<FeeBand>) -> Self {
        AtobaraiCredit {
            client,
            fee_mode,
            fee_bands,
            carriers: OnceCell::new(),
        }
    }

    /// Fetches the carrier master unless it is already known.
    pub async fn carriers(&self) -> Result<&CarrierMaster, CallError> {
        self.carriers
            .get_or_try_init(|| async {
                let master = self.client.carriers().await?;
                tracing::info!(
                    carriers = master.carriers.len(),
                    "Atobarai.com carrier list loaded"
                );
                Ok(master)
            })
            .await
    }

    /// The registration (00) of an application, the merchant's fee rules applied.
    pub fn registration(&self, app: &CreditApplication) -> OrderRegistration {
        let party = |p: &direct::Party, email: bool| Party {
            postal_code: p.postal_code.clone(),
            address: p.address.clone(),
            name: p.name.clone(),
            name_kana: p.name_kana.clone(),
            phone: p.phone.clone(),
            email: if email { p.email.clone() } else { None },
        };
        let mut reg = OrderRegistration {
            ent_order_id: app.order_id.clone(),
            ordered_on: app.ordered_on,
            buyer: party(&app.buyer, true),
            delivery: app.ship_to.as_ref().map(|p| party(p, false)),
            lines: app
                .lines
                .iter()
                .map(|l| Line {
                    name: l.name.clone(),
                    unit_price: l.unit_price,
                    qty: l.qty,
                    tax_rate: None,
                })
                .collect(),
            carriage: app.shipping_fee,
            charge: app.fee,
            outside_tax: None,
            test: None,
        };
        reg.apply_fee(self.fee_mode, &self.fee_bands);
        reg
    }
}

impl CreditProvider for AtobaraiCredit {
    fn provider(&self) -> DeferredProvider {
        DeferredProvider::AtobaraiCom
    }

    fn warm_up(&self) -> CallFuture<'_, ()> {
        Box::pin(async move { self.carriers().await.map(drop) })
    }

    fn request_credit<'a>(
        &'a self,
        app: &'a CreditApplication,
        _after_lost_answer: bool,
    ) -> CallFuture<'a, CreditAnswer> {
        Box::pin(async move {
            let reg = self.registration(app);
            let recovered = |r: super::Registered| CreditAnswer {
                reference: r.system_order_id,
                verdict: verdict(r.status),
                recovered: true,
                replaced: Vec::new(),
            };
            // Nothing proves an earlier attempt did not create the order: a
            // timeout, but also a daemon killed mid-call (its attempt was
            // never counted, so `after_lost_answer` is false after the
            // restart). A default site takes the same number twice, so the
            // order is looked up by our number before every registration:
            // one `detail` call, answered at once when there is none.
            if let Some(found) = self.client.recover_registration(&reg.ent_order_id).await? {
                return Ok(recovered(found));
            }
            match self.client.register_order(&reg).await {
                Ok(r) => Ok(CreditAnswer {
                    reference: r.system_order_id,
                    verdict: verdict(r.status),
                    recovered: false,
                    replaced: Vec::new(),
                }),
                // The site checks duplicates: the order exists, whatever its state.
                Err(CallError::Rejected { code, .. }) if code == wire::ORDER_DUPLICATE => {
                    match self.client.recover_registration(&reg.ent_order_id).await? {
                        Some(found) => Ok(recovered(found)),
                        None => Err(CallError::transient(
                            "Atobarai.com calls the order a duplicate but detail does not show it yet",
                        )),
                    }
                }
                Err(e) => Err(e),
            }
        })
    }

    fn find_request<'a>(&'a self, app: &'a CreditApplication) -> CallFuture<'a, Option<String>> {
        Box::pin(async move {
            let found = self.client.recover_registration(&app.order_id).await?;
            Ok(found.map(|r| r.system_order_id))
        })
    }

    fn credit_results<'a>(
        &'a self,
        references: &'a [String],
    ) -> CallFuture<'a, Vec<(String, CreditVerdict)>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(references.len());
            for batch in references.chunks(MAX_ORDERS_PER_CALL) {
                for (id, _, status) in self.client.status(batch).await? {
                    out.push((id, verdict(status)));
                }
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
            if shipment
                .replaces
                .as_deref()
                .is_some_and(|old| old != shipment.tracking_no)
            {
                return Err(CallError::Rejected {
                    http_status: 0,
                    code: "UNSUPPORTED".into(),
                    message: "a registered tracking number cannot be changed through this daemon; correct it on the Atobarai.com merchant page".into(),
                });
            }
            let master = self.carriers().await?;
            let deliv_id = deliv_id_for(shipment.carrier, master).ok_or_else(|| {
                CallError::Rejected {
                    http_status: 0,
                    code: "UNKNOWN_CARRIER".into(),
                    message: format!(
                        "Atobarai.com's carrier list has no {}; register the tracking number on the merchant page",
                        shipment.carrier
                    ),
                }
            })?;
            match self
                .client
                .register_shipping_once(reference, deliv_id, &shipment.tracking_no)
                .await?
            {
                ShippingOutcome::Registered(_) => Ok(ShipmentRegistration::Registered),
                ShippingOutcome::AlreadyRegistered(_) => {
                    Ok(ShipmentRegistration::AlreadyRegistered)
                }
            }
        })
    }

    fn cancel<'a>(&'a self, reference: &'a str, reason: &'a str) -> CallFuture<'a, CancelOutcome> {
        Box::pin(async move {
            let reason = if reason.trim().is_empty() {
                "merchant cancelled"
            } else {
                reason
            };
            let answers = self
                .client
                .cancel(&[(reference.to_string(), reason.to_string())])
                .await?;
            match answers.into_iter().next().map(|(_, r)| r) {
                Some(Ok(())) => Ok(CancelOutcome::Cancelled),
                Some(Err(refusal)) if refusal.code == wire::CANCEL_NOT_FOUND => {
                    Ok(CancelOutcome::NotFound)
                }
                Some(Err(refusal))
                    if refusal.code == wire::CANCEL_NOT_CANCELLABLE
                        || refusal.code == "NO_RESULT" =>
                {
                    // A repeated cancel is refused as not cancellable: the
                    // detail tells whether an earlier one went through.
                    let details = self.client.detail(&[reference.to_string()], &[]).await?;
                    if details.iter().any(|d| {
                        matches!(
                            d.status,
                            DetailStatus::CancelRequested | DetailStatus::Cancelled
                        )
                    }) {
                        return Ok(CancelOutcome::Cancelled);
                    }
                    Err(CallError::Rejected {
                        http_status: 200,
                        code: refusal.code,
                        message: refusal.message,
                    })
                }
                // The card processor's refusal (E003) and any other (E999): a
                // person reads the service's own words.
                Some(Err(refusal)) => Err(CallError::Rejected {
                    http_status: 200,
                    code: refusal.code,
                    message: refusal.message,
                }),
                None => Err(CallError::transient(
                    "Atobarai.com answered no cancel result",
                )),
            }
        })
    }

    fn transaction_status<'a>(&'a self, reference: &'a str) -> CallFuture<'a, Transaction> {
        Box::pin(async move {
            let details = self.client.detail(&[reference.to_string()], &[]).await?;
            Ok(details
                .into_iter()
                .find(|d| d.system_order_id == reference)
                .map_or(Transaction::Unknown, |d| {
                    transaction(d.status, d.is_receipt_confirmed)
                }))
        })
    }
}

/// The neutral verdict of a credit status.
pub fn verdict(s: CreditStatus) -> CreditVerdict {
    match s {
        CreditStatus::Ok => CreditVerdict::Ok,
        CreditStatus::Ng => CreditVerdict::Ng,
        // Cancelled and unknown orders are no approval: they stay pending,
        // so that nothing ships on them.
        CreditStatus::UnderReview
        | CreditStatus::Cancelled
        | CreditStatus::Unknown
        | CreditStatus::Unrecognised(_) => CreditVerdict::Pending,
    }
}

/// The neutral transaction status of `detail`'s status and
/// `isReceiptConfirmed`: 9 クローズ is paid only with the receipt confirmed
/// (a bad debt or the merchant's advance taken back closes an order too).
pub fn transaction(s: DetailStatus, receipt_confirmed: bool) -> Transaction {
    match s {
        DetailStatus::UnderReview | DetailStatus::AwaitingTrackingNumber => Transaction::Approved,
        DetailStatus::AwaitingInvoice => Transaction::ShipmentRegistered,
        DetailStatus::AwaitingPayment | DetailStatus::PartiallyPaid => Transaction::Invoiced,
        DetailStatus::Closed if receipt_confirmed => Transaction::Paid,
        DetailStatus::Closed => Transaction::ClosedUnpaid,
        DetailStatus::CancelRequested | DetailStatus::Cancelled | DetailStatus::CreditNg => {
            Transaction::Cancelled
        }
        DetailStatus::Unknown | DetailStatus::Unrecognised(_) => Transaction::Unknown,
    }
}
