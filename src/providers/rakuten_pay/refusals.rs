//! What the merchant reads about a stock entry Rakuten refused
//! (`rakuten-inventory.md`, Corrections 2026-12-07) and about an item the
//! push leaves out on purpose. `bulk-upsert` refuses a whole call for one
//! entry; the push sends the rest again without it and keeps the pair with
//! its code and this fix until its item changes in RMS.

/// The fix for a refused entry with `code` (Japanese first, then English).
/// The triggers of the 2023 codes are not published: the texts say what the
/// code is documented for and where to look.
pub fn fix(code: &str) -> String {
    let (ja, en) = match code {
        "IE1101" => (
            "予約商品のため在庫を更新できません。RMSで通常商品に戻すと、次のSKU同期で在庫が送られます。",
            "a pre-order item (予約商品) takes no stock through the API; once it is a normal item in \
             RMS, the next SKU sync sends its stock.",
        ),
        "IE1102" | "IE1105" => (
            "頒布会の商品のため在庫を更新できません。頒布会の在庫はRMSで管理してください。",
            "a subscription item (頒布会) takes no stock through the API; manage it in RMS.",
        ),
        "IE0121" => (
            "同じ商品管理番号とSKU管理番号の組が1回の送信に2度含まれていました。\
             RMSで大文字・小文字だけが違う商品管理番号がないか確認してください。",
            "the same manageNumber and variantId twice in one call: check RMS for manage numbers \
             differing only in case.",
        ),
        "IE0002" | "IE0003" | "IE0004" | "IE0105" => (
            "商品管理番号・SKU管理番号・数量のいずれかを楽天が受け付けません。RMSで商品の番号を確認してください。",
            "Rakuten refuses the manage number, the variant id or the quantity: check the item's \
             numbers in RMS.",
        ),
        _ => ("RMSで商品を確認してください。", "check the item in RMS."),
    };
    format!(
        "楽天が在庫の更新を拒否しました({code})。{ja}商品がRMSで変わるまでこの組は送りません。 \
         / Rakuten refused the stock entry ({code}): {en} It is not sent again until the item \
         changes in RMS."
    )
}

/// Why an item of `item_type` (items.search `itemType`) is not pushed, or
/// `None` for an item whose stock the push keeps.
pub fn not_pushed_reason(item_type: &str) -> Option<&'static str> {
    match item_type {
        "PRE_ORDER" => Some(
            "予約商品: 楽天は在庫を受け付けません(IE1101) / pre-order item: Rakuten takes no stock (IE1101)",
        ),
        "BUYING_CLUB" => Some(
            "頒布会: 楽天は在庫を受け付けません(IE1102/IE1105) / subscription item: Rakuten takes no stock (IE1102/IE1105)",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fix_names_its_code_japanese_first() {
        for code in ["IE1101", "IE1105", "IE0121", "IE0003", "XX9999"] {
            let text = fix(code);
            assert!(text.starts_with("楽天が") && text.contains(code), "{text}");
        }
        assert!(not_pushed_reason("PRE_ORDER").is_some_and(|r| r.contains("予約商品")));
        assert!(not_pushed_reason("BUYING_CLUB").is_some_and(|r| r.contains("頒布会")));
        assert_eq!(not_pushed_reason("NORMAL"), None);
    }
}
