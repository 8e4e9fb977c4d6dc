"""``--time-window``: the seconds within which time alone may link a scan and a policy event (``correlate``,
and ``trace`` where correlate's decision is shown); one check for both, importable without the correlation
package (``trace`` by an ID imports none of it)."""

from __future__ import annotations

import math
from datetime import timedelta

from .errors import InputError

#: the widest time window: a time-only link further apart than a day means nothing
MAX_TIME_WINDOW = 86400.0


def time_window_of(seconds: float) -> timedelta:
    """``--time-window`` as a timedelta; :class:`InputError` unless finite, >= 0 and at most a day.

    >>> time_window_of(1.5)
    datetime.timedelta(seconds=1, microseconds=500000)
    >>> time_window_of(float("inf"))
    Traceback (most recent call last):
    ...
    imsvalog.errors.InputError: --time-window: inf is not a number of seconds from 0 to 86400 (one day)
    """
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 <= seconds <= MAX_TIME_WINDOW):
        raise InputError(f"--time-window: {seconds!r} is not a number of seconds from 0 to {MAX_TIME_WINDOW:.0f} (one day)")
    return timedelta(seconds=seconds)


__all__ = ["MAX_TIME_WINDOW", "time_window_of"]
