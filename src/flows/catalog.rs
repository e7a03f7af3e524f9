//! Importing the product master (items or categories): parse the whole file,
//! then store it in one transaction, which is also what owes J-goods the
//! changes (see `store::catalog`). All or nothing.

use crate::catalog::{MasterError, categories, master};
use crate::store::catalog::{self, ImportCount};
use crate::store::{self, Store};
use crate::text_encoding::TextEncoding;

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}; nothing was imported / 取り込みませんでした")]
    Bad(#[from] MasterError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The file's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Json,
    Csv(Option<TextEncoding>),
}

impl Form {
    /// JSON when it says so or starts like an array; CSV otherwise.
    pub fn guess(bytes: &[u8], json: bool, encoding: Option<TextEncoding>) -> Form {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        match json || first == Some(&b'[') {
            true => Form::Json,
            false => Form::Csv(encoding),
        }
    }
}

/// Imports an item master.
pub async fn import_items(
    store: &Store,
    bytes: Vec<u8>,
    form: Form,
) -> Result<ImportCount, ImportFailure> {
    let items = tokio::task::spawn_blocking(move || match form {
        Form::Json => master::parse_json(&bytes),
        Form::Csv(encoding) => master::parse_csv(&bytes, encoding),
    })
    .await
    .map_err(|e| store::StoreError::Corrupt(format!("the import task failed: {e}")))??;
    let now = crate::domain::time::rfc3339(crate::domain::time::now());
    Ok(store
        .write(move |tx| catalog::import_items(tx, &items, &now))
        .await?)
}

/// Imports a category master, checked as a tree with the categories stored.
pub async fn import_categories(
    store: &Store,
    bytes: Vec<u8>,
    form: Form,
) -> Result<ImportCount, ImportFailure> {
    let rows = match form {
        Form::Json => categories::parse_json(&bytes)?,
        Form::Csv(encoding) => categories::parse_csv(&bytes, encoding)?,
    };
    let now = crate::domain::time::rfc3339(crate::domain::time::now());
    let checked = store
        .write(move |tx| {
            let existing = catalog::categories(tx)?;
            if let Err(e) = categories::check_tree(&rows, &existing) {
                return Ok(Err(e));
            }
            let all: Vec<_> = rows.into_iter().map(|(_, c)| c).collect();
            catalog::import_categories(tx, &all, &now).map(Ok)
        })
        .await?;
    Ok(checked?)
}
