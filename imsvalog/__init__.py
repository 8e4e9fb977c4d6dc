"""imsvalog: triage Trend Micro IMSVA tickets from the appliance's logs.

Readers (streaming iterators and DataFrames)::

    import imsvalog
    df = imsvalog.read_log_imss("case/IMSVA/LogFile/Event3")
    events = imsvalog.read_polevt("case/IMSVA/LogFile/Event3")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imsvalog")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

from .errors import InputError
from .frames import read_log_imss, read_msgtra, read_polevt, records_frame
from .readers import iter_log_imss, iter_msgtra, iter_polevt, iter_records
from .records import (
    ImssRecord,
    PolicyEvent,
    Reject,
    Source,
    Transaction,
)
from .sources import discover

__all__ = [
    "__version__",
    "InputError",
    "ImssRecord",
    "PolicyEvent",
    "Reject",
    "Source",
    "Transaction",
    "discover",
    "iter_log_imss",
    "iter_msgtra",
    "iter_polevt",
    "iter_records",
    "read_log_imss",
    "read_msgtra",
    "read_polevt",
    "records_frame",
]
