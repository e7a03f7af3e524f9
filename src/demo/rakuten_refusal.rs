//! The demo's Rakuten refusal (`rakuten-inventory.md`, Corrections
//! 2026-12-07): one entry Rakuten refuses fails its whole `bulk-upsert`;
//! ordersync sends the rest again at once and sets the refused pair aside
//! with its code and fix.

use anyhow::bail;
use ordersync_sim::rakuten_pay::{ItemType, RakutenSimHandle};

use super::STEP_DEADLINE;
use super::erp::{Erp, lang, note, step};
use crate::app::Daemon;
use crate::store::rakuten_skus;

/// The items the shop lists at Rakuten for this script (in `items.search`
/// from the start): (manageNumber, variantId, SKU).
pub(super) const ITEMS: [(&str, &str, &str); 2] =
    [("yunomi", "u1", "SKU-008"), ("kyusu", "k1", "SKU-009")];

pub(super) async fn rakuten_refusal_script(
    rakuten: &RakutenSimHandle,
    daemon: &Daemon,
    erp: &Erp,
) -> anyhow::Result<()> {
    step(
        "店舗が RMS で鉄の急須(SKU-009)を予約商品にする。ERP が急須と湯のみ(SKU-008)を一度に取り込む → 楽天が急須の行(IE1101)ごと一括更新全体を拒否",
        "The shop makes the iron teapot (SKU-009) a 予約商品 in RMS; the ERP counts it and the tea cups (SKU-008) in one import → Rakuten refuses the teapot's entry (IE1101), and with it the whole bulk-upsert",
    );
    if !rakuten.set_item_type("kyusu", ItemType::PreOrder) {
        bail!("the teapot is not listed at Rakuten");
    }
    erp.import_stock("sku,on_hand\nSKU-008,6\nSKU-009,2\n")
        .await?;
    if !rakuten
        .wait_until(STEP_DEADLINE, |v| v.quantity("yunomi", "u1") == Some(6))
        .await
    {
        bail!("the tea cups' count never reached Rakuten: the refused entry stalled its call");
    }
    step(
        "ordersync は急須を除いてすぐに再送 → 楽天に湯のみ 6 個。急須はコードと直し方を付けて、RMS で商品が変わるまで送りません",
        "ordersync sends the rest of the call again at once without it → Rakuten shows 6 tea cups; the teapot is set aside with its code and fix until the item changes in RMS",
    );
    let report = daemon.store.read(|c| rakuten_skus::report(c, 10)).await?;
    let Some(refused) = report.refused.first() else {
        bail!("the refused teapot was not kept");
    };
    let pair = &refused.pair;
    let (sku, item, variant, code) = (
        &pair.sku,
        &pair.manage_number,
        &pair.variant_id,
        &refused.code,
    );
    let fix = crate::wording::pick(lang(), &refused.fix);
    note(
        format!("送らずに残したもの: {sku}({item} / {variant}){code}: {fix}"),
        format!("set aside: {sku} ({item} / {variant}) {code}: {fix}"),
    );
    Ok(())
}
