"""Postfix long queue IDs (``enable_long_queue_ids = yes``): case-sensitive base-52 text, next to short hex ones.

Regression (attack on issue 13, item 1b): trace upper-cased every queue ID, so ``4XyZ1m2nQpz8abc`` became
``4XYZ1M2NQPZ8ABC``, matched no maillog line, and a trace by internal ID showed "Postfix in 1" (only the line found
through the Message-ID); a trace by the long queue ID found nothing.
"""

from __future__ import annotations

import gzip
import shutil

import pytest

from imsvalog.correlation import correlate
from imsvalog.grammars.maillog import queue_key
from imsvalog.timeline import id_kind, trace

from .conftest import FIXTURES
from .test_correlate import _pe

A, B = "4XyZ1m2nQpz8abc", "4YbC2d3fGh9jkl"  # first pass (to the scanner), second pass (handed back)
IID = "6B1E2C3D-4F50-4A61-8B72-9C8D7E6F5A41"
MID = "20240315090001.77@mx1.example.org"


def _maillog(a: str, b: str) -> list[str]:
    p = "Mar 15 10:00:0{} imsva postfix/{}: "
    return [
        p.format(0, "smtpd[24750]") + f"{a}: client=mx1.example.org[203.0.113.77], sasl_method=PLAIN, sasl_username=j",
        p.format(0, "cleanup[24760]") + f"{a}: message-id=<{MID}>",
        p.format(0, "qmgr[1201]") + f"{a}: from=<j@example.org>, size=4211, nrcpt=1 (queue active)",
        p.format(1, "smtp[24801]") + f"{a}: to=<ceo@example.com>, relay=localhost[127.0.0.1]:10025, delay=0.9, "
        f"delays=0.1/0/0.1/0.7, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {b})",
        p.format(1, "qmgr[1201]") + f"{a}: removed",
        p.format(1, "smtpd[24812]") + f"{b}: client=localhost[127.0.0.1]",
        p.format(1, "cleanup[24760]") + f"{b}: message-id=<{MID}>",
        p.format(1, "qmgr[1201]") + f"{b}: from=<j@example.org>, size=4790, nrcpt=1 (queue active)",
        p.format(2, "smtp[24813]") + f"{b}: to=<ceo@example.com>, relay=192.0.2.21[192.0.2.21]:25, delay=0.6, "
        "delays=0.1/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.6.0 Ok)",
        p.format(2, "qmgr[1201]") + f"{b}: removed",
    ]


def _case(tmp_path, received_id: str = A):
    p = "2024/03/15 10:00:01 GMT+01:00 [4242:139871] "
    imss = [
        p + "Info: Accept connection from client [127.0.0.1]",
        p + f">>> Message-ID : <{MID}>",
        p + "Running ruleId:12; version:2, numFilters:1, numActions:1",
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader: parse received header string:from mx1.example.org "
        f"(mx1.example.org [203.0.113.77])\tby imsva.example.com (Postfix) with ESMTP id {received_id}\tfor "
        "<ceo@example.com>; Fri, 15 Mar 2024 10:00:01 +0100 (CET)",
        p + "[DEBUG]AntiSpoofFilter::parseSendIPFromOneRecvHeader:get matched string:203.0.113.77",
        p + "[DEBUG]AntiSpoofFilter: Get 1 IP address from received header. 203.0.113.77,",
        p + "[DIAGNOSTIC]AntiSpoofFilter: Not all sender IP in Trusted Internal IP List. Triggered.",
        p + "Final action 0: QuarantineAction",
        p + f"Scan finished for {IID}, scanned 1 times",
    ]
    (tmp_path / "log.imss.20240315.0001").write_text("".join(x + "\n" for x in imss))
    (tmp_path / "polevt.imss.20240315.0001").write_text(_pe("10:00:01", IID, f"<{MID}>").replace("2024/03/12", "2024/03/15") + "\n")
    # a different queue whose ID differs only in case: another message, never part of this one
    decoy = [x.replace(A, A.lower()).replace(B, B.swapcase()).replace(MID, "other@example.net") for x in _maillog(A, B)]
    (tmp_path / "maillog-20240316").write_text("".join(x + "\n" for x in _maillog(A, B) + decoy))
    return tmp_path


def test_queue_key_compares_short_hex_ids_case_insensitively_and_long_ones_as_they_are() -> None:
    assert queue_key("935162c03e") == queue_key("935162C03E") == "935162C03E"
    assert queue_key(A) == A and queue_key(A.lower()) != queue_key(A)
    assert id_kind(A) == "queue-id"


@pytest.mark.parametrize("query", [IID, f"<{MID}>", MID, A, B])
def test_trace_reaches_every_postfix_line_of_both_passes(tmp_path, query: str) -> None:
    t = trace(query, [_case(tmp_path)])
    mail = [(ln.stage, ln.line) for ln in t.lines if ln.file.endswith("maillog-20240316")]
    assert sorted(mail, key=lambda x: x[1]) == [("postfix-in", n) for n in range(1, 6)] + [("postfix-out", n) for n in range(6, 11)]
    assert t.queue_ids == [A, B]  # as logged, not upper-cased
    assert t.internal_ids == [IID] and t.message_ids == [MID]
    assert t.stages["scan"] == 9 and t.stages["policy"] == 1
    links = {ln.line: ln.link for ln in t.lines if ln.file.endswith("maillog-20240316")}
    assert links[1] == f"queue ID {A}" and links[10] == f"queue ID {B}"


def test_a_long_queue_id_in_another_case_is_another_queue(tmp_path) -> None:
    t = trace(A.lower(), [_case(tmp_path)])
    assert {ln.line for ln in t.lines} == set(range(11, 21))  # the decoy: both its passes, none of the message
    assert t.internal_ids == [] and t.queue_ids == [A.lower(), B.swapcase()]


def test_the_scan_is_found_by_the_long_queue_id_of_its_received_header(tmp_path) -> None:
    case = _case(tmp_path)
    (case / "polevt.imss.20240315.0001").unlink()
    lines = (case / "log.imss.20240315.0001").read_text().splitlines()
    (case / "log.imss.20240315.0001").write_text("".join(x + "\n" for x in lines if ">>> Message-ID" not in x
                                                         and "Scan finished" not in x))
    t = trace(A, [case])
    assert t.stages["scan"] == 7 and any(n.startswith(f"scan 1: queue ID {A}:") for n in t.notes)


def test_correlate_links_on_a_long_queue_id_only_in_its_own_case(tmp_path) -> None:
    (tmp_path / "same").mkdir()
    (tmp_path / "case").mkdir()
    (row,) = correlate(_case(tmp_path / "same")).rows
    assert row.status == "linked" and "queue_id" in row.link.basis
    assert f"Postfix queue ID {A} from Received header 1 is the Postfix queue that maillog gives" in row.link.detail
    (other,) = correlate(_case(tmp_path / "case", A.swapcase())).rows
    assert other.status == "linked" and "queue_id" not in other.link.basis  # still linked by internal ID / Message-ID


def test_busy_day_with_long_queue_ids_gives_the_same_timeline(tmp_path) -> None:
    """The shipped fixture with its two short queue IDs turned into long ones: the same lines, both passes."""
    for f in (FIXTURES / "busy-day").iterdir():
        shutil.copy(f, tmp_path / f.name)
    for name in ("maillog-20240313", "msgtra.imss.20240312.0001"):
        text = (tmp_path / name).read_text()
        (tmp_path / name).write_text(text.replace("5B5B5B5B5B", A).replace("6C6C6C6C6C", B))
    with gzip.open(tmp_path / "log.imss.20240312.0002.gz") as g:
        assert b"5B5B5B5B5B" not in g.read()
    want = trace("4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA", [FIXTURES / "busy-day"])
    for query in ("4C4C4C4C-5D5D-46E6-97F7-A8A8B9B9CACA", A, B):
        got = trace(query, [tmp_path])
        assert [(ln.stage, ln.line) for ln in got.lines] == [(ln.stage, ln.line) for ln in want.lines]
        assert got.queue_ids == [A, B] and got.stages["postfix-in"] == 5 and got.stages["postfix-out"] == 5
