"""One sentence per correlate row: the answer to the customer's question, to paste into the ticket.

It says what IMSVA's own lines show (known) apart from what the model adds
(assumed), for every kind of row: linked, ambiguous, a trace without policy
event, a policy event without trace, and a scan that did not fire.

>>> row_sentence({"status": "linked", "logged": {"ips": ["203.0.113.5"], "ip_count": 1, "triggered": True},
...   "recomputed": {"ips": ["203.0.113.5"], "skipped": [{"address": "10.1.1.5", "reason": "private"},
...   {"address": "192.168.1.20", "reason": "private"}], "untrusted": None}, "actions": ["quarantine"],
...   "final_actions": [], "trusted_given": False})
"IMSVA counted 1 of the 3 addresses in the Received headers (203.0.113.5); 10.1.1.5 and 192.168.1.20 are private and not checked; it quarantined the mail because 203.0.113.5 is not in the Trusted Internal IP List (read from IMSVA's own verdict: it fired on the only address it counted)."
"""

from __future__ import annotations

import re

from typing import Any

#: policy-event action names -> past tense
_DID = {
    "quarantine": "quarantined", "delete": "deleted", "deliver": "delivered", "archive": "archived",
    "change-recipient": "redirected", "tag-subject": "tagged", "stamp-body": "stamped", "postpone": "postponed",
    "notify": "notified about", "send-notification": "notified about",
}
_REASON = {
    "private": "private", "loopback": "loopback", "link-local": "link-local", "special-purpose": "special-purpose",
    "duplicate": "repeated",
}


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _did(d: dict[str, Any]) -> str:
    for a in d.get("actions") or []:
        if a in _DID:
            return _DID[a]
    from .render import scanner_action_word

    for a in d.get("final_actions") or []:  # the scanner's names, in the policy events' words
        if scanner_action_word(a) in _DID:
            return _DID[scanner_action_word(a)]
    return "acted on"


def _counted_part(d: dict[str, Any]) -> tuple[str, list[str]]:
    # a trace without IMSVA's 'Get N IP address' line (cut off, another log level) has no logged list:
    # the count is the model's
    logged = d.get("logged") or {}
    if logged.get("ips") is None:
        logged = {}
    rec = d.get("recomputed") or {}
    ips = logged.get("ips") if logged.get("ips") is not None else rec.get("ips") or []
    n = logged.get("ip_count", len(ips)) if logged else len(ips)
    skipped = [s for s in rec.get("skipped") or [] if s.get("address")]
    total = n + len(skipped)
    whose = "IMSVA counted" if logged else "The model counts"
    rec_ips = rec.get("ips")
    if not logged and rec and rec_ips is None:
        # no logged list, and the model's is unknown: the scan's lines end before IMSVA logged its count
        text = ("IMSVA's count is not in the log and the model cannot count: the scan's lines end before IMSVA logged "
                "it, so a Received header after the last one logged may be missing")
    elif logged and rec and rec_ips is None:
        # the model's list is unknown (IMSVA's headers, or one of them, are not in the log): neither "the only
        # address" nor "disagree"
        lost = any("a header line is missing from the log" in note for note in d.get("notes") or [])
        text = (f"{whose} {n} address{'es' if n != 1 else ''}" + (f" ({', '.join(ips)})" if ips else "")
                + (" from Received headers of which the log lost a line" if lost else
                   " from Received headers that are not in the log") + ", so the model's list cannot be checked")
    elif logged and rec_ips is not None and list(rec_ips) != list(ips):
        # IMSVA's list and the model's differ: "n of the total" would claim a reading of the headers we do not have
        text = (f"{whose} {n} address{'es' if n != 1 else ''} ({', '.join(ips)}) where the model reads "
                f"{len(rec_ips)} from the Received headers ({', '.join(rec_ips) or 'none'}), so the two disagree")
    elif total == 1 and n == 1:
        text = f"{whose} the only address in the Received headers ({', '.join(ips)})"
    else:
        text = f"{whose} {n} of the {total} address{'es' if total != 1 else ''} in the Received headers"
        if ips:
            text += f" ({', '.join(ips)})"
    by_reason: dict[str, list[str]] = {}
    overruled: dict[str, list[str]] = {}  # skipped by the model, but on IMSVA's own list: IMSVA's line wins
    logged_ips = set(logged.get("ips") or []) if logged else set()
    for s in skipped:
        into = overruled if s["address"] in logged_ips else by_reason
        into.setdefault(_REASON.get(s["reason"], s["reason"]), []).append(s["address"])
    for reason, addrs in by_reason.items():
        verb = "is" if len(addrs) == 1 else "are"
        text += f"; {_join(addrs)} {verb} {reason} and not checked"
    profile = rec.get("profile")
    for reason, addrs in overruled.items():
        one = len(addrs) == 1
        text += (f"; {_join(addrs)} {'is' if one else 'are'} {reason}: the {f'{profile} profile' if profile else 'model'} "
                 f"skips {'it' if one else 'them'}, but IMSVA counted {'it' if one else 'them'}")
    return text, ips


_BASIS = {"internal_id": "internal ID", "message_id": "Message-ID", "queue_id": "queue ID", "time": "time"}


def _secs(x: float) -> str:
    return "0 s" if x < 1 else f"{x:.0f} s"


def _tie(d: dict[str, Any]) -> str:
    """What an ambiguous row fits and what competes for it, from its ``link_problem``: only what is so
    ("equally close" only when the distances are equal; the rivals of a scan are scans, not policy events).

    >>> _tie({"thread": None, "link_problem": {"candidates": ["1:1 09:00:05", "1:2 09:00:05", "1:3 09:00:06"],
    ...       "tied_at": "time", "apart": [0.0, 0.0, 1.0]}})
    'it fits 3 scans by time (1:1 09:00:05 0 s, 1:2 09:00:05 0 s and 1:3 09:00:06 1 s apart; the closest two, 1:1 09:00:05 and 1:2 09:00:05, are equally close)'
    >>> _tie({"thread": "1:3", "link_problem": {"candidates": ["ID-E"], "tied_at": "time", "apart": [1.0],
    ...       "rivals": ["1:1 09:00:05", "1:2 09:00:05"]}})
    'the scan fits policy event ID-E by time (1 s apart), but so do other scans (1:1 09:00:05 and 1:2 09:00:05)'
    """
    p = d.get("link_problem") or {}
    cands: list[str] = list(p.get("candidates") or [])
    apart: list[float] = list(p.get("apart") or [])
    rivals: list[str] = list(p.get("rivals") or [])
    basis = _BASIS.get(p.get("tied_at") or "", "")
    by = f" by {basis}" if basis else ""
    scan_row = d.get("thread") is not None
    what = "policy event" if scan_row else "scan"
    if len(apart) == len(cands) and apart:
        if len(cands) == 1:
            by += f" ({_secs(apart[0])} apart)"
        else:
            by += f" ({_join([f'{c} {_secs(a)}' for c, a in zip(cands, apart, strict=True)])} apart"
            closest = [c for c, a in zip(cands, apart, strict=True) if a == min(apart)]
            if len(closest) == len(cands):
                by += f", {'both' if len(cands) == 2 else 'all'} equally close)"
            elif len(closest) > 1:
                by += f"; the closest {'two' if len(closest) == 2 else len(closest)}, {_join(closest)}, are equally close)"
            else:
                by += f"; the closest, {closest[0]}, fits another {'scan' if scan_row else 'policy event'} as closely or closer)"
    head = ("the scan fits " if scan_row else "it fits ") + (
        f"{what} {cands[0]}" if len(cands) == 1 else f"{len(cands)} {what}s" + ("" if apart else f" ({_join(cands)})")
    ) + by
    if rivals and scan_row:
        head += f", but so do other scans ({_join(rivals)})"
    elif rivals:
        head += f", but that scan fits other policy events as well ({_join(rivals)})"
    elif len(cands) == 1 and not scan_row:
        head += ", but that scan fits other policy events as well"
    return head


#: the end of :meth:`imsvalog.rotation.Gap.named` for two or more files: ``X and .0003``, ``X to .0009 (8 files)``
_SEVERAL = re.compile(r" (?:and \.\d+|to \.\d+ \(\d+ files\))$")


def _no_event_why(d: dict[str, Any]) -> str:
    """Why a scan that fired (or may have) has no policy event, from its note (link.py's words): the policy events
    read span its time or not, or none were read; the question only when the note does not say."""
    from .correlation.link import (
        NO_EVENT_COVERED, NO_EVENT_IN_GAP, NO_EVENT_OUTSIDE, NO_EVENT_UNREAD, NO_EVENT_UNREAD_END, NO_EVENTS_READ,
    )

    if d.get("missing"):
        return f" ({d['missing']})."
    note = next(iter(d.get("notes") or []), "")
    near = " Policy events without a trace are near it: see the notes." if "; it is the nearest" in note else ""
    if note.startswith(NO_EVENT_IN_GAP):  # "...: its time falls in polevt.imss....0002 (not among the files ..."
        gap, _, rest = note[len(NO_EVENT_IN_GAP) + 2:].partition(" (")  # "its time (may) fall(s) in X"
        status = rest.split("; between ", 1)[0]  # rotation.Gap.status()
        if status.startswith("given, but it "):  # given empty, without a timed line, or a copy of another file
            return (f" ({gap}, which was given but {status[len('given, but it '):]}: its policy event may be in what "
                    "that rotation held)." + near)
        if status != "not among the files given":
            return f" ({gap}: {status}: its policy event may be in what they held)." + near
        several = _SEVERAL.search(gap) is not None  # rotation.Gap.named() of two or more files
        return (f" ({gap}, which {'are' if several else 'is'} not among the files given: its policy event may be "
                "there)." + near)
    if note.startswith(NO_EVENT_UNREAD) and f": {NO_EVENT_UNREAD_END}" in note:  # the unread rest of a file cut short
        where = note.partition(" (")[0]  # "its time (may) fall(s) in what could not be read of X" (the note: why)
        return f" ({where}: {NO_EVENT_UNREAD_END})." + near
    if note.startswith(NO_EVENTS_READ):
        return " (no polevt.imss policy events were read at all: add the polevt.imss files)."
    if NO_EVENT_OUTSIDE in note:
        return (" (it is outside the span of the policy events read: add the polevt.imss file of that time if there "
                "is one)." + near)
    if note.startswith(NO_EVENT_COVERED):
        return " (the policy events read span its time, but no spoof event among them fits it)." + near
    return " (is polevt.imss of that time among the files?)."


def row_sentence(d: dict[str, Any]) -> str:
    """The one sentence for a correlate row (its ``to_dict()``)."""
    status = d.get("status")
    logged = d.get("logged") or {}
    elsewhere = list(d.get("linked_elsewhere") or [])
    if status == "event-without-trace":
        note = next(iter(d.get("notes") or []), None)
        why = d.get("missing") or (
            f"the scan{'s' if len(elsewhere) > 1 else ''} that fit{'' if len(elsewhere) > 1 else 's'} it "
            f"({'; '.join(elsewhere)}) {'were linked to other policy events' if len(elsewhere) > 1 else 'was linked to another policy event'}"
            if elsewhere else None
        )
        # without a whole kind missing or a rival, the note holds the evidence (link.py's _why_no_trace)
        but = f", but {why}" if why else f"; {note}" if note else (
            ", but log.imss holds no AntiSpoofFilter trace for it (the scanner's debug log level is needed, "
            "or the logs given do not cover that time)")
        return (f"A policy event says IMSVA {_did(d)} the mail from {d.get('sender') or 'an unknown sender'} to "
                f"{_join(list(d.get('recipients') or [])) or 'unknown recipients'} as spoofed{but}; "
                "which addresses it counted is not known.")
    if status == "ambiguous" and not logged and not d.get("recomputed"):
        return (f"A policy event says IMSVA {_did(d)} the mail from {d.get('sender') or 'an unknown sender'} as spoofed; "
                f"{_tie(d)}, so which trace is its own is not settled.")
    counted, ips = _counted_part(d)
    fired = logged.get("triggered")
    untrusted = (d.get("recomputed") or {}).get("untrusted")
    if fired is False:
        if status == "linked":  # an ID ties it to a spoof event (time never does): IMSVA's own lines disagree
            return (counted + "; IMSVA's verdict line says every counted address is in the Trusted Internal IP List and "
                    f"the filter did not fire, yet the spoof policy event linked to it says IMSVA {_did(d)} the mail as "
                    "spoofed: that verdict is in doubt, and another evaluation of the message may have fired (see the "
                    "findings).")
        return counted + "; every counted address is in the Trusted Internal IP List, so the filter did not fire (IMSVA's own verdict)."
    if status == "trace-without-event":
        if d.get("missing"):  # a whole kind of file is absent: not a finding about this message
            did = "IMSVA fired" if fired else "whether IMSVA fired is not logged"
            return counted + f"; {did}; what it did with the mail is not known because {d['missing']}."
        tail = "; IMSVA fired, but no policy event was found for this scan" if fired else "; whether IMSVA fired is not logged"
        if elsewhere:
            n = len(elsewhere)
            tail = (("; IMSVA fired" if fired else "; whether IMSVA fired is not logged")
                    + f", and the policy event{'s' if n > 1 else ''} that fit{'' if n > 1 else 's'} this scan "
                    f"({_join(elsewhere)}) {'were linked to other scans' if n > 1 else 'was linked to another scan'} (see the notes).")
            return counted + tail
        return counted + tail + _no_event_why(d)
    if status == "ambiguous":
        return counted + f"; {_tie(d)}, so which message it was is not settled."
    if untrusted:
        because = f"{_join(untrusted)} {'is' if len(untrusted) == 1 else 'are'} not in the Trusted Internal IP List given"
    elif len(ips) == 1 and fired:
        because = (f"{ips[0]} is not in the Trusted Internal IP List (read from IMSVA's own verdict: "
                   "it fired on the only address it counted)")
    elif fired:
        because = ("not all of them are in the Trusted Internal IP List (IMSVA does not log which; "
                   "give the list with --trusted to have them named)")
    else:
        because = "its filter fired (assumed from the policy event; the trace does not say)"
    return f"{counted}; it {_did(d)} the mail because {because}."
