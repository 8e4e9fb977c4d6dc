"""Pausing Python's cyclic garbage collector while a big, acyclic result is built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block (and on again after it, if it was on).

    Readers and ``correlate`` build hundreds of thousands of records, lists and dicts that
    hold no reference cycles (refcounting frees them); every collection of the oldest
    generation would walk all of them again (measured: a third of ``read_polevt``'s time,
    about 1.1 s of CPU of ``correlate`` on 1 GB of log.imss, of which 0.7 s after the scan).
    Nested use is fine: only the outermost block turns the collector back on.

    The objects made inside are all young when the collector comes back on, so its next
    collection would walk every one of them (0.2 s for 3 million lists, a tenth of
    ``read_polevt``'s time): they are moved to the oldest generation first
    (``gc.freeze``/``gc.unfreeze``), which the collector walks only after many more
    objects have lived on; cycles among them are still collected then.

    >>> import gc
    >>> with gc_paused():
    ...     made = [[i] for i in range(1000)]
    ...     gc.isenabled()
    False
    >>> gc.isenabled(), any(o is made for o in gc.get_objects(generation=2))
    (True, True)
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()  # everything to the permanent generation (no walk) ...
            gc.enable()
            gc.unfreeze()  # ... and from there to the oldest one
