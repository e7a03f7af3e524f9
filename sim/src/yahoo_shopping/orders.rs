//! The store's orders and the read calls on them (`yahoo-shopping.md`,
//! "orderCount", "orderList", "orderInfo", "orderChangeHistory"): the
//! buyer's 10-minute window (`IsReadOnly`, `ReadOnlyMode`), fraud holds
//! released with a `PublicationTime`, 14-digit JST conditions without any
//! update-time condition, the 2000 cap on `Result`, one empty
//! `<OrderInfo />` past the end, and a history entry with a new
//! `LastUpdateTime` on every change.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde::Deserialize;

use super::filter::Filter;
use super::order::{Group, HistoryEntry, ITEM_FIELDS, NewOrder, Order, is_personal};
use super::settings::Settings;
use super::xml::{self, Doc};

/// The most orders one orderList page holds \[doc\].
pub const MAX_RESULT: u32 = 2000;

/// `Result` when the request leaves it out \[doc\].
const DEFAULT_RESULT: u32 = 10;

/// An answer of an order call: HTTP status and XML body.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: u16,
    pub(crate) body: String,
}

/// The order-API error answer.
pub(crate) fn refuse(settings: &Settings, status: u16, code: &str, message: &str) -> Outcome {
    Outcome {
        status,
        body: xml::order_error_doc(message, code, settings.wrap_order_errors),
    }
}

/// `od90101`, a parameter the call cannot take.
pub(crate) fn bad_parameter(settings: &Settings, what: &str) -> Outcome {
    refuse(
        settings,
        400,
        "od90101",
        &format!("Invalid Request : {what}"),
    )
}

/// `od91801`, no such order at this store.
pub(crate) fn unknown_order(settings: &Settings) -> Outcome {
    refuse(settings, 404, "od91801", "Not Found OrderId")
}

/// The store's orders.
#[derive(Debug)]
pub(crate) struct Book {
    pub(crate) seller_id: String,
    next_number: u64,
    pub(crate) orders: BTreeMap<String, Order>,
}

/// `<Req><Search>…</Search><SellerId/></Req>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListReq {
    search: Option<Search>,
    seller_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Search {
    result: Option<String>,
    start: Option<String>,
    sort: Option<String>,
    condition: Option<HashMap<String, String>>,
    field: Option<String>,
}

/// `<Req><Target><OrderId/><Field/></Target><SellerId/></Req>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InfoReq {
    target: Option<InfoTarget>,
    seller_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InfoTarget {
    order_id: Option<String>,
    field: Option<String>,
}

/// `None` when the text is empty.
pub(crate) fn trimmed(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A comma list of names or values, trimmed.
pub(crate) fn comma_list(text: &str) -> Vec<&str> {
    text.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// `≤ 50 bytes of [a-zA-Z0-9-]` \[doc\].
pub(crate) fn valid_order_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 50 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A history change with a personal value emptied.
fn hide_personal(
    (line, name, value): (Option<u32>, &'static str, String),
) -> (Option<u32>, &'static str, String) {
    let value = if is_personal(name) {
        String::new()
    } else {
        value
    };
    (line, name, value)
}

impl Book {
    pub(crate) fn new(seller_id: String) -> Book {
        Book {
            seller_id,
            next_number: 10_000_001,
            orders: BTreeMap::new(),
        }
    }

    /// A buyer's order arrives; returns its `OrderId`.
    pub(crate) fn place(
        &mut self,
        new: NewOrder,
        settings: &Settings,
        now: DateTime<FixedOffset>,
    ) -> String {
        let number = new.number.unwrap_or(self.next_number);
        self.next_number = self.next_number.max(number.saturating_add(1));
        let order_id = format!("{}-{number}", self.seller_id);
        let mut order = Order::create(
            order_id.clone(),
            new,
            now,
            settings.unheld_publication_is_order_time,
        );
        let changes = order.snapshot().into_iter().map(hide_personal).collect();
        order.history.push(HistoryEntry {
            id: 1,
            time: order.order_time,
            person: "system".to_string(),
            changes,
        });
        self.orders.insert(order_id.clone(), order);
        order_id
    }

    /// Changes `order_id` with `f`: when any field moved, `Version` goes
    /// up, `LastUpdateTime` is `now` and the history gets the differences
    /// (personal values empty). `None` when there is no such order, else
    /// whether anything changed.
    pub(crate) fn change(
        &mut self,
        order_id: &str,
        person: &str,
        now: DateTime<FixedOffset>,
        f: impl FnOnce(&mut Order),
    ) -> Option<bool> {
        let order = self.orders.get_mut(order_id)?;
        let before = order.snapshot();
        f(order);
        let after = order.snapshot();
        let changes: Vec<_> = after
            .into_iter()
            .filter(|field| !before.contains(field))
            .map(hide_personal)
            .collect();
        if changes.is_empty() {
            return Some(false);
        }
        order.version = order.version.saturating_add(1);
        order.last_update_time = now;
        let id = u32::try_from(order.history.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        order.history.push(HistoryEntry {
            id,
            time: now,
            person: person.to_string(),
            changes,
        });
        Some(true)
    }

    fn window(settings: &Settings) -> TimeDelta {
        TimeDelta::from_std(settings.cancel_window).unwrap_or(TimeDelta::zero())
    }

    /// `GET orderCount`: new orders and new reservations nobody has seen,
    /// among those orderList shows by default.
    pub(crate) fn count(&self, settings: &Settings, now: DateTime<FixedOffset>) -> Outcome {
        let visible = |o: &&Order| !o.held && !o.is_read_only(now, Book::window(settings));
        let unseen = |status: u8| {
            self.orders
                .values()
                .filter(visible)
                .filter(|o| o.status == status && !o.is_seen)
                .count()
                .to_string()
        };
        let body = Doc::new()
            .open("ResultSet", &[("totalResultsAvailable", "1".into())])
            .open("Result", &[])
            .leaf("Status", "OK")
            .open("Count", &[])
            .leaf("NewOrder", &unseen(2))
            .leaf("NewReserve", &unseen(1))
            .close("Count")
            .close("Result")
            .close("ResultSet")
            .finish();
        Outcome { status: 200, body }
    }

    /// `POST orderList`.
    pub(crate) fn list(
        &self,
        settings: &Settings,
        body: &str,
        now: DateTime<FixedOffset>,
    ) -> Outcome {
        let Ok(req) = quick_xml::de::from_str::<ListReq>(body) else {
            return bad_parameter(settings, "Req");
        };
        if let Some(refusal) = self.seller_check(settings, req.seller_id.as_deref()) {
            return refusal;
        }
        let Some(search) = req.search else {
            return bad_parameter(settings, "Search");
        };
        let Some(field) = trimmed(&search.field) else {
            return bad_parameter(settings, "Field");
        };
        let fields = comma_list(field);
        let known: Vec<&'static str> = Order::known_fields();
        if settings.refuse_unknown_fields
            && let Some(unknown) = fields.iter().find(|f| !known.contains(f))
        {
            return bad_parameter(settings, &format!("Field {unknown}"));
        }
        let mut result = match trimmed(&search.result).map(str::parse::<u32>) {
            None => DEFAULT_RESULT,
            Some(Ok(n)) if n >= 1 => n,
            Some(_) => return bad_parameter(settings, "Result"),
        };
        if result > MAX_RESULT {
            if settings.refuse_result_over_cap {
                return bad_parameter(settings, "Result");
            }
            result = MAX_RESULT;
        }
        let start = match trimmed(&search.start).map(str::parse::<u32>) {
            None => 1,
            Some(Ok(n)) if n >= 1 => n,
            Some(_) => return bad_parameter(settings, "Start"),
        };
        let descending = match trimmed(&search.sort) {
            None | Some("+order_time") => false,
            Some("-order_time") => true,
            Some(_) => return bad_parameter(settings, "Sort"),
        };
        let condition = search.condition.unwrap_or_default();
        let filter = match Filter::parse(settings, &condition) {
            Ok(filter) => filter,
            Err(refusal) => return refusal,
        };
        let window = Book::window(settings);
        let mut hits: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| filter.matches(o, o.is_read_only(now, window)))
            .collect();
        hits.sort_by(|a, b| (a.order_time, &a.order_id).cmp(&(b.order_time, &b.order_id)));
        if descending {
            hits.reverse();
        }
        let total = hits.len();
        let mut doc = Doc::new();
        doc.open("Result", &[])
            .leaf("Status", "OK")
            .open("Search", &[])
            .leaf("TotalCount", &total.to_string());
        let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
        if total > 0 && skip >= total {
            doc.empty("OrderInfo");
        }
        let page = usize::try_from(result).unwrap_or(usize::MAX);
        for (index, order) in hits.iter().enumerate().skip(skip).take(page) {
            let values = order.fields(order.is_read_only(now, window), settings.order_time_format);
            doc.open("OrderInfo", &[])
                .leaf("Index", &(index + 1).to_string());
            for name in &fields {
                if let Some((_, _, value)) = values.iter().find(|(_, n, _)| n == name) {
                    doc.leaf(name, value);
                }
            }
            doc.close("OrderInfo");
        }
        let body = doc.close("Search").close("Result").finish();
        Outcome { status: 200, body }
    }

    /// `POST orderInfo`: one order, all fields or those named.
    pub(crate) fn info(
        &self,
        settings: &Settings,
        body: &str,
        now: DateTime<FixedOffset>,
    ) -> Outcome {
        let Ok(req) = quick_xml::de::from_str::<InfoReq>(body) else {
            return bad_parameter(settings, "Req");
        };
        if let Some(refusal) = self.seller_check(settings, req.seller_id.as_deref()) {
            return refusal;
        }
        let Some(target) = req.target else {
            return bad_parameter(settings, "Target");
        };
        let order = match self.find(settings, trimmed(&target.order_id)) {
            Ok(order) => order,
            Err(refusal) => return refusal,
        };
        let wanted: Option<Vec<&str>> = trimmed(&target.field).map(comma_list);
        if let Some(wanted) = &wanted {
            let known = Order::known_fields();
            if settings.refuse_unknown_fields
                && let Some(unknown) = wanted
                    .iter()
                    .find(|f| !known.contains(f) && !ITEM_FIELDS.contains(f))
            {
                return bad_parameter(settings, &format!("Field {unknown}"));
            }
        }
        let shown = |name: &str| wanted.as_ref().is_none_or(|w| w.contains(&name));
        let values = order.fields(
            order.is_read_only(now, Book::window(settings)),
            settings.order_time_format,
        );
        let mut doc = Doc::new();
        doc.open(
            "ResultSet",
            &[
                ("totalResultsAvailable", "1".into()),
                ("totalResultsReturned", "1".into()),
                ("firstResultPosition", "1".into()),
            ],
        )
        .open("Result", &[])
        .leaf("Status", "OK")
        .open("OrderInfo", &[]);
        for (group, tag) in [
            (Group::Top, None),
            (Group::Pay, Some("Pay")),
            (Group::Ship, Some("Ship")),
            (Group::Detail, Some("Detail")),
        ] {
            let in_group: Vec<_> = values
                .iter()
                .filter(|(g, name, _)| *g == group && shown(name))
                .collect();
            if in_group.is_empty() {
                continue;
            }
            if let Some(tag) = tag {
                doc.open(tag, &[]);
            }
            for (_, name, value) in in_group {
                doc.leaf(name, value);
            }
            if let Some(tag) = tag {
                doc.close(tag);
            }
        }
        if ITEM_FIELDS.iter().any(|f| shown(f)) {
            for line in &order.items {
                doc.open("Item", &[]);
                for (name, value) in Order::line_fields(line) {
                    if shown(name) {
                        doc.leaf(name, &value);
                    }
                }
                doc.close("Item");
            }
        }
        let body = doc
            .close("OrderInfo")
            .close("Result")
            .close("ResultSet")
            .finish();
        Outcome { status: 200, body }
    }

    /// `GET orderChangeHistory?orderId=&sellerId=`.
    pub(crate) fn history(
        &self,
        settings: &Settings,
        order_id: Option<&str>,
        seller_id: Option<&str>,
    ) -> Outcome {
        if let Some(refusal) = self.seller_check(settings, seller_id) {
            return refusal;
        }
        let Some(order_id) = order_id.map(str::trim).filter(|id| valid_order_id(id)) else {
            return refuse(
                settings,
                400,
                super::settings::HISTORY_PARAMETER_CODE,
                "Invalid Request : orderId",
            );
        };
        let Some(order) = self.orders.get(order_id) else {
            return unknown_order(settings);
        };
        let mut doc = Doc::new();
        doc.open("ResultSet", &[])
            .open("Result", &[])
            .leaf("Status", "OK");
        for entry in &order.history {
            doc.open("History", &[])
                .leaf("HistoryId", &entry.id.to_string())
                .leaf("UpdateTime", &xml::iso_offset(entry.time))
                .leaf("UpdatePerson", &entry.person);
            for (line, name, value) in &entry.changes {
                doc.open("Change", &[]);
                match line {
                    None => {
                        doc.leaf("Field", name).leaf("Value", value);
                    }
                    Some(line) => {
                        doc.open("Item", &[])
                            .leaf("LineId", &line.to_string())
                            .leaf("Field", name)
                            .leaf("Value", value)
                            .close("Item");
                    }
                }
                doc.close("Change");
            }
            doc.close("History");
        }
        let body = doc.close("Result").close("ResultSet").finish();
        Outcome { status: 200, body }
    }

    /// `sellerId` must name this store: absent `od90101`, another store
    /// `px-14304`.
    pub(crate) fn seller_check(
        &self,
        settings: &Settings,
        seller_id: Option<&str>,
    ) -> Option<Outcome> {
        match seller_id.map(str::trim) {
            None | Some("") => Some(bad_parameter(settings, "SellerId")),
            Some(id) if id == self.seller_id => None,
            Some(_) => Some(Outcome {
                status: settings.seller_not_allowed_status,
                body: xml::error_doc(
                    "seller_not_allowed",
                    Some("px-14304"),
                    settings.error_namespace,
                ),
            }),
        }
    }

    /// The order a request names: malformed `od90101`, unknown `od91801`.
    pub(crate) fn find(
        &self,
        settings: &Settings,
        order_id: Option<&str>,
    ) -> Result<&Order, Outcome> {
        let Some(id) = order_id.filter(|id| valid_order_id(id)) else {
            return Err(bad_parameter(settings, "OrderId"));
        };
        self.orders.get(id).ok_or_else(|| unknown_order(settings))
    }
}

impl Order {
    /// Every order-level field name orderList and orderInfo know.
    pub(crate) fn known_fields() -> Vec<&'static str> {
        let sample = Order::create(
            String::new(),
            NewOrder::new(Vec::new()),
            DateTime::UNIX_EPOCH.fixed_offset(),
            false,
        );
        sample
            .fields(false, super::settings::OrderTimeFormat::IsoOffset)
            .into_iter()
            .map(|(_, name, _)| name)
            .collect()
    }
}
