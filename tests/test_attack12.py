"""Issue 12 attack: what a hostile tester broke in the frames, the plots and --plot, each pinned here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import imsvalog
from imsvalog.cli import app
from imsvalog.frames import concat, read_log_imss, read_maillog, read_msgtra, read_polevt

from .conftest import FIXTURES

IID = "BBBBBBBB-0000-4000-8000-000000000001"


def _scan(tid: int | str, count: int | str, ips: list[str], fired: bool = True) -> list[str]:
    head = f"2024/03/14 08:30:00 GMT+09:00 [777:{tid}] "
    return [head + line for line in (
        "Info: Accept connection from client [127.0.0.1]",
        f">>> Message-ID : <{IID}@x.example>",
        "Running ruleId:12; version:2, numFilters:1, numActions:1",
        "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from a (b [198.51.100.66]) "
        "by imsva.example.com (Postfix) with ESMTP id 6E6E6E6E6E; Thu, 14 Mar 2024 08:30:00 +0000",
        "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:198.51.100.66",
        f"[DEBUG]AntiSpoofFilter: Get {count} IP address from received header. {','.join(ips)},",
        "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered." if fired
        else "filter AntiSpoofFilter isTriggered returned false",
        "Final action 0: " + ("QuarantineAction" if fired else "DeliverAction"),
        f"Scan finished for {IID}, scanned 1 times",
    )]


def _event() -> str:
    return "\t".join([
        "2024/03/14 08:30:00 GMT+09:00", IID, "a@example.com", "b@example.com", "s", "1", "Spoofing message",
        "0000010000000000", "", "1.0", "01000000000000000", "0.000000", "0", "0", "", "", "", "", "1", "15", "0", "0",
        f"<{IID}@x.example>", "0",
    ])


def _case(folder: Path, lines: list[str]) -> Path:
    folder.mkdir()
    (folder / "log.imss.20240314.0001").write_text("\n".join(lines) + "\n")
    (folder / "polevt.imss.20240314.0001").write_text(_event() + "\n")
    return folder


# 1 ---------------------------------------------------------------------------


def test_integers_beyond_int64_are_rejects_naming_the_field_and_every_frame_builds(tmp_path: Path) -> None:
    """Before: `Get 10000000000000000000 IP` made Correlation.frame and sessions_frame fail with "TypeError:
    cannot safely cast non-equivalent uint64 to int64", read_log_imss with OverflowError (also a 20-digit tid),
    and maillog `size=99999999999999999999` broke read_maillog."""
    case = _case(tmp_path / "big", _scan(1, "10000000000000000000", ["198.51.100.66"]))
    rejects: list[imsvalog.Reject] = []
    df = read_log_imss(case, rejects)
    assert len(df) + len(rejects) == 9
    assert [r.reason for r in rejects] == [
        "IP count (Get N IP) 10000000000000000000 does not fit a signed 64-bit integer (at most 9223372036854775807)"
    ]
    assert "ip_list" not in set(df["shape"])
    c = imsvalog.correlate(case)
    assert len(c.frame) == 1 and c.summary.rejects == 1
    assert str(c.sessions_frame()["logged_count"].dtype) == "Int64"

    tid = _case(tmp_path / "tid", _scan("99999999999999999999", 1, ["198.51.100.66"]))
    rejects = []
    assert len(read_log_imss(tid, rejects)) == 0 and len(rejects) == 9
    assert rejects[0].reason.startswith("tid 99999999999999999999 does not fit a signed 64-bit integer")
    assert len(imsvalog.correlate(tid).frame) == 1  # the policy event, without its trace

    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "maillog").write_text(
        "Mar 14 08:30:00 imsva postfix/qmgr[2222]: 935162C03E: from=<a@example.com>, size=99999999999999999999, nrcpt=1 (queue active)\n"
        "Mar 14 08:30:00 imsva postfix/qmgr[2222]: 935162C03F: from=<a@example.com>, size=9223372036854775807, nrcpt=1 (queue active)\n"
    )
    rejects = []
    ml = read_maillog(tmp_path / "ml", rejects)
    assert ml["size"].tolist() == [9223372036854775807] and str(ml["size"].dtype) == "Int64"
    assert len(rejects) == 1 and rejects[0].reason.startswith("size= 99999999999999999999 does not fit")


# 2 ---------------------------------------------------------------------------


def test_output_file_that_plot_would_write_is_refused(tmp_path: Path) -> None:
    """Before: `correlate fixtures/two-days -o DIR/verdicts.png --plot DIR` exited 0 and replaced the report
    with the verdicts figure."""
    report = tmp_path / "verdicts.png"
    r = CliRunner().invoke(app, ["correlate", str(FIXTURES / "two-days"), "-o", str(report), "--plot", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert "verdicts.png" in r.output and "output folder" in r.output
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


# 4 ---------------------------------------------------------------------------


def test_empty_inputs_give_empty_frames_with_every_column_and_dtype(tmp_path: Path) -> None:
    """Before: every reader, sessions_frame, Correlation.frame and plot.trigger_frame gave a 0x0 frame
    on empty files, so `df["time"]` raised KeyError."""
    from imsvalog import plot

    for name in ("log.imss.20240314.0001", "polevt.imss.20240314.0001", "msgtra.imss.20240314.0001", "maillog"):
        (tmp_path / name).write_text("")
    full = FIXTURES / "busy-day"
    for reader in (read_log_imss, read_polevt, read_msgtra, read_maillog):
        empty, busy = reader(tmp_path), reader(full)
        assert empty.shape[0] == 0
        assert set(busy.columns) - {"offset"} <= set(empty.columns), reader.__name__
        for col in busy.columns:
            if col in empty.columns and not str(busy[col].dtype).startswith("datetime64"):
                assert str(empty[col].dtype) == str(busy[col].dtype), (reader.__name__, col)
                if isinstance(busy[col].dtype, pd.CategoricalDtype):
                    assert empty[col].cat.categories.dtype == busy[col].cat.categories.dtype, col
        times = [col for col in busy.columns if str(busy[col].dtype).startswith("datetime64")]
        assert times and all(str(empty[col].dtype) == "datetime64[us, UTC]" for col in times)
    c = imsvalog.correlate(tmp_path)
    full_c = imsvalog.correlate(FIXTURES / "two-days")
    assert list(c.frame.columns) == list(full_c.frame.columns)
    assert list(c.sessions_frame().columns) == list(full_c.sessions_frame().columns)
    assert list(imsvalog.sessions_frame(tmp_path).columns) == list(full_c.sessions_frame().columns)
    assert list(plot.trigger_frame(c).columns) == ["time", "untrusted_address", "internal_id", "sender"]
    assert str(c.frame["logged_count"].dtype) == "Int64"


# 5 ---------------------------------------------------------------------------


def test_concat_of_correlation_frames_from_two_cases_keeps_categoricals() -> None:
    """Before: concat of the two-days and two-appliances frames raised "TypeError: dtype of categories must
    be the same" (an all-missing `appliance` column had float64 categories)."""
    a = imsvalog.correlate(FIXTURES / "two-days").frame
    b = imsvalog.correlate(FIXTURES / "two-appliances").frame
    both = concat([a, b], ignore_index=True)
    assert len(both) == len(a) + len(b)
    assert isinstance(both["appliance"].dtype, pd.CategoricalDtype)
    for df in (a, b):
        for col in df.columns:
            if isinstance(df[col].dtype, pd.CategoricalDtype):
                assert df[col].cat.categories.dtype != "float64", col


# 7 ---------------------------------------------------------------------------


def test_a_logged_token_that_is_no_address_is_unknown_membership_not_a_crash(tmp_path: Path) -> None:
    """Before: `Get 2 IP address from received header. 198.51.100.66,unknown,` with --trusted (or
    --what-if-trusted) ended in exit 3: ValueError 'unknown' does not appear to be an IPv4 or IPv6 address."""
    case = _case(tmp_path / "tok", _scan(1, 2, ["198.51.100.66", "unknown"]))
    r = CliRunner().invoke(app, ["correlate", str(case), "-t", "198.51.100.66", "--what-if-trusted", "192.0.2.1",
                                 "-f", "json"])
    assert r.exit_code == 0, r.output
    c = imsvalog.correlate(case, trusted=imsvalog.TrustedList.parse(["198.51.100.66"]))
    row = c.rows[0]
    assert any("'unknown', which is not an IP address" in f.text for f in row.findings)
    assert row.fired_on == []  # 198.51.100.66 is trusted; 'unknown' is neither trusted nor untrusted
    changes = c.what_if(imsvalog.TrustedList.parse(["198.51.100.66", "192.0.2.1"]))
    assert [(ch.before, ch.after) for ch in changes] == [("fires", "unknown")]  # never "prevented"


# 6 and 8 ---------------------------------------------------------------------


def _hostile_labels_case(folder: Path) -> Path:
    """Four fired scans: 40 addresses in one list, hostile tokens, a 300-char token, mathtext; hostile rule names."""
    folder.mkdir()
    lists = [
        [f"198.51.100.{i}" for i in range(1, 41)],
        ["_hidden", "$\\frac{1}{2}$", "a\\$b$", "\u202eevil", "<script>"],
        ["x" * 300],
        ["\\mathrm{x}", "$", "$$", "^_^"],
    ]
    rules = ["_rule", "$\\alpha$ rule", "<b>rule</b>\u202e", "r" * 200]
    lines, events = [], []
    for n, ips in enumerate(lists):
        iid = f"CCCCCCCC-0000-4000-8000-00000000000{n}"
        lines += [x.replace("08:30:00", f"0{n}:30:00").replace(IID, iid) for x in _scan(n + 1, len(ips), ips)]
        events.append(_event().replace("08:30:00", f"0{n}:30:00").replace(IID, iid).replace("Spoofing message", rules[n]))
    (folder / "log.imss.20240314.0001").write_text("\n".join(lines) + "\n")
    (folder / "polevt.imss.20240314.0001").write_text("\n".join(events) + "\n")
    return folder


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig


def test_trigger_figure_legend_stays_on_the_figure_with_every_group_shown(tmp_path: Path) -> None:
    """Before: the legend of 40 joined addresses / a 300-char token ran off the figure, and the group
    starting with `_hidden` had no legend entry (matplotlib hides labels that start with `_`)."""
    from imsvalog import plot

    c = imsvalog.correlate(_hostile_labels_case(tmp_path / "hl"), trusted=imsvalog.TrustedList.parse(["192.0.2.1"]))
    fig = _drawn(plot.triggers_over_time(c))
    ax = fig.axes[0]
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert len(texts) == 4
    assert "198.51.100.1 + 39 more addresses" in texts and any(t.startswith(" _hidden") for t in texts)
    assert all(len(t) <= plot.LABEL_WIDTH for t in texts)
    box = legend.get_window_extent()
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 + 0.5
    events = read_polevt(tmp_path / "hl")
    pe = _drawn(plot.policy_events(events))
    ticks = [t.get_text() for t in pe.axes[0].get_yticklabels()]
    assert len(ticks) == 4 and all(len(t) <= plot.LABEL_WIDTH for t in ticks) and " _rule" in ticks
    assert all(pe.bbox.x0 <= t.get_window_extent().x0 for t in pe.axes[0].get_yticklabels())  # not cut off
    top = _drawn(plot.top_untrusted(c, n=10))
    assert "(top 10; 40 more addresses not shown)" in top.axes[0].get_title()


def test_time_axes_name_each_day_counts_are_whole_and_bars_have_headroom() -> None:
    """Before: the two-days axis said only "2024-Jun-04" in its corner while its left half was June 3; the
    what-if's tallest bar touched the frame; titles said "1 messages"."""
    from imsvalog import plot

    c = imsvalog.correlate(FIXTURES / "two-days", trusted=imsvalog.TrustedList.parse(["198.51.100.25", "198.51.100.26"]))
    proposed = imsvalog.TrustedList.parse(["198.51.100.25", "198.51.100.26", "198.51.100.40", "203.0.113.45", "192.0.2.77"])
    for fig in (_drawn(plot.triggers_over_time(c)), _drawn(plot.what_if(c, proposed))):
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert sum("Mon 03 Jun" in t for t in labels) == 1 and sum("Tue 04 Jun" in t for t in labels) == 1, labels
        assert ax.xaxis.get_offset_text().get_text() == ""
        assert all(float(v).is_integer() for v in ax.get_yticks())
        tallest = max(p.get_y() + p.get_height() for p in ax.patches)
        assert ax.get_ylim()[1] >= tallest * 1.1
    one = imsvalog.correlate(FIXTURES / "kb000239719")
    assert "fired on 1 message (per hour)" in plot.triggers_over_time(one).axes[0].get_title()
