//! # ordersync
//!
//! A merchant-side order-sync daemon. It receives J-goods webhooks, allocates stock
//! from a local SQLite inventory mirror, and reports allocations back, durably and
//! idempotently.
//!
//! Layout, from the outside in:
//! - [`cli`] and [`app`]: the binary's subcommands and the daemon's wiring
//!   (listeners, workers, shutdown, SIGHUP reload as planned by [`reload`]).
//! - [`systemd`] and [`heartbeat`]: readiness, status lines and a watchdog fed
//!   only while every worker checks in.
//! - [`config`]: the TOML file, secret sources and validation.
//! - [`http`]: the webhook receiver and the admin API (axum).
//! - [`dispatch`]: drains the outbox, calling providers with retries.
//! - [`engine`]: pure decisions: (input, stored state) → (new state, stock moves,
//!   events, outbound calls). No I/O.
//! - [`domain`]: pure types and rules (order states, allocation).
//! - [`store`]: SQLite; every decision is written in one `BEGIN IMMEDIATE` transaction.
//! - [`providers`]: one folder per provider: wire types, client, signatures.
//! - [`invoice`]: the periodic invoice to J-goods (numbers, HTML, CSV).
//! - [`sim`]: faithful simulators of the providers, used by `demo`, `sim` and the tests.
//! - [`untrusted`]: one entry point per parser of outside input, for fuzzing.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dispatch;
pub mod domain;
pub mod engine;
pub mod flows;
pub mod heartbeat;
pub mod http;
pub mod inventory_import;
pub mod invoice;
pub mod logging;
pub mod orders_export;
pub mod pollers;
pub mod problems;
pub mod providers;
pub mod reload;
pub mod sim;
pub mod stock_push;
pub mod store;
pub mod systemd;
pub mod text_encoding;
pub mod untrusted;
