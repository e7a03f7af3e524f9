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
        // The server's own text names no cause; it gives this code for an
        // address off the allow-list and for an API user that does not exist
        // (no allow-list is found for it).
        wire::IP_NOT_ALLOWED => Some(
            "後払い.comがこの接続を受け付けていません(E..101)。原因はどちらかです: \
             このサーバーのグローバルIPアドレスが後払い.comに登録されていない(加盟店管理画面または\
             サポートで登録してください)か、[atobarai_com] api_user_id が存在しないAPIユーザIDです\
             (加盟店管理画面の値と照らしてください) / Atobarai.com refuses this connection \
             (E..101): either this server's source IP address is not registered (register the \
             server's public IP address with Atobarai.com) or [atobarai_com] api_user_id names \
             an API user that does not exist (compare it with the merchant page)",
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

/// The rejection of a lookup that found several orders under one merchant
/// number: which ones, and what the merchant does.
pub(super) fn duplicate_orders(ent: &str, found: &[Detail]) -> CallError {
    let ids = found
        .iter()
        .map(|d| format!("{} ({})", d.system_order_id, d.status.label()))
        .collect::<Vec<_>>()
        .join(", ");
    CallError::Rejected {
        http_status: 200,
        code: DUPLICATE_ORDER.to_string(),
        message: format!(
            "後払い.comに受注番号 {ent} の注文が{n}件あります: {ids}。\
             後払い.comの加盟店管理画面で残す1件を決め、ほかをキャンセルしてください / \
             Atobarai.com holds {n} orders under order number {ent}: {ids}; keep one and cancel \
             the others on its merchant page",
            n = found.len()
        ),
    }
}

/// The merchant's message of a per-order cancel refusal, Japanese first,
/// with the service's own text.
pub(super) fn cancel_refusal_message(code: &str, text: &str) -> String {
    match code {
        wire::CANCEL_NOT_FOUND => format!(
            "後払い.comにこの注文はありません({code}: {text}) / Atobarai.com has no such order ({code})"
        ),
        wire::CANCEL_NOT_CANCELLABLE => format!(
            "後払い.comはこの注文をキャンセルできません({code}: {text})。\
             状態を加盟店管理画面で確認し、どうするか決めてください / \
             Atobarai.com says the order cannot be cancelled in its state ({code}): \
             check it on the merchant page and decide"
        ),
        wire::CANCEL_CARD_PROCESSOR => format!(
            "後払い.comのカード決済会社がキャンセルを受け付けませんでした({code}): {text} / \
             Atobarai.com's card processor refused the cancel ({code}): {text}"
        ),
        wire::CANCEL_OTHER => format!(
            "後払い.comでキャンセルがエラーになりました({code}): {text} / \
             Atobarai.com failed to cancel the order ({code}): {text}"
        ),
        _ => format!(
            "後払い.comがキャンセルを受け付けませんでした / Atobarai.com refused the cancel: {}",
            readable(code, text)
        ),
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

/// Where a redirect points: the same origin as the configured base URL only
/// (see [`http_client::redirect_target`]), at most [`MAX_REDIRECTS`] hops
/// (transient: the service may be moving).
pub(super) fn redirect_target(
    from: &Url,
    status: StatusCode,
    location: Option<&HeaderValue>,
    hops: usize,
) -> Result<Url, CallError> {
    if hops > MAX_REDIRECTS {
        return Err(CallError::transient(format!(
            "Atobarai.com redirected more than {MAX_REDIRECTS} times"
        )));
    }
    http_client::redirect_target("atobarai_com.api_base_url", from, status, location)
}
