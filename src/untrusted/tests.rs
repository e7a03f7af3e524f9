//! Never panics: every parser of outside input meets arbitrary bytes,
//! arbitrary text and real samples mutated (bytes flipped, cut short, spliced).

use proptest::prelude::*;

use super::*;

/// Real inputs of each kind, the seeds the mutations start from (the fuzz
/// corpus in `fuzz/seeds/` holds the same).
pub(crate) const JGOODS_ORDER: &str = r#"{"order_no":"JG2611220001","status":"承認待ち","status_changed_at":"2026-11-22T10:15:00+09:00","parent_order_no":null,"ship_to":{"name":"J-goods 物流センター","postal_code":"5300001","address":"大阪府大阪市北区梅田1-1-1","phone":"0612345678"},"items":[{"line_no":1,"item_code":"SKU-001","item_name":"急須","qty":3,"reserved_qty":null,"unit_price":5500}]}"#;
pub(crate) const KOMOJU_EVENT: &str = r#"{"id":"ev1","type":"payment.authorized","resource":"event","data":{"id":"pay1","resource":"payment","status":"authorized","amount":11800,"tax":1080,"currency":"JPY","external_order_num":"SHOP-1","payment_details":{"type":"credit_card"},"refunds":[],"created_at":"2026-11-23T01:00:00Z"},"created_at":"2026-11-23T01:00:00Z"}"#;
pub(crate) const RAKUTEN_ANSWER: &str = r#"{"MessageModelList":[{"messageType":"INFO","messageCode":"ORDER_EXT_API_GET_ORDER_INFO_101","message":"受注情報取得に成功しました。"}],"OrderModelList":[{"orderNumber":"123456-20261122-00001801","orderProgress":100,"orderDatetime":"2026-11-22T10:00:00+0900","PackageModelList":[{"basketId":1,"ItemModelList":[{"itemDetailId":1,"manageNumber":"m","units":2,"price":1100}],"ShippingModelList":[]}]}]}"#;
pub(crate) const KURONEKO_RETURN: &str = r#"<?xml version="1.0" encoding="UTF-8"?><return><ycfStrCode>01234567890</ycfStrCode><orderNo>A-1</orderNo><returnCode>1</returnCode><result>0</result><errorCode>kaara040E</errorCode><returnDate>20261123101500</returnDate></return>"#;
pub(crate) const ATOBARAI_RESPONSE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><response><status>success</status><messages></messages><results><result><orderId>AK00000001</orderId><entOrderId>S-1</entOrderId><orderStatus cd="0">与信中</orderStatus></result></results></response>"#;
pub(crate) const YAHOO_ORDER_INFO: &str = "<ResultSet totalResultsAvailable=\"1\"><Result><Status>OK</Status><OrderInfo><OrderId>shop-10000001</OrderId><Version>2</Version><OrderTime>2026-12-01T10:15:30+09:00</OrderTime><LastUpdateTime>2026-12-01T10:20:00+09:00</LastUpdateTime><OrderStatus>2</OrderStatus><IsSeen>false</IsSeen><IsReadOnly>0</IsReadOnly><Pay><PayStatus>1</PayStatus><PayType>0</PayType></Pay><Ship><ShipStatus>1</ShipStatus><ShipLastName><![CDATA[ 山田 ]]></ShipLastName></Ship><Item><LineId>1</LineId><ItemId>tee</ItemId><SubCode>red</SubCode><Title>T &amp; co</Title><Quantity>2</Quantity><UnitPrice>1500</UnitPrice></Item></OrderInfo></Result></ResultSet>";
pub(crate) const STOCK_CSV: &str =
    "sku,on_hand,as_of\nSKU-001,10,2026-11-23T10:00:00+09:00\nSKU-002,0,\n";
const CONFIG_EXAMPLE: &str = include_str!("../../config.example.toml");

/// The example config with its secrets written inline (short enough for
/// every provider's rules), so that it is valid without the environment it names.
fn config_sample() -> String {
    CONFIG_EXAMPLE
        .lines()
        .map(|line| match line.split_once("{ env = \"") {
            Some((key, _)) if key.starts_with("admin_token") => {
                format!("{key}\"admin-token-0123456789abcdef012345\"")
            }
            Some((key, _)) if !line.starts_with('#') => format!("{key}\"s3cret1\""),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A sample changed the ways corrupted input is: bytes overwritten, cut short,
/// a random chunk spliced in.
fn mutated(sample: impl Into<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let sample: Vec<u8> = sample.into();
    let len = sample.len();
    (
        prop::collection::vec((0..len, any::<u8>()), 0..8),
        0..=len,
        0..=len,
        prop::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(move |(flips, cut, at, chunk)| {
            let mut bytes = sample.clone();
            for (i, b) in flips {
                bytes[i] = b;
            }
            let at = at.min(bytes.len());
            bytes.splice(at..at, chunk);
            bytes.truncate(cut.max(1).min(bytes.len()));
            bytes
        })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..1024)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn jgoods_webhooks_never_panic(
        body in prop_oneof![bytes(), mutated(JGOODS_ORDER)],
        ts in proptest::option::of(".{0,24}"),
        sig in proptest::option::of(".{0,80}"),
        auth in proptest::option::of(".{0,40}"),
    ) {
        jgoods_webhook(ts.as_deref(), sig.as_deref(), auth.as_deref(), &body);
    }

    #[test]
    fn komoju_webhooks_never_panic(
        body in prop_oneof![bytes(), mutated(KOMOJU_EVENT)],
        sig in proptest::option::of(".{0,80}"),
    ) {
        komoju_webhook(sig.as_deref(), &body);
    }

    #[test]
    fn rakuten_answers_never_panic(body in prop_oneof![bytes(), mutated(RAKUTEN_ANSWER)]) {
        rakuten_answer(&body);
    }

    #[test]
    fn yahoo_answers_never_panic(body in prop_oneof![bytes(), mutated(YAHOO_ORDER_INFO)]) {
        yahoo_answer(&body);
    }

    #[test]
    fn kuroneko_answers_never_panic(body in prop_oneof![bytes(), mutated(KURONEKO_RETURN)]) {
        kuroneko_answer(&body);
    }

    #[test]
    fn atobarai_answers_never_panic(body in prop_oneof![bytes(), mutated(ATOBARAI_RESPONSE)]) {
        atobarai_answer(&body);
    }

    #[test]
    fn stock_imports_never_panic(body in prop_oneof![bytes(), mutated(STOCK_CSV)]) {
        stock_import(&body);
    }

    #[test]
    fn config_texts_never_panic(text in prop_oneof![
        ".{0,512}",
        mutated(config_sample()).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]) {
        config_text(&text);
    }
}

#[test]
fn the_samples_are_accepted() {
    assert!(jgoods_webhook(None, None, None, JGOODS_ORDER.as_bytes()));
    assert!(kuroneko_answer(KURONEKO_RETURN.as_bytes()));
    assert!(atobarai_answer(ATOBARAI_RESPONSE.as_bytes()));
    assert!(stock_import(STOCK_CSV.as_bytes()));
    assert!(config_text(&config_sample()), "{}", config_sample());
}
