"""Wrapped prose (notes on stderr, --explain) on a narrow terminal breaks a long file path after a '/', never
mid-word, unless one part between slashes is longer than a line; nothing is dropped and every line fits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from imsvalog.render import cells, wrap_prose

PATH = "/home/support/tickets/ACME-Corp-Japan/2019-04-30/bundle/log.imss.20190430.0001:12"


def _words(text: str) -> str:
    return "".join(text.split())


def test_a_long_path_breaks_after_a_slash_at_40_columns() -> None:
    note = f"trace: scan 1: starts before the first log.imss given {PATH} and more words here"
    out = wrap_prose(note, 40).split("\n")
    assert all(cells(ln) <= 40 for ln in out)
    assert _words("".join(out)) == _words(note)
    # every line holding part of the path ends at a slash or at the path's end
    parts = [ln.strip().split()[-1] for ln in out if "/" in ln]
    assert parts[:-1] and all(p.endswith("/") for p in parts[:-1])
    assert "log.imss.20190430.0001:12" in "\n".join(out)  # the file name whole


def test_wide_characters_in_the_path_break_at_a_slash_too() -> None:
    note = "note: 日本語 /home/support/チケット/ACME-Corp-Japan/2019-04-30/bundle/log.imss.20190430.0001:12 end"
    out = wrap_prose(note, 40).split("\n")
    assert all(cells(ln) <= 40 for ln in out)
    assert [ln.strip().split()[-1][-1] for ln in out if "/" in ln][:2] == ["/", "/"]
    assert any(ln.strip().startswith("log.imss.20190430.0001:12") for ln in out)


segment = st.text(alphabet="abcdefghij.-_0123456789", min_size=1, max_size=12)


@given(st.lists(segment, min_size=2, max_size=10), st.integers(30, 60), st.text(alphabet="xyz ", max_size=40))
def test_paths_break_only_after_slashes_when_each_part_fits(parts: list[str], width: int, before: str) -> None:
    path = "/" + "/".join(parts)
    note = f"NOTE: {before} {path} END"
    out = wrap_prose(note, width).split("\n")
    assert all(cells(ln) <= width for ln in out)
    assert _words("".join(out)) == _words(note)
    is_piece = lambda w: w not in ("NOTE:", "END") and not set(w) <= set("xyz")  # noqa: E731
    for ln, nxt in zip(out, out[1:]):
        last, first = ln.split()[-1], nxt.split()[0]
        if is_piece(last) and is_piece(first):  # the path goes on on the next line: broken after a slash
            assert last.endswith("/"), out
