//! `ordersync status`: what a person must know; exit 2 when the daemon is
//! not running, 1 when a person must act. Everything in `[daemon] language`.

use super::{DaemonDown, NeedsAttention, lang, say};
use crate::config::Language;
use crate::config_file::Config;
use crate::domain::OrderState;
use crate::providers::rakuten_pay::licence::Licence;
use crate::status::{Detail, Status};
use crate::store::Store;
use crate::wording::{self, pick};

pub(super) async fn run(store: &Store, config: &Config) -> anyhow::Result<()> {
    let l = lang();
    // Said first and at once: the figures below are the store's, as the
    // daemon left them, and nothing moves until it runs again.
    let down = crate::store::restore::daemon_running(&config.daemon.data_dir) == Some(false);
    if down {
        outln!(
            "{}",
            say(
                "ordersync のデーモンが停止しています。受注の取り込みも在庫の送信も止まっています(起動: systemctl start ordersync)",
                "ordersync is not running: no orders come in and no stock is sent (start it: systemctl start ordersync)"
            )
        );
    }
    let status = Status::load(store, Detail::Full { unknown_items: 20 }).await?;
    outln!("{}", say("受注:", "orders:"));
    for (state, n) in &status.per_state {
        let shown = OrderState::parse(state).map_or(state.as_str(), |s| wording::order_state(l, s));
        outln!("  {} {n}", super::pad(shown, 10));
    }
    outln!(
        "  {} {}",
        say("要対応", "needing attention:"),
        status.attention
    );
    print_outbox(&status);
    for poll in &status.polls {
        // A stopped daemon is why every poll is late: blame it, not them.
        let behind = !down && Status::is_behind(poll, config);
        let name = wording::provider_named(l, &poll.provider);
        let at = crate::domain::time::shown(&poll.at);
        match (l, behind) {
            (Language::Ja, false) => outln!("{name} の最後の取得: {at}"),
            (Language::Ja, true) => outln!(
                "{name} の最後の取得: {at}: 予定より遅れています。ログを確認してください(journalctl -u ordersync)"
            ),
            (Language::En, false) => outln!("last successful poll, {name}: {at}"),
            (Language::En, true) => outln!(
                "last successful poll, {name}: {at}: behind schedule, check the logs (journalctl -u ordersync)"
            ),
        }
    }
    print_licence(&status.licence);
    let waiting = &status.rakuten_unconfirmed;
    if let Some(line) = crate::providers::rakuten_pay::rules::unconfirmed_summary(
        waiting.orders,
        waiting.short,
        waiting.oldest_ordered_at.as_deref(),
    ) {
        outln!("{}", pick(l, &line));
    }
    for (provider, reason) in &status.problems {
        outln!(
            "{}: {}",
            wording::provider_named(l, provider),
            pick(l, reason)
        );
    }
    print_refused(&status);
    for b in &status.breaches {
        outln!(
            "{}: {b}",
            say("在庫の整合性の破れ", "stock invariant broken")
        );
    }
    print_stock_push(&status);
    print_catalog(&status);
    if down {
        return Err(DaemonDown.into());
    }
    if status.needs_attention(config) {
        return Err(NeedsAttention.into());
    }
    Ok(())
}

/// The calls waiting and failed.
fn print_outbox(status: &Status) {
    let oldest = status.oldest_call_seconds;
    match lang() {
        Language::Ja => outln!(
            "送信待ち {} 件{}、送信失敗 {} 件",
            status.calls_pending,
            oldest
                .map(|s| format!("(最も古いもの {s} 秒)"))
                .unwrap_or_default(),
            status.calls_dead
        ),
        Language::En => outln!(
            "outbox: {} waiting{}, {} failed",
            status.calls_pending,
            oldest
                .map(|s| format!(" (oldest {s} s)"))
                .unwrap_or_default(),
            status.calls_dead
        ),
    }
}

/// Webhooks refused in the last day, with the likely cause of a burst.
fn print_refused(status: &Status) {
    let l = lang();
    for r in &status.rejected {
        let burst = r.code == "unauthorized" && r.last_hour >= crate::status::UNAUTHORIZED_BURST;
        let hint = if burst {
            format!(" — {}", pick(l, crate::status::rejected_hint(r)))
        } else {
            String::new()
        };
        let name = wording::provider_named(l, &r.provider);
        let last = crate::domain::time::shown(&r.last_at);
        match l {
            Language::Ja => outln!(
                "拒否した Webhook({name}): {} 件 × {}(24 時間、うち直近 1 時間 {} 件、最後 {last}){hint}",
                r.count,
                r.code,
                r.last_hour
            ),
            Language::En => outln!(
                "webhooks refused, {name}: {} × {} in 24 h ({} in the last hour; last {last}){hint}",
                r.count,
                r.code,
                r.last_hour
            ),
        }
    }
}

/// Stock owed to each channel, the items a channel does not know, and
/// Rakuten's SKU map.
fn print_stock_push(status: &Status) {
    let l = lang();
    for push in &status.stock_push {
        let name = wording::channel(l, push.channel);
        match l {
            Language::Ja => outln!("{name} へ未送信の在庫変更: {} 件", push.owed),
            Language::En => outln!("stock changes not yet pushed to {name}: {}", push.owed),
        }
        for (sku, since) in &push.unknown {
            let reason = push.unknown_reason(l);
            match l {
                Language::Ja => outln!("{name} に商品 {sku} がありません({reason}、{since} から)"),
                Language::En => outln!("{name} has no item {sku} ({reason} since {since})"),
            }
        }
    }
    let Some(map) = &status.rakuten_skus else {
        return;
    };
    match l {
        Language::Ja => outln!(
            "楽天の SKU 対応: {} 組。楽天にないミラーの SKU {} 件、ミラーにない楽天の SKU {} 件、楽天が持たない組 {} 件(ordersync rakuten skus)",
            map.pairs,
            map.not_at_rakuten_total,
            map.not_in_mirror_total,
            map.not_held.len()
        ),
        Language::En => outln!(
            "Rakuten SKU map: {} pairs; mirror SKUs not at Rakuten: {}; Rakuten variants the mirror does not know: {}; pairs Rakuten does not hold: {} (ordersync rakuten skus)",
            map.pairs,
            map.not_at_rakuten_total,
            map.not_in_mirror_total,
            map.not_held.len()
        ),
    }
    for r in &map.refused {
        outln!(
            "{} {} ({} / {}) {}: {}",
            say("楽天が拒否", "Rakuten refused"),
            r.pair.sku,
            r.pair.manage_number,
            r.pair.variant_id,
            r.code,
            pick(l, &r.fix)
        );
    }
    if !map.not_pushed.is_empty() {
        outln!(
            "{}: {}",
            say(
                "楽天に在庫を送らない予約・頒布会の組",
                "pre-order and subscription pairs not pushed to Rakuten"
            ),
            map.not_pushed.len()
        );
    }
}

/// The product master and what J-goods refused of it.
fn print_catalog(status: &Status) {
    let l = lang();
    let Some(c) = &status.catalog else {
        return;
    };
    match l {
        Language::Ja => outln!(
            "商品マスタ: {} 件、J-goods が拒否 {} 件",
            c.items,
            c.refused_count
        ),
        Language::En => outln!(
            "product master: {} items, {} refused by J-goods",
            c.items,
            c.refused_count
        ),
    }
    for (sku, why) in &c.refused {
        outln!(
            "  {} {sku}: {}",
            say("J-goods が拒否", "J-goods refused"),
            pick(l, why)
        );
    }
    if !c.not_in_master.is_empty() {
        outln!(
            "  {}: {}",
            say(
                "J-goods で注文されたがマスタにない SKU",
                "ordered on J-goods, not in the master"
            ),
            c.not_in_master.join(", ")
        );
    }
}

/// The Rakuten licence key's expiry and the refusal of its check, if any.
fn print_licence(licence: &Licence) {
    let l = lang();
    if let Some(expiry) = &licence.expires_at {
        let expiry = crate::domain::time::shown(expiry);
        let act = licence.expiring();
        match (l, licence.days_left) {
            (Language::Ja, Some(d)) => outln!(
                "楽天のライセンスキーの期限: {expiry}(あと {d} 日){}",
                if act {
                    "。RMS で新しいキーを発行してください"
                } else {
                    ""
                }
            ),
            (Language::Ja, None) => outln!("楽天のライセンスキーの期限: {expiry}"),
            (Language::En, Some(d)) => outln!(
                "Rakuten licence key expires {expiry} ({d} days){}",
                if act { ": issue a new key in RMS" } else { "" }
            ),
            (Language::En, None) => outln!("Rakuten licence key expires {expiry}"),
        }
    }
    if let Some(fix) = &licence.check_refused {
        outln!(
            "{}: {}",
            say("楽天のライセンスキーの確認", "Rakuten licence check"),
            pick(l, fix)
        );
    }
}
