//! KOMOJU's Platform Model (alpha), the marketplace case: a merchant that
//! sells the goods of several sellers (出品者) splits each payment between
//! them and itself.
//!
//! - [`split`]: the one rule that divides a payment (pure).
//! - [`wire`] and [`client`]: sub-merchants and the split capture on the wire.
//! - [`apply`]: the seller master's writes, and the split decided when an
//!   order ships (or the capture held while a seller is not live).
//! - [`calls`]: the outbox calls (create and re-read a sub-merchant,
//!   capture and refund with a split).
//! - [`statement`]: a seller's statement (精算書) from ordersync's books.
//!
//! What the contract leaves open (\[guess\]) is isolated here: that the
//! sellers' amounts add up to the payment's total ([`split::wire_shares`]
//! carries the merchant's part on one seller's entry), the spelling of a
//! sub-merchant's review state ([`wire::merchant_state`]), and where a
//! seller event names its seller ([`wire::submerchant_of`]).

pub mod apply;
pub mod calls;
pub mod client;
pub mod split;
pub mod statement;
pub mod wire;
