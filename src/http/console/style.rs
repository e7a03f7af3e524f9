//! The console's one stylesheet, put inline in every page's `<head>` (the
//! admin listener's CSP allows inline style and loads nothing else: no
//! stylesheet, font or image from anywhere). System fonts only; readable on
//! a laptop (1280 px) and a tablet (768 px: two columns, tables scroll sideways
//! rather than squeezing their text; one column on a phone).

/// The stylesheet.
pub const STYLE: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,\"Hiragino Sans\",\"Noto Sans CJK JP\",\"Yu Gothic UI\",sans-serif;\
margin:0;color:#1f2328;background:#f6f7f9;line-height:1.5;font-size:15px}\
nav.top{display:flex;flex-wrap:wrap;align-items:center;gap:.25em 1.2em;padding:.6em 1.5em;\
background:#1f3a5f;color:#fff}\
nav.top a{color:#fff;text-decoration:none;padding:.2em 0;border-bottom:2px solid transparent}\
nav.top a:hover,nav.top a[aria-current]{border-bottom-color:#9cc3ff}\
nav.top .brand{font-weight:bold;margin-right:.8em}\
nav.top form{margin-left:auto;display:inline}\
nav.top button{background:transparent;color:#fff;border:1px solid #9cc3ff;border-radius:4px;padding:.15em .8em}\
main{max-width:1200px;margin:0 auto;padding:1em 1.5em 3em}\
h1{font-size:1.5em;margin:.4em 0 .6em}h2{font-size:1.15em;margin:1.4em 0 .5em}\
a{color:#0b57b0}\
table{border-collapse:collapse;margin:.5em 0;background:#fff}\
td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#eef1f4;font-weight:600}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
.warn{color:#b00020;font-weight:bold}\
.notice{background:#e7f5e7;border:1px solid #7c7;padding:.5em 1em;border-radius:4px}\
form{margin:0}input,select,button{font:inherit}\
.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:1em}\
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.8em 1em}\
.card h2{margin-top:0}\
.card.wide{grid-column:1/-1}\
.big{font-size:1.9em;font-weight:bold;font-variant-numeric:tabular-nums}\
ul.plain{list-style:none;padding:0;margin:0}ul.plain li{padding:.2em 0}\
.muted{color:#57606a}\
figure.chart{margin:0}figure.chart svg{width:100%;height:auto;display:block}\
figure.chart rect.bar{fill:#3b82c4}figure.chart line.axis{stroke:#8c959f}\
figure.chart text{font-size:12px;fill:#57606a}figure.chart text.peak{fill:#1f2328;font-weight:bold}\
figcaption{font-size:.9em;color:#57606a}\
details.chart-data table{font-size:.85em}\
@media (max-width:1000px){.cards{grid-template-columns:repeat(2,1fr)}}\
@media (max-width:800px){body{font-size:16px}main{padding:.8em}nav.top{padding:.5em .8em}\
table{display:block;overflow-x:auto;max-width:100%}}\
@media (max-width:600px){.cards{grid-template-columns:1fr}}";
