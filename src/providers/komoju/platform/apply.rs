//! The seller master's writes and the split decided at shipment, each in
//! the transaction of its cause.

use std::collections::BTreeMap;

use serde_json::json;

use super::split::{self, FeeRule, SplitInput, SplitLine};
use crate::domain::{Order, PaymentState};
use crate::engine::{Attention, Call, Decision, EventKind, OrderWrite, PlatformShare};
use crate::store::{self, Tx, events, orders, outbox, sellers};

/// A seller as the merchant enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSeller {
    /// 出品者コード: 1 to 32 letters, digits, `-` or `_`.
    pub code: String,
    /// The seller's name (1 to 100 characters).
    pub name: String,
    /// The fee in basis points (0 to 10000).
    pub fee_bps: u32,
    /// The least fee per line, in yen.
    pub fee_min_per_line: Option<i64>,
    /// An existing KOMOJU sub-merchant; `None` to have KOMOJU create one.
    pub submerchant_id: Option<String>,
}

/// Why a seller cannot be entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SellerRefused {
    /// A field is not valid: (field, what it must be).
    #[error("{0}: {1}")]
    Invalid(&'static str, &'static str),
    /// The code (or the sub-merchant) is taken.
    #[error("seller {0} exists already")]
    Exists(String),
}

impl NewSeller {
    /// Checks the fields.
    pub fn check(&self) -> Result<(), SellerRefused> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 32
            && (self.code.bytes()).all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(SellerRefused::Invalid(
                "code",
                "1 to 32 letters, digits, - or _",
            ));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(SellerRefused::Invalid("name", "1 to 100 characters"));
        }
        if self.fee_bps > 10_000 {
            return Err(SellerRefused::Invalid("fee_bps", "0 to 10000"));
        }
        if self
            .fee_min_per_line
            .is_some_and(|m| !(0..=10_000_000).contains(&m))
        {
            return Err(SellerRefused::Invalid(
                "fee_min_per_line",
                "0 to 10000000 yen",
            ));
        }
        if let Some(id) = &self.submerchant_id
            && (id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(SellerRefused::Invalid(
                "submerchant_id",
                "KOMOJU's id (letters and digits)",
            ));
        }
        Ok(())
    }
}

/// Enters a seller and, in the same transaction, the call that creates
/// its KOMOJU sub-merchant (or re-reads the one entered).
pub fn add(
    tx: &Tx<'_>,
    new: &NewSeller,
    now: &str,
) -> store::Result<Result<sellers::Seller, SellerRefused>> {
    if let Err(e) = new.check() {
        return Ok(Err(e));
    }
    let s = sellers::Seller {
        code: new.code.clone(),
        name: new.name.trim().to_string(),
        submerchant_id: new.submerchant_id.clone(),
        review_status: "not_applied".to_string(),
        payouts_enabled: false,
        fee_bps: new.fee_bps,
        fee_min_per_line: new.fee_min_per_line,
        checked_at: None,
        created_at: now.to_string(),
        updated_at: now.to_string(),
    };
    if !sellers::insert(tx, &s)? {
        return Ok(Err(SellerRefused::Exists(new.code.clone())));
    }
    let call = match &new.submerchant_id {
        Some(_) => Call::KomojuFetchSeller {
            code: s.code.clone(),
        },
        None => Call::KomojuCreateSeller {
            code: s.code.clone(),
        },
    };
    outbox::enqueue(tx, &call, None, now)?;
    seller_event(tx, &s, now)?;
    Ok(Ok(s))
}

/// A change of the seller master for the change feed.
pub fn seller_event(tx: &Tx<'_>, s: &sellers::Seller, now: &str) -> store::Result<()> {
    events::append(
        tx,
        now,
        None,
        EventKind::SellerChanged.as_str(),
        &json!({"code": s.code, "submerchant_id": s.submerchant_id,
                "review_status": s.review_status, "payouts_enabled": s.payouts_enabled}),
    )?;
    Ok(())
}

/// A seller event of KOMOJU's (`submerchant.*`): the seller is re-read.
pub fn seller_news(tx: &Tx<'_>, submerchant_id: &str, now: &str) -> store::Result<()> {
    if let Some(s) = sellers::by_submerchant(tx, submerchant_id)? {
        outbox::enqueue(tx, &Call::KomojuFetchSeller { code: s.code }, None, now)?;
    } else {
        tracing::info!(
            submerchant_id,
            "KOMOJU event about a seller not in the master; acknowledged"
        );
    }
    Ok(())
}

/// The attention of an order whose capture waits for its sellers.
pub fn held_reason(codes: &[String]) -> String {
    format!(
        "出品者 {} の KOMOJU 審査が完了していないため、売上確定(キャプチャ)を保留しています。審査完了後に自動で確定します",
        codes.join("、")
    )
}

/// How an order's capture goes, given its sellers now.
enum Plan {
    /// No line has a seller: the plain capture.
    Plain,
    /// Every seller is live: capture with these shares.
    Split(Vec<PlatformShare>),
    /// These sellers are not live (or not in the master): hold.
    Held(Vec<String>),
    /// The split is impossible (the reason).
    Refused(String),
}

fn plan(tx: &Tx<'_>, order: &Order) -> store::Result<Plan> {
    let line_sellers = sellers::line_sellers(tx, order.channel.as_str(), &order.id)?;
    if line_sellers.is_empty() {
        return Ok(Plan::Plain);
    }
    let mut rules = BTreeMap::new();
    let mut ids = BTreeMap::new();
    let mut not_live = vec![];
    for (_, code) in &line_sellers {
        if rules.contains_key(code) || not_live.contains(code) {
            continue;
        }
        match sellers::get(tx, code)? {
            Some(s) if s.is_live() => {
                rules.insert(
                    code.clone(),
                    FeeRule {
                        bps: s.fee_bps,
                        min_per_line: s.fee_min_per_line,
                    },
                );
                ids.insert(code.clone(), s.submerchant_id.unwrap_or_default());
            }
            _ => not_live.push(code.clone()),
        }
    }
    if !not_live.is_empty() {
        return Ok(Plan::Held(not_live));
    }
    let seller_of: BTreeMap<u32, &String> = line_sellers.iter().map(|(n, c)| (*n, c)).collect();
    let mut lines = Vec::with_capacity(order.lines.len());
    for l in &order.lines {
        let total = l
            .unit_price
            .unwrap_or(0)
            .checked_mul(i64::from(l.qty))
            .ok_or(store::StoreError::Invalid("line total too large".into()))?;
        lines.push(SplitLine {
            seller: seller_of.get(&l.line_no).map(|c| (*c).clone()),
            total,
        });
    }
    // What KOMOJU holds is checked against the shares when the capture is
    // made; here only that the shares fit the order's goods.
    let paid = lines
        .iter()
        .map(|l| l.total.max(0))
        .fold(0i64, i64::saturating_add);
    match split::split(&SplitInput { lines, paid }, &rules) {
        Ok(s) => Ok(Plan::Split(
            s.sellers
                .into_iter()
                .map(|c| PlatformShare {
                    submerchant_id: ids.get(&c.seller).cloned().unwrap_or_default(),
                    seller: c.seller,
                    share: c.share,
                    fee: c.fee,
                })
                .collect(),
        )),
        Err(e) => Ok(Plan::Refused(e.to_string())),
    }
}

/// Turns the plain capture a shipment decided into the split capture of
/// its sellers, or holds it (with the order's attention) while a seller
/// is not live: a payment is never captured without its split. A refund
/// of a split payment gives each seller's part back.
pub fn split_payments(
    tx: &Tx<'_>,
    order: &Order,
    d: &mut Decision,
    now: &str,
) -> store::Result<()> {
    split_refund(tx, d)?;
    let Some(i) = d
        .calls
        .iter()
        .position(|c| matches!(c, Call::KomojuCapture { .. }))
    else {
        return Ok(());
    };
    let Call::KomojuCapture { payment_id } = d.calls[i].clone() else {
        return Ok(());
    };
    match plan(tx, order)? {
        Plan::Plain => {}
        Plan::Split(shares) => d.calls[i] = Call::KomojuSplitCapture { payment_id, shares },
        Plan::Held(codes) => {
            d.calls.remove(i);
            let reason = held_reason(&codes);
            sellers::hold(
                tx,
                &sellers::Hold {
                    channel: order.channel.as_str().to_string(),
                    order_id: order.id.clone(),
                    payment_id,
                },
                &reason,
                now,
            )?;
            attention(d, reason, &codes);
        }
        Plan::Refused(why) => {
            d.calls.remove(i);
            let reason = format!(
                "KOMOJU の売上を出品者に分配できないため、売上確定(キャプチャ)を止めています: {why}"
            );
            attention(d, reason, &[]);
        }
    }
    Ok(())
}

fn attention(d: &mut Decision, reason: String, codes: &[String]) {
    let w = d.order.get_or_insert_with(OrderWrite::default);
    w.attention = Some(Attention::Set(reason.clone()));
    d.events.push(crate::engine::Event {
        kind: EventKind::OrderAttention,
        detail: json!({"reason": reason, "sellers": codes}),
    });
}

/// Captures held for sellers who are live now go out, split.
pub fn release_holds(tx: &Tx<'_>, now: &str) -> store::Result<()> {
    for h in sellers::holds(tx)? {
        let Some(channel) = crate::domain::Channel::parse(&h.channel) else {
            continue;
        };
        let Some(order) = orders::load(tx, channel, &h.order_id)? else {
            sellers::release(tx, &h.channel, &h.order_id)?;
            continue;
        };
        if order.payment_state != PaymentState::Authorized {
            sellers::release(tx, &h.channel, &h.order_id)?;
            continue;
        }
        let Plan::Split(shares) = plan(tx, &order)? else {
            continue;
        };
        sellers::release(tx, &h.channel, &h.order_id)?;
        let d = Decision {
            order: Some(OrderWrite {
                attention: Some(Attention::Clear),
                ..Default::default()
            }),
            calls: vec![Call::KomojuSplitCapture {
                payment_id: h.payment_id,
                shares,
            }],
            ..Default::default()
        };
        orders::apply(tx, channel, &order.id, &d, now)?;
    }
    Ok(())
}

/// [`add`] in its own transaction.
pub async fn add_seller(
    store: &store::Store,
    new: NewSeller,
) -> store::Result<Result<sellers::Seller, SellerRefused>> {
    store
        .write(move |tx| {
            let now = crate::domain::time::rfc3339(crate::domain::time::now());
            add(tx, &new, &now)
        })
        .await
}

/// The full refund of a payment captured with a split: each seller gives
/// back what it still holds of it, its fee returned.
fn split_refund(tx: &Tx<'_>, d: &mut Decision) -> store::Result<()> {
    for call in d.calls.iter_mut() {
        let Call::KomojuRefund { payment_id } = call else {
            continue;
        };
        let held = sellers::held_of_payment(tx, payment_id)?;
        if held.is_empty() {
            continue;
        }
        let mut shares = Vec::with_capacity(held.len());
        for (seller, share, fee) in held {
            let submerchant_id = sellers::get(tx, &seller)?
                .and_then(|s| s.submerchant_id)
                .unwrap_or_default();
            shares.push(PlatformShare {
                seller,
                submerchant_id,
                share,
                fee,
            });
        }
        *call = Call::KomojuSplitRefund {
            payment_id: payment_id.clone(),
            shares,
        };
    }
    Ok(())
}

/// A payment the checkout created with its split and the customer (or
/// KOMOJU's auto capture) captured: konbini, bank transfer, Pay-easy, an
/// auto-captured card. The first time it is seen captured, each seller's
/// sale is booked with the share the rule computes and the net KOMOJU
/// recorded (the fee is what makes the difference, so the books follow
/// KOMOJU's ledger), and the two nets are compared: a seller whose net
/// differs puts the order in front of a person, to correct it with a
/// balance transfer (`ordersync sellers transfer`).
pub fn checkout_split(
    tx: &Tx<'_>,
    order: &Order,
    p: &crate::providers::komoju::Payment,
    now: &str,
) -> store::Result<()> {
    if p.split.is_empty() || p.status != crate::providers::komoju::PaymentStatus::Captured {
        return Ok(());
    }
    let Plan::Split(shares) = plan(tx, order)? else {
        return Ok(());
    };
    let mut first = false;
    let mut differences = vec![];
    for s in &shares {
        let recorded: i64 = (p.split.iter())
            .filter(|r| r.submerchant_id == s.submerchant_id)
            .map(|r| r.amount.saturating_sub(r.platform_fee))
            .fold(0i64, i64::saturating_add);
        let computed = s.share - s.fee;
        if recorded != computed {
            differences
                .push(json!({"seller": s.seller, "computed": computed, "recorded": recorded}));
        }
        first |= sellers::book(
            tx,
            &sellers::Booking {
                seller_code: s.seller.clone(),
                kind: "sale".to_string(),
                channel: Some(order.channel.as_str().to_string()),
                order_id: Some(order.id.clone()),
                payment_id: Some(p.id.clone()),
                amount: s.share,
                fee: s.share.saturating_sub(recorded),
                reason: None,
                reference: format!("sale-{}-{}", p.id, s.seller),
                at: now.to_string(),
            },
        )?;
    }
    if !first {
        return Ok(());
    }
    let mut d = Decision::default().event(
        EventKind::PaymentSplit,
        json!({"payment_id": p.id, "kind": "sale", "recorded_by": "checkout",
               "sellers": shares.iter().map(|s| json!({
                   "seller": s.seller, "share": s.share, "fee": s.fee})).collect::<Vec<_>>(),
               "differences": differences}),
    );
    if !differences.is_empty() {
        let text: Vec<String> = differences
            .iter()
            .map(|v| {
                format!(
                    "出品者 {} 計算 {}円 / KOMOJU {}円",
                    v["seller"].as_str().unwrap_or(""),
                    v["computed"],
                    v["recorded"]
                )
            })
            .collect();
        let reason = format!(
            "KOMOJU に記録された出品者への分配が計算と違います({})。振替で調整してください",
            text.join("、")
        );
        attention(&mut d, reason, &[]);
    }
    orders::apply(tx, order.channel, &order.id, &d, now)?;
    Ok(())
}

/// Asks for a balance transfer between the merchant and a seller
/// (`amount` > 0 to the seller, < 0 back), with its reason, through the
/// outbox; recorded in the change feed now, booked once KOMOJU took it.
pub async fn transfer(
    store: &store::Store,
    code: String,
    platform_id: String,
    amount: i64,
    reason: String,
) -> store::Result<Result<i64, SellerRefused>> {
    store
        .write(move |tx| {
            let now = crate::domain::time::rfc3339(crate::domain::time::now());
            if amount == 0 || amount.unsigned_abs() > 100_000_000 {
                return Ok(Err(SellerRefused::Invalid(
                    "amount",
                    "1 to 100000000 yen, either way",
                )));
            }
            let reason = reason.trim().to_string();
            if reason.is_empty() || reason.chars().count() > 200 {
                return Ok(Err(SellerRefused::Invalid("reason", "1 to 200 characters")));
            }
            let Some(s) = sellers::get(tx, &code)? else {
                return Ok(Err(SellerRefused::Invalid(
                    "code",
                    "a seller of the master",
                )));
            };
            if s.submerchant_id.is_none() {
                return Ok(Err(SellerRefused::Invalid(
                    "code",
                    "a seller KOMOJU created",
                )));
            }
            let call = Call::KomojuSellerTransfer {
                code: code.clone(),
                platform_id,
                amount,
                reason: reason.clone(),
            };
            let row = outbox::enqueue(tx, &call, None, &now)?;
            events::append(
                tx,
                &now,
                None,
                EventKind::SellerChanged.as_str(),
                &json!({"code": code, "transfer": amount, "reason": reason, "outbox_id": row}),
            )?;
            Ok(Ok(row))
        })
        .await
}
