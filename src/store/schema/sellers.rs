//! The migration of the KOMOJU Platform Model's sellers (出品者): SQL only,
//! appended to [`super::migrations`].

/// - `sellers`: the seller master, each linked to its KOMOJU sub-merchant,
///   its review state as KOMOJU last told it, and its fee rule;
/// - `order_line_sellers`: which seller sells each line of an order (the
///   ERP's per-line seller, else the product master's);
/// - `catalog_sellers`: the product master's seller of a SKU;
/// - `seller_ledger`: each seller's money as ordersync booked it (a sale at
///   capture, a refund, a transfer), one row per KOMOJU booking
///   (`reference` unique, so a replay books nothing twice);
/// - `komoju_capture_holds`: captures held because a seller of the order
///   is not live yet, released when it is.
pub(super) const SELLERS: &str = r#"
CREATE TABLE sellers (
    code             TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    submerchant_id   TEXT UNIQUE,
    review_status    TEXT NOT NULL DEFAULT 'not_applied',
    payouts_enabled  INTEGER NOT NULL DEFAULT 0,
    fee_bps          INTEGER NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    fee_min_per_line INTEGER CHECK (fee_min_per_line >= 0),
    checked_at       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE TABLE order_line_sellers (
    channel     TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    line_no     INTEGER NOT NULL,
    seller_code TEXT NOT NULL,
    PRIMARY KEY (channel, order_id, line_no)
) STRICT;
CREATE TABLE catalog_sellers (
    sku         TEXT PRIMARY KEY,
    seller_code TEXT NOT NULL
) STRICT;
CREATE TABLE seller_ledger (
    id          INTEGER PRIMARY KEY,
    seller_code TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'transfer')),
    channel     TEXT,
    order_id    TEXT,
    payment_id  TEXT,
    amount      INTEGER NOT NULL,
    fee         INTEGER NOT NULL,
    reason      TEXT,
    reference   TEXT NOT NULL UNIQUE,
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX seller_ledger_by_seller ON seller_ledger (seller_code, at);
CREATE TABLE komoju_capture_holds (
    channel    TEXT NOT NULL,
    order_id   TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (channel, order_id)
) STRICT;
"#;
