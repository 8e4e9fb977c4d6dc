"""One grammar module per log kind.

=========  ==========================================  =====================
kind       files                                       module
=========  ==========================================  =====================
imss       ``log.imss.YYYYMMDD.NNNN[.gz]``             :mod:`.imss`
polevt     ``polevt.imss.YYYYMMDD.NNNN[.gz]``          :mod:`.polevt`
msgtra     ``msgtra.imss.YYYYMMDD.NNNN[.gz]``          :mod:`.msgtra`
=========  ==========================================  =====================

Received headers (recovered from log.imss or read from a message) have their
own module, :mod:`.received`.  Postfix ``maillog`` files are recognised by name
but not parsed yet.
"""

from __future__ import annotations

from . import imss, maillog, msgtra, polevt

#: kind -> grammar module, for kinds that have a grammar
GRAMMARS = {"imss": imss, "polevt": polevt, "msgtra": msgtra, "maillog": maillog}


def sniff(lines: list[str]) -> str | None:
    """The kind whose grammar recognises the first non-blank lines, or None.

    >>> sniff(["2019/04/30 13:57:43 GMT+09:00 [28639:4098483968] Final action 0: QuarantineAction"])
    'imss'
    """
    if not lines:
        return None
    for kind, module in GRAMMARS.items():
        if module.sniff(lines[0]):
            return kind
    return None


__all__ = ["GRAMMARS", "imss", "maillog", "msgtra", "polevt", "sniff"]
