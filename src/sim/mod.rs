//! Faithful simulators of the providers, over real HTTP on a caller-bound
//! listener, so that the tests, `ordersync demo` and `ordersync sim` exercise
//! the real clients and webhook receivers rather than mocks.
//!
//! The simulators are moving into the `ordersync-sim` crate (which cannot
//! see the adapters); `harness`, `pusher` and `transport` here serve those
//! not moved yet.

pub mod atobarai_com;
mod cli;
pub mod harness;
pub mod jgoods;
pub mod komoju;
pub mod kuroneko;
pub mod pusher;
pub mod rakuten_pay;
pub mod transport;

pub use cli::{SimArgs, run};
