//! # ordersync
//!
//! A merchant-side order-sync daemon: J-goods webhooks, Rakuten Pay polling,
//! Kuroneko Atobarai and Atobarai.com credit checks and KOMOJU payments, all
//! against one local SQLite inventory mirror, durably and idempotently.
//!
//! ## Where things go
//!
//! The code is cut by channel. Everything about one provider lives in its
//! folder under [`channels`], with the same parts in each:
//!
//! | part | holds | I/O |
//! |---|---|---|
//! | `wire` | the provider's JSON or XML, exactly as its contract spells it | none |
//! | `client` | its HTTP calls, answering neutral types | network |
//! | `rules` | pure decisions: (input, stored state) → [`engine::Decision`] | none |
//! | `apply` | load, decide with `rules`, write in one store transaction | store |
//! | `calls` | the network part of the channel's outbox calls | network, store |
//! | `webhook` / `poller` / `sweep` | how its inputs arrive | both |
//! | `stock_push` | how a batch of availabilities is told to the channel | network |
//!
//! - **A new rule** about one provider goes in that channel's `rules` (with a
//!   unit test beside it); a rule across channels (the ERP's commands, direct
//!   orders, restocks) goes in [`engine`].
//! - **A new outbound call** is a [`engine::Call`] variant, made by the
//!   channel's `calls` and routed by one arm of [`channels::Channels::run`];
//!   the dispatcher ([`outbox`]) retries it without knowing whose it is.
//! - **A new provider** is one folder under [`channels`], one [`channels::Provider`],
//!   one config section, one `Call` arm and one line of wiring in [`app`];
//!   a pushing provider supplies the hooks of the one webhook pipeline
//!   ([`channels::webhook`]); a sales channel that must be told stock
//!   implements [`channels::stock_push::StockChannel`] for the one stock push.
//!
//! ## Modules
//!
//! - [`cli`] and [`app`]: the binary's subcommands (one file per command
//!   group) and the daemon's wiring (listeners, workers, shutdown, SIGHUP
//!   reload as planned by [`reload`]); [`demo`] runs it on the simulators.
//! - [`channels`]: one folder per provider (see above), the shared HTTP client
//!   builder, the webhook pipeline, the stock push every sales channel
//!   shares, the pollers' bookkeeping.
//! - [`engine`]: the decision types ([`engine::Decision`], [`engine::Call`],
//!   [`engine::Event`]) and the cross-channel rules. No I/O.
//! - [`flows`]: load, decide, write for the cross-channel rules (ERP commands,
//!   direct orders, the invoice), each in one store transaction.
//! - [`outbox`]: the dispatcher: due rows, one order at a time, backoff,
//!   retry budget; a channel-wide refusal waits in [`problems`].
//! - [`status`]: the one status summary behind `ordersync status`, the status
//!   page, [`metrics`] and [`systemd`]'s `STATUS=` line.
//! - [`http`]: the listeners' routers, the admin API and the status page.
//! - [`heartbeat`] and [`logging`]: a watchdog fed only while every worker
//!   checks in, and the log format (set up before the config is read).
//! - [`config`]: the TOML file, secret sources and validation.
//! - [`private_files`]: customer data and secrets 0700/0600 whatever the umask.
//! - [`domain`]: pure types and rules (order states, allocation, carriers, time in JST).
//! - [`store`]: SQLite; every decision is written in one `BEGIN IMMEDIATE` transaction.
//! - [`inventory_import`], [`orders_export`], [`text_encoding`]: the ERP's
//!   files in and out (CSV, Shift_JIS or UTF-8).
//! - [`invoice`]: the periodic invoice to J-goods (numbers, HTML, CSV).
//! - [`sim`]: simulators of the providers written from their contracts, used
//!   by `demo`, `sim` and the tests (the simulators are the `ordersync-sim` crate).
//! - [`untrusted`]: one entry point per parser of outside input, for fuzzing.
//!
//! Benchmarks and the crash soak are in the workspace's `xtask` crate
//! (`cargo xtask bench …`, `cargo xtask soak …`).

pub mod alerts;
pub mod app;
pub mod call;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod config_file;
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
pub mod private_files;
pub mod problems;
pub mod providers;
pub mod reload;
pub mod sim;
pub mod spreadsheet;
pub mod status;
pub mod store;
pub mod systemd;
pub mod text_encoding;
pub mod untrusted;
pub mod worker;
