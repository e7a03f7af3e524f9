//! The first allocation of an order's lines, as every channel makes it:
//! each line gets `min(qty, available)` in line order (two lines of one SKU
//! never share a unit, see [`crate::domain::allocate`]), and what it gets is
//! a reservation move of the decision.

use std::collections::HashMap;

use super::StockMove;
use crate::domain::allocation::{Wanted, allocate};

/// One line to allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand<'a> {
    pub line_no: u32,
    pub sku: &'a str,
    pub qty: u32,
}

/// What the allocation of an order's lines reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Units reserved per line, in the order of the lines.
    pub reserved: Vec<u32>,
    /// Every line got all it asked for.
    pub full: bool,
    /// The reservations as stock moves (lines that got nothing have none).
    pub moves: Vec<StockMove>,
}

/// Allocates `lines` from `available`.
pub fn reserve(lines: &[Demand<'_>], available: &HashMap<String, u32>) -> Reservation {
    let wanted: Vec<Wanted> = lines
        .iter()
        .map(|l| Wanted {
            sku: l.sku,
            qty: l.qty,
        })
        .collect();
    let reserved = allocate(&wanted, available);
    let full = lines.iter().zip(&reserved).all(|(l, r)| *r == l.qty);
    let moves = lines
        .iter()
        .zip(&reserved)
        .filter(|(_, r)| **r > 0)
        .map(|(l, r)| StockMove::Reserve {
            line_no: l.line_no,
            sku: l.sku.to_string(),
            qty: *r,
        })
        .collect();
    Reservation {
        reserved,
        full,
        moves,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_get_what_is_free_and_the_moves_say_so() {
        let available = HashMap::from([("A".to_string(), 3), ("B".to_string(), 0)]);
        let lines = [
            Demand {
                line_no: 1,
                sku: "A",
                qty: 2,
            },
            Demand {
                line_no: 2,
                sku: "A",
                qty: 2,
            },
            Demand {
                line_no: 3,
                sku: "B",
                qty: 1,
            },
        ];
        let r = reserve(&lines, &available);
        assert_eq!(r.reserved, [2, 1, 0]);
        assert!(!r.full);
        assert_eq!(
            r.moves,
            [
                StockMove::Reserve {
                    line_no: 1,
                    sku: "A".into(),
                    qty: 2
                },
                StockMove::Reserve {
                    line_no: 2,
                    sku: "A".into(),
                    qty: 1
                },
            ]
        );
        assert!(reserve(&lines[..1], &available).full);
    }
}
