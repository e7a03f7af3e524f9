//! Stock availability and allocation rules.

use std::collections::HashMap;

/// `available = on_hand − open reservations − safety_stock`, never below zero.
pub fn available(on_hand: i64, reserved: i64, safety_stock: u32) -> u32 {
    let free = on_hand - reserved - i64::from(safety_stock);
    free.clamp(0, i64::from(u32::MAX)) as u32
}

/// A line to allocate: which SKU and how many the customer wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted<'a> {
    pub sku: &'a str,
    pub qty: u32,
}

/// Allocates each line `min(qty, available)` in line order, drawing down the
/// given availability so that two lines of the same SKU never share a unit.
/// Returns the quantity reserved per line (0 when nothing is free).
pub fn allocate(lines: &[Wanted<'_>], available: &HashMap<String, u32>) -> Vec<u32> {
    let mut left: HashMap<&str, u32> = HashMap::new();
    lines
        .iter()
        .map(|line| {
            let free = left
                .entry(line.sku)
                .or_insert_with(|| available.get(line.sku).copied().unwrap_or(0));
            let take = line.qty.min(*free);
            *free -= take;
            take
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn available_never_goes_below_zero() {
        assert_eq!(available(10, 3, 0), 7);
        assert_eq!(available(10, 3, 5), 2);
        assert_eq!(available(2, 3, 0), 0);
        assert_eq!(available(-5, 0, 0), 0);
    }

    #[test]
    fn lines_of_one_sku_share_its_stock() {
        let avail = HashMap::from([("A".to_string(), 5), ("B".to_string(), 1)]);
        let lines = [
            Wanted { sku: "A", qty: 3 },
            Wanted { sku: "B", qty: 2 },
            Wanted { sku: "A", qty: 3 },
            Wanted { sku: "C", qty: 1 },
        ];
        assert_eq!(allocate(&lines, &avail), vec![3, 1, 2, 0]);
    }

    proptest! {
        #[test]
        fn never_allocates_more_than_wanted_or_free(
            wants in prop::collection::vec((0usize..3, 0u32..20), 0..12),
            free in prop::collection::vec(0u32..30, 3),
        ) {
            let skus = ["A", "B", "C"];
            let avail: HashMap<String, u32> =
                skus.iter().zip(&free).map(|(s, f)| (s.to_string(), *f)).collect();
            let lines: Vec<Wanted> = wants.iter().map(|(s, q)| Wanted { sku: skus[*s], qty: *q }).collect();
            let got = allocate(&lines, &avail);
            for (line, took) in lines.iter().zip(&got) {
                prop_assert!(*took <= line.qty);
            }
            for (i, sku) in skus.iter().enumerate() {
                let total: u32 = lines.iter().zip(&got).filter(|(l, _)| l.sku == *sku).map(|(_, t)| *t).sum();
                prop_assert!(total <= free[i]);
                // Greedy: a line left short means the SKU ran out.
                let short = lines.iter().zip(&got).any(|(l, t)| l.sku == *sku && *t < l.qty);
                if short { prop_assert_eq!(total, free[i]); }
            }
        }
    }
}
