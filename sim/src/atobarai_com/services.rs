//! The rules of each simulated service, after the caller and its ids were
//! checked (see [`super::state`]): order registration with its credit
//! decision (00), status (01), idmap (03), shipping (04), cancel (05) and
//! detail (09).

use chrono::{DateTime, FixedOffset, TimeDelta};

use super::checks::{
    Fields, MAX_IDS, PartyKeys, Problems, end_field_checks, has_street_number, id_list, is_digits,
    line_amount, line_numbers, parse_int, parse_order_date, postcode_digits, postcode_known,
    register_formats,
};
use super::state::{
    CancelRow, DetailRow, MARKER_NG, MARKER_REVIEW, MARKER_REVIEW_NG, Reply, SimOrder, SimState,
    after, cancellable, enter,
};
use super::wire::{
    CreditStatus, DataStatus, E_CANCEL_NOT_CANCELLABLE, E_CANCEL_NOT_FOUND, E_IDMAP_NOT_FOUND,
    E_IDMAP_SEVERAL, E_ORDER_AMOUNT, E_ORDER_BAD_LINE, E_ORDER_DUPLICATE, E_ORDER_NO_LINES,
    E_ORDER_NO_STREET_NUMBER, E_ORDER_TOO_OLD, E_ORDER_UNKNOWN_POSTCODE,
    E_SHIPPING_BAD_CARRIER_OR_NUMBER, E_SHIPPING_NOT_ALLOWED, keys,
};

/// How far back an order date may lie (`E00306`, first Corrections).
const MAX_ORDER_AGE_DAYS: i64 = 60;

/// What a registration's credit check decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Ok,
    Ng,
    /// 与信中 first, then OK (`true`) or NG.
    ReviewThen(bool),
}

impl SimState {
    /// 00: validate, decide credit, store.
    pub(crate) fn register(
        &mut self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, Reply> {
        let (party_keys, extras) = register_formats(fields, &mut p, self.rules.site_checks.phone);
        end_field_checks(&mut p, wrong_ids)?;
        let use_amount = self.register_rules(fields, &mut p, &party_keys, extras, now);
        p.stop()?;
        Ok(self.store_registration(fields, use_amount, now))
    }

    /// The order's own rules (lines, amounts; addresses, age and duplicates
    /// where the site checks them); answers the amount to use.
    fn register_rules(
        &self,
        fields: &Fields<'_>,
        p: &mut Problems,
        party_keys: &[PartyKeys],
        extras: i64,
        now: DateTime<FixedOffset>,
    ) -> i64 {
        let lines = line_numbers(fields);
        if lines.is_empty() {
            p.code(E_ORDER_NO_LINES, "商品明細がありません".to_string());
        }
        let mut sum = 0i64;
        for n in &lines {
            match line_amount(fields, *n) {
                Some(amount) => sum = sum.saturating_add(amount),
                None => p.code(E_ORDER_BAD_LINE, format!("商品明細{n}が正しくありません")),
            }
        }
        let use_amount = fields
            .get(keys::O_USE_AMOUNT)
            .and_then(parse_int)
            .unwrap_or(0);
        // The amount rule: O_UseAmount = Σ lines + carriage + charge (+ outside tax).
        let billed = sum.saturating_add(extras);
        if !lines.is_empty() && p.is_empty() && billed != use_amount {
            p.code(
                E_ORDER_AMOUNT,
                format!("利用額({use_amount})が明細の合計({billed})と一致しません"),
            );
        }
        let site = self.rules.site_checks;
        for (postal, address, _) in party_keys {
            if site.street_number && fields.get(address).is_some_and(|v| !has_street_number(v)) {
                p.code(
                    E_ORDER_NO_STREET_NUMBER,
                    format!("{address}：番地が入力されていません"),
                );
            }
            if site.postcode
                && fields
                    .get(postal)
                    .and_then(postcode_digits)
                    .is_some_and(|d| !postcode_known(&d))
            {
                p.code(
                    E_ORDER_UNKNOWN_POSTCODE,
                    format!("{postal}：郵便番号が存在しません"),
                );
            }
        }
        if site.order_date_window
            && let Some(date) = fields
                .get(keys::O_RECEIPT_ORDER_DATE)
                .and_then(parse_order_date)
            && date < now.date_naive() - TimeDelta::days(MAX_ORDER_AGE_DAYS)
        {
            p.code(
                E_ORDER_TOO_OLD,
                "注文日から60日を過ぎた注文は登録できません".to_string(),
            );
        }
        // Off by default: a second registration under one merchant number
        // is a second order at the service (second Corrections).
        let ent_order_id = fields.get(keys::O_ENT_ORDER_ID).unwrap_or("");
        if site.duplicate_order_id
            && !ent_order_id.is_empty()
            && self.order_by_ent(ent_order_id).is_some()
        {
            p.code(
                E_ORDER_DUPLICATE,
                format!("任意注文番号({ent_order_id})は既に登録されています"),
            );
        }
        use_amount
    }

    /// Decides the credit and keeps the order.
    fn store_registration(
        &mut self,
        fields: &Fields<'_>,
        use_amount: i64,
        now: DateTime<FixedOffset>,
    ) -> Reply {
        let ent_order_id = fields.get(keys::O_ENT_ORDER_ID).unwrap_or("").to_string();
        let buyer_name = fields.get(keys::C_NAME_KJ).unwrap_or("").to_string();
        let test = fields.get(keys::O_TEST_ORDER_FLG) == Some("1");
        let decision = self.decide(fields, test, &buyer_name, use_amount);
        let system_order_id = format!("AK{:08}", self.next_number);
        self.next_number = self.next_number.saturating_add(1);
        let (status, next) = match decision {
            Decision::Ok => (DataStatus::AwaitingJournalNumber, None),
            Decision::Ng => (DataStatus::CreditNg, None),
            Decision::ReviewThen(ok) => {
                let to = if ok {
                    DataStatus::AwaitingJournalNumber
                } else {
                    DataStatus::CreditNg
                };
                (
                    DataStatus::UnderReview,
                    Some((to, after(now, self.rules.review_delay))),
                )
            }
        };
        self.orders.insert(
            system_order_id.clone(),
            SimOrder {
                system_order_id: system_order_id.clone(),
                ent_order_id: ent_order_id.clone(),
                status,
                use_amount,
                buyer_name,
                test,
                registered_at: now,
                form: fields.form.to_vec(),
                deliv_id: None,
                journal_number: None,
                shipped_at: None,
                arrival_confirmed: false,
                claimed_at: None,
                receipt_confirmed: false,
                receipt_at: None,
                reimbursed_at: None,
                close_reason: None,
                cancel_reason: None,
                cancelled_at: None,
                next,
            },
        );
        Reply::Registered {
            ent_order_id,
            system_order_id,
            status: status.credit_status(),
        }
    }

    /// The deterministic credit hooks, first match wins.
    fn decide(&self, fields: &Fields<'_>, test: bool, name: &str, amount: i64) -> Decision {
        if test {
            // O_TestCreditResult: 0 OK, 1 NG, 2 pending.
            return match fields.get(keys::O_TEST_CREDIT_RESULT) {
                Some("1") => Decision::Ng,
                Some("2") => Decision::ReviewThen(true),
                _ => Decision::Ok,
            };
        }
        if name.contains(MARKER_NG) {
            return Decision::Ng;
        }
        if name.contains(MARKER_REVIEW_NG) {
            return Decision::ReviewThen(false);
        }
        if name.contains(MARKER_REVIEW) {
            return Decision::ReviewThen(true);
        }
        if amount > self.rules.credit_limit {
            return Decision::Ng;
        }
        if self.rules.review_everything {
            return Decision::ReviewThen(true);
        }
        Decision::Ok
    }

    /// 01.
    pub(crate) fn status(
        &self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
    ) -> Result<Reply, Reply> {
        let ids = id_list(fields, keys::ORDER_IDS, &mut p, true);
        end_field_checks(&mut p, wrong_ids)?;
        Ok(Reply::Statuses(
            ids.iter()
                .map(|id| match self.orders.get(*id) {
                    Some(o) => (
                        id.to_string(),
                        o.ent_order_id.clone(),
                        o.status.credit_status(),
                    ),
                    None => (id.to_string(), String::new(), CreditStatus::Unknown),
                })
                .collect(),
        ))
    }

    /// 03: the order at 与信OK (伝票番号入力待ち, not cancelled) under each
    /// merchant number; any other state answers `E001` 対応注文なし, two
    /// such orders `E002` 複数注文該当 (second Corrections). It cannot find a
    /// registration still under review.
    pub(crate) fn idmap(
        &self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
    ) -> Result<Reply, Reply> {
        let ents = id_list(fields, keys::ENT_ORDER_IDS, &mut p, true);
        end_field_checks(&mut p, wrong_ids)?;
        Ok(Reply::IdMap(
            ents.iter()
                .map(|ent| {
                    let at_ok: Vec<&SimOrder> = self
                        .orders_by_ent(ent)
                        .filter(|o| o.status == DataStatus::AwaitingJournalNumber)
                        .collect();
                    let mapped = match at_ok.as_slice() {
                        [one] => Ok(one.system_order_id.clone()),
                        [] => Err((E_IDMAP_NOT_FOUND.to_string(), "対応注文なし".to_string())),
                        _ => Err((E_IDMAP_SEVERAL.to_string(), "複数注文該当".to_string())),
                    };
                    (ent.to_string(), mapped)
                })
                .collect(),
        ))
    }

    /// 04.
    pub(crate) fn shipping(
        &mut self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, Reply> {
        for key in [keys::ORDER_ID, keys::DELIV_ID, keys::JOURNAL_NUM] {
            if fields.get(key).is_none() {
                p.required(key);
            }
        }
        if fields.get(keys::DELIV_ID).is_some_and(|v| !is_digits(v)) {
            p.format(keys::DELIV_ID);
        }
        end_field_checks(&mut p, wrong_ids)?;
        let system_order_id = fields.get(keys::ORDER_ID).unwrap_or("");
        let journal = fields.get(keys::JOURNAL_NUM).unwrap_or("");
        let deliv_id: Option<u32> = fields.get(keys::DELIV_ID).and_then(|v| v.parse().ok());
        let carrier = deliv_id.and_then(|id| self.rules.carriers.iter().find(|c| c.deliv_id == id));
        let Some(carrier) = carrier.filter(|c| c.tracking.accepts(journal)).cloned() else {
            p.code(
                E_SHIPPING_BAD_CARRIER_OR_NUMBER,
                "配送会社または伝票番号が正しくありません".to_string(),
            );
            return Err(Reply::Error(p.messages));
        };
        let Some(order) = self
            .orders
            .get_mut(system_order_id)
            .filter(|o| o.status == DataStatus::AwaitingJournalNumber)
        else {
            p.code(
                E_SHIPPING_NOT_ALLOWED,
                "注文が存在しないか、伝票番号を登録できる状態ではありません".to_string(),
            );
            return Err(Reply::Error(p.messages));
        };
        order.deliv_id = Some(carrier.deliv_id);
        order.journal_number = Some(journal.to_string());
        order.shipped_at = Some(now);
        enter(order, DataStatus::AwaitingInvoice, now, &self.rules);
        Ok(Reply::Shipped {
            system_order_id: system_order_id.to_string(),
            deliv_id: carrier.deliv_id,
            name: carrier.name,
            journal_num: journal.to_string(),
        })
    }

    /// 05: a request per order (キャンセル申請中, then キャンセル済 on the
    /// clock), `Reason[]` paired with `OrderId[]` by position and echoed.
    /// Per order: `E001` no such order, `E002` not cancellable in its state,
    /// or the refusal set for it (`E003` card processor, `E999`).
    pub(crate) fn cancel(
        &mut self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, Reply> {
        let ids = id_list(fields, keys::ORDER_IDS, &mut p, true);
        let reasons = fields.list(keys::REASONS);
        end_field_checks(&mut p, wrong_ids)?;
        let rules = &self.rules;
        let mut results = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let reason = reasons.get(i).copied().unwrap_or_default().to_string();
            let refused = self.cancel_refusals.get(*id);
            let outcome = match self.orders.get_mut(*id) {
                None => Err((E_CANCEL_NOT_FOUND.to_string(), "対応注文なし".to_string())),
                Some(_) if refused.is_some() => Err(refused.cloned().unwrap_or_default()),
                Some(o) if cancellable(o, &rules.carriers) => {
                    o.cancel_reason = Some(reason.clone());
                    enter(o, DataStatus::CancelRequested, now, rules);
                    Ok(())
                }
                Some(_) => Err((
                    E_CANCEL_NOT_CANCELLABLE.to_string(),
                    "キャンセルできない注文".to_string(),
                )),
            };
            results.push(CancelRow {
                system_order_id: id.to_string(),
                reason,
                outcome,
            });
        }
        Ok(Reply::Cancels(results))
    }

    /// 09: by `OrderId[]` (an unknown id answers -1) and `Ent_OrderId[]`
    /// (every order under the number, in any state; an unknown number is
    /// left out), at most 100 together.
    pub(crate) fn detail(
        &self,
        fields: &Fields<'_>,
        mut p: Problems,
        wrong_ids: bool,
    ) -> Result<Reply, Reply> {
        let ids = id_list(fields, keys::ORDER_IDS, &mut p, false);
        let ents = id_list(fields, keys::ENT_ORDER_IDS, &mut p, false);
        if ids.is_empty() && ents.is_empty() {
            p.required(keys::ORDER_IDS);
        }
        if ids.len() + ents.len() > MAX_IDS {
            p.format(keys::ORDER_IDS);
        }
        end_field_checks(&mut p, wrong_ids)?;
        let mut rows = Vec::new();
        for id in ids {
            rows.push(match self.orders.get(id) {
                Some(o) => self.detail_row(o),
                None => DetailRow {
                    system_order_id: id.to_string(),
                    order: None,
                    deliv_name: String::new(),
                    site_id: self.rules.site_id,
                },
            });
        }
        for ent in ents {
            rows.extend(self.orders_by_ent(ent).map(|o| self.detail_row(o)));
        }
        Ok(Reply::Details(rows))
    }

    fn detail_row(&self, o: &SimOrder) -> DetailRow {
        DetailRow {
            system_order_id: o.system_order_id.clone(),
            order: Some(o.clone()),
            deliv_name: o
                .deliv_id
                .and_then(|id| self.rules.carriers.iter().find(|c| c.deliv_id == id))
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            site_id: self.rules.site_id,
        }
    }
}
