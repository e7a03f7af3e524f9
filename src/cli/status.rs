//! `ordersync status`: what a person must know; exit 2 when the daemon is
//! not running, 1 when a person must act.

use super::{DaemonDown, NeedsAttention};
use crate::config_file::Config;
use crate::providers::rakuten_pay::licence::Licence;
use crate::status::{Detail, Status};
use crate::store::Store;

pub(super) async fn run(store: &Store, config: &Config) -> anyhow::Result<()> {
    // Said first and at once: the figures below are the store's, as the
    // daemon left them, and nothing moves until it runs again.
    let down = crate::store::restore::daemon_running(&config.daemon.data_dir) == Some(false);
    if down {
        outln!(
            "ordersync のデーモンが停止しています。受注の取り込みも在庫の送信も止まっています (起動: systemctl start ordersync) / \
             ordersync is not running: no orders come in and no stock is sent (start it: systemctl start ordersync)"
        );
    }
    let status = Status::load(store, Detail::Full { unknown_items: 20 }).await?;
    outln!("orders:");
    for (state, n) in &status.per_state {
        outln!("  {state:<10} {n}");
    }
    outln!("  needing attention: {}", status.attention);
    outln!(
        "outbox: {} waiting{}, {} dead",
        status.calls_pending,
        status
            .oldest_call_seconds
            .map(|s| format!(" (oldest {s} s)"))
            .unwrap_or_default(),
        status.calls_dead
    );
    for poll in &status.polls {
        // A stopped daemon is why every poll is late: blame it, not them.
        let behind = !down && Status::is_behind(poll, config);
        outln!(
            "last successful poll, {}: {}{}",
            poll.provider,
            poll.at,
            if behind {
                ": behind schedule, check the logs (journalctl -u ordersync)"
            } else {
                ""
            }
        );
    }
    print_licence(&status.licence);
    let waiting = &status.rakuten_unconfirmed;
    if let Some(line) = crate::providers::rakuten_pay::rules::unconfirmed_summary(
        waiting.orders,
        waiting.short,
        waiting.oldest_ordered_at.as_deref(),
    ) {
        outln!("{line}");
    }
    for (provider, reason) in &status.problems {
        outln!("{provider}: {reason}");
    }
    for r in &status.rejected {
        let burst = r.code == "unauthorized" && r.last_hour >= crate::status::UNAUTHORIZED_BURST;
        outln!(
            "拒否した Webhook / webhooks refused, {}: {} × {} in 24 h ({} in the last hour; last {}){}{}",
            r.provider,
            r.count,
            r.code,
            r.last_hour,
            crate::domain::time::shown(&r.last_at),
            if burst { " — " } else { "" },
            if burst {
                crate::status::rejected_hint(r)
            } else {
                ""
            }
        );
    }
    for b in &status.breaches {
        outln!("stock invariant broken: {b}");
    }
    for push in &status.stock_push {
        let name = push.channel_name();
        outln!("stock changes not yet pushed to {name}: {}", push.owed);
        for (sku, since) in &push.unknown {
            let reason = push.unknown_reason();
            outln!("{name} has no item {sku} ({reason} since {since})");
        }
    }
    if let Some(map) = &status.rakuten_skus {
        outln!(
            "Rakuten SKU map: {} pairs; mirror SKUs not at Rakuten: {}; Rakuten variants the mirror does not know: {}; pairs Rakuten does not hold: {} (ordersync rakuten skus)",
            map.pairs,
            map.not_at_rakuten_total,
            map.not_in_mirror_total,
            map.not_held.len()
        );
        for r in &map.refused {
            outln!(
                "楽天が拒否 / Rakuten refused {} ({} / {}) {}: {}",
                r.pair.sku,
                r.pair.manage_number,
                r.pair.variant_id,
                r.code,
                r.fix
            );
        }
        if !map.not_pushed.is_empty() {
            outln!(
                "楽天に在庫を送らない予約・頒布会の組 / pre-order and subscription pairs not pushed to Rakuten: {}",
                map.not_pushed.len()
            );
        }
    }
    if let Some(c) = &status.catalog {
        outln!(
            "商品マスタ / product master: {} items, {} refused by J-goods",
            c.items,
            c.refused_count
        );
        for (sku, why) in &c.refused {
            outln!("  J-goods refused {sku}: {why}");
        }
        if !c.not_in_master.is_empty() {
            outln!(
                "  J-goods で注文されたがマスタにない SKU / ordered on J-goods, not in the master: {}",
                c.not_in_master.join(", ")
            );
        }
    }
    if down {
        return Err(DaemonDown.into());
    }
    if status.needs_attention(config) {
        return Err(NeedsAttention.into());
    }
    Ok(())
}

/// The Rakuten licence key's expiry and the refusal of its check, if any.
fn print_licence(licence: &Licence) {
    if let Some(expiry) = &licence.expires_at {
        let days = licence.days_left.map(|d| {
            let act = if licence.expiring() {
                ": issue a new key in RMS"
            } else {
                ""
            };
            format!(" ({d} days){act}")
        });
        outln!(
            "Rakuten licence key expires {expiry}{}",
            days.unwrap_or_default()
        );
    }
    if let Some(fix) = &licence.check_refused {
        outln!("rakuten_pay licence check: {fix}");
    }
}
