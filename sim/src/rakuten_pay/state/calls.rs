//! getOrder, confirmOrder and updateOrderShipping (`rakuten-pay.md`, their
//! sections): each answers a `MessageModelList`, judged by `messageType`.

use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

use super::problems::{Problems, present};
use super::shipping::{RowAction, RowStep, plan_shipping};
use super::{Answer, MAX_VERSION, MIN_VERSION, SimOrder, SimState, enter};
use crate::rakuten_pay::wire::codes::{self, Api};
use crate::rakuten_pay::wire::{
    MessageModel, MessageType, OrderProgress, PackageModel, ShippingModel,
};

impl SimState {
    /// `getOrder`: `version` is required; versions below 7 are refused.
    pub(crate) fn get_order(&mut self, body: &Value, now: DateTime<FixedOffset>) -> Answer {
        self.settle(now);
        let mut problems = Problems::new(Api::GetOrder);
        let Some(req) = body.as_object() else {
            problems.format("request");
            return get_order_error(problems);
        };
        let numbers = problems.order_numbers(req);
        let version = match present(req, "version") {
            None => {
                problems.missing("version");
                None
            }
            Some(v) => {
                let version = v
                    .as_u64()
                    .filter(|n| (MIN_VERSION..=MAX_VERSION).contains(n));
                if version.is_none() {
                    problems.format("version");
                }
                version
            }
        };
        let (Some(numbers), Some(version), true) = (numbers, version, problems.is_empty()) else {
            return get_order_error(problems);
        };
        let orders: Vec<Value> = numbers
            .iter()
            .filter_map(|n| self.orders.get(n.as_str()))
            .map(|o| render(o, version))
            .collect();
        Answer {
            status: 200,
            body: json!({
                "MessageModelList": [MessageModel::info(codes::GET_ORDER_OK, "受注情報の取得に成功しました。")],
                "OrderModelList": orders,
                "version": version,
            }),
        }
    }

    /// `confirmOrder`: one message per order; 200 when any was confirmed,
    /// else 400 (as Rakuten sends a refusal, yet with per-order messages).
    pub(crate) fn confirm_order(&mut self, body: &Value, now: DateTime<FixedOffset>) -> Answer {
        self.settle(now);
        let timing = self.timing;
        let mut problems = Problems::new(Api::ConfirmOrder);
        let Some(req) = body.as_object() else {
            problems.format("request");
            return messages_answer(400, problems.list);
        };
        let Some(numbers) = problems.order_numbers(req) else {
            return messages_answer(400, problems.list);
        };
        let mut messages = Vec::with_capacity(numbers.len());
        for number in numbers {
            let mut m = match self.orders.get_mut(&number) {
                None => MessageModel::error(
                    &problems.code(codes::CONFIRM_ORDER_UNKNOWN),
                    "注文が存在しません。",
                ),
                Some(o) => match o.order.order_progress {
                    OrderProgress::AwaitingConfirmation if o.order.postage_price.is_none() => {
                        MessageModel::error(
                            codes::CONFIRM_ORDER_POSTAGE_NOT_SET,
                            "送料が設定されていません。",
                        )
                    }
                    OrderProgress::AwaitingConfirmation => {
                        enter(o, OrderProgress::RakutenProcessing, now, &timing);
                        MessageModel::info(
                            codes::CONFIRM_ORDER_CONFIRMED,
                            "注文確認に成功しました。",
                        )
                    }
                    OrderProgress::AwaitingCancellation | OrderProgress::Cancelled => {
                        MessageModel::error(
                            codes::CONFIRM_ORDER_CANCELLED,
                            "キャンセルされた注文です。",
                        )
                    }
                    OrderProgress::RakutenProcessing
                    | OrderProgress::AwaitingShipment
                    | OrderProgress::AwaitingChangeConfirmation
                    | OrderProgress::Shipped
                    | OrderProgress::PaymentInProgress
                    | OrderProgress::PaymentDone => MessageModel::error(
                        codes::CONFIRM_ORDER_OTHER_STATUS,
                        "注文確認待ち以外のステータスです。",
                    ),
                },
            };
            m.order_number = Some(number);
            messages.push(m);
        }
        let any_ok = messages
            .iter()
            .any(|m| m.message_type != MessageType::Error);
        messages_answer(if any_ok { 200 } else { 400 }, messages)
    }

    /// `updateOrderShipping`: all rows are checked first; any error applies nothing.
    pub(crate) fn update_order_shipping(
        &mut self,
        body: &Value,
        now: DateTime<FixedOffset>,
    ) -> Answer {
        self.settle(now);
        let mut problems = Problems::new(Api::UpdateOrderShipping);
        let Some(req) = body.as_object() else {
            problems.format("request");
            return messages_answer(400, problems.list);
        };
        let number = match present(req, "orderNumber") {
            None => {
                problems.missing("orderNumber");
                return messages_answer(400, problems.list);
            }
            Some(Value::String(s)) if s.is_empty() => {
                problems.empty("orderNumber");
                return messages_answer(400, problems.list);
            }
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                problems.format("orderNumber");
                return messages_answer(400, problems.list);
            }
        };
        let Some(order) = self.orders.get(&number) else {
            problems.error(codes::SHIPPING_UNKNOWN_ORDER, "注文が存在しません。");
            return messages_answer(400, problems.list);
        };
        match order.order.order_progress {
            OrderProgress::AwaitingCancellation | OrderProgress::Cancelled => {
                problems.push(
                    codes::SHIPPING_ORDER_CANCELLED,
                    "キャンセルされた注文です。",
                );
                return messages_answer(400, problems.list);
            }
            OrderProgress::AwaitingConfirmation | OrderProgress::RakutenProcessing => {
                problems.error(
                    codes::SHIPPING_TOO_EARLY,
                    "発送待ち以降のステータスではありません。",
                );
                return messages_answer(400, problems.list);
            }
            OrderProgress::AwaitingShipment
            | OrderProgress::AwaitingChangeConfirmation
            | OrderProgress::Shipped
            | OrderProgress::PaymentInProgress
            | OrderProgress::PaymentDone => {}
        }
        let plan = match plan_shipping(&order.order, req, &mut problems) {
            Some(plan) if problems.is_empty() => plan,
            _ => return messages_answer(400, problems.list),
        };
        let mut next_id = self.next_shipping_detail_id;
        let timing = self.timing;
        let Some(o) = self.orders.get_mut(&number) else {
            return messages_answer(400, problems.list);
        };
        let mut messages = Vec::with_capacity(plan.len());
        for step in plan {
            let Some(package) = o
                .order
                .packages
                .iter_mut()
                .find(|p| p.basket_id == step.basket_id)
            else {
                continue;
            };
            messages.push(apply_row(package, step, &mut next_id));
        }
        self.next_shipping_detail_id = next_id;
        o.shipping_reported_at = Some(now);
        if o.order.order_progress == OrderProgress::AwaitingShipment && o.order.fully_shipped() {
            enter(o, OrderProgress::Shipped, now, &timing);
        }
        messages_answer(200, messages)
    }
}

/// Applies one planned row to its basket; answers the row's message.
fn apply_row(package: &mut PackageModel, step: RowStep, next_id: &mut i64) -> MessageModel {
    let (code, text, id) = match step.action {
        RowAction::Add => {
            let id = *next_id;
            *next_id += 1;
            let mut row = ShippingModel {
                shipping_detail_id: id,
                delivery_company: String::new(),
                shipping_number: None,
                shipping_date: None,
            };
            step.change.apply(&mut row);
            package.shipping.push(row);
            (
                codes::SHIPPING_ADDED,
                "発送情報の追加設定が完了しました。",
                id,
            )
        }
        RowAction::Update(id) => {
            if let Some(row) = package
                .shipping
                .iter_mut()
                .find(|r| r.shipping_detail_id == id)
            {
                step.change.apply(row);
            }
            (
                codes::SHIPPING_UPDATED,
                "発送情報の更新設定が完了しました。",
                id,
            )
        }
        RowAction::Delete(id) => {
            package.shipping.retain(|r| r.shipping_detail_id != id);
            (
                codes::SHIPPING_DELETED,
                "発送情報の削除設定が完了しました。",
                id,
            )
        }
    };
    let mut m = MessageModel::info(code, text);
    m.data_number = Some(step.data_number);
    m.shipping_detail_id = Some(id);
    m
}

/// The order as getOrder answers it: the model plus what Rakuten adds that
/// the daemon ignores, in the shape of the version asked (8 replaced
/// `goodsTax` by `reqPriceTax`, `rakuten-pay.md` Corrections).
fn render(o: &SimOrder, version: u64) -> Value {
    let mut v = serde_json::to_value(&o.order).unwrap_or(Value::Null);
    let Some(order) = v.as_object_mut() else {
        return v;
    };
    order.insert("orderType".into(), json!(1));
    order.insert("remarks".into(), json!("[配送日時指定:]\n指定なし"));
    order.insert("carrierCode".into(), json!(0));
    order.insert(
        "DeliveryModel".into(),
        json!({"deliveryName": "宅配便", "deliveryClass": null}),
    );
    order.insert("PointModel".into(), json!({"usedPoint": 0}));
    order.insert("WrappingModel1".into(), Value::Null);
    order.insert("CouponModelList".into(), Value::Null);
    let tax = o.order.goods_price.unwrap_or(0) * 10 / 110;
    if version < 8 {
        order.insert("goodsTax".into(), json!(tax));
    } else {
        order.insert("reqPriceTax".into(), json!(tax));
    }
    if let Some(Value::Array(packages)) = order.get_mut("PackageModelList") {
        for package in packages.iter_mut().filter_map(Value::as_object_mut) {
            package.insert("deliveryCompanyId".into(), json!("1001"));
            if let Some(Value::Array(items)) = package.get_mut("ItemModelList") {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.insert("itemId".into(), Value::Null);
                    item.insert("taxRate".into(), json!(0.1));
                    item.insert("pointRate".into(), json!(1));
                    item.insert("selectedChoice".into(), Value::Null);
                }
            }
        }
    }
    if o.corrupt {
        // A line whose quantity is not a number: unreadable, yet the order
        // number is intact so the client can name the order.
        if let Some(item) = order
            .get_mut("PackageModelList")
            .and_then(|p| p.get_mut(0))
            .and_then(|p| p.get_mut("ItemModelList"))
            .and_then(|i| i.get_mut(0))
            .and_then(Value::as_object_mut)
        {
            item.insert("units".into(), json!("many"));
        } else {
            order.insert("orderProgress".into(), json!("unknown"));
        }
    }
    v
}

fn messages_answer(status: u16, messages: Vec<MessageModel>) -> Answer {
    Answer {
        status,
        body: json!({ "MessageModelList": messages }),
    }
}

/// A refused getOrder: `OrderModelList` and `version` `null`.
fn get_order_error(problems: Problems) -> Answer {
    Answer {
        status: 400,
        body: json!({
            "MessageModelList": problems.list,
            "OrderModelList": null,
            "version": null,
        }),
    }
}
