//! placeholder until the client lands
use super::wire;
use super::{OrderSnapshot, Status};
use crate::providers::CallError;
pub struct JgoodsClientSettings {
    pub order_api_base_url: String,
    pub item_api_base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: secrecy::SecretString,
    pub timeout: std::time::Duration,
}
pub struct SearchPage {
    pub orders: Vec<OrderSnapshot>,
    pub next_page: Option<u32>,
}
pub struct JgoodsClient;
impl JgoodsClient {
    pub fn new(_s: JgoodsClientSettings) -> Result<Self, CallError> {
        Ok(JgoodsClient)
    }
    pub async fn put_order(
        &self,
        _o: &str,
        _b: &wire::JgoodsPutOrder,
    ) -> Result<OrderSnapshot, CallError> {
        Err(CallError::transient("x"))
    }
    pub async fn get_order(&self, _o: &str) -> Result<OrderSnapshot, CallError> {
        Err(CallError::transient("x"))
    }
    pub async fn search(
        &self,
        _s: Status,
        _u: Option<chrono::DateTime<chrono::FixedOffset>>,
        _p: u32,
    ) -> Result<SearchPage, CallError> {
        Err(CallError::transient("x"))
    }
}
