//! Talking to systemd (`Type=notify`): readiness, reloads, stopping, one-line
//! `STATUS=` summaries and the watchdog. Every message is a no-op when
//! `NOTIFY_SOCKET` is not set (a terminal, the tests, `demo`).

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use crate::heartbeat::{Health, Heartbeats};
use crate::status::{Detail, Status};
use crate::store::Store;

/// How often `STATUS=` is refreshed when no watchdog asks for more.
const STATUS_EVERY: Duration = Duration::from_secs(30);

/// The `STATUS=` line: what an operator sees in `systemctl status`.
pub fn status_line(status: &Status, health: &Health) -> String {
    let mut line = format!(
        "{} orders waiting, {} calls queued, {} dead calls, {} need attention",
        status.orders_waiting, status.calls_pending, status.calls_dead, status.attention
    );
    if let Health::Stale(workers) = health {
        line.push_str(&format!("; stalled: {}", workers.join(", ")));
    }
    line
}

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// `READY=1`: migrations ran, listeners are bound, workers run.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `RELOADING=1` with `MONOTONIC_USEC`, as `Type=notify-reload` (systemd ≥ 253)
/// expects; older systemd ignores it. [`ready`] ends the reload.
pub fn reloading() {
    let mut states = vec![
        NotifyState::Reloading,
        NotifyState::Status("reloading config"),
    ];
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    send(&states);
}

/// `STOPPING=1`: draining in-flight work.
pub fn stopping() {
    send(&[
        NotifyState::Stopping,
        NotifyState::Status("stopping: finishing in-flight work"),
    ]);
}

/// Refreshes `STATUS=` and feeds the watchdog until `stop`: every half
/// `WATCHDOG_USEC` when systemd set one, else every `STATUS_EVERY` (30 s).
/// `WATCHDOG=1` is sent only while every worker keeps its heartbeat and the
/// store answers, so a stuck daemon is restarted by systemd.
pub async fn keep_alive(store: Store, heartbeats: Heartbeats, stop: CancellationToken) {
    let watchdog = sd_notify::watchdog_enabled();
    let every = watchdog.map_or(STATUS_EVERY, |w| (w / 2).min(STATUS_EVERY));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_health = Health::Fresh;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let health = heartbeats.health();
        if health != last_health {
            match &health {
                Health::Stale(workers) => tracing::error!(
                    ?workers,
                    "workers stopped checking in; withholding the watchdog ping"
                ),
                _ => tracing::info!("every worker checks in again"),
            }
            last_health = health.clone();
        }
        // A store that does not answer within one tick is as bad as a stuck worker.
        let summary = tokio::time::timeout(every, Status::load(&store, Detail::Brief)).await;
        let summary = match summary {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the store for the status line");
                send(&[NotifyState::Status("store unavailable")]);
                continue;
            }
            Err(_) => {
                tracing::error!("the store did not answer within {every:?}");
                send(&[NotifyState::Status("store not answering")]);
                continue;
            }
        };
        let line = status_line(&summary, &health);
        if watchdog.is_some() && health == Health::Fresh {
            send(&[NotifyState::Watchdog, NotifyState::Status(&line)]);
        } else {
            send(&[NotifyState::Status(&line)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_counts_and_names_stalled_workers() {
        let s = Status {
            orders_waiting: 3,
            calls_pending: 2,
            calls_dead: 1,
            attention: 4,
            ..Default::default()
        };
        assert_eq!(
            status_line(&s, &Health::Fresh),
            "3 orders waiting, 2 calls queued, 1 dead calls, 4 need attention"
        );
        assert_eq!(
            status_line(&s, &Health::Stale(vec!["dispatcher", "J-goods sweep"])),
            "3 orders waiting, 2 calls queued, 1 dead calls, 4 need attention; stalled: dispatcher, J-goods sweep"
        );
    }
}
