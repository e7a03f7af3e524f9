//! Pure domain types and rules: channels, order and payment states, carriers,
//! stock availability and allocation. No I/O here.

// First: the other modules use its macro.
#[macro_use]
pub mod names;

pub mod allocation;
pub mod carrier;
pub mod credit;
pub mod direct;
pub mod ident;
pub mod input;
pub mod order;
pub mod provider;
pub mod time;

pub use allocation::{allocate, available};
pub use carrier::Carrier;
pub use order::{Channel, Order, OrderLine, OrderState, PaymentState, Shipment};
pub use provider::Provider;
