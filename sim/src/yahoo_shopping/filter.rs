//! orderList's `<Condition>`: at least one time or `OrderId` condition,
//! 14-digit JST times, comma lists of statuses, `ReadOnlyMode` and
//! `FraudHoldDisplayType`; no update-time condition exists.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use super::order::Order;
use super::orders::{Outcome, bad_parameter, comma_list};
use super::settings::Settings;
use super::xml;

/// The other conditions orderList knows.
const CONDITIONS: &[&str] = &[
    "OrderStatus",
    "ShipStatus",
    "PayStatus",
    "SettleStatus",
    "IsSeen",
    "ReadOnlyMode",
    "FraudHoldDisplayType",
];
/// The conditions one of which must be there.
const REQUIRED: &[&str] = &[
    "OrderId",
    "OrderTime",
    "OrderTimeFrom",
    "OrderTimeTo",
    "PublicationTimeFrom",
    "PublicationTimeTo",
    "PayMethodChangeDeadlineFrom",
    "PayMethodChangeDeadlineTo",
];

/// orderList's conditions, parsed.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    order_id: Option<String>,
    order_time: Option<DateTime<FixedOffset>>,
    order_from: Option<DateTime<FixedOffset>>,
    order_to: Option<DateTime<FixedOffset>>,
    publication_from: Option<DateTime<FixedOffset>>,
    publication_to: Option<DateTime<FixedOffset>>,
    /// A deadline condition: no simulated order has a deadline.
    deadline: bool,
    statuses: Vec<(&'static str, Vec<String>)>,
    is_seen: Option<bool>,
    read_only_mode: u8,
    show_held: bool,
}

impl Filter {
    pub(crate) fn parse(
        settings: &Settings,
        condition: &HashMap<String, String>,
    ) -> Result<Filter, Outcome> {
        let mut filter = Filter::default();
        if settings.refuse_unknown_fields
            && let Some(key) = condition
                .keys()
                .find(|k| !CONDITIONS.contains(&k.as_str()) && !REQUIRED.contains(&k.as_str()))
        {
            return Err(bad_parameter(settings, key));
        }
        if !REQUIRED
            .iter()
            .any(|k| condition.get(*k).is_some_and(|v| !v.trim().is_empty()))
        {
            return Err(bad_parameter(settings, "Condition"));
        }
        let get = |key: &str| {
            condition
                .get(key)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let time = |key: &str| -> Result<Option<DateTime<FixedOffset>>, Outcome> {
            match get(key) {
                None => Ok(None),
                Some(text) => xml::parse_compact(text)
                    .map(Some)
                    .ok_or_else(|| bad_parameter(settings, key)),
            }
        };
        filter.order_id = get("OrderId").map(str::to_string);
        filter.order_time = time("OrderTime")?;
        filter.order_from = time("OrderTimeFrom")?;
        filter.order_to = time("OrderTimeTo")?;
        filter.publication_from = time("PublicationTimeFrom")?;
        filter.publication_to = time("PublicationTimeTo")?;
        filter.deadline = get("PayMethodChangeDeadlineFrom").is_some()
            || get("PayMethodChangeDeadlineTo").is_some();
        for key in ["OrderStatus", "ShipStatus", "PayStatus", "SettleStatus"] {
            if let Some(list) = get(key) {
                let values: Vec<String> =
                    comma_list(list).into_iter().map(str::to_string).collect();
                if values.iter().any(|v| v.parse::<u8>().is_err()) {
                    return Err(bad_parameter(settings, key));
                }
                filter.statuses.push((key, values));
            }
        }
        filter.is_seen = match get("IsSeen") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(bad_parameter(settings, "IsSeen")),
        };
        filter.read_only_mode = match get("ReadOnlyMode") {
            None | Some("0") => 0,
            Some("1") => 1,
            Some("2") => 2,
            Some(_) => return Err(bad_parameter(settings, "ReadOnlyMode")),
        };
        filter.show_held = match get("FraudHoldDisplayType") {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(bad_parameter(settings, "FraudHoldDisplayType")),
        };
        Ok(filter)
    }

    pub(crate) fn matches(&self, order: &Order, read_only: bool) -> bool {
        let within = |t: Option<DateTime<FixedOffset>>,
                      from: Option<DateTime<FixedOffset>>,
                      to: Option<DateTime<FixedOffset>>| {
            match t {
                Some(t) => from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e),
                None => from.is_none() && to.is_none(),
            }
        };
        let status_of = |key: &str| match key {
            "OrderStatus" => order.status.to_string(),
            "ShipStatus" => order.ship_status.to_string(),
            "PayStatus" => order.pay_status.to_string(),
            _ => "1".to_string(),
        };
        let read_only_ok = match self.read_only_mode {
            0 => !read_only,
            1 => read_only,
            _ => true,
        };
        !self.deadline
            && self
                .order_id
                .as_deref()
                .is_none_or(|id| id == order.order_id)
            && self.order_time.is_none_or(|t| t == order.order_time)
            && within(Some(order.order_time), self.order_from, self.order_to)
            && within(
                order.publication_time,
                self.publication_from,
                self.publication_to,
            )
            && self
                .statuses
                .iter()
                .all(|(key, values)| values.contains(&status_of(key)))
            && self.is_seen.is_none_or(|s| s == order.is_seen)
            && read_only_ok
            && (self.show_held || !order.held)
    }
}
