//! From the raw file to a validated [`Config`]: defaults, required keys, secret resolution,
//! value checks and cross-section checks, each error located at its key's line.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use reqwest::Url;

use super::document::Document;
use super::raw::{
    RawAtobaraiCom, RawConfig, RawDaemon, RawInventory, RawInvoice, RawJgoods, RawKomoju,
    RawKuroneko, RawRakutenPay, RawRetry,
};
use super::secret::{Environment, SecretSpec, Sources};
use super::{
    AtobaraiComConfig, Config, ConfigError, DaemonConfig, DeferredPayment, FeeBand, FeeMode,
    InventoryConfig, InvoiceConfig, JgoodsConfig, KomojuConfig, KuronekoConfig, RakutenPayConfig,
    RetryConfig, Secret, SkuSource,
};

mod alerts;
mod checks;
mod daemon;
mod invoice;
mod jgoods;
use checks::*;

// Provider endpoints from the wire contracts; a merchant overrides them to point at a
// simulator or a test host.
const JGOODS_ORDER_API: &str = "https://api.j-goods.net/order/v2";
const JGOODS_ITEM_API: &str = "https://api.j-goods.net/v3";
const JGOODS_CATEGORY_API: &str = "https://api.j-goods.net/category/v1";
const JGOODS_TOKEN_URL: &str = "https://api.j-goods.net/oauth/token";
const RAKUTEN_API: &str = "https://api.rms.rakuten.co.jp/es/2.0/order";
const RAKUTEN_LICENSE_API: &str = "https://api.rms.rakuten.co.jp/es/1.0/license-management";
const RAKUTEN_INVENTORY_API: &str = "https://api.rms.rakuten.co.jp/es/2.0";
const KURONEKO_API: &str = "https://atobarai.kuronekoyamato.co.jp";
const ATOBARAI_COM_API: &str = "https://www.atobarai.jp";
const KOMOJU_API: &str = "https://komoju.com/api/v1";
const KOMOJU_API_VERSION: &str = "2024-07-15";
const INVOICE_NUMBER_PREFIX: &str = "INV-";

const DEFAULT_SKU_PREFERENCE: [SkuSource; 3] = [
    SkuSource::MerchantDefinedSkuId,
    SkuSource::ItemNumber,
    SkuSource::ManageNumber,
];

/// Rakuten's searchOrder refuses a `startDatetime` older than this.
const RAKUTEN_MAX_LOOKBACK: Duration = Duration::from_secs(730 * 24 * 60 * 60);

/// Polling a provider more often than this only burns its rate limit.
const MIN_POLL: Duration = Duration::from_secs(1);
/// For delays that must merely be positive.
const NON_ZERO: Duration = Duration::from_millis(1);

const fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// Parses, resolves and validates `text`; see [`Config::from_toml_str`].
pub(super) fn build(
    text: &str,
    path: &Path,
    env: &dyn Environment,
    credentials_dir: &Path,
) -> Result<Config> {
    build_with(text, path, env, credentials_dir, false)
}

/// [`build`]; with `strict`, what would stop the daemon from serving (a
/// missing admin token, a secret of an enabled section that cannot be read)
/// is an error here rather than kept for [`Config::check_serving`].
pub(super) fn build_with(
    text: &str,
    path: &Path,
    env: &dyn Environment,
    credentials_dir: &Path,
    strict: bool,
) -> Result<Config> {
    let (doc, syntax_error) = Document::parse(text);
    let ctx = Ctx {
        doc: &doc,
        file: path,
        sources: Sources {
            env,
            base_dir: path.parent().unwrap_or(Path::new("")),
            credentials_dir,
        },
        strict,
        warnings: RefCell::new(Vec::new()),
        refusals: RefCell::new(Vec::new()),
    };
    if let Some(e) = syntax_error {
        return Err(ctx.toml_error(&e));
    }
    let raw: RawConfig = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;

    let daemon = ctx.daemon(raw.daemon)?;
    let config = Config {
        daemon,
        inventory: inventory(raw.inventory),
        retry: ctx.retry(raw.retry)?,
        jgoods: raw.jgoods.map(|r| ctx.jgoods(r)).transpose()?,
        rakuten_pay: raw.rakuten_pay.map(|r| ctx.rakuten_pay(r)).transpose()?,
        kuroneko: raw.kuroneko.map(|r| ctx.kuroneko(r)).transpose()?,
        atobarai_com: raw.atobarai_com.map(|r| ctx.atobarai_com(r)).transpose()?,
        komoju: raw.komoju.map(|r| ctx.komoju(r)).transpose()?,
        invoice: raw.invoice.map(|r| ctx.invoice(r)).transpose()?,
        alerts: raw.alerts.map(|r| ctx.alerts(r, path)).transpose()?,
        source: path.to_path_buf(),
        credentials_dir: credentials_dir.to_path_buf(),
        warnings: Vec::new(),
        refusals: Vec::new(),
    };
    Ok(Config {
        warnings: ctx.warnings.into_inner(),
        refusals: ctx.refusals.into_inner(),
        ..config
    })
}

/// What every check needs to report an error or read a secret.
struct Ctx<'a> {
    doc: &'a Document<'a>,
    file: &'a Path,
    sources: Sources<'a>,
    /// Refuse at once what would stop the daemon from serving (see
    /// [`build_with`]), not only when it is about to serve.
    strict: bool,
    /// Collected while building, located like errors (see [`Config::warnings`]).
    warnings: RefCell<Vec<String>>,
    /// Why the daemon must not serve as configured (see [`Config::refusals`]).
    refusals: RefCell<Vec<ConfigError>>,
}

type Result<T> = std::result::Result<T, ConfigError>;

impl Ctx<'_> {
    /// An error at the line of `key` (or of its section when the key is absent).
    fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: self.doc.line_of_key(key),
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    /// A warning at the line of `key`, in the same `file:line: key: message` form as errors.
    fn warn(&self, key: &str, message: impl Into<String>) {
        let located = self.err(key, message).to_string();
        self.warnings.borrow_mut().push(located);
    }

    /// Locates a syntax or serde error by its byte span.
    fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let offset = e.span().map(|s| s.start);
        let mut key = offset.and_then(|o| self.doc.key_at(o));
        let mut message = e.message().to_owned();
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            let field = field.to_owned();
            key = Some(match key {
                Some(parent) => format!("{parent}.{field}"),
                None => field,
            });
            message = "required key is missing".to_owned();
        }
        // serde names our internal types ("expected struct RawJgoods"); say what the file
        // needs instead.
        if let Some(at) = message.find(", expected struct ") {
            if message.starts_with("invalid length") {
                message = "invalid type: array, expected a table".to_owned();
            } else {
                message.truncate(at);
                message.push_str(", expected a table");
            }
        }
        if message.ends_with("expected a duration") {
            message.push_str(" such as \"90s\", \"10m\" or \"3d\"");
        }
        ConfigError {
            file: self.file.to_path_buf(),
            line: offset.map(|o| self.doc.line_of(o)),
            key,
            message,
        }
    }

    fn required<T>(&self, key: &str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| {
            let section = key.split('.').next().unwrap_or(key);
            self.err(key, format!("required key is missing from [{section}]"))
        })
    }

    fn required_text(&self, key: &str, value: Option<String>) -> Result<String> {
        let value = self.required(key, value)?;
        if value.trim().is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        Ok(value)
    }

    /// The secret at `key`. One that cannot be read is kept as unreadable;
    /// when its section is `needed` (enabled), the daemon will refuse to serve
    /// (in strict mode: the error is returned at once).
    fn secret(&self, key: &str, spec: Option<SecretSpec>, needed: bool) -> Result<Secret> {
        let secret = self
            .required(key, spec)?
            .resolve(&self.sources)
            .map_err(|message| self.err(key, message))?;
        if let Some(reason) = secret.unreadable()
            && needed
        {
            self.refuse(self.err(key, format!("cannot be read: {reason}")))?;
        }
        Ok(secret)
    }

    /// Keeps `e` for [`Config::check_serving`]; returns it in strict mode.
    fn refuse(&self, e: ConfigError) -> Result<()> {
        if self.strict {
            return Err(e);
        }
        self.refusals.borrow_mut().push(e);
        Ok(())
    }

    /// A base URL that paths get appended to: http(s), a host, no query, fragment or
    /// credentials; the trailing `/` is dropped so `{base}/path` has one slash.
    fn base_url(&self, key: &str, value: Option<String>, default: &str) -> Result<String> {
        let value = self.url(key, value, default)?;
        Ok(value.trim_end_matches('/').to_owned())
    }

    /// A URL called as is (the token endpoint): http(s), a host, no credentials.
    fn url(&self, key: &str, value: Option<String>, default: &str) -> Result<String> {
        let text = value.unwrap_or_else(|| default.to_owned());
        let url = Url::parse(&text).map_err(|e| self.err(key, format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.err(key, "must be an http:// or https:// URL"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(self.err(key, "the URL has no host"));
        }
        // Credentials in a URL end up in logs and error messages.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(self.err(key, "must not contain a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(self.err(key, "must not contain a query (`?`) or fragment (`#`)"));
        }
        Ok(text)
    }

    fn duration(
        &self,
        key: &str,
        value: Option<Duration>,
        default: Duration,
        at_least: Duration,
    ) -> Result<Duration> {
        let value = value.unwrap_or(default);
        if value < at_least {
            let message = if at_least == NON_ZERO {
                "must be longer than 0s".to_owned()
            } else {
                format!("must be at least {}", humantime::format_duration(at_least))
            };
            return Err(self.err(key, message));
        }
        Ok(value)
    }

    fn retry(&self, raw: Option<RawRetry>) -> Result<RetryConfig> {
        let d = RetryConfig::default();
        let Some(raw) = raw else { return Ok(d) };
        let initial_delay = self.duration(
            "retry.initial_delay",
            raw.initial_delay,
            d.initial_delay,
            NON_ZERO,
        )?;
        let max_delay = self.duration("retry.max_delay", raw.max_delay, d.max_delay, NON_ZERO)?;
        if max_delay < initial_delay {
            return Err(self.err(
                "retry.max_delay",
                format!(
                    "must not be shorter than retry.initial_delay ({})",
                    humantime::format_duration(initial_delay)
                ),
            ));
        }
        let give_up_after = self.duration(
            "retry.give_up_after",
            raw.give_up_after,
            d.give_up_after,
            NON_ZERO,
        )?;
        Ok(RetryConfig {
            initial_delay,
            max_delay,
            give_up_after,
        })
    }

    fn rakuten_pay(&self, raw: RawRakutenPay) -> Result<RakutenPayConfig> {
        let enabled = raw.enabled.unwrap_or(false);
        let poll_interval = self.duration(
            "rakuten_pay.poll_interval",
            raw.poll_interval,
            minutes(2),
            MIN_POLL,
        )?;
        let mut lookback = self.duration(
            "rakuten_pay.lookback",
            raw.lookback,
            Duration::from_secs(3 * 24 * 60 * 60),
            poll_interval,
        )?;
        if lookback > RAKUTEN_MAX_LOOKBACK {
            self.warn(
                "rakuten_pay.lookback",
                "楽天は730日より前からの検索を受け付けないため730日として扱います / \
                 Rakuten refuses searches starting more than 730 days ago: 730d is used",
            );
            lookback = RAKUTEN_MAX_LOOKBACK;
        }
        if raw
            .deferred_payment
            .is_some_and(|d| d != DeferredPayment::None)
        {
            self.warn(
                "rakuten_pay.deferred_payment",
                "この設定は廃止されました(効果なし)。楽天の後払いは楽天決済(rpaySettlementFlag=1)で、\
                 ショップ独自の後払いは2022年11月に楽天の決済方法から削除されています。キーを削除してください / \
                 deprecated, without effect: Rakuten's 後払い is Rakuten-handled and the shop's own \
                 deferred payment left Rakuten's settlements in 2022-11; remove the key",
            );
        }
        let sku_preference = raw
            .sku_preference
            .unwrap_or_else(|| DEFAULT_SKU_PREFERENCE.to_vec());
        if sku_preference.is_empty() {
            return Err(self.err(
                "rakuten_pay.sku_preference",
                "must name at least one of merchant_defined_sku_id, item_number, manage_number",
            ));
        }
        for (i, source) in sku_preference.iter().enumerate() {
            if sku_preference[..i].contains(source) {
                return Err(self.err(
                    "rakuten_pay.sku_preference",
                    format!("lists {source:?} twice"),
                ));
            }
        }
        Ok(RakutenPayConfig {
            enabled,
            api_base_url: self.base_url(
                "rakuten_pay.api_base_url",
                raw.api_base_url,
                RAKUTEN_API,
            )?,
            license_api_url: self.base_url(
                "rakuten_pay.license_api_url",
                raw.license_api_url,
                RAKUTEN_LICENSE_API,
            )?,
            service_secret: self.secret(
                "rakuten_pay.service_secret",
                raw.service_secret,
                enabled,
            )?,
            license_key: self.secret("rakuten_pay.license_key", raw.license_key, enabled)?,
            inventory_api_url: self.base_url(
                "rakuten_pay.inventory_api_url",
                raw.inventory_api_url,
                RAKUTEN_INVENTORY_API,
            )?,
            stock_push_interval: self.push_interval(
                "rakuten_pay.stock_push_interval",
                raw.stock_push_interval,
                Duration::from_secs(30),
            )?,
            stock_buffer: raw.stock_buffer.unwrap_or(0),
            low_stock_poll_interval: self.push_interval(
                "rakuten_pay.low_stock_poll_interval",
                raw.low_stock_poll_interval,
                Duration::from_secs(10),
            )?,
            low_stock_level: self.at_least_one(
                "rakuten_pay.low_stock_level",
                raw.low_stock_level,
                3,
            )?,
            poll_interval,
            lookback,
            auto_confirm: raw.auto_confirm.unwrap_or(true),
            sku_preference,
            request_interval: raw.request_interval.unwrap_or(Duration::from_secs(1)),
        })
    }

    fn kuroneko(&self, raw: RawKuroneko) -> Result<KuronekoConfig> {
        let store_code = self.required("kuroneko.store_code", raw.store_code)?;
        if store_code.len() != 11 || !store_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(
                "kuroneko.store_code",
                "must be exactly 11 digits (加盟店コード)",
            ));
        }
        let enabled = raw.enabled.unwrap_or(false);
        let password = self.secret("kuroneko.password", raw.password, enabled)?;
        // Checked when it could be read (an unreadable one is refused where used).
        let shape_ok = password.expose().map_or(true, |p| {
            p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !shape_ok {
            return Err(self.err(
                "kuroneko.password",
                format!(
                    "must be 1 to 8 ASCII letters or digits (read from {})",
                    password.source_description()
                ),
            ));
        }
        Ok(KuronekoConfig {
            enabled,
            api_base_url: self.base_url("kuroneko.api_base_url", raw.api_base_url, KURONEKO_API)?,
            store_code,
            password,
            settle_delay: raw.settle_delay.unwrap_or(minutes(5)),
            poll_interval: self.duration(
                "kuroneko.poll_interval",
                raw.poll_interval,
                minutes(5),
                MIN_POLL,
            )?,
        })
    }

    fn atobarai_com(&self, raw: RawAtobaraiCom) -> Result<AtobaraiComConfig> {
        let id = |key: &str, value: Option<u64>| -> Result<u64> {
            match self.required(key, value)? {
                0 => Err(self.err(key, "must be a positive number")),
                n => Ok(n),
            }
        };
        let fee_mode = raw.fee_mode.unwrap_or_default();
        let fee_bands = self.fee_bands(raw.fee_bands.unwrap_or_default())?;
        if fee_mode != FeeMode::Keep && fee_bands.is_empty() {
            return Err(self.err(
                "atobarai_com.fee_mode",
                "needs at least one [[atobarai_com.fee_bands]] unless it is `keep`",
            ));
        }
        Ok(AtobaraiComConfig {
            enabled: raw.enabled.unwrap_or(false),
            api_base_url: self.base_url(
                "atobarai_com.api_base_url",
                raw.api_base_url,
                ATOBARAI_COM_API,
            )?,
            enterprise_id: id("atobarai_com.enterprise_id", raw.enterprise_id)?,
            site_id: id("atobarai_com.site_id", raw.site_id)?,
            api_user_id: id("atobarai_com.api_user_id", raw.api_user_id)?,
            poll_interval: self.duration(
                "atobarai_com.poll_interval",
                raw.poll_interval,
                minutes(5),
                MIN_POLL,
            )?,
            fee_mode,
            fee_bands,
        })
    }

    /// Each band must be `min <= max` and no two may overlap, so an amount has at most one
    /// fee. Returned sorted by `min`.
    fn fee_bands(&self, raw: Vec<super::raw::RawFeeBand>) -> Result<Vec<FeeBand>> {
        let key = |i: usize, field: &str| format!("atobarai_com.fee_bands[{i}].{field}");
        let mut bands = Vec::with_capacity(raw.len());
        for (i, b) in raw.iter().enumerate() {
            if b.min > b.max {
                return Err(self.err(
                    &key(i, "max"),
                    format!("max ({}) is below min ({})", b.max, b.min),
                ));
            }
            bands.push((
                i,
                FeeBand {
                    min: b.min,
                    max: b.max,
                    fee: b.fee,
                },
            ));
        }
        bands.sort_by_key(|(_, b)| b.min);
        for pair in bands.windows(2) {
            let ((i, lower), (j, upper)) = (&pair[0], &pair[1]);
            if upper.min <= lower.max {
                return Err(self.err(
                    &key(*j, "min"),
                    format!(
                        "band {}..={} overlaps fee_bands[{i}] ({}..={})",
                        upper.min, upper.max, lower.min, lower.max
                    ),
                ));
            }
        }
        Ok(bands.into_iter().map(|(_, b)| b).collect())
    }

    fn komoju(&self, raw: RawKomoju) -> Result<KomojuConfig> {
        let enabled = raw.enabled.unwrap_or(false);
        let api_version = raw
            .api_version
            .unwrap_or_else(|| KOMOJU_API_VERSION.to_owned());
        if !is_iso_date(&api_version) {
            return Err(self.err(
                "komoju.api_version",
                "must be a date like 2024-07-15 (the KOMOJU API version)",
            ));
        }
        Ok(KomojuConfig {
            enabled,
            api_base_url: self.base_url("komoju.api_base_url", raw.api_base_url, KOMOJU_API)?,
            secret_key: self.secret("komoju.secret_key", raw.secret_key, enabled)?,
            webhook_secret: self.secret("komoju.webhook_secret", raw.webhook_secret, enabled)?,
            api_version,
            capture_on_ship: raw.capture_on_ship.unwrap_or(true),
        })
    }
}
