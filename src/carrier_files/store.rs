//! The store's side of the label files: which orders are ready to ship and
//! where they go, the short references of ids too long for a label
//! program's column, and the written-back file recorded as shipments in one
//! transaction through the same flow as `orders ship`.

use rusqlite::{Connection, OptionalExtension, params};

use super::export::{ExportOrder, Rendered, ShipTo};
use super::import::{Label, Problem};
use super::{CarrierFormat, Sender, layout::Field};
use crate::config::Language;
use crate::domain::{Channel, Order, OrderState, time};
use crate::engine::erp::{self as rules, PaymentPolicy, Refusal, ShipmentRequest};
use crate::flows::erp::{CommandError, ship_in};
use crate::store::{self, Store, Tx, orders};

/// Most orders one file holds.
pub const MAX_ORDERS: u32 = 5_000;

/// The file of the orders ready to ship, and the orders it left out.
pub async fn export(
    store: &Store,
    format: CarrierFormat,
    policy: PaymentPolicy,
    sender: Sender,
    lang: Language,
) -> store::Result<Rendered> {
    let today = time::now().date_naive();
    let orders = store
        .write(move |tx| ready(tx, format, policy, today))
        .await?;
    Ok(super::export::render(format, &orders, &sender, today, lang))
}

/// The orders `orders ship` would accept now, with their references and
/// ship-to. Writes only the references of ids that do not fit.
fn ready(
    tx: &Tx<'_>,
    format: CarrierFormat,
    policy: PaymentPolicy,
    today: chrono::NaiveDate,
) -> store::Result<Vec<ExportOrder>> {
    let confirmed = orders::list(
        tx,
        &orders::OrderFilter {
            state: Some(OrderState::Confirmed),
            limit: MAX_ORDERS,
            ..Default::default()
        },
    )?;
    // The same rule as a shipment: paid per method, credit OK.
    let probe = ShipmentRequest {
        carrier: format.carrier(),
        tracking_no: String::new(),
        shipped_on: today,
        shipping_cost: None,
    };
    let room = format
        .columns()
        .iter()
        .find(|c| c.field == Field::OrderRef)
        .map_or(0, |c| c.max_bytes);
    let mut out = Vec::new();
    for o in confirmed
        .into_iter()
        .filter(|o| rules::ship(o, &probe, policy).is_ok())
    {
        let reference = reference(tx, &o, room)?;
        out.push(ExportOrder {
            ship_to: ship_to(tx, o.channel, &o.id)?,
            item_name: o
                .lines
                .first()
                .map(|l| match l.name.is_empty() {
                    true => l.sku.clone(),
                    false => l.name.clone(),
                })
                .unwrap_or_default(),
            channel: o.channel,
            id: o.id,
            reference,
        });
    }
    Ok(out)
}

/// The stored ship-to; `None` when the channel stored none or it is unreadable.
fn ship_to(conn: &Connection, channel: Channel, id: &str) -> store::Result<Option<ShipTo>> {
    let raw: Option<String> = conn
        .query_row(
            "SELECT ship_to FROM orders WHERE channel = ?1 AND id = ?2",
            params![channel.as_str(), id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

/// Prefix of a short reference.
const REF_PREFIX: &str = "OS";

/// The order's id when it fits the column and no other channel has an
/// order of that id; otherwise its short reference (made once, kept).
fn reference(tx: &Tx<'_>, o: &Order, room: usize) -> store::Result<String> {
    let fits = o.id.len() <= room
        && o.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !o.id.starts_with(REF_PREFIX);
    if fits {
        let same_id: i64 = tx.query_row(
            "SELECT COUNT(*) FROM orders WHERE id = ?1",
            params![o.id],
            |r| r.get(0),
        )?;
        if same_id == 1 {
            return Ok(o.id.clone());
        }
    }
    tx.execute(
        "INSERT OR IGNORE INTO carrier_file_refs (channel, order_id) VALUES (?1, ?2)",
        params![o.channel.as_str(), o.id],
    )?;
    let n: i64 = tx.query_row(
        "SELECT id FROM carrier_file_refs WHERE channel = ?1 AND order_id = ?2",
        params![o.channel.as_str(), o.id],
        |r| r.get(0),
    )?;
    Ok(format!("{REF_PREFIX}{n:08}"))
}

/// The order a reference names: a short reference, else an order id that
/// only one channel has. `Err` says why not.
fn resolve(
    conn: &Connection,
    reference: &str,
    lang: Language,
) -> store::Result<Result<(Channel, String), String>> {
    if let Some(n) = reference
        .strip_prefix(REF_PREFIX)
        .and_then(|d| d.parse::<i64>().ok())
    {
        let found: Option<(String, String)> = conn
            .query_row(
                "SELECT channel, order_id FROM carrier_file_refs WHERE id = ?1",
                params![n],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((ch, id)) = found
            && let Some(ch) = Channel::parse(&ch)
        {
            return Ok(Ok((ch, id)));
        }
    }
    let mut stmt = conn.prepare_cached("SELECT channel FROM orders WHERE id = ?1 LIMIT 2")?;
    let channels: Vec<String> = stmt
        .query_map(params![reference], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let shown: String = reference.chars().take(40).collect();
    Ok(match channels.as_slice() {
        [one] => match Channel::parse(one) {
            Some(ch) => Ok((ch, reference.to_string())),
            None => Err(format!("unknown channel {one}")),
        },
        [] => Err(match lang {
            Language::Ja => format!("お客様管理番号「{shown}」の受注はありません。"),
            Language::En => format!("no order {shown:?}"),
        }),
        _ => Err(match lang {
            Language::Ja => format!("「{shown}」は複数のチャネルの受注番号です。"),
            Language::En => format!("{shown:?} is an order id in more than one channel"),
        }),
    })
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    /// Parcels recorded now (each reported as `orders ship` reports it).
    pub shipped: u32,
    /// Parcels already recorded with the same tracking number: nothing done.
    pub unchanged: u32,
}

/// Records the labels as shipments, all or nothing: any refused row leaves
/// the store as it was and the problems name each row's line and column.
pub async fn import(
    store: &Store,
    format: CarrierFormat,
    labels: Vec<Label>,
    policy: PaymentPolicy,
    lang: Language,
) -> store::Result<Result<Imported, Vec<Problem>>> {
    let today = time::now().date_naive();
    store
        .write(move |tx| {
            tx.execute_batch("SAVEPOINT carrier_file")?;
            let outcome = record(tx, format, &labels, policy, today, lang);
            let keep = matches!(outcome, Ok(Ok(_)));
            if !keep {
                tx.execute_batch("ROLLBACK TO carrier_file")?;
            }
            tx.execute_batch("RELEASE carrier_file")?;
            outcome
        })
        .await
}

fn record(
    tx: &Tx<'_>,
    format: CarrierFormat,
    labels: &[Label],
    policy: PaymentPolicy,
    today: chrono::NaiveDate,
    lang: Language,
) -> store::Result<Result<Imported, Vec<Problem>>> {
    let rb = format.read_back();
    let carrier = format.carrier();
    let mut done = Imported::default();
    let mut problems = Vec::new();
    // Orders this file shipped: a second parcel of theirs is a parcel, not
    // a conflicting number.
    let mut shipped_here: Vec<(Channel, String)> = Vec::new();
    for l in labels {
        let refuse = |column: usize, message: String| Problem {
            line: l.line,
            column,
            message,
        };
        let (ch, id) = match resolve(tx, &l.reference, lang)? {
            Ok(found) => found,
            Err(why) => {
                problems.push(refuse(rb.order_column, why));
                continue;
            }
        };
        let Some(order) = orders::load(tx, ch, &id)? else {
            problems.push(refuse(
                rb.order_column,
                refusal(&CommandError::NotFound(ch.as_str(), id), lang),
            ));
            continue;
        };
        if order
            .shipments
            .iter()
            .any(|s| s.carrier == carrier && s.tracking_no == l.tracking_no)
        {
            done.unchanged += 1;
            continue;
        }
        let key = (ch, id.clone());
        if order.state == OrderState::Shipped && !shipped_here.contains(&key) {
            let numbers: Vec<&str> = order
                .shipments
                .iter()
                .map(|s| s.tracking_no.as_str())
                .collect();
            problems.push(refuse(
                rb.tracking_column,
                match lang {
                    Language::Ja => format!(
                        "受注 {id} は別の送り状番号({})で出荷済みです。",
                        numbers.join("、")
                    ),
                    Language::En => format!(
                        "order {id} was shipped under another tracking number ({})",
                        numbers.join(", ")
                    ),
                },
            ));
            continue;
        }
        let req = ShipmentRequest {
            carrier,
            tracking_no: l.tracking_no.clone(),
            shipped_on: l.shipped_on.unwrap_or(today),
            shipping_cost: None,
        };
        match ship_in(tx, ch, id, req, policy)? {
            Ok(_) => {
                done.shipped += 1;
                shipped_here.push(key);
            }
            Err(e) => problems.push(refuse(rb.order_column, refusal(&e, lang))),
        }
        if problems.len() >= super::import::MAX_PROBLEMS {
            break;
        }
    }
    Ok(match problems.is_empty() {
        true => Ok(done),
        false => Err(problems),
    })
}

/// Why `orders ship` refused, in the merchant's words.
fn refusal(e: &CommandError, lang: Language) -> String {
    if lang == Language::En {
        return e.to_string();
    }
    match e {
        CommandError::NotFound(_, id) => format!("受注 {id} はありません。"),
        CommandError::Store(e) => e.to_string(),
        CommandError::RefundAccount(e) => crate::wording::pick(lang, &e.to_string()).to_string(),
        CommandError::Refused(r) => match r {
            Refusal::NotShippable(state) => {
                let state = OrderState::parse(state)
                    .map_or(*state, |s| crate::wording::order_state(lang, s));
                format!("受注が「{state}」のため出荷できません(確定した受注だけ出荷できます)。")
            }
            Refusal::AlreadyShipped => "出荷済みです。".into(),
            Refusal::CancelledByChannel(who) => format!("{who} が取り消した受注です。"),
            Refusal::PaymentNotReady(_) => {
                "支払いが済んでいないため出荷できません(カードはオーソリの後に出荷できます)。"
                    .into()
            }
            Refusal::CreditNotOk(why) => format!("与信が通っていないため出荷できません: {why}"),
        },
    }
}
