//! A J-goods webhook: signature headers (HMAC and bearer) and the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Option<&str>, Option<&str>, Option<&str>, &[u8])| {
    let (timestamp, signature, authorization, body) = input;
    ordersync::untrusted::jgoods_webhook(timestamp, signature, authorization, body);
});
