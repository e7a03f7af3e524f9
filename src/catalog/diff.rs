//! What differs between the product master and what J-goods holds (pure):
//! `ordersync jgoods catalog diff` shows it, `--apply` sends it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Category, Item};

/// The differences, each list sorted by code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CatalogDiff {
    /// In the master, not at J-goods.
    pub missing: Vec<String>,
    /// At J-goods with other values: `(sku, fields that differ)`.
    pub differing: Vec<(String, Vec<String>)>,
    /// At J-goods, not in the master (never withdrawn implicitly).
    pub only_at_jgoods: Vec<String>,
    /// Categories missing at J-goods or held with another name or parent.
    pub categories: Vec<String>,
    /// Categories at J-goods the master does not have.
    pub categories_only_at_jgoods: Vec<String>,
}

impl CatalogDiff {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.differing.is_empty()
            && self.only_at_jgoods.is_empty()
            && self.categories.is_empty()
            && self.categories_only_at_jgoods.is_empty()
    }
}

/// Compares the master with J-goods' items (`item_code` → fields) and
/// categories (as `categories.json` gives them). `stock` is the stock push's
/// business and is not compared.
pub fn diff(
    items: &[Item],
    held: &BTreeMap<String, Map<String, Value>>,
    categories: &[Category],
    held_categories: &[Map<String, Value>],
) -> CatalogDiff {
    let mut d = CatalogDiff::default();
    for item in items {
        let Some(there) = held.get(&item.sku) else {
            d.missing.push(item.sku.clone());
            continue;
        };
        let fields: Vec<String> = item
            .wire()
            .into_iter()
            .filter(|(k, v)| there.get(k).unwrap_or(&Value::Null) != v)
            .map(|(k, _)| k)
            .collect();
        if !fields.is_empty() {
            d.differing.push((item.sku.clone(), fields));
        }
    }
    let mine: std::collections::HashSet<&str> = items.iter().map(|i| i.sku.as_str()).collect();
    d.only_at_jgoods = held
        .keys()
        .filter(|k| !mine.contains(k.as_str()))
        .cloned()
        .collect();
    let theirs: BTreeMap<&str, (&Value, &Value)> = held_categories
        .iter()
        .filter_map(|c| {
            let code = c.get("category_code")?.as_str()?;
            Some((
                code,
                (
                    c.get("name").unwrap_or(&Value::Null),
                    c.get("parent_code").unwrap_or(&Value::Null),
                ),
            ))
        })
        .collect();
    for c in categories {
        let same = theirs.get(c.code.as_str()).is_some_and(|(name, parent)| {
            name.as_str() == Some(c.name.as_str()) && parent.as_str() == c.parent_code.as_deref()
        });
        if !same {
            d.categories.push(c.code.clone());
        }
    }
    let codes: std::collections::HashSet<&str> =
        categories.iter().map(|c| c.code.as_str()).collect();
    d.categories_only_at_jgoods = theirs
        .keys()
        .filter(|k| !codes.contains(*k))
        .map(|k| k.to_string())
        .collect();
    d.missing.sort();
    d.differing.sort();
    d.categories.sort();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sku: &str, price: u32) -> Item {
        Item {
            sku: sku.into(),
            name: "急須".into(),
            price,
            tax_rate: 10,
            jan_code: None,
            weight_g: Some(1200),
            category_code: None,
            description: None,
            images: vec![],
            used: false,
            on_sale: true,
            seller: None,
        }
    }

    #[test]
    fn missing_differing_and_extra_items_are_told_apart() {
        let mut held = BTreeMap::new();
        let mut a = item("A", 5500).wire();
        a.insert("stock".into(), 3.into());
        held.insert("A".to_string(), a);
        held.insert("B".to_string(), item("B", 1000).wire());
        held.insert("Z".to_string(), item("Z", 1).wire());
        let d = diff(
            &[item("A", 5500), item("B", 1200), item("C", 1)],
            &held,
            &[],
            &[],
        );
        assert_eq!(d.missing, ["C"]);
        assert_eq!(d.differing, [("B".to_string(), vec!["price".to_string()])]);
        assert_eq!(d.only_at_jgoods, ["Z"]);
        let same = diff(&[item("A", 5500)], &held, &[], &[]);
        assert!(same.missing.is_empty() && same.differing.is_empty());
    }
}
