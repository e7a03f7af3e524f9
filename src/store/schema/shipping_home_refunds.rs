//! The migrations of the shipping files, the console's home and KOMOJU's
//! refund requests: SQL only, appended to [`super::migrations`] in this order.

/// Short references for orders whose id does not fit a label program's
/// customer-management-number column (`OS` and the row id, zero-padded).
pub(super) const CARRIER_FILE_REFS: &str = r#"
CREATE TABLE carrier_file_refs (
    id       INTEGER PRIMARY KEY,
    channel  TEXT NOT NULL,
    order_id TEXT NOT NULL,
    UNIQUE (channel, order_id)
) STRICT;
"#;

/// What the console's home reads without counting a million rows:
/// - orders per hour (Japan time) and channel, kept by triggers in each
///   order's own transaction like `order_counts`: today's orders per
///   channel and the last day's chart read a few dozen rows;
/// - since when each owed stock push has been owed (set when a row becomes
///   owed, cleared when the push catches up), its oldest found by index;
/// - the last successful call to and verified webhook from each provider,
///   each one step into an index.
pub(super) const CONSOLE_HOME: &str = r#"
CREATE TABLE order_hours (
    -- `YYYY-MM-DDTHH` in Japan time (the stored text when it is not a time).
    hour    TEXT NOT NULL,
    channel TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (hour, channel)
) STRICT, WITHOUT ROWID;
INSERT INTO order_hours (hour, channel, n)
    SELECT COALESCE(strftime('%Y-%m-%dT%H', created_at, '+9 hours'), substr(created_at, 1, 13)),
           channel, COUNT(*)
    FROM orders WHERE true GROUP BY 1, 2
    ON CONFLICT (hour, channel) DO UPDATE SET n = n + excluded.n;
CREATE TRIGGER order_hours_insert AFTER INSERT ON orders BEGIN
    INSERT INTO order_hours (hour, channel, n)
    VALUES (COALESCE(strftime('%Y-%m-%dT%H', NEW.created_at, '+9 hours'),
                     substr(NEW.created_at, 1, 13)), NEW.channel, 1)
    ON CONFLICT (hour, channel) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER order_hours_delete AFTER DELETE ON orders BEGIN
    UPDATE order_hours SET n = n - 1
    WHERE hour = COALESCE(strftime('%Y-%m-%dT%H', OLD.created_at, '+9 hours'),
                          substr(OLD.created_at, 1, 13))
      AND channel = OLD.channel;
END;

ALTER TABLE stock_push ADD COLUMN owed_since_ms INTEGER;
UPDATE stock_push SET owed_since_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    WHERE version > pushed_version;
CREATE INDEX stock_push_owed_since ON stock_push (channel, owed_since_ms)
    WHERE version > pushed_version;
CREATE TRIGGER stock_push_owed_new AFTER INSERT ON stock_push
WHEN NEW.version > NEW.pushed_version AND NEW.owed_since_ms IS NULL BEGIN
    UPDATE stock_push SET owed_since_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    WHERE channel = NEW.channel AND sku = NEW.sku;
END;
CREATE TRIGGER stock_push_owed_again AFTER UPDATE OF version, pushed_version ON stock_push
WHEN NEW.version > NEW.pushed_version AND NEW.owed_since_ms IS NULL BEGIN
    UPDATE stock_push SET owed_since_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    WHERE channel = NEW.channel AND sku = NEW.sku;
END;
CREATE TRIGGER stock_push_owed_paid AFTER UPDATE OF version, pushed_version ON stock_push
WHEN NEW.version <= NEW.pushed_version AND NEW.owed_since_ms IS NOT NULL BEGIN
    UPDATE stock_push SET owed_since_ms = NULL WHERE channel = NEW.channel AND sku = NEW.sku;
END;

CREATE INDEX outbox_done_by_provider ON outbox (provider, updated_at) WHERE state = 'done';
CREATE INDEX inbox_processed_by_provider ON inbox (provider, received_at)
    WHERE state = 'processed';
"#;

/// KOMOJU refund requests (konbini, bank transfer, Pay-easy money goes back
/// only to the customer's bank account): where each order's request stands,
/// and the bank account, kept only while a request is open (the row goes in
/// the transaction that records it completed, rejected or otherwise settled).
pub(super) const KOMOJU_REFUND_REQUESTS: &str = r#"
CREATE TABLE komoju_refund_requests (
    channel    TEXT NOT NULL,
    order_id   TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    state      TEXT NOT NULL,
    request_id TEXT,
    amount     INTEGER,
    note       TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, order_id)
) STRICT;
CREATE INDEX komoju_refund_requests_open ON komoju_refund_requests (state, updated_at);
CREATE TABLE komoju_refund_accounts (
    channel        TEXT NOT NULL,
    order_id       TEXT NOT NULL,
    customer_name  TEXT NOT NULL,
    bank_name      TEXT NOT NULL,
    bank_code      TEXT,
    branch_name    TEXT,
    branch_number  TEXT NOT NULL,
    account_type   TEXT NOT NULL,
    account_number TEXT NOT NULL,
    include_fee    INTEGER NOT NULL,
    entered_at     TEXT NOT NULL,
    PRIMARY KEY (channel, order_id)
) STRICT;
"#;

/// `owed_since_ms` set in the statements that owe a SKU (the stock triggers
/// here, the Rust ones in `store::stock_push` and the staged import) instead of
/// triggers of its own: those doubled the writes to `stock_push` of a large
/// import. Catching up still clears it by trigger (once per push).
pub(super) const STOCK_PUSH_OWED_INLINE: &str = r#"
DROP TRIGGER stock_push_owed_new;
DROP TRIGGER stock_push_owed_again;
DROP TRIGGER stock_push_on_insert;
DROP TRIGGER stock_push_on_change;
CREATE TRIGGER stock_push_on_insert AFTER INSERT ON stock
BEGIN
    INSERT INTO stock_push (channel, sku, owed_since_ms)
    SELECT channel, NEW.sku, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM push_channels WHERE true
    ON CONFLICT (channel, sku) DO UPDATE SET version = version + 1,
        owed_since_ms = COALESCE(owed_since_ms, excluded.owed_since_ms);
END;
CREATE TRIGGER stock_push_on_change AFTER UPDATE OF on_hand, reserved ON stock
WHEN NEW.on_hand - NEW.reserved IS NOT OLD.on_hand - OLD.reserved
BEGIN
    INSERT INTO stock_push (channel, sku, owed_since_ms)
    SELECT channel, NEW.sku, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM push_channels WHERE true
    ON CONFLICT (channel, sku) DO UPDATE SET version = version + 1,
        owed_since_ms = COALESCE(owed_since_ms, excluded.owed_since_ms);
END;
"#;
