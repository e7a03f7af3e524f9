//! The migration of Yahoo!ショッピング: what the poller compares and the
//! calls it owes, beside the order rows every channel shares.

/// One row per Yahoo! order the store holds (`yahoo_orders`):
/// - `listed`: what orderList showed of it at the last read (`Version`,
///   `LastUpdateTime`, `IsReadOnly`, the statuses): orderList has no update
///   condition, so a change is found by comparing it;
/// - `read_only`: inside the buyer's 10-minute cancel window at that read
///   (its stock held, not yet announced or marked seen);
/// - `seen`: Yahoo! has it seen (処理中), by us or by a person;
/// - `seen_owed`: a mark-seen call is in the outbox (never twice);
/// - `announced`: the ERP was told (`order.imported`): out of the cancel
///   window and, prepaid, paid.
pub(super) const YAHOO: &str = r#"
CREATE TABLE yahoo_orders (
    order_id    TEXT PRIMARY KEY,
    listed      TEXT NOT NULL,
    read_only   INTEGER NOT NULL DEFAULT 0,
    seen        INTEGER NOT NULL DEFAULT 0,
    seen_owed   INTEGER NOT NULL DEFAULT 0,
    announced   INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
-- Stock codes getStock showed Yahoo! has (Status 1): not read back again.
CREATE TABLE yahoo_stock_checked (
    code TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
"#;
