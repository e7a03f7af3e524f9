//! Judging Atobarai.com's answers (success, error, per-order results) and the
//! checks a request passes before it is sent.

use super::*;

/// `success` → the answer; `error` → transient for `EXX901`/`EXX902`,
/// otherwise a rejection with the first code and every message.
pub(super) fn judge(
    service: AtobaraiService,
    answer: AtobaraiResponse,
) -> Result<AtobaraiResponse, CallError> {
    match answer.status.trim() {
        wire::STATUS_SUCCESS => Ok(answer),
        wire::STATUS_ERROR => {
            let messages = &answer.messages.messages;
            let text = messages
                .iter()
                .map(|m| readable(m.code.trim(), m.text.trim()))
                .collect::<Vec<_>>()
                .join("; ");
            let Some(first) = messages.first() else {
                return Err(CallError::Rejected {
                    http_status: 200,
                    code: "NO_CODE".to_string(),
                    message: format!("Atobarai.com refused the {service} call without a message"),
                });
            };
            let code = first.code.trim().to_string();
            if messages
                .iter()
                .any(|m| wire::is_transient_code(m.code.trim()))
            {
                return Err(CallError::transient(format!(
                    "Atobarai.com {service}: {text}"
                )));
            }
            if let Some(fix) = messages
                .iter()
                .find_map(|m| configuration_fix(m.code.trim()))
            {
                return Err(CallError::configuration(code, fix));
            }
            if answers_per_order(service) && !answer.results.results.is_empty() {
                // "error" with a result per order (cancel with nothing
                // cancellable, status with only unknown ids): the results
                // are the answer.
                return Ok(answer);
            }
            Err(CallError::Rejected {
                http_status: 200,
                code,
                message: text,
            })
        }
        other => Err(CallError::transient(format!(
            "Atobarai.com answered the {service} call with an unknown status {:?}",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// Services whose answer lists a result per order asked, whatever the top status.
pub(super) fn answers_per_order(service: AtobaraiService) -> bool {
    match service {
        AtobaraiService::Status
        | AtobaraiService::IdMap
        | AtobaraiService::Cancel
        | AtobaraiService::Detail => true,
        AtobaraiService::Order
        | AtobaraiService::DelivList
        | AtobaraiService::Shipping
        | AtobaraiService::JnumMod
        | AtobaraiService::OrderMod => false,
    }
}

/// What the merchant must change when a code means this installation, not
/// the call: `E..101` (this server's address is not registered), `E..102`
/// (the ids are wrong or not linked). Retrying cannot help.
pub(super) fn configuration_fix(code: &str) -> Option<&'static str> {
    match wire::split_code(code)?.1 {
        wire::IP_NOT_ALLOWED => Some(
            "後払い.comがこのサーバーの送信元IPアドレスを受け付けていません(E..101)。\
             後払い.comの加盟店管理画面またはサポートで、このサーバーのグローバルIPアドレスを\
             登録してください / Atobarai.com does not accept this server's source IP address \
             (E..101): register the server's public IP address with Atobarai.com",
        ),
        wire::BAD_IDS => Some(
            "後払い.comが事業者ID・サイトID・APIユーザIDを受け付けていません(E..102)。\
             [atobarai_com] enterprise_id, site_id, api_user_id を加盟店管理画面の値と照らして\
             ください / Atobarai.com refuses the enterprise, site or API user id (E..102): \
             compare [atobarai_com] enterprise_id, site_id and api_user_id with its merchant page",
        ),
        _ => None,
    }
}

/// `[E00303] O_UseAmount is not … (利用額が一致しません)`.
pub(super) fn readable(code: &str, text: &str) -> String {
    if text.is_empty() {
        format!("[{code}] {}", wire::describe(code))
    } else {
        format!("[{code}] {} ({text})", wire::describe(code))
    }
}

/// Tracking numbers compare without hyphens and spaces.
pub(super) fn same_journal_key(journal: &str) -> String {
    journal
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{3000}' | 'ー' | '－'))
        .collect()
}

/// What the adapter refuses before sending: what the service would refuse
/// anyway, and an empty or overlong merchant order number, which would make a
/// lost registration unrecoverable through `idmap`.
pub(super) fn check_registration(order: &OrderRegistration) -> Result<(), CallError> {
    let ent = order.ent_order_id.trim();
    if ent.is_empty() || ent.chars().count() > MAX_ENT_ORDER_ID_CHARS {
        return Err(http_client::not_sent(
            "INVALID_ORDER",
            format!("the merchant order number must be 1 to {MAX_ENT_ORDER_ID_CHARS} characters"),
        ));
    }
    if order.lines.is_empty() {
        return Err(http_client::not_sent(
            "INVALID_ORDER",
            "an order needs at least one line".to_string(),
        ));
    }
    if let Some(i) = order.lines.iter().position(|l| l.qty == 0) {
        return Err(http_client::not_sent(
            "INVALID_ORDER",
            format!("line {}: the quantity must be above zero", i + 1),
        ));
    }
    Ok(())
}

pub(super) fn check_batch(what: &str, ids: &[String]) -> Result<(), CallError> {
    if ids.len() > MAX_ORDERS_PER_CALL {
        return Err(http_client::not_sent(
            "TOO_MANY_ORDERS",
            format!(
                "{} orders; Atobarai.com takes at most {MAX_ORDERS_PER_CALL} a call",
                ids.len()
            ),
        ));
    }
    if ids.iter().any(|id| id.trim().is_empty()) {
        return Err(http_client::not_sent(
            "INVALID_ORDER_ID",
            format!("a {what} is empty"),
        ));
    }
    Ok(())
}

/// A refusal made before anything was sent (`http_status` 0).
/// `{base}/api/<service>/rest`, whether or not `base` ends with `/`.
pub(super) fn service_url(base: &Url, service: AtobaraiService) -> Url {
    let mut url = base.clone();
    // `parse_base` refused cannot-be-a-base URLs, so this always succeeds.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty()
            .extend(["api", service.segment(), "rest"]);
    }
    url
}

/// Where a redirect points, resolved against the request URL. Refuses a
/// missing or unreadable `Location`, a downgrade to http, and more than
/// [`MAX_REDIRECTS`] hops (transient: the service may be moving).
pub(super) fn redirect_target(
    from: &Url,
    location: Option<&HeaderValue>,
    hops: usize,
) -> Result<Url, CallError> {
    if hops > MAX_REDIRECTS {
        return Err(CallError::transient(format!(
            "Atobarai.com redirected more than {MAX_REDIRECTS} times"
        )));
    }
    let target = location
        .and_then(|v| v.to_str().ok())
        .and_then(|l| from.join(l).ok())
        .ok_or_else(|| CallError::transient("Atobarai.com redirected without a usable Location"))?;
    if from.scheme() == "https" && target.scheme() != "https" {
        return Err(CallError::Rejected {
            http_status: 302,
            code: "INSECURE_REDIRECT".to_string(),
            message: format!("refusing a redirect from https to {}", target.scheme()),
        });
    }
    if !matches!(target.scheme(), "http" | "https") {
        return Err(CallError::transient(
            "Atobarai.com redirected to a non-HTTP URL",
        ));
    }
    Ok(target)
}
