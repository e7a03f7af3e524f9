//! The simulated J-goods catalog: the merchant's categories (category API)
//! and items (item-info API), from the contract's "Catalog" section
//! (`providers/jgoods.md`). Every check below is one the contract names;
//! where it is silent the simulator is strict and says so:
//! - on `POST`, `item_name` and `price` are required like `weight_g` (the
//!   contract names only `WEIGHT_REQUIRED`; a sale needs a name and a
//!   price); `tax_rate` defaults to 10;
//! - a field the contract does not name is refused (`INVALID_FIELD`), so a
//!   misspelt field never passes silently;
//! - `jan_code` is 8 or 13 digits (the JAN standard; the contract gives one
//!   13-digit example);
//! - a category with children is `CATEGORY_IN_USE` too, like one with items.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::requests::ApiError;

/// At most this many items or categories a call.
pub const MAX_PER_CALL: usize = 100;
/// Items a page of `search.json`.
pub const PAGE: usize = 100;

/// A category as J-goods holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCategory {
    /// `name`.
    pub name: String,
    /// `parent_code`: `None` for a top category.
    pub parent_code: Option<String>,
}

/// The catalog J-goods holds for the merchant.
#[derive(Debug, Default)]
pub struct Catalog {
    /// `category_code` → the category.
    pub categories: BTreeMap<String, SimCategory>,
    /// `item_code` → the item as registered (every field the contract names).
    pub items: BTreeMap<String, Map<String, Value>>,
    /// Whether the merchant's 古物 documents are on file (`used: true` allowed).
    pub used_allowed: bool,
}

fn bad(message: &str) -> ApiError {
    ApiError::bad_request("INVALID_REQUEST", message)
}

fn list<'a>(body: &'a Value, key: &str) -> Result<&'a Vec<Value>, ApiError> {
    let list = body
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| bad(&format!("{key} must be a list")))?;
    if list.len() > MAX_PER_CALL {
        return Err(ApiError::bad_request(
            "TOO_MANY_ITEMS",
            format!("at most {MAX_PER_CALL} a call"),
        ));
    }
    Ok(list)
}

fn item_error(code: &str, error: &str, field: Option<&str>) -> Value {
    match field {
        Some(f) => json!({"item_code": code, "code": error, "field": f}),
        None => json!({"item_code": code, "code": error}),
    }
}

fn is_https(v: &Value) -> bool {
    v.as_str()
        .and_then(|s| reqwest::Url::parse(s).ok())
        .is_some_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
}

impl Catalog {
    /// Why `fields` cannot be an item (on registration, `new`), if they cannot.
    fn refuse(
        &self,
        fields: &Map<String, Value>,
        new: bool,
    ) -> Option<(&'static str, Option<String>)> {
        let invalid = |f: &str| Some(("INVALID_FIELD", Some(f.to_string())));
        for (field, value) in fields {
            let ok = match field.as_str() {
                "item_code" => true,
                "item_name" => value
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty() && s.chars().count() <= 255),
                "price" => value.as_u64().is_some_and(|p| p >= 1),
                "tax_rate" => matches!(value.as_u64(), Some(8 | 10)),
                "category_code" => value.is_null() || value.is_string(),
                "description" => value.is_string() || value.is_null(),
                "jan_code" => {
                    value.is_null()
                        || value.as_str().is_some_and(|s| {
                            matches!(s.len(), 8 | 13) && s.bytes().all(|b| b.is_ascii_digit())
                        })
                }
                "weight_g" => value.is_null() || value.as_u64().is_some_and(|w| w >= 1),
                "used" | "on_sale" => value.is_boolean(),
                "images" => value
                    .as_array()
                    .is_some_and(|a| a.len() <= 10 && a.iter().all(is_https)),
                "stock" => value.as_u64().is_some(),
                _ => false,
            };
            if !ok {
                return invalid(field);
            }
        }
        if new
            && let Some(missing) = ["item_name", "price"]
                .iter()
                .find(|f| !fields.contains_key(**f))
        {
            return invalid(missing);
        }
        let weight = fields.get("weight_g");
        if (new && weight.is_none_or(Value::is_null)) || weight.is_some_and(Value::is_null) {
            return Some(("WEIGHT_REQUIRED", Some("weight_g".into())));
        }
        if fields.get("used") == Some(&Value::Bool(true)) && !self.used_allowed {
            return Some(("USED_NOT_ALLOWED", Some("used".into())));
        }
        if let Some(code) = fields.get("category_code").and_then(Value::as_str)
            && !self.categories.contains_key(code)
        {
            return Some(("CATEGORY_NOT_FOUND", Some("category_code".into())));
        }
        None
    }

    /// `POST /item.json` (`register`) or `PUT /item.json` (update by code).
    pub(crate) fn write_items(&mut self, body: &Value, register: bool) -> Result<Value, ApiError> {
        let mut updated = 0;
        let mut errors = Vec::new();
        for item in list(body, "items")? {
            let Some(fields) = item.as_object() else {
                return Err(bad("each item must be an object"));
            };
            let Some(code) = fields
                .get("item_code")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
            else {
                errors.push(
                    json!({"item_code": null, "code": "INVALID_FIELD", "field": "item_code"}),
                );
                continue;
            };
            let known = self.items.contains_key(code);
            let refusal = match (register, known) {
                (true, true) => Some(("ITEM_EXISTS", None)),
                (false, false) => Some(("ITEM_NOT_FOUND", None)),
                _ => self.refuse(fields, register),
            };
            if let Some((error, field)) = refusal {
                errors.push(item_error(code, error, field.as_deref()));
                continue;
            }
            let entry = self.items.entry(code.to_string()).or_default();
            if register {
                entry.insert("tax_rate".into(), json!(10));
                entry.insert("used".into(), json!(false));
                entry.insert("on_sale".into(), json!(true));
                entry.insert("stock".into(), json!(0));
            }
            for (k, v) in fields {
                entry.insert(k.clone(), v.clone());
            }
            updated += 1;
        }
        Ok(json!({"updated": updated, "errors": errors}))
    }

    /// `DELETE /item.json`: withdrawn from sale, gone from the catalog.
    pub(crate) fn delete_items_of(&mut self, body: &Value) -> Result<Value, ApiError> {
        let mut updated = 0;
        let mut errors = Vec::new();
        for code in list(body, "item_codes")? {
            let code = code
                .as_str()
                .ok_or_else(|| bad("item_codes must be strings"))?;
            match self.items.remove(code) {
                Some(_) => updated += 1,
                None => errors.push(item_error(code, "ITEM_NOT_FOUND", None)),
            }
        }
        Ok(json!({"updated": updated, "errors": errors}))
    }

    /// `GET /search.json?page=N` (from 1).
    pub(crate) fn search(&self, page: usize) -> Value {
        let items: Vec<Value> = self
            .items
            .values()
            .skip(page.saturating_sub(1) * PAGE)
            .take(PAGE)
            .map(|m| Value::Object(m.clone()))
            .collect();
        let next = (self.items.len() > page * PAGE).then_some(page + 1);
        json!({"items": items, "next_page": next})
    }

    /// `PUT /categories.json`: creates or updates, parents first.
    pub(crate) fn put_categories(&mut self, body: &Value) -> Result<Value, ApiError> {
        let mut updated = 0;
        let mut errors = Vec::new();
        for c in list(body, "categories")? {
            let code = c.get("category_code").and_then(Value::as_str).unwrap_or("");
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let parent = match c.get("parent_code") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(p)) => Ok(Some(p.clone())),
                Some(_) => Err(()),
            };
            let valid_code = !code.is_empty()
                && code.len() <= 32
                && code.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            let error = match parent {
                _ if !valid_code || name.trim().is_empty() => Some("INVALID"),
                Err(()) => Some("INVALID"),
                Ok(Some(p)) if !self.categories.contains_key(&p) => Some("PARENT_NOT_FOUND"),
                Ok(Some(p)) if self.would_cycle(code, &p) => Some("CYCLE"),
                Ok(parent_code) => {
                    self.categories.insert(
                        code.to_string(),
                        SimCategory {
                            name: name.to_string(),
                            parent_code,
                        },
                    );
                    updated += 1;
                    None
                }
            };
            if let Some(e) = error {
                errors.push(json!({"category_code": code, "code": e}));
            }
        }
        Ok(json!({"updated": updated, "errors": errors}))
    }

    /// Whether `code` under `parent` closes a loop.
    fn would_cycle(&self, code: &str, parent: &str) -> bool {
        let mut at = Some(parent.to_string());
        let mut steps = 0;
        while let Some(p) = at {
            if p == code || steps > self.categories.len() {
                return true;
            }
            at = self.categories.get(&p).and_then(|c| c.parent_code.clone());
            steps += 1;
        }
        false
    }

    /// `DELETE /categories.json`.
    pub(crate) fn delete_categories(&mut self, body: &Value) -> Result<Value, ApiError> {
        let mut updated = 0;
        let mut errors = Vec::new();
        for code in list(body, "category_codes")? {
            let code = code
                .as_str()
                .ok_or_else(|| bad("category_codes must be strings"))?;
            let in_use = self
                .items
                .values()
                .any(|i| i.get("category_code").and_then(Value::as_str) == Some(code))
                || self
                    .categories
                    .values()
                    .any(|c| c.parent_code.as_deref() == Some(code));
            let error = if !self.categories.contains_key(code) {
                Some("CATEGORY_NOT_FOUND")
            } else if in_use {
                Some("CATEGORY_IN_USE")
            } else {
                self.categories.remove(code);
                updated += 1;
                None
            };
            if let Some(e) = error {
                errors.push(json!({"category_code": code, "code": e}));
            }
        }
        Ok(json!({"updated": updated, "errors": errors}))
    }

    /// `GET /categories.json`.
    pub(crate) fn categories_json(&self) -> Value {
        let all: Vec<Value> = self
            .categories
            .iter()
            .map(|(code, c)| json!({"category_code": code, "name": c.name, "parent_code": c.parent_code}))
            .collect();
        json!({"categories": all})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str) -> Value {
        json!({"item_code": code, "item_name": "南部鉄器 急須", "price": 5500, "tax_rate": 10,
               "weight_g": 1200, "images": ["https://shop.example.jp/a.jpg"]})
    }

    fn codes(answer: &Value) -> Vec<(String, String)> {
        answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["code"].as_str().unwrap_or("").to_string(),
                    e["field"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn items_are_registered_only_when_the_contract_allows() {
        let mut c = Catalog::default();
        c.put_categories(
            &json!({"categories": [{"category_code": "tea", "name": "お茶", "parent_code": null}]}),
        )
        .unwrap();
        let mut no_weight = item("B");
        no_weight.as_object_mut().unwrap().remove("weight_g");
        let mut used = item("C");
        used["used"] = json!(true);
        let mut lost = item("D");
        lost["category_code"] = json!("nowhere");
        let mut http = item("E");
        http["images"] = json!(["http://shop.example.jp/a.jpg"]);
        let mut typo = item("F");
        typo["wieght_g"] = json!(1);
        let mut ok = item("A");
        ok["category_code"] = json!("tea");
        let answer = c
            .write_items(
                &json!({"items": [ok, no_weight, used, lost, http, typo, item("A")]}),
                true,
            )
            .unwrap();
        assert_eq!(answer["updated"], 1);
        let expected = [
            ("WEIGHT_REQUIRED", "weight_g"),
            ("USED_NOT_ALLOWED", "used"),
            ("CATEGORY_NOT_FOUND", "category_code"),
            ("INVALID_FIELD", "images"),
            ("INVALID_FIELD", "wieght_g"),
            ("ITEM_EXISTS", ""),
        ];
        let found = codes(&answer);
        assert_eq!(found.len(), expected.len(), "{answer}");
        for ((code, field), (c2, f2)) in found.iter().zip(expected) {
            assert_eq!((code.as_str(), field.as_str()), (c2, f2));
        }
        // An update names the fields it changes; the others stay.
        let answer = c
            .write_items(&json!({"items": [{"item_code": "A", "price": 6000}, {"item_code": "Z", "price": 1}]}), false)
            .unwrap();
        assert_eq!(
            codes(&answer),
            [("ITEM_NOT_FOUND".to_string(), String::new())]
        );
        assert_eq!(c.items["A"]["price"], 6000);
        assert_eq!(c.items["A"]["weight_g"], 1200);
        let answer = c
            .write_items(
                &json!({"items": [{"item_code": "A", "weight_g": null}]}),
                false,
            )
            .unwrap();
        assert_eq!(codes(&answer)[0].0, "WEIGHT_REQUIRED");
        c.used_allowed = true;
        let mut used = item("C");
        used["used"] = json!(true);
        assert_eq!(
            c.write_items(&json!({"items": [used]}), true).unwrap()["updated"],
            1
        );
    }

    #[test]
    fn categories_come_parent_first_never_in_a_loop() {
        let mut c = Catalog::default();
        let answer = c
            .put_categories(&json!({"categories": [
                {"category_code": "tea", "name": "お茶", "parent_code": null},
                {"category_code": "tea-pot", "name": "急須", "parent_code": "tea"},
                {"category_code": "orphan", "name": "x", "parent_code": "later"},
                {"category_code": "Bad Code", "name": "x", "parent_code": null},
            ]}))
            .unwrap();
        assert_eq!(answer["updated"], 2);
        let errors: Vec<String> = codes(&answer).into_iter().map(|(c, _)| c).collect();
        assert_eq!(errors, ["PARENT_NOT_FOUND", "INVALID"]);
        let answer = c
            .put_categories(&json!({"categories": [{"category_code": "tea", "name": "お茶", "parent_code": "tea-pot"}]}))
            .unwrap();
        assert_eq!(codes(&answer)[0].0, "CYCLE");
        let mut it = item("A");
        it["category_code"] = json!("tea-pot");
        c.write_items(&json!({"items": [it]}), true).unwrap();
        let answer = c
            .delete_categories(&json!({"category_codes": ["tea-pot", "tea"]}))
            .unwrap();
        let errors: Vec<String> = codes(&answer).into_iter().map(|(c, _)| c).collect();
        assert_eq!(errors, ["CATEGORY_IN_USE", "CATEGORY_IN_USE"]);
        assert!(
            c.put_categories(&json!({"categories": vec![json!({}); 101]}))
                .is_err()
        );
    }

    #[test]
    fn search_pages_by_a_hundred() {
        let mut c = Catalog::default();
        for chunk in 0..3 {
            let items: Vec<Value> = (0..100)
                .map(|i| item(&format!("S{:03}", chunk * 100 + i)))
                .collect();
            c.write_items(&json!({"items": items}), true).unwrap();
        }
        c.delete_items_of(&json!({"item_codes": ["S000"]})).unwrap();
        assert_eq!(c.search(1)["next_page"], 2);
        assert_eq!(c.search(3)["items"].as_array().unwrap().len(), 99);
        assert!(c.search(3)["next_page"].is_null());
    }
}
