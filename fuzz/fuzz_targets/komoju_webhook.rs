//! A KOMOJU webhook: the signature header and the event body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Option<&str>, &[u8])| {
    let (signature, body) = input;
    ordersync::untrusted::komoju_webhook(signature, body);
});
