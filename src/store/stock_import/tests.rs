//! The staged import against a real SQLite file.

use super::*;
use crate::domain::Channel;
use crate::store::{stock, stock_push};

async fn store_with(skus: usize, on_hand: i64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path(), 0).unwrap();
    store
        .write(|tx| stock_push::set_channels(tx, &[Channel::Jgoods]))
        .await
        .unwrap();
    let levels: Vec<StockLevel> = (0..skus)
        .map(|i| StockLevel::counted(&format!("S{i:05}"), on_hand))
        .collect();
    store
        .write(move |tx| restock::set_levels(tx, &levels, &now()))
        .await
        .unwrap();
    store
        .write(|tx| {
            tx.execute("UPDATE stock_push SET pushed_version = version", [])?;
            Ok(())
        })
        .await
        .unwrap();
    (dir, store)
}

async fn on_hand(store: &Store, sku: &'static str) -> Option<i64> {
    store
        .read(move |c| Ok(stock::get(c, sku)?.map(|r| r.on_hand)))
        .await
        .unwrap()
}

async fn owed(store: &Store) -> i64 {
    store
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM stock_push WHERE version > pushed_version",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_large_import_updates_inserts_and_owes_only_what_changed() {
    let (_dir, store) = store_with(5_000, 3).await;
    // Every even SKU changes, odd ones are counted the same, 1,000 are new:
    // `S00005n` sorts between `S00005` and `S00006`, so new SKUs fall in
    // every chunk of the build.
    let mut levels: Vec<StockLevel> = (0..5_000)
        .map(|i| StockLevel::counted(&format!("S{i:05}"), if i % 2 == 0 { 7 } else { 3 }))
        .collect();
    levels.extend((0..1_000).map(|i| StockLevel::counted(&format!("S{:05}n", i * 5), 1)));
    assert!(levels.len() > ONE_TRANSACTION_MAX);
    assert_eq!(import(&store, levels).await.unwrap(), 6_000);
    assert_eq!(on_hand(&store, "S00000").await, Some(7));
    assert_eq!(on_hand(&store, "S00001").await, Some(3));
    assert_eq!(on_hand(&store, "S00000n").await, Some(1));
    assert_eq!(on_hand(&store, "S04995n").await, Some(1));
    assert_eq!(owed(&store).await, 2_500 + 1_000);
    let state = store.read(|c| kv::get(c, STATE_KEY)).await.unwrap();
    assert_eq!(state, None, "the import is over");
    // The swapped table keeps its triggers: a later count is owed as before.
    store
        .write(|tx| restock::set_levels(tx, &[StockLevel::counted("S00001", 9)], &now()))
        .await
        .unwrap();
    assert_eq!(owed(&store).await, 2_500 + 1_000 + 1);
}

#[tokio::test]
async fn writes_during_the_build_are_kept_by_the_swap() {
    let (_dir, store) = store_with(3_000, 5).await;
    store.write(|tx| begin(tx)).await.unwrap();
    let levels: Vec<StockLevel> = (0..3_000)
        .map(|i| StockLevel::counted(&format!("S{i:05}"), 8))
        .collect();
    stage_and_build(&store, levels).await.unwrap();
    // An order holds 2 of S00010 after its row was built (the column a
    // reservation writes).
    store
        .write(|tx| {
            tx.execute("UPDATE stock SET reserved = 2 WHERE sku = 'S00010'", [])?;
            Ok(())
        })
        .await
        .unwrap();
    store.write(swap).await.unwrap();
    let row = store
        .read(|c| Ok(stock::get(c, "S00010")?.unwrap()))
        .await
        .unwrap();
    assert_eq!((row.on_hand, row.reserved, row.available), (8, 2, 6));
}

#[tokio::test]
async fn a_stop_before_the_swap_changes_nothing_and_after_it_owes_the_rest() {
    let (_dir, store) = store_with(3_000, 5).await;
    store.write(|tx| begin(tx)).await.unwrap();
    let levels: Vec<StockLevel> = (0..3_000)
        .map(|i| StockLevel::counted(&format!("S{i:05}"), 6))
        .collect();
    stage_and_build(&store, levels.clone()).await.unwrap();
    // Stopped here: a second import is refused while the first looks alive ...
    let busy = import(&store, levels.clone()).await.unwrap_err();
    assert!(matches!(busy, StoreError::Busy(_)), "{busy}");
    // ... and one that is old is cleared at start-up, the stock untouched.
    store
        .write(|tx| {
            kv::set(
                tx,
                STATE_KEY,
                "building since 2026-01-01T00:00:00+09:00 by 1",
                &now(),
            )
        })
        .await
        .unwrap();
    resume(&store).await.unwrap();
    assert_eq!(on_hand(&store, "S00000").await, Some(5));
    assert_eq!(owed(&store).await, 0);
    // Stopped after the swap: the start-up owes what changed.
    store.write(|tx| begin(tx)).await.unwrap();
    stage_and_build(&store, levels).await.unwrap();
    store.write(swap).await.unwrap();
    assert_eq!(on_hand(&store, "S00000").await, Some(6));
    resume(&store).await.unwrap();
    assert_eq!(owed(&store).await, 3_000);
    assert_eq!(store.read(|c| kv::get(c, STATE_KEY)).await.unwrap(), None);
}

#[tokio::test]
async fn a_count_as_of_a_time_less_what_shipped_after_it_is_the_same_staged_or_not() {
    let (_dir, store) = store_with(3_000, 10).await;
    // 3 units of S00001 shipped at 11:00, 2 more at 13:00.
    store
        .write(|tx| {
            tx.execute_batch(
                "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
                 VALUES ('direct', 'O1', 'shipped', 'none', 'x', 'x');
                 INSERT INTO order_lines (channel, order_id, line_no, sku, qty) VALUES
                    ('direct', 'O1', 1, 'S00001', 3), ('direct', 'O1', 2, 'S00001', 2);
                 INSERT INTO allocations (channel, order_id, line_no, sku, qty, state, created_at, updated_at, shipped_at)
                 VALUES ('direct', 'O1', 1, 'S00001', 3, 'shipped', 'x', 'x', '2026-12-03T11:00:00+09:00'),
                        ('direct', 'O1', 2, 'S00001', 2, 'shipped', 'x', 'x', '2026-12-03T13:00:00+09:00');",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let counted_at = |sku: &str, on_hand: i64, as_of: &str| StockLevel {
        as_of: Some(as_of.to_string()),
        ..StockLevel::counted(sku, on_hand)
    };
    // Counted 20 at noon: the 13:00 shipment is subtracted, the 11:00 one is not.
    let mut staged: Vec<StockLevel> = (0..3_000)
        .map(|i| StockLevel::counted(&format!("S{i:05}"), 10))
        .collect();
    staged[1] = counted_at("S00001", 20, "2026-12-03T12:00:00+09:00");
    import(&store, staged).await.unwrap();
    assert_eq!(on_hand(&store, "S00001").await, Some(18));
    // The one-transaction path agrees.
    let small = vec![counted_at("S00001", 20, "2026-12-03T12:00:00+09:00")];
    import(&store, small).await.unwrap();
    assert_eq!(on_hand(&store, "S00001").await, Some(18));
}

#[tokio::test]
async fn a_caller_that_goes_away_does_not_leave_the_import_half_done() {
    let (_dir, store) = store_with(3_000, 5).await;
    let levels: Vec<StockLevel> = (0..3_000)
        .map(|i| StockLevel::counted(&format!("S{i:05}"), 9))
        .collect();
    // The caller gives up almost at once (an HTTP client hanging up).
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(1),
        import(&store, levels.clone()),
    )
    .await;
    assert!(
        gave_up.is_err(),
        "the import was not cut short; make it larger"
    );
    // The import goes on by itself and ends; the next one is not refused.
    // (Its task may not have claimed the import yet when the caller gave
    // up: wait for its result, not only for the claim to be gone.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store
        .read(|c| kv::get(c, STATE_KEY))
        .await
        .unwrap()
        .is_some()
        || on_hand(&store, "S00000").await != Some(9)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(on_hand(&store, "S00000").await, Some(9));
    import(&store, levels).await.unwrap();
}
