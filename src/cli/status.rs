//! `ordersync status`: what a person must know, and exit 1 when they must act.

use std::time::Duration;

use super::NeedsAttention;
use crate::channels::rakuten_pay::license::Licence;
use crate::config::Config;
use crate::domain::time;
use crate::store::{Store, kv, orders, outbox, stock, stock_push};

pub(super) async fn run(store: &Store, config: &Config) -> anyhow::Result<()> {
    let ((per_state, attention), (pending, dead, oldest), breaches, polls, problems, licence) =
        store
            .read(|c| {
                Ok((
                    orders::counts(c)?,
                    outbox::depth(c)?,
                    stock::invariant_breaches(c)?,
                    kv::with_prefix(c, "poll.")?,
                    kv::with_prefix(c, crate::problems::PREFIX)?,
                    Licence::read(c, time::now())?,
                ))
            })
            .await?;
    println!("orders:");
    for (state, n) in &per_state {
        println!("  {state:<10} {n}");
    }
    println!("  needing attention: {attention}");
    println!(
        "outbox: {pending} waiting{}, {dead} dead",
        oldest
            .map(|s| format!(" (oldest {s} s)"))
            .unwrap_or_default()
    );
    let ages: std::collections::HashMap<String, i64> =
        crate::channels::polling::poll_ages(&polls, time::now())
            .into_iter()
            .collect();
    let mut stale = false;
    for (key, at) in &polls {
        let provider = key
            .trim_start_matches("poll.")
            .trim_end_matches(".last_success");
        let behind = match (ages.get(provider), poll_interval(config, provider)) {
            (Some(&age), Some(interval)) => crate::channels::polling::is_stale(
                Duration::from_secs(age.unsigned_abs()),
                interval,
            ),
            _ => false,
        };
        stale |= behind;
        println!(
            "last successful poll, {provider}: {at}{}",
            if behind {
                ": behind schedule, check the logs (journalctl -u ordersync)"
            } else {
                ""
            }
        );
    }
    if let Some(expiry) = &licence.expires_at {
        println!(
            "Rakuten licence key expires {expiry}{}",
            licence
                .days_left
                .map(|d| format!(
                    " ({d} days){}",
                    if licence.expiring() {
                        ": issue a new key in RMS"
                    } else {
                        ""
                    }
                ))
                .unwrap_or_default()
        );
    }
    if let Some(fix) = &licence.check_refused {
        println!("rakuten_pay licence check: {fix}");
    }
    let waiting = store.read(orders::rakuten_unconfirmed).await?;
    if let Some(line) = crate::channels::rakuten_pay::rules::unconfirmed_summary(
        waiting.orders,
        waiting.short,
        waiting.oldest_ordered_at.as_deref(),
    ) {
        println!("{line}");
    }
    for (key, reason) in &problems {
        println!(
            "{}: {reason}",
            key.trim_start_matches(crate::problems::PREFIX)
        );
    }
    for b in &breaches {
        println!("stock invariant broken: {b}");
    }
    let push = store.read(|c| stock_push::summary(c, 20)).await?;
    println!("stock changes not yet pushed to J-goods: {}", push.owed);
    for (sku, since) in &push.unknown {
        println!("J-goods has no item {sku} (ITEM_NOT_FOUND since {since})");
    }
    if attention > 0
        || dead > 0
        || !breaches.is_empty()
        || !problems.is_empty()
        || licence.expiring()
        || stale
    {
        return Err(NeedsAttention.into());
    }
    Ok(())
}

/// How often `provider` is meant to succeed at polling, when it is enabled;
/// a disabled provider's old timestamp is not an alarm.
fn poll_interval(config: &Config, provider: &str) -> Option<Duration> {
    match provider {
        "jgoods" => config.enabled_jgoods().map(|j| j.sweep_interval),
        "rakuten_pay" => config.enabled_rakuten_pay().map(|r| r.poll_interval),
        "kuroneko" => config.enabled_kuroneko().map(|k| k.poll_interval),
        "atobarai_com" => config.enabled_atobarai_com().map(|a| a.poll_interval),
        _ => None,
    }
}
