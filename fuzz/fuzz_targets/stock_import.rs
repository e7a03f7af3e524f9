//! A stock import body, read as CSV and as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    ordersync::untrusted::stock_import(body);
});
