"""Objects that render in Jupyter: escaped HTML and the DataFrames behind it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import imsvalog
from imsvalog.display import MAX_ROWS

from .conftest import FIXTURES


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)

    def handle_data(self, data) -> None:
        self.text.append(data)


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def test_correlation_html_escapes_hostile_log_text() -> None:
    c = imsvalog.correlate(FIXTURES / "hostile")
    html = c._repr_html_()
    parsed = _parse(html)
    assert parsed.tags <= {"p", "b", "i", "code", "table", "thead", "tbody", "tr", "th", "td"}
    text = "".join(parsed.text)
    assert "\x1b" not in html and "\u202e" not in html
    assert "\\x1b[31mURGENT" in text and "\\u202eexe.pdf" in text  # shown, inert
    assert '=HYPERLINK("http://evil.example/","click")' in text
    assert "1 linked, 0 ambiguous" in text


def test_row_html_keeps_the_explanation_lines_and_escapes_headers() -> None:
    row = imsvalog.correlate(FIXTURES / "hostile").rows[0]
    html = row._repr_html_()
    assert "\x07" not in html and "<pre" in html
    pre = re.search(r"<pre[^>]*>(.*)</pre>", html, re.S).group(1)
    assert pre.count("\n") == row.explanation.count("\n")
    assert "evil\\x1b]0;pwned\\x07.example" in _parse(html).text[1]


def test_row_frame_is_the_explanation_header_by_header() -> None:
    c = imsvalog.correlate(FIXTURES / "busy-day", trusted=imsvalog.TrustedList.parse(["198.51.100.25"]))
    row = next(r for r in c.rows if r.recomputed is not None and len(r.recomputed.headers) >= 3)
    df = row.to_frame()
    assert list(df["index"]) == list(range(1, len(row.recomputed.headers) + 1))
    assert df["counted"].dropna().tolist() == row.recomputed.counted
    assert set(df.loc[df["counted"].notna(), "in_imsva_list"]) <= {True, False}
    assert str(df["skip_reason"].dtype) == "category" and str(df["in_imsva_list"].dtype) == "boolean"
    assert set(df["skip_reason"].dropna()) <= {"private", "loopback", "link-local", "special-purpose", "no-address",
                                               "duplicate", "unparsable"}


def test_long_correlations_show_their_first_rows_and_say_how_many_more() -> None:
    c = imsvalog.correlate(FIXTURES / "two-days")
    html = c._repr_html_()
    assert html.count("<tr>") == MAX_ROWS + 1  # heading row + shown rows
    assert f"{len(c.rows) - MAX_ROWS} more rows" in html
    assert c.to_frame().equals(c.frame) and len(c.to_frame()) == len(c.rows)


def test_trace_timeline_renders_escaped_and_has_a_frame() -> None:
    t = imsvalog.trace("DEADBEEF-0000-4000-8000-00000000BEEF", FIXTURES / "hostile")
    html = t._repr_html_()
    assert "\x1b" not in html and "\u202e" not in html and "\x07" not in html
    parsed = _parse(html)
    assert parsed.tags <= {"p", "b", "i", "code", "table", "thead", "tbody", "tr", "th", "td"}
    assert "\\x1b[31mURGENT" in "".join(parsed.text)
    df = t.to_frame()
    assert len(df) == len(t.lines) and list(df["line"]) == [ln.line for ln in t.lines]
    assert {c: str(d) for c, d in df.dtypes.items()} == {
        "stage": "category", "time": "datetime64[us, UTC]", "file": "category", "line": "Int64", "link": "string",
        "text": "string",
    }
    assert repr(t) == f"<Trace of DEADBEEF-0000-4000-8000-00000000BEEF (internal-id): {len(t.lines)} lines>"
