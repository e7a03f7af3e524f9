//! What the alerts talk to in the tests: a small SMTP server (RFC 5321 with
//! STARTTLS, RFC 3207, and AUTH PLAIN/LOGIN, RFC 4954) that offers AUTH only
//! once TLS is up and refuses mail before it, under a certificate of its own
//! test authority; and a webhook receiver that keeps what it is sent.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// A mail the server accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub user: String,
    pub rcpt: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The `Subject:` header, RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        let headers = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
        let line = unfolded
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or("");
        decode_words(line)
    }

    /// The body, decoded from base64.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let joined: String = body.split_whitespace().collect();
        let text = String::from_utf8(B64.decode(joined).expect("a base64 body")).expect("UTF-8");
        text.replace("\r\n", "\n")
    }
}

/// Decodes `=?utf-8?b?…?=` words; the space between two encoded words is
/// not text (RFC 2047, 6.2), any other is.
fn decode_words(text: &str) -> String {
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, token) in text.split_whitespace().enumerate() {
        let lower = token.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?b?") && lower.ends_with("?=") && token.len() > 12;
        if i > 0 && !(encoded && last_encoded) {
            out.push(' ');
        }
        match encoded {
            true => {
                let b = &token[10..token.len() - 2];
                out.push_str(&String::from_utf8(B64.decode(b).expect("b64")).expect("utf8"));
            }
            false => out.push_str(token),
        }
        last_encoded = encoded;
    }
    out
}

pub struct MailServer {
    pub port: u16,
    /// The test authority's certificate (PEM), for `ca_file`.
    pub ca_pem: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl MailServer {
    /// Accepts `user` / `password` only.
    pub async fn start(user: &str, password: &str) -> MailServer {
        let (ca_pem, acceptor) = tls_acceptor();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let (kept, user, password) = (mails.clone(), user.to_string(), password.to_string());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, acceptor) = (kept.clone(), acceptor.clone());
                let (user, password) = (user.clone(), password.clone());
                tokio::spawn(async move {
                    let _ = session(Box::new(stream), acceptor, &user, &password, kept).await;
                });
            }
        });
        MailServer {
            port,
            ca_pem,
            mails,
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

fn tls_acceptor() -> (String, TlsAcceptor) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "ordersync test mail authority");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (ca_cert.pem(), TlsAcceptor::from(Arc::new(config)))
}

async fn session(
    stream: Box<dyn Io>,
    acceptor: TlsAcceptor,
    user: &str,
    password: &str,
    kept: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let mut io = BufReader::new(stream);
    let mut tls = false;
    io.write_all(b"220 localhost ESMTP test\r\n").await?;
    let (mut authed, mut rcpt, mut login) = (None::<String>, Vec::new(), None::<String>);
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        if let Some(u) = login.take() {
            // AUTH LOGIN: the user came, this is the password.
            let given =
                String::from_utf8(B64.decode(&line).unwrap_or_default()).unwrap_or_default();
            if given == password && u == user {
                authed = Some(u);
                io.write_all(b"235 2.7.0 ok\r\n").await?;
            } else {
                io.write_all(b"535 5.7.8 bad credentials\r\n").await?;
            }
            continue;
        }
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" if tls => b"250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            "EHLO" | "HELO" => b"250-localhost\r\n250 STARTTLS\r\n",
            "STARTTLS" if !tls => {
                io.write_all(b"220 2.0.0 go ahead\r\n").await?;
                let upgraded = acceptor.accept(io.into_inner()).await?;
                io = BufReader::new(Box::new(upgraded));
                tls = true;
                continue;
            }
            "AUTH" if tls => {
                let parts: Vec<&str> = line.split(' ').collect();
                match parts.get(1).map(|m| m.to_ascii_uppercase()).as_deref() {
                    Some("PLAIN") => {
                        let raw = B64.decode(parts.get(2).unwrap_or(&"")).unwrap_or_default();
                        let fields: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
                        let ok = fields.len() == 3
                            && fields[1] == user.as_bytes()
                            && fields[2] == password.as_bytes();
                        if ok {
                            authed = Some(user.to_string());
                            b"235 2.7.0 ok\r\n"
                        } else {
                            b"535 5.7.8 bad credentials\r\n"
                        }
                    }
                    Some("LOGIN") => {
                        let u = match parts.get(2) {
                            Some(u) => B64.decode(u).unwrap_or_default(),
                            None => {
                                io.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                                let mut l = String::new();
                                io.read_line(&mut l).await?;
                                B64.decode(l.trim()).unwrap_or_default()
                            }
                        };
                        login = Some(String::from_utf8(u).unwrap_or_default());
                        b"334 UGFzc3dvcmQ6\r\n"
                    }
                    _ => b"504 5.5.4 unknown mechanism\r\n",
                }
            }
            "MAIL" if !tls => b"530 5.7.0 must issue STARTTLS first\r\n",
            "MAIL" if authed.is_none() => b"530 5.7.0 authentication required\r\n",
            "MAIL" => {
                rcpt.clear();
                b"250 2.1.0 ok\r\n"
            }
            "RCPT" => {
                rcpt.push(
                    line.split_once(':')
                        .map_or("", |(_, a)| a)
                        .trim()
                        .to_string(),
                );
                b"250 2.1.5 ok\r\n"
            }
            "DATA" => {
                io.write_all(b"354 end with .\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if io.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    data.push_str(
                        l.strip_prefix('.')
                            .filter(|_| l.starts_with(".."))
                            .unwrap_or(&l),
                    );
                }
                kept.lock().unwrap().push(Mail {
                    user: authed.clone().unwrap_or_default(),
                    rcpt: rcpt.clone(),
                    data,
                });
                b"250 2.0.0 queued\r\n"
            }
            "RSET" | "NOOP" => b"250 2.0.0 ok\r\n",
            "QUIT" => {
                io.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 not implemented\r\n",
        };
        io.write_all(reply).await?;
        io.flush().await?;
    }
}

/// A Slack-style incoming webhook: keeps each JSON body; answers 500 while
/// told to fail.
pub struct HookReceiver {
    pub port: u16,
    bodies: Arc<Mutex<Vec<Value>>>,
    failing: Arc<AtomicBool>,
    refused: Arc<AtomicU16>,
}

#[derive(Clone)]
struct HookState {
    bodies: Arc<Mutex<Vec<Value>>>,
    failing: Arc<AtomicBool>,
    refused: Arc<AtomicU16>,
}

impl HookReceiver {
    pub async fn start() -> HookReceiver {
        let state = HookState {
            bodies: Arc::default(),
            failing: Arc::default(),
            refused: Arc::default(),
        };
        let app = axum::Router::new()
            .route(
                "/services/T0KEN",
                post(
                    |State(s): State<HookState>, body: axum::Json<Value>| async move {
                        if s.failing.load(Ordering::SeqCst) {
                            s.refused.fetch_add(1, Ordering::SeqCst);
                            return StatusCode::INTERNAL_SERVER_ERROR;
                        }
                        s.bodies.lock().unwrap().push(body.0);
                        StatusCode::OK
                    },
                ),
            )
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        HookReceiver {
            port,
            bodies: state.bodies,
            failing: state.failing,
            refused: state.refused,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/services/T0KEN", self.port)
    }

    /// The `text` of every message received.
    pub fn texts(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Messages answered 500.
    pub fn refused(&self) -> u16 {
        self.refused.load(Ordering::SeqCst)
    }
}
