//! The store API's calls on top of [`YahooClient`]: `orderList`,
//! `orderInfo`, mark seen (`orderChange`), `orderShipStatusChange`,
//! `orderStatusChange` to 完了, and the reading of their answers into the
//! neutral types of [`super`].

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::client::YahooClient;
use super::wire::{self, Node, element};
use super::{Line, ShipTo, YahooOrder};
use crate::call::CallError;
use crate::domain::Carrier;

/// Orders per orderList page (the contract's maximum).
pub const PAGE_SIZE: u32 = 2000;
/// The fields orderList is asked for (`Field` is required).
const LIST_FIELDS: &str = "OrderId,Version,OrderTime,LastUpdateTime,OrderStatus,IsSeen,IsReadOnly,\
FraudHoldStatus,PublicationTime,PayStatus,SettleStatus,PayType,PayMethod,ShipStatus";

/// Which time the search window is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// `OrderTimeFrom`/`To`.
    OrderTime,
    /// `PublicationTimeFrom`/`To` (fraud holds released later).
    PublicationTime,
}

/// One order of an orderList page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `OrderId`.
    pub order_id: String,
    /// [`super::fingerprint`].
    pub listed: String,
}

/// An order read failed for this order alone (unreadable): the `code` of the
/// [`CallError::Rejected`].
pub const MALFORMED_ORDER: &str = "MALFORMED_ORDER";

fn bad(order_id: &str, what: &str) -> CallError {
    CallError::Rejected {
        http_status: 200,
        code: MALFORMED_ORDER.into(),
        message: format!("order {order_id}: {what}"),
    }
}

/// Whether `id` is an `OrderId` as the contract spells it (≤ 50 bytes of
/// `[a-zA-Z0-9-]`).
pub fn valid_order_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 50 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl YahooClient {
    /// Every order whose `window` time is in `[from, to]`, read-only ones
    /// included (`ReadOnlyMode 2`), all pages.
    pub async fn order_list(
        &self,
        window: Window,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<Listed>, CallError> {
        let (from_tag, to_tag) = match window {
            Window::OrderTime => ("OrderTimeFrom", "OrderTimeTo"),
            Window::PublicationTime => ("PublicationTimeFrom", "PublicationTimeTo"),
        };
        let mut found = vec![];
        let mut start = 1u32;
        loop {
            let body = format!(
                "<Req><Search><Result>{PAGE_SIZE}</Result><Start>{start}</Start><Sort>+order_time</Sort>\
                 <Condition>{}{}<ReadOnlyMode>2</ReadOnlyMode></Condition>{}</Search>{}</Req>",
                element(from_tag, &wire::condition_time(from)),
                element(to_tag, &wire::condition_time(to)),
                element("Field", LIST_FIELDS),
                element("SellerId", self.seller_id()),
            );
            let root = self.order_call("orderList", body).await?;
            let total: u64 = root.text_of("TotalCount").parse().unwrap_or(0);
            let search = root.find("Search");
            for info in search.into_iter().flat_map(|s| s.all("OrderInfo")) {
                let id = info.text_of("OrderId");
                if id.is_empty() {
                    continue; // `<OrderInfo />` past the end
                }
                if !valid_order_id(id) {
                    tracing::warn!(
                        "Yahoo! listed an order id outside the contract's form; skipped"
                    );
                    continue;
                }
                found.push(Listed {
                    order_id: id.to_string(),
                    listed: super::fingerprint(info),
                });
            }
            if u64::from(start) + u64::from(PAGE_SIZE) > total {
                return Ok(found);
            }
            start = start.saturating_add(PAGE_SIZE);
        }
    }

    /// One order, all fields.
    pub async fn order_info(&self, order_id: &str) -> Result<YahooOrder, CallError> {
        let body = format!(
            "<Req><Target>{}</Target>{}</Req>",
            element("OrderId", order_id),
            element("SellerId", self.seller_id())
        );
        let root = self.order_call("orderInfo", body).await?;
        let info = root
            .find("OrderInfo")
            .ok_or_else(|| bad(order_id, "no OrderInfo"))?;
        read_order(info)
    }

    /// Marks the order seen (`IsSeen=true`: 新規注文 becomes 処理中).
    pub async fn mark_seen(&self, order_id: &str) -> Result<(), CallError> {
        let body = format!(
            "<Req><Target>{}</Target><Order><IsSeen>true</IsSeen></Order>{}</Req>",
            element("OrderId", order_id),
            element("SellerId", self.seller_id())
        );
        self.order_call("orderChange", body).await.map(|_| ())
    }

    /// Reports the parcel: `ShipStatus 3` with the carrier's code, the
    /// tracking number and the day. Answers the warnings' codes.
    pub async fn ship(
        &self,
        order_id: &str,
        carrier: Carrier,
        tracking_no: &str,
        shipped_on: NaiveDate,
    ) -> Result<Vec<String>, CallError> {
        let body = format!(
            "<Req><Target>{}<IsPointFix>true</IsPointFix></Target><Order><Ship>\
             <ShipStatus>3</ShipStatus>{}{}{}</Ship></Order>{}</Req>",
            element("OrderId", order_id),
            element("ShipCompanyCode", super::ship_company_code(carrier)),
            element("ShipInvoiceNumber1", tracking_no),
            element("ShipDate", &wire::ship_date(shipped_on)),
            element("SellerId", self.seller_id())
        );
        let root = self.order_call("orderShipStatusChange", body).await?;
        Ok(warnings(&root))
    }

    /// Sets 完了 (fixes the buyer's points and the sale): only when the
    /// merchant turned `complete_orders` on.
    pub async fn complete(&self, order_id: &str) -> Result<Vec<String>, CallError> {
        let body = format!(
            "<Req><Target>{}<IsPointFix>true</IsPointFix></Target><Order>\
             <OrderStatus>5</OrderStatus></Order>{}</Req>",
            element("OrderId", order_id),
            element("SellerId", self.seller_id())
        );
        let root = self.order_call("orderStatusChange", body).await?;
        Ok(warnings(&root))
    }
}

fn warnings(root: &Node) -> Vec<String> {
    let mut codes = vec![];
    collect_warnings(root, &mut codes);
    codes
}

fn collect_warnings(node: &Node, codes: &mut Vec<String>) {
    for c in &node.children {
        if c.name == "Warning" {
            codes.push(c.text_of("Code").to_string());
        } else {
            collect_warnings(c, codes);
        }
    }
}

fn number<T: std::str::FromStr>(node: &Node, name: &str, id: &str) -> Result<T, CallError> {
    node.text_of(name)
        .parse()
        .map_err(|_| bad(id, &format!("{name} is not a number")))
}

fn flag(text: &str) -> bool {
    matches!(text, "true" | "1")
}

/// Reads one `<OrderInfo>`.
pub fn read_order(info: &Node) -> Result<YahooOrder, CallError> {
    let id = info.text_of("OrderId");
    if !valid_order_id(id) {
        return Err(bad("?", "OrderId outside the contract's form"));
    }
    let ordered_at =
        wire::parse_time(info.text_of("OrderTime")).ok_or_else(|| bad(id, "OrderTime"))?;
    let mut lines = vec![];
    for item in info.all("Item") {
        let quantity: u32 = number(item, "Quantity", id)?;
        let unit_price: i64 = number(item, "UnitPrice", id)?;
        if unit_price < 0 {
            return Err(bad(id, "negative UnitPrice"));
        }
        lines.push(Line {
            line_id: number(item, "LineId", id)?,
            item_id: item.text_of("ItemId").to_string(),
            sub_code: item.text_of("SubCode").to_string(),
            title: item.text_of("Title").to_string(),
            quantity,
            unit_price,
        });
    }
    let ship = info.child("Ship").unwrap_or(info);
    let ship_to = ShipTo {
        name: join(
            &[ship.text_of("ShipLastName"), ship.text_of("ShipFirstName")],
            " ",
        ),
        postal_code: ship.text_of("ShipZipCode").to_string(),
        address: join(
            &[
                ship.text_of("ShipPrefecture"),
                ship.text_of("ShipCity"),
                ship.text_of("ShipAddress1"),
                ship.text_of("ShipAddress2"),
            ],
            "",
        ),
        phone: ship.text_of("ShipPhoneNumber").to_string(),
    };
    Ok(YahooOrder {
        order_id: id.to_string(),
        status: number(info, "OrderStatus", id)?,
        is_seen: flag(info.text_of("IsSeen")),
        read_only: flag(info.text_of("IsReadOnly")),
        ordered_at,
        listed: super::fingerprint(info),
        pay_status: info.text_of("PayStatus").parse().unwrap_or(0),
        pay_type: info.text_of("PayType").parse().unwrap_or(0),
        ship_status: info.text_of("ShipStatus").parse().unwrap_or(0),
        lines,
        ship_to,
    })
}

fn join(parts: &[&str], sep: &str) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_read_from_its_nested_groups() {
        let xml = "<ResultSet><Result><Status>OK</Status><OrderInfo>\
            <OrderId>shop-1</OrderId><OrderTime>20261201101530</OrderTime>\
            <LastUpdateTime>2026-12-01T10:20:00+09:00</LastUpdateTime><OrderStatus>2</OrderStatus>\
            <IsSeen>false</IsSeen><IsReadOnly>1</IsReadOnly>\
            <Pay><PayStatus>0</PayStatus><PayType>1</PayType></Pay>\
            <Ship><ShipStatus>0</ShipStatus><ShipLastName>山田</ShipLastName><ShipFirstName>花子</ShipFirstName>\
            <ShipPrefecture>東京都</ShipPrefecture><ShipCity>千代田区</ShipCity></Ship>\
            <Item><LineId>1</LineId><ItemId>tee</ItemId><SubCode>red</SubCode><Title>T</Title>\
            <Quantity>2</Quantity><UnitPrice>1500</UnitPrice></Item>\
            </OrderInfo></Result></ResultSet>";
        let root = wire::parse(xml.as_bytes()).unwrap();
        let o = read_order(root.find("OrderInfo").unwrap()).unwrap();
        assert_eq!(o.status, 2);
        assert!(!o.is_seen && o.read_only && !o.shippable());
        assert_eq!(o.lines[0].sku(), "tee:red");
        assert_eq!(o.ship_to.name, "山田 花子");
        assert_eq!(o.ship_to.address, "東京都千代田区");
    }

    #[test]
    fn unreadable_orders_are_refused() {
        for bad_item in [
            "<Quantity>x</Quantity><UnitPrice>1</UnitPrice><LineId>1</LineId>",
            "<Quantity>1</Quantity><UnitPrice>-5</UnitPrice><LineId>1</LineId>",
        ] {
            let xml = format!(
                "<OrderInfo><OrderId>shop-1</OrderId><OrderTime>20261201101530</OrderTime>\
                 <OrderStatus>2</OrderStatus><Item>{bad_item}</Item></OrderInfo>"
            );
            let root = wire::parse(xml.as_bytes()).unwrap();
            assert!(read_order(&root).is_err(), "{bad_item}");
        }
        assert!(!valid_order_id("shop_1"));
        assert!(!valid_order_id(&"a".repeat(51)));
    }
}
