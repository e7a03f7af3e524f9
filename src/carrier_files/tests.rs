//! The three formats without a simulator: the export's bytes against the
//! layout, the written-back file imported into a real SQLite store, the
//! all-or-nothing refusal, the re-import that changes nothing.

use encoding_rs::SHIFT_JIS;
use serde_json::json;

use super::layout::Field;
use super::*;
use crate::domain::direct::DirectOrder;
use crate::domain::{Channel, OrderState};
use crate::engine::erp::PaymentPolicy;
use crate::store::{Store, orders};

const JA: Language = Language::Ja;

fn sender() -> Sender {
    Sender {
        name: "有限会社サンプル商店".into(),
        postal_code: "9800011".into(),
        address: "宮城県仙台市青葉区上杉1-2-3".into(),
        phone: "022-123-4567".into(),
        yamato_billing_code: "0123456789".into(),
        yamato_freight_code: "01".into(),
    }
}

async fn store_with(orders: &[(&str, &str)]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path(), 0).unwrap();
    for (id, address) in orders {
        let body = json!({
            "channel": "direct", "id": id, "ordered_at": "2026-12-01T10:00:00+09:00",
            "customer": {"name": "山田 太郎", "postal_code": "1000001",
                         "address": address, "phone": "03-1234-5678"},
            "lines": [{"line_no": 1, "sku": "KYUSU", "name": "南部鉄器 急須", "qty": 1, "unit_price": 5500}],
            "payment": {"method": "none"}
        });
        let order = DirectOrder::parse(body.to_string().as_bytes()).unwrap();
        crate::flows::direct::register(&store, order).await.unwrap();
    }
    (dir, store)
}

async fn order(store: &Store, id: &str) -> crate::domain::Order {
    let id = id.to_string();
    store
        .read(move |c| orders::load(c, Channel::Direct, &id))
        .await
        .unwrap()
        .unwrap()
}

async fn export(store: &Store, format: CarrierFormat) -> export::Rendered {
    store::export(store, format, PaymentPolicy::default(), sender(), JA)
        .await
        .unwrap()
}

/// The lines of a Shift_JIS CRLF file, as cells.
fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let (text, _, bad) = SHIFT_JIS.decode(bytes);
    assert!(!bad, "the file is Shift_JIS");
    assert!(text.ends_with("\r\n"), "lines end with CRLF");
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "no bare LF: {text:?}"
    );
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The file a label program writes back: `(reference, tracking, date)` in
/// the format's read-back columns, Shift_JIS, with `eol`.
fn written_back(format: CarrierFormat, labels: &[(&str, &str, &str)], eol: &str) -> Vec<u8> {
    let rb = format.read_back();
    let width = format.columns().len().max(rb.tracking_column).max(3);
    let mut text = String::new();
    let mut header = vec![String::new(); width];
    header[rb.order_column - 1] = rb.order_headers[0].to_string();
    header[rb.tracking_column - 1] = "送り状番号".into();
    text.push_str(&header.join(","));
    text.push_str(eol);
    for (reference, tracking, date) in labels {
        let mut cells = vec![String::new(); width];
        cells[rb.order_column - 1] = reference.to_string();
        cells[rb.tracking_column - 1] = tracking.to_string();
        if let Some(c) = rb.date_column {
            cells[c - 1] = date.to_string();
        }
        text.push_str(&cells.join(","));
        text.push_str(eol);
    }
    SHIFT_JIS.encode(&text).0.into_owned()
}

async fn import_bytes(
    store: &Store,
    format: CarrierFormat,
    bytes: &[u8],
) -> Result<store::Imported, Vec<import::Problem>> {
    let labels = import::parse(format, bytes, JA)?;
    store::import(store, format, labels, PaymentPolicy::default(), JA)
        .await
        .unwrap()
}

#[tokio::test]
async fn each_format_round_trips_from_export_to_recorded_shipment() {
    for (format, tracking) in [
        (CarrierFormat::YamatoB2, "4123-4567-8901"),
        (CarrierFormat::SagawaEhiden, "412345678901"),
        (CarrierFormat::YupackPrintR, "1234-5678-9012"),
    ] {
        for eol in ["\r\n", "\n"] {
            let (_dir, store) =
                store_with(&[("SHOP-1", "東京都千代田区千代田1-1 サンプルビル3階")]).await;
            let file = export(&store, format).await;
            assert!(file.refused.is_empty(), "{format:?}: {:?}", file.refused);
            let rows = rows(&file.bytes);
            let columns = format.columns();
            let data = if format.header_line() {
                let header: Vec<&str> = columns.iter().map(|c| c.header).collect();
                assert_eq!(rows[0], header, "{format:?}: the header line");
                &rows[1..]
            } else {
                &rows[..]
            };
            assert_eq!(data.len(), 1, "{format:?}");
            let row = &data[0];
            assert_eq!(row.len(), columns.len(), "{format:?}: every column");
            for (c, cell) in columns.iter().zip(row) {
                assert!(
                    export::sjis_len(cell) <= c.max_bytes,
                    "{format:?} {}: {cell:?} is longer than {}",
                    c.header,
                    c.max_bytes
                );
                assert!(
                    !c.required || !cell.is_empty(),
                    "{format:?} {} is empty",
                    c.header
                );
                let expected = match c.field {
                    Field::OrderRef => Some("SHOP-1"),
                    Field::Postal => Some("100-0001"),
                    Field::Phone => Some("03-1234-5678"),
                    Field::Name(0) => Some("山田 太郎"),
                    Field::SenderPostal => Some("980-0011"),
                    _ => None,
                };
                if let Some(e) = expected {
                    assert_eq!(cell, e, "{format:?} {}", c.header);
                }
            }
            let address: String = columns
                .iter()
                .zip(row)
                .filter(|(c, _)| matches!(c.field, Field::Address(_)))
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(
                address, "東京都千代田区千代田1-1 サンプルビル3階",
                "{format:?}"
            );

            let back = written_back(format, &[("SHOP-1", tracking, "2026/12/03")], eol);
            let done = import_bytes(&store, format, &back).await.unwrap();
            assert_eq!(
                done,
                store::Imported {
                    shipped: 1,
                    unchanged: 0
                }
            );
            let o = order(&store, "SHOP-1").await;
            assert_eq!(o.state, OrderState::Shipped, "{format:?}");
            assert_eq!(o.shipments.len(), 1);
            assert_eq!(o.shipments[0].carrier, format.carrier());
            assert_eq!(o.shipments[0].tracking_no, tracking.replace('-', ""));
            assert_eq!(o.shipments[0].shipped_on.to_string(), "2026-12-03");
            // Shipped: not in the next file.
            assert!(export(&store, format).await.written.is_empty());
        }
    }
}

#[tokio::test]
async fn a_bad_row_refuses_the_whole_file_naming_its_line_and_column() {
    let (_dir, store) =
        store_with(&[("SHOP-1", "東京都千代田区1-1"), ("SHOP-2", "東京都港区2-2")]).await;
    let format = CarrierFormat::YamatoB2;
    let back = written_back(
        format,
        &[
            ("SHOP-1", "412345678901", "2026/12/03"),
            ("SHOP-2", "41234", "2026/12/03"),
            ("SHOP-9", "412345678903", "2026/12/03"),
        ],
        "\r\n",
    );
    let problems = import::parse(format, &back, JA).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].line, problems[0].column), (3, 4));
    assert_eq!(
        problems[0].describe(JA),
        "3行目 4列: 送り状番号「41234」は数字12桁ではありません。"
    );
    // Well-formed, but an order that does not exist: still nothing recorded.
    let back = written_back(
        format,
        &[
            ("SHOP-1", "412345678901", "2026/12/03"),
            ("SHOP-9", "412345678903", "2026/12/03"),
        ],
        "\r\n",
    );
    let problems = import_bytes(&store, format, &back).await.unwrap_err();
    assert_eq!(
        problems.iter().map(|p| p.describe(JA)).collect::<Vec<_>>(),
        ["3行目 1列: お客様管理番号「SHOP-9」の受注はありません。"]
    );
    assert_eq!(order(&store, "SHOP-1").await.state, OrderState::Confirmed);
    assert!(order(&store, "SHOP-1").await.shipments.is_empty());
    // A line with a column missing.
    let mut short = written_back(format, &[("SHOP-1", "412345678901", "")], "\n");
    short.extend_from_slice(b"SHOP-2,,,412345678902\n");
    let problems = import::parse(format, &short, JA).unwrap_err();
    assert_eq!((problems[0].line, problems[0].column), (3, 0));
    assert!(problems[0].message.contains("列の数"), "{problems:?}");
}

#[tokio::test]
async fn the_same_file_again_changes_nothing_and_another_number_is_refused() {
    let (_dir, store) = store_with(&[("SHOP-1", "東京都千代田区1-1")]).await;
    let format = CarrierFormat::SagawaEhiden;
    let back = written_back(format, &[("SHOP-1", "412345678901", "20261203")], "\r\n");
    assert_eq!(
        import_bytes(&store, format, &back).await.unwrap().shipped,
        1
    );
    let count = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .read(|c| {
                    Ok(c.query_row(
                        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM shipments)",
                        [],
                        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
                    )?)
                })
                .await
                .unwrap()
        }
    };
    let before = count(&store).await;
    let again = import_bytes(&store, format, &back).await.unwrap();
    assert_eq!(
        again,
        store::Imported {
            shipped: 0,
            unchanged: 1
        }
    );
    assert_eq!(count(&store).await, before, "nothing written");
    let other = written_back(format, &[("SHOP-1", "499999999999", "20261203")], "\r\n");
    let problems = import_bytes(&store, format, &other).await.unwrap_err();
    assert_eq!(
        problems[0].describe(JA),
        "2行目 1列: 受注 SHOP-1 は別の送り状番号(412345678901)で出荷済みです。"
    );
    assert_eq!(count(&store).await, before);
}

#[tokio::test]
async fn rows_that_cannot_be_written_right_are_refused_with_their_reason() {
    let long = "北海道札幌市中央区北一条西二丁目一番地 札幌サンプルタワー百二十三階 株式会社サンプル物流センター 第二倉庫 受付";
    let (_dir, store) = store_with(&[
        ("SHOP-OK", "東京都千代田区1-1"),
        ("SHOP-EMOJI", "東京都港区2-2 😀ハウス"),
        ("SHOP-LONG", long),
        ("SHOP-NOWHERE", "東京都港区3-3"),
    ])
    .await;
    store
        .write(|tx| {
            tx.execute(
                "UPDATE orders SET ship_to = NULL WHERE id = 'SHOP-NOWHERE'",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let file = export(&store, CarrierFormat::YamatoB2).await;
    assert_eq!(file.written, [(Channel::Direct, "SHOP-OK".to_string())]);
    let reasons: Vec<(&str, &str)> = file
        .refused
        .iter()
        .map(|r| (r.id.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "SHOP-EMOJI",
                "「お届け先住所」の文字「😀」はShift_JISで書けません。受注の内容を直してください。"
            ),
            (
                "SHOP-LONG",
                "お届け先住所が長すぎます(110バイト、96バイトまで)。"
            ),
            ("SHOP-NOWHERE", "お届け先が保存されていません。"),
        ]
    );
    // Without [carrier_files], B2クラウド's required sender is named.
    let file = store::export(
        &store,
        CarrierFormat::YamatoB2,
        PaymentPolicy::default(),
        Sender::default(),
        JA,
    )
    .await
    .unwrap();
    assert!(
        file.refused
            .iter()
            .any(|r| r.id == "SHOP-OK" && r.reason.contains("[carrier_files]")),
        "{:?}",
        file.refused
    );
}

#[tokio::test]
async fn an_id_longer_than_the_column_travels_as_a_short_reference() {
    let id = "SHOP-20261201-000123";
    let (_dir, store) = store_with(&[(id, "東京都千代田区1-1")]).await;
    let format = CarrierFormat::YupackPrintR;
    let first = rows(&export(&store, format).await.bytes);
    let again = rows(&export(&store, format).await.bytes);
    assert_eq!(first[1][0], "OS00000001");
    assert_eq!(again[1][0], "OS00000001", "the same reference every time");
    // B2クラウド's column holds the id itself.
    assert_eq!(
        rows(&export(&store, CarrierFormat::YamatoB2).await.bytes)[1][0],
        id
    );
    let back = written_back(
        format,
        &[("OS00000001", "123456789012", "20261203")],
        "\r\n",
    );
    assert_eq!(
        import_bytes(&store, format, &back).await.unwrap().shipped,
        1
    );
    assert_eq!(order(&store, id).await.state, OrderState::Shipped);
}

#[test]
fn formats_parse_by_their_names() {
    for f in CarrierFormat::ALL {
        assert_eq!(CarrierFormat::parse(f.as_str()), Some(f));
        assert_eq!(f.read_back().order_column, {
            let rb = layout::READ_BACK.iter().find(|(g, _)| *g == f).unwrap().1;
            rb.order_column
        });
    }
    assert_eq!(CarrierFormat::parse("yamato"), None);
    assert!(unknown_format(JA, "yamato").contains("yamato-b2"));
}
