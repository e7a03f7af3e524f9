//! # ordersync-sim
//!
//! Simulators of the providers ordersync talks to, over real HTTP on a
//! caller-bound listener, so that ordersync's tests, `ordersync demo` and
//! `ordersync sim` exercise the real clients and webhook receivers rather
//! than mocks.
//!
//! Each simulator is written from its provider's wire contract, in the
//! provider's words: its own wire shapes, parsers, signatures and code tables.
//! This crate does not depend on ordersync, so a simulator cannot share an
//! adapter's assumption: a field the adapter names wrong, the simulator does
//! not name the same way, and the test fails.
//!
//! The simulators, one module each:
//! - [`atobarai_com`]: Atobarai.com (後払い.com), deferred payment with a
//!   credit check, XML answers over form posts.
//! - [`jgoods`]: J-goods (order-info, item-info and category APIs, OAuth2
//!   token, signed webhooks).
//! - [`komoju`]: KOMOJU payments (payments, captures, refunds, signed
//!   webhooks, idempotency keys).
//! - [`kuroneko`]: Kuroneko Atobarai (クロネコ代金後払い), deferred payment
//!   with a credit check, form posts answered in XML.
//! - [`rakuten_pay`]: Rakuten Pay's order API, licence keys, items and stock.
//! - [`yahoo_shopping`]: Yahoo!ショッピング's store API (YConnect, the
//!   public-key header, orders, stock).
//!
//! What they share:
//! - [`harness`]: a state lock that survives a panic, a handle that waits on
//!   conditions and stops the tasks, a clock.
//! - [`pusher`]: the webhook push queues of the pushing providers.
//! - [`transport`]: faults of the network path (resets, slow and cut bodies).

pub mod atobarai_com;
pub mod harness;
pub mod jgoods;
pub mod komoju;
pub mod kuroneko;
pub mod pusher;
pub mod rakuten_pay;
pub mod transport;
pub mod yahoo_shopping;

use chrono::FixedOffset;

/// Japan Standard Time, UTC+9, in which these providers write their times.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset")
}
