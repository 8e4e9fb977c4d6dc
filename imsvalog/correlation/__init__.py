"""Link AntiSpoofFilter traces to policy events, re-run the policy, explain each verdict.

:func:`correlate` reads log.imss (only the lines that carry session markers, found
with a byte-level prefilter), builds scan sessions (:mod:`imsvalog.scan_sessions`),
reads polevt.imss, msgtra.imss and maillog, and produces one :class:`Row` per
spoof-related scan: a session with an AntiSpoofFilter trace, a spoof policy event,
or both linked.

One module per concern:

=============  ==================================================================
``scan``       reading log.imss for correlation (marker lines, spoof sessions, scan index)
``link``       linking traces to policy events (bases, confidence, ambiguity)
``compare``    the model against IMSVA: re-run, findings, trusted list read off verdicts
``explain``    explanations in words
``result``     the result types (:class:`Row`, :class:`Correlation`, ...)
``entry``      the entry points :func:`correlate`, :func:`sessions`, :func:`sessions_frame`
=============  ==================================================================
"""

from .entry import correlate, sessions, sessions_frame
from .link import is_spoof_event
from .result import FLAT_COLUMNS, Correlation, Link, Row, Summary

__all__ = [
    "FLAT_COLUMNS",
    "Correlation",
    "Link",
    "Row",
    "Summary",
    "correlate",
    "is_spoof_event",
    "sessions",
    "sessions_frame",
]
