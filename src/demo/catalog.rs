//! The demo's first act: the merchant's product master reaches J-goods
//! before any order can (the seed's first step of every trade).

use super::*;

const CATEGORIES: &str =
    "カテゴリコード,カテゴリ名,親カテゴリ\ntea,お茶・茶器,\ntea-pot,急須,tea\n";

/// The master as the ERP exports it; `tea_weight` is SKU-003's 重量(g)
/// (empty the first time: J-goods refuses an item without one).
fn master(tea_weight: &str) -> Vec<u8> {
    let text = format!(
        "商品コード,商品名,販売価格(税込),税率,JANコード,重量(g),カテゴリ,商品説明,画像URL,中古,販売中\n\
         SKU-001,南部鉄器 急須 0.6L,5500,10,4901234567894,1200,tea-pot,岩手県産の南部鉄器,https://shop.example.jp/img/001.jpg,いいえ,はい\n\
         SKU-002,有田焼 湯呑み,2200,10,,250,tea,,https://shop.example.jp/img/002.jpg,いいえ,はい\n\
         SKU-003,静岡 深蒸し煎茶 100g,3300,8,,{tea_weight},tea,,,いいえ,はい\n\
         SKU-004,竹の茶杓,1800,10,,20,tea,,,いいえ,はい\n"
    );
    crate::text_encoding::encode(&text, crate::text_encoding::TextEncoding::ShiftJis).0
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) -> anyhow::Result<()> {
    let until = Instant::now() + STEP_DEADLINE;
    while !done().await {
        if Instant::now() > until {
            bail!("{what} did not happen in time");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

pub(super) async fn catalog_script(
    sim: &JgoodsSimHandle,
    daemon: &Daemon,
    erp: &Erp,
) -> anyhow::Result<()> {
    step(
        "ERP が商品マスタ(Shift_JIS の CSV: 商品コード, 商品名, 販売価格(税込), 重量(g), …)とカテゴリを送信。SKU-003 は重量が未入力",
        "The ERP sends its product master (Shift_JIS CSV: 商品コード, 商品名, 販売価格(税込), 重量(g), …) and its categories; SKU-003 has no weight yet",
    );
    erp.upload(
        "/api/v1/catalog/categories/import",
        "text/csv",
        CATEGORIES.as_bytes().to_vec(),
    )
    .await?;
    let answer = erp
        .upload("/api/v1/catalog/import", "text/csv", master(""))
        .await?;
    note(
        format!("取り込み結果: {answer}"),
        format!("imported: {answer}"),
    );
    daemon.poll_now();
    wait_until("J-goods' answer to the master", async || {
        let refused = erp
            .get("/api/v1/catalog/SKU-003")
            .await
            .is_ok_and(|i| i["refusal"].is_string());
        refused && sim.catalog().items.len() == 3
    })
    .await?;
    let item = erp.get("/api/v1/catalog/SKU-003").await?;
    let refusal = crate::wording::pick(lang(), item["refusal"].as_str().unwrap_or(""));
    note(
        format!(
            "J-goods は SKU-001、SKU-002、SKU-004 を登録し(カテゴリが先)、SKU-003 を受け付けませんでした: {refusal}"
        ),
        format!(
            "J-goods registered SKU-001, SKU-002, SKU-004 (categories first) and refused SKU-003: {refusal}"
        ),
    );

    step(
        "店舗が SKU-003 の重量(150 g)を入れて再送 → SKU-003 だけが送られ、J-goods が登録",
        "The merchant adds SKU-003's weight (150 g) and sends the master again → only SKU-003 goes, and J-goods registers it",
    );
    let before = sim.stats().catalog_calls.len();
    let answer = erp
        .upload("/api/v1/catalog/import", "text/csv", master("150"))
        .await?;
    note(
        format!("取り込み結果: {answer}"),
        format!("imported: {answer}"),
    );
    daemon.poll_now();
    wait_until("SKU-003's registration", async || {
        sim.catalog().items.contains_key("SKU-003")
    })
    .await?;
    let calls = sim.stats().catalog_calls.len() - before;
    note(
        format!("J-goods への送信は {calls} 回。変わっていない 3 商品は送り直していません"),
        format!("{calls} call(s) to J-goods for it; the three unchanged items were not sent again"),
    );
    Ok(())
}
