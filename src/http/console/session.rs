//! The console's sessions: the admin token is typed once on the login page
//! and exchanged for a random session cookie (HttpOnly, SameSite=Strict,
//! scoped to `/console`), so the token itself never sits in the browser.
//! Each session has its own form token, checked on every action (with the
//! guard's same-origin check). Sessions live in memory: a restart logs
//! everyone out, which is the safe side.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long a session lasts without being used.
pub const IDLE: Duration = Duration::from_secs(8 * 60 * 60);
/// Sessions kept at once; the least recently used goes first.
const MAX_SESSIONS: usize = 64;
/// The cookie's name.
pub const COOKIE: &str = "ordersync_console";

struct Session {
    last_used: Instant,
    form_token: String,
}

/// The live sessions, keyed by the hash of their cookie (a leaked memory
/// dump gives no usable cookie).
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<[u8; 32], Session>>,
    /// The hash of the admin token the sessions were opened with.
    token: Mutex<Option<[u8; 32]>>,
}

fn key(cookie: &str) -> [u8; 32] {
    Sha256::digest(cookie.as_bytes()).into()
}

fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

impl Sessions {
    /// Binds the sessions to the admin token of the running config: a
    /// config whose token differs (a rotation, at start or on a reload) ends
    /// every session, since each was opened by typing the old token.
    pub fn bind_token(&self, token: Option<&str>) {
        let now = token.map(key);
        let mut bound = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if *bound != now {
            self.live.lock().unwrap_or_else(|e| e.into_inner()).clear();
            *bound = now;
        }
    }

    /// A new session: its cookie value and its form token.
    pub fn open(&self, now: Instant) -> (String, String) {
        let (cookie, form_token) = (random_hex(), random_hex());
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| now.duration_since(s.last_used) < IDLE);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| *k)
        {
            live.remove(&oldest);
        }
        live.insert(
            key(&cookie),
            Session {
                last_used: now,
                form_token: form_token.clone(),
            },
        );
        (cookie, form_token)
    }

    /// The form token of the live session `cookie`, which counts as used.
    pub fn check(&self, cookie: &str, now: Instant) -> Option<String> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let session = live.get_mut(&key(cookie))?;
        if now.duration_since(session.last_used) >= IDLE {
            live.remove(&key(cookie));
            return None;
        }
        session.last_used = now;
        Some(session.form_token.clone())
    }

    /// Ends the session `cookie`.
    pub fn close(&self, cookie: &str) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.remove(&key(cookie));
    }
}

/// The session cookie of a request's `Cookie` header.
pub fn cookie_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The `Set-Cookie` value that gives the browser `cookie`, or (empty)
/// takes it away.
pub fn set_cookie(cookie: &str) -> String {
    let max_age = if cookie.is_empty() { 0 } else { IDLE.as_secs() };
    format!("{COOKIE}={cookie}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_while_used_and_ends_when_closed_or_idle() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let (cookie, form) = s.open(t0);
        assert_eq!(s.check(&cookie, t0 + Duration::from_secs(60)), Some(form));
        assert_eq!(s.check("forged", t0), None);
        assert_eq!(
            s.check(&cookie, t0 + IDLE + Duration::from_secs(61)),
            None,
            "idle too long"
        );
        let (cookie, _) = s.open(t0);
        s.close(&cookie);
        assert_eq!(s.check(&cookie, t0), None);
        for _ in 0..MAX_SESSIONS + 10 {
            s.open(t0);
        }
        assert!(s.live.lock().unwrap().len() <= MAX_SESSIONS);
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; ordersync_console=abc; b=2".parse().unwrap());
        assert_eq!(cookie_of(&h), Some("abc"));
        assert!(set_cookie("x").contains("HttpOnly; SameSite=Strict"));
    }
}
