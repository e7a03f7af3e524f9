//! The shop's items as RMS holds them and the JSON of the Inventory API and
//! ItemAPI answers (`rakuten-inventory.md`), in Rakuten's own names.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::Listed;
use crate::rakuten_pay::wire::dates::format_rfc3339_jst;

/// `itemType` of an item (`rakuten-inventory.md`, items.search).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ItemType {
    /// 通常商品.
    #[serde(rename = "NORMAL")]
    Normal,
    /// 予約商品: a pre-order item.
    #[serde(rename = "PRE_ORDER")]
    PreOrder,
    /// 頒布会: a subscription item.
    #[serde(rename = "BUYING_CLUB")]
    BuyingClub,
}

/// One variant (SKU) of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogVariant {
    /// システム連携用SKU番号, usually the merchant's own SKU.
    pub merchant_defined_sku_id: Option<String>,
    /// Not shown to buyers.
    pub hidden: bool,
    /// A cancelled order gives its units back.
    pub restock_on_cancel: bool,
    /// Orders beyond the quantity are taken (back order).
    pub back_order: bool,
    /// Price in yen.
    pub standard_price: i64,
}

/// One item (商品) as registered in RMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    /// 商品管理番号 (lower case).
    pub manage_number: String,
    /// 商品番号.
    pub item_number: String,
    /// The item's title.
    pub title: String,
    /// Normal, pre-order or subscription.
    pub item_type: ItemType,
    /// The whole item is hidden from buyers.
    pub hide_item: bool,
    /// 在庫設定なし: no stock is kept for it.
    pub unlimited_inventory: bool,
    /// By `variantId`.
    pub variants: BTreeMap<String, CatalogVariant>,
}

impl CatalogItem {
    /// A normal item with one variant per `(variantId, merchant SKU)`, restocked
    /// on cancel, no back orders, 1,000 yen.
    pub fn new(manage_number: &str, variants: &[(&str, &str)]) -> CatalogItem {
        CatalogItem {
            manage_number: manage_number.to_ascii_lowercase(),
            item_number: manage_number.to_string(),
            title: format!("商品 {manage_number}"),
            item_type: ItemType::Normal,
            hide_item: false,
            unlimited_inventory: false,
            variants: variants
                .iter()
                .map(|(id, sku)| {
                    let variant = CatalogVariant {
                        merchant_defined_sku_id: (!sku.is_empty()).then(|| sku.to_string()),
                        hidden: false,
                        restock_on_cancel: true,
                        back_order: false,
                        standard_price: 1000,
                    };
                    (id.to_string(), variant)
                })
                .collect(),
        }
    }
}

/// One page of `GET /items/search`.
#[derive(Debug, Serialize)]
pub(super) struct SearchAnswer<'a> {
    #[serde(rename = "numFound")]
    pub num_found: usize,
    #[serde(rename = "offset")]
    pub offset: usize,
    /// The end is a mark equal to the one sent.
    #[serde(rename = "nextCursorMark")]
    pub next_cursor_mark: String,
    #[serde(rename = "results")]
    pub results: Vec<SearchResult<'a>>,
}

/// One entry of `results`.
#[derive(Debug, Serialize)]
pub(super) struct SearchResult<'a> {
    /// Absent from a result the simulator lists without its item.
    #[serde(rename = "item", skip_serializing_if = "Option::is_none")]
    pub item: Option<SearchItem<'a>>,
}

/// An item of the search; a deleted one comes back with its
/// `manageNumber` alone (`rakuten-inventory.md`, items.search).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum SearchItem<'a> {
    Live(Box<LiveItem<'a>>),
    Deleted {
        #[serde(rename = "manageNumber")]
        manage_number: &'a str,
    },
}

#[derive(Debug, Serialize)]
pub(super) struct LiveItem<'a> {
    #[serde(rename = "manageNumber")]
    manage_number: &'a str,
    #[serde(rename = "itemNumber")]
    item_number: &'a str,
    #[serde(rename = "title")]
    title: &'a str,
    #[serde(rename = "itemType")]
    item_type: ItemType,
    #[serde(rename = "hideItem")]
    hide_item: bool,
    #[serde(rename = "unlimitedInventoryFlag")]
    unlimited_inventory_flag: bool,
    /// By `variantId`.
    #[serde(rename = "variants")]
    variants: BTreeMap<&'a str, SearchVariant<'a>>,
    #[serde(rename = "created", serialize_with = "rfc3339")]
    created: DateTime<FixedOffset>,
    #[serde(rename = "updated", serialize_with = "rfc3339")]
    updated: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize)]
struct SearchVariant<'a> {
    #[serde(
        rename = "merchantDefinedSkuId",
        skip_serializing_if = "Option::is_none"
    )]
    merchant_defined_sku_id: Option<&'a str>,
    #[serde(rename = "hidden")]
    hidden: bool,
    #[serde(rename = "restockOnCancel")]
    restock_on_cancel: bool,
    #[serde(rename = "backOrderFlag")]
    back_order_flag: bool,
    /// A string of yen (`"5500"`), as the contract shows it.
    #[serde(rename = "standardPrice")]
    standard_price: String,
}

/// The search's view of a listed item.
pub(super) fn search_item(l: &Listed) -> SearchItem<'_> {
    if l.deleted_at.is_some() {
        return SearchItem::Deleted {
            manage_number: &l.item.manage_number,
        };
    }
    let item = &l.item;
    let variants = item
        .variants
        .iter()
        .map(|(id, v)| {
            let variant = SearchVariant {
                merchant_defined_sku_id: v.merchant_defined_sku_id.as_deref(),
                hidden: v.hidden,
                restock_on_cancel: v.restock_on_cancel,
                back_order_flag: v.back_order,
                standard_price: v.standard_price.to_string(),
            };
            (id.as_str(), variant)
        })
        .collect();
    SearchItem::Live(Box::new(LiveItem {
        manage_number: &item.manage_number,
        item_number: &item.item_number,
        title: &item.title,
        item_type: item.item_type,
        hide_item: item.hide_item,
        unlimited_inventory_flag: item.unlimited_inventory,
        variants,
        created: l.created,
        updated: l.updated,
    }))
}

/// `POST /inventories/bulk-get`'s answer.
#[derive(Debug, Serialize)]
pub(super) struct HeldAnswer<'a> {
    #[serde(rename = "inventories")]
    pub inventories: Vec<HeldEntry<'a>>,
}

/// A pair Rakuten holds, with its quantity.
#[derive(Debug, Serialize)]
pub(super) struct HeldEntry<'a> {
    #[serde(rename = "manageNumber")]
    pub manage_number: &'a str,
    #[serde(rename = "variantId")]
    pub variant_id: &'a str,
    #[serde(rename = "quantity")]
    pub quantity: i64,
    #[serde(rename = "created", serialize_with = "rfc3339")]
    pub created: DateTime<FixedOffset>,
    #[serde(rename = "updated", serialize_with = "rfc3339")]
    pub updated: DateTime<FixedOffset>,
}

/// The Inventory API's error body (`rakuten-inventory.md`, Transport):
/// `{"errors": [{"code", "message", "metadata": {"propertyPath"}}]}`.
#[derive(Debug, Serialize)]
pub(super) struct ErrorBody<'a> {
    #[serde(rename = "errors")]
    pub errors: [ErrorEntry<'a>; 1],
}

#[derive(Debug, Serialize)]
pub(super) struct ErrorEntry<'a> {
    #[serde(rename = "code")]
    pub code: &'a str,
    #[serde(rename = "message")]
    pub message: &'a str,
    #[serde(rename = "metadata")]
    pub metadata: ErrorMetadata<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct ErrorMetadata<'a> {
    /// The entry and field refused, e.g. `inventories[17].quantity`.
    #[serde(rename = "propertyPath")]
    pub property_path: &'a str,
}

fn rfc3339<S: serde::Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_rfc3339_jst(t))
}

/// Cursors are opaque at Rakuten; here the hex of the last manage number seen.
pub(super) fn encode_cursor(manage_number: &str) -> String {
    let hex: String = manage_number.bytes().map(|b| format!("{b:02x}")).collect();
    format!("AoE{hex}")
}

/// The manage number a cursor of [`encode_cursor`] carries.
pub(super) fn decode_cursor(cursor: &str) -> Option<String> {
    let hex = cursor.strip_prefix("AoE")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}
