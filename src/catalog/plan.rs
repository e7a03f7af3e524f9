//! What to send J-goods for an item it is owed, and what its answer means
//! (pure: no I/O).

use serde_json::{Map, Value};

use super::Item;

/// The call an owed item needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Send {
    /// `POST /item.json` with every field.
    Register(Map<String, Value>),
    /// `PUT /item.json` with `item_code` and the fields that changed.
    Update(Map<String, Value>),
    /// Nothing differs from what J-goods holds: record it as accepted.
    Nothing,
}

/// `sent` is what J-goods last accepted (`None`: it does not hold the item).
pub fn send_for(item: &Item, sent: Option<&Map<String, Value>>) -> Send {
    let now = item.wire();
    let Some(sent) = sent else {
        return Send::Register(now);
    };
    let mut changed: Map<String, Value> = now
        .iter()
        .filter(|(k, v)| *k != "item_code" && sent.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if changed.is_empty() {
        return Send::Nothing;
    }
    changed.insert("item_code".into(), Value::String(item.sku.clone()));
    Send::Update(changed)
}

/// What J-goods' per-item refusal means for the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A person must change the master (the text says what, Japanese first).
    Fix(String),
    /// J-goods already holds it (`ITEM_EXISTS`): update every field.
    HeldAlready,
    /// J-goods does not hold it (`ITEM_NOT_FOUND` to an update): register it.
    NotHeld,
}

/// Reads one refusal (`code` and `field` as J-goods answered them).
pub fn refused(item: &Item, code: &str, field: Option<&str>) -> Refused {
    let field = field.unwrap_or("?");
    let text = match code {
        "ITEM_EXISTS" => return Refused::HeldAlready,
        "ITEM_NOT_FOUND" => return Refused::NotHeld,
        "WEIGHT_REQUIRED" => "WEIGHT_REQUIRED: 重量(g)を入力してください(購入者の国際送料の計算に必要です) / \
             weight_g is required: J-goods needs it for the buyer's international postage"
            .to_string(),
        "USED_NOT_ALLOWED" => "USED_NOT_ALLOWED: 中古品(古物)は古物商の書類を J-goods に提出するまで販売できません。\
             書類を提出するか「中古」をいいえにしてください / J-goods sells used goods only once your 古物 \
             documents are on file"
            .to_string(),
        "CATEGORY_NOT_FOUND" => format!(
            "CATEGORY_NOT_FOUND: カテゴリ {} が J-goods にありません。カテゴリを取り込むか商品のカテゴリを直してください / \
             J-goods has no category {0}: import the categories or fix the item's",
            item.category_code.as_deref().unwrap_or("?")
        ),
        "INVALID_FIELD" => format!(
            "INVALID_FIELD {field}: J-goods がこの値を受け付けません。商品マスタの {field} を直してください / \
             J-goods refuses the value of {field}: fix it in the master"
        ),
        other => format!("{other} ({field}): J-goods が受け付けません / J-goods refuses the item"),
    };
    Refused::Fix(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item {
            sku: "SKU-1".into(),
            name: "急須".into(),
            price: 5500,
            tax_rate: 10,
            jan_code: None,
            weight_g: Some(1200),
            category_code: Some("tea".into()),
            description: None,
            images: vec![],
            used: false,
            on_sale: true,
            seller: None,
        }
    }

    #[test]
    fn a_new_item_is_registered_a_changed_one_sends_what_changed() {
        let a = item();
        let Send::Register(all) = send_for(&a, None) else {
            panic!("a new item registers");
        };
        assert_eq!(all["item_code"], "SKU-1");
        let mut b = a.clone();
        b.price = 6000;
        b.weight_g = Some(1300);
        match send_for(&b, Some(&all)) {
            Send::Update(fields) => {
                let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
                keys.sort();
                assert_eq!(keys, ["item_code", "price", "weight_g"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(send_for(&a, Some(&all)), Send::Nothing);
        // Held, contents unknown: every field.
        let Send::Update(fields) = send_for(&a, Some(&Map::new())) else {
            panic!("update");
        };
        assert_eq!(fields.len(), all.len());
    }

    #[test]
    fn refusals_say_what_to_fix() {
        let a = item();
        let Refused::Fix(text) = refused(&a, "CATEGORY_NOT_FOUND", Some("category_code")) else {
            panic!("a fix");
        };
        assert!(text.contains("tea") && text.starts_with("CATEGORY_NOT_FOUND"));
        assert_eq!(refused(&a, "ITEM_EXISTS", None), Refused::HeldAlready);
        assert_eq!(refused(&a, "ITEM_NOT_FOUND", None), Refused::NotHeld);
    }
}
