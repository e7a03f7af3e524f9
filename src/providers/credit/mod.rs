//! The deferred-payment provider abstraction: what the core asks of Kuroneko
//! Atobarai and Atobarai.com, in neutral types ([`CreditProvider`]). Each
//! provider's folder holds its implementation (`kuroneko::provider`,
//! `atobarai_com::provider`) and its `wiring`, which hands it to [`wiring`]
//! with its poller; the decisions on its answers are
//! [`crate::engine::credit`], written by [`apply`] and [`calls`].

pub mod apply;
pub mod atobarai_com;
pub mod calls;
pub mod kuroneko;
pub mod poller;
pub mod wiring;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::call::CallError;
use crate::domain::credit::{
    CreditApplication, CreditVerdict, DeferredProvider, ShipmentReport, Transaction,
};

/// The future of a provider call (boxed so that providers can sit behind `dyn`).
pub type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CallError>> + Send + 'a>>;

/// What a credit request answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditAnswer {
    /// The provider's id of the transaction (Kuroneko's orderNo, Atobarai.com's
    /// system order id): the key of every later call.
    pub reference: String,
    pub verdict: CreditVerdict,
    /// The answer came from recovering an earlier request whose answer was
    /// lost, not from a new one.
    pub recovered: bool,
    /// Characters of names, addresses or item names replaced to fit the
    /// provider's range (`buyer.name: 髙→高`), for the order's history.
    pub replaced: Vec<String>,
}

/// How a shipment registration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentRegistration {
    /// Registered now.
    Registered,
    /// The provider already had it (an earlier attempt whose answer was lost).
    AlreadyRegistered,
}

/// How a cancel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Cancelled (or the cancel requested).
    Cancelled,
    /// The provider never had the transaction: nothing to cancel.
    NotFound,
}

/// A deferred-payment provider. Every method is safe to call again after a
/// lost answer: the implementation re-reads the provider's state before it
/// repeats anything that would act twice.
pub trait CreditProvider: Send + Sync {
    fn provider(&self) -> DeferredProvider;

    /// How long to leave a transaction alone after its credit request
    /// (Kuroneko: calls right after it may fail).
    fn settle_delay(&self) -> Duration {
        Duration::ZERO
    }

    /// Start-up work (Atobarai.com loads its carrier list); a failure is
    /// logged and the work done again when needed.
    fn warm_up(&self) -> CallFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Requests the credit check. `after_lost_answer` says an earlier attempt
    /// of this very request may have reached the provider: recover it before
    /// sending anything new, so that no second transaction is created.
    fn request_credit<'a>(
        &'a self,
        app: &'a CreditApplication,
        after_lost_answer: bool,
    ) -> CallFuture<'a, CreditAnswer>;

    /// The credit result of each transaction now, in request order (any
    /// number; implementations batch as their API allows).
    fn credit_results<'a>(
        &'a self,
        references: &'a [String],
    ) -> CallFuture<'a, Vec<(String, CreditVerdict)>>;

    /// Registers the parcel's tracking number (or replaces the one registered).
    fn register_shipment<'a>(
        &'a self,
        reference: &'a str,
        shipment: &'a ShipmentReport,
    ) -> CallFuture<'a, ShipmentRegistration>;

    /// The transaction an unanswered credit request of `app` may have
    /// created, looked up by the merchant's own order number; `None` when the
    /// provider has none (the request never arrived).
    fn find_request<'a>(&'a self, app: &'a CreditApplication) -> CallFuture<'a, Option<String>>;

    /// Cancels the transaction.
    fn cancel<'a>(&'a self, reference: &'a str, reason: &'a str) -> CallFuture<'a, CancelOutcome>;

    /// Where the transaction stands (after shipment: sales confirmed,
    /// invoiced, paid).
    fn transaction_status<'a>(&'a self, reference: &'a str) -> CallFuture<'a, Transaction>;

    /// Lowers the billed amount to `app`'s lines. Only some providers can.
    fn reduce_amount<'a>(
        &'a self,
        reference: &'a str,
        app: &'a CreditApplication,
    ) -> CallFuture<'a, ()> {
        let _ = (reference, app);
        let name = self.provider().display_name();
        Box::pin(async move {
            Err(CallError::Rejected {
                http_status: 0,
                code: "UNSUPPORTED".into(),
                message: format!("{name} cannot lower an amount through this daemon"),
            })
        })
    }
}

/// The enabled providers, by name.
#[derive(Clone, Default)]
pub struct CreditProviders {
    providers: HashMap<DeferredProvider, Arc<dyn CreditProvider>>,
}

impl CreditProviders {
    pub fn add(&mut self, p: Arc<dyn CreditProvider>) {
        self.providers.insert(p.provider(), p);
    }

    pub fn get(&self, p: DeferredProvider) -> Option<&Arc<dyn CreditProvider>> {
        self.providers.get(&p)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn CreditProvider>> {
        self.providers.values()
    }
}
