//! A person's answers to what needs one: acknowledge an order's attention,
//! drop a dead call. Each is one transaction that also writes its event, so
//! the change feed (and the order's history) says who did what and why.

use crate::domain::{Channel, time};
use crate::store::{Store, StoreError, orders, outbox};

/// Longest note or reason kept with an action.
pub const MAX_NOTE: usize = 500;

/// Why an action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{0}")]
    NotFound(String),
    /// Nothing to act on: the order needs no attention, the call is not dead.
    #[error("{0}")]
    Nothing(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `by` and a note as kept: trimmed, bounded, without control characters.
fn clean(text: &str, what: &str) -> Result<String, ActionError> {
    let text = text.trim();
    if text.chars().count() > MAX_NOTE {
        return Err(ActionError::Invalid(format!(
            "{what} is longer than {MAX_NOTE} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(ActionError::Invalid(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(text.to_string())
}

/// Acknowledges the attention of `channel`/`id` (cleared until something
/// new sets it), with who and a note.
pub async fn acknowledge(
    store: &Store,
    channel: Channel,
    id: String,
    by: &str,
    note: &str,
) -> Result<(), ActionError> {
    let (by, note) = (clean(by, "by")?, clean(note, "the note")?);
    let shown = id.clone();
    let done = store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            orders::acknowledge(tx, channel, &id, &by, &note, &now)
        })
        .await?;
    match done {
        None => Err(ActionError::NotFound(format!(
            "no {} order {shown}",
            channel.as_str()
        ))),
        Some(false) => Err(ActionError::Nothing(format!(
            "{} {shown} needs no attention",
            channel.as_str()
        ))),
        Some(true) => Ok(()),
    }
}

/// Drops the dead call `id` for good, with who and why; its order keeps an
/// attention saying the call was never made.
pub async fn drop_call(store: &Store, id: i64, by: &str, reason: &str) -> Result<(), ActionError> {
    let (by, reason) = (clean(by, "by")?, clean(reason, "the reason")?);
    if reason.is_empty() {
        return Err(ActionError::Invalid(
            "say why the call is dropped (--reason) / 理由を書いてください".into(),
        ));
    }
    let done = store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            outbox::drop_by_hand(tx, id, &by, &reason, &now)
        })
        .await?;
    match done {
        None => Err(ActionError::NotFound(format!("no outbox call {id}"))),
        Some(false) => Err(ActionError::Nothing(format!(
            "outbox call {id} is not dead: only a call given up can be dropped"
        ))),
        Some(true) => Ok(()),
    }
}
