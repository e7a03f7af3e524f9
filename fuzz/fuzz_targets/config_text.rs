//! A config file's text, parsed and validated as `check-config` does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    ordersync::untrusted::config_text(text);
});
