//! The merchant's words for what ordersync stores under engineers' names:
//! order and payment states, channels, carriers, providers, the calls the
//! outbox makes, counts of units. Every page and command a merchant reads
//! takes its words from here, in `[daemon] language`, so one meaning has one
//! word everywhere (a state called 引当済み on the console is not 割当 in a
//! command's output).
//!
//! Word choices, for the reviewer who reads Japanese: 後払い is only the
//! buyer's deferred payment (クロネコ代金後払い, 後払い.com); J-goods paying the
//! merchant after the invoice is J-goods 精算. A call the dispatcher gave up
//! on is 失敗 (what README.ja.md says), never 断念; a call dropped by a person
//! is 取り下げ, and only that.

use crate::config::Language;
use crate::domain::carrier::Carrier;
use crate::domain::order::{Channel, OrderState, PaymentState};
use crate::domain::provider::Provider;

/// The Japanese or the English text.
pub fn say<'a>(lang: Language, ja: &'a str, en: &'a str) -> &'a str {
    match lang {
        Language::Ja => ja,
        Language::En => en,
    }
}

/// An order's state: 新規, 引当済み, 在庫不足, 確定, 出荷済み, キャンセル.
pub fn order_state(lang: Language, s: OrderState) -> &'static str {
    let (ja, en) = match s {
        OrderState::New => ("新規", "new"),
        OrderState::Allocated => ("引当済み", "allocated"),
        OrderState::Short => ("在庫不足", "short"),
        OrderState::Confirmed => ("確定", "confirmed"),
        OrderState::Shipped => ("出荷済み", "shipped"),
        OrderState::Cancelled => ("キャンセル", "cancelled"),
    };
    say(lang, ja, en)
}

/// The order's state as it truly stands: an order whose stock was given
/// back (a refused credit check) is not shown 引当済み with nothing held.
pub fn order_state_of(lang: Language, o: &crate::domain::order::Order) -> &'static str {
    let held: u32 = o.lines.iter().map(|l| l.reserved_qty).sum();
    let ordered: u32 = o.lines.iter().map(|l| l.qty).sum();
    match o.state {
        // A short order holding nothing is still 在庫不足: it waits for stock.
        OrderState::Allocated | OrderState::Confirmed if held == 0 && ordered > 0 => {
            say(lang, "引当なし", "nothing held")
        }
        s => order_state(lang, s),
    }
}

/// An order's payment state.
pub fn payment_state(lang: Language, s: PaymentState) -> &'static str {
    let (ja, en) = match s {
        PaymentState::Unpaid => ("未決済", "unpaid"),
        // J-goods collects from the buyer and pays the merchant against the
        // invoice: not the buyer's 後払い.
        PaymentState::Deferred => ("J-goods 精算", "settled by J-goods"),
        PaymentState::Pending => ("支払い待ち", "pending"),
        PaymentState::Paid => ("支払い済み", "paid"),
        PaymentState::CreditPending => ("与信審査中", "credit check pending"),
        PaymentState::CreditOk => ("与信OK", "credit OK"),
        PaymentState::CreditNg => ("与信NG", "credit refused"),
        PaymentState::Authorized => ("オーソリ済み", "authorized"),
        PaymentState::Captured => ("売上確定", "captured"),
        PaymentState::Refunded => ("返金済み", "refunded"),
    };
    say(lang, ja, en)
}

/// A sales channel as the merchant knows it.
pub fn channel(lang: Language, c: Channel) -> &'static str {
    match c {
        Channel::Jgoods => "J-goods",
        Channel::Rakuten => say(lang, "楽天", "Rakuten"),
        Channel::Yahoo => say(lang, "Yahoo!ショッピング", "Yahoo! Shopping"),
        Channel::Direct => say(lang, "自社サイト", "own shop"),
    }
}

/// A delivery company by its name.
pub fn carrier(lang: Language, c: Carrier) -> &'static str {
    let (ja, en) = match c {
        Carrier::Yamato => ("ヤマト運輸", "Yamato"),
        Carrier::Sagawa => ("佐川急便", "Sagawa"),
        Carrier::JapanPost => ("日本郵便", "Japan Post"),
        Carrier::Seino => ("西濃運輸", "Seino"),
        Carrier::Fukuyama => ("福山通運", "Fukuyama"),
        Carrier::Nittsu => ("日本通運", "Nippon Express"),
        Carrier::Meitetsu => ("名鉄運輸", "Meitetsu"),
        Carrier::Tonami => ("トナミ運輸", "Tonami"),
        Carrier::Ecohai => ("エコ配", "Ecohai"),
        Carrier::Other => ("その他", "other"),
    };
    say(lang, ja, en)
}

/// A provider by the name its merchant knows it under.
pub fn provider(lang: Language, p: Provider) -> &'static str {
    match p {
        Provider::Jgoods => "J-goods",
        Provider::RakutenPay => say(lang, "楽天ペイ", "Rakuten Pay"),
        Provider::YahooShopping => say(lang, "Yahoo!ショッピング", "Yahoo! Shopping"),
        Provider::Komoju => "KOMOJU",
        Provider::Kuroneko => say(lang, "クロネコ代金後払い", "Kuroneko Atobarai"),
        Provider::AtobaraiCom => say(lang, "後払い.com", "Atobarai.com"),
    }
}

/// A provider named by its stored name (`rakuten_pay`), or the name as it is.
pub fn provider_named(lang: Language, name: &str) -> String {
    match Provider::parse(name) {
        Some(p) => provider(lang, p).to_string(),
        None => name.to_string(),
    }
}

/// What a queued call does, for a person: J-goods への引当報告, 楽天への出荷報告.
pub fn call_kind(lang: Language, kind: &str) -> String {
    let (ja, en) = match kind {
        "jgoods_put_order" => ("J-goods への引当報告", "allocation report to J-goods"),
        "jgoods_fetch_order" => ("J-goods からの受注の再取得", "order re-read from J-goods"),
        "rakuten_ship" => ("楽天への出荷報告", "shipment report to Rakuten"),
        "komoju_capture" => ("KOMOJU の売上確定", "KOMOJU capture"),
        "komoju_cancel" => ("KOMOJU の取消", "KOMOJU cancel"),
        "komoju_refund" => ("KOMOJU の返金", "KOMOJU refund"),
        "komoju_refund_request" => ("KOMOJU への返金申請", "KOMOJU refund request"),
        "komoju_fetch" => ("KOMOJU の決済の再確認", "KOMOJU payment re-read"),
        "komoju_create_seller" => ("KOMOJU への出品者の登録", "KOMOJU seller creation"),
        "komoju_fetch_seller" => ("KOMOJU の出品者の審査状況の確認", "KOMOJU seller re-read"),
        "komoju_split_capture" => (
            "KOMOJU の売上確定(出品者への分配)",
            "KOMOJU capture with split",
        ),
        "komoju_split_refund" => ("KOMOJU の返金(出品者分の返還)", "KOMOJU refund with split"),
        "komoju_seller_transfer" => ("KOMOJU の出品者との振替", "KOMOJU seller transfer"),
        "credit_request" => ("後払いの与信依頼", "deferred-payment credit check"),
        "credit_ship" => ("後払いの送り状番号登録", "deferred-payment tracking number"),
        "credit_cancel" => ("後払いの取消", "deferred-payment cancel"),
        other => return other.to_string(),
    };
    say(lang, ja, en).to_string()
}

/// A queued call's or a received webhook's state.
pub fn call_state(lang: Language, s: &str) -> String {
    let (ja, en) = match s {
        "pending" => ("送信待ち", "waiting"),
        "done" => ("完了", "done"),
        "dead" => ("失敗", "failed"),
        "dropped" => ("取り下げ", "dropped"),
        "cancelled" => ("取消", "cancelled"),
        "processed" => ("処理済み", "processed"),
        "rejected" => ("拒否", "refused"),
        other => return other.to_string(),
    };
    say(lang, ja, en).to_string()
}

/// A count of units: "3点" / "1 unit", "3 units".
pub fn units(lang: Language, n: i64) -> String {
    match (lang, n) {
        (Language::Ja, n) => format!("{n}点"),
        (Language::En, 1) => "1 unit".to_string(),
        (Language::En, n) => format!("{n} units"),
    }
}

/// A count of orders: "3件" / "1 order", "3 orders".
pub fn orders(lang: Language, n: i64) -> String {
    match (lang, n) {
        (Language::Ja, n) => format!("{n}件"),
        (Language::En, 1) => "1 order".to_string(),
        (Language::En, n) => format!("{n} orders"),
    }
}

/// `text` padded with spaces to `width` terminal columns, counting a kana,
/// kanji or full-width form as two, so a Japanese header lines up with its
/// column. Longer text is left as it is.
pub fn pad(text: &str, width: usize) -> String {
    let wide = |c: char| {
        matches!(c, '\u{1100}'..='\u{115f}' | '\u{2e80}'..='\u{a4cf}' | '\u{ac00}'..='\u{d7a3}'
            | '\u{f900}'..='\u{faff}' | '\u{fe30}'..='\u{fe4f}' | '\u{ff00}'..='\u{ff60}'
            | '\u{ffe0}'..='\u{ffe6}')
    };
    let used: usize = text.chars().map(|c| if wide(c) { 2 } else { 1 }).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// One side of a stored "日本語 / English" text in `lang`: the daemon
/// writes reasons, attentions and problems in both languages once, and each
/// reader shows its own. The split is the first " / " before which there is
/// Japanese and after which the text is English (at least 80 % ASCII: an
/// English side may quote 予約商品). A text that is not of this shape (an
/// order id with a slash, a provider's own message) is shown whole.
pub fn pick(lang: Language, text: &str) -> &str {
    let japanese = |s: &str| s.chars().any(is_japanese);
    let english = |s: &str| {
        let all = s.chars().count();
        all > 0 && s.chars().filter(char::is_ascii).count() * 5 >= all * 4
    };
    let split = text
        .match_indices(" / ")
        .map(|(i, _)| i)
        .find(|&i| japanese(&text[..i]) && english(&text[i + 3..]));
    match (split, lang) {
        (Some(i), Language::Ja) => &text[..i],
        (Some(i), Language::En) => &text[i + 3..],
        (None, _) => text,
    }
}

/// Kana, kanji and the Japanese punctuation and full-width forms.
fn is_japanese(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}'
        | '\u{ff00}'..='\u{ffef}')
}

/// A KOMOJU seller's review state (the live application's status).
pub fn seller_review(lang: Language, status: &str) -> String {
    let (ja, en) = match status {
        "not_applied" => ("未申請", "not applied"),
        "incomplete" => ("申請の入力待ち", "incomplete"),
        "pending" => ("審査中", "under review"),
        "accepted" => ("審査完了", "accepted"),
        "declined" => ("審査不可", "declined"),
        other => return other.to_string(),
    };
    say(lang, ja, en).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_per_meaning_in_each_language() {
        use Language::{En, Ja};
        assert_eq!(order_state(Ja, OrderState::Short), "在庫不足");
        assert_eq!(payment_state(Ja, PaymentState::Deferred), "J-goods 精算");
        // 後払い names only the buyer's deferred payment.
        for s in [
            PaymentState::Unpaid,
            PaymentState::Deferred,
            PaymentState::Pending,
            PaymentState::Paid,
            PaymentState::Authorized,
            PaymentState::Captured,
            PaymentState::Refunded,
        ] {
            assert!(!payment_state(Ja, s).contains("後払い"), "{s:?}");
        }
        assert_eq!(call_state(Ja, "dead"), "失敗");
        assert_eq!(call_kind(Ja, "jgoods_put_order"), "J-goods への引当報告");
        assert_eq!(call_kind(En, "some_new_call"), "some_new_call");
        assert_eq!(units(En, 1), "1 unit");
        assert_eq!(units(En, 0), "0 units");
        assert_eq!(units(Ja, 2), "2点");
        assert_eq!(provider_named(Ja, "rakuten_pay"), "楽天ペイ");
        assert_eq!(carrier(Ja, Carrier::Yamato), "ヤマト運輸");
    }

    #[test]
    fn a_stored_text_shows_one_language() {
        use Language::{En, Ja};
        let both = "在庫不足: 注文確認していません / not enough stock: not confirmed";
        assert_eq!(pick(Ja, both), "在庫不足: 注文確認していません");
        assert_eq!(pick(En, both), "not enough stock: not confirmed");
        // The English side may quote a Japanese word.
        let quoted =
            "予約商品のため送れません / a pre-order item (予約商品) takes no stock through the API";
        assert_eq!(pick(Ja, quoted), "予約商品のため送れません");
        assert!(pick(En, quoted).starts_with("a pre-order item (予約商品)"));
        // Not of the shape: whole.
        assert_eq!(pick(Ja, "JG-1 / JG-2"), "JG-1 / JG-2");
        assert_eq!(pick(En, "connection refused"), "connection refused");
        assert_eq!(pick(Ja, "楽天 / 楽天ペイ"), "楽天 / 楽天ペイ");
    }
}
