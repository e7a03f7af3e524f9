//! Recording how an outbound call ended, for calls whose answer changes no
//! more than the order's flags and the change feed.

use serde_json::{Value, json};

use crate::domain::{Channel, time};
use crate::engine::EventKind;
use crate::engine::{Attention, Decision, OrderWrite};
use crate::store::{self, Store, orders, outbox};

/// How a call ended.
#[derive(Debug, Clone)]
pub enum CallOutcome {
    /// Done: write this event for the order.
    Done { kind: EventKind, detail: Value },
    /// Refused for good, or out of retries: the call is dead and the order
    /// needs a person.
    Failed { reason: String },
}

/// Completes (or kills) the outbox row and writes the outcome, in one transaction.
pub async fn finish(
    store: &Store,
    outbox_id: i64,
    order: Option<(Channel, String)>,
    outcome: CallOutcome,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            let decision = match &outcome {
                CallOutcome::Done { kind, detail } => {
                    outbox::complete(tx, outbox_id, &now)?;
                    Decision::default().event(*kind, detail.clone())
                }
                CallOutcome::Failed { reason } => {
                    outbox::kill(tx, outbox_id, reason, &now)?;
                    Decision {
                        order: Some(OrderWrite {
                            attention: Some(Attention::Set(reason.clone())),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }
                    .event(
                        EventKind::CallDead,
                        json!({"outbox_id": outbox_id, "reason": reason}),
                    )
                    .event(EventKind::OrderAttention, json!({"reason": reason}))
                }
            };
            if let Some((channel, id)) = &order
                && orders::load(tx, *channel, id)?.is_some()
            {
                orders::apply(tx, *channel, id, &decision, &now)?;
            }
            Ok(())
        })
        .await
}
