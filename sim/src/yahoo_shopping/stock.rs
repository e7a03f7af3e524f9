//! The store's stock and `getStock`/`setStock` (`yahoo-shopping.md`,
//! "getStock / setStock"): form posts of up to 1000 codes, `n` sets and
//! `+n`/`-n` adds (a `+` sent unencoded arrives as a space, and the value
//! is then read as an absolute quantity: the stock is set, not added),
//! a row's error answered with HTTP 207, and the trap: a code Yahoo! does not
//! know is accepted with a 200, its quantity kept and bound to the item when
//! the store registers it later; getStock says `Status 0` until then.
//! An empty `Quantity` is unlimited stock.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, FixedOffset};

use super::settings::Settings;
use super::xml::{self, Doc};
use crate::kuroneko::wire::{Form, form_value};

/// The most codes one call takes \[doc\].
pub const MAX_CODES: usize = 1000;

/// The largest quantity, either sign \[doc\].
pub const MAX_QUANTITY: i64 = 999_999_999;

/// One code's stock at Yahoo!.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRow {
    /// `None`: unlimited (empty `Quantity`).
    pub quantity: Option<i64>,
    /// `AllowOverdraft`.
    pub allow_overdraft: bool,
    /// `StockClose` (在庫クローズ).
    pub stock_close: bool,
    /// `UpdateTime`.
    pub update_time: DateTime<FixedOffset>,
}

/// Registered items' stock, and what setStock stored for codes no item has.
#[derive(Debug, Default)]
pub(crate) struct Stock {
    pub(crate) items: BTreeMap<String, StockRow>,
    pub(crate) unbound: BTreeMap<String, StockRow>,
}

/// A stock answer: status and XML.
#[derive(Debug)]
pub(crate) struct StockAnswer {
    pub(crate) status: u16,
    pub(crate) body: String,
}

fn whole_error(settings: &Settings, code: &str, message: &str) -> StockAnswer {
    StockAnswer {
        status: settings.stock_request_error_status,
        body: xml::error_doc(message, Some(code), true),
    }
}

/// `code` or `code:subcode`, letters, digits and `-`, each part ≤ 99.
fn valid_code(code: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty() && p.len() <= 99 && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    match code.split_once(':') {
        Some((item, sub)) => part(item) && part(sub),
        None => part(code),
    }
}

/// `ItemCode` and `SubCode` of a key.
fn split(code: &str) -> (&str, &str) {
    code.split_once(':').unwrap_or((code, ""))
}

/// A per-code list that must have one value per code (or one value for all,
/// when `single_ok`).
fn per_code(value: Option<&str>, n: usize, single_ok: bool) -> Option<Vec<Option<&str>>> {
    match value {
        None => Some(vec![None; n]),
        Some(v) => {
            let parts: Vec<&str> = v.split(',').collect();
            if parts.len() == n {
                Some(parts.into_iter().map(Some).collect())
            } else if single_ok && parts.len() == 1 {
                Some(vec![Some(parts[0]); n])
            } else {
                None
            }
        }
    }
}

/// A quantity change: absolute or relative.
#[derive(Debug, Clone, Copy)]
enum Change {
    Set(i64),
    Add(i64),
}

fn parse_quantity(text: &str) -> Option<Change> {
    let digits = |s: &str| {
        (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    if let Some(rest) = text.strip_prefix('+') {
        digits(rest).map(Change::Add)
    } else if let Some(rest) = text.strip_prefix('-') {
        digits(rest).map(|n| Change::Add(-n))
    } else {
        digits(text).map(Change::Set)
    }
}

impl Stock {
    /// Checks `seller_id` and `item_code` as both calls do; the codes.
    fn codes(
        settings: &Settings,
        seller_id: &str,
        form: &Form,
    ) -> Result<Vec<String>, StockAnswer> {
        let seller_ok = form_value(form, "seller_id").is_some_and(|s| s == seller_id);
        if !seller_ok {
            return Err(whole_error(settings, "st-02100", "seller_id is invalid."));
        }
        let raw = form_value(form, "item_code").unwrap_or("");
        let codes: Vec<String> = raw.split(',').map(|c| c.trim().to_string()).collect();
        if raw.trim().is_empty() || !codes.iter().all(|c| valid_code(c)) {
            return Err(whole_error(
                settings,
                "st-02101",
                "item_code() is invalid format.",
            ));
        }
        if codes.len() > MAX_CODES {
            return Err(whole_error(settings, "st-02102", "item_code is too many."));
        }
        let mut seen = HashSet::new();
        if !codes.iter().all(|c| seen.insert(c.as_str())) {
            return Err(whole_error(
                settings,
                "st-02103",
                "item_code is duplicated.",
            ));
        }
        Ok(codes)
    }

    /// `POST getStock`.
    pub(crate) fn get(&self, settings: &Settings, seller_id: &str, form: &Form) -> StockAnswer {
        let codes = match Stock::codes(settings, seller_id, form) {
            Ok(codes) => codes,
            Err(refusal) => return refusal,
        };
        let found = codes.iter().filter(|c| self.items.contains_key(*c)).count();
        let mut doc = Doc::new();
        doc.open(
            "ResultSet",
            &[
                ("totalResultsAvailable", codes.len().to_string()),
                ("totalResultsReturned", codes.len().to_string()),
                ("firstResultPosition", "1".into()),
                ("ok", found.to_string()),
                ("ng", (codes.len() - found).to_string()),
            ],
        );
        for code in &codes {
            let (item, sub) = split(code);
            doc.open("Result", &[])
                .leaf("ItemCode", item)
                .leaf("SubCode", sub);
            match self.items.get(code) {
                Some(row) => {
                    let quantity = row.quantity.map(|q| q.to_string()).unwrap_or_default();
                    doc.leaf("Status", "1")
                        .leaf("Quantity", &quantity)
                        .leaf(
                            "AllowOverdraft",
                            if row.allow_overdraft { "1" } else { "0" },
                        )
                        .leaf("IsPublished", "1")
                        .leaf("UpdateTime", &xml::iso_offset(row.update_time))
                        .leaf("StockClose", if row.stock_close { "1" } else { "0" });
                }
                None => {
                    doc.leaf("Status", "0");
                }
            }
            doc.close("Result");
        }
        StockAnswer {
            status: 200,
            body: doc.close("ResultSet").finish(),
        }
    }

    /// `POST setStock`; with `read_back_fails` every row is applied but
    /// answered `ed-10002` (207), as when Yahoo! cannot read it back.
    pub(crate) fn set(
        &mut self,
        settings: &Settings,
        seller_id: &str,
        form: &Form,
        now: DateTime<FixedOffset>,
        read_back_fails: bool,
    ) -> StockAnswer {
        let codes = match Stock::codes(settings, seller_id, form) {
            Ok(codes) => codes,
            Err(refusal) => return refusal,
        };
        let n = codes.len();
        let quantities = form_value(form, "quantity").and_then(|q| per_code(Some(q), n, false));
        let Some(quantities) = quantities else {
            return whole_error(
                settings,
                "st-02105",
                "quantity count does not match item_code.",
            );
        };
        let Some(overdrafts) = per_code(form_value(form, "allow_overdraft"), n, false) else {
            return whole_error(
                settings,
                "st-02106",
                "allow_overdraft count does not match item_code.",
            );
        };
        let Some(closes) = per_code(form_value(form, "stock_close"), n, true) else {
            return whole_error(settings, "st-02101", "stock_close is invalid.");
        };
        // Decide every row first: a relative result out of range fails the
        // whole call, nothing applied.
        let mut rows: Vec<(String, Result<StockRow, Vec<&'static str>>)> = Vec::with_capacity(n);
        for (i, code) in codes.iter().enumerate() {
            let current = self
                .items
                .get(code)
                .or_else(|| self.unbound.get(code))
                .cloned();
            let mut errors = Vec::new();
            let change = match quantities[i].map(str::trim) {
                Some(q) => parse_quantity(q).or_else(|| {
                    errors.push("st-02104");
                    None
                }),
                None => {
                    errors.push("st-02104");
                    None
                }
            };
            let overdraft = match overdrafts[i].map(str::trim) {
                None => current.as_ref().is_some_and(|r| r.allow_overdraft),
                Some("0") => false,
                Some("1") => true,
                Some(_) => {
                    errors.push("st-02107");
                    false
                }
            };
            let close = match closes[i].map(str::trim) {
                Some("0") => false,
                _ => current.as_ref().is_some_and(|r| r.stock_close),
            };
            if !errors.is_empty() {
                rows.push((code.clone(), Err(errors)));
                continue;
            }
            let quantity = match (change, current.as_ref().map(|r| r.quantity)) {
                (Some(Change::Set(q)), _) => Some(q),
                // Relative on unlimited stock stays unlimited \[guess\].
                (Some(Change::Add(_)), Some(None)) => None,
                (Some(Change::Add(d)), previous) => {
                    let base = previous.flatten().unwrap_or(0);
                    match base.checked_add(d).filter(|q| q.abs() <= MAX_QUANTITY) {
                        Some(q) => Some(q),
                        None => {
                            return whole_error(settings, "st-02104", "quantity is out of range.");
                        }
                    }
                }
                (None, _) => None,
            };
            let row = StockRow {
                quantity,
                allow_overdraft: overdraft,
                stock_close: close,
                update_time: now,
            };
            rows.push((code.clone(), Ok(row)));
        }
        let mut failed = false;
        let mut doc = Doc::new();
        doc.open(
            "ResultSet",
            &[
                ("totalResultsAvailable", n.to_string()),
                ("totalResultsReturned", n.to_string()),
                ("firstResultPosition", "1".into()),
            ],
        );
        for (code, row) in rows {
            let (item, sub) = split(&code);
            doc.open("Result", &[])
                .leaf("ItemCode", item)
                .leaf("SubCode", sub);
            match row {
                Ok(row) if read_back_fails => {
                    failed = true;
                    doc.leaf("Quantity", "").leaf("ErrorCode", "ed-10002");
                    self.store(code, row);
                }
                Ok(row) => {
                    let quantity = row.quantity.map(|q| q.to_string()).unwrap_or_default();
                    doc.leaf("Quantity", &quantity);
                    self.store(code, row);
                }
                Err(errors) => {
                    failed = true;
                    doc.leaf("Quantity", "")
                        .leaf("ErrorCode", &errors.join(","));
                }
            }
            doc.close("Result");
        }
        StockAnswer {
            status: if failed { 207 } else { 200 },
            body: doc.close("ResultSet").finish(),
        }
    }

    /// A row setStock applied: on the item, or kept for a code no item has.
    fn store(&mut self, code: String, row: StockRow) {
        match self.items.get_mut(&code) {
            Some(known) => *known = row,
            None => {
                self.unbound.insert(code, row);
            }
        }
    }

    /// The store registers an item (`code` or `code:subcode`) in
    /// ストアクリエイターPro with `quantity` (`None`: unlimited): a quantity
    /// setStock stored for the code before binds to it.
    pub(crate) fn register(
        &mut self,
        code: &str,
        quantity: Option<i64>,
        now: DateTime<FixedOffset>,
    ) {
        let row = self.unbound.remove(code).unwrap_or(StockRow {
            quantity,
            allow_overdraft: false,
            stock_close: false,
            update_time: now,
        });
        self.items.insert(code.to_string(), row);
    }

    /// Yahoo! lowers its own stock for its own order: `quantity` of `code`,
    /// not below zero unless overdraft is allowed.
    pub(crate) fn take(&mut self, code: &str, quantity: u32, now: DateTime<FixedOffset>) {
        if let Some(row) = self.items.get_mut(code)
            && let Some(q) = row.quantity
        {
            let left = q.saturating_sub(i64::from(quantity));
            row.quantity = Some(if row.allow_overdraft {
                left
            } else {
                left.max(0)
            });
            row.update_time = now;
        }
    }
}
