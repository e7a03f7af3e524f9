//! The JSON of ItemAPI 2.0 `items.search` and Inventory API 2.0
//! `bulk-upsert` / `bulk-get`, as the contract gives it. Reading is lenient
//! where Rakuten leaves fields out (a deleted item comes back with its
//! `manageNumber` alone), strict where a value is used.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `mode` of an upsert entry. Only `ABSOLUTE` exists here: `RELATIVE` adds,
/// so a retry after a lost answer would apply it twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    #[serde(rename = "ABSOLUTE")]
    Absolute,
}

/// One entry of `POST /inventories/bulk-upsert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpsertEntry {
    #[serde(rename = "manageNumber")]
    pub manage_number: String,
    #[serde(rename = "variantId")]
    pub variant_id: String,
    pub mode: Mode,
    /// 0–99999.
    pub quantity: u32,
}

#[derive(Debug, Serialize)]
pub(super) struct UpsertRequest<'a> {
    pub inventories: &'a [UpsertEntry],
}

/// One pair asked of `POST /inventories/bulk-get`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PairRef {
    #[serde(rename = "manageNumber")]
    pub manage_number: String,
    #[serde(rename = "variantId")]
    pub variant_id: String,
}

#[derive(Debug, Serialize)]
pub(super) struct GetRequest<'a> {
    pub inventories: &'a [PairRef],
}

/// A pair Rakuten holds, with its quantity.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HeldQuantity {
    #[serde(rename = "manageNumber")]
    pub manage_number: String,
    #[serde(rename = "variantId")]
    pub variant_id: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize)]
pub(super) struct GetResponse {
    #[serde(default)]
    pub inventories: Vec<HeldQuantity>,
}

/// One page of `GET /items/search`.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchPage {
    #[serde(rename = "numFound", default)]
    pub num_found: u64,
    #[serde(rename = "nextCursorMark")]
    pub next_cursor_mark: String,
    #[serde(default)]
    pub results: Vec<SearchResult>,
}

/// One result of a page. Rakuten may leave `item` out: such a result
/// sells nothing and the rest of the page is read as usual.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchResult {
    #[serde(default)]
    pub item: Option<SearchItem>,
}

/// An item of the search; a deleted one has `manage_number` alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SearchItem {
    #[serde(rename = "manageNumber")]
    pub manage_number: String,
    #[serde(rename = "itemNumber", default)]
    pub item_number: Option<String>,
    /// `NORMAL`, `PRE_ORDER` (予約商品) or `BUYING_CLUB` (頒布会); absent on
    /// a deleted item.
    #[serde(rename = "itemType", default)]
    pub item_type: Option<String>,
    /// When the item was last edited in RMS, as Rakuten writes it: a
    /// refused entry is sent again only once this changes.
    #[serde(default)]
    pub updated: Option<String>,
    /// 在庫設定なし: there is no stock to push.
    #[serde(rename = "unlimitedInventoryFlag", default)]
    pub unlimited_inventory: bool,
    /// By `variantId`.
    #[serde(default)]
    pub variants: BTreeMap<String, SearchVariant>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SearchVariant {
    #[serde(rename = "merchantDefinedSkuId", default)]
    pub merchant_defined_sku_id: Option<String>,
}

/// `{"errors": [{"code", "message", "metadata": {"propertyPath"}}]}`.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorEntry {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub metadata: Option<ErrorMetadata>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorMetadata {
    #[serde(rename = "propertyPath", default)]
    pub property_path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upsert_entry_is_absolute_and_a_deleted_item_reads_with_its_number_alone() {
        let entry = UpsertEntry {
            manage_number: "mng1234".into(),
            variant_id: "sku1".into(),
            mode: Mode::Absolute,
            quantity: 70,
        };
        assert_eq!(
            serde_json::to_value(UpsertRequest {
                inventories: &[entry]
            })
            .unwrap(),
            serde_json::json!({"inventories": [
                {"manageNumber": "mng1234", "variantId": "sku1", "mode": "ABSOLUTE", "quantity": 70}
            ]})
        );
        let page: SearchPage = serde_json::from_value(serde_json::json!({
            "numFound": 2, "offset": 0, "nextCursorMark": "AoE1",
            "results": [
                {"item": {"manageNumber": "torimesi", "itemNumber": "torimesi", "title": "x",
                          "itemType": "NORMAL", "unlimitedInventoryFlag": false,
                          "variants": {"v1": {"merchantDefinedSkuId": "SKU-001", "hidden": false,
                                              "standardPrice": "5500"}}}},
                {"item": {"manageNumber": "gone"}},
                {}
            ]
        }))
        .unwrap();
        assert_eq!(
            page.results[0].item.as_ref().unwrap().variants["v1"]
                .merchant_defined_sku_id
                .as_deref(),
            Some("SKU-001")
        );
        assert_eq!(
            page.results[0].item.as_ref().unwrap().item_type.as_deref(),
            Some("NORMAL")
        );
        assert!(
            page.results[2].item.is_none(),
            "a result without item reads"
        );
        assert_eq!(
            page.results[1].item.clone().unwrap(),
            SearchItem {
                manage_number: "gone".into(),
                ..SearchItem::default()
            }
        );
    }
}
