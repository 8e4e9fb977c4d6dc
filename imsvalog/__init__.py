"""imsvalog: triage Trend Micro IMSVA tickets from the appliance's logs.

::

    import imsvalog
    df = imsvalog.read_log_imss("case/IMSVA/LogFile/Event3")      # one row per log.imss line
    events = imsvalog.read_polevt("case/IMSVA/LogFile/Event3")    # one row per policy event
    c = imsvalog.correlate("case/IMSVA", trusted=imsvalog.TrustedList.parse(["198.51.100.25"]))
    c.frame                                                       # one row per spoof-related scan
    print(c.rows[0].explanation)
    r = imsvalog.evaluate(received_headers, "alice@example.com", ["bob@example.com"])
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imsvalog")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

from .errors import InputError
from .frames import read_log_imss, read_logs, read_maillog, read_msgtra, read_polevt, records_frame
from .readers import iter_log_imss, iter_maillog, iter_msgtra, iter_polevt, iter_records
from .records import (
    ImssRecord,
    MailLogEntry,
    PolicyEvent,
    Reject,
    Source,
    Transaction,
)
from .correlation import Correlation, Row, correlate, sessions, sessions_frame
from .sources import discover
from .spoof import DOCUMENTED, STRICT, MessageInput, SpoofResult, evaluate, missing_trusted, read_message, what_if
from .timeline import Trace, trace
from .trusted import TrustedList, load_trusted

__all__ = [
    "__version__",
    "DOCUMENTED",
    "STRICT",
    "Correlation",
    "MessageInput",
    "Row",
    "SpoofResult",
    "TrustedList",
    "correlate",
    "evaluate",
    "load_trusted",
    "missing_trusted",
    "read_message",
    "sessions",
    "sessions_frame",
    "what_if",
    "Trace",
    "trace",
    "InputError",
    "ImssRecord",
    "MailLogEntry",
    "PolicyEvent",
    "Reject",
    "Source",
    "Transaction",
    "discover",
    "iter_log_imss",
    "iter_maillog",
    "iter_msgtra",
    "iter_polevt",
    "iter_records",
    "read_log_imss",
    "read_maillog",
    "read_msgtra",
    "read_polevt",
    "read_logs",
    "records_frame",
]
