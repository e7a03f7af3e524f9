//! Pollers: providers that do not push (Rakuten Pay; later the credit
//! providers and the J-goods sweep). Each polls on its interval, can be poked
//! to poll at once, and records its last success for `status`.

pub mod credit;
pub mod jgoods_sweep;
pub mod rakuten;

/// Key under which a poller records the end of its last successful poll.
pub fn last_success_key(provider: &str) -> String {
    format!("poll.{provider}.last_success")
}

/// Key under which a channel-wide problem (e.g. a rejected licence key) is kept.
pub fn attention_key(provider: &str) -> String {
    format!("attention.{provider}")
}
