//! ordersync's side of the provider simulators. The simulators themselves
//! are the `ordersync-sim` crate, written from the providers' contracts and
//! unable to see an adapter; what is here is only what ordersync needs to
//! reach them: each provider's client settings and config section for a
//! running simulator (one glue file per provider), and `ordersync sim`, the
//! simulators alone on fixed ports for a real config to be tried against.

pub mod atobarai_com;
mod cli;
pub mod jgoods;
pub mod komoju;
pub mod kuroneko;
pub mod rakuten_pay;
pub mod yahoo_shopping;

pub use cli::{SimArgs, run};
