//! Wire ⇄ neutral: the order model as Rakuten sends it, validated, into
//! [`RakutenOrder`], and back (for round-trip tests).

use crate::domain::ident::identifier;
use serde_json::Value;

use super::*;
use crate::providers::rakuten_pay::{
    Item, Package, Person, Progress, RakutenOrder, ShippingRow, Totals,
};

// ---------------------------------------------------------------------------
// Conversion
// ---------------------------------------------------------------------------

/// Why an order from getOrder was refused. `order_number` is `None` only when
/// the order did not even carry a readable one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {}: {field}: {message}", order_number.as_deref().unwrap_or("<no orderNumber>"))]
pub struct WireError {
    pub order_number: Option<String>,
    /// A JSON path such as `PackageModelList[0].ItemModelList[1].units`, or
    /// `order` for a shape serde refused.
    pub field: String,
    pub message: String,
}

/// Parses one `OrderModel` and converts it, all or nothing: never half an order.
pub fn order_from_value(value: Value) -> Result<RakutenOrder, WireError> {
    let order_number = value
        .get("orderNumber")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(64).collect::<String>());
    let raw: RakutenOrderModel = serde_json::from_value(value).map_err(|e| WireError {
        order_number: order_number.clone(),
        field: "order".to_string(),
        message: format!("not a Rakuten order: {e}"),
    })?;
    order_from_wire(&raw)
}

/// Converts an already deserialised order into the neutral type, checking what
/// serde cannot (datetimes, units, at least one package with lines).
pub fn order_from_wire(raw: &RakutenOrderModel) -> Result<RakutenOrder, WireError> {
    let number = raw.order_number.trim();
    let shown: String = number
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    let fail = |field: &str, message: &str| WireError {
        order_number: (!shown.is_empty()).then(|| shown.clone()),
        field: field.to_string(),
        message: message.to_string(),
    };
    if let Err(e) = identifier(number, 64) {
        return Err(fail("orderNumber", &e));
    }
    let ordered_at = parse_datetime_lenient(&raw.order_datetime)
        .ok_or_else(|| fail("orderDatetime", "not a datetime"))?;
    let optional_time = |field: &str, v: &Option<String>| match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_datetime_lenient(s)
            .map(Some)
            .ok_or_else(|| fail(field, "not a datetime")),
    };
    let confirmed_at = optional_time("shopOrderCfmDatetime", &raw.shop_order_cfm_datetime)?;
    let fixed_at = optional_time("orderFixDatetime", &raw.order_fix_datetime)?;
    let settlement = raw.settlement.clone().unwrap_or_default();
    let rakuten_settlement = match settlement.rpay_settlement_flag {
        Some(1) => true,
        Some(0) => false,
        Some(_) => return Err(fail("SettlementModel.rpaySettlementFlag", "must be 0 or 1")),
        None => return Err(fail("SettlementModel.rpaySettlementFlag", "missing")),
    };
    if raw.packages.is_empty() {
        return Err(fail(
            "PackageModelList",
            "an order needs at least one package",
        ));
    }
    let packages = raw
        .packages
        .iter()
        .enumerate()
        .map(|(p, package)| package_from_wire(p, package, &fail))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RakutenOrder {
        order_number: number.to_string(),
        progress: Progress::from_code(raw.order_progress),
        ordered_at,
        confirmed_at,
        fixed_at,
        rakuten_settlement,
        settlement_method_code: settlement.settlement_method_code,
        settlement_method: settlement.settlement_method.unwrap_or_default(),
        customer: person_from_wire(raw.orderer.as_ref()),
        totals: Totals {
            goods: amount(raw.goods_price),
            postage: amount(raw.postage_price),
            delivery: amount(raw.delivery_price),
            total: amount(raw.total_price),
            request: amount(raw.request_price),
        },
        packages,
    })
}

/// One package of an order, its lines and shipping rows checked.
fn package_from_wire(
    p: usize,
    package: &RakutenPackageModel,
    fail: &dyn Fn(&str, &str) -> WireError,
) -> Result<Package, WireError> {
    let at = |f: &str| format!("PackageModelList[{p}].{f}");
    if package.items.is_empty() {
        return Err(fail(
            &at("ItemModelList"),
            "a package needs at least one line",
        ));
    }
    let package_deleted = deleted_flag(package.package_delete_flag)
        .ok_or_else(|| fail(&at("packageDeleteFlag"), "must be 0 or 1"))?;
    let mut items = Vec::with_capacity(package.items.len());
    for (i, item) in package.items.iter().enumerate() {
        let at = |f: &str| at(&format!("ItemModelList[{i}].{f}"));
        let deleted = deleted_flag(item.delete_item_flag)
            .ok_or_else(|| fail(&at("deleteItemFlag"), "must be 0 or 1"))?;
        let price = item.price.ok_or_else(|| fail(&at("price"), "missing"))?;
        let units = item
            .units
            .and_then(|u| u32::try_from(u).ok())
            .ok_or_else(|| fail(&at("units"), "must be a whole number >= 0"))?;
        let sku = item.skus.first();
        items.push(Item {
            item_detail_id: item.item_detail_id,
            name: item.item_name.clone().unwrap_or_default(),
            item_number: nonempty(item.item_number.as_deref()),
            manage_number: nonempty(item.manage_number.as_deref()),
            merchant_defined_sku_id: nonempty(
                sku.and_then(|s| s.merchant_defined_sku_id.as_deref()),
            ),
            variant_id: nonempty(sku.and_then(|s| s.variant_id.as_deref())),
            price,
            units,
            deleted: deleted || package_deleted,
        });
    }
    let mut shipping = Vec::with_capacity(package.shipping.len());
    for (r, row) in package.shipping.iter().enumerate() {
        let shipping_date = match row.shipping_date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(parse_date_lenient(s).ok_or_else(|| {
                fail(
                    &at(&format!("ShippingModelList[{r}].shippingDate")),
                    "not a date",
                )
            })?),
        };
        shipping.push(ShippingRow {
            shipping_detail_id: row.shipping_detail_id,
            delivery_company: row
                .delivery_company
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_string(),
            shipping_number: nonempty(row.shipping_number.as_deref()),
            shipping_date,
        });
    }
    Ok(Package {
        basket_id: package.basket_id,
        recipient: person_from_wire(package.sender.as_ref()),
        items,
        shipping,
        deleted: package_deleted,
    })
}

/// The wire form of a neutral order, for tests that round-trip through it.
/// Undetermined amounts become `-9999`.
pub fn order_to_wire(order: &RakutenOrder) -> RakutenOrderModel {
    let wire_amount = |a: Option<i64>| Some(a.unwrap_or(AMOUNT_UNDETERMINED));
    RakutenOrderModel {
        order_number: order.order_number.clone(),
        order_progress: order.progress.code(),
        order_datetime: format_jst(&order.ordered_at),
        shop_order_cfm_datetime: order.confirmed_at.map(|t| format_jst(&t)),
        order_fix_datetime: order.fixed_at.map(|t| format_jst(&t)),
        goods_price: wire_amount(order.totals.goods),
        postage_price: wire_amount(order.totals.postage),
        delivery_price: wire_amount(order.totals.delivery),
        total_price: wire_amount(order.totals.total),
        request_price: wire_amount(order.totals.request),
        orderer: Some(person_to_wire(&order.customer)),
        settlement: Some(RakutenSettlementModel {
            settlement_method_code: order.settlement_method_code,
            settlement_method: Some(order.settlement_method.clone()),
            rpay_settlement_flag: Some(i64::from(order.rakuten_settlement)),
        }),
        packages: order
            .packages
            .iter()
            .map(|p| RakutenPackageModel {
                basket_id: p.basket_id,
                sender: Some(person_to_wire(&p.recipient)),
                items: p
                    .items
                    .iter()
                    .map(|i| RakutenItemModel {
                        item_detail_id: i.item_detail_id,
                        item_name: Some(i.name.clone()),
                        item_id: None,
                        item_number: i.item_number.clone(),
                        manage_number: i.manage_number.clone(),
                        price: Some(i.price),
                        units: Some(i64::from(i.units)),
                        skus: if i.merchant_defined_sku_id.is_some() || i.variant_id.is_some() {
                            vec![RakutenSkuModel {
                                variant_id: i.variant_id.clone(),
                                merchant_defined_sku_id: i.merchant_defined_sku_id.clone(),
                            }]
                        } else {
                            Vec::new()
                        },
                        delete_item_flag: None,
                    })
                    .collect(),
                shipping: p
                    .shipping
                    .iter()
                    .map(|s| RakutenShippingModel {
                        shipping_detail_id: s.shipping_detail_id,
                        shipping_number: s.shipping_number.clone(),
                        delivery_company: (!s.delivery_company.is_empty())
                            .then(|| s.delivery_company.clone()),
                        shipping_date: s.shipping_date.map(format_date),
                    })
                    .collect(),
                package_delete_flag: None,
            })
            .collect(),
    }
}

/// `deleteItemFlag` / `packageDeleteFlag`: absent or 0 is "not deleted";
/// `None` for a value outside the contract.
fn deleted_flag(flag: Option<i64>) -> Option<bool> {
    match flag {
        None | Some(0) => Some(false),
        Some(1) => Some(true),
        Some(_) => None,
    }
}

fn person_from_wire(p: Option<&RakutenPersonModel>) -> Person {
    let Some(p) = p else {
        return Person::default();
    };
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
    let phone: Vec<String> = [&p.phone_number1, &p.phone_number2, &p.phone_number3]
        .into_iter()
        .map(text)
        .filter(|s| !s.is_empty())
        .collect();
    Person {
        family_name: text(&p.family_name),
        first_name: text(&p.first_name),
        family_name_kana: text(&p.family_name_kana),
        first_name_kana: text(&p.first_name_kana),
        postal_code: format!("{}{}", text(&p.zip_code1), text(&p.zip_code2)),
        prefecture: text(&p.prefecture),
        city: text(&p.city),
        sub_address: text(&p.sub_address),
        phone: phone.join("-"),
        email: nonempty(p.email_address.as_deref()),
    }
}

fn person_to_wire(p: &Person) -> RakutenPersonModel {
    let (zip1, zip2) = if p.postal_code.len() == 7 && p.postal_code.is_char_boundary(3) {
        let (a, b) = p.postal_code.split_at(3);
        (a.to_string(), b.to_string())
    } else {
        (p.postal_code.clone(), String::new())
    };
    let mut phone = p.phone.splitn(3, '-').map(str::to_string);
    RakutenPersonModel {
        zip_code1: Some(zip1),
        zip_code2: Some(zip2),
        prefecture: Some(p.prefecture.clone()),
        city: Some(p.city.clone()),
        sub_address: Some(p.sub_address.clone()),
        family_name: Some(p.family_name.clone()),
        first_name: Some(p.first_name.clone()),
        family_name_kana: Some(p.family_name_kana.clone()),
        first_name_kana: Some(p.first_name_kana.clone()),
        phone_number1: phone.next(),
        phone_number2: phone.next(),
        phone_number3: phone.next(),
        email_address: p.email.clone(),
    }
}

/// `-9999` (and any other negative amount, which Rakuten never means as money) → `None`.
fn amount(v: Option<i64>) -> Option<i64> {
    v.filter(|a| *a != AMOUNT_UNDETERMINED && *a >= 0)
}

fn nonempty(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
