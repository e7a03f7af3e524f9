//! A Kuroneko Atobarai <return> XML document.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    ordersync::untrusted::kuroneko_answer(body);
});
