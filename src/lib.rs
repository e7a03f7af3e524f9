//! # ordersync
//!
//! A merchant-side order-sync daemon: J-goods webhooks, Rakuten Pay polling,
//! Kuroneko Atobarai and Atobarai.com credit checks and KOMOJU payments, all
//! against one local SQLite inventory mirror, durably and idempotently.
//!
//! Layout, from the outside in:
//! - [`cli`] and [`app`]: the binary's subcommands (one file per command
//!   group) and the daemon's wiring (listeners, workers, shutdown, SIGHUP
//!   reload as planned by [`reload`]); [`demo`] runs it on the simulators.
//! - [`systemd`], [`heartbeat`] and [`logging`]: readiness, status lines, a
//!   watchdog fed only while every worker checks in, and the log format.
//! - [`config`]: the TOML file, secret sources and validation.
//! - [`http`]: the webhook receivers, the admin API, the status page, `/metrics`.
//! - [`engine`]: pure decisions: (input, stored state) → (new state, stock
//!   moves, events, outbound calls). No I/O.
//! - [`flows`]: load, decide, write: each engine decision applied in one
//!   store transaction (and the credit calls' network part, for now).
//! - [`dispatch`]: drains the outbox, calling providers with retries and
//!   backoff; a channel-wide refusal waits in [`problems`].
//! - [`pollers`]: the providers that do not push (Rakuten Pay and its licence,
//!   the credit providers, the J-goods sweep, KOMOJU authorizations' lapse).
//! - [`stock_push`]: the J-goods stock push (owed rows, debounce, retries).
//! - [`domain`]: pure types and rules (order states, allocation, time in JST).
//! - [`store`]: SQLite; every decision is written in one `BEGIN IMMEDIATE` transaction.
//! - [`providers`]: one folder per provider (wire types, client, signatures,
//!   normalisation) and `providers::http_client`, what their HTTP has in common.
//! - [`inventory_import`], [`orders_export`], [`text_encoding`]: the ERP's
//!   files in and out (CSV, Shift_JIS or UTF-8).
//! - [`invoice`]: the periodic invoice to J-goods (numbers, HTML, CSV).
//! - [`sim`]: faithful simulators of the providers, used by `demo`, `sim` and the tests.
//! - [`untrusted`]: one entry point per parser of outside input, for fuzzing.

pub mod app;
pub mod channels;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod flows;
pub mod heartbeat;
pub mod http;
pub mod inventory_import;
pub mod invoice;
pub mod logging;
pub mod metrics;
pub mod orders_export;
pub mod outbox;
pub mod problems;
pub mod reload;
pub mod sim;
pub mod status;
pub mod store;
pub mod systemd;
pub mod text_encoding;
pub mod untrusted;
