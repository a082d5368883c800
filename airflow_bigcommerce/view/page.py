"""
The sync view as one self-contained HTML page (no build step, no external asset); pure.

Everything from the run (keys, e-mails, reasons) is HTML-escaped. The filter, the search and the CSV
download are a few lines of vanilla JavaScript over the rows already in the page: the CSV holds the
rows shown, cells that a spreadsheet would run as a formula prefixed with ``'``.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from airflow_bigcommerce.view.model import (
    COMPLETED,
    COMPLETED_WITH_REJECTIONS,
    DRY_RUN,
    FAILED,
    LISTED_OUTCOMES,
    OUTCOMES,
    RunView,
)

#: Where the listed rows come from (``RunView.rows_source``), as the page says it.
ROWS_SOURCES = {
    "ledger": "the sync's ledger (this run's rows)",
    "report": "the run's report",
    "summary": "the task's summary (XCom)",
}
#: Status -> (colour, one-line meaning) of the banner.
_BANNERS: dict[str, tuple[str, str]] = {
    COMPLETED: ("#1a7f37", "Every row was delivered or had nothing to change."),
    COMPLETED_WITH_REJECTIONS: ("#9a6700", "The run finished; some rows were refused and need fixing."),
    FAILED: ("#cf222e", "Some rows were not delivered (or the task failed): a later run can deliver them."),
    DRY_RUN: ("#0969da", "Nothing was written: the counts say what the run would do."),
}

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#1f2328;background:#fff}
h1{font-size:18px;margin:0 0 8px}h2{font-size:15px;margin:18px 0 6px}
.banner{padding:10px 14px;border-radius:6px;color:#fff;margin-bottom:12px}
.banner b{font-size:17px}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:86px}
.card .n{font-size:20px;font-weight:600}.card .l{color:#59636e;font-size:12px}
.card.rejected .n{color:#9a6700}.card.failed .n{color:#cf222e}
table{border-collapse:collapse;margin-top:4px}td,th{border-bottom:1px solid #d0d7de;padding:4px 10px;
text-align:left;vertical-align:top}th{background:#f6f8fa}td.num{text-align:right}
.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:8px 0}
.tools{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:6px 0}
.muted{color:#59636e}
"""

_SCRIPT = """
(function(){
  const rows=[...document.querySelectorAll('#rows tbody tr')];
  const outcome=document.getElementById('outcome'),fieldSel=document.getElementById('field');
  const search=document.getElementById('search'),shown=document.getElementById('shown');
  function apply(){
    const o=outcome.value,f=fieldSel.value,q=search.value.trim().toLowerCase();let n=0;
    for(const r of rows){
      const ok=(!o||r.dataset.outcome===o)&&(!f||r.dataset.field===f)&&
        (!q||r.dataset.key.toLowerCase().includes(q)||r.dataset.email.toLowerCase().includes(q));
      r.hidden=!ok;if(ok)n++;
    }
    shown.textContent=n+' of '+rows.length+' rows shown';
  }
  function cell(v){if(/^[=+\\-@\\t\\r]/.test(v))v="'"+v;return '"'+v.replace(/"/g,'""')+'"';}
  function csv(){
    const out=[['key','email','outcome','field','reason'].join(',')];
    for(const r of rows){if(!r.hidden)out.push([...r.cells].map(c=>cell(c.textContent)).join(','));}
    return out.join('\\r\\n')+'\\r\\n';
  }
  function download(){
    const sandbox=(window.frameElement&&window.frameElement.getAttribute('sandbox'))||null;
    // A frame without allow-downloads (Airflow 3.1/3.2) cannot save a file: the parent page does.
    const doc=(sandbox!==null&&!/allow-downloads/.test(sandbox))?window.parent.document:document;
    const win=doc.defaultView||window;
    const url=win.URL.createObjectURL(new win.Blob([csv()],{type:'text/csv'}));
    const a=doc.createElement('a');a.href=url;a.download=document.body.dataset.filename;
    doc.body.appendChild(a);a.click();a.remove();setTimeout(()=>win.URL.revokeObjectURL(url),1000);
  }
  outcome.addEventListener('change',apply);fieldSel.addEventListener('change',apply);
  search.addEventListener('input',apply);document.getElementById('download').addEventListener('click',download);
  apply();
})();
"""


def _card(label: str, value: object, css: str = "") -> str:
    number, text = escape(str(value)), escape(label)
    return f'<div class="card {css}"><div class="n">{number}</div><div class="l">{text}</div></div>'


def _table(head: tuple[str, ...], body: list[tuple[object, ...]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    trs = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{v}</td>' if isinstance(v, (int, float)) else f"<td>{escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in body
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _safe_link(url: str | None) -> str:
    if not url or urlsplit(url).scheme not in ("http", "https"):
        return ""
    return f' · <a href="{escape(url)}" target="_blank" rel="noopener">Store customers</a>'


def _parts(view: RunView) -> str:
    if not view.parts:
        return ""
    words = sorted({word for counts in view.parts.values() for word in counts})
    body = [(name, *(counts.get(w, 0) for w in words)) for name, counts in sorted(view.parts.items())]
    return "<h2>Parts</h2>" + _table(("part", *words), body)


def _figures(view: RunView) -> str:
    req = [(kind, n) for kind, n in view.requests.items() if n]
    figures = [
        ("duration", _seconds(view.duration_s)),
        ("rows per second", "-" if view.rows_per_s is None else f"{view.rows_per_s:g}"),
        ("requests per row", f"{view.requests_per_row:g}"),
        ("429 answers", "-" if view.throttled is None else str(view.throttled)),
        ("waited for the quota", _seconds(view.quota_wait_s)),
    ]
    return (
        '<h2>Requests and time</h2><div class="cards">'
        + "".join(_card(label, value) for label, value in figures)
        + "</div>"
        + (_table(("request kind", "count"), [(k, n) for k, n in req]) if req else "")
    )


def _rows(view: RunView) -> str:
    fields = sorted({row.field for row in view.rows if row.field})
    outcomes = [*LISTED_OUTCOMES, *sorted({row.outcome for row in view.rows} - set(LISTED_OUTCOMES))]
    where = ROWS_SOURCES.get(view.rows_source, "the task's summary (XCom)")
    trs = "".join(
        f'<tr data-outcome="{escape(r.outcome)}" data-field="{escape(r.field)}" '
        f'data-key="{escape(r.key)}" data-email="{escape(r.email)}">'
        f"<td>{escape(r.key)}</td><td>{escape(r.email)}</td><td>{escape(r.outcome)}</td>"
        f"<td>{escape(r.field)}</td><td>{escape(r.reason)}</td></tr>"
        for r in view.rows
    )
    options = "".join(f'<option value="{escape(o)}">{escape(o)}</option>' for o in outcomes)
    field_options = "".join(f'<option value="{escape(f)}">{escape(f)}</option>' for f in fields)
    return (
        f'<h2>Rejected and failed rows</h2><div class="muted">From {where}'
        + ("" if view.rows_complete else ": the first rows only")
        + ".</div>"
        + '<div class="tools"><label>Outcome <select id="outcome"><option value="">all</option>'
        + options
        + '</select></label><label>Field <select id="field"><option value="">all</option>'
        + field_options
        + '</select></label><input id="search" type="search" placeholder="Search key or e-mail" size="28">'
        + '<button id="download" type="button">Download CSV</button>'
        + '<span id="shown" class="muted"></span></div>'
        + '<table id="rows"><thead><tr><th>key</th><th>e-mail</th><th>outcome</th><th>field</th>'
        + f"<th>reason</th></tr></thead><tbody>{trs}</tbody></table>"
    )


def render_page(view: RunView, *, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """Return the whole HTML page of one task instance's sync run."""
    colour, meaning = _BANNERS.get(view.status, ("#59636e", "The run has no summary to show."))
    title = f"{dag_id} / {task_id}" + (f" [{map_index}]" if map_index >= 0 else "")
    counts = "".join(_card(outcome, view.counts[outcome], outcome) for outcome in OUTCOMES)
    notes = "".join(f'<div class="note">{escape(n)}</div>' for n in view.notes)
    common = (
        f'<div class="note">Every rejected row has the same reason: {escape(view.common_rejection)}</div>'
        if view.common_rejection
        else ""
    )
    filename = f"{dag_id}-{task_id}-{run_id}-rows.csv"
    filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>BigCommerce sync · {escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body data-filename="{escape(filename)}"><h1>BigCommerce sync · {escape(title)}</h1>'
        f'<div class="muted">Run {escape(run_id)}'
        + (f" · mode {escape(view.mode)}" if view.mode else "")
        + _safe_link(view.customers_url)
        + "</div>"
        + f'<div class="banner" id="status" style="background:{colour}"><b>{escape(view.status)}</b> · '
        + f"{view.total} rows · {escape(meaning)}</div>"
        + notes
        + common
        + f'<div class="cards" id="counts">{counts}</div>'
        + _parts(view)
        + _figures(view)
        + _rows(view)
        + f"<script>{_SCRIPT}</script></body></html>"
    )
