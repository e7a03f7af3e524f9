//! The catalog calls: the category API and the item-info API beyond the
//! stock push (register, update the fields that changed, withdraw, read).

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ApiRequest, JgoodsClient, join, to_json};
use crate::call::CallError;
use crate::providers::http_client;

/// At most this many items or categories a call (the contract).
pub const MAX_PER_CALL: usize = 100;

/// J-goods' answer to a catalog write: how many it took, and why it
/// refused the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CatalogAnswer {
    #[serde(default)]
    pub updated: u32,
    #[serde(default)]
    pub errors: Vec<CatalogRefusal>,
}

/// One refused item or category.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogRefusal {
    /// `item_code` or `category_code`, whichever the call was about.
    #[serde(rename = "item_code", alias = "category_code", default)]
    pub subject: Option<String>,
    /// `WEIGHT_REQUIRED`, `USED_NOT_ALLOWED`, `CATEGORY_NOT_FOUND`,
    /// `INVALID_FIELD`, `ITEM_EXISTS`, `ITEM_NOT_FOUND`, `PARENT_NOT_FOUND`, …
    #[serde(rename = "code")]
    pub error: String,
    pub field: Option<String>,
}

/// One page of the items J-goods holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemPage {
    pub items: Vec<Map<String, Value>>,
    pub next_page: Option<u32>,
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    items: Vec<Map<String, Value>>,
    next_page: Option<u32>,
}

#[derive(Deserialize)]
struct RawCategories {
    #[serde(default)]
    categories: Vec<Map<String, Value>>,
}

impl JgoodsClient {
    /// `POST /item.json` (`register`) or `PUT /item.json`: each item's
    /// fields as given (an update names only what changed).
    pub async fn write_items(
        &self,
        items: &[Map<String, Value>],
        register: bool,
    ) -> Result<CatalogAnswer, CallError> {
        let method = if register { Method::POST } else { Method::PUT };
        let url = join(&self.inner.item_base, "item.json");
        self.catalog_write(method, url, json!({ "items": items }), items.len())
            .await
    }

    /// `DELETE /item.json`: withdraws the items from sale.
    pub async fn delete_items(&self, codes: &[String]) -> Result<CatalogAnswer, CallError> {
        let url = join(&self.inner.item_base, "item.json");
        self.catalog_write(
            Method::DELETE,
            url,
            json!({ "item_codes": codes }),
            codes.len(),
        )
        .await
    }

    /// `PUT /categories.json`, parents before children as given.
    pub async fn put_categories(
        &self,
        categories: &[Map<String, Value>],
    ) -> Result<CatalogAnswer, CallError> {
        let url = join(&self.inner.category_base, "categories.json");
        self.catalog_write(
            Method::PUT,
            url,
            json!({ "categories": categories }),
            categories.len(),
        )
        .await
    }

    /// `GET /search.json?page=N`: one page of the items J-goods holds.
    pub async fn search_items(&self, page: u32) -> Result<ItemPage, CallError> {
        let mut url = join(&self.inner.item_base, "search.json");
        url.query_pairs_mut().append_pair("page", &page.to_string());
        let answer = self
            .call(&ApiRequest {
                method: Method::GET,
                url,
                body: None,
            })
            .await?;
        let page: RawPage = serde_json::from_slice(&answer.body).map_err(|e| {
            CallError::transient(format!("J-goods answered search.json unreadably: {e}"))
        })?;
        Ok(ItemPage {
            items: page.items,
            next_page: page.next_page,
        })
    }

    /// `GET /categories.json`: the merchant's categories as J-goods holds them.
    pub async fn get_categories(&self) -> Result<Vec<Map<String, Value>>, CallError> {
        let answer = self
            .call(&ApiRequest {
                method: Method::GET,
                url: join(&self.inner.category_base, "categories.json"),
                body: None,
            })
            .await?;
        let all: RawCategories = serde_json::from_slice(&answer.body).map_err(|e| {
            CallError::transient(format!("J-goods answered categories.json unreadably: {e}"))
        })?;
        Ok(all.categories)
    }

    async fn catalog_write(
        &self,
        method: Method,
        url: reqwest::Url,
        body: Value,
        count: usize,
    ) -> Result<CatalogAnswer, CallError> {
        if count > MAX_PER_CALL {
            return Err(http_client::not_sent(
                "TOO_MANY_ITEMS",
                format!("{count} in one call; J-goods takes at most {MAX_PER_CALL}"),
            ));
        }
        if count == 0 {
            return Ok(CatalogAnswer::default());
        }
        let request = ApiRequest {
            method,
            url,
            body: Some(to_json(&body)?),
        };
        let answer = self.call(&request).await?;
        serde_json::from_slice(&answer.body).map_err(|e| {
            CallError::transient(format!("J-goods answered the catalog call unreadably: {e}"))
        })
    }
}
