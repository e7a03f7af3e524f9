//! The ERROR messages of the order API: `ORDER_EXT_API_<ENDPOINT>_ERROR_<nnn>`
//! with `_009` (required item missing), `_010` (empty) and `_011` (bad
//! format) (`rakuten-pay.md`, Envelope and errors), and the checks of the
//! fields several endpoints share.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::{MAX_ORDER_NUMBERS, MAX_PAGE_SIZE};
use crate::rakuten_pay::wire::codes::{self, Api};
use crate::rakuten_pay::wire::{MessageModel, MessageType, dates};

/// searchOrder's page size when the request names none. [sim guess]
const DEFAULT_PAGE_SIZE: u64 = 30;

/// Collects ERROR messages for one endpoint.
#[derive(Debug)]
pub(super) struct Problems {
    api: Api,
    pub list: Vec<MessageModel>,
}

impl Problems {
    pub(super) fn new(api: Api) -> Self {
        Problems {
            api,
            list: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// This endpoint's `ERROR_<n>` code.
    pub(super) fn code(&self, n: u16) -> String {
        codes::message_code(self.api, MessageType::Error, n)
    }

    /// An ERROR message with a code the contract names in full.
    pub(super) fn push(&mut self, code: &str, text: &str) {
        self.list.push(MessageModel::error(code, text));
    }

    /// This endpoint's `ERROR_<n>`.
    pub(super) fn error(&mut self, n: u16, text: &str) {
        let code = self.code(n);
        self.push(&code, text);
    }

    /// `_009`: a required item is missing.
    pub(super) fn missing(&mut self, field: &str) {
        self.error(codes::MISSING, &format!("{field}の項目を指定して下さい。"));
    }

    /// `_010`: a required item is empty.
    pub(super) fn empty(&mut self, field: &str) {
        self.error(codes::EMPTY, &format!("{field}の値を指定して下さい。"));
    }

    /// `_011`: bad format.
    pub(super) fn format(&mut self, field: &str) {
        self.error(codes::BAD_FORMAT, &format!("{field}の書式が不正です。"));
    }

    /// An error about one shipping row, with its `dataNumber`.
    pub(super) fn row(&mut self, data_number: u32, id: Option<i64>, n: u16, text: &str) {
        let mut m = MessageModel::error(&self.code(n), text);
        m.data_number = Some(data_number);
        m.shipping_detail_id = id;
        self.list.push(m);
    }

    /// A required `yyyy-MM-ddTHH:mm:ss+0900`.
    pub(super) fn datetime(
        &mut self,
        req: &Map<String, Value>,
        field: &str,
    ) -> Option<DateTime<FixedOffset>> {
        match present(req, field) {
            None => {
                self.missing(field);
                None
            }
            Some(Value::String(s)) if s.is_empty() => {
                self.empty(field);
                None
            }
            Some(Value::String(s)) => {
                let t = dates::parse_jst(s);
                if t.is_none() {
                    self.format(field);
                }
                t
            }
            Some(_) => {
                self.format(field);
                None
            }
        }
    }

    /// `PaginationRequestModel` → (page size, page, descending).
    pub(super) fn pagination(&mut self, req: &Map<String, Value>) -> (u64, u64, bool) {
        let Some(model) = present(req, "PaginationRequestModel") else {
            return (DEFAULT_PAGE_SIZE, 1, false);
        };
        let Some(model) = model.as_object() else {
            self.format("PaginationRequestModel");
            return (DEFAULT_PAGE_SIZE, 1, false);
        };
        let size = self
            .count(model, "requestRecordsAmount", 1..=MAX_PAGE_SIZE)
            .unwrap_or(DEFAULT_PAGE_SIZE);
        let page = self.count(model, "requestPage", 1..=u64::MAX).unwrap_or(1);
        let mut descending = false;
        if let Some(sorts) = present(model, "SortModelList") {
            match sorts.as_array() {
                None => self.format("SortModelList"),
                Some(list) => {
                    for sort in list {
                        // Column 1 (the order datetime) is the only one;
                        // direction 1 ascending, 2 descending.
                        let column = sort.get("sortColumn").and_then(Value::as_u64);
                        let direction = sort.get("sortDirection").and_then(Value::as_u64);
                        match (column, direction) {
                            (Some(1), Some(1)) => descending = false,
                            (Some(1), Some(2)) => descending = true,
                            _ => self.format("SortModelList"),
                        }
                    }
                }
            }
        }
        (size, page, descending)
    }

    /// A required whole number within `range`.
    fn count(
        &mut self,
        model: &Map<String, Value>,
        field: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Option<u64> {
        match present(model, field) {
            None => {
                self.missing(field);
                None
            }
            Some(v) => {
                let n = v.as_u64().filter(|n| range.contains(n));
                if n.is_none() {
                    self.format(field);
                }
                n
            }
        }
    }

    /// A required `orderNumberList` of 1 to 100 strings.
    pub(super) fn order_numbers(&mut self, req: &Map<String, Value>) -> Option<Vec<String>> {
        match present(req, "orderNumberList") {
            None => {
                self.missing("orderNumberList");
                None
            }
            Some(Value::Array(list)) if list.is_empty() => {
                self.empty("orderNumberList");
                None
            }
            Some(Value::Array(list)) if list.len() > MAX_ORDER_NUMBERS => {
                self.error(
                    codes::TOO_MANY_ORDER_NUMBERS,
                    "orderNumberListは100件以内で指定して下さい。",
                );
                None
            }
            Some(Value::Array(list)) => {
                let numbers: Option<Vec<String>> = list
                    .iter()
                    .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                    .collect();
                if numbers.is_none() {
                    self.format("orderNumberList");
                }
                numbers
            }
            Some(_) => {
                self.format("orderNumberList");
                None
            }
        }
    }
}

/// A field that is there and not `null`.
pub(super) fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}
