//! `[jgoods]`: the order, item and category APIs, the token, the webhooks.

use super::*;

impl Ctx<'_> {
    pub(super) fn jgoods(&self, raw: RawJgoods) -> Result<JgoodsConfig> {
        let enabled = raw.enabled.unwrap_or(true);
        let mut allow = Vec::new();
        for (i, text) in raw
            .webhook_allow_from
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let net = parse_network(text).ok_or_else(|| {
                self.err(
                    &format!("jgoods.webhook_allow_from[{i}]"),
                    format!(
                        "`{text}` is not a network in CIDR notation (203.0.113.0/24) \
                         or an IP address"
                    ),
                )
            })?;
            allow.push(net);
        }
        let stock_push_interval = self.push_interval(
            "jgoods.stock_push_interval",
            raw.stock_push_interval,
            minutes(5),
        )?;
        Ok(JgoodsConfig {
            enabled,
            order_api_base_url: self.base_url(
                "jgoods.order_api_base_url",
                raw.order_api_base_url,
                JGOODS_ORDER_API,
            )?,
            item_api_base_url: self.base_url(
                "jgoods.item_api_base_url",
                raw.item_api_base_url,
                JGOODS_ITEM_API,
            )?,
            token_url: self.url("jgoods.token_url", raw.token_url, JGOODS_TOKEN_URL)?,
            client_id: self.required_text("jgoods.client_id", raw.client_id)?,
            client_secret: self.secret("jgoods.client_secret", raw.client_secret, enabled)?,
            token_auth: raw.token_auth.unwrap_or_default(),
            webhook_auth: raw.webhook_auth.unwrap_or_default(),
            webhook_secret: self.secret("jgoods.webhook_secret", raw.webhook_secret, enabled)?,
            webhook_allow_from: allow,
            sweep_interval: self.duration(
                "jgoods.sweep_interval",
                raw.sweep_interval,
                minutes(10),
                MIN_POLL,
            )?,
            stock_push_interval,
            category_api_base_url: self.base_url(
                "jgoods.category_api_base_url",
                raw.category_api_base_url,
                JGOODS_CATEGORY_API,
            )?,
            catalog_sync_interval: self.push_interval(
                "jgoods.catalog_sync_interval",
                raw.catalog_sync_interval,
                minutes(5),
            )?,
        })
    }
}
