//! Config tests. Secrets from `env` and `credential` sources are resolved against an injected
//! map rather than the process environment, so parallel tests never race on variables; only
//! the example-file test touches the real environment, with names no other test uses.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::config::files::resolve_path_with;
use crate::config::{
    DEFAULT_CONFIG_PATH, Environment, LogFormat, Secret, SmtpTls, permission_warnings, resolve_path,
};
use crate::providers::credit::atobarai_com::config::{FeeBand, FeeMode};
use crate::providers::jgoods::config::WebhookAuth;
use crate::providers::rakuten_pay::config::SkuSource;

const FILE: &str = "/etc/ordersync/config.toml";

struct MapEnv(HashMap<String, OsString>);

impl Environment for MapEnv {
    fn var_os(&self, name: &str) -> Option<OsString> {
        self.0.get(name).cloned()
    }
}

fn env(pairs: &[(&str, &str)]) -> MapEnv {
    MapEnv(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect(),
    )
}

/// The variables the section snippets below refer to.
fn test_env() -> MapEnv {
    env(&[
        ("T_JG_WEBHOOK", "jg-webhook-value-5b1c"),
        ("T_RK_SERVICE", "rk-service-value-77aa"),
        ("T_RK_LICENSE", "rk-license-value-0c3e"),
        ("T_KN_PASSWORD", "Kn7pass"),
        ("T_KJ_SECRET", "kj-secret-value-e91d"),
        ("T_KJ_WEBHOOK", "kj-webhook-value-42f0"),
    ])
}

/// Where `{ credential = .. }` is read without `CREDENTIALS_DIRECTORY` in these tests.
const NO_CREDENTIALS: &str = "/nonexistent-credentials";

fn build_with(text: &str, path: &Path, env: &MapEnv, strict: bool) -> Result<Config, ConfigError> {
    super::build::build_with(text, path, env, Path::new(NO_CREDENTIALS), strict)
}

/// Loads `text`; a missing admin token is checked only by the tests about it.
fn load(text: &str) -> Result<Config, ConfigError> {
    build_with(text, Path::new(FILE), &test_env(), false)
}

fn load_strict(text: &str) -> Result<Config, ConfigError> {
    build_with(text, Path::new(FILE), &test_env(), true)
}

#[test]
fn the_admin_token_is_required_long_and_optional_only_by_choice() {
    let e = load_strict("").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("daemon.admin_token"), "{e}");
    assert!(e.to_string().contains("allow_no_admin_token"), "{e}");
    let e = load_strict("[daemon]\nadmin_token = \"short-token\"\n").unwrap_err();
    assert_at(&e, 2, "daemon.admin_token");
    assert!(e.to_string().contains("32"), "{e}");
    let long = "[daemon]\nadmin_token = \"0123456789abcdef0123456789abcdef\"\n";
    assert!(load_strict(long).is_ok());
    assert!(load_strict("[daemon]\nallow_no_admin_token = true\n").is_ok());
    // Loaded without the flag (as the commands that do not serve do), the
    // refusal waits for whoever serves the admin API.
    let kept = load("").unwrap();
    assert_eq!(
        kept.check_serving().unwrap_err().key.as_deref(),
        Some("daemon.admin_token")
    );
    let public = "[daemon]\nadmin_listen = \"0.0.0.0:8081\"\nallow_no_admin_token = true\n";
    assert_eq!(
        load_strict(public).unwrap_err().key.as_deref(),
        Some("daemon.admin_listen")
    );
}

fn load_ok(text: &str) -> Config {
    match load(text) {
        Ok(config) => config,
        Err(e) => panic!("expected the config to load, got: {e}"),
    }
}

fn load_err(text: &str) -> ConfigError {
    match load(text) {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(e) => e,
    }
}

/// Asserts an error's line and key, showing the whole error when they differ.
fn assert_at(e: &ConfigError, line: usize, key: &str) {
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(line), Some(key)),
        "error was: {e}"
    );
}

// Minimal valid sections. Each is exactly 4 lines so tests can compute line numbers.
const JGOODS: &str = "[jgoods]\n\
    client_id = \"cid-1\"\n\
    client_secret = \"jg-client-inline-9d2e\"\n\
    webhook_secret = { env = \"T_JG_WEBHOOK\" }\n";
const RAKUTEN: &str = "[rakuten_pay]\n\
    enabled = true\n\
    service_secret = { env = \"T_RK_SERVICE\" }\n\
    license_key = { env = \"T_RK_LICENSE\" }\n";
const KURONEKO: &str = "[kuroneko]\n\
    enabled = true\n\
    store_code = \"01234567890\"\n\
    password = { env = \"T_KN_PASSWORD\" }\n";
const ATOBARAI: &str = "[atobarai_com]\n\
    enterprise_id = 11\n\
    site_id = 22\n\
    api_user_id = 33\n";
const KOMOJU: &str = "[komoju]\n\
    enabled = true\n\
    secret_key = { env = \"T_KJ_SECRET\" }\n\
    webhook_secret = { env = \"T_KJ_WEBHOOK\" }\n";
const INVOICE: &str = "[invoice]\n\
    issuer_name = \"株式会社テスト\"\n\
    registration_number = \"T1234567890123\"\n\
    addressee = \"J-goods御中\"\n\
    bank_account = \"テスト銀行 普通 1234567\"\n";

fn all_sections() -> String {
    [JGOODS, RAKUTEN, KURONEKO, ATOBARAI, KOMOJU, INVOICE].concat()
}

#[test]
fn empty_file_is_all_defaults() {
    let config = load_ok("");
    assert_eq!(config.daemon, DaemonConfig::default());
    assert_eq!(config.daemon.data_dir, PathBuf::from("/var/lib/ordersync"));
    assert_eq!(config.daemon.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(config.daemon.admin_listen.to_string(), "127.0.0.1:8081");
    assert_eq!(config.daemon.admin_token, None);
    assert_eq!(config.daemon.log_format, LogFormat::Auto);
    assert_eq!(config.daemon.http_timeout, Duration::from_secs(30));
    assert_eq!(config.inventory.safety_stock, 0);
    assert!(config.inventory.release_on_credit_ng);
    assert_eq!(config.retry.initial_delay, Duration::from_secs(2));
    assert_eq!(config.retry.max_delay, Duration::from_secs(600));
    assert_eq!(config.retry.give_up_after, Duration::from_secs(86_400));
    assert!(config.jgoods.is_none() && config.rakuten_pay.is_none());
    assert!(config.kuroneko.is_none() && config.atobarai_com.is_none());
    assert!(config.komoju.is_none() && config.invoice.is_none());
    assert_eq!(config.source, PathBuf::from(FILE));
    assert_eq!(
        config.database_path(),
        PathBuf::from("/var/lib/ordersync/ordersync.sqlite")
    );
}

#[test]
fn empty_sections_are_defaults_too() {
    let config = load_ok("[daemon]\n[inventory]\n[retry]\n");
    assert_eq!(config.daemon, DaemonConfig::default());
    assert_eq!(config.inventory, InventoryConfig::default());
    assert_eq!(config.retry, RetryConfig::default());
}

#[test]
fn minimal_provider_sections_get_documented_defaults() {
    let config = load_ok(&all_sections());

    let jg = config
        .enabled_jgoods()
        .expect("jgoods is enabled by default");
    assert_eq!(jg.order_api_base_url, "https://api.j-goods.net/order/v2");
    assert_eq!(jg.item_api_base_url, "https://api.j-goods.net/v3");
    assert_eq!(jg.token_url, "https://api.j-goods.net/oauth/token");
    assert_eq!(jg.client_id, "cid-1");
    assert_eq!(jg.client_secret.expose(), Ok("jg-client-inline-9d2e"));
    assert_eq!(jg.webhook_secret.expose(), Ok("jg-webhook-value-5b1c"));
    assert_eq!(jg.webhook_auth, WebhookAuth::Hmac);
    assert!(jg.webhook_allow_from.is_empty());
    assert_eq!(jg.sweep_interval, Duration::from_secs(600));
    assert_eq!(jg.stock_push_interval, Duration::from_secs(300));

    let rk = config
        .enabled_rakuten_pay()
        .expect("enabled in the snippet");
    assert_eq!(
        rk.api_base_url,
        "https://api.rms.rakuten.co.jp/es/2.0/order"
    );
    assert_eq!(
        rk.license_api_url,
        "https://api.rms.rakuten.co.jp/es/1.0/license-management"
    );
    assert_eq!(rk.poll_interval, Duration::from_secs(120));
    assert_eq!(rk.lookback, Duration::from_secs(3 * 86_400));
    assert!(rk.auto_confirm);
    // J-goods' token URL is not public: its default is a guess, said so.
    let warned: Vec<_> = config
        .warnings
        .iter()
        .map(|w| w.contains("jgoods.token_url: "))
        .collect();
    assert_eq!(warned, [true], "{:?}", config.warnings);
    assert_eq!(
        rk.sku_preference,
        [
            SkuSource::MerchantDefinedSkuId,
            SkuSource::ItemNumber,
            SkuSource::ManageNumber
        ]
    );

    let kn = config.enabled_kuroneko().expect("enabled in the snippet");
    assert_eq!(kn.api_base_url, "https://atobarai.kuronekoyamato.co.jp");
    assert_eq!(kn.store_code, "01234567890");
    assert_eq!(kn.settle_delay, Duration::from_secs(300));
    assert_eq!(kn.poll_interval, Duration::from_secs(300));

    // Present but off by default.
    assert!(config.enabled_atobarai_com().is_none());
    let ab = config.atobarai_com.as_ref().expect("section present");
    assert!(!ab.enabled);
    assert_eq!(ab.api_base_url, "https://www.atobarai.jp");
    assert_eq!((ab.enterprise_id, ab.site_id, ab.api_user_id), (11, 22, 33));
    assert_eq!(ab.poll_interval, Duration::from_secs(300));
    assert_eq!(ab.fee_mode, FeeMode::Keep);
    assert!(ab.fee_bands.is_empty());

    let kj = config.enabled_komoju().expect("enabled in the snippet");
    assert_eq!(kj.api_base_url, "https://komoju.com/api/v1");
    assert_eq!(kj.api_version, "2025-01-28");
    assert!(kj.capture_on_ship);

    let inv = config.invoice.as_ref().expect("section present");
    assert_eq!(inv.registration_number, "T1234567890123");
    assert_eq!(inv.number_prefix, "INV-");
}

#[test]
fn enabled_helpers_follow_the_switch() {
    let text = JGOODS.replace("[jgoods]\n", "[jgoods]\nenabled = false\n");
    let config = load_ok(&text);
    assert!(config.jgoods.is_some());
    assert!(config.enabled_jgoods().is_none());
    let rakuten_off = RAKUTEN.replace("enabled = true", "enabled = false");
    assert!(load_ok(&rakuten_off).enabled_rakuten_pay().is_none());
}

#[test]
fn every_key_can_be_set() {
    let text = r#"
[daemon]
data_dir = "/srv/os"
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
log_format = "json"
http_timeout = "90s"

[inventory]
safety_stock = 2
release_on_credit_ng = false

[retry]
initial_delay = "1s"
max_delay = "1m"
give_up_after = "2h"

[jgoods]
order_api_base_url = "http://127.0.0.1:9001/order/v2/"
item_api_base_url = "http://127.0.0.1:9001/v3"
token_url = "http://127.0.0.1:9001/oauth/token"
client_id = "c"
client_secret = "s"
webhook_auth = "bearer"
webhook_secret = "w"
webhook_allow_from = ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]
sweep_interval = "1m 30s"
stock_push_interval = "0s"

[rakuten_pay]
deferred_payment = "atobarai_com"
sku_preference = ["manage_number"]
service_secret = "s"
license_key = "l"
auto_confirm = false
lookback = "1d"
"#;
    let config = load_ok(text);
    assert_eq!(config.daemon.log_format, LogFormat::Json);
    assert_eq!(config.daemon.http_timeout, Duration::from_secs(90));
    assert_eq!(
        config.database_path(),
        PathBuf::from("/srv/os/ordersync.sqlite")
    );
    assert_eq!(config.inventory.safety_stock, 2);
    assert_eq!(config.retry.give_up_after, Duration::from_secs(7200));
    let jg = config.jgoods.expect("present");
    assert_eq!(jg.order_api_base_url, "http://127.0.0.1:9001/order/v2");
    assert_eq!(jg.webhook_auth, WebhookAuth::Bearer);
    let nets: Vec<String> = jg
        .webhook_allow_from
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(nets, ["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"]);
    assert_eq!(jg.sweep_interval, Duration::from_secs(90));
    assert!(jg.stock_push_interval.is_zero());
    let rk = config.rakuten_pay.expect("present");
    assert_eq!(rk.sku_preference, [SkuSource::ManageNumber]);
}

#[test]
fn unknown_key_in_each_section_names_line_and_key() {
    let sections: [(&str, &str); 9] = [
        ("daemon", "[daemon]\n"),
        ("inventory", "[inventory]\n"),
        ("retry", "[retry]\n"),
        ("jgoods", JGOODS),
        ("rakuten_pay", RAKUTEN),
        ("kuroneko", KURONEKO),
        ("atobarai_com", ATOBARAI),
        ("komoju", KOMOJU),
        ("invoice", INVOICE),
    ];
    for (name, body) in sections {
        // Two comment lines first, so the line number is not trivially small.
        let text = format!("# a\n# b\n{body}bogus_key = 1\n");
        let line = 3 + body.lines().count();
        let e = load_err(&text);
        assert_at(&e, line, &format!("{name}.bogus_key"));
        assert!(e.message.starts_with("unknown field `bogus_key`"), "{e}");
    }
}

#[test]
fn unknown_section_and_nested_unknown_keys() {
    assert_at(&load_err("\n[jgood]\nclient_id = \"x\"\n"), 2, "jgood");
    assert_at(&load_err("top = 1\n"), 1, "top");
    // Dotted and inline forms are located as well.
    assert_at(&load_err("daemon.lissen = \"x\"\n"), 1, "daemon.lissen");
    assert_at(
        &load_err("inventory = { safety_stock = 1, extra = 2 }\n"),
        1,
        "inventory.extra",
    );
    let band =
        format!("{ATOBARAI}[[atobarai_com.fee_bands]]\nmin = 0\nmax = 9\nfee = 1\nrate = 2\n");
    assert_at(&load_err(&band), 9, "atobarai_com.fee_bands[0].rate");
    let secret = JGOODS.replace("{ env = \"T_JG_WEBHOOK\" }", "{ envv = \"T_JG_WEBHOOK\" }");
    let e = load_err(&secret);
    assert_at(&e, 4, "jgoods.webhook_secret");
    assert!(e.message.contains("unknown field `envv`"), "{e}");
}

#[test]
fn error_display_is_file_line_key_message() {
    let text = format!("{JGOODS}webhook_auth = \"hmak\"\n");
    let e = load_err(&text);
    assert_eq!(
        e.to_string(),
        "/etc/ordersync/config.toml:5: jgoods.webhook_auth: unknown variant `hmak`, expected `hmac` or `bearer`"
    );

    let mut partial = ConfigError::new(Path::new("/x.toml"), "boom");
    assert_eq!(partial.to_string(), "/x.toml: boom");
    partial.line = Some(3);
    assert_eq!(partial.to_string(), "/x.toml:3: boom");
    partial.line = None;
    partial.key = Some("retry.max_delay".into());
    assert_eq!(partial.to_string(), "/x.toml: retry.max_delay: boom");
}

#[test]
fn syntax_error_names_the_line() {
    let e = load_err("[daemon]\nlisten = \"0.0.0.0:8080\"\nlog_format = \n");
    assert_eq!(e.line, Some(3), "{e}");
    let e = load_err("[daemon\n");
    assert_eq!(e.line, Some(1), "{e}");
    let e = load_err("[retry]\ninitial_delay = \"1s\"\ninitial_delay = \"2s\"\n");
    assert_eq!(e.line, Some(3), "{e}");
}

#[test]
fn bad_values_are_located() {
    let e = load_err("[retry]\n\nmax_delay = \"10 parsecs\"\n");
    assert_at(&e, 3, "retry.max_delay");
    assert!(e.message.contains("expected a duration such as"), "{e}");
    assert_at(
        &load_err("[retry]\ninitial_delay = 5\n"),
        2,
        "retry.initial_delay",
    );
    assert_at(
        &load_err("[daemon]\nlisten = \"localhost\"\n"),
        2,
        "daemon.listen",
    );
    assert_at(
        &load_err("[inventory]\nsafety_stock = -1\n"),
        2,
        "inventory.safety_stock",
    );
    assert_at(
        &load_err("[daemon]\nlog_format = \"xml\"\n"),
        2,
        "daemon.log_format",
    );
    let e = load_err("jgoods = 5\n");
    assert_at(&e, 1, "jgoods");
    assert!(e.message.ends_with("expected a table"), "{e}");
    let e = load_err("\n\ndaemon = []\n");
    assert_at(&e, 3, "daemon");
    assert_eq!(e.message, "invalid type: array, expected a table");
}

#[test]
fn duration_rules() {
    assert_at(
        &load_err("[daemon]\nhttp_timeout = \"0s\"\n"),
        2,
        "daemon.http_timeout",
    );
    let e = load_err("[retry]\ninitial_delay = \"1m\"\nmax_delay = \"30s\"\n");
    assert_at(&e, 3, "retry.max_delay");
    let poll = format!("{KURONEKO}poll_interval = \"100ms\"\n");
    assert_at(&load_err(&poll), 5, "kuroneko.poll_interval");
    let lookback = format!("{RAKUTEN}poll_interval = \"10m\"\nlookback = \"5m\"\n");
    assert_at(&load_err(&lookback), 6, "rakuten_pay.lookback");
    let push = format!("{JGOODS}stock_push_interval = \"10ms\"\n");
    assert_at(&load_err(&push), 5, "jgoods.stock_push_interval");
}

#[test]
fn missing_required_key_points_at_the_section() {
    let text = "# header\n[jgoods]\nclient_id = \"x\"\nclient_secret = \"y\"\n";
    let e = load_err(text);
    assert_at(&e, 2, "jgoods.webhook_secret");
    assert!(e.message.contains("required"), "{e}");

    let e = load_err("[kuroneko]\npassword = \"abc\"\n");
    assert_at(&e, 1, "kuroneko.store_code");
    let e = load_err("[atobarai_com]\nenterprise_id = 1\nsite_id = 2\n");
    assert_at(&e, 1, "atobarai_com.api_user_id");
    let e = load_err("[komoju]\nsecret_key = \"k\"\n");
    assert_at(&e, 1, "komoju.webhook_secret");
    let e = load_err("[invoice]\nregistration_number = \"T1234567890123\"\n");
    assert_at(&e, 1, "invoice.issuer_name");
    let e = load_err(&JGOODS.replace("\"cid-1\"", "\"  \""));
    assert_at(&e, 2, "jgoods.client_id");
}

#[test]
fn urls_are_checked_and_trimmed() {
    let ftp = format!("{KOMOJU}api_base_url = \"ftp://komoju.com/api\"\n");
    assert_at(&load_err(&ftp), 5, "komoju.api_base_url");
    let garbage = format!("{JGOODS}token_url = \"not a url\"\n");
    assert_at(&load_err(&garbage), 5, "jgoods.token_url");
    let creds = format!("{KURONEKO}api_base_url = \"https://u:p@example.jp\"\n");
    assert_at(&load_err(&creds), 5, "kuroneko.api_base_url");
    let query = format!("{ATOBARAI}api_base_url = \"https://example.jp/?a=1\"\n");
    assert_at(&load_err(&query), 5, "atobarai_com.api_base_url");

    let slash = format!("{KOMOJU}api_base_url = \"http://127.0.0.1:9004/api/v1/\"\n");
    let config = load_ok(&slash);
    assert_eq!(
        config.komoju.map(|k| k.api_base_url).as_deref(),
        Some("http://127.0.0.1:9004/api/v1")
    );
}

#[test]
fn admin_listen_off_loopback_needs_a_token() {
    let text = "[daemon]\nlisten = \"0.0.0.0:8080\"\nadmin_listen = \"0.0.0.0:8081\"\n";
    let e = load_err(text);
    assert_at(&e, 3, "daemon.admin_listen");
    assert!(e.message.contains("admin_token"), "{e}");

    let with_token = format!("{text}admin_token = \"t0ken-value-0123456789abcdef012345\"\n");
    let config = load_ok(&with_token);
    assert_eq!(
        config.daemon.admin_token.map(|t| t.source_description()),
        Some("inline".to_owned())
    );
    let ipv6 = "[daemon]\nadmin_listen = \"[::1]:8081\"\n";
    assert!(load_ok(ipv6).daemon.admin_listen.ip().is_loopback());
}

#[test]
fn listeners_must_not_collide() {
    let same = "[daemon]\nlisten = \"0.0.0.0:8081\"\nadmin_listen = \"127.0.0.1:8081\"\n";
    assert_at(&load_err(same), 3, "daemon.admin_listen");
    let any_port = "[daemon]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n";
    load_ok(any_port);
}

#[test]
fn webhook_allow_from_rejects_bad_networks() {
    let text = format!("{JGOODS}webhook_allow_from = [\"10.0.0.0/8\",\n  \"10.0.0.0/33\"]\n");
    let e = load_err(&text);
    assert_at(&e, 6, "jgoods.webhook_allow_from[1]");
    assert!(e.message.contains("10.0.0.0/33"), "{e}");
}

#[test]
fn kuroneko_store_code_and_password_shape() {
    for bad in [
        "0123456789",
        "012345678901",
        "0123456789a",
        "０１２３４５６７８９０",
    ] {
        let text = KURONEKO.replace("01234567890", bad);
        assert_at(&load_err(&text), 3, "kuroneko.store_code");
    }
    let long = KURONEKO.replace("{ env = \"T_KN_PASSWORD\" }", "\"toolongpass\"");
    let e = load_err(&long);
    assert_at(&e, 4, "kuroneko.password");
    assert!(!e.message.contains("toolongpass"), "{e}");
}

#[test]
fn invoice_registration_number_shape() {
    for bad in [
        "1234567890123",
        "T123456789012",
        "T12345678901234",
        "t1234567890123",
    ] {
        let text = INVOICE.replace("T1234567890123", bad);
        assert_at(&load_err(&text), 3, "invoice.registration_number");
    }
}

#[test]
fn fee_bands_are_checked_and_sorted() {
    let band = |min: u64, max: u64, fee: u64| {
        format!("[[atobarai_com.fee_bands]]\nmin = {min}\nmax = {max}\nfee = {fee}\n")
    };
    // Lines: the section is 1-4, each band takes 4 lines after it.
    let inverted = format!(
        "{ATOBARAI}{}{}",
        band(0, 9999, 330),
        band(20000, 10000, 440)
    );
    let e = load_err(&inverted);
    assert_at(&e, 11, "atobarai_com.fee_bands[1].max");

    let overlap = format!("{ATOBARAI}{}{}", band(5000, 9999, 330), band(0, 5000, 220));
    let e = load_err(&overlap);
    assert_at(&e, 6, "atobarai_com.fee_bands[0].min");
    assert!(e.message.contains("fee_bands[1]"), "{e}");

    let missing = format!("{ATOBARAI}[[atobarai_com.fee_bands]]\nmin = 0\nmax = 9\n");
    let e = load_err(&missing);
    assert_at(&e, 5, "atobarai_com.fee_bands[0].fee");

    let unsorted = format!(
        "{ATOBARAI}fee_mode = \"override\"\n{}{}",
        band(10000, 29999, 440),
        band(0, 9999, 330)
    );
    let config = load_ok(&unsorted);
    let ab = config.atobarai_com.expect("present");
    assert_eq!(ab.fee_mode, FeeMode::Override);
    assert_eq!(
        ab.fee_bands,
        [
            FeeBand {
                min: 0,
                max: 9999,
                fee: 330
            },
            FeeBand {
                min: 10000,
                max: 29999,
                fee: 440
            }
        ]
    );

    let no_bands = format!("{ATOBARAI}fee_mode = \"add\"\n");
    assert_at(&load_err(&no_bands), 5, "atobarai_com.fee_mode");
    let zero_id = ATOBARAI.replace("site_id = 22", "site_id = 0");
    assert_at(&load_err(&zero_id), 3, "atobarai_com.site_id");
}

#[test]
fn rakuten_checks() {
    // deferred_payment routes nothing any more: still read (a config that has it keeps
    // loading), with a warning at its line; no provider section is needed for it.
    let deprecated = format!("{RAKUTEN}deferred_payment = \"kuroneko\"\n");
    let config = load_ok(&deprecated);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(
        config.warnings[0].contains(":5: rakuten_pay.deferred_payment: "),
        "{:?}",
        config.warnings
    );
    assert!(
        load_ok(&format!("{RAKUTEN}deferred_payment = \"none\"\n"))
            .warnings
            .is_empty()
    );
    // Rakuten refuses searches starting more than 730 days ago: a longer lookback is capped.
    let long = load_ok(&format!("{RAKUTEN}lookback = \"1000days\"\n"));
    assert_eq!(
        long.enabled_rakuten_pay().map(|r| r.lookback),
        Some(Duration::from_secs(730 * 86_400))
    );
    assert!(
        long.warnings[0].contains(":5: rakuten_pay.lookback: "),
        "{:?}",
        long.warnings
    );
    let twice = format!("{RAKUTEN}sku_preference = [\"item_number\", \"item_number\"]\n");
    assert_at(&load_err(&twice), 5, "rakuten_pay.sku_preference");
    let empty = format!("{RAKUTEN}sku_preference = []\n");
    assert_at(&load_err(&empty), 5, "rakuten_pay.sku_preference");
    let unknown = format!("{RAKUTEN}sku_preference = [\"sku\"]\n");
    assert_at(&load_err(&unknown), 5, "rakuten_pay.sku_preference[0]");
}

#[test]
fn komoju_api_version_is_a_date() {
    let text = format!("{KOMOJU}api_version = \"latest\"\n");
    assert_at(&load_err(&text), 5, "komoju.api_version");
}

/// `text` with the admin token waived (appended, so its lines stay where they are).
fn no_token_needed(text: &str) -> String {
    format!("{text}[daemon]\nallow_no_admin_token = true\n")
}

/// Strict loading refuses a secret of an enabled section that cannot be read.
fn strict_err(text: &str, env: &MapEnv) -> ConfigError {
    match build_with(&no_token_needed(text), Path::new(FILE), env, true) {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(e) => e,
    }
}

#[test]
fn secret_from_env() {
    let config = load_ok(JGOODS);
    let secret = &config.jgoods.expect("present").webhook_secret;
    assert_eq!(secret.expose(), Ok("jg-webhook-value-5b1c"));
    assert_eq!(secret.source_description(), "env T_JG_WEBHOOK");

    let unset = JGOODS.replace("T_JG_WEBHOOK", "T_NOT_SET_ANYWHERE");
    let e = strict_err(&unset, &test_env());
    assert_at(&e, 4, "jgoods.webhook_secret");
    assert!(e.message.contains("T_NOT_SET_ANYWHERE is not set"), "{e}");

    let e = strict_err(JGOODS, &env(&[("T_JG_WEBHOOK", "")]));
    assert_at(&e, 4, "jgoods.webhook_secret");
    assert!(e.message.contains("empty"), "{e}");

    let bad_name = JGOODS.replace("T_JG_WEBHOOK", "A=B");
    assert_at(&load_err(&bad_name), 4, "jgoods.webhook_secret");
}

#[test]
fn an_unreadable_secret_refuses_serving_but_not_loading() {
    let unset = no_token_needed(&JGOODS.replace("T_JG_WEBHOOK", "T_NOT_SET_ANYWHERE"));
    let config = load_ok(&unset);
    let secret = &config.jgoods.as_ref().expect("present").webhook_secret;
    let e = secret.value().expect_err("unreadable");
    assert!(
        e.to_string().contains("T_NOT_SET_ANYWHERE is not set"),
        "{e}"
    );
    assert_eq!(config.refusals.len(), 1, "{:?}", config.refusals);
    let refused = config.check_serving().expect_err("the daemon would refuse");
    assert_at(&refused, 4, "jgoods.webhook_secret");
    // Nothing of the value or the reason leaks into the printed config.
    assert!(
        config
            .redacted()
            .contains("<redacted: env T_NOT_SET_ANYWHERE>")
    );
}

#[test]
fn a_disabled_section_needs_none_of_its_secrets() {
    let text = format!("{JGOODS}enabled = false\n").replace("T_JG_WEBHOOK", "T_NOT_SET_ANYWHERE");
    let config = build_with(&no_token_needed(&text), Path::new(FILE), &test_env(), true)
        .expect("loads strictly");
    assert!(config.refusals.is_empty(), "{:?}", config.refusals);
    assert!(config.check_serving().is_ok());
    let off = RAKUTEN.replace("enabled = true", "enabled = false");
    let config = build_with(&no_token_needed(&off), Path::new(FILE), &env(&[]), true)
        .expect("loads strictly");
    assert!(config.enabled_rakuten_pay().is_none());
}

#[test]
fn secret_from_file_drops_trailing_newline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("webhook.secret");
    std::fs::write(&path, "file-secret-value-a1b2\n").expect("write");
    let text = JGOODS.replace(
        "{ env = \"T_JG_WEBHOOK\" }",
        &format!("{{ file = \"{}\" }}", path.display()),
    );
    let config = load_ok(&text);
    let secret = config.jgoods.expect("present").webhook_secret;
    assert_eq!(secret.expose(), Ok("file-secret-value-a1b2"));
    assert_eq!(
        secret.source_description(),
        format!("file {}", path.display())
    );

    // A relative path is relative to the config file's directory.
    let relative = JGOODS.replace(
        "{ env = \"T_JG_WEBHOOK\" }",
        "{ file = \"webhook.secret\" }",
    );
    let config_path = dir.path().join("config.toml");
    let config = build_with(&relative, &config_path, &test_env(), false).expect("loads");
    assert_eq!(
        config.jgoods.expect("present").webhook_secret.expose(),
        Ok("file-secret-value-a1b2")
    );

    let missing = JGOODS.replace(
        "{ env = \"T_JG_WEBHOOK\" }",
        "{ file = \"/nonexistent/x\" }",
    );
    let e = strict_err(&missing, &test_env());
    assert_at(&e, 4, "jgoods.webhook_secret");
    assert!(e.message.contains("/nonexistent/x"), "{e}");

    let empty_path = dir.path().join("empty.secret");
    std::fs::write(&empty_path, "\n").expect("write");
    let empty = JGOODS.replace(
        "{ env = \"T_JG_WEBHOOK\" }",
        &format!("{{ file = \"{}\" }}", empty_path.display()),
    );
    assert!(strict_err(&empty, &test_env()).message.contains("empty"));
}

#[test]
fn secret_from_systemd_credential() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("jgoods-webhook-secret"),
        "cred-value-33c9\n",
    )
    .expect("write");
    let text = JGOODS.replace(
        "{ env = \"T_JG_WEBHOOK\" }",
        "{ credential = \"jgoods-webhook-secret\" }",
    );
    let dir_text = dir.path().to_string_lossy().into_owned();
    let with_dir = env(&[("CREDENTIALS_DIRECTORY", dir_text.as_str())]);
    let config = build_with(&text, Path::new(FILE), &with_dir, false).expect("loads");
    let secret = config.jgoods.expect("present").webhook_secret;
    assert_eq!(secret.expose(), Ok("cred-value-33c9"));
    assert_eq!(
        secret.source_description(),
        "credential jgoods-webhook-secret"
    );

    // Outside systemd the credentials directory is read (here: none there).
    let e = strict_err(&text, &env(&[]));
    assert_at(&e, 4, "jgoods.webhook_secret");
    assert!(e.message.contains(NO_CREDENTIALS), "{e}");
    assert!(e.message.contains("--credentials-dir"), "{e}");

    let escape = JGOODS.replace("{ env = \"T_JG_WEBHOOK\" }", "{ credential = \"../x\" }");
    let e = build_with(&escape, Path::new(FILE), &with_dir, false).expect_err("path escape");
    assert_at(&e, 4, "jgoods.webhook_secret");
}

#[test]
fn outside_systemd_a_credential_is_the_file_in_the_credentials_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("jgoods-webhook-secret"), "from-dir-7e1f\n").expect("write");
    let text = JGOODS.replace(
        "{ env = \"T_JG_WEBHOOK\" }",
        "{ credential = \"jgoods-webhook-secret\" }",
    );
    let config = super::build::build_with(
        &no_token_needed(&text),
        Path::new(FILE),
        &env(&[]),
        dir.path(),
        true,
    )
    .expect("loads");
    assert_eq!(
        config.jgoods.expect("present").webhook_secret.expose(),
        Ok("from-dir-7e1f")
    );
    assert_eq!(
        super::default_credentials_dir(Path::new("/etc/ordersync/config.toml")),
        PathBuf::from("/etc/ordersync/credentials")
    );
    assert_eq!(
        super::default_credentials_dir(Path::new("/etc/ordersync/shop-a.toml")),
        PathBuf::from("/etc/ordersync/credentials/shop-a")
    );
}

#[test]
fn malformed_secret_tables_are_rejected_without_echo() {
    let two = JGOODS.replace(
        "{ env = \"T_JG_WEBHOOK\" }",
        "{ env = \"T_JG_WEBHOOK\", file = \"/x\" }",
    );
    assert_at(&load_err(&two), 4, "jgoods.webhook_secret");
    let none = JGOODS.replace("{ env = \"T_JG_WEBHOOK\" }", "{}");
    assert_at(&load_err(&none), 4, "jgoods.webhook_secret");
    let number = JGOODS.replace("{ env = \"T_JG_WEBHOOK\" }", "918273645");
    let e = load_err(&number);
    assert_at(&e, 4, "jgoods.webhook_secret");
    assert!(!e.to_string().contains("918273645"), "{e}");
    let empty = JGOODS.replace("{ env = \"T_JG_WEBHOOK\" }", "\"\"");
    assert_at(&load_err(&empty), 4, "jgoods.webhook_secret");
}

#[test]
fn secrets_never_show_in_debug_or_redacted_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_path = dir.path().join("admin.token");
    std::fs::write(&token_path, "admin-file-value-6d6d-0123456789abcdef\n").expect("write");
    let text = format!(
        "[daemon]\nadmin_token = {{ file = \"{}\" }}\n{}",
        token_path.display(),
        all_sections()
    );
    let config = load_ok(&text);
    let values = [
        "admin-file-value-6d6d-0123456789abcdef",
        "jg-client-inline-9d2e",
        "jg-webhook-value-5b1c",
        "rk-service-value-77aa",
        "rk-license-value-0c3e",
        "Kn7pass",
        "kj-secret-value-e91d",
        "kj-webhook-value-42f0",
    ];
    let redacted = config.redacted();
    let debug = format!("{config:?}");
    for value in values {
        assert!(!redacted.contains(value), "redacted output leaks {value}");
        assert!(!debug.contains(value), "Debug leaks {value}");
    }
    assert!(
        redacted.contains("client_secret = \"<redacted: inline>\""),
        "{redacted}"
    );
    assert!(redacted.contains("webhook_secret = \"<redacted: env T_JG_WEBHOOK>\""));
    assert!(redacted.contains(&format!(
        "admin_token = \"<redacted: file {}>\"",
        token_path.display()
    )));
    assert!(
        debug.contains("Secret(<redacted: env T_RK_LICENSE>)"),
        "{debug}"
    );
}

#[test]
fn redacted_is_the_effective_config_as_toml() {
    let config = load_ok(&format!("{JGOODS}{ATOBARAI}"));
    let redacted = config.redacted();
    let table: toml::Table = toml::from_str(&redacted).expect("redacted output is TOML");
    // Defaults are filled in...
    assert_eq!(table["daemon"]["listen"].as_str(), Some("0.0.0.0:8080"));
    assert_eq!(table["retry"]["max_delay"].as_str(), Some("10m"));
    assert_eq!(table["jgoods"]["webhook_auth"].as_str(), Some("hmac"));
    assert_eq!(table["jgoods"]["stock_push_interval"].as_str(), Some("5m"));
    assert_eq!(table["atobarai_com"]["fee_mode"].as_str(), Some("keep"));
    // ... absent sections stay absent ...
    for absent in ["rakuten_pay", "kuroneko", "komoju", "invoice"] {
        assert!(!table.contains_key(absent), "{absent} printed");
    }
    // ... and the text loads back to the same non-secret settings.
    let again = load_ok(&redacted);
    assert_eq!(again.daemon, config.daemon);
    assert_eq!(again.retry, config.retry);
    assert_eq!(again.atobarai_com, config.atobarai_com);
}

#[test]
fn secret_key_list_matches_the_schema() {
    let text = format!(
        "[daemon]\nadmin_token = \"t-0123456789abcdef0123456789abcdef\"\n{}{ALERTS}",
        all_sections()
    );
    let redacted = load_ok(&text).redacted();
    let table: toml::Table = toml::from_str(&redacted).expect("TOML");
    let mut found = Vec::new();
    fn redacted_keys(prefix: &str, table: &toml::Table, found: &mut Vec<String>) {
        for (key, value) in table {
            let path = format!("{prefix}{key}");
            match value {
                toml::Value::String(v) if v.starts_with("<redacted: ") => found.push(path),
                toml::Value::Table(inner) => redacted_keys(&format!("{path}."), inner, found),
                _ => {}
            }
        }
    }
    redacted_keys("", &table, &mut found);
    found.sort();
    let config = load_ok(&text);
    let mut expected: Vec<String> = (config.secrets().into_iter())
        .map(|(k, _)| k.to_owned())
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(found.len(), 10, "every secret of every section: {found:?}");
}

#[test]
fn inline_secrets_are_detected() {
    let token = "0123456789abcdef0123456789abcdef";
    let config = load_ok(&format!("[daemon]\nadmin_token = \"{token}\"\n{JGOODS}"));
    let inline: Vec<&str> = (config.secrets().into_iter())
        .filter(|(_, s)| s.is_inline())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(inline, ["daemon.admin_token", "jgoods.client_secret"]);
}

#[cfg(unix)]
#[test]
fn permission_warnings_flag_unsafe_files() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(JGOODS.as_bytes()).expect("write");
    let chmod = |mode| {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };

    // The warnings name the file's inline secrets, as loading it found them.
    let warnings_of = |path: &Path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let config = build_with(&text, path, &test_env(), false).expect("loads");
        config.permission_warnings()
    };
    chmod(0o600);
    assert!(warnings_of(&path).is_empty());
    chmod(0o644);
    let warnings = warnings_of(&path);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("world-readable") && warnings[0].contains("jgoods.client_secret"));
    chmod(0o666);
    let warnings = warnings_of(&path);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("world-writable"));
    for warning in &warnings {
        assert!(!warning.contains("jg-client-inline-9d2e"));
    }
    let absent = dir.path().join("absent.toml");
    assert!(permission_warnings(&absent, &["jgoods.client_secret"]).is_empty());
}

#[test]
fn resolve_path_prefers_flag_then_env_then_default() {
    let flag = Some(PathBuf::from("/flag.toml"));
    let env = Some(OsString::from("/env.toml"));
    assert_eq!(
        resolve_path_with(flag.clone(), env.clone()),
        PathBuf::from("/flag.toml")
    );
    assert_eq!(resolve_path_with(None, env), PathBuf::from("/env.toml"));
    assert_eq!(
        resolve_path_with(None, Some(OsString::new())),
        PathBuf::from(DEFAULT_CONFIG_PATH)
    );
    assert_eq!(
        resolve_path_with(None, None),
        PathBuf::from("/etc/ordersync/config.toml")
    );
    assert_eq!(resolve_path(flag), PathBuf::from("/flag.toml"));
}

#[test]
fn load_reports_an_unreadable_file() {
    let e = Config::load(Path::new("/nonexistent/ordersync.toml")).expect_err("missing");
    assert_eq!(e.file, PathBuf::from("/nonexistent/ordersync.toml"));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/ordersync.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn secret_debug_and_equality() {
    let a = Secret::inline_for_tests("abc");
    assert_eq!(format!("{a:?}"), "Secret(<redacted: inline>)");
    assert_eq!(a, Secret::inline_for_tests("abc"));
    assert_ne!(a, Secret::inline_for_tests("abd"));
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(a.value().unwrap()),
        "abc"
    );
}

/// The English example, and the Japanese one the package installs as
/// `/etc/ordersync/config.toml`.
const EXAMPLES: [&str; 2] = ["config.example.toml", "config.example.ja.toml"];

/// A credentials directory as a fresh install has it: only the admin token written.
fn example_credentials() -> tempfile::TempDir {
    let creds = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        creds.path().join("admin-token"),
        "example-admin-0123456789abcdef0123",
    )
    .expect("write");
    creds
}

/// An example file loaded by the daemon's loader with the credentials in `creds`.
fn load_example(path: &Path, creds: &Path) -> Config {
    let options = super::LoadOptions {
        credentials_dir: Some(creds.to_path_buf()),
    };
    match Config::load_with(path, &options) {
        Ok(config) => config,
        Err(e) => panic!("{} does not load: {e}", path.display()),
    }
}

/// Both examples load with every provider off, from credentials only: each name the unit
/// loads is used by one key, and no other source.
#[test]
fn example_config_loads() {
    for example in EXAMPLES {
        example_loads(example);
    }
}

fn example_loads(example: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(example);
    let creds = example_credentials();
    let config = load_example(&path, creds.path());
    assert!(config.refusals.is_empty(), "{:?}", config.refusals);
    for (section, off) in [
        (
            "jgoods",
            config.jgoods.is_some() && config.enabled_jgoods().is_none(),
        ),
        (
            "rakuten_pay",
            config.rakuten_pay.is_some() && config.enabled_rakuten_pay().is_none(),
        ),
        (
            "kuroneko",
            config.kuroneko.is_some() && config.enabled_kuroneko().is_none(),
        ),
        (
            "atobarai_com",
            config.atobarai_com.is_some() && config.enabled_atobarai_com().is_none(),
        ),
        (
            "komoju",
            config.komoju.is_some() && config.enabled_komoju().is_none(),
        ),
    ] {
        assert!(off, "{section} should be present and off in the example");
    }
    assert!(
        config.invoice.is_none(),
        "the sample invoice section is commented out"
    );
    let used: Vec<&str> = config
        .secrets()
        .iter()
        .map(|(key, s)| {
            s.credential_name()
                .unwrap_or_else(|| panic!("{key} is not a credential"))
        })
        .collect();
    let unit = std::fs::read_to_string(root.join("systemd/ordersync.service")).expect("unit");
    let template = std::fs::read_to_string(root.join("systemd/ordersync@.service")).expect("unit");
    let header: String = std::fs::read_to_string(&path)
        .expect("read")
        .lines()
        .take(20)
        .collect();
    for name in super::unit_credentials() {
        assert!(used.contains(&name), "{name} unused by the example");
        assert!(
            header.contains(name),
            "{name} not listed in the header of {example}"
        );
        let line = format!("LoadCredential={name}:/etc/ordersync/credentials/{name}\n");
        assert!(unit.contains(&line), "ordersync.service lacks {line}");
        let line = format!("LoadCredential={name}:/etc/ordersync/credentials/%i/{name}\n");
        assert!(template.contains(&line), "ordersync@.service lacks {line}");
    }
    assert_eq!(used.len(), super::unit_credentials().len());
}

#[test]
fn the_example_invoice_samples_are_refused() {
    for example in EXAMPLES {
        example_invoice_samples_are_refused(example);
    }
}

fn example_invoice_samples_are_refused(example: &str) {
    let section = section_of(&read_example(example), "invoice");
    let e = load_err(&section);
    assert_eq!(e.key.as_deref(), Some("invoice.registration_number"), "{e}");
    let e = load_err(&section.replace("T0000000000000", "T1234567890123"));
    assert_eq!(e.key.as_deref(), Some("invoice.issuer_name"), "{e}");
    let own = section
        .replace("T0000000000000", "T1234567890123")
        .replace("株式会社サンプル商店", "株式会社たなか商店");
    assert!(load_ok(&own).invoice.is_some());
}

fn read_example(example: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(example))
        .unwrap_or_else(|e| panic!("{example}: {e}"))
}

/// The Japanese example is the English one with its comments translated: the same TOML,
/// and, loaded where the package installs it, the same `Config`.
#[test]
fn the_japanese_example_is_the_same_config_as_the_english_one() {
    let [en, ja] = EXAMPLES.map(read_example);
    let value = |text: &str| toml::from_str::<toml::Value>(text).expect("TOML");
    assert_eq!(
        value(&en),
        value(&ja),
        "config.example.ja.toml must set what config.example.toml sets"
    );
    // One path for both: the config's source, its instance name and its warnings follow it.
    let dir = tempfile::tempdir().expect("tempdir");
    let installed = dir.path().join("config.toml");
    let creds = example_credentials();
    std::fs::write(&installed, &en).expect("write");
    let english = load_example(&installed, creds.path());
    std::fs::write(&installed, &ja).expect("write");
    let japanese = load_example(&installed, creds.path());
    assert_eq!(english, japanese);
}

/// A line of an example config, as the two examples are compared line by line.
#[derive(Debug, PartialEq)]
enum ExampleLine<'a> {
    Blank,
    /// `#` alone: a paragraph break inside a comment.
    EmptyComment,
    /// A comment that explains; translated in the Japanese example.
    Prose,
    /// A key, a section header, or one commented out (`# name = …`, `# [invoice]`): the
    /// same text in both examples.
    Toml(&'a str),
}

fn example_line(line: &str) -> ExampleLine<'_> {
    let line = line.trim_end();
    let commented_toml = |rest: &str| {
        rest.strip_prefix(' ').is_some_and(|rest| {
            rest.starts_with('[')
                || rest.split_once(" = ").is_some_and(|(key, _)| {
                    !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                })
        })
    };
    match line.strip_prefix('#') {
        None if line.is_empty() => ExampleLine::Blank,
        None => ExampleLine::Toml(line),
        Some("") => ExampleLine::EmptyComment,
        Some(rest) if commented_toml(rest) => ExampleLine::Toml(line),
        Some(_) => ExampleLine::Prose,
    }
}

/// Line for line: a key added to one example only, or a key whose comment is missing in
/// one, shows as the first line where the two stop matching.
#[test]
fn the_japanese_example_follows_the_english_one_line_for_line() {
    let [en, ja] = EXAMPLES.map(read_example);
    let (en, ja): (Vec<&str>, Vec<&str>) = (en.lines().collect(), ja.lines().collect());
    let differences: Vec<String> = (0..en.len().max(ja.len()))
        .filter(|&i| en.get(i).map(|l| example_line(l)) != ja.get(i).map(|l| example_line(l)))
        .map(|i| {
            let at = |lines: &[&str]| lines.get(i).copied().unwrap_or("(end of file)").to_owned();
            format!("line {}:\n  en: {}\n  ja: {}", i + 1, at(&en), at(&ja))
        })
        .take(5)
        .collect();
    assert!(
        differences.is_empty(),
        "config.example.ja.toml must be config.example.toml line for line (the same keys and \
         commented-out keys, a comment line where the English has one, translated); first \
         differences:\n{}",
        differences.join("\n")
    );
}

/// Hiragana, katakana (full and half width) or a kanji.
fn has_japanese(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(
            c,
            '\u{3040}'..='\u{30ff}'
                | '\u{3400}'..='\u{4dbf}'
                | '\u{4e00}'..='\u{9fff}'
                | '\u{ff66}'..='\u{ff9f}'
        )
    })
}

/// Every explaining comment of the installed (Japanese) example is in Japanese, not the
/// English line it stands for (which may hold a Japanese word); a comment that is only a URL
/// or a command may stay as it is.
#[test]
fn every_comment_of_the_japanese_example_is_in_japanese() {
    let [en, ja] = EXAMPLES.map(read_example);
    let en: Vec<&str> = en.lines().collect();
    let prose: Vec<(usize, &str)> = ja
        .lines()
        .enumerate()
        .filter(|(_, line)| example_line(line) == ExampleLine::Prose)
        .collect();
    assert!(prose.len() > 100, "{} comment lines", prose.len());
    let code_only = |line: &str| {
        let text = line.trim_start_matches('#').trim();
        let url = text.starts_with("http") && !text.contains(char::is_whitespace);
        url || text.starts_with("sudo ") || (text.starts_with('`') && text.ends_with('`'))
    };
    let english: Vec<String> = prose
        .into_iter()
        .filter(|&(i, line)| {
            let untranslated = !has_japanese(line) || en.get(i) == Some(&line);
            untranslated && !code_only(line)
        })
        .map(|(i, line)| format!("line {}: {line}", i + 1))
        .collect();
    assert!(
        english.is_empty(),
        "comments of config.example.ja.toml to translate:\n{}",
        english.join("\n")
    );
}

#[test]
fn the_console_language_is_set_or_follows_the_locale_japanese_first() {
    use crate::config::Language;
    let lang = |text: &str, pairs: &[(&str, &str)]| {
        build_with(text, Path::new(FILE), &env(pairs), false)
            .expect("loads")
            .daemon
            .language
    };
    assert_eq!(lang("", &[]), Language::Ja);
    assert_eq!(lang("", &[("LANG", "en_US.UTF-8")]), Language::En);
    assert_eq!(lang("", &[("LANG", "ja_JP.UTF-8")]), Language::Ja);
    assert_eq!(
        lang("", &[("LANG", "en_US.UTF-8"), ("LC_ALL", "ja_JP.UTF-8")]),
        Language::Ja
    );
    assert_eq!(
        lang("[daemon]\nlanguage = \"en\"\n", &[("LANG", "ja_JP")]),
        Language::En
    );
    let e = load_err("[daemon]\nlanguage = \"fr\"\n");
    assert_at(&e, 2, "daemon.language");
}

const ALERTS: &str = "[alerts]\n\
    enabled = true\n\
    [alerts.email]\n\
    smtp_host = \"smtp.example.jp\"\n\
    username = \"ordersync@example.jp\"\n\
    password = \"smtp-pass-inline\"\n\
    from = \"ordersync <ordersync@example.jp>\"\n\
    to = [\"tenchou@example.jp\"]\n\
    [alerts.webhook]\n\
    url = \"https://hooks.slack.com/services/T0/B0/x\"\n";

#[test]
fn alerts_get_their_defaults_and_need_somewhere_to_go() {
    let config = load_ok(ALERTS);
    let a = config.enabled_alerts().expect("enabled");
    assert_eq!(a.check_interval, Duration::from_secs(30));
    assert_eq!(a.digest_interval, Duration::from_secs(300));
    assert_eq!((a.max_per_hour, a.rejected_webhooks_per_hour), (6, 3));
    assert_eq!(a.name, None, "config.toml names no instance");
    let email = a.email.as_ref().unwrap();
    assert_eq!((email.smtp_port, email.tls), (587, SmtpTls::Starttls));
    let named = build_with(
        ALERTS,
        Path::new("/etc/ordersync/honten.toml"),
        &test_env(),
        false,
    )
    .unwrap();
    assert_eq!(named.alerts.unwrap().name.as_deref(), Some("honten"));
    let e = load_err("[alerts]\nenabled = true\n");
    assert_at(&e, 1, "alerts");
    // Off, it needs nothing.
    assert!(load_ok("[alerts]\n").enabled_alerts().is_none());
}

#[test]
fn alert_destinations_are_checked_at_their_keys() {
    let cases = [
        (
            "smtp_host = \"smtp.example.jp\"",
            "smtp_host = \"smtp.example.jp\"\ntls = \"none\"",
            5,
            "alerts.email.tls",
        ),
        (
            "to = [\"tenchou@example.jp\"]",
            "to = [\"not an address\"]",
            8,
            "alerts.email.to",
        ),
        (
            "to = [\"tenchou@example.jp\"]",
            "to = []",
            8,
            "alerts.email.to",
        ),
        (
            "from = \"ordersync <ordersync@example.jp>\"",
            "from = \"ordersync\"",
            7,
            "alerts.email.from",
        ),
        (
            "url = \"https://hooks.slack.com/services/T0/B0/x\"",
            "url = \"http://hooks.example.jp/x\"",
            10,
            "alerts.webhook.url",
        ),
        (
            "username = \"ordersync@example.jp\"\n",
            "",
            5,
            "alerts.email.password",
        ),
    ];
    for (from, to, line, key) in cases {
        let text = ALERTS.replacen(from, to, 1);
        let e = load_err(&text);
        assert_at(&e, line, key);
    }
    // To a relay on this machine, no TLS is allowed; http only to loopback.
    let local = ALERTS
        .replacen("smtp.example.jp", "localhost", 1)
        .replacen(
            "username = \"ordersync@example.jp\"\npassword = \"smtp-pass-inline\"\n",
            "tls = \"none\"\n",
            1,
        )
        .replacen(
            "https://hooks.slack.com/services/T0/B0/x",
            "http://127.0.0.1:9000/hook",
            1,
        );
    let a = load_ok(&local).alerts.unwrap();
    assert_eq!(a.email.unwrap().smtp_port, 25);
    // An enabled destination's secret that cannot be read stops the daemon.
    let unreadable = ALERTS.replacen("\"smtp-pass-inline\"", "{ env = \"T_NOT_SET\" }", 1);
    let e = load_strict(&format!(
        "[daemon]\nallow_no_admin_token = true\n{unreadable}"
    ))
    .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("alerts.email.password"), "{e}");
}

#[test]
fn trusted_proxies_are_addresses_or_networks_and_their_cap_is_bounded() {
    let config = load_ok(
        "[daemon]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]\nmax_connections = 100\nproxy_max_connections = 500\n",
    );
    let nets: Vec<String> = config
        .daemon
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(nets, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
    assert_eq!(
        config.daemon.proxy_max_connections, 100,
        "at most max_connections"
    );
    assert!(load_ok("").daemon.trusted_proxies.is_empty());
    let e = load_err("[daemon]\n\ntrusted_proxies = [\"127.0.0.1\", \"nginx\"]\n");
    assert_at(&e, 3, "daemon.trusted_proxies[1]");
    assert!(e.to_string().contains("`nginx`"), "{e}");
    let e = load_err("[daemon]\nproxy_max_connections = 0\n");
    assert_at(&e, 2, "daemon.proxy_max_connections");
}

#[test]
fn carrier_files_sender_is_checked_and_named_by_line_and_key() {
    let section = example_section("carrier_files");
    let sender = load_ok(&section).carrier_files.expect("section present");
    assert_eq!(
        (
            sender.postal_code.as_str(),
            sender.yamato_freight_code.as_str()
        ),
        ("9800011", "01")
    );
    let e = load_err("[carrier_files]\nsender_name = \"店\"\nsender_postal_code = \"980\"\n");
    assert_at(&e, 3, "carrier_files.sender_postal_code");
    let e = load_err("[carrier_files]\nsender_nmae = \"店\"\n");
    assert!(e.to_string().contains("sender_nmae"), "{e}");
    assert!(load_ok("").carrier_files.is_none());
}

/// A section `config.example.toml` ships commented out, uncommented (with
/// the commented sections after it).
fn example_section(name: &str) -> String {
    section_of(&read_example("config.example.toml"), name)
}

/// The commented-out section `name` of an example config, uncommented.
fn section_of(text: &str, name: &str) -> String {
    let start = text
        .find(&format!("# [{name}]"))
        .unwrap_or_else(|| panic!("no commented [{name}] in the example"));
    text[start..]
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.starts_with('[') || l.contains(" = "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn provider_answer_caps_are_bounded_and_a_page_is_never_below_an_answer() {
    let d = load_ok("").daemon;
    assert_eq!(
        (d.max_provider_answer_mib, d.max_provider_page_mib),
        (8, 32)
    );
    let d = load_ok("[daemon]\nmax_provider_answer_mib = 64\nmax_provider_page_mib = 16\n").daemon;
    assert_eq!(
        (d.max_provider_answer_mib, d.max_provider_page_mib),
        (64, 64),
        "a page may always be as large as an answer"
    );
    let e = load_err("[daemon]\n\nmax_provider_answer_mib = 0\n");
    assert_at(&e, 3, "daemon.max_provider_answer_mib");
    let e = load_err("[daemon]\nmax_provider_page_mib = 4096\n");
    assert_at(&e, 2, "daemon.max_provider_page_mib");
}
