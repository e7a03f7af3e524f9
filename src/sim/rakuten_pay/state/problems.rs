//! The ERROR messages of the order API: `ORDER_EXT_API_<ENDPOINT>_ERROR_<nnn>`
//! with `_009` (required item missing), `_010` (empty) and `_011` (bad
//! format), and the checks of the fields several endpoints share.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::{MAX_ORDER_NUMBERS, MAX_PAGE_SIZE};
use crate::channels::rakuten_pay::wire::{MESSAGE_ERROR, RakutenMessage, parse_jst_strict};

/// Collects ERROR messages for one endpoint (`ORDER_EXT_API_<endpoint>_…`).
#[derive(Debug)]
pub(super) struct Problems {
    endpoint: &'static str,
    pub list: Vec<RakutenMessage>,
}

impl Problems {
    pub(super) fn new(endpoint: &'static str) -> Self {
        Problems {
            endpoint,
            list: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(super) fn code(&self, kind: &str, n: u16) -> String {
        format!("ORDER_EXT_API_{}_{kind}_{n:03}", self.endpoint)
    }

    pub(super) fn push(&mut self, kind: &str, code: String, text: String) {
        self.list.push(RakutenMessage::new(kind, &code, &text));
    }

    pub(super) fn error(&mut self, n: u16, text: &str) {
        let code = self.code(MESSAGE_ERROR, n);
        self.push(MESSAGE_ERROR, code, text.to_string());
    }

    /// `_009`: a required item is missing.
    pub(super) fn missing(&mut self, field: &str) {
        self.error(9, &format!("{field}の項目を指定して下さい。"));
    }

    /// `_010`: a required item is empty.
    pub(super) fn empty(&mut self, field: &str) {
        self.error(10, &format!("{field}の値を指定して下さい。"));
    }

    /// `_011`: bad format.
    pub(super) fn format(&mut self, field: &str) {
        self.error(11, &format!("{field}の書式が不正です。"));
    }

    /// An error about one shipping row.
    pub(super) fn row(&mut self, data_number: u32, id: Option<i64>, n: u16, text: &str) {
        let mut m = RakutenMessage::new(MESSAGE_ERROR, &self.code(MESSAGE_ERROR, n), text);
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
                let t = parse_jst_strict(s);
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
            return (30, 1, false);
        };
        let Some(model) = model.as_object() else {
            self.format("PaginationRequestModel");
            return (30, 1, false);
        };
        let size = match present(model, "requestRecordsAmount") {
            None => {
                self.missing("requestRecordsAmount");
                30
            }
            Some(v) => match v.as_u64().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)) {
                Some(n) => n,
                None => {
                    self.format("requestRecordsAmount");
                    30
                }
            },
        };
        let page = match present(model, "requestPage") {
            None => {
                self.missing("requestPage");
                1
            }
            Some(v) => match v.as_u64().filter(|n| *n >= 1) {
                Some(n) => n,
                None => {
                    self.format("requestPage");
                    1
                }
            },
        };
        let mut descending = false;
        if let Some(sorts) = present(model, "SortModelList") {
            match sorts.as_array() {
                None => self.format("SortModelList"),
                Some(list) => {
                    for sort in list {
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
                self.error(12, "orderNumberListは100件以内で指定して下さい。");
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
