//! `report.html`: one file with every plot inline (PNG data URIs), the summary table sortable
//! by any column, and nothing fetched from anywhere, so that it opens offline, from a mail or
//! from a cluster's scratch directory.

use std::fmt::Write as _;

use base64::Engine as _;

use super::figure::Figure;
use super::render;

/// A titled group of figures.
pub struct Section {
    pub title: String,
    pub intro: String,
    pub figures: Vec<(Figure, Vec<u8>)>,
}

/// The page's header facts.
pub struct Page<'a> {
    pub sweep: &'a str,
    pub dir: &'a str,
    pub trials: usize,
    pub rows: usize,
    pub sections: &'a [Section],
    /// `summary.csv`'s text: the table shows exactly its cells.
    pub summary_csv: &'a str,
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn page(p: &Page) -> String {
    let mut out = String::new();
    let title = format!("runner report: {}", p.sweep);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        out,
        "<p class=\"facts\">{} trials, {} rows, from <code>{}</code>. Every plot is also written as PNG and SVG under <code>plots/</code>.</p>",
        p.trials,
        p.rows,
        escape(p.dir)
    );
    let _ = writeln!(out, "<nav><ul>");
    for (i, s) in p.sections.iter().enumerate() {
        let _ = writeln!(out, "<li><a href=\"#section-{i}\">{}</a></li>", escape(&s.title));
    }
    let _ = writeln!(out, "<li><a href=\"#summary\">Summary table</a></li></ul></nav>");
    for (i, s) in p.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"section-{i}\">\n<h2>{}</h2>\n<p>{}</p>\n<div class=\"plots\">",
            escape(&s.title),
            escape(&s.intro)
        );
        for (figure, png) in &s.figures {
            let (w, h) = render::size(figure);
            let series = figure.series();
            let points: usize = series.iter().map(|(_, p)| p.len()).sum();
            let _ = writeln!(
                out,
                "<figure class=\"plot\" id=\"{name}\" data-series=\"{}\" data-points=\"{points}\">\n<img src=\"data:image/png;base64,{}\" width=\"{w}\" height=\"{h}\" alt=\"{}\">\n<figcaption>{} <a href=\"plots/{name}.svg\">SVG</a></figcaption>\n</figure>",
                series.len(),
                base64::engine::general_purpose::STANDARD.encode(png),
                escape(&figure.title),
                escape(&figure.caption),
                name = escape(&figure.name),
            );
        }
        let _ = writeln!(out, "</div>\n</section>");
    }
    let _ = writeln!(out, "<section id=\"summary\">\n<h2>Summary table</h2>\n<p>The rows of <code>summary.csv</code>. Click a column's header to sort by it; click again to reverse.</p>");
    out.push_str(&table(p.summary_csv));
    let _ = writeln!(out, "</section>\n<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

/// The CSV as an HTML table (quoted cells unquoted).
fn table(csv: &str) -> String {
    let mut out = String::from("<table id=\"summary-table\">\n");
    for (i, line) in csv.lines().enumerate() {
        let cells = split_csv(line);
        let tag = if i == 0 { "th" } else { "td" };
        if i == 0 {
            out.push_str("<thead>");
        } else if i == 1 {
            out.push_str("<tbody>\n");
        }
        out.push_str("<tr>");
        for c in cells {
            let _ = write!(out, "<{tag}>{}</{tag}>", escape(&c));
        }
        out.push_str("</tr>\n");
        if i == 0 {
            out.push_str("</thead>\n");
        }
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn split_csv(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().expect("one cell").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:1500px;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
.facts{color:#555}nav ul{display:flex;flex-wrap:wrap;gap:1.2em;list-style:none;padding:0}\
.plots{display:flex;flex-wrap:wrap;gap:1.2em}figure.plot{margin:0;max-width:100%}\
figure.plot img{max-width:100%;height:auto;border:1px solid #e4e4e4}figcaption{font-size:.85em;color:#444;margin-top:.3em}\
table{border-collapse:collapse;font-size:.85em}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}\
th{background:#f3f3f3;cursor:pointer;position:sticky;top:0}th.asc::after{content:' \\25B2'}th.desc::after{content:' \\25BC'}\
td:nth-child(-n+7),th:nth-child(-n+7){text-align:left}td{white-space:nowrap}tbody tr:nth-child(even){background:#fafafa}";

/// Sorting: numbers as numbers where every cell of the column is one, else as text; empty
/// cells last.
const SCRIPT: &str = r#"
(function () {
  const table = document.getElementById('summary-table');
  const headers = table.tHead.rows[0].cells;
  for (let i = 0; i < headers.length; i++) {
    headers[i].addEventListener('click', () => sortBy(i));
  }
  function sortBy(column) {
    const header = headers[column];
    const ascending = !header.classList.contains('asc');
    for (const h of headers) h.classList.remove('asc', 'desc');
    header.classList.add(ascending ? 'asc' : 'desc');
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const text = r => r.cells[column].textContent.trim();
    const numeric = rows.every(r => text(r) === '' || !isNaN(Number(text(r))));
    rows.sort((a, b) => {
      const x = text(a), y = text(b);
      if (x === '' || y === '') return (x === '') - (y === '');
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    for (const r of rows) body.appendChild(r);
  }
})();
"#;
