"""The model's verdict without a trusted list is a condition on the list; read with what IMSVA did (when known) it
must not read as a forecast against IMSVA's own outcome (stop 20: 'It fires if any of X is missing from the list
(and the domains match)' after 'Yet IMSVA fired' although the domains differ)."""

from __future__ import annotations

import pytest

from imsvalog.spoof import evaluate

ONE = ["from mx.example.com (mx.example.com [203.0.113.9]) by imsva.example.com (Postfix) with ESMTP id AAAAAA"]
TWO = ONE + ["from gw.example.com (gw.example.com [198.51.100.7]) by mx.example.com (Postfix) with ESMTP id BBBBBB"]


def _last(received: list[str], sender: str, observed: bool | None) -> str:
    r = evaluate(received, sender, ["b@example.com"], observed=observed)
    assert r.verdict == "unknown"
    return r.explanation.splitlines()[-1]


@pytest.mark.parametrize(("received", "sender", "observed", "tail"), [
    (ONE, "a@example.com", None,
     "It fires if any of 203.0.113.9 is missing from the list (and the domains match)."),
    (ONE, "a@other.example", True,
     "IMSVA fired: if it counted as the model does, 203.0.113.9 is missing from its Trusted Internal IP List."),
    (TWO, "a@example.com", True, "IMSVA fired: if it counted as the model does, at least one of 203.0.113.9, "
     "198.51.100.7 is missing from its Trusted Internal IP List."),
    (TWO, "a@example.com", False, "IMSVA did not fire: if it counted as the model does, each of 203.0.113.9, "
     "198.51.100.7 is in its Trusted Internal IP List."),
    (TWO, None, False, "IMSVA did not fire: if it counted as the model does, each of 203.0.113.9, "
     "198.51.100.7 is in its Trusted Internal IP List, or the domain criterion did not hold."),
    (ONE, "a@other.example", False,
     "IMSVA did not fire, as the documented domain criterion says: this scan does not tell its list."),
])
def test_the_condition_is_read_with_what_imsva_did(received, sender, observed, tail) -> None:
    last = _last(received, sender, observed)
    assert last.startswith("The model's verdict: unknown (") and last.endswith(tail), last
    if observed is not None:
        assert "It fires if" not in last
