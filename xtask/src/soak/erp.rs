//! The merchant's ERP as the soak plays it: it sends each command until the
//! daemon answers, across kills and restarts, as a real ERP's retry loop
//! would. An answer below 500 is final; 2xx means the daemon took the
//! command on and must never forget it.

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::bench::daemon::SECRET;

/// How long one command may go unanswered (kills included) before the soak
/// calls the daemon unavailable.
const GIVE_UP: Duration = Duration::from_secs(120);
/// One attempt's limit; a killed daemon's socket just closes.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Erp {
    http: reqwest::Client,
    /// The running daemon's admin address, `None` while it is down. Each
    /// restart sends a new value (the admin port changes).
    admin: watch::Receiver<Option<String>>,
}

/// The orchestrator's side: says when the daemon goes down and comes back.
pub struct ErpSwitch(watch::Sender<Option<String>>);

impl ErpSwitch {
    pub fn down(&self) {
        self.0.send_replace(None);
    }

    pub fn up(&self, admin: &str) {
        self.0.send_replace(Some(admin.to_string()));
    }
}

pub fn new(admin: &str) -> (Erp, ErpSwitch) {
    let (tx, rx) = watch::channel(Some(admin.to_string()));
    (
        Erp {
            http: reqwest::Client::new(),
            admin: rx,
        },
        ErpSwitch(tx),
    )
}

impl Erp {
    /// Sends the command until the daemon answers it; returns the status and
    /// the JSON body (or the text as a JSON string).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut admin = self.admin.clone();
        let until = Instant::now() + GIVE_UP;
        loop {
            let base = admin
                .wait_for(Option::is_some)
                .await
                .context("the soak stopped")?
                .clone()
                .unwrap_or_default();
            admin.mark_unchanged();
            let mut req = self
                .http
                .request(method.clone(), format!("http://{base}{path}"))
                .bearer_auth(SECRET)
                .timeout(ATTEMPT_TIMEOUT);
            if let Some(b) = body {
                req = req.json(b);
            }
            if let Ok(resp) = req.send().await {
                let status = resp.status().as_u16();
                if let Ok(text) = resp.text().await
                    && status < 500
                {
                    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    return Ok((status, json));
                }
            }
            if Instant::now() > until {
                bail!("{method} {path} unanswered for {GIVE_UP:?}");
            }
            // Killed under us, or busy: try again once it is back (or soon).
            let _ = tokio::time::timeout(Duration::from_millis(50), admin.changed()).await;
        }
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self.send(Method::GET, path, None).await?;
        if status != 200 {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }
}
