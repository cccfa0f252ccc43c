"""``kexue reproduce``: run every topic's headline experiment into one self-contained HTML report.

Each topic ``kexue.<topic>.reproduce`` exposes ``reproduce(out_dir: Path, quick: bool) -> Section``.
The report calls them one after the other (a topic that raises is shown as failed, the others
still run; a topic whose data set is missing is shown as skipped with the way to get it) and
writes ``index.html`` (figures inlined, no external scripts or fonts) and ``report.json``.

>>> s = Section("demo", "A demo section")
>>> _ = s.check("pi to 3 digits", abs(3.14159 - 3.142) < 1e-3, measured="3.14159", expected="3.142")
>>> s.passed, s.failed
(1, 0)
"""

from __future__ import annotations

import base64
import html
import importlib
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import TOPICS, __version__
from . import data as kdata
from .errors import DataMissingError
from .utils import atomic_write, atomic_write_json


@dataclass
class Check:
    """One pass/fail comparison against an article's or an anchor's number."""

    name: str
    passed: bool
    measured: str = ""
    expected: str = ""


@dataclass
class Table:
    """A small table: a title, column headers, rows of cells (any value, shown with ``str``)."""

    title: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class Figure:
    """A picture file (PNG, JPEG or SVG) with its caption; inlined into the HTML."""

    path: Path
    caption: str = ""


@dataclass
class Section:
    """What a topic's ``reproduce`` returns: text, figures, tables and checks."""

    topic: str
    title: str
    summary: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | failed | skipped
    error: str | None = None
    seconds: float = 0.0

    def check(self, name: str, passed: bool, measured: Any = "", expected: Any = "") -> bool:
        """Record a check and return whether it passed."""
        self.checks.append(Check(name, bool(passed), str(measured), str(expected)))
        return bool(passed)

    def figure(self, path: str | Path, caption: str = "") -> None:
        """Add a figure file."""
        self.figures.append(Figure(Path(path), caption))

    def table(self, title: str, headers: list[str], rows: list[list[Any]]) -> None:
        """Add a table."""
        self.tables.append(Table(title, headers, rows))

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def failed(self) -> int:
        return sum(not c.passed for c in self.checks)


def data_section() -> Section:
    """The data-set table: every known set, where it was found, and how complete it is."""
    s = Section("data", "Data sets")
    rows = []
    for name, sp in kdata.registry().items():
        loc = kdata.locate(name)
        rows.append([name, loc.status, str(loc.root or "—"), f"{len(loc.present)}/{len(sp.files)}", sp.licence])
    s.table("Data sets (lookup: $KEXUE_DATA, ~/.cache/kexue, system folders)",
            ["data set", "status", "found in", "files", "licence"], rows)
    s.summary = "Where each data set was found on this machine. `kexue data get NAME` downloads a missing one."
    return s


def run_topic(topic: str, out_dir: Path, quick: bool) -> Section | None:
    """Run one topic's ``reproduce``; ``None`` if the topic has none yet."""
    try:
        mod = importlib.import_module(f"kexue.{topic}.reproduce")
    except ModuleNotFoundError as e:
        if e.name in (f"kexue.{topic}", f"kexue.{topic}.reproduce"):
            return None
        return Section(topic, topic, status="failed", error=traceback.format_exc(limit=-3))
    start = time.perf_counter()
    try:
        topic_dir = out_dir / topic
        topic_dir.mkdir(parents=True, exist_ok=True)
        section = mod.reproduce(topic_dir, quick)
    except DataMissingError as e:
        section = Section(topic, topic, status="skipped", error=f"needs data: {e}")
    except Exception:  # a topic's bug must not stop the others
        section = Section(topic, topic, status="failed", error=traceback.format_exc(limit=-6))
    section.seconds = time.perf_counter() - start
    return section


def reproduce(out_dir: str | Path = "report", quick: bool = False, only: list[str] | None = None,
              on_topic=None) -> list[Section]:
    """Run the topics (all, or those in ``only``) and write ``out_dir/index.html``; return the sections.

    ``on_topic(topic)`` is called before each topic starts (for progress messages).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = [data_section()]
    for topic in TOPICS:
        if only and topic not in only:
            continue
        if on_topic:
            on_topic(topic)
        if (section := run_topic(topic, out_dir, quick)) is not None:
            sections.append(section)
    atomic_write(out_dir / "index.html", render_html(sections, quick))
    atomic_write_json(out_dir / "report.json", {"version": __version__, "quick": quick,
                                                "sections": [summary_row(s) | {"checks": [asdict(c) for c in s.checks]}
                                                             for s in sections]})
    return sections


def summary_row(s: Section) -> dict:
    """The summary line of a section: topic, status, checks passed/failed, seconds."""
    return {"topic": s.topic, "status": s.status, "passed": s.passed, "failed": s.failed,
            "seconds": round(s.seconds, 2), "error": s.error}


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;
     padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}.ok{color:#11772d;font-weight:600}.failed{color:#b00020;font-weight:600}
.skipped{color:#8a6d00;font-weight:600}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.9em;color:#555}pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
"""


def _img(fig: Figure) -> str:
    if not fig.path.is_file():
        return f"<p class=failed>missing figure {html.escape(str(fig.path))}</p>"
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
            ".gif": "image/gif"}.get(fig.path.suffix.lower(), "application/octet-stream")
    b64 = base64.b64encode(fig.path.read_bytes()).decode()
    return (f'<figure><img src="data:{mime};base64,{b64}" alt="{html.escape(fig.caption)}">'
            f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>")


def _table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in t.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in t.rows)
    return f"<h3>{html.escape(t.title)}</h3><table><tr>{head}</tr>{body}</table>"


def render_html(sections: list[Section], quick: bool) -> str:
    """The whole report as one self-contained HTML page."""
    esc = html.escape
    rows = "".join(
        f"<tr><td><a href='#{esc(s.topic)}'>{esc(s.topic)}</a></td><td class={s.status}>{s.status}</td>"
        f"<td>{s.passed}</td><td>{s.failed}</td><td>{s.seconds:.1f}</td></tr>" for s in sections)
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>kexue reproduce</title>"
             f"<style>{_CSS}</style></head><body><h1>kexue reproduce</h1>"
             f"<p>kexue {esc(__version__)} · {'quick' if quick else 'full'} mode · "
             f"{time.strftime('%Y-%m-%d %H:%M:%S')}</p>"
             f"<table><tr><th>topic</th><th>status</th><th>checks passed</th><th>checks failed</th>"
             f"<th>seconds</th></tr>{rows}</table>"]
    for s in sections:
        parts.append(f"<h2 id='{esc(s.topic)}'>{esc(s.title)} <span class={s.status}>[{s.status}]</span></h2>")
        if s.summary:
            parts.append(f"<p>{esc(s.summary)}</p>")
        if s.error:
            parts.append(f"<pre>{esc(s.error)}</pre>")
        if s.checks:
            parts.append(_table(Table("Checks", ["check", "result", "measured", "expected"],
                                      [[c.name, "pass" if c.passed else "FAIL", c.measured, c.expected]
                                       for c in s.checks])).replace("<td>FAIL</td>", "<td class=failed>FAIL</td>"))
        parts.extend(_table(t) for t in s.tables)
        parts.extend(_img(f) for f in s.figures)
        parts.extend(f"<p>{esc(n)}</p>" for n in s.notes)
    parts.append("</body></html>\n")
    return "\n".join(parts)
