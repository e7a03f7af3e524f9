//! Payouts (contract "Payouts" \[pm-payout\]\[h-payout\]\[h-fee\]): settings
//! per account, and settlements made when the simulator's clock reaches a
//! payout day: weekly on Friday for the week ending a set number of Fridays
//! before, monthly at month end for the previous month, a weekend or
//! holiday moving the day to the next business day. A settlement pays
//! everything unsettled up to its period's end, less the bank fee, unless
//! that is below the account's minimum (it then waits).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde_json::{Map, Value};

use super::ledger::Posting;
use super::wire::{self as pw, Paging};
use super::{Frequency, LineKind, Platform, Settlement, TxKind};
use crate::komoju::state::random_id;
use crate::komoju::wire::ApiError;

impl Platform {
    /// `GET /merchants/{id}/balances/JPY/settings`.
    pub(crate) fn payout_settings(&self, id: &str, now: DateTime<Utc>) -> Result<Value, ApiError> {
        self.known(id)?;
        let today = jst_day(now);
        let (frequency, minimum) = match self.accounts.get(id) {
            Some(a) => (
                effective(&a.payout, today),
                a.payout.settlement_minimum_amount,
            ),
            None => (Frequency::Weekly, self.settings.default_settlement_minimum),
        };
        Ok(serde_json::json!({
            "currency": "JPY",
            "frequency": frequency.as_str(),
            "settlement_minimum_amount": minimum,
        }))
    }

    /// `PATCH /merchants/{id}/balances/JPY/settings` `{frequency?,
    /// settlement_minimum_amount?}`; monthly → weekly takes effect next month.
    pub(crate) fn patch_payout_settings(
        &mut self,
        id: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        self.known(id)?;
        let frequency = match body.get("frequency") {
            None | Some(Value::Null) => None,
            Some(v) => Some(match v.as_str() {
                Some("weekly") => Frequency::Weekly,
                Some("monthly") => Frequency::Monthly,
                _ => {
                    return Err(ApiError::invalid(
                        "frequency",
                        "frequency must be weekly or monthly",
                    ));
                }
            }),
        };
        let minimum = match body.get("settlement_minimum_amount") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().filter(|m| *m >= 0).ok_or_else(|| {
                ApiError::invalid(
                    "settlement_minimum_amount",
                    "settlement_minimum_amount must be an integer of 0 or more",
                )
            })?),
        };
        let today = jst_day(now);
        let account = self.account_mut(id);
        if let Some(f) = frequency {
            let current = effective(&account.payout, today);
            account.payout.frequency = current;
            account.payout.pending = None;
            if current == Frequency::Monthly && f == Frequency::Weekly {
                account.payout.pending = Some((f, first_of_next_month(today)));
            } else {
                account.payout.frequency = f;
            }
        }
        if let Some(m) = minimum {
            account.payout.settlement_minimum_amount = m;
        }
        self.payout_settings(id, now)
    }

    /// Runs the payouts due on the JST day of `now`: a settlement per account
    /// whose payout day it is (the platform always, a seller when its
    /// payouts are enabled), `settlement.created` and `payout.created`.
    /// Answers the settlements made; running twice on a day makes none more.
    pub(crate) fn run_payouts(&mut self, now: DateTime<Utc>) -> Vec<Settlement> {
        let today = jst_day(now);
        let mut ids: Vec<String> = vec![self.settings.platform_id.clone()];
        let mut sellers: Vec<&super::SubMerchant> = self
            .merchants
            .values()
            .filter(|m| m.payouts_enabled)
            .collect();
        sellers.sort_by_key(|m| m.seq);
        ids.extend(sellers.into_iter().map(|m| m.id.clone()));
        let mut made = Vec::new();
        for id in ids {
            let frequency = effective(&self.account_mut(&id).payout, today);
            let Some((start, end)) = self.period_paid_on(frequency, today) else {
                continue;
            };
            if let Some(s) = self.settle(&id, start, end, today, now) {
                made.push(s);
            }
        }
        made
    }

    /// The period `(first, last day)` paid on `today`, if it is a payout day.
    pub(crate) fn period_paid_on(
        &self,
        frequency: Frequency,
        today: NaiveDate,
    ) -> Option<(NaiveDate, NaiveDate)> {
        match frequency {
            Frequency::Weekly => (0..7u64)
                .filter_map(|back| today.checked_sub_days(Days::new(back)))
                .find(|d| d.weekday() == Weekday::Fri && self.business_day_from(*d) == today)
                .and_then(|friday| {
                    let lag = u64::try_from(self.settings.weekly_lag_weeks.max(0)).unwrap_or(0);
                    let end = friday.checked_sub_days(Days::new(7 * lag))?;
                    Some((end.checked_sub_days(Days::new(6))?, end))
                }),
            Frequency::Monthly => {
                // The month end whose payout lands today: this month's or,
                // moved past a holiday, last month's.
                let this_end = last_of_month(today)?;
                let prev_end = today.with_day(1)?.pred_opt()?;
                [this_end, prev_end]
                    .into_iter()
                    .find(|end| self.business_day_from(*end) == today)
                    .and_then(|month_end| {
                        let period_end = month_end.with_day(1)?.pred_opt()?;
                        Some((period_end.with_day(1)?, period_end))
                    })
            }
        }
    }

    /// `day`, or the next business day after it (weekends and holidays).
    fn business_day_from(&self, day: NaiveDate) -> NaiveDate {
        let mut d = day;
        for _ in 0..31 {
            let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            if !weekend && !self.settings.holidays.contains(&d) {
                return d;
            }
            match d.succ_opt() {
                Some(next) => d = next,
                None => return d,
            }
        }
        d
    }

    /// Pays out what `id` has unsettled up to the end of `end` (JST).
    fn settle(
        &mut self,
        id: &str,
        start: NaiveDate,
        end: NaiveDate,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Option<Settlement> {
        let cutoff = end
            .succ_opt()?
            .and_hms_opt(0, 0, 0)?
            .and_local_timezone(crate::jst())
            .single()?
            .with_timezone(&Utc);
        let seller = self.merchants.contains_key(id);
        let account = self.accounts.get(id)?;
        if account.settlements.iter().any(|s| s.payout_date == today) {
            return None;
        }
        let covered: Vec<usize> = (account.transactions.iter().enumerate())
            .filter(|(_, t)| t.settled_by.is_none() && t.happened_at < cutoff)
            .map(|(i, _)| i)
            .collect();
        let covered_sum = covered.iter().try_fold(0i64, |sum, i| {
            sum.checked_add(account.transactions[*i].amount()?)
        })?;
        // What left the account after the period (a transfer) is not paid twice.
        let total = covered_sum.min(account.balance);
        let bank_fee = if seller && !self.settings.bank_fee_for_sellers {
            0
        } else {
            self.settings.bank_fee.on(total)
        };
        if total < account.payout.settlement_minimum_amount.max(1) || total <= bank_fee {
            return None;
        }
        let payout = total - bank_fee;
        let plan = self
            .plan(
                vec![
                    Posting::new(id, TxKind::Settlement, None)
                        .line(LineKind::BankFee, -bank_fee)
                        .line(LineKind::Payout, -payout),
                ],
                bank_fee,
                payout,
            )
            .ok()?;
        let tx_ids = self.apply(plan, now);
        let settlement = Settlement {
            id: random_id(25),
            merchant_id: id.to_string(),
            period_start: start,
            period_end: end,
            payout_date: today,
            total,
            bank_fee,
            payout,
            created_at: now,
        };
        let account = self.account_mut(id);
        for i in covered {
            account.transactions[i].settled_by = Some(settlement.id.clone());
        }
        for t in account
            .transactions
            .iter_mut()
            .filter(|t| tx_ids.contains(&t.id))
        {
            t.settled_by = Some(settlement.id.clone());
        }
        account.settlements.push(settlement.clone());
        let merchant = self.event_merchant(id);
        let data = pw::settlement(&settlement);
        self.emit("settlement.created", &merchant, data.clone(), now);
        self.emit("payout.created", &merchant, data, now);
        Some(settlement)
    }

    /// `GET /merchants/{id}/settlements`: newest first, paged.
    pub(crate) fn settlements_json(
        &self,
        id: &str,
        query: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        self.known(id)?;
        let paging = Paging::read(query)?;
        let hits: Vec<&Settlement> = self
            .accounts
            .get(id)
            .map(|a| a.settlements.iter().rev().collect())
            .unwrap_or_default();
        let (data, mut page) = paging.page(&hits, |s| pw::settlement(s));
        page.insert("resource".into(), "list".into());
        page.insert("data".into(), Value::Array(data));
        Ok(Value::Object(page))
    }

    /// `GET /merchants/{id}/settlements/{settlement_id}`.
    pub(crate) fn settlement_json(&self, id: &str, sid: &str) -> Result<Value, ApiError> {
        self.known(id)?;
        (self.accounts.get(id))
            .and_then(|a| a.settlements.iter().find(|s| s.id == sid))
            .map(pw::settlement)
            .ok_or_else(|| ApiError::not_found(format!("No settlement {sid:?}")))
    }
}

/// The frequency in force on `today`.
fn effective(p: &super::PayoutSettings, today: NaiveDate) -> Frequency {
    match p.pending {
        Some((f, from)) if today >= from => f,
        _ => p.frequency,
    }
}

/// The JST calendar day of `t`.
pub(crate) fn jst_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&crate::jst()).date_naive()
}

fn last_of_month(d: NaiveDate) -> Option<NaiveDate> {
    first_of_next_month(d).pred_opt()
}

fn first_of_next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
}
