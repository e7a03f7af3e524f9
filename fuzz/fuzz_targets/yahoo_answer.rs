//! A Yahoo!ショッピング XML answer (orderList, orderInfo, errors).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    ordersync::untrusted::yahoo_answer(body);
});
