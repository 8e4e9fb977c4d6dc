"""How many processes read a big log.imss (``IMSVALOG_WORKERS``), and the one extra process that reads a part.

``correlate``'s scan (:mod:`imsvalog.correlation.scan`) and the DataFrame reader of log.imss
(:func:`imsvalog.columns.imss_frame`) cut a big plain file at a line start and give one part
to a second process, made by ``fork`` (the imports are shared, nothing is started again).
"""

from __future__ import annotations

import os
from typing import Any


def workers_of(text: str | None, cpus: int | None) -> int | None:
    """How many processes scan a big log.imss, from ``IMSVALOG_WORKERS``: 1 or 2 (more is 2, less than 0 is
    1; unset, empty or 0: as many as the cores, at most 2); None when the text is not a whole number.

    >>> workers_of(None, 8), workers_of("1", 8), workers_of(" 5 ", 8), workers_of("0", 1), workers_of("-3", 8)
    (2, 1, 2, 1, 1)
    >>> workers_of("abc", 8), workers_of("1.5", 8)
    (None, None)
    """
    try:
        n = int(text.strip() or 0) if text is not None else 0
    except ValueError:
        return None
    return max(1, min(2, n or cpus or 1))


def bad_workers_message() -> str:
    """The input error for an ``IMSVALOG_WORKERS`` that is not a whole number."""
    return (
        f"IMSVALOG_WORKERS={os.environ.get('IMSVALOG_WORKERS', '')!r} is not a number of processes "
        "(1 or 2; unset: as many as the cores, at most 2)"
    )


def fork_pool() -> Any:
    """A pool of one process made by ``fork``; None where the system cannot fork."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
