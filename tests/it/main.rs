//! One integration-test binary (one link step): black-box tests that run the
//! real daemon and the providers' simulators over loopback HTTP with a real
//! SQLite file.

mod admin_api;
mod alerts;
mod atobarai_fidelity;
mod attention;
mod browser;
mod carrier_files;
mod catalog;
mod catalog_property;
mod cli;
mod console;
mod contention;
mod crash;
mod credit;
mod docs;
mod faults;
mod helpers;
mod hostile_network;
mod hostile_proxy;
mod hostile_round_two;
mod invoice;
mod jgoods_flows;
mod jgoods_token;
mod komoju;
mod komoju_platform;
mod komoju_refund;
mod kuroneko_fidelity;
mod language;
mod layers;
mod mail_server;
mod metrics;
mod ops_tools;
mod properties;
mod rakuten;
mod rakuten_fidelity;
mod rakuten_refusals;
mod rakuten_stock;
mod replay;
mod restock_property;
mod security;
mod shipments;
mod status_page;
mod stock_push;
mod systemd;
mod yahoo_shopping;
