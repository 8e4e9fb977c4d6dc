"""Calibrating the spoof model on the case: every combination of its switches scored against IMSVA's own lines.

The documented model is a hypothesis; each trace that carries IMSVA's
``Get N IP address from received header. a,b,`` line is a test of it. :func:`calibrate`
runs every variant (:func:`imsvalog.spoof.variants`: each combination of the
switches in :data:`imsvalog.spoof.SWITCHES`) on every such trace and counts the traces
whose list it reproduces exactly (same addresses, same order, same count). The
variant that reproduces the most wins; among equals, the one with the fewest
switches changed from the documented model, so a choice is never made without
evidence. With fewer than :data:`MIN_TRACES` logged traces the result is marked weak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..spoof import DOCUMENTED, SWITCHES, Profile, evaluate, variants
from .compare import headers_incomplete, normalize_ip

if TYPE_CHECKING:
    from .result import Row

#: below this many traces with a logged list, the calibration is reported as weak
MIN_TRACES = 5


@dataclass(frozen=True)
class VariantScore:
    """How one variant of the model fares against IMSVA's logged lists."""

    profile: Profile
    reproduced: int
    traces: int
    #: the traces it does not reproduce: (name, IMSVA's list, the variant's list)
    failing: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()

    @property
    def changes(self) -> list[str]:
        """The switches that differ from the documented model, as ``name=value``."""
        return [f"{k}={v}" for k, v in self.profile.switches().items() if v != SWITCHES[k][0]]

    @property
    def changed(self) -> int:
        return len(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.profile.name,
            "switches": self.profile.switches(),
            "reproduced": self.reproduced,
            "traces": self.traces,
        }


@dataclass
class Calibration:
    """The scoring table, best first, and the chosen variant."""

    scores: list[VariantScore]
    chosen: VariantScore
    #: variants that reproduce as many traces as the chosen one (ties, broken by fewest changed switches)
    tied: list[str] = field(default_factory=list)
    #: traces with IMSVA's logged list whose Received headers are not in the log: no variant can be scored on them
    unscored: list[str] = field(default_factory=list)

    @property
    def traces(self) -> int:
        return self.chosen.traces

    @property
    def weak(self) -> bool:
        return self.traces < MIN_TRACES

    @property
    def min_traces(self) -> int:
        return MIN_TRACES

    def to_dict(self) -> dict[str, Any]:
        return {
            "traces_with_logged_list": self.traces,
            "chosen": self.chosen.profile.name,
            "chosen_switches": self.chosen.profile.switches(),
            "weak": self.weak,
            "tied": self.tied,
            "unscored": self.unscored,
            "failing": [
                {"trace": name, "logged": list(logged), "model": list(model)} for name, logged, model in self.chosen.failing
            ],
            "table": [s.to_dict() for s in self.scores],
        }


def calibrate(rows: Sequence[Row], candidates: Sequence[Profile] | None = None) -> Calibration:
    """Score every variant (default: all of :func:`~imsvalog.spoof.variants`) against every row whose trace
    carries IMSVA's logged list, and choose the one that reproduces the most."""
    tests = []
    unscored = []
    for r in rows:
        t = r.trace
        if t is None or t.logged_ips is None:
            continue
        if headers_incomplete(t):  # unknown, not a failure of every variant
            unscored.append(r.name)
            continue
        e = r.event
        logged = tuple(normalize_ip(a) for a in t.logged_ips)
        if t.logged_count is not None and t.logged_count != len(logged):
            logged = (*logged, f"(IMSVA says {t.logged_count})")  # no variant can reproduce an inconsistent line
        tests.append((r.name, list(t.header_texts), e.sender if e else None, tuple(e.recipients) if e else (), logged))
    scores = []
    for prof in candidates if candidates is not None else variants():
        failing = []
        for name, headers, sender, recipients, logged in tests:
            model = tuple(normalize_ip(a) for a in evaluate(headers, sender, recipients, None, prof).counted)
            if model != logged:
                failing.append((name, logged, model))
        scores.append(VariantScore(prof, len(tests) - len(failing), len(tests), tuple(failing)))
    order = {id(s): i for i, s in enumerate(scores)}
    scores.sort(key=lambda s: (-s.reproduced, s.changed, order[id(s)]))
    if not scores:
        scores = [VariantScore(DOCUMENTED, 0, 0)]
    best = scores[0]
    tied = [s.profile.name for s in scores[1:] if s.reproduced == best.reproduced]
    return Calibration(scores, best, tied, unscored)
