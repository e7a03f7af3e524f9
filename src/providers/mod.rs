//! The channels: one folder per provider, each holding everything about it.
//!
//! A channel folder has the same parts, so a newcomer knows where to look:
//! - `wire`: the provider's JSON or XML, exactly as the contract spells it;
//! - `client`: its HTTP calls (built with [`http_client`]), answering neutral types;
//! - `rules`: pure decisions over neutral types (no I/O, unit-tested);
//! - `apply`: load the stored state, decide with `rules`, write in one transaction;
//! - `calls`: the network part of each outbox [`Call`](crate::engine::Call) of
//!   the channel, run by the dispatcher ([`crate::outbox`]) through the
//!   [`router`];
//! - `webhook`, `poller`, `sweep`: how inputs arrive (the shared steps of a
//!   webhook are in [`webhook`]).
//!
//! This file only declares the modules: the vocabulary every channel shares
//! is below them ([`crate::domain`], [`crate::call`]), and what routes an
//! outbox call to its channel is [`router`].

pub mod credit;
pub mod http_client;
pub mod jgoods;
pub mod komoju;
pub mod pacer;
pub mod polling;
pub mod rakuten_pay;
pub mod router;
pub mod stock_push;
pub mod webhook;
pub mod yahoo_shopping;
