//! # ordersync
//!
//! A merchant-side order-sync daemon: J-goods webhooks, Rakuten Pay polling,
//! Kuroneko Atobarai and Atobarai.com credit checks and KOMOJU payments, all
//! against one local SQLite inventory mirror, durably and idempotently.
//!
//! ## Where things go
//!
//! The code is cut by provider. Everything about one provider lives in its
//! folder under [`providers`], with the same parts in each:
//!
//! | part | holds | I/O |
//! |---|---|---|
//! | `config` | its `[section]` of the config file, read and checked | none |
//! | `wire` | the provider's JSON or XML, exactly as its contract spells it | none |
//! | `client` | its HTTP calls, answering neutral types | network |
//! | `rules` | pure decisions: (input, stored state) → [`engine::Decision`] | none |
//! | `apply` | load, decide with `rules`, write in one store transaction | store |
//! | `calls` | the network part of the provider's outbox calls | network, store |
//! | `webhook` / `poller` / `sweep` | how its inputs arrive | both |
//! | `stock_push` | how a batch of availabilities is told to the sales channel | network |
//! | `wiring` | how it starts under its section: its client, its [`worker::Worker`]s | none |
//!
//! Imports point down the layers (checked by a test that reads them,
//! `tests/it/layers.rs`): the floor ([`domain`], [`metrics`], [`config`]),
//! [`engine`], [`store`], the call contract ([`call`]), [`worker`], then
//! [`providers`] and the dispatcher ([`outbox`], which names no provider),
//! then [`config_file`], [`status`], [`http`], [`app`] and [`cli`]. A provider
//! never imports what watches or serves it.
//!
//! - **A new rule** about one provider goes in that provider's `rules` (with a
//!   unit test beside it); a rule across providers (the ERP's commands, direct
//!   orders, restocks, the credit life cycle) goes in [`engine`].
//! - **A new outbound call** is an [`engine::Call`] variant, made by the
//!   provider's `calls` and routed by one arm of the [`providers::router`]
//!   (a `match` without a catch-all: the compiler asks for the arm); the
//!   dispatcher ([`outbox`]) retries it without knowing whose it is.
//! - **A new provider** is a checklist, in `docs/ENGINEERING.md`; the
//!   compiler stops at every step it can enforce: one variant of
//!   [`domain::Provider`], then one folder under [`providers`] (its `config`
//!   implementing [`config::ProviderSection`], its `wiring`), and one arm in
//!   each exhaustive `match` over [`domain::Provider`] that names every
//!   provider ([`config_file::Config::section`], its `section_differs`,
//!   [`config_file::credentials_of`], the workers' `start_provider` in
//!   [`app`], `ordersync sim`'s section in [`sim`]). A pushing provider
//!   supplies the hooks of the one webhook pipeline
//!   ([`providers::webhook::WebhookChannel`]); a sales channel that must be
//!   told stock implements [`providers::stock_push::StockChannel`].
//!
//! ## Modules
//!
//! - [`cli`] and [`app`]: the binary's subcommands (one file per command
//!   group) and the daemon's wiring (listeners, workers, shutdown, SIGHUP
//!   reload as planned by [`reload`]); [`demo`] runs it on the simulators.
//! - [`providers`]: one folder per provider (see above), the router of outbox
//!   calls, the shared HTTP client builder, the webhook hooks, the stock push
//!   every sales channel shares, the pollers' bookkeeping.
//! - [`call`]: the call contract between the dispatcher and the providers
//!   ([`call::CallError`], [`call::Attempt`], [`call::CallContext`],
//!   [`call::CallRunner`], idempotency keys, how a finished call is written).
//! - [`worker`]: what a background worker is ([`worker::Worker`]) and the one
//!   context every worker of a generation is built from.
//! - [`engine`]: the decision types ([`engine::Decision`], [`engine::Call`],
//!   [`engine::Event`]) and the cross-provider rules. No I/O.
//! - [`flows`]: load, decide, write for the cross-provider rules (ERP commands,
//!   direct orders, the invoice, the catalog), each in one store transaction.
//! - [`outbox`]: the dispatcher: due rows, one order at a time, backoff,
//!   retry budget; a provider-wide refusal waits in [`problems`].
//! - [`status`]: the one status summary behind `ordersync status`, the status
//!   page, [`metrics`] (which only record; [`status::scrape`] reads the store
//!   for them) and [`systemd`]'s `STATUS=` line.
//! - [`http`]: the listeners' routers, the one webhook pipeline, the admin API,
//!   the console and the status page.
//! - [`heartbeat`] and [`logging`]: a watchdog fed only while every worker
//!   checks in, and the log format (set up before the config is read).
//! - [`config`]: what every config section is made of (secrets and their
//!   sources, located errors, [`config::SectionReader`]) and the sections
//!   every part shares; [`config_file`]: the file as a whole.
//! - [`private_files`]: customer data and secrets 0700/0600 whatever the umask.
//! - [`domain`]: pure types and rules (providers, order states, allocation,
//!   carriers, time in JST, values as operators type them).
//! - [`store`]: SQLite; every decision is written in one `BEGIN IMMEDIATE`
//!   transaction ([`store::Tx`], which carries the safety stock).
//! - [`inventory_import`], [`orders_export`], [`text_encoding`]: the ERP's
//!   files in and out (CSV, Shift_JIS or UTF-8).
//! - [`carrier_files`]: the label programs' files (B2クラウド, e飛伝Ⅱ,
//!   ゆうパックプリントR): the orders ready to ship out, the printed labels
//!   back in as shipments.
//! - [`invoice`]: the periodic invoice to J-goods (numbers, HTML, CSV).
//! - [`wording`]: the merchant's words for states, channels, carriers,
//!   providers and calls, in `[daemon] language`.
//! - [`sim`]: ordersync's side of the provider simulators (client settings and
//!   config sections for a running one, `ordersync sim`); the simulators are
//!   the `ordersync-sim` crate, written from the contracts and unable to see
//!   an adapter.
//! - [`untrusted`]: one entry point per parser of outside input, for fuzzing.
//!
//! Benchmarks and the crash soak are in the workspace's `xtask` crate
//! (`cargo xtask bench …`, `cargo xtask soak …`).

pub mod alerts;
pub mod app;
pub mod call;
pub mod carrier_files;
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
pub mod wording;
pub mod worker;
