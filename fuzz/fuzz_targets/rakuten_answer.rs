//! A Rakuten Pay answer body (search, getOrder, messages, gateway error, licence).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    ordersync::untrusted::rakuten_answer(body);
});
