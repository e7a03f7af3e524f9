//! The demo's scripts: what the merchant's ERP and the simulated providers do,
//! step by step, one script per channel.

use super::*;

pub(super) async fn script(sim: &JgoodsSimHandle, erp: &Erp) -> anyhow::Result<()> {
    step(
        "ERP が朝の在庫を管理 API で取り込みます",
        "The ERP loads the morning's stock through the admin API",
    );
    erp.import_stock(
        "sku,on_hand\nSKU-001,10\nSKU-002,4\nSKU-003,1\nSKU-004,0\nSKU-005,4\nSKU-006,10\n",
    )
    .await?;
    print_stock(erp).await?;

    step(
        "JG-1001: SKU-001 × 3、在庫あり → 在庫引当、J-goods が承認、代金は J-goods 精算",
        "JG-1001: 3 × SKU-001, all in stock → allocated, J-goods confirms, payment becomes deferred",
    );
    sim.place_order("JG-1001", &[("SKU-001", 3, 5500)]);
    erp.wait("jgoods", "JG-1001", |o| o["state"] == "confirmed")
        .await?;

    step(
        "JG-1002: SKU-002 × 6(有効在庫 4)と SKU-003 × 1 → 在庫不足。お客様は 4 個で了承",
        "JG-1002: 6 × SKU-002 (4 free) and 1 × SKU-003 → short; the customer accepts 4",
    );
    sim.set_decision("JG-1002", CustomerDecision::Accept);
    sim.place_order("JG-1002", &[("SKU-002", 6, 2200), ("SKU-003", 1, 3300)]);
    erp.wait("jgoods", "JG-1002", |o| o["state"] == "confirmed")
        .await?;

    step(
        "JG-1003: SKU-001 × 9(有効在庫 7)→ 在庫不足。お客様が断り、在庫が戻ります",
        "JG-1003: 9 × SKU-001 (7 free) → short; the customer declines, the stock goes back",
    );
    sim.set_decision("JG-1003", CustomerDecision::Decline);
    sim.place_order("JG-1003", &[("SKU-001", 9, 5500)]);
    erp.wait("jgoods", "JG-1003", |o| o["state"] == "cancelled")
        .await?;

    step(
        "JG-1004: SKU-004 × 2、在庫切れ → 引当 0。お客様が断ります",
        "JG-1004: 2 × SKU-004, out of stock → 0 allocated; the customer declines",
    );
    sim.set_decision("JG-1004", CustomerDecision::Decline);
    sim.place_order("JG-1004", &[("SKU-004", 2, 1800)]);
    erp.wait("jgoods", "JG-1004", |o| o["state"] == "cancelled")
        .await?;

    step(
        "J-goods が JG-1001 の Webhook を同じ配信 ID で再送 → 重複と判断し、何も変わりません",
        "J-goods delivers JG-1001's webhook again with the same delivery id → recognised, nothing changes",
    );
    let acked_before = sim.stats().webhooks.acked;
    sim.resend_webhook("JG-1001", true);
    if !sim
        .wait_until(STEP_DEADLINE, |v| v.stats().webhooks.acked > acked_before)
        .await
    {
        bail!("the duplicate delivery was not acknowledged");
    }
    note(
        "(重複として受け付け、在庫は変わりません)",
        "(acknowledged as a duplicate; stock unchanged)",
    );

    step(
        "J-goods が停止中(503 が 3 回)に JG-1005(SKU-001 × 2)が届く → 間隔を空けて再送します",
        "J-goods is down (503 three times) while JG-1005 (2 × SKU-001) arrives → retried with backoff",
    );
    sim.inject(Endpoint::PutOrder, Fault::Status(503), 3);
    sim.place_order("JG-1005", &[("SKU-001", 2, 5500)]);
    erp.wait("jgoods", "JG-1005", |o| o["state"] == "confirmed")
        .await?;
    if !sim
        .wait_for_status("JG-1005", Status::AwaitingArrival, STEP_DEADLINE)
        .await
    {
        bail!("JG-1005 did not reach J-goods");
    }
    Ok(())
}

pub(super) async fn rakuten_script(
    rakuten: &RakutenSimHandle,
    daemon: &Daemon,
    erp: &Erp,
) -> anyhow::Result<()> {
    step(
        "楽天ペイ: カード払いで SKU-001 × 2 → 取り込み、同じ在庫から引当、楽天で注文確認",
        "Rakuten Pay: a card order for 2 × SKU-001 → imported, allocated from the same stock, confirmed at Rakuten",
    );
    let first = rakuten.next_order_number();
    rakuten.place_order(
        NewOrder::new(&first).item(
            NewItem::new("SKU-001", "", 5500, 2)
                .sku("SKU-001")
                .name("南部鉄器 急須"),
        ),
    );
    daemon.poll_now();
    erp.wait("rakuten", &first, |o| o["state"] == "confirmed")
        .await?;

    step(
        "楽天ペイ: 代金引換で SKU-006 × 1 → ステータス 100 で在庫を確保して注文確認(楽天は 14 日未確認の注文を自動キャンセル)。ERP には 300 で渡ります",
        "Rakuten Pay: cash on delivery (代金引換), 1 × SKU-006 → stock held and confirmed at 100 (Rakuten cancels orders left unconfirmed for 14 days); the ERP hears of it at 300",
    );
    let cod = rakuten.next_order_number();
    rakuten.place_order(
        NewOrder::new(&cod)
            .cash_on_delivery()
            .item(NewItem::new("SKU-006", "", 3300, 1).sku("SKU-006")),
    );
    daemon.poll_now();
    erp.wait("rakuten", &cod, |o| o["state"] == "confirmed")
        .await?;

    step(
        "楽天ペイ: SKU-002 × 1、J-goods で売り切れ → 在庫不足で注文確認せず。要対応に楽天の自動キャンセル期限を表示",
        "Rakuten Pay: 1 × SKU-002, all taken by J-goods → short, not confirmed; its attention gives Rakuten's auto-cancel deadline",
    );
    let second = rakuten.next_order_number();
    rakuten.place_order(
        NewOrder::new(&second).item(NewItem::new("SKU-002", "", 2200, 1).sku("SKU-002")),
    );
    daemon.poll_now();
    let short = erp
        .wait("rakuten", &second, |o| o["state"] == "short")
        .await?;
    let attention = crate::wording::pick(lang(), short["attention"].as_str().unwrap_or(""));
    note(
        format!("要対応: {attention}"),
        format!("attention: {attention}"),
    );

    step(
        "ERP が SKU-002 を数え直す(実在庫 5): 空いた 1 個は同じトランザクションで待っている楽天の注文へ。次の取得で注文確認",
        "The ERP counts SKU-002 again (5 on hand): the free unit goes to the waiting Rakuten order in the same transaction; the next poll confirms it",
    );
    erp.import_stock("sku,on_hand\nSKU-002,5\n").await?;
    daemon.poll_now();
    erp.wait("rakuten", &second, |o| o["state"] == "confirmed")
        .await?;

    step(
        "楽天の処理が進む(300): カード決済が確定 → 支払い済み",
        "Rakuten finishes processing (300): the card payment is settled → paid",
    );
    rakuten.advance_clock(Duration::from_secs(600));
    daemon.poll_now();
    erp.wait("rakuten", &first, |o| o["payment_state"] == "paid")
        .await?;

    ship_script(rakuten, erp, &first).await
}

/// One stock for every channel: what sells on J-goods leaves Rakuten's count.
pub(super) async fn rakuten_stock_script(
    sim: &JgoodsSimHandle,
    rakuten: &RakutenSimHandle,
    erp: &Erp,
) -> anyhow::Result<()> {
    step(
        "ERP が最後の南部鉄瓶(SKU-007、実在庫 1)を登録。J-goods と楽天で販売中 → 楽天に 1 を送信",
        "The ERP counts the last cast-iron kettle (SKU-007, 1 on hand); it is sold on J-goods and at Rakuten → Rakuten is told 1",
    );
    sim.register_item("SKU-007");
    erp.import_stock(
        "sku,on_hand
SKU-007,1
",
    )
    .await?;
    if !rakuten
        .wait_until(STEP_DEADLINE, |v| v.quantity("tetsubin", "t1") == Some(1))
        .await
    {
        bail!("Rakuten was not told SKU-007's count");
    }
    // Later that morning: outside the push's one-second debounce of the count.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    step(
        "JG-1006: J-goods のお客様が購入 → 楽天の在庫数が 0 に(在庫一括更新、絶対値)",
        "JG-1006: a J-goods customer takes it → Rakuten's count drops to 0 (inventory bulk-upsert, ABSOLUTE)",
    );
    sim.place_order("JG-1006", &[("SKU-007", 1, 12000)]);
    erp.wait("jgoods", "JG-1006", |o| {
        o["state"] == "allocated" || o["state"] == "confirmed"
    })
    .await?;
    let allocated = Instant::now();
    if !rakuten
        .wait_until(STEP_DEADLINE, |v| v.quantity("tetsubin", "t1") == Some(0))
        .await
    {
        bail!("Rakuten still sells SKU-007");
    }
    let ms = allocated.elapsed().as_millis();
    note(
        format!("在庫引当から {ms} ms 後に楽天の表示が 0 になりました"),
        format!("Rakuten shows 0, {ms} ms after the allocation"),
    );
    step(
        "楽天のお客様が同じ鉄瓶を注文しようとする → 売り切れで楽天が受け付けず、売り越しなし",
        "A Rakuten buyer tries to order the same kettle → Rakuten refuses it: sold out, no oversell",
    );
    let number = rakuten.next_order_number();
    match rakuten.try_place_order(
        NewOrder::new(&number).item(NewItem::new("tetsubin", "tetsubin", 12000, 1).sku("SKU-007")),
    ) {
        Err(sold_out) => note(format!("楽天: {sold_out}"), format!("Rakuten: {sold_out}")),
        Ok(_) => bail!("Rakuten sold the kettle J-goods' customer took"),
    }
    Ok(())
}

/// The ERP ships a J-goods order and a Rakuten one; Rakuten gets its report.
async fn ship_script(rakuten: &RakutenSimHandle, erp: &Erp, first: &str) -> anyhow::Result<()> {
    step(
        "ERP が JG-1001 と楽天の注文を出荷 → 実在庫から減り、楽天に発送完了報告(配送会社 1001)",
        "The ERP ships JG-1001 and the Rakuten order → stock leaves on_hand; Rakuten gets 発送完了報告 (carrier 1001)",
    );
    let parcel = |carrier: &str, no: &str| json!({"carrier": carrier, "tracking_no": no, "shipped_on": time::now().format("%Y-%m-%d").to_string()});
    erp.post(
        "/api/v1/orders/jgoods/JG-1001/shipment",
        parcel("sagawa", "400012345678"),
    )
    .await?;
    erp.post(
        &format!("/api/v1/orders/rakuten/{first}/shipment"),
        parcel("yamato", "123456789012"),
    )
    .await?;
    if !rakuten
        .wait_for_progress(first, OrderProgress::Shipped, STEP_DEADLINE)
        .await
    {
        bail!("the Rakuten shipment was not reported");
    }
    Ok(())
}

pub(super) async fn komoju_script(komoju: &KomojuSimHandle, erp: &Erp) -> anyhow::Result<()> {
    let order = |id: &str, qty: u32, payment_id: &str| {
        json!({"channel": "direct", "id": id, "ordered_at": time::rfc3339(time::now()),
            "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                         "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
            "lines": [{"line_no": 1, "sku": "SKU-005", "name": "風呂敷", "qty": qty, "unit_price": 2000}],
            "shipping_fee": 800, "fee": 0, "payment": {"method": "komoju", "payment_id": payment_id}, "allocate": true})
    };
    step(
        "自社サイトの受注 SHOP-1001(SKU-005 × 1)、KOMOJU のカード払い: オーソリ → 出荷 → 売上確定",
        "The shop's own order SHOP-1001 (1 × SKU-005), card via KOMOJU: authorized → shipped → captured",
    );
    let card = komoju.create_payment(
        2800,
        0,
        Some("SHOP-1001"),
        "credit_card",
        CaptureMode::Manual,
    );
    erp.post("/api/v1/orders", order("SHOP-1001", 1, &card))
        .await?;
    komoju.authorize(&card);
    erp.wait("direct", "SHOP-1001", |o| {
        o["payment_state"] == "authorized"
    })
    .await?;
    let parcel = json!({"carrier": "japanpost", "tracking_no": "123412341234", "shipped_on": time::now().format("%Y-%m-%d").to_string()});
    erp.post("/api/v1/orders/direct/SHOP-1001/shipment", parcel)
        .await?;
    erp.wait("direct", "SHOP-1001", |o| o["payment_state"] == "captured")
        .await?;

    step(
        "SHOP-1003(SKU-005 × 1)、カードで即時売上。お客様がキャンセル → 全額返金、在庫が戻ります",
        "SHOP-1003 (1 × SKU-005), paid by card at once; the customer cancels → refunded in full, stock back",
    );
    let refunded =
        komoju.create_payment(2800, 0, Some("SHOP-1003"), "credit_card", CaptureMode::Auto);
    erp.post("/api/v1/orders", order("SHOP-1003", 1, &refunded))
        .await?;
    komoju.authorize(&refunded);
    erp.wait("direct", "SHOP-1003", |o| o["payment_state"] == "captured")
        .await?;
    erp.post(
        "/api/v1/orders/direct/SHOP-1003/cancel",
        json!({"reason": "customer changed their mind"}),
    )
    .await?;
    erp.wait("direct", "SHOP-1003", |o| o["payment_state"] == "refunded")
        .await?;

    step(
        "SHOP-1004(SKU-005 × 1)はコンビニ払い: 支払期限まで入金待ちで出荷できません。\
         お客様が支払う → 出荷できるようになり出荷(売上確定の操作は不要)",
        "SHOP-1004 (1 × SKU-005) to be paid at a konbini: waits unpaid until its deadline, \
         not shippable; the customer pays → released for shipping → shipped (nothing to capture)",
    );
    let slip = komoju.create_payment(2800, 0, Some("SHOP-1004"), "konbini", CaptureMode::Auto);
    erp.post("/api/v1/orders", order("SHOP-1004", 1, &slip))
        .await?;
    let parcel = json!({"carrier": "yamato", "tracking_no": "123412341241", "shipped_on": time::now().format("%Y-%m-%d").to_string()});
    if erp
        .post("/api/v1/orders/direct/SHOP-1004/shipment", parcel.clone())
        .await
        .is_ok()
    {
        bail!("an unpaid konbini order was accepted for shipping");
    }
    komoju.capture_by_customer(&slip);
    erp.wait("direct", "SHOP-1004", |o| o["state"] == "confirmed")
        .await?;
    erp.post("/api/v1/orders/direct/SHOP-1004/shipment", parcel)
        .await?;
    erp.wait("direct", "SHOP-1004", |o| o["state"] == "shipped")
        .await?;

    step(
        "SHOP-1002(SKU-005 × 2)はコンビニ払い、入金なし → 期限切れで在庫が戻ります",
        "SHOP-1002 (2 × SKU-005) to be paid at a konbini, never paid → expired, stock back",
    );
    let konbini = komoju.create_payment(4800, 0, Some("SHOP-1002"), "konbini", CaptureMode::Auto);
    erp.post("/api/v1/orders", order("SHOP-1002", 2, &konbini))
        .await?;
    komoju.expire(&konbini);
    erp.wait("direct", "SHOP-1002", |o| o["state"] == "cancelled")
        .await?;
    Ok(())
}

pub(super) async fn credit_script(
    kuroneko: &KuronekoSimHandle,
    daemon: &Daemon,
    erp: &Erp,
) -> anyhow::Result<()> {
    let credit_is = |v: &'static str| move |o: &Value| o["credit"]["result"] == v;
    let today = time::now().format("%Y-%m-%d").to_string();
    // Past the simulated Yamato's pause after a credit request.
    let settle = || kuroneko.advance_clock(Duration::from_secs(120));

    step(
        "SHOP-2001、クロネコ代金後払い: 与信OK → ヤマト運輸で出荷 → 送り状番号を登録",
        "SHOP-2001, Kuroneko Atobarai: credit OK → shipped with Yamato → tracking number registered",
    );
    erp.post(
        "/api/v1/orders",
        kuroneko_order("SHOP-2001", "山田 太郎", "東京都千代田区千代田1-1", 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2001", credit_is("ok")).await?;
    settle();
    erp.post(
        "/api/v1/orders/direct/SHOP-2001/shipment",
        json!({"carrier": "yamato", "tracking_no": "123456789013", "shipped_on": today}),
    )
    .await?;
    erp.wait("direct", "SHOP-2001", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await?;

    step(
        "SHOP-2002: 与信NG → 要対応、在庫を戻します",
        "SHOP-2002: credit NG → needs attention, its stock given back",
    );
    erp.post(
        "/api/v1/orders",
        kuroneko_order("SHOP-2002", "NG 花子", "東京都港区芝公園4-2-8", 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2002", credit_is("ng")).await?;

    step(
        "SHOP-2003: 審査中。30 分後にヤマトが与信OK と答えるまで確認を続けます",
        "SHOP-2003: under review (審査中), polled until Yamato answers OK half an hour later",
    );
    erp.post(
        "/api/v1/orders",
        kuroneko_order("SHOP-2003", "審査 次郎", "大阪府大阪市北区梅田1-1-1", 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2003", |o| {
        o["payment"]["reference"].is_string()
    })
    .await?;
    kuroneko.advance_clock(Duration::from_secs(31 * 60));
    daemon.poll_now();
    erp.wait("direct", "SHOP-2003", credit_is("ok")).await?;

    same_address_script(kuroneko, erp).await
}

/// A direct order of `qty` × SKU-006 paid with Kuroneko Atobarai.
fn kuroneko_order(id: &str, name: &str, address: &str, qty: u32) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": time::rfc3339(time::now()),
        "customer": {"name": name, "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": address, "phone": "0312345678", "email": "taro@example.jp"},
        "lines": [{"line_no": 1, "sku": "SKU-006", "name": "南部鉄器 急須", "qty": qty, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": "kuroneko"}, "allocate": true})
}

/// Two orders to one address: the second OK turns NG before its shipment is
/// registered; the first is cancelled.
async fn same_address_script(kuroneko: &KuronekoSimHandle, erp: &Erp) -> anyhow::Result<()> {
    let credit_is = |v: &'static str| move |o: &Value| o["credit"]["result"] == v;
    let today = time::now().format("%Y-%m-%d").to_string();
    let settle = || kuroneko.advance_clock(Duration::from_secs(120));
    step(
        "SHOP-2004 と SHOP-2005 が同じ住所: 2 件目の与信OK が NG に変わり、送り状番号の登録前に止めます",
        "SHOP-2004 and SHOP-2005 to one address: the second OK turns NG, caught before its shipment is registered",
    );
    let address = "愛知県名古屋市中村区名駅1-1-4";
    erp.post(
        "/api/v1/orders",
        kuroneko_order("SHOP-2004", "佐藤 一郎", address, 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2004", credit_is("ok")).await?;
    erp.post(
        "/api/v1/orders",
        kuroneko_order("SHOP-2005", "佐藤 一郎", address, 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2005", credit_is("ok")).await?;
    settle();
    erp.post(
        "/api/v1/orders/direct/SHOP-2005/shipment",
        json!({"carrier": "sagawa", "tracking_no": "400012345678", "shipped_on": today}),
    )
    .await?;
    erp.wait("direct", "SHOP-2005", credit_is("ng")).await?;

    step(
        "SHOP-2004 をお客様がキャンセル → ヤマトでも取消、在庫が戻ります",
        "SHOP-2004 is cancelled by the customer → cancelled at Yamato, stock back",
    );
    erp.post(
        "/api/v1/orders/direct/SHOP-2004/cancel",
        json!({"reason": "customer changed their mind"}),
    )
    .await?;
    erp.wait("direct", "SHOP-2004", |o| {
        o["credit"]["transaction"] == "cancelled"
    })
    .await?;
    Ok(())
}

pub(super) async fn settlement_script(erp: &Erp) -> anyhow::Result<()> {
    step(
        "ERP が SKU-003(緑茶)を軽減税率(8%)にし、JG-1002(SKU-002 × 4、SKU-003 × 1)を国内送料 1,200 円で出荷",
        "The ERP marks SKU-003 (green tea) as reduced-rate (8%) and ships JG-1002 (4 × SKU-002, 1 × SKU-003) with ¥1,200 domestic shipping",
    );
    erp.put(
        "/api/v1/stock/SKU-003",
        json!({"on_hand": 1, "tax_rate": 8}),
    )
    .await?;
    let today = time::now().format("%Y-%m-%d").to_string();
    erp.post(
        "/api/v1/orders/jgoods/JG-1002/shipment",
        json!({"carrier": "yamato", "tracking_no": "987654321098", "shipped_on": today, "shipping_cost": 1200}),
    )
    .await?;
    Ok(())
}

/// The day's J-goods invoice, as `ordersync jgoods invoice` would issue it (the API only
/// previews, so the demo records nothing).
pub(super) async fn print_invoice(erp: &Erp) -> anyhow::Result<()> {
    use crate::invoice::html::yen;
    let today = time::now().format("%Y-%m-%d").to_string();
    let inv = erp
        .get(&format!(
            "/api/v1/jgoods/invoice?from={today}&to={today}&format=json"
        ))
        .await?;
    println!(
        "\n{}",
        crate::wording::say(
            lang(),
            &format!(
                "J-goods への {today} の適格請求書(下見。日が終わってから `ordersync jgoods invoice --from {today} --to {today}` で発行、当日は `--force`):"
            ),
            &format!(
                "Invoice to J-goods for {today} (適格請求書, preview; `ordersync jgoods invoice --from {today} --to {today}` issues it once the day is over, `--force` today):"
            ),
        )
    );
    let amount = |v: &Value| yen(v.as_i64().unwrap_or(0));
    for o in inv["orders"].as_array().into_iter().flatten() {
        for l in o["lines"].as_array().into_iter().flatten() {
            println!(
                "  {:<8} {:<8} {:>3} × {:>7} {:>9}  {}%",
                o["order_id"].as_str().unwrap_or(""),
                l["item_code"].as_str().unwrap_or(""),
                l["qty"],
                amount(&l["unit_price"]),
                amount(&l["amount"]),
                l["tax_rate"]
            );
        }
    }
    for s in inv["shipping"].as_array().into_iter().flatten() {
        println!(
            "  {:<8} {} {:<13} {:>9}  10%",
            s["order_id"].as_str().unwrap_or(""),
            crate::wording::say(lang(), "送料", "shipping"),
            s["tracking_no"].as_str().unwrap_or(""),
            amount(&s["cost"])
        );
    }
    for r in inv["by_rate"].as_array().into_iter().flatten() {
        let (rate, total, tax) = (&r["rate"], amount(&r["total"]), amount(&r["tax"]));
        println!(
            "  {}",
            crate::wording::say(
                lang(),
                &format!("{rate:>2}% 対象 {total:>9}、消費税 {tax:>7}(税率ごとに一回だけ端数処理)"),
                &format!(
                    "{rate:>2}% total {total:>9}, consumption tax {tax:>7} (rounded once per rate)"
                ),
            )
        );
    }
    let (total, fee, base, transfer) = (
        amount(&inv["grand_total"]),
        amount(&inv["service_fee"]),
        amount(&inv["tax_excluded_total"]),
        amount(&inv["expected_transfer"]),
    );
    println!(
        "  {}",
        crate::wording::say(
            lang(),
            &format!(
                "合計 {total}。J-goods が手数料の見込み {fee}(税抜 {base} の 10%)を差し引き、{transfer} を振り込みます"
            ),
            &format!(
                "total {total}; J-goods keeps an expected service fee of {fee} (10% of {base} tax excluded) and transfers {transfer}"
            ),
        )
    );
    Ok(())
}
