//! What a wrong `token_url` meets (the contract's "OAuth2 token (2026-12)",
//! 2026-12-07). J-goods does not publish its token endpoint, so a merchant
//! may point `token_url` at a page of J-goods' web site instead of the
//! endpoint J-goods gave them. Each [`WrongTokenUrl`] is one path of the
//! simulator that answers a token request the way such a page does; none of
//! them issues a token or looks at the credentials.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use super::Shared;
use super::api::Sim;

/// A wrong token URL, by how it answers `POST {token_url}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongTokenUrl {
    /// A path the web server does not have: 404 with its HTML error page.
    NotFoundPage,
    /// A page that is only read (a help page about the API): 405 with
    /// `Allow: GET, HEAD`.
    MethodNotAllowed,
    /// A page behind the merchant login: 302 to the login page.
    Redirect,
    /// The login page itself: 200 with HTML where a JSON token should be.
    HtmlPage,
}

impl WrongTokenUrl {
    /// Every kind, for tests that go through them all.
    pub const ALL: [WrongTokenUrl; 4] = [
        WrongTokenUrl::NotFoundPage,
        WrongTokenUrl::MethodNotAllowed,
        WrongTokenUrl::Redirect,
        WrongTokenUrl::HtmlPage,
    ];

    /// The simulator's path that answers this way.
    pub(super) fn path(self) -> &'static str {
        match self {
            WrongTokenUrl::NotFoundPage => "/www/oauth/token",
            WrongTokenUrl::MethodNotAllowed => "/www/api/token",
            WrongTokenUrl::Redirect => "/www/merchant/oauth/token",
            WrongTokenUrl::HtmlPage => LOGIN,
        }
    }
}

/// The merchant login page, where [`WrongTokenUrl::Redirect`] sends.
const LOGIN: &str = "/www/login";

/// The web site's paths; any method reaches them, as on a web server.
pub(super) fn router() -> Router<Arc<Shared>> {
    let mut router = Router::new();
    for kind in WrongTokenUrl::ALL {
        router = router.route(
            kind.path(),
            any(move |sim: Sim, method: Method| page(sim, method, kind)),
        );
    }
    router
}

async fn page(axum::extract::State(sim): Sim, method: Method, kind: WrongTokenUrl) -> Response {
    sim.with_state(|s| s.stats.wrong_token_url_requests += 1);
    match kind {
        WrongTokenUrl::NotFoundPage => html(StatusCode::NOT_FOUND, NOT_FOUND_PAGE),
        WrongTokenUrl::MethodNotAllowed if method == Method::GET || method == Method::HEAD => {
            html(StatusCode::OK, API_HELP_PAGE)
        }
        WrongTokenUrl::MethodNotAllowed => {
            let mut answer = html(StatusCode::METHOD_NOT_ALLOWED, NOT_ALLOWED_PAGE);
            answer
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            answer
        }
        WrongTokenUrl::Redirect => {
            let mut answer = html(StatusCode::FOUND, MOVED_PAGE);
            answer
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static(LOGIN));
            answer
        }
        WrongTokenUrl::HtmlPage => html(StatusCode::OK, LOGIN_PAGE),
    }
}

fn html(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

const NOT_FOUND_PAGE: &str = "<!DOCTYPE html><html lang=\"ja\"><head><title>404 Not Found</title></head>\
<body><h1>ページが見つかりません</h1><p>お探しのページは移動または削除された可能性があります。</p></body></html>";

const NOT_ALLOWED_PAGE: &str = "<!DOCTYPE html><html><head><title>405 Method Not Allowed</title></head>\
<body><h1>Method Not Allowed</h1></body></html>";

const API_HELP_PAGE: &str = "<!DOCTYPE html><html lang=\"ja\"><head><title>API連携について</title></head>\
<body><h1>API連携について</h1><p>クライアントIDは加盟店画面で発行できます。</p></body></html>";

const MOVED_PAGE: &str = "<!DOCTYPE html><html><head><title>302 Found</title></head>\
<body><a href=\"/www/login\">login</a></body></html>";

const LOGIN_PAGE: &str = "<!DOCTYPE html><html lang=\"ja\"><head><title>加盟店ログイン | J-goods</title></head>\
<body><form method=\"post\"><input name=\"login_id\"><input name=\"password\" type=\"password\">\
<button>ログイン</button></form></body></html>";
