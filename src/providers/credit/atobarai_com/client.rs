//! Atobarai.com client: `POST {base}/api/<service>/rest`, form-encoded UTF-8,
//! answered by an XML `<response>`.
//!
//! Every outcome is mapped to [`CallError`] so the poller and the dispatcher
//! can tell "retry later" from "needs a person" without knowing the wire:
//! - transport errors, HTTP statuses other than 200/404, unreadable bodies and
//!   the codes `EXX901` (system failure) / `EXX902` (maintenance) are
//!   [`CallError::Transient`];
//! - every other `<status>error</status>` is [`CallError::Rejected`] with
//!   `http_status` 200, the first message's code, and every message in
//!   readable English followed by the service's own text;
//! - a 404 means the base URL or the account's path is wrong: a rejection a
//!   person must fix in the config (`code` `HTTP_404`).
//!
//! A redirect is followed by POSTing the same form again (an HTTP client's
//! default would turn the POST into a GET and lose every key), at most
//! [`MAX_REDIRECTS`] times and never to another origin (scheme, host, port:
//! the buyer's name and address would go along).
//!
//! The service has no secret: the caller is its ids plus the source IP, so
//! nothing here needs redacting.

use std::sync::Arc;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue, LOCATION};
use reqwest::{StatusCode, Url};
use tokio::time::Instant;

use super::wire::{self, AtobaraiIds, AtobaraiResponse, AtobaraiService, Form};
use super::{
    CancelRefusal, CarrierEntry, CarrierMaster, CreditStatus, Detail, DetailStatus, IdMapped,
    OrderRegistration, Registered, ShippingOutcome, ShippingRegistered,
};
use crate::call::{CallError, HttpLimits};
use crate::providers::credit::atobarai_com::config::AtobaraiComConfig;
use crate::providers::http_client;

/// Orders per `status`, `cancel`, `idmap` and `detail` call (contract).
pub const MAX_ORDERS_PER_CALL: usize = 100;
/// Longest merchant order number the service stores.
pub const MAX_ENT_ORDER_ID_CHARS: usize = 100;
/// Redirects followed before giving up (a loop is a misconfiguration).
pub const MAX_REDIRECTS: usize = 3;
/// `code` of a rejection made because the answer's HTTP status was 404.
pub const WRONG_PATH: &str = "HTTP_404";
/// `code` of a lookup that found several orders under one merchant number.
pub const DUPLICATE_ORDER: &str = "DUPLICATE_ORDER";

const FORM_UTF8: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// Where the service is and who the merchant is; all of it comes from config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtobaraiClientSettings {
    /// Host, e.g. `https://www.atobarai.jp` (test: `https://www1.atobarai-dev.jp`).
    pub api_base_url: String,
    /// 事業者ID.
    pub enterprise_id: u64,
    /// サイトID, sent on order registration.
    pub site_id: u64,
    /// APIユーザID.
    pub api_user_id: u64,
    /// What bounds every call: its timeout and the answer caps (`[daemon]`).
    pub http: HttpLimits,
}

impl AtobaraiClientSettings {
    /// The settings of an `[atobarai_com]` section.
    pub fn from_config(cfg: &AtobaraiComConfig, http: HttpLimits) -> Self {
        AtobaraiClientSettings {
            api_base_url: cfg.api_base_url.clone(),
            enterprise_id: cfg.enterprise_id,
            site_id: cfg.site_id,
            api_user_id: cfg.api_user_id,
            http,
        }
    }
}

/// An Atobarai.com client. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct AtobaraiClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// Most bytes read of an answer (`[daemon]`).
    limits: HttpLimits,
    base: Url,
    ids: AtobaraiIds,
}

impl AtobaraiClient {
    /// Checks the base URL and the ids and builds the HTTP client. A bad value
    /// is a `Rejected { http_status: 0, code: "INVALID_CONFIG" }`: nothing was sent.
    pub fn new(settings: AtobaraiClientSettings) -> Result<Self, CallError> {
        if settings.enterprise_id == 0 || settings.site_id == 0 || settings.api_user_id == 0 {
            return Err(http_client::not_sent(
                "INVALID_CONFIG",
                "enterprise_id, site_id and api_user_id must be positive".to_string(),
            ));
        }
        let base = http_client::parse_base("api_base_url", &settings.api_base_url)?;
        // Redirects are followed by hand so the form is POSTed again.
        let http = http_client::build(settings.http)?;
        Ok(AtobaraiClient {
            inner: Arc::new(Inner {
                http,
                limits: settings.http,
                base,
                ids: AtobaraiIds {
                    enterprise_id: settings.enterprise_id,
                    site_id: settings.site_id,
                    api_user_id: settings.api_user_id,
                },
            }),
        })
    }

    /// Registers an order and runs the credit check (service 00). The total
    /// is computed from the lines. Under review (`UnderReview`) is normal:
    /// poll [`AtobaraiClient::status`]. A success without a readable
    /// `orderStatus` is read as under review, so the new id is never lost.
    ///
    /// A [`CallError::Transient`] does not prove the order was not created
    /// (the answer may have been lost): call
    /// [`AtobaraiClient::recover_registration`] before registering again, or
    /// the retry creates a second order (a site that checks duplicates
    /// answers `E00309` instead).
    pub async fn register_order(&self, order: &OrderRegistration) -> Result<Registered, CallError> {
        check_registration(order)?;
        let form = wire::order_form(self.inner.ids, order);
        let answer = self.call(AtobaraiService::Order, form).await?;
        let system_order_id = wire::text(answer.system_order_id.as_deref()).ok_or_else(|| {
            CallError::transient("Atobarai.com answered success without a systemOrderId")
        })?;
        // The order exists once it has an id: an unreadable status must not
        // make the caller register it again. Polling `status` tells the truth.
        let status = answer
            .order_status
            .as_ref()
            .and_then(wire::AtobaraiCode::number)
            .map_or_else(
                || {
                    tracing::warn!(
                        system_order_id = %system_order_id,
                        "Atobarai.com registered an order without a readable orderStatus; polling it"
                    );
                    CreditStatus::UnderReview
                },
                CreditStatus::from_code,
            );
        Ok(Registered {
            system_order_id,
            status,
        })
    }

    /// Looks an order up by the merchant order number with `detail`, which
    /// answers in every state (`idmap` maps only orders at 与信OK, so it
    /// cannot find a registration still under review): `Some` when an
    /// earlier registration went through even though its answer was lost.
    /// Call it before registering again after a transient failure; `None`
    /// means registering is safe. Several orders under the number (a default
    /// site takes a number twice) are a [`DUPLICATE_ORDER`] rejection naming
    /// them: a person keeps one and cancels the rest.
    pub async fn recover_registration(
        &self,
        ent_order_id: &str,
    ) -> Result<Option<Registered>, CallError> {
        let ent = ent_order_id.trim();
        let details = match self.detail(&[], &[ent.to_string()]).await {
            Ok(d) => d,
            // No valid id: nothing registered under the number.
            Err(CallError::Rejected { code, .. }) if code == wire::DETAIL_NONE_FOUND => Vec::new(),
            Err(e) => return Err(e),
        };
        let found: Vec<Detail> = details
            .into_iter()
            .filter(|d| d.status != DetailStatus::Unknown)
            .filter(|d| d.ent_order_id.as_deref().is_none_or(|e| e == ent))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(Registered {
                system_order_id: one.system_order_id.clone(),
                status: one.status.credit_status(),
            })),
            several => Err(duplicate_orders(ent, several)),
        }
    }

    /// Credit status of at most [`MAX_ORDERS_PER_CALL`] orders (service 01):
    /// `(system order id, merchant order number, status)` in request order.
    /// An id the answer leaves out reads as [`CreditStatus::Unknown`], as an
    /// id the service does not know.
    pub async fn status(
        &self,
        system_order_ids: &[String],
    ) -> Result<Vec<(String, Option<String>, CreditStatus)>, CallError> {
        check_batch("system order id", system_order_ids)?;
        if system_order_ids.is_empty() {
            return Ok(Vec::new());
        }
        let form = wire::status_form(self.inner.ids, system_order_ids);
        let answer = self.call(AtobaraiService::Status, form).await?;
        Ok(system_order_ids
            .iter()
            .map(|id| {
                let id = id.trim();
                let found = answer
                    .results
                    .results
                    .iter()
                    .find(|r| wire::text(r.order_id.as_deref()).as_deref() == Some(id));
                let status = found
                    .and_then(|r| r.order_status.as_ref())
                    .and_then(wire::AtobaraiCode::number)
                    .map_or(CreditStatus::Unknown, CreditStatus::from_code);
                let ent = found.and_then(|r| wire::text(r.ent_order_id.as_deref()));
                (id.to_string(), ent, status)
            })
            .collect())
    }

    /// The carrier master (service 02, `delivlist`), for [`super::deliv_id_for`].
    /// Fetch it at start-up: the ids are the service's own.
    pub async fn carriers(&self) -> Result<CarrierMaster, CallError> {
        let form = wire::delivlist_form(self.inner.ids);
        let answer = self.call(AtobaraiService::DelivList, form).await?;
        let mut carriers = Vec::with_capacity(answer.results.results.len());
        for r in &answer.results.results {
            let Some(deliv) = &r.deliv_id else { continue };
            let Some(deliv_id) = deliv.number() else {
                tracing::warn!(id = %deliv.id, "Atobarai.com listed a carrier without a numeric id");
                continue;
            };
            let name = wire::text(r.name.as_deref())
                .or_else(|| wire::text(deliv.name.as_deref()))
                .unwrap_or_default();
            carriers.push(CarrierEntry {
                deliv_id,
                name,
                short_name: wire::text(r.short_name.as_deref()).unwrap_or_default(),
            });
        }
        Ok(CarrierMaster { carriers })
    }

    /// Merchant order number → system order id (service 03), in request
    /// order. It maps only orders at 与信OK: it is no way to find a lost
    /// registration (see [`AtobaraiClient::recover_registration`]).
    pub async fn idmap(
        &self,
        ent_order_ids: &[String],
    ) -> Result<Vec<(String, IdMapped)>, CallError> {
        check_batch("merchant order number", ent_order_ids)?;
        if ent_order_ids.is_empty() {
            return Ok(Vec::new());
        }
        let form = wire::idmap_form(self.inner.ids, ent_order_ids);
        let answer = self.call(AtobaraiService::IdMap, form).await?;
        Ok(ent_order_ids
            .iter()
            .map(|ent| {
                let ent = ent.trim();
                let mut rows = answer
                    .results
                    .results
                    .iter()
                    .filter(|r| wire::text(r.ent_order_id.as_deref()).as_deref() == Some(ent));
                let mapped = match rows.next() {
                    Some(r)
                        if r.error
                            .as_ref()
                            .is_some_and(|e| e.cd.trim() == wire::IDMAP_SEVERAL) =>
                    {
                        IdMapped::Several
                    }
                    Some(r) => wire::text(r.order_id.as_deref())
                        .map_or(IdMapped::NotFound, IdMapped::Found),
                    None => IdMapped::NotFound,
                };
                (ent.to_string(), mapped)
            })
            .collect())
    }

    /// Registers a tracking number (service 04). `E04301` (not awaiting a
    /// tracking number) is a plain rejection here; use
    /// [`AtobaraiClient::register_shipping_once`] for a retry-safe call.
    pub async fn register_shipping(
        &self,
        system_order_id: &str,
        deliv_id: u32,
        journal_num: &str,
    ) -> Result<ShippingRegistered, CallError> {
        if system_order_id.trim().is_empty() || journal_num.trim().is_empty() {
            return Err(http_client::not_sent(
                "INVALID_SHIPMENT",
                "the order id and the tracking number must not be empty".to_string(),
            ));
        }
        let form = wire::shipping_form(self.inner.ids, system_order_id, deliv_id, journal_num);
        let answer = self.call(AtobaraiService::Shipping, form).await?;
        Ok(ShippingRegistered {
            system_order_id: wire::text(answer.order_id.as_deref())
                .unwrap_or_else(|| system_order_id.trim().to_string()),
            deliv_id: answer
                .deliv_id
                .as_ref()
                .and_then(wire::AtobaraiDelivId::number)
                .unwrap_or(deliv_id),
            carrier_name: answer
                .deliv_id
                .as_ref()
                .and_then(|d| wire::text(d.name.as_deref())),
            journal_num: wire::text(answer.journal_num.as_deref())
                .unwrap_or_else(|| journal_num.trim().to_string()),
        })
    }

    /// [`AtobaraiClient::register_shipping`], safe to retry: when the service
    /// answers `E04301`, `detail` is read and, if it shows the same carrier
    /// and tracking number (hyphens and spaces ignored), the registration is
    /// taken as done by an earlier attempt. Any other `E04301` (a different
    /// number, a cancelled or refused order) stays a rejection, with what
    /// `detail` showed added to its message.
    pub async fn register_shipping_once(
        &self,
        system_order_id: &str,
        deliv_id: u32,
        journal_num: &str,
    ) -> Result<ShippingOutcome, CallError> {
        let refusal = match self
            .register_shipping(system_order_id, deliv_id, journal_num)
            .await
        {
            Ok(done) => return Ok(ShippingOutcome::Registered(done)),
            Err(CallError::Rejected {
                http_status,
                code,
                message,
            }) if code == wire::SHIPPING_NOT_ALLOWED => (http_status, code, message),
            Err(other) => return Err(other),
        };
        let details = self
            .detail(&[system_order_id.trim().to_string()], &[])
            .await?;
        let found = details
            .into_iter()
            .find(|d| d.system_order_id == system_order_id.trim());
        if let Some(d) = &found
            && d.is_shipped
            && d.deliv_id == Some(deliv_id)
            && d.journal_number.as_deref().map(same_journal_key)
                == Some(same_journal_key(journal_num))
        {
            return Ok(ShippingOutcome::AlreadyRegistered(d.clone()));
        }
        let (http_status, code, message) = refusal;
        let seen = found.map_or_else(
            || "detail does not know the order".to_string(),
            |d| {
                format!(
                    "detail shows status {} (shipped: {}, carrier {:?}, tracking number {:?})",
                    d.status.name(),
                    d.is_shipped,
                    d.deliv_id,
                    d.journal_number
                )
            },
        );
        Err(CallError::Rejected {
            http_status,
            code,
            message: format!("{message}; {seen}"),
        })
    }

    /// Requests the cancel of at most [`MAX_ORDERS_PER_CALL`] orders
    /// (service 05): one result per requested order, in request order. A
    /// cancel is a request: `status` then reads `Cancelled` and `detail`
    /// `CancelRequested` until the service completes it. Per-order refusals
    /// (`E001` no such order, `E002` not cancellable in its state, `E003` the
    /// card processor's refusal, `E999` other) are results, not errors,
    /// read whatever the top status says; their message is the merchant's,
    /// Japanese first. An order the answer leaves out is a `NO_RESULT`
    /// refusal (retry it).
    pub async fn cancel(
        &self,
        orders: &[(String, String)],
    ) -> Result<Vec<(String, Result<(), CancelRefusal>)>, CallError> {
        let ids: Vec<String> = orders.iter().map(|(id, _)| id.clone()).collect();
        check_batch("system order id", &ids)?;
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let form = wire::cancel_form(self.inner.ids, orders);
        let answer = self.call(AtobaraiService::Cancel, form).await?;
        Ok(ids
            .iter()
            .map(|id| {
                let id = id.trim();
                let found = answer
                    .results
                    .results
                    .iter()
                    .find(|r| wire::text(r.order_id.as_deref()).as_deref() == Some(id));
                let outcome = match found {
                    None => Err(CancelRefusal {
                        code: "NO_RESULT".to_string(),
                        message: "the answer has no result for this order".to_string(),
                    }),
                    Some(r) if r.cancel_status.as_deref().map(str::trim) == Some("success") => {
                        Ok(())
                    }
                    Some(r) => {
                        let (code, text) = r.error.as_ref().map_or_else(
                            || ("NO_CODE".to_string(), String::new()),
                            |e| (e.cd.trim().to_string(), e.label.trim().to_string()),
                        );
                        Err(CancelRefusal {
                            message: cancel_refusal_message(&code, &text),
                            code,
                        })
                    }
                };
                (id.to_string(), outcome)
            })
            .collect())
    }

    /// Order detail (service 09) by system order ids and/or merchant order
    /// numbers, at most [`MAX_ORDERS_PER_CALL`] together. Orders the service
    /// does not know come back with [`DetailStatus::Unknown`] or not at all.
    pub async fn detail(
        &self,
        system_order_ids: &[String],
        ent_order_ids: &[String],
    ) -> Result<Vec<Detail>, CallError> {
        let all: Vec<String> = system_order_ids
            .iter()
            .chain(ent_order_ids)
            .cloned()
            .collect();
        check_batch("order id", &all)?;
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let form = wire::detail_form(self.inner.ids, system_order_ids, ent_order_ids);
        let answer = self.call(AtobaraiService::Detail, form).await?;
        Ok(answer
            .results
            .results
            .iter()
            .filter_map(|r| {
                Some(Detail {
                    system_order_id: wire::text(r.order_id.as_deref())?,
                    ent_order_id: wire::text(r.ent_order_id.as_deref()),
                    status: r
                        .order_status
                        .as_ref()
                        .and_then(wire::AtobaraiCode::number)
                        .map_or(DetailStatus::Unknown, DetailStatus::from_code),
                    is_shipped: wire::flag(r.is_shipped.as_deref()),
                    deliv_id: r
                        .delivery_id
                        .as_ref()
                        .and_then(wire::AtobaraiDelivId::number),
                    journal_number: wire::text(r.journal_number.as_deref()),
                    is_arrival_confirmed: wire::flag(r.is_arrival_confirmed.as_deref()),
                    is_receipt_confirmed: wire::flag(r.is_receipt_confirmed.as_deref()),
                })
            })
            .collect())
    }

    /// POSTs a form to a service and judges the `<response>`: `Ok` only for
    /// `<status>success</status>`.
    async fn call(
        &self,
        service: AtobaraiService,
        form: Form,
    ) -> Result<AtobaraiResponse, CallError> {
        let started = Instant::now();
        let result = self.exchange(service, &form).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(_) => tracing::debug!(%service, latency_ms, "atobarai.com call"),
            Err(e) => tracing::debug!(%service, error = %e, latency_ms, "atobarai.com call failed"),
        }
        let answer = result?;
        judge(service, answer)
    }

    /// Sends the form, following redirects by re-POSTing, and parses the XML.
    async fn exchange(
        &self,
        service: AtobaraiService,
        form: &Form,
    ) -> Result<AtobaraiResponse, CallError> {
        let mut url = service_url(&self.inner.base, service);
        let mut hops = 0;
        loop {
            let mut request = self
                .inner
                .http
                .post(url.clone())
                .form(form)
                .header(ACCEPT, "text/xml, application/xml")
                .build()
                .map_err(|e| {
                    http_client::not_sent("INVALID_BODY", format!("cannot build the request: {e}"))
                })?;
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(FORM_UTF8));
            let response = self
                .inner
                .http
                .execute(request)
                .await
                .map_err(CallError::from_transport)?;
            let status = response.status();
            if status.is_redirection() {
                hops += 1;
                url = redirect_target(&url, status, response.headers().get(LOCATION), hops)?;
                continue;
            }
            if status == StatusCode::NOT_FOUND {
                return Err(CallError::Rejected {
                    http_status: 404,
                    code: WRONG_PATH.to_string(),
                    message: format!(
                        "{} answered 404: wrong path for the account (check atobarai_com.api_base_url: production https://www.atobarai.jp, test https://www1.atobarai-dev.jp)",
                        url.path()
                    ),
                });
            }
            if status != StatusCode::OK {
                return Err(CallError::Transient {
                    reason: format!("Atobarai.com answered HTTP {status} on {}", url.path()),
                    retry_after: crate::call::retry_after(response.headers()),
                });
            }
            let bytes = http_client::read_body(response, self.inner.limits.answer_bytes).await?;
            let text = String::from_utf8_lossy(&bytes);
            return wire::parse_response(&text)
                .map_err(|e| CallError::transient(format!("{e} (HTTP 200 from {})", url.path())));
        }
    }
}

#[cfg(test)]
mod tests;

mod judge;
use judge::*;
