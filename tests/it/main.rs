//! One integration-test binary (one link step): black-box tests that run the
//! real daemon and the providers' simulators over loopback HTTP with a real
//! SQLite file.

mod admin_api;
mod cli;
mod contention;
mod crash;
mod faults;
mod helpers;
mod jgoods_flows;
mod komoju;
mod properties;
mod rakuten;
mod security;
mod shipments;
