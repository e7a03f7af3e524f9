use super::*;
use crate::providers::rakuten_pay::licence::Licence;
use crate::store::stock_push::PushSummary;

#[test]
fn escapes_everything_it_prints() {
    assert_eq!(
        esc("<a href=\"x\">&'"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
    let page = render(&StatusView {
        status: Status {
            per_state: vec![("<new>".into(), 1)],
            polls: vec![crate::status::Poll {
                provider: "<prov>".into(),
                at: "<t>".into(),
                age_seconds: None,
            }],
            licence: Licence {
                expires_at: Some("<x>".into()),
                days_left: Some(3),
                check_refused: Some("<i>".into()),
            },
            problems: vec![("rakuten".into(), "<script>alert(1)</script>".into())],
            stock_push: vec![PushSummary {
                channel: crate::domain::Channel::Jgoods,
                owed: 0,
                unknown: vec![("<sku>".into(), "t".into())],
            }],
            ..Default::default()
        },
        attention: vec![],
        dead: vec![],
        low_stock: vec![],
        low_stock_threshold: DEFAULT_LOW_STOCK,
        token_required: true,
        notice: Some("<b>".into()),
        setup_hint: Some("<i>".into()),
        lang: Language::En,
    });
    for raw in [
        "<new>", "<prov>", "<t>", "<x>", "<script>", "<sku>", "<b>", "<i>",
    ] {
        assert!(!page.contains(raw), "{raw} unescaped");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("issue a new key"));
}
