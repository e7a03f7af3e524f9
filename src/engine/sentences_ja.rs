//! The sentences of [`super::sentences`] in Japanese, as the console and
//! `ordersync orders show` tell an order's story to a Japanese operator.

use serde_json::Value;

use super::sentences::reserved_of;

/// The Japanese sentence of an event; `None` for a kind not written here
/// (the English one is shown then).
pub fn describe(e: &Value) -> Option<String> {
    let d = &e["detail"];
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let jgoods = e["channel"] == "jgoods";
    Some(match e["kind"].as_str().unwrap_or("") {
        "order.imported" => format!("楽天から受注を取り込みました(ステータス {})", d["progress"]),
        "order.held" => format!(
            "楽天のステータス {} で保留(店舗決済): 在庫を確保し、次に注文確認します。ERP には 300 で取り込まれます",
            d["progress"]
        ),
        "order.topped_up" if d["complete"] == true => {
            "入荷した在庫で引き当てを補い、全数そろいました".into()
        }
        "order.topped_up" => "入荷した在庫で引き当てを補いました".into(),
        "order.lines_deleted" => "楽天で明細が削除され、在庫を戻しました".into(),
        "order.paid" => "支払い済み(楽天で決済)".into(),
        "order.shipped" => format!(
            "出荷しました: {} {}",
            text(&d["carrier"]),
            text(&d["tracking_no"])
        ),
        "order.shipment_reported" => format!(
            "楽天に出荷報告しました(配送会社コード {})",
            text(&d["delivery_company"])
        ),
        "order.changed" => "楽天で受注が変更され、明細を取り込み直しました".into(),
        "order.registered" => format!("ERP から登録(支払い: {})", text(&d["payment"])),
        "order.allocated" if jgoods => format!(
            "全数を在庫引当しました({})。J-goods に報告します",
            reserved_of(&d["lines"])
        ),
        "order.short" if jgoods => format!(
            "在庫不足({})。確保できた数を J-goods に報告します",
            reserved_of(&d["lines"])
        ),
        "order.allocated" => format!("全数を在庫引当しました({})", reserved_of(&d["lines"])),
        "order.short" => format!("在庫不足({})", reserved_of(&d["lines"])),
        "order.awaiting_reply" => "J-goods がお客様に不足分を確認しています".into(),
        "order.partial_accepted" => "お客様が一部の数量で了承しました。確定します".into(),
        "order.confirmed" if jgoods => "J-goods が承認しました: 確定(後払い)".into(),
        "order.confirmed" => "確定しました".into(),
        "order.cancelled" => format!(
            "{} がキャンセルしました。{} 個を在庫に戻しました",
            text(&d["by"]),
            d["released"]
        ),
        "order.received" => "支払い前の受注を受け取りました".into(),
        "order.status" => format!("J-goods のステータスが {} になりました", text(&d["status"])),
        "order.attention" => format!("要対応: {}", text(&d["reason"])),
        "order.reposted" => "J-goods にこちらの回答を再送します".into(),
        "order.acknowledged" => format!(
            "{} が要対応を確認済みにしました({}){}",
            text(&d["by"]),
            text(&d["attention"]),
            match d["note"].as_str() {
                Some(n) if !n.is_empty() => format!(": {n}"),
                _ => String::new(),
            }
        ),
        "payment.authorized" if d["awaiting_customer"] == true => format!(
            "KOMOJU: お客様の入金待ち({})。支払期限 {} (JST)。入金されるまで出荷できません",
            text(&d["method"]),
            crate::domain::time::shown(d["payment_deadline"].as_str().unwrap_or("-"))
        ),
        "payment.authorized" => "KOMOJU: オーソリ済み。出荷できます".into(),
        "payment.captured" => "KOMOJU: 売上を確定しました".into(),
        "payment.refunded" => "KOMOJU: 返金しました".into(),
        "payment.refund" => format!("KOMOJU: {} 円を返金", d["amount"]),
        "payment.expired" => "KOMOJU: 支払い期限が切れました".into(),
        "payment.failed" => "KOMOJU: 支払いに失敗しました".into(),
        "payment.cancelled" => "KOMOJU: 支払いが取り消されました".into(),
        "webhook.repeat" => "同じ状態の再送です。何もしません".into(),
        "webhook.stale" => "古い通知です。J-goods から受注を読み直します".into(),
        "call.dead" | "call.refused" => match d["reason"].as_str() {
            Some(reason) => format!("送信に失敗しました: {reason}"),
            None => format!("送信に失敗しました: {d}"),
        },
        "call.retried" => "失敗した呼び出しを手で再試行しました".into(),
        "call.dropped" => format!(
            "{} が失敗した呼び出し {} を取り下げました: {}。この呼び出しは行われません",
            text(&d["by"]),
            text(&d["kind"]),
            text(&d["reason"])
        ),
        "credit.requested" => format!(
            "与信を依頼しました({}): {}",
            text(&d["reference"]),
            text(&d["result"])
        ),
        "credit.ok" => "与信OK: 出荷できます".into(),
        "credit.ng" | "credit.over_limit" => format!(
            "与信NG({})。{} 個を在庫に戻しました",
            text(&e["kind"]),
            d["released"]
        ),
        "credit.shipment_registered" => format!(
            "後払い会社に送り状番号 {} を登録しました",
            text(&d["tracking_no"])
        ),
        "credit.cancelled" => "後払いの取引を取り消しました".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_story_of_an_order_reads_in_japanese() {
        let e = json!({"kind": "order.allocated", "channel": "jgoods",
            "detail": {"lines": [{"sku": "A", "reserved_qty": 2, "qty": 2}]}});
        assert_eq!(
            describe(&e).unwrap(),
            "全数を在庫引当しました(A 2/2)。J-goods に報告します"
        );
        assert!(describe(&json!({"kind": "something.new"})).is_none());
    }
}
