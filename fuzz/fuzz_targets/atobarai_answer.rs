//! An Atobarai.com <response> XML document.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    ordersync::untrusted::atobarai_answer(body);
});
