//! Money is conserved: for random payments (split or not, card or konbini),
//! captures, refunds with and without a split, transfers and payouts, every
//! ledger sums to its balance, no seller goes below zero, and all balances +
//! KOMOJU's fees + payouts = captured − refunded.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::json;

use super::super::{ApplicationStatus, RefundWithoutSplit};
use crate::komoju::PlatformSettings;
use crate::komoju::model::{CaptureMode, ExpiryDays, PaymentStatus, PaymentType};
use crate::komoju::settings::Behaviour;
use crate::komoju::state::SimState;
use crate::komoju::utc;

#[derive(Debug, Clone)]
enum Op {
    /// A card payment of `amount` split between sellers by the weights.
    Pay {
        amount: i64,
        weights: Vec<u8>,
        fee_pct: u8,
        konbini: bool,
    },
    /// Refund `pct` % of what is left of payment `which`, with a split or not.
    Refund {
        which: usize,
        pct: u8,
        with_split: bool,
    },
    /// Transfer `amount` between the platform and seller `seller`.
    Transfer {
        seller: usize,
        amount: i64,
        to_seller: bool,
    },
    /// Move the clock by `hours` and run the payouts.
    Payouts { hours: u16 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            1i64..200_000,
            prop::collection::vec(0u8..5, 1..4),
            0u8..30,
            any::<bool>()
        )
            .prop_map(|(amount, weights, fee_pct, konbini)| Op::Pay {
                amount,
                weights,
                fee_pct,
                konbini
            }),
        (0usize..20, 1u8..=100, any::<bool>()).prop_map(|(which, pct, with_split)| Op::Refund {
            which,
            pct,
            with_split
        }),
        (0usize..3, 1i64..50_000, any::<bool>()).prop_map(|(seller, amount, to_seller)| {
            Op::Transfer {
                seller,
                amount,
                to_seller,
            }
        }),
        (1u16..400).prop_map(|hours| Op::Payouts { hours }),
    ]
}

/// Splits `total` by `weights` (largest remainder), fee `pct` % of each part.
fn parts(total: i64, weights: &[u8], pct: u8) -> Vec<(usize, i64, i64)> {
    let sum: i64 = weights.iter().map(|w| i64::from(*w)).sum::<i64>().max(1);
    let mut out: Vec<(usize, i64, i64)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (i, total * i64::from(*w) / sum, 0))
        .collect();
    let given: i64 = out.iter().map(|p| p.1).sum();
    out[0].1 += total - given;
    for p in &mut out {
        p.2 = p.1 * i64::from(pct) / 100;
    }
    out
}

fn run(ops: Vec<Op>, reverse: bool) -> Result<(), TestCaseError> {
    let settings = PlatformSettings {
        refund_without_split: if reverse {
            RefundWithoutSplit::ProRata
        } else {
            RefundWithoutSplit::PlatformBears
        },
        ..PlatformSettings::default()
    };
    let platform = settings.platform_id.clone();
    let mut s = SimState::new(
        Duration::from_secs(86_400),
        ExpiryDays::default(),
        Behaviour::default(),
        settings,
    );
    let mut now: DateTime<Utc> = utc("2026-12-07T01:00:00Z");
    let mut sellers = Vec::new();
    for name in ["A", "B", "C"] {
        let body = json!({"name": name, "platform_role": "payout"});
        let m = s
            .platform
            .create_merchant(body.as_object().unwrap(), now)
            .unwrap();
        let id = m["id"].as_str().unwrap().to_string();
        s.platform.review(&id, ApplicationStatus::Accepted, now);
        sellers.push(id);
    }
    let mut payments: Vec<String> = Vec::new();
    for op in ops {
        match op {
            Op::Pay {
                amount,
                weights,
                fee_pct,
                konbini,
            } => {
                let split: Vec<_> = parts(amount, &weights, fee_pct)
                    .into_iter()
                    .map(|(i, a, f)| json!({"submerchant_id": sellers[i], "amount": a, "platform_fee": f}))
                    .collect();
                let details = json!({"submerchants": split});
                if konbini {
                    let p = s
                        .create_split_payment(
                            amount,
                            0,
                            190,
                            None,
                            PaymentType::Konbini,
                            CaptureMode::Auto,
                            &details,
                            now,
                        )
                        .unwrap();
                    s.capture_by_customer(&p.id, now);
                    payments.push(p.id);
                } else {
                    let p = s.create_payment(
                        amount,
                        0,
                        0,
                        None,
                        PaymentType::CreditCard,
                        CaptureMode::Manual,
                        now,
                    );
                    s.authorize(&p.id, now);
                    let body = json!({"platform_details": details}).to_string();
                    let view = s.behaviour.view(None);
                    s.capture(&p.id, body.as_bytes(), view, now).unwrap();
                    payments.push(p.id);
                }
            }
            Op::Refund {
                which,
                pct,
                with_split,
            } => {
                let Some(id) = payments.get(which % payments.len().max(1)).cloned() else {
                    continue;
                };
                let p = s.payment(&id).unwrap().clone();
                if p.status != PaymentStatus::Captured {
                    continue;
                }
                let amount =
                    (p.total - p.payment_method_fee - p.amount_refunded) * i64::from(pct) / 100;
                if amount < 1 {
                    continue;
                }
                let mut body = json!({"amount": amount});
                if with_split {
                    // Take it from the first seller that still holds enough.
                    let booked = s.platform.booked.get(&id).cloned().unwrap_or_default();
                    let Some(share) = booked.shares.iter().find(|sh| sh.amount_left >= amount)
                    else {
                        continue;
                    };
                    let fee = share.fee_left.min(amount / 10);
                    body["platform_details"] = json!({"submerchants": [{"submerchant_id": share.seller, "amount": amount, "platform_fee": fee}]});
                }
                let text = body.to_string();
                let result = if p.payment_type == PaymentType::Konbini {
                    body["customer_name"] = json!("ﾔﾏﾀﾞ");
                    body["bank_name"] = json!("銀行");
                    body["branch_number"] = json!("001");
                    body["account_type"] = json!("normal");
                    body["account_number"] = json!("1234567");
                    let text = body.to_string();
                    s.refund_request(&id, text.as_bytes(), now).map(|_| {
                        s.complete_refund_request(&id, now);
                    })
                } else {
                    s.refund(&id, text.as_bytes(), now).map(|_| ())
                };
                // A refusal (a seller's balance too low) changes nothing.
                if let Err(e) = result {
                    prop_assert_eq!(e.http_status, 422, "{}", e.message);
                }
            }
            Op::Transfer {
                seller,
                amount,
                to_seller,
            } => {
                let seller = &sellers[seller];
                let (from, to) = if to_seller {
                    (&platform, seller)
                } else {
                    (seller, &platform)
                };
                let body = json!({"to": to, "amount": amount});
                let before = s.platform.balance(from);
                let done = s
                    .platform
                    .transfer(from, false, body.as_object().unwrap(), now);
                prop_assert_eq!(done.is_ok(), before >= amount);
            }
            Op::Payouts { hours } => {
                now += TimeDelta::hours(i64::from(hours));
                s.platform.run_payouts(now);
            }
        }
        for id in sellers.iter().chain([&platform]) {
            let account = s.platform.account(id);
            let sum: i64 = account
                .map(|a| a.transactions.iter().map(|t| t.amount().unwrap()).sum())
                .unwrap_or(0);
            prop_assert_eq!(sum, s.platform.balance(id), "ledger of {}", id);
            if id != &platform {
                prop_assert!(s.platform.balance(id) >= 0, "seller {} below zero", id);
            }
        }
        let c = s.platform.conservation(s.payments());
        prop_assert!(c.holds(), "{:?}", c);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn money_is_conserved_and_ledgers_sum_to_balances(
        ops in prop::collection::vec(op(), 1..40),
        reverse in any::<bool>(),
    ) {
        run(ops, reverse)?;
    }
}
