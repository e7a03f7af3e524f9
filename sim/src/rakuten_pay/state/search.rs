//! searchOrder (`rakuten-pay.md`, searchOrder): a window of ≤ 63 days starting
//! ≤ 730 days ago over one of six dates, an optional `orderProgressList`,
//! pages of ≤ 1000 sorted by order date, at most 15,000 hits; zero hits are
//! `INFO_102` with `orderNumberList: []` and the three pagination fields
//! `null`.

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde_json::{Map, Value, json};

use super::problems::{Problems, present};
use super::{Answer, MAX_LOOKBACK_DAYS, MAX_SEARCH_HITS, MAX_WINDOW_DAYS, SimOrder, SimState};
use crate::jst;
use crate::rakuten_pay::wire::codes::{self, Api};
use crate::rakuten_pay::wire::{MessageModel, OrderProgress};

impl SimState {
    /// `searchOrder`.
    pub(crate) fn search_order(&mut self, body: &Value, now: DateTime<FixedOffset>) -> Answer {
        self.settle(now);
        let mut problems = Problems::new(Api::SearchOrder);
        let Some(req) = body.as_object() else {
            problems.format("request");
            return search_error(problems);
        };
        let date_type = search_date_type(req, &mut problems);
        let start = problems.datetime(req, "startDatetime");
        let end = problems.datetime(req, "endDatetime");
        let progress = search_progress(req, &mut problems);
        let (page_size, page, descending) = problems.pagination(req);
        let (Some(date_type), Some(start), Some(end)) = (date_type, start, end) else {
            return search_error(problems);
        };
        if !problems.is_empty() {
            return search_error(problems);
        }
        if end < start || end - start > TimeDelta::days(MAX_WINDOW_DAYS) {
            problems.error(
                codes::SEARCH_ORDER_WINDOW,
                "期間検索の範囲は63日以内で指定して下さい。",
            );
            return search_error(problems);
        }
        if start < now - TimeDelta::days(MAX_LOOKBACK_DAYS) {
            problems.error(
                codes::SEARCH_ORDER_TOO_OLD,
                "期間検索開始日時は730日以内で指定して下さい。",
            );
            return search_error(problems);
        }
        let hits: Vec<(DateTime<FixedOffset>, &str)> = self
            .orders
            .values()
            .filter(|o| {
                progress
                    .as_ref()
                    .is_none_or(|list| list.contains(&o.order.order_progress))
            })
            .filter_map(|o| {
                let at = date_of(o, date_type)?;
                (start <= at && at <= end)
                    .then_some((o.order.order_datetime, o.order.order_number.as_str()))
            })
            .collect();
        if hits.len() > MAX_SEARCH_HITS {
            problems.error(
                codes::SEARCH_ORDER_TOO_MANY,
                "検索結果が15000件を超えました。検索条件を絞り込んで下さい。",
            );
            return search_error(problems);
        }
        if hits.is_empty() {
            return Answer {
                status: 200,
                body: json!({
                    "orderNumberList": [],
                    "MessageModelList": [MessageModel::info(
                        codes::SEARCH_ORDER_NO_HITS,
                        "注文検索に成功しました。(検索結果０件)",
                    )],
                    "PaginationResponseModel": {
                        "totalRecordsAmount": null,
                        "totalPages": null,
                        "requestPage": null,
                    },
                }),
            };
        }
        search_page(hits, page_size, page, descending)
    }
}

/// `dateType` (1 to 6).
fn search_date_type(req: &Map<String, Value>, problems: &mut Problems) -> Option<u64> {
    match present(req, "dateType") {
        None => {
            problems.missing("dateType");
            None
        }
        Some(v) => match v.as_u64().filter(|t| (1..=6).contains(t)) {
            Some(t) => Some(t),
            None => {
                problems.format("dateType");
                None
            }
        },
    }
}

/// `orderProgressList`, when given: every entry a status of the contract.
fn search_progress(
    req: &Map<String, Value>,
    problems: &mut Problems,
) -> Option<Vec<OrderProgress>> {
    let list = present(req, "orderProgressList")?;
    let codes: Option<Vec<OrderProgress>> = list.as_array().and_then(|list| {
        list.iter()
            .map(|c| c.as_u64().and_then(OrderProgress::from_code))
            .collect()
    });
    if codes.is_none() {
        problems.format("orderProgressList");
    }
    codes
}

/// The date a search with this `dateType` looks at: 1 order, 2 confirm,
/// 3 fix, 4 ship (the latest `shippingDate`, at midnight JST), 5 shipping
/// report, 6 settlement.
fn date_of(o: &SimOrder, date_type: u64) -> Option<DateTime<FixedOffset>> {
    match date_type {
        1 => Some(o.order.order_datetime),
        2 => o.order.shop_order_cfm_datetime,
        3 => o.order.order_fix_datetime,
        4 => o
            .order
            .packages
            .iter()
            .flat_map(|p| &p.shipping)
            .filter_map(|r| r.shipping_date)
            .max()
            .and_then(|d| d.and_hms_opt(0, 0, 0)?.and_local_timezone(jst()).single()),
        5 => o.shipping_reported_at,
        6 => o.settled_at,
        _ => None,
    }
}

/// One page of the hits, oldest first (or newest first).
fn search_page(
    mut hits: Vec<(DateTime<FixedOffset>, &str)>,
    page_size: u64,
    page: u64,
    descending: bool,
) -> Answer {
    hits.sort();
    if descending {
        hits.reverse();
    }
    let total = hits.len() as u64;
    let total_pages = total.div_ceil(page_size);
    let skip = (page - 1).saturating_mul(page_size);
    let numbers: Vec<&str> = hits
        .iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(page_size).unwrap_or(usize::MAX))
        .map(|(_, n)| *n)
        .collect();
    Answer {
        status: 200,
        body: json!({
            "orderNumberList": numbers,
            "MessageModelList": [MessageModel::info(codes::SEARCH_ORDER_FOUND, "注文検索に成功しました。")],
            "PaginationResponseModel": {
                "totalRecordsAmount": total,
                "totalPages": total_pages,
                "requestPage": page,
            },
        }),
    }
}

/// A refused search: `orderNumberList` and the pagination `null`.
fn search_error(problems: Problems) -> Answer {
    Answer {
        status: 400,
        body: json!({
            "orderNumberList": null,
            "MessageModelList": problems.list,
            "PaginationResponseModel": null,
        }),
    }
}
