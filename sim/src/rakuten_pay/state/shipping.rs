//! updateOrderShipping (`rakuten-pay.md`, updateOrderShipping): every basket
//! and row of a request is checked against the order before anything is
//! applied, so that a refused request changes nothing (as at Rakuten, which
//! answers all row errors at once). A row without `shippingDetailId` is
//! added, one with it updated (or deleted with `shippingDeleteFlag: 1`).

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::MAX_SHIPPING_ROWS;
use super::problems::{Problems, present};
use crate::rakuten_pay::wire::codes::{self, is_delivery_company};
use crate::rakuten_pay::wire::{OrderModel, PackageModel, ShippingModel, dates};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowAction {
    Add,
    Update(i64),
    Delete(i64),
}

/// The fields a row sets: `None` leaves a value unchanged, `Some(None)`
/// deletes it (an empty string on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RowChange {
    delivery_company: Option<String>,
    shipping_number: Option<Option<String>>,
    shipping_date: Option<Option<NaiveDate>>,
}

impl RowChange {
    pub(super) fn apply(&self, row: &mut ShippingModel) {
        if let Some(c) = &self.delivery_company {
            row.delivery_company = c.clone();
        }
        if let Some(n) = &self.shipping_number {
            row.shipping_number = n.clone();
        }
        if let Some(d) = self.shipping_date {
            row.shipping_date = d;
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct RowStep {
    pub basket_id: i64,
    pub data_number: u32,
    pub action: RowAction,
    pub change: RowChange,
}

/// Checks every basket and row of a request against the order; errors go to
/// `problems` with their `dataNumber`.
pub(super) fn plan_shipping(
    order: &OrderModel,
    req: &Map<String, Value>,
    problems: &mut Problems,
) -> Option<Vec<RowStep>> {
    let baskets = match present(req, "BasketidModelList") {
        None => {
            problems.missing("BasketidModelList");
            return None;
        }
        Some(Value::Array(list)) if list.is_empty() => {
            problems.empty("BasketidModelList");
            return None;
        }
        Some(Value::Array(list)) => list,
        Some(_) => {
            problems.format("BasketidModelList");
            return None;
        }
    };
    let mut steps = Vec::new();
    let mut data_number = 0u32;
    for basket in baskets {
        let Some((package, rows)) = basket_rows(order, basket, problems) else {
            continue;
        };
        let basket_id = package.basket_id;
        let mut count = package.shipping.len();
        if rows.len() > MAX_SHIPPING_ROWS {
            problems.error(
                codes::SHIPPING_TOO_MANY_ROWS,
                "発送明細は送付先ごとに20件までです。",
            );
            continue;
        }
        for row in rows {
            data_number += 1;
            if let Some(step) = plan_row(package, row, data_number, problems) {
                match step.action {
                    RowAction::Add => count += 1,
                    RowAction::Delete(_) => count = count.saturating_sub(1),
                    RowAction::Update(_) => {}
                }
                steps.push(RowStep { basket_id, ..step });
            }
        }
        if count > MAX_SHIPPING_ROWS {
            problems.error(
                codes::SHIPPING_TOO_MANY_ROWS,
                "発送明細は送付先ごとに20件までです。",
            );
        }
    }
    Some(steps)
}

/// One entry of `BasketidModelList`: the package it names and its rows.
fn basket_rows<'a>(
    order: &'a OrderModel,
    basket: &'a Value,
    problems: &mut Problems,
) -> Option<(&'a PackageModel, &'a Vec<Value>)> {
    let Some(basket) = basket.as_object() else {
        problems.format("BasketidModelList");
        return None;
    };
    let basket_id = match present(basket, "basketId") {
        None => {
            problems.missing("basketId");
            return None;
        }
        Some(v) => match v.as_i64() {
            Some(id) => id,
            None => {
                problems.format("basketId");
                return None;
            }
        },
    };
    let Some(package) = order.packages.iter().find(|p| p.basket_id == basket_id) else {
        problems.error(codes::SHIPPING_UNKNOWN_BASKET, "basketIdが存在しません。");
        return None;
    };
    let rows = match present(basket, "ShippingModelList") {
        None => {
            problems.missing("ShippingModelList");
            return None;
        }
        Some(Value::Array(rows)) if rows.is_empty() => {
            problems.empty("ShippingModelList");
            return None;
        }
        Some(Value::Array(rows)) => rows,
        Some(_) => {
            problems.format("ShippingModelList");
            return None;
        }
    };
    Some((package, rows))
}

fn plan_row(
    package: &PackageModel,
    row: &Value,
    data_number: u32,
    problems: &mut Problems,
) -> Option<RowStep> {
    let before = problems.list.len();
    let Some(row) = row.as_object() else {
        problems.row(
            data_number,
            None,
            codes::BAD_FORMAT,
            "ShippingModelの書式が不正です。",
        );
        return None;
    };
    let id = match present(row, "shippingDetailId") {
        None => None,
        Some(v) => match v.as_i64() {
            Some(id) if package.shipping.iter().any(|r| r.shipping_detail_id == id) => Some(id),
            Some(id) => {
                problems.row(
                    data_number,
                    Some(id),
                    codes::SHIPPING_UNKNOWN_ROW,
                    "shippingDetailIdが存在しません。",
                );
                return None;
            }
            None => {
                problems.row(
                    data_number,
                    None,
                    codes::BAD_FORMAT,
                    "shippingDetailIdの書式が不正です。",
                );
                return None;
            }
        },
    };
    let delete = match present(row, "shippingDeleteFlag") {
        None => false,
        Some(v) => match v.as_u64() {
            Some(0) => false,
            Some(1) => true,
            _ => {
                problems.row(
                    data_number,
                    id,
                    codes::BAD_FORMAT,
                    "shippingDeleteFlagの書式が不正です。",
                );
                return None;
            }
        },
    };
    let change = row_change(row, data_number, id, delete, problems);
    if problems.list.len() != before {
        return None;
    }
    let action = match (id, delete) {
        (None, true) => {
            problems.row(
                data_number,
                None,
                codes::MISSING,
                "shippingDetailIdの項目を指定して下さい。",
            );
            return None;
        }
        (None, false) => RowAction::Add,
        (Some(id), false) => RowAction::Update(id),
        (Some(id), true) => RowAction::Delete(id),
    };
    Some(RowStep {
        basket_id: package.basket_id,
        data_number,
        action,
        change,
    })
}

/// The values a row sets (company, number, date), each checked.
fn row_change(
    row: &Map<String, Value>,
    data_number: u32,
    id: Option<i64>,
    delete: bool,
    problems: &mut Problems,
) -> RowChange {
    let mut change = RowChange::default();
    match present(row, "deliveryCompany") {
        None if id.is_none() && !delete => {
            problems.row(
                data_number,
                id,
                codes::MISSING,
                "deliveryCompanyの項目を指定して下さい。",
            );
        }
        None => {}
        Some(Value::String(code)) if is_delivery_company(code) => {
            change.delivery_company = Some(code.clone());
        }
        Some(_) => problems.row(
            data_number,
            id,
            codes::BAD_FORMAT,
            "deliveryCompanyの書式が不正です。",
        ),
    }
    match present(row, "shippingNumber") {
        None => {}
        Some(Value::String(n)) if n.is_empty() => change.shipping_number = Some(None),
        Some(Value::String(n)) if n.chars().count() <= 120 && !n.chars().any(char::is_control) => {
            change.shipping_number = Some(Some(n.clone()));
        }
        Some(_) => problems.row(
            data_number,
            id,
            codes::BAD_FORMAT,
            "shippingNumberの書式が不正です。",
        ),
    }
    match present(row, "shippingDate") {
        None => {}
        Some(Value::String(d)) if d.is_empty() => change.shipping_date = Some(None),
        Some(Value::String(d)) => match dates::parse_date(d) {
            Some(date) => change.shipping_date = Some(Some(date)),
            None => problems.row(
                data_number,
                id,
                codes::BAD_FORMAT,
                "shippingDateの書式が不正です。",
            ),
        },
        Some(_) => problems.row(
            data_number,
            id,
            codes::BAD_FORMAT,
            "shippingDateの書式が不正です。",
        ),
    }
    change
}
