//! The merchant's product master: the items (and their categories) J-goods
//! sells abroad, imported from the ERP's files and kept in step with J-goods
//! through the item-info and category APIs (`providers/jgoods.md`, "Catalog").

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod categories;
pub mod diff;
pub mod master;
pub mod plan;

/// One item of the master, as J-goods is told of it (the stock aside: the
/// stock push keeps that).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub sku: String,
    pub name: String,
    /// Yen, tax included.
    pub price: u32,
    /// 8 or 10.
    pub tax_rate: u8,
    pub jan_code: Option<String>,
    /// Grams; J-goods refuses an item without it (international postage).
    pub weight_g: Option<u32>,
    pub category_code: Option<String>,
    pub description: Option<String>,
    /// https URLs, at most 10.
    pub images: Vec<String>,
    /// 古物 (second-hand).
    pub used: bool,
    pub on_sale: bool,
    /// 出品者コード: the seller of the item (KOMOJU Platform Model); not
    /// J-goods' business, so not in [`Item::wire`] nor the hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
}

/// One category of the master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
}

/// A row of a master file that cannot be taken, where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct MasterError {
    /// 1-based line of the CSV file, or 1-based element of a JSON array.
    pub line: usize,
    /// The column's header (or the JSON key).
    pub column: String,
    pub message: String,
}

impl Item {
    /// The item's fields as J-goods' `<item>` names them (no `stock`).
    pub fn wire(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let mut m = serde_json::Map::new();
        m.insert("item_code".into(), json!(self.sku));
        m.insert("item_name".into(), json!(self.name));
        m.insert("price".into(), json!(self.price));
        m.insert("tax_rate".into(), json!(self.tax_rate));
        m.insert("category_code".into(), json!(self.category_code));
        m.insert("description".into(), json!(self.description));
        m.insert("jan_code".into(), json!(self.jan_code));
        m.insert("weight_g".into(), json!(self.weight_g));
        m.insert("used".into(), json!(self.used));
        m.insert("images".into(), json!(self.images));
        m.insert("on_sale".into(), json!(self.on_sale));
        m
    }

    /// The content's hash: equal hashes, nothing to send.
    pub fn hash(&self) -> String {
        digest(&serde_json::Value::Object(self.wire()).to_string())
    }
}

impl Category {
    pub fn hash(&self) -> String {
        digest(&format!(
            "{}\u{0}{}\u{0}{}",
            self.code,
            self.name,
            self.parent_code.as_deref().unwrap_or("")
        ))
    }
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
