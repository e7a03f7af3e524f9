//! One entry point per parser that reads bytes from outside the daemon:
//! webhooks, provider answers, the config file, stock imports. Each runs the
//! same code the daemon runs on such input and reports only whether it was
//! accepted. The fuzz targets (`fuzz/`) and the never-panic property tests
//! drive these, so both always exercise the daemon's real parsing paths.

use std::path::Path;

use secrecy::SecretString;

use crate::config_file::Config;
use crate::inventory_import;
use crate::providers::credit::atobarai_com::wire as atobarai;
use crate::providers::credit::kuroneko::wire as kuroneko;
use crate::providers::jgoods::{signature as jgoods_signature, wire as jgoods};
use crate::providers::komoju::{signature as komoju_signature, wire as komoju};
use crate::providers::rakuten_pay::wire as rakuten;
use crate::providers::yahoo_shopping::{api as yahoo_api, wire as yahoo};

/// A fixed "now" for signature checks, so a run is reproducible.
const NOW_UNIX: i64 = 1_795_000_000;

/// A J-goods webhook: the HMAC and bearer checks on the given headers, then
/// the body. `true` when the body parses (whatever the signature said).
pub fn jgoods_webhook(
    timestamp: Option<&str>,
    signature: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> bool {
    let secrets = [SecretString::from("fuzz-secret")];
    let _ = jgoods_signature::verify_hmac(&secrets, timestamp, signature, body, NOW_UNIX);
    let _ = jgoods_signature::verify_bearer(&secrets, authorization);
    jgoods::parse_order(body).is_ok()
}

/// A KOMOJU webhook: the signature check, then the event.
pub fn komoju_webhook(signature: Option<&str>, body: &[u8]) -> bool {
    let secrets = [SecretString::from("fuzz-secret")];
    let _ = komoju_signature::verify(&secrets, signature, body);
    let _ = komoju::parse_payment(body);
    let _ = komoju::parse_error(body);
    komoju::parse_event(body).is_ok()
}

/// A Yahoo!ショッピング answer (XML): read into its tree, its error if it is
/// one, and each `<OrderInfo>` read as an order. `true` when it parses.
pub fn yahoo_answer(body: &[u8]) -> bool {
    let Ok(root) = yahoo::parse(body) else {
        return false;
    };
    let _ = yahoo::error_of(&root);
    let _ = crate::providers::yahoo_shopping::fingerprint(&root);
    for info in root
        .find("Search")
        .into_iter()
        .flat_map(|s| s.all("OrderInfo"))
    {
        let _ = yahoo_api::read_order(info);
    }
    root.find("OrderInfo")
        .is_none_or(|info| yahoo_api::read_order(info).is_ok())
}

/// A Rakuten Pay answer body, read as each answer the client expects; the
/// orders of a `getOrder` answer are each read in full.
pub fn rakuten_answer(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let _ = serde_json::from_value::<rakuten::RakutenGatewayError>(value.clone());
    let _ = serde_json::from_value::<rakuten::RakutenSearchOrderResponse>(value.clone());
    let _ = serde_json::from_value::<rakuten::RakutenMessagesResponse>(value.clone());
    let _ = serde_json::from_value::<rakuten::RakutenLicenseExpiry>(value.clone());
    let _ = rakuten::order_from_value(value.clone());
    match serde_json::from_value::<rakuten::RakutenGetOrderResponse>(value) {
        Ok(answer) => answer
            .orders
            .into_iter()
            .all(|order| rakuten::order_from_value(order).is_ok()),
        Err(_) => false,
    }
}

/// A Kuroneko Atobarai `<return>` document.
pub fn kuroneko_answer(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|xml| kuroneko::parse_return(xml).is_ok())
}

/// An Atobarai.com `<response>` document.
pub fn atobarai_answer(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|xml| atobarai::parse_response(xml).is_ok())
}

/// A config file's text, read and validated as `check-config` does.
pub fn config_text(text: &str) -> bool {
    Config::from_toml_str(text, Path::new("fuzz.toml")).is_ok()
}

/// A stock import body, as CSV and as JSON.
pub fn stock_import(body: &[u8]) -> bool {
    let csv = inventory_import::parse_csv(body).is_ok();
    let json = inventory_import::parse_json(body).is_ok();
    csv || json
}

#[cfg(test)]
mod tests;
