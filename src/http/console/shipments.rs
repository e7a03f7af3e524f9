//! The shipping-files page (出荷ファイル): per label program, how many orders
//! are ready to ship and which are left out and why, the download of the
//! import file, and the upload of the file written back after printing
//! (multipart, with the session's form token, size bounded), recorded as
//! shipments all or nothing.

use std::fmt::Write;

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::pages::{self, urlencode};
use super::text::t;
use super::{form_session, refused, session};
use crate::carrier_files::{CarrierFormat, import};
use crate::config::Language;
use crate::http::AppState;
use crate::http::admin::shipments_api::{csv_download, export_file, import_file};
use crate::http::status_page::esc;

/// Largest upload read: the file and the form's other fields.
pub const MAX_UPLOAD: usize = import::MAX_FILE_BYTES + 64 * 1024;

pub(super) async fn page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let c = match session(&app, &headers, "/console/shipments") {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let mut h = String::new();
    let lang = c.lang;
    let _ = write!(
        h,
        "<p>{}</p>",
        t(
            lang,
            "出荷できる受注(確定済み・入金済みまたは与信OK)を配送会社の送り状ソフトの取込ファイルにします。印刷後に送り状ソフトが書き出したファイルをアップロードすると、出荷を記録し出荷報告します。",
            "The orders ready to ship as the label program's import file; upload the file it writes after printing to record the shipments and report them."
        )
    );
    for format in CarrierFormat::ALL {
        let file = match export_file(&app, format).await {
            Ok(f) => f,
            Err(e) => return refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.message),
        };
        let _ = write!(
            h,
            "<h2>{}</h2><p><a href=\"/console/shipments/export?carrier={}\" download>{}</a> ({})</p>",
            esc(format.program()),
            format.as_str(),
            t(
                lang,
                "取込ファイルをダウンロード",
                "Download the import file"
            ),
            esc(&match lang {
                Language::Ja => format!(
                    "{}件、書けない受注 {}件",
                    file.written.len(),
                    file.refused.len()
                ),
                Language::En => format!(
                    "{} orders, {} left out",
                    file.written.len(),
                    file.refused.len()
                ),
            }),
        );
        if !file.refused.is_empty() {
            h.push_str("<ul class=\"refused\">");
            for r in &file.refused {
                let _ = write!(
                    h,
                    "<li><a href=\"/console/orders/{}/{}\">{}</a>: {}</li>",
                    r.channel.as_str(),
                    urlencode(&r.id),
                    esc(&r.id),
                    esc(&r.reason)
                );
            }
            h.push_str("</ul>");
        }
    }
    let options: String = CarrierFormat::ALL
        .iter()
        .map(|f| {
            format!(
                "<option value=\"{}\">{}</option>",
                f.as_str(),
                esc(f.program())
            )
        })
        .collect();
    let _ = write!(
        h,
        "<h2>{}</h2><form method=\"post\" action=\"/console/shipments/import\" \
         enctype=\"multipart/form-data\" id=\"upload\">\
         <input type=\"hidden\" name=\"form_token\" value=\"{}\">\
         <label>{} <select name=\"carrier\">{options}</select></label> \
         <input type=\"file\" name=\"file\" accept=\".csv,text/csv\" required> \
         <button>{}</button></form>",
        t(
            lang,
            "印刷後のファイルを取り込む",
            "Upload the printed labels"
        ),
        esc(&c.form_token),
        t(lang, "送り状ソフト", "Label program"),
        t(lang, "出荷を記録(出荷報告)", "Record the shipments"),
    );
    Html(pages::layout(
        &c,
        t(lang, "出荷ファイル", "Shipping files"),
        None,
        &h,
    ))
    .into_response()
}

#[derive(Deserialize)]
pub(super) struct ExportQuery {
    #[serde(default)]
    carrier: String,
}

pub(super) async fn download(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Response {
    if let Err(d) = session(&app, &headers, "/console/shipments") {
        return d.answer(&app);
    }
    let Some(format) = CarrierFormat::parse(&q.carrier) else {
        let why = crate::carrier_files::unknown_format(app.language, &q.carrier);
        return refused(&app, StatusCode::BAD_REQUEST, &why);
    };
    match export_file(&app, format).await {
        Ok(file) => csv_download(format, file),
        Err(e) => refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.message),
    }
}

/// The upload's fields.
#[derive(Default)]
struct Upload {
    form_token: String,
    carrier: String,
    file: Vec<u8>,
}

async fn read_upload(mut m: Multipart) -> Result<Upload, String> {
    let mut u = Upload::default();
    while let Some(field) = m.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(|e| e.body_text())?;
        match name.as_str() {
            "form_token" => u.form_token = String::from_utf8_lossy(&bytes).into_owned(),
            "carrier" => u.carrier = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => u.file = bytes.to_vec(),
            _ => {}
        }
    }
    Ok(u)
}

pub(super) async fn upload(
    State(app): State<AppState>,
    headers: HeaderMap,
    m: Multipart,
) -> Response {
    let lang = app.language;
    let u = match read_upload(m).await {
        Ok(u) => u,
        Err(e) => return refused(&app, StatusCode::BAD_REQUEST, &e),
    };
    let c = match form_session(&app, &headers, &u.form_token) {
        Ok(c) => c,
        Err(d) => return d.answer(&app),
    };
    let Some(format) = CarrierFormat::parse(&u.carrier) else {
        let why = crate::carrier_files::unknown_format(lang, &u.carrier);
        return refused(&app, StatusCode::BAD_REQUEST, &why);
    };
    let (status, body) = match import_file(&app, format, &u.file).await {
        Err(e) => return refused(&app, StatusCode::SERVICE_UNAVAILABLE, &e.message),
        Ok(Ok(done)) => {
            app.dispatcher_wake.notify_one();
            let said = match lang {
                Language::Ja => format!(
                    "出荷を {} 件記録しました(記録済みで変更なし {} 件)。",
                    done.shipped, done.unchanged
                ),
                Language::En => format!(
                    "Recorded {} shipments ({} already recorded, unchanged).",
                    done.shipped, done.unchanged
                ),
            };
            (
                StatusCode::OK,
                format!("<p class=\"ok\" id=\"result\">{}</p>", esc(&said)),
            )
        }
        Ok(Err(problems)) => {
            let mut h = format!(
                "<p class=\"warn\" id=\"result\">{}</p><ul>",
                t(
                    lang,
                    "ファイルに誤りがあるため、何も記録していません。直してからもう一度取り込んでください。",
                    "Nothing was recorded: the file has errors. Correct them and upload it again."
                )
            );
            for p in &problems {
                let _ = write!(h, "<li>{}</li>", esc(&p.describe(lang)));
            }
            h.push_str("</ul>");
            (StatusCode::BAD_REQUEST, h)
        }
    };
    let body = format!(
        "{body}<p><a href=\"/console/shipments\">{}</a></p>",
        t(lang, "出荷ファイルへ戻る", "Back to the shipping files")
    );
    let title = t(lang, "出荷ファイルの取込", "Shipping file upload");
    (status, Html(pages::layout(&c, title, None, &body))).into_response()
}
