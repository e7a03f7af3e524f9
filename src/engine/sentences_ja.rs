//! The sentences of [`super::sentences`] in Japanese, as the console and
//! `ordersync orders show` tell an order's story to a Japanese operator.

use serde_json::Value;

use super::sentences::{reserved_of, who};
use crate::config::Language;
use crate::wording::units;

/// The Japanese sentence of an event; `None` for a kind not written here
/// (the English one is shown then).
pub fn describe(e: &Value) -> Option<String> {
    let d = &e["detail"];
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let jgoods = e["channel"] == "jgoods";
    // "(SKU-001 3/3)", or nothing when the event names no line.
    let lines = || match reserved_of(&d["lines"]) {
        l if l.is_empty() => String::new(),
        l => format!("({l})"),
    };
    let released = || match d["released"].as_i64().unwrap_or(0) {
        0 => "戻す在庫はありません".to_string(),
        n => format!("{}を在庫に戻しました", units(Language::Ja, n)),
    };
    let yahoo = e["channel"] == "yahoo";
    Some(match e["kind"].as_str().unwrap_or("") {
        "order.imported" if yahoo => "Yahoo!ショッピングから受注を取り込みました".into(),
        "order.held" if yahoo => {
            "在庫を確保しました。お客様のキャンセル受付(10分)が過ぎてから(前払いは入金後に)ERP に渡します".into()
        }
        "order.paid" if yahoo => "支払い済み(Yahoo!ショッピングで決済)".into(),
        "order.confirmed" if yahoo => "Yahoo!ショッピングで処理中にしました".into(),
        "order.changed" if yahoo => {
            "Yahoo!ショッピングで受注が変更され、明細を引き当て直しました".into()
        }
        "order.shipment_reported" if yahoo => format!(
            "Yahoo!ショッピングに出荷報告しました(配送会社コード {})",
            text(&d["ship_company_code"])
        ),
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
            carrier_name(d["carrier"].as_str().unwrap_or("?")),
            text(&d["tracking_no"])
        ),
        "order.shipment_reported" => format!(
            "楽天に出荷報告しました(配送会社コード {})",
            text(&d["delivery_company"])
        ),
        "order.changed" => "楽天で受注が変更され、明細を取り込み直しました".into(),
        "order.registered" => format!(
            "ERP から登録しました(支払い: {})",
            payment_name(d["payment"].as_str().unwrap_or("?"))
        ),
        "order.allocated" if jgoods => {
            format!("全数を在庫引当しました{}。J-goods に報告します", lines())
        }
        "order.short" if jgoods => {
            format!("在庫不足{}。確保できた数を J-goods に報告します", lines())
        }
        "order.allocated" => format!("全数を在庫引当しました{}", lines()),
        "order.short" => format!("在庫不足{}", lines()),
        "order.awaiting_reply" => "J-goods がお客様に不足分を確認しています".into(),
        "order.partial_accepted" => "お客様が一部の数量で了承しました。確定します".into(),
        "order.confirmed" if jgoods => {
            "J-goods が承認しました。確定です(代金は J-goods 精算)".into()
        }
        "order.confirmed" => "確定しました".into(),
        "order.cancelled" => format!(
            "{}がキャンセルしました。{}",
            who(Language::Ja, d["by"].as_str().unwrap_or("?")),
            released()
        ),
        "order.received" => "支払い前の受注を受け取りました".into(),
        "order.status" => format!("J-goods のステータスが {} になりました", text(&d["status"])),
        "order.attention" => format!(
            "要対応: {}",
            crate::wording::pick(Language::Ja, d["reason"].as_str().unwrap_or("?"))
        ),
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
            method_name(d["method"].as_str().unwrap_or("?")),
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
        "call.retried" => "失敗した送信をやり直しました".into(),
        "call.dropped" => format!(
            "{} が失敗した{}を取り下げました: {}。今後送信しません",
            text(&d["by"]),
            crate::wording::call_kind(Language::Ja, d["kind"].as_str().unwrap_or("?")),
            text(&d["reason"])
        ),
        "credit.requested" => format!(
            "与信を依頼しました({}): {}",
            text(&d["reference"]),
            text(&d["result"])
        ),
        "credit.ok" => "与信OK: 出荷できます".into(),
        "credit.ng" => format!("与信NG。{}", released()),
        "credit.over_limit" => format!("与信NG(限度額超過)。{}", released()),
        "credit.shipment_registered" => format!(
            "後払い会社に送り状番号 {} を登録しました",
            text(&d["tracking_no"])
        ),
        "credit.cancelled" => "後払いの取引を取り消しました".into(),
        _ => return None,
    })
}

/// A carrier's stored name as the merchant says it.
fn carrier_name(stored: &str) -> String {
    match crate::domain::carrier::Carrier::parse(stored) {
        Some(c) => crate::wording::carrier(Language::Ja, c).to_string(),
        None => stored.to_string(),
    }
}

/// How a registered order is paid, by its stored name.
fn payment_name(stored: &str) -> String {
    match stored {
        "none" => "なし".to_string(),
        other => crate::wording::provider_named(Language::Ja, other),
    }
}

/// A KOMOJU payment method as a buyer knows it.
fn method_name(stored: &str) -> &str {
    match stored {
        "konbini" => "コンビニ払い",
        "bank_transfer" => "銀行振込",
        "pay_easy" => "ペイジー",
        "credit_card" => "クレジットカード",
        other => other,
    }
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
        // No empty brackets when the event names no line; units counted.
        let topped = json!({"kind": "order.allocated", "channel": "rakuten", "detail": {}});
        assert_eq!(describe(&topped).unwrap(), "全数を在庫引当しました");
        let ng = json!({"kind": "credit.ng", "detail": {"released": 0}});
        assert_eq!(describe(&ng).unwrap(), "与信NG。戻す在庫はありません");
        let cancelled =
            json!({"kind": "order.cancelled", "detail": {"by": "merchant", "released": 1}});
        assert_eq!(
            describe(&cancelled).unwrap(),
            "店舗がキャンセルしました。1点を在庫に戻しました"
        );
        let en = super::super::sentences::describe(&cancelled);
        assert_eq!(en, "cancelled by the merchant; 1 unit back in stock");
    }
}
