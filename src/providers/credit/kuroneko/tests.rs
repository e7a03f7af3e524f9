use super::*;

#[test]
fn order_numbers_keep_readable_ids_and_hash_the_rest() {
    assert_eq!(order_no_for("A-1001", 1), "A-1001-1");
    assert_eq!(order_no_for("A-1001", 2), "A-1001-2");
    let long = order_no_for("123456-20261122-00068801", 1);
    assert!(is_valid_order_no(&long), "{long}");
    assert!(long.starts_with("123456-2026_"), "{long}");
    assert!(long.ends_with("-1"));
    // Ids that differ only in characters Yamato does not accept stay apart.
    let a = order_no_for("注文/1", 1);
    let b = order_no_for("注文.1", 1);
    assert_ne!(a, b);
    assert!(is_valid_order_no(&a) && is_valid_order_no(&b), "{a} {b}");
    assert_eq!(a, order_no_for("注文/1", 1), "deterministic");
    // A readable id that looks like a hashed one is hashed too.
    let hashed = order_no_for("x/", 1);
    let head = hashed.trim_end_matches("-1");
    assert_ne!(order_no_for(head, 1), hashed);
    assert!(is_valid_order_no(&order_no_for("", u32::MAX)));
    assert!(is_valid_order_no(&order_no_for(&"9".repeat(40), u32::MAX)));
}

#[test]
fn yamato_check_digits() {
    // 12345678901 mod 7 = 3.
    assert!(yamato_check_digit_ok("123456789013"));
    assert!(!yamato_check_digit_ok("123456789016"));
    assert!(!yamato_check_digit_ok("12345678901"));
    // Hyphens are how labels write it: stripped before the check digit.
    assert!(yamato_check_digit_ok("1234-5678-9013"));
    assert!(!yamato_check_digit_ok("1234-5678-9016"));
    assert_eq!(tracking_digits(" 1234-5678-9013 "), "123456789013");
    assert!(!yamato_check_digit_ok("１２３４５６７８９０１３"));
    assert!(yamato_check_digit_ok("000000000000"));
}

#[test]
fn process_div_follows_the_carrier() {
    assert_eq!(
        ShipmentProcess::register_for(Carrier::Yamato),
        ShipmentProcess::RegisterYamato
    );
    for c in Carrier::ALL {
        let p = ShipmentProcess::register_for(c);
        assert_eq!(p.code() == 0, c == Carrier::Yamato, "{c}");
        assert!(matches!(p.code(), 0 | 2));
    }
    assert_eq!(ShipmentProcess::Change.code(), 1);
    assert_eq!(ShipmentProcess::CancelRegistration.code(), 9);
    for p in ShipmentProcess::ALL {
        assert_eq!(ShipmentProcess::from_code(p.code()), Some(p));
    }
}

#[test]
fn codes_round_trip() {
    for s in TransactionStatus::KNOWN {
        assert_eq!(TransactionStatus::from_code(s.code()), s);
    }
    assert_eq!(
        TransactionStatus::from_code(4),
        TransactionStatus::Unrecognised(4)
    );
    for w in TransactionWarning::KNOWN {
        assert_eq!(TransactionWarning::from_code(w.code()), w);
    }
    for r in CreditResult::ALL {
        assert_eq!(CreditResult::from_code(r.code()), Some(r));
    }
    assert_eq!(CreditResult::from_code(4), None);
    for d in InvoiceDelivery::ALL {
        assert_eq!(InvoiceDelivery::from_code(d.code()), Some(d));
    }
}

#[test]
fn the_state_table() {
    use TransactionStatus::*;
    let table = [
        // (status, register 0/2, change 1/9, cancel/reduce)
        (Approved, true, false, true),
        (Cancelled, false, false, false),
        (TrackingRegistered, true, true, true),
        (NeedsInvestigation, true, true, true),
        (SalesConfirmed, false, false, true),
        (InvoiceIssued, false, false, true),
        (Paid, false, false, false),
    ];
    for (s, register, change, cancel) in table {
        assert_eq!(s.allows_shipment_registration(), register, "{s:?}");
        assert_eq!(s.allows_shipment_change(), change, "{s:?}");
        assert_eq!(s.allows_cancel_or_reduce(), cancel, "{s:?}");
    }
}
