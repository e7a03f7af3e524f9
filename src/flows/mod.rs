//! Glue between inputs, the pure engine and the store: load the stored state,
//! decide, and write the decision — all inside one transaction.

pub mod attention;
pub mod catalog;
pub mod direct;
pub mod erp;
pub mod invoice;
