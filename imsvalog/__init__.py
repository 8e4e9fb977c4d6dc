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

from typing import TYPE_CHECKING, Any

#: public name -> the module that defines it; imported on first use (PEP 562), so that a command that
#: needs little (``imsvalog trace``) does not pay for the rest (correlation, the spoof model, DataFrames)
_LAZY = {
    "InputError": "errors",
    **dict.fromkeys(("read_log_imss", "read_logs", "read_maillog", "read_msgtra", "read_polevt", "records_frame"), "frames"),
    **dict.fromkeys(("iter_log_imss", "iter_maillog", "iter_msgtra", "iter_polevt", "iter_records"), "readers"),
    **dict.fromkeys(("ImssRecord", "MailLogEntry", "PolicyEvent", "Reject", "Source", "Transaction"), "records"),
    **dict.fromkeys(("Correlation", "Row", "correlate", "sessions", "sessions_frame"), "correlation"),
    "discover": "sources",
    **dict.fromkeys(("DOCUMENTED", "STRICT", "MessageInput", "SpoofResult", "evaluate", "missing_trusted", "read_message",
                     "what_if"), "spoof"),
    **dict.fromkeys(("Trace", "trace"), "timeline"),
    **dict.fromkeys(("TrustedList", "load_trusted"), "trusted"),
}

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from .correlation import Correlation, Row, correlate, sessions, sessions_frame
    from .errors import InputError
    from .frames import read_log_imss, read_logs, read_maillog, read_msgtra, read_polevt, records_frame
    from .readers import iter_log_imss, iter_maillog, iter_msgtra, iter_polevt, iter_records
    from .records import ImssRecord, MailLogEntry, PolicyEvent, Reject, Source, Transaction
    from .sources import discover
    from .spoof import DOCUMENTED, STRICT, MessageInput, SpoofResult, evaluate, missing_trusted, read_message, what_if
    from .timeline import Trace, trace
    from .trusted import TrustedList, load_trusted

    __version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("imsvalog")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            value = "0+unknown"
    elif name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
